//! Decisions on the shipped registry and policies, tear lines, and the leak property.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use entente_labels::{parse_marking, render_marking, stix, Label, PolicySet};
use entente_registry::Registry;
use entente_types::{parse_date, NationCode};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::*;

fn policy() -> &'static ReleasePolicy {
    static POLICY: OnceLock<ReleasePolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let registry = Registry::load(&root.join("registry")).unwrap();
        let policies = PolicySet::load(&root.join("policies")).unwrap();
        ReleasePolicy::new(&registry, policies)
    })
}

fn n(code: &str) -> NationCode {
    code.parse().unwrap()
}

fn label(marking: &str) -> Label {
    parse_marking(policy().policies(), marking).unwrap()
}

fn check(marking: &str, from: &str, to: &str, day: &str) -> String {
    let d = policy().decide(&label(marking), n(from), n(to), parse_date(day).unwrap());
    format!("{:?}: {d}", d.verdict)
}

#[test]
fn nato_secret_released_to_allies_named_in_the_label() {
    assert_eq!(
        check("NATO SECRET//REL TO FRA, GBR, USA", "FRA", "USA", "2024-06-01"),
        "Permit: permitted from FRA to USA on 2024-06-01 under Agreement between the Parties to the North Atlantic Treaty for the Security of Information, Article 1 and Annex I"
    );
    assert_eq!(
        check(
            "NATO SECRET//REL TO FRA, GBR, USA",
            "FRA",
            "JPN",
            "2024-06-01"
        ),
        "Deny: JPN is not in REL TO FRA, GBR, USA on 2024-06-01"
    );
    let d = policy().decide(
        &label("NATO SECRET//REL TO FRA, GBR, USA"),
        n("FRA"),
        n("USA"),
        parse_date("2024-06-01").unwrap(),
    );
    assert_eq!(d.agreement(), Some("nato-security-of-information-1997"));
    assert_eq!(d.clause(), Some("Article 1 and Annex I"));
}

#[test]
fn rel_to_nato_follows_accession_and_the_security_agreement() {
    // Not a member on 2024-01-01: refused by the label itself.
    assert_eq!(
        check("NATO RESTRICTED//REL TO NATO", "FRA", "SWE", "2024-01-01"),
        "Deny: SWE is not in REL TO NATO on 2024-01-01"
    );
    // A member from 2024-03-07, but the 1997 security agreement applies to Sweden from 2024-08-02.
    assert_eq!(
        check("NATO RESTRICTED//REL TO NATO", "FRA", "SWE", "2024-04-01"),
        "Deny: no security-of-information agreement in force between FRA and SWE on 2024-04-01 covers NATO RESTRICTED"
    );
    assert!(
        check("NATO RESTRICTED//REL TO NATO", "FRA", "SWE", "2024-08-02").starts_with("Permit: ")
    );
    // Finland acceded to NATO on 2023-04-04 (no later accession recorded).
    assert!(
        check("NATO RESTRICTED//REL TO NATO", "FRA", "FIN", "2023-04-04").starts_with("Permit: ")
    );
    assert!(
        check("NATO RESTRICTED//REL TO NATO", "FRA", "FIN", "2023-04-03").starts_with("Deny: ")
    );
}

#[test]
fn national_labels_and_defaults() {
    // A national label without Releasable To stays national.
    assert_eq!(
        check("FR SECRET", "FRA", "DEU", "2024-06-01"),
        "Deny: the label names no Releasable To, and policy FRA keeps such information within FRA"
    );
    assert_eq!(
        check("FR SECRET", "FRA", "FRA", "2024-06-01"),
        "Permit: FRA is the originating nation"
    );
    // FR SECRET to JPN under the Franco-Japanese agreement (which covers French information).
    assert!(check("FR SECRET//REL TO JPN", "FRA", "JPN", "2024-06-01")
        .contains("Government of Japan on the Security of Information"));
    // Before it entered into force (October 2011, counted from November): refused.
    assert!(check("FR SECRET//REL TO JPN", "FRA", "JPN", "2011-10-15")
        .starts_with("Deny: no security-of-information agreement"));
    // FR SECRET to DEU: no agreement in the dataset covers French-policy information between them.
    assert!(
        check("FR SECRET//REL TO FRA, DEU", "FRA", "DEU", "2024-06-01")
            .starts_with("Deny: no security-of-information agreement")
    );
    // A NATO label without Releasable To goes to NATO members only.
    assert!(check("NATO CONFIDENTIAL", "DEU", "ITA", "2024-06-01").starts_with("Permit: "));
    assert_eq!(
        check("NATO CONFIDENTIAL", "DEU", "JPN", "2024-06-01"),
        "Deny: the label names no Releasable To, so policy NATO releases it to members of NATO only, and JPN is not one on 2024-06-01"
    );
    // NATO information to Japan through the Japan–NATO agreement, NATO acting for its members.
    assert!(
        check("NATO SECRET//REL TO FRA, JPN", "FRA", "JPN", "2024-06-01")
            .contains("North Atlantic Treaty Organisation")
    );
}

