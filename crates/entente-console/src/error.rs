//! The console's errors: [`ConsoleError`] when it is built, [`PageError`] when a request fails
//! (rendered as a page with the status it maps to).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why the console cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("the registry in {dir}: {message}")]
    Registry { dir: String, message: String },
}

/// Why a request failed, as the user is told.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }

    /// What is absent and what the user may not see look the same.
    pub fn not_found() -> PageError {
        PageError::new(StatusCode::NOT_FOUND, "There is no such page or object.")
    }

    pub fn internal(message: impl std::fmt::Display) -> PageError {
        tracing::error!(error = %message, "console request failed");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The node could not answer; the error is in its log.",
        )
    }
}

impl From<entente_node::NodeError> for PageError {
    fn from(e: entente_node::NodeError) -> PageError {
        use entente_node::NodeErrorKind as K;
        match e.kind() {
            K::NotFound | K::Forbidden => PageError::not_found(),
            K::Unauthorized => PageError::new(StatusCode::UNAUTHORIZED, "Sign in again."),
            K::BadRequest | K::Unprocessable | K::TooLarge => PageError::bad_request(e.to_string()),
            _ => PageError::internal(e),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        crate::pages::error_page(self.status, &self.message)
    }
}
