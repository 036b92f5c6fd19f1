//! A standard client against the node: the OASIS `taxii2-client`, from the virtualenv that
//! `scripts/test-all.sh` creates (found beside `ENTENTE_STIX_VALIDATOR`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::sandbox::{Sandbox, PASSWORD};

/// The Python of the test virtualenv: required under `CI=true`, skipped visibly elsewhere.
pub fn venv_python(test: &str) -> Option<PathBuf> {
    let Some(validator) = std::env::var_os("ENTENTE_STIX_VALIDATOR") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must set ENTENTE_STIX_VALIDATOR (scripts/test-all.sh installs the Python clients)"
        );
        eprintln!("SKIPPED {test}: ENTENTE_STIX_VALIDATOR is not set");
        return None;
    };
    let python = Path::new(&validator).with_file_name("python");
    assert!(python.exists(), "{} is missing", python.display());
    Some(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii2_client_walks_the_node() {
    let Some(python) = venv_python("taxii2_client_walks_the_node") else {
        return;
    };
    walk(python, Sandbox::start().await, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii2_client_walks_the_node_over_tls() {
    let Some(python) = venv_python("taxii2_client_walks_the_node_over_tls") else {
        return;
    };
    let s = Sandbox::start_tls(|_| {}).await;
    let ca = s.dir().join("tls/ca.pem");
    walk(python, s, Some(ca)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii2_client_walks_a_postgres_node() {
    let Some(python) = venv_python("taxii2_client_walks_a_postgres_node") else {
        return;
    };
    let Some(s) = Sandbox::start_postgres(|_| {}).await else {
        return;
    };
    walk(python, s, None).await;
}

/// The OASIS client's walk of a node, checked against what was posted.
async fn walk(python: PathBuf, s: Sandbox, ca: Option<PathBuf>) {
    s.user("fra", "FRA", "NATO SECRET", "rw").await;
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = here.join("tests/it/taxii2_walk.py");
    let bundle = here.join("../../examples/report-bundle.json");
    let report = "report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b";
    let base = s.base.clone();
    // The client blocks: run it off the server's threads.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(&script)
            .args([&base, "fra", PASSWORD])
            .arg(&bundle)
            .arg(report)
            .args(ca)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["status"], "complete");
    assert_eq!(summary["success_count"], 5);
    assert_eq!(summary["objects"].as_array().unwrap().len(), 5, "{summary}");
    assert_eq!(summary["manifest"], summary["objects"]);
    assert_eq!(summary["object"], serde_json::json!([report]));
    assert_eq!(
        summary["versions"],
        serde_json::json!(["2024-08-01T09:00:00.000Z"])
    );
    s.stop().await;
}
