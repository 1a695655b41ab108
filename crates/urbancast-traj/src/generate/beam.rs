//! Batched beam search over many OD requests.
use urbancast_roads::RoadNetwork;

use super::{
    CandidateSource, Generated, NearestSuccessors, OdRequest, Query, StepScorer, Token, check_requests, check_scores, next_time, usable,
};

/// Settings of [`beam_search`].
#[derive(Debug, Clone)]
pub struct BeamConfig<C = NearestSuccessors> {
    /// Beams kept per request (1 = greedy decoding).
    pub width: usize,
    /// Most roads in a route, origin included; a beam that has this many roads without
    /// reaching the destination stops.
    pub max_len: usize,
    /// Most candidates per step, passed to the candidate source.
    pub cap: usize,
    /// Where candidates come from.
    pub candidates: C,
}

impl Default for BeamConfig {
    /// Width 4, at most 256 roads, at most 64 candidates, [`NearestSuccessors`].
    fn default() -> Self {
        BeamConfig { width: 4, max_len: 256, cap: 64, candidates: NearestSuccessors }
    }
}

impl<C> BeamConfig<C> {
    /// The same settings with another candidate source.
    pub fn with_candidates<D: CandidateSource>(self, candidates: D) -> BeamConfig<D> {
        BeamConfig { width: self.width, max_len: self.max_len, cap: self.cap, candidates }
    }
}

#[derive(Debug, Clone)]
struct Beam {
    roads: Vec<usize>,
    times: Vec<i64>,
    logp: f64,
}

impl Beam {
    fn last(&self) -> Token {
        Token { road: *self.roads.last().unwrap(), time: *self.times.last().unwrap() }
    }
    fn into_generated(self, reached: bool) -> Generated {
        Generated { roads: self.roads, times: self.times, reached, logp: self.logp }
    }
}

/// Search state of one request.
struct Req {
    dest: usize,
    /// Live beams with their row in the scorer's state, best first.
    live: Vec<(Beam, usize)>,
    best_finished: Option<Beam>,
    n_finished: usize,
    /// The beam (among all ever alive) whose last road is closest to the destination.
    closest: Option<(f64, Beam)>,
    done: bool,
}

impl Req {
    fn note_closest(&mut self, net: &RoadNetwork, beam: &Beam) {
        let d = net.centroid_distance_m(beam.last().road, self.dest);
        let better = match &self.closest {
            None => true,
            Some((bd, b)) => d < *bd || (d == *bd && beam.logp > b.logp),
        };
        if better {
            self.closest = Some((d, beam.clone()));
        }
    }
}

/// One possible continuation of a beam.
struct Expansion {
    logp: f64,
    road: usize,
    dt: f32,
    /// Index of the parent in the request's live list.
    beam: usize,
}

