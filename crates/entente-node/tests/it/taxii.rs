//! TAXII 2.1 behaviour: resources, filters, errors, and what each nation may see.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{json, Value};

use crate::sandbox::{Sandbox, PASSWORD};
use entente_node::MEDIA_TYPE_TAXII;

const OBJECTS: &str = "/api/collections/intel/objects/";
const REPORT: &str = "report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b";

fn report_bundle() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/report-bundle.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A FRA node with: a FRA analyst (writer), a FRA reader cleared only to NATO CONFIDENTIAL, a JPN
/// and a DEU reader, and the example report posted.
async fn populated() -> Sandbox {
    let s = Sandbox::start().await;
    s.user("fra", "FRA", "NATO SECRET", "rw").await;
    s.user("fra-low", "FRA", "NATO CONFIDENTIAL", "r").await;
    s.user("jpn", "JPN", "NATO SECRET", "r").await;
    s.user("deu", "DEU", "NATO SECRET", "r").await;
    let bundle = report_bundle();
    let a = s
        .post("fra", OBJECTS, &json!({"objects": bundle["objects"]}))
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
    assert_eq!(a.json()["success_count"], 5, "{}", a.text);
    s
}

fn report_in(envelope: &Value) -> Option<Value> {
    envelope["objects"]
        .as_array()?
        .iter()
        .find(|o| o["id"] == REPORT)
        .cloned()
}

#[tokio::test]
async fn discovery_root_and_collections() {
    let s = populated().await;
    let a = s.get("jpn", "/taxii2/").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some(MEDIA_TYPE_TAXII));
    let d = a.json();
    assert_eq!(d["api_roots"][0], format!("{}/api/", s.base));
    let root = s.get("jpn", "/api/").await.json();
    assert_eq!(root["versions"], json!([MEDIA_TYPE_TAXII]));
    assert_eq!(root["max_content_length"], 1024 * 1024);
    let c = s.get("jpn", "/api/collections/").await.json();
    assert_eq!(c["collections"][0]["id"], "intel");
    assert_eq!(c["collections"][0]["can_read"], true);
    assert_eq!(c["collections"][0]["can_write"], false);
    let one = s.get("fra", "/api/collections/intel/").await.json();
    assert_eq!(one["can_write"], true);
    s.stop().await;
}

