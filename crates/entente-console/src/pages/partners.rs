//! Partners and audit: every federation link (up or down, last delivery, backlog, counts), the
//! partners' checkpoint checks with a split view as an alarm, and the node's audit log (the
//! signed checkpoint, the latest entries, an inclusion proof verified on demand).
//!
//! The audit log records every object the node publishes, releases, receives or denies,
//! whoever may see it. An entry names its object only when the object is in the reader's
//! holdings; otherwise it shows what happened and when, with the object, its origin and the
//! reason left out. Reasons (the release policy's explanation) are shown only for objects the
//! reader holds whole, since they may describe portions withheld from a tear-lined copy.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use entente_audit::{AuditEvent, EventKind, Journal};
use entente_federation::{CheckpointState, Federation, LinkState, PartnerStatus};
use entente_labels::Label;

use super::{format_time, object_link, render, Frame};
use crate::banner::Banner;
use crate::error::PageError;
use crate::holdings::Holding;
use crate::session::SignedIn;
use crate::{Console, BASE};

/// Audit entries shown, the latest first.
pub const LATEST: u64 = 50;
/// Change-stream positions counted in a backlog before it shows as "more than".
pub const BACKLOG_CAP: usize = 1000;

/// What a redacted entry shows in place of its object.
pub const REDACTED: &str = "an object not available to you";

/// One federation link as the table shows it.
pub struct LinkRow {
    pub nation: String,
    pub url: String,
    /// `up`, `down` or `unknown`, for its class and text.
    pub state: &'static str,
    pub error: Option<String>,
    pub last_attempt: String,
    pub last_delivery: String,
    pub backlog: String,
    pub sent: u64,
    pub refused_by_partner: u64,
    pub denied: u64,
    pub received: u64,
    pub refused_from_partner: u64,
    pub last_received: String,
    pub checkpoint: String,
    pub checkpoint_checked: String,
    pub checks_audit: bool,
}

/// A partner that showed two histories.
pub struct Alarm {
    pub nation: String,
    pub at: String,
    pub message: String,
}

/// The object an entry names, when the reader may see it.
#[derive(Debug)]
pub struct ObjectRef {
    pub link: String,
    pub name: String,
    pub id: String,
    pub kind: String,
}

/// One audit entry as the table shows it.
#[derive(Debug)]
pub struct EntryRow {
    pub index: u64,
    pub at: String,
    pub kind: &'static str,
    /// The other nation of a release, receive or deny.
    pub partner: String,
    pub object: Option<ObjectRef>,
    pub origin: String,
    /// The version (`modified`) of the object, shown with it.
    pub version: String,
    pub detail: String,
}

/// The checkpoint as the page shows it.
pub struct CheckpointView {
    pub origin: String,
    pub size: u64,
    pub root: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct Page {
    frame: Frame,
    federates: bool,
    nation: String,
    links: Vec<LinkRow>,
    alarms: Vec<Alarm>,
    checkpoint: Option<CheckpointView>,
    entries: Vec<EntryRow>,
    /// Entries in the log (the checkpoint's size), and the index of the oldest shown.
    size: u64,
    redacted: usize,
}

/// The row of an audit entry for a reader: its object named only when `holding` (the reader's
/// row of that object) is given; otherwise the object, its origin, version and the reason are
/// left out.
pub fn entry_row(index: u64, event: &AuditEvent, holding: Option<&Holding>) -> EntryRow {
    let at = chrono::DateTime::parse_from_rfc3339(&event.at)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| event.at.clone());
    let partner = event.partner.clone().unwrap_or_default();
    let kind = event.kind.as_str();
    let Some(h) = holding else {
        return EntryRow {
            index,
            at,
            kind,
            partner,
            object: None,
            origin: String::new(),
            version: String::new(),
            detail: String::new(),
        };
    };
    // A policy's explanation may describe the portions withheld from a tear-lined copy.
    let explains_policy = matches!(event.kind, EventKind::Release | EventKind::Deny);
    let detail = match &event.detail {
        Some(_) if explains_policy && h.tear_lined => {
            "(not shown: your copy is tear-lined)".to_owned()
        }
        Some(d) => d.clone(),
        None => String::new(),
    };
    EntryRow {
        index,
        at,
        kind,
        partner,
        object: Some(ObjectRef {
            link: object_link(&h.collection, &h.id),
            name: h.name.clone(),
            id: h.id.clone(),
            kind: h.kind.clone(),
        }),
        origin: event.origin.clone(),
        version: event.version.clone(),
        detail,
    }
}