/// Beam search for many requests at once; returns one route per request, in order.
///
/// All live beams of all requests form the rows of one scorer state: each step makes one
/// [`StepScorer::score`] call for every beam that can move and one [`StepScorer::advance`]
/// call, so the number of scorer calls is the number of steps of the longest search, not the
/// number of requests. For very many requests, call it on chunks (`requests.chunks(n)`) to
/// bound the batch; results do not depend on how requests are grouped.
///
/// Per request and step: every live beam asks the candidate source for candidates; those
/// already on the beam's route are skipped (a beam never revisits a road; the remaining
/// log-probabilities are not renormalised, so `logp` stays the model's probability of the
/// route); of all expansions of the request's beams, the `width` with the highest cumulative
/// log-probability are kept (ties: lower road index, then better parent). An expansion that
/// enters the destination finishes; the others stay live. A request ends when `width` beams
/// have finished, when no beam is live, or when no live beam can beat the best finished one
/// (log-probabilities only decrease, so live beams whose log-probability is not above the best
/// finished one are dropped — this never changes the answer).
///
/// The answer is the finished beam with the highest *raw* (not length-normalised) cumulative
/// log-probability, the earliest finished on ties. When none finished, it is the route, among
/// all beams that were ever alive (the origin alone included), whose last road's centroid is
/// closest (haversine) to the destination's, the higher log-probability on ties, with
/// `reached = false`. A request whose origin is its destination returns the origin alone.
///
/// # Panics
/// When `width` or `max_len` is 0, a request names a road outside the network, or the scorer
/// answers with the wrong number of rows or scores.
pub fn beam_search<S, C>(net: &RoadNetwork, scorer: &S, requests: &[OdRequest], cfg: &BeamConfig<C>) -> Vec<Generated>
where
    S: StepScorer + ?Sized,
    C: CandidateSource,
{
    assert!(cfg.width >= 1, "beam width must be at least 1");
    assert!(cfg.max_len >= 1, "max_len must be at least 1");
    check_requests(net, requests);

    let mut out: Vec<Option<Generated>> = vec![None; requests.len()];
    let mut reqs: Vec<Req> = Vec::with_capacity(requests.len());
    let mut tokens = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let beam = Beam { roads: vec![r.origin], times: vec![r.start_time], logp: 0.0 };
        let mut req = Req { dest: r.dest, live: Vec::new(), best_finished: None, n_finished: 0, closest: None, done: false };
        if r.origin == r.dest {
            out[i] = Some(beam.into_generated(true));
            req.done = true;
        } else {
            req.note_closest(net, &beam);
            tokens.push(beam.last());
            req.live.push((beam, tokens.len() - 1));
        }
        reqs.push(req);
    }

    if !tokens.is_empty() {
        let mut state = scorer.begin(&tokens);
        // `mark[r] == stamp` while checking one beam: road r is on that beam's route.
        let mut mark = vec![0u32; net.len()];
        let mut stamp = 0u32;
        loop {
            // Candidates of every beam that can move, grouped by request in order.
            let mut owner: Vec<(usize, usize)> = Vec::new();
            let mut cand_lists: Vec<Vec<u32>> = Vec::new();
            let mut allowed: Vec<Vec<bool>> = Vec::new();
            for (ri, req) in reqs.iter().enumerate() {
                if req.done {
                    continue;
                }
                for (bi, (beam, _)) in req.live.iter().enumerate() {
                    if beam.roads.len() >= cfg.max_len {
                        continue;
                    }
                    let cands = cfg.candidates.candidates(net, beam.last().road, req.dest, cfg.cap);
                    if stamp == u32::MAX {
                        mark.fill(0);
                        stamp = 0;
                    }
                    stamp += 1;
                    for &r in &beam.roads {
                        mark[r] = stamp;
                    }
                    let ok: Vec<bool> = cands.iter().map(|&c| mark[c as usize] != stamp).collect();
                    if ok.iter().any(|&b| b) {
                        owner.push((ri, bi));
                        cand_lists.push(cands);
                        allowed.push(ok);
                    }
                }
            }
            if owner.is_empty() {
                break;
            }
            let queries: Vec<Query<'_>> = owner
                .iter()
                .zip(&cand_lists)
                .map(|(&(ri, bi), cands)| {
                    let (beam, row) = &reqs[ri].live[bi];
                    let last = beam.last();
                    Query { row: *row, current: last.road, dest: reqs[ri].dest, time: last.time, candidates: cands }
                })
                .collect();
            let scores = scorer.score(&state, &queries);
            check_scores(&scores, &queries);
            drop(queries);

            // Selection per request; new rows are numbered in request order, best beam first.
            let mut parents = Vec::new();
            let mut next_tokens = Vec::new();
            let mut q = 0;
            for (ri, req) in reqs.iter_mut().enumerate() {
                if req.done {
                    continue;
                }
                let mut exps: Vec<Expansion> = Vec::new();
                while q < owner.len() && owner[q].0 == ri {
                    let bi = owner[q].1;
                    let base = req.live[bi].0.logp;
                    for (k, (&c, &(lp, dt))) in cand_lists[q].iter().zip(&scores[q]).enumerate() {
                        if allowed[q][k] && usable(lp) {
                            exps.push(Expansion { logp: base + f64::from(lp), road: c as usize, dt, beam: bi });
                        }
                    }
                    q += 1;
                }
                exps.sort_by(|a, b| b.logp.total_cmp(&a.logp).then(a.road.cmp(&b.road)).then(a.beam.cmp(&b.beam)));
                exps.truncate(cfg.width);

                let old = std::mem::take(&mut req.live);
                let mut live = Vec::with_capacity(exps.len());
                for e in exps {
                    let (parent, parent_row) = &old[e.beam];
                    let time = next_time(parent.last().time, e.dt);
                    let mut beam = parent.clone();
                    beam.roads.push(e.road);
                    beam.times.push(time);
                    beam.logp = e.logp;
                    if e.road == req.dest {
                        req.n_finished += 1;
                        if req.best_finished.as_ref().is_none_or(|b| beam.logp > b.logp) {
                            req.best_finished = Some(beam);
                        }
                    } else {
                        req.note_closest(net, &beam);
                        live.push((beam, *parent_row));
                    }
                }
                if let Some(best) = &req.best_finished {
                    live.retain(|(b, _)| b.logp > best.logp);
                }
                if req.n_finished >= cfg.width || live.is_empty() {
                    req.done = true;
                    continue;
                }
                for (beam, parent_row) in live {
                    parents.push(parent_row);
                    next_tokens.push(beam.last());
                    req.live.push((beam, parents.len() - 1));
                }
            }
            if parents.is_empty() {
                break;
            }
            state = scorer.advance(state, &parents, &next_tokens);
        }
    }

    reqs.into_iter()
        .zip(out)
        .map(|(req, done)| {
            done.unwrap_or_else(|| match (req.best_finished, req.closest) {
                (Some(b), _) => b.into_generated(true),
                (None, Some((_, b))) => b.into_generated(false),
                (None, None) => unreachable!("every searched request has its origin as a prefix"),
            })
        })
        .collect()
}
