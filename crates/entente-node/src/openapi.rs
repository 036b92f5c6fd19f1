//! The OpenAPI 3.1 document of the node's own (non-TAXII) API, served at `GET /openapi.json`.
//! TAXII 2.1 has its own specification; this document covers what the node adds to it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The document. Every path it lists is routed in `taxii::router` (a test checks each answers).
pub fn document() -> Value {
    let text = |description: &str, media: &str, example: &str| {
        json!({
            "description": description,
            "content": { media: { "schema": { "type": "string" }, "example": example } }
        })
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Entente national node: administration API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Health, metrics and this description. The STIX objects are served by the node's TAXII 2.1 API (discovery at /taxii2/), which is specified by OASIS."
        },
        "paths": {
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness: the node answers",
                    "responses": { "200": text("The node is up.", "text/plain", "ok\n") }
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Counters in the Prometheus text format",
                    "responses": {
                        "200": text(
                            "Requests answered, client and server errors, objects added, refused, served and withheld.",
                            "text/plain",
                            "# TYPE entente_http_requests_total counter\nentente_http_requests_total 1\n"
                        )
                    }
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 document of the administration API.",
                            "content": { "application/json": { "schema": { "type": "object" } } }
                        }
                    }
                }
            }
        }
    })
}

pub async fn serve() -> Response {
    let body = document().to_string();
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
