//! Tests of loading, validation and queries: facts of the shipped dataset checked against its
//! sources, edge days of intervals, every class of dataset error, and properties of obligations.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use entente_types::{parse_date, Date, NationCode};
use proptest::prelude::*;

use crate::*;

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/registry")
}

fn shipped() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| match Registry::load(&shipped_dir()) {
        Ok(r) => r,
        Err(e) => panic!("shipped dataset does not load: {e}"),
    })
}

fn d(text: &str) -> Date {
    parse_date(text).unwrap()
}

fn n(code: &str) -> NationCode {
    code.parse().unwrap()
}

fn members(org: &str, day: &str) -> Vec<String> {
    let r = shipped();
    let org = r.organization(org).unwrap();
    r.members(org, d(day))
        .iter()
        .map(|m| m.to_string())
        .collect()
}

fn defenders(nation: &str, day: &str) -> Vec<(String, Vec<String>)> {
    shipped()
        .obligations_toward(n(nation), d(day))
        .into_iter()
        .map(|def| {
            let basis = def
                .basis
                .iter()
                .map(|b| format!("{} {}", b.agreement, b.article))
                .collect();
            (def.nation.to_string(), basis)
        })
        .collect()
}

// --- The shipped dataset, against its sources -------------------------------------------------

#[test]
fn nato_membership_over_time() {
    // The twelve signatories of 1949-04-04 became parties, and members, when the Treaty entered
    // into force on 1949-08-24 (N11); signing did not make them members.
    let founders = [
        "BEL", "CAN", "DNK", "FRA", "GBR", "ISL", "ITA", "LUX", "NLD", "NOR", "PRT", "USA",
    ];
    assert_eq!(members("NATO", "1950-01-01"), founders);
    assert_eq!(members("NATO", "1949-08-24"), founders);
    assert!(members("NATO", "1949-08-23").is_empty());
    assert!(members("NATO", "1949-06-01").is_empty());
    assert!(members("NATO", "1949-04-04").is_empty());
    // Greece and Türkiye on 1952-02-18; Germany on 1955-05-06, not on 1955-05-05.
    assert_eq!(members("NATO", "1952-02-18").len(), 14);
    assert!(!members("NATO", "1955-05-05").contains(&"DEU".to_owned()));
    assert!(members("NATO", "1955-05-06").contains(&"DEU".to_owned()));
    // 31 on the eve of Sweden's accession, 32 on the day itself and after.
    assert_eq!(members("NATO", "2024-03-06").len(), 31);
    assert!(!members("NATO", "2024-03-06").contains(&"SWE".to_owned()));
    assert_eq!(members("NATO", "2024-03-07").len(), 32);
    assert_eq!(members("NATO", "2025-06-25").len(), 32);
    assert_eq!(members("NATO", "2023-04-04").len(), 31);
    assert_eq!(members("NATO", "2023-04-03").len(), 30);
}

#[test]
fn eu_membership_and_brexit() {
    assert_eq!(
        members("EU", "1958-01-01"),
        ["BEL", "DEU", "FRA", "ITA", "LUX", "NLD"]
    );
    assert!(members("EU", "1957-12-31").is_empty());
    // The United Kingdom: a member on its last day, 2020-01-31, gone on 2020-02-01.
    assert!(members("EU", "2020-01-31").contains(&"GBR".to_owned()));
    assert!(!members("EU", "2020-02-01").contains(&"GBR".to_owned()));
    assert_eq!(members("EU", "2020-01-31").len(), 28);
    assert_eq!(members("EU", "2020-02-01").len(), 27);
    assert!(members("EU", "2013-07-01").contains(&"HRV".to_owned()));
    assert!(!members("EU", "2013-06-30").contains(&"HRV".to_owned()));
}

#[test]
fn pesco_and_ei2() {
    assert_eq!(members("PESCO", "2017-12-11").len(), 25);
    assert!(members("PESCO", "2017-12-10").is_empty());
    assert!(!members("PESCO", "2023-05-22").contains(&"DNK".to_owned()));
    assert!(members("PESCO", "2023-05-23").contains(&"DNK".to_owned()));
    assert_eq!(members("PESCO", "2024-01-01").len(), 26);
    assert!(!members("PESCO", "2024-01-01").contains(&"MLT".to_owned()));
    // PESCO's parent is the EU.
    let pesco = shipped().organization("PESCO").unwrap();
    assert_eq!(pesco.parent.as_ref().map(|p| p.0.as_str()), Some("EU"));
    // The second wave of PESCO projects, Eurodrone among them, was adopted by Council Decision
    // (CFSP) 2018/1797 of 2018-11-19 (E12).
    assert!(members("PESCO-EURODRONE", "2018-11-18").is_empty());
    assert_eq!(
        members("PESCO-EURODRONE", "2018-11-19"),
        ["CZE", "DEU", "ESP", "FRA", "ITA"]
    );
    let eurodrone = shipped().organization("PESCO-EURODRONE").unwrap();
    assert_eq!(
        eurodrone.established.map(|e| e.to_string()).as_deref(),
        Some("2018-11-19")
    );
    // Cyber Rapid Response Teams: Belgium and Slovenia were observers in 2018 (Slovenia still in
    // 2021) and Denmark has no sourced day of joining, so none of them is a member on any day.
    let crrt = shipped().organization("PESCO-CRRT").unwrap();
    for nation in ["BEL", "SVN", "DNK"] {
        assert!(
            crrt.memberships
                .iter()
                .all(|m| m.nation != n(nation) || m.role != Role::Member),
            "{nation}"
        );
    }
    // EI2: nine founders, Finland in November 2018, Italy, Norway and Sweden in September 2019.
    assert_eq!(members("EI2", "2018-06-25").len(), 9);
    assert_eq!(members("EI2", "2018-11-07").len(), 10);
    assert_eq!(members("EI2", "2019-09-19").len(), 10);
    assert_eq!(members("EI2", "2019-09-20").len(), 13);
    // Names and ids resolve case-insensitively.
    assert_eq!(
        shipped()
            .organization("european intervention initiative")
            .unwrap()
            .id
            .0,
        "EI2"
    );
}

