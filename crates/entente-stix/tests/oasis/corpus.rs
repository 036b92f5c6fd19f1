//! A deterministic corpus of STIX 2.1 objects: for every type of the specification, complete valid
//! objects, and the same objects with one rule broken at a time.

use serde_json::{json, Map, Value};

/// A small deterministic generator (SplitMix64): the corpus is the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One generated object: its type, the rule broken (`valid` for none), and the object.
pub struct Case {
    pub kind: &'static str,
    pub mutation: String,
    pub object: Value,
}

pub const SDO_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];
pub const SRO_TYPES: &[&str] = &["relationship", "sighting"];
pub const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];
pub const META_TYPES: &[&str] = &[
    "language-content",
    "marking-definition",
    "extension-definition",
];

/// Every type, in a fixed order.
pub fn all_types() -> Vec<&'static str> {
    [SDO_TYPES, SRO_TYPES, SCO_TYPES, META_TYPES].concat()
}

fn is_sco(kind: &str) -> bool {
    SCO_TYPES.contains(&kind)
}

/// The statement marking every generated object refers to (a TLP marking's id would have to be the
/// one the TLP definition fixes).
const MARKING: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
const SHA256: &str = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c";

/// Ids and timestamps drawn for one object.
struct Draw<'a> {
    rng: &'a mut Rng,
}

impl Draw<'_> {
    /// An identifier: UUIDv4 for domain objects, v5 for observables (as STIX recommends), v4 for
    /// a process (as STIX requires).
    fn id(&mut self, kind: &str) -> String {
        let (hi, lo) = (self.rng.next(), self.rng.next());
        let version = if is_sco(kind) && kind != "process" {
            5
        } else {
            4
        };
        let hi = (hi & !0xf000) | (version << 12);
        let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        let uuid = uuid::Uuid::from_u64_pair(hi, lo);
        format!("{kind}--{}", uuid.hyphenated())
    }

    /// A timestamp between 2017 and 2024, with milliseconds or microseconds, and one `after` it.
    fn times(&mut self) -> (String, String) {
        let start = 1_483_228_800_000_i64 + (self.rng.below(250_000_000_000) as i64);
        let end = start + (self.rng.below(90_000_000_000) as i64) + 1;
        let micros = self.rng.below(2) == 0;
        (stamp(start, micros), stamp(end, micros))
    }
}

