//! The live air picture: each reader's Recognized Air Picture, fused from the national tracks
//! released to it.
//!
//! National tracks are STIX objects (`x-entente-national-track`, `entente_fusion::stix`) that
//! nations post to their node and that federation replicates like any other object. A
//! [`PictureFeed`] belongs to one reader (nation and clearance) and the collections it may read:
//! a task reads the national tracks stored since its last look, releases each through the one
//! release path of TAXII ([`Node::release_stored_rows`]), keeps the latest state of every
//! national track it was released, and fuses them with `entente_fusion`. A contribution that is
//! not released to the reader never enters the fuser, so nothing of the picture (estimate,
//! identity, track number, label) depends on it.
//!
//! Frames are serialised once and shared by every browser of the same reader, through a
//! `watch` channel: a browser that falls behind gets the latest frame, never a queue.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use entente_fusion::fusion::{Fuser, FusionConfig};
use entente_fusion::geodesy::{Enu, Geodetic, LocalFrame};
use entente_fusion::model::{Markings, NationalTrack, SystemTrack, TrackRef};
use entente_fusion::stix::{frame_origin, parse_national_track, NATIONAL_TRACK_TYPE};
use entente_labels::Label;
use entente_store::{ObjectQuery, User, VersionFilter};
use serde::Serialize;
use tokio::sync::watch;

use crate::access::Reader;
use crate::clock;
use crate::error::NodeError;
use crate::Node;

/// A frame is sent at least this often, new tracks or not (the browser's sign of life).
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// Writes arriving within this window are fused together (one frame per burst of posts).
const SETTLE: Duration = Duration::from_millis(50);
/// When a picture starts, national tracks stored this long ago or less are read.
const START_WINDOW_US: i64 = 120 * 1_000_000;
/// National tracks read per store query.
const BATCH: usize = 2_000;
/// Positions kept per system track for its history.
pub const HISTORY: usize = 120;
/// Process noise of the constant-velocity model that brings national tracks to the fusion
/// instant (m²/s³), as the shipped exercise scenarios use.
const PROCESS_NOISE: f64 = 2.0;

/// Who a picture is for: the reader and the collections it may read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FeedKey {
    reader: Reader,
    collections: Vec<String>,
}

/// How long a picture is kept fused after its last browser left (a page reloaded, a stream
/// reconnecting, a history asked for): its track numbers and histories survive that.
pub const KEEP: Duration = Duration::from_secs(30);

/// The pictures being served, one per reader and readable collections.
#[derive(Default)]
pub struct Pictures {
    feeds: Mutex<HashMap<FeedKey, Arc<PictureFeed>>>,
}

/// One reader's live picture: the latest frame and the history of its system tracks. Its task
/// takes it out of the node's pictures [`KEEP`] after the last stream of it closed.
pub struct PictureFeed {
    frames: watch::Receiver<Arc<Frame>>,
    history: Arc<Mutex<HashMap<u64, VecDeque<HistoryPoint>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PictureFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PictureFeed {
    /// The frames, latest first: `borrow()` is the current one, `changed()` waits for the next.
    pub fn frames(&self) -> watch::Receiver<Arc<Frame>> {
        self.frames.clone()
    }

    /// The positions a system track had, oldest first (at most [`HISTORY`]).
    pub fn history(&self, track: u64) -> Vec<HistoryPoint> {
        self.history
            .lock()
            .map(|h| h.get(&track).map(|q| q.iter().copied().collect()))
            .unwrap_or_default()
            .unwrap_or_default()
    }
}

/// One fused picture, as pushed to browsers.
#[derive(Debug)]
pub struct Frame {
    /// Counts frames of this feed from 1 (0: nothing fused yet).
    pub seq: u64,
    /// The frame as one server-sent event (`event: picture`, its data the JSON of
    /// [`FrameBody`]), written once and shared, so that each browser's stream only refers to it.
    pub event: axum::body::Bytes,
    /// The labels of the contributions the frame shows (for the page's banner).
    pub labels: Vec<Label>,
    pub tracks: usize,
}

/// What comes before a frame's JSON in its event, and after it.
const EVENT_HEAD: &str = "event: picture\ndata: ";
const EVENT_TAIL: &str = "\n\n";

impl Frame {
    fn new(seq: u64, json: String, labels: Vec<Label>, tracks: usize) -> Frame {
        // The JSON is one line: it is one `data:` field.
        let event = format!("{EVENT_HEAD}{json}{EVENT_TAIL}");
        Frame {
            seq,
            event: event.into(),
            labels,
            tracks,
        }
    }

