//! Readers for the field's common city-flow formats. Every reader returns a checked [`City`]
//! (see [`City::new`]) or a [`DataError`] naming the file, key or row and the problem; none
//! unpickles anything or panics on bad input.
//!
//! [`City`]: crate::City
//! [`City::new`]: crate::City::new
//! [`DataError`]: crate::DataError
mod adjacency;
mod common;
mod crosstres;
mod metast;
mod npy;
mod nyc69;
mod plain;
mod stdn;
mod stssl;

pub use adjacency::read_adjacency_csv;
pub use crosstres::read_crosstres;
pub use metast::read_metast;
pub use npy::{check_shape, in_file, npz_keys, read_npy_array, read_npz_array};
pub use nyc69::{NYC69_START_HOUR_OF_WEEK, read_nyc69, read_nyc69_interval};
pub use plain::read_plain;
pub use stdn::read_stdn;
pub use stssl::{read_stssl, read_stssl_auto, stssl_known_grid};
