use super::*;
use crate::kalman::{state, StateCovariance};

#[test]
fn quality_steps_down_per_doubling() {
    let at = |var: f64| {
        quality(&Gaussian::new(
            state(0.0, 0.0, 0.0, 0.0),
            StateCovariance::identity() * var,
        ))
    };
    assert_eq!(at(0.25), 15);
    assert_eq!(at(1.0), 15);
    assert_eq!(at(4.0), 14); // σ = 2
    assert_eq!(at(5.0), 13); // σ ≈ 2.2 → ceil(log2) = 2
    assert_eq!(at(1e10), 0);
    assert_eq!(at(f64::NAN), 0);
}

#[test]
fn markings_dominance_is_the_union() {
    let a = Markings::of(["marking-definition--a", "marking-definition--b"]);
    let b = Markings::of(["marking-definition--c"]);
    assert_eq!(
        a.dominant(&b),
        Some(Markings::of([
            "marking-definition--a",
            "marking-definition--b",
            "marking-definition--c"
        ]))
    );
    assert_eq!(a.dominant(&a), Some(a.clone()));
}

#[test]
fn identities_round_trip_and_order() {
    for i in Identity::ALL {
        assert_eq!(Identity::parse(i.as_str()), Some(i));
    }
    assert!(Identity::Hostile > Identity::Friend);
    assert_eq!(Identity::parse("foe"), None);
}
