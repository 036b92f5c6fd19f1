//! The Cedar encoding on the shipped data: same decisions as the compiled policy, agreements
//! named in the reasons, national rules loaded and validated, and errors that deny.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use entente_labels::{parse_marking, Label, PolicySet};
use entente_registry::Registry;
use entente_types::{parse_date, NationCode};

use super::*;
use crate::compiled::NationalRules;
use crate::ReleasePolicy;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

struct Shipped {
    registry: Registry,
    policies: PolicySet,
    compiled: ReleasePolicy,
    cedar: CedarPolicy,
}

fn shipped() -> &'static Shipped {
    static SHIPPED: OnceLock<Shipped> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let registry = Registry::load(&data().join("registry")).unwrap();
        let policies = PolicySet::load(&data().join("policies")).unwrap();
        let rules = || {
            CedarNationalRules::load(&data().join("policies/rules"), &registry, &policies).unwrap()
        };
        let compiled =
            ReleasePolicy::new(&registry, policies.clone()).with_national_rules(Box::new(rules()));
        let cedar = CedarPolicy::new(&registry, &policies)
            .unwrap()
            .with_national_rules(rules());
        Shipped {
            registry,
            policies,
            compiled,
            cedar,
        }
    })
}

fn n(code: &str) -> NationCode {
    code.parse().unwrap()
}

fn label(marking: &str) -> Label {
    parse_marking(&shipped().policies, marking).unwrap()
}

/// The Cedar decision, checked equal to the compiled one, as the officer reads it.
fn check(marking: &str, from: &str, to: &str, day: &str) -> String {
    let s = shipped();
    let (l, day) = (label(marking), parse_date(day).unwrap());
    let cedar = s.cedar.decide(&l, n(from), n(to), day);
    let compiled = s.compiled.decide(&l, n(from), n(to), day);
    assert_eq!(cedar, compiled, "{marking} {from}->{to} {day}");
    format!("{:?}: {cedar}", cedar.verdict)
}

#[test]
fn shipped_decisions_match_the_compiled_policy() {
    let d = shipped().cedar.decide(
        &label("NATO SECRET//REL TO FRA, GBR, USA"),
        n("FRA"),
        n("USA"),
        parse_date("2024-06-01").unwrap(),
    );
    assert_eq!(d.agreement(), Some("nato-security-of-information-1997"));
    assert_eq!(
        check(
            "NATO SECRET//REL TO FRA, GBR, USA",
            "FRA",
            "JPN",
            "2024-06-01"
        ),
        "Deny: JPN is not in REL TO FRA, GBR, USA on 2024-06-01"
    );
    assert_eq!(
        check("NATO RESTRICTED//REL TO NATO", "FRA", "SWE", "2024-04-01"),
        "Deny: no security-of-information agreement in force between FRA and SWE on 2024-04-01 covers NATO RESTRICTED"
    );
    assert!(
        check("NATO RESTRICTED//REL TO NATO", "FRA", "SWE", "2024-08-02").starts_with("Permit: ")
    );
    assert!(
        check("NATO SECRET//REL TO FRA, JPN", "FRA", "JPN", "2024-06-01")
            .contains("North Atlantic Treaty Organisation")
    );
    assert!(check("FR SECRET//REL TO JPN", "FRA", "JPN", "2011-10-15")
        .starts_with("Deny: no security-of-information agreement"));
    assert_eq!(
        check("FR SECRET", "FRA", "FRA", "2024-06-01"),
        "Permit: FRA is the originating nation"
    );
    assert_eq!(
        check("FR SECRET", "FRA", "DEU", "2024-06-01"),
        "Deny: the label names no Releasable To, and policy FRA keeps such information within FRA"
    );
    assert!(check("NATO CONFIDENTIAL", "DEU", "ITA", "2024-06-01").starts_with("Permit: "));
    assert_eq!(
        check("NATO CONFIDENTIAL", "DEU", "JPN", "2024-06-01"),
        "Deny: the label names no Releasable To, so policy NATO releases it to members of NATO only, and JPN is not one on 2024-06-01"
    );
    assert_eq!(
        check("NATO SECRET//REL TO NONE", "FRA", "USA", "2024-06-01"),
        "Deny: the label is releasable to nobody (an empty Releasable To set)"
    );
    assert_eq!(
        check("NATO SECRET//REL TO USA, XYZ", "FRA", "USA", "2024-06-01"),
        "Deny: Releasable To value \"XYZ\" is neither a known nation nor a known group"
    );
    assert_eq!(
        check(
            "NATO SECRET//REL TO NATO//REL TO FRA, JPN",
            "FRA",
            "USA",
            "2024-06-01"
        ),
        "Deny: USA is not in REL TO FRA, JPN on 2024-06-01"
    );
    assert!(check(
        "NATO SECRET//CRYPTO//REL TO FRA, USA",
        "FRA",
        "USA",
        "2024-06-01"
    )
    .ends_with("covers NATO SECRET with CRYPTO"));
    // ATOMAL information goes under the ATOMAL agreement, which covers nothing without the caveat.
    let d = shipped().cedar.decide(
        &label("NATO SECRET//ATOMAL//REL TO FRA, USA"),
        n("FRA"),
        n("USA"),
        parse_date("2024-06-01").unwrap(),
    );
    assert_eq!(d.agreement(), Some("nato-atomal-agreement-1964"));
    assert!(check(
        "NATO SECRET//ATOMAL//REL TO FRA, USA",
        "FRA",
        "USA",
        "1965-03-11"
    )
    .ends_with("covers NATO SECRET with ATOMAL"));
}