    /// The frame as JSON ([`FrameBody`]): the data of its event.
    pub fn json(&self) -> &str {
        let data = &self.event[EVENT_HEAD.len()..self.event.len() - EVENT_TAIL.len()];
        // Written from a `String` in `new`.
        std::str::from_utf8(data).unwrap_or_default()
    }
}

/// The JSON body of a frame.
#[derive(Debug, Serialize)]
pub struct FrameBody<'a> {
    pub seq: u64,
    /// Time of the picture (the latest contribution fused), RFC 3339.
    pub time: Option<String>,
    /// Wall-clock time the frame was made, microseconds since 1970 (for latency measures).
    pub made_us: i64,
    /// Origin of the east-north frame the contributions were reported in: `[lat, lon]`.
    pub origin: Option<[f64; 2]>,
    pub tracks: &'a [PictureTrack],
}

/// A system track as the browser draws it.
#[derive(Debug, Clone, Serialize)]
pub struct PictureTrack {
    /// System track number (stable while its contributors persist).
    pub stn: u64,
    pub lat: f64,
    pub lon: f64,
    /// Degrees clockwise from true north.
    pub heading_deg: f64,
    pub speed_mps: f64,
    pub identity: &'static str,
    /// Altitude from the aircraft's replies, metres.
    pub altitude_m: Option<f64>,
    /// Callsign from the aircraft's replies.
    pub callsign: Option<String>,
    /// 0 (worst) to 15.
    pub quality: u8,
    /// Position covariance in the local east-north plane: `[ee, en, nn]`, m².
    pub cov: [f64; 3],
    /// The banner of its contributions (their dominant label).
    pub label: String,
    pub contributions: Vec<Contribution>,
}

/// A national track fused into a system track.
#[derive(Debug, Clone, Serialize)]
pub struct Contribution {
    pub nation: String,
    pub track: String,
    pub sensor: String,
    /// Time of the national estimate, RFC 3339.
    pub time: String,
    /// The contribution's label as released to the reader.
    pub label: String,
}

/// A past position of a system track.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HistoryPoint {
    /// Seconds since 1970.
    pub t: f64,
    pub lat: f64,
    pub lon: f64,
}

impl Node {
    /// The live picture `user` may see: the national tracks released to the user's nation and
    /// clearance in the collections it may read, fused. Users alike share one feed.
    pub async fn air_picture(self: &Arc<Self>, user: &User) -> Result<Arc<PictureFeed>, NodeError> {
        let mut collections: Vec<String> = Vec::new();
        for c in self.store.collections().await? {
            if user.may_read(&c.id) {
                collections.push(c.id);
            }
        }
        let key = FeedKey {
            reader: Reader::of(user),
            collections,
        };
        let mut feeds = self
            .pictures
            .feeds
            .lock()
            .map_err(|_| internal("the picture feeds' lock is poisoned"))?;
        if let Some(feed) = feeds.get(&key) {
            return Ok(feed.clone());
        }
        let (send, frames) = watch::channel(Arc::new(Frame::new(
            0,
            render(0, None, None, &[]),
            Vec::new(),
            0,
        )));
        let history = Arc::new(Mutex::new(HashMap::new()));
        let state = PictureState::new(key.clone(), history.clone());
        let task = tokio::spawn(follow(Arc::downgrade(self), state, send));
        let feed = Arc::new(PictureFeed {
            frames,
            history,
            task,
        });
        feeds.insert(key, feed.clone());
        Ok(feed)
    }
}

/// What a feed's task keeps between frames.
struct PictureState {
    key: FeedKey,
    /// The store position read up to, per collection (none: not started).
    since: HashMap<String, i64>,
    latest: HashMap<TrackRef, Released>,
    fuser: Fuser,
    frame: Option<LocalFrame>,
    history: Arc<Mutex<HashMap<u64, VecDeque<HistoryPoint>>>>,
    seq: u64,
}

