//! Bad input, one case at a time: each gets its status and a TAXII error body (or a precise
//! failure in the status resource), stores nothing, and answers nothing about what it touched.

use entente_store::{ObjectQuery, VersionFilter};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{json, Value};

use crate::sandbox::{Answer, Sandbox, PASSWORD};
use entente_node::MEDIA_TYPE_TAXII;

const OBJECTS: &str = "/api/collections/intel/objects/";
/// Text that must never come back in an answer about a refused request.
const CANARY: &str = "CANARY-7f3e";

/// Every stored version in `intel`, deleted or not visible to anyone included.
async fn stored(s: &Sandbox) -> usize {
    let q = ObjectQuery {
        versions: VersionFilter::all(),
        limit: 1_000_000,
        ..ObjectQuery::default()
    };
    s.node
        .store()
        .objects("intel", &q)
        .await
        .unwrap()
        .objects
        .len()
}

/// The label markings of the example report: [object label REL TO FRA, GBR, JPN, USA, …].
fn report_markings() -> Vec<Value> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/report-bundle.json");
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "marking-definition")
        .cloned()
        .collect()
}

fn indicator(n: u32, marking: &Value) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--1b2c3d4e-0000-4000-8000-{n:012}"),
        "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
        "name": format!("{CANARY} {n}"),
        "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
        "valid_from": "2024-08-01T09:00:00Z", "object_marking_refs": [marking]
    })
}

/// A refusal: the status, a TAXII error body naming it, and no trace of the request's content.
fn refused(a: &Answer, status: u16) -> Value {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.header("content-type"), Some(MEDIA_TYPE_TAXII));
    let body = a.json();
    assert_eq!(body["http_status"], status.to_string(), "{body}");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(!a.text.contains(CANARY), "{}", a.text);
    body
}

async fn node() -> (Sandbox, Vec<Value>) {
    let s = Sandbox::start().await;
    s.user("fra", "FRA", "NATO SECRET", "rw").await;
    s.user("fra-low", "FRA", "NATO RESTRICTED", "rw").await;
    s.user("deu", "DEU", "NATO SECRET", "rw").await;
    let markings = report_markings();
    let a = s
        .post("fra", OBJECTS, &json!({ "objects": markings }))
        .await;
    assert_eq!(a.json()["success_count"], 3, "{}", a.text);
    (s, markings)
}

#[tokio::test]
async fn malformed_bodies_media_types_and_sizes_store_nothing() {
    let (s, markings) = node().await;
    let before = stored(&s).await;
    let url = s.url(OBJECTS);
    let post = |content_type: &str, body: String| {
        let rb = s
            .client
            .post(&url)
            .basic_auth("fra", Some(PASSWORD))
            .header(ACCEPT, MEDIA_TYPE_TAXII)
            .header(CONTENT_TYPE, content_type)
            .body(body);
        async move { Answer::read(rb.send().await.unwrap()).await }
    };
    let good = json!({ "objects": [indicator(1, &markings[0]["id"])] }).to_string();

    // Malformed JSON: 400, with the place of the fault.
    let truncated = &good[..good.len() - 10];
    let body = refused(&post(MEDIA_TYPE_TAXII, truncated.to_owned()).await, 400);
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON at line 1 column"),
        "{body}"
    );
    // Wrong media type: 415, naming the one expected.
    let body = refused(&post("application/json", good.clone()).await, 415);
    assert!(body["description"]
        .as_str()
        .unwrap()
        .contains(MEDIA_TYPE_TAXII));
    let body = refused(
        &post("application/taxii+json;version=2.0", good.clone()).await,
        415,
    );
    assert!(body["description"]
        .as_str()
        .unwrap()
        .contains("version=2.0"));
    // Oversized: 413 (the test node takes 1 MiB), whether declared or not.
    let mut big = json!({ "objects": [indicator(2, &markings[0]["id"])] });
    big["objects"][0]["description"] = json!("x".repeat(1 << 20));
    let body = refused(&post(MEDIA_TYPE_TAXII, big.to_string()).await, 413);
    assert!(body["description"]
        .as_str()
        .unwrap()
        .contains("max_content_length"));
    // Valid JSON that is not an envelope: 422.
    refused(
        &post(MEDIA_TYPE_TAXII, json!([CANARY]).to_string()).await,
        422,
    );
    assert_eq!(stored(&s).await, before);
    s.stop().await;
}

