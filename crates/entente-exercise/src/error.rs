//! The crate's one error type, and the [`Diagnostic`]s that locate a problem in a scenario file.

use std::path::PathBuf;

use entente_types::ErrorCode;

pub use entente_types::diagnostic::Diagnostic;

/// Anything that can go wrong in loading, running or reviewing an exercise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The scenario has problems; every one is listed, one per line.
    #[error("invalid scenario:\n{}", list(.0))]
    Invalid(Vec<Diagnostic>),
    /// An input file named by the user (scenario, run record) that cannot be read.
    #[error("{}: {source}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file or socket that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file, or the socket address.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A run record that cannot be read back.
    #[error("{}: {message}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Tracking or fusion refused its input.
    #[error("air picture at t = {t:.1} s: {source}")]
    Picture {
        /// Simulation time, seconds.
        t: f64,
        /// The cause.
        #[source]
        source: entente_fusion::Error,
    },
    /// A chart could not be drawn.
    #[error("chart {}: {message}", path.display())]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A sensor's label that cannot be written as a marking or a STIX marking definition.
    #[error("label of sensor {sensor}: {message}")]
    Label {
        /// The sensor.
        sensor: String,
        /// What failed.
        message: String,
    },
    /// A publisher of national tracks or PDUs (a node, a socket) failed.
    #[error("publishing {what}: {message}")]
    Publish {
        /// What was being published.
        what: String,
        /// What failed.
        message: String,
    },
}

fn list(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// The transport-neutral class of the error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) | Error::Record { .. } | Error::Input { .. } => {
                ErrorCode::InvalidInput
            }
            _ => ErrorCode::Internal,
        }
    }

    /// The diagnostics of an invalid scenario (empty for other errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Invalid(d) => d,
            _ => &[],
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
