//! City SPECs: one string naming a reader and where its data is.
//!
//! | SPEC | reads |
//! |---|---|
//! | `metast:PATH` | MetaST `.npz` (`traffic.npy`, `(T, lng, lat, 2)`, hourly) |
//! | `stdn:PATH` | STDN `.npz` (`volume`, `(T, H, W, 2)`, 30 min) |
//! | `stssl:DIR` | ST-SSL window folder (`train/val/test.npz`, `adj_mx.npz`), grid inferred |
//! | `stssl:DIR?h=16&w=8&interval=60` | the same with the grid given |
//! | `nyc69:DIR:taxi` / `nyc69:DIR:bike` | NYC Manhattan 69 zones (`?interval=30` for the 30-min files) |
//! | `crosstres:DIR:CITY:MODE` | CrossTReS layout `{DIR}/{CITY}/{MODE}{CITY}_{pickup,dropoff}.npy` |
//! | `npy:PATH?axes=THWC&interval=60&channels=pickup,dropoff` | a plain `.npy` with declared axes |
//! | `npz:PATH?key=K&axes=TRC&interval=60&channels=...` | a plain `.npz` member |
//! | `synthetic:NAME` (`?days=70&seed=3`) | a built-in synthetic city preset (metro, suburb, coastal) |
use std::collections::HashMap;

use crate::city::{Channel, City};
use crate::error::{DataError, Result};
use crate::readers;
use crate::synthetic;

fn err(spec: &str, what: impl Into<String>) -> DataError {
    DataError::Spec { spec: spec.to_string(), what: what.into() }
}

/// Splits `body?k=v&k=v` into the body and its options.
fn options<'a>(spec: &str, body: &'a str) -> Result<(&'a str, HashMap<String, String>)> {
    let Some((b, q)) = body.split_once('?') else { return Ok((body, HashMap::new())) };
    let mut m = HashMap::new();
    for kv in q.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').ok_or_else(|| err(spec, format!("option `{kv}` is not key=value")))?;
        m.insert(k.to_string(), v.to_string());
    }
    Ok((b, m))
}

fn num<T: std::str::FromStr>(spec: &str, opts: &HashMap<String, String>, key: &str) -> Result<Option<T>> {
    opts.get(key).map(|v| v.parse::<T>().map_err(|_| err(spec, format!("option `{key}={v}` is not a number")))).transpose()
}

fn check_known(spec: &str, opts: &HashMap<String, String>, known: &[&str]) -> Result<()> {
    match opts.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(err(
            spec,
            format!("unknown option `{k}` (known here: {})", if known.is_empty() { "none".into() } else { known.join(", ") }),
        )),
        None => Ok(()),
    }
}

/// Parses a channel list such as `pickup,dropoff` (`in`/`inflow` = drop-off, `out`/`outflow` = pick-up).
pub fn parse_channels(spec: &str, s: &str) -> Result<Vec<Channel>> {
    s.split(',')
        .map(|c| match c.trim().to_ascii_lowercase().as_str() {
            "pickup" | "out" | "outflow" => Ok(Channel::Pickup),
            "dropoff" | "in" | "inflow" => Ok(Channel::Dropoff),
            "value" | "other" | "speed" | "volume" => Ok(Channel::Other),
            other => Err(err(spec, format!("unknown channel `{other}` (use pickup, dropoff or value)"))),
        })
        .collect()
}

/// Loads the city a SPEC names. `seed` is used by `synthetic:` SPECs without their own seed.
pub fn load(spec: &str, seed: u64) -> Result<City> {
    let (kind, rest) = spec.split_once(':').ok_or_else(|| {
        err(spec, "expected READER:WHERE, e.g. `metast:boston.npz`, `stdn:volume.npz`, `stssl:DIR`, `nyc69:DIR:taxi`, `crosstres:DIR:NY:Taxi`, `npy:FILE?axes=THWC`, `synthetic:metro`")
    })?;
    let (body, opts) = options(spec, rest)?;
    if body.is_empty() {
        return Err(err(spec, "nothing after the reader name"));
    }
    match kind {
        "metast" => {
            check_known(spec, &opts, &[])?;
            readers::read_metast(body)
        }
        "stdn" => {
            check_known(spec, &opts, &[])?;
            readers::read_stdn(body)
        }
        "stssl" => {
            check_known(spec, &opts, &["h", "w", "interval"])?;
            match (num::<usize>(spec, &opts, "h")?, num::<usize>(spec, &opts, "w")?) {
                (Some(h), Some(w)) => readers::read_stssl(body, h, w, num(spec, &opts, "interval")?.unwrap_or(60)),
                (None, None) => readers::read_stssl_auto(body),
                _ => Err(err(spec, "give both `h` and `w`, or neither")),
            }
        }
        "nyc69" => {
            check_known(spec, &opts, &["interval"])?;
            let (dir, mode) = body.rsplit_once(':').ok_or_else(|| err(spec, "expected nyc69:DIR:taxi or nyc69:DIR:bike"))?;
            readers::read_nyc69_interval(dir, mode, num(spec, &opts, "interval")?.unwrap_or(60))
        }
        "crosstres" => {
            check_known(spec, &opts, &[])?;
            let mut parts = body.rsplitn(3, ':');
            let (mode, city, dir) = (parts.next(), parts.next(), parts.next());
            match (dir, city, mode) {
                (Some(d), Some(c), Some(m)) => readers::read_crosstres(d, c, m),
                _ => Err(err(spec, "expected crosstres:DIR:CITY:MODE, e.g. crosstres:data:NY:Taxi")),
            }
        }
        "npy" | "npz" => {
            check_known(spec, &opts, &["key", "axes", "interval", "channels"])?;
            let axes = opts
                .get("axes")
                .ok_or_else(|| err(spec, "plain files need `?axes=...` (letters T, H, W or R, C), e.g. npy:flow.npy?axes=THWC&h=..."))?;
            let interval = num(spec, &opts, "interval")?.unwrap_or(60);
            let channels = match opts.get("channels") {
                Some(c) => parse_channels(spec, c)?,
                None if axes.contains('C') => vec![Channel::Pickup, Channel::Dropoff],
                None => vec![Channel::Other],
            };
            readers::read_plain(body, opts.get("key").map(String::as_str), axes, interval, channels)
        }
        "synthetic" => {
            check_known(spec, &opts, &["days", "seed", "interval"])?;
            let seed = num(spec, &opts, "seed")?.unwrap_or(seed);
            let mut cfg = synthetic::preset(body, seed)
                .ok_or_else(|| err(spec, format!("unknown synthetic preset `{body}` (known: {})", synthetic::preset_names().join(", "))))?;
            if let Some(d) = num(spec, &opts, "days")? {
                cfg.days = d;
            }
            if let Some(i) = num(spec, &opts, "interval")? {
                cfg.interval_min = i;
            }
            synthetic::generate(&cfg)
        }
        other => Err(err(spec, format!("unknown reader `{other}` (known: metast, stdn, stssl, nyc69, crosstres, npy, npz, synthetic)"))),
    }
}
