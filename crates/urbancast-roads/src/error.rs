//! Errors for road networks and trajectories. Every variant says *where* (file, row, key,
//! road id) so that a user can fix the input without reading our code.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RoadError {
    #[error("{path}: cannot open or read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: row {row}: {what}")]
    Row { path: PathBuf, row: usize, what: String },
    #[error("{path}: {what}")]
    Format { path: PathBuf, what: String },
    #[error("unknown road id {id}{context}")]
    UnknownRoad { id: u64, context: String },
    #[error("network `{network}`: {what}")]
    Network { network: String, what: String },
    #[error("{what}")]
    Invalid { what: String },
}

pub type Result<T> = std::result::Result<T, RoadError>;

impl RoadError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RoadError::Io { path: path.into(), source }
    }
    pub fn row(path: impl Into<PathBuf>, row: usize, what: impl Into<String>) -> Self {
        RoadError::Row { path: path.into(), row, what: what.into() }
    }
    pub fn format(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        RoadError::Format { path: path.into(), what: what.into() }
    }
    pub fn network(network: impl Into<String>, what: impl Into<String>) -> Self {
        RoadError::Network { network: network.into(), what: what.into() }
    }
    pub fn invalid(what: impl Into<String>) -> Self {
        RoadError::Invalid { what: what.into() }
    }
}

/// A setting out of range (the `validate` methods) is [`RoadError::Invalid`] with its message.
impl From<urbancast_check::ConfigError> for RoadError {
    fn from(e: urbancast_check::ConfigError) -> Self {
        RoadError::Invalid { what: e.0 }
    }
}
