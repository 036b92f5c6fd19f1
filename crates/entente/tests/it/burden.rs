//! `entente burden …`: answers checked against the sourced table (NATO June 2024 release, 2015 prices),
//! charts, cost shares and error paths.

use crate::util::{entente, entente_in};

/// 2014 and 2024e, % of GDP, from data/burden/expenditure.toml's sources (reference table B1/B2).
const TABLE: &[(&str, f64, f64)] = &[
    ("ALB", 1.35, 2.03),
    ("BEL", 0.97, 1.30),
    ("BGR", 1.31, 2.18),
    ("CAN", 1.01, 1.37),
    ("HRV", 1.81, 1.81),
    ("CZE", 0.94, 2.10),
    ("DNK", 1.15, 2.37),
    ("EST", 1.93, 3.43),
    ("FIN", 1.45, 2.41),
    ("FRA", 1.82, 2.06),
    ("DEU", 1.19, 2.12),
    ("GRC", 2.22, 3.08),
    ("HUN", 0.86, 2.11),
    ("ITA", 1.14, 1.49),
    ("LVA", 0.94, 3.15),
    ("LTU", 0.88, 2.85),
    ("LUX", 0.37, 1.29),
    ("MNE", 1.50, 2.02),
    ("NLD", 1.15, 2.05),
    ("MKD", 1.09, 2.22),
    ("NOR", 1.54, 2.20),
    ("POL", 1.88, 4.12),
    ("PRT", 1.31, 1.55),
    ("ROU", 1.35, 2.25),
    ("SVK", 0.98, 2.00),
    ("SVN", 0.97, 1.29),
    ("ESP", 0.92, 1.28),
    ("SWE", 1.06, 2.14),
    ("TUR", 1.45, 2.09),
    ("GBR", 2.14, 2.33),
    ("USA", 3.71, 3.38),
];

