//! Why a world file was refused, or why a sample history could not be run in a world.

/// The one error type of the materials world.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorldError {
    /// The file is not TOML of the expected shape; `key` is the dotted path where reading failed.
    #[error("{key}: {message}")]
    Parse { key: String, message: String },
    /// A value is out of range or refers to something the world lacks.
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
    /// A sample history the world cannot run (unknown precursor, bad profile, …).
    #[error("history {key}: {message}")]
    History { key: String, message: String },
}

impl WorldError {
    /// An invalid world value at `key`.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }

    /// A history the world cannot run.
    pub fn history(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::History {
            key: key.into(),
            message: message.into(),
        }
    }

    /// The dotted key the error names.
    pub fn key(&self) -> &str {
        match self {
            Self::Parse { key, .. } | Self::Invalid { key, .. } | Self::History { key, .. } => key,
        }
    }
}
