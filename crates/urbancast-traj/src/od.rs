//! Origin–destination requests for generation: sampled from real trajectories
//! ([`sample_ods`]), read from a CSV file ([`read_od_csv`]), or random reachable pairs for
//! benchmarks ([`random_walk_ods`]).
//!
//! HOSER facts (matercomus/HOSER `gene.py`, `load_and_preprocess_data` and `__main__`):
//! * the OD matrix counts `(rid_list[0], rid_list[-1])` over the trajectories with at least two
//!   roads of `train.csv` (or `test.csv` with `--od_source test`);
//! * pairs whose destination has no successor (a dead end) are dropped;
//! * `--num_gene` (default 5000) pairs are drawn **with replacement**, with probability
//!   proportional to their count (`np.random.choice(..., p=counts/sum)`);
//! * start time: the current version takes the first timestamp of a uniformly chosen trajectory
//!   *with that OD* (`od_to_train_indices`); the earlier version drew it independently from the
//!   first timestamps of all training trajectories (`random.choices(time_list, k=num_gene)`).
//!
//! [`sample_ods`] draws a trajectory uniformly with replacement among the eligible ones and keeps
//! its OD and its own start time: the same distribution as the current HOSER version (OD ∝
//! count, then a uniform trajectory of that OD), with the source trajectory kept so the real
//! trajectories can be compared with the generated ones one to one. Departures: trajectories
//! whose origin equals their destination are skipped (their route would be the origin alone);
//! dead-end destinations are kept (our searches reach them like any other road).
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use urbancast_roads::io::parse_time;
use urbancast_roads::{RoadNetwork, Trajectory};

use crate::generate::OdRequest;

/// Where an [`OdSample`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OdSource {
    /// Index of the source trajectory in the slice given to [`sample_ods`].
    Trajectory(usize),
    /// 1-based data row of an OD CSV file (the header is row 0).
    CsvRow(usize),
}

impl fmt::Display for OdSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OdSource::Trajectory(i) => write!(f, "trajectory #{i}"),
            OdSource::CsvRow(r) => write!(f, "row {r}"),
        }
    }
}

/// A generation request in the user's road ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OdSample {
    /// Road id (the user's, not an index) the route starts on.
    pub origin: u64,
    /// Road id the route should end on.
    pub dest: u64,
    /// Unix seconds (UTC) at which the origin is entered.
    pub start_time: i64,
    /// Where the request came from (for error messages and reports).
    pub source: OdSource,
}

impl OdSample {
    /// The request in road indices; an unknown id is an error naming the source.
    pub fn to_request(&self, net: &RoadNetwork) -> Result<OdRequest> {
        let ix = |id: u64, what: &str| {
            net.index_of(id).ok().with_context(|| format!("{}: unknown {what} road id {id} (not in network `{}`)", self.source, net.name))
        };
        Ok(OdRequest { origin: ix(self.origin, "origin")?, dest: ix(self.dest, "destination")?, start_time: self.start_time })
    }
}

/// [`OdSample::to_request`] for each sample, in order (the first unknown id is the error).
pub fn to_requests(net: &RoadNetwork, ods: &[OdSample]) -> Result<Vec<OdRequest>> {
    ods.iter().map(|o| o.to_request(net)).collect()
}

/// `n` requests drawn uniformly with replacement (seeded) from the trajectories with at least
/// two roads and origin ≠ destination, each with the OD and start time of its trajectory (see
/// the module docs for how this matches HOSER). Errors when no trajectory is eligible.
pub fn sample_ods(trajs: &[Trajectory], n: usize, seed: u64) -> Result<Vec<OdSample>> {
    let eligible: Vec<usize> = (0..trajs.len()).filter(|&i| trajs[i].len() >= 2 && trajs[i].origin() != trajs[i].destination()).collect();
    if eligible.is_empty() && n > 0 {
        bail!("none of the {} trajectories has two roads or more with origin ≠ destination: no OD to sample", trajs.len());
    }
    let mut rng = StdRng::seed_from_u64(seed);
    Ok((0..n)
        .map(|_| {
            let i = eligible[rng.random_range(0..eligible.len())];
            let t = &trajs[i];
            OdSample { origin: t.origin(), dest: t.destination(), start_time: t.times[0], source: OdSource::Trajectory(i) }
        })
        .collect())
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(x) = s.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return x.trim();
        }
    }
    s
}

