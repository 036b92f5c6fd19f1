//! `entente release …`: decisions for the examples of the documentation, tear-lined bundles, and
//! every error path.

use std::path::Path;

use entente_labels::{parse_marking, stix, PolicySet};
use serde_json::{json, Value};

use crate::util::{entente, repo_root};

fn check(label: &str, from: &str, to: &str, at: &str) -> (i32, Value) {
    let run = entente(&[
        "release", "check", "--label", label, "--from", from, "--to", to, "--at", at, "--json",
    ]);
    (
        run.code,
        if run.stdout.is_empty() {
            Value::Null
        } else {
            run.json()
        },
    )
}

#[test]
fn documented_examples() {
    let (code, v) = check(
        "NATO SECRET//REL TO FRA, GBR, USA",
        "FRA",
        "USA",
        "2024-06-01",
    );
    assert_eq!(code, 0);
    assert_eq!(v["decision"], "permit");
    assert_eq!(v["agreement"], "nato-security-of-information-1997");
    assert_eq!(v["clause"], "Article 1 and Annex I");
    let (code, v) = check(
        "NATO SECRET//REL TO FRA, GBR, USA",
        "FRA",
        "JPN",
        "2024-06-01",
    );
    assert_eq!(code, 3);
    assert_eq!(v["decision"], "deny");
    assert_eq!(
        v["reason"],
        "JPN is not in REL TO FRA, GBR, USA on 2024-06-01"
    );
    assert_eq!(v["agreement"], Value::Null);
    // Sweden: outside NATO on 2024-01-01; a member from 2024-03-07, but party to the 1997 security
    // agreement only from 2024-08-02.
    let (code, v) = check("NATO RESTRICTED//REL TO NATO", "FRA", "SWE", "2024-01-01");
    assert_eq!(
        (code, v["reason"].as_str().unwrap()),
        (3, "SWE is not in REL TO NATO on 2024-01-01")
    );
    let (code, v) = check("NATO RESTRICTED//REL TO NATO", "FRA", "SWE", "2024-04-01");
    assert_eq!(code, 3);
    assert_eq!(v["reason"], "no security-of-information agreement in force between FRA and SWE on 2024-04-01 covers NATO RESTRICTED");
    let (code, v) = check("NATO RESTRICTED//REL TO NATO", "FRA", "SWE", "2024-08-02");
    assert_eq!((code, v["decision"].as_str().unwrap()), (0, "permit"));
    let run = entente(&[
        "release",
        "check",
        "--label",
        "FR SECRET//REL TO FRA, DEU",
        "--from",
        "FRA",
        "--to",
        "DEU",
        "--at",
        "2024-06-01",
    ]);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout
            .starts_with("deny: no security-of-information agreement in force between FRA and DEU"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_input_exits_2_with_one_precise_line() {
    let cases: [(&[&str], &str); 7] = [
        (&["--label", "NATO SECRT", "--from", "FRA", "--to", "USA"], "error: marking: unknown classification \"NATO SECRT\"; did you mean \"NATO SECRET\"?\n"),
        (&["--label", "NATO SECRET//REL TO FRA, US\u{0410}", "--from", "FRA", "--to", "USA"], "error: marking segment 2: bad release token \"USА\": only ASCII letters, digits and '-' (a lookalike letter?)\n"),
        (&["--label", "NATO SECRET//REL TO U\u{200B}SA", "--from", "FRA", "--to", "USA"], "error: marking: forbidden character U+200B (invisible, bidirectional or control)\n"),
        (&["--label", "NATO SECRET//REL TO XYZ", "--from", "FRA", "--to", "USA"], "error: Releasable To value \"XYZ\" is neither a known nation nor a known group\n"),
        (&["--label", "NATO SECRET//UMBRA", "--from", "FRA", "--to", "USA"], "error: marking segment 2: unknown additional sensitivity value \"UMBRA\"\n"),
        (&["--label", "NATO SECRET", "--from", "FRN", "--to", "USA"], "error: --from: unknown nation \"FRN\"; did you mean FRA (France)?\n"),
        (&["--label", "NATO SECRET", "--from", "FRA", "--to", "USA", "--at", "2024-02-30"], "error: malformed date \"2024-02-30\": no such day in the calendar\n"),
    ];
    for (args, expected) in cases {
        let mut all = vec!["release", "check"];
        all.extend_from_slice(args);
        let run = entente(&all);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, expected, "{args:?}");
    }
    let many = format!(
        "NATO SECRET//REL TO {}",
        (0..10_000)
            .map(|i| format!("T{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let run = entente(&[
        "release", "check", "--label", &many, "--from", "FRA", "--to", "USA",
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: marking: too many bytes in a marking: at most 4096\n"
    );
}

/// The example bundle shipped in `examples/`: a report with portions for different audiences.
fn example_bundle() -> Value {
    let policies = PolicySet::load(&repo_root().join("data/policies")).unwrap();
    let md = |marking: &str| {
        stix::to_marking_definition(&policies, &parse_marking(&policies, marking).unwrap()).unwrap()
    };
    let base = md("NATO SECRET//REL TO FRA, GBR, USA, JPN");
    let five = md("NATO SECRET//REL TO FRA, GBR, USA");
    let two = md("NATO SECRET//REL TO FRA, GBR");
    json!({
        "type": "bundle",
        "id": "bundle--5d0c2b7e-8f4a-4f5e-9b1c-3a2d4e6f8a10",
        "objects": [
            stix::label_extension_definition(),
            base, five, two,
            {
                "type": "report", "spec_version": "2.1",
                "id": "report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b",
                "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
                "name": "Unidentified aircraft over the Baltic Sea",
                "published": "2024-08-01T09:00:00.000Z",
                "report_types": ["threat-report"],
                "description": "Two aircraft without transponders flew west of Kaliningrad at 0715Z.",
                "object_refs": [
                    "indicator--1b2c3d4e-0000-4000-8000-000000000001",
                    "indicator--1b2c3d4e-0000-4000-8000-000000000002"
                ],
                "external_references": [
                    {"source_name": "open-source", "description": "Public flight-tracking data"},
                    {"source_name": "liaison", "description": "Reported through the Franco-British liaison cell"}
                ],
                "object_marking_refs": [base["id"]],
                "granular_markings": [
                    {"marking_ref": five["id"], "selectors": ["description"]},
                    {"marking_ref": two["id"], "selectors": ["external_references.[1]", "object_refs.[1]"]}
                ]
            }
        ]
    })
}

#[test]
fn example_bundle_is_current() {
    let path = repo_root().join("examples/report-bundle.json");
    let expected = serde_json::to_string_pretty(&example_bundle()).unwrap() + "\n";
    if std::env::var_os("UPDATE_EXAMPLES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "examples/report-bundle.json is stale: run with UPDATE_EXAMPLES=1"
    );
}

fn release(to: &str, json_flag: bool) -> crate::util::Run {
    let file = repo_root().join("examples/report-bundle.json");
    let file = file.to_str().unwrap();
    let mut args = vec![
        "release",
        "object",
        file,
        "--from",
        "FRA",
        "--to",
        to,
        "--at",
        "2024-09-01",
    ];
    if json_flag {
        args.push("--json");
    }
    entente(&args)
}

#[test]
fn tear_lined_bundles_per_recipient() {
    // GBR sees it all; USA loses the liaison portions; JPN also loses the description; DEU nothing.
    let run = release("GBR", false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b permit: permitted from FRA to GBR"
        ),
        "{}",
        run.stderr
    );
    let bundle = run.json();
    assert!(bundle.to_string().contains("liaison cell"));
    let run = release("USA", false);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains(" partial: ")
            && run
                .stderr
                .contains("; tear-lined: external_references.[1] cut: ")
            && run.stderr.contains("; object_refs.[1] cut: "),
        "{}",
        run.stderr
    );
    let text = run.stdout.clone();
    assert!(!text.contains("liaison cell") && !text.contains("000000000002"));
    assert!(text.contains("without transponders"));
    let bundle = run.json();
    let names: Vec<&str> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(
        names.contains(&"NATO SECRET//REL TO FRA, GBR, USA"),
        "banner marking shipped: {names:?}"
    );
    assert!(
        !names.contains(&"NATO SECRET//REL TO FRA, GBR"),
        "a cut portion's label is not shipped"
    );
    let run = release("JPN", true);
    assert_eq!(run.code, 0);
    let v = run.json();
    assert_eq!(v["decision"], "partial");
    assert!(!v["bundle"].to_string().contains("without transponders"));
    let run = release("DEU", true);
    assert_eq!(run.code, 3);
    let v = run.json();
    assert_eq!(v["decision"], "deny");
    assert_eq!(v["bundle"]["objects"], json!([]));
    assert_eq!(
        v["objects"][0]["reason"],
        "DEU is not in REL TO FRA, GBR, JPN, USA on 2024-09-01"
    );
}

#[test]
fn object_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let run_on = |path: &str| entente(&["release", "object", path, "--from", "FRA", "--to", "USA"]);
    let p = write("bad.json", "{\"type\": \"bundle\",\n \"objects\": [}");
    let run = run_on(&p);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(&format!("error: {p}:2:")) && run.stderr.contains("malformed JSON"),
        "{}",
        run.stderr
    );
    let p = write("single.json", "{\"type\": \"report\"}");
    assert!(run_on(&p).stderr.contains("expected a STIX bundle"));
    // A tampered label: its id no longer matches its content.
    let mut bundle = example_bundle();
    bundle["objects"][1]["extensions"][stix::LABEL_EXTENSION_ID]["classification"] =
        json!("UNCLASSIFIED");
    let p = write("tampered.json", &bundle.to_string());
    let run = run_on(&p);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("objects[1]: $.id: marking-definition--")
            && run.stderr.contains("does not match the label it carries"),
        "{}",
        run.stderr
    );
    // A selector naming an absent property.
    let mut bundle = example_bundle();
    bundle["objects"][4]["granular_markings"][0]["selectors"] = json!(["summary"]);
    let p = write("selector.json", &bundle.to_string());
    let run = run_on(&p);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("selector \"summary\": names a property that the object does not have"),
        "{}",
        run.stderr
    );
    let run = run_on(Path::new("/nonexistent.json").to_str().unwrap());
    assert_eq!(run.code, 2);
}

/// The OASIS validator (`stix2-validator --version 2.1 --strict`) accepts every released copy.
#[test]
fn released_bundles_pass_the_oasis_validator() {
    let Some(validator) = std::env::var_os("ENTENTE_STIX_VALIDATOR") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must set ENTENTE_STIX_VALIDATOR (scripts/test-all.sh installs stix2-validator)"
        );
        eprintln!(
            "SKIPPED released_bundles_pass_the_oasis_validator: ENTENTE_STIX_VALIDATOR is not set"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for to in ["GBR", "USA", "JPN"] {
        let run = release(to, false);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let path = dir.path().join(format!("{to}.json"));
        std::fs::write(&path, &run.stdout).unwrap();
        let out = std::process::Command::new(&validator)
            .args(["--version", "2.1", "--strict"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("STIX JSON: Valid"),
            "{to}: {text}"
        );
    }
}