fn link_row(
    fed: &Federation,
    nation: entente_types::NationCode,
    status: &PartnerStatus,
    backlog: String,
) -> LinkRow {
    let config = fed.config().partner(nation);
    let (state, error) = match &status.link {
        LinkState::Up => ("up", None),
        LinkState::Down(e) => ("down", Some(e.clone())),
        LinkState::Unknown => ("unknown", None),
    };
    let when = |t: Option<i64>| t.map(format_time).unwrap_or_else(|| "never".into());
    let checkpoint = match &status.checkpoint {
        CheckpointState::Unchecked => "not checked yet".to_owned(),
        CheckpointState::Consistent { size, .. } => {
            format!("consistent, {size} entries")
        }
        CheckpointState::Unreachable(e) => format!("not fetched: {e}"),
    };
    LinkRow {
        nation: nation.as_str().to_owned(),
        url: config.map(|c| c.url.clone()).unwrap_or_default(),
        state,
        error,
        last_attempt: when(status.last_attempt_us),
        last_delivery: when(status.last_delivery_us),
        backlog,
        sent: status.sent,
        refused_by_partner: status.refused_by_partner,
        denied: status.denied,
        received: status.received,
        refused_from_partner: status.refused_from_partner,
        last_received: when(status.last_received_us),
        checkpoint,
        checkpoint_checked: when(status.checkpoint_checked_us),
        checks_audit: config.is_some_and(|c| c.audit_key.is_some()),
    }
}

/// The signed checkpoint and the latest entries, newest first.
async fn read_log(
    log: &Journal,
) -> Result<(entente_audit::Checkpoint, Vec<(u64, AuditEvent)>), PageError> {
    let checkpoint = log.checkpoint().await.map_err(PageError::internal)?;
    let end = checkpoint.size;
    let start = end.saturating_sub(LATEST);
    let entries = log.entries(start..end).await.map_err(PageError::internal)?;
    let mut latest: Vec<(u64, AuditEvent)> = (start..end).zip(entries).collect();
    latest.reverse();
    Ok((checkpoint, latest))
}

