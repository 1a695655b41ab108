//! Writing the results of a transfer experiment: result rows and their summary
//! (`urbancast_eval::write_results`), one error map per (method, days), STBaT's region
//! densities and weights.
use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result};
use urbancast_data::{City, Layout};
use urbancast_eval::plot::{MapLayout, Panel, region_map, region_maps};
use urbancast_eval::report::write_json;
use urbancast_eval::{ResultRow, SummaryRow, mean_std, write_results};

use crate::runner::RunOutput;

/// How a city's regions are drawn on a map.
pub fn map_layout(city: &City) -> MapLayout {
    match &city.layout {
        Layout::Grid { height, width } => MapLayout::Grid { height: *height, width: *width },
        Layout::Graph { coords: Some(c), .. } => MapLayout::Points(c.clone()),
        Layout::Graph { .. } => MapLayout::Tiles,
    }
}

/// `s` with every character but ASCII letters, digits, `-` and `_` replaced by `_` (for file
/// names).
pub fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Writes into `out` the results and their summary (`results.json/csv`, `summary.json/csv`),
/// one error map per (method, days) averaged over seeds and, for STBaT, one map of region
/// densities and weights of the first source city (plus its JSON) per pre-training. Plot
/// failures are warnings on stderr. Returns the summary.
pub fn write_report(out: &Path, sources: &[&City], target: &City, outputs: &[RunOutput]) -> Result<Vec<SummaryRow>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut drawn = HashSet::new();
    for o in outputs {
        let (Some(st), Some(src)) = (&o.stbat, sources.first()) else { continue };
        let Some(b) = st.balance.iter().find(|b| b.city == src.name) else { continue };
        if !drawn.insert((o.row.method.clone(), o.row.seed)) {
            continue;
        }
        let path = out.join(format!("stbat-balance-{}-{}-seed{}.png", o.row.method, sanitize(&src.name), o.row.seed));
        let t1 = format!("{}: region density rho ({}, seed {})", src.name, o.row.method, o.row.seed);
        let t2 = format!("{}: loss weight omega (mean 1)", src.name);
        let panels = [Panel { title: &t1, label: "density", values: &b.density }, Panel { title: &t2, label: "weight", values: &b.weight }];
        if let Err(e) = region_maps(&path, &map_layout(src), &panels) {
            eprintln!("warning: {e:#}");
        }
        write_json(&out.join(format!("stbat-balance-{}-seed{}.json", o.row.method, o.row.seed)), st)?;
    }
    let rows: Vec<ResultRow> = outputs.iter().map(|o| o.row.clone()).collect();
    let summary = write_results(out, &rows)?;
    let mut groups: Vec<((String, usize), Vec<&RunOutput>)> = vec![];
    for o in outputs {
        let k = (o.row.method.clone(), o.row.days);
        match groups.iter_mut().find(|g| g.0 == k) {
            Some(g) => g.1.push(o),
            None => groups.push((k, vec![o])),
        }
    }
    for ((method, days), g) in groups {
        let r = g[0].region_rmse.len();
        let avg: Vec<f64> = (0..r).map(|i| mean_std(&g.iter().map(|o| o.region_rmse[i]).collect::<Vec<_>>()).0).collect();
        let path = out.join(format!("error-map-{}-{method}-n{days}.png", sanitize(&target.name)));
        let title = format!("{}: test RMSE per region, {method}, N = {days} days", target.name);
        if let Err(e) = region_map(&path, &title, &map_layout(target), &avg) {
            eprintln!("warning: {e:#}");
        }
    }
    Ok(summary)
}
