//! The check of every node's audit log over HTTP, as a partner would: a signed checkpoint, the
//! inclusion of every release and receive event the federation implies, consistency since
//! publication, and consistency with the checkpoint each partner fetched and kept.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use entente_audit::{AuditEvent, Checkpoint, EventKind};
use entente_federation::AuditClient;
use entente_policy::ReleaseVerdict;
use entente_types::NationCode;
use serde_json::{json, Value};

use super::checks::Expected;
use super::nodes::DemoNode;
use crate::DemoError;

/// The outcome of checking one node's audit log.
pub(super) struct AuditResult {
    pub nation: NationCode,
    pub size: u64,
    pub signature: bool,
    pub events_found: bool,
    pub inclusion_checked: usize,
    pub inclusion_verified: usize,
    pub consistency_since_publish: bool,
    /// Each partner, the size of the checkpoint it kept, and whether it is consistent.
    pub partner_views: Vec<(NationCode, u64, bool)>,
    pub problems: Vec<String>,
    pub ok: bool,
}

impl AuditResult {
    fn new(nation: NationCode) -> AuditResult {
        AuditResult {
            nation,
            size: 0,
            signature: false,
            events_found: false,
            inclusion_checked: 0,
            inclusion_verified: 0,
            consistency_since_publish: false,
            partner_views: Vec::new(),
            problems: Vec::new(),
            ok: false,
        }
    }

    /// The manifest's entry.
    pub(super) fn to_json(&self) -> Value {
        json!({
            "nation": self.nation,
            "size": self.size,
            "checkpoint_signature": self.signature,
            "events_found": self.events_found,
            "inclusion_proofs": {"checked": self.inclusion_checked, "verified": self.inclusion_verified},
            "consistency_since_publish": self.consistency_since_publish,
            "partner_views": self.partner_views.iter().map(|(p, size, ok)| json!({"partner": p, "size": size, "consistent": ok})).collect::<Vec<_>>(),
            "problems": self.problems,
            "ok": self.ok,
        })
    }
}

/// How the audit logs are reached and how long events may take to appear.
pub(super) struct AuditCheck<'a> {
    /// Each node's checkpoint right after publication.
    pub first: &'a BTreeMap<NationCode, Checkpoint>,
    pub plain_http: bool,
    /// The demo CA (unused with `plain_http`).
    pub ca: &'a Path,
    pub timeout: Duration,
}

/// A client of the node's audit routes (served beside TAXII).
pub(super) fn audit_client(
    node: &DemoNode,
    plain_http: bool,
    ca: &Path,
) -> Result<AuditClient, DemoError> {
    Ok(AuditClient::new(
        &node.taxii_url,
        (!plain_http).then_some(ca),
    )?)
}

