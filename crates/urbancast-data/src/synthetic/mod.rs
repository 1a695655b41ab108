//! Seeded synthetic multi-city generator: urbancast's default data.
//!
//! A city is a `height x width` grid of regions. Every region is a smooth mixture of
//! functional types ([`RegionType`]: residential, office, commercial, transit hub, leisure,
//! industrial; water regions carry no flow and are masked out). Each type has a POI profile
//! over [`NUM_POI`] categories and a weekly pick-up / drop-off rhythm; a region's expected flow
//! is its heavy-tailed volume scale times the mixture-weighted rhythms, perturbed by a
//! city-wide daily factor and per-step Gamma noise, then drawn as Poisson counts.
//!
//! Everything is driven by explicit seeded RNGs: the same [`SyntheticConfig`] always gives a
//! bit-identical [`City`].
mod crosstres;
mod spatial;
mod types;

use ndarray::{Array2, Array3};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Gamma, Poisson, StandardNormal};

use crate::city::{Channel, City, Layout};
use crate::error::{DataError, Result};

pub use crosstres::write_crosstres;
pub use types::{NUM_POI, NUM_TYPES, POI_NAMES, RegionType, TYPE_NAMES};

/// Configuration of one synthetic city. Missing fields take their [`Default`] values when
/// deserialised.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SyntheticConfig {
    /// City name (also used for file names by [`write_crosstres`]).
    pub name: String,
    /// Grid rows.
    pub height: usize,
    /// Grid columns.
    pub width: usize,
    /// Length of the series in days.
    pub days: usize,
    /// Minutes per step; must divide 1440.
    pub interval_min: u32,
    /// Proportions of the functional types, indexed like [`TYPE_NAMES`] (normalised
    /// internally). The water entry is the fraction of regions that are water.
    pub type_mix: [f32; NUM_TYPES],
    /// Median mean hourly trips per channel of a region of intensity 1.
    pub volume_scale: f32,
    /// Coefficient of variation of the per-step multiplicative Gamma noise (0 = Poisson only).
    pub noise: f32,
    /// Log-volume boost of a pure transit-hub region: volume x `exp(hub_extremeness * w_hub)`.
    pub hub_extremeness: f32,
    /// Standard deviation of the (spatially smooth) log-normal per-region volume scale.
    pub scale_sigma: f32,
    /// RNG seed; combined with `name`, so equal seeds give different cities for different names.
    pub seed: u64,
    /// Hour of week (0 = Monday 00:00) of the first step.
    pub start_hour_of_week: u32,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            name: "synthetic".into(),
            height: 10,
            width: 10,
            days: 28,
            interval_min: 60,
            type_mix: [0.35, 0.15, 0.15, 0.05, 0.12, 0.10, 0.08],
            volume_scale: 10.0,
            noise: 0.2,
            hub_extremeness: 2.0,
            scale_sigma: 0.6,
            seed: 0,
            start_hour_of_week: 0,
        }
    }
}

const PRESETS: [&str; 3] = ["metro", "suburb", "coastal"];

/// Names accepted by [`preset`].
pub fn preset_names() -> &'static [&'static str] {
    &PRESETS
}

/// A named preset city (35 days, hourly, starting Monday 00:00; override fields as needed):
///
/// - `"metro"`: 12x14, office- and hub-heavy, extreme hubs, high volume;
/// - `"suburb"`: 10x12, mostly residential, mild hubs, low volume;
/// - `"coastal"`: 11x13, leisure and commercial, ~15% water regions, medium volume.
pub fn preset(name: &str, seed: u64) -> Option<SyntheticConfig> {
    let base = SyntheticConfig { name: name.to_string(), days: 35, seed, ..Default::default() };
    Some(match name {
        "metro" => SyntheticConfig {
            height: 12,
            width: 14,
            type_mix: [0.22, 0.26, 0.20, 0.10, 0.10, 0.12, 0.0],
            volume_scale: 30.0,
            noise: 0.15,
            hub_extremeness: 4.0,
            scale_sigma: 0.8,
            ..base
        },
        "suburb" => SyntheticConfig {
            height: 10,
            width: 12,
            type_mix: [0.66, 0.05, 0.12, 0.02, 0.08, 0.07, 0.0],
            volume_scale: 5.0,
            noise: 0.2,
            hub_extremeness: 0.8,
            scale_sigma: 0.45,
            ..base
        },
        "coastal" => SyntheticConfig {
            height: 11,
            width: 13,
            type_mix: [0.24, 0.07, 0.22, 0.04, 0.24, 0.04, 0.15],
            volume_scale: 12.0,
            noise: 0.2,
            hub_extremeness: 1.5,
            scale_sigma: 0.6,
            ..base
        },
        _ => return None,
    })
}

