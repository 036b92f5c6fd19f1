//! The live air picture holds, for each reader, exactly the national tracks that reader is
//! released through TAXII, and nothing of the others.
//!
//! Random sets of national tracks (reporting nations of the Baltic, labels from NATO
//! UNCLASSIFIED to NATO SECRET, some releasable to a few nations only) are posted to a
//! real node. For readers of several nations and clearances, the oracle is what each reads of
//! them through `GET …/objects/`: the contributions of every system track of the reader's
//! picture must be exactly those national tracks, and the frame's text must hold no track id,
//! sensor or label of a track the reader was not released.

use std::collections::BTreeSet;
use std::time::Duration;

use entente_fusion::kalman::{Gaussian, StateCovariance, StateVector};
use entente_fusion::model::{Identity, Markings, NationalTrack, TrackRef};
use entente_fusion::stix::{extension_definition, national_track_in_frame};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::sandbox::{nation, Sandbox};

const OBJECTS: &str = "/api/collections/intel/objects/";
const LABELS: [&str; 6] = [
    "NATO UNCLASSIFIED",
    "NATO RESTRICTED",
    "NATO SECRET",
    "NATO SECRET//REL TO FRA, GBR",
    "NATO CONFIDENTIAL//REL TO FRA, USA, JPN",
    "NATO RESTRICTED//REL TO FRA, DEU",
];
const REPORTERS: [&str; 4] = ["LTU", "LVA", "EST", "POL"];
/// (user, nation, clearance) of the readers.
const READERS: [(&str, &str, &str); 5] = [
    ("fra", "FRA", "NATO SECRET"),
    ("gbr", "GBR", "NATO SECRET"),
    ("gbr-low", "GBR", "NATO RESTRICTED"),
    ("usa", "USA", "NATO CONFIDENTIAL"),
    ("jpn", "JPN", "NATO SECRET"),
];
const ORIGIN: (f64, f64) = (57.0, 23.0);

/// A national track of the random set: who reports it, under which label, where.
#[derive(Debug, Clone)]
struct Spec {
    reporter: usize,
    label: usize,
    east_km: i32,
    north_km: i32,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..REPORTERS.len(),
        0..LABELS.len(),
        -200i32..200,
        -200i32..200,
    )
        .prop_map(|(reporter, label, east_km, north_km)| Spec {
            reporter,
            label,
            east_km,
            north_km,
        })
}

fn track(n: usize, spec: &Spec, marking: &str, t: f64) -> Value {
    let reporter = REPORTERS[spec.reporter];
    let tr = NationalTrack {
        source: TrackRef {
            nation: nation(reporter),
            local_id: format!("{reporter}-{n}"),
        },
        sensor: format!("{reporter}-radar-{}", spec.label),
        t,
        estimate: Gaussian::new(
            StateVector::new(
                f64::from(spec.east_km) * 1000.0,
                200.0,
                f64::from(spec.north_km) * 1000.0,
                -50.0,
            ),
            StateCovariance::from_diagonal(&StateVector::new(2500.0, 25.0, 2500.0, 25.0)),
        ),
        identity: Identity::Unknown,
        reply: Default::default(),
        label: Markings::of([marking]),
    };
    national_track_in_frame(&tr, 0.0, ORIGIN.0, ORIGIN.1).unwrap()
}

/// The contributions of a frame: (nation, local track id).
fn contributions(frame: &Value) -> BTreeSet<(String, String)> {
    frame["tracks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["contributions"].as_array().cloned().unwrap_or_default())
        .map(|c| {
            (
                c["nation"].as_str().unwrap().to_owned(),
                c["track"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn check(specs: Vec<Spec>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = Sandbox::start().await;
        for (user, nation_code, clearance) in READERS {
            let rights = if user == "fra" { "rw" } else { "r" };
            s.user(user, nation_code, clearance, rights).await;
        }
        let markings: Vec<Value> = LABELS
            .iter()
            .map(|l| crate::taxii::label_marking(l))
            .collect();
        let now = entente_node::clock::now_seconds();
        let tracks: Vec<Value> = specs
            .iter()
            .enumerate()
            .map(|(n, spec)| {
                let id = markings[spec.label]["id"].as_str().unwrap();
                track(n, spec, id, now)
            })
            .collect();
        let mut objects = vec![extension_definition()];
        objects.extend(markings.iter().cloned());
        objects.extend(tracks.iter().cloned());
        let a = s.post("fra", OBJECTS, &json!({ "objects": objects })).await;
        assert_eq!(a.status, 202, "{}", a.text);
        assert_eq!(a.json()["failure_count"], 0, "{}", a.json()["failures"]);

        for (user, _, _) in READERS {
            // The oracle: the national tracks the reader reads through TAXII.
            let served = s.get(user, &format!("{OBJECTS}?limit=10000")).await.json();
            let released: BTreeSet<(String, String)> = served["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| o["type"] == "x-entente-national-track")
                .map(|o| {
                    (
                        o["nation"].as_str().unwrap().to_owned(),
                        o["local_track_id"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let account = s.node.user(user).await.unwrap().unwrap();
            let feed = s.node.air_picture(&account).await.unwrap();
            let mut frames = feed.frames();
            let frame = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    let current = frames.borrow_and_update().clone();
                    if current.seq > 0 {
                        return current;
                    }
                    frames.changed().await.unwrap();
                }
            })
            .await
            .expect("no frame within 10 s");
            let body: Value = serde_json::from_str(frame.json()).unwrap();
            assert_eq!(
                contributions(&body),
                released,
                "{user}: the picture's contributions are not what TAXII released"
            );
            // Nothing of a withheld track reaches the frame: not its id, nor its sensor.
            for (n, spec) in specs.iter().enumerate() {
                let reporter = REPORTERS[spec.reporter];
                let key = (reporter.to_owned(), format!("{reporter}-{n}"));
                if released.contains(&key) {
                    continue;
                }
                let needle = format!("\"{}\"", key.1);
                assert!(
                    !frame.json().contains(&needle),
                    "{user}: withheld track {} appears in the frame",
                    key.1
                );
            }
            // Each contribution carries the label of the copy TAXII serves the reader.
            let banners: std::collections::BTreeMap<String, String> = served["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| o["type"] == "x-entente-national-track")
                .map(|o| {
                    (
                        o["local_track_id"].as_str().unwrap().to_owned(),
                        s.node.copy_banner_text(o),
                    )
                })
                .collect();
            for c in body["tracks"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|t| t["contributions"].as_array().cloned().unwrap_or_default())
            {
                let id = c["track"].as_str().unwrap();
                assert_eq!(
                    c["label"].as_str(),
                    banners.get(id).map(String::as_str),
                    "{user}: {id}"
                );
            }
            assert_eq!(frame.labels.is_empty(), released.is_empty(), "{user}");
            drop(feed);
        }
        s.stop().await;
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn each_reader_s_picture_is_fused_from_exactly_the_tracks_it_is_released(
        specs in proptest::collection::vec(spec(), 1..12)
    ) {
        check(specs);
    }
}