/// A STIX timestamp for milliseconds since the epoch.
fn stamp(millis: i64, micros: bool) -> String {
    let t = chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default();
    if micros {
        t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

/// A complete valid object of `kind`, strict enough for every recommendation the OASIS
/// validator checks under `--strict`.
pub fn base(kind: &'static str, rng: &mut Rng) -> Value {
    let mut d = Draw { rng };
    let n = d.rng.below(1000);
    let id = d.id(kind);
    let creator = d.id("identity");
    let (created, modified) = d.times();
    let (first, last) = d.times();
    let name = format!("EXERCISE {kind} {n}");
    let description = format!("Generated {kind} number {n}.");
    let kill_chain = json!([{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "reconnaissance"}]);
    let mut o = match kind {
        "attack-pattern" => json!({
            "name": name, "description": description, "aliases": ["alias"],
            "kill_chain_phases": kill_chain,
        }),
        "campaign" => json!({
            "name": name, "description": description, "aliases": ["alias"],
            "first_seen": first, "last_seen": last, "objective": "exfiltration",
        }),
        "course-of-action" => json!({"name": name, "description": description}),
        "grouping" => json!({
            "name": name, "description": description, "context": "suspicious-activity",
            "object_refs": [d.id("indicator"), d.id("malware")],
        }),
        "identity" => json!({
            "name": name, "description": description, "identity_class": "organization",
            "sectors": ["defense"], "roles": ["analyst"],
        }),
        "incident" => json!({"name": name, "description": description}),
        "indicator" => json!({
            "name": name, "description": description, "indicator_types": ["malicious-activity"],
            "pattern": format!("[ipv4-addr:value = '198.51.100.{}']", n % 250),
            "pattern_type": "stix", "valid_from": first, "valid_until": last,
            "kill_chain_phases": kill_chain,
        }),
        "infrastructure" => json!({
            "name": name, "description": description,
            "infrastructure_types": ["command-and-control"], "first_seen": first, "last_seen": last,
        }),
        "intrusion-set" => json!({
            "name": name, "description": description, "aliases": ["alias"], "goals": ["access"],
            "resource_level": "government", "primary_motivation": "ideology",
            "first_seen": first, "last_seen": last,
        }),
        "location" => json!({
            "name": name, "description": description, "region": "northern-europe",
            "country": "EE", "latitude": 59.4, "longitude": 24.7, "precision": 1000.0,
        }),
        "malware" => json!({
            "name": name, "description": description, "is_family": true,
            "malware_types": ["ransomware"], "first_seen": first, "last_seen": last,
            "sample_refs": [d.id("file")],
        }),
        "malware-analysis" => json!({
            "product": "clamav", "version": "0.103", "result": "malicious",
            "analysis_sco_refs": [d.id("file")], "sample_ref": d.id("file"),
            "submitted": first, "analysis_started": first, "analysis_ended": last,
        }),
        "note" => json!({
            "abstract": name, "content": description, "authors": ["analyst"],
            "object_refs": [d.id("indicator")],
        }),
        "observed-data" => json!({
            "first_observed": first, "last_observed": last, "number_observed": 1 + n,
            "object_refs": [d.id("ipv4-addr"), d.id("domain-name")],
        }),
        "opinion" => json!({
            "explanation": description, "authors": ["analyst"], "opinion": "agree",
            "object_refs": [d.id("indicator")],
        }),
        "report" => json!({
            "name": name, "description": description, "report_types": ["threat-report"],
            "published": last, "object_refs": [d.id("indicator"), d.id("malware")],
        }),
        "threat-actor" => json!({
            "name": name, "description": description, "threat_actor_types": ["nation-state"],
            "aliases": ["alias"], "roles": ["agent"], "goals": ["access"],
            "sophistication": "expert", "resource_level": "government",
            "primary_motivation": "dominance", "first_seen": first, "last_seen": last,
        }),
        "tool" => json!({
            "name": name, "description": description, "tool_types": ["remote-access"],
            "aliases": ["alias"], "tool_version": "1.0", "kill_chain_phases": kill_chain,
        }),
        "vulnerability" => json!({
            "name": name, "description": description,
            "external_references": [{"source_name": "cve", "external_id": format!("CVE-2016-{}", 1000 + n)}],
        }),
        "relationship" => json!({
            "relationship_type": "indicates", "description": description,
            "source_ref": d.id("indicator"), "target_ref": d.id("malware"),
            "start_time": first, "stop_time": last,
        }),
        "sighting" => json!({
            "description": description, "sighting_of_ref": d.id("indicator"),
            "first_seen": first, "last_seen": last, "count": n,
            "observed_data_refs": [d.id("observed-data")], "where_sighted_refs": [d.id("identity")],
            "summary": false,
        }),
        "artifact" => json!({
            "mime_type": "application/zip", "payload_bin": "ZXhlcmNpc2U=",
            "hashes": {"SHA-256": SHA256},
        }),
        "autonomous-system" => json!({"number": 15139 + n, "name": name, "rir": "RIPE"}),
        "directory" => json!({
            "path": format!("/srv/exercise/{n}"), "ctime": first, "mtime": last,
            "contains_refs": [d.id("file")],
        }),
        "domain-name" => json!({
            "value": format!("host{n}.example.com"), "resolves_to_refs": [d.id("ipv4-addr")],
        }),
        "email-addr" => json!({"value": format!("analyst{n}@example.com"), "display_name": name}),
        "email-message" => json!({
            "is_multipart": false, "date": first, "subject": name, "body": description,
            "from_ref": d.id("email-addr"), "to_refs": [d.id("email-addr")],
        }),
        "file" => json!({
            "name": format!("sample{n}.bin"), "hashes": {"SHA-256": SHA256}, "size": 100 + n,
            "ctime": first, "mtime": last,
        }),
        "ipv4-addr" => json!({"value": format!("198.51.100.{}", n % 250)}),
        "ipv6-addr" => json!({"value": format!("2001:db8::{:x}", n)}),
        "mac-addr" => json!({"value": format!("d2:fb:49:24:37:{:02x}", n % 256)}),
        "mutex" => json!({"name": format!("__EXERCISE_{n}__")}),
        "network-traffic" => json!({
            "protocols": ["ipv4", "tcp"], "src_ref": d.id("ipv4-addr"), "dst_ref": d.id("ipv4-addr"),
            "src_port": 1024 + n, "dst_port": 443, "start": first, "end": last, "is_active": false,
        }),
        "process" => json!({
            "pid": 1000 + n, "command_line": format!("exercise --run {n}"),
            "created_time": first, "image_ref": d.id("file"),
        }),
        "software" => json!({
            "name": name, "vendor": "Exercise", "version": "2.0",
            "cpe": "cpe:2.3:a:exercise:tool:2.0:*:*:*:*:*:*:*",
        }),
        "url" => json!({"value": format!("https://example.com/{n}")}),
        "user-account" => json!({
            "user_id": format!("{}", 1000 + n), "account_login": format!("analyst{n}"),
            "account_type": "unix", "display_name": name, "account_created": first,
        }),
        "windows-registry-key" => json!({
            "key": format!("HKEY_LOCAL_MACHINE\\Software\\Exercise{n}"),
            "values": [{"name": "Run", "data": "exercise.exe", "data_type": "REG_SZ"}],
            "modified_time": last,
        }),
        "x509-certificate" => json!({
            "is_self_signed": false, "serial_number": format!("36:f7:d4:32:f4:ab:70:ea:{:02x}", n % 256),
            "issuer": "CN=Exercise CA", "subject": format!("CN=host{n}.example.com"),
            "validity_not_before": first, "validity_not_after": last,
        }),
        "language-content" => json!({
            "object_ref": d.id("indicator"), "object_modified": first,
            "contents": {"de": {"name": format!("Übung {n}")}},
        }),
        "marking-definition" => json!({
            "name": name, "definition_type": "statement",
            "definition": {"statement": format!("Exercise material {n}")},
        }),
        "extension-definition" => json!({
            "name": name, "description": description,
            "schema": "https://example.com/exercise-schema.json", "version": "1.0.0",
            "extension_types": ["property-extension"],
        }),
        other => panic!("no generator for {other}"),
    };
    let map = o.as_object_mut().expect("an object");
    map.insert("type".into(), json!(kind));
    map.insert("id".into(), json!(id));
    if is_sco(kind) {
        if d.rng.below(2) == 0 {
            map.insert("spec_version".into(), json!("2.1"));
        }
        if d.rng.below(2) == 0 {
            map.insert("object_marking_refs".into(), json!([MARKING]));
        }
        return o;
    }
    map.insert("spec_version".into(), json!("2.1"));
    map.insert("created".into(), json!(created));
    if kind != "marking-definition" {
        map.insert("modified".into(), json!(modified));
    }
    if kind != "identity" || d.rng.below(2) == 0 {
        map.insert("created_by_ref".into(), json!(creator));
    }
    if kind != "marking-definition" {
        map.insert("object_marking_refs".into(), json!([MARKING]));
        // A portion under its own marking, on a property the object has.
        let portion = ["description", "name", "content", "explanation"]
            .into_iter()
            .find(|p| map.contains_key(*p));
        if let (Some(p), true) = (portion, d.rng.below(2) == 0) {
            map.insert(
                "granular_markings".into(),
                json!([{"marking_ref": MARKING, "selectors": [p]}]),
            );
        }
    }
    if d.rng.below(3) == 0 && kind != "vulnerability" {
        map.insert(
            "external_references".into(),
            json!([{"source_name": "entente", "external_id": format!("E-{n}")}]),
        );
    }
    o
}

/// Timestamp properties whose order STIX fixes: (later, earlier, whether they may be equal).
fn ordered_pairs(kind: &str) -> &'static [(&'static str, &'static str, bool)] {
    match kind {
        "campaign" | "infrastructure" | "intrusion-set" | "malware" | "threat-actor"
        | "sighting" => &[("last_seen", "first_seen", true)],
        "indicator" => &[("valid_until", "valid_from", false)],
        "observed-data" => &[("last_observed", "first_observed", true)],
        "relationship" => &[("stop_time", "start_time", false)],
        "network-traffic" => &[("end", "start", true)],
        _ => &[],
    }
}

fn is_timestamp(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() >= 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z') && s.as_bytes()[4] == b'-'
    })
}

