//! The road network: directed road segments and which road may follow which.
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Result, RoadError};
use crate::geo::{LonLat, bearing_deg, haversine_m, polyline_length_m};

/// Road class used when a source gives none (e.g. the Porto OSM edge CSV).
pub const UNKNOWN_CLASS: &str = "unknown";

/// What a reader knows about one directed road segment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoadSpec {
    /// The user's road id (HOSER `geo_id`, OSM edge row number, shapefile `eid`/`fid`).
    pub id: u64,
    /// Polyline as `[lon, lat]` points, in driving direction, at least two.
    pub polyline: Vec<LonLat>,
    /// Length in metres; `None` means "measure the polyline".
    pub length_m: Option<f64>,
    /// Road class (OSM `highway`), `None` for unknown.
    pub class: Option<String>,
    /// Number of lanes (OSM `lanes`), `None` when unknown.
    pub lanes: Option<u32>,
    /// Speed limit in km/h when the source gives one.
    pub maxspeed_kmh: Option<f64>,
    /// Whether the road is one-way (OSM `oneway`), `None` when unknown.
    pub oneway: Option<bool>,
    /// Junction ids at both ends when the source has a node table (OSM): used to derive
    /// successors and the undirected view.
    pub start_node: Option<u64>,
    /// Junction id at the end of the road (see `start_node`).
    pub end_node: Option<u64>,
}

impl RoadSpec {
    /// A road with only an id and a polyline.
    pub fn new(id: u64, polyline: Vec<LonLat>) -> Self {
        RoadSpec {
            id,
            polyline,
            length_m: None,
            class: None,
            lanes: None,
            maxspeed_kmh: None,
            oneway: None,
            start_node: None,
            end_node: None,
        }
    }
}

/// One directed road segment of a [`RoadNetwork`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Road {
    /// The user's road id (see [`RoadSpec::id`]).
    pub id: u64,
    /// Polyline as `[lon, lat]` points in degrees, in driving direction, at least two.
    pub polyline: Vec<LonLat>,
    /// Length in metres: the source's value, else the haversine length of the polyline.
    pub length_m: f64,
    /// Index into [`RoadNetwork::classes`].
    pub class: u16,
    /// Number of lanes, `None` when unknown.
    pub lanes: Option<u32>,
    /// Speed limit in km/h, `None` when unknown.
    pub maxspeed_kmh: Option<f64>,
    /// Whether the road is one-way, `None` when unknown.
    pub oneway: Option<bool>,
    /// Mean of the polyline's vertices (the "road centroid" of the HOSER evaluation).
    pub centroid: LonLat,
    /// Bearing of the first polyline segment, degrees clockwise from north in [0, 360).
    pub start_heading: f64,
    /// Bearing of the last polyline segment, degrees clockwise from north in [0, 360).
    pub end_heading: f64,
    /// Junction id at the start of the road, when the source has one.
    pub start_node: Option<u64>,
    /// Junction id at the end of the road, when the source has one.
    pub end_node: Option<u64>,
}

impl Road {
    /// First polyline point, `[lon, lat]` in degrees.
    pub fn start(&self) -> LonLat {
        self.polyline[0]
    }
    /// Last polyline point, `[lon, lat]` in degrees.
    pub fn end(&self) -> LonLat {
        *self.polyline.last().expect("polyline has at least two points")
    }
}

/// A directed road network. Roads are addressed internally by their index `0..len()`; the
/// user's ids are kept in [`Road::id`] and looked up with [`RoadNetwork::index_of`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoadNetwork {
    /// Name of the network, used in error messages.
    pub name: String,
    /// The roads, addressed by index `0..len()`.
    pub roads: Vec<Road>,
    /// `successors[i]`: indices of the roads that may follow road `i`.
    pub successors: Vec<Vec<u32>>,
    /// Class names; `Road::class` indexes this list. Index 0 is always [`UNKNOWN_CLASS`].
    pub classes: Vec<String>,
    #[serde(skip)]
    index: HashMap<u64, u32>,
}

