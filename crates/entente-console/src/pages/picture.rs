//! The live air picture: the Recognized Air Picture the signed-in user's nation and clearance
//! may see, fused by the node from the national tracks released to it
//! ([`entente_node::picture`]), drawn on the console's air map with a track list beside it.
//!
//! Frames reach the browser as server-sent events (`/console/picture/stream`): one `picture`
//! event per frame (the JSON the node serialised once for every browser of the same reader) and
//! a `banner` event whenever the dominant label of what is shown changes. A browser that falls
//! behind gets the newest frame next, never a backlog: the stream reads a `watch` channel. A
//! stream ends after [`STREAM_LIFETIME`] and the browser reconnects through the sign-in check,
//! so a session that ended or a user whose rights changed stops receiving within that time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use entente_node::picture::{Frame as PictureFrame, PictureFeed};

use super::{error_page, render, Frame};
use crate::banner::Banner;
use crate::session::SignedIn;
use crate::Console;

/// How long one event stream lasts before the browser reconnects (and is checked again).
pub const STREAM_LIFETIME: Duration = Duration::from_secs(300);
/// What the browser waits before reconnecting a stream that ended, in milliseconds.
const RECONNECT_MS: u32 = 500;

#[derive(Template)]
#[template(path = "picture.html")]
struct PicturePage {
    frame: Frame,
    tracks: usize,
    nation: String,
}

/// `GET /console/picture`: the page; the map and the list are filled from the stream.
pub async fn page(State(console): State<Arc<Console>>, signed_in: SignedIn) -> Response {
    let feed = match console.node.air_picture(&signed_in.session.user).await {
        Ok(feed) => feed,
        Err(e) => {
            tracing::error!(error = %e, "the air picture could not be started");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The air picture could not be started.",
            );
        }
    };
    let current = feed.frames().borrow().clone();
    let mut frame = Frame::new(&console, &signed_in, "Air picture", "picture");
    frame.banner = Banner::of(console.node.release_policy(), current.labels.iter());
    render(
        StatusCode::OK,
        &PicturePage {
            frame,
            tracks: current.tracks,
            nation: signed_in.session.user.nation.to_string(),
        },
    )
}

/// The banner event: the classification of what the stream shows.
fn banner_event(banner: &Banner) -> String {
    let json = serde_json::json!({ "text": banner.text, "class": banner.class });
    format!("event: banner\ndata: {json}\n\n")
}

/// What a stream sends next.
struct Stream {
    console: Arc<Console>,
    frames: tokio::sync::watch::Receiver<Arc<PictureFrame>>,
    /// Held so that the picture is fused while the stream is open.
    _feed: Arc<PictureFeed>,
    banner: Option<Banner>,
    started: Instant,
    first: bool,
}

impl Stream {
    /// The events of the newest frame, or `None` when the stream is over.
    async fn next(&mut self) -> Option<Bytes> {
        let mut head = String::new();
        if self.first {
            self.first = false;
            head = format!("retry: {RECONNECT_MS}\n\n");
        } else {
            let left = STREAM_LIFETIME.checked_sub(self.started.elapsed())?;
            match tokio::time::timeout(left, self.frames.changed()).await {
                Ok(Ok(())) => {}
                _ => return None,
            }
        }
        let frame = self.frames.borrow_and_update().clone();
        let banner = Banner::of(self.console.node.release_policy(), frame.labels.iter());
        if self.banner.as_ref() != Some(&banner) {
            head.push_str(&banner_event(&banner));
            self.banner = Some(banner);
        }
        if head.is_empty() {
            // The common case: the frame's event, shared by every browser, not copied.
            return Some(frame.event.clone());
        }
        let mut out = Vec::with_capacity(head.len() + frame.event.len());
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(&frame.event);
        Some(out.into())
    }
}

/// The signed-in user's picture feed, or the answer saying it could not be started.
async fn feed_of(console: &Console, signed_in: &SignedIn) -> Result<Arc<PictureFeed>, Response> {
    console
        .node
        .air_picture(&signed_in.session.user)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the air picture could not be started");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the air picture could not be started",
            )
                .into_response()
        })
}

/// `GET /console/picture/stream`: the frames as server-sent events.
pub async fn stream(State(console): State<Arc<Console>>, signed_in: SignedIn) -> Response {
    let feed = match feed_of(&console, &signed_in).await {
        Ok(feed) => feed,
        Err(answer) => return answer,
    };
    let state = Stream {
        console,
        frames: feed.frames(),
        _feed: feed,
        banner: None,
        started: Instant::now(),
        first: true,
    };
    let body = futures_util::stream::unfold(state, |mut s| async move {
        s.next()
            .await
            .map(|bytes| (Ok::<_, std::convert::Infallible>(bytes), s))
    });
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /console/picture/tracks/{stn}`: a system track's history (its positions, oldest first).
pub async fn history(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(stn): Path<String>,
) -> Response {
    let Ok(stn) = stn.parse::<u64>() else {
        return (StatusCode::NOT_FOUND, "no such track").into_response();
    };
    let feed = match feed_of(&console, &signed_in).await {
        Ok(feed) => feed,
        Err(answer) => return answer,
    };
    let points = feed.history(stn);
    let body = serde_json::json!({ "stn": stn, "history": points });
    let mut response = body.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
