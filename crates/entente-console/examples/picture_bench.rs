//! Live air picture benchmark on loopback: a FRA node with its console; every second, national
//! tracks of 1,000 aircraft reported by two nations (LTU under `NATO SECRET//REL TO NATO`, EST
//! under `NATO CONFIDENTIAL//REL TO NATO, JPN`) are posted to it; 16 signed-in users of four
//! nations (FRA, GBR, USA, JPN: four readers' pictures, JPN's from EST's tracks only) hold the
//! picture's event stream open, as 16 browsers would.
//!
//! Measured: the latency from the frame being made (after fusion, `made_us` in the frame) to
//! the frame read whole by each client; frames per client per second; and the node's CPU per
//! frame per browser: the process's CPU time with the 16 streams minus that of the same run
//! without them (the fusion and ingest are the same in both), divided by the frames delivered.
//! The clients run in the same process, so that figure includes their reading of the stream: an
//! upper bound of the node's own cost.
//!
//! ```text
//! cargo run --release -p entente-console --example picture_bench -- [AIRCRAFT] [SECONDS]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/it/harness.rs"]
mod harness;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entente_fusion::model::Markings;
use entente_fusion::stix::{extension_definition, national_track_in_frame};
use entente_fusion::synthetic::SyntheticPicture;
use harness::*;
use serde_json::{json, Value};

const NATIONS: [&str; 4] = ["FRA", "GBR", "USA", "JPN"];
const PER_NATION: usize = 4;
const REPORTERS: [(&str, &str); 2] = [
    ("LTU", "NATO SECRET//REL TO NATO"),
    ("EST", "NATO CONFIDENTIAL//REL TO NATO, JPN"),
];

/// CPU time of this process (user + system), seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5), counted from the state (field 3) here.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn now_us() -> i64 {
    entente_node::clock::now_us()
}

/// Posts one second of national tracks.
async fn post_step(site: &Site, picture: &mut SyntheticPicture, markings: &[String], t: f64) {
    let tracks = picture.step(t);
    let objects: Vec<Value> = tracks
        .into_iter()
        .map(|mut tr| {
            let r = REPORTERS
                .iter()
                .position(|(n, _)| *n == tr.source.nation.as_str())
                .unwrap();
            tr.label = Markings::of([markings[r].clone()]);
            tr.t = t;
            national_track_in_frame(&tr, 0.0, 57.0, 21.0).unwrap()
        })
        .collect();
    site.publish("publisher", objects).await;
}

