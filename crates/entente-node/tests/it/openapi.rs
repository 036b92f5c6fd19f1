//! The OpenAPI document of the node's own API: valid OpenAPI 3.x, and every route it lists
//! answers as it says.

use serde_json::Value;

use crate::interop::venv_python;
use crate::sandbox::Sandbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_valid_and_every_route_answers() {
    let s = Sandbox::start().await;
    let r = s.client.get(s.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/json");
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/health") && paths.contains_key("/metrics"));
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert_eq!(method, "get", "{path}");
            let answer = s.client.get(s.url(path)).send().await.unwrap();
            let status = answer.status().as_u16().to_string();
            assert!(
                op["responses"].get(&status).is_some(),
                "{path} answered {status}, which the document does not list"
            );
            let media = answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            let documented = op["responses"][&status]["content"].as_object().unwrap();
            assert!(
                documented.keys().any(|m| media.starts_with(m.as_str())),
                "{path}: {media} not in {documented:?}"
            );
        }
    }
    // The OpenAPI project's own validator, when the test virtualenv is there.
    if let Some(python) = venv_python("openapi_spec_validator") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("openapi.json");
        std::fs::write(&file, doc.to_string()).unwrap();
        let out = std::process::Command::new(python.with_file_name("openapi-spec-validator"))
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("OK"),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    s.stop().await;
}
