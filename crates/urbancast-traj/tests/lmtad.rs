//! LM-TAD teacher: grid tokens, model properties, training, anomaly scores, checkpoints.
use std::sync::{Mutex, MutexGuard, OnceLock};

use burn::tensor::{Device, Int, Tensor, TensorData};
use urbancast_roads::{RoadNetwork, RoadSpec, Trajectory};
use urbancast_traj::lmtad::{
    CellGrid, LmTad, LmTadConfig, LmTadTrainConfig, LmTadTrainLog, Tokenizer, anomaly_scores, fit, load_lmtad, load_lmtad_dir,
    next_token_distribution, save_lmtad, save_lmtad_dir, token_nll,
};

/// Lattice of `COLS × ROWS` roads, one per 0.001° cell, plus an anchor road at the corner.
const COLS: usize = 6;
const ROWS: usize = 4;
const CELL: f64 = 0.001;
const LON0: f64 = 8.0;
const LAT0: f64 = 41.0;

/// The burn-flex RNG is process-global: seeded initialisation must not run concurrently.
fn rng_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn road(id: u64, lon: f64, lat: f64) -> RoadSpec {
    RoadSpec::new(id, vec![[lon - 0.0001, lat], [lon + 0.0001, lat]])
}

/// Road id of lattice cell `(row, col)`; the anchor road (id 1, index 0) sits at the corner.
fn rid(row: usize, col: usize) -> u64 {
    100 + (row * COLS + col) as u64
}

fn network() -> RoadNetwork {
    let mut specs = vec![road(1, LON0, LAT0)];
    for r in 0..ROWS {
        for c in 0..COLS {
            specs.push(road(rid(r, c), LON0 + (c as f64 + 0.5) * CELL, LAT0 + (r as f64 + 0.5) * CELL));
        }
    }
    RoadNetwork::new("lattice", specs, &[]).unwrap()
}

/// Token sequence of a path of `(row, col)` lattice cells.
fn seq(grid: &CellGrid, cells: &[(usize, usize)]) -> Vec<u32> {
    let mut v = vec![grid.sot()];
    v.extend(cells.iter().map(|&(r, c)| (r * COLS + c) as u32));
    v.push(grid.eot());
    v
}

fn tiny_cfg(grid: &CellGrid) -> LmTadConfig {
    LmTadConfig { n_layer: 2, n_head: 2, n_embd: 32, block_size: 16, dropout: 0.0, ..LmTadConfig::for_grid(grid) }
}

fn ints(v: Vec<Vec<u32>>, device: &Device) -> Tensor<2, Int> {
    let (b, t) = (v.len(), v[0].len());
    Tensor::from_data(TensorData::new(v.into_iter().flatten().map(|x| x as i64).collect(), [b, t]), device)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

const ROUTE_A: [(usize, usize); 6] = [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (0, 5)];
const ROUTE_B: [(usize, usize); 4] = [(0, 0), (1, 0), (2, 0), (3, 0)];
const ROUTE_C: [(usize, usize); 6] = [(3, 5), (3, 4), (3, 3), (3, 2), (3, 1), (3, 0)];
/// Route A with a detour through row 1 between columns 1 and 2.
const DETOUR_A: [(usize, usize); 8] = [(0, 0), (0, 1), (1, 1), (1, 2), (0, 2), (0, 3), (0, 4), (0, 5)];

/// A tiny model trained on repeated routes A, B, C (trained once, shared by the tests).
fn trained() -> &'static (LmTad, LmTadTrainLog, CellGrid) {
    static MODEL: OnceLock<(LmTad, LmTadTrainLog, CellGrid)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let grid = CellGrid::new(&network(), CELL).unwrap();
        let routes = [seq(&grid, &ROUTE_A), seq(&grid, &ROUTE_B), seq(&grid, &ROUTE_C)];
        let train: Vec<Vec<u32>> = (0..16).flat_map(|_| routes.clone()).collect();
        let cfg = LmTadTrainConfig { epochs: 10, batch: 8, lr: 1e-2, min_lr: 1e-3, seed: 7, ..Default::default() };
        let _g = rng_lock();
        let (model, log) = fit(&train, &routes, &tiny_cfg(&grid), &cfg, &Device::flex(), false).unwrap();
        (model, log, grid)
    })
}

