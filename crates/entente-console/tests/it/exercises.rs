//! The exercises pages: recorded runs listed from the configured folder, the replay page and its
//! data, uploads (valid and refused with the field at fault), not found for unknown runs, the
//! map's lines, and the headers every answer carries.

use entente_exercise::record::{
    AreaBounds, EntityInfo, PositionSample, ReleaseEntry, TimelineEntry,
};
use entente_exercise::scenario::Milestone;
use entente_exercise::RunRecord;
use serde_json::Value;

use crate::harness::{hidden, Answer, Browser, Site};

/// A short run: one aircraft flying east, a scramble and an intercept.
fn record() -> RunRecord {
    RunRecord {
        version: RunRecord::VERSION,
        scenario: "short-qra".into(),
        title: "Short <QRA> run".into(),
        seed: 7,
        step: 0.1,
        duration: 600.0,
        epoch: 1_774_771_200.0,
        realtime: false,
        nations: vec!["LTU".into(), "EST".into()],
        area: Some(AreaBounds {
            south: 53.8,
            north: 60.3,
            west: 18.0,
            east: 28.5,
        }),
        standards: Vec::new(),
        gospa_c: 5000.0,
        gospa_p: 2.0,
        entities: vec![EntityInfo {
            entity: 1,
            callsign: "TGT01".into(),
            owner: "TGT".into(),
            role: "traffic".into(),
            nation: None,
        }],
        timeline: vec![
            TimelineEntry {
                t: 60.0,
                milestone: Milestone::Scramble,
                subject: "SIA-QRA".into(),
                target: Some("TGT".into()),
                nation: None,
            },
            TimelineEntry {
                t: 300.0,
                milestone: Milestone::Intercept,
                subject: "SIA-QRA".into(),
                target: Some("TGT".into()),
                nation: None,
            },
        ],
        quality: Vec::new(),
        first_seen: Vec::new(),
        truth: (0..60)
            .map(|i| PositionSample {
                t: f64::from(i) * 10.0,
                entity: 1,
                lat: 55.0,
                lon: 20.0 + f64::from(i) * 0.02,
                h: 9000.0,
            })
            .collect(),
        pictures: Vec::new(),
        releases: vec![ReleaseEntry {
            sensor: "LTU radar".into(),
            nation: "LTU".into(),
            recipient: "EST".into(),
            day: "2026-03-29".into(),
            label: "NATO SECRET//REL TO NATO".into(),
            released: true,
            reason: "releasable to NATO members on 2026-03-29".into(),
        }],
        pdus: 0,
        steps: 6000,
    }
}

/// A site whose `exercise_runs` folder holds `short-qra/run.json` and a folder whose run.json
/// is not a run.
async fn site_with_runs() -> (Site, tempfile::TempDir) {
    let runs = tempfile::tempdir().unwrap();
    std::fs::create_dir(runs.path().join("short-qra")).unwrap();
    record()
        .save(&runs.path().join("short-qra/run.json"))
        .unwrap();
    std::fs::create_dir(runs.path().join("broken")).unwrap();
    std::fs::write(runs.path().join("broken/run.json"), "{\"version\": 1}").unwrap();
    let folder = runs.path().to_owned();
    let site = Site::start_with(move |c| c.console.exercise_runs = Some(folder)).await;
    site.user("ltu", "LTU", "NATO SECRET").await;
    (site, runs)
}

async fn upload(b: &mut Browser, csrf: &str, file: &[u8]) -> Answer {
    let boundary = "entente-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"run\"; filename=\"run.json\"\r\nContent-Type: application/json\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let cookies: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/console/exercises/upload", b.base))
        .header("cookie", cookies.join("; "))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    Answer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

#[test]
fn exercise_runs_is_read_relative_to_the_config_file() {
    let base = std::path::Path::new("/etc/entente/fra");
    let text = "version = 1\nnation = \"FRA\"\ndata_dir = \".\"\n\n[console]\nexercise_runs = \"../runs\"\n";
    let config = entente_node::NodeConfig::parse(text, base).unwrap();
    assert_eq!(
        config.console.exercise_runs.as_deref(),
        Some(base.join("../runs").as_path())
    );
    let text = "version = 1\nnation = \"FRA\"\ndata_dir = \".\"\n";
    let config = entente_node::NodeConfig::parse(text, base).unwrap();
    assert_eq!(config.console.exercise_runs, None, "no folder by default");
}

