//! urbancast-data: cities, readers, synthetic generator, scaling and splits.
pub mod city;
pub mod error;
pub mod graph;
pub mod prep;
pub mod readers;
pub mod spec;
pub mod synthetic;
mod validate;

pub use city::{Channel, City, Layout};
pub use error::{DataError, Result};
