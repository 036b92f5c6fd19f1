//! Tests of policies, markings, the JSON form, portions and dominance.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::json;

use crate::portion::{object_labels, Selector};
use crate::*;

fn policies() -> &'static PolicySet {
    static SET: OnceLock<PolicySet> = OnceLock::new();
    SET.get_or_init(|| {
        PolicySet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/policies"))
            .unwrap_or_else(|e| panic!("shipped policies do not load: {e}"))
    })
}

fn parse(text: &str) -> Result<Label, String> {
    parse_marking(policies(), text).map_err(|e| e.to_string())
}

fn round_trip(text: &str) -> String {
    let label = parse(text).unwrap();
    render_marking(policies(), &label).unwrap()
}

#[test]
fn shipped_policies_load() {
    let ids: Vec<&str> = policies().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["DEU", "EU", "FRA", "GBR", "NATO", "USA"]);
    let nato = policies().get("NATO").unwrap();
    assert_eq!(nato.rank_of("SECRET"), Some(3));
    assert_eq!(nato.rank_of("NATO SECRET"), Some(3));
    assert_eq!(
        nato.default_release,
        DefaultRelease::MembersOf("NATO".into())
    );
    assert_eq!(
        policies().get("FRA").unwrap().default_release,
        DefaultRelease::OriginatorOnly
    );
}

#[test]
fn markings_parse_and_render() {
    let l = parse("NATO SECRET//REL TO FRA, GBR, USA").unwrap();
    assert_eq!(
        (l.policy(), l.classification(), l.rank()),
        ("NATO", "SECRET", 3)
    );
    let set: Vec<&str> = l.releasable_to()[0]
        .iter()
        .map(ReleaseToken::as_str)
        .collect();
    assert_eq!(set, ["FRA", "GBR", "USA"]);
    let l = parse("FR SECRET//REL TO FRA, DEU").unwrap();
    assert_eq!((l.policy(), l.classification()), ("FRA", "SECRET"));
    assert_eq!(
        round_trip("NATO SECRET//REL TO USA,GBR ,  FRA"),
        "NATO SECRET//REL TO FRA, GBR, USA"
    );
    assert_eq!(
        round_trip("NATO SECRET//ATOMAL//REL TO FRA, GBR"),
        "NATO SECRET//ATOMAL//REL TO FRA, GBR"
    );
    assert_eq!(round_trip("COSMIC TOP SECRET"), "COSMIC TOP SECRET");
    assert_eq!(
        round_trip("NATO RESTRICTED//REL TO NATO"),
        "NATO RESTRICTED//REL TO NATO"
    );
    assert_eq!(
        round_trip("NATO RESTRICTED//REL TO NONE"),
        "NATO RESTRICTED//REL TO NONE"
    );
    assert!(parse("NATO RESTRICTED//REL TO NONE")
        .unwrap()
        .releasable_to()[0]
        .is_empty());
    assert_eq!(round_trip("FR TRES SECRET"), "FR TRÈS SECRET");
    assert_eq!(
        round_trip("SECRET UE/EU SECRET//REL TO EU"),
        "SECRET UE/EU SECRET//REL TO EU"
    );
    assert_eq!(
        round_trip("NATO CONFIDENTIAL//CRYPTO, ATOMAL//REL TO NATO//REL TO FRA, JPN//CONTEXT NATO"),
        "NATO CONFIDENTIAL//ATOMAL, CRYPTO//REL TO NATO//REL TO FRA, JPN//CONTEXT NATO"
    );
}

