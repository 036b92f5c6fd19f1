//! Exercise replay: the recorded runs of joint air policing exercises (`entente_exercise`'s
//! `run.json`), listed and replayed on the air map with a timeline and the after-action review
//! beside it.
//!
//! Runs come from the folder `[console] exercise_runs` in `node.toml` names (one folder per
//! run, each with its `run.json`) and from files users upload, which are kept in memory for
//! their session only. A run's data reaches the browser once, pre-shaped for scrubbing
//! (`data.json`: per aircraft and per nation's track, samples sorted by time); `replay.js`
//! finds any instant by binary search. The review (standards, picture quality, first
//! sightings) is `entente_exercise::aar`'s, rendered here.
//!
//! Exercise records are simulation output, not labelled information: the pages carry the
//! unlabelled banner.

mod data;
mod multipart;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use entente_exercise::aar;
use entente_exercise::scenario::format_duration;
use entente_exercise::RunRecord;

use super::{encode, render, Frame};
use crate::error::PageError;
use crate::session::SignedIn;
use crate::{Console, BASE};

/// The largest `run.json` a user may upload (the two-hour Baltic run is under 2 MB).
pub const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;
/// Uploaded runs kept per session; the oldest goes first.
const UPLOADS_PER_SESSION: usize = 4;
/// Sessions whose uploads are kept; the least recent goes first.
const UPLOAD_SESSIONS: usize = 64;
/// What marks an uploaded run's id (a folder name never contains it).
const UPLOAD_MARK: &str = "upload~";
/// Room for the multipart framing and the CSRF field around the file.
pub const MULTIPART_SLACK: usize = 64 * 1024;

/// A run, read and shaped for the browser.
pub struct Run {
    /// The folder name, or `upload~N` for an upload.
    pub id: String,
    pub record: RunRecord,
    /// `data.json`, made once.
    data: Vec<u8>,
}

impl Run {
    fn new(id: String, record: RunRecord) -> Run {
        let data = data::shape(&id, &record);
        Run { id, record, data }
    }
}

/// The runs of the configured folder (read again when their file changes) and the uploads of
/// each session.
#[derive(Default)]
pub struct Runs {
    folder: Mutex<HashMap<String, Cached>>,
    uploads: Mutex<Uploads>,
}

/// A folder's run with the modification time and length of the `run.json` it was read from.
type Cached = (SystemTime, u64, Arc<Run>);

#[derive(Default)]
struct Uploads {
    next: u64,
    /// Per session (its CSRF token, a secret as long as the session): when it last uploaded,
    /// and its runs, oldest first.
    by_session: HashMap<String, (u64, Vec<Arc<Run>>)>,
}

impl Runs {
    fn upload(&self, session: &str, record: RunRecord) -> Arc<Run> {
        let mut u = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        u.next += 1;
        let n = u.next;
        let run = Arc::new(Run::new(format!("{UPLOAD_MARK}{n}"), record));
        if !u.by_session.contains_key(session) && u.by_session.len() >= UPLOAD_SESSIONS {
            let oldest = u
                .by_session
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                u.by_session.remove(&k);
            }
        }
        let entry = u.by_session.entry(session.to_owned()).or_default();
        entry.0 = n;
        entry.1.push(run.clone());
        if entry.1.len() > UPLOADS_PER_SESSION {
            entry.1.remove(0);
        }
        run
    }

    fn uploaded(&self, session: &str) -> Vec<Arc<Run>> {
        let u = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        u.by_session
            .get(session)
            .map(|(_, runs)| runs.clone())
            .unwrap_or_default()
    }

    /// The run in `folder/name/run.json`, read again only when the file changed.
    fn in_folder(&self, folder: &FsPath, name: &str) -> Result<Arc<Run>, String> {
        let file = folder.join(name).join("run.json");
        let meta = std::fs::metadata(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if let Some((m, len, run)) = self
            .folder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            if *m == modified && *len == meta.len() {
                return Ok(run.clone());
            }
        }
        let record = RunRecord::load(&file).map_err(|e| e.to_string())?;
        let run = Arc::new(Run::new(name.to_owned(), record));
        self.folder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), (modified, meta.len(), run.clone()));
        Ok(run)
    }
}