#[test]
fn nato_russia_practical_cooperation_suspended_on_1_april_2014() {
    // NATO Foreign Ministers suspended practical cooperation with Russia on 2014-04-01 (P14), not
    // at the end of 2021; Russia's Partnership for Peace status has no recorded end.
    let pfp = shipped().organization("PFP").unwrap();
    let rus: Vec<&Membership> = pfp
        .memberships
        .iter()
        .filter(|m| m.nation == n("RUS"))
        .collect();
    assert_eq!(rus.len(), 1);
    let note = rus[0].note.as_deref().unwrap();
    assert!(note.contains("2014-04-01"), "{note}");
    assert!(!note.contains("2021"), "{note}");
    assert!(rus[0].sources.contains(&SourceId("P14".into())));
    assert!(rus[0].stated_until.is_none());
    let p14 = shipped().source(&SourceId("P14".into())).unwrap();
    assert!(p14
        .url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://")));
}

/// The agreement `id`'s status on each day, as text.
fn statuses(id: &str, days: &[&str]) -> Vec<String> {
    let a = shipped().agreement(id).unwrap();
    days.iter()
        .map(|day| format!("{:?}", a.status(d(day))))
        .collect()
}

#[test]
fn corrected_days_of_entry_into_force() {
    // Élysée Treaty: instruments of ratification exchanged in Bonn on 1963-07-02 (S48).
    assert_eq!(
        statuses("elysee-treaty", &["1963-01-21", "1963-07-01", "1963-07-02"]),
        ["NotYetSigned", "SignedNotInForce", "InForce"]
    );
    // Quirinal Treaty: in force on 2023-02-01 (S50).
    assert_eq!(
        statuses("quirinal-treaty", &["2023-01-31", "2023-02-01"]),
        ["SignedNotInForce", "InForce"]
    );
    // The Japanese security-of-information agreements with the United States and NATO took
    // effect on the day they were signed and concluded (S23, S16).
    assert_eq!(
        statuses("japan-us-gsomia", &["2007-08-09", "2007-08-10"]),
        ["NotYetSigned", "InForce"]
    );
    assert_eq!(
        statuses(
            "japan-nato-security-of-information",
            &["2010-06-24", "2010-06-25"]
        ),
        ["NotYetSigned", "InForce"]
    );
    // Those whose day of entry into force was not found keep the month, counted conservatively,
    // and say so.
    for (id, first) in [
        ("japan-france-security-of-information", "2011-11-01"),
        ("japan-uk-security-of-information", "2014-02-01"),
    ] {
        let a = shipped().agreement(id).unwrap();
        let period = a.force_period().unwrap();
        assert_eq!(period.from, d(first), "{id}");
        assert!(a.note.as_deref().unwrap().contains("not"), "{id}");
    }
}

#[test]
fn the_lancaster_house_treaties_are_two_records() {
    assert!(shipped()
        .agreement_by_id(&AgreementId("lancaster-house-treaties".into()))
        .is_none());
    let dsct = shipped()
        .agreement("uk-france-defence-security-cooperation-treaty")
        .unwrap();
    let teutates = shipped().agreement("uk-france-teutates-treaty").unwrap();
    for a in [dsct, teutates] {
        assert_eq!(
            a.signed.map(|s| s.to_string()).as_deref(),
            Some("2010-11-02")
        );
        assert_eq!(
            a.parties,
            [Party::Nation(n("GBR")), Party::Nation(n("FRA"))]
        );
    }
    // The co-operation treaty entered into force in 2011 on a day not found: only the year is
    // stated. The Teutates treaty entered into force on 2011-07-08 (S51).
    assert_eq!(
        dsct.in_force.map(|s| s.to_string()).as_deref(),
        Some("2011")
    );
    assert_eq!(
        statuses("uk-france-teutates-treaty", &["2011-07-07", "2011-07-08"]),
        ["SignedNotInForce", "InForce"]
    );
}

#[test]
fn every_source_has_a_tier_and_every_fact_a_source_that_is_not_weak() {
    let r = shipped();
    assert!(r.sources().any(|s| s.tier == Tier::Primary));
    // The weak sources that remain support no fact on their own (the loader refuses that); the
    // Japan-Germany agreement's same-day entry into force, for one, also rests on S18.
    let weak: Vec<&str> = r
        .sources()
        .filter(|s| s.tier == Tier::Weak)
        .map(|s| s.id.0.as_str())
        .collect();
    assert!(weak.contains(&"S20"), "{weak:?}");
    let japan_germany = r
        .agreement("japan-germany-security-of-information")
        .unwrap();
    assert!(japan_germany
        .sources
        .iter()
        .any(|id| r.source(id).is_some_and(|s| s.tier != Tier::Weak)));
}

/// The ids of the agreements `nation` is a party to and that are in force on `day`.
fn agreements_of(nation: &str, day: &str) -> Vec<String> {
    let party = Party::Nation(n(nation));
    shipped()
        .agreements_in_force(Some(&party), d(day))
        .iter()
        .map(|a| a.id.0.clone())
        .collect()
}

/// The nations bound toward `nation` on `day` under the agreement `id`.
fn bound_toward(nation: &str, day: &str, id: &str) -> Vec<String> {
    let prefix = format!("{id} ");
    defenders(nation, day)
        .into_iter()
        .filter(|(_, basis)| basis.iter().any(|b| b.starts_with(&prefix)))
        .map(|(defender, _)| defender)
        .collect()
}

#[test]
fn pacific_defence_treaties_before_at_and_after_entry_into_force() {
    // (agreement, the day before, the day of entry into force, the protected nation, its allies)
    let cases = [
        (
            "anzus-treaty",
            "1952-04-28",
            "1952-04-29",
            "AUS",
            vec!["NZL", "USA"],
        ),
        (
            "us-rok-mutual-defense-treaty",
            "1954-11-16",
            "1954-11-17",
            "KOR",
            vec!["USA"],
        ),
        (
            "us-philippines-mutual-defense-treaty",
            "1952-08-26",
            "1952-08-27",
            "PHL",
            vec!["USA"],
        ),
    ];
    for (id, before, at, nation, allies) in cases {
        assert!(
            !agreements_of(nation, before).contains(&id.to_owned()),
            "{id}"
        );
        assert!(bound_toward(nation, before, id).is_empty(), "{id}");
        for day in [at, "2025-01-01"] {
            assert!(
                agreements_of(nation, day).contains(&id.to_owned()),
                "{id} {day}"
            );
            assert_eq!(bound_toward(nation, day, id), allies, "{id} {day}");
        }
    }
    // Each binds both ways: the United States is protected too.
    assert_eq!(
        bound_toward("USA", "2025-01-01", "us-rok-mutual-defense-treaty"),
        ["KOR"]
    );
}

#[test]
fn japanese_security_of_information_agreements_with_australia_and_korea() {
    for (id, nation, before, at) in [
        (
            "japan-australia-security-of-information",
            "AUS",
            "2013-03-21",
            "2013-03-22",
        ),
        ("japan-korea-gsomia", "KOR", "2016-11-22", "2016-11-23"),
    ] {
        assert!(
            !agreements_of(nation, before).contains(&id.to_owned()),
            "{id}"
        );
        assert!(agreements_of("JPN", at).contains(&id.to_owned()), "{id}");
        assert!(
            agreements_of(nation, "2025-01-01").contains(&id.to_owned()),
            "{id}"
        );
        let a = shipped().agreement(id).unwrap();
        assert!(a
            .clauses
            .iter()
            .any(|c| c.kind == ClauseKind::SecurityOfInformation));
        // A security-of-information agreement binds no one to defend anyone.
        assert!(defenders(nation, "2025-01-01")
            .iter()
            .all(|(_, basis)| basis.iter().all(|b| !b.starts_with(&a.id.0))));
    }
}

#[test]
fn malta_left_and_rejoined_the_partnership_for_peace() {
    let pfp = || members("PFP", "1996-10-26");
    assert!(pfp().contains(&"MLT".to_owned()));
    assert!(!members("PFP", "1996-10-27").contains(&"MLT".to_owned()));
    assert!(!members("PFP", "2008-04-02").contains(&"MLT".to_owned()));
    assert!(members("PFP", "2008-04-03").contains(&"MLT".to_owned()));
}

#[test]
fn month_precision_counts_conservatively() {
    // The Mediterranean Dialogue's first partners joined "in February 1995": not counted before March.
    assert!(!members("MD", "1995-02-28").contains(&"EGY".to_owned()));
    assert!(members("MD", "1995-03-01").contains(&"EGY".to_owned()));
}

#[test]
fn obligations_toward_estonia() {
    let defs = defenders("EST", "2024-03-08");
    let fra = defs.iter().find(|(n, _)| n == "FRA").unwrap();
    assert_eq!(
        fra.1,
        [
            "north-atlantic-treaty Article 5",
            "teu-lisbon Article 42(7)"
        ]
    );
    let usa = defs.iter().find(|(n, _)| n == "USA").unwrap();
    assert_eq!(usa.1, ["north-atlantic-treaty Article 5"]);
    let aut = defs.iter().find(|(n, _)| n == "AUT").unwrap();
    assert_eq!(aut.1, ["teu-lisbon Article 42(7)"]);
    // 31 other NATO allies plus the four EU members outside NATO (AUT, CYP, IRL, MLT).
    assert_eq!(defs.len(), 35);
    assert!(defs.iter().all(|(n, _)| n != "EST"));
    // Before Estonia joined NATO (2004-03-29) and the EU (2004-05-01), and before Lisbon: nobody.
    assert!(defenders("EST", "2004-03-28").is_empty());
    // Between NATO accession and Lisbon: NATO allies only.
    let defs = defenders("EST", "2005-01-01");
    assert_eq!(defs.len(), 25);
    assert!(defs
        .iter()
        .all(|(_, b)| b == &["north-atlantic-treaty Article 5"]));
}

#[test]
fn obligations_toward_sweden_before_and_after_accession() {
    let before = defenders("SWE", "2024-03-06");
    assert_eq!(before.len(), 26, "the other EU members");
    assert!(before
        .iter()
        .all(|(_, b)| b == &["teu-lisbon Article 42(7)"]));
    assert!(before
        .iter()
        .all(|(n, _)| n != "USA" && n != "GBR" && n != "NOR"));
    let after = defenders("SWE", "2024-03-07");
    assert_eq!(after.len(), 35);
    let usa = after.iter().find(|(n, _)| n == "USA").unwrap();
    assert_eq!(usa.1, ["north-atlantic-treaty Article 5"]);
    let fin = after.iter().find(|(n, _)| n == "FIN").unwrap();
    assert_eq!(
        fin.1,
        [
            "north-atlantic-treaty Article 5",
            "teu-lisbon Article 42(7)"
        ]
    );
}

#[test]
fn obligations_toward_germany_include_aachen() {
    let defs = defenders("DEU", "2024-06-01");
    let fra = defs.iter().find(|(n, _)| n == "FRA").unwrap();
    assert_eq!(
        fra.1,
        [
            "north-atlantic-treaty Article 5",
            "teu-lisbon Article 42(7)",
            "treaty-of-aachen Article 4(1)"
        ]
    );
    // The Treaty of Aachen was signed on 2019-01-22 but entered into force on 2020-01-22.
    let fra_2019 = defenders("DEU", "2019-06-01")
        .into_iter()
        .find(|(n, _)| n == "FRA")
        .unwrap();
    assert!(!fra_2019.1.iter().any(|b| b.starts_with("treaty-of-aachen")));
    let fra_day = defenders("DEU", "2020-01-22")
        .into_iter()
        .find(|(n, _)| n == "FRA")
        .unwrap();
    assert!(fra_day.1.iter().any(|b| b.starts_with("treaty-of-aachen")));
    // Before 1955-05-06 Germany was not a NATO ally.
    assert!(!defenders("DEU", "1955-05-05")
        .iter()
        .any(|(_, b)| b.iter().any(|x| x.starts_with("north-atlantic"))));
}

#[test]
fn unknown_names_suggest_the_closest() {
    let r = shipped();
    let err = r.organization("NAT0").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown organization \"NAT0\"; did you mean NATO (North Atlantic Treaty Organization)?"
    );
    let err = r.nation_code("FRN").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("unknown nation \"FRN\"; did you mean FRA (France)"),
        "{err}"
    );
    assert!(r.nation_code("F\u{200B}RA").is_err());
    assert_eq!(r.nation_code("france").unwrap(), n("FRA"));
    assert_eq!(r.nation_code("est").unwrap(), n("EST"));
    assert_eq!(err.code(), entente_types::ErrorCode::NotFound);
}

