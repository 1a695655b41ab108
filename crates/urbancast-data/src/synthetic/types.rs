//! Region functional types, their POI profiles and their weekly pick-up / drop-off rhythms.

/// Number of region functional types (including [`RegionType::Water`]).
pub const NUM_TYPES: usize = 7;
/// Number of POI categories.
pub const NUM_POI: usize = 14;

/// Names of the functional types, indexed like [`RegionType`] and the columns of the
/// type-weight matrix returned by [`super::generate_with_types`].
pub const TYPE_NAMES: [&str; NUM_TYPES] = ["residential", "office", "commercial", "transit_hub", "leisure", "industrial", "water"];

/// Names of the POI categories, indexed like the columns of `City::poi`.
pub const POI_NAMES: [&str; NUM_POI] = [
    "residence",
    "office",
    "shopping",
    "restaurant",
    "hotel",
    "transport",
    "education",
    "healthcare",
    "entertainment",
    "sports",
    "park",
    "industry",
    "finance",
    "government",
];

/// A region functional type. `t as usize` is its column in the type-weight matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegionType {
    /// Homes: pick-ups peak in the morning, drop-offs in the evening.
    Residential = 0,
    /// Workplaces: drop-offs in the morning, pick-ups in the evening; quiet weekends.
    Office = 1,
    /// Shops and restaurants: afternoon and evening activity, busier at weekends.
    Commercial = 2,
    /// Stations and airports: the highest intensity, busy all day in both directions.
    TransitHub = 3,
    /// Nightlife and entertainment: evenings, much busier at weekends.
    Leisure = 4,
    /// Factories: low volume with three-shift peaks around 6, 14 and 22 h.
    Industrial = 5,
    /// Water / empty land: no flow and no POI at all (these regions are masked out).
    Water = 6,
}

impl RegionType {
    /// Every type, in index order (the same order as [`TYPE_NAMES`]).
    pub const ALL: [RegionType; NUM_TYPES] = [
        RegionType::Residential,
        RegionType::Office,
        RegionType::Commercial,
        RegionType::TransitHub,
        RegionType::Leisure,
        RegionType::Industrial,
        RegionType::Water,
    ];
    /// Column of this type in the type-weight matrix, `0..NUM_TYPES`.
    pub fn index(self) -> usize {
        self as usize
    }
    /// Snake-case name of the type, from [`TYPE_NAMES`].
    pub fn name(self) -> &'static str {
        TYPE_NAMES[self as usize]
    }
}

/// Index of the water type.
pub(crate) const WATER: usize = RegionType::Water as usize;
/// Index of the transit-hub type.
pub(crate) const HUB: usize = RegionType::TransitHub as usize;

/// Expected POI counts of a pure region of each type (rows: types, columns: [`POI_NAMES`]).
pub(crate) const POI_PROFILE: [[f32; NUM_POI]; NUM_TYPES] = [
    [30.0, 2.0, 4.0, 6.0, 1.0, 2.0, 5.0, 3.0, 1.0, 2.0, 3.0, 0.5, 1.0, 1.0],
    [3.0, 35.0, 5.0, 10.0, 3.0, 3.0, 1.0, 2.0, 2.0, 1.0, 1.0, 0.5, 12.0, 5.0],
    [5.0, 6.0, 30.0, 25.0, 5.0, 3.0, 1.0, 3.0, 6.0, 2.0, 1.0, 0.2, 5.0, 1.0],
    [2.0, 8.0, 12.0, 15.0, 10.0, 25.0, 1.0, 2.0, 3.0, 1.0, 1.0, 0.5, 3.0, 2.0],
    [4.0, 1.0, 6.0, 12.0, 6.0, 2.0, 1.0, 1.0, 18.0, 10.0, 12.0, 0.2, 0.5, 0.5],
    [3.0, 4.0, 1.0, 2.0, 0.5, 2.0, 1.0, 1.0, 0.2, 1.0, 1.0, 25.0, 0.5, 1.0],
    [0.0; NUM_POI],
];

/// Relative trip intensity of a pure region of each type (mean hourly rate per channel, in
/// units of the region's volume scale).
pub(crate) const INTENSITY: [f32; NUM_TYPES] = [1.0, 1.2, 1.5, 2.5, 0.9, 0.5, 0.0];

/// A Gaussian bump of activity centred at `hour` (0..24, circular) of width `w` hours.
type Bump = (f32, f32, f32); // (hour, amplitude, width)

/// One day shape: a small base rate plus bumps, separately for pick-ups and drop-offs.
struct DayShape {
    base: f32,
    pickup: &'static [Bump],
    dropoff: &'static [Bump],
}

/// The weekly rhythm of a type: weekday and weekend shapes and the weekend level relative to
/// weekdays (before normalisation).
struct Rhythm {
    weekday: DayShape,
    weekend: DayShape,
    weekend_level: f32,
}

const DAYTIME: Bump = (14.0, 0.35, 4.5);