fn guideline_json(year: &str) -> serde_json::Value {
    let run = entente(&["burden", "guideline", "--year", year, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

#[test]
fn guideline_answers_match_the_sourced_table() {
    for (year, col) in [("2014", 1), ("2024", 2)] {
        let v = guideline_json(year);
        let allies = v["allies"].as_array().unwrap();
        assert_eq!(allies.len(), 31, "{year}");
        for row in TABLE {
            let want = if col == 1 { row.1 } else { row.2 };
            let a = allies.iter().find(|a| a["nation"] == row.0).unwrap();
            assert_eq!(a["pct_gdp"].as_f64().unwrap(), want, "{} {year}", row.0);
            assert_eq!(a["edition"], "nato-2024-06");
            assert_eq!(a["price_base"], "2015 prices and exchange rates");
            assert_eq!(
                a["checks"][0]["met"].as_bool().unwrap(),
                want >= 2.0,
                "{} {year}",
                row.0
            );
        }
    }
    let v = guideline_json("2014");
    assert_eq!(v["counts"][0]["allies_meeting"], 3);
    assert_eq!(v["allies"][0]["estimate"], false);
    let v = guideline_json("2024");
    assert_eq!(v["counts"][0]["allies_meeting"], 23);
    assert_eq!(v["counts"][1]["allies_meeting"], 1);
    assert_eq!(v["not_assessed"][0]["id"], "hague-5pct");
}

#[test]
fn guideline_table_and_unknown_year() {
    let run = entente(&["burden", "guideline", "--year", "2024"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains("Meeting: wales-2pct: 23 of 31; hague-core-3.5pct: 1 of 31"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("│ POL    ┆ 4.12e ┆ yes"),
        "{}",
        run.stdout
    );
    let run = entente(&["burden", "guideline", "--year", "2019"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: unknown year \"2019\" (years with data: 2014, 2023, 2024, 2025)\n"
    );
}

#[test]
fn what_if_germany_reaches_three_and_a_half() {
    let run = entente(&["burden", "what-if", "--year", "2024", "DEU=3.5", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["changes"][0]["nation"], "DEU");
    assert_eq!(v["changes"][0]["guideline"], "hague-core-3.5pct");
    assert_eq!(v["counts_after"][1]["allies_meeting"], 2);
    let run = entente(&["burden", "what-if", "--year", "2024", "DEU:3.5"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("expected NATION=NUMBER"),
        "{}",
        run.stderr
    );
}

#[test]
fn programme_shows_participants_over_time_and_plans() {
    let run = entente(&["burden", "programme", "eurodrone", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    let timeline: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["day"].as_str().unwrap())
        .collect();
    assert_eq!(timeline, ["2015-05-18", "2015-12-09", "2018-11-19"]);
    let deu = v["balance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["nation"] == "DEU")
        .unwrap();
    assert_eq!(deu["planned"], 18.6);
    let run = entente(&[
        "burden",
        "programme",
        "eurodrone",
        "--at",
        "2015-06-01",
        "--json",
    ]);
    let v = run.json();
    assert_eq!(v["participants"].as_array().unwrap().len(), 3);
    let run = entente(&["burden", "programme", "nosuch"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: unknown programme \"nosuch\" (known: "),
        "{}",
        run.stderr
    );
}

#[test]
fn ledger_files_from_the_command_line_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        r#"[[source]]
id = "X1"
title = "test"
reference = "test"
tier = 2

[[programme]]
id = "demo"
name = "Demo"
kind = "other"
source = "X1"
participants = [
  { nation = "FRA", from = "2020-01-01", source = "X1" },
  { nation = "DEU", from = "2020-01-01", source = "X1" },
]
[[programme.phase]]
id = "build"
cost = 100.0
source = "X1"
contributions = [
  { nation = "FRA", planned = 60.0, as_of = "2020-01-01", source = "X1" },
  { nation = "DEU", planned = 40.0, actual = 35.0, as_of = "2020-01-01", source = "X1" },
]
work_share = [
  { nation = "FRA", share = 0.5, source = "X1" },
  { nation = "DEU", share = 0.5, source = "X1" },
]
"#,
    )
    .unwrap();
    let path = good.to_str().unwrap();
    let run = entente(&["burden", "programme", "demo", "--ledger", path, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    let deu = v["balance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["nation"] == "DEU")
        .unwrap();
    assert_eq!(deu["actual"], 35.0);
    assert!((deu["return_ratio"].as_f64().unwrap() - 1.25).abs() < 1e-12);

    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("planned = 60.0", "planned = -60.0")
        .replace("\"DEU\", share = 0.5", "\"ITA\", share = 0.5");
    std::fs::write(&bad, text).unwrap();
    let run = entente(&["burden", "check", "--ledger", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let file = bad.display().to_string();
    assert!(
        run.stderr.contains(&format!(
            "{file}:21: field `contributions.planned`: expected a finite number >= 0, found -60"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "{file}:26: field `work_share.nation`: ITA is not a participant"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn share_rules_cap_and_fairness() {
    // Six weights (test inputs): the dataset ships no GNI basis, its only source being a wiki table.
    let run = entente(&[
        "burden",
        "share",
        "--rule",
        "proportional",
        "--weight",
        "USA=18",
        "--weight",
        "DEU=3.6",
        "--weight",
        "GBR=2.8",
        "--weight",
        "FRA=2.6",
        "--weight",
        "ITA=1.9",
        "--weight",
        "CAN=1.6",
        "--cap",
        "0.3",
        "--total",
        "1000",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    let shares = v["shares"].as_array().unwrap();
    let sum: f64 = shares.iter().map(|s| s["amount"].as_f64().unwrap()).sum();
    assert!((sum - 1000.0).abs() < 1e-6);
    assert_eq!(shares[0]["nation"], "USA");
    assert_eq!(shares[0]["fraction"], 0.3);
    assert_eq!(shares[0]["bound"], "cap");
    assert!(v["fairness"]["proportionality_gap"].as_f64().unwrap() > 0.29);

    // A 16.35% cap cannot be met by six payers.
    let run = entente(&[
        "burden",
        "share",
        "--rule",
        "proportional",
        "--weight",
        "USA=18",
        "--weight",
        "DEU=3.6",
        "--weight",
        "GBR=2.8",
        "--weight",
        "FRA=2.6",
        "--weight",
        "ITA=1.9",
        "--weight",
        "CAN=1.6",
        "--cap",
        "0.1635",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("a cap of 0.1635 cannot cover the total with 6 nations"),
        "{}",
        run.stderr
    );

    // Inline weights, equal shares of a programme phase, and a wrong basis kind.
    let run = entente(&[
        "burden",
        "share",
        "--rule",
        "proportional",
        "--weight",
        "FRA=1",
        "--weight",
        "DEU=3",
        "--total",
        "8",
        "--json",
    ]);
    let v = run.json();
    assert_eq!(v["shares"][1]["amount"], 6.0);
    let run = entente(&[
        "burden",
        "share",
        "--programme",
        "eurodrone",
        "--rule",
        "equal",
        "--json",
    ]);
    let v = run.json();
    assert_eq!(v["total"], 60.0);
    assert_eq!(v["shares"].as_array().unwrap().len(), 4);
    assert_eq!(v["shares"][0]["planned"], 18.6);
    let basis = tempfile::tempdir().unwrap();
    let file = basis.path().join("gni-example.toml");
    std::fs::write(
        &file,
        "name = \"gni-example\"\nkind = \"gni\"\nunit = \"weight\"\nsource = \"B9\"\nvalues = [{ nation = \"FRA\", value = 1.0 }]\n",
    )
    .unwrap();
    let run = entente(&[
        "burden",
        "share",
        "--rule",
        "gdp",
        "--basis",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("needs a gdp basis"), "{}", run.stderr);
}

#[test]
fn shapley_from_a_game_file() {
    let dir = tempfile::tempdir().unwrap();
    let game = dir.path().join("game.toml");
    // A shared test range: each alone pays its own need; together they pay for the largest.
    std::fs::write(
        &game,
        r#"players = ["FRA", "DEU", "ITA"]
[[coalition]]
members = ["FRA"]
cost = 30
[[coalition]]
members = ["DEU"]
cost = 60
[[coalition]]
members = ["ITA"]
cost = 90
[[coalition]]
members = ["FRA", "DEU"]
cost = 60
[[coalition]]
members = ["FRA", "ITA"]
cost = 90
[[coalition]]
members = ["DEU", "ITA"]
cost = 90
[[coalition]]
members = ["FRA", "DEU", "ITA"]
cost = 90
"#,
    )
    .unwrap();
    let run = entente(&[
        "burden",
        "share",
        "--rule",
        "shapley",
        "--game",
        game.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    let amounts: Vec<f64> = v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["amount"].as_f64().unwrap())
        .collect();
    for (a, w) in amounts.iter().zip([10.0, 25.0, 55.0]) {
        assert!((a - w).abs() < 1e-9, "{amounts:?}");
    }
    assert_eq!(v["core"]["in_core"], true);
    let text = std::fs::read_to_string(&game).unwrap();
    let cut = text
        .find("[[coalition]]\nmembers = [\"DEU\", \"ITA\"]")
        .unwrap();
    std::fs::write(&game, &text[..cut]).unwrap();
    let run = entente(&[
        "burden",
        "share",
        "--rule",
        "shapley",
        "--game",
        game.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("2 coalition costs missing, e.g. [DEU, ITA]; [FRA, DEU, ITA]"),
        "{}",
        run.stderr
    );
}

#[test]
fn charts_are_written_as_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("g.svg");
    let run = entente(&[
        "burden",
        "chart",
        "guideline",
        "--year",
        "2024",
        "--out",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"));
    for label in [
        "POL",
        "ESP",
        "Wales 2% guideline (2%)",
        "meets 2%",
        "Defence expenditure, % of GDP, 2024 (NATO estimates)",
    ] {
        assert!(text.contains(label), "{label} missing from the SVG");
    }
    let png = dir.path().join("t.png");
    let run = entente(&[
        "burden",
        "chart",
        "trend",
        "POL",
        "DEU",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let run = entente(&[
        "burden",
        "chart",
        "trend",
        "--out",
        dir.path().join("t.gif").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("must end in .svg or .png"));
}

#[test]
fn funding_and_check_and_data_flag() {
    let run = entente(&["burden", "funding", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["edf"]["total"], 7953.0);
    assert_eq!(v["nato_common_funding"]["basis"], "gni");
    let run = entente(&["burden", "check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("ok (38 sources"), "{}", run.stdout);
    // Without ./data/burden the binary falls back to the source tree's copy.
    let dir = tempfile::tempdir().unwrap();
    let run = entente_in(
        dir.path(),
        &["burden", "guideline", "--year", "2014", "--json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = entente(&["burden", "--data", dir.path().to_str().unwrap(), "check"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
}

#[test]
fn both_editions_answer_with_edition() {
    let pol = |edition: &str, year: &str| {
        let run = entente(&[
            "burden",
            "guideline",
            "--year",
            year,
            "--edition",
            edition,
            "--json",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let v = run.json();
        let allies = v["allies"].as_array().unwrap().clone();
        assert!(allies.iter().all(|a| a["edition"] == edition));
        let hague = v["not_assessed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["id"] == "hague-5pct")
            .unwrap()
            .clone();
        let reason = hague["reason"].as_str().unwrap().to_owned();
        assert!(
            reason.starts_with("not assessed") && reason.contains(edition),
            "{reason}"
        );
        allies.iter().find(|a| a["nation"] == "POL").unwrap()["pct_gdp"]
            .as_f64()
            .unwrap()
    };
    let (june_2024, august_2025) = (pol("nato-2024-06", "2024"), pol("nato-2025-08", "2025"));
    assert_ne!(june_2024, august_2025);
    // The trend of one edition holds only that edition's years.
    let run = entente(&[
        "burden",
        "trend",
        "POL",
        "--edition",
        "nato-2025-08",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    let points = v[0]["points"].as_array().unwrap();
    assert!(points.iter().all(|p| p["edition"] == "nato-2025-08"));
    let run = entente(&["burden", "trend", "POL", "--edition", "nato-1999"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown edition \"nato-1999\""),
        "{}",
        run.stderr
    );
}

#[test]
fn check_lists_the_figures_without_a_primary_source() {
    let run = entente(&["burden", "check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stdout
        .contains("not confirmed by a primary (tier 1) source"));
    assert!(
        run.stdout.contains("cost share 2021-2024 USA = 16.35%"),
        "{}",
        run.stdout
    );
}

#[test]
fn chart_trend_takes_an_edition() {
    let dir = tempfile::tempdir().unwrap();
    for edition in ["nato-2024-06", "nato-2025-08"] {
        let svg = dir.path().join(format!("{edition}.svg"));
        let run = entente(&[
            "burden",
            "chart",
            "trend",
            "POL",
            "--edition",
            edition,
            "--out",
            svg.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.contains(&format!("edition {edition}")),
            "{}",
            run.stdout
        );
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            text.contains(&format!("(NATO edition {edition})")),
            "{edition}"
        );
    }
    let run = entente(&[
        "burden",
        "chart",
        "trend",
        "POL",
        "--edition",
        "nato-1999",
        "--out",
        dir.path().join("x.svg").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown edition \"nato-1999\""),
        "{}",
        run.stderr
    );
}
