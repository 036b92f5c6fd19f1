//! Invocations and participants: the recorded invocations against the memberships of their day,
//! accession edge days, the loader's diagnostics, and a property over random memberships.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use entente_types::{parse_date, Date, NationCode};
use proptest::prelude::*;

use crate::*;

fn shipped() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/registry");
        match Registry::load(&dir) {
            Ok(r) => r,
            Err(e) => panic!("shipped dataset does not load: {e}"),
        }
    })
}

fn d(text: &str) -> Date {
    parse_date(text).unwrap()
}

fn n(code: &str) -> NationCode {
    code.parse().unwrap()
}

fn room(clause: &str, requested_by: &[&str], day: &str) -> Result<Participants, Error> {
    let r = shipped();
    let (a, c) = r.clause(clause)?;
    let by: Vec<NationCode> = requested_by.iter().map(|x| n(x)).collect();
    r.participants(a, c, &by, d(day))
}

fn codes(p: &Participants) -> Vec<String> {
    p.nations().map(|n| n.to_string()).collect()
}

// --- The shipped invocations -------------------------------------------------------------------

#[test]
fn every_recorded_invocation_has_its_requesters_in_the_room() {
    // (id, participants on the day requested, a nation, its reason)
    let pinned: &[(&str, usize, &str, &str)] = &[
        (
            "nato-art5-2001-09-12",
            19,
            "POL",
            "member of NATO since 1999-03-12 (bound by Article 5)",
        ),
        (
            "nato-art4-2003-02-10",
            19,
            "TUR",
            "member of NATO since 1952-02-18",
        ),
        (
            "nato-art4-2012-06-24",
            28,
            "ALB",
            "member of NATO since 2009-04-01",
        ),
        (
            "nato-art4-2012-10-03",
            28,
            "HRV",
            "member of NATO since 2009-04-01",
        ),
        (
            "nato-art4-2014-03-03",
            28,
            "POL",
            "member of NATO since 1999-03-12",
        ),
        (
            "nato-art4-2015-07-26",
            28,
            "EST",
            "member of NATO since 2004-03-29",
        ),
        (
            "eu-art42-7-2015-11-17",
            28,
            "AUT",
            "member of the EU since 1995-01-01 (bound by Article 42(7))",
        ),
        (
            "nato-art4-2020-02-27",
            29,
            "MNE",
            "member of NATO since 2017-06-05",
        ),
        (
            "nato-art4-2022-02-24",
            30,
            "SVK",
            "member of NATO since 2004-03-29",
        ),
        (
            "nato-art4-2025-09-10",
            32,
            "SWE",
            "member of NATO since 2024-03-07",
        ),
        (
            "nato-art4-2025-09-19",
            32,
            "FIN",
            "member of NATO since 2023-04-04",
        ),
    ];
    let r = shipped();
    let ids: Vec<&str> = r.invocations().iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, pinned.iter().map(|p| p.0).collect::<Vec<_>>());
    for (inv, &(id, count, nation, reason)) in r.invocations().iter().zip(pinned) {
        assert!(!inv.sources.is_empty(), "{id}");
        let agreement = r.agreement_by_id(&inv.clause.agreement).unwrap();
        let clause = agreement
            .clauses
            .iter()
            .find(|c| c.id == inv.clause.clause)
            .unwrap();
        let (first, last) = inv.requested_days();
        for day in [first, last] {
            let p = r
                .participants(agreement, clause, &inv.requested_by, day)
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(p.entries.len(), count, "{id} on {day}");
            for requester in &inv.requested_by {
                let entry = p.entries.iter().find(|e| e.nation == *requester).unwrap();
                assert!(entry.requesting, "{id}: {requester}");
            }
            assert_eq!(
                p.entries.iter().filter(|e| e.requesting).count(),
                inv.requested_by.len()
            );
            let entry = p.entries.iter().find(|e| e.nation == n(nation)).unwrap();
            assert_eq!(entry.reason, reason, "{id}");
            assert!(p.entries.windows(2).all(|w| w[0].nation < w[1].nation));
        }
    }
}

