//! The JSON answers of the node's own API routes (search, crisis rooms).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{NodeError, NodeErrorKind};

/// `value` as an `application/json` answer with `status`.
pub(crate) fn answer(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = (status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(e) => NodeError::new(NodeErrorKind::Internal, e.to_string()).into_response(),
    }
}
