//! Helpers shared by the transfer test files.
use urbancast_data::City;
use urbancast_data::synthetic::{SyntheticConfig, generate, preset};

/// A synthetic preset shrunk to a 4x5 grid and 8 days.
pub fn tiny(name: &str, seed: u64) -> City {
    let mut cfg: SyntheticConfig = preset(name, seed).unwrap();
    cfg.height = 4;
    cfg.width = 5;
    cfg.days = 8;
    generate(&cfg).unwrap()
}