#[test]
fn grid_cells_special_tokens_and_psi() {
    let net = network();
    let grid = CellGrid::new(&net, CELL).unwrap();
    assert_eq!((grid.cols, grid.rows), (COLS as u32, ROWS as u32));
    assert_eq!(grid.num_cells(), COLS * ROWS);
    assert_eq!(grid.vocab_size(), COLS * ROWS + 3);
    let special = [grid.pad(), grid.sot(), grid.eot()];
    assert!(special.iter().all(|&t| t as usize >= grid.num_cells() && (t as usize) < grid.vocab_size()));
    assert!(special[0] != special[1] && special[1] != special[2] && special[0] != special[2]);
    let tok = Tokenizer::new(grid.clone(), &net).unwrap();
    assert_eq!(tok.psi.len(), net.roads.len());
    assert_eq!(tok.psi[0], 0, "anchor road at the south-west corner");
    for r in 0..ROWS {
        for c in 0..COLS {
            let i = net.index_of(rid(r, c)).unwrap();
            assert_eq!(tok.psi[i], (r * COLS + c) as u32, "road at row {r}, col {c}");
            assert_eq!(grid.row_col(tok.psi[i]), Some((r as u32, c as u32)));
        }
    }
    // Points: inside, west of and north of the grid.
    assert_eq!(grid.cell_of(LON0 + 2.5 * CELL, LAT0 + 1.5 * CELL), Some((COLS + 2) as u32));
    assert_eq!(grid.cell_of(LON0 - 0.01, LAT0), None);
    assert_eq!(grid.cell_of(LON0, LAT0 + 1.0), None);
    assert_eq!(grid.cell_of(f64::NAN, LAT0), None);
    assert!(CellGrid::new(&net, 0.0).is_err());
}

#[test]
fn encode_wraps_cells_in_sot_eot() {
    let net = network();
    let tok = Tokenizer::from_network(&net, CELL).unwrap();
    let g = &tok.grid;
    let roads = [rid(0, 0), rid(0, 1), rid(1, 1), rid(1, 1), rid(3, 5)];
    let traj = Trajectory::new(None, None, roads.to_vec(), vec![0, 10, 20, 30, 40]).unwrap();
    let got = tok.encode_trajectory(&net, &traj).unwrap();
    // Consecutive duplicates (road (1,1) twice) are kept.
    assert_eq!(got, vec![g.sot(), 0, 1, 7, 7, 23, g.eot()]);
    let idx: Vec<usize> = roads.iter().map(|&r| net.index_of(r).unwrap()).collect();
    assert_eq!(tok.encode(&idx).unwrap(), got);
    assert!(tok.encode(&[]).is_err());
    assert!(tok.encode(&[net.len()]).is_err());
    let unknown = Trajectory::new(None, None, vec![99_999], vec![0]).unwrap();
    assert!(tok.encode_trajectory(&net, &unknown).is_err());
}

