//! The partners page.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{render, Frame};
use crate::session::SignedIn;
use crate::Console;

#[derive(Template)]
#[template(path = "partners.html")]
struct Page {
    frame: Frame,
}

/// `GET /console/partners`.
pub async fn page(State(console): State<Arc<Console>>, signed_in: SignedIn) -> Response {
    render(
        StatusCode::OK,
        &Page {
            frame: Frame::new(&console, &signed_in, "partners", "partners"),
        },
    )
}
