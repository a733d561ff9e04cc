//! The planner crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in planning or in loading a benchmark dataset.
#[derive(Debug, thiserror::Error)]
pub enum PlannerError {
    #[error("invalid search space: {0}")]
    Space(#[from] athanor_core::ValidationError),
    #[error("observation does not fit the search space: {0}")]
    Observation(String),
    #[error("the candidate pool is exhausted")]
    PoolExhausted,
    #[error("no candidate satisfies the safety limits: {0}")]
    Envelope(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

pub type Result<T, E = PlannerError> = std::result::Result<T, E>;
