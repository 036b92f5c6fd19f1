//! The errors of the demonstration: the libraries' own errors kept whole (so that the binary can
//! still choose its exit code from them), a context saying what was being done, bad options, and
//! plain messages for checks that failed.

use std::error::Error as StdError;

use entente_types::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// An option that cannot be used as given (the binary's exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A check of the demonstration that failed, or an input it cannot use.
    #[error("{0}")]
    Message(String),
    /// What was being done when `source` failed.
    #[error("{context}")]
    Context {
        context: String,
        #[source]
        source: Box<DemoError>,
    },
    #[error(transparent)]
    Registry(#[from] entente_registry::Error),
    #[error(transparent)]
    Label(#[from] entente_labels::LabelError),
    #[error(transparent)]
    Policy(#[from] entente_policy::PolicyError),
    #[error(transparent)]
    Stix(#[from] entente_stix::StixError),
    #[error(transparent)]
    Store(#[from] entente_store::StoreError),
    #[error(transparent)]
    Node(#[from] entente_node::NodeError),
    #[error(transparent)]
    Pki(#[from] entente_node::pki::PkiError),
    #[error(transparent)]
    Federation(#[from] entente_federation::FederationError),
    #[error(transparent)]
    Audit(#[from] entente_audit::AuditError),
    #[error(transparent)]
    Seal(#[from] entente_seal::SealError),
    #[error(transparent)]
    Date(#[from] entente_types::DateError),
    #[error(transparent)]
    Nation(#[from] entente_types::NationCodeError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

impl DemoError {
    /// The class of the error: the inner library error's, a bad option's `InvalidInput`, and
    /// `Internal` for a failed check or the environment (files, network).
    pub fn code(&self) -> ErrorCode {
        match self {
            DemoError::Usage(_) => ErrorCode::InvalidInput,
            DemoError::Context { source, .. } => source.code(),
            DemoError::Registry(e) => e.code(),
            DemoError::Label(e) => e.code(),
            DemoError::Policy(e) => e.code(),
            DemoError::Stix(e) => e.code(),
            DemoError::Store(e) => e.code(),
            DemoError::Node(e) => e.code(),
            DemoError::Federation(e) => e.code(),
            DemoError::Audit(e) => e.code(),
            DemoError::Seal(e) => e.code(),
            DemoError::Pki(_) | DemoError::Date(_) | DemoError::Nation(_) => {
                ErrorCode::InvalidInput
            }
            DemoError::Message(_) | DemoError::Io(_) | DemoError::Json(_) | DemoError::Http(_) => {
                ErrorCode::Internal
            }
        }
    }
}

/// An error and every cause under it, joined by ": " (what `anyhow` shows with `{:#}`).
pub fn chain_text(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Says what was being done when a step failed, keeping the failure as the source.
pub(crate) trait Context<T> {
    fn context(self, context: impl Into<String>) -> Result<T, DemoError>;
    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T, DemoError>;
}

impl<T, E: Into<DemoError>> Context<T> for Result<T, E> {
    fn context(self, context: impl Into<String>) -> Result<T, DemoError> {
        self.map_err(|e| DemoError::Context {
            context: context.into(),
            source: Box::new(e.into()),
        })
    }

    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T, DemoError> {
        self.map_err(|e| DemoError::Context {
            context: context().into(),
            source: Box::new(e.into()),
        })
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl Into<String>) -> Result<T, DemoError> {
        self.ok_or_else(|| DemoError::Message(context.into()))
    }

    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T, DemoError> {
        self.ok_or_else(|| DemoError::Message(context().into()))
    }
}

/// Fails with a plain message (the demonstration's `bail!`).
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::error::DemoError::Message(format!($($arg)*)))
    };
}
pub(crate) use fail;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_context_keeps_its_cause_and_the_chain_shows_both() {
        let failed: Result<(), std::io::Error> = Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
        let e = failed.context("cannot read x.json").unwrap_err();
        assert_eq!(e.to_string(), "cannot read x.json");
        assert_eq!(chain_text(&e), "cannot read x.json: no such file");
        let DemoError::Context { source, .. } = e else {
            panic!("not a context")
        };
        assert!(matches!(*source, DemoError::Io(_)));
    }

    #[test]
    fn the_code_is_the_inner_errors_under_any_context() {
        let usage = DemoError::Usage("--data-dir x: the folder is not empty".into());
        assert_eq!(usage.code(), ErrorCode::InvalidInput);
        let bad_day: Result<(), DemoError> = entente_types::parse_date("2024-13-01")
            .map(|_| ())
            .map_err(Into::into);
        let e = bad_day.context("the walk-through's day").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert_eq!(DemoError::Message("x".into()).code(), ErrorCode::Internal);
    }

    #[test]
    fn a_missing_value_becomes_its_message() {
        let e = None::<u8>
            .with_context(|| "policy X is not in the policy data")
            .unwrap_err();
        assert!(matches!(&e, DemoError::Message(m) if m == "policy X is not in the policy data"));
        assert_eq!(chain_text(&e), "policy X is not in the policy data");
    }

    #[test]
    fn fail_returns_a_message() {
        fn check(n: u8) -> Result<u8, DemoError> {
            if n > 1 {
                fail!("{n} is too many");
            }
            Ok(n)
        }
        assert_eq!(check(1).unwrap(), 1);
        assert_eq!(check(2).unwrap_err().to_string(), "2 is too many");
    }
}