/// Reads an OD CSV with the columns `origin_id,destination_id,start_time` (found by header
/// name, case-insensitive, other columns ignored): road ids as in the network's road ids,
/// start times as Unix seconds or `%Y-%m-%dT%H:%M:%SZ` (UTC). Empty lines are skipped. Fields
/// may be quoted but must not contain commas. Errors name the file and the data row.
pub fn read_od_csv(path: impl AsRef<Path>) -> Result<Vec<OdSample>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the OD file", path.display()))?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        bail!("{}: empty OD file (expected a header origin_id,destination_id,start_time)", path.display())
    };
    let names: Vec<String> = header.trim_start_matches('\u{feff}').split(',').map(|h| unquote(h).to_ascii_lowercase()).collect();
    let col = |name: &str| {
        names.iter().position(|h| h == name).with_context(|| {
            format!("{}: no `{name}` column (header: {}; expected origin_id,destination_id,start_time)", path.display(), header.trim())
        })
    };
    let (co, cd, ct) = (col("origin_id")?, col("destination_id")?, col("start_time")?);
    let mut out = Vec::new();
    for (row, (line_no, line)) in lines.enumerate() {
        let row = row + 1;
        let at = || format!("{}: row {row} (line {})", path.display(), line_no + 1);
        let fields: Vec<&str> = line.split(',').map(unquote).collect();
        if fields.len() != names.len() {
            bail!("{}: {} fields, the header has {}", at(), fields.len(), names.len());
        }
        let id = |c: usize, what: &str| -> Result<u64> {
            fields[c].parse::<u64>().with_context(|| format!("{}: {what} `{}` is not a road id (a non-negative integer)", at(), fields[c]))
        };
        let (origin, dest) = (id(co, "origin_id")?, id(cd, "destination_id")?);
        let t = fields[ct];
        let Some(start_time) = t.parse::<i64>().ok().or_else(|| parse_time(t)) else {
            bail!("{}: start_time `{t}` is neither Unix seconds nor %Y-%m-%dT%H:%M:%SZ", at());
        };
        out.push(OdSample { origin, dest, start_time, source: OdSource::CsvRow(row) });
    }
    Ok(out)
}

/// Writes requests as an OD CSV that [`read_od_csv`] reads (`origin_id,destination_id,start_time`,
/// start times as Unix seconds).
pub fn write_od_csv(path: impl AsRef<Path>, ods: &[OdSample]) -> Result<()> {
    let path = path.as_ref();
    let mut s = String::from("origin_id,destination_id,start_time\n");
    for o in ods {
        s.push_str(&format!("{},{},{}\n", o.origin, o.dest, o.start_time));
    }
    urbancast_io::write_atomic(path, s).with_context(|| format!("writing {}", path.display()))
}

/// `n` random requests whose destination is reachable from the origin (seeded): the origin is a
/// uniform road with a successor, the destination the end of a random walk (uniform successor
/// at each step) of `min_steps..=max_steps` steps, cut short at a dead end; walks ending at the
/// origin are redrawn. Start times are uniform over the week from `week_start` (Unix seconds).
/// Panics when no road has a successor.
pub fn random_walk_ods(net: &RoadNetwork, n: usize, min_steps: usize, max_steps: usize, week_start: i64, seed: u64) -> Vec<OdRequest> {
    let movable: Vec<usize> = (0..net.len()).filter(|&r| !net.successors(r).is_empty()).collect();
    assert!(!movable.is_empty(), "network `{}` has no road with a successor", net.name);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    let mut attempts = 0usize;
    while out.len() < n {
        attempts += 1;
        assert!(attempts <= 1000 + 100 * n, "network `{}`: random walks keep returning to their origin", net.name);
        let origin = movable[rng.random_range(0..movable.len())];
        let steps = rng.random_range(min_steps..=max_steps.max(min_steps));
        let mut cur = origin;
        for _ in 0..steps {
            let succ = net.successors(cur);
            if succ.is_empty() {
                break;
            }
            cur = succ[rng.random_range(0..succ.len())] as usize;
        }
        if cur != origin {
            out.push(OdRequest { origin, dest: cur, start_time: week_start + rng.random_range(0..7 * 86_400) });
        }
    }
    out
}

/// (origin, destination) road ids of each row of an OD request CSV ([`read_od_csv`], told
/// apart by its `origin_id` column) or of a HOSER CSV: the requests behind generated
/// trajectories, row i for trajectory i.
pub fn read_od_pairs(p: &Path) -> Result<Vec<(u64, u64)>> {
    use std::io::BufRead;
    let file = std::fs::File::open(p).with_context(|| format!("{}: cannot open the intended-OD file", p.display()))?;
    let mut header = String::new();
    std::io::BufReader::new(file).read_line(&mut header).with_context(|| format!("{}: cannot read its header", p.display()))?;
    if header.to_ascii_lowercase().contains("origin_id") {
        Ok(read_od_csv(p)?.iter().map(|s| (s.origin, s.dest)).collect())
    } else {
        let t = urbancast_roads::io::read_hoser_csv(p).with_context(|| format!("reading intended ODs {}", p.display()))?;
        Ok(t.iter().map(|t| (t.origin(), t.destination())).collect())
    }
}
