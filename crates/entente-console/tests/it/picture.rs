//! The air picture page and its event stream: signed-in users only, the stream carries the
//! user's fused picture (here a FRA user sees the track released to FRA, a JPN user does not),
//! and every answer carries the console's headers.

use std::time::Duration;

use entente_fusion::kalman::{Gaussian, StateCovariance, StateVector};
use entente_fusion::model::{Identity, Markings, NationalTrack, TrackRef};
use entente_fusion::stix::{extension_definition, national_track_in_frame};

use crate::harness::*;

fn track(id: &str, nation: &str, marking: &str) -> serde_json::Value {
    let tr = NationalTrack {
        source: TrackRef {
            nation: nation.parse().unwrap(),
            local_id: id.into(),
        },
        sensor: format!("{nation}-radar"),
        t: entente_node::clock::now_seconds(),
        estimate: Gaussian::new(
            StateVector::new(1000.0, 200.0, -2000.0, 10.0),
            StateCovariance::from_diagonal(&StateVector::new(400.0, 4.0, 400.0, 4.0)),
        ),
        identity: Identity::Suspect,
        reply: Default::default(),
        label: Markings::of([marking]),
    };
    national_track_in_frame(&tr, 0.0, 57.0, 23.0).unwrap()
}

/// Reads the stream until a `picture` event with at least one track, or 10 s.
async fn first_picture(base: &str, cookies: String) -> serde_json::Value {
    let mut r = reqwest::Client::new()
        .get(format!("{base}/console/picture/stream"))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut text = String::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = r.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            for event in text.split("\n\n") {
                if let Some(data) = event.strip_prefix("event: picture\ndata: ") {
                    let frame: serde_json::Value = serde_json::from_str(data).unwrap();
                    if frame["seq"].as_u64().unwrap_or(0) > 0 {
                        return frame;
                    }
                }
            }
        }
        panic!("the stream ended: {text}");
    });
    read.await.expect("no picture within 10 s")
}

fn cookies(b: &Browser) -> String {
    b.cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn each_user_s_stream_carries_the_picture_released_to_its_nation() {
    let site = Site::start().await;
    site.user("fra", "FRA", "NATO SECRET").await;
    site.user("jpn", "JPN", "NATO SECRET").await;
    let secret = marking("NATO SECRET//REL TO FRA, GBR");
    let open = marking("NATO CONFIDENTIAL//REL TO FRA, JPN");
    let ids = [
        secret["id"].as_str().unwrap().to_owned(),
        open["id"].as_str().unwrap().to_owned(),
    ];
    site.publish(
        "fra",
        vec![
            extension_definition(),
            secret,
            open,
            track("LTU-1", "LTU", &ids[0]),
            track("EST-1", "EST", &ids[1]),
        ],
    )
    .await;

    // Signed out, neither the page nor the stream answers.
    let mut anonymous = site.browser();
    for path in [
        "/console/picture",
        "/console/picture/stream",
        "/console/picture/tracks/1",
    ] {
        let a = anonymous.get(path).await;
        assert_eq!(a.status, 303, "{path}");
        assert_eq!(a.header("location"), Some("/console/signin"), "{path}");
    }

    let mut fra = site.browser();
    fra.sign_in("fra").await;
    let page = fra.get("/console/picture").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Air picture"), "{}", page.text);
    assert!(page.header("content-security-policy").is_some());
    let frame = first_picture(&site.base, cookies(&fra)).await;
    let text = frame.to_string();
    assert!(
        text.contains("\"LTU-1\"") && text.contains("\"EST-1\""),
        "{text}"
    );
    assert_eq!(frame["origin"], serde_json::json!([57.0, 23.0]));
    assert_eq!(frame["tracks"][0]["identity"], "suspect", "{text}");
    let stn = frame["tracks"][0]["stn"].as_u64().unwrap();
    let history = fra.get(&format!("/console/picture/tracks/{stn}")).await;
    assert_eq!(history.status, 200);
    assert!(history.text.contains("\"history\":[{"), "{}", history.text);

    let mut jpn = site.browser();
    jpn.sign_in("jpn").await;
    let frame = first_picture(&site.base, cookies(&jpn)).await;
    let text = frame.to_string();
    assert!(text.contains("\"EST-1\""), "{text}");
    assert!(
        !text.contains("LTU"),
        "JPN received a track not released to it: {text}"
    );
    site.stop().await;
}
