use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn constant_velocity_prediction_matches_hand_computation() {
    // x = [0, 1, 0, 2], P = I, dt = 2, q = 0.5.
    let g = Gaussian::new(state(0.0, 1.0, 0.0, 2.0), StateCovariance::identity());
    let p = Motion::ConstantVelocity { q: 0.5 }.predict(&g, 2.0);
    assert_eq!(p.x, state(2.0, 1.0, 4.0, 2.0));
    // Pxx = 1 + dt² + q dt³/3 = 1 + 4 + 4/3; Pxv = dt + q dt²/2 = 2 + 1; Pvv = 1 + q dt = 2.
    assert!(close(p.p[(0, 0)], 5.0 + 4.0 / 3.0));
    assert!(close(p.p[(0, 1)], 3.0));
    assert!(close(p.p[(1, 1)], 2.0));
    assert!(close(p.p[(0, 2)], 0.0));
    assert!(close(p.p[(2, 2)], 5.0 + 4.0 / 3.0));
}

#[test]
fn constant_turn_rotates_velocity() {
    let g = Gaussian::new(state(0.0, 1.0, 0.0, 0.0), StateCovariance::zeros());
    let quarter = std::f64::consts::FRAC_PI_2;
    let p = Motion::ConstantTurn {
        q: 0.0,
        omega: quarter,
    }
    .predict(&g, 1.0);
    // A quarter turn at 1 m/s on a circle of radius 2/π: ends at (2/π, 2/π) heading north.
    let r = 1.0 / quarter;
    assert!(close(p.x[0], r) && close(p.x[2], r), "{:?}", p.x);
    assert!(close(p.x[1], 0.0) && close(p.x[3], 1.0));
    // A zero turn rate is the constant-velocity model.
    let straight = Motion::ConstantTurn { q: 0.1, omega: 0.0 }.matrices(3.0);
    assert_eq!(straight, Motion::ConstantVelocity { q: 0.1 }.matrices(3.0));
}

#[test]
fn update_matches_scalar_kalman_gain() {
    // Uncorrelated axes: each axis is a scalar filter with gain Pxx / (Pxx + r).
    let g = Gaussian::new(
        state(0.0, 0.0, 10.0, 0.0),
        StateCovariance::from_diagonal(&Vector4::new(3.0, 1.0, 1.0, 1.0)),
    );
    let r = MeasurementCovariance::from_diagonal(&Vector2::new(1.0, 1.0));
    let innovation = Innovation::of(&g, &r).unwrap();
    let z = Measurement::new(4.0, 12.0);
    // d = (4, 2); S = diag(4, 2); d² = 16/4 + 4/2 = 6.
    assert!(close(innovation.mahalanobis2(&z), 6.0));
    let u = update(&g, &innovation, &z);
    assert!(close(u.x[0], 3.0)); // 0 + 3/4 · 4
    assert!(close(u.x[2], 11.0)); // 10 + 1/2 · 2
    assert!(close(u.p[(0, 0)], 0.75)); // 3 · 1/4
    assert!(close(u.p[(2, 2)], 0.5));
    assert!(close(u.p[(1, 1)], 1.0)); // velocity untouched: no correlation with position
}