#[tokio::test]
async fn the_list_shows_the_folders_runs_and_names_a_broken_one() {
    let (s, _runs) = site_with_runs().await;
    let mut b = s.browser();
    b.sign_in("ltu").await;
    let a = b.get("/console/exercises/").await;
    assert_eq!(a.status, 200, "{}", a.text);
    for part in [
        "href=\"/console/exercises/short-qra\"",
        "Short &#60;QRA&#62; run",
        "00:10:00",
        "LTU, EST",
        "2026-03-29 08:00:00 UTC",
        "Cannot be read:",
        "missing field",
        "enctype=\"multipart/form-data\"",
        "aria-current=\"page\"",
    ] {
        assert!(a.text.contains(part), "{part} missing from {}", a.text);
    }
    assert!(
        hidden(&a.text, "csrf").is_some(),
        "the upload form has its token"
    );
    assert!(!a.text.contains(" style="), "an inline style");
    assert!(!a.text.contains("<script>"), "an inline script");
    // The navigation leads there from every page.
    let holdings = b.get("/console/holdings").await;
    assert!(holdings.text.contains("href=\"/console/exercises\""));
    s.stop().await;
}

#[tokio::test]
async fn the_replay_page_and_its_data() {
    let (s, _runs) = site_with_runs().await;
    let mut b = s.browser();
    b.sign_in("ltu").await;
    let a = b.get("/console/exercises/short-qra").await;
    assert_eq!(a.status, 200, "{}", a.text);
    for part in [
        "<canvas id=\"replay-map\"",
        "data-data=\"/console/exercises/short-qra/data.json\"",
        "/console/assets/airmap.js",
        "/console/assets/replay.js",
        "intercept",
        "Picture quality (GOSPA)",
        "What each nation saw and when",
        "No flight was scrambled",
        "What each nation was released",
        "LTU radar <span class=\"muted\">(LTU)</span>",
        "releasable to NATO members on 2026-03-29",
    ] {
        assert!(a.text.contains(part), "{part} missing from {}", a.text);
    }
    assert!(a.text.contains("max=\"600\""), "the scrubber spans the run");
    assert!(!a.text.contains(" style="), "an inline style");
    let d = b.get("/console/exercises/short-qra/data.json").await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.header("content-type"), Some("application/json"));
    let data: Value = serde_json::from_str(&d.text).unwrap();
    assert_eq!(data["area"]["south"], 53.8);
    assert_eq!(data["truth"][0]["callsign"], "TGT01");
    assert_eq!(data["truth"][0]["t"].as_array().unwrap().len(), 60);
    assert_eq!(data["events"][1]["milestone"], "intercept");
    // Unknown and unreadable runs.
    assert_eq!(b.get("/console/exercises/no-such-run").await.status, 404);
    assert_eq!(
        b.get("/console/exercises/no-such-run/data.json")
            .await
            .status,
        404
    );
    assert_eq!(b.get("/console/exercises/..%2Fshort-qra").await.status, 404);
    assert_eq!(b.get("/console/exercises/upload~1").await.status, 404);
    let broken = b.get("/console/exercises/broken").await;
    assert_eq!(broken.status, 422);
    assert!(broken.text.contains("missing field"), "{}", broken.text);
    // Signed out, nothing.
    let mut anonymous = s.browser();
    let a = anonymous
        .get("/console/exercises/short-qra/data.json")
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location"), Some("/console/signin"));
    s.stop().await;
}