/// A national track released to the reader, with its label as released.
struct Released {
    track: NationalTrack<Markings>,
    label: Option<Label>,
    /// Store position of the version it came from: a later post replaces it whatever its time
    /// (a new run of an exercise starts its clock again).
    seq: i64,
}

async fn follow(node: Weak<Node>, mut state: PictureState, send: watch::Sender<Arc<Frame>>) {
    let mut changes = match node.upgrade() {
        Some(n) => n.watch_changes(),
        None => return,
    };
    let mut last_frame = Instant::now() - HEARTBEAT;
    let mut idle_since: Option<Instant> = None;
    loop {
        let Some(n) = node.upgrade() else { return };
        // The feed holds one receiver; each open stream holds another.
        if send.receiver_count() <= 1 {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= KEEP {
                if let Ok(mut feeds) = n.pictures.feeds.lock() {
                    feeds.remove(&state.key);
                }
                return;
            }
        } else {
            idle_since = None;
        }
        let fresh = match state.read(&n).await {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::warn!(error = %e, "air picture: reading national tracks failed");
                false
            }
        };
        if fresh || last_frame.elapsed() >= HEARTBEAT {
            match state.fuse(&n) {
                Ok(frame) => {
                    send.send_replace(Arc::new(frame));
                    last_frame = Instant::now();
                }
                Err(e) => tracing::warn!(error = %e, "air picture: fusion failed"),
            }
        }
        drop(n);
        let wait = HEARTBEAT.saturating_sub(last_frame.elapsed());
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                // Posts of several nations' tracks tend to come together: take them as one.
                tokio::time::sleep(SETTLE).await;
            }
            () = tokio::time::sleep(wait) => {}
        }
        if send.is_closed() {
            return;
        }
    }
}

impl PictureState {
    fn new(key: FeedKey, history: Arc<Mutex<HashMap<u64, VecDeque<HistoryPoint>>>>) -> Self {
        PictureState {
            key,
            since: HashMap::new(),
            latest: HashMap::new(),
            fuser: Fuser::new(FusionConfig::new(PROCESS_NOISE)),
            frame: None,
            history,
            seq: 0,
        }
    }

    /// Reads and releases the national tracks stored since the last look; whether any was new.
    async fn read(&mut self, node: &Node) -> Result<bool, NodeError> {
        let day = clock::today();
        let mut fresh = false;
        for collection in self.key.collections.clone() {
            let started = self.since.get(&collection).copied();
            let mut after = started.unwrap_or(0);
            loop {
                let query = ObjectQuery {
                    after_seq: after,
                    added_after_us: match started {
                        Some(_) => None,
                        None => Some(clock::now_us() - START_WINDOW_US),
                    },
                    kinds: vec![NATIONAL_TRACK_TYPE.to_owned()],
                    versions: VersionFilter::last(),
                    limit: BATCH,
                    ..ObjectQuery::default()
                };
                let page = node.store.objects(&collection, &query).await?;
                after = page.objects.last().map_or(after, |o| o.seq);
                let rows = node
                    .release_stored_rows(&self.key.reader, &page.objects, day)
                    .await?;
                for row in rows {
                    fresh |= self.take(row.seq, &row.copy, row.banner);
                }
                if !page.more {
                    break;
                }
            }
            self.since.insert(collection, after);
        }
        Ok(fresh)
    }

