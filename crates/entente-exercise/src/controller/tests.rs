#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn intercept_time_meets_the_target() {
    // Target 100 km north flying east at 200 m/s; fighter at 300 m/s.
    let d = (100_000.0, 0.0);
    let v = (0.0, 200.0);
    let tau = intercept_time(d, v, 300.0).unwrap();
    // |d + v τ| = 300 τ  →  1e10 + 4e4 τ² = 9e4 τ²  →  τ = √(2e5) s.
    assert!((tau - 200_000f64.sqrt()).abs() < 1e-6, "{tau}");
    let meet = (d.0 + v.0 * tau, d.1 + v.1 * tau);
    assert!((meet.0.hypot(meet.1) - 300.0 * tau).abs() < 1e-6);
    // A faster target running straight away cannot be caught.
    assert_eq!(intercept_time((10_000.0, 0.0), (400.0, 0.0), 300.0), None);
    // Equal speeds, head-on: the closing speed is the sum.
    let t = intercept_time((10_000.0, 0.0), (-300.0, 0.0), 300.0).unwrap();
    assert!((t - 10_000.0 / 600.0).abs() < 1e-9);
}

#[test]
fn pursuit_leads_a_crossing_target() {
    let own = Geodetic {
        lat: 56.0,
        lon: 23.0,
        h: 8_000.0,
    };
    let target = kinematics::displace(own, 100_000.0, 0.0, 8_000.0);
    // A stationary target is flown at directly.
    let direct = pursuit_heading(own, target, 0.0, 0.0, 300.0);
    assert!(
        direct.abs() < 1e-9 || (direct - 2.0 * PI).abs() < 1e-9,
        "{direct}"
    );
    // A target crossing eastwards is led: the heading points east of north.
    let lead = pursuit_heading(own, target, PI / 2.0, 200.0, 300.0);
    let expected = (200.0 * 200_000f64.sqrt()).atan2(100_000.0);
    assert!((lead - expected).abs() < 1e-6, "{lead} vs {expected}");
}

#[test]
fn on_plane_recovers_far_points() {
    let frame = LocalFrame::new(Geodetic {
        lat: 57.0,
        lon: 23.0,
        h: 0.0,
    });
    let far = Geodetic {
        lat: 59.9,
        lon: 27.5,
        h: 8_500.0,
    };
    let p = frame.enu(far);
    let back = on_plane(&frame, p.e, p.n, 8_500.0);
    assert!(
        kinematics::distance(far, back) < 50.0,
        "{}",
        kinematics::distance(far, back)
    );
}
