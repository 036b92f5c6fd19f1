#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use super::*;

fn limits() -> Limits {
    Limits {
        min_speed: 80.0,
        max_speed: 400.0,
        climb_rate: 150.0,
        descent_rate: 100.0,
        acceleration: 6.0,
        max_bank: 70f64.to_radians(),
        max_turn_rate: 12f64.to_radians(),
        ceiling: 15_000.0,
    }
}

fn start() -> State {
    State {
        position: Geodetic {
            lat: 56.0,
            lon: 23.0,
            h: 1_000.0,
        },
        heading: 0.0,
        speed: 250.0,
        vertical_speed: 0.0,
        bank: 0.0,
    }
}

#[test]
fn straight_and_level_covers_speed_times_time() {
    let mut s = start();
    let cmd = Command {
        heading: 0.0,
        speed: 250.0,
        altitude: 1_000.0,
    };
    for _ in 0..600 {
        s.step(&cmd, &limits(), 0.1);
    }
    // 60 s at 250 m/s due north: 15 km along the meridian.
    let (n, e) = offset_ne(start().position, s.position);
    assert!((n - 15_000.0).abs() < 1.0, "{n}");
    assert!(e.abs() < 1e-6, "{e}");
    assert!((distance(start().position, s.position) - 15_000.0).abs() < 5.0);
    assert_eq!(s.position.h, 1_000.0);
}

#[test]
fn turns_are_bank_limited() {
    let mut s = start();
    let lim = limits();
    let cmd = Command {
        heading: PI,
        speed: 250.0,
        altitude: 1_000.0,
    };
    s.step(&cmd, &lim, 1.0);
    // g tan 70° / 250 m/s = 0.1078 rad/s (6.2°/s), below the 12°/s cap.
    let expected = G * 70f64.to_radians().tan() / 250.0;
    assert!((angle_diff(s.heading, 0.0).abs() - expected).abs() < 1e-9);
    assert!((s.bank.abs() - 70f64.to_radians()).abs() < 1e-9);
    // At low speed the type's turn-rate cap binds instead.
    let mut slow = State {
        speed: 80.0,
        ..start()
    };
    slow.step(&Command { speed: 80.0, ..cmd }, &lim, 1.0);
    assert!((angle_diff(slow.heading, 0.0).abs() - 12f64.to_radians()).abs() < 1e-9);
}

#[test]
fn climbs_accelerates_and_caps() {
    let mut s = start();
    let lim = limits();
    let cmd = Command {
        heading: 0.0,
        speed: 1_000.0,
        altitude: 30_000.0,
    };
    for _ in 0..10 {
        s.step(&cmd, &lim, 1.0);
    }
    assert_eq!(s.position.h, 2_500.0); // 150 m/s for 10 s
    assert_eq!(s.speed, 310.0); // 6 m/s² for 10 s
    for _ in 0..200 {
        s.step(&cmd, &lim, 1.0);
    }
    assert_eq!(s.position.h, 15_000.0); // ceiling
    assert_eq!(s.speed, 400.0); // max speed
    assert_eq!(s.vertical_speed, 0.0);
}

#[test]
fn displace_inverts_offset() {
    let a = Geodetic {
        lat: 59.26,
        lon: 24.21,
        h: 20.0,
    };
    let b = displace(a, 120_000.0, -80_000.0, 8_000.0);
    let (n, e) = offset_ne(a, b);
    assert!((n - 120_000.0).abs() < 1e-6 && (e + 80_000.0).abs() < 1e-6);
    assert!((bearing(a, b) - (-80_000f64).atan2(120_000.0).rem_euclid(2.0 * PI)).abs() < 1e-12);
}

proptest! {
    #[test]
    fn headings_stay_normalised_and_limits_hold(
        h0 in 0.0..(2.0 * PI), cmd_h in -10.0..10.0f64, v in 80.0..400.0f64,
        alt in 0.0..20_000.0f64, dt in 0.01..2.0f64,
    ) {
        let lim = limits();
        let mut s = State { heading: h0, speed: v, ..start() };
        let before = s;
        s.step(&Command { heading: cmd_h, speed: 1_000.0, altitude: alt }, &lim, dt);
        prop_assert!((0.0..2.0 * PI).contains(&s.heading));
        let rate = angle_diff(s.heading, before.heading).abs() / dt;
        prop_assert!(rate <= lim.max_turn_rate + 1e-9);
        prop_assert!((s.speed - before.speed).abs() <= lim.acceleration * dt + 1e-9);
        prop_assert!(s.vertical_speed <= lim.climb_rate + 1e-9);
        prop_assert!(s.vertical_speed >= -lim.descent_rate - 1e-9);
        prop_assert!(s.position.h <= lim.ceiling.max(before.position.h) + 1e-9);
    }
}