#[test]
fn the_eight_allies_of_2022_without_finland_and_sweden() {
    let inv = shipped()
        .invocations()
        .iter()
        .find(|i| i.id == "nato-art4-2022-02-24")
        .unwrap();
    let by: Vec<String> = inv.requested_by.iter().map(|n| n.to_string()).collect();
    assert_eq!(by, ["BGR", "CZE", "EST", "LTU", "LVA", "POL", "ROU", "SVK"]);
    let p = room("nato-art-4", &["POL"], "2022-02-24").unwrap();
    let all = codes(&p);
    assert!(!all.contains(&"FIN".to_owned()) && !all.contains(&"SWE".to_owned()));
    // Article 5 in 2001 was invoked on behalf of the United States, with 18 Allies besides.
    let art5 = &shipped().invocations()[0];
    assert_eq!(art5.clause.to_string(), "north-atlantic-treaty/art5");
    assert_eq!(art5.requested_by, [n("USA")]);
    assert_eq!(
        art5.met.map(|m| m.to_string()).as_deref(),
        Some("2001-09-12")
    );
    assert!(art5.note.as_deref().unwrap().contains("2001-10-02"));
}

#[test]
fn accession_edge_days() {
    let count = |day: &str| room("nato-art-4", &["TUR"], day).unwrap().entries.len();
    // North Macedonia, a month after Turkey's 2020 request.
    assert_eq!(count("2020-03-26"), 29);
    assert_eq!(count("2020-03-27"), 30);
    assert!(!codes(&room("nato-art-4", &["TUR"], "2020-03-26").unwrap()).contains(&"MKD".into()));
    // Finland and Sweden.
    assert_eq!(count("2023-04-03"), 30);
    assert_eq!(count("2023-04-04"), 31);
    assert_eq!(count("2024-03-06"), 31);
    assert_eq!(count("2024-03-07"), 32);
    // Finland cannot request before its accession, and can on the day.
    let err = room("nato-art-4", &["FIN"], "2023-04-03").unwrap_err();
    assert_eq!(
        err.to_string(),
        "FIN is not a party to north-atlantic-treaty/art4 (Article 4) on 2023-04-03"
    );
    assert_eq!(err.code(), entente_types::ErrorCode::InvalidInput);
    assert!(room("nato-art-4", &["FIN"], "2023-04-04").is_ok());
}

#[test]
fn changes_between_the_2022_request_and_the_end_of_2024() {
    let r = shipped();
    let (a, c) = r.clause("nato-art-4").unwrap();
    let changes = r.participant_changes(a, c, d("2022-02-24"), d("2024-12-31"));
    let got: Vec<(String, String, bool)> = changes
        .iter()
        .map(|c| (c.day.to_string(), c.nation.to_string(), c.joined))
        .collect();
    assert_eq!(
        got,
        [
            ("2023-04-04".into(), "FIN".into(), true),
            ("2024-03-07".into(), "SWE".into(), true),
        ]
    );
    assert_eq!(changes[0].reason, "joined NATO on 2023-04-04");
    // The interval is half-open: a change on its first day is not reported.
    assert_eq!(
        r.participant_changes(a, c, d("2023-04-04"), d("2024-03-06"))
            .len(),
        0
    );
    // The United Kingdom leaves the room of Article 42(7) on the day after its last day.
    let (a, c) = r.clause("eu-art-42-7").unwrap();
    let changes = r.participant_changes(a, c, d("2020-01-01"), d("2020-12-31"));
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].nation, n("GBR"));
    assert_eq!(changes[0].day, d("2020-02-01"));
    assert!(!changes[0].joined);
    assert_eq!(changes[0].reason, "left the EU (last day 2020-01-31)");
    // Article 42(7) came with the Treaty of Lisbon: everyone joins the day it entered into force.
    let changes = r.participant_changes(a, c, d("2009-11-30"), d("2009-12-01"));
    assert_eq!(changes.len(), 27);
    assert!(changes
        .iter()
        .all(|c| c.joined && c.reason.contains("entered into force")));
}