/// Whether `name` may be a run folder's name: what a URL path segment carries unchanged, and
/// never `.`-first (no `..`, no hidden folders).
fn is_run_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// One line of the list: a run, or a folder whose run could not be read.
pub struct RunRow {
    pub link: String,
    pub name: String,
    pub scenario: String,
    pub title: String,
    pub duration: String,
    pub nations: String,
    pub when: String,
    pub uploaded: bool,
    /// Why the run cannot be shown.
    pub problem: Option<String>,
}

impl RunRow {
    fn of(run: &Run, uploaded: bool) -> RunRow {
        let r = &run.record;
        RunRow {
            link: format!("{BASE}/exercises/{}", encode(&run.id)),
            name: run.id.clone(),
            scenario: r.scenario.clone(),
            title: r.title.clone(),
            duration: format_duration(r.duration),
            nations: r.nations.join(", "),
            when: utc(r.epoch),
            uploaded,
            problem: None,
        }
    }
}

/// A Unix time in seconds as the pages show it.
fn utc(epoch: f64) -> String {
    if epoch.is_finite() {
        super::format_time((epoch * 1e6) as i64)
    } else {
        String::new()
    }
}

/// The runs in the configured folder, by name; each folder without a readable `run.json` is a
/// row naming its problem.
fn folder_rows(console: &Console, folder: &FsPath) -> Result<Vec<RunRow>, String> {
    let entries = std::fs::read_dir(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("run.json").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_run_name(n))
        .collect();
    names.sort();
    Ok(names
        .into_iter()
        .map(|name| match console.exercises.in_folder(folder, &name) {
            Ok(run) => RunRow::of(&run, false),
            Err(problem) => RunRow {
                link: String::new(),
                name: name.clone(),
                scenario: String::new(),
                title: String::new(),
                duration: String::new(),
                nations: String::new(),
                when: String::new(),
                uploaded: false,
                problem: Some(problem),
            },
        })
        .collect())
}

#[derive(Template)]
#[template(path = "exercises.html")]
struct ListPage {
    frame: Frame,
    folder: Option<String>,
    folder_problem: Option<String>,
    rows: Vec<RunRow>,
    upload_limit_mb: usize,
    /// Why an upload was refused.
    refused: Option<String>,
}

async fn list_page(
    console: Arc<Console>,
    signed_in: SignedIn,
    status: StatusCode,
    refused: Option<String>,
) -> Response {
    let frame = Frame::new(&console, &signed_in, "Exercises", "exercises");
    let folder: Option<PathBuf> = console.node.config().console.exercise_runs.clone();
    let (mut rows, folder_problem) = match folder.clone() {
        Some(dir) => {
            let c = console.clone();
            match tokio::task::spawn_blocking(move || folder_rows(&c, &dir)).await {
                Ok(Ok(rows)) => (rows, None),
                Ok(Err(problem)) => (Vec::new(), Some(problem)),
                Err(e) => (Vec::new(), Some(e.to_string())),
            }
        }
        None => (Vec::new(), None),
    };
    rows.extend(
        console
            .exercises
            .uploaded(&signed_in.session.csrf)
            .iter()
            .map(|run| RunRow::of(run, true)),
    );
    render(
        status,
        &ListPage {
            frame,
            folder: folder.map(|f| f.display().to_string()),
            folder_problem,
            rows,
            upload_limit_mb: UPLOAD_LIMIT / (1024 * 1024),
            refused,
        },
    )
}

/// `GET /console/exercises/`: the recorded runs and the upload form.
pub async fn list(State(console): State<Arc<Console>>, signed_in: SignedIn) -> Response {
    list_page(console, signed_in, StatusCode::OK, None).await
}