#[test]
fn each_clause_is_one_permit_named_after_its_agreement() {
    let text = shipped().cedar.policy_text();
    assert!(text.contains("@id(\"nato-security-of-information-1997/art1-annex1\")\npermit"));
    assert!(text.contains("@id(\"japan-nato-security-of-information/art1\")\npermit"));
    // Sweden's later accession to the 1997 agreement is part of its permit.
    assert!(text.contains("!(principal == Nation::\"SWE\" && context.day < 20240802)"));
}

#[test]
fn french_rules_keep_special_france_in_france() {
    let s = shipped();
    let rules =
        CedarNationalRules::load(&data().join("policies/rules"), &s.registry, &s.policies).unwrap();
    assert!(rules.has_rules_for(n("FRA")) && !rules.has_rules_for(n("GBR")));
    assert_eq!(rules.rule_ids(n("FRA")), ["special-france-stays-in-france"]);
    let day = parse_date("2024-06-01").unwrap();
    let special = label("FR SECRET//SPECIAL FRANCE//REL TO FRA, JPN");
    assert_eq!(
        rules.forbids(&special, n("FRA"), n("JPN"), day),
        Ok(Some("special-france-stays-in-france".to_owned()))
    );
    assert_eq!(rules.forbids(&special, n("FRA"), n("FRA"), day), Ok(None));
    assert_eq!(
        rules.forbids(&label("FR SECRET//REL TO JPN"), n("FRA"), n("JPN"), day),
        Ok(None)
    );
}

/// A world where an agreement covers SPECIAL FRANCE, so only the national rule stands in the way.
fn special_france_world() -> (Registry, PolicySet) {
    let text = entente_registry::DatasetText {
        sources: "[[source]]\nid = \"S1\"\ntitle = \"t\"\nreference = \"r\"\ntier = 1\n".into(),
        nations: "nations = [ { code = \"FRA\", name = \"France\", source = \"S1\" }, { code = \"JPN\", name = \"Japan\", source = \"S1\" } ]\n".into(),
        organizations: vec![],
        agreements: vec![(
            "a.toml".into(),
            "[[agreement]]\nid = \"fr-jp\"\nname = \"FR-JP\"\nkind = \"agreement\"\nin_force = \"2012-01-01\"\nparties = [\"FRA\", \"JPN\"]\nsource = \"S1\"\n\n[[agreement.clause]]\nid = \"art1\"\narticle = \"Article 1\"\nkind = \"security-of-information\"\nsummary = \"s\"\nsource = \"S1\"\ncaveats = [\"SPECIAL FRANCE\"]\n".into(),
        )],
    };
    (
        Registry::from_text(text).unwrap(),
        PolicySet::load(&data().join("policies")).unwrap(),
    )
}

#[test]
fn a_national_rule_overrides_an_agreement_on_both_paths() {
    let (registry, policies) = special_france_world();
    let rules =
        || CedarNationalRules::load(&data().join("policies/rules"), &registry, &policies).unwrap();
    let compiled =
        ReleasePolicy::new(&registry, policies.clone()).with_national_rules(Box::new(rules()));
    let cedar = CedarPolicy::new(&registry, &policies)
        .unwrap()
        .with_national_rules(rules());
    let day = parse_date("2024-06-01").unwrap();
    let special = parse_marking(&policies, "FR SECRET//SPECIAL FRANCE//REL TO JPN").unwrap();
    let plain = parse_marking(&policies, "FR SECRET//REL TO JPN").unwrap();
    for d in [
        compiled.decide(&special, n("FRA"), n("JPN"), day),
        cedar.decide(&special, n("FRA"), n("JPN"), day),
    ] {
        assert_eq!(
            d.to_string(),
            "national release rule \"special-france-stays-in-france\" of FRA forbids it"
        );
    }
    assert_eq!(
        compiled.decide(&plain, n("FRA"), n("JPN"), day),
        cedar.decide(&plain, n("FRA"), n("JPN"), day)
    );
    assert_eq!(
        cedar.decide(&plain, n("FRA"), n("JPN"), day).agreement(),
        Some("fr-jp")
    );
}

