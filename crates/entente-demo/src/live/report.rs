//! What the live federation shows and records: each nation's deliveries and why, the audit
//! checks, how to reach the nodes, and the manifest's `federation` object.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use entente_policy::ReleaseVerdict;
use entente_types::NationCode;
use serde_json::{json, Value};

use super::audit::AuditResult;
use super::checks::{Expected, Held};
use super::nodes::DemoNode;
use super::publish::TAXII_MEDIA;
use super::COLLECTION;
use crate::dataset::Dataset;
use crate::progress::{Progress, Table};
use crate::{DemoError, DemoOptions};

/// How an expected delivery is shown in the tables.
fn outcome_text(verdict: ReleaseVerdict) -> &'static str {
    match verdict {
        ReleaseVerdict::Permit => "received",
        ReleaseVerdict::Partial => "received, tear-lined",
        ReleaseVerdict::Deny => "denied",
    }
}

/// For each nation: what it received, from whom and why; received first, then tear-lined, then
/// denied, by origin within each.
pub(super) fn show_outcomes(
    nations: &[NationCode],
    expected: &[Expected<'_>],
    progress: &mut dyn Progress,
) -> Result<(), DemoError> {
    progress
        .text("\nWhat each nation received, from whom and why (decided by the release policy):")?;
    for &n in nations {
        let mut mine: Vec<&Expected<'_>> = expected.iter().filter(|e| e.recipient == n).collect();
        let rank = |v: ReleaseVerdict| match v {
            ReleaseVerdict::Permit => 0,
            ReleaseVerdict::Partial => 1,
            ReleaseVerdict::Deny => 2,
        };
        mine.sort_by_key(|e| {
            (
                rank(e.verdict),
                nations.iter().position(|x| *x == e.object.origin),
            )
        });
        let got = mine
            .iter()
            .filter(|e| e.verdict != ReleaseVerdict::Deny)
            .count();
        progress.text(&format!(
            "\n{n}: received {got} of the {} objects published by the other nations",
            mine.len()
        ))?;
        let mut table = Table::new(["from", "object", "outcome", "because"]);
        for e in mine {
            table.add_row([
                e.object.origin.to_string(),
                format!("{} {}\n{}", e.object.kind, e.object.title, e.object.marking),
                outcome_text(e.verdict).to_owned(),
                e.reason.clone(),
            ]);
        }
        progress.table(&table)?;
    }
    Ok(())
}

/// The audit checks, one row per node.
pub(super) fn show_audits(
    audits: &[AuditResult],
    progress: &mut dyn Progress,
) -> Result<(), DemoError> {
    progress.text(
        "\nAudit logs (RFC 9162 Merkle trees), checked over HTTP: signed checkpoint, inclusion of every\nrelease and receive event, consistency since publication and with each partner's kept checkpoint:",
    )?;
    let mut table = Table::new([
        "node",
        "entries",
        "checkpoint",
        "inclusion proofs",
        "since publication",
        "partners' views",
        "result",
    ]);
    let passed = |ok: bool, text: &str| if ok { text } else { "FAILED" }.to_owned();
    for a in audits {
        let views = a.partner_views.iter().filter(|v| v.2).count();
        table.add_row([
            a.nation.to_string(),
            a.size.to_string(),
            passed(a.signature, "signature ok"),
            format!("{}/{} verified", a.inclusion_verified, a.inclusion_checked),
            passed(a.consistency_since_publish, "consistent"),
            format!("{views}/{} consistent", a.partner_views.len()),
            if a.ok {
                "OK".to_owned()
            } else {
                format!("FAILED: {}", a.problems.join("; "))
            },
        ]);
    }
    progress.table(&table)?;
    Ok(())
}

/// How to reach the nodes: URLs, the CA, the demo users, and commands to try.
pub(super) fn show_access(
    nodes: &[DemoNode],
    ca: &Path,
    plain_http: bool,
    progress: &mut dyn Progress,
) -> Result<(), DemoError> {
    progress.text("\nThe nodes (TAXII 2.1; the API root is /api/, the collection is intel):")?;
    let mut table = Table::new([
        "node",
        "TAXII discovery",
        "collection objects",
        "web console",
        "federation (mTLS)",
        "admin (metrics, /openapi.json)",
    ]);
    for n in nodes {
        table.add_row([
            n.nation.to_string(),
            format!("{}/taxii2/", n.taxii_url),
            format!("{}/api/collections/{COLLECTION}/objects/", n.taxii_url),
            format!("{}/console/", n.taxii_url),
            n.federation_url.clone(),
            format!("{}/metrics", n.admin_url),
        ]);
    }
    progress.table(&table)?;
    if !plain_http {
        progress.text(&format!(
            "CA certificate of every TAXII server: {}\nThe web consoles: open a node's console URL in a browser that trusts this CA (or accept\nthe certificate once), and sign in as one of its demo users below.",
            ca.display()
        ))?;
    }
    progress.text("Demo users (DEMONSTRATION ONLY: passwords are derived from the user name; one user per\nclassification policy the node holds, cleared at its highest level):")?;
    let mut table = Table::new(["node", "user", "password", "clearance"]);
    for n in nodes {
        for u in &n.users {
            table.add_row([
                n.nation.to_string(),
                u.name.clone(),
                u.password.clone(),
                u.clearance.clone(),
            ]);
        }
    }
    progress.table(&table)?;
    if let Some(text) = try_commands(nodes, ca, plain_http) {
        progress.text(&text)?;
    }
    Ok(())
}

/// Commands to try against JPN's node (or the first) as its NATO-cleared user (or its first).
fn try_commands(nodes: &[DemoNode], ca: &Path, plain_http: bool) -> Option<String> {
    let n = nodes
        .iter()
        .find(|n| n.nation.as_str() == "JPN")
        .or(nodes.first())?;
    let u = n
        .users
        .iter()
        .find(|u| u.policy == "NATO")
        .or(n.users.first())?;
    let cacert = if plain_http {
        String::new()
    } else {
        format!("--cacert {} ", ca.display())
    };
    let verify = if plain_http {
        String::new()
    } else {
        format!(", verify=\"{}\"", ca.display())
    };
    Some(format!(
        "\nTry, while it runs:\n  curl {cacert}-u {user}:{pw} -H 'Accept: {TAXII_MEDIA}' {url}/api/collections/{COLLECTION}/objects/\n  python3 -c 'from taxii2client.v21 import Collection; c = Collection(\"{url}/api/collections/{COLLECTION}/\", user=\"{user}\", password=\"{pw}\"{verify}); print([o[\"id\"] for o in c.get_objects()[\"objects\"]])'\n  entente audit verify --url {url} {ca_flag}--vkey '{vkey}' --index 0",
        user = u.name,
        pw = u.password,
        url = n.taxii_url,
        ca_flag = if plain_http { String::new() } else { format!("--ca {} ", ca.display()) },
        vkey = n.vkey,
    ))
}

/// When each stage ended, from the start of the live part.
pub(super) struct Timings {
    pub up: Duration,
    pub published: Duration,
    pub converged: Duration,
    pub audited: Duration,
}

/// Everything the manifest's `federation` object records.
pub(super) struct Outcome<'a> {
    pub opts: &'a DemoOptions,
    pub root: &'a Path,
    pub ca: &'a Path,
    pub nodes: &'a [DemoNode],
    pub dataset: &'a Dataset,
    pub nations: &'a [NationCode],
    pub expected: &'a [Expected<'a>],
    /// What each nation held once converged (empty if it did not).
    pub held: &'a BTreeMap<NationCode, Held>,
    pub convergence_error: Option<String>,
    pub audits: &'a [AuditResult],
    pub audit_ok: bool,
    pub timings: Timings,
}

