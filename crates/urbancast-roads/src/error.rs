//! Errors for road networks and trajectories. Every variant says *where* (file, row, key,
//! road id) so that a user can fix the input without reading our code.
use std::path::PathBuf;

/// Any failure of this crate: reading a file, a bad row or format, an unknown road, an
/// inconsistent network or an invalid setting.
#[derive(Debug, thiserror::Error)]
pub enum RoadError {
    /// A file or directory could not be opened or read.
    #[error("{path}: cannot open or read: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// One data row (or line) of a file is malformed.
    #[error("{path}: row {row}: {what}")]
    Row {
        /// The file concerned.
        path: PathBuf,
        /// 1-based data row (CSV: records after the header) or line number.
        row: usize,
        /// What is wrong with the row.
        what: String,
    },
    /// A file as a whole is malformed (missing header or column, empty, unrecognised).
    #[error("{path}: {what}")]
    Format {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// A road id that is not in the network.
    #[error("unknown road id {id}{context}")]
    UnknownRoad {
        /// The unknown road id.
        id: u64,
        /// Where it was met, appended verbatim to the message (e.g. `" in a successor relation (origin)"`).
        context: String,
    },
    /// The network cannot serve the request (inconsistent, too small, unreachable roads).
    #[error("network `{network}`: {what}")]
    Network {
        /// Name of the network.
        network: String,
        /// What is wrong.
        what: String,
    },
    /// An invalid argument or setting (out of range, inconsistent).
    #[error("{what}")]
    Invalid {
        /// The message, naming the offending key or argument.
        what: String,
    },
}

/// `Result` with a [`RoadError`].
pub type Result<T> = std::result::Result<T, RoadError>;

impl RoadError {
    /// [`RoadError::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RoadError::Io { path: path.into(), source }
    }
    /// [`RoadError::Row`]: row `row` (1-based) of `path`.
    pub fn row(path: impl Into<PathBuf>, row: usize, what: impl Into<String>) -> Self {
        RoadError::Row { path: path.into(), row, what: what.into() }
    }
    /// [`RoadError::Format`] on `path`.
    pub fn format(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        RoadError::Format { path: path.into(), what: what.into() }
    }
    /// [`RoadError::Network`] on the network named `network`.
    pub fn network(network: impl Into<String>, what: impl Into<String>) -> Self {
        RoadError::Network { network: network.into(), what: what.into() }
    }
    /// [`RoadError::Invalid`] with message `what`.
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
