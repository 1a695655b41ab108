//! Loading sensor graphs for the graph runner from SPECs and bringing them to one interval.
use std::path::Path;

use anyhow::{Context, Result, bail};
use urbancast_data::graph::{
    STGFSL_INTERVAL_MIN, SensorGraph, SyntheticGraphConfig, read_graph_auto, read_nyc69_graph, read_stgfsl, synthetic_sensor_graph,
};

/// The SPECs [`load_graph`] accepts, for error messages and help.
pub const GRAPH_SPECS: &str = "a sensor-graph folder or file (Shenzhen SZ_taxi, LA los_speed, an ST-GFSL city folder with \
     dataset.npy + matrix.npy, a PEMS .npz), `stgfsl:DIR[?interval=MIN]`, `nyc69-taxi:DIR`, `nyc69-bike:DIR`, or \
     `synthetic:NAME[?nodes=N&days=D&interval=MIN&seed=S]`";

/// `key=value` pairs after `?`; an unknown key is an error naming the allowed ones.
fn query(spec: &str, q: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    for part in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else { bail!("`{spec}`: `{part}` is not key=value") };
        if !allowed.contains(&k) {
            bail!("`{spec}`: unknown option `{k}` (allowed: {})", allowed.join(", "));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn number<T: std::str::FromStr>(spec: &str, k: &str, v: &str) -> Result<T> {
    v.parse().map_err(|_| anyhow::anyhow!("`{spec}`: `{k}={v}` is not a valid number"))
}

/// Loads one graph from `spec` (see [`GRAPH_SPECS`]); a synthetic graph without `seed` uses
/// `seed`.
pub fn load_graph(spec: &str, seed: u64) -> Result<SensorGraph> {
    let (head, q) = match spec.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (spec, None),
    };
    if let Some(name) = head.strip_prefix("synthetic:") {
        let mut cfg = SyntheticGraphConfig { seed, ..SyntheticGraphConfig::default() };
        for (k, v) in query(spec, q, &["nodes", "days", "interval", "seed"])? {
            match k.as_str() {
                "nodes" => cfg.nodes = number(spec, &k, &v)?,
                "days" => cfg.days = number(spec, &k, &v)?,
                "interval" => cfg.interval_min = number(spec, &k, &v)?,
                _ => cfg.seed = number(spec, &k, &v)?,
            }
        }
        let mut g = synthetic_sensor_graph(&cfg)?;
        g.name = if name.is_empty() { "synthetic".into() } else { name.to_string() };
        return Ok(g);
    }
    if let Some(dir) = head.strip_prefix("stgfsl:") {
        let mut interval = STGFSL_INTERVAL_MIN;
        for (k, v) in query(spec, q, &["interval"])? {
            interval = number(spec, &k, &v)?;
        }
        return Ok(read_stgfsl(Path::new(dir), interval)?);
    }
    for mode in ["taxi", "bike"] {
        if let Some(dir) = head.strip_prefix(&format!("nyc69-{mode}:")) {
            query(spec, q, &[])?;
            return Ok(read_nyc69_graph(Path::new(dir), mode)?);
        }
    }
    query(spec, q, &[])?;
    let p = Path::new(head);
    if !p.exists() {
        bail!("`{spec}`: no such file or folder (a graph SPEC is {GRAPH_SPECS})");
    }
    Ok(read_graph_auto(p)?)
}

/// Loads the sources and the target and brings them to one interval (`interval`, else the
/// coarsest) by averaging ([`SensorGraph::resample_mean`]; the graph protocol's data are
/// speeds and flows per step alike, and a mean keeps a flow's per-step scale comparable
/// across cities). Prints a note for every resampled graph through `note`.
pub fn load_graphs(
    sources: &[String],
    target: &str,
    interval: Option<u32>,
    seed: u64,
    mut note: impl FnMut(String),
) -> Result<(Vec<SensorGraph>, SensorGraph)> {
    let t = load_graph(target, seed).with_context(|| format!("loading target `{target}`"))?;
    let mut s = vec![];
    for (i, spec) in sources.iter().enumerate() {
        s.push(load_graph(spec, seed.wrapping_add(1 + i as u64)).with_context(|| format!("loading source `{spec}`"))?);
    }
    let common = interval.unwrap_or_else(|| s.iter().map(|g| g.interval_min).chain([t.interval_min]).max().unwrap_or(5));
    let mut fit = |g: SensorGraph| -> Result<SensorGraph> {
        if g.interval_min != common {
            note(format!("resampling `{}` from {} to {common} min by averaging", g.name, g.interval_min));
        }
        Ok(g.resample_mean(common)?)
    };
    let t = fit(t)?;
    let s = s.into_iter().map(&mut fit).collect::<Result<Vec<_>>>()?;
    Ok((s, t))
}
