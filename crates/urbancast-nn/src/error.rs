//! Error type of this crate.

/// Errors from model construction, forward-pass input checks and checkpoint I/O.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// The input tensor or the `Space` does not fit the model.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A `Space::Grid` was given to a graph model or vice versa.
    #[error("space mismatch: model is {model:?} but a {given} space was given")]
    SpaceKind {
        /// Kind the model was built for.
        model: crate::SpatialKind,
        /// Kind of the space that was passed.
        given: &'static str,
    },
    /// Checkpoint file problems (missing, unreadable, corrupt).
    #[error("checkpoint {path}: {msg}")]
    Checkpoint {
        /// File involved.
        path: String,
        /// What went wrong.
        msg: String,
    },
    /// An unknown or unavailable compute device (see [`crate::device::by_name`]).
    #[error("{0}")]
    Device(String),
    /// The checkpoint holds a model with a different configuration.
    #[error("checkpoint {path} holds a different model: {msg}")]
    ConfigMismatch {
        /// File involved.
        path: String,
        /// Which part differs.
        msg: String,
    },
}

/// Result alias.
pub type Result<T, E = NnError> = std::result::Result<T, E>;