/// Most values (`T * R * 2`) a generated city may hold.
const MAX_VALUES: usize = 1 << 28;

impl SyntheticConfig {
    /// Checks the configuration; every problem is a [`DataError::Spec`] naming the city and the
    /// key: `height`, `width`, `days ≥ 1`, `interval_min` a divisor of 1440, at most
    /// 2^28 flow values, `type_mix` entries finite and `≥ 0` with some land, `volume_scale`,
    /// `noise`, `hub_extremeness`, `scale_sigma` in their ranges, `start_hour_of_week < 168`.
    pub fn validate(&self) -> Result<()> {
        self.check().map_err(|e| {
            let spec = if self.name.is_empty() { "<unnamed synthetic city>" } else { &self.name };
            DataError::Spec { spec: spec.to_string(), what: e.to_string() }
        })
    }

    fn check(&self) -> urbancast_check::Result {
        let c = urbancast_check::Checker::new("");
        c.ensure(!self.name.trim().is_empty(), "name", "must not be empty")?;
        c.at_least("height", self.height, 1)?;
        c.at_least("width", self.width, 1)?;
        c.at_least("days", self.days, 1)?;
        let iv = self.interval_min;
        c.ensure(iv > 0 && 1440 % iv == 0, "interval_min", format!("must divide a day of 1440 minutes (got {iv})"))?;
        let steps = self.days.saturating_mul(1440 / iv as usize);
        let values = steps.saturating_mul(self.height.saturating_mul(self.width)).saturating_mul(2);
        c.ensure(
            values <= MAX_VALUES,
            "days",
            format!("x height x width x steps per day x 2 channels = {values} flow values is too large (at most {MAX_VALUES})"),
        )?;
        for (k, &v) in self.type_mix.iter().enumerate() {
            c.non_negative(&format!("type_mix[{k}] ({})", TYPE_NAMES[k]), v)?;
        }
        let land: f32 = (0..NUM_TYPES).filter(|&k| k != types::WATER).map(|k| self.type_mix[k]).sum();
        c.ensure(land > 0.0, "type_mix", "must give some land type a positive proportion")?;
        c.in_range("volume_scale", self.volume_scale, 1e-6..=1e7)?;
        c.in_range("noise", self.noise, 0.0..=5.0)?;
        c.in_range("hub_extremeness", self.hub_extremeness, 0.0..=20.0)?;
        c.in_range("scale_sigma", self.scale_sigma, 0.0..=5.0)?;
        c.in_range("start_hour_of_week", self.start_hour_of_week, 0..168)?;
        Ok(())
    }