#[test]
fn empty_sets_caveats_and_unknown_tokens_deny() {
    assert_eq!(
        check("NATO SECRET//REL TO NONE", "FRA", "USA", "2024-06-01"),
        "Deny: the label is releasable to nobody (an empty Releasable To set)"
    );
    // No agreement in the dataset lists CRYPTO among the caveats it covers.
    assert_eq!(
        check("NATO SECRET//CRYPTO//REL TO FRA, USA", "FRA", "USA", "2024-06-01"),
        "Deny: no security-of-information agreement in force between FRA and USA on 2024-06-01 covers NATO SECRET with CRYPTO"
    );
    // ATOMAL is covered by the ATOMAL agreement (in force 1965-03-12), and only by it.
    assert!(check(
        "NATO SECRET//ATOMAL//REL TO FRA, USA",
        "FRA",
        "USA",
        "2024-06-01"
    )
    .contains("Co-operation regarding Atomic Information"));
    assert_eq!(
        check("NATO SECRET//ATOMAL//REL TO FRA, USA", "FRA", "USA", "1965-03-11"),
        "Deny: no security-of-information agreement in force between FRA and USA on 1965-03-11 covers NATO SECRET with ATOMAL"
    );
    assert_eq!(
        check("NATO SECRET//REL TO USA, XYZ", "FRA", "USA", "2024-06-01"),
        "Deny: Releasable To value \"XYZ\" is neither a known nation nor a known group"
    );
    // Both sets of a combined label must admit the recipient.
    assert_eq!(
        check(
            "NATO SECRET//REL TO NATO//REL TO FRA, JPN",
            "FRA",
            "USA",
            "2024-06-01"
        ),
        "Deny: USA is not in REL TO FRA, JPN on 2024-06-01"
    );
}

// --- Tear lines ----------------------------------------------------------------------------------

struct Bundle {
    labels: HashMap<String, Label>,
}

impl Bundle {
    fn new() -> Bundle {
        Bundle {
            labels: HashMap::new(),
        }
    }

    fn mark(&mut self, marking: &str) -> String {
        let l = label(marking);
        let id = stix::marking_definition_id(policy().policies(), &l).unwrap();
        self.labels.insert(id.clone(), l);
        id
    }

    fn release(&self, object: &Value, to: &str) -> Release {
        let lookup = |id: &str| self.labels.get(id).cloned();
        policy()
            .release_object(
                object,
                &lookup,
                n("FRA"),
                n(to),
                parse_date("2024-09-01").unwrap(),
            )
            .unwrap()
    }
}

fn report(b: &mut Bundle) -> Value {
    let base = b.mark("NATO SECRET//REL TO FRA, GBR, USA, JPN");
    let gbr_usa = b.mark("NATO SECRET//REL TO FRA, GBR, USA");
    let gbr_only = b.mark("NATO SECRET//REL TO FRA, GBR");
    json!({
        "type": "report", "spec_version": "2.1", "id": "report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b",
        "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
        "name": "Air activity over the Baltic", "published": "2024-08-01T00:00:00.000Z",
        "description": "SOURCE-ALPHA reports two tracks",
        "object_refs": ["indicator--1b2c3d4e-0000-4000-8000-000000000001", "indicator--1b2c3d4e-0000-4000-8000-000000000002"],
        "external_references": [
            {"source_name": "public", "url": "https://example.org/public"},
            {"source_name": "liaison", "description": "LIAISON-BRAVO channel"},
            {"source_name": "other", "url": "https://example.org/other"}
        ],
        "object_marking_refs": [base],
        "granular_markings": [
            {"marking_ref": gbr_usa, "selectors": ["description"]},
            {"marking_ref": gbr_only, "selectors": ["external_references.[1]", "object_refs.[1]"]},
            {"marking_ref": gbr_usa, "selectors": ["external_references.[2].url"]}
        ]
    })
}