#[test]
fn logits_shape_causality_and_bad_input() {
    let grid = CellGrid::new(&network(), CELL).unwrap();
    let cfg = tiny_cfg(&grid);
    let d = Device::flex();
    let model = {
        let _g = rng_lock();
        cfg.init_seeded(&d, 1).unwrap()
    };
    let a = vec![grid.sot(), 0, 1, 2, 3, 9, 10, grid.eot()];
    let mut b = a.clone();
    b[5] = 17;
    let la = model.forward(ints(vec![a.clone()], &d)).unwrap();
    assert_eq!(la.dims(), [1, 8, grid.vocab_size()]);
    let lb = values(model.forward(ints(vec![b], &d)).unwrap());
    let la = values(la);
    let v = grid.vocab_size();
    assert!(max_diff(&la[..5 * v], &lb[..5 * v]) < 1e-6, "positions before the change moved");
    assert!(max_diff(&la[5 * v..], &lb[5 * v..]) > 1e-4, "positions from the change on did not move");
    // Probabilities sum to one.
    let p = values(next_token_distribution(&model, ints(vec![a.clone()], &d)).unwrap().sum_dim(2));
    assert!(p.iter().all(|s| (s - 1.0).abs() < 1e-4), "{p:?}");
    // Bad input: too long, token outside the vocabulary, empty sequence.
    assert!(model.forward(ints(vec![vec![0; 17]], &d)).is_err());
    assert!(next_token_distribution(&model, ints(vec![vec![0, v as u32]], &d)).is_err());
    assert!(anomaly_scores(&model, &[vec![grid.sot(), v as u32]], 4).is_err());
    assert!(anomaly_scores(&model, &[vec![]], 4).is_err());
    assert!(model.loss_of(&[vec![0; 18]], &d).is_err());
}

#[test]
fn pad_targets_are_ignored_by_the_loss() {
    let grid = CellGrid::new(&network(), CELL).unwrap();
    let d = Device::flex();
    let model = {
        let _g = rng_lock();
        tiny_cfg(&grid).init_seeded(&d, 2).unwrap()
    };
    let short = seq(&grid, &ROUTE_B);
    let long = seq(&grid, &DETOUR_A);
    let mut padded = short.clone();
    padded.resize(long.len() + 3, grid.pad());
    let loss = |s: &[Vec<u32>]| {
        let (l, n) = model.loss_of(s, &d).unwrap();
        (l.into_scalar::<f32>(), n)
    };
    let (ls, ns) = loss(std::slice::from_ref(&short));
    let (lp, np) = loss(&[padded]);
    assert_eq!(ns, short.len() - 1);
    assert_eq!(np, ns);
    assert!((ls - lp).abs() < 1e-5, "{ls} vs {lp}");
    // A batch (short row padded by token_tensor) = token-weighted mean of its rows.
    let (ll, nl) = loss(std::slice::from_ref(&long));
    let (lb, nb) = loss(&[short, long]);
    assert_eq!(nb, ns + nl);
    let want = (ls * ns as f32 + ll * nl as f32) / nb as f32;
    assert!((lb - want).abs() < 1e-5, "{lb} vs {want}");
}

#[test]
fn seeded_init_is_reproducible() {
    let grid = CellGrid::new(&network(), CELL).unwrap();
    let cfg = tiny_cfg(&grid);
    let d = Device::flex();
    let x = || ints(vec![seq(&grid, &ROUTE_A)], &d);
    let run = |seed| {
        let _g = rng_lock();
        values(cfg.init_seeded(&d, seed).unwrap().forward(x()).unwrap())
    };
    let (a, b, c) = (run(5), run(5), run(6));
    assert_eq!(a, b);
    assert!(max_diff(&a, &c) > 1e-4);
}

#[test]
fn training_reduces_the_loss() {
    let (_, log, _) = trained();
    let s = &log.step_losses;
    assert_eq!(s.len(), 60);
    assert_eq!(log.steps, 60);
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let (first, last) = (mean(&s[..3]), mean(&s[s.len() - 3..]));
    eprintln!("step losses {s:?}; val {:?}", log.epochs.iter().map(|e| e.val_loss).collect::<Vec<_>>());
    assert!(last < 0.5 * first, "loss {first} → {last}");
    assert_eq!(log.epochs.len(), 10);
    assert!(log.best_val_loss.is_finite() && log.best_epoch >= 1);
    assert!(fit(&[], &[vec![0, 1]], &tiny_cfg(&trained().2), &LmTadTrainConfig::default(), &Device::flex(), false).is_err());
}