/// The entries (kind, object id, partner or origin) a node's log must hold: a release per
/// (object, recipient) it originated, a receive per object it holds from another nation.
pub(super) fn wanted_events(
    nation: NationCode,
    expected: &[Expected<'_>],
) -> Vec<(EventKind, String, String)> {
    let mut out = Vec::new();
    for e in expected
        .iter()
        .filter(|e| e.verdict != ReleaseVerdict::Deny)
    {
        if e.object.origin == nation {
            out.push((
                EventKind::Release,
                e.object.id.clone(),
                e.recipient.to_string(),
            ));
        }
        if e.recipient == nation {
            out.push((
                EventKind::Receive,
                e.object.id.clone(),
                e.object.origin.to_string(),
            ));
        }
    }
    out
}

/// Checks every node's log; a failed check is recorded in its result, not returned.
pub(super) async fn verify_audits(
    nodes: &[DemoNode],
    expected: &[Expected<'_>],
    check: &AuditCheck<'_>,
) -> Result<Vec<AuditResult>, DemoError> {
    let mut results = Vec::new();
    for node in nodes {
        results.push(verify_one(node, nodes, expected, check).await?);
    }
    Ok(results)
}

/// Positions in `entries` of the wanted events found, with the entries.
fn find_events(
    entries: &[AuditEvent],
    wanted: &[(EventKind, String, String)],
) -> Vec<(u64, AuditEvent)> {
    let mut found = Vec::new();
    for (kind, id, other) in wanted {
        let hit = entries.iter().position(|ev| {
            ev.kind == *kind
                && &ev.object_id == id
                && match kind {
                    EventKind::Release => ev.partner.as_deref() == Some(other.as_str()),
                    _ => &ev.origin == other,
                }
        });
        if let Some(i) = hit {
            found.push((i as u64, entries[i].clone()));
        }
    }
    found
}

async fn verify_one(
    node: &DemoNode,
    nodes: &[DemoNode],
    expected: &[Expected<'_>],
    check: &AuditCheck<'_>,
) -> Result<AuditResult, DemoError> {
    let timeout = check.timeout;
    let mut client = audit_client(node, check.plain_http, check.ca)?;
    let mut result = AuditResult::new(node.nation);
    let wanted = wanted_events(node.nation, expected);
    // Release events follow the partner's acknowledgement: wait for them, bounded.
    let deadline = Instant::now() + timeout;
    let (checkpoint, found) = loop {
        let checkpoint = match client.checkpoint(&node.verifier).await {
            Ok(c) => c,
            Err(e) => {
                result.problems.push(format!("checkpoint: {e}"));
                break (None, Vec::new());
            }
        };
        let entries = client.entries(0, checkpoint.size).await?;
        let found = find_events(&entries, &wanted);
        if found.len() == wanted.len() || Instant::now() > deadline {
            if found.len() < wanted.len() {
                result.problems.push(format!(
                    "{} of {} release/receive events in the log after {timeout:?}",
                    found.len(),
                    wanted.len()
                ));
            }
            break (Some(checkpoint), found);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let Some(checkpoint) = checkpoint else {
        return Ok(result);
    };
    result.signature = true;
    result.size = checkpoint.size;
    result.events_found = found.len() == wanted.len();
    for (index, event) in &found {
        result.inclusion_checked += 1;
        match client
            .verify_inclusion(&checkpoint, *index, Some(event))
            .await
        {
            Ok(_) => result.inclusion_verified += 1,
            Err(e) => result
                .problems
                .push(format!("inclusion of entry {index}: {e}")),
        }
    }
    if let Some(older) = check.first.get(&node.nation) {
        match client.verify_consistency(older, &checkpoint).await {
            Ok(_) => result.consistency_since_publish = true,
            Err(e) => result.problems.push(format!(
                "consistency {} -> {}: {e}",
                older.size, checkpoint.size
            )),
        }
    }
    // The checkpoints each partner fetched and kept of this log must be consistent with it.
    for partner in nodes.iter().filter(|p| p.nation != node.nation) {
        let kept = partner
            .dir
            .join("audit/partners")
            .join(format!("{}.checkpoint", node.nation));
        // Partners fetch checkpoints every 500 ms: wait for a first one, bounded.
        while !kept.exists() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let Ok(note) = std::fs::read_to_string(&kept) else {
            result.problems.push(format!(
                "{} has not fetched a checkpoint yet",
                partner.nation
            ));
            continue;
        };
        let outcome = match node.verifier.verify(&note) {
            Ok(seen) => match client.verify_consistency(&seen, &checkpoint).await {
                Ok(_) => (seen.size, true),
                Err(e) => {
                    result.problems.push(format!(
                        "{}'s view (size {}): {e}",
                        partner.nation, seen.size
                    ));
                    (seen.size, false)
                }
            },
            Err(e) => {
                result.problems.push(format!("{}: {e}", kept.display()));
                (0, false)
            }
        };
        result
            .partner_views
            .push((partner.nation, outcome.0, outcome.1));
    }
    result.ok = result.signature
        && result.events_found
        && result.inclusion_verified == result.inclusion_checked
        && result.consistency_since_publish
        && result.partner_views.len() == nodes.len() - 1
        && result.partner_views.iter().all(|v| v.2)
        && result.problems.is_empty();
    Ok(result)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::live::checks::fixtures::{expected, object};

    fn event(kind: EventKind, origin: &str, partner: Option<&str>, id: &str) -> AuditEvent {
        AuditEvent {
            kind,
            at: "2026-01-01T00:00:00.000Z".into(),
            origin: origin.into(),
            node: "FRA".into(),
            partner: partner.map(Into::into),
            object_id: id.into(),
            version: "2026-01-01T00:00:00.000Z".into(),
            digest: "00".into(),
            detail: None,
            source: None,
        }
    }

    #[test]
    fn a_node_wants_a_release_per_recipient_and_a_receive_per_object_held() {
        let mine = object("indicator--1", "FRA", "NATO");
        let theirs = object("indicator--2", "USA", "NATO");
        let all = [
            expected(&mine, "USA", ReleaseVerdict::Permit),
            expected(&mine, "JPN", ReleaseVerdict::Deny),
            expected(&mine, "GBR", ReleaseVerdict::Partial),
            expected(&theirs, "FRA", ReleaseVerdict::Permit),
            expected(&theirs, "DEU", ReleaseVerdict::Permit),
        ];
        let wanted = wanted_events("FRA".parse().unwrap(), &all);
        assert_eq!(
            wanted,
            [
                (EventKind::Release, "indicator--1".into(), "USA".into()),
                (EventKind::Release, "indicator--1".into(), "GBR".into()),
                (EventKind::Receive, "indicator--2".into(), "USA".into()),
            ]
        );
    }

    #[test]
    fn events_are_found_by_kind_object_and_partner_or_origin() {
        let entries = [
            event(EventKind::Publish, "FRA", None, "indicator--1"),
            event(EventKind::Release, "FRA", Some("GBR"), "indicator--1"),
            event(EventKind::Release, "FRA", Some("USA"), "indicator--1"),
            event(EventKind::Receive, "USA", Some("USA"), "indicator--2"),
        ];
        let wanted = [
            (EventKind::Release, "indicator--1".into(), "USA".into()),
            (EventKind::Receive, "indicator--2".into(), "USA".into()),
            (EventKind::Release, "indicator--1".into(), "JPN".into()),
        ];
        let found = find_events(&entries, &wanted);
        let positions: Vec<u64> = found.iter().map(|(i, _)| *i).collect();
        assert_eq!(positions, [2, 3]);
        assert_eq!(found[0].1, entries[2]);
    }

    #[test]
    fn a_fresh_result_has_passed_nothing() {
        let r = AuditResult::new("DEU".parse().unwrap());
        assert!(!r.ok && !r.signature && !r.events_found);
        let v = r.to_json();
        assert_eq!(v["nation"], "DEU");
        assert_eq!(v["inclusion_proofs"]["checked"], 0);
        assert_eq!(v["partner_views"], serde_json::json!([]));
    }
}