#[tokio::test]
async fn each_nation_sees_what_its_labels_allow() {
    let s = populated().await;
    // FRA (the originator) sees the whole report.
    let fra = s.get("fra", OBJECTS).await;
    assert_eq!(fra.status, 200);
    let r = report_in(&fra.json()).expect("FRA sees the report");
    assert!(r["description"]
        .as_str()
        .unwrap()
        .contains("without transponders"));
    assert!(fra.text.contains("liaison cell"));
    // JPN: REL TO includes JPN for the object, not for the description or the liaison portions.
    let jpn = s.get("jpn", OBJECTS).await;
    let r = report_in(&jpn.json()).expect("JPN sees the tear-lined report");
    assert!(r.get("description").is_none());
    assert!(!jpn.text.contains("without transponders"));
    assert!(!jpn.text.contains("liaison cell"));
    assert!(!jpn.text.contains("000000000002"));
    // DEU is in no REL TO: the report does not exist for it, anywhere.
    let deu = s.get("deu", OBJECTS).await;
    assert!(report_in(&deu.json()).is_none());
    assert!(!deu.text.contains(REPORT));
    let by_id = format!("{OBJECTS}{REPORT}/");
    let a = s.get("deu", &by_id).await;
    assert_eq!(a.status, 404, "{}", a.text);
    assert_eq!(a.json()["http_status"], "404");
    assert_eq!(s.get("deu", &format!("{by_id}versions/")).await.status, 404);
    let manifest = s.get("deu", "/api/collections/intel/manifest/").await;
    assert!(!manifest.text.contains(REPORT));
    // A FRA reader cleared below NATO SECRET does not see it either.
    assert_eq!(s.get("fra-low", &by_id).await.status, 404);
    // JPN by id: the tear-lined copy; its manifest lists the report.
    let a = s.get("jpn", &by_id).await;
    assert_eq!(a.status, 200);
    assert!(!a.text.contains("without transponders"));
    let manifest = s
        .get("jpn", "/api/collections/intel/manifest/")
        .await
        .json();
    let ids: Vec<&str> = manifest["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&REPORT));
    let versions = s.get("jpn", &format!("{by_id}versions/")).await.json();
    assert_eq!(versions["versions"], json!(["2024-08-01T09:00:00.000Z"]));
    s.stop().await;
}

#[tokio::test]
async fn bad_objects_fail_alone_in_the_status() {
    let s = populated().await;
    let bundle = report_bundle();
    let label = bundle["objects"][1]["id"].clone();
    let good = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--1b2c3d4e-0000-4000-8000-000000000001",
        "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
        "valid_from": "2024-08-01T09:00:00Z", "object_marking_refs": [label]
    });
    let mut bad = good.clone();
    bad["id"] = json!("indicator--1b2c3d4e-0000-4000-8000-000000000009");
    bad["modified"] = json!("2024-07-01T09:00:00.000Z");
    let mut unlabelled = good.clone();
    unlabelled["id"] = json!("indicator--1b2c3d4e-0000-4000-8000-000000000010");
    unlabelled
        .as_object_mut()
        .unwrap()
        .remove("object_marking_refs");
    let mut unknown = good.clone();
    unknown["id"] = json!("indicator--1b2c3d4e-0000-4000-8000-000000000011");
    unknown["object_marking_refs"] =
        json!(["marking-definition--00000000-0000-4000-8000-000000000000"]);
    let a = s
        .post(
            "fra",
            OBJECTS,
            &json!({"objects": [good, bad, unlabelled, unknown]}),
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let st = a.json();
    // The object whose marking definition is not known yet is held back, not refused.
    assert_eq!(st["status"], "pending");
    assert_eq!(st["total_count"], 4);
    assert_eq!(st["success_count"], 1);
    assert_eq!(st["failure_count"], 2);
    assert_eq!(st["pending_count"], 1);
    let messages: Vec<&str> = st["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "$.modified: 2024-07-01T09:00:00.000Z is earlier than created 2024-08-01T09:00:00.000Z",
            "the object has no confidentiality label (object_marking_refs) and the node has no default label",
        ]
    );
    assert_eq!(
        st["pendings"][0]["message"],
        "held back until marking definition marking-definition--00000000-0000-4000-8000-000000000000 is known to this node"
    );
    // The status is the poster's: others get 404.
    let path = format!("/api/status/{}/", st["id"].as_str().unwrap());
    assert_eq!(s.get("fra", &path).await.json(), st);
    assert_eq!(s.get("jpn", &path).await.status, 404);
    // Only the good one was stored.
    let a = s
        .get("fra", &format!("{OBJECTS}?match[type]=indicator"))
        .await
        .json();
    assert_eq!(a["objects"].as_array().unwrap().len(), 1);
    s.stop().await;
}

/// The marking definition of a label of the shipped policies.
pub fn label_marking(text: &str) -> Value {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/policies");
    let policies = entente_labels::PolicySet::load(&data).unwrap();
    let label = entente_labels::parse_marking(&policies, text).unwrap();
    entente_labels::stix::to_marking_definition(&policies, &label).unwrap()
}