#[test]
fn timeline_includes_historical_treaties_in_order() {
    let events = shipped().timeline(Some(1600), Some(1960));
    let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
    let westphalia = subjects
        .iter()
        .position(|s| s.contains("westphalia"))
        .unwrap();
    let nat = subjects
        .iter()
        .position(|s| *s == "north-atlantic-treaty")
        .unwrap();
    let rome = subjects.iter().position(|s| s.contains("rome")).unwrap();
    assert!(westphalia < nat && nat < rome);
    assert!(events
        .windows(2)
        .all(|w| w[0].date.sort_key() <= w[1].date.sort_key()));
    assert!(events
        .iter()
        .all(|e| (1600..=1960).contains(&e.date.year())));
}

#[test]
fn timeline_of_a_nation_has_its_memberships_accessions_and_agreements_with_sources() {
    let r = shipped();
    let events = r.timeline_of(n("SWE"));
    let find = |kind: TimelineEventKind, subject: &str| {
        events
            .iter()
            .find(|e| e.kind == kind && e.subject == subject)
            .unwrap_or_else(|| panic!("no {kind:?} of {subject}"))
    };
    let joined = find(TimelineEventKind::Joined, "NATO");
    assert_eq!(joined.date.to_string(), "2024-03-07");
    let acceded = find(
        TimelineEventKind::EnteredIntoForceFor,
        "nato-security-of-information-1997",
    );
    assert_eq!(acceded.date.to_string(), "2024-08-02");
    assert_eq!(acceded.nation, Some(n("SWE")));
    find(TimelineEventKind::EnteredIntoForce, "north-atlantic-treaty");
    // Only Sweden's memberships, every event sourced, in date order.
    assert!(events
        .iter()
        .all(|e| e.nation.is_none_or(|x| x == n("SWE"))));
    assert!(events
        .iter()
        .all(|e| !e.sources.is_empty() && e.sources.iter().all(|s| r.source(s).is_some())));
    assert!(events
        .windows(2)
        .all(|w| w[0].date.sort_key() <= w[1].date.sort_key()));
    // Japan is in no NATO treaty event.
    assert!(!r
        .timeline_of(n("JPN"))
        .iter()
        .any(|e| e.subject == "north-atlantic-treaty"));
}

#[test]
fn graph_is_closed() {
    let g = shipped().graph(d("2024-06-01"));
    let ids: std::collections::BTreeSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    assert!(g
        .edges
        .iter()
        .all(|e| ids.contains(e.from.as_str()) && ids.contains(e.to.as_str())));
    assert!(g.edges.iter().any(|e| e.from == "SWE" && e.to == "NATO"));
    assert!(!g.edges.iter().any(|e| e.from == "GBR" && e.to == "EU"));
}

#[test]
fn security_cover_between_japan_and_nato_members() {
    let r = shipped();
    let jpn = Party::Nation(n("JPN"));
    let fra = Party::Nation(n("FRA"));
    let covers = r.security_cover(&fra, &jpn, d("2024-01-01"));
    assert!(
        !covers.is_empty(),
        "FRA and JPN have a security agreement in force"
    );
    assert!(covers
        .iter()
        .all(|c| c.clause.kind == ClauseKind::SecurityOfInformation));
    // Two EU members are covered by the EU's rules on classified information (in force 2013-10-15).
    let deu = Party::Nation(n("DEU"));
    let covers = r.security_cover(&fra, &deu, d("2024-01-01"));
    assert!(covers
        .iter()
        .any(|c| c.agreement.id.0 == "eu-council-security-rules-2013"));
    assert!(r
        .security_cover(&fra, &deu, d("2013-10-14"))
        .iter()
        .all(|c| c.agreement.id.0 != "eu-council-security-rules-2013"));
    // Japan is not covered by the EU's rules.
    assert!(r
        .security_cover(&fra, &jpn, d("2024-01-01"))
        .iter()
        .all(|c| c.agreement.id.0 != "eu-council-security-rules-2013"));
}

// --- Dataset validation: every class of error, located -----------------------------------------

/// A small valid dataset to break in controlled ways.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("organizations")).unwrap();
        std::fs::create_dir(dir.path().join("agreements")).unwrap();
        let f = Fixture { dir };
        f.write(
            "sources.toml",
            "[[source]]\nid = \"S1\"\ntitle = \"A\"\nreference = \"B\"\ntier = 1\n",
        );
        f.write(
            "nations.toml",
            "nations = [\n  { code = \"FRA\", name = \"France\", source = \"S1\" },\n  { code = \"DEU\", name = \"Germany\", source = \"S1\" },\n]\n",
        );
        f.write(
            "organizations/club.toml",
            "[[organization]]\nid = \"CLUB\"\nname = \"Club\"\nkind = \"alliance\"\nsource = \"S1\"\nmembers = [\n  { nation = \"FRA\", from = \"2000-01-01\", source = \"S1\" },\n  { nation = \"DEU\", from = \"2001-01-01\", until = \"2009-12-31\", source = \"S1\" },\n]\n",
        );
        f.write(
            "agreements/pact.toml",
            "[[agreement]]\nid = \"pact\"\nname = \"Pact\"\nkind = \"treaty\"\nsigned = \"2000-01-01\"\nin_force = \"2000-02-01\"\nparties_are_members_of = \"CLUB\"\nsource = \"S1\"\n\n[[agreement.clause]]\nid = \"a1\"\narticle = \"Article 1\"\nkind = \"collective-defence\"\nsummary = \"all for one\"\nsource = \"S1\"\n",
        );
        f
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }

    fn replace(&self, name: &str, from: &str, to: &str) {
        let path = self.dir.path().join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from:?} not in {name}");
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    }

    /// The diagnostics, with the temporary folder stripped from their paths.
    fn problems(&self) -> Vec<String> {
        match Registry::load(self.dir.path()) {
            Ok(_) => Vec::new(),
            Err(e) => {
                assert_eq!(e.code(), entente_types::ErrorCode::InvalidInput, "{e}");
                let prefix = format!("{}/", self.dir.path().display());
                e.diagnostics()
                    .iter()
                    .map(|d| d.to_string().replace(&prefix, ""))
                    .collect()
            }
        }
    }
}

