//! `entente registry invocations` and `entente registry participants`: the recorded invocations
//! and who takes part, as text and JSON, and their error paths.

use crate::util::{entente, entente_in, repo_root};

#[test]
fn invocations_table_lists_every_record() {
    let run = entente(&["registry", "invocations"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("11 invocations\n"), "{}", run.stdout);
    // Narrow columns wrap: look for pieces that fit in a cell.
    for piece in [
        "nato-art-5",
        "(Article 5)",
        "eu-art-42-7",
        "(Article",
        "BGR, CZE",
        "2025-09-23",
    ] {
        assert!(run.stdout.contains(piece), "{piece}\n{}", run.stdout);
    }
    let run = entente(&["registry", "invocations", "--json"]);
    let v = run.json();
    let ids: Vec<&str> = v["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 11);
    assert_eq!(ids.first(), Some(&"nato-art5-2001-09-12"));
    assert!(ids.contains(&"eu-art42-7-2015-11-17"));
    assert_eq!(ids.last(), Some(&"nato-art4-2025-09-19"));
    // Filtered by clause and by requesting nation.
    let run = entente(&["registry", "invocations", "--clause", "eu-art-42-7"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("1 invocation of eu-art-42-7 (Article 42(7))\n"),
        "{}",
        run.stdout
    );
    let run = entente(&["registry", "invocations", "--nation", "Poland"]);
    assert!(
        run.stdout.starts_with("3 invocations requested by POL\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn invocations_json_has_the_records_with_sources() {
    let run = entente(&[
        "registry",
        "invocations",
        "--clause",
        "north-atlantic-treaty/art4",
        "--nation",
        "TUR",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["clause"], "north-atlantic-treaty/art4");
    assert_eq!(v["nation"], "TUR");
    let list = v["invocations"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "nato-art4-2003-02-10",
            "nato-art4-2012-06-24",
            "nato-art4-2012-10-03",
            "nato-art4-2015-07-26",
            "nato-art4-2020-02-27",
        ]
    );
    let first = &list[0];
    assert_eq!(first["alias"], "nato-art-4");
    assert_eq!(first["article"], "Article 4");
    assert_eq!(first["kind"], "consultation");
    assert_eq!(first["requested_by"], serde_json::json!(["TUR"]));
    assert_eq!(first["requested"], "2003-02-10");
    assert_eq!(first["met"], "2003-02-10");
    assert!(first["closed"].is_null());
    let sources = first["sources"].as_array().unwrap();
    assert_eq!(sources[0]["id"], "I3");
    assert!(sources[0]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://www.nato.int/"));
}

#[test]
fn participants_of_the_2022_request_and_the_changes_after() {
    let run = entente(&[
        "registry",
        "participants",
        "--clause",
        "nato-art-4",
        "--requested-by",
        "BGR,CZE,EST,LVA,LTU,POL,ROU,SVK",
        "--at",
        "2022-02-24",
        "--until",
        "2024-12-31",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "Article 4 of the North Atlantic Treaty (consultation), requested by BGR, CZE, EST, LVA, LTU, POL, ROU, SVK on 2022-02-24: 30 participants\n"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("member of NATO since 1999-03-12"));
    assert!(!run.stdout.contains("Finland"));
    assert!(run
        .stdout
        .contains("Changes after 2022-02-24 up to 2024-12-31: 2"));
    assert!(run.stdout.contains("joined NATO on 2023-04-04"));
    assert!(run.stdout.contains("joined NATO on 2024-03-07"));
}

#[test]
fn participants_json() {
    let run = entente(&[
        "registry",
        "participants",
        "--clause",
        "eu-art-42-7",
        "--requested-by",
        "France",
        "--at",
        "2015-11-17",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["clause"], "teu-lisbon/art42-7");
    assert_eq!(v["alias"], "eu-art-42-7");
    assert_eq!(v["kind"], "mutual-assistance");
    assert_eq!(v["at"], "2015-11-17");
    assert_eq!(v["requested_by"], serde_json::json!(["FRA"]));
    let participants = v["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 28);
    let gbr = participants.iter().find(|p| p["nation"] == "GBR").unwrap();
    assert_eq!(gbr["requesting"], false);
    assert_eq!(gbr["name"], "United Kingdom");
    assert_eq!(gbr["basis"]["kind"], "member");
    assert_eq!(
        gbr["reason"],
        "member of the EU since 1973-01-01 (bound by Article 42(7))"
    );
    let fra = participants.iter().find(|p| p["nation"] == "FRA").unwrap();
    assert_eq!(fra["requesting"], true);
    assert!(v["changes"].is_null());
    // With --until, the United Kingdom leaves on 2020-02-01.
    let run = entente(&[
        "registry",
        "participants",
        "--clause",
        "eu-art-42-7",
        "--requested-by",
        "FRA",
        "--at",
        "2015-11-17",
        "--until",
        "2020-12-31",
        "--json",
    ]);
    let v = run.json();
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["nation"], "GBR");
    assert_eq!(changes[0]["day"], "2020-02-01");
    assert_eq!(changes[0]["joined"], false);
}

#[test]
fn participants_error_paths() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["registry", "participants", "--clause", "nato-art-6", "--requested-by", "POL", "--at", "2022-02-24"],
            "error: unknown clause \"nato-art-6\"; did you mean nato-art-4 (north-atlantic-treaty/art4)?\n",
        ),
        (
            &["registry", "participants", "--clause", "nato-art-4", "--requested-by", "POL,FIN", "--at", "2022-02-24"],
            "error: FIN is not a party to north-atlantic-treaty/art4 (Article 4) on 2022-02-24\n",
        ),
        (
            &["registry", "participants", "--clause", "aachen-art-4", "--requested-by", "DEU", "--at", "2019-06-01"],
            "error: treaty-of-aachen/art4-1 (Article 4(1)) does not apply on 2019-06-01: its agreement is signed, not in force\n",
        ),
        (
            &["registry", "participants", "--clause", "nato-art-4", "--requested-by", "Atlantis", "--at", "2022-02-24"],
            "error: unknown nation \"Atlantis\"; did you mean ALB (Albania)?\n",
        ),
        (
            &["registry", "participants", "--clause", "nato-art-4", "--requested-by", "POL", "--at", "2022-02-24", "--until", "2022-01-01"],
            "error: --until 2022-01-01 is before the day asked about, 2022-02-24\n",
        ),
    ];
    for (args, expected) in cases {
        let run = entente(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stderr, expected, "{args:?}");
        assert!(run.stdout.is_empty());
    }
    let run = entente(&["registry", "invocations", "--clause", "eu-art-42-6"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean eu-art-42-7"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_reports_an_invocation_by_a_nation_not_yet_a_party() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("data/registry"), tmp.path());
    let path = tmp.path().join("invocations.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("requested_by = [\"BGR\""))
        .unwrap()
        + 1;
    std::fs::write(&path, text.replacen("\"BGR\", ", "\"SWE\", ", 1)).unwrap();
    let run = entente_in(tmp.path(), &["registry", "check", "."]);
    assert_eq!(run.code, 2);
    let expected = format!(
        "./invocations.toml:{line}: invocation[nato-art4-2022-02-24].requested_by[0]: SWE is not a party to north-atlantic-treaty/art4 (Article 4) on 2022-02-24"
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
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