fn load_rules(file: &str, text: &str) -> Result<CedarNationalRules, CedarError> {
    let s = shipped();
    CedarNationalRules::from_texts(
        vec![(file.to_owned(), text.to_owned())],
        &s.registry,
        &s.policies,
    )
}

#[test]
fn invalid_rules_files_are_refused_with_file_and_policy() {
    let scope = "(principal, action == Action::\"release\", resource)";
    let err = |file: &str, text: &str| match load_rules(file, text) {
        Ok(_) => panic!("{file} accepted"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        err(
            "rules/FRA.cedar",
            &format!("@id(\"typo\")\nforbid {scope} when {{ resource.caveat.contains(\"X\") }};")
        ),
        "rules/FRA.cedar: policy typo: for policy `typo`, attribute `caveat` on entity type `Label` not found"
    );
    assert_eq!(
        err("rules/FRA.cedar", &format!("forbid {scope};")),
        "rules/FRA.cedar: policy 1 has no @id annotation"
    );
    assert_eq!(
        err("rules/FRA.cedar", &format!("@id(\"loose\")\npermit {scope};")),
        "rules/FRA.cedar: policy loose: release rules may only forbid (a nation is never looser than its agreements)"
    );
    assert!(err("rules/QQQ.cedar", "").starts_with("rules/QQQ.cedar: the file name must be"));
    assert!(err("rules/FRA.cedar", "forbid (").starts_with("rules/FRA.cedar: "));
    // An unguarded optional attribute is a validation error, not a runtime surprise.
    assert!(err(
        "rules/FRA.cedar",
        &format!(
            "@id(\"d\")\nforbid {scope} when {{ context.recipient in resource.defaultReleaseTo }};"
        )
    )
    .starts_with("rules/FRA.cedar: policy d: "));
}

#[test]
fn an_erroring_rule_denies_instead_of_being_skipped() {
    let (registry, policies) = special_france_world();
    // Valid for the validator, but overflows when evaluated.
    let text = "@id(\"overflow\")\nforbid (principal, action == Action::\"release\", resource)\nwhen { context.day * 1000000000000000 > 0 };";
    let rules = || {
        CedarNationalRules::from_texts(
            vec![("FRA.cedar".to_owned(), text.to_owned())],
            &registry,
            &policies,
        )
        .unwrap()
    };
    let compiled =
        ReleasePolicy::new(&registry, policies.clone()).with_national_rules(Box::new(rules()));
    let cedar = CedarPolicy::new(&registry, &policies)
        .unwrap()
        .with_national_rules(rules());
    let day = parse_date("2024-06-01").unwrap();
    let plain = parse_marking(&policies, "FR SECRET//REL TO JPN").unwrap();
    for d in [
        compiled.decide(&plain, n("FRA"), n("JPN"), day),
        cedar.decide(&plain, n("FRA"), n("JPN"), day),
    ] {
        assert_eq!(d.verdict, Verdict::Deny);
        assert!(
            matches!(&d.reason, Reason::RuleError { message, .. } if message.contains("overflow")),
            "{d:?}"
        );
    }
}

#[test]
fn an_erroring_forbid_denies_what_cedar_alone_would_allow() {
    let s = shipped();
    let mut set = CedarPolicySet::new();
    for (id, text) in [
        ("allow", "permit (principal, action, resource);"),
        (
            "erroring",
            "forbid (principal, action, resource) when { context.day * 1000000000000000 > 0 };",
        ),
    ] {
        set.add(Policy::parse(Some(PolicyId::new(id)), text).unwrap())
            .unwrap();
    }
    let encoder = &s.cedar.encoder;
    let (request, entities) = encoder
        .encode(
            &label("NATO SECRET//REL TO FRA, USA"),
            n("FRA"),
            n("USA"),
            parse_date("2024-06-01").unwrap(),
        )
        .unwrap();
    let authorizer = Authorizer::new();
    // Cedar on its own skips the erroring forbid and allows.
    assert_eq!(
        authorizer
            .is_authorized(&request, &set, &entities)
            .decision(),
        CedarDecision::Allow
    );
    let err = evaluate(&authorizer, &set, &request, &entities).unwrap_err();
    assert!(err.to_string().contains("erroring"), "{err}");
}

#[test]
fn days_compare_in_date_order() {
    assert_eq!(day_number(parse_date("2024-08-02").unwrap()), 20_240_802);
    assert!(
        day_number(parse_date("1999-12-31").unwrap())
            < day_number(parse_date("2000-01-01").unwrap())
    );
    assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
}