#[test]
fn fixture_is_valid_and_answers() {
    let f = Fixture::new();
    assert_eq!(f.problems(), Vec::<String>::new());
    let r = Registry::load(f.dir.path()).unwrap();
    // DEU's last day in the club is 2009-12-31; the pact applies from 2000-02-01.
    let defs = r.obligations_toward(n("FRA"), d("2009-12-31"));
    assert_eq!(defs.len(), 1);
    assert!(r.obligations_toward(n("FRA"), d("2010-01-01")).is_empty());
    assert!(r.obligations_toward(n("FRA"), d("2000-01-31")).is_empty());
}

#[test]
fn unknown_nation_code() {
    let f = Fixture::new();
    f.replace(
        "organizations/club.toml",
        "nation = \"DEU\"",
        "nation = \"DEX\"",
    );
    assert_eq!(
        f.problems(),
        ["organizations/club.toml:8: organization[CLUB].members[1].nation: unknown nation code DEX: not in nations.toml"]
    );
}

#[test]
fn lookalike_nation_code() {
    let f = Fixture::new();
    f.replace(
        "organizations/club.toml",
        "nation = \"FRA\"",
        "nation = \"FR\u{0410}\"",
    );
    assert_eq!(
        f.problems(),
        ["organizations/club.toml:7: organization[CLUB].members[0].nation: malformed nation code \"FRА\": contains a non-ASCII character"]
    );
}

#[test]
fn inverted_interval() {
    let f = Fixture::new();
    f.replace(
        "organizations/club.toml",
        "until = \"2009-12-31\"",
        "until = \"2000-12-31\"",
    );
    assert_eq!(
        f.problems(),
        ["organizations/club.toml:8: organization[CLUB].members[1].until: inverted interval: until 2000-12-31 is before from 2001-01-01"]
    );
}

#[test]
fn overlapping_intervals() {
    let f = Fixture::new();
    f.replace(
        "organizations/club.toml",
        "source = \"S1\" },\n]\n",
        "source = \"S1\" },\n  { nation = \"DEU\", from = \"2009-12-31\", source = \"S1\" },\n]\n",
    );
    assert_eq!(
        f.problems(),
        ["organizations/club.toml:9: organization[CLUB].members[2].from: overlapping interval for DEU: 2009-12-31 – overlaps 2001-01-01 – 2009-12-31"]
    );
    // Rejoining the day after leaving is fine.
    let f = Fixture::new();
    f.replace(
        "organizations/club.toml",
        "source = \"S1\" },\n]\n",
        "source = \"S1\" },\n  { nation = \"DEU\", from = \"2010-01-01\", source = \"S1\" },\n]\n",
    );
    assert_eq!(f.problems(), Vec::<String>::new());
}

#[test]
fn dangling_references_and_missing_sources() {
    let f = Fixture::new();
    f.replace(
        "agreements/pact.toml",
        "parties_are_members_of = \"CLUB\"",
        "parties_are_members_of = \"CLOB\"",
    );
    f.replace(
        "agreements/pact.toml",
        "summary = \"all for one\"\nsource = \"S1\"",
        "summary = \"all for one\"",
    );
    f.replace(
        "organizations/club.toml",
        "kind = \"alliance\"",
        "kind = \"alliance\"\nparent = \"NOPE\"",
    );
    f.replace(
        "nations.toml",
        "source = \"S1\" },\n  { code = \"DEU\"",
        "source = \"S9\" },\n  { code = \"DEU\"",
    );
    assert_eq!(
        f.problems(),
        [
            "nations.toml:2: nations[0].source: unknown source \"S9\": not defined in sources.toml",
            "organizations/club.toml:5: organization[CLUB].parent: dangling reference: no organization \"NOPE\"",
            "agreements/pact.toml:7: agreement[pact].parties_are_members_of: dangling reference: no organization \"CLOB\"",
            "agreements/pact.toml:10: agreement[pact].clause[a1].source: missing source: every fact must name one",
        ]
    );
}

#[test]
fn duplicate_ids() {
    let f = Fixture::new();
    f.write(
        "organizations/again.toml",
        "[[organization]]\nid = \"club\"\nname = \"Club again\"\nkind = \"forum\"\nsource = \"S1\"\n",
    );
    f.replace("nations.toml", "code = \"DEU\"", "code = \"FRA\"");
    assert_eq!(
        f.problems(),
        [
            "nations.toml:3: nations[1].code: duplicate nation FRA",
            "organizations/club.toml:8: organization[CLUB].members[1].nation: unknown nation code DEU: not in nations.toml",
            // Files are read in name order, so the second definition is the one in club.toml.
            "organizations/club.toml:2: organization[CLUB].id: duplicate organization id \"CLUB\"",
        ]
    );
}

#[test]
fn a_source_without_a_tier_or_with_an_unknown_one_is_refused() {
    let f = Fixture::new();
    f.replace("sources.toml", "tier = 1\n", "");
    assert_eq!(
        f.problems(),
        ["sources.toml:1: source[0].tier: missing tier for source \"S1\": every source states 1 (primary), 2 (secondary) or 3 (weak)"]
    );
    let f = Fixture::new();
    f.replace("sources.toml", "tier = 1", "tier = 4");
    assert_eq!(
        f.problems(),
        ["sources.toml:5: source[0].tier: unknown tier 4: expected 1 (primary), 2 (secondary) or 3 (weak)"]
    );
}

#[test]
fn a_fact_resting_only_on_weak_sources_is_refused() {
    let f = Fixture::new();
    f.write(
        "sources.toml",
        "[[source]]\nid = \"S1\"\ntitle = \"A\"\nreference = \"B\"\ntier = 1\n\n[[source]]\nid = \"W1\"\ntitle = \"A wiki\"\nreference = \"a wiki page\"\ntier = 3\n",
    );
    // A weak source beside a primary one is accepted.
    f.replace(
        "organizations/club.toml",
        "{ nation = \"FRA\", from = \"2000-01-01\", source = \"S1\" }",
        "{ nation = \"FRA\", from = \"2000-01-01\", source = \"W1;S1\" }",
    );
    assert_eq!(f.problems(), Vec::<String>::new());
    // Alone, it is refused, wherever the fact is.
    f.replace(
        "organizations/club.toml",
        "source = \"W1;S1\"",
        "source = \"W1\"",
    );
    f.replace(
        "agreements/pact.toml",
        "summary = \"all for one\"\nsource = \"S1\"",
        "summary = \"all for one\"\nsource = \"W1\"",
    );
    assert_eq!(
        f.problems(),
        [
            "organizations/club.toml:7: organization[CLUB].members[0].source: only weak sources (W1, tier 3): a fact needs at least one primary or secondary source",
            "agreements/pact.toml:15: agreement[pact].clause[a1].source: only weak sources (W1, tier 3): a fact needs at least one primary or secondary source",
        ]
    );
}

#[test]
fn a_source_id_defined_twice_is_refused() {
    let f = Fixture::new();
    f.write(
        "sources.toml",
        "[[source]]\nid = \"S1\"\ntitle = \"A\"\nreference = \"B\"\ntier = 1\n\n[[source]]\nid = \"S1\"\ntitle = \"C\"\nreference = \"D\"\ntier = 2\n",
    );
    assert_eq!(
        f.problems(),
        ["sources.toml:8: source[1].id: duplicate source id \"S1\""]
    );
}