#[tokio::test]
async fn invalid_stix_fails_alone_with_its_path_and_stores_nothing_of_it() {
    let (s, markings) = node().await;
    let before = stored(&s).await;
    let label = &markings[0]["id"];
    let good = indicator(1, label);
    let mut wrong_type = indicator(2, label);
    wrong_type["type"] = json!("malware");
    let mut bad_time = indicator(3, label);
    bad_time["modified"] = json!("yesterday");
    let mut dangling = indicator(4, label);
    dangling["granular_markings"] = json!([{"marking_ref": "not-an-id", "selectors": ["name"]}]);
    let a = s
        .post(
            "fra",
            OBJECTS,
            &json!({ "objects": [good, wrong_type, bad_time, dangling] }),
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let st = a.json();
    assert_eq!(
        (st["success_count"].clone(), st["failure_count"].clone()),
        (json!(1), json!(3))
    );
    let failures = st["failures"].as_array().unwrap();
    let message = |n: u32| {
        let id = format!("indicator--1b2c3d4e-0000-4000-8000-{n:012}");
        failures
            .iter()
            .find(|f| f["id"] == id)
            .and_then(|f| f["message"].as_str())
            .unwrap_or_else(|| panic!("no failure for {id}: {st}"))
            .to_owned()
    };
    assert!(
        message(2).contains("$.id: the identifier's type"),
        "{}",
        message(2)
    );
    assert!(message(3).contains("$.modified"), "{}", message(3));
    assert!(
        message(4).contains("$.granular_markings[0].marking_ref"),
        "{}",
        message(4)
    );
    // Only the good one is stored.
    assert_eq!(stored(&s).await, before + 1);
    // An envelope of bad objects only stores nothing.
    let mut bad = indicator(5, label);
    bad["created"] = json!("2030-01-01T00:00:00.000Z");
    let a = s.post("fra", OBJECTS, &json!({ "objects": [bad] })).await;
    assert_eq!(a.json()["failure_count"], 1, "{}", a.text);
    assert_eq!(stored(&s).await, before + 1);
    s.stop().await;
}

#[tokio::test]
async fn wrong_credentials_unknown_collections_and_uncleared_labels_store_nothing() {
    let (s, markings) = node().await;
    let before = stored(&s).await;
    let envelope = json!({ "objects": [indicator(1, &markings[0]["id"])] });

    // Wrong password, unknown user, unknown token: 401, the same answer each time.
    let post_as = |rb: reqwest::RequestBuilder| {
        let rb = rb
            .header(ACCEPT, MEDIA_TYPE_TAXII)
            .header(CONTENT_TYPE, MEDIA_TYPE_TAXII)
            .body(envelope.to_string());
        async move { Answer::read(rb.send().await.unwrap()).await }
    };
    let url = s.url(OBJECTS);
    let wrong = post_as(s.client.post(&url).basic_auth("fra", Some("guess"))).await;
    let nobody = post_as(s.client.post(&url).basic_auth("nobody", Some(PASSWORD))).await;
    let token = post_as(s.client.post(&url).bearer_auth("forged")).await;
    refused(&wrong, 401);
    assert_eq!(wrong.text, nobody.text);
    assert_eq!(wrong.text, token.text);

    // An unknown collection: 404.
    let a = s
        .post("fra", "/api/collections/nope/objects/", &envelope)
        .await;
    refused(&a, 404);

    // A label above the poster's clearance: refused in the status, nothing stored.
    let a = s.post("fra-low", OBJECTS, &envelope).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let st = a.json();
    assert_eq!(st["failure_count"], 1, "{st}");
    assert_eq!(
        st["failures"][0]["message"],
        "the object's label is above the poster's clearance"
    );
    // … and its marking definition, posted by the same user, too.
    let a = s
        .post("fra-low", OBJECTS, &json!({ "objects": [markings[1]] }))
        .await;
    assert_eq!(
        a.json()["failures"][0]["message"],
        "the label is above the poster's clearance"
    );
    assert_eq!(stored(&s).await, before);
    s.stop().await;
}

#[tokio::test]
async fn a_user_of_another_nation_learns_nothing_of_what_it_may_not_see() {
    let (s, markings) = node().await;
    // REL TO FRA, GBR: not DEU.
    let gbr_only = &markings[2]["id"];
    let secret = indicator(7, gbr_only);
    let a = s
        .post("fra", OBJECTS, &json!({ "objects": [secret] }))
        .await;
    assert_eq!(a.json()["success_count"], 1, "{}", a.text);
    let status_id = a.json()["id"].as_str().unwrap().to_owned();
    let id = "indicator--1b2c3d4e-0000-4000-8000-000000000007";

    // Not in listings, manifest or by id; the 404 is that of an absent object.
    for path in [
        OBJECTS.to_owned(),
        "/api/collections/intel/manifest/".into(),
    ] {
        let a = s.get("deu", &path).await;
        assert_eq!(a.status, 200);
        assert!(
            !a.text.contains(id) && !a.text.contains(CANARY),
            "{}",
            a.text
        );
        assert!(a.header("x-taxii-date-added-first").is_none(), "{path}");
    }
    let hidden = s.get("deu", &format!("{OBJECTS}{id}/")).await;
    let absent_id = "indicator--1b2c3d4e-0000-4000-8000-000000000099";
    let absent = s.get("deu", &format!("{OBJECTS}{absent_id}/")).await;
    refused(&hidden, 404);
    assert_eq!(hidden.text.replace(id, absent_id), absent.text);
    refused(
        &s.get("deu", &format!("{OBJECTS}{id}/versions/")).await,
        404,
    );
    // Another user's status resource does not exist for DEU.
    refused(
        &s.get("deu", &format!("/api/status/{status_id}/")).await,
        404,
    );
    // Deleting what one cannot see is a 404 too, and deletes nothing.
    let del = s
        .client
        .delete(s.url(&format!("{OBJECTS}{id}/")))
        .basic_auth("deu", Some(PASSWORD))
        .header(ACCEPT, MEDIA_TYPE_TAXII)
        .send()
        .await
        .unwrap();
    refused(&Answer::read(del).await, 404);
    assert_eq!(s.get("fra", &format!("{OBJECTS}{id}/")).await.status, 200);
    s.stop().await;
}
