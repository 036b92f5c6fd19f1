#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::{FRAC_PI_2, PI};

use entente_fusion::geodesy::Geodetic;
use proptest::prelude::*;

use super::*;

fn header() -> EntityHeader {
    EntityHeader {
        id: (1, 2, 300),
        force: 1,
        entity_type: (1, 2, 255, 1, 3, 4, 0),
        marking: "SIAQRA-LONG-CALLSIGN".into(),
    }
}

fn state() -> State {
    State {
        position: Geodetic {
            lat: 55.8942,
            lon: 23.395,
            h: 8_000.0,
        },
        heading: 30f64.to_radians(),
        speed: 250.0,
        vertical_speed: 10.0,
        bank: 0.2,
    }
}

#[test]
fn entity_state_layout_is_ieee_1278_1_2012() {
    let s = state();
    let k = Kinematics::of(&s);
    let mut buf = [0xAAu8; ESPDU_LEN];
    encode_entity_state(&mut buf, 9, 0x1234_5679, &header(), &k);
    assert_eq!(&buf[0..4], &[7, 9, 1, 1]);
    assert_eq!(
        u32::from_be_bytes(buf[4..8].try_into().unwrap()),
        0x1234_5679
    );
    assert_eq!(u16::from_be_bytes([buf[8], buf[9]]), 144);
    assert_eq!(&buf[10..12], &[0, 0]);
    assert_eq!(&buf[12..18], &[0, 1, 0, 2, 1, 44]);
    assert_eq!(buf[18], 1);
    assert_eq!(buf[19], 0);
    assert_eq!(&buf[20..28], &[1, 2, 0, 255, 1, 3, 4, 0]);
    assert_eq!(&buf[28..36], &buf[20..28]);
    let f64_at = |i: usize| f64::from_be_bytes(buf[i..i + 8].try_into().unwrap());
    let f32_at = |i: usize| f32::from_be_bytes(buf[i..i + 4].try_into().unwrap());
    assert_eq!(f64_at(48), k.location.x);
    assert_eq!(f64_at(56), k.location.y);
    assert_eq!(f64_at(64), k.location.z);
    assert_eq!(f32_at(36), k.velocity[0] as f32);
    assert_eq!(f32_at(72), k.orientation[0] as f32);
    assert_eq!(&buf[84..88], &[0, 0, 0, 0]);
    assert_eq!(buf[88], 2);
    assert!(buf[89..128].iter().all(|&b| b == 0));
    assert_eq!(buf[128], 1);
    assert_eq!(&buf[129..140], b"SIAQRA-LONG");
    assert_eq!(&buf[140..144], &[0, 0, 0, 0]);
    let d = decode_entity_state(&buf).unwrap();
    assert_eq!(d.id, (1, 2, 300));
    assert_eq!(d.marking, "SIAQRA-LONG");
    // The location is on the WGS-84 ellipsoid at the right height.
    let g = entente_fusion::geodesy::to_geodetic(k.location);
    assert!((g.lat - 55.8942).abs() < 1e-9 && (g.h - 8_000.0).abs() < 1e-6);
}

#[test]
fn orientation_at_the_origin_of_ecef() {
    // At 0°N 0°E, level and heading north, the body x axis is ECEF +z: θ = −90°.
    let [_, theta, _] = orientation(0.0, 0.0, 0.0, 0.0, 0.0);
    assert!((theta + FRAC_PI_2).abs() < 1e-6);
    // Heading east there, the body x axis is ECEF +y: ψ = 90°, θ = 0, and the body z axis
    // (down) is ECEF −x, so φ = −90°.
    let [psi, theta, phi] = orientation(0.0, 0.0, FRAC_PI_2, 0.0, 0.0);
    assert!((psi - FRAC_PI_2).abs() < 1e-12 && theta.abs() < 1e-12);
    assert!((phi + FRAC_PI_2).abs() < 1e-12, "{phi}");
}

#[test]
fn velocity_matches_the_body_axis_and_the_track() {
    let s = state();
    let k = Kinematics::of(&s);
    // One second later along the ECEF velocity, the aircraft is where the kinematics put it.
    let mut next = s;
    let lim = crate::kinematics::Limits {
        min_speed: 80.0,
        max_speed: 400.0,
        climb_rate: 10.0,
        descent_rate: 10.0,
        acceleration: 0.0,
        max_bank: 0.5,
        max_turn_rate: 0.1,
        ceiling: 15_000.0,
    };
    let cmd = crate::kinematics::Command {
        heading: s.heading,
        speed: s.speed,
        altitude: 8_010.0,
    };
    next.step(&cmd, &lim, 1.0);
    let p = next.ecef();
    let pred = [
        k.location.x + k.velocity[0],
        k.location.y + k.velocity[1],
        k.location.z + k.velocity[2],
    ];
    let err = ((p.x - pred[0]).powi(2) + (p.y - pred[1]).powi(2) + (p.z - pred[2]).powi(2)).sqrt();
    assert!(err < 0.5, "{err}");
}