#[test]
fn a_source_id_another_dataset_defines_too_is_refused_by_the_check() {
    let f = Fixture::new();
    let other = f.dir.path().join("other-sources.toml");
    std::fs::write(
        &other,
        "[[source]]\nid = \"B1\"\ntitle = \"x\"\nreference = \"y\"\nedition = \"z\"\n\n[[source]]\nid = \"S1\"\ntitle = \"x\"\nreference = \"y\"\n",
    )
    .unwrap();
    let checked = report::Checked::run_with(f.dir.path(), std::slice::from_ref(&other)).unwrap();
    assert!(!checked.ok);
    let prefix = format!("{}/", f.dir.path().display());
    let problems: Vec<String> = checked
        .problems
        .iter()
        .map(|p| p.replace(&prefix, ""))
        .collect();
    assert_eq!(
        problems,
        ["other-sources.toml:8: source[1].id: source id \"S1\" is also defined in the registry's sources.toml: an id must name one document across the datasets"]
    );
    // Without the other file, or with one that shares no id, the dataset passes.
    assert!(report::Checked::run(f.dir.path()).unwrap().ok);
    std::fs::write(
        &other,
        "[[source]]\nid = \"B1\"\ntitle = \"x\"\nreference = \"y\"\n",
    )
    .unwrap();
    assert!(
        report::Checked::run_with(f.dir.path(), &[other])
            .unwrap()
            .ok
    );
}

#[test]
fn malformed_dates_unknown_keywords_and_fields() {
    let f = Fixture::new();
    f.replace(
        "agreements/pact.toml",
        "in_force = \"2000-02-01\"",
        "in_force = \"2000-02-30\"",
    );
    f.replace(
        "agreements/pact.toml",
        "kind = \"collective-defence\"",
        "kind = \"colective-defence\"",
    );
    let problems = f.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0], "agreements/pact.toml:6: agreement[pact].in_force: malformed date \"2000-02-30\": expected YYYY-MM-DD, YYYY-MM or YYYY");
    assert!(problems[1].starts_with("agreements/pact.toml:13: agreement[pact].clause[a1].kind: unknown value \"colective-defence\": expected one of collective-defence, "), "{}", problems[1]);
    // An unknown field is a syntax-level error of its file, located to its line.
    let f = Fixture::new();
    f.replace(
        "agreements/pact.toml",
        "kind = \"treaty\"",
        "kind = \"treaty\"\ncolour = \"blue\"",
    );
    let problems = f.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("agreements/pact.toml:5: (syntax): unknown field `colour`"),
        "{}",
        problems[0]
    );
}

#[test]
fn inverted_agreement_dates() {
    let f = Fixture::new();
    f.replace(
        "agreements/pact.toml",
        "in_force = \"2000-02-01\"",
        "in_force = \"1999-12-01\"\nterminated = \"1999-01-01\"",
    );
    assert_eq!(
        f.problems(),
        [
            "agreements/pact.toml:6: agreement[pact].in_force: inverted dates: in force 1999-12-01 before signature 2000-01-01",
            "agreements/pact.toml:7: agreement[pact].terminated: inverted dates: terminated 1999-01-01 not after entry into force 1999-12-01",
        ]
    );
}

#[test]
fn syntax_errors_are_located() {
    let f = Fixture::new();
    f.write(
        "agreements/broken.toml",
        "[[agreement]]\nid = \"x\"\nname = \"unterminated\n",
    );
    let problems = f.problems();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("agreements/broken.toml:3: (syntax): "),
        "{}",
        problems[0]
    );
}

#[test]
fn suspended_and_terminated_agreements_do_not_apply() {
    let f = Fixture::new();
    f.replace(
        "agreements/pact.toml",
        "in_force = \"2000-02-01\"",
        "in_force = \"2000-02-01\"\nterminated = \"2005-01-01\"\nsuspended = [ { from = \"2002-01-01\", until = \"2002-12-31\", source = \"S1\" } ]",
    );
    let r = Registry::load(f.dir.path()).unwrap();
    let pact = r.agreement("pact").unwrap();
    assert!(pact.is_in_force(d("2001-12-31")));
    assert!(!pact.is_in_force(d("2002-01-01")));
    assert_eq!(pact.status(d("2002-06-01")), AgreementStatus::Suspended);
    assert!(!pact.is_in_force(d("2002-12-31")));
    assert!(pact.is_in_force(d("2003-01-01")));
    assert!(pact.is_in_force(d("2004-12-31")));
    assert!(!pact.is_in_force(d("2005-01-01")));
    assert_eq!(pact.status(d("2005-01-01")), AgreementStatus::Terminated);
    assert!(r.obligations_toward(n("FRA"), d("2002-06-01")).is_empty());
}

// --- Alliances, agreements and defence frameworks -------------------------------------------------

/// Whether the agreement `id` is in force on `day`.
fn in_force(id: &str, day: &str) -> bool {
    shipped().agreement(id).unwrap().is_in_force(d(day))
}

/// (organisation, the day before, the first day, its members that day, a later day, members then)
type Case<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Vec<&'a str>,
    &'a str,
    Vec<&'a str>,
);

#[test]
fn new_organizations_before_at_and_after_their_start() {
    let cases: [Case<'_>; 9] = [
        (
            "TIAR",
            "1948-12-02",
            "1948-12-03",
            vec!["USA"],
            "2020-01-01",
            vec!["USA"],
        ),
        (
            "WEU",
            "1955-05-05",
            "1955-05-06",
            vec!["BEL", "DEU", "FRA", "GBR", "ITA", "LUX", "NLD"],
            "2011-01-01",
            vec![],
        ),
        (
            "AUKUS",
            "2021-09-14",
            "2021-09-15",
            vec!["AUS", "GBR", "USA"],
            "2025-01-01",
            vec!["AUS", "GBR", "USA"],
        ),
        (
            "JEF",
            "2014-09-03",
            "2014-09-04",
            vec!["DNK", "EST", "GBR", "LTU", "LVA", "NLD", "NOR"],
            "2021-04-20",
            vec![
                "DNK", "EST", "FIN", "GBR", "ISL", "LTU", "LVA", "NLD", "NOR", "SWE",
            ],
        ),
        // Only the year 2009 is sourced: counted from 2010-01-01.
        (
            "NORDEFCO",
            "2009-12-31",
            "2010-01-01",
            vec!["DNK", "FIN", "ISL", "NOR", "SWE"],
            "2024-01-01",
            vec!["DNK", "FIN", "ISL", "NOR", "SWE"],
        ),
        (
            "EUROCORPS",
            "1992-05-21",
            "1992-05-22",
            vec!["DEU", "FRA"],
            "2021-12-20",
            vec!["BEL", "DEU", "ESP", "FRA", "LUX", "POL"],
        ),
        (
            "FR-DE-BRIGADE",
            "1989-12-31",
            "1990-01-01",
            vec!["DEU", "FRA"],
            "2024-01-01",
            vec!["DEU", "FRA"],
        ),
        // Legal status only to the month (January 2001): counted from 2001-02-01.
        (
            "OCCAR",
            "2001-01-31",
            "2001-02-01",
            vec!["DEU", "FRA", "GBR", "ITA"],
            "2006-01-01",
            vec!["BEL", "DEU", "ESP", "FRA", "GBR", "ITA"],
        ),
        (
            "EDA",
            "2004-07-11",
            "2004-07-12",
            vec![
                "AUT", "BEL", "CYP", "CZE", "DEU", "ESP", "EST", "FIN", "FRA", "GBR", "GRC", "HUN",
                "IRL", "ITA", "LTU", "LUX", "LVA", "MLT", "NLD", "POL", "PRT", "SVK", "SVN", "SWE",
            ],
            "2023-03-23",
            vec![
                "AUT", "BEL", "BGR", "CYP", "CZE", "DEU", "DNK", "ESP", "EST", "FIN", "FRA", "GRC",
                "HRV", "HUN", "IRL", "ITA", "LTU", "LUX", "LVA", "MLT", "NLD", "POL", "PRT", "ROU",
                "SVK", "SVN", "SWE",
            ],
        ),
    ];
    for (org, before, first, at, later, then) in cases {
        assert!(members(org, before).is_empty(), "{org} on {before}");
        assert_eq!(members(org, first), at, "{org} on {first}");
        assert_eq!(members(org, later), then, "{org} on {later}");
    }
    // The JEF's later members, on their days and not before.
    assert!(!members("JEF", "2017-06-29").contains(&"SWE".to_owned()));
    assert!(members("JEF", "2017-06-30").contains(&"FIN".to_owned()));
    assert!(!members("JEF", "2021-04-19").contains(&"ISL".to_owned()));
    // The WEU's members up to the end of 2010, the last day the sources support.
    assert_eq!(members("WEU", "2010-12-31").len(), 7);
    // OCCAR: Belgium approved the Convention in 2003 and Spain acceded in 2005; only the years
    // are certain, so they are counted from the next year.
    assert!(!members("OCCAR", "2003-12-31").contains(&"BEL".to_owned()));
    assert!(members("OCCAR", "2004-01-01").contains(&"BEL".to_owned()));
    assert!(!members("OCCAR", "2005-12-31").contains(&"ESP".to_owned()));
    // The EDA after Brexit and before Denmark joined: every EU member but Denmark.
    assert_eq!(members("EDA", "2023-03-22").len(), 26);
    assert!(!members("EDA", "2023-03-22").contains(&"DNK".to_owned()));
    assert!(!members("EDA", "2020-02-01").contains(&"GBR".to_owned()));
}