#[test]
fn tear_line_cuts_denied_portions_and_recomputes_the_banner() {
    let mut b = Bundle::new();
    let object = report(&mut b);
    // GBR may see everything.
    let r = b.release(&object, "GBR");
    assert_eq!(r.verdict, ReleaseVerdict::Permit);
    let banner = render_marking(policy().policies(), r.banner.as_ref().unwrap()).unwrap();
    assert_eq!(banner, "NATO SECRET//REL TO FRA, GBR");
    // USA loses the GBR-only portions; the banner becomes REL TO FRA, GBR, USA.
    let r = b.release(&object, "USA");
    assert_eq!(r.verdict, ReleaseVerdict::Partial);
    let copy = r.object.unwrap();
    let text = copy.to_string();
    assert!(
        !text.contains("LIAISON-BRAVO") && !text.contains("000000000002"),
        "{text}"
    );
    assert_eq!(copy["external_references"].as_array().unwrap().len(), 2);
    assert_eq!(copy["object_refs"].as_array().unwrap().len(), 1);
    // The remaining portion's selector was re-indexed: [2] became [1].
    assert_eq!(copy["granular_markings"].as_array().unwrap().len(), 2);
    assert_eq!(
        copy["granular_markings"][1]["selectors"],
        json!(["external_references.[1].url"])
    );
    let banner = render_marking(policy().policies(), r.banner.as_ref().unwrap()).unwrap();
    assert_eq!(banner, "NATO SECRET//REL TO FRA, GBR, USA");
    assert_eq!(copy["object_marking_refs"][0], r.markings[0]["id"]);
    // JPN (under the Japan–NATO agreement) gets only the base portions.
    let r = b.release(&object, "JPN");
    assert_eq!(r.verdict, ReleaseVerdict::Partial);
    let copy = r.object.unwrap();
    assert!(copy.get("description").is_none());
    assert!(copy.get("granular_markings").is_none());
    assert_eq!(copy["external_references"].as_array().unwrap().len(), 2);
    assert!(copy["external_references"][1].get("url").is_none());
    // DEU is not named anywhere: the whole object is refused.
    let r = b.release(&object, "DEU");
    assert_eq!(r.verdict, ReleaseVerdict::Deny);
    assert!(r.object.is_none() && r.markings.is_empty());
}

#[test]
fn a_denied_required_property_refuses_the_object() {
    let mut b = Bundle::new();
    let base = b.mark("NATO SECRET//REL TO FRA, USA");
    let narrow = b.mark("NATO SECRET//REL TO FRA");
    let indicator = json!({
        "type": "indicator", "spec_version": "2.1", "id": "indicator--1b2c3d4e-0000-4000-8000-000000000009",
        "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": "2024-08-01T00:00:00Z",
        "object_marking_refs": [base],
        "granular_markings": [{"marking_ref": narrow, "selectors": ["pattern"]}]
    });
    let r = b.release(&indicator, "USA");
    assert_eq!(r.verdict, ReleaseVerdict::Deny);
    assert_eq!(r.required_denied.as_deref(), Some("pattern"));
    assert!(r.object.is_none());
}

#[test]
fn a_list_emptied_by_cuts_is_removed_with_its_marking() {
    let mut b = Bundle::new();
    let base = b.mark("NATO SECRET//REL TO FRA, JPN");
    let fra_only = b.mark("NATO SECRET//REL TO FRA");
    let object = json!({
        "type": "attack-pattern", "spec_version": "2.1", "id": "attack-pattern--1b2c3d4e-0000-4000-8000-000000000009",
        "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
        "name": "Spoofing", "aliases": ["ONE", "TWO"],
        "object_marking_refs": [base],
        "granular_markings": [
            {"marking_ref": fra_only, "selectors": ["aliases.[0]", "aliases.[1]"]},
            {"marking_ref": base, "selectors": ["aliases"]}
        ]
    });
    let copy = b.release(&object, "JPN").object.unwrap();
    // No empty list (STIX forbids them) and no selector naming what is gone.
    assert!(copy.get("aliases").is_none(), "{copy}");
    assert!(copy.get("granular_markings").is_none(), "{copy}");
}

