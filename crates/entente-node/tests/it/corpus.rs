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
    // Read back page by page: every object, equal as JSON to what was posted.
    let mut back = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("{OBJECTS}?limit=500");
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let env = s.get("fra", &path).await.json();
        back.extend(env["objects"].as_array().cloned().unwrap_or_default());
        match env["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(back, objects);
    // NATO UNCLASSIFIED goes to a NATO ally, not beyond NATO's default release.
    let deu = s.get("deu", &format!("{OBJECTS}?limit=10000")).await.json();
    assert_eq!(deu["objects"].as_array().map_or(0, Vec::len), 1826);
    let jpn = s.get("jpn", &format!("{OBJECTS}?limit=10000")).await.json();
    let jpn_count = jpn["objects"].as_array().map_or(0, Vec::len);
    assert!(jpn_count < 1826, "JPN is not a NATO member: {jpn_count}");
    s.stop().await;
}