/// The manifest's `federation` object.
pub(super) fn federation_json(o: &Outcome<'_>) -> Value {
    let plain_http = o.opts.plain_http;
    let t = &o.timings;
    json!({
        "root": o.root.display().to_string(),
        "ca": if plain_http { Value::Null } else { json!(o.ca.display().to_string()) },
        "plain_http": plain_http,
        "day": o.opts.today.to_string(),
        "collection": COLLECTION,
        "nodes": o.nodes.iter().map(|n| node_json(n, o.ca, plain_http)).collect::<Vec<_>>(),
        "published": o.dataset.objects.iter().map(|p| json!({
            "origin": p.origin, "id": p.id, "type": p.kind, "title": p.title,
            "marking": p.marking,
            "portions": p.portions.iter().map(|(s, m)| json!({"selector": s, "marking": m})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "nations": o.nations.iter().map(|n| nation_json(*n, o.expected, o.held.get(n))).collect::<Vec<_>>(),
        "converged": o.convergence_error.is_none(),
        "convergence_error": o.convergence_error,
        "audit": o.audits.iter().map(AuditResult::to_json).collect::<Vec<_>>(),
        "audit_ok": o.audit_ok,
        "timings_ms": {
            "nodes_up": t.up.as_millis() as u64,
            "published": t.published.as_millis() as u64,
            "converged": t.converged.as_millis() as u64,
            "audited": t.audited.as_millis() as u64,
            "publish_to_converged": (t.converged - t.published).as_millis() as u64,
        },
    })
}

fn node_json(n: &DemoNode, ca: &Path, plain_http: bool) -> Value {
    json!({
        "nation": n.nation,
        "dir": n.dir.display().to_string(),
        "taxii_url": n.taxii_url,
        "console": format!("{}/console/", n.taxii_url),
        "discovery": format!("{}/taxii2/", n.taxii_url),
        "api_root": format!("{}/api/", n.taxii_url),
        "collection": format!("{}/api/collections/{COLLECTION}/", n.taxii_url),
        "federation_url": n.federation_url,
        "metrics": format!("{}/metrics", n.admin_url),
        "openapi": format!("{}/openapi.json", n.admin_url),
        "ca": if plain_http { Value::Null } else { json!(ca.display().to_string()) },
        "audit_vkey": n.vkey,
        "users": n.users.iter().map(|u| json!({"name": u.name, "password": u.password, "clearance": u.clearance})).collect::<Vec<_>>(),
    })
}

/// What a nation should receive and should not, and what it held.
fn nation_json(n: NationCode, expected: &[Expected<'_>], held: Option<&Held>) -> Value {
    let mine = expected.iter().filter(|e| e.recipient == n);
    let (received, denied): (Vec<_>, Vec<_>) =
        mine.partition(|e| e.verdict != ReleaseVerdict::Deny);
    let entry = |e: &&Expected<'_>| {
        json!({
            "id": e.object.id, "from": e.object.origin, "type": e.object.kind,
            "marking": e.object.marking,
            "outcome": match e.verdict {
                ReleaseVerdict::Permit => "received",
                ReleaseVerdict::Partial => "received-tearlined",
                ReleaseVerdict::Deny => "denied",
            },
            "reason": e.reason,
        })
    };
    json!({
        "nation": n,
        "expected": received.iter().map(entry).collect::<Vec<_>>(),
        "denied": denied.iter().map(entry).collect::<Vec<_>>(),
        "held": held.map(|h| h.iter().map(|(id, from)| json!({"id": id, "from": from})).collect::<Vec<_>>()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::live::checks::fixtures::{expected, object};

    #[test]
    fn a_nation_lists_what_it_should_receive_apart_from_what_it_should_not() {
        let a = object("indicator--1", "FRA", "NATO");
        let b = object("indicator--2", "USA", "NATO");
        let c = object("indicator--3", "GBR", "NATO");
        let all = [
            expected(&a, "JPN", ReleaseVerdict::Permit),
            expected(&b, "JPN", ReleaseVerdict::Deny),
            expected(&c, "JPN", ReleaseVerdict::Partial),
            expected(&c, "DEU", ReleaseVerdict::Permit),
        ];
        let jpn: NationCode = "JPN".parse().unwrap();
        let held: Held = [("indicator--1".to_owned(), "FRA".parse().unwrap())].into();
        let v = nation_json(jpn, &all, Some(&held));
        let ids = |key: &str| -> Vec<String> {
            v[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(ids("expected"), ["indicator--1", "indicator--3"]);
        assert_eq!(ids("denied"), ["indicator--2"]);
        assert_eq!(v["expected"][1]["outcome"], "received-tearlined");
        assert_eq!(v["held"][0]["from"], "FRA");
        assert_eq!(nation_json(jpn, &all, None)["held"], Value::Null);
    }

    #[test]
    fn outcomes_read_as_shown_in_the_tables() {
        assert_eq!(outcome_text(ReleaseVerdict::Permit), "received");
        assert_eq!(
            outcome_text(ReleaseVerdict::Partial),
            "received, tear-lined"
        );
        assert_eq!(outcome_text(ReleaseVerdict::Deny), "denied");
    }

    #[test]
    fn no_nodes_no_commands_to_try() {
        assert!(try_commands(&[], Path::new("ca.pem"), false).is_none());
    }
}