#[test]
fn a_portion_without_releasable_to_keeps_its_policy_default() {
    let mut b = Bundle::new();
    // The object is REL TO FRA, JPN; one portion is marked NATO SECRET alone, which NATO's
    // default releases to NATO members only: JPN, outside NATO, must not receive it.
    let base = b.mark("NATO SECRET//REL TO FRA, JPN");
    let nato_default = b.mark("NATO SECRET");
    let object = json!({
        "type": "attack-pattern", "spec_version": "2.1", "id": "attack-pattern--1b2c3d4e-0000-4000-8000-000000000009",
        "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
        "name": "Spoofing", "description": "ALLIES-ONLY detail",
        "object_marking_refs": [base],
        "granular_markings": [{"marking_ref": nato_default, "selectors": ["description"]}]
    });
    let r = b.release(&object, "JPN");
    assert_eq!(r.verdict, ReleaseVerdict::Partial);
    assert!(!r.object.unwrap().to_string().contains("ALLIES-ONLY"));
    // FRA's national default (originator only) inside a wider object keeps it national too.
    let base = b.mark("FR SECRET//REL TO FRA, GBR");
    let national = b.mark("FR SECRET");
    let mut object = object.clone();
    object["object_marking_refs"] = json!([base]);
    object["granular_markings"][0]["marking_ref"] = json!(national);
    let r = b.release(&object, "GBR");
    assert!(r
        .object
        .is_none_or(|o| !o.to_string().contains("ALLIES-ONLY")));
    // The banner of FRA's own copy keeps both restrictions.
    let r = b.release(&object, "FRA");
    let banner = r.banner.unwrap();
    assert!(
        policy()
            .decide(
                &banner,
                n("FRA"),
                n("GBR"),
                parse_date("2024-09-01").unwrap()
            )
            .verdict
            == crate::Verdict::Deny
    );
}

// --- The leak property ---------------------------------------------------------------------------

/// Selectors of the portion test; every one resolves in its object.
const SELECTORS: [&str; 7] = [
    "description",
    "name",
    "object_refs.[1]",
    "object_refs",
    "external_references.[0]",
    "external_references.[0].description",
    "external_references.[1].source_name",
];
const NATIONS: [&str; 8] = ["FRA", "GBR", "USA", "DEU", "JPN", "SWE", "ITA", "CAN"];
const SETS: [&str; 7] = [
    "FRA, GBR, USA",
    "FRA, GBR",
    "NATO",
    "FRA, JPN",
    "EU",
    "FRA, DEU, USA, JPN",
    "NONE",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// No content of a denied portion appears anywhere in a released copy or its markings, and
    /// every portion that remains was permitted.
    #[test]
    fn no_denied_portion_leaks(
        base in 0usize..SETS.len(),
        portion_sets in prop::collection::vec((0usize..SETS.len(), 0u8..5), 1..12),
        to in 0usize..NATIONS.len(),
        day in 0u64..6000,
    ) {
        let mut b = Bundle::new();
        let base_id = b.mark(&format!("NATO SECRET//REL TO {}", SETS[base]));
        let mut refs = Vec::new();
        let mut granular = Vec::new();
        let mut obj = serde_json::Map::new();
        for (i, (set, level)) in portion_sets.iter().enumerate() {
            let level = ["NATO UNCLASSIFIED", "NATO RESTRICTED", "NATO CONFIDENTIAL", "NATO SECRET", "COSMIC TOP SECRET"][*level as usize];
            let id = b.mark(&format!("{level}//REL TO {}", SETS[*set]));
            obj.insert(format!("x_portion_{i}"), json!(format!("SECRET-CONTENT-{i}-{}", SETS[*set])));
            refs.push(format!("indicator--00000000-0000-4000-8000-{i:012}"));
            granular.push(json!({"marking_ref": id, "selectors": [format!("x_portion_{i}"), format!("object_refs.[{i}]")]}));
        }
        obj.insert("type".into(), json!("report"));
        obj.insert("spec_version".into(), json!("2.1"));
        obj.insert("id".into(), json!("report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b"));
        obj.insert("name".into(), json!("r"));
        obj.insert("published".into(), json!("2024-08-01T00:00:00.000Z"));
        obj.insert("object_refs".into(), json!(refs));
        obj.insert("object_marking_refs".into(), json!([base_id]));
        obj.insert("granular_markings".into(), Value::Array(granular));
        let object = Value::Object(obj);
        let day = parse_date("2010-01-01").unwrap() + chrono::Days::new(day);
        let lookup = |id: &str| b.labels.get(id).cloned();
        let r = policy().release_object(&object, &lookup, n("FRA"), n(NATIONS[to]), day).unwrap();
        let output = format!("{} {}", r.object.as_ref().map(|o| o.to_string()).unwrap_or_default(),
            r.markings.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(" "));
        for (i, (selector, decision)) in r.portions.iter().enumerate().filter(|(_, (s, _))| s.starts_with("x_portion")) {
            let _ = i;
            let idx: usize = selector.trim_start_matches("x_portion_").parse().unwrap();
            let content = format!("SECRET-CONTENT-{idx}-");
            let reference = format!("{idx:012}");
            if decision.is_permit() && r.object.is_some() {
                prop_assert!(output.contains(&content), "permitted portion {selector} missing");
            } else {
                prop_assert!(!output.contains(&content), "denied portion {selector} leaked: {output}");
                prop_assert!(!output.contains(&reference), "denied reference {selector} leaked");
            }
        }
        if let (Some(copy), Some(banner)) = (&r.object, &r.banner) {
            // The banner admits the recipient: the copy as delivered is releasable as a whole.
            prop_assert!(policy().decide(banner, n("FRA"), n(NATIONS[to]), day).is_permit());
            prop_assert_eq!(copy["object_refs"].as_array().unwrap().len(),
                r.portions.iter().filter(|(s, d)| s.starts_with("object_refs") && d.is_permit()).count());
        }
    }
}

