use nalgebra::Vector4;

use super::*;
use crate::kalman::state;

fn diag(a: f64, b: f64, c: f64, d: f64) -> StateCovariance {
    StateCovariance::from_diagonal(&Vector4::new(a, b, c, d))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn equal_weights_by_hand() {
    // P1 = diag(1,1,4,4), P2 = diag(4,4,1,1), w = 1/2 each:
    // P⁻¹ = diag(5/8, 5/8, 5/8, 5/8) → P = 1.6 I; x = P (½ P1⁻¹ x1 + ½ P2⁻¹ x2).
    let a = Gaussian::new(state(0.0, 0.0, 0.0, 0.0), diag(1.0, 1.0, 4.0, 4.0));
    let b = Gaussian::new(state(5.0, 0.0, 5.0, 0.0), diag(4.0, 4.0, 1.0, 1.0));
    let f = fuse_weighted(&[a, b], &[0.5, 0.5]).unwrap();
    assert!(close(f.p[(0, 0)], 1.6) && close(f.p[(2, 2)], 1.6));
    // x: 1.6 · (½ · ¼ · 5) = 1 ; y: 1.6 · (½ · 1 · 5) = 4.
    assert!(close(f.x[0], 1.0) && close(f.x[2], 4.0), "{:?}", f.x);
    // Fast CI gives equal weights here too (equal traces).
    assert_eq!(fast_ci(&[a, b]).unwrap(), f);
}

#[test]
fn fast_ci_weights_follow_inverse_traces() {
    let a = Gaussian::new(state(0.0, 0.0, 0.0, 0.0), StateCovariance::identity());
    let b = Gaussian::new(state(3.0, 0.0, 3.0, 0.0), StateCovariance::identity() * 3.0);
    // tr = 4 and 12 → w = (1/4, 1/12)/(1/3) = (3/4, 1/4); P⁻¹ = ¾ I + ¼ · ⅓ I = (5/6) I.
    let f = fast_ci(&[a, b]).unwrap();
    assert!(close(f.p[(0, 0)], 1.2));
    // x = 1.2 · (¼ · ⅓ · 3) = 0.3.
    assert!(close(f.x[0], 0.3));
}

#[test]
fn min_trace_never_worse_than_either_input_or_fast_ci() {
    let a = Gaussian::new(state(0.0, 1.0, 0.0, 1.0), diag(10.0, 1.0, 0.5, 0.2));
    let b = Gaussian::new(state(1.0, 1.0, 1.0, 1.0), diag(0.5, 0.3, 10.0, 1.0));
    let best = ci_min_trace(&a, &b).unwrap();
    let fast = fast_ci(&[a, b]).unwrap();
    assert!(best.p.trace() <= a.p.trace().min(b.p.trace()) + 1e-9);
    assert!(best.p.trace() <= fast.p.trace() + 1e-9);
    // A dominated estimate gets weight 0: fusing with a much worse copy returns the better one.
    let worse = Gaussian::new(a.x, a.p * 100.0);
    let f = ci_min_trace(&a, &worse).unwrap();
    assert!((f.p - a.p).norm() < 1e-6);
}

#[test]
fn ci_is_consistent_under_full_correlation() {
    // Two copies of one estimate (correlation 1): CI must not shrink the covariance.
    let a = Gaussian::new(state(1.0, 2.0, 3.0, 4.0), diag(2.0, 1.0, 2.0, 1.0));
    for f in [fast_ci(&[a, a]).unwrap(), ci_min_trace(&a, &a).unwrap()] {
        assert!((f.p - a.p).norm() < 1e-9);
        assert!((f.x - a.x).norm() < 1e-9);
    }
}

#[test]
fn bad_inputs_are_errors() {
    let a = Gaussian::new(state(0.0, 0.0, 0.0, 0.0), diag(1.0, 1.0, 0.0, 1.0));
    assert!(matches!(fast_ci(&[a, a]), Err(Error::NotPositiveDefinite)));
    assert!(fuse_weighted(&[], &[]).is_err());
    let b = Gaussian::new(state(0.0, 0.0, 0.0, 0.0), StateCovariance::identity());
    assert!(fuse_weighted(&[b], &[-1.0]).is_err());
}
