//! Rooms planned on the shipped registry and policies.

use std::path::Path;
use std::sync::OnceLock;

use entente_labels::{parse_marking, PolicySet};
use entente_policy::ReleasePolicy;
use entente_registry::Registry;
use entente_types::{parse_date, NationCode};

use crate::*;

struct Shipped {
    registry: Registry,
    policy: ReleasePolicy,
}

fn shipped() -> &'static Shipped {
    static SHIPPED: OnceLock<Shipped> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let registry = Registry::load(&data.join("registry")).unwrap();
        let policies = PolicySet::load(&data.join("policies")).unwrap();
        let policy = ReleasePolicy::new(&registry, policies);
        Shipped { registry, policy }
    })
}

fn n(code: &str) -> NationCode {
    code.parse().unwrap()
}

fn request(clause: &str, requested_by: &[&str], day: &str) -> OpenRequest {
    OpenRequest {
        clause: clause.into(),
        requested_by: requested_by.iter().map(|c| n(c)).collect(),
        as_of: parse_date(day).unwrap(),
        title: None,
        label: None,
    }
}

const UUID: &str = "5f0c4f64-2a8e-4d3c-9b7a-0e1d2c3b4a59";
const NOW: &str = "2026-12-07T10:00:00.000Z";

fn open(req: &OpenRequest, at: &str) -> Result<(Room, entente_labels::Label), CrisisError> {
    let s = shipped();
    plan(&s.registry, &s.policy, req, n(at), UUID, NOW)
}

#[test]
fn the_2022_02_24_consultation_holds_the_thirty_allies_of_that_day_under_nato_secret() {
    let eight = ["BGR", "CZE", "EST", "LTU", "LVA", "POL", "ROU", "SVK"];
    let (room, label) = open(&request("nato-art-4", &eight, "2022-02-24"), "FRA").unwrap();
    assert_eq!(room.participants.len(), 30, "{:?}", room.participants);
    let nations: Vec<&str> = room
        .participants
        .iter()
        .map(|p| p.nation.as_str())
        .collect();
    assert!(!nations.contains(&"FIN") && !nations.contains(&"SWE"));
    let requesting: Vec<&str> = room
        .participants
        .iter()
        .filter(|p| p.requesting)
        .map(|p| p.nation.as_str())
        .collect();
    assert_eq!(requesting, eight);
    assert_eq!(room.label, "NATO SECRET");
    assert_eq!(label.policy(), "NATO");
    assert_eq!(room.clause, "north-atlantic-treaty/art4");
    assert_eq!(room.article, "Article 4");
    assert!(room.clause_text.contains("consult together"));
    assert_eq!(room.collection, format!("crisis-{UUID}"));
    assert!(
        room.title.contains("requested by BGR, CZE"),
        "{}",
        room.title
    );
    let pol = room
        .participants
        .iter()
        .find(|p| p.nation == n("POL"))
        .unwrap();
    assert!(pol.reason.contains("NATO"), "{}", pol.reason);
}

#[test]
fn a_room_is_opened_at_a_participant_only_and_by_parties_only() {
    let e = open(&request("nato-art-4", &["POL"], "2022-02-24"), "JPN")
        .unwrap_err()
        .to_string();
    assert!(e.contains("JPN is not a participant"), "{e}");
    // Finland was not yet an ally on 2023-04-03; it was on 2023-04-04.
    assert!(open(&request("nato-art-4", &["FIN"], "2023-04-03"), "FRA").is_err());
    let (room, _) = open(&request("nato-art-4", &["FIN"], "2023-04-04"), "FIN").unwrap();
    assert_eq!(room.participants.len(), 31);
    let e = open(&request("nato-art-44", &["POL"], "2022-02-24"), "POL")
        .unwrap_err()
        .to_string();
    assert!(e.contains("nato-art-4"), "a suggestion: {e}");
}