/// The object with `key` set (or removed, for `None`).
fn with(object: &Value, changes: &[(&str, Option<Value>)]) -> Value {
    let mut o = object.clone();
    if let Some(map) = o.as_object_mut() {
        for (key, value) in changes {
            match value {
                Some(v) => {
                    map.insert((*key).to_owned(), v.clone());
                }
                None => {
                    map.remove(*key);
                }
            }
        }
    }
    o
}

fn map(object: &Value) -> &Map<String, Value> {
    object
        .as_object()
        .expect("a generated object is a JSON object")
}

/// Replaces the UUID's version digit (`version`) or variant digit.
fn uuid_digit(id: &str, position: usize, digit: char) -> String {
    let (prefix, uuid) = id.split_once("--").expect("a generated id");
    let mut chars: Vec<char> = uuid.chars().collect();
    chars[position] = digit;
    format!("{prefix}--{}", chars.into_iter().collect::<String>())
}

/// Every object of `kind` with one rule broken (or one optional property changed), each named,
/// from the valid `object`.
pub fn mutations(kind: &'static str, object: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut push = |name: String, value: Value| out.push((name, value));
    let props = map(object);
    let id = props["id"].as_str().expect("a generated id").to_owned();

    // Each property missing in turn (optional ones too: those must stay valid).
    for key in props.keys() {
        push(format!("remove {key}"), with(object, &[(key, None)]));
    }
    // Each list emptied in turn.
    for (key, value) in props {
        if value.as_array().is_some_and(|l| !l.is_empty()) {
            push(
                format!("empty {key}"),
                with(object, &[(key, Some(json!([])))]),
            );
        }
    }
    // The type.
    let other = if kind == "malware" { "tool" } else { "malware" };
    for (name, value) in [
        ("type uppercase", json!(kind.to_uppercase())),
        ("type too short", json!("ab")),
        ("type underscore", json!(kind.replace('-', "_") + "_x")),
        ("type number", json!(7)),
        ("type of another object", json!(other)),
    ] {
        push(name.into(), with(object, &[("type", Some(value))]));
    }
    // The id.
    let uuid = id.split_once("--").map_or("", |(_, u)| u).to_owned();
    for (name, value) in [
        ("id of another type", json!(format!("{other}--{uuid}"))),
        ("id without separator", json!(format!("{kind}-{uuid}"))),
        (
            "id uuid truncated",
            json!(format!("{kind}--{}", &uuid[..30])),
        ),
        (
            "id uuid not hex",
            json!(format!(
                "{kind}--{}",
                uuid.replacen(
                    |c: char| c.is_ascii_hexdigit() && !c.is_ascii_digit(),
                    "g",
                    1
                )
            )),
        ),
        ("id uuid version 0", json!(uuid_digit(&id, 14, '0'))),
        ("id uuid version 7", json!(uuid_digit(&id, 14, '7'))),
        (
            "id uuid variant not rfc4122",
            json!(uuid_digit(&id, 19, 'c')),
        ),
        (
            "id uuid uppercase",
            json!(format!("{kind}--{}", uuid.to_uppercase())),
        ),
        ("id number", json!(42)),
    ] {
        if name == "id uuid not hex" && !uuid.contains(|c: char| c.is_ascii_lowercase()) {
            continue;
        }
        push(name.into(), with(object, &[("id", Some(value))]));
    }
    // The specification version.
    for (name, value) in [
        ("spec_version 2.0", json!("2.0")),
        ("spec_version 2.2", json!("2.2")),
        ("spec_version number", json!(2.1)),
    ] {
        push(name.into(), with(object, &[("spec_version", Some(value))]));
    }
    // Every timestamp.
    for (key, value) in props {
        if !is_timestamp(value) {
            continue;
        }
        let text = value.as_str().unwrap_or_default();
        let seconds = &text[..19];
        for (name, bad) in [
            ("without zone", json!(format!("{seconds}.000"))),
            ("with offset", json!(format!("{seconds}.000+00:00"))),
            (
                "lowercase t",
                json!(format!("{}t{}.000Z", &seconds[..10], &seconds[11..])),
            ),
            (
                "february 30",
                json!(format!("2019-02-30T{}.000Z", &seconds[11..])),
            ),
            (
                "hour 24",
                json!(format!("{}T24:00:00.000Z", &seconds[..10])),
            ),
            (
                "space separator",
                json!(format!("{} {}.000Z", &seconds[..10], &seconds[11..])),
            ),
            ("number", json!(1_500_000_000)),
        ] {
            push(format!("{key} {name}"), with(object, &[(key, Some(bad))]));
        }
        // Whole seconds: a MUST for created and modified only.
        push(
            format!("{key} whole seconds"),
            with(object, &[(key, Some(json!(format!("{seconds}Z"))))]),
        );
    }
    if props.contains_key("modified") {
        let created = props["created"].as_str().unwrap_or_default().to_owned();
        // A year earlier: every generated object is created after 2017.
        let year: u32 = created[..4].parse().unwrap_or(2020);
        push(
            "modified before created".into(),
            with(
                object,
                &[(
                    "modified",
                    Some(json!(format!("{}{}", year - 1, &created[4..]))),
                )],
            ),
        );
        push(
            "modified equal to created".into(),
            with(object, &[("modified", Some(json!(created)))]),
        );
    }
    for (later, earlier, may_equal) in ordered_pairs(kind) {
        let (Some(l), Some(e)) = (props.get(*later), props.get(*earlier)) else {
            continue;
        };
        push(
            format!("{later} before {earlier}"),
            with(
                object,
                &[(later, Some(e.clone())), (earlier, Some(l.clone()))],
            ),
        );
        push(
            format!(
                "{later} equal to {earlier}{}",
                if *may_equal { "" } else { " (strict)" }
            ),
            with(object, &[(later, Some(e.clone()))]),
        );
    }
    // References.
    for (key, value) in props {
        if key.ends_with("_ref") && key != "id" {
            for (name, bad) in [
                (
                    "malformed uuid",
                    json!(format!("indicator--{}", &uuid[..20])),
                ),
                ("not an identifier", json!("nothing")),
                ("number", json!(3)),
            ] {
                push(format!("{key} {name}"), with(object, &[(key, Some(bad))]));
            }
        } else if key.ends_with("_refs") {
            if let Some(list) = value.as_array() {
                let mut bad = list.clone();
                bad.push(json!("identity--nope"));
                push(
                    format!("{key} malformed item"),
                    with(object, &[(key, Some(json!(bad)))]),
                );
                let mut bad = list.clone();
                bad.push(json!(5));
                push(
                    format!("{key} number item"),
                    with(object, &[(key, Some(json!(bad)))]),
                );
            }
        }
    }
    if props.contains_key("created_by_ref") {
        push(
            "created_by_ref not an identity".into(),
            with(
                object,
                &[("created_by_ref", Some(json!(format!("malware--{uuid}"))))],
            ),
        );
    }
    if props.contains_key("object_marking_refs") {
        push(
            "object_marking_refs not a marking".into(),
            with(
                object,
                &[(
                    "object_marking_refs",
                    Some(json!([format!("identity--{uuid}")])),
                )],
            ),
        );
    }
    // Granular markings.
    if let Some(g) = props.get("granular_markings") {
        let selector = g[0]["selectors"][0].clone();
        for (name, marking) in [
            (
                "selector names no property",
                json!({"marking_ref": MARKING, "selectors": ["no_such_property"]}),
            ),
            (
                "selector past a list",
                json!({"marking_ref": MARKING, "selectors": ["object_marking_refs.[5]"]}),
            ),
            (
                "selectors empty",
                json!({"marking_ref": MARKING, "selectors": []}),
            ),
            (
                "selector number",
                json!({"marking_ref": MARKING, "selectors": [3]}),
            ),
            ("marking_ref missing", json!({"selectors": [selector]})),
            (
                "marking_ref not a marking",
                json!({"marking_ref": format!("identity--{uuid}"), "selectors": [selector]}),
            ),
            (
                "lang instead of marking_ref",
                json!({"lang": "en", "selectors": [selector]}),
            ),
            (
                "selector on a list item",
                json!({"marking_ref": MARKING, "selectors": ["object_marking_refs.[0]"]}),
            ),
        ] {
            push(
                format!("granular {name}"),
                with(object, &[("granular_markings", Some(json!([marking])))]),
            );
        }
    }
    push(
        "custom property".into(),
        with(object, &[("x_entente_note", Some(json!("exercise")))]),
    );
    for (name, changes) in conditional(kind, object, &uuid) {
        push(name, with(object, &changes));
    }
    out
}

