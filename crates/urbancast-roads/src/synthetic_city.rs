//! A built-in synthetic city road network, so that everything that runs on roads also runs on a
//! fresh clone without real data.
//!
//! Layout (x east, y north, metres from `origin`, the south-west corner):
//! - Arterials on a `blocks_x` x `blocks_y` grid of square blocks of `block_m`: class
//!   `primary` (50 km/h, 2 lanes); the outer boundary is a `trunk` ring road (80 km/h, 3 lanes).
//! - Inside each block `local_per_block` evenly spaced `residential` streets (30 km/h, 1 lane)
//!   join the two opposite arterials; blocks alternate north-south / east-west streets in a
//!   checkerboard, so the local streets form a finer grid over the city. A share `drop_local`
//!   of the local streets is removed at random.
//! - Junctions get a seeded uniform jitter of up to `jitter_m` metres in x and y.
//! - Every street is two-way: one directed road per direction. Successors come from junction
//!   ids with [`UTurns::OnlyIfDeadEnd`]; the result is checked to be strongly connected (if the
//!   random removals broke that, the removed streets are put back).
//!
//! Road ids are `0..len()`. With the defaults the city is 4.8 km x 4.8 km with 2,958 roads
//! (1,176 arterial and 432 - 43 local street segments, each in both directions).
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Result, RoadError};
use crate::geo::{LocalProjection, LonLat};
use crate::network::{RoadNetwork, RoadSpec, UTurns};

/// Parameters of [`synthetic_city`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyntheticCityConfig {
    /// Blocks west-east (default 12).
    pub blocks_x: usize,
    /// Blocks south-north (default 12).
    pub blocks_y: usize,
    /// Arterial spacing in metres (default 400).
    pub block_m: f64,
    /// Local streets inside each block, between two arterials (default 3).
    pub local_per_block: usize,
    /// South-west corner `[lon, lat]` (default `[116.30, 39.90]`, Beijing).
    pub origin: LonLat,
    /// Seed of the junction jitter and of the local streets dropped (default 0).
    pub seed: u64,
    /// Share of local street segments removed at random (default 0.1).
    pub drop_local: f64,
    /// Largest junction displacement in metres, per axis (default 8; at most a quarter of
    /// the local street spacing).
    pub jitter_m: f64,
}

impl Default for SyntheticCityConfig {
    fn default() -> Self {
        SyntheticCityConfig {
            blocks_x: 12,
            blocks_y: 12,
            block_m: 400.0,
            local_per_block: 3,
            origin: [116.30, 39.90],
            seed: 0,
            drop_local: 0.1,
            jitter_m: 8.0,
        }
    }
}

/// The network's name.
pub const SYNTHETIC_CITY_NAME: &str = "synthetic-city";

/// One undirected street segment between lattice points, with its class.
struct Segment {
    a: (usize, usize),
    b: (usize, usize),
    class: Class,
}

#[derive(Clone, Copy)]
enum Class {
    Trunk,
    Primary,
    Residential,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Trunk => "trunk",
            Class::Primary => "primary",
            Class::Residential => "residential",
        }
    }
    fn maxspeed_kmh(self) -> f64 {
        match self {
            Class::Trunk => 80.0,
            Class::Primary => 50.0,
            Class::Residential => 30.0,
        }
    }
    fn lanes(self) -> u32 {
        match self {
            Class::Trunk => 3,
            Class::Primary => 2,
            Class::Residential => 1,
        }
    }
}

impl SyntheticCityConfig {
    /// Checks the settings; the message names the key (prefixed `synthetic city: `):
    /// `blocks_x`, `blocks_y` in `[1, 1000]`, `block_m` in `[10, 100000]`, `local_per_block ≤ 50`,
    /// `drop_local` in `[0, 1]`, `jitter_m` in `[0, a quarter of the street spacing]`, an `origin`
    /// that leaves the city on the globe.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("synthetic city: ")
    }

    /// [`SyntheticCityConfig::validate`] with keys prefixed by `prefix`.
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = urbancast_check::Checker::new(prefix);
        c.in_range("blocks_x", self.blocks_x, 1..=1000)?;
        c.in_range("blocks_y", self.blocks_y, 1..=1000)?;
        c.in_range("block_m", self.block_m, 10.0..=100_000.0)?;
        c.in_range("local_per_block", self.local_per_block, 0..=50)?;
        c.unit("drop_local", self.drop_local)?;
        let step = self.block_m / (self.local_per_block + 1) as f64;
        c.in_range("jitter_m", self.jitter_m, 0.0..=step / 4.0)
            .map_err(|e| RoadError::invalid(format!("{e}: at most a quarter of the street spacing")))?;
        let [lon, lat] = self.origin;
        let extent_deg = (self.blocks_x.max(self.blocks_y) as f64 * self.block_m) / 111_000.0;
        if !(lon.is_finite() && lat.is_finite() && lon.abs() + extent_deg * 3.0 < 180.0 && lat.abs() + extent_deg < 85.0) {
            let what = format!("{:?} (with a {extent_deg:.2} degree wide city) does not fit on the globe", self.origin);
            return Err(c.fail("origin", what).into());
        }
        Ok(())
    }
}