/// A marking that carries no confidentiality label (TLP:GREEN).
const TLP_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The release computed once per set of object markings is the release of every object that
    /// carries them and no granular marking: same verdict, banner and markings, and "unchanged"
    /// only when the copy is the object itself.
    #[test]
    fn release_by_markings_without_portions_is_the_release_of_each_such_object(
        labels in prop::collection::vec((0usize..SETS.len(), 0usize..5, any::<bool>()), 0..3),
        tlp_at in prop::option::of(0usize..3),
        to in 0usize..NATIONS.len(),
        day in 0u64..6000,
        kind in prop::sample::select(vec!["indicator", "report", "note", "x-custom"]),
    ) {
        let mut b = Bundle::new();
        let mut refs: Vec<String> = Vec::new();
        for (set, level, via_other_id) in &labels {
            let level = ["NATO UNCLASSIFIED", "NATO RESTRICTED", "NATO CONFIDENTIAL", "NATO SECRET", "COSMIC TOP SECRET"][*level];
            let marking = format!("{level}//REL TO {}", SETS[*set]);
            let id = b.mark(&marking);
            if *via_other_id {
                // The same label under an id that is not derived from it.
                let other = format!("marking-definition--00000000-0000-4000-8000-{:012}", refs.len());
                b.labels.insert(other.clone(), label(&marking));
                refs.push(other);
            } else {
                refs.push(id);
            }
        }
        if let Some(at) = tlp_at {
            refs.insert(at.min(refs.len()), TLP_GREEN.to_owned());
        }
        let object = json!({
            "type": kind, "spec_version": "2.1", "id": format!("{kind}--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b"),
            "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
            "name": "n", "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
            "valid_from": "2024-08-01T00:00:00Z", "published": "2024-08-01T00:00:00.000Z",
            "content": "c", "object_refs": ["indicator--1b2c3d4e-0000-4000-8000-000000000001"],
            "object_marking_refs": refs,
        });
        let day = parse_date("2010-01-01").unwrap() + chrono::Days::new(day);
        let lookup = |id: &str| b.labels.get(id).cloned();
        let ref_strs: Vec<&str> = refs.iter().map(String::as_str).collect();
        let whole = policy().release_object(&object, &lookup, n("FRA"), n(NATIONS[to]), day);
        let by_refs = policy().release_by_markings(&ref_strs, &[], &lookup, n("FRA"), n(NATIONS[to]), day);
        match (whole, by_refs) {
            (Err(_), Err(_)) => {}
            (Ok(whole), Ok((by_refs, unchanged))) => {
                prop_assert_eq!(whole.verdict, by_refs.verdict);
                prop_assert_eq!(&whole.banner, &by_refs.banner);
                prop_assert_eq!(&whole.markings, &by_refs.markings);
                let copy_refs = whole.object.as_ref().map(|o| o["object_marking_refs"].clone());
                let by_refs_refs = by_refs.object.as_ref().map(|o| o["object_marking_refs"].clone());
                prop_assert_eq!(copy_refs, by_refs_refs);
                prop_assert_eq!(unchanged, whole.object.as_ref() == Some(&object));
            }
            (whole, by_refs) => prop_assert!(false, "{whole:?} against {by_refs:?}"),
        }
    }
    /// A page released through one memo gets, object by object, the release each gets alone:
    /// objects sharing markings (permitted, refused, unlabelled, with portions, of other kinds,
    /// from other originators) in any order.
    #[test]
    fn memoised_release_is_the_release_of_each_object(
        page in prop::collection::vec(
            (0usize..4, 0usize..5, prop::sample::select(vec!["indicator", "report", "marking-definition", "x-custom"]), any::<bool>(), 0usize..3),
            1..24,
        ),
        to in 0usize..NATIONS.len(),
        day in 0u64..6000,
    ) {
        let mut b = Bundle::new();
        let markings = [
            "NATO SECRET//REL TO FRA, USA, GBR",
            "NATO CONFIDENTIAL//REL TO FRA, JPN",
            "NATO RESTRICTED",
            "COSMIC TOP SECRET//REL TO FRA, DEU",
        ];
        let ids: Vec<String> = markings.iter().map(|m| b.mark(m)).collect();
        let day = parse_date("2010-01-01").unwrap() + chrono::Days::new(day);
        let lookup = |id: &str| b.labels.get(id).cloned();
        let mut memo = SameMarkings::default();
        for (i, (set, portion, kind, unlabelled, from)) in page.into_iter().enumerate() {
            let refs: Vec<String> = if unlabelled {
                vec![TLP_GREEN.to_owned()]
            } else {
                vec![ids[set].clone(), TLP_GREEN.to_owned()]
            };
            let mut object = json!({
                "type": kind, "spec_version": "2.1", "id": format!("{kind}--6c1b1f4e-2f0a-4c35-9f3e-{i:012}"),
                "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
                "name": format!("n{i}"), "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
                "valid_from": "2024-08-01T00:00:00Z", "description": "d",
                "object_marking_refs": refs,
            });
            if portion < 4 {
                object["granular_markings"] = json!([{"marking_ref": ids[portion], "selectors": ["description"]}]);
            }
            let from = n(["FRA", "USA", "GBR"][from]);
            let alone = policy().release_stored(&object, &lookup, from, n(NATIONS[to]), day);
            let memoised = policy().release_stored_memo(&object, &lookup, from, n(NATIONS[to]), day, &mut memo);
            match (alone, memoised) {
                (Err(a), Err(m)) => prop_assert_eq!(a.to_string(), m.to_string()),
                (Ok(alone), Ok(StoredRelease::Own(m))) => {
                    prop_assert_eq!(alone.verdict, m.verdict);
                    prop_assert_eq!(&alone.object, &m.object);
                    prop_assert_eq!(&alone.markings, &m.markings);
                    prop_assert_eq!(alone.explain(), m.explain());
                }
                (Ok(alone), Ok(StoredRelease::Whole(shared))) => {
                    prop_assert_eq!(alone.verdict, ReleaseVerdict::Permit);
                    prop_assert_eq!(alone.object.as_ref(), Some(&object), "the copy is the object itself");
                    prop_assert_eq!(&alone.banner, &shared.banner);
                    prop_assert_eq!(&alone.markings, &shared.markings);
                    prop_assert_eq!(alone.explain(), shared.explain());
                }
                (alone, memoised) => prop_assert!(false, "{alone:?} against {memoised:?}"),
            }
        }
    }

    /// With granular markings: the release computed once per set of markings (on a stand-in that
    /// holds a null at every selector) is the release of every object that carries them and in
    /// which every selector resolves, for the outcomes it claims: refused on the object decision
    /// (or an error) exactly when the object is, and, when nothing is cut, the same banner and
    /// markings, "unchanged" exactly when the copy is the object itself.
    #[test]
    fn release_by_markings_with_portions_is_the_release_of_each_such_object(
        object_label in (0usize..SETS.len(), 0usize..5),
        portions in prop::collection::vec(
            ((0usize..SETS.len(), 0usize..5), prop::collection::vec(0usize..SELECTORS.len(), 1..3)),
            1..4,
        ),
        to in 0usize..NATIONS.len(),
        day in 0u64..6000,
        kind in prop::sample::select(vec!["indicator", "report", "note", "x-custom"]),
        via_other_id in any::<bool>(),
    ) {
        const LEVELS: [&str; 5] = ["NATO UNCLASSIFIED", "NATO RESTRICTED", "NATO CONFIDENTIAL", "NATO SECRET", "COSMIC TOP SECRET"];
        let mut b = Bundle::new();
        let object_marking = format!("{}//REL TO {}", LEVELS[object_label.1], SETS[object_label.0]);
        let object_ref = if via_other_id {
            let other = "marking-definition--00000000-0000-4000-8000-000000000001".to_owned();
            b.labels.insert(other.clone(), label(&object_marking));
            other
        } else {
            b.mark(&object_marking)
        };
        let entries: Vec<(String, Vec<&str>)> = portions
            .iter()
            .map(|((set, level), selectors)| {
                let id = b.mark(&format!("{}//REL TO {}", LEVELS[*level], SETS[*set]));
                (id, selectors.iter().map(|i| SELECTORS[*i]).collect())
            })
            .collect();
        let object = json!({
            "type": kind, "spec_version": "2.1", "id": format!("{kind}--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b"),
            "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
            "name": "n", "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
            "valid_from": "2024-08-01T00:00:00Z", "published": "2024-08-01T00:00:00.000Z",
            "content": "c", "description": "d",
            "object_refs": ["indicator--1b2c3d4e-0000-4000-8000-000000000001", "indicator--1b2c3d4e-0000-4000-8000-000000000002"],
            "external_references": [{"source_name": "a", "description": "x"}, {"source_name": "b"}],
            "object_marking_refs": [object_ref],
            "granular_markings": entries.iter().map(|(id, selectors)| json!({"marking_ref": id, "selectors": selectors})).collect::<Vec<_>>(),
        });
        let day = parse_date("2010-01-01").unwrap() + chrono::Days::new(day);
        let lookup = |id: &str| b.labels.get(id).cloned();
        let refs = [object_ref.as_str()];
        let portions: Vec<(&str, &[&str])> = entries.iter().map(|(id, s)| (id.as_str(), s.as_slice())).collect();
        let whole = policy().release_object(&object, &lookup, n("FRA"), n(NATIONS[to]), day);
        let by_markings = policy().release_by_markings(&refs, &portions, &lookup, n("FRA"), n(NATIONS[to]), day);
        match (whole, by_markings) {
            (Err(_), Err(_)) => {}
            (Ok(whole), Ok((stand_in, unchanged))) => {
                if !stand_in.object_decision.is_permit() {
                    prop_assert_eq!(whole.verdict, ReleaseVerdict::Deny);
                }
                if stand_in.verdict == ReleaseVerdict::Permit {
                    prop_assert_eq!(whole.verdict, ReleaseVerdict::Permit);
                    prop_assert_eq!(&whole.banner, &stand_in.banner);
                    prop_assert_eq!(&whole.markings, &stand_in.markings);
                    prop_assert_eq!(unchanged, whole.object.as_ref() == Some(&object));
                } else {
                    prop_assert!(!unchanged);
                    prop_assert_ne!(whole.verdict, ReleaseVerdict::Permit);
                }
            }
            (whole, by_markings) => prop_assert!(false, "{whole:?} against {by_markings:?}"),
        }
    }
}