    /// Keeps a released national track if it is the latest of its track.
    fn take(&mut self, seq: i64, copy: &serde_json::Value, label: Option<Label>) -> bool {
        let track = match parse_national_track(copy, 0.0) {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(error = %e, "air picture: a national track that does not parse is left out");
                return false;
            }
        };
        if self.frame.is_none() {
            if let Some((lat, lon)) = frame_origin(copy) {
                self.frame = Some(LocalFrame::new(Geodetic { lat, lon, h: 0.0 }));
            }
        }
        match self.latest.get(&track.source) {
            Some(old) if old.seq >= seq => false,
            _ => {
                self.latest
                    .insert(track.source.clone(), Released { track, label, seq });
                true
            }
        }
    }

    /// Fuses the latest national tracks into a frame.
    fn fuse(&mut self, node: &Node) -> Result<Frame, NodeError> {
        // The picture's time is that of the newest contribution; tracks too old at that time,
        // or newer by more than the fuser keeps (an earlier run of an exercise), are dropped.
        let max_age = self.fuser.config().max_age;
        let newest = self
            .latest
            .values()
            .max_by_key(|r| r.seq)
            .map(|r| r.track.t);
        if let Some(t) = newest {
            self.latest
                .retain(|_, r| r.track.t <= t + max_age && r.track.t >= t - max_age);
        }
        let tracks: Vec<&NationalTrack<Markings>> =
            self.latest.values().map(|r| &r.track).collect();
        let fused: Vec<SystemTrack<Markings>> = match newest {
            Some(t) => self
                .fuser
                .fuse(t, &tracks)
                .map_err(|e| internal(format!("air picture: {e}")))?,
            None => Vec::new(),
        };
        self.seq += 1;
        let mut labels = Vec::new();
        let mut out = Vec::with_capacity(fused.len());
        for s in &fused {
            let Some(frame) = &self.frame else { break };
            out.push(self.draw(node, frame, s, &mut labels));
        }
        if let Ok(mut history) = self.history.lock() {
            let shown: HashSet<u64> = out.iter().map(|t| t.stn).collect();
            history.retain(|stn, _| shown.contains(stn));
            for t in &out {
                let h = history.entry(t.stn).or_default();
                let t_s = newest.unwrap_or_default();
                if h.back().is_none_or(|p| p.t < t_s) {
                    h.push_back(HistoryPoint {
                        t: t_s,
                        lat: t.lat,
                        lon: t.lon,
                    });
                }
                while h.len() > HISTORY {
                    h.pop_front();
                }
            }
        }
        let origin = self.frame.as_ref().map(|f| {
            let o = f.origin();
            [o.lat, o.lon]
        });
        let time = newest.and_then(|t| entente_fusion::stix::timestamp(t).ok());
        Ok(Frame::new(
            self.seq,
            render(self.seq, time, origin, &out),
            labels,
            out.len(),
        ))
    }

    fn draw(
        &self,
        node: &Node,
        frame: &LocalFrame,
        s: &SystemTrack<Markings>,
        labels: &mut Vec<Label>,
    ) -> PictureTrack {
        let x = &s.estimate.x;
        let p = &s.estimate.p;
        let at = frame.geodetic(Enu {
            e: x[0],
            n: x[2],
            u: 0.0,
        });
        let (ve, vn) = (x[1], x[3]);
        let mut banner: Option<Label> = None;
        let mut contributions = Vec::with_capacity(s.contributions.len());
        for r in &s.contributions {
            let Some(c) = self.latest.get(r) else {
                continue;
            };
            if let Some(l) = &c.label {
                banner = Some(match banner {
                    None => l.clone(),
                    Some(b) => node.access.policy.dominate(&b, l).unwrap_or(b),
                });
                if !labels.contains(l) {
                    labels.push(l.clone());
                }
            }
            contributions.push(Contribution {
                nation: r.nation.to_string(),
                track: r.local_id.clone(),
                sensor: c.track.sensor.clone(),
                time: entente_fusion::stix::timestamp(c.track.t).unwrap_or_default(),
                label: node.banner_text(c.label.as_ref()),
            });
        }
        PictureTrack {
            stn: s.id,
            lat: at.lat,
            lon: at.lon,
            heading_deg: ve.atan2(vn).to_degrees().rem_euclid(360.0),
            speed_mps: ve.hypot(vn),
            identity: s.identity.as_str(),
            altitude_m: s.reply.altitude_m,
            callsign: s.reply.callsign.clone(),
            quality: s.quality,
            cov: [p[(0, 0)], p[(0, 2)], p[(2, 2)]],
            label: node.banner_text(banner.as_ref()),
            contributions,
        }
    }
}

fn render(
    seq: u64,
    time: Option<String>,
    origin: Option<[f64; 2]>,
    tracks: &[PictureTrack],
) -> String {
    let body = FrameBody {
        seq,
        time,
        made_us: clock::now_us(),
        origin,
        tracks,
    };
    serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned())
}

fn internal(message: impl Into<String>) -> NodeError {
    NodeError::new(crate::error::NodeErrorKind::Internal, message)
}
