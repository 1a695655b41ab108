//! Errors for everything that reads or checks city data. Every variant names *where* the
//! problem is (file, key, row) so a user can fix their input without reading our code.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot open: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: missing key `{key}` (keys present: {present})")]
    MissingKey { path: PathBuf, key: String, present: String },
    #[error("{path}: key `{key}`: expected {expected}, found shape {found:?}")]
    Shape { path: PathBuf, key: String, expected: String, found: Vec<usize> },
    #[error("{path}: key `{key}`: {what} at index {index:?}")]
    BadValue { path: PathBuf, key: String, what: String, index: Vec<usize> },
    #[error("{path}: row {row}: {what}")]
    Row { path: PathBuf, row: usize, what: String },
    #[error("{path}: {what}")]
    Format { path: PathBuf, what: String },
    #[error("city `{city}`: {what}")]
    City { city: String, what: String },
    #[error("spec `{spec}`: {what}")]
    Spec { spec: String, what: String },
    /// A setting out of range (see the `validate` methods); the message names the key.
    #[error(transparent)]
    Config(#[from] urbancast_check::ConfigError),
}

pub type Result<T> = std::result::Result<T, DataError>;

impl DataError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io { path: path.into(), source }
    }
    pub fn format(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        DataError::Format { path: path.into(), what: what.into() }
    }
    pub fn city(city: impl Into<String>, what: impl Into<String>) -> Self {
        DataError::City { city: city.into(), what: what.into() }
    }
}