    /// A deterministic RNG for one generation stage, derived from the seed and the name.
    fn rng(&self, stage: u64) -> StdRng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a of the name
        for b in self.name.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        StdRng::seed_from_u64(splitmix(self.seed ^ splitmix(h ^ stage.wrapping_mul(0x9e37_79b9_7f4a_7c15))))
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Generates the city described by `cfg`: channels `[Pickup, Dropoff]`, a grid layout, POI
/// counts `[R, NUM_POI]` and the start hour of week.
pub fn generate(cfg: &SyntheticConfig) -> Result<City> {
    generate_with_types(cfg).map(|(city, _)| city)
}

/// Like [`generate`], also returning the ground-truth type weights `[R, NUM_TYPES]` (rows sum
/// to 1, columns as in [`TYPE_NAMES`]; water regions are one-hot water).
pub fn generate_with_types(cfg: &SyntheticConfig) -> Result<(City, Array2<f32>)> {
    cfg.validate()?;
    let (h, w) = (cfg.height, cfg.width);
    let r = h * w;
    let total: f32 = cfg.type_mix.iter().sum();
    let mix: [f32; NUM_TYPES] = std::array::from_fn(|k| cfg.type_mix[k] / total);

    let weights = spatial::type_weights(&mix, h, w, &mut cfg.rng(1));
    let scales = spatial::volume_scales(&weights, h, w, cfg.volume_scale, cfg.scale_sigma, cfg.hub_extremeness, &mut cfg.rng(2));
    let poi = draw_poi(&weights, &scales, cfg.volume_scale, &mut cfg.rng(3));
    let flow = draw_flow(cfg, &weights, &scales, &mut cfg.rng(4))?;

    let city =
        City::new(cfg.name.clone(), cfg.interval_min, flow, vec![Channel::Pickup, Channel::Dropoff], Layout::Grid { height: h, width: w })?
            .with_poi(poi)?
            .with_start_hour_of_week(cfg.start_hour_of_week);
    debug_assert_eq!(city.num_regions(), r);
    Ok((city, weights))
}

/// POI counts: Poisson draws around the mixture of type profiles, scaled mildly with the
/// region's volume and jittered by a Gamma factor.
fn draw_poi(weights: &Array2<f32>, scales: &[f32], volume_scale: f32, rng: &mut StdRng) -> Array2<f32> {
    let r = weights.nrows();
    let jitter = Gamma::new(5.0f64, 0.2).expect("valid Gamma parameters");
    Array2::from_shape_fn((r, NUM_POI), |(i, j)| {
        let size = ((scales[i] / volume_scale) as f64).powf(0.4).clamp(0.3, 4.0);
        let mean: f64 = (0..NUM_TYPES).map(|k| (weights[[i, k]] * types::POI_PROFILE[k][j]) as f64).sum();
        count(mean * size * jitter.sample(rng), rng) as f32
    })
}

/// Flow counts `[T, R, 2]`.
fn draw_flow(cfg: &SyntheticConfig, weights: &Array2<f32>, scales: &[f32], rng: &mut StdRng) -> Result<Array3<f32>> {
    let r = weights.nrows();
    let iv = cfg.interval_min as usize;
    let t_len = cfg.days * 1440 / iv;
    let profiles = types::weekly_profiles();
    let step_h = iv as f64 / 60.0;

    // Expected trips per step for each region and channel, before noise, at step t.
    let rates = |t: usize, out: &mut [[f32; 2]]| {
        let x0 = cfg.start_hour_of_week as f64 + t as f64 * step_h;
        let per_type: Vec<[f32; 2]> =
            (0..NUM_TYPES).map(|k| std::array::from_fn(|c| types::profile_mean(&profiles[k][c], x0, step_h) * step_h as f32)).collect();
        for (i, o) in out.iter_mut().enumerate() {
            *o = std::array::from_fn(|c| scales[i] * (0..NUM_TYPES).map(|k| weights[[i, k]] * per_type[k][c]).sum::<f32>());
        }
    };

    let day_sd = (cfg.noise * 0.5) as f64;
    let n_days = (cfg.start_hour_of_week as usize * 60 + t_len * iv) / 1440 + 1;
    let day_factor: Vec<f64> = (0..n_days).map(|_| (day_sd * rng.sample::<f64, _>(StandardNormal) - day_sd * day_sd / 2.0).exp()).collect();
    let gamma = if cfg.noise > 0.0 {
        let k = 1.0 / (cfg.noise as f64).powi(2);
        Some(Gamma::new(k, 1.0 / k).map_err(|e| DataError::Spec { spec: cfg.name.clone(), what: format!("noise: {e}") })?)
    } else {
        None
    };

    let mut flow = Array3::<f32>::zeros((t_len, r, 2));
    let mut lam = vec![[0.0f32; 2]; r];
    for t in 0..t_len {
        rates(t, &mut lam);
        let day = (cfg.start_hour_of_week as usize * 60 + t * iv) / 1440;
        for i in 0..r {
            for c in 0..2 {
                let mut l = lam[i][c] as f64 * day_factor[day];
                if let Some(g) = &gamma {
                    l *= g.sample(rng);
                }
                flow[[t, i, c]] = count(l, rng) as f32;
            }
        }
    }
    Ok(flow)
}

/// A Poisson count with mean `lam` (0 for non-positive or non-finite means; a rounded normal
/// approximation for huge means).
fn count(lam: f64, rng: &mut StdRng) -> f64 {
    if !(lam > 0.0 && lam.is_finite()) {
        return 0.0;
    }
    if lam < 1e6
        && let Ok(p) = Poisson::new(lam)
    {
        return p.sample(rng);
    }
    (lam + lam.sqrt() * rng.sample::<f64, _>(StandardNormal)).round().max(0.0)
}
