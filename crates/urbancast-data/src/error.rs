//! Errors for everything that reads or checks city data. Every variant names *where* the
//! problem is (file, key, row) so a user can fix their input without reading our code.
use std::path::PathBuf;

/// Any failure while reading, building or checking city data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be opened or read.
    #[error("{path}: cannot open: {source}")]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An archive (e.g. `.npz`) lacks a required array.
    #[error("{path}: missing key `{key}` (keys present: {present})")]
    MissingKey {
        /// The archive file.
        path: PathBuf,
        /// The array name that was looked for.
        key: String,
        /// Comma-separated names of the arrays that are present.
        present: String,
    },
    /// An array has the wrong number of axes or wrong sizes.
    #[error("{path}: key `{key}`: expected {expected}, found shape {found:?}")]
    Shape {
        /// The file holding the array.
        path: PathBuf,
        /// The array name within the file.
        key: String,
        /// Description of the expected shape, e.g. `[T, H, W, 2]`.
        expected: String,
        /// The shape actually found.
        found: Vec<usize>,
    },
    /// An array holds an invalid value (non-finite, negative...).
    #[error("{path}: key `{key}`: {what} at index {index:?}")]
    BadValue {
        /// The file holding the array.
        path: PathBuf,
        /// The array name within the file.
        key: String,
        /// What is wrong with the value.
        what: String,
        /// Multi-dimensional index of the first offending element.
        index: Vec<usize>,
    },
    /// A line of a text (CSV) file is malformed.
    #[error("{path}: row {row}: {what}")]
    Row {
        /// The text file.
        path: PathBuf,
        /// 1-based line number in the file.
        row: usize,
        /// What is wrong with the line.
        what: String,
    },
    /// A file is malformed in a way not tied to one key or row.
    #[error("{path}: {what}")]
    Format {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// A city's contents are inconsistent (shapes, values, mask...).
    #[error("city `{city}`: {what}")]
    City {
        /// The city's name.
        city: String,
        /// What is wrong with it.
        what: String,
    },
    /// A dataset spec, mode or configuration value is invalid.
    #[error("spec `{spec}`: {what}")]
    Spec {
        /// The offending spec string or config name.
        spec: String,
        /// What is wrong with it.
        what: String,
    },
    /// A setting out of range (see the `validate` methods); the message names the key.
    #[error(transparent)]
    Config(#[from] urbancast_check::ConfigError),
}

/// Result type of this crate, with [`DataError`] as the error.
pub type Result<T> = std::result::Result<T, DataError>;

impl DataError {
    /// Builds a [`DataError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io { path: path.into(), source }
    }
    /// Builds a [`DataError::Format`] for `path` with the message `what`.
    pub fn format(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        DataError::Format { path: path.into(), what: what.into() }
    }
    /// Builds a [`DataError::City`] for the city named `city` with the message `what`.
    pub fn city(city: impl Into<String>, what: impl Into<String>) -> Self {
        DataError::City { city: city.into(), what: what.into() }
    }
}