/// How successors are derived when a source has junction ids but no explicit relation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UTurns {
    /// Never allow the reverse edge (same two junctions, opposite direction) to follow.
    Forbid,
    /// Allow it only when it is the only way on (dead ends): the OSM default.
    OnlyIfDeadEnd,
    /// Always allow it.
    Allow,
}

fn check_polyline(name: &str, spec: &RoadSpec) -> Result<()> {
    if spec.polyline.len() < 2 {
        return Err(RoadError::network(name, format!("road {}: polyline needs at least two points, has {}", spec.id, spec.polyline.len())));
    }
    for (k, p) in spec.polyline.iter().enumerate() {
        if !p[0].is_finite() || !p[1].is_finite() || p[0].abs() > 180.0 || p[1].abs() > 90.0 {
            return Err(RoadError::network(name, format!("road {}: point {k} = {:?} is not a valid [lon, lat]", spec.id, p)));
        }
    }
    if let Some(l) = spec.length_m
        && (!l.is_finite() || l < 0.0)
    {
        return Err(RoadError::network(name, format!("road {}: length {l} m is not a finite non-negative number", spec.id)));
    }
    Ok(())
}

impl RoadNetwork {
    /// Builds a network from road specs and explicit `(from id, to id)` successor pairs.
    pub fn new(name: impl Into<String>, specs: Vec<RoadSpec>, successor_ids: &[(u64, u64)]) -> Result<Self> {
        let mut net = Self::roads_only(name.into(), specs)?;
        let mut succ = vec![Vec::new(); net.roads.len()];
        for &(a, b) in successor_ids {
            let ia = net.index_of(a).map_err(|_| RoadError::UnknownRoad { id: a, context: " in a successor relation (origin)".into() })?;
            let ib =
                net.index_of(b).map_err(|_| RoadError::UnknownRoad { id: b, context: " in a successor relation (destination)".into() })?;
            succ[ia].push(ib as u32);
        }
        for s in &mut succ {
            s.sort_unstable();
            s.dedup();
        }
        net.successors = succ;
        Ok(net)
    }

