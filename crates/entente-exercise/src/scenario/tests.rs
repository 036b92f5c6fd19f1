#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::error::Diagnostic;

fn shipped_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios/baltic-qra.toml")
}

fn shipped_text() -> String {
    std::fs::read_to_string(shipped_path()).unwrap()
}

fn diagnostics(text: &str) -> Vec<Diagnostic> {
    match Scenario::parse(Path::new("s.toml"), text) {
        Ok(_) => panic!("expected the scenario to be refused"),
        Err(e) => e.diagnostics().to_vec(),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_shipped_scenario_is_valid_and_cites_its_figures() {
    let s = Scenario::load(&shipped_path()).unwrap();
    assert_eq!(s.name, "baltic-qra");
    assert_eq!(s.duration, 7200.0);
    assert_eq!(s.step, 0.1);
    let base = |id: &str| s.bases.iter().find(|b| b.id == id).unwrap();
    // Šiauliai and Ämari at their aerodrome reference points (AIP), to 0.01°.
    assert!((base("EYSA").position.lat - 55.894).abs() < 0.01);
    assert!((base("EYSA").position.lon - 23.395).abs() < 0.01);
    assert!((base("EEEI").position.lat - 59.261).abs() < 0.01);
    assert!((base("EEEI").position.lon - 24.208).abs() < 0.01);
    // The 15-minute QRA standard, cited to the research notes.
    let qra = &s.standards[0];
    assert_eq!(
        (qra.from, qra.to, qra.within),
        (Milestone::Scramble, Milestone::Airborne, 900.0)
    );
    assert_eq!(qra.source, "R1");
    // Both QRA flights are held at readiness inside the standard.
    assert!(s.flights.iter().all(|f| f.readiness < 900.0));
    assert_eq!(s.events.len(), 4);
    assert!(s.events.windows(2).all(|w| w[0].t <= w[1].t));
    let lva = s.nation("LVA".parse().unwrap()).unwrap();
    assert_eq!(lva.label.text, "NATO SECRET//REL TO EST, LTU, LVA");
    assert_eq!(
        lva.label.line,
        line_of(&shipped_text(), "NATO SECRET//REL TO EST, LTU, LVA")
    );
    let est_n = s.radars.iter().find(|r| r.id == "EST-N").unwrap();
    assert_eq!(
        est_n.label.as_ref().map(|l| l.text.as_str()),
        Some("NATO CONFIDENTIAL//REL TO NATO, JPN")
    );
}

#[test]
fn shares_with_is_refused_at_its_line_with_what_replaces_it() {
    let text = shipped_text().replace(
        "label = \"NATO SECRET//REL TO EST, LTU, LVA\"",
        "shares_with = [\"LTU\", \"EST\"]",
    );
    let d = diagnostics(&text);
    let old = d
        .iter()
        .find(|d| d.field == "nation[LVA].shares_with")
        .unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(old.line, line_of(&text, "shares_with = "));
    assert!(
        old.message.contains("replaced by labels"),
        "{}",
        old.message
    );
    assert!(old.message.contains("label = "), "{}", old.message);
    // The label it lacks is reported too, at the nation's table.
    let missing = d.iter().find(|d| d.field == "nation[LVA].label").unwrap();
    assert!(missing.message.contains("missing"), "{}", missing.message);
    assert_eq!(d.len(), 2, "{d:?}");
}

#[test]
fn every_problem_is_located_to_line_and_field() {
    let text = shipped_text()
        .replace("pd = 0.85", "pd = 1.5")
        .replace("base = \"EEEI\"", "base = \"EEIE\"")
        .replace("sigma_m = 200", "sigma_m = -3");
    let d = diagnostics(&text);
    assert_eq!(d.len(), 3, "{d:#?}");
    let pd = d.iter().find(|x| x.field == "radar[LVA-W].pd").unwrap();
    assert_eq!(pd.line, line_of(&text, "pd = 1.5"));
    assert!(pd.message.contains("outside 0 ..= 1"), "{}", pd.message);
    let base = d
        .iter()
        .find(|x| x.field == "flight[AMA-QRA].base")
        .unwrap();
    assert_eq!(base.line, line_of(&text, "base = \"EEIE\""));
    assert!(
        base.message.contains("did you mean `EEEI`"),
        "{}",
        base.message
    );
    let sigma = d
        .iter()
        .find(|x| x.field == "radar[LVA-W].sigma_m")
        .unwrap();
    assert_eq!(sigma.line, line_of(&text, "sigma_m = -3"));
    // The rendered error lists file:line: field: message.
    let err = Scenario::parse(Path::new("s.toml"), &text).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("s.toml:{}: radar[LVA-W].pd:", pd.line)),
        "{err}"
    );
}