type Changes = Vec<(&'static str, Option<Value>)>;

/// The rules of single types that join several properties.
fn conditional(kind: &str, object: &Value, uuid: &str) -> Vec<(String, Changes)> {
    let props = map(object);
    let id = |k: &str| Some(json!(format!("{k}--{uuid}")));
    let ids = |k: &str| Some(json!([format!("{k}--{uuid}")]));
    let mut out: Vec<(String, Changes)> = Vec::new();
    let mut case = |name: &str, changes: Changes| out.push((name.to_owned(), changes));
    match kind {
        "location" => {
            case(
                "location without region, country or coordinates",
                vec![
                    ("region", None),
                    ("country", None),
                    ("latitude", None),
                    ("longitude", None),
                    ("precision", None),
                ],
            );
            case(
                "location with region only",
                vec![
                    ("country", None),
                    ("latitude", None),
                    ("longitude", None),
                    ("precision", None),
                ],
            );
            case(
                "location with country only",
                vec![
                    ("region", None),
                    ("latitude", None),
                    ("longitude", None),
                    ("precision", None),
                ],
            );
            case(
                "location with coordinates only",
                vec![("region", None), ("country", None)],
            );
            case(
                "location latitude without longitude",
                vec![("longitude", None), ("precision", None)],
            );
            case(
                "location precision without coordinates",
                vec![("latitude", None), ("longitude", None)],
            );
        }
        "malware" => {
            case(
                "malware family without name",
                vec![("name", None), ("granular_markings", None)],
            );
            case(
                "malware instance without name",
                vec![
                    ("is_family", Some(json!(false))),
                    ("name", None),
                    ("granular_markings", None),
                ],
            );
        }
        "malware-analysis" => {
            case(
                "malware-analysis without result or analysis_sco_refs",
                vec![("result", None), ("analysis_sco_refs", None)],
            );
            case(
                "malware-analysis sample_ref not a sample",
                vec![("sample_ref", id("identity"))],
            );
        }
        "observed-data" => {
            case(
                "observed-data with objects and object_refs",
                vec![(
                    "objects",
                    Some(
                        json!({"0": {"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.7"}}),
                    ),
                )],
            );
            case(
                "observed-data with objects only",
                vec![
                    (
                        "objects",
                        Some(
                            json!({"0": {"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.7"}}),
                        ),
                    ),
                    ("object_refs", None),
                ],
            );
            case(
                "observed-data object_refs to an SDO",
                vec![("object_refs", ids("indicator"))],
            );
        }
        "network-traffic" => {
            case(
                "network-traffic without src_ref or dst_ref",
                vec![("src_ref", None), ("dst_ref", None)],
            );
            case(
                "network-traffic active with an end",
                vec![("is_active", Some(json!(true)))],
            );
        }
        "file" => case(
            "file without hashes or name",
            vec![("hashes", None), ("name", None)],
        ),
        "artifact" => {
            case(
                "artifact with payload_bin and url",
                vec![("url", Some(json!("https://example.com/a.zip")))],
            );
            case(
                "artifact with url only",
                vec![
                    ("url", Some(json!("https://example.com/a.zip"))),
                    ("payload_bin", None),
                ],
            );
            case(
                "artifact with url without hashes",
                vec![
                    ("url", Some(json!("https://example.com/a.zip"))),
                    ("payload_bin", None),
                    ("hashes", None),
                ],
            );
            case(
                "artifact without payload_bin or url",
                vec![("payload_bin", None)],
            );
        }
        "email-message" => {
            case(
                "email-message body_multipart when not multipart",
                vec![
                    ("body", None),
                    ("body_multipart", Some(json!([{"body": "part"}]))),
                ],
            );
            case(
                "email-message body when multipart",
                vec![("is_multipart", Some(json!(true)))],
            );
            case(
                "email-message multipart with parts",
                vec![
                    ("is_multipart", Some(json!(true))),
                    ("body", None),
                    ("body_multipart", Some(json!([{"body": "part"}]))),
                ],
            );
        }
        "relationship" => {
            for target in [
                "relationship",
                "sighting",
                "marking-definition",
                "language-content",
            ] {
                case(
                    &format!("relationship source_ref to a {target}"),
                    vec![("source_ref", id(target))],
                );
                case(
                    &format!("relationship target_ref to a {target}"),
                    vec![("target_ref", id(target))],
                );
            }
        }
        "sighting" => {
            for target in [
                "relationship",
                "sighting",
                "marking-definition",
                "language-content",
            ] {
                case(
                    &format!("sighting sighting_of_ref to a {target}"),
                    vec![("sighting_of_ref", id(target))],
                );
            }
            case(
                "sighting where_sighted_refs not identity or location",
                vec![("where_sighted_refs", ids("malware"))],
            );
            case(
                "sighting where_sighted_refs to a location",
                vec![("where_sighted_refs", ids("location"))],
            );
            case(
                "sighting observed_data_refs not observed-data",
                vec![("observed_data_refs", ids("indicator"))],
            );
        }
        "marking-definition" => {
            case(
                "marking-definition with modified",
                vec![("modified", props.get("created").cloned())],
            );
        }
        "language-content" => {
            case(
                "language-content object_modified whole seconds",
                vec![("object_modified", Some(json!("2020-01-01T00:00:00Z")))],
            );
        }
        _ => {}
    }
    // The observables whose every property is optional need one of them.
    let at_least_one: &[&str] = match kind {
        "process" => &["pid", "command_line", "created_time", "image_ref"],
        "user-account" => &[
            "user_id",
            "account_login",
            "account_type",
            "display_name",
            "account_created",
        ],
        "windows-registry-key" => &["key", "values", "modified_time"],
        "x509-certificate" => &[
            "is_self_signed",
            "serial_number",
            "issuer",
            "subject",
            "validity_not_before",
            "validity_not_after",
        ],
        _ => &[],
    };
    if !at_least_one.is_empty() {
        let mut changes: Changes = at_least_one.iter().map(|k| (*k, None)).collect();
        changes.push(("spec_version", Some(json!("2.1"))));
        out.push((format!("{kind} without any specific property"), changes));
    }
    out
}

/// The corpus: `rounds` valid objects of every type and each of their mutations.
pub fn corpus(seed: u64, rounds: usize) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let mut cases = Vec::new();
    for _ in 0..rounds {
        for kind in all_types() {
            let object = base(kind, &mut rng);
            for (mutation, broken) in mutations(kind, &object) {
                cases.push(Case {
                    kind,
                    mutation,
                    object: broken,
                });
            }
            cases.push(Case {
                kind,
                mutation: "valid".into(),
                object,
            });
        }
    }
    cases
}
