//! `entente exercise`: validate, run (batch and live, DIS out, national tracks to a node) and
//! report. Our DIS traffic is decoded by two decoders written elsewhere: PyPI `opendis` and
//! Wireshark's dissector through `tshark`. Under `CI=true` a missing decoder fails the test;
//! elsewhere the test says SKIPPED and returns.

use std::collections::HashMap;
use std::io::Write;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{entente, repo_root};

const SHIPPED: &str = "data/scenarios/baltic-qra.toml";

fn tool(name: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    let found = candidates.iter().find(|p| p.is_file()).cloned();
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "{name} is required under CI (looked in {candidates:?})"
        );
        eprintln!("SKIPPED: {name} not found (looked in {candidates:?})");
    }
    found
}

fn python() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("ENTENTE_PYTHON") {
        candidates.push(PathBuf::from(p));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cache/entente-venv/bin/python"));
    }
    tool(
        "python with opendis (scripts/python-requirements.txt)",
        &candidates,
    )
}

fn tshark() -> Option<PathBuf> {
    tool("tshark", &[PathBuf::from("/usr/bin/tshark")])
}

/// One line of the PDU log the run writes (`dis.csv`): what we put in each PDU.
#[derive(Debug, Clone)]
struct Logged {
    entity: u16,
    force: u8,
    xyz: [f64; 3],
    orientation: [f64; 3],
    marking: String,
}

fn read_log(path: &Path) -> Vec<Logged> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "seq,t,site,application,entity,force,x,y,z,vx,vy,vz,psi,theta,phi,marking"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let n = |i: usize| f[i].parse::<f64>().unwrap();
            Logged {
                entity: f[4].parse().unwrap(),
                force: f[5].parse().unwrap(),
                xyz: [n(6), n(7), n(8)],
                orientation: [n(12), n(13), n(14)],
                marking: f[15].to_owned(),
            }
        })
        .collect()
}

/// Compares decoded rows (entity, force, x, y, z, psi, theta, phi, marking) with the log, in order.
fn assert_match(decoder: &str, decoded: &[Vec<String>], log: &[Logged]) {
    assert_eq!(decoded.len(), log.len(), "{decoder}: PDU count");
    for (i, (d, l)) in decoded.iter().zip(log).enumerate() {
        let num = |k: usize| -> f64 {
            d[k].trim()
                .parse()
                .unwrap_or_else(|e| panic!("{decoder} row {i} field {k} {:?}: {e}", d[k]))
        };
        assert_eq!(num(0) as u16, l.entity, "{decoder} row {i}");
        assert_eq!(num(1) as u8, l.force, "{decoder} row {i}");
        for k in 0..3 {
            // The log keeps millimetres; positions are IEEE doubles on the wire.
            assert!(
                (num(2 + k) - l.xyz[k]).abs() < 0.002,
                "{decoder} row {i}: position {k}: {} vs {}",
                num(2 + k),
                l.xyz[k]
            );
            // Orientation travels as f32.
            assert!(
                (num(5 + k) - l.orientation[k]).abs() < 1e-5,
                "{decoder} row {i}: orientation {k}"
            );
        }
        assert_eq!(
            d[8].trim_end_matches('\0').trim(),
            l.marking,
            "{decoder} row {i}: marking"
        );
    }
}

