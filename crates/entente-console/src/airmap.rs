//! The server side of the air map (`assets/airmap.js`): the Natural Earth coastlines and country
//! borders at 1:50m as lon/lat polylines, decoded once from the vendored world-atlas and served
//! as one cached JSON answer (`GET /console/map/lines.json`). The 1:110m atlas the registry map
//! uses is too coarse at the scale of an area of operations (the Baltic islands vanish).

use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::pages::registry::topojson::{self, Point};

/// The vendored world-atlas 2.0.2 countries at 1:50m (see `assets/VENDORED.md`).
const COUNTRIES_50M: &str = include_str!("../assets/vendor/world-atlas-2.0.2/countries-50m.json");

/// The lines as JSON and its entity tag, made on first use.
struct LinesJson {
    body: Vec<u8>,
    etag: String,
}

static LINES: LazyLock<LinesJson> = LazyLock::new(|| {
    let body = match topojson::lines(COUNTRIES_50M, "countries") {
        Ok(lines) => lines_json(&lines.coast, &lines.borders),
        Err(e) => {
            tracing::error!(error = %e, "the vendored 1:50m world atlas does not decode");
            lines_json(&[], &[])
        }
    };
    let digest: String = Sha256::digest(body.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    LinesJson {
        body: body.into_bytes(),
        etag: format!("\"{digest}\""),
    }
});

/// `{"coast": [[lon, lat, lon, lat, …], …], "borders": […]}`: each line a flat array of
/// degrees to three decimals (about 100 m, finer than the 1:50m data), so the answer stays
/// near a megabyte and the browser parses it as plain numbers.
fn lines_json(coast: &[Vec<Point>], borders: &[Vec<Point>]) -> String {
    let mut out = String::with_capacity(1 << 20);
    out.push('{');
    for (i, (name, lines)) in [("coast", coast), ("borders", borders)].iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{name}\":[");
        for (j, line) in lines.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push('[');
            for (k, [lon, lat]) in line.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{},{}", round3(*lon), round3(*lat));
            }
            out.push(']');
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// Degrees rounded to three decimals, written without trailing zeros.
fn round3(degrees: f64) -> f64 {
    (degrees * 1000.0).round() / 1000.0
}

/// `GET /console/map/lines.json`: public-domain geography, the same for every user, so it is
/// served without a session and cached by the browser (revalidated by its `ETag`).
pub async fn lines(headers: HeaderMap) -> Response {
    let lines = &*LINES;
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == lines.etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut r = (StatusCode::OK, lines.body.clone()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&lines.etag) {
        h.insert(header::ETAG, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_lines_are_flat_rounded_degrees() {
        let json = lines_json(
            &[vec![[18.123456, 59.5], [18.2, 59.6]]],
            &[vec![[24.0, 57.0], [24.5, 56.99999]]],
        );
        assert_eq!(
            json,
            r#"{"coast":[[18.123,59.5,18.2,59.6]],"borders":[[24,57,24.5,57]]}"#
        );
    }

    #[test]
    fn the_baltic_is_drawn_at_1_50m() {
        let value: serde_json::Value = serde_json::from_slice(&LINES.body).unwrap();
        let coast = value["coast"].as_array().unwrap();
        let borders = value["borders"].as_array().unwrap();
        assert!(
            coast.len() > 1000 && borders.len() > 300,
            "{} {}",
            coast.len(),
            borders.len()
        );
        // Gotland (57–58° N, 18–19.5° E) is an island of its own, about 60 points at 1:50m.
        let gotland = coast.iter().any(|line| {
            let xs: Vec<f64> = line
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            xs.len() > 40
                && xs
                    .chunks(2)
                    .all(|p| (18.0..19.5).contains(&p[0]) && (56.8..58.1).contains(&p[1]))
        });
        assert!(gotland, "Gotland is missing");
    }
}