#[test]
fn detour_scores_higher_than_its_route() {
    let (model, _, grid) = trained();
    let normal = seq(grid, &ROUTE_A);
    let detour = seq(grid, &DETOUR_A);
    let s = anomaly_scores(model, &[normal.clone(), detour.clone()], 2).unwrap();
    eprintln!("scores: normal {} detour {}", s[0], s[1]);
    assert!(s[1] > s[0] + 1.0, "normal {} detour {}", s[0], s[1]);
    // Batching does not change the scores.
    let one = anomaly_scores(model, std::slice::from_ref(&detour), 1).unwrap();
    assert!((one[0] - s[1]).abs() < 1e-4);
    // Sequences longer than block_size + 1 are scored with sliding windows: every token once.
    let long: Vec<u32> = std::iter::once(grid.sot()).chain((0..40).map(|k| (k % 24) as u32)).chain([grid.eot()]).collect();
    let nll = token_nll(model, &[long.clone(), normal], 3).unwrap();
    assert_eq!(nll[0].len(), long.len() - 1);
    assert!(nll[0].iter().all(|x| x.is_finite() && *x >= 0.0));
    // Window 1 = one pass over the first 17 tokens; window 2 starts at token 8 (stride 8)
    // and scores tokens 17..25.
    let first = token_nll(model, &[long[..17].to_vec()], 1).unwrap();
    assert!(max_diff(&first[0], &nll[0][..16]) < 1e-5);
    let second = token_nll(model, &[long[8..25].to_vec()], 1).unwrap();
    assert!(max_diff(&second[0][8..16], &nll[0][16..24]) < 1e-5);
}

#[test]
fn dropout_training_is_deterministic_and_autodiff_models_score() {
    let grid = CellGrid::new(&network(), CELL).unwrap();
    let train: Vec<Vec<u32>> = (0..8).flat_map(|_| [seq(&grid, &ROUTE_A), seq(&grid, &DETOUR_A)]).collect();
    let mcfg = LmTadConfig { dropout: 0.1, ..tiny_cfg(&grid) };
    let cfg = LmTadTrainConfig { epochs: 2, batch: 4, max_batches_per_epoch: Some(2), seed: 3, ..Default::default() };
    let run = |m: &LmTadConfig| {
        let _g = rng_lock();
        fit(&train, &train[..2], m, &cfg, &Device::flex(), false).unwrap().1
    };
    let (a, b) = (run(&mcfg), run(&mcfg));
    assert_eq!(a.step_losses, b.step_losses);
    let no_dropout = run(&tiny_cfg(&grid));
    assert!(max_diff(&a.step_losses, &no_dropout.step_losses) > 1e-4, "dropout had no effect");
    assert_eq!((a.steps, a.planned_steps), (4, 4));
    // A model on an autodiff device scores like its plain copy (no dropout at inference).
    let ad = Device::flex().autodiff();
    let m = {
        let _g = rng_lock();
        mcfg.init_seeded(&ad, 4).unwrap()
    };
    let plain = burn::module::Module::valid(&m);
    let (x, y) = (anomaly_scores(&m, &train[..2], 2).unwrap(), anomaly_scores(&plain, &train[..2], 2).unwrap());
    assert!((x[0] - y[0]).abs() < 1e-6 && (x[1] - y[1]).abs() < 1e-6);
}

#[test]
fn save_load_roundtrip() {
    let (model, _, grid) = trained();
    let d = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let x = || ints(vec![seq(grid, &DETOUR_A)], &d);
    let want = values(model.forward(x()).unwrap());
    let p = dir.path().join("m.bpk");
    save_lmtad(model, &p).unwrap();
    let back = load_lmtad(&p, &d).unwrap();
    assert_eq!(back.config(), model.config());
    assert_eq!(values(back.forward(x()).unwrap()), want);
    save_lmtad_dir(dir.path().join("bundle"), model, grid).unwrap();
    let (back, g) = load_lmtad_dir(dir.path().join("bundle"), &d).unwrap();
    assert_eq!(&g, grid);
    assert_eq!(values(back.forward(x()).unwrap()), want);
    assert!(load_lmtad(dir.path().join("missing.bpk"), &d).is_err());
}