#[test]
fn bad_markings_are_refused_precisely() {
    let cases = [
        ("NATO SECRT//REL TO FRA", "marking: unknown classification \"NATO SECRT\"; did you mean \"NATO SECRET\"?"),
        ("nato secret", "marking: unknown classification \"nato secret\"; did you mean \"NATO SECRET\"?"),
        ("NATO SECRET//REL TO FRA, FR\u{0410}", "marking segment 2: bad release token \"FRА\": only ASCII letters, digits and '-' (a lookalike letter?)"),
        ("NATO SECRET//REL TO FRA, F\u{200B}RA", "marking: forbidden character U+200B (invisible, bidirectional or control)"),
        ("NATO SECRET//REL TO FRA\u{202E}", "marking: forbidden character U+202E (invisible, bidirectional or control)"),
        ("NATO SECRET//REL TO fra", "marking segment 2: bad release token \"fra\": only capital letters, digits and '-'"),
        ("NATO SECRET//REL TO FRA, FRA", "marking segment 2: duplicate value \"FRA\""),
        ("NATO SECRET//REL TO FRA,", "marking segment 2: empty value in a list"),
        ("NATO SECRET////REL TO FRA", "marking segment 2: empty segment between '//'"),
        ("NATO SECRET//UMBRA", "marking segment 2: unknown additional sensitivity value \"UMBRA\""),
        ("NATO SECRET//REL TO NONE, FRA", "marking segment 2: NONE cannot be combined with other values"),
        ("", "marking: unknown classification \"\""),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(input).unwrap_err(), expected, "{input:?}");
    }
    let many = format!(
        "NATO SECRET//REL TO {}",
        (0..10_000)
            .map(|i| format!("T{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_eq!(
        parse(&many).unwrap_err(),
        "marking: too many bytes in a marking: at most 4096"
    );
    let many = format!(
        "NATO SECRET//REL TO {}",
        (0..300)
            .map(|i| format!("T{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(
        parse(&many).unwrap_err(),
        "marking segment 2: too many category values: at most 256"
    );
}

#[test]
fn json_form_round_trips_and_is_strict() {
    let label = parse("NATO SECRET//ATOMAL//REL TO FRA, GBR, USA")
        .unwrap()
        .with_originator("ops@example.org")
        .unwrap()
        .with_created("2026-01-10T12:00:00Z")
        .unwrap();
    let md = stix::to_marking_definition(policies(), &label).unwrap();
    assert_eq!(md["name"], "NATO SECRET//ATOMAL//REL TO FRA, GBR, USA");
    assert_eq!(md["created"], "2026-01-10T12:00:00.000Z");
    // A creation time with an offset becomes a STIX (UTC) timestamp; the label keeps it as written.
    let offset = label
        .clone()
        .with_created("2026-01-10T14:00:00+02:00")
        .unwrap();
    let md_offset = stix::to_marking_definition(policies(), &offset).unwrap();
    assert_eq!(md_offset["created"], "2026-01-10T12:00:00.000Z");
    assert_eq!(
        stix::from_marking_definition(policies(), &md_offset).unwrap(),
        offset
    );
    assert!(stix::is_label_marking(&md));
    let back = stix::from_marking_definition(policies(), &md).unwrap();
    assert_eq!(back, label);
    // The id is bound to the label: changing the label without the id is detected.
    let mut tampered = md.clone();
    tampered["extensions"][stix::LABEL_EXTENSION_ID]["classification"] = json!("CONFIDENTIAL");
    let err = stix::from_marking_definition(policies(), &tampered)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("$.id: marking-definition--"), "{err}");
    let mut unknown = md.clone();
    unknown["extensions"][stix::LABEL_EXTENSION_ID]["colour"] = json!("red");
    assert_eq!(
        stix::from_marking_definition(policies(), &unknown)
            .unwrap_err()
            .to_string(),
        format!(
            "$.extensions.{}.colour: unknown property",
            stix::LABEL_EXTENSION_ID
        )
    );
    let mut bad_value = md;
    bad_value["extensions"][stix::LABEL_EXTENSION_ID]["categories"][0]["values"][0] = json!(3);
    assert_eq!(
        stix::from_marking_definition(policies(), &bad_value)
            .unwrap_err()
            .to_string(),
        format!(
            "$.extensions.{}.categories[0].values[0]: expected a string",
            stix::LABEL_EXTENSION_ID
        )
    );
}

#[test]
fn empty_release_set_survives_every_form() {
    let label = parse("NATO SECRET//REL TO NONE").unwrap();
    let md = stix::to_marking_definition(policies(), &label).unwrap();
    let back = stix::from_marking_definition(policies(), &md).unwrap();
    assert_eq!(back.releasable_to().len(), 1);
    assert!(back.releasable_to()[0].is_empty());
}

#[test]
fn dominance() {
    let a = parse("NATO SECRET//REL TO FRA, GBR, USA").unwrap();
    let b = parse("NATO CONFIDENTIAL//ATOMAL//REL TO FRA, GBR, JPN").unwrap();
    let d = a.dominate(&b).unwrap();
    assert_eq!(
        render_marking(policies(), &d).unwrap(),
        "NATO SECRET//ATOMAL//REL TO FRA, GBR"
    );
    let g = parse("NATO SECRET//REL TO NATO").unwrap();
    let d = a.dominate(&g).unwrap();
    assert_eq!(
        render_marking(policies(), &d).unwrap(),
        "NATO SECRET//REL TO FRA, GBR, USA//REL TO NATO"
    );
    let disjoint = parse("NATO SECRET//REL TO JPN").unwrap();
    assert_eq!(
        render_marking(policies(), &a.dominate(&disjoint).unwrap()).unwrap(),
        "NATO SECRET//REL TO NONE"
    );
    let f = parse("FR SECRET").unwrap();
    assert_eq!(
        a.dominate(&f).unwrap_err().to_string(),
        "dominant label: cannot combine labels of policies NATO and FRA"
    );
}

#[test]
fn portions_and_selectors() {
    let secret = parse("NATO SECRET//REL TO FRA, GBR, USA").unwrap();
    let narrow = parse("NATO SECRET//REL TO FRA, GBR").unwrap();
    let ids = [
        stix::marking_definition_id(policies(), &secret).unwrap(),
        stix::marking_definition_id(policies(), &narrow).unwrap(),
    ];
    let lookup = |id: &str| {
        if id == ids[0] {
            Some(secret.clone())
        } else if id == ids[1] {
            Some(narrow.clone())
        } else {
            None
        }
    };
    let object = json!({
        "type": "report", "id": "report--1", "spec_version": "2.1",
        "name": "n", "description": "d",
        "external_references": [{"source_name": "a", "url": "u"}],
        "object_marking_refs": [ids[0]],
        "granular_markings": [{"marking_ref": ids[1], "selectors": ["description", "external_references.[0].url"]}],
    });
    let labels = object_labels(&object, &lookup).unwrap();
    assert_eq!(labels.portions.len(), 2);
    let url = Selector::parse("external_references.[0]", &object).unwrap();
    assert!(url.contains(&Selector::parse("external_references.[0].url", &object).unwrap()));
    assert_eq!(
        render_marking(policies(), &labels.banner().unwrap()).unwrap(),
        "NATO SECRET//REL TO FRA, GBR"
    );
    let name = Selector::parse("name", &object).unwrap();
    assert_eq!(labels.effective(&name).unwrap(), secret);
    for (selector, reason) in [
        ("summary", "names a property that the object does not have"),
        (
            "external_references.[3]",
            "names a property that the object does not have",
        ),
        ("id", "this property cannot carry a portion label"),
        ("[0]", "a selector cannot start with a list index"),
        (
            "description.[x]",
            "a list index must be a number, as in [0]",
        ),
        ("descr\u{200B}iption", "forbidden"),
    ] {
        let err = Selector::parse(selector, &object).unwrap_err().to_string();
        assert!(err.contains(reason), "{selector}: {err}");
    }
    let unlabelled = json!({"type": "note", "id": "note--1", "object_marking_refs": []});
    assert!(object_labels(&unlabelled, &lookup)
        .unwrap_err()
        .to_string()
        .contains("no confidentiality label"));
}

fn arb_label() -> impl Strategy<Value = Label> {
    let tokens = prop::sample::subsequence(
        vec!["FRA", "GBR", "USA", "DEU", "JPN", "NATO", "EU", "FVEY"],
        0..5,
    );
    (
        0u8..5,
        prop::collection::vec(tokens, 0..3),
        prop::sample::subsequence(vec!["ATOMAL", "CRYPTO"], 0..2),
    )
        .prop_map(|(rank, sets, caveats)| {
            let p = policies();
            let nato = p.get("NATO").unwrap();
            let mut label = Label::new(p, "NATO", &nato.level(rank).unwrap().name).unwrap();
            for set in sets {
                label = label
                    .with_releasable_to(set.into_iter().map(|t| ReleaseToken::parse(t).unwrap()))
                    .unwrap();
            }
            for c in caveats {
                label = label.with_caveat(p, c).unwrap();
            }
            label
        })
}

proptest! {
    #[test]
    fn marking_and_json_round_trip(label in arb_label()) {
        let text = render_marking(policies(), &label).unwrap();
        let parsed = parse_marking(policies(), &text).unwrap();
        prop_assert_eq!(&parsed, &label);
        let md = stix::to_marking_definition(policies(), &label).unwrap();
        prop_assert_eq!(stix::from_marking_definition(policies(), &md).unwrap(), label);
    }

    /// Dominance never loosens: the result is at least as high, keeps every caveat, and every
    /// nation admitted by the result's nation-only sets was admitted by both inputs' sets.
    #[test]
    fn dominance_never_loosens(a in arb_label(), b in arb_label()) {
        let d = a.dominate(&b).unwrap();
        prop_assert!(d.rank() >= a.rank() && d.rank() >= b.rank());
        prop_assert!(a.caveats().is_subset(d.caveats()) && b.caveats().is_subset(d.caveats()));
        let admits = |l: &Label, nation: &str| l.releasable_to().iter().all(|s| s.iter().any(|t| t.as_str() == nation));
        for nation in ["FRA", "GBR", "USA", "DEU", "JPN"] {
            if admits(&d, nation) && !d.releasable_to().is_empty() {
                // Sets holding group tokens are kept verbatim, so only nation-only sets are compared.
                let nation_only = |l: &Label| l.releasable_to().iter().filter(|s| s.iter().all(|t| t.as_str().len() == 3)).all(|s| s.iter().any(|t| t.as_str() == nation));
                prop_assert!(nation_only(&a) && nation_only(&b));
            }
        }
        prop_assert_eq!(a.dominate(&b).unwrap().rank(), b.dominate(&a).unwrap().rank());
    }
}