#[test]
fn stored_objects_are_released_by_kind_before_any_label() {
    let mut b = Bundle::new();
    let object = report(&mut b);
    let mut unlabelled = object.clone();
    let b = b;
    let lookup = |id: &str| b.labels.get(id).cloned();
    let day = parse_date("2024-09-01").unwrap();
    let release = |object: &Value, to: &str| {
        policy()
            .release_stored(object, &lookup, n("FRA"), n(to), day)
            .unwrap()
    };
    // A schema: everyone, whole, with no label to be cleared for.
    let schema = json!({"type": "extension-definition", "id": "extension-definition--00000000-0000-4000-8000-000000000001"});
    let r = release(&schema, "JPN");
    assert_eq!(r.verdict, ReleaseVerdict::Permit);
    assert!(r.banner.is_none());
    assert!(matches!(
        r.object_decision.reason,
        Reason::NotInformation { .. }
    ));
    assert!(!KindRule::of("extension-definition").is_federated());
    // A label's own marking definition: under the label it carries.
    let secret = label("NATO SECRET//REL TO FRA, GBR");
    let marking = stix::to_marking_definition(policy().policies(), &secret).unwrap();
    assert_eq!(release(&marking, "GBR").verdict, ReleaseVerdict::Permit);
    assert_eq!(release(&marking, "GBR").banner, Some(secret));
    assert_eq!(release(&marking, "JPN").verdict, ReleaseVerdict::Deny);
    // Information without a label goes to nobody, however its policy would default.
    let map = unlabelled.as_object_mut().unwrap();
    map.remove("object_marking_refs");
    map.remove("granular_markings");
    let r = release(&unlabelled, "GBR");
    assert_eq!(r.verdict, ReleaseVerdict::Deny);
    assert_eq!(r.object_decision.reason, Reason::Unlabelled);
    assert!(r.object.is_none());
    // Labelled information: the tear line, exactly as `release_object` cuts it.
    let stored = release(&object, "USA");
    let direct = b.release(&object, "USA");
    assert_eq!(stored.object, direct.object);
    assert_eq!(stored.verdict, ReleaseVerdict::Partial);
}