#[test]
fn new_agreements_before_at_and_after_entry_into_force() {
    // (agreement, the day before, the day of entry into force, a later day, a party)
    let cases = [
        (
            "rio-treaty",
            "1948-12-02",
            "1948-12-03",
            "2020-01-01",
            "USA",
        ),
        (
            "modified-brussels-treaty",
            "1955-05-05",
            "1955-05-06",
            "2010-12-31",
            "ITA",
        ),
        (
            "aukus-ennpia-2021",
            "2022-02-07",
            "2022-02-08",
            "2025-01-01",
            "AUS",
        ),
        (
            "nato-atomal-agreement-1964",
            "1965-03-11",
            "1965-03-12",
            "2024-06-01",
            "USA",
        ),
        (
            "eu-nato-security-of-information-2003",
            "2003-03-13",
            "2003-03-14",
            "2024-06-01",
            "NATO",
        ),
        (
            "occar-convention",
            "2001-01-31",
            "2001-02-01",
            "2024-06-01",
            "FRA",
        ),
        (
            "tfeu-lisbon",
            "2009-11-30",
            "2009-12-01",
            "2024-06-01",
            "DNK",
        ),
    ];
    let r = shipped();
    for (id, before, first, later, party) in cases {
        assert!(!in_force(id, before), "{id} on {before}");
        assert!(in_force(id, first), "{id} on {first}");
        assert!(in_force(id, later), "{id} on {later}");
        let party = r.party(party).unwrap();
        let listed = |day: &str| {
            r.agreements_in_force(Some(&party), d(day))
                .iter()
                .any(|a| a.id.0 == id)
        };
        assert!(!listed(before), "{id} listed on {before}");
        assert!(listed(first), "{id} not listed on {first}");
        assert!(listed(later), "{id} not listed on {later}");
    }
    // The Modified Brussels Treaty ends with 2010: the day it ceased to apply was not found.
    assert!(!in_force("modified-brussels-treaty", "2011-01-01"));
    assert_eq!(
        r.agreement("modified-brussels-treaty")
            .unwrap()
            .status(d("2011-07-01")),
        AgreementStatus::Terminated
    );
    // Signed, with no entry into force found: never applied by the registry.
    for id in [
        "aukus-naval-nuclear-propulsion-2024",
        "eurocorps-treaty-of-strasbourg",
        "occar-security-agreement-2004",
        "france-greece-strategic-partnership-2021",
        "treaty-of-nancy",
        "kensington-treaty",
    ] {
        let a = r.agreement(id).unwrap();
        assert_eq!(
            a.status(d("2026-06-01")),
            AgreementStatus::SignedNotInForce,
            "{id}"
        );
        assert!(a.in_force.is_none(), "{id}");
    }
    assert_eq!(
        r.agreement("treaty-of-nancy")
            .unwrap()
            .status(d("2025-05-08")),
        AgreementStatus::NotYetSigned
    );
    // The AUKUS leaders' statement is not binding.
    assert!(!r.agreement("aukus-leaders-statement-2021").unwrap().binding);
}

#[test]
fn new_defence_clauses_bind_on_the_right_days() {
    // Article V of the Modified Brussels Treaty binds the WEU's other members toward France,
    // from 1955-05-06 to the end of 2010.
    let bound = |nation: &str, day: &str, id: &str| {
        let mut v = bound_toward(nation, day, id);
        v.sort();
        v
    };
    assert!(bound("FRA", "1955-05-05", "modified-brussels-treaty").is_empty());
    let weu = ["BEL", "DEU", "GBR", "ITA", "LUX", "NLD"];
    assert_eq!(bound("FRA", "1955-05-06", "modified-brussels-treaty"), weu);
    assert_eq!(bound("FRA", "2010-12-31", "modified-brussels-treaty"), weu);
    assert!(bound("FRA", "2011-01-01", "modified-brussels-treaty").is_empty());
    // Spain, Portugal and Greece are left out of the WEU: their days were not found.
    assert!(bound("ESP", "2000-01-01", "modified-brussels-treaty").is_empty());
    // The Rio Treaty's only recorded party is the United States: nobody is bound toward it.
    assert!(bound("USA", "2000-01-01", "rio-treaty").is_empty());
    let rio = shipped().agreement("rio-treaty").unwrap();
    assert!(rio
        .clauses
        .iter()
        .any(|c| c.id == "art3" && c.kind == ClauseKind::CollectiveDefence));
    // France-Greece, Nancy and Kensington carry mutual-assistance clauses but no entry into force
    // was found: they bind nobody yet.
    for (nation, id) in [
        ("GRC", "france-greece-strategic-partnership-2021"),
        ("POL", "treaty-of-nancy"),
        ("DEU", "kensington-treaty"),
    ] {
        assert!(bound(nation, "2026-06-01", id).is_empty(), "{id}");
        assert!(shipped()
            .agreement(id)
            .unwrap()
            .clauses
            .iter()
            .any(|c| c.kind == ClauseKind::MutualAssistance));
    }
    // Article 222 TFEU (terrorist attacks, disasters) is a cooperation clause, not a defence
    // obligation; Article 42(7) TEU is unchanged.
    let tfeu = shipped().agreement("tfeu-lisbon").unwrap();
    assert_eq!(tfeu.clauses[0].kind, ClauseKind::Cooperation);
    assert!(defenders("EST", "2024-03-08")
        .iter()
        .all(|(_, basis)| basis.iter().all(|b| !b.starts_with("tfeu-lisbon"))));
    // AUKUS, the JEF, NORDEFCO, the Eurocorps and OCCAR carry no defence clause: obligations
    // toward their members are unchanged (Sweden before NATO: EU partners only).
    let swe = defenders("SWE", "2022-01-01");
    assert!(swe
        .iter()
        .all(|(_, basis)| basis == &["teu-lisbon Article 42(7)"]));
}

#[test]
fn atomal_agreement_covers_the_atomal_caveat_only() {
    let r = shipped();
    let atomal = r.agreement("nato-atomal-agreement-1964").unwrap();
    let clause = &atomal.clauses[0];
    let security = clause.security.as_ref().unwrap();
    assert_eq!(security.caveats, ["ATOMAL"]);
    assert!(security.caveats_only);
    // Founding-era members are presumed parties from 1965-03-12; the Czech Republic not before
    // 2000-08-05, Croatia not before 2013-09-19.
    assert_eq!(
        r.party_basis(atomal, n("FRA"), d("1970-01-01")),
        Some(PartyBasis::PresumedMember {
            organization: OrgId("NATO".into())
        })
    );
    assert!(r.party_basis(atomal, n("CZE"), d("2000-08-04")).is_none());
    assert!(matches!(
        r.party_basis(atomal, n("CZE"), d("2000-08-05")),
        Some(PartyBasis::OwnDate {
            qualifier: DateQualifier::NotBefore,
            ..
        })
    ));
    assert!(r.party_basis(atomal, n("HRV"), d("2013-09-18")).is_none());
    assert!(r.party_basis(atomal, n("HRV"), d("2013-09-19")).is_some());
}

