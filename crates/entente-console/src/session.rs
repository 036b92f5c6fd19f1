//! Signing in: the node's users and their argon2 hashes (as TAXII Basic), a session cookie
//! (`HttpOnly`, `Secure`, `SameSite=Strict`, an expiry), a CSRF token per session checked on
//! every form, and a back-off after failed sign-ins.
//!
//! Sessions live in the node process. The cookie holds a random 256-bit id; the table is keyed
//! by its SHA-256, so the table holds nothing that opens a session. The user is read again from
//! the store every [`RECHECK`], so a removed user or a changed clearance takes effect within it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine;
use entente_node::Reader;
use entente_store::User;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::pages::{render, Frame};
use crate::{Console, BASE};

/// The session cookie's name; `__Host-` makes browsers refuse it unless it is `Secure`, has
/// `Path=/` and no `Domain`, so no other site or path can set or shadow it.
pub const SESSION_COOKIE: &str = "__Host-entente-session";
/// The cookie that carries the sign-in form's CSRF token before there is a session.
pub const SIGNIN_COOKIE: &str = "__Host-entente-signin";
/// How often a session's user is read again from the store.
pub const RECHECK: Duration = Duration::from_secs(30);
/// Failed sign-ins of one name allowed before the back-off starts.
const FREE_FAILURES: u32 = 3;
/// The longest wait the back-off imposes.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Sessions kept at most; past it, expired ones are dropped and then the oldest.
const MAX_SESSIONS: usize = 100_000;

/// A signed-in user.
#[derive(Clone)]
pub struct Session {
    pub user: User,
    pub reader: Reader,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    expires: Instant,
    checked: Instant,
}

#[derive(Default)]
struct Failures {
    count: u32,
    until: Option<Instant>,
}

/// The sessions and sign-in failures of one node process.
pub struct Sessions {
    ttl: Duration,
    by_id: Mutex<HashMap<[u8; 32], Session>>,
    failures: Mutex<HashMap<String, Failures>>,
}

impl Sessions {
    pub fn new(ttl: Duration) -> Sessions {
        Sessions {
            ttl,
            by_id: Mutex::default(),
            failures: Mutex::default(),
        }
    }

    /// Opens a session for `user`; returns the cookie value.
    pub fn open(&self, user: User) -> String {
        let id = random_token();
        let now = Instant::now();
        let session = Session {
            reader: Reader::of(&user),
            user,
            csrf: random_token(),
            expires: now + self.ttl,
            checked: now,
        };
        if let Ok(mut map) = self.by_id.lock() {
            if map.len() >= MAX_SESSIONS {
                map.retain(|_, s| s.expires > now);
            }
            if map.len() >= MAX_SESSIONS {
                if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k) {
                    map.remove(&oldest);
                }
            }
            map.insert(key(&id), session);
        }
        id
    }

    fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.by_id.lock().ok()?;
        let k = key(id);
        match map.get(&k) {
            Some(s) if s.expires > now => Some(s.clone()),
            Some(_) => {
                map.remove(&k);
                None
            }
            None => None,
        }
    }

    fn refresh(&self, id: &str, user: User) {
        if let Ok(mut map) = self.by_id.lock() {
            if let Some(s) = map.get_mut(&key(id)) {
                s.reader = Reader::of(&user);
                s.user = user;
                s.checked = Instant::now();
            }
        }
    }

    fn close(&self, id: &str) {
        if let Ok(mut map) = self.by_id.lock() {
            map.remove(&key(id));
        }
    }

    /// How long `name` must still wait before trying again, if at all.
    fn waiting(&self, name: &str) -> Option<Duration> {
        let map = self.failures.lock().ok()?;
        let until = map.get(&name.to_lowercase())?.until?;
        until.checked_duration_since(Instant::now())
    }

    fn failed(&self, name: &str) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > MAX_SESSIONS {
                let now = Instant::now();
                map.retain(|_, f| f.until.is_some_and(|u| u > now));
            }
            let f = map.entry(name.to_lowercase()).or_default();
            f.count += 1;
            if f.count > FREE_FAILURES {
                // 1 s, 2 s, 4 s … after the free attempts, up to MAX_BACKOFF.
                let exponent = (f.count - FREE_FAILURES - 1).min(16);
                let wait = Duration::from_secs(1u64 << exponent).min(MAX_BACKOFF);
                f.until = Some(Instant::now() + wait);
            }
        }
    }

    fn succeeded(&self, name: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&name.to_lowercase());
        }
    }
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    use rand::Rng;
    let mut bytes = [0u8; 32];
    rand::rand_core::UnwrapErr(rand::rngs::SysRng).fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn set_cookie(name: &str, value: &str, max_age: Option<Duration>) -> HeaderValue {
    let mut c = cookie::Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(cookie::SameSite::Strict);
    c = match max_age {
        Some(age) => c.max_age(cookie::time::Duration::seconds(
            i64::try_from(age.as_secs()).unwrap_or(i64::MAX),
        )),
        None => c.max_age(cookie::time::Duration::ZERO),
    };
    HeaderValue::from_str(&c.build().to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// The signed-in user of a request; requests without a live session are sent to the sign-in
/// page (htmx requests through `HX-Redirect`, so the whole page goes there).
pub struct SignedIn {
    pub session: Session,
}

impl FromRequestParts<Arc<Console>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<SignedIn, Response> {
        let to_signin = || {
            let target = format!("{BASE}/signin");
            if parts.headers.contains_key("hx-request") {
                let mut r = StatusCode::UNAUTHORIZED.into_response();
                if let Ok(v) = HeaderValue::from_str(&target) {
                    r.headers_mut().insert("hx-redirect", v);
                }
                r
            } else {
                Redirect::to(&target).into_response()
            }
        };
        let Some(id) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(to_signin());
        };
        let Some(mut session) = console.sessions.get(&id) else {
            return Err(to_signin());
        };
        if session.checked.elapsed() >= RECHECK {
            match console.node.user(&session.user.name).await {
                Ok(Some(user)) => {
                    console.sessions.refresh(&id, user.clone());
                    session.reader = Reader::of(&user);
                    session.user = user;
                }
                Ok(None) => {
                    console.sessions.close(&id);
                    return Err(to_signin());
                }
                Err(e) => return Err(crate::error::PageError::from(e).into_response()),
            }
        }
        Ok(SignedIn { session })
    }
}