/// Builds the synthetic city described in the module docs. Same config (seed included) →
/// identical network.
pub fn synthetic_city(cfg: &SyntheticCityConfig) -> Result<RoadNetwork> {
    cfg.validate()?;
    let k = cfg.local_per_block + 1;
    let (nx, ny) = (cfg.blocks_x * k + 1, cfg.blocks_y * k + 1);
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    // Local streets, checkerboard orientation.
    let mut locals = Vec::new();
    for by in 0..cfg.blocks_y {
        for bx in 0..cfg.blocks_x {
            for t in 1..k {
                let seg = if (bx + by) % 2 == 0 {
                    ((bx * k + t, by * k), (bx * k + t, (by + 1) * k))
                } else {
                    ((bx * k, by * k + t), ((bx + 1) * k, by * k + t))
                };
                locals.push(seg);
            }
        }
    }
    let mut order: Vec<usize> = (0..locals.len()).collect();
    order.shuffle(&mut rng);
    let n_drop = (cfg.drop_local * locals.len() as f64).round() as usize;
    let mut dropped = vec![false; locals.len()];
    for &i in &order[..n_drop] {
        dropped[i] = true;
    }
    let mut jitter = vec![[0.0; 2]; nx * ny];
    for j in jitter.iter_mut() {
        for v in j.iter_mut() {
            *v = if cfg.jitter_m > 0.0 { rng.random_range(-cfg.jitter_m..=cfg.jitter_m) } else { 0.0 };
        }
    }
    let step = cfg.block_m / k as f64;
    let proj = LocalProjection::new(cfg.origin);
    let pos = |(i, j): (usize, usize)| -> LonLat {
        let d = jitter[j * nx + i];
        proj.to_lonlat([i as f64 * step + d[0], j as f64 * step + d[1]])
    };
    let net = build(cfg, &locals, &dropped, nx, ny, &pos)?;
    if strongly_connected(&net) {
        return Ok(net);
    }
    // Repair: put every removed street back.
    let net = build(cfg, &locals, &vec![false; locals.len()], nx, ny, &pos)?;
    if strongly_connected(&net) {
        Ok(net)
    } else {
        Err(RoadError::network(
            SYNTHETIC_CITY_NAME,
            "not strongly connected (a single block without local streets is a ring where U-turns are not allowed): \
             use more blocks or local streets",
        ))
    }
}

type Lattice = (usize, usize);

fn build(
    cfg: &SyntheticCityConfig,
    locals: &[(Lattice, Lattice)],
    dropped: &[bool],
    nx: usize,
    ny: usize,
    pos: &dyn Fn(Lattice) -> LonLat,
) -> Result<RoadNetwork> {
    let k = cfg.local_per_block + 1;
    // Junctions: arterial crossings and the ends of the kept local streets.
    let mut used = vec![false; nx * ny];
    for j in (0..ny).step_by(k) {
        for i in (0..nx).step_by(k) {
            used[j * nx + i] = true;
        }
    }
    let kept: Vec<(Lattice, Lattice)> = locals.iter().zip(dropped).filter(|(_, d)| !**d).map(|(s, _)| *s).collect();
    for &(a, b) in &kept {
        used[a.1 * nx + a.0] = true;
        used[b.1 * nx + b.0] = true;
    }
    let mut segs = Vec::new();
    let arterial = |ring: bool| if ring { Class::Trunk } else { Class::Primary };
    for j in (0..ny).step_by(k) {
        let pts: Vec<usize> = (0..nx).filter(|&i| used[j * nx + i]).collect();
        for w in pts.windows(2) {
            segs.push(Segment { a: (w[0], j), b: (w[1], j), class: arterial(j == 0 || j == ny - 1) });
        }
    }
    for i in (0..nx).step_by(k) {
        let pts: Vec<usize> = (0..ny).filter(|&j| used[j * nx + i]).collect();
        for w in pts.windows(2) {
            segs.push(Segment { a: (i, w[0]), b: (i, w[1]), class: arterial(i == 0 || i == nx - 1) });
        }
    }
    segs.extend(kept.into_iter().map(|(a, b)| Segment { a, b, class: Class::Residential }));
    let node = |(i, j): Lattice| (j * nx + i) as u64;
    let mut specs = Vec::with_capacity(2 * segs.len());
    for s in &segs {
        for (from, to) in [(s.a, s.b), (s.b, s.a)] {
            let mut spec = RoadSpec::new(specs.len() as u64, vec![pos(from), pos(to)]);
            spec.class = Some(s.class.name().to_string());
            spec.maxspeed_kmh = Some(s.class.maxspeed_kmh());
            spec.lanes = Some(s.class.lanes());
            spec.oneway = Some(false);
            spec.start_node = Some(node(from));
            spec.end_node = Some(node(to));
            specs.push(spec);
        }
    }
    RoadNetwork::from_junctions(SYNTHETIC_CITY_NAME, specs, UTurns::OnlyIfDeadEnd)
}

/// Every road reaches road 0 and road 0 reaches every road.
fn strongly_connected(net: &RoadNetwork) -> bool {
    let reach_all = |adj: &[Vec<u32>]| {
        let mut seen = vec![false; adj.len()];
        let mut stack = vec![0u32];
        seen[0] = true;
        while let Some(r) = stack.pop() {
            for &s in &adj[r as usize] {
                if !std::mem::replace(&mut seen[s as usize], true) {
                    stack.push(s);
                }
            }
        }
        seen.iter().all(|&x| x)
    };
    reach_all(&net.successors) && reach_all(&net.predecessors())
}