    /// Builds a network whose successors come from junction ids: road `b` may follow road `a`
    /// when `b.start_node == a.end_node`, with the given U-turn rule. Every spec needs both
    /// junction ids.
    pub fn from_junctions(name: impl Into<String>, specs: Vec<RoadSpec>, uturns: UTurns) -> Result<Self> {
        let name = name.into();
        for s in &specs {
            if s.start_node.is_none() || s.end_node.is_none() {
                return Err(RoadError::network(&name, format!("road {}: needs start and end junction ids to derive successors", s.id)));
            }
        }
        let mut net = Self::roads_only(name, specs)?;
        let mut leaving: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, r) in net.roads.iter().enumerate() {
            leaving.entry(r.start_node.unwrap()).or_default().push(i as u32);
        }
        let mut succ = Vec::with_capacity(net.roads.len());
        for r in &net.roads {
            let out = leaving.get(&r.end_node.unwrap()).cloned().unwrap_or_default();
            let is_uturn = |j: &u32| {
                let s = &net.roads[*j as usize];
                s.end_node == r.start_node && s.start_node == r.end_node
            };
            let non_u: Vec<u32> = out.iter().copied().filter(|j| !is_uturn(j)).collect();
            let mut chosen = match uturns {
                UTurns::Allow => out,
                UTurns::Forbid => non_u,
                UTurns::OnlyIfDeadEnd => {
                    if non_u.is_empty() {
                        out
                    } else {
                        non_u
                    }
                }
            };
            chosen.sort_unstable();
            chosen.dedup();
            succ.push(chosen);
        }
        net.successors = succ;
        Ok(net)
    }

    fn roads_only(name: String, specs: Vec<RoadSpec>) -> Result<Self> {
        if specs.is_empty() {
            return Err(RoadError::network(&name, "the network has no roads"));
        }
        let mut classes = vec![UNKNOWN_CLASS.to_string()];
        let mut class_ix: HashMap<String, u16> = HashMap::from([(UNKNOWN_CLASS.to_string(), 0)]);
        let mut index = HashMap::with_capacity(specs.len());
        let mut roads = Vec::with_capacity(specs.len());
        for (i, spec) in specs.into_iter().enumerate() {
            check_polyline(&name, &spec)?;
            if index.insert(spec.id, i as u32).is_some() {
                return Err(RoadError::network(&name, format!("road id {} appears twice", spec.id)));
            }
            let class = match spec.class.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                None => 0,
                Some(c) => *class_ix.entry(c.to_string()).or_insert_with(|| {
                    classes.push(c.to_string());
                    (classes.len() - 1) as u16
                }),
            };
            let n = spec.polyline.len() as f64;
            let centroid = [spec.polyline.iter().map(|p| p[0]).sum::<f64>() / n, spec.polyline.iter().map(|p| p[1]).sum::<f64>() / n];
            let pl = &spec.polyline;
            let start_heading = bearing_deg(pl[0], pl[1]);
            let end_heading = bearing_deg(pl[pl.len() - 2], pl[pl.len() - 1]);
            roads.push(Road {
                id: spec.id,
                length_m: spec.length_m.unwrap_or_else(|| polyline_length_m(pl)),
                class,
                lanes: spec.lanes,
                maxspeed_kmh: spec.maxspeed_kmh,
                oneway: spec.oneway,
                centroid,
                start_heading,
                end_heading,
                start_node: spec.start_node,
                end_node: spec.end_node,
                polyline: spec.polyline,
            });
        }
        let successors = vec![Vec::new(); roads.len()];
        Ok(RoadNetwork { name, roads, successors, classes, index })
    }

    /// Rebuilds the id lookup (after deserialising).
    pub fn reindex(&mut self) {
        self.index = self.roads.iter().enumerate().map(|(i, r)| (r.id, i as u32)).collect();
    }

    /// Number of roads.
    pub fn len(&self) -> usize {
        self.roads.len()
    }
    /// Whether the network has no roads (never true for a built network).
    pub fn is_empty(&self) -> bool {
        self.roads.is_empty()
    }

    /// Index of the road with the user's id `id`, or a clear error.
    pub fn index_of(&self, id: u64) -> Result<usize> {
        self.index
            .get(&id)
            .map(|&i| i as usize)
            .ok_or_else(|| RoadError::UnknownRoad { id, context: format!(" (network `{}` has {} roads)", self.name, self.roads.len()) })
    }

    /// The road at index `i` (panics when out of range).
    pub fn road(&self, i: usize) -> &Road {
        &self.roads[i]
    }

    /// Indices of the roads that may follow road `i` (`successors[i]`; panics when out of range).
    pub fn successors(&self, i: usize) -> &[u32] {
        &self.successors[i]
    }

    /// `predecessors[i]`: roads that road `i` may follow.
    pub fn predecessors(&self) -> Vec<Vec<u32>> {
        let mut pred = vec![Vec::new(); self.len()];
        for (i, s) in self.successors.iter().enumerate() {
            for &j in s {
                pred[j as usize].push(i as u32);
            }
        }
        pred
    }

    /// Undirected view: roads `i` and `j` are neighbours when one may follow the other.
    /// Sorted, without self loops.
    pub fn undirected(&self) -> Vec<Vec<u32>> {
        let mut nb = vec![Vec::new(); self.len()];
        for (i, s) in self.successors.iter().enumerate() {
            for &j in s {
                if j as usize != i {
                    nb[i].push(j);
                    nb[j as usize].push(i as u32);
                }
            }
        }
        for v in &mut nb {
            v.sort_unstable();
            v.dedup();
        }
        nb
    }

    /// Number of directed successor relations.
    pub fn num_transitions(&self) -> usize {
        self.successors.iter().map(Vec::len).sum()
    }

    /// `[min lon, min lat, max lon, max lat]` over all polyline points.
    pub fn bbox(&self) -> [f64; 4] {
        let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for r in &self.roads {
            for p in &r.polyline {
                b[0] = b[0].min(p[0]);
                b[1] = b[1].min(p[1]);
                b[2] = b[2].max(p[0]);
                b[3] = b[3].max(p[1]);
            }
        }
        b
    }

    /// Great-circle distance in metres between the centroids of two roads.
    pub fn centroid_distance_m(&self, a: usize, b: usize) -> f64 {
        haversine_m(self.roads[a].centroid, self.roads[b].centroid)
    }

    /// The class name of road `i`.
    pub fn class_name(&self, i: usize) -> &str {
        &self.classes[self.roads[i].class as usize]
    }

    /// Converts user road ids to indices, saying which position holds an unknown id.
    pub fn indices_of(&self, ids: &[u64]) -> Result<Vec<usize>> {
        ids.iter()
            .enumerate()
            .map(|(k, &id)| {
                self.index.get(&id).map(|&i| i as usize).ok_or_else(|| RoadError::UnknownRoad {
                    id,
                    context: format!(" at position {k} of a road sequence (network `{}`)", self.name),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: u64, a: u64, b: u64, pa: LonLat, pb: LonLat) -> RoadSpec {
        let mut s = RoadSpec::new(id, vec![pa, pb]);
        s.start_node = Some(a);
        s.end_node = Some(b);
        s
    }

    #[test]
    fn junction_successors_and_uturns() {
        // Two-way street 1<->2 and a one-way 2->3; 3 is a dead end with a way back 3->2.
        let p1 = [0.0, 0.0];
        let p2 = [0.001, 0.0];
        let p3 = [0.002, 0.0];
        let specs = vec![spec(10, 1, 2, p1, p2), spec(11, 2, 1, p2, p1), spec(12, 2, 3, p2, p3), spec(13, 3, 2, p3, p2)];
        let net = RoadNetwork::from_junctions("t", specs, UTurns::OnlyIfDeadEnd).unwrap();
        let s = |id: u64| -> Vec<u64> { net.successors(net.index_of(id).unwrap()).iter().map(|&j| net.roads[j as usize].id).collect() };
        assert_eq!(s(10), vec![12]); // not the U-turn 11
        assert_eq!(s(12), vec![13]); // dead end: the U-turn is the only way
        assert_eq!(s(13), vec![11]); // 11 and 12 leave junction 2; 12 is 13's U-turn
        assert_eq!(s(11), vec![10]); // junction 1 is a dead end for 11
        assert!(net.index_of(99).is_err());
        assert!((net.roads[0].length_m - haversine_m(p1, p2)).abs() < 1e-9);
        assert!((net.roads[0].start_heading - 90.0).abs() < 1e-6);
        let und = net.undirected();
        assert_eq!(und[0], vec![1, 2]); // 10 follows 11 and is followed by 12
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(RoadNetwork::new("e", vec![], &[]).is_err());
        let one = RoadSpec::new(1, vec![[0.0, 0.0]]);
        assert!(RoadNetwork::new("e", vec![one], &[]).is_err());
        let nan = RoadSpec::new(1, vec![[0.0, 0.0], [f64::NAN, 1.0]]);
        assert!(RoadNetwork::new("e", vec![nan], &[]).is_err());
        let ok = RoadSpec::new(1, vec![[0.0, 0.0], [0.0, 0.001]]);
        let err = RoadNetwork::new("e", vec![ok], &[(1, 7)]).unwrap_err().to_string();
        assert!(err.contains("unknown road id 7"), "{err}");
    }
}
