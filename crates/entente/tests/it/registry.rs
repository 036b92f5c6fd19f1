//! `entente registry …`: answers on the shipped dataset, and every error path.

use serde_json::json;

use crate::util::{entente, entente_in, repo_root};

#[test]
fn members_json_matches_the_documented_shape() {
    let run = entente(&[
        "registry",
        "members",
        "NATO",
        "--at",
        "2024-03-08",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["organization"], "NATO");
    assert_eq!(v["at"], "2024-03-08");
    let members: Vec<&str> = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(members.len(), 32);
    assert_eq!(members.first(), Some(&"ALB"));
    assert!(members.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert!(members.contains(&"SWE"));
    // Keys in the documented order.
    assert!(run.stdout.find("\"organization\"") < run.stdout.find("\"at\""));
    assert!(run.stdout.find("\"at\"") < run.stdout.find("\"members\""));
}

#[test]
fn members_on_several_dates() {
    let count = |org: &str, at: &str| {
        let run = entente(&["registry", "members", org, "--at", at, "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json()["members"].as_array().unwrap().len()
    };
    assert_eq!(count("NATO", "1950-01-01"), 12);
    assert_eq!(count("NATO", "2024-03-06"), 31);
    assert_eq!(count("NATO", "2024-03-07"), 32);
    assert_eq!(count("EU", "2020-01-31"), 28);
    assert_eq!(count("EU", "2020-02-01"), 27);
    assert_eq!(count("PESCO", "2017-12-11"), 25);
    assert_eq!(count("PESCO", "2023-05-23"), 26);
    assert_eq!(count("EI2", "2018-06-25"), 9);
    assert_eq!(count("EI2", "2020-01-01"), 13);
    assert_eq!(count("ei2", "2020-01-01"), 13, "ids are case-insensitive");
}

#[test]
fn members_table_names_the_organization() {
    let run = entente(&["registry", "members", "PESCO", "--at", "2024-01-01"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("on 2024-01-01: 26 members"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Denmark"));
    assert!(!run.stdout.contains("Malta"));
}

#[test]
fn obligations_json() {
    let run = entente(&[
        "registry",
        "obligations",
        "EST",
        "--at",
        "2024-03-08",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["nation"], "EST");
    assert_eq!(v["at"], "2024-03-08");
    let defenders = v["defenders"].as_array().unwrap();
    assert_eq!(defenders.len(), 35);
    let fra = defenders.iter().find(|d| d["nation"] == "FRA").unwrap();
    assert_eq!(
        fra["basis"],
        json!([
            {"agreement": "north-atlantic-treaty", "clause": "Article 5", "kind": "collective-defence"},
            {"agreement": "teu-lisbon", "clause": "Article 42(7)", "kind": "mutual-assistance"}
        ])
    );
}

#[test]
fn obligations_toward_sweden_change_on_accession() {
    let nations = |at: &str| -> Vec<String> {
        let run = entente(&["registry", "obligations", "SWE", "--at", at, "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json()["defenders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["nation"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = nations("2024-03-06");
    let after = nations("2024-03-07");
    assert_eq!(before.len(), 26);
    assert!(!before.contains(&"USA".to_owned()));
    assert_eq!(after.len(), 35);
    assert!(after.contains(&"USA".to_owned()) && after.contains(&"NOR".to_owned()));
}

#[test]
fn obligations_toward_germany_table() {
    let run = entente(&["registry", "obligations", "DEU", "--at", "2024-06-01"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("Bound to come to the aid of Germany (DEU) on 2024-06-01: 35 nations"),
        "{}",
        run.stdout
    );
    // Only France is bound by the Treaty of Aachen.
    assert_eq!(
        run.stdout.matches("Article 4(1)").count(),
        1,
        "{}",
        run.stdout
    );
    let run = entente(&[
        "registry",
        "obligations",
        "DEU",
        "--at",
        "2024-06-01",
        "--json",
    ]);
    let v = run.json();
    let fra = v["defenders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["nation"] == "FRA")
        .unwrap();
    let clauses: Vec<&str> = fra["basis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["clause"].as_str().unwrap())
        .collect();
    assert_eq!(clauses, ["Article 5", "Article 42(7)", "Article 4(1)"]);
}

#[test]
fn agreements_by_party_and_day() {
    let run = entente(&[
        "registry",
        "agreements",
        "--party",
        "JPN",
        "--at",
        "2024-01-01",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    let ids: Vec<&str> = v["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"japan-germany-security-of-information"),
        "{ids:?}"
    );
    assert!(ids.iter().all(|id| !id.starts_with("north-atlantic")));
    // Before the Japan–Germany agreement was signed it is not listed.
    let run = entente(&[
        "registry",
        "agreements",
        "--party",
        "JPN",
        "--at",
        "2020-01-01",
        "--json",
    ]);
    let v = run.json();
    assert!(v["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["id"] != "japan-germany-security-of-information"));
    // --all lists historical treaties too.
    let run = entente(&["registry", "agreements", "--all", "--json"]);
    let v = run.json();
    assert!(v["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"].as_str().unwrap().contains("westphalia")));
}

#[test]
fn nation_profile() {
    let run = entente(&["registry", "nation", "GBR", "--at", "2024-01-01", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["name"], "United Kingdom");
    let eu = v["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["organization"] == "EU")
        .unwrap();
    assert_eq!(eu["until"], "2020-01-31");
    assert_eq!(eu["current"], false);
    let nato = v["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["organization"] == "NATO")
        .unwrap();
    assert_eq!(nato["current"], true);
    assert!(v["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == "north-atlantic-treaty" && a["via"] == "NATO"));
    // By name, table output.
    let run = entente(&["registry", "nation", "united kingdom", "--at", "2024-01-01"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("United Kingdom (GBR) on 2024-01-01"));
}

#[test]
fn timeline_in_range() {
    let run = entente(&[
        "registry", "timeline", "--from", "1648", "--to", "1958", "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    let events = v["events"].as_array().unwrap();
    let first = &events[0];
    assert_eq!(first["date"], "1648-10-24");
    assert!(events
        .iter()
        .any(|e| e["subject"] == "north-atlantic-treaty"
            && e["kind"] == "entered into force"
            && e["date"] == "1949-08-24"));
    assert!(
        events.iter().any(|e| e["date"] == "1957-03-25"),
        "Treaty of Rome signed"
    );
    assert!(events
        .iter()
        .all(|e| e["date"].as_str().unwrap() <= "1958-12-31"));
}

#[test]
fn graph_formats() {
    let run = entente(&["registry", "graph", "--format", "dot", "--at", "2024-06-01"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("graph entente {"));
    assert!(run
        .stdout
        .contains("\"SWE\" -- \"NATO\" [label=\"member-of\"]"));
    assert!(run.stdout.trim_end().ends_with('}'));
    let run = entente(&[
        "registry",
        "graph",
        "--format",
        "json",
        "--at",
        "2019-01-01",
    ]);
    let v = run.json();
    let edges = v["edges"].as_array().unwrap();
    assert!(edges.iter().any(|e| e["from"] == "GBR" && e["to"] == "EU"));
    assert!(!edges
        .iter()
        .any(|e| e["from"] == "SWE" && e["to"] == "NATO"));
}

#[test]
fn check_passes_on_shipped_data() {
    let run = entente(&["registry", "check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("ok: "), "{}", run.stdout);
}

#[test]
fn check_reports_file_and_line_on_a_broken_copy() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("data/registry"), tmp.path());
    let nato = tmp.path().join("organizations/nato.toml");
    let text = std::fs::read_to_string(&nato).unwrap();
    let swe_line = text.lines().position(|l| l.contains("\"SWE\"")).unwrap() + 1;
    std::fs::write(&nato, text.replace("nation = \"SWE\"", "nation = \"SWX\"")).unwrap();
    let run = entente_in(tmp.path(), &["registry", "check", "."]);
    assert_eq!(run.code, 2);
    let expected = format!("./organizations/nato.toml:{swe_line}: organization[NATO].members[");
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(run
        .stderr
        .contains("unknown nation code SWX: not in nations.toml"));
    assert!(
        run.stderr.trim_end().ends_with("1 problem"),
        "{}",
        run.stderr
    );
    // Queries on a broken dataset fail the same way, with exit 2.
    let run = entente_in(tmp.path(), &["registry", "--data", ".", "members", "NATO"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown nation code SWX"));
}

#[test]
fn unknown_names_suggest_and_exit_2() {
    let cases: [(&[&str], &str); 5] = [
        (&["registry", "members", "NAT0"], "error: unknown organization \"NAT0\"; did you mean NATO (North Atlantic Treaty Organization)?\n"),
        (&["registry", "obligations", "ESTT"], "error: unknown nation \"ESTT\"; did you mean EST (Estonia)?\n"),
        (&["registry", "nation", "Frnace"], "error: unknown nation \"Frnace\"; did you mean FRA (France)?\n"),
        (&["registry", "members", "NATO", "--at", "2024-13-01"], "error: malformed date \"2024-13-01\": no such day in the calendar\n"),
        (&["registry", "obligations", "EST", "--at", "yesterday"], "error: malformed date \"yesterday\": expected YYYY-MM-DD\n"),
    ];
    for (args, expected) in cases {
        let run = entente(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stderr, expected, "{args:?}");
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn other_error_paths() {
    let run = entente(&["registry", "timeline", "--from", "2000", "--to", "1990"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "error: --from 2000 is after --to 1990\n");
    let run = entente(&["registry", "agreements", "--party", "Atlantis"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: unknown nation \"Atlantis\""),
        "{}",
        run.stderr
    );
    let run = entente(&["registry", "check", "/nonexistent/registry"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read /nonexistent/registry"),
        "{}",
        run.stderr
    );
    let run = entente(&["registry", "graph", "--format", "svg"]);
    assert_eq!(run.code, 2, "clap rejects unknown values");
    let run = entente(&["registry", "frobnicate"]);
    assert_eq!(run.code, 2);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn new_alliances_answer_members_obligations_and_agreements_before_at_and_after() {
    let members = |org: &str, at: &str| -> Vec<String> {
        let run = entente(&["registry", "members", org, "--at", at, "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json()["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_owned())
            .collect()
    };
    let agreements = |party: &str, at: &str| -> Vec<String> {
        let run = entente(&[
            "registry",
            "agreements",
            "--party",
            party,
            "--at",
            at,
            "--json",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json()["agreements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Who is bound toward `nation` on `at` under `agreement`.
    let bound = |nation: &str, at: &str, agreement: &str| -> Vec<String> {
        let run = entente(&["registry", "obligations", nation, "--at", at, "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut v: Vec<String> = run.json()["defenders"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["basis"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|b| b["agreement"] == agreement)
            })
            .map(|d| d["nation"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };

    // AUKUS: the partnership from 2021-09-15, its information agreement from 2022-02-08.
    assert!(members("AUKUS", "2021-09-14").is_empty());
    assert_eq!(members("AUKUS", "2021-09-15"), ["AUS", "GBR", "USA"]);
    assert!(!agreements("AUS", "2022-02-07").contains(&"aukus-ennpia-2021".to_owned()));
    assert!(agreements("AUS", "2022-02-08").contains(&"aukus-ennpia-2021".to_owned()));
    assert!(agreements("AUS", "2025-06-01").contains(&"aukus-ennpia-2021".to_owned()));
    // No defence clause: nobody is bound toward Australia by it.
    assert!(bound("AUS", "2025-06-01", "aukus-ennpia-2021").is_empty());

    // The Western European Union: Article V from 1955-05-06 to the end of 2010.
    assert!(members("WEU", "1955-05-05").is_empty());
    assert_eq!(members("WEU", "1955-05-06").len(), 7);
    assert!(members("WEU", "2011-01-01").is_empty());
    assert!(bound("FRA", "1955-05-05", "modified-brussels-treaty").is_empty());
    assert_eq!(
        bound("FRA", "1955-05-06", "modified-brussels-treaty"),
        ["BEL", "DEU", "GBR", "ITA", "LUX", "NLD"]
    );
    assert!(bound("FRA", "2011-01-01", "modified-brussels-treaty").is_empty());
    assert!(!agreements("FRA", "1955-05-05").contains(&"modified-brussels-treaty".to_owned()));
    assert!(agreements("FRA", "1955-05-06").contains(&"modified-brussels-treaty".to_owned()));
    assert!(!agreements("FRA", "2011-01-01").contains(&"modified-brussels-treaty".to_owned()));

    // The Joint Expeditionary Force and the EDA, with their later members.
    assert!(members("JEF", "2014-09-03").is_empty());
    assert_eq!(members("JEF", "2014-09-04").len(), 7);
    assert_eq!(members("JEF", "2021-04-20").len(), 10);
    assert!(!members("EDA", "2023-03-22").contains(&"DNK".to_owned()));
    assert!(members("EDA", "2023-03-23").contains(&"DNK".to_owned()));

    // The ATOMAL agreement for the allies of 1965, not before.
    assert!(!agreements("USA", "1965-03-11").contains(&"nato-atomal-agreement-1964".to_owned()));
    assert!(agreements("USA", "1965-03-12").contains(&"nato-atomal-agreement-1964".to_owned()));
}

#[test]
fn members_show_attributes_of_the_day() {
    let run = entente(&[
        "registry",
        "members",
        "NATO",
        "--at",
        "1970-01-01",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(
        v["attributes"],
        json!({ "FRA": ["outside-integrated-command"] })
    );
    assert!(v["members"].as_array().unwrap().iter().any(|m| m == "FRA"));
    let run = entente(&["registry", "members", "NATO", "--at", "1977-01-01"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.matches("outside-integrated-command").count(),
        2,
        "France and Greece: {}",
        run.stdout
    );
    let run = entente(&[
        "registry",
        "members",
        "NATO",
        "--at",
        "2024-06-01",
        "--json",
    ]);
    assert_eq!(run.json()["attributes"], json!({}));
}