/// One client's stream: the latencies of the frames it read, in microseconds.
async fn read_stream(
    base: String,
    cookies: String,
    stop: Arc<AtomicBool>,
    latencies: Arc<Mutex<Vec<i64>>>,
) -> u64 {
    let client = reqwest::Client::new();
    let mut r = client
        .get(format!("{base}/console/picture/stream"))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut buffer: Vec<u8> = Vec::new();
    // Where the search for the end of the event under way resumes.
    let mut scanned = 0;
    let mut frames = 0;
    while !stop.load(Ordering::Relaxed) {
        let chunk = match tokio::time::timeout(Duration::from_secs(2), r.chunk()).await {
            Ok(Ok(Some(c))) => c,
            Ok(_) => break,
            Err(_) => continue,
        };
        buffer.extend_from_slice(&chunk);
        while let Some(at) = find(&buffer[scanned..], b"\n\n") {
            let end = scanned + at + 2;
            let received = now_us();
            let event = &buffer[..end];
            if event.starts_with(b"event: picture") && find(event, b"\"tracks\":[{").is_some() {
                if let Some(at) = find(event, b"\"made_us\":") {
                    let digits: Vec<u8> = event[at + 10..]
                        .iter()
                        .copied()
                        .take_while(u8::is_ascii_digit)
                        .collect();
                    let made: i64 = std::str::from_utf8(&digits).unwrap().parse().unwrap();
                    latencies.lock().unwrap().push(received - made);
                    frames += 1;
                }
            }
            buffer.drain(..end);
            scanned = 0;
        }
        scanned = buffer.len().saturating_sub(1);
    }
    frames
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn quantile(sorted: &[i64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i] as f64 / 1000.0
}

struct Phase {
    cpu: f64,
    seconds: f64,
    frames: u64,
    latencies: Vec<i64>,
}

async fn phase(
    site: &Site,
    picture: &mut SyntheticPicture,
    markings: &[String],
    clients: &[String],
    seconds: u32,
    t0: &mut f64,
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    for cookies in clients {
        readers.push(tokio::spawn(read_stream(
            site.base.clone(),
            cookies.clone(),
            stop.clone(),
            latencies.clone(),
        )));
    }
    // The streams' first frames (the current picture) are not timed.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    latencies.lock().unwrap().clear();
    let cpu = cpu_seconds();
    let started = Instant::now();
    for s in 0..seconds {
        *t0 += 1.0;
        post_step(site, picture, markings, entente_node::clock::now_seconds()).await;
        let next = started + Duration::from_secs(u64::from(s) + 1);
        tokio::time::sleep_until(next.into()).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let mut lat = latencies.lock().unwrap().clone();
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.abort();
    }
    lat.sort_unstable();
    Phase {
        cpu,
        seconds: elapsed,
        frames: lat.len() as u64,
        latencies: lat,
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let aircraft: usize = args.get(1).map_or(1000, |a| a.parse().unwrap());
    let seconds: u32 = args.get(2).map_or(30, |a| a.parse().unwrap());
    let site = Site::start().await;
    site.user("publisher", "FRA", "NATO SECRET").await;
    let mut names = Vec::new();
    for n in NATIONS {
        for i in 0..PER_NATION {
            let name = format!("{}-{i}", n.to_ascii_lowercase());
            site.user(&name, n, "NATO SECRET").await;
            names.push((n, name));
        }
    }
    let marking_objects: Vec<Value> = REPORTERS.iter().map(|(_, l)| marking(l)).collect();
    let markings: Vec<String> = marking_objects
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    let mut objects = vec![extension_definition()];
    objects.extend(marking_objects);
    site.publish("publisher", objects).await;

    let mut clients = Vec::new();
    for (_, name) in &names {
        let mut b = site.browser();
        b.sign_in(name).await;
        let cookies = b
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        clients.push(cookies);
    }
    let reporters = REPORTERS.iter().map(|(n, _)| n.parse().unwrap()).collect();
    let mut picture = SyntheticPicture::new(aircraft, reporters, 2026);
    // Each reader's picture is fused while the benchmark runs, streams or not.
    let mut feeds = Vec::new();
    for n in NATIONS {
        let user = site
            .node
            .store()
            .user(&format!("{}-0", n.to_ascii_lowercase()))
            .await
            .unwrap()
            .unwrap();
        feeds.push(site.node.air_picture(&user).await.unwrap());
    }
    let mut t0 = 0.0;
    // Warm up: the pictures' first seconds (track numbering, caches).
    phase(&site, &mut picture, &markings, &[], 3, &mut t0).await;
    let without = phase(&site, &mut picture, &markings, &[], seconds, &mut t0).await;
    let with = phase(&site, &mut picture, &markings, &clients, seconds, &mut t0).await;
    let tracks: Vec<usize> = feeds.iter().map(|f| f.frames().borrow().tracks).collect();
    let per_client_hz = with.frames as f64 / clients.len() as f64 / with.seconds;
    let cpu_per = (with.cpu - without.cpu) / with.frames.max(1) as f64;
    println!(
        "{}",
        json!({
            "aircraft": aircraft,
            "seconds": seconds,
            "browsers": clients.len(),
            "fused_tracks_per_reader": NATIONS.iter().zip(&tracks).map(|(n, t)| json!({n.to_string(): t})).collect::<Vec<_>>(),
            "frames_delivered": with.frames,
            "frames_per_browser_per_second": (per_client_hz * 100.0).round() / 100.0,
            "latency_ms": {
                "p50": quantile(&with.latencies, 0.5),
                "p99": quantile(&with.latencies, 0.99),
                "max": quantile(&with.latencies, 1.0),
            },
            "cpu_seconds_without_browsers": without.cpu,
            "cpu_seconds_with_browsers": with.cpu,
            "cpu_ms_per_frame_per_browser": cpu_per * 1000.0,
        })
    );
    drop(feeds);
    site.stop().await;
}
