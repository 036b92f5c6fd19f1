//! Errors of the node and the one place where an error becomes an HTTP status and a TAXII error
//! body: [`status_of`] (and `IntoResponse` for [`NodeError`], which uses it).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use entente_types::ErrorCode;

use crate::MEDIA_TYPE_TAXII;

/// A failed request or start-up.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct NodeError {
    kind: NodeErrorKind,
    message: String,
}

/// What failed; each kind has exactly one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeErrorKind {
    /// Malformed request: bad JSON, bad query parameter (400).
    BadRequest,
    /// No or wrong credentials (401).
    Unauthorized,
    /// Authenticated but not allowed, e.g. writing to a read-only collection (403).
    Forbidden,
    /// Nothing here the user may see (404): also what an object the user may not see looks like.
    NotFound,
    /// The `Accept` header names nothing we serve (406).
    NotAcceptable,
    /// The body is larger than the API root's `max_content_length` (413).
    TooLarge,
    /// The body is not TAXII JSON (415).
    UnsupportedMediaType,
    /// Well-formed but unacceptable content, e.g. an envelope without objects (422).
    Unprocessable,
    /// A configuration that cannot be used.
    Config,
    /// A failure on our side (500).
    Internal,
}

impl NodeError {
    pub fn new(kind: NodeErrorKind, message: impl Into<String>) -> NodeError {
        NodeError {
            kind,
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> NodeError {
        NodeError::new(NodeErrorKind::Config, message)
    }

    pub fn kind(&self) -> NodeErrorKind {
        self.kind
    }

    /// A library error, classified by its transport-neutral code.
    pub fn from_code(code: ErrorCode, message: impl Into<String>) -> NodeError {
        let kind = match code {
            ErrorCode::InvalidInput => NodeErrorKind::Unprocessable,
            ErrorCode::NotFound => NodeErrorKind::NotFound,
            ErrorCode::Forbidden => NodeErrorKind::Forbidden,
            _ => NodeErrorKind::Internal,
        };
        NodeError::new(kind, message)
    }

    pub fn code(&self) -> ErrorCode {
        match self.kind {
            NodeErrorKind::BadRequest
            | NodeErrorKind::Unprocessable
            | NodeErrorKind::TooLarge
            | NodeErrorKind::UnsupportedMediaType
            | NodeErrorKind::NotAcceptable
            | NodeErrorKind::Config => ErrorCode::InvalidInput,
            NodeErrorKind::NotFound => ErrorCode::NotFound,
            NodeErrorKind::Unauthorized | NodeErrorKind::Forbidden => ErrorCode::Forbidden,
            _ => ErrorCode::Internal,
        }
    }
}

impl From<entente_store::StoreError> for NodeError {
    fn from(e: entente_store::StoreError) -> NodeError {
        // Storage details stay in the log, not in answers.
        tracing::error!(error = %e, "store failure");
        NodeError::from_code(e.code(), "the node could not complete the request")
    }
}

/// The one mapping from error kind to HTTP status and TAXII error title.
pub fn status_of(kind: NodeErrorKind) -> (StatusCode, &'static str) {
    match kind {
        NodeErrorKind::BadRequest => (StatusCode::BAD_REQUEST, "bad request"),
        NodeErrorKind::Unauthorized => (StatusCode::UNAUTHORIZED, "authentication required"),
        NodeErrorKind::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
        NodeErrorKind::NotFound => (StatusCode::NOT_FOUND, "not found"),
        NodeErrorKind::NotAcceptable => (StatusCode::NOT_ACCEPTABLE, "not acceptable"),
        NodeErrorKind::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "request too large"),
        NodeErrorKind::UnsupportedMediaType => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported media type")
        }
        NodeErrorKind::Unprocessable => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable content"),
        NodeErrorKind::Config | NodeErrorKind::Internal => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

impl IntoResponse for NodeError {
    fn into_response(self) -> Response {
        let (status, title) = status_of(self.kind);
        let body = entente_stix::taxii::Error {
            title: title.to_owned(),
            description: Some(self.message),
            error_id: None,
            error_code: None,
            http_status: Some(status.as_u16().to_string()),
            external_details: None,
            details: None,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(MEDIA_TYPE_TAXII),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"entente\", Bearer"),
            );
        }
        response
    }
}