/// `GET /console/partners`.
pub async fn page(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    let mut frame = Frame::new(&console, &signed_in, "Partners and audit", "partners");
    let nation = console.node.config().nation.as_str().to_owned();
    let Some(fed) = console.federation.clone() else {
        return Ok(render(
            StatusCode::OK,
            &Page {
                frame,
                federates: false,
                nation,
                links: Vec::new(),
                alarms: Vec::new(),
                checkpoint: None,
                entries: Vec::new(),
                size: 0,
                redacted: 0,
            },
        ));
    };
    let mut links = Vec::new();
    let mut alarms = Vec::new();
    for (partner, status) in fed.partner_status() {
        let backlog = match fed.backlog(partner, BACKLOG_CAP).await {
            Ok(b) if b.more => format!("more than {BACKLOG_CAP}"),
            Ok(b) => b.count.to_string(),
            Err(e) => {
                tracing::warn!(partner = %partner, error = %e, "backlog not counted");
                "unknown".into()
            }
        };
        if let Some(split) = &status.split_view {
            alarms.push(Alarm {
                nation: partner.as_str().to_owned(),
                at: format_time(split.at_us),
                message: split.message.clone(),
            });
        }
        links.push(link_row(&fed, partner, &status, backlog));
    }
    let (checkpoint, events) = read_log(fed.audit()).await?;
    let index = console
        .holdings
        .of(
            &console.node,
            &signed_in.session.reader,
            entente_node::clock::today(),
        )
        .await?;
    let mut labels: Vec<Label> = Vec::new();
    let mut entries = Vec::with_capacity(events.len());
    for (i, event) in &events {
        let holding = index.find(&event.object_id);
        if let Some(l) = holding.and_then(|h| h.label.as_ref()) {
            labels.push(l.clone());
        }
        entries.push(entry_row(*i, event, holding));
    }
    // The page names the objects of the entries shown: its banner is theirs.
    frame.banner = Banner::of(console.node.release_policy(), labels.iter());
    let redacted = entries.iter().filter(|e| e.object.is_none()).count();
    Ok(render(
        StatusCode::OK,
        &Page {
            frame,
            federates: true,
            nation,
            links,
            alarms,
            size: checkpoint.size,
            checkpoint: Some(CheckpointView {
                origin: checkpoint.origin.clone(),
                size: checkpoint.size,
                root: b64(&checkpoint.root),
                note: checkpoint.note.clone(),
            }),
            entries,
            redacted,
        },
    ))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An inclusion proof checked against a freshly signed checkpoint.
pub struct Verified {
    pub index: u64,
    pub size: u64,
    pub root: String,
    pub leaf_hash: String,
    pub path: Vec<String>,
    /// `None` when the proof verified, else why not.
    pub failure: Option<String>,
}

/// Proves entry `index` in the log's current tree and verifies the proof the way a partner
/// would: the checkpoint's signature with the log's public key, then the audit path from the
/// entry's leaf hash up to the signed root.
pub async fn verify_entry(
    log: &Journal,
    index: u64,
) -> Result<Verified, entente_audit::AuditError> {
    let signed = log.checkpoint().await?;
    let proof = log.prove_inclusion(index, signed.size).await?;
    let outcome = log
        .verifier()
        .verify(&signed.note)
        .and_then(|checkpoint| proof.verify_against(&checkpoint));
    Ok(Verified {
        index,
        size: signed.size,
        root: b64(&signed.root),
        leaf_hash: b64(&proof.leaf_hash),
        path: proof.hashes.iter().map(|h| b64(h)).collect(),
        failure: outcome.err().map(|e| e.to_string()),
    })
}

#[derive(Template)]
#[template(path = "partners_verify.html")]
struct VerifyFragment {
    verified: Verified,
}

#[derive(Template)]
#[template(path = "partners_verify_page.html")]
struct VerifyPage {
    frame: Frame,
    fragment: VerifyFragment,
}

/// `GET /console/partners/verify/{index}`: the inclusion proof of one entry, verified; the
/// fragment alone for htmx, else a page.
pub async fn verify(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path(index): Path<u64>,
) -> Result<Response, PageError> {
    let Some(fed) = console.federation.clone() else {
        return Err(PageError::not_found());
    };
    let log = fed.audit();
    if index >= log.size().await.map_err(PageError::internal)? {
        return Err(PageError::not_found());
    }
    let verified = verify_entry(log, index)
        .await
        .map_err(PageError::internal)?;
    let fragment = VerifyFragment { verified };
    if headers.contains_key("hx-request") {
        return Ok(render(StatusCode::OK, &fragment));
    }
    let frame = Frame::new(
        &console,
        &signed_in,
        &format!("Audit entry {index}: inclusion"),
        "partners",
    );
    Ok(render(StatusCode::OK, &VerifyPage { frame, fragment }))
}

impl EntryRow {
    /// The link of this entry's verification.
    pub fn verify_link(&self) -> String {
        format!("{BASE}/partners/verify/{}", self.index)
    }

    /// What stands for the object of an entry about an object the reader may not see.
    pub fn redacted(&self) -> &'static str {
        REDACTED
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn event(kind: EventKind, object_id: &str, detail: &str) -> AuditEvent {
        AuditEvent {
            kind,
            at: "2026-11-27T03:00:01.000Z".into(),
            origin: "FRA".into(),
            node: "FRA".into(),
            partner: Some("JPN".into()),
            object_id: object_id.into(),
            version: "2026-11-01T08:00:00.000Z".into(),
            digest: "ab".repeat(32),
            detail: Some(detail.into()),
            source: None,
        }
    }

    fn holding(id: &str, tear_lined: bool) -> Holding {
        Holding {
            seq: 1,
            collection: "intel".into(),
            id: id.into(),
            version_key: String::new(),
            kind: "report".into(),
            name: "Pacific liaison summary".into(),
            originator: "FRA".parse().unwrap(),
            label: None,
            label_text: "UNLABELLED".into(),
            label_class: "level-none",
            tear_lined,
            added_us: 0,
            refs: None,
        }
    }

    const HIDDEN: &str = "indicator--0b9d1c0e-0000-4000-8000-000000000001";
    const SEEN: &str = "report--0b9d1c0e-0000-4000-8000-000000000002";

    #[test]
    fn an_entry_about_an_object_the_reader_may_not_see_names_nothing_of_it() {
        let e = event(
            EventKind::Deny,
            HIDDEN,
            "NATO SECRET//REL TO FRA does not permit JPN",
        );
        let row = entry_row(7, &e, None);
        let shown = format!("{row:?}");
        assert!(!shown.contains(HIDDEN), "{shown}");
        assert!(!shown.contains("REL TO FRA"), "{shown}");
        assert!(row.object.is_none() && row.origin.is_empty() && row.version.is_empty());
        assert_eq!(
            (row.index, row.kind, row.partner.as_str()),
            (7, "deny", "JPN")
        );
        assert_eq!(row.at, "2026-11-27 03:00:01 UTC");
    }

    #[test]
    fn an_entry_about_a_held_object_names_it_and_hides_reasons_of_a_tear_lined_copy() {
        let e = event(EventKind::Release, SEEN, "agreement X article 4");
        let row = entry_row(3, &e, Some(&holding(SEEN, false)));
        let object = row.object.as_ref().unwrap();
        assert_eq!(object.id, SEEN);
        assert_eq!(object.link, format!("{BASE}/objects/intel/{SEEN}"));
        assert_eq!(row.detail, "agreement X article 4");
        let row = entry_row(3, &e, Some(&holding(SEEN, true)));
        assert!(!row.detail.contains("agreement"), "{}", row.detail);
        // A recall's reason names no portion: it is shown even for a tear-lined copy.
        let e = event(EventKind::Recall, SEEN, "recalled by FRA");
        assert_eq!(
            entry_row(4, &e, Some(&holding(SEEN, true))).detail,
            "recalled by FRA"
        );
    }

    fn frame() -> Frame {
        Frame {
            title: "Partners and audit".into(),
            nation: "FRA".into(),
            node_title: "test".into(),
            user: None,
            csrf: String::new(),
            banner: Banner::unlabelled(),
            active: "partners",
            base: BASE,
        }
    }

    #[test]
    fn a_split_view_is_an_alert_above_everything_else() {
        let page = Page {
            frame: frame(),
            federates: true,
            nation: "FRA".into(),
            links: Vec::new(),
            alarms: vec![Alarm {
                nation: "USA".into(),
                at: "2026-11-27 03:00:00 UTC".into(),
                message: "<roots differ>".into(),
            }],
            checkpoint: None,
            entries: Vec::new(),
            size: 0,
            redacted: 0,
        };
        let html = page.render().unwrap();
        let alert = html.find("role=\"alert\"").unwrap();
        assert!(alert < html.find("Federation links").unwrap());
        assert!(html.contains("Split view: USA showed an inconsistent audit checkpoint"));
        // The partner's message is text, escaped.
        assert!(html.contains("&#60;roots differ&#62;") || html.contains("&lt;roots differ&gt;"));
    }

    #[tokio::test]
    async fn every_entry_of_a_log_verifies_against_its_signed_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let log = Journal::from(
            entente_audit::AuditLog::open(dir.path(), "FRA", SigningKey::from_bytes(&[3; 32]))
                .unwrap(),
        );
        let events: Vec<AuditEvent> = (0..5)
            .map(|i| {
                event(
                    EventKind::Publish,
                    &format!("{SEEN}{i}"),
                    "collection intel",
                )
            })
            .collect();
        log.append(events).await.unwrap();
        for i in 0..5 {
            let v = verify_entry(&log, i).await.unwrap();
            assert_eq!(v.failure, None, "entry {i}");
            assert_eq!((v.index, v.size), (i, 5));
            assert!(!v.path.is_empty());
        }
        assert!(verify_entry(&log, 5).await.is_err());
    }
}