/// The run `id` as `signed_in` may open it: a folder's run, or one of the session's uploads.
async fn find(
    console: &Arc<Console>,
    signed_in: &SignedIn,
    id: &str,
) -> Result<Arc<Run>, PageError> {
    if id.starts_with(UPLOAD_MARK) {
        return console
            .exercises
            .uploaded(&signed_in.session.csrf)
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(PageError::not_found);
    }
    let Some(folder) = console.node.config().console.exercise_runs.clone() else {
        return Err(PageError::not_found());
    };
    if !is_run_name(id) || !folder.join(id).join("run.json").is_file() {
        return Err(PageError::not_found());
    }
    let c = console.clone();
    let name = id.to_owned();
    tokio::task::spawn_blocking(move || c.exercises.in_folder(&folder, &name))
        .await
        .map_err(PageError::internal)?
        .map_err(|problem| {
            PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("This run cannot be replayed: {problem}"),
            )
        })
}

/// A row of the standards table.
pub struct StandardRow {
    pub name: String,
    pub flight: String,
    pub target: String,
    pub from: String,
    pub to: String,
    pub elapsed: String,
    pub within: String,
    pub met: bool,
    pub source: String,
}

/// A row of the picture quality table.
pub struct QualityRow {
    pub nation: String,
    pub mean_gospa: String,
    pub mean_missed: String,
    pub mean_false: String,
    pub mean_localisation: String,
}

/// A row of "what each nation saw and when".
pub struct SightingRow {
    pub nation: String,
    pub callsign: String,
    pub entered: String,
    pub own_sensors: String,
    pub picture: String,
    pub picture_t: Option<f64>,
}

/// A row of "what each nation was released": one sensor's tracks for one recipient on one day.
pub struct ReleaseRow {
    pub day: String,
    pub sensor: String,
    pub nation: String,
    pub recipient: String,
    pub label: String,
    pub released: bool,
    pub reason: String,
}

/// An event of the timeline.
pub struct EventRow {
    pub t: f64,
    pub time: String,
    pub text: &'static str,
    pub subject: String,
    pub target: String,
    pub nation: String,
}

#[derive(Template)]
#[template(path = "exercise.html")]
struct ReplayPage {
    frame: Frame,
    run: RunRow,
    data_url: String,
    /// The run's length in whole seconds (the scrubber's range).
    duration_s: u64,
    seed: u64,
    nations: Vec<String>,
    events: Vec<EventRow>,
    standards: Vec<StandardRow>,
    quality: Vec<QualityRow>,
    sightings: Vec<SightingRow>,
    /// Empty for records written before tracks carried labels.
    releases: Vec<ReleaseRow>,
}

fn opt_time(t: Option<f64>) -> String {
    t.map(format_duration).unwrap_or_else(|| "—".into())
}

