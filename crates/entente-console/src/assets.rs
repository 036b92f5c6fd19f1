//! The console's static files, compiled into the binary (national networks are air-gapped: the
//! console needs nothing from outside the node). Vendored files are listed with their versions
//! and licences in `assets/VENDORED.md`.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Every file served under `/console/assets/`: its path and content.
const FILES: &[(&str, &[u8])] = &[
    ("console.css", include_bytes!("../assets/console.css")),
    ("console.js", include_bytes!("../assets/console.js")),
    ("picture.js", include_bytes!("../assets/picture.js")),
    ("airmap.js", include_bytes!("../assets/airmap.js")),
    ("airmap.css", include_bytes!("../assets/airmap.css")),
    ("replay.js", include_bytes!("../assets/replay.js")),
    ("exercises.css", include_bytes!("../assets/exercises.css")),
    (
        "vendor/htmx-2.0.11/htmx.min.js",
        include_bytes!("../assets/vendor/htmx-2.0.11/htmx.min.js"),
    ),
    (
        "vendor/world-atlas-2.0.2/countries-110m.json",
        include_bytes!("../assets/vendor/world-atlas-2.0.2/countries-110m.json"),
    ),
];

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// `GET /console/assets/{path}`: a file, with an `ETag` (its SHA-256) so a browser asks again
/// only when it changed.
pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some((_, bytes)) = FILES.iter().find(|(p, _)| *p == path) else {
        return crate::pages::not_found().await;
    };
    let digest: String = Sha256::digest(bytes)
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let etag = format!("\"{digest}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut r = (StatusCode::OK, *bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}
