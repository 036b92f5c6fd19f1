//! `entente demo`: the README's main job runs on the shipped data, starts a five-nation
//! federation, delivers exactly what the release policy allows, verifies every audit log, serves
//! TAXII and the audit routes while it runs, and stops by itself or on Ctrl-C.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use entente_labels::{parse_marking, stix, Label, PolicySet};
use entente_policy::{ReleasePolicy, ReleaseVerdict};
use entente_registry::Registry;
use entente_types::NationCode;
use serde_json::{json, Value};

use crate::util::{entente, repo_root, spawn};

const NATIONS: [&str; 5] = ["FRA", "USA", "GBR", "DEU", "JPN"];

/// Waits for the child to exit, killing it (and failing) after `limit`.
fn wait_bounded(child: &mut Child, dir: &Path, limit: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "entente demo still running after {limit:?}\nstdout:\n{}\nstderr:\n{}",
                std::fs::read_to_string(dir.join("stdout")).unwrap_or_default(),
                std::fs::read_to_string(dir.join("stderr")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn output_of(dir: &Path) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        std::fs::read_to_string(dir.join("stdout")).unwrap_or_default(),
        std::fs::read_to_string(dir.join("stderr")).unwrap_or_default()
    )
}

/// The shipped exercise objects, labelled here from their markings (not by the demo's code),
/// and for each nation the ids `ReleasePolicy` lets it receive today, with each object's
/// origin and label policy.
struct Oracle {
    receives: BTreeMap<String, BTreeSet<String>>,
    origin: BTreeMap<String, String>,
    policy: BTreeMap<String, String>,
}

fn oracle() -> Oracle {
    let data = repo_root().join("data");
    let registry = Registry::load(&data.join("registry")).unwrap();
    let policies = PolicySet::load(&data.join("policies")).unwrap();
    let release = ReleasePolicy::new(&registry, policies.clone());
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("demo/exercise-objects.json")).unwrap(),
    )
    .unwrap();
    let today = chrono::Utc::now().date_naive();
    let mut labels: BTreeMap<String, Label> = BTreeMap::new();
    let mut label_ref = |text: &str| {
        let label = parse_marking(&policies, text).unwrap();
        let id = stix::to_marking_definition(&policies, &label).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        labels.insert(id.clone(), label.clone());
        (id, label)
    };
    let mut objects = Vec::new();
    let mut oracle = Oracle {
        receives: BTreeMap::new(),
        origin: BTreeMap::new(),
        policy: BTreeMap::new(),
    };
    for entry in file["objects"].as_array().unwrap() {
        let mut object = entry["object"].clone();
        let (id, label) = label_ref(entry["marking"].as_str().unwrap());
        object["object_marking_refs"] = json!([id]);
        if let Some(portions) = entry["portions"].as_object() {
            object["granular_markings"] = Value::Array(
                portions
                    .iter()
                    .map(|(selector, m)| {
                        json!({"marking_ref": label_ref(m.as_str().unwrap()).0, "selectors": [selector]})
                    })
                    .collect(),
            );
        }
        let origin = entry["origin"].as_str().unwrap().to_owned();
        let oid = object["id"].as_str().unwrap().to_owned();
        oracle.origin.insert(oid.clone(), origin.clone());
        oracle.policy.insert(oid, label.policy().to_owned());
        objects.push((origin, object));
    }
    let lookup = |id: &str| labels.get(id).cloned();
    for recipient in NATIONS {
        let to: NationCode = recipient.parse().unwrap();
        let mut ids = BTreeSet::new();
        for (origin, object) in &objects {
            if origin == recipient {
                continue;
            }
            let r = release
                .release_object(object, &lookup, origin.parse().unwrap(), to, today)
                .unwrap();
            if r.verdict != ReleaseVerdict::Deny {
                ids.insert(object["id"].as_str().unwrap().to_owned());
            }
        }
        oracle.receives.insert(recipient.to_owned(), ids);
    }
    oracle
}