/// `GET /console/exercises/{run}`: the replay.
pub async fn page(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let run = find(&console, &signed_in, &id).await?;
    let r = &run.record;
    let frame = Frame::new(
        &console,
        &signed_in,
        &format!("Replay: {}", r.title),
        "exercises",
    );
    let review = aar::review(r);
    let page = ReplayPage {
        frame,
        run: RunRow::of(&run, id.starts_with(UPLOAD_MARK)),
        data_url: format!("{BASE}/exercises/{}/data.json", encode(&run.id)),
        duration_s: r.duration.max(0.0).ceil() as u64,
        seed: r.seed,
        nations: r.nations.clone(),
        events: r
            .timeline
            .iter()
            .map(|e| EventRow {
                t: e.t,
                time: format_duration(e.t),
                text: data::milestone_text(e.milestone),
                subject: e.subject.clone(),
                target: e.target.clone().unwrap_or_default(),
                nation: e.nation.clone().unwrap_or_default(),
            })
            .collect(),
        standards: review
            .standards
            .iter()
            .map(|s| StandardRow {
                name: s.name.clone(),
                flight: s.flight.clone(),
                target: s.target.clone().unwrap_or_default(),
                from: opt_time(s.from_t),
                to: opt_time(s.to_t),
                elapsed: opt_time(s.elapsed),
                within: format_duration(s.within),
                met: s.met,
                source: s.source.clone(),
            })
            .collect(),
        quality: review
            .quality
            .iter()
            .map(|q| QualityRow {
                nation: q.nation.clone(),
                mean_gospa: format!("{:.0}", q.mean_gospa),
                mean_missed: format!("{:.2}", q.mean_missed),
                mean_false: format!("{:.2}", q.mean_false),
                mean_localisation: format!("{:.0}", q.mean_localisation),
            })
            .collect(),
        sightings: r
            .first_seen
            .iter()
            .map(|f| SightingRow {
                nation: f.nation.clone(),
                callsign: f.callsign.clone(),
                entered: opt_time(f.entered),
                own_sensors: opt_time(f.own_sensors),
                picture: opt_time(f.picture),
                picture_t: f.picture,
            })
            .collect(),
        releases: r
            .releases
            .iter()
            .filter(|e| e.nation != e.recipient)
            .map(|e| ReleaseRow {
                day: e.day.clone(),
                sensor: e.sensor.clone(),
                nation: e.nation.clone(),
                recipient: e.recipient.clone(),
                label: e.label.clone(),
                released: e.released,
                reason: e.reason.clone(),
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// `GET /console/exercises/{run}/data.json`: the run shaped for the replay.
pub async fn data(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let run = find(&console, &signed_in, &id).await?;
    let mut r = (StatusCode::OK, run.data.clone()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// `POST /console/exercises/upload` (multipart: `csrf` and the file `run`): a `run.json` kept
/// for the session, then its replay; refused with the field at fault when it is not a run.
pub async fn upload(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) if body.len() <= UPLOAD_LIMIT + MULTIPART_SLACK => body,
        _ => {
            return list_page(
                console,
                signed_in,
                StatusCode::PAYLOAD_TOO_LARGE,
                Some(format!(
                    "The file is larger than the {} MB a run.json may be.",
                    UPLOAD_LIMIT / (1024 * 1024)
                )),
            )
            .await
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = match multipart::parse(content_type, &body) {
        Ok(parts) => parts,
        Err(why) => {
            return list_page(
                console,
                signed_in,
                StatusCode::BAD_REQUEST,
                Some(format!("The upload could not be read: {why}.")),
            )
            .await
        }
    };
    let csrf = parts
        .iter()
        .find(|p| p.name == "csrf")
        .map(|p| String::from_utf8_lossy(&p.body).into_owned())
        .unwrap_or_default();
    if let Err(e) = signed_in.check_csrf(&csrf) {
        return e.into_response();
    }
    let Some(file) = parts.iter().find(|p| p.name == "run") else {
        return list_page(
            console,
            signed_in,
            StatusCode::BAD_REQUEST,
            Some("Choose a run.json file to upload.".into()),
        )
        .await;
    };
    let shown = file.filename.clone().unwrap_or_else(|| "run.json".into());
    if file.body.is_empty() {
        return list_page(
            console,
            signed_in,
            StatusCode::BAD_REQUEST,
            Some(format!("{shown} is empty.")),
        )
        .await;
    }
    let record = match parse_record(&file.body) {
        Ok(record) => record,
        Err(why) => {
            return list_page(
                console,
                signed_in,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(format!("{shown} is not a run record: {why}.")),
            )
            .await
        }
    };
    let run = console.exercises.upload(&signed_in.session.csrf, record);
    Redirect::to(&format!("{BASE}/exercises/{}", encode(&run.id))).into_response()
}

/// A run record from uploaded JSON; the error names the field at fault (`truth[3].lat`) and
/// where it is in the file.
pub fn parse_record(json: &[u8]) -> Result<RunRecord, String> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let record: RunRecord = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = format!("line {}, column {}", inner.line(), inner.column());
        if matches!(path.as_str(), "." | "?" | "") {
            format!("{inner}")
        } else {
            format!("field {path}: {inner} ({at})")
        }
    })?;
    if record.version != RunRecord::VERSION {
        return Err(format!(
            "field version: record version {} is not supported (expected {})",
            record.version,
            RunRecord::VERSION
        ));
    }
    if !(record.duration.is_finite() && record.duration >= 0.0) {
        return Err(format!(
            "field duration: {} is not a length of time",
            record.duration
        ));
    }
    Ok(record)
}
