//! Crisis rooms: the rooms the signed-in user may see, a form that opens one (a clause of the
//! registry, the requesting nations, the day it is opened "as of"), the recorded invocations a
//! room can replay, and a room's page: its clause, its participants on the map and why each is
//! in, the registry's changes since its day, the shared timeline of what its participants
//! published in it (refreshed by htmx), a form that publishes into it and a way to close it.
//!
//! A room is shown only when the node releases its descriptor to the user
//! (`Node::room_for`: read right on `crisis-*` and a clearance covering the room's label); any
//! other room, present or not, is "not found". The timeline is `view::release_latest` over the
//! room's collection, so it shows only what the user was released.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use entente_crisis::{OpenRequest, RoomStatus};
use entente_node::crisis::{NodeRoom, ROOMS_RIGHT};
use entente_node::NodeErrorKind;
use entente_registry::{ErrorKind, Registry};
use entente_types::{Date, NationCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::registry::map::{Shade, View};
use super::{encode, object_link, render, Frame};
use crate::banner::{label_class, label_text, Banner};
use crate::error::PageError;
use crate::session::SignedIn;
use crate::{Console, BASE};

/// How many rows one read of the room's collection releases.
const BATCH: usize = 500;
/// The longest excerpt of an object's text the timeline shows.
const EXCERPT: usize = 280;

/// The link to a room's page.
fn room_link(uuid: &str) -> String {
    format!("{BASE}/crisis/{}", encode(uuid))
}

/// A STIX timestamp as the pages show times (UTC, to the second); other text as it is.
fn shown_time(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        })
        .unwrap_or_else(|_| text.to_owned())
}

/// Whether `signed_in` may open and close rooms at this node (the node checks it again).
fn may_manage(console: &Console, signed_in: &SignedIn) -> bool {
    let user = &signed_in.session.user;
    user.nation == console.node.config().nation && user.right(ROOMS_RIGHT).is_some_and(|r| r.write)
}

/// A room as a row of the list.
pub struct RoomRow {
    pub link: String,
    pub title: String,
    pub article: String,
    pub agreement: String,
    pub requested_by: String,
    pub as_of: String,
    pub participants: usize,
    pub open: bool,
    pub closed: String,
    pub opened_by: String,
    pub opened: String,
    pub label: String,
    pub label_class: &'static str,
}

/// An invocable clause as an option of the form's select.
pub struct ClauseOption {
    pub value: String,
    pub text: String,
    pub selected: bool,
}

/// A recorded invocation, with the form values that replay it.
pub struct InvocationRow {
    pub article: String,
    pub agreement: String,
    pub clause: String,
    pub requested_by: String,
    pub day: String,
    pub requested: String,
    pub summary: String,
}

/// The open form's values, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    pub clause: String,
    #[serde(default)]
    pub requested_by: String,
    #[serde(default)]
    pub as_of: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "crisis.html")]