proptest! {
    #[test]
    fn orientation_round_trips(lat in -80.0..80.0f64, lon in -179.0..179.0f64,
                               heading in 0.0..(2.0 * PI), pitch in -1.2..1.2f64, bank in -1.2..1.2f64) {
        let (la, lo) = (lat.to_radians(), lon.to_radians());
        let [psi, theta, phi] = orientation(la, lo, heading, pitch, bank);
        let r = euler_321(psi, theta, phi);
        let expected = body_to_ecef(la, lo, heading, pitch, bank);
        for i in 0..3 {
            for j in 0..3 {
                prop_assert!((r[i][j] - expected[i][j]).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn timestamps_count_from_the_hour() {
    assert_eq!(timestamp(0.0, false), 0);
    assert_eq!(timestamp(3600.0, true), 1);
    // Half past: 2^30 units, shifted past the absolute bit.
    assert_eq!(timestamp(1800.0, false), 1 << 31);
    assert_eq!(timestamp(7200.0 + 1800.0, true), (1 << 31) | 1);
    assert!(timestamp(3599.999, false) >> 1 <= 0x7fff_ffff);
}

#[test]
fn dead_reckoning_sends_on_heartbeat_or_threshold() {
    let s = state();
    let k = Kinematics::of(&s);
    let mut dr = DeadReckoning::default();
    assert!(dr.due(0.0, &k, 5.0, 1.0));
    dr.sent(0.0, &k);
    // Extrapolated exactly: not due until the heartbeat.
    let moved = |dt: f64, extra: f64| Kinematics {
        location: Ecef {
            x: k.location.x + k.velocity[0] * dt + extra,
            y: k.location.y + k.velocity[1] * dt,
            z: k.location.z + k.velocity[2] * dt,
        },
        ..k
    };
    assert!(!dr.due(2.0, &moved(2.0, 0.0), 5.0, 1.0));
    assert!(dr.due(2.0, &moved(2.0, 1.5), 5.0, 1.0));
    assert!(dr.due(5.0, &moved(5.0, 0.0), 5.0, 1.0));
}

#[test]
fn pcap_frames_carry_the_pdu() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.pcap");
    let mut w = PcapWriter::create(&path, 1_700_000_000.0, 3000).unwrap();
    let mut buf = [0u8; ESPDU_LEN];
    encode_entity_state(&mut buf, 1, 0, &header(), &Kinematics::of(&state()));
    w.send(1.25, &buf).unwrap();
    w.send(2.5, &buf).unwrap();
    w.finish().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[0..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 1);
    let frame_len = 14 + 20 + 8 + ESPDU_LEN;
    assert_eq!(bytes.len(), 24 + 2 * (16 + frame_len));
    let rec = &bytes[24..40];
    assert_eq!(
        u32::from_le_bytes(rec[0..4].try_into().unwrap()),
        1_700_000_001
    );
    assert_eq!(u32::from_le_bytes(rec[4..8].try_into().unwrap()), 250_000);
    let frame = &bytes[40..40 + frame_len];
    let ip = &frame[14..34];
    assert_eq!(ipv4_checksum(ip), 0, "a valid header sums to zero");
    assert_eq!(u16::from_be_bytes([frame[36], frame[37]]), 3000);
    assert_eq!(&frame[42..], &buf[..]);
}

#[test]
fn country_codes_follow_siso_ref_010() {
    let code = |s: &str| country_code(Some(s.parse().unwrap()));
    assert_eq!(code("LTU"), 255);
    assert_eq!(code("EST"), 250);
    assert_eq!(code("LVA"), 254);
    assert_eq!(code("DEU"), 78);
    assert_eq!(code("POL"), 175);
    assert_eq!(code("USA"), 225);
    assert_eq!(code("ZZZ"), 0);
    assert_eq!(country_code(None), 0);
}

#[test]
fn bundles_fill_datagrams_with_whole_pdus() {
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut sink = UdpSink::bundling(rx.local_addr().unwrap()).unwrap();
    let mut buf = [0u8; ESPDU_LEN];
    for i in 0..20u16 {
        let h = EntityHeader {
            id: (1, 1, i + 1),
            ..header()
        };
        encode_entity_state(&mut buf, 1, 0, &h, &Kinematics::of(&state()));
        sink.send(0.0, &buf).unwrap();
    }
    sink.flush().unwrap();
    assert_eq!((sink.sent(), sink.datagrams()), (20, 3));
    let mut seen = Vec::new();
    let mut dgram = [0u8; 2048];
    for expected in [9, 9, 2] {
        let n = rx.recv(&mut dgram).unwrap();
        assert_eq!(n, expected * ESPDU_LEN);
        assert!(n <= MAX_BUNDLE);
        for pdu in dgram[..n].chunks(ESPDU_LEN) {
            seen.push(decode_entity_state(pdu).unwrap().id.2);
        }
    }
    assert_eq!(seen, (1..=20).collect::<Vec<u16>>());
    // Unbundled: one datagram per PDU.
    let mut single = UdpSink::new(rx.local_addr().unwrap()).unwrap();
    single.send(0.0, &buf).unwrap();
    single.flush().unwrap();
    assert_eq!(single.datagrams(), 1);
    assert_eq!(rx.recv(&mut dgram).unwrap(), ESPDU_LEN);
}