#[test]
fn validate_reports_located_problems() {
    let ok = entente(&["exercise", "validate", SHIPPED]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stdout
            .contains("valid — Baltic Air Policing QRA scramble"),
        "{}",
        ok.stdout
    );
    let json = entente(&["exercise", "validate", SHIPPED, "--json"]).json();
    assert_eq!(json["radars"], 4);
    assert_eq!(json["duration"], "02:00:00");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(repo_root().join(SHIPPED))
        .unwrap()
        .replace("pd = 0.85", "pd = 2")
        .replace("aircraft = \"typhoon\"", "aircraft = \"typhon\"");
    std::fs::write(&bad, &text).unwrap();
    let run = entente(&["exercise", "validate", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert!(
        run.stderr.contains(&format!(
            "bad.toml:{}: radar[LVA-W].pd: 2 is outside 0 ..= 1",
            line("pd = 2")
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "bad.toml:{}: flight[AMA-QRA].aircraft: unknown aircraft type `typhon` (did you mean `typhoon`?)",
            line("\"typhon\"")
        )),
        "{}",
        run.stderr
    );
    // Labels are checked against the policies and the registry, at their line.
    let labelled = std::fs::read_to_string(repo_root().join(SHIPPED))
        .unwrap()
        .replace(
            "label = \"NATO SECRET//REL TO EST, LTU, LVA\"",
            "label = \"NATO SECRT//REL TO EST, LTU, LVA\"",
        )
        .replace(
            "label = \"NATO CONFIDENTIAL//REL TO NATO, JPN\"",
            "label = \"NATO CONFIDENTIAL//REL TO NATOO\"",
        );
    std::fs::write(&bad, &labelled).unwrap();
    let run = entente(&["exercise", "validate", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let line = |needle: &str| labelled.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, field) in [
        ("NATO SECRT", "nation[LVA].label"),
        ("REL TO NATOO", "radar[EST-N].label"),
    ] {
        assert!(
            run.stderr
                .contains(&format!("bad.toml:{}: {field}: label ", line(needle))),
            "{field}: {}",
            run.stderr
        );
    }
    // `shares_with` is gone: the diagnostic says what replaces it.
    let old = std::fs::read_to_string(repo_root().join(SHIPPED))
        .unwrap()
        .replace(
            "label = \"NATO SECRET//REL TO EST, LTU, LVA\"",
            "label = \"NATO SECRET//REL TO EST, LTU, LVA\"\nshares_with = [\"LTU\", \"EST\"]",
        );
    std::fs::write(&bad, &old).unwrap();
    let run = entente(&["exercise", "validate", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "bad.toml:{}: nation[LVA].shares_with: `shares_with` is replaced by labels",
            old.lines().position(|l| l.contains("shares_with")).unwrap() + 1
        )),
        "{}",
        run.stderr
    );
    let missing = entente(&["exercise", "run", "no/such/scenario.toml"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("no/such/scenario.toml"),
        "{}",
        missing.stderr
    );
}

#[test]
fn batch_run_then_report_with_the_timeline_against_the_standards() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let run = entente(&[
        "exercise",
        "run",
        SHIPPED,
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let j = run.json();
    assert_eq!(j["mode"], "batch");
    assert_eq!(j["simulated_seconds"], 7200.0);
    assert_eq!(j["steps"], 72000);
    let timeline = j["timeline"].as_array().unwrap();
    let at = |m: &str, who: &str| {
        timeline
            .iter()
            .find(|e| e["milestone"] == m && e["subject"] == who)
            .and_then(|e| e["t"].as_f64())
            .unwrap_or_else(|| panic!("no {m} of {who}"))
    };
    assert_eq!(at("scramble", "SIA-QRA"), 360.0);
    assert!(at("airborne", "SIA-QRA") - at("scramble", "SIA-QRA") <= 900.0);
    assert!(at("intercept", "SIA-QRA") > at("airborne", "SIA-QRA"));
    assert!(at("handover", "AMA-QRA") >= at("visual-id", "AMA-QRA"));
    for f in ["run.json", "dis.pcap", "dis.csv"] {
        assert!(out.join(f).is_file(), "{f}");
    }

    let report = entente(&["exercise", "report", out.to_str().unwrap(), "--json"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let r = report.json();
    let standards = r["standards"].as_array().unwrap();
    let qra: Vec<_> = standards
        .iter()
        .filter(|s| s["name"].as_str().unwrap().starts_with("QRA airborne"))
        .collect();
    assert_eq!(qra.len(), 2);
    for s in &qra {
        assert_eq!(s["met"], true, "{s}");
        assert!(s["elapsed"].as_f64().unwrap() <= 900.0);
    }
    let sia = qra.iter().find(|s| s["flight"] == "SIA-QRA").unwrap();
    assert_eq!(sia["elapsed"], 720.0);
    assert_eq!(r["quality"].as_array().unwrap().len(), 5);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("QRA airborne within 15 minutes of the scramble order"));
    assert!(
        html.contains("<td>00:18:00</td><td>airborne</td><td>SIA-QRA</td>"),
        "timeline row"
    );
    assert!(html.contains("What each nation saw and when"));
    // What the release policy released, per sensor and recipient, with its reason.
    assert!(html.contains("What each nation was released"));
    assert!(
        html.contains("<td>POL</td><td class=\"missed\">no</td><td>POL is not in REL TO EST, LTU, LVA on 2026-03-29</td>"),
        "release row"
    );
    let releases = j["releases"].as_array().unwrap();
    assert_eq!(releases.len(), 3 * 5, "3 sensors, 5 recipients, 1 day");
    for chart in ["gospa.svg", "map.svg", "timeline.svg"] {
        let svg = std::fs::read_to_string(out.join(chart)).unwrap();
        assert!(svg.starts_with("<svg"), "{chart}");
        assert!(html.contains(chart));
    }
    // The human form prints the verdicts.
    let text = entente(&["exercise", "report", out.to_str().unwrap()]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("met"), "{}", text.stdout);
    assert!(!text.stdout.contains("NOT MET"), "{}", text.stdout);
}

/// Gotland, run on a day before Sweden joined NATO and on the scenario's own day after the NATO
/// security agreement came into force for it: Sweden's picture lacks the allies' tracks, then has
/// them, and the run record says why, as `ReleasePolicy::decide` does.
#[test]
fn a_partner_receives_the_allies_tracks_only_when_the_policy_releases_them() {
    use entente_labels::{parse_marking, PolicySet};
    use entente_policy::ReleasePolicy;
    use entente_registry::Registry;

    const GOTLAND: &str = "data/scenarios/gotland-qra.toml";
    let data = repo_root().join("data");
    let policy = ReleasePolicy::new(
        &Registry::load(&data.join("registry")).unwrap(),
        PolicySet::load(&data.join("policies")).unwrap(),
    );
    let label = parse_marking(policy.policies(), "NATO SECRET//REL TO NATO").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |epoch: Option<&str>| {
        let out = dir.path().join(epoch.unwrap_or("scenario-epoch"));
        let mut args = vec![
            "exercise",
            "run",
            GOTLAND,
            "--no-capture",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ];
        if let Some(e) = epoch {
            args.extend(["--epoch", e]);
        }
        let r = entente(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        (r.json(), record)
    };
    let n = |c: &str| c.parse::<entente_types::NationCode>().unwrap();
    // When Sweden's picture first held the transport, and when its own radar first did.
    let sightings = |record: &serde_json::Value| {
        let f = record["first_seen"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["nation"] == "SWE" && f["callsign"] == "TGT02")
            .unwrap()
            .clone();
        (
            f["picture"].as_f64().unwrap(),
            f["own_sensors"].as_f64().unwrap(),
        )
    };
    for (epoch, day, released) in [
        (Some("2024-02-20T08:00:00Z"), "2024-02-20", false),
        (Some("2024-05-15T08:00:00Z"), "2024-05-15", false),
        (None, "2024-09-10", true),
    ] {
        let (summary, record) = run(epoch);
        let date = entente_types::parse_date(day).unwrap();
        for ally in ["POL", "LTU"] {
            let expected = policy.decide(&label, n(ally), n("SWE"), date);
            assert_eq!(expected.is_permit(), released, "{expected}");
            let entry = record["releases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["sensor"] == format!("{ally}-radars") && e["recipient"] == "SWE")
                .unwrap()
                .clone();
            assert_eq!(entry["day"], day);
            assert_eq!(entry["released"], released, "{entry}");
            assert_eq!(entry["reason"], expected.to_string());
            assert!(summary["releases"].as_array().unwrap().contains(&entry));
        }
        let (picture, own) = sightings(&record);
        if released {
            // The allies hold the transport from the start, long before Sweden's radar does.
            assert!(
                picture + 600.0 < own,
                "picture {picture} s, own radar {own} s"
            );
        } else {
            // Only Sweden's own radar feeds its picture.
            assert!(picture >= own, "picture {picture} s, own radar {own} s");
        }
    }
    // The text form gives one line per sensor and recipient, with the reason.
    let text = entente(&[
        "exercise",
        "run",
        GOTLAND,
        "--no-capture",
        "--epoch",
        "2024-02-20T08:00:00Z",
        "--out",
        dir.path().join("text").to_str().unwrap(),
    ]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains(
            "POL-radars (POL, NATO SECRET//REL TO NATO) → SWE on 2024-02-20: NOT released (SWE is not in REL TO NATO on 2024-02-20)"
        ),
        "{}",
        text.stdout
    );
    let bad = entente(&["exercise", "run", GOTLAND, "--epoch", "yesterday"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("--epoch \"yesterday\""),
        "{}",
        bad.stderr
    );
}

/// Receives datagrams on loopback until none has come for `idle`.
fn receive_all(socket: UdpSocket, idle: Duration) -> std::thread::JoinHandle<Vec<Vec<u8>>> {
    std::thread::spawn(move || {
        socket.set_read_timeout(Some(idle)).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            match socket.recv(&mut buf) {
                Ok(n) => got.push(buf[..n].to_vec()),
                Err(_) if !got.is_empty() => break,
                Err(_) => {}
            }
        }
        got
    })
}

#[test]
fn live_run_is_paced_to_the_wall_clock_and_sends_dis() {
    let dir = tempfile::tempdir().unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let receiver = receive_all(socket, Duration::from_secs(3));
    let started = Instant::now();
    let run = entente(&[
        "exercise",
        "run",
        SHIPPED,
        "--realtime",
        "--duration",
        "00:00:04",
        "--dis",
        &addr,
        "--out",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["mode"], "realtime");
    assert!(wall >= 4.0, "4 s of exercise took {wall} s");
    let got = receiver.join().unwrap();
    let log = read_log(&dir.path().join("dis.csv"));
    assert_eq!(got.len(), log.len());
    // Live runs carry absolute (UTC) DIS timestamps: the low bit is set.
    assert!(got.iter().all(|p| p.len() == 144 && p[7] & 1 == 1));
    // The shipped scenario, paced at 600× wall clock, runs whole.
    let run = entente(&[
        "exercise",
        "run",
        SHIPPED,
        "--realtime",
        "--speed",
        "600",
        "--no-capture",
        "--out",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let j = run.json();
    assert!(j["wall_seconds"].as_f64().unwrap() >= 12.0);
    assert_eq!(j["simulated_seconds"], 7200.0);
}

#[test]
fn opendis_and_tshark_decode_our_dis_with_matching_positions() {
    let dir = tempfile::tempdir().unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let receiver = receive_all(socket, Duration::from_secs(3));
    let run = entente(&[
        "exercise",
        "run",
        SHIPPED,
        "--duration",
        "00:20:00",
        "--dis",
        &addr,
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let got = receiver.join().unwrap();
    let log = read_log(&dir.path().join("dis.csv"));
    assert!(log.len() > 1000, "{}", log.len());
    assert_eq!(got.len(), log.len(), "datagrams received on loopback");
    let fighters = log
        .iter()
        .filter(|l| l.marking.starts_with("SIAQRA"))
        .count();
    assert!(fighters > 0, "the scrambled flight is on the wire");

    if let Some(py) = python() {
        // The datagrams as they arrived, length-prefixed, for opendis.
        let bin = dir.path().join("datagrams.bin");
        let mut f = std::fs::File::create(&bin).unwrap();
        for d in &got {
            f.write_all(&(d.len() as u32).to_be_bytes()).unwrap();
            f.write_all(d).unwrap();
        }
        drop(f);
        let script = r#"
import struct, sys
from opendis.PduFactory import createPdu
data = open(sys.argv[1], 'rb').read()
i = 0
while i < len(data):
    (n,) = struct.unpack('>I', data[i:i+4]); i += 4
    p = createPdu(data[i:i+n]); i += n
    assert type(p).__name__ == 'EntityStatePdu', type(p).__name__
    assert p.protocolVersion == 7 and p.pduType == 1 and p.length == 144
    m = bytes(p.marking.characters).split(b'\0')[0].decode('ascii')
    o = p.entityOrientation
    print(f"{p.entityID.entityID};{p.forceId};{p.entityLocation.x!r};{p.entityLocation.y!r};{p.entityLocation.z!r};{o.psi!r};{o.theta!r};{o.phi!r};{m}")
"#;
        let out = Command::new(&py)
            .args(["-c", script, bin.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "opendis: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<Vec<String>> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split(';').map(str::to_owned).collect())
            .collect();
        assert_match("opendis", &rows, &log);
    }

    if let Some(tshark) = tshark() {
        let pcap = dir.path().join("dis.pcap");
        let port = addr.rsplit(':').next().unwrap();
        let decode_as = format!("udp.port=={port},dis");
        let malformed = Command::new(&tshark)
            .args([
                "-r",
                pcap.to_str().unwrap(),
                "-d",
                &decode_as,
                "-Y",
                "_ws.malformed || _ws.expert.severity >= warning",
            ])
            .output()
            .unwrap();
        assert!(
            malformed.status.success(),
            "{}",
            String::from_utf8_lossy(&malformed.stderr)
        );
        assert!(
            malformed.stdout.is_empty(),
            "tshark: malformed or warned packets:\n{}",
            String::from_utf8_lossy(&malformed.stdout)
        );
        let fields = [
            "dis.entity_id_entity",
            "dis.force_id",
            "dis.entity_location.x",
            "dis.entity_location.y",
            "dis.entity_location.z",
            "dis.entity_orientation.psi",
            "dis.entity_orientation.theta",
            "dis.entity_orientation.phi",
            "dis.entity_marking",
        ];
        let mut args = vec![
            "-r",
            pcap.to_str().unwrap(),
            "-d",
            &decode_as,
            "-Y",
            "dis",
            "-T",
            "fields",
            "-E",
            "separator=;",
        ];
        for f in &fields {
            args.push("-e");
            args.push(f);
        }
        let out = Command::new(&tshark).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "tshark: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<Vec<String>> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split(';').map(str::to_owned).collect())
            .collect();
        assert!(rows.iter().all(|r| r.len() == fields.len()), "tshark rows");
        assert_match("tshark", &rows, &log);
    }
}

#[test]
fn national_tracks_reach_the_national_node() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ltu");
    let data_s = data.to_str().unwrap();
    let init = entente(&["node", "init", "--nation", "LTU", "--data", data_s]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let config = data.join("node.toml");
    let config_s = config.to_str().unwrap();
    // Unlabelled objects (the exercise's tracks) carry the node's default label.
    let text = std::fs::read_to_string(&config).unwrap();
    // The node serves TAXII over TLS under the development CA `node init` wrote.
    let text = text
        .replace("127.0.0.1:8400", "127.0.0.1:0")
        .replace("127.0.0.1:8600", "127.0.0.1:0")
        .replace("127.0.0.1:8500", "127.0.0.1:0")
        .replacen(
            "\nnation = ",
            "\ndefault_label = \"NATO UNCLASSIFIED\"\nnation = ",
            1,
        );
    assert!(text.contains("[tls]"), "{text}");
    let ca = data.join("tls/ca.pem");
    std::fs::write(&config, text).unwrap();
    let mut add = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args([
            "user",
            "add",
            "--config",
            config_s,
            "--name",
            "crc",
            "--nation",
            "LTU",
            "--clearance",
            "NATO SECRET",
            "--password-stdin",
            "--write",
            "intel",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"pw\n").unwrap();
    assert!(add.wait().unwrap().success());
    let token = entente(&["user", "token", "--config", config_s, "--name", "crc"]);
    assert_eq!(token.code, 0, "{}", token.stderr);
    let token = token.stdout.trim().to_owned();
    let token_file = dir.path().join("ltu.token");
    std::fs::write(&token_file, &token).unwrap();

    let (server, addr) = crate::node::start_node(config_s);
    let _server = Node(server);
    // Plain HTTP to a TLS node, or TLS without the node's CA, is refused before anything is sent.
    let tokens = format!("LTU={}", token_file.display());
    let out = dir.path().join("run");
    let run_against = |node: &str, ca: Option<&str>| {
        let mut args = vec![
            "exercise",
            "run",
            SHIPPED,
            "--duration",
            "00:01:00",
            "--node",
            node,
            "--token-file",
            &tokens,
            "--out",
            out.to_str().unwrap(),
            "--no-capture",
            "--json",
        ];
        if let Some(ca) = ca {
            args.extend(["--ca", ca]);
        }
        entente(&args)
    };
    let https_node = format!("LTU=https://{addr}");
    let ca_arg = format!("LTU={}", ca.display());
    let refused = run_against(&format!("LTU=http://{addr}"), Some(&ca_arg));
    assert_ne!(refused.code, 0, "plain HTTP with a CA: {}", refused.stdout);
    let untrusted = run_against(&https_node, None);
    assert_ne!(
        untrusted.code, 0,
        "TLS without the node's CA: {}",
        untrusted.stdout
    );
    let run = run_against(&https_node, Some(&ca_arg));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let published = &run.json()["published"][0];
    assert_eq!(published["nation"], "LTU");
    let posted = published["tracks"].as_u64().unwrap();
    assert!(posted > 0, "{published}");
    // Read them back from the node: national tracks of LTU, with their STIX extension.
    let mut by_type: HashMap<String, usize> = HashMap::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(n) => format!("/api/collections/intel/objects/?next={n}"),
            None => "/api/collections/intel/objects/".to_owned(),
        };
        let (status, body) = crate::node::https(&addr, &ca, "GET", &path, &token, None).unwrap();
        assert!(status.contains("200"), "{status} {body}");
        let envelope: serde_json::Value = serde_json::from_str(&body).unwrap();
        for o in envelope["objects"].as_array().unwrap() {
            *by_type
                .entry(o["type"].as_str().unwrap().to_owned())
                .or_default() += 1;
            if o["type"] == "x-entente-national-track" {
                assert_eq!(o["nation"], "LTU");
            }
        }
        match envelope["next"].as_str() {
            Some(n) if envelope["more"] == true => next = Some(n.to_owned()),
            _ => break,
        }
    }
    assert_eq!(
        by_type
            .get("x-entente-national-track")
            .copied()
            .unwrap_or(0) as u64,
        posted,
        "{by_type:?}"
    );
    assert_eq!(by_type.get("extension-definition"), Some(&1));
}

/// A node process, stopped when the test ends, whether it passed or not.
struct Node(std::process::Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