#[tokio::test]
async fn an_upload_is_replayed_for_its_session_only() {
    let (s, _runs) = site_with_runs().await;
    let mut b = s.browser();
    let csrf = b.sign_in("ltu").await;
    let json = serde_json::to_vec(&record()).unwrap();
    let a = upload(&mut b, &csrf, &json).await;
    assert_eq!(a.status, 303, "{}", a.text);
    let at = a.header("location").unwrap().to_owned();
    assert!(at.starts_with("/console/exercises/upload~"), "{at}");
    let page = b.get(&at).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Uploaded, kept for this session only"));
    assert_eq!(b.get(&format!("{at}/data.json")).await.status, 200);
    let list = b.get("/console/exercises").await;
    assert!(list.text.contains("(uploaded, this session only)"));
    // Another session of the same user does not see it.
    let mut other = s.browser();
    other.sign_in("ltu").await;
    assert_eq!(other.get(&at).await.status, 404);
    // Without the session's token, refused.
    let a = upload(&mut b, "not-the-token", &json).await;
    assert_eq!(a.status, 403, "{}", a.text);
    s.stop().await;
}

#[tokio::test]
async fn an_invalid_upload_is_refused_naming_the_field() {
    let (s, _runs) = site_with_runs().await;
    let mut b = s.browser();
    let csrf = b.sign_in("ltu").await;
    let mut value = serde_json::to_value(record()).unwrap();
    value["truth"][3]["lon"] = Value::String("east".into());
    let a = upload(&mut b, &csrf, &serde_json::to_vec(&value).unwrap()).await;
    assert_eq!(a.status, 422, "{}", a.text);
    assert!(
        a.text
            .contains("run.json is not a run record: field truth[3].lon: invalid type"),
        "{}",
        a.text
    );
    let a = upload(&mut b, &csrf, b"{not json").await;
    assert_eq!(a.status, 422, "{}", a.text);
    assert!(
        a.text
            .contains("run.json is not a run record: key must be a string at line 1 column 2"),
        "{}",
        a.text
    );
    let a = upload(&mut b, &csrf, b"").await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(a.text.contains("run.json is empty"), "{}", a.text);
    let big = vec![b' '; entente_console_upload_limit() + 1];
    let a = upload(&mut b, &csrf, &big).await;
    assert_eq!(a.status, 413, "{}", a.text);
    assert!(a.text.contains("larger than the 16 MB"), "{}", a.text);
    // Nothing was kept.
    let list = b.get("/console/exercises").await;
    assert!(!list.text.contains("(uploaded, this session only)"));
    s.stop().await;
}

/// The upload limit the page states (16 MB) with room for the form around the file.
fn entente_console_upload_limit() -> usize {
    16 * 1024 * 1024 + 64 * 1024
}

#[tokio::test]
async fn without_a_folder_the_list_says_how_to_configure_one() {
    let s = Site::start().await;
    s.user("ltu", "LTU", "NATO SECRET").await;
    let mut b = s.browser();
    b.sign_in("ltu").await;
    let a = b.get("/console/exercises").await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.text.contains("This node has no folder of recorded runs"));
    assert_eq!(b.get("/console/exercises/short-qra").await.status, 404);
    s.stop().await;
}

#[tokio::test]
async fn the_pages_the_data_and_the_map_lines_carry_the_console_headers() {
    let (s, _runs) = site_with_runs().await;
    let mut b = s.browser();
    b.sign_in("ltu").await;
    for path in [
        "/console/exercises",
        "/console/exercises/short-qra",
        "/console/exercises/short-qra/data.json",
        "/console/map/lines.json",
        "/console/assets/airmap.js",
        "/console/assets/replay.js",
    ] {
        let a = b.get(path).await;
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(
            a.header("content-security-policy"),
            Some(entente_console::security::CONTENT_SECURITY_POLICY),
            "{path}"
        );
        assert_eq!(a.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            a.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    assert_eq!(
        b.get("/console/exercises/short-qra")
            .await
            .header("cache-control"),
        Some("no-store")
    );
    // The lines are public geography: cached, revalidated by their tag.
    let lines = b.get("/console/map/lines.json").await;
    assert_eq!(lines.header("cache-control"), Some("no-cache"));
    let tag = lines.header("etag").unwrap().to_owned();
    let again = b
        .get_with("/console/map/lines.json", &[("if-none-match", &tag)])
        .await;
    assert_eq!(again.status, 304);
    let value: Value = serde_json::from_str(&lines.text).unwrap();
    assert!(value["coast"].as_array().unwrap().len() > 1000);
    s.stop().await;
}