#[test]
fn nato_integrated_command_attributes_do_not_change_article_5() {
    let r = shipped();
    let nato = r.organization("NATO").unwrap();
    let attrs = |nation: &str, day: &str| -> Vec<String> {
        nato.attributes_of(n(nation), d(day))
            .iter()
            .map(|a| a.id.clone())
            .collect()
    };
    let outside = ["outside-integrated-command"];
    // France: July 1966 (counted from 1966-08-01) until the eve of the 2009-04-04 summit.
    assert!(attrs("FRA", "1966-07-31").is_empty());
    assert_eq!(attrs("FRA", "1966-08-01"), outside);
    assert_eq!(attrs("FRA", "2009-04-03"), outside);
    assert!(attrs("FRA", "2009-04-04").is_empty());
    // Greece: August 1974 to October 1980 (months only: 1974-09-01 to 1980-09-30).
    assert!(attrs("GRC", "1974-08-31").is_empty());
    assert_eq!(attrs("GRC", "1974-09-01"), outside);
    assert_eq!(attrs("GRC", "1980-09-30"), outside);
    assert!(attrs("GRC", "1980-10-01").is_empty());
    // Spain: from the referendum of 1986-03-12 to the parliamentary vote of 1996-11-14.
    assert!(attrs("ESP", "1986-03-11").is_empty());
    assert_eq!(attrs("ESP", "1990-01-01"), outside);
    assert!(attrs("ESP", "1996-11-15").is_empty());
    // France stays a member and a party: Article 5 binds it and protects it throughout.
    assert!(members("NATO", "1970-01-01").contains(&"FRA".to_owned()));
    assert!(bound_toward("FRA", "1970-01-01", "north-atlantic-treaty").contains(&"USA".to_owned()));
    assert!(bound_toward("DEU", "1970-01-01", "north-atlantic-treaty").contains(&"FRA".to_owned()));
    assert!(bound_toward("GRC", "1977-01-01", "north-atlantic-treaty").contains(&"USA".to_owned()));
    // Attributes are members' only: a non-member has none.
    assert!(attrs("JPN", "1970-01-01").is_empty());
}

#[test]
fn denmark_csdp_opt_out_and_eu_defence_bodies() {
    let r = shipped();
    let eu = r.organization("EU").unwrap();
    let opt_out = |day: &str| {
        eu.attributes_of(n("DNK"), d(day))
            .iter()
            .any(|a| a.id == "csdp-defence-opt-out")
    };
    assert!(opt_out("2009-12-01"));
    assert!(opt_out("2022-06-30"));
    assert!(!opt_out("2022-07-01"));
    // Denmark remained an EU member throughout.
    assert!(members("EU", "2015-01-01").contains(&"DNK".to_owned()));
    // PESCO and the EDA exclude a participant under the opt-out; Denmark joined both after it.
    for org in ["PESCO", "EDA"] {
        let o = r.organization(org).unwrap();
        assert_eq!(o.excluded_by.len(), 1, "{org}");
        assert_eq!(o.excluded_by[0].organization.0, "EU");
        assert_eq!(o.excluded_by[0].attribute, "csdp-defence-opt-out");
    }
    assert!(!members("EDA", "2022-07-01").contains(&"DNK".to_owned()));
    assert!(members("EDA", "2023-03-23").contains(&"DNK".to_owned()));
}

#[test]
fn membership_attributes_are_validated() {
    // A valid attribute loads and answers.
    let f = Fixture::new();
    f.replace(
        "organizations/club.toml",
        "{ nation = \"FRA\", from = \"2000-01-01\", source = \"S1\" }",
        "{ nation = \"FRA\", from = \"2000-01-01\", source = \"S1\", attributes = [ { id = \"opt-out\", from = \"2000-06\", until = \"2004-12-31\", source = \"S1\" } ] }",
    );
    assert_eq!(f.problems(), Vec::<String>::new());
    let r = Registry::load(f.dir.path()).unwrap();
    let club = r.organization("CLUB").unwrap();
    assert!(club.attributes_of(n("FRA"), d("2000-06-30")).is_empty());
    assert_eq!(club.attributes_of(n("FRA"), d("2000-07-01")).len(), 1);
    assert!(club.attributes_of(n("FRA"), d("2005-01-01")).is_empty());
    // A bad id, a period outside the membership, an overlap, a missing source.
    let f = Fixture::new();
    f.replace(
        "organizations/club.toml",
        "{ nation = \"DEU\", from = \"2001-01-01\", until = \"2009-12-31\", source = \"S1\" }",
        "{ nation = \"DEU\", from = \"2001-01-01\", until = \"2009-12-31\", source = \"S1\", attributes = [ { id = \"Opt Out\", from = \"2002-01-01\", source = \"S1\" }, { id = \"a\", from = \"2002-01-01\", source = \"S1\" }, { id = \"b\", from = \"2002-01-01\", until = \"2003-01-01\", source = \"S1\" }, { id = \"b\", from = \"2002-06-01\", until = \"2002-07-01\", source = \"S1\" }, { id = \"c\", from = \"2002-01-01\", until = \"2002-02-01\" } ] }",
    );
    assert_eq!(
        f.problems(),
        [
            "organizations/club.toml:8: organization[CLUB].members[1].attributes[0].id: invalid attribute id \"Opt Out\": use lower-case letters, digits and '-'",
            "organizations/club.toml:8: organization[CLUB].members[1].attributes[1].from: attribute a 2002-01-01 – lies outside the membership 2001-01-01 – 2009-12-31",
            "organizations/club.toml:8: organization[CLUB].members[1].attributes[3].from: overlapping attribute b: 2002-06-01 – 2002-07-01 overlaps 2002-01-01 – 2003-01-01",
            "organizations/club.toml:8: organization[CLUB].members[1].attributes[4].source: missing source: every fact must name one",
        ]
    );
}

#[test]
fn a_participation_under_an_excluding_attribute_is_refused() {
    let f = Fixture::new();
    f.replace(
        "organizations/club.toml",
        "{ nation = \"FRA\", from = \"2000-01-01\", source = \"S1\" }",
        "{ nation = \"FRA\", from = \"2000-01-01\", source = \"S1\", attributes = [ { id = \"opt-out\", from = \"2000-01-01\", until = \"2004-12-31\", source = \"S1\" } ] }",
    );
    f.write(
        "organizations/agency.toml",
        "[[organization]]\nid = \"AGENCY\"\nname = \"Agency\"\nkind = \"framework\"\nsource = \"S1\"\nexcluded_by = [ { organization = \"CLUB\", attribute = \"opt-out\" } ]\nmembers = [\n  { nation = \"FRA\", from = \"2004-06-01\", source = \"S1\" },\n  { nation = \"DEU\", from = \"2004-06-01\", source = \"S1\" },\n]\n",
    );
    assert_eq!(
        f.problems(),
        ["organizations/agency.toml:8: organization[AGENCY].members.from: FRA's participation (2004-06-01 –) overlaps the opt-out of its membership of CLUB (2000-01-01 – 2004-12-31)"]
    );
    // From the day after the opt-out ends, and with an unknown organisation named.
    f.replace(
        "organizations/agency.toml",
        "{ nation = \"FRA\", from = \"2004-06-01\"",
        "{ nation = \"FRA\", from = \"2005-01-01\"",
    );
    assert_eq!(f.problems(), Vec::<String>::new());
    f.replace(
        "organizations/agency.toml",
        "organization = \"CLUB\"",
        "organization = \"CLOB\"",
    );
    assert_eq!(
        f.problems(),
        ["organizations/agency.toml:6: organization[AGENCY].excluded_by[0].organization: dangling reference: no organization \"CLOB\""]
    );
}

// --- Properties --------------------------------------------------------------------------------

