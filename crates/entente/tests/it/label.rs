//! `entente label …`: the example markings, conversions between every pair of forms, and every
//! error path (one precise line on stderr, exit code 2).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::{entente, repo_root, Run};

const EXAMPLES: [&str; 3] = [
    "NATO SECRET//REL TO FRA, GBR, USA",
    "FR SECRET//REL TO FRA, DEU",
    "NATO SECRET//ATOMAL//REL TO FRA, GBR",
];

/// Runs `entente ARGS` from the repository root with `input` on standard input.
fn entente_with_stdin(args: &[&str], input: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args(args)
        .current_dir(repo_root())
        .env_remove("ENTENTE_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the entente binary runs");
    let mut stdin = child.stdin.take().unwrap();
    // The binary may refuse the input before reading all of it: a broken pipe is fine here.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes `content` to a file in a fresh temporary folder.
fn file_with(content: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("label");
    std::fs::write(&path, content).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

fn ok(run: &Run) -> &str {
    assert_eq!(
        run.code, 0,
        "stderr: {}\nstdout: {}",
        run.stderr, run.stdout
    );
    &run.stdout
}

/// Asserts a refusal: exit 2, and one line on stderr containing `needle`.
fn refused(run: &Run, needle: &str) {
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(
        run.stderr.contains(needle),
        "{needle:?} not in {}",
        run.stderr
    );
}

fn convert(to: &str, input: &str) -> String {
    ok(&entente_with_stdin(
        &["label", "convert", "--to", to, "-"],
        input,
    ))
    .to_owned()
}

#[test]
fn parse_prints_the_fields_of_the_example_markings() {
    let run = entente(&["label", "parse", EXAMPLES[0]]);
    assert_eq!(
        ok(&run),
        "policy:         NATO (NATO security policy, OID 1.3.26.1.3.1)
classification: SECRET (level 4 of 5)
releasable to:  FRA, GBR, USA
caveats:        -
contexts:       -
marking:        NATO SECRET//REL TO FRA, GBR, USA
"
    );
    let run = entente(&["label", "parse", EXAMPLES[1]]);
    let out = ok(&run);
    assert!(
        out.starts_with("policy:         FRA (Protection du secret"),
        "{out}"
    );
    assert!(
        out.contains("classification: SECRET (level 1 of 2)"),
        "{out}"
    );
    // Sets are canonical: sorted.
    assert!(out.contains("releasable to:  DEU, FRA\n"), "{out}");
    assert!(
        out.ends_with("marking:        FR SECRET//REL TO DEU, FRA\n"),
        "{out}"
    );
    let run = entente(&["label", "parse", EXAMPLES[2]]);
    let out = ok(&run);
    assert!(out.contains("caveats:        ATOMAL\n"), "{out}");
    assert!(out.contains("releasable to:  FRA, GBR\n"), "{out}");
}

#[test]
fn parse_explains_default_and_empty_release() {
    let out = ok(&entente(&["label", "parse", "NATO SECRET"])).to_owned();
    assert!(
        out.contains("releasable to:  members of NATO (policy default)"),
        "{out}"
    );
    let out = ok(&entente(&["label", "parse", "UK SECRET"])).to_owned();
    assert!(
        out.contains("releasable to:  the originating nation only (policy default)"),
        "{out}"
    );
    let out = ok(&entente(&["label", "parse", "NATO SECRET//REL TO NONE"])).to_owned();
    assert!(out.contains("releasable to:  nobody"), "{out}");
    let out = ok(&entente(&[
        "label",
        "parse",
        "NATO SECRET//REL TO FRA, GBR//REL TO NATO",
    ]))
    .to_owned();
    assert!(
        out.contains("releasable to:  FRA, GBR\nreleasable to:  and NATO\n"),
        "{out}"
    );
}

#[test]
fn parse_json_prints_the_marking_definition() {
    let run = entente(&["label", "parse", EXAMPLES[2], "--json"]);
    ok(&run);
    let v = run.json();
    assert_eq!(v["type"], "marking-definition");
    assert_eq!(v["name"], EXAMPLES[2]);
    assert!(v["id"]
        .as_str()
        .unwrap()
        .starts_with("marking-definition--"));
    let ext = v["extensions"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(ext["policy"], "NATO");
    assert_eq!(ext["policy_oid"], "1.3.26.1.3.1");
    assert_eq!(ext["classification"], "SECRET");
    assert_eq!(
        ext["categories"],
        serde_json::json!([
            { "type": "permissive", "tag": "Releasable To", "values": ["FRA", "GBR"] },
            { "type": "restrictive", "tag": "Additional Sensitivity", "values": ["ATOMAL"] },
        ])
    );
}

#[test]
fn conversions_in_every_direction() {
    for marking in EXAMPLES {
        let canonical = ok(&entente(&["label", "parse", marking]))
            .lines()
            .last()
            .unwrap()
            .trim_start_matches("marking:")
            .trim()
            .to_owned();
        let xml = convert("xml", marking);
        assert!(
            xml.starts_with(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<slab:originatorConfidentialityLabel"
            ),
            "{xml}"
        );
        let json = convert("json", marking);
        assert!(json.starts_with('{'), "{json}");
        // XML → JSON and JSON → XML give the same documents as from the marking.
        assert_eq!(convert("json", &xml), json);
        assert_eq!(convert("xml", &json), xml);
        // Every form back to the marking; each form to itself is stable.
        assert_eq!(convert("marking", &xml), format!("{canonical}\n"));
        assert_eq!(convert("marking", &json), format!("{canonical}\n"));
        assert_eq!(convert("marking", marking), format!("{canonical}\n"));
        assert_eq!(convert("xml", &xml), xml);
        assert_eq!(convert("json", &json), json);
    }
}

#[test]
fn render_detects_the_form_of_a_file() {
    let marking = EXAMPLES[2];
    let xml = convert("xml", marking);
    let json = convert("json", marking);
    for content in [
        format!("{marking}\n"),
        xml,
        json.clone(),
        format!("\n  {json}"),
    ] {
        let (_dir, path) = file_with(&content);
        assert_eq!(
            ok(&entente(&["label", "render", &path])),
            format!("{marking}\n")
        );
    }
    let run = entente_with_stdin(&["label", "render", "-"], marking);
    assert_eq!(ok(&run), format!("{marking}\n"));
}

#[test]
fn the_research_xml_example_converts() {
    let xml = r#"<slab:originatorConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
    ReviewDateTime="2031-01-01T00:00:00Z">
 <slab:ConfidentialityInformation>
  <slab:PolicyIdentifier URI="urn:oid:1.3.26.1.3.1">NATO</slab:PolicyIdentifier>
  <slab:Classification>SECRET</slab:Classification>
  <slab:Category Type="PERMISSIVE" TagName="Context"><slab:GenericValue>NATO</slab:GenericValue></slab:Category>
  <slab:Category Type="RESTRICTIVE" TagName="Additional Sensitivity"><slab:GenericValue>ATOMAL</slab:GenericValue></slab:Category>
  <slab:Category Type="PERMISSIVE" TagName="Releasable To"><slab:GenericValue>SWE</slab:GenericValue></slab:Category>
 </slab:ConfidentialityInformation>
 <slab:OriginatorID IDType="rfc822Name">ops@example.org</slab:OriginatorID>
 <slab:CreationDateTime>2026-01-10T12:00:00Z</slab:CreationDateTime>
</slab:originatorConfidentialityLabel>"#;
    assert_eq!(
        convert("marking", xml),
        "NATO SECRET//ATOMAL//REL TO SWE//CONTEXT NATO\n"
    );
    let json = convert("json", xml);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ext = v["extensions"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(ext["originator"], "ops@example.org");
    assert_eq!(ext["creation_time"], "2026-01-10T12:00:00Z");
    assert_eq!(ext["review_time"], "2031-01-01T00:00:00Z");
    assert_eq!(v["created"], "2026-01-10T12:00:00.000Z");
    // Back to XML: the originator and both times survive.
    let back = convert("xml", &json);
    assert!(
        back.contains(
            "<slab:OriginatorID IDType=\"rfc822Name\">ops@example.org</slab:OriginatorID>"
        ),
        "{back}"
    );
    assert!(
        back.contains("<slab:ReviewDateTime>2031-01-01T00:00:00Z</slab:ReviewDateTime>"),
        "{back}"
    );
}

#[test]
fn policies_come_from_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join("data/policies/nato.toml"),
        dir.path().join("nato.toml"),
    )
    .unwrap();
    let policies = dir.path().display().to_string();
    ok(&entente(&[
        "label",
        "parse",
        EXAMPLES[0],
        "--policies",
        &policies,
    ]));
    // Only NATO is defined there: the French marking is unknown.
    refused(
        &entente(&["label", "parse", EXAMPLES[1], "--policies", &policies]),
        "unknown classification \"FR SECRET\"",
    );
    let run = entente(&[
        "label",
        "parse",
        EXAMPLES[0],
        "--policies",
        "/nonexistent/policies",
    ]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("cannot load the policies in /nonexistent/policies"),
        "{}",
        run.stderr
    );
}

#[test]
fn malformed_markings_are_refused() {
    refused(
        &entente(&["label", "parse", "NATO SECRET//"]),
        "marking segment 2: empty segment between '//'",
    );
    refused(
        &entente(&["label", "parse", "NATO SECRET//REL TO FRA,, GBR"]),
        "marking segment 2: empty value in a list",
    );
    refused(
        &entente(&["label", "parse", "NATO SECRT//REL TO FRA"]),
        "marking: unknown classification \"NATO SECRT\"; did you mean \"NATO SECRET\"?",
    );
    refused(
        &entente(&["label", "parse", "NATO SECRET//ATOMIC"]),
        "marking segment 2: unknown additional sensitivity value \"ATOMIC\"",
    );
    refused(
        &entente(&["label", "parse", "NATO SECRET//REL TO fra"]),
        "bad release token \"fra\"",
    );
}

#[test]
fn unknown_policies_are_refused_with_a_suggestion() {
    let xml = convert("xml", EXAMPLES[0]).replace(">NATO<", ">NAT0<");
    refused(
        &entente_with_stdin(&["label", "convert", "--to", "marking"], &xml),
        "<stdin>: ConfidentialityInformation/PolicyIdentifier: unknown policy \"NAT0\"; did you mean \"NATO\"?",
    );
    let json =
        convert("json", EXAMPLES[1]).replace("\"policy\": \"FRA\"", "\"policy\": \"FRANCE\"");
    refused(
        &entente_with_stdin(&["label", "render", "-"], &json),
        "unknown policy \"FRANCE\"",
    );
}

#[test]
fn lookalike_and_invisible_characters_are_refused() {
    // Cyrillic capital A (U+0410) in FRA.
    refused(
        &entente(&["label", "parse", "NATO SECRET//REL TO FR\u{0410}, GBR"]),
        "bad release token \"FR\u{0410}\": only ASCII letters, digits and '-' (a lookalike letter?)",
    );
    refused(
        &entente(&["label", "parse", "NATO SECRET//REL TO FR\u{200B}A"]),
        "marking: forbidden character U+200B",
    );
    let xml = convert("xml", EXAMPLES[0]).replace(">GBR<", ">G\u{0410}R<");
    refused(
        &entente_with_stdin(&["label", "convert", "--to", "json"], &xml),
        "ConfidentialityInformation/Category[1]/GenericValue[2]: bad release token",
    );
    let xml = convert("xml", EXAMPLES[0]).replace(">GBR<", ">GBR&#x200D;<");
    refused(
        &entente_with_stdin(&["label", "convert", "--to", "json"], &xml),
        "ConfidentialityInformation/Category[1]/GenericValue[2]: forbidden character U+200D",
    );
    let json = convert("json", EXAMPLES[0]).replace("\"USA\"", "\"US\\u200bA\"");
    refused(
        &entente_with_stdin(&["label", "convert", "--to", "xml"], &json),
        "forbidden character U+200B",
    );
}

#[test]
fn xml_with_a_dtd_or_entities_is_refused() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<slab:originatorConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0">&lol2;</slab:originatorConfidentialityLabel>"#;
    refused(
        &entente_with_stdin(&["label", "convert", "--to", "marking"], billion_laughs),
        "<stdin>: xml: DOCTYPE declarations are refused (no DTD, no entity declarations)",
    );
    let xxe = convert("xml", EXAMPLES[0]).replace(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>",
    );
    let (_dir, path) = file_with(&xxe);
    refused(
        &entente(&["label", "render", &path]),
        "DOCTYPE declarations are refused",
    );
    let undeclared = convert("xml", EXAMPLES[0]).replace(">GBR<", ">&xxe;<");
    refused(
        &entente_with_stdin(&["label", "render", "-"], &undeclared),
        "entity reference &xxe; refused",
    );
}

#[test]
fn ten_thousand_category_values_are_refused() {
    let values: Vec<String> = (0..10_000).map(|i| format!("N{i:04}")).collect();
    refused(
        &entente(&[
            "label",
            "parse",
            &format!("NATO SECRET//REL TO {}", values.join(", ")),
        ]),
        "marking: too many bytes in a marking: at most 4096",
    );
    let xml = convert("xml", EXAMPLES[0]).replace(
        "<slab:GenericValue>FRA</slab:GenericValue>",
        &values
            .iter()
            .map(|v| format!("<slab:GenericValue>{v}</slab:GenericValue>"))
            .collect::<String>(),
    );
    refused(
        &entente_with_stdin(&["label", "convert", "--to", "json"], &xml),
        "too many bytes in a label: at most 65536",
    );
    // In JSON, 10,000 short values fit under the byte limit: the value count stops them.
    let json = convert("json", EXAMPLES[0]).replace(
        "\"FRA\",",
        &format!("{},", vec!["\"FRA\""; 10_000].join(",")),
    );
    assert!(json.len() < 65_536);
    refused(
        &entente_with_stdin(&["label", "convert", "--to", "xml"], &json),
        "too many category values: at most 256",
    );
}

#[test]
fn empty_and_unreadable_input_is_refused() {
    refused(&entente(&["label", "parse", ""]), "marking: empty input");
    refused(
        &entente_with_stdin(&["label", "convert", "--to", "xml"], ""),
        "<stdin>: marking: empty input",
    );
    let (_dir, path) = file_with("\n  \n");
    refused(
        &entente(&["label", "render", &path]),
        "marking: empty input",
    );
    refused(
        &entente(&["label", "render", "/nonexistent/label.xml"]),
        "cannot read /nonexistent/label.xml",
    );
    refused(
        &entente_with_stdin(&["label", "render", "-"], "{ \"type\": "),
        "json: malformed JSON: EOF while parsing a value at line 1 column 10",
    );
    refused(
        &entente_with_stdin(&["label", "render", "-"], "<unclosed"),
        "not well-formed XML",
    );
    let run = entente(&["label", "convert", "--to", "yaml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid value 'yaml'"),
        "{}",
        run.stderr
    );
}
