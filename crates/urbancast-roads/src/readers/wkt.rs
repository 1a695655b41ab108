//! A small WKT parser for the geometries road and GPS tables carry: `POINT`, `LINESTRING` and
//! `MULTILINESTRING`, x = lon first. Accepts any case, `LINESTRING (..)` and `LINESTRING(..)`,
//! and `Z` / `M` / `ZM` variants (extra ordinates are dropped). Errors are plain text so that
//! the caller can add the file and row.
use crate::geo::LonLat;

/// Splits `KEYWORD [Z|M|ZM] (body)` into the upper-cased keyword and the text between the
/// outermost parentheses.
fn split_tagged(s: &str) -> Result<(String, &str), String> {
    let s = s.trim();
    let open = s.find('(').ok_or_else(|| {
        if s.to_ascii_uppercase().ends_with("EMPTY") { format!("`{}` is empty", short(s)) } else { format!("`{}`: no `(`", short(s)) }
    })?;
    let close = s.rfind(')').filter(|&c| c > open).ok_or_else(|| format!("`{}`: no closing `)`", short(s)))?;
    if !s[close + 1..].trim().is_empty() {
        return Err(format!("`{}`: text after the closing `)`", short(s)));
    }
    let mut words = s[..open].split_whitespace();
    let kw = words.next().unwrap_or("").to_ascii_uppercase();
    let dims = words.next().map(str::to_ascii_uppercase);
    if !matches!(dims.as_deref(), None | Some("Z" | "M" | "ZM")) || words.next().is_some() {
        return Err(format!("`{}`: unexpected text before `(`", short(s)));
    }
    Ok((kw, &s[open + 1..close]))
}

fn short(s: &str) -> String {
    if s.len() > 60 { format!("{}...", &s[..s.floor_char_boundary(60)]) } else { s.to_string() }
}

fn parse_coord(c: &str) -> Result<LonLat, String> {
    let mut it = c.split_whitespace();
    let mut next = || -> Result<f64, String> {
        let t = it.next().ok_or_else(|| format!("coordinate `{}` needs `lon lat`", c.trim()))?;
        t.parse::<f64>().map_err(|_| format!("`{t}` in coordinate `{}` is not a number", c.trim()))
    };
    let p = [next()?, next()?];
    Ok(p)
}

fn parse_coords(body: &str) -> Result<Vec<LonLat>, String> {
    if body.contains('(') || body.contains(')') {
        return Err("unexpected nested parentheses".into());
    }
    body.split(',').map(parse_coord).collect()
}

/// Points of a `LINESTRING`, or of a `MULTILINESTRING` whose parts are joined in order (a part
/// starting where the previous one ended does not repeat that point).
pub fn parse_linestring(s: &str) -> Result<Vec<LonLat>, String> {
    let (kw, body) = split_tagged(s)?;
    match kw.as_str() {
        "LINESTRING" => parse_coords(body),
        "MULTILINESTRING" => {
            let mut out: Vec<LonLat> = Vec::new();
            let mut rest = body.trim();
            while !rest.is_empty() {
                let inner = rest.strip_prefix('(').ok_or_else(|| format!("`{}`: expected `(` for a part", short(s)))?;
                let close = inner.find(')').ok_or_else(|| format!("`{}`: unclosed part", short(s)))?;
                for p in parse_coords(&inner[..close])? {
                    if out.last() != Some(&p) {
                        out.push(p);
                    }
                }
                rest = inner[close + 1..].trim_start();
                rest = rest.strip_prefix(',').map_or(rest, str::trim_start);
            }
            Ok(out)
        }
        other => Err(format!("expected a LINESTRING, found `{}`", if other.is_empty() { short(s) } else { other.to_string() })),
    }
}

/// The point of a `POINT (lon lat)`.
pub fn parse_point(s: &str) -> Result<LonLat, String> {
    let (kw, body) = split_tagged(s)?;
    if kw != "POINT" {
        return Err(format!("expected a POINT, found `{}`", short(s)));
    }
    parse_coord(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants() {
        let a = parse_linestring("LINESTRING (-8.6 41.1, -8.7 41.2)").unwrap();
        assert_eq!(a, vec![[-8.6, 41.1], [-8.7, 41.2]]);
        assert_eq!(parse_linestring("LINESTRING(-8.6 41.1,-8.7 41.2)").unwrap(), a);
        assert_eq!(parse_linestring(" linestring z (-8.6 41.1 3, -8.7 41.2 4) ").unwrap(), a);
        let m = parse_linestring("MULTILINESTRING ((0 0, 1 1), (1 1, 2 2))").unwrap();
        assert_eq!(m, vec![[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]);
        assert_eq!(parse_point("POINT(-8.64 41.16)").unwrap(), [-8.64, 41.16]);
        for bad in ["LINESTRING EMPTY", "LINESTRING (1 2, 3)", "POLYGON ((0 0, 1 1))", "LINESTRING (1 x)", "LINESTRING (1 2", ""] {
            assert!(parse_linestring(bad).is_err(), "{bad}");
        }
    }
}