/// Objects may arrive before the marking definitions they refer to (a TAXII client syncing from
/// another server gets that server's order): they are held back from every reader until the
/// markings are known, then stored under the ordinary checks, and their status says so.
#[tokio::test]
async fn objects_wait_for_their_marking_definitions() {
    let s = populated().await;
    let bundle = report_bundle();
    let label = bundle["objects"][1].clone();
    let label_id = label["id"].as_str().unwrap().to_owned();
    // A label marking not posted yet: NATO SECRET releasable to FRA and GBR only.
    s.user("gbr", "GBR", "NATO SECRET", "r").await;
    let secret = label_marking("NATO SECRET//REL TO FRA, GBR, DEU");
    let secret_id = secret["id"].as_str().unwrap().to_owned();
    let indicator = |n: u32, refs: Value| {
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--1b2c3d4e-0000-4000-8000-0000000001{n:02}"),
            "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
            "name": format!("held back {n}"),
            "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
            "valid_from": "2024-08-01T09:00:00Z", "object_marking_refs": refs
        })
    };
    // One waits for the label; one has a known label and a granular marking not known yet,
    // whose portion must not fall under the object's label in the meantime.
    let mut portion = indicator(2, json!([label_id]));
    portion["granular_markings"] = json!([{"marking_ref": secret_id, "selectors": ["name"]}]);
    let a = s
        .post(
            "fra",
            OBJECTS,
            &json!({"objects": [indicator(1, json!([secret_id])), portion]}),
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let st = a.json();
    assert_eq!(st["status"], "pending", "{st}");
    assert_eq!(st["pending_count"], 2);
    let status_path = format!("/api/status/{}/", st["id"].as_str().unwrap());
    // Held back from everyone, the poster included: not in pages, by id, or the manifest.
    for reader in ["fra", "gbr", "jpn", "deu"] {
        let page = s.get(reader, &format!("{OBJECTS}?limit=1000")).await;
        assert!(!page.text.contains("held back"), "{reader}: {}", page.text);
        let manifest = s.get(reader, "/api/collections/intel/manifest/").await;
        assert!(!manifest.text.contains("0000000001"), "{reader}");
        for n in [1, 2] {
            let by_id = format!("{OBJECTS}indicator--1b2c3d4e-0000-4000-8000-0000000001{n:02}/");
            assert_eq!(s.get(reader, &by_id).await.status, 404, "{reader} {n}");
        }
    }
    // The marking arrives: both are stored and released under the ordinary rules.
    let a = s.post("fra", OBJECTS, &json!({"objects": [secret]})).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let st = s.get("fra", &status_path).await.json();
    assert_eq!(st["status"], "complete", "{st}");
    assert_eq!(st["success_count"], 2, "{st}");
    assert_eq!(st["pending_count"], 0);
    let by_id = |n: u32| format!("{OBJECTS}indicator--1b2c3d4e-0000-4000-8000-0000000001{n:02}/");
    assert_eq!(s.get("fra", &by_id(1)).await.status, 200);
    assert_eq!(s.get("gbr", &by_id(1)).await.status, 200);
    assert_eq!(s.get("deu", &by_id(1)).await.status, 200);
    assert_eq!(s.get("jpn", &by_id(1)).await.status, 404);
    // The portion is cut for JPN, which may see the object but not its name.
    let jpn = s.get("jpn", &by_id(2)).await;
    assert_eq!(jpn.status, 200, "{}", jpn.text);
    assert!(!jpn.text.contains("held back 2"), "{}", jpn.text);
    assert!(s.get("gbr", &by_id(2)).await.text.contains("held back 2"));
    // DEU is outside the object's own label.
    assert_eq!(s.get("deu", &by_id(2)).await.status, 404);
    s.stop().await;
}

/// Every property STIX 2.1 requires of a type is required on ingest: an incident without its
/// name is refused, and the failure names the property.
#[tokio::test]
async fn an_incident_without_a_name_is_refused_naming_the_property() {
    let s = populated().await;
    let label = report_bundle()["objects"][1]["id"].clone();
    let named = json!({
        "type": "incident", "spec_version": "2.1",
        "id": "incident--1b2c3d4e-0000-4000-8000-000000000021",
        "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
        "name": "Cable fault", "object_marking_refs": [label]
    });
    let mut nameless = named.clone();
    nameless["id"] = json!("incident--1b2c3d4e-0000-4000-8000-000000000022");
    nameless.as_object_mut().unwrap().remove("name");
    let a = s
        .post("fra", OBJECTS, &json!({"objects": [named, nameless]}))
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let st = a.json();
    assert_eq!(st["success_count"], 1, "{st}");
    assert_eq!(st["failure_count"], 1, "{st}");
    assert_eq!(
        st["failures"][0]["id"],
        "incident--1b2c3d4e-0000-4000-8000-000000000022"
    );
    assert_eq!(
        st["failures"][0]["message"],
        "$.name: required property of incident is missing"
    );
    let stored = s
        .get("fra", &format!("{OBJECTS}?match[type]=incident"))
        .await
        .json();
    assert_eq!(stored["objects"].as_array().unwrap().len(), 1, "{stored}");
    s.stop().await;
}

