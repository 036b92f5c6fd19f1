//! A real STIX 2.1 corpus written elsewhere: MITRE ATT&CK for ICS, ingested whole and read back.

use serde_json::{json, Value};

use crate::sandbox::Sandbox;

const OBJECTS: &str = "/api/collections/intel/objects/";

/// The corpus, from `../shared/corpora/`: required under `CI=true`, skipped visibly elsewhere.
fn corpus() -> Option<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/mitre-attack/ics-attack-18.1.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs {}: {e}",
                path.display()
            );
            eprintln!(
                "SKIPPED attack_for_ics_round_trips: {} unreadable: {e}",
                path.display()
            );
            None
        }
    }
}

/// The corpus carries no confidentiality labels: the node gives it its default label.
fn corpus_config(c: &mut entente_node::NodeConfig) {
    c.max_content_length = 16 << 20;
    c.default_label = Some("NATO UNCLASSIFIED".into());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_for_ics_round_trips() {
    let Some(bundle) = corpus() else { return };
    round_trip(bundle, Sandbox::start_with(corpus_config).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_for_ics_round_trips_on_postgres() {
    let Some(bundle) = corpus() else { return };
    let Some(s) = Sandbox::start_postgres(corpus_config).await else {
        return;
    };
    round_trip(bundle, s).await;
}

/// The id of the node's default label's marking definition, and `objects` as the node stores
/// them: the corpus carries no confidentiality label, so ingest writes the default label into
/// every object of information.
fn as_stored(objects: &[Value]) -> (String, Vec<Value>) {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/policies");
    let policies = entente_labels::PolicySet::load(&data).unwrap();
    let label = entente_labels::parse_marking(&policies, "NATO UNCLASSIFIED").unwrap();
    let default = entente_labels::stix::marking_definition_id(&policies, &label).unwrap();
    let stored = objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            if !matches!(
                o["type"].as_str(),
                Some("marking-definition" | "extension-definition")
            ) {
                o["object_marking_refs"]
                    .as_array_mut()
                    .unwrap()
                    .insert(0, json!(default));
            }
            o
        })
        .collect();
    (default, stored)
}

/// `back` equals `expected`, object by object (a failure names the first that differs).
fn same_objects(back: &[Value], expected: &[Value]) {
    for (i, (b, e)) in back.iter().zip(expected).enumerate() {
        assert_eq!(b, e, "object {i} differs");
    }
    assert_eq!(back.len(), expected.len());
}

/// Every object of the collection `user` may read, page by page.
async fn read_all(s: &Sandbox, user: &str) -> Vec<Value> {
    let mut back = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("{OBJECTS}?limit=500");
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let env = s.get(user, &path).await.json();
        back.extend(env["objects"].as_array().cloned().unwrap_or_default());
        match env["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    back
}

async fn round_trip(bundle: Value, s: Sandbox) {
    let objects = bundle["objects"].as_array().unwrap().clone();
    assert_eq!(objects.len(), 1826);
    s.user("fra", "FRA", "NATO SECRET", "rw").await;
    s.user("deu", "DEU", "NATO SECRET", "r").await;
    s.user("jpn", "JPN", "NATO SECRET", "r").await;
    let a = s.post("fra", OBJECTS, &json!({"objects": objects})).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let status = a.json();
    assert_eq!(status["failure_count"], 0, "{}", status["failures"]);
    assert_eq!(status["success_count"], 1826);
    // Read back page by page: every object, equal as JSON to what was posted with the default
    // label written in, after the default label's marking definition.
    let (default, stored) = as_stored(&objects);
    let back = read_all(&s, "fra").await;
    assert_eq!(back[0]["id"], json!(default));
    same_objects(&back[1..], &stored);
    // NATO UNCLASSIFIED goes to a NATO ally, not beyond NATO's default release.
    let deu = s.get("deu", &format!("{OBJECTS}?limit=10000")).await.json();
    assert_eq!(deu["objects"].as_array().map_or(0, Vec::len), 1827);
    let jpn = s.get("jpn", &format!("{OBJECTS}?limit=10000")).await.json();
    let jpn_count = jpn["objects"].as_array().map_or(0, Vec::len);
    assert!(jpn_count < 1826, "JPN is not a NATO member: {jpn_count}");
    s.stop().await;
}

/// The corpus posted as a TAXII client syncing it from another server would: in pages of 100
/// in file order, where the marking definition every object refers to comes last. Objects are
/// held back until it arrives, then read back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_for_ics_posted_in_file_order_reads_back_whole() {
    let Some(bundle) = corpus() else { return };
    let s = Sandbox::start_with(corpus_config).await;
    let objects = bundle["objects"].as_array().unwrap().clone();
    s.user("fra", "FRA", "NATO SECRET", "rw").await;
    s.user("deu", "DEU", "NATO SECRET", "r").await;
    let mut statuses = Vec::new();
    for page in objects.chunks(100) {
        let a = s.post("fra", OBJECTS, &json!({"objects": page})).await;
        assert_eq!(a.status, 202, "{}", a.text);
        let st = a.json();
        assert_eq!(st["failure_count"], 0, "{}", st["failures"]);
        statuses.push(st);
        if statuses.len() < 19 {
            // Nothing of it may be read before its marking definition is known.
            assert!(
                read_all(&s, "fra").await.is_empty(),
                "page {}",
                statuses.len()
            );
        }
    }
    assert_eq!(statuses[0]["status"], "pending");
    assert_eq!(statuses[0]["pending_count"], 100);
    for st in &statuses {
        let path = format!("/api/status/{}/", st["id"].as_str().unwrap());
        let now = s.get("fra", &path).await.json();
        assert_eq!(now["status"], "complete", "{now}");
        assert_eq!(now["success_count"], st["total_count"], "{now}");
        assert_eq!(now["pending_count"], 0);
    }
    let (default, stored) = as_stored(&objects);
    let mut back = read_all(&s, "fra").await;
    let mut expected = stored;
    assert_eq!(back.iter().filter(|o| o["id"] == json!(default)).count(), 1);
    back.retain(|o| o["id"] != json!(default));
    let key = |o: &Value| o["id"].as_str().unwrap_or_default().to_owned();
    back.sort_by_key(key);
    expected.sort_by_key(key);
    same_objects(&back, &expected);
    assert_eq!(read_all(&s, "deu").await.len(), 1827);
    s.stop().await;
}

/// ATT&CK for ICS searched as an analyst would: a technique by its ATT&CK id, a group by its
/// name, what a group uses one hop out, and the counts by type; every expected answer is read
/// from the corpus file itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_for_ics_is_searched_by_technique_group_and_relationship() {
    let Some(bundle) = corpus() else { return };
    let s = Sandbox::start_with(corpus_config).await;
    let objects = bundle["objects"].as_array().unwrap().clone();
    s.user("fra", "FRA", "NATO SECRET", "rw").await;
    let a = s.post("fra", OBJECTS, &json!({"objects": objects})).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let search = |q: &str| {
        let path = format!(
            "/api/search/?limit=1000&q={}",
            q.replace(' ', "%20").replace(':', "%3A")
        );
        let s = &s;
        async move { s.get("fra", &path).await.json() }
    };
    let ids = |answer: &Value| -> Vec<String> {
        let mut ids: Vec<String> = answer["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };

    // Techniques by their ATT&CK id.
    let techniques: Vec<(&str, &str)> = objects
        .iter()
        .filter(|o| o["type"] == "attack-pattern")
        .filter_map(|o| {
            let refs = o["external_references"].as_array()?;
            let t = refs.iter().find(|r| {
                r["source_name"] == "mitre-attack" || r["source_name"] == "mitre-ics-attack"
            })?;
            Some((t["external_id"].as_str()?, o["id"].as_str()?))
        })
        .collect();
    assert!(
        techniques.len() > 50,
        "{} techniques with ids",
        techniques.len()
    );
    let words = |t: &str| -> Vec<String> {
        t.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (technique, id) in techniques.iter().step_by(7) {
        let answer = search(&format!("type:attack-pattern {technique}")).await;
        // The technique, and any other technique naming it (a revoked one, a description).
        let mut expected: Vec<String> = objects
            .iter()
            .filter(|o| o["type"] == "attack-pattern")
            .filter(|o| words(&o.to_string()).contains(&technique.to_lowercase()))
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect();
        expected.sort();
        assert!(expected.contains(&id.to_string()));
        assert_eq!(ids(&answer), expected, "technique {technique}");
    }

    // Groups by name, and what each uses, one hop out.
    for group in objects.iter().filter(|o| o["type"] == "intrusion-set") {
        let name = group["name"].as_str().unwrap();
        let id = group["id"].as_str().unwrap();
        let answer = search(&format!("type:intrusion-set \"{name}\"")).await;
        let named: Vec<&str> = objects
            .iter()
            .filter(|o| o["type"] == "intrusion-set")
            .filter(|o| {
                let words = |t: &str| {
                    t.to_lowercase()
                        .split(|c: char| !c.is_alphanumeric())
                        .filter(|w| !w.is_empty())
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                };
                let text = o.to_string().to_lowercase();
                words(name).iter().all(|w| words(&text).contains(w))
            })
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert!(ids(&answer).contains(&id.to_owned()), "group {name}");
        assert!(
            ids(&answer).len() <= named.len(),
            "group {name}: {:?}",
            ids(&answer)
        );
        // Relationships joining the group, and references to or from it (`*_ref`, `*_refs`;
        // not the author nor the markings, which every object names).
        let refs_of = |o: &Value| -> Vec<String> {
            let mut out = Vec::new();
            for (k, v) in o.as_object().unwrap() {
                if k == "created_by_ref" || k == "object_marking_refs" {
                    continue;
                }
                if k.ends_with("_ref") {
                    out.extend(v.as_str().map(str::to_owned));
                } else if k.ends_with("_refs") {
                    let refs = v.as_array().into_iter().flatten();
                    out.extend(refs.filter_map(|r| r.as_str().map(str::to_owned)));
                }
            }
            out
        };
        let mut expected: Vec<String> = vec![id.to_owned()];
        for o in &objects {
            if o["type"] == "relationship" {
                let src = o["source_ref"].as_str().unwrap();
                let dst = o["target_ref"].as_str().unwrap();
                if src == id {
                    expected.push(dst.to_owned());
                } else if dst == id {
                    expected.push(src.to_owned());
                }
            } else if o["id"] == id {
                expected.extend(refs_of(o));
            } else if refs_of(o).iter().any(|r| r == id) {
                expected.push(o["id"].as_str().unwrap().to_owned());
            }
        }
        expected.sort();
        expected.dedup();
        let graph = s
            .get("fra", &format!("/api/search/graph?id={id}&hops=1"))
            .await
            .json();
        let mut got: Vec<String> = graph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        let cap = entente_node::search::GRAPH_NODES;
        if expected.len() <= cap {
            assert_eq!(got, expected, "what {name} is related to");
        } else {
            assert_eq!(
                got.len(),
                cap,
                "{name}: a graph holds at most {cap} objects"
            );
        }
    }

    // Counts by type: the corpus's own, marking definitions and schemas aside.
    let everything = search("").await;
    let mut by_type: std::collections::BTreeMap<String, usize> = Default::default();
    for o in &objects {
        let kind = o["type"].as_str().unwrap();
        if !matches!(kind, "marking-definition" | "extension-definition") {
            *by_type.entry(kind.to_owned()).or_default() += 1;
        }
    }
    assert_eq!(everything["facets"]["types"], json!(by_type));
    assert_eq!(everything["total"], by_type.values().sum::<usize>());
    s.stop().await;
}
