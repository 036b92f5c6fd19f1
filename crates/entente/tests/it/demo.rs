//! `entente demo`: the README's main job runs on the shipped data and records what it showed.

use crate::util::entente;

#[test]
fn demo_runs_and_writes_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("demo.json");
    let run = entente(&[
        "demo",
        "--at",
        "2024-09-01",
        "--manifest",
        manifest.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stdout
        .contains("Members of each organisation on key days"));
    assert!(run.stdout.contains("Release decisions"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(v["today"], "2024-09-01");
    let nato_2024 = v["membership_counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["day"] == "2024-03-07")
        .unwrap();
    assert_eq!(nato_2024["members"]["NATO"], 32);
    let decisions = v["release_decisions"].as_array().unwrap();
    assert_eq!(decisions[0]["decision"], "permit");
    assert_eq!(
        decisions[0]["agreement"],
        "nato-security-of-information-1997"
    );
    assert_eq!(decisions[1]["decision"], "deny");
    let swe: Vec<&str> = decisions
        .iter()
        .filter(|d| d["to"] == "SWE")
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(swe, ["deny", "deny", "permit"]);
}