#[test]
fn clauses_resolve_by_alias_or_reference() {
    let r = shipped();
    for text in [
        "nato-art-4",
        "NATO-ART-4",
        "north-atlantic-treaty/art4",
        " North-Atlantic-Treaty/art4 ",
    ] {
        let (a, c) = r.clause(text).unwrap();
        assert_eq!(
            (a.id.0.as_str(), c.id.as_str()),
            ("north-atlantic-treaty", "art4")
        );
    }
    assert_eq!(r.clause("eu-art-42-7").unwrap().1.article, "Article 42(7)");
    assert_eq!(r.clause("aachen-art-4").unwrap().1.article, "Article 4(1)");
    assert_eq!(
        r.clause("nato-art-5").unwrap().1.alias.as_deref(),
        Some("nato-art-5")
    );
    let err = r.clause("nato-art-6").unwrap_err();
    assert_eq!(err.code(), entente_types::ErrorCode::NotFound);
    assert!(
        err.to_string()
            .starts_with("unknown clause \"nato-art-6\"; did you mean nato-art-"),
        "{err}"
    );
    let err = r.clause("north-atlantic-treaty/art9").unwrap_err();
    assert!(err.to_string().contains("did you mean"), "{err}");
}

#[test]
fn who_is_in_the_room_under_a_bilateral_treaty() {
    let p = room("aachen-art-4", &["DEU"], "2024-06-01").unwrap();
    assert_eq!(codes(&p), ["DEU", "FRA"]);
    let fra = &p.entries[1];
    assert!(!fra.requesting);
    assert_eq!(fra.basis, PartyBasis::Named);
    assert_eq!(
        fra.reason,
        "party to the Treaty of Aachen (bound by Article 4(1))"
    );
    // Signed 2019-01-22, in force 2020-01-22.
    let err = room("aachen-art-4", &["DEU"], "2020-01-21").unwrap_err();
    assert_eq!(
        err.to_string(),
        "treaty-of-aachen/art4-1 (Article 4(1)) does not apply on 2020-01-21: its agreement is signed, not in force"
    );
    // Italy is no party.
    let err = room("aachen-art-4", &["ITA"], "2024-06-01").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotAParty { .. }), "{err}");
}

#[test]
fn only_consultation_and_defence_clauses_are_invoked() {
    let r = shipped();
    // Article V of the Japan-US treaty protects Japan only.
    let err = room("japan-us-security-treaty/art5", &["USA"], "2024-01-01").unwrap_err();
    assert_eq!(
        err.to_string(),
        "japan-us-security-treaty/art5 (Article V) does not protect USA"
    );
    assert!(room("japan-us-security-treaty/art5", &["JPN"], "2024-01-01").is_ok());
    let security = r
        .agreements()
        .iter()
        .flat_map(|a| a.clauses.iter().map(move |c| (a, c)))
        .find(|(_, c)| c.kind == ClauseKind::SecurityOfInformation)
        .unwrap();
    let err = r
        .participants(security.0, security.1, &[], d("2024-01-01"))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("is a security-of-information clause"),
        "{err}"
    );
}

#[test]
fn participants_serialize_with_their_basis() {
    let p = room("nato-art-4", &["EST"], "2025-09-19").unwrap();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["day"], "2025-09-19");
    let est = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["nation"] == "EST")
        .unwrap();
    assert_eq!(
        est,
        &serde_json::json!({
            "nation": "EST",
            "requesting": true,
            "basis": {"kind": "member", "organization": "NATO"},
            "reason": "member of NATO since 2004-03-29",
        })
    );
    let inv = serde_json::to_value(&shipped().invocations()[1]).unwrap();
    assert_eq!(inv["clause"], "north-atlantic-treaty/art4");
    assert_eq!(inv["requested"], "2003-02-10");
    assert_eq!(inv["closed"], serde_json::Value::Null);
    assert_eq!(inv["sources"], serde_json::json!(["I3", "I6"]));
}

// --- Loading: every class of problem, located ---------------------------------------------------