#[test]
fn the_eu_mutual_assistance_room_is_eu_secret_among_the_member_states_of_the_day() {
    let (room, label) = open(&request("eu-art-42-7", &["FRA"], "2015-11-17"), "DEU").unwrap();
    assert_eq!(room.participants.len(), 28);
    assert!(room.participants.iter().any(|p| p.nation == n("GBR")));
    assert_eq!(label.policy(), "EU");
    assert_eq!(label.classification(), "SECRET UE/EU SECRET");
}

#[test]
fn a_bilateral_room_is_under_the_parties_shared_alliance_released_to_them_by_name() {
    let (room, label) = open(&request("aachen-art-4", &["FRA"], "2024-06-01"), "DEU").unwrap();
    let nations: Vec<&str> = room
        .participants
        .iter()
        .map(|p| p.nation.as_str())
        .collect();
    assert_eq!(nations, ["DEU", "FRA"]);
    assert_eq!(label.policy(), "NATO");
    assert_eq!(room.label, "NATO SECRET//REL TO DEU, FRA");
}

#[test]
fn a_given_label_must_hold_the_room_together() {
    let mut req = request("nato-art-4", &["POL"], "2024-06-01");
    req.label = Some("NATO SECRET//REL TO NATO, JPN".into());
    let e = open(&req, "POL").unwrap_err().to_string();
    assert!(e.contains("JPN"), "{e}");
    // A narrower label opens the room, and says whom it does not reach.
    req.label = Some("NATO SECRET//REL TO POL, EST".into());
    let (room, _) = open(&req, "POL").unwrap();
    let fra = room
        .participants
        .iter()
        .find(|p| p.nation == n("FRA"))
        .unwrap();
    assert!(!fra.receives);
    assert!(
        fra.withheld.as_deref().unwrap_or("").contains("FRA"),
        "{fra:?}"
    );
}

#[test]
fn an_ally_not_yet_party_to_the_security_agreement_is_in_the_room_but_receives_nothing_yet() {
    // Sweden joined NATO on 2024-03-07; the 1997 security agreement applies to it from
    // 2024-08-02 in the registry.
    let (room, _) = open(&request("nato-art-4", &["POL"], "2024-06-01"), "POL").unwrap();
    assert_eq!(room.participants.len(), 32);
    let swe = room
        .participants
        .iter()
        .find(|p| p.nation == n("SWE"))
        .unwrap();
    assert!(!swe.receives, "{swe:?}");
    assert!(room.participants.iter().filter(|p| !p.receives).count() == 1);
    let (room, _) = open(&request("nato-art-4", &["POL"], "2024-09-01"), "POL").unwrap();
    assert!(room.participants.iter().all(|p| p.receives));
}

#[test]
fn the_boundary_keeps_objects_whose_labels_stay_among_the_participants() {
    let s = shipped();
    let policies = s.policy.policies();
    let room = parse_marking(policies, "NATO SECRET").unwrap();
    let boundary = Boundary {
        policy: &s.policy,
        room_label: &room,
        originator: n("POL"),
    };
    let day = parse_date("2024-06-01").unwrap();
    for inside in [
        "NATO SECRET",
        "NATO CONFIDENTIAL",
        "NATO SECRET//REL TO POL, EST",
        "NATO RESTRICTED//REL TO NATO",
    ] {
        let label = parse_marking(policies, inside).unwrap();
        assert_eq!(boundary.admits(&label, day), Ok(()), "{inside}");
    }
    let outside = parse_marking(policies, "NATO CONFIDENTIAL//REL TO NATO, JPN").unwrap();
    let e = boundary.admits(&outside, day).unwrap_err();
    assert_eq!(e.nation, n("JPN"));
    // Every ally but Sweden, whose security agreement applies from 2024-08-02.
    let reached = boundary.reached_on(day);
    assert_eq!(reached.len(), 31, "{reached:?}");
    assert!(!reached.contains(&n("SWE")));
    assert_eq!(
        boundary.reached_on(parse_date("2024-09-01").unwrap()).len(),
        32
    );
}