const RHYTHMS: [Rhythm; NUM_TYPES - 1] = [
    // Residential: leave in the morning, come home in the evening; later and flatter weekends.
    Rhythm {
        weekday: DayShape {
            base: 0.06,
            pickup: &[(8.0, 1.6, 1.3), (18.5, 0.45, 2.0), DAYTIME],
            dropoff: &[(18.5, 1.5, 1.6), (8.0, 0.35, 1.5), (22.0, 0.35, 1.5), DAYTIME],
        },
        weekend: DayShape {
            base: 0.06,
            pickup: &[(11.0, 0.8, 2.5), (19.0, 0.3, 2.0), DAYTIME],
            dropoff: &[(19.0, 0.8, 2.5), (12.0, 0.3, 2.0), DAYTIME],
        },
        weekend_level: 0.85,
    },
    // Office: arrive in the morning, leave in the evening; quiet weekends.
    Rhythm {
        weekday: DayShape {
            base: 0.03,
            pickup: &[(18.0, 1.8, 1.3), (12.5, 0.4, 1.0), (15.0, 0.2, 3.0)],
            dropoff: &[(8.5, 1.8, 1.2), (13.5, 0.4, 1.0), (11.0, 0.2, 3.0)],
        },
        weekend: DayShape { base: 0.03, pickup: &[(16.0, 0.5, 3.0)], dropoff: &[(11.0, 0.5, 3.0)] },
        weekend_level: 0.25,
    },
    // Commercial: afternoon and evening, busier weekends.
    Rhythm {
        weekday: DayShape { base: 0.04, pickup: &[(13.5, 0.6, 2.0), (19.5, 1.0, 2.2)], dropoff: &[(11.5, 0.6, 2.0), (17.5, 1.0, 2.2)] },
        weekend: DayShape { base: 0.04, pickup: &[(14.0, 0.9, 2.5), (19.5, 0.9, 2.2)], dropoff: &[(12.0, 0.9, 2.5), (17.0, 0.8, 2.2)] },
        weekend_level: 1.35,
    },
    // Transit hub: busy all day with both commuting peaks in both directions.
    Rhythm {
        weekday: DayShape {
            base: 0.12,
            pickup: &[(8.0, 1.3, 1.4), (18.0, 1.4, 1.5), (13.0, 0.8, 5.0)],
            dropoff: &[(7.5, 1.4, 1.4), (17.5, 1.3, 1.5), (13.0, 0.8, 5.0)],
        },
        weekend: DayShape { base: 0.12, pickup: &[(14.0, 1.0, 4.5), (20.0, 0.4, 2.0)], dropoff: &[(12.0, 1.0, 4.5), (18.0, 0.4, 2.0)] },
        weekend_level: 0.8,
    },
    // Leisure: evenings, and much more at weekends.
    Rhythm {
        weekday: DayShape { base: 0.05, pickup: &[(22.0, 1.2, 2.0), (1.0, 0.4, 1.5)], dropoff: &[(19.5, 1.2, 2.0), (12.5, 0.3, 2.0)] },
        weekend: DayShape { base: 0.05, pickup: &[(17.0, 0.8, 2.5), (23.0, 1.2, 2.0)], dropoff: &[(13.0, 0.8, 2.5), (20.0, 1.2, 2.0)] },
        weekend_level: 1.6,
    },
    // Industrial: three shifts (6-14, 14-22, 22-6): arrivals before, departures after.
    Rhythm {
        weekday: DayShape {
            base: 0.05,
            pickup: &[(6.5, 0.8, 0.8), (14.5, 1.0, 0.8), (22.5, 0.6, 0.8)],
            dropoff: &[(5.5, 0.8, 0.8), (13.5, 1.0, 0.8), (21.5, 0.6, 0.8)],
        },
        weekend: DayShape { base: 0.05, pickup: &[(6.5, 0.5, 0.8), (14.5, 0.5, 0.8)], dropoff: &[(5.5, 0.5, 0.8), (13.5, 0.5, 0.8)] },
        weekend_level: 0.5,
    },
];

/// Value of a bump list at hour `h` (circular over 24 h).
fn day_value(base: f32, bumps: &[Bump], h: f32) -> f32 {
    base + bumps
        .iter()
        .map(|&(c, a, w)| {
            let d = (h - c).rem_euclid(24.0);
            let d = d.min(24.0 - d);
            a * (-d * d / (2.0 * w * w)).exp()
        })
        .sum::<f32>()
}

/// Hourly weekly profiles `[type][channel][hour of week]` (channel 0 = pick-up, 1 = drop-off;
/// hour 0 = Monday 00:00-01:00). Each channel of each type has weekly mean equal to the type's
/// [`INTENSITY`], so pick-ups and drop-offs balance over a week; water is all zero.
pub(crate) fn weekly_profiles() -> Vec<[[f32; 168]; 2]> {
    let mut out = vec![[[0.0f32; 168]; 2]; NUM_TYPES];
    for (k, rh) in RHYTHMS.iter().enumerate() {
        for (ch, p) in out[k].iter_mut().enumerate() {
            for (how, v) in p.iter_mut().enumerate() {
                let (day, h) = (how / 24, (how % 24) as f32 + 0.5);
                let (shape, level) = if day >= 5 { (&rh.weekend, rh.weekend_level) } else { (&rh.weekday, 1.0) };
                let bumps = if ch == 0 { shape.pickup } else { shape.dropoff };
                *v = level * day_value(shape.base, bumps, h);
            }
            let mean = p.iter().sum::<f32>() / 168.0;
            p.iter_mut().for_each(|v| *v *= INTENSITY[k] / mean);
        }
    }
    out
}

/// Mean of an hourly weekly profile over `[x0, x0 + len)` hours of week, linearly interpolating
/// between hour centres (sub-sampled every 15 minutes at most).
pub(crate) fn profile_mean(p: &[f32; 168], x0: f64, len: f64) -> f32 {
    let n = ((len * 4.0).ceil() as usize).max(1);
    let mut s = 0.0f64;
    for i in 0..n {
        let u = x0 + len * (i as f64 + 0.5) / n as f64 - 0.5;
        let j = u.floor();
        let f = u - j;
        let j0 = (j as i64).rem_euclid(168) as usize;
        s += (1.0 - f) * p[j0] as f64 + f * p[(j0 + 1) % 168] as f64;
    }
    (s / n as f64) as f32
}