#[test]
fn the_default_label_is_written_in_at_ingest_or_the_object_is_refused() {
    let mut b = Bundle::new();
    let labelled = report(&mut b);
    let mut unlabelled = labelled.clone();
    let b = b;
    let lookup = |id: &str| b.labels.get(id).cloned();
    unlabelled
        .as_object_mut()
        .unwrap()
        .remove("object_marking_refs");
    let without = ReleasePolicy::new(
        &Registry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/registry"))
            .unwrap(),
        policy().policies().clone(),
    );
    let err = without.label_at_ingest(&unlabelled, &lookup).unwrap_err();
    assert!(err.to_string().contains("no default label"), "{err}");
    let with = without.with_default_label(Some("NATO RESTRICTED")).unwrap();
    match with.label_at_ingest(&unlabelled, &lookup).unwrap() {
        AtIngest::Default(marking) => {
            let l = stix::from_marking_definition(policy().policies(), &marking).unwrap();
            assert_eq!(l, label("NATO RESTRICTED"));
        }
        AtIngest::Labelled => panic!("an unlabelled object is not labelled"),
    }
    // A labelled object, and what is not information, stay as posted.
    assert!(matches!(
        with.label_at_ingest(&labelled, &lookup).unwrap(),
        AtIngest::Labelled
    ));
    let schema = json!({"type": "extension-definition"});
    assert!(matches!(
        with.label_at_ingest(&schema, &lookup).unwrap(),
        AtIngest::Labelled
    ));
    // An unknown Releasable To token in the default label is refused at start.
    let registry =
        Registry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/registry")).unwrap();
    assert!(ReleasePolicy::new(&registry, policy().policies().clone())
        .with_default_label(Some("NATO SECRET//REL TO XYZ"))
        .is_err());
}

