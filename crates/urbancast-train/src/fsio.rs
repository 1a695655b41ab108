//! Writing files so that a reader never sees half of one (see [`urbancast_io`]).
pub use urbancast_io::{temp_path, with_temp, write_atomic, write_json_atomic};
