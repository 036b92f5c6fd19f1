//! The OpenAPI document of the node's own API: valid OpenAPI 3.1 by the OpenAPI project's own
//! validator, served on the admin listener only, and every route it lists answers on the
//! listener its tag names, as it says. (With federation, `crates/entente/tests/it/node.rs` checks
//! the whole document against a running `entente node`.)

use serde_json::Value;

use crate::interop::venv_python;
use crate::sandbox::Sandbox;

/// Runs `openapi-spec-validator` (PyPI) on `doc`; `None` when the virtualenv is absent outside CI.
pub fn validate_with_openapi_spec_validator(doc: &Value) -> Option<()> {
    let python = venv_python("openapi_spec_validator")?;
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
    Some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_valid_and_every_route_answers() {
    let s = Sandbox::start().await;
    let r = s
        .client
        .get(s.admin_url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/json");
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0", "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    for path in ["/health", "/metrics", "/openapi.json"] {
        assert!(paths.contains_key(path), "{path} is not described");
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let send = |url: &str| match method.as_str() {
                "get" => s.client.get(url),
                "post" => s.client.post(url).body("{}"),
                other => panic!("{path}: method {other}"),
            };
            let tags: Vec<&str> = op["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            let (here, elsewhere) = match tags.as_slice() {
                ["node"] => (s.url(path), s.admin_url(path)),
                ["admin"] => (s.admin_url(path), s.url(path)),
                other => panic!("{path}: tags {other:?} name no listener of a node"),
            };
            let answer = send(&here).send().await.unwrap();
            let status = answer.status().as_u16().to_string();
            assert!(
                op["responses"].get(&status).is_some(),
                "{here} answered {status}, which the document does not list"
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
            let other = send(&elsewhere).send().await.unwrap();
            assert_eq!(other.status(), 404, "{elsewhere} is not its listener");
        }
    }
    validate_with_openapi_spec_validator(&doc);
    s.stop().await;
}