const SOURCES: &str = "[[source]]\nid = \"S1\"\ntitle = \"A\"\nreference = \"B\"\ntier = 1\n";
const NATIONS: &str = "nations = [\n  { code = \"FRA\", name = \"France\", source = \"S1\" },\n  { code = \"DEU\", name = \"Germany\", source = \"S1\" },\n  { code = \"ITA\", name = \"Italy\", source = \"S1\" },\n]\n";
const CLUB: &str = "[[organization]]\nid = \"CLUB\"\nname = \"Club\"\nkind = \"alliance\"\nsource = \"S1\"\nmembers = [\n  { nation = \"FRA\", from = \"2000-01-01\", source = \"S1\" },\n  { nation = \"DEU\", from = \"2001-01-01\", until = \"2009-12-31\", source = \"S1\" },\n]\n";
const PACT: &str = "[[agreement]]\nid = \"pact\"\nname = \"Pact\"\nkind = \"treaty\"\nin_force = \"2000-02-01\"\nparties_are_members_of = \"CLUB\"\nsource = \"S1\"\n\n[[agreement.clause]]\nid = \"a4\"\nalias = \"pact-4\"\narticle = \"Article 4\"\nkind = \"consultation\"\nsummary = \"consult\"\nsource = \"S1\"\n";

fn dataset(pact: &str) -> DatasetText {
    DatasetText {
        sources: SOURCES.into(),
        nations: NATIONS.into(),
        organizations: vec![("club.toml".into(), CLUB.into())],
        agreements: vec![("pact.toml".into(), pact.into())],
    }
}

/// One valid invocation, line by line, to break in controlled ways.
const INVOCATION: &str = "[[invocation]]\nid = \"pact-2005\"\nclause = \"pact-4\"\nrequested_by = [\"FRA\", \"DEU\"]\nrequested = \"2005-03-01\"\nmet = \"2005-03-02\"\nclosed = \"2005-04\"\nsummary = \"a request\"\nsource = \"S1\"\n";

fn problems(invocations: &str) -> Vec<String> {
    problems_with(PACT, invocations)
}

fn problems_with(pact: &str, invocations: &str) -> Vec<String> {
    match Registry::from_text_with_invocations(dataset(pact), invocations.into()) {
        Ok(_) => Vec::new(),
        Err(e) => {
            assert_eq!(e.code(), entente_types::ErrorCode::InvalidInput, "{e}");
            e.diagnostics().iter().map(|d| d.to_string()).collect()
        }
    }
}

#[test]
fn a_valid_invocation_loads() {
    assert_eq!(problems(INVOCATION), Vec::<String>::new());
    let r = Registry::from_text_with_invocations(dataset(PACT), INVOCATION.into()).unwrap();
    let inv = &r.invocations()[0];
    assert_eq!(inv.requested_by, [n("DEU"), n("FRA")]);
    assert_eq!(inv.clause.to_string(), "pact/a4");
    assert_eq!(
        inv.closed.map(|c| c.to_string()).as_deref(),
        Some("2005-04")
    );
    // Without the file, no invocations; the rest loads as before.
    assert!(Registry::from_text(dataset(PACT))
        .unwrap()
        .invocations()
        .is_empty());
}

#[test]
fn unknown_clause_suggests_the_closest() {
    assert_eq!(
        problems(&INVOCATION.replace("clause = \"pact-4\"", "clause = \"pact-5\"")),
        ["invocations.toml:3: invocation[pact-2005].clause: unknown clause \"pact-5\"; did you mean pact-4 (pact/a4)?"]
    );
    assert_eq!(
        problems(&INVOCATION.replace("clause = \"pact-4\"", "clause = \"pact/a4\"")),
        Vec::<String>::new()
    );
}

#[test]
fn unknown_and_absent_nations() {
    assert_eq!(
        problems(&INVOCATION.replace("\"DEU\"]", "\"DEX\"]")),
        ["invocations.toml:4: invocation[pact-2005].requested_by[1]: unknown nation code DEX: not in nations.toml"]
    );
    // Italy is a nation of the registry but not a member of the club.
    assert_eq!(
        problems(&INVOCATION.replace("\"DEU\"]", "\"ITA\"]")),
        ["invocations.toml:4: invocation[pact-2005].requested_by[1]: ITA is not a party to pact/a4 (Article 4) on 2005-03-01"]
    );
    assert_eq!(
        problems(&INVOCATION.replace("[\"FRA\", \"DEU\"]", "[]")),
        ["invocations.toml:1: invocation[pact-2005].requested_by: no requesting nation: give at least one"]
    );
}