struct ListPage {
    frame: Frame,
    rooms: Vec<RoomRow>,
    may_open: bool,
    clauses: Vec<ClauseOption>,
    form: OpenForm,
    /// Field name (`clause`, `requested_by`, `as_of`, `title`, `form`) and message.
    errors: Vec<(&'static str, String)>,
    invocations: Vec<InvocationRow>,
}

impl ListPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn join(nations: &[NationCode]) -> String {
    nations
        .iter()
        .map(NationCode::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The registry's invocable clauses (consultation, collective defence, mutual assistance),
/// each by its alias when it has one, else `agreement/clause`; those with an alias (the
/// clauses invoked most, NATO's Article 4 first) come first.
fn clause_options(registry: &Registry, chosen: &str) -> Vec<ClauseOption> {
    let chosen = registry
        .clause(chosen)
        .ok()
        .map(|(a, c)| format!("{}/{}", a.id, c.id));
    let mut out = Vec::new();
    for a in registry.agreements() {
        for c in a.clauses.iter().filter(|c| c.kind.is_invocable()) {
            let reference = format!("{}/{}", a.id, c.id);
            out.push((
                c.alias.is_none(),
                c.alias.as_deref() != Some("nato-art-4"),
                ClauseOption {
                    selected: chosen.as_deref() == Some(reference.as_str()),
                    value: c.alias.clone().unwrap_or(reference),
                    text: format!("{}, {} ({})", c.article, a.name, c.kind.as_str()),
                },
            ));
        }
    }
    // Stable: the registry's order within each group.
    out.sort_by_key(|(unaliased, not_art4, _)| (*unaliased, *not_art4));
    out.into_iter().map(|(_, _, o)| o).collect()
}

fn invocation_rows(registry: &Registry) -> Vec<InvocationRow> {
    registry
        .invocations()
        .iter()
        .map(|i| {
            let reference = i.clause.to_string();
            let (article, agreement, clause) = match registry.clause(&reference) {
                Ok((a, c)) => (
                    c.article.clone(),
                    a.name.clone(),
                    c.alias.clone().unwrap_or(reference),
                ),
                Err(_) => (reference.clone(), String::new(), reference),
            };
            InvocationRow {
                article,
                agreement,
                clause,
                requested_by: join(&i.requested_by),
                day: i.requested_days().0.to_string(),
                requested: i.requested.to_string(),
                summary: i.summary.clone(),
            }
        })
        .collect()
}

fn room_row(console: &Console, held: &NodeRoom) -> RoomRow {
    let policies = console.node.release_policy().policies();
    let r = &held.room;
    RoomRow {
        link: room_link(r.uuid()),
        title: r.title.clone(),
        article: r.article.clone(),
        agreement: r.agreement_name.clone(),
        requested_by: join(&r.requested_by),
        as_of: r.as_of.to_string(),
        participants: r.participants.len(),
        open: r.is_open(),
        closed: r.closed.as_deref().map(shown_time).unwrap_or_default(),
        opened_by: r.opened_by.to_string(),
        opened: shown_time(&r.opened),
        label: label_text(policies, &held.label),
        label_class: label_class(policies, &held.label),
    }
}

async fn list_page(
    console: &Console,
    signed_in: &SignedIn,
    form: OpenForm,
    errors: Vec<(&'static str, String)>,
) -> Result<ListPage, PageError> {
    let today = entente_node::clock::today();
    let held = console
        .node
        .rooms_for(&signed_in.session.user, today)
        .await?;
    let mut frame = Frame::new(console, signed_in, "Crisis rooms", "crisis");
    frame.banner = Banner::of(console.node.release_policy(), held.iter().map(|r| &r.label));
    let form = OpenForm {
        as_of: if form.as_of.trim().is_empty() {
            today.to_string()
        } else {
            form.as_of
        },
        ..form
    };
    Ok(ListPage {
        frame,
        rooms: held.iter().map(|r| room_row(console, r)).collect(),
        may_open: may_manage(console, signed_in),
        clauses: clause_options(&console.registry, &form.clause),
        form,
        errors,
        invocations: invocation_rows(&console.registry),
    })
}

/// `GET /console/crisis`: the rooms, the open form (pre-filled from the query, which the
/// recorded invocations' buttons set) and the recorded invocations.
pub async fn list(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Query(form): Query<OpenForm>,
) -> Result<Response, PageError> {
    let page = list_page(&console, &signed_in, form, Vec::new()).await?;
    Ok(render(StatusCode::OK, &page))
}

/// Reads the open form into a request, each problem at its field.
fn request_of(
    registry: &Registry,
    form: &OpenForm,
    today: Date,
) -> Result<OpenRequest, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let clause = match registry.clause(&form.clause) {
        Ok((a, c)) => Some((a, c)),
        Err(e) => {
            errors.push(("clause", e.to_string()));
            None
        }
    };
    let mut requested = Vec::new();
    for text in form
        .requested_by
        .split([',', ' ', ';'])
        .filter(|t| !t.trim().is_empty())
    {
        match registry.nation_code(text) {
            Ok(code) if !requested.contains(&code) => requested.push(code),
            Ok(_) => {}
            Err(e) => errors.push(("requested_by", e.to_string())),
        }
    }
    if requested.is_empty() && !errors.iter().any(|(f, _)| *f == "requested_by") {
        errors.push((
            "requested_by",
            "name at least one requesting nation (ISO 3166-1 alpha-3 codes, e.g. POL, EST)".into(),
        ));
    }
    let as_of = match form.as_of.trim() {
        "" => Some(today),
        text => match entente_types::parse_date(text) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(("as_of", e.to_string()));
                None
            }
        },
    };
    // The registry's own checks, placed at the field they concern.
    if let (Some((a, c)), Some(day), false) = (clause, as_of, requested.is_empty()) {
        if let Err(e) = registry.participants(a, c, &requested, day) {
            let field = match e.kind() {
                ErrorKind::NotInForce { .. } => "as_of",
                ErrorKind::NotAParty { .. } | ErrorKind::NotProtected { .. } => "requested_by",
                _ => "clause",
            };
            errors.push((field, e.to_string()));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let title = form.title.trim();
    Ok(OpenRequest {
        clause: form.clause.trim().to_owned(),
        requested_by: requested,
        as_of: as_of.unwrap_or(today),
        title: (!title.is_empty()).then(|| title.to_owned()),
        label: None,
    })
}

/// `POST /console/crisis/open`: opens a room at this node, as the user.
pub async fn open(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: OpenForm = OpenForm::parse(&body);
    signed_in.check_csrf(&form.csrf)?;
    let today = entente_node::clock::today();
    let refused = |errors| async {
        let page = list_page(&console, &signed_in, form.clone(), errors).await?;
        Ok::<_, PageError>(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
    };
    if !may_manage(&console, &signed_in) {
        return refused(vec![(
            "form",
            format!(
                "{} may not open rooms at this node: that takes the write right on {ROOMS_RIGHT} and being of {}",
                signed_in.session.user.name,
                console.node.config().nation
            ),
        )])
        .await;
    }
    let request = match request_of(&console.registry, &form, today) {
        Ok(r) => r,
        Err(errors) => return refused(errors).await,
    };
    match console
        .node
        .open_room(&signed_in.session.user, &request)
        .await
    {
        Ok(room) => {
            tracing::info!(user = %signed_in.session.user.name, room = %room.id, "crisis room opened from the console");
            Ok(Redirect::to(&room_link(room.uuid())).into_response())
        }
        Err(e) => {
            let message = e.to_string();
            let field = if message.starts_with("title") || message.contains("title:") {
                "title"
            } else if message.starts_with("requested_by") {
                "requested_by"
            } else {
                "form"
            };
            match e.kind() {
                NodeErrorKind::Internal => Err(PageError::internal(e)),
                _ => refused(vec![(field, message)]).await,
            }
        }
    }
}

impl OpenForm {
    /// A form body's fields; a field sent twice keeps its last value, unknown ones are ignored.
    fn parse(body: &[u8]) -> OpenForm {
        let mut f = OpenForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "clause" => f.clause = v,
                "requested_by" => f.requested_by = v,
                "as_of" => f.as_of = v,
                "title" => f.title = v,
                "csrf" => f.csrf = v,
                _ => {}
            }
        }
        f
    }
}

/// A participant as the room's table shows it.
pub struct ParticipantRow {
    pub code: String,
    pub name: String,
    pub requesting: bool,
    pub reason: String,
    pub withheld: Option<String>,
}

/// A change of the clause's parties since the room's day.
pub struct ChangeRow {
    pub day: String,
    pub nation: String,
    pub joined: bool,
    pub reason: String,
}

/// One object of the shared timeline.
pub struct TimelineRow {
    pub time: String,
    pub originator: String,
    pub kind: String,
    pub name: String,
    pub excerpt: String,
    pub label: String,
    pub label_class: &'static str,
    pub link: String,
}

/// The room's timeline, replaced in place every few seconds.
struct Timeline {
    base: &'static str,
    uuid: String,
    rows: Vec<TimelineRow>,
    /// Sent with a refresh: the banners follow what the timeline shows.
    banner: Option<Banner>,
}

/// The publish form's values.
#[derive(Debug, Default, Clone)]
pub struct PublishForm {
    pub kind: String,
    pub title: String,
    pub text: String,
    pub csrf: String,
}

impl PublishForm {
    fn parse(body: &[u8]) -> PublishForm {
        let mut f = PublishForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "kind" => f.kind = v,
                "title" => f.title = v,
                "text" => f.text = v,
                "csrf" => f.csrf = v,
                _ => {}
            }
        }
        f
    }
}

