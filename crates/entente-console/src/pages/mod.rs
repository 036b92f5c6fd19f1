//! The pages: each module renders one, from what its reader may see. [`Frame`] is what every
//! page carries around its content (navigation, the signed-in user, the banners, the CSRF token).

pub mod burden;
pub mod crisis;
pub mod exercises;
pub mod graph;
pub mod holdings;
pub mod object;
pub mod partners;
pub mod picture;
pub mod publish;
pub mod registry;
pub mod search;

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::banner::Banner;
use crate::session::SignedIn;
use crate::{Console, BASE};

/// The signed-in user as the frame shows it.
pub struct UserView {
    pub name: String,
    pub nation: String,
    pub clearance: String,
}

/// What every page carries around its content.
pub struct Frame {
    pub title: String,
    /// The node's nation and title.
    pub nation: String,
    pub node_title: String,
    pub user: Option<UserView>,
    pub csrf: String,
    pub banner: Banner,
    /// The navigation entry of this page.
    pub active: &'static str,
    pub base: &'static str,
}

/// The navigation bar's entries: path under [`BASE`] and text.
pub const NAVIGATION: [(&str, &str); 8] = [
    ("holdings", "Holdings"),
    ("crisis", "Crisis rooms"),
    ("picture", "Air picture"),
    ("publish", "Publish"),
    ("partners", "Partners and audit"),
    ("registry", "Registry"),
    ("burden", "Burden sharing"),
    ("exercises", "Exercises"),
];

impl Frame {
    /// The frame of a page for `signed_in`, whose banner is set once the page's content is known.
    pub fn new(
        console: &Console,
        signed_in: &SignedIn,
        title: &str,
        active: &'static str,
    ) -> Frame {
        let s = &signed_in.session;
        let c = &s.user;
        let mut clearance = format!("{} {}", c.clearance_policy, c.clearance_level);
        if !c.clearance_caveats.is_empty() {
            clearance.push_str(&format!(" ({})", c.clearance_caveats.join(", ")));
        }
        Frame {
            user: Some(UserView {
                name: c.name.clone(),
                nation: c.nation.as_str().to_owned(),
                clearance,
            }),
            csrf: s.csrf.clone(),
            active,
            ..Frame::public(console, title)
        }
    }

    /// The frame of a page shown before signing in.
    pub fn public(console: &Console, title: &str) -> Frame {
        let config = console.node.config();
        Frame {
            title: title.to_owned(),
            nation: config.nation.as_str().to_owned(),
            node_title: config.title.clone(),
            user: None,
            csrf: String::new(),
            banner: Banner::unlabelled(),
            active: "",
            base: BASE,
        }
    }

    pub fn navigation(&self) -> &'static [(&'static str, &'static str)] {
        &NAVIGATION
    }

    /// The `hx-headers` value that sends the CSRF token with every htmx request.
    pub fn htmx_headers(&self) -> String {
        serde_json::json!({ "X-CSRF-Token": self.csrf }).to_string()
    }
}

/// Renders a template as an HTML answer with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut r = (status, html).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "a console template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    frame: Frame,
    status: u16,
    message: &'a str,
}

/// An error as a page (without the user's frame: it may be what failed).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let frame = Frame {
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        nation: String::new(),
        node_title: "Entente".into(),
        user: None,
        csrf: String::new(),
        banner: Banner::unlabelled(),
        active: "",
        base: BASE,
    };
    render(
        status,
        &ErrorPage {
            frame,
            status: status.as_u16(),
            message,
        },
    )
}

/// `GET /console/`: the holdings, or the sign-in page.
pub async fn home(_: State<Arc<Console>>, _: SignedIn) -> Redirect {
    Redirect::to(&format!("{BASE}/holdings"))
}

/// Any other path under `/console/`.
pub async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "There is no such page or object.")
}

/// A time in microseconds since the epoch, as the pages show it (UTC, to the second).
pub fn format_time(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// Percent-encodes a path segment or query value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The link to an object's page.
pub fn object_link(collection: &str, id: &str) -> String {
    format!("{BASE}/objects/{}/{}", encode(collection), encode(id))
}
