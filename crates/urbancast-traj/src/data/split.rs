//! Seeded train/validation/test split and a length-bucketing batch sampler.
use anyhow::{Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::sample::Sample;

/// Samples split into `(train, val, test)` after a seeded shuffle: `round(n·val_frac)`
/// validation and `round(n·test_frac)` test samples, the rest for training; within each part
/// the samples keep their input order. Pieces of one split trajectory may land in different
/// parts.
pub fn split(samples: Vec<Sample>, val_frac: f64, test_frac: f64, seed: u64) -> Result<(Vec<Sample>, Vec<Sample>, Vec<Sample>)> {
    if !(0.0..1.0).contains(&val_frac) || !(0.0..1.0).contains(&test_frac) || val_frac + test_frac >= 1.0 {
        bail!("split fractions val {val_frac}, test {test_frac}: each must be in [0, 1) and their sum below 1");
    }
    let n = samples.len();
    let n_val = (n as f64 * val_frac).round() as usize;
    let n_test = ((n as f64 * test_frac).round() as usize).min(n - n_val);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    // part[i]: 0 train, 1 val, 2 test
    let mut part = vec![0u8; n];
    for &i in &order[..n_val] {
        part[i] = 1;
    }
    for &i in &order[n_val..n_val + n_test] {
        part[i] = 2;
    }
    let (mut tr, mut va, mut te) = (Vec::new(), Vec::new(), Vec::new());
    for (s, p) in samples.into_iter().zip(part) {
        match p {
            1 => va.push(s),
            2 => te.push(s),
            _ => tr.push(s),
        }
    }
    Ok((tr, va, te))
}

/// Batches per bucket: the sampler sorts by length within groups of this many batches.
pub const BUCKET_BATCHES: usize = 32;

/// Yields batches of sample indices.
///
/// Each epoch: the indices are shuffled (seeded by `seed` and the epoch), cut into buckets
/// of `BUCKET_BATCHES · batch_size`, each bucket is sorted by length (stable, so ties keep
/// the shuffled order) and cut into batches, and the order of all batches is shuffled. Batches
/// thus hold trajectories of similar length (little padding) while every epoch sees
/// different batches in a different order. The same `(seed, epoch)` always gives the same
/// batches.
#[derive(Debug, Clone)]
pub struct Batcher {
    lengths: Vec<usize>,
    /// Samples per batch (positive; the last batch of each bucket may hold fewer).
    pub batch_size: usize,
    /// Seeds the shuffles (combined with the epoch number).
    pub seed: u64,
}

impl Batcher {
    /// `lengths[i]`: the length (e.g. steps) of sample `i`.
    pub fn new(lengths: Vec<usize>, batch_size: usize, seed: u64) -> Self {
        assert!(batch_size > 0, "batch size must be positive");
        Batcher { lengths, batch_size, seed }
    }
    /// A batcher over `samples`, each sample's length being its prediction steps.
    pub fn from_samples(samples: &[Sample], batch_size: usize, seed: u64) -> Self {
        Self::new(samples.iter().map(Sample::steps).collect(), batch_size, seed)
    }
    /// Number of samples batched.
    pub fn num_samples(&self) -> usize {
        self.lengths.len()
    }
    /// Batches per epoch (every bucket's last batch may be smaller).
    pub fn num_batches(&self) -> usize {
        let n = self.lengths.len();
        let bucket = BUCKET_BATCHES * self.batch_size;
        (n / bucket) * BUCKET_BATCHES + (n % bucket).div_ceil(self.batch_size)
    }

    /// The shuffled, length-bucketed batches of `epoch`.
    pub fn epoch(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut rng = StdRng::seed_from_u64(self.seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut order: Vec<usize> = (0..self.lengths.len()).collect();
        order.shuffle(&mut rng);
        let mut batches = Vec::with_capacity(self.num_batches());
        for bucket in order.chunks_mut(BUCKET_BATCHES * self.batch_size) {
            bucket.sort_by_key(|&i| self.lengths[i]);
            batches.extend(bucket.chunks(self.batch_size).map(<[usize]>::to_vec));
        }
        batches.shuffle(&mut rng);
        batches
    }

    /// Unshuffled batches for evaluation: indices sorted by length (ties by index) and cut
    /// into batches, shortest first.
    pub fn sequential(&self) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.lengths.len()).collect();
        order.sort_by_key(|&i| (self.lengths[i], i));
        order.chunks(self.batch_size).map(<[usize]>::to_vec).collect()
    }
}