#[test]
fn a_requester_must_be_a_party_on_every_day_the_date_allows() {
    // Germany's last day in the club is 2009-12-31: a request dated only "2009" may be of any day
    // of it, all within the membership; "2010" is after it.
    assert_eq!(
        problems(
            &INVOCATION
                .replace("requested = \"2005-03-01\"", "requested = \"2009\"")
                .replace("met = \"2005-03-02\"\nclosed = \"2005-04\"\n", "")
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        problems(&INVOCATION
            .replace("requested = \"2005-03-01\"", "requested = \"2010\"")
            .replace("met = \"2005-03-02\"\nclosed = \"2005-04\"\n", "")),
        ["invocations.toml:4: invocation[pact-2005].requested_by[1]: DEU is not a party to pact/a4 (Article 4) on 2010-01-01"]
    );
    // Before the pact applied at all: the day is at fault, once.
    assert_eq!(
        problems(&INVOCATION
            .replace("requested = \"2005-03-01\"", "requested = \"2000-01-15\"")
            .replace("met = \"2005-03-02\"\nclosed = \"2005-04\"\n", "")),
        ["invocations.toml:5: invocation[pact-2005].requested: pact/a4 (Article 4) does not apply on 2000-01-15: its agreement is not yet signed"]
    );
}

#[test]
fn inverted_dates() {
    assert_eq!(
        problems(&INVOCATION.replace("met = \"2005-03-02\"", "met = \"2005-02-28\"")),
        ["invocations.toml:6: invocation[pact-2005].met: inverted dates: met 2005-02-28 before requested 2005-03-01"]
    );
    assert_eq!(
        problems(&INVOCATION.replace("closed = \"2005-04\"", "closed = \"2005-03-01\"")),
        ["invocations.toml:7: invocation[pact-2005].closed: inverted dates: closed 2005-03-01 before met 2005-03-02"]
    );
    // A month that contains the day is not before it.
    assert_eq!(
        problems(&INVOCATION.replace("met = \"2005-03-02\"", "met = \"2005-03\"")),
        Vec::<String>::new()
    );
    assert_eq!(
        problems(&INVOCATION.replace("requested = \"2005-03-01\"", "requested = \"2005-03-0\"")),
        ["invocations.toml:5: invocation[pact-2005].requested: malformed date \"2005-03-0\": expected YYYY-MM-DD, YYYY-MM or YYYY"]
    );
}

#[test]
fn duplicate_ids_and_unknown_sources() {
    let twice = format!("{INVOCATION}\n{}", INVOCATION.replace("S1", "S9"));
    assert_eq!(
        problems(&twice),
        [
            "invocations.toml:12: invocation[pact-2005].id: duplicate invocation id \"pact-2005\"",
            "invocations.toml:19: invocation[pact-2005].source: unknown source \"S9\": not defined in sources.toml",
        ]
    );
    assert_eq!(
        problems(&INVOCATION.replace("source = \"S1\"\n", "")),
        ["invocations.toml:1: invocation[pact-2005].source: missing source: every fact must name one"]
    );
    let unknown_field = problems(&INVOCATION.replace("summary", "colour = \"blue\"\nsummary"));
    assert_eq!(unknown_field.len(), 1);
    assert!(
        unknown_field[0].starts_with("invocations.toml:8: (syntax): unknown field `colour`"),
        "{unknown_field:?}"
    );
}

#[test]
fn aliases_are_unique_and_plain() {
    let second = "\n[[agreement.clause]]\nid = \"a5\"\nalias = \"PACT-4\"\narticle = \"Article 5\"\nkind = \"collective-defence\"\nsummary = \"defend\"\nsource = \"S1\"\n";
    assert_eq!(
        problems_with(&format!("{PACT}{second}"), ""),
        ["agreements/pact.toml:19: agreement[pact].clause[a5].alias: duplicate alias \"PACT-4\": already names pact/a4"]
    );
    assert_eq!(
        problems_with(&PACT.replace("alias = \"pact-4\"", "alias = \"pact/4\""), ""),
        ["agreements/pact.toml:11: agreement[pact].clause[a4].alias: malformed alias \"pact/4\": no slash or space allowed"]
    );
}

// --- Properties --------------------------------------------------------------------------------

fn day_from(k: u64) -> Date {
    d("2000-01-01") + chrono::Days::new(k)
}

/// Up to two membership periods for each of five nations, as (start, length or open) offsets.
fn memberships() -> impl Strategy<Value = Vec<Vec<(u64, Option<u64>)>>> {
    proptest::collection::vec(
        proptest::collection::vec((0u64..3000, proptest::option::of(0u64..1500)), 0..=2),
        5,
    )
}

const CODES: [&str; 5] = ["AAA", "BBB", "CCC", "DDD", "EEE"];

/// A club of five nations with the given periods (overlapping ones of a nation dropped), and a
/// pact of its members in force from day 100, with a consultation clause.
fn random_registry(periods: &[Vec<(u64, Option<u64>)>], terminated: Option<u64>) -> Registry {
    let nations: String = CODES
        .iter()
        .map(|c| format!("  {{ code = \"{c}\", name = \"{c}\", source = \"S1\" }},\n"))
        .collect();
    let mut members = String::new();
    for (code, list) in CODES.iter().zip(periods) {
        let mut kept: Vec<(u64, Option<u64>)> = Vec::new();
        for &(from, len) in list {
            let until = len.map(|l| from + l);
            let overlaps = kept
                .iter()
                .any(|&(f, u)| from <= u.unwrap_or(u64::MAX) && f <= until.unwrap_or(u64::MAX));
            if overlaps {
                continue;
            }
            kept.push((from, until));
            let until = until
                .map(|u| format!(", until = \"{}\"", day_from(u)))
                .unwrap_or_default();
            members.push_str(&format!(
                "  {{ nation = \"{code}\", from = \"{}\"{until}, source = \"S1\" }},\n",
                day_from(from)
            ));
        }
    }
    let terminated = terminated
        .map(|t| format!("terminated = \"{}\"\n", day_from(t)))
        .unwrap_or_default();
    let text = DatasetText {
        sources: SOURCES.into(),
        nations: format!("nations = [\n{nations}]\n"),
        organizations: vec![(
            "club.toml".into(),
            format!("[[organization]]\nid = \"CLUB\"\nname = \"Club\"\nkind = \"alliance\"\nsource = \"S1\"\nmembers = [\n{members}]\n"),
        )],
        agreements: vec![(
            "pact.toml".into(),
            PACT.replace("in_force = \"2000-02-01\"", &format!("in_force = \"{}\"\n{terminated}", day_from(100))),
        )],
    };
    Registry::from_text(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The participants on `day` as a set; none when the pact does not apply.
fn in_room(r: &Registry, day: Date) -> BTreeSet<NationCode> {
    let (a, c) = r.clause("pact-4").unwrap();
    match r.participants(a, c, &[], day) {
        Ok(p) => p.nations().collect(),
        Err(e) => {
            assert!(matches!(e.kind(), ErrorKind::NotInForce { .. }), "{e}");
            BTreeSet::new()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// On any day, the room is the club's members that day (while the pact applies), and the
    /// changes between two days turn the room of the first into the room of the second.
    #[test]
    fn participants_follow_memberships(
        periods in memberships(),
        terminated in proptest::option::of(200u64..5000),
        a in 0u64..5000,
        b in 0u64..5000,
    ) {
        let r = random_registry(&periods, terminated);
        let club = r.organization("CLUB").unwrap();
        let (agreement, clause) = r.clause("pact-4").unwrap();
        let (from, until) = (day_from(a.min(b)), day_from(a.max(b)));
        for day in [from, until] {
            let expected: BTreeSet<NationCode> = if agreement.is_in_force(day) {
                r.members(club, day).into_iter().collect()
            } else {
                BTreeSet::new()
            };
            prop_assert_eq!(in_room(&r, day), expected);
        }
        let mut room = in_room(&r, from);
        let mut last = from;
        for change in r.participant_changes(agreement, clause, from, until) {
            prop_assert!(change.day > from && change.day <= until);
            prop_assert!(change.day >= last);
            last = change.day;
            if change.joined {
                prop_assert!(room.insert(change.nation), "{} joined twice", change.nation);
            } else {
                prop_assert!(room.remove(&change.nation), "{} left twice", change.nation);
            }
            prop_assert!(!change.reason.is_empty());
        }
        prop_assert_eq!(room, in_room(&r, until));
    }
}