impl SignedIn {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), crate::error::PageError> {
        if same_secret(token, &self.session.csrf) {
            Ok(())
        } else {
            Err(crate::error::PageError::new(
                StatusCode::FORBIDDEN,
                "The form's security token is missing or stale: reload the page and send it again.",
            ))
        }
    }
}

#[derive(askama::Template)]
#[template(path = "signin.html")]
struct SigninPage<'a> {
    frame: Frame,
    csrf: &'a str,
    message: Option<&'a str>,
    name: &'a str,
}

/// `GET /console/signin`: the form, with a fresh CSRF token in a cookie and in the form.
pub async fn signin_page(State(console): State<Arc<Console>>) -> Response {
    signin_form(&console, StatusCode::OK, None, "")
}

fn signin_form(
    console: &Console,
    status: StatusCode,
    message: Option<&str>,
    name: &str,
) -> Response {
    let csrf = random_token();
    let page = SigninPage {
        frame: Frame::public(console, "Sign in"),
        csrf: &csrf,
        message,
        name,
    };
    let mut response = render(status, &page);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SIGNIN_COOKIE, &csrf, Some(Duration::from_secs(3600))),
    );
    response
}

#[derive(Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/signin`.
pub async fn signin(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(form): Form<SigninForm>,
) -> Response {
    let expected = cookie_value(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&form.csrf, &expected) {
        return signin_form(
            &console,
            StatusCode::FORBIDDEN,
            Some("The form's security token is missing or stale: sign in again."),
            &form.name,
        );
    }
    if let Some(wait) = console.sessions.waiting(&form.name) {
        let message = format!(
            "Too many failed sign-ins for this name: try again in {} s.",
            wait.as_secs().max(1)
        );
        return signin_form(
            &console,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&message),
            &form.name,
        );
    }
    match console
        .node
        .verify_password(&form.name, &form.password)
        .await
    {
        Ok(user) => {
            console.sessions.succeeded(&form.name);
            tracing::info!(user = %user.name, "console sign-in");
            let id = console.sessions.open(user);
            let mut response = Redirect::to(&format!("{BASE}/holdings")).into_response();
            let h = response.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &id, Some(console.sessions.ttl)),
            );
            h.append(header::SET_COOKIE, set_cookie(SIGNIN_COOKIE, "", None));
            response
        }
        Err(_) => {
            console.sessions.failed(&form.name);
            tracing::warn!(name = %form.name, "console sign-in refused");
            signin_form(
                &console,
                StatusCode::UNAUTHORIZED,
                Some("The name or the password is wrong."),
                &form.name,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /console/signout`.
pub async fn signout(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, crate::error::PageError> {
    signed_in.check_csrf(&form.csrf)?;
    if let Some(id) = cookie_value(&headers, SESSION_COOKIE) {
        console.sessions.close(&id);
    }
    let mut response = Redirect::to(&format!("{BASE}/signin")).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", None));
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_back_off_starts_after_the_free_failures_and_doubles() {
        let s = Sessions::new(Duration::from_secs(60));
        for _ in 0..FREE_FAILURES {
            s.failed("Ana");
            assert!(s.waiting("ana").is_none());
        }
        s.failed("ana");
        let first = s.waiting("ANA").unwrap();
        assert!(first <= Duration::from_secs(1));
        s.failed("ana");
        assert!(s.waiting("ana").unwrap() > Duration::from_secs(1));
        s.succeeded("ana");
        assert!(s.waiting("ana").is_none());
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn the_session_cookie_is_host_only_secure_http_only_and_strict() {
        let v = set_cookie(SESSION_COOKIE, "x", Some(Duration::from_secs(60)));
        let text = v.to_str().unwrap();
        for part in [
            "__Host-entente-session=x",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }
}
