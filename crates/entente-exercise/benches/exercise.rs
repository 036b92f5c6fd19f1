//! Whole-run measurements of the exercise engine (a harness of its own: each figure is one long
//! run, not a micro-benchmark). `cargo bench -p entente-exercise --bench exercise`.
//!
//! 1. Load: 10,000 aircraft stepped at 10 Hz for 60 simulated seconds with every aircraft's
//!    Entity State PDU sent every step (dead-reckoning threshold 0, the worst case) as one UDP
//!    datagram each to a receiver on loopback. The simulation runs on one thread; the receiver
//!    drains the socket on the other core. Real time needs every step under 100 ms.
//!    Run twice: without sensors, and with the shipped scenario's four radars, national trackers
//!    and five nations' fused pictures over the 10,000 aircraft.
//! 2. Batch: the shipped two-hour scenario, as fast as possible, with DIS to UDP and a pcap file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::UdpSocket;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use entente_exercise::dis::{PcapWriter, PduSink, UdpSink};
use entente_exercise::scenario::{Force, Traffic, Waypoint};
use entente_exercise::{Error, Outputs, Releases, Scenario, Simulation};
use entente_fusion::geodesy::Geodetic;
use entente_fusion::model::{Markings, NationalTrack};
use entente_types::NationCode;
use rand::{RngExt, SeedableRng};

struct Sinks {
    udp: UdpSink,
    pcap: Option<PcapWriter>,
}

impl Outputs for Sinks {
    fn pdu(&mut self, t: f64, pdu: &[u8]) -> Result<(), Error> {
        self.udp.send(t, pdu)?;
        if let Some(p) = &mut self.pcap {
            p.send(t, pdu)?;
        }
        Ok(())
    }

    fn national_tracks(
        &mut self,
        _: f64,
        _: NationCode,
        _: &[NationalTrack<Markings>],
    ) -> Result<(), Error> {
        Ok(())
    }

    fn end_step(&mut self) -> Result<(), Error> {
        self.udp.flush()
    }
}

/// A loopback receiver counting datagrams until stopped.
fn receiver() -> (
    String,
    Arc<AtomicBool>,
    Arc<AtomicU64>,
    std::thread::JoinHandle<()>,
) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let (s, c) = (stop.clone(), count.clone());
    let handle = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !s.load(Ordering::Relaxed) {
            if socket.recv(&mut buf).is_ok() {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    (addr, stop, count, handle)
}

/// What the shipped release policy decides for `s`'s sensors over its run.
fn releases(s: &Scenario) -> Releases {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let registry = entente_registry::Registry::load(&data.join("registry")).unwrap();
    let policies = entente_labels::PolicySet::load(&data.join("policies")).unwrap();
    let policy = entente_policy::ReleasePolicy::new(&registry, policies);
    Releases::prepare(&policy, s, s.epoch).unwrap()
}

fn shipped() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios/baltic-qra.toml");
    Scenario::load(&path).unwrap()
}

fn load_scenario(entities: usize, sensors: bool, seconds: f64) -> Scenario {
    let mut s = shipped();
    let a = s.area.clone();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let a320 = s.types.iter().position(|t| t.id == "a320").unwrap();
    let mut point = |h: f64| Waypoint {
        position: Geodetic {
            lat: rng.random_range(a.south..a.north),
            lon: rng.random_range(a.west..a.east),
            h,
        },
    };
    while s.traffic.len() < entities - 4 {
        let n = s.traffic.len();
        let h = 6_000.0 + (n % 40) as f64 * 150.0;
        s.traffic.push(Traffic {
            id: format!("T{n}"),
            callsign: format!("T{n:05}"),
            nation: None,
            kind: a320,
            start: 0.0,
            route: vec![point(h), point(h), point(h)],
            speed: 225.0,
            force: Force::Neutral,
        });
    }
    if !sensors {
        s.radars.clear();
        s.nations.clear();
    }
    s.dis.threshold = 0.0;
    s.duration = seconds;
    s.step = 0.1;
    // The QRA flights scramble at t = 0 so that four fighters fly too.
    for e in &mut s.events {
        e.t = 0.0;
    }
    for f in &mut s.flights {
        f.readiness = 0.0;
    }
    s
}

fn load(label: &str, sensors: bool, bundle: bool, seconds: f64) {
    let s = load_scenario(10_000, sensors, seconds);
    let (addr, stop, received, handle) = receiver();
    let to = addr.parse().unwrap();
    let mut sinks = Sinks {
        udp: if bundle {
            UdpSink::bundling(to)
        } else {
            UdpSink::new(to)
        }
        .unwrap(),
        pcap: None,
    };
    let mut sim = Simulation::new(&s, s.epoch, false, &releases(&s));
    let mut steps = Vec::new();
    let start = Instant::now();
    while !sim.finished() {
        let t0 = Instant::now();
        sim.step(&mut sinks).unwrap();
        steps.push(t0.elapsed().as_secs_f64());
    }
    let wall = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    let active = sim.entities().iter().filter(|e| e.active).count();
    let record = sim.into_record();
    steps.sort_by(f64::total_cmp);
    let pct = |p: f64| steps[((steps.len() - 1) as f64 * p) as usize] * 1e3;
    println!(
        "load {label}: {} aircraft ({} flying at the end), {} steps of 0.1 s: wall {:.2} s for {:.0} simulated s \
         = {:.2}x real time; step median {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} PDUs sent ({:.0}/s) in {} datagrams, {} datagrams received",
        record.entities.len(),
        active,
        record.steps,
        wall,
        s.duration,
        s.duration / wall,
        pct(0.5),
        pct(0.99),
        pct(1.0),
        sinks.udp.sent(),
        sinks.udp.sent() as f64 / wall,
        sinks.udp.datagrams(),
        received.load(Ordering::Relaxed)
    );
}

fn batch() {
    let s = shipped();
    let dir = std::env::temp_dir().join(format!("entente-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut times = Vec::new();
    let mut pdus = 0;
    let releases = releases(&s);
    for _ in 0..5 {
        let (addr, stop, _received, handle) = receiver();
        let mut sinks = Sinks {
            udp: UdpSink::new(addr.parse().unwrap()).unwrap(),
            pcap: Some(PcapWriter::create(&dir.join("dis.pcap"), s.epoch, 3000).unwrap()),
        };
        let start = Instant::now();
        let record = entente_exercise::run(
            &s,
            s.epoch,
            entente_exercise::Pacing::Batch,
            &releases,
            &mut sinks,
        )
        .unwrap();
        if let Some(p) = sinks.pcap.take() {
            p.finish().unwrap();
        }
        times.push(start.elapsed().as_secs_f64());
        pdus = record.pdus;
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
    times.sort_by(f64::total_cmp);
    println!(
        "batch: shipped scenario ({} simulated, {} steps, {} PDUs to UDP and pcap): min {:.3} s, median {:.3} s, max {:.3} s over 5 runs",
        entente_exercise::scenario::format_duration(s.duration),
        (s.duration / s.step) as u64,
        pdus,
        times[0],
        times[2],
        times[4]
    );
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("exercise bench: run with `cargo bench` to measure");
        return;
    }
    batch();
    load("kinematics + DIS, PDUs bundled", false, true, 60.0);
    load("kinematics + DIS, one PDU per datagram", false, false, 60.0);
    load(
        "kinematics + DIS bundled + 4 radars, national trackers, 5 pictures",
        true,
        true,
        30.0,
    );
}