/// The timeline alone, as a refresh answers it.
#[derive(Template)]
#[template(path = "crisis_timeline.html")]
struct TimelineFragment {
    t: Timeline,
}

#[derive(Template)]
#[template(path = "crisis_room.html")]
struct RoomPage {
    frame: Frame,
    uuid: String,
    title: String,
    open: bool,
    closed: String,
    label: String,
    label_class: &'static str,
    article: String,
    agreement: String,
    clause: String,
    clause_text: String,
    requested_by: String,
    as_of: String,
    opened_by: String,
    opened: String,
    map_svg: String,
    view_links: Vec<(&'static str, String, bool)>,
    participants: Vec<ParticipantRow>,
    requesting: usize,
    withheld: usize,
    changes: Vec<ChangeRow>,
    today: String,
    timeline: Timeline,
    may_publish: bool,
    may_close: bool,
    form: PublishForm,
    /// Field name (`kind`, `title`, `text`, `object`) and message.
    problems: Vec<(String, String)>,
}

impl RoomPage {
    fn problem(&self, field: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RoomParams {
    #[serde(default)]
    view: String,
}

/// The room's objects released to the user, newest first (the descriptor, labels and schemas
/// aside), and their labels.
async fn timeline_rows(
    console: &Console,
    signed_in: &SignedIn,
    held: &NodeRoom,
    day: Date,
) -> Result<(Vec<TimelineRow>, Vec<entente_labels::Label>), PageError> {
    let policies = console.node.release_policy().policies();
    let reader = &signed_in.session.reader;
    let collection = &held.room.collection;
    let mut released = Vec::new();
    let mut after = 0;
    loop {
        let batch = console
            .node
            .release_latest(reader, collection, after, BATCH, day)
            .await?;
        after = batch.last_seq;
        released.extend(batch.rows.into_iter().filter(|r| {
            entente_node::view::is_holding(&r.kind) && r.kind != entente_crisis::ROOM_TYPE
        }));
        if !batch.more {
            break;
        }
    }
    let time_of = |copy: &Value| {
        copy.get("modified")
            .or_else(|| copy.get("created"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    released.sort_by(|a, b| {
        time_of(&b.copy)
            .cmp(&time_of(&a.copy))
            .then(b.seq.cmp(&a.seq))
    });
    let labels = released.iter().filter_map(|r| r.banner.clone()).collect();
    let rows = released
        .iter()
        .map(|r| {
            let s = |k: &str| r.copy.get(k).and_then(Value::as_str).unwrap_or_default();
            let text = [s("content"), s("description"), s("summary"), s("pattern")]
                .into_iter()
                .find(|t| !t.trim().is_empty())
                .unwrap_or_default();
            let mut excerpt: String = text.chars().take(EXCERPT).collect();
            if text.chars().count() > EXCERPT {
                excerpt.push('…');
            }
            let (label, label_class_) = match &r.banner {
                Some(b) => (label_text(policies, b), label_class(policies, b)),
                None => (String::new(), "level-none"),
            };
            TimelineRow {
                time: shown_time(&time_of(&r.copy)),
                originator: r.originator.to_string(),
                kind: r.kind.clone(),
                name: entente_node::view::display_name(&r.copy),
                excerpt,
                label,
                label_class: label_class_,
                link: object_link(collection, &r.id),
            }
        })
        .collect();
    Ok((rows, labels))
}

async fn room_page(
    console: &Console,
    signed_in: &SignedIn,
    held: &NodeRoom,
    view: View,
    form: PublishForm,
    problems: Vec<(String, String)>,
) -> Result<RoomPage, PageError> {
    let today = entente_node::clock::today();
    let registry = &console.registry;
    let policy = console.node.release_policy();
    let room = &held.room;
    let (rows, mut labels) = timeline_rows(console, signed_in, held, today).await?;
    labels.push(held.label.clone());
    let mut frame = Frame::new(console, signed_in, &room.title, "crisis");
    frame.banner = Banner::of(policy, labels.iter());
    let name_of = |code: NationCode| {
        registry
            .nation(code)
            .map_or_else(|| code.to_string(), |n| n.name.clone())
    };
    let participants: Vec<ParticipantRow> = room
        .participants
        .iter()
        .map(|p| ParticipantRow {
            code: p.nation.to_string(),
            name: name_of(p.nation),
            requesting: p.requesting,
            reason: p.reason.clone(),
            withheld: p.withheld.clone(),
        })
        .collect();
    let shade = |code: Option<NationCode>, atlas_name: &str| -> Shade {
        let Some(code) = code.filter(|c| registry.nation(*c).is_some()) else {
            return Shade {
                class: "other".into(),
                title: atlas_name.to_owned(),
                rank: 0,
            };
        };
        let name = name_of(code);
        match room.participants.iter().find(|p| p.nation == code) {
            Some(p) if p.requesting => Shade {
                class: "room-requesting".into(),
                title: format!("{name} ({code}) requested the consultation: {}", p.reason),
                rank: 4,
            },
            Some(p) if p.withheld.is_some() => Shade {
                class: "room-withheld".into(),
                title: format!(
                    "{name} ({code}) is in the room but receives nothing yet: {}",
                    p.withheld.as_deref().unwrap_or_default()
                ),
                rank: 3,
            },
            Some(p) => Shade {
                class: "room-participant".into(),
                title: format!("{name} ({code}) takes part: {}", p.reason),
                rank: 3,
            },
            None => Shade {
                class: "known".into(),
                title: format!(
                    "{name} ({code}) is not a party to the clause on {}",
                    room.as_of
                ),
                rank: 1,
            },
        }
    };
    let map_svg = super::registry::nations_map(
        registry,
        view,
        &format!(
            "Map of the {} participants in the room as of {}, the requesting nations emphasised; the table beside the map lists them",
            participants.len(),
            room.as_of
        ),
        shade,
    );
    let uuid = room.uuid().to_owned();
    let view_links = View::ALL
        .into_iter()
        .map(|v| {
            (
                v.title(),
                format!("{}?view={}", room_link(&uuid), v.as_str()),
                v == view,
            )
        })
        .collect();
    let changes = console
        .node
        .room_changes(room, today)
        .into_iter()
        .map(|c| ChangeRow {
            day: c.day.to_string(),
            nation: format!("{} ({})", name_of(c.nation), c.nation),
            joined: c.joined,
            reason: c.reason,
        })
        .collect();
    let user = &signed_in.session.user;
    let may_publish = room.is_open()
        && user
            .right(&room.collection)
            .is_some_and(|r| r.read && r.write);
    Ok(RoomPage {
        frame,
        title: room.title.clone(),
        open: room.status == RoomStatus::Open,
        closed: room.closed.as_deref().map(shown_time).unwrap_or_default(),
        label: label_text(policy.policies(), &held.label),
        label_class: label_class(policy.policies(), &held.label),
        article: room.article.clone(),
        agreement: room.agreement_name.clone(),
        clause: room.clause.clone(),
        clause_text: room.clause_text.trim_matches('"').to_owned(),
        requested_by: room
            .requested_by
            .iter()
            .map(|n| format!("{} ({n})", name_of(*n)))
            .collect::<Vec<_>>()
            .join(", "),
        as_of: room.as_of.to_string(),
        opened_by: name_of(room.opened_by),
        opened: shown_time(&room.opened),
        map_svg,
        view_links,
        requesting: participants.iter().filter(|p| p.requesting).count(),
        withheld: participants.iter().filter(|p| p.withheld.is_some()).count(),
        participants,
        changes,
        today: today.to_string(),
        timeline: Timeline {
            base: BASE,
            uuid: uuid.clone(),
            rows,
            banner: None,
        },
        may_publish,
        // Only the node that opened a room closes it.
        may_close: room.is_open()
            && room.opened_by == console.node.config().nation
            && may_manage(console, signed_in),
        uuid,
        form: PublishForm {
            kind: if form.kind.is_empty() {
                "report".into()
            } else {
                form.kind
            },
            ..form
        },
        problems,
    })
}

/// The room `uuid` if the user may see it; "not found" otherwise, as for an absent one.
async fn held_room(
    console: &Console,
    signed_in: &SignedIn,
    uuid: &str,
) -> Result<Arc<NodeRoom>, PageError> {
    if uuid::Uuid::parse_str(uuid).is_err() {
        return Err(PageError::not_found());
    }
    Ok(console
        .node
        .room_for(&signed_in.session.user, uuid, entente_node::clock::today())
        .await?)
}

/// `GET /console/crisis/{uuid}`: the room.
pub async fn room(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(uuid): Path<String>,
    Query(params): Query<RoomParams>,
) -> Result<Response, PageError> {
    let held = held_room(&console, &signed_in, &uuid).await?;
    let view = View::parse(params.view.trim()).unwrap_or(View::World);
    let page = room_page(
        &console,
        &signed_in,
        &held,
        view,
        PublishForm::default(),
        Vec::new(),
    )
    .await?;
    Ok(render(StatusCode::OK, &page))
}

/// `GET /console/crisis/{uuid}/timeline` (htmx): the timeline, with the banners out of band.
pub async fn timeline(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let held = held_room(&console, &signed_in, &uuid).await?;
    if !headers.contains_key("hx-request") {
        // A reload of the fragment's URL goes to its page.
        return Ok(Redirect::to(&room_link(held.room.uuid())).into_response());
    }
    let (rows, mut labels) =
        timeline_rows(&console, &signed_in, &held, entente_node::clock::today()).await?;
    labels.push(held.label.clone());
    Ok(render(
        StatusCode::OK,
        &TimelineFragment {
            t: Timeline {
                base: BASE,
                uuid: held.room.uuid().to_owned(),
                rows,
                banner: Some(Banner::of(console.node.release_policy(), labels.iter())),
            },
        },
    ))
}

/// The STIX object the publish form stands for, unlabelled (the room's label applies at
/// ingest), referring to the room's descriptor; or the problems, field by field.
pub fn room_object(
    form: &PublishForm,
    descriptor: &str,
    now: &str,
) -> Result<Value, Vec<(String, String)>> {
    let mut problems = Vec::new();
    let title = form.title.trim();
    let text = form.text.trim();
    let kind = form.kind.as_str();
    let mut object = Map::new();
    object.insert("type".into(), json!(kind));
    object.insert("spec_version".into(), json!("2.1"));
    object.insert(
        "id".into(),
        json!(format!("{kind}--{}", uuid::Uuid::new_v4())),
    );
    object.insert("created".into(), json!(now));
    object.insert("modified".into(), json!(now));
    match kind {
        "note" => {
            if text.is_empty() {
                problems.push(("text".into(), "is required: write the note".into()));
            }
            if !title.is_empty() {
                object.insert("abstract".into(), json!(title));
            }
            object.insert("content".into(), json!(text));
        }
        "report" => {
            if title.is_empty() {
                problems.push(("title".into(), "is required: a report has a name".into()));
            }
            object.insert("name".into(), json!(title));
            if !text.is_empty() {
                object.insert("description".into(), json!(text));
            }
            object.insert("published".into(), json!(now));
            object.insert("report_types".into(), json!(["threat-report"]));
        }
        _ => problems.push(("kind".into(), "choose a note or a report".into())),
    }
    object.insert("object_refs".into(), json!([descriptor]));
    if problems.is_empty() {
        Ok(Value::Object(object))
    } else {
        Err(problems)
    }
}

/// `POST /console/crisis/{uuid}/publish`: a note or a report into the room, as the user.
pub async fn publish(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(uuid): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = PublishForm::parse(&body);
    signed_in.check_csrf(&form.csrf)?;
    let held = held_room(&console, &signed_in, &uuid).await?;
    let refused = |form: PublishForm, problems| async {
        let page = room_page(&console, &signed_in, &held, View::World, form, problems).await?;
        Ok::<_, PageError>(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
    };
    let now = entente_node::clock::now_text();
    let object = match room_object(&form, &held.room.id, &now) {
        Ok(o) => o,
        Err(problems) => return refused(form, problems).await,
    };
    let id = object["id"].as_str().unwrap_or_default().to_owned();
    let envelope = json!({ "objects": [object] }).to_string();
    let user = &signed_in.session.user;
    let status = match console
        .node
        .post_envelope(user, &held.room.collection, envelope.as_bytes())
        .await
    {
        Ok(s) => s,
        Err(e) if e.kind() == NodeErrorKind::Internal => return Err(PageError::internal(e)),
        Err(e) => return refused(form, vec![("object".into(), e.to_string())]).await,
    };
    if !status.successes.iter().any(|s| s.id == id) {
        let problems = status
            .failures
            .iter()
            .map(|f| {
                (
                    "object".to_owned(),
                    f.message.clone().unwrap_or_else(|| "refused".into()),
                )
            })
            .collect::<Vec<_>>();
        let problems = if problems.is_empty() {
            vec![("object".into(), "the node did not store it".into())]
        } else {
            problems
        };
        return refused(form, problems).await;
    }
    tracing::info!(user = %user.name, room = %held.room.id, object_id = %id, "published into a crisis room from the console");
    Ok(Redirect::to(&format!("{}#timeline", room_link(held.room.uuid()))).into_response())
}

#[derive(Template)]
#[template(path = "crisis_close.html")]
struct ClosePage {
    frame: Frame,
    uuid: String,
    title: String,
}

/// `GET /console/crisis/{uuid}/close`: the confirmation step.
pub async fn close_confirm(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(uuid): Path<String>,
) -> Result<Response, PageError> {
    let held = held_room(&console, &signed_in, &uuid).await?;
    if !held.room.is_open() {
        return Ok(Redirect::to(&room_link(held.room.uuid())).into_response());
    }
    if !may_manage(&console, &signed_in) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Closing a room takes the write right on {ROOMS_RIGHT} at this node's nation's console."
            ),
        ));
    }
    let mut frame = Frame::new(&console, &signed_in, "Close the room", "crisis");
    frame.banner = Banner::of(console.node.release_policy(), [&held.label]);
    Ok(render(
        StatusCode::OK,
        &ClosePage {
            frame,
            uuid: held.room.uuid().to_owned(),
            title: held.room.title.clone(),
        },
    ))
}

/// `POST /console/crisis/{uuid}/close`: closes the room.
pub async fn close(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(uuid): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = PublishForm::parse(&body);
    signed_in.check_csrf(&form.csrf)?;
    let held = held_room(&console, &signed_in, &uuid).await?;
    match console
        .node
        .close_room(&signed_in.session.user, held.room.uuid())
        .await
    {
        Ok(_) => Ok(Redirect::to(&room_link(held.room.uuid())).into_response()),
        Err(e) if e.kind() == NodeErrorKind::Forbidden => {
            Err(PageError::new(StatusCode::FORBIDDEN, e.to_string()))
        }
        Err(e) if e.kind() == NodeErrorKind::Unprocessable => {
            Err(PageError::bad_request(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn form(kind: &str, title: &str, text: &str) -> PublishForm {
        PublishForm {
            kind: kind.into(),
            title: title.into(),
            text: text.into(),
            csrf: String::new(),
        }
    }

    #[test]
    fn a_note_and_a_report_refer_to_the_room_and_carry_no_label() {
        let room = "x-entente-crisis-room--0b6c7b52-5d64-4b5f-9a43-7d5b2f3c8e11";
        let now = "2026-12-07T10:00:00.000Z";
        let note = room_object(&form("note", "Sitrep", "All quiet"), room, now).unwrap();
        assert_eq!(note["content"], "All quiet");
        assert_eq!(note["abstract"], "Sitrep");
        assert_eq!(note["object_refs"], json!([room]));
        assert!(note.get("object_marking_refs").is_none());
        let report = room_object(&form("report", "Overflight", "Two tracks"), room, now).unwrap();
        assert_eq!(report["name"], "Overflight");
        assert_eq!(report["description"], "Two tracks");
        assert_eq!(report["published"], now);
        assert_eq!(report["object_refs"], json!([room]));
        assert!(report.get("object_marking_refs").is_none());
        entente_stix::validate_object(&note).unwrap();
        entente_stix::validate_object(&report).unwrap();
    }

    #[test]
    fn missing_fields_are_named() {
        let room = "x-entente-crisis-room--0b6c7b52-5d64-4b5f-9a43-7d5b2f3c8e11";
        let e = room_object(&form("note", "", " "), room, "t").unwrap_err();
        assert_eq!(e[0].0, "text");
        let e = room_object(&form("report", "", "x"), room, "t").unwrap_err();
        assert_eq!(e[0].0, "title");
        let e = room_object(&form("indicator", "a", "b"), room, "t").unwrap_err();
        assert_eq!(e[0].0, "kind");
    }
}
