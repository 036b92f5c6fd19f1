//! What users expect of any command line: completions for every shell, man pages for every
//! subcommand, and `--json` on the commands that print a result (one JSON document on stdout,
//! the same data as the text).

use std::path::Path;

use serde_json::{json, Value};

use crate::util::{entente, Run};

/// The top-level subcommands, as `entente --help` lists them.
const SUBCOMMANDS: [&str; 13] = [
    "registry",
    "release",
    "label",
    "burden",
    "demo",
    "picture",
    "exercise",
    "node",
    "user",
    "audit",
    "federation",
    "completions",
    "man",
];

fn ok(run: Run) -> Run {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn completion_scripts_for_every_shell() {
    let bash = ok(entente(&["completions", "bash"])).stdout;
    for sub in SUBCOMMANDS {
        assert!(bash.contains(sub), "bash completion misses {sub}");
    }
    // Nested subcommands and their options are completed too.
    assert!(bash.contains("entente__subcmd__registry__subcmd__check"));
    assert!(bash.contains("--json"));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = ok(entente(&["completions", shell])).stdout;
        assert!(script.contains("registry"), "{shell}");
    }
    assert_eq!(entente(&["completions", "tcsh"]).code, 2);
}

#[test]
fn man_pages_for_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    let v = ok(entente(&["man", "--out", s(&out), "--json"])).json();
    let pages: Vec<&str> = v["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(pages.contains(&"entente.1"), "{pages:?}");
    for sub in SUBCOMMANDS {
        assert!(
            pages.contains(&format!("entente-{sub}.1").as_str()),
            "{pages:?}"
        );
    }
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    for page in &pages {
        assert!(read(page).starts_with(".TH"), "{page}");
    }
    let main = read("entente.1");
    for sub in SUBCOMMANDS {
        assert!(
            main.contains(&format!("entente\\-{sub}")),
            "entente.1 misses {sub}"
        );
    }
    // Each page documents every option its subcommand's --help lists.
    for page in &pages {
        let text = read(page);
        let words = command_of(&text);
        let mut args: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
        args.push("--help");
        let help = ok(entente(&args)).stdout;
        for option in options_of(&help) {
            let escaped = option.replace('-', "\\-");
            assert!(text.contains(&escaped), "{page} misses {option}");
        }
    }
    let check = read("entente-registry-check.1");
    assert!(check.contains("\\-\\-json"), "{check}");
    let keygen = read("entente-audit-keygen.1");
    for option in ["\\-\\-nation", "\\-\\-out", "\\-\\-force"] {
        assert!(keygen.contains(option), "{keygen}");
    }
    let share = read("entente-burden-share.1");
    for option in ["\\-\\-rule", "\\-\\-basis", "\\-\\-game", "\\-\\-cap"] {
        assert!(share.contains(option), "{share}");
    }
    let text = ok(entente(&["man", "--out", s(&out)])).stdout;
    assert!(
        text.starts_with(&format!("wrote {} man pages", pages.len())),
        "{text}"
    );
}