#[test]
fn references_must_resolve() {
    let text = shipped_text()
        .replace(
            "target = \"TGT\"\n\n[[event]]\nat = \"00:38:00\"",
            "target = \"TGX\"\n\n[[event]]\nat = \"00:38:00\"",
        )
        .replace("to = \"AMA-QRA\"", "to = \"NOBODY\"")
        .replace("source = \"R6\"", "source = \"R66\"");
    let d = diagnostics(&text);
    let fields: Vec<&str> = d.iter().map(|x| x.field.as_str()).collect();
    assert!(fields.contains(&"event[1].target"), "{fields:?}");
    assert!(fields.contains(&"event[3].to"), "{fields:?}");
    assert!(fields.contains(&"aircraft_type[il76].source"), "{fields:?}");
    let src = d
        .iter()
        .find(|x| x.field == "aircraft_type[il76].source")
        .unwrap();
    assert!(
        src.message
            .contains("unknown source `R66` (did you mean `R6`?)"),
        "{}",
        src.message
    );
}

#[test]
fn syntax_errors_and_unknown_keys_point_at_their_line() {
    let text = shipped_text().replace(
        "antenna_m = 30\nrange_km = 350",
        "antenna_m = 30\nrange_kms = 350",
    );
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message.contains("unknown field `range_kms`"),
        "{}",
        d[0].message
    );
    assert_eq!(d[0].line, line_of(&text, "range_kms"));
    let d = diagnostics("version = 1\nname = \"x\"\nseed = [\n");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].field, "(file)");
}

#[test]
fn semantic_checks() {
    let text = shipped_text()
        .replace("duration = \"02:00:00\"", "duration = \"00:30:00\"")
        .replace(
            "count = 2\nreadiness = \"00:10:00\"",
            "count = 3\nreadiness = \"00:10:00\"",
        )
        .replace("callsign = \"CIV606\"", "callsign = \"CIV606-TOO-LONG\"")
        .replace("code = \"POL\"", "code = \"Pol\"")
        .replace("speed_mps = 210", "speed_mps = 260");
    let d = diagnostics(&text);
    let has = |field: &str, words: &str| {
        d.iter()
            .any(|x| x.field == field && x.message.contains(words))
    };
    // Events after the end of the exercise.
    assert!(has("event[2].at", "after the end"), "{d:#?}");
    assert!(!has("event[1].at", "after the end"), "{d:#?}");
    assert!(has("flight[AMA-QRA].count", "outside 1 ..= 2"), "{d:#?}");
    assert!(has("traffic[CIV606].callsign", "DIS marking"), "{d:#?}");
    assert!(has("nation[Pol].code", "malformed nation code"), "{d:#?}");
    // POL is then not a participant: its flight's nation is refused too.
    assert!(
        has("flight[SIA-QRA].nation", "unknown participating nation"),
        "{d:#?}"
    );
    assert!(
        has("traffic[TGT].speed_mps", "outside the speeds of il76"),
        "{d:#?}"
    );
}

#[test]
fn durations_are_strict() {
    assert_eq!(parse_duration("00:15:00"), Some(900.0));
    assert_eq!(parse_duration("2:00:00"), Some(7200.0));
    assert_eq!(parse_duration("30:00:01"), Some(108_001.0));
    for bad in [
        "15:00",
        "00:60:00",
        "00:00:60",
        "0:1:00",
        "-1:00:00",
        "aa:00:00",
        "00:00:00:00",
        "",
    ] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
    assert_eq!(format_duration(900.0), "00:15:00");
    assert_eq!(format_duration(7322.4), "02:02:02");
}

#[test]
fn polar_positions_are_refused() {
    let text = shipped_text().replace("lat = 55.00, lon = 19.60", "lat = 90.00, lon = 19.60");
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].field, "traffic[TGT].route[0].lat");
    assert!(
        d[0].message.contains("outside -85 ..= 85"),
        "{}",
        d[0].message
    );
}