#[tokio::test]
async fn errors_have_their_status_and_a_taxii_body() {
    let s = populated().await;
    let url = s.url(OBJECTS);
    let send = |rb: reqwest::RequestBuilder| async move {
        crate::sandbox::Answer::read(rb.send().await.unwrap()).await
    };
    // 401: none, wrong password, unknown token.
    let a = send(s.client.get(&url)).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.header("content-type"), Some(MEDIA_TYPE_TAXII));
    assert_eq!(a.json()["title"], "authentication required");
    assert!(a.header("www-authenticate").is_some());
    assert_eq!(
        send(s.client.get(&url).basic_auth("fra", Some("wrong")))
            .await
            .status,
        401
    );
    assert_eq!(
        send(s.client.get(&url).basic_auth("nobody", Some(PASSWORD)))
            .await
            .status,
        401
    );
    assert_eq!(
        send(s.client.get(&url).bearer_auth("nope")).await.status,
        401
    );
    // 406: an Accept that names nothing we serve.
    let a = send(
        s.client
            .get(&url)
            .basic_auth("fra", Some(PASSWORD))
            .header(ACCEPT, "text/html"),
    )
    .await;
    assert_eq!(a.status, 406);
    // 415, 400, 422, 413 on POST.
    let post = |ct: &str, body: String| {
        s.client
            .post(&url)
            .basic_auth("fra", Some(PASSWORD))
            .header(CONTENT_TYPE, ct)
            .body(body)
    };
    assert_eq!(
        send(post("application/json", "{}".into())).await.status,
        415
    );
    let a = send(post(MEDIA_TYPE_TAXII, "{\"objects\": [".into())).await;
    assert_eq!(a.status, 400);
    assert!(a.json()["description"]
        .as_str()
        .unwrap()
        .starts_with("malformed JSON at line 1"));
    assert_eq!(
        send(post(MEDIA_TYPE_TAXII, "{\"more\": false}".into()))
            .await
            .status,
        422
    );
    let a = send(post(
        MEDIA_TYPE_TAXII,
        format!("{{\"objects\": [\"{}\"]}}", "x".repeat(2 << 20)),
    ))
    .await;
    assert_eq!(a.status, 413);
    // 403: a reader posting.
    let a = s.post("jpn", OBJECTS, &json!({"objects": []})).await;
    assert_eq!(a.status, 403);
    // 404: an unknown collection, and one the user has no right on.
    assert_eq!(
        s.get("fra", "/api/collections/nope/objects/").await.status,
        404
    );
    assert_eq!(s.get("fra", "/api/nothing-here").await.status, 404);
    // 400: bad filters.
    assert_eq!(
        s.get("fra", &format!("{OBJECTS}?limit=0")).await.status,
        400
    );
    assert_eq!(
        s.get("fra", &format!("{OBJECTS}?added_after=yesterday"))
            .await
            .status,
        400
    );
    assert_eq!(
        s.get("fra", &format!("{OBJECTS}?next=abc")).await.status,
        400
    );
    s.stop().await;
}

