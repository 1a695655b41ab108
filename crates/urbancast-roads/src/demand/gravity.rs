//! The gravity model: which zone a trip leaves from and which it goes to, and which roads in
//! those zones are its ends.
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};
use rand_distr::Normal;

use super::{DemandConfig, mix};
use crate::error::{Result, RoadError};
use crate::geo::haversine_km;
use crate::network::RoadNetwork;
use crate::zones::Zones;

pub(crate) struct Gravity {
    /// Candidate end roads per zone (eligible roads, or a fixed subset of `anchors_per_zone`).
    ends: Vec<Vec<u32>>,
    origin: WeightedIndex<f64>,
    /// Per origin zone, the destination zone distribution (`None` for zones without roads).
    dest: Vec<Option<WeightedIndex<f64>>>,
}

impl Gravity {
    /// Production of a zone = length (km) of its eligible roads; attraction = production × a
    /// lognormal land-use factor `exp(landuse_sigma · N(0,1))` per zone; destination weight
    /// from zone `o` to `d` = attraction(d) · exp(−β · dist(o, d)) with dist the great-circle
    /// distance between length-weighted zone centroids, and for `d == o` half the distance to
    /// the nearest other zone (the usual intrazonal approximation).
    pub(crate) fn new(net: &RoadNetwork, zones: &Zones, eligible: &[bool], cfg: &DemandConfig) -> Result<Self> {
        let k = zones.k;
        let mut ends = vec![Vec::new(); k];
        let mut production = vec![0.0; k];
        let mut sum = vec![[0.0f64; 3]; k];
        for (i, r) in net.roads.iter().enumerate() {
            let z = zones.zone_of[i] as usize;
            let w = r.length_m.max(1.0);
            sum[z] = [sum[z][0] + w * r.centroid[0], sum[z][1] + w * r.centroid[1], sum[z][2] + w];
            if eligible[i] {
                ends[z].push(i as u32);
                production[z] += r.length_m / 1000.0;
            }
        }
        let mut rng = StdRng::seed_from_u64(mix(cfg.seed, 0x4c41_4e44));
        let normal = Normal::new(0.0, 1.0).unwrap();
        let attraction: Vec<f64> = production.iter().map(|p| p * (cfg.landuse_sigma * normal.sample(&mut rng)).exp()).collect();
        if cfg.anchors_per_zone > 0 {
            for e in ends.iter_mut().filter(|e| e.len() > cfg.anchors_per_zone) {
                e.shuffle(&mut rng);
                e.truncate(cfg.anchors_per_zone);
                e.sort_unstable();
            }
        }
        let centroid: Vec<[f64; 2]> = sum.iter().map(|s| if s[2] > 0.0 { [s[0] / s[2], s[1] / s[2]] } else { [0.0, 0.0] }).collect();
        let used: Vec<usize> = (0..k).filter(|&z| production[z] > 0.0).collect();
        let origin = WeightedIndex::new(&production)
            .map_err(|e| RoadError::network(&net.name, format!("demand: no zone can produce trips ({e})")))?;
        let mut dest = vec![None; k];
        for &o in &used {
            let mut d: Vec<f64> = (0..k).map(|j| haversine_km(centroid[o], centroid[j])).collect();
            d[o] = 0.5 * used.iter().filter(|&&j| j != o).map(|&j| d[j]).fold(f64::INFINITY, f64::min);
            if !d[o].is_finite() {
                d[o] = 0.0;
            }
            let w: Vec<f64> = (0..k).map(|j| attraction[j] * (-cfg.gravity_beta * d[j]).exp()).collect();
            dest[o] = Some(WeightedIndex::new(&w).map_err(|e| {
                RoadError::invalid(format!(
                    "demand: zone {o} attracts no trip under gravity_beta {} /km ({e}): lower gravity_beta",
                    cfg.gravity_beta
                ))
            })?);
        }
        Ok(Gravity { ends, origin, dest })
    }

    /// An (origin road, destination road) pair, not yet checked for length.
    pub(crate) fn sample(&self, rng: &mut impl Rng) -> (u32, u32) {
        let o = self.origin.sample(rng);
        let d = self.dest[o].as_ref().expect("origin zones have roads").sample(rng);
        let (eo, ed) = (&self.ends[o], &self.ends[d]);
        (eo[rng.random_range(0..eo.len())], ed[rng.random_range(0..ed.len())])
    }
}