/// The command a man page documents, from its synopsis (`\fBentente burden what\-if\fR …`).
fn command_of(page: &str) -> Vec<String> {
    let synopsis = page
        .lines()
        .skip_while(|line| *line != ".SH SYNOPSIS")
        .nth(1)
        .unwrap();
    let name = synopsis
        .strip_prefix("\\fB")
        .and_then(|rest| rest.split("\\fR").next())
        .unwrap();
    name.replace("\\-", "-")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The long options a `--help` text lists (the lines that start with an option).
fn options_of(help: &str) -> Vec<String> {
    help.lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with('-'))
        .flat_map(|line| {
            line.split_whitespace()
                .take_while(|w| w.starts_with('-'))
                .map(|w| {
                    w.trim_end_matches(',')
                        .split(['=', '<'])
                        .next()
                        .unwrap_or(w)
                        .to_owned()
                })
                .filter(|w| w.starts_with("--"))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn registry_check_json() {
    let v = ok(entente(&["registry", "check", "--json"])).json();
    assert_eq!(v["ok"], true);
    assert!(v["nations"].as_u64().unwrap() > 30, "{v}");
    assert!(v["agreements"].as_u64().unwrap() > 0, "{v}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nations.toml"), "[[nation]\n").unwrap();
    let run = entente(&["registry", "check", s(dir.path()), "--json"]);
    if run.code == 2 && !run.stdout.is_empty() {
        let v = run.json();
        assert_eq!(v["ok"], false);
        assert!(!v["problems"].as_array().unwrap().is_empty(), "{v}");
    } else {
        assert_eq!(run.code, 2, "{}", run.stderr);
    }
}

fn init(root: &Path, nation: &str) -> (String, Value) {
    let data = root.join(nation);
    let port = crate::util::free_port().to_string();
    let v = ok(entente(&[
        "node",
        "init",
        "--nation",
        nation,
        "--data",
        s(&data),
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--federation-listen",
        &format!("127.0.0.1:{port}"),
        "--json",
    ]))
    .json();
    (s(&data.join("node.toml")).to_owned(), v)
}

#[test]
fn node_init_and_federation_json() {
    let root = tempfile::tempdir().unwrap();
    let (fra, v) = init(root.path(), "FRA");
    assert_eq!(v["nation"], "FRA");
    assert_eq!(v["config"], fra);
    assert!(Path::new(v["ca"].as_str().unwrap()).is_file(), "{v}");
    let (usa, _) = init(root.path(), "USA");

    let id = ok(entente(&[
        "federation",
        "identity",
        "--config",
        &fra,
        "--json",
    ]))
    .json();
    assert_eq!(id["nation"], "FRA");
    let line = ok(entente(&["federation", "identity", "--config", &fra])).stdout;
    assert_eq!(id["identity"], line.trim_end());

    let export = ok(entente(&[
        "federation",
        "export",
        "--config",
        &usa,
        "--json",
    ]))
    .json();
    assert_eq!(export["nation"], "USA");
    assert!(
        export["block"]
            .as_str()
            .unwrap()
            .contains("[[federation.partner]]"),
        "{export}"
    );
    assert!(export["audit_key"]
        .as_str()
        .unwrap()
        .starts_with("entente.audit/USA+"));
    let block = root.path().join("usa.toml");
    std::fs::write(&block, export["block"].as_str().unwrap()).unwrap();

    let empty = ok(entente(&[
        "federation",
        "partners",
        "--config",
        &fra,
        "--json",
    ]))
    .json();
    assert_eq!(empty, json!({"partners": []}));
    let import = ok(entente(&[
        "federation",
        "import",
        s(&block),
        "--config",
        &fra,
        "--json",
    ]))
    .json();
    assert_eq!(import, json!({"added": "USA", "config": fra}));
    let partners = ok(entente(&[
        "federation",
        "partners",
        "--config",
        &fra,
        "--json",
    ]))
    .json();
    assert_eq!(partners["partners"][0]["nation"], "USA");
    assert_eq!(partners["partners"][0]["url"], export["url"]);
    assert_eq!(partners["partners"][0]["audit_key"], true);

    let rescan = ok(entente(&[
        "federation",
        "rescan",
        "--config",
        &fra,
        "--json",
    ]))
    .json();
    assert_eq!(rescan, json!({"rescan": true, "partners": 1}));
}

fn audit_event() -> Value {
    json!({
        "kind": "publish",
        "at": "2026-11-27T04:00:00.000Z",
        "origin": "FRA",
        "node": "FRA",
        "partner": null,
        "object_id": "report--00000001-0f3c-4f6e-9d4c-5a1b2c3d4e5f",
        "version": "2026-11-27T04:00:00.000Z",
        "digest": format!("{:064x}", 7919),
        "detail": null,
    })
}

#[test]
fn audit_checkpoint_and_verify_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| s(&dir.path().join(name)).to_owned();
    let vkey = ok(entente(&[
        "audit",
        "keygen",
        "--nation",
        "FRA",
        "--out",
        &path("k"),
    ]))
    .stdout
    .trim()
    .to_owned();
    let events = Value::Array(vec![audit_event(), audit_event(), audit_event()]);
    let log = path("log");
    ok(entente(&[
        "audit",
        "append",
        "--log",
        &log,
        "--key",
        &path("k"),
        "--event",
        &events.to_string(),
    ]));
    let cp = ok(entente(&[
        "audit",
        "checkpoint",
        "--log",
        &log,
        "--key",
        &path("k"),
        "--json",
    ]))
    .json();
    assert_eq!(cp["origin"], "entente.audit/FRA");
    assert_eq!(cp["size"], 3);
    let note = cp["note"].as_str().unwrap();
    assert!(note.starts_with("entente.audit/FRA\n3\n"), "{note}");
    assert!(note.contains(cp["root"].as_str().unwrap()));
    std::fs::write(path("cp"), note).unwrap();

    let proof = ok(entente(&["audit", "prove", "--log", &log, "--index", "1"])).stdout;
    std::fs::write(path("proof"), proof).unwrap();
    let args = [
        "audit",
        "verify",
        "--vkey",
        &vkey,
        "--checkpoint",
        &path("cp"),
    ];
    let v = ok(entente(&[&args[..], &["--json"]].concat())).json();
    assert_eq!(v["checkpoint"]["size"], 3);
    assert_eq!(v["checkpoint"]["root"], cp["root"]);
    assert_eq!(v["checkpoint"]["signature_verified"], true);
    let v = ok(entente(
        &[&args[..], &["--proof", &path("proof"), "--json"]].concat(),
    ))
    .json();
    assert_eq!(
        v["inclusion"],
        json!({"index": 1, "size": 3, "verified": true})
    );
    // A failed verification still exits 4 and prints no document.
    let run = entente(&[
        "audit",
        "verify",
        "--vkey",
        &vkey,
        "--checkpoint",
        &path("proof"),
        "--json",
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}