#[test]
fn a_release_explains_its_decision_and_every_cut() {
    let mut b = Bundle::new();
    let object = report(&mut b);
    let usa = b.release(&object, "USA").explain();
    assert!(
        usa.starts_with("permitted from FRA to USA on 2024-09-01 under "),
        "{usa}"
    );
    assert!(
        usa.contains("; tear-lined: external_references.[1] cut: USA is not in REL TO FRA, GBR on 2024-09-01"),
        "{usa}"
    );
    assert!(!usa.contains("LIAISON-BRAVO"), "{usa}");
    let deu = b.release(&object, "DEU").explain();
    assert_eq!(deu, "DEU is not in REL TO FRA, GBR, JPN, USA on 2024-09-01");
}

#[test]
fn objects_with_the_same_markings_are_permitted_whole_by_one_decision() {
    let mut b = Bundle::new();
    let id = b.mark("NATO SECRET//REL TO FRA, USA, GBR");
    let lookup = |id: &str| b.labels.get(id).cloned();
    let day = parse_date("2024-06-01").unwrap();
    let mut memo = SameMarkings::default();
    let mut shared = Vec::new();
    for i in 0..3 {
        let object = json!({
            "type": "indicator", "spec_version": "2.1", "id": format!("indicator--6c1b1f4e-2f0a-4c35-9f3e-{i:012}"),
            "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
            "valid_from": "2024-08-01T00:00:00Z", "object_marking_refs": [id],
        });
        match policy()
            .release_stored_memo(&object, &lookup, n("FRA"), n("USA"), day, &mut memo)
            .unwrap()
        {
            StoredRelease::Whole(release) => shared.push(release),
            StoredRelease::Own(release) => panic!("decided alone: {}", release.explain()),
        }
    }
    assert!(shared.iter().all(|r| std::sync::Arc::ptr_eq(r, &shared[0])));
    // Refused to JPN: decided for each object alone, with its own explanation.
    let object = json!({"type": "indicator", "id": "indicator--1", "object_marking_refs": [id]});
    let refused = policy()
        .release_stored_memo(&object, &lookup, n("FRA"), n("JPN"), day, &mut memo)
        .unwrap();
    assert!(matches!(refused, StoredRelease::Own(r) if r.verdict == ReleaseVerdict::Deny));
}