fn any_day() -> impl Strategy<Value = Date> {
    (0u64..30_000).prop_map(|k| d("1945-01-01") + chrono::Days::new(k))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Mutual clauses bind both ways: if A must aid B under a clause that protects every party,
    /// B must aid A under the same clause.
    #[test]
    fn mutual_obligations_are_symmetric(day in any_day()) {
        let r = shipped();
        for nation in r.nations() {
            for def in r.obligations_toward(nation.code, day) {
                let back = r.obligations_toward(def.nation, day);
                for basis in &def.basis {
                    let agreement = r.agreement_by_id(&basis.agreement).unwrap();
                    let clause = agreement.clauses.iter().find(|c| c.id == basis.clause_id).unwrap();
                    if clause.protects.is_empty() {
                        prop_assert!(back.iter().any(|x| x.nation == nation.code && x.basis.contains(basis)),
                            "{} owes {} under {:?} on {day} but not back", def.nation, nation.code, basis);
                    }
                }
            }
        }
    }

    /// Membership answers agree with a direct reading of the intervals.
    #[test]
    fn members_match_intervals(day in any_day()) {
        let r = shipped();
        for org in r.organizations() {
            let expected: std::collections::BTreeSet<NationCode> = org.memberships.iter()
                .filter(|m| m.role == Role::Member && m.period.from <= day && m.period.until.is_none_or(|u| day <= u))
                .map(|m| m.nation)
                .collect();
            prop_assert_eq!(r.members(org, day), expected.into_iter().collect::<Vec<_>>());
        }
    }

    /// Nobody is ever bound to defend a nation under an agreement not in force that day.
    #[test]
    fn obligations_rest_on_agreements_in_force(day in any_day()) {
        let r = shipped();
        for nation in r.nations() {
            for def in r.obligations_toward(nation.code, day) {
                prop_assert!(def.nation != nation.code);
                for b in def.basis {
                    prop_assert!(r.agreement_by_id(&b.agreement).unwrap().is_in_force(day));
                }
            }
        }
    }
}

#[test]
fn a_later_accession_delays_the_agreement_for_that_party_only() {
    let r = shipped();
    let a = r.agreement("nato-security-of-information-1997").unwrap();
    let swe = Party::Nation(n("SWE"));
    let fra = Party::Nation(n("FRA"));
    // Sweden: a NATO member from 2024-03-07, party to the 1997 agreement only from 2024-08-02.
    assert!(!r.is_party(a, &swe, d("2024-04-01")));
    assert!(!r.is_party(a, &swe, d("2024-08-01")));
    assert!(r.is_party(a, &swe, d("2024-08-02")));
    assert!(r.is_party(a, &fra, d("2024-04-01")));
    assert!(!r.parties_on(a, d("2024-04-01")).contains(&n("SWE")));
    assert!(r.parties_on(a, d("2024-08-02")).contains(&n("SWE")));
    assert!(r
        .security_cover(&fra, &swe, d("2024-04-01"))
        .iter()
        .all(|c| c.agreement.id.0 != a.id.0));
}

#[test]
fn the_1997_security_agreement_states_how_sure_each_partys_date_is() {
    let r = shipped();
    let a = r.agreement("nato-security-of-information-1997").unwrap();
    assert_eq!(a.member_dates, MemberDates::Unconfirmed);
    // The Czech Republic: in force for it on 1999-12-05, 30 days after its deposit (S46), not on
    // its accession to NATO (1999-03-12).
    let cze = n("CZE");
    assert!(r.is_member(cze, &OrgId("NATO".into()), d("1999-06-01")));
    assert!(r.party_basis(a, cze, d("1999-12-04")).is_none());
    let basis = r.party_basis(a, cze, d("1999-12-05")).unwrap();
    assert!(basis.is_confirmed());
    assert_eq!(basis.to_string(), "a party since 1999-12-05");
    // Belgium approved it only in 2002 (S47): never a party before 2002-03-19, and after that only
    // presumed one, which the basis says.
    let bel = n("BEL");
    assert!(r.party_basis(a, bel, d("1998-08-16")).is_none());
    assert!(r.party_basis(a, bel, d("2002-03-18")).is_none());
    let basis = r.party_basis(a, bel, d("2002-03-19")).unwrap();
    assert!(!basis.is_confirmed());
    assert!(basis.to_string().contains("not found"), "{basis}");
    // Other allies: no own date found, presumed from 1998-08-16 and marked so.
    let basis = r.party_basis(a, n("FRA"), d("2010-01-01")).unwrap();
    assert_eq!(
        basis,
        PartyBasis::PresumedMember {
            organization: OrgId("NATO".into())
        }
    );
    assert!(!basis.is_confirmed());
    // Sweden: its own day comes from a copy of the Swedish treaty series on a contracts site
    // (S40, a weak source): a party from 2024-08-02, never before, but only presumed one.
    assert!(r.party_basis(a, n("SWE"), d("2024-08-01")).is_none());
    let basis = r.party_basis(a, n("SWE"), d("2024-08-02")).unwrap();
    assert!(!basis.is_confirmed(), "{basis}");
    // A Council decision binding every EU member state: membership is a confirmed basis.
    let eu = r.agreement("eu-council-security-rules-2013").unwrap();
    assert!(r
        .party_basis(eu, n("FRA"), d("2020-01-01"))
        .unwrap()
        .is_confirmed());
}

#[test]
fn a_qualifier_must_be_known() {
    let text = DatasetText {
        sources: "[[source]]\nid = \"S1\"\ntitle = \"A\"\nreference = \"B\"\ntier = 1\n".into(),
        nations: "nations = [ { code = \"FRA\", name = \"France\", source = \"S1\" } ]\n".into(),
        organizations: vec![],
        agreements: vec![(
            "x.toml".into(),
            "[[agreement]]\nid = \"x\"\nname = \"X\"\nkind = \"treaty\"\nparties = [\"FRA\"]\nmember_dates = \"perhaps\"\naccessions = [ { nation = \"FRA\", in_force = \"2000\", qualifier = \"about\", source = \"S1\" } ]\nsource = \"S1\"\n".into(),
        )],
    };
    let err = Registry::from_text(text).unwrap_err();
    let all: Vec<String> = err.diagnostics().iter().map(|d| d.to_string()).collect();
    assert!(
        all.iter()
            .any(|d| d.contains("qualifier") && d.contains("about")),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|d| d.contains("member_dates") && d.contains("perhaps")),
        "{all:?}"
    );
}

#[test]
fn datasets_load_from_memory_with_the_same_checks() {
    let text = DatasetText {
        sources: "[[source]]\nid = \"S1\"\ntitle = \"A\"\nreference = \"B\"\ntier = 1\n".into(),
        nations: "nations = [ { code = \"FRA\", name = \"France\", source = \"S1\" } ]\n".into(),
        organizations: vec![],
        agreements: vec![(
            "x.toml".into(),
            "[[agreement]]\nid = \"x\"\nname = \"X\"\nkind = \"treaty\"\nparties = [\"FRA\", \"DEU\"]\nsource = \"S1\"\n".into(),
        )],
    };
    let err = Registry::from_text(text).unwrap_err();
    assert_eq!(
        err.diagnostics()[0].to_string(),
        "agreements/x.toml:5: agreement[x].parties[1]: unknown nation code DEU: not in nations.toml"
    );
}

#[test]
fn the_registry_epoch_moves_on_the_days_memberships_start_and_stop() {
    let registry = shipped();
    let day = |t: &str| entente_types::parse_date(t).unwrap();
    let days = registry.change_days();
    // Finland's and Sweden's accessions to NATO, and the day after the UK's last as an EU member.
    for d in ["2023-04-04", "2024-03-07", "2020-02-01"] {
        assert!(days.contains(&day(d)), "{d}");
    }
    assert_eq!(registry.epoch(day("2023-04-04")), Some(day("2023-04-04")));
    assert!(registry.epoch(day("2023-04-03")) < Some(day("2023-04-04")));
    // Two days with no change between them share an epoch.
    let e = registry.epoch(day("2023-04-05"));
    assert!(e >= Some(day("2023-04-04")));
    assert_eq!(registry.epoch(e.unwrap()), e);
}