fn nation_entry<'a>(manifest: &'a Value, nation: &str) -> &'a Value {
    manifest["federation"]["nations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["nation"] == nation)
        .unwrap_or_else(|| panic!("{nation} not in the manifest"))
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn registry_walk_through_alone_writes_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("demo.json");
    let run = entente(&[
        "demo",
        "--registry-only",
        "--at",
        "2024-09-01",
        "--manifest",
        manifest.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stdout
        .contains("Members of each organisation on key days"));
    assert!(!run.stdout.contains("Live federation"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(v["today"], "2024-09-01");
    assert!(v.get("federation").is_none());
}

#[test]
fn demo_federation_delivers_exactly_what_the_policy_allows_and_verifies_every_log() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("demo.json");
    let mut child = spawn(
        dir.path(),
        &[
            "demo",
            "--at",
            "2024-09-01",
            "--duration",
            "2",
            "--manifest",
            manifest.to_str().unwrap(),
        ],
    );
    let code = wait_bounded(&mut child, dir.path(), Duration::from_secs(240));
    let out = output_of(dir.path());
    assert_eq!(code, 0, "{out}");

    // Part 1, the registry walk-through, as before.
    assert!(out.contains("Members of each organisation on key days"));
    assert!(out.contains("Release decisions"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(v["today"], "2024-09-01");
    let nato_2024 = v["membership_counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["day"] == "2024-03-07")
        .unwrap();
    assert_eq!(nato_2024["members"]["NATO"], 32);
    let decisions = v["release_decisions"].as_array().unwrap();
    assert_eq!(decisions[0]["decision"], "permit");
    assert_eq!(
        decisions[0]["agreement"],
        "nato-security-of-information-1997"
    );
    assert_eq!(decisions[1]["decision"], "deny");
    let swe: Vec<&str> = decisions
        .iter()
        .filter(|d| d["to"] == "SWE")
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(swe, ["deny", "deny", "permit"]);

    // Part 2: five nodes, each holding exactly the oracle's set.
    let fed = &v["federation"];
    let nodes: Vec<&str> = fed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["nation"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, NATIONS);
    for n in fed["nodes"].as_array().unwrap() {
        assert!(n["taxii_url"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:"));
        assert!(!n["users"].as_array().unwrap().is_empty());
    }
    assert_eq!(fed["converged"], true, "{out}");
    let oracle = oracle();
    for nation in NATIONS {
        let entry = nation_entry(&v, nation);
        let held = ids(&entry["held"]);
        assert_eq!(
            held, oracle.receives[nation],
            "{nation} holds other than the policy allows"
        );
        assert_eq!(ids(&entry["expected"]), oracle.receives[nation]);
        for e in entry["expected"]
            .as_array()
            .unwrap()
            .iter()
            .chain(entry["denied"].as_array().unwrap())
        {
            assert!(!e["reason"].as_str().unwrap().is_empty());
        }
    }
    // JPN receives nothing that is not releasable to it: NATO-only and REL TO without JPN stay out.
    let jpn = nation_entry(&v, "JPN");
    let jpn_held = ids(&jpn["held"]);
    let denied = jpn["denied"].as_array().unwrap();
    assert!(denied.iter().any(|d| d["reason"]
        .as_str()
        .unwrap()
        .contains("JPN is not in REL TO")));
    for d in denied {
        assert!(!jpn_held.contains(d["id"].as_str().unwrap()));
    }
    let fra_only_rel = "NATO SECRET//REL TO FRA, GBR, USA";
    let not_for_jpn: Vec<&Value> = fed["published"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["marking"] == fra_only_rel)
        .collect();
    assert!(!not_for_jpn.is_empty());
    for p in not_for_jpn {
        assert!(!jpn_held.contains(p["id"].as_str().unwrap()));
    }
    // Every audit log verified: signature, inclusion of each event, consistency.
    assert_eq!(fed["audit_ok"], true, "{out}");
    let audits = fed["audit"].as_array().unwrap();
    assert_eq!(audits.len(), 5);
    for a in audits {
        assert_eq!(a["ok"], true, "{a}");
        let checked = a["inclusion_proofs"]["checked"].as_u64().unwrap();
        assert!(checked > 0);
        assert_eq!(a["inclusion_proofs"]["verified"].as_u64().unwrap(), checked);
        assert_eq!(a["partner_views"].as_array().unwrap().len(), 4);
    }
    // The 2022-02-24 Article 4 consultation replayed at FRA's node as of that day: the 30
    // Allies of that day (Finland and Sweden joined since), reaching USA, GBR and DEU, not JPN.
    let crisis = &fed["crisis"];
    assert_eq!(crisis["ok"], true, "{crisis}");
    assert_eq!(crisis["as_of"], "2022-02-24");
    assert_eq!(crisis["clause"], "north-atlantic-treaty/art4");
    assert_eq!(
        crisis["requested_by"],
        json!(["BGR", "CZE", "EST", "LTU", "LVA", "POL", "ROU", "SVK"])
    );
    assert_eq!(crisis["participant_count"], 30);
    let participants: BTreeSet<&str> = crisis["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nation"].as_str().unwrap())
        .collect();
    assert!(!participants.contains("FIN") && !participants.contains("SWE"));
    for p in crisis["participants"].as_array().unwrap() {
        assert!(!p["reason"].as_str().unwrap().is_empty(), "{p}");
    }
    let joined: BTreeSet<&str> = crisis["changes_since"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["joined"] == true)
        .map(|c| c["nation"].as_str().unwrap())
        .collect();
    assert!(joined.contains("FIN") && joined.contains("SWE"), "{crisis}");
    let reached: BTreeSet<&str> = crisis["reached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["nation"].as_str().unwrap())
        .collect();
    assert_eq!(reached, BTreeSet::from(["USA", "GBR", "DEU"]));
    assert_eq!(
        crisis["outside"],
        json!([{ "nation": "JPN", "holds_room": false }])
    );
    assert!(out.contains("== Crisis room: the consultation nato-art4-2022-02-24"));
    assert!(out.contains("30 participants as of 2022-02-24"), "{out}");
    assert!(out.contains("JPN knows nothing of the room"));
    assert!(out.contains("stopping the nodes"));
}

#[test]
fn a_list_of_nations_without_the_demonstration_s_hosts_is_a_usage_error() {
    for (list, named) in [
        ("FRA,USA", "DEU must be among them"),
        ("FRA,DEU,XX1", "XX1"),
    ] {
        let run = entente(&["demo", "--nations", list, "--duration", "1"]);
        assert_eq!(run.code, 2, "{list}: {}", run.stderr);
        assert!(run.stderr.contains(named), "{list}: {}", run.stderr);
    }
}

#[test]
fn a_running_demo_serves_taxii_and_audit_routes_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("demo.json");
    let ready = dir.path().join("ready");
    let nodes_dir = dir.path().join("nodes");
    let mut child = spawn(
        dir.path(),
        &[
            "demo",
            "--duration",
            "600",
            "--data-dir",
            nodes_dir.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--ready-file",
            ready.to_str().unwrap(),
        ],
    );
    let start = Instant::now();
    while !ready.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("demo exited early: {status}\n{}", output_of(dir.path()));
        }
        if start.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            panic!("demo not ready in 240 s\n{}", output_of(dir.path()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let fed = &v["federation"];
    let jpn = fed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["nation"] == "JPN")
        .unwrap();
    let ca = jpn["ca"].as_str().unwrap();
    let url = jpn["taxii_url"].as_str().unwrap();
    let user = jpn["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "jpn-nato")
        .unwrap();

    // TAXII with the printed credentials: JPN's NATO-cleared user sees every NATO-labelled
    // object JPN holds (its own and those received), and nothing else.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::builder()
        .tls_backend_rustls()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap()])
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let response = client
        .get(format!(
            "{}collections/intel/objects/",
            jpn["api_root"].as_str().unwrap()
        ))
        .basic_auth(user["name"].as_str().unwrap(), user["password"].as_str())
        .header("Accept", "application/taxii+json;version=2.1")
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let envelope: Value = response.json().unwrap();
    let served: BTreeSet<String> = envelope["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] != "marking-definition")
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    let oracle = oracle();
    let expected: BTreeSet<String> = oracle.receives["JPN"]
        .iter()
        .chain(
            oracle
                .origin
                .iter()
                .filter(|(_, o)| *o == "JPN")
                .map(|(id, _)| id),
        )
        .filter(|id| oracle.policy[*id] == "NATO")
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(served, expected);

    // Every node's keys, configuration and database are owner-only, in owner-only folders.
    #[cfg(unix)]
    {
        let secrets = crate::util::assert_owner_only(&nodes_dir);
        for nation in NATIONS {
            let node = nodes_dir.join(nation.to_ascii_lowercase());
            for name in [
                "node.keys",
                "node.toml",
                "node.db",
                "tls/node.key",
                "tls/taxii.key",
            ] {
                assert!(
                    secrets.contains(&node.join(name)),
                    "{nation}/{name} in {secrets:?}"
                );
            }
        }
    }
    // Metrics (they count withheld objects) are served on the admin listener, not on TAXII's.
    let metrics = reqwest::blocking::get(jpn["metrics"].as_str().unwrap()).unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics
        .text()
        .unwrap()
        .contains("entente_objects_withheld_total"));
    let public = client.get(format!("{url}/metrics")).send().unwrap();
    assert_eq!(public.status(), 404);
    let document = reqwest::blocking::get(jpn["openapi"].as_str().unwrap()).unwrap();
    assert_eq!(document.status(), 200);

    // The audit commands against the running node's routes.
    let vkey = jpn["audit_vkey"].as_str().unwrap();
    let cp = entente(&["audit", "checkpoint", "--url", url, "--ca", ca]);
    assert_eq!(cp.code, 0, "{}", cp.stderr);
    assert!(
        cp.stdout.starts_with("entente.audit/JPN\n"),
        "{}",
        cp.stdout
    );
    let old = dir.path().join("old.checkpoint");
    std::fs::write(&old, &cp.stdout).unwrap();
    let proof = entente(&["audit", "prove", "--url", url, "--ca", ca, "--index", "0"]);
    assert_eq!(proof.code, 0, "{}", proof.stderr);
    let p = proof.json();
    assert_eq!(p["index"], 0);
    assert!(p["leaf"]["kind"].is_string());
    let consistency = entente(&[
        "audit",
        "prove",
        "--url",
        url,
        "--ca",
        ca,
        "--consistency",
        "1",
        "2",
    ]);
    assert_eq!(consistency.code, 0, "{}", consistency.stderr);
    assert_eq!(consistency.json()["second"], 2);
    let verified = entente(&[
        "audit",
        "verify",
        "--url",
        url,
        "--ca",
        ca,
        "--vkey",
        vkey,
        "--index",
        "0",
        "--old-checkpoint",
        old.to_str().unwrap(),
    ]);
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert!(verified.stdout.contains("signature verified"));
    assert!(verified.stdout.contains("inclusion of entry 0"));
    assert!(verified.stdout.contains("consistency from size"));
    // Another nation's key does not verify JPN's checkpoint: exit code 4.
    let fra_vkey = fed["nodes"][0]["audit_vkey"].as_str().unwrap();
    let wrong = entente(&[
        "audit", "verify", "--url", url, "--ca", ca, "--vkey", fra_vkey,
    ]);
    assert_eq!(wrong.code, 4, "{}{}", wrong.stdout, wrong.stderr);
    // Without the CA, TLS refuses the node's certificate.
    let no_ca = entente(&["audit", "checkpoint", "--url", url]);
    assert_ne!(no_ca.code, 0);

    // Ctrl-C stops every node cleanly.
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let code = wait_bounded(&mut child, dir.path(), Duration::from_secs(30));
    assert_eq!(code, 0, "{}", output_of(dir.path()));
    assert!(nodes_dir.join("jpn/node.toml").is_file());
}