#[tokio::test]
async fn pages_filters_and_date_headers() {
    let s = populated().await;
    let label = report_bundle()["objects"][1]["id"].clone();
    let objects: Vec<Value> = (0..25)
        .map(|i| {
            json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--1b2c3d4e-0000-4000-8000-{:012}", 100 + i),
                "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
                "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
                "valid_from": "2024-08-01T09:00:00Z", "object_marking_refs": [label]
            })
        })
        .collect();
    let a = s.post("fra", OBJECTS, &json!({"objects": objects})).await;
    assert_eq!(a.json()["success_count"], 25);
    // JPN pages through the indicators ten at a time.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut last_header = None;
    loop {
        let mut path = format!("{OBJECTS}?match[type]=indicator&limit=10");
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let a = s.get("jpn", &path).await;
        assert_eq!(a.status, 200);
        let first = a.header("x-taxii-date-added-first").unwrap().to_owned();
        if let Some(prev) = &last_header {
            assert!(first > *prev, "pages are in date_added order");
        }
        last_header = Some(a.header("x-taxii-date-added-last").unwrap().to_owned());
        let env = a.json();
        seen.extend(
            env["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].clone()),
        );
        if env["more"] != true {
            assert!(env.get("next").is_none());
            break;
        }
        next = Some(env["next"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 25);
    // added_after the last header returns nothing; match[id] picks one.
    let after = last_header.unwrap();
    let a = s
        .get("jpn", &format!("{OBJECTS}?added_after={after}"))
        .await
        .json();
    assert_eq!(a, json!({}));
    let id = seen[3].as_str().unwrap();
    let a = s
        .get("jpn", &format!("{OBJECTS}?match[id]={id}"))
        .await
        .json();
    assert_eq!(a["objects"].as_array().unwrap().len(), 1);
    let a = s
        .get("jpn", &format!("{OBJECTS}?match[spec_version]=2.0"))
        .await
        .json();
    assert_eq!(a, json!({}));
    s.stop().await;
}

#[tokio::test]
async fn versions_and_soft_deletes() {
    let s = populated().await;
    let bundle = report_bundle();
    let mut v2 = bundle["objects"][4].clone();
    v2["modified"] = json!("2024-08-02T09:00:00.000Z");
    let a = s.post("fra", OBJECTS, &json!({"objects": [v2]})).await;
    assert_eq!(a.json()["success_count"], 1);
    // Re-posting the same version is idempotent.
    let a = s
        .post("fra", OBJECTS, &json!({"objects": [bundle["objects"][4]]}))
        .await;
    assert_eq!(a.json()["success_count"], 1);
    let path = format!("{OBJECTS}{REPORT}/");
    let v = s.get("jpn", &format!("{path}versions/")).await.json();
    assert_eq!(
        v["versions"],
        json!(["2024-08-01T09:00:00.000Z", "2024-08-02T09:00:00.000Z"])
    );
    let all = s
        .get("fra", &format!("{path}?match[version]=all"))
        .await
        .json();
    assert_eq!(all["objects"].as_array().unwrap().len(), 2);
    let first = s
        .get("fra", &format!("{path}?match[version]=first"))
        .await
        .json();
    assert_eq!(first["objects"][0]["modified"], "2024-08-01T09:00:00.000Z");
    // A reader cannot delete; the writer deletes the latest version only.
    let del = |user: &str, p: String| {
        s.client
            .delete(s.url(&p))
            .basic_auth(user, Some(PASSWORD))
            .send()
    };
    assert_eq!(del("jpn", path.clone()).await.unwrap().status(), 403);
    let r = del(
        "fra",
        format!("{path}?match[version]=2024-08-02T09:00:00.000Z"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let latest = s.get("fra", &path).await.json();
    assert_eq!(latest["objects"][0]["modified"], "2024-08-01T09:00:00.000Z");
    assert_eq!(del("fra", path.clone()).await.unwrap().status(), 200);
    assert_eq!(s.get("fra", &path).await.status, 404);
    assert_eq!(del("fra", path.clone()).await.unwrap().status(), 404);
    s.stop().await;
}

#[tokio::test]
async fn bearer_tokens_health_and_metrics() {
    let s = populated().await;
    let token = entente_node::auth::new_token();
    s.node
        .store()
        .add_token("jpn", &entente_node::auth::token_hash(&token))
        .await
        .unwrap();
    let r = s
        .client
        .get(s.url(OBJECTS))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let health = s.client.get(s.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // Metrics count withheld objects and the document maps the node: neither is on the TAXII
    // port, whoever asks.
    for path in ["/metrics", "/openapi.json"] {
        let public = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(public.status(), 404, "{path} on the TAXII port");
    }
    let metrics = s
        .client
        .get(s.admin_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("# TYPE entente_objects_added_total counter"));
    assert!(
        metrics.contains("entente_objects_added_total 5"),
        "{metrics}"
    );
    s.stop().await;
}

/// Pages are shared between readers of the same nation and clearance: a page served again is the
/// same release, it never crosses to another nation or clearance, and a write is seen at once.
#[tokio::test]
async fn shared_pages_follow_writes_and_stay_within_nation_and_clearance() {
    let s = populated().await;
    s.user("fra-2", "FRA", "NATO SECRET", "r").await;
    for _ in 0..2 {
        // In an order where each reader follows one of another nation or clearance.
        let fra = s.get("fra", OBJECTS).await;
        assert!(fra.text.contains("without transponders"));
        let jpn = s.get("jpn", OBJECTS).await;
        assert!(report_in(&jpn.json()).is_some());
        assert!(!jpn.text.contains("without transponders"));
        let deu = s.get("deu", OBJECTS).await;
        assert!(!deu.text.contains(REPORT));
        let low = s.get("fra-low", OBJECTS).await;
        assert!(!low.text.contains(REPORT));
        // Another reader of the same nation and clearance gets the same bytes.
        let fra2 = s.get("fra-2", OBJECTS).await;
        assert_eq!(fra2.text, fra.text);
    }
    // A new version is served at once to readers whose page was shared before.
    let mut v2 = report_bundle()["objects"][4].clone();
    v2["modified"] = json!("2024-08-02T09:00:00.000Z");
    let a = s.post("fra", OBJECTS, &json!({"objects": [v2]})).await;
    assert_eq!(a.json()["success_count"], 1);
    for user in ["fra", "fra-2", "jpn"] {
        let page = s.get(user, OBJECTS).await.json();
        let r = report_in(&page).expect("the report is still visible");
        assert_eq!(r["modified"], "2024-08-02T09:00:00.000Z", "{user}");
    }
    // A delete is seen at once too.
    let r = s
        .client
        .delete(s.url(&format!("{OBJECTS}{REPORT}/?match[version]=all")))
        .basic_auth("fra", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for user in ["fra", "fra-2", "jpn"] {
        assert!(!s.get(user, OBJECTS).await.text.contains(REPORT), "{user}");
    }
    s.stop().await;
}
