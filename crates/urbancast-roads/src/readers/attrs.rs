//! Lenient parsers for the OSM-style road attributes found in road tables: `highway`,
//! `maxspeed`, `lanes`, `oneway`. Exports of OSMnx / LibCity / HOSER write a value either as
//! plain text (`primary`, `50`), as a number (`3`, `3.0`), or, where several OSM ways were merged
//! into one edge, as a Python list string (`['primary', 'secondary']`, `["50", "30"]`). These
//! functions never fail: what cannot be understood becomes `None`.

/// Splits a Python/JSON-style list string (`['a', "b", 3]`) into its trimmed, unquoted
/// elements; a value that is not bracketed is returned as the only element. Empty elements are
/// dropped.
pub fn list_items(raw: &str) -> Vec<String> {
    let s = raw.trim();
    let inner = match s.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(inner) => inner,
        None => return if s.is_empty() { Vec::new() } else { vec![unquote(s).to_string()] },
    };
    inner.split(',').map(|e| unquote(e.trim()).trim().to_string()).filter(|e| !e.is_empty()).collect()
}

fn unquote(s: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(t) = s.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return t;
        }
    }
    s
}

fn is_missing(s: &str) -> bool {
    matches!(s.trim().to_ascii_lowercase().as_str(), "" | "nan" | "none" | "null")
}

/// Road class from a `highway` value: a string (`primary`), an integer code (`3`, also written
/// `3.0`: kept as the text `3`), or a list string whose first element is used unless it is
/// `unclassified` and another element follows. `None` for an empty / missing value.
pub fn parse_highway(raw: &str) -> Option<String> {
    let items: Vec<String> = list_items(raw).into_iter().filter(|s| !is_missing(s)).collect();
    let pick = match items.iter().position(|s| !s.eq_ignore_ascii_case("unclassified")) {
        Some(i) => &items[i],
        None => items.first()?,
    };
    // An integer code written as a float ("3.0") is the integer code.
    if let Ok(f) = pick.parse::<f64>()
        && f.is_finite()
        && f.fract() == 0.0
        && f.abs() < 1e15
    {
        return Some(format!("{}", f as i64));
    }
    Some(pick.clone())
}

/// Speed limit in km/h from a `maxspeed` value: `50`, `50.0`, `50 km/h`, `30 mph` (converted),
/// `50;30` or `['50', '30']` (the first understood value). `None` for empty, `none`, `signals`,
/// `RU:urban` and anything else without a number.
pub fn parse_maxspeed_kmh(raw: &str) -> Option<f64> {
    for item in list_items(raw) {
        for part in item.split([';', '|']) {
            if let Some(v) = speed_of(part) {
                return Some(v);
            }
        }
    }
    None
}

fn speed_of(part: &str) -> Option<f64> {
    let p = part.trim().to_ascii_lowercase();
    let num_end = p.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(p.len());
    if num_end == 0 {
        return None;
    }
    let v: f64 = p[..num_end].parse().ok()?;
    let unit = p[num_end..].trim();
    let kmh = match unit {
        "" | "km/h" | "kmh" | "kph" => v,
        "mph" => v * 1.609_344,
        "knots" => v * 1.852,
        _ => return None,
    };
    (kmh.is_finite() && kmh > 0.0).then_some(kmh)
}

/// Number of lanes from a `lanes` value: `2`, `2.0`, `2;3` or `['2', '1']` (the first integer).
pub fn parse_lanes(raw: &str) -> Option<u32> {
    for item in list_items(raw) {
        for part in item.split([';', '|']) {
            let p = part.trim();
            if let Ok(n) = p.parse::<u32>() {
                return Some(n);
            }
            if let Ok(f) = p.parse::<f64>()
                && f.is_finite()
                && f >= 0.0
                && f.fract() == 0.0
                && f < 1e6
            {
                return Some(f as u32);
            }
        }
    }
    None
}

/// `oneway` flag: `True`/`False`, `1`/`0`, `yes`/`no`, `-1` and `reversible` (one way, just
/// not in digitising direction) are understood; lists use their first element.
pub fn parse_oneway(raw: &str) -> Option<bool> {
    let first = list_items(raw).into_iter().next()?;
    match first.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "1.0" | "yes" | "y" | "t" | "-1" | "-1.0" | "reversible" => Some(true),
        "false" | "0" | "0.0" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// Length in metres: `Ok(None)` for empty / `nan`, an error text for anything that is not a
/// finite non-negative number.
pub fn parse_length_m(raw: &str) -> Result<Option<f64>, String> {
    if is_missing(raw) {
        return Ok(None);
    }
    match raw.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        _ => Err(format!("length `{}` is not a non-negative number of metres", raw.trim())),
    }
}

/// An integer id (`42`, `42.0`, ` 42 `), or `None`.
pub fn parse_id(raw: &str) -> Option<u64> {
    let t = raw.trim();
    if let Ok(v) = t.parse::<u64>() {
        return Some(v);
    }
    let f: f64 = t.parse().ok()?;
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 9.0e15).then_some(f as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highway_forms() {
        assert_eq!(parse_highway("primary").as_deref(), Some("primary"));
        assert_eq!(parse_highway(" 3 ").as_deref(), Some("3"));
        assert_eq!(parse_highway("3.0").as_deref(), Some("3"));
        assert_eq!(parse_highway("['primary', 'secondary']").as_deref(), Some("primary"));
        assert_eq!(parse_highway("[\"unclassified\", \"residential\"]").as_deref(), Some("residential"));
        assert_eq!(parse_highway("['unclassified']").as_deref(), Some("unclassified"));
        assert_eq!(parse_highway(""), None);
        assert_eq!(parse_highway("[]"), None);
    }

    #[test]
    fn speeds_lanes_oneway() {
        assert_eq!(parse_maxspeed_kmh("50"), Some(50.0));
        assert!((parse_maxspeed_kmh("30 mph").unwrap() - 48.28032).abs() < 1e-9);
        assert_eq!(parse_maxspeed_kmh("['50', '30']"), Some(50.0));
        assert_eq!(parse_maxspeed_kmh("signals;40"), Some(40.0));
        assert_eq!(parse_maxspeed_kmh("RU:urban"), None);
        assert_eq!(parse_maxspeed_kmh(""), None);
        assert_eq!(parse_lanes("['2', '1']"), Some(2));
        assert_eq!(parse_lanes("3.0"), Some(3));
        assert_eq!(parse_lanes("x"), None);
        assert_eq!(parse_oneway("True"), Some(true));
        assert_eq!(parse_oneway("no"), Some(false));
        assert_eq!(parse_oneway("0"), Some(false));
        assert_eq!(parse_oneway("maybe"), None);
        assert_eq!(parse_id("7.0"), Some(7));
        assert_eq!(parse_id("-1"), None);
        assert_eq!(parse_length_m("nan"), Ok(None));
        assert!(parse_length_m("abc").is_err());
    }
}
