//! Zero leaks, as a property: random labelled corpora (NATO and French labels, portion markings on
//! nested properties, "Releasable To" sets of nations and groups, caveats, several versions) are
//! posted to a real node, and users of several nations and clearances read them through every
//! TAXII resource. An oracle computed here, from `ReleasePolicy::decide` on each label and each
//! portion's effective label and from the clearance rule, says what each user may see; the test
//! checks that each sees exactly that: no object, portion, id, marking, count or header more, and
//! nothing less.
//!
//! The oracle does not call the node's release path (`release_object`): it decides every label
//! itself and finds each portion's content by a unique canary string in the served text.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use entente_labels::{stix, Label, PolicySet, ReleaseToken};
use entente_node::{auth, NodeConfig, MEDIA_TYPE_TAXII};
use entente_policy::{Clearance, ReleasePolicy};
use entente_registry::Registry;
use entente_store::{CollectionRight, User};
use entente_types::{Date, NationCode};
use proptest::prelude::*;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Value};

use crate::sandbox::{nation, Sandbox};

const OBJECTS: &str = "/api/collections/intel/objects/";
const MANIFEST: &str = "/api/collections/intel/manifest/";
const TOKENS: &[&str] = &[
    "FRA", "GBR", "USA", "DEU", "JPN", "ITA", "NATO", "EU", "FVEY",
];
/// Selectors a granular marking may name; `aliases` contains its elements.
const SELECTORS: &[&str] = &[
    "name",
    "description",
    "aliases",
    "aliases.[0]",
    "aliases.[1]",
    "external_references.[0]",
];
/// Each leaf of content and the selectors that cover it.
const LEAVES: &[(&str, &[&str])] = &[
    ("name", &["name"]),
    ("description", &["description"]),
    ("alias0", &["aliases", "aliases.[0]"]),
    ("alias1", &["aliases", "aliases.[1]"]),
    ("ref0", &["external_references.[0]"]),
];

/// A label to generate: policy, level index, caveat bits, "Releasable To" sets (token indices).
#[derive(Debug, Clone)]
struct LabelSpec {
    level: usize,
    caveats: u8,
    releasable_to: Option<Vec<BTreeSet<usize>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pol {
    Nato,
    Fra,
}

impl Pol {
    fn id(self) -> &'static str {
        match self {
            Pol::Nato => "NATO",
            Pol::Fra => "FRA",
        }
    }
    fn levels(self) -> &'static [&'static str] {
        match self {
            Pol::Nato => &[
                "UNCLASSIFIED",
                "RESTRICTED",
                "CONFIDENTIAL",
                "SECRET",
                "COSMIC TOP SECRET",
            ],
            Pol::Fra => &["SECRET", "TRÈS SECRET"],
        }
    }
    fn caveats(self) -> &'static [&'static str] {
        match self {
            Pol::Nato => &["ATOMAL", "CRYPTO"],
            Pol::Fra => &["SPECIAL FRANCE"],
        }
    }
}

/// One object: its policy, a label per version (one or two versions), and granular markings
/// (a label and the selectors it covers; each selector in at most one marking).
#[derive(Debug, Clone)]
struct ObjectSpec {
    policy: Pol,
    versions: Vec<LabelSpec>,
    portions: Vec<(LabelSpec, Vec<usize>)>,
}

fn label_spec(policy: Pol) -> impl Strategy<Value = LabelSpec> {
    let set = proptest::collection::btree_set(0..TOKENS.len(), 0..4);
    (
        0..policy.levels().len(),
        0u8..(1 << policy.caveats().len()),
        prop_oneof![
            2 => Just(None),
            5 => proptest::collection::vec(set, 1..3).prop_map(Some),
        ],
    )
        .prop_map(|(level, caveats, releasable_to)| LabelSpec {
            level,
            caveats,
            releasable_to,
        })
}

fn object_spec() -> impl Strategy<Value = ObjectSpec> {
    prop_oneof![4 => Just(Pol::Nato), 1 => Just(Pol::Fra)].prop_flat_map(|policy| {
        (
            proptest::collection::vec(label_spec(policy), 1..3),
            // Each selector goes to one of three markings, or none (3).
            proptest::collection::vec(0usize..4, SELECTORS.len()),
            proptest::collection::vec(label_spec(policy), 3),
        )
            .prop_map(move |(versions, owner, labels)| {
                let portions = labels
                    .into_iter()
                    .enumerate()
                    .map(|(m, label)| {
                        let selectors: Vec<usize> =
                            (0..SELECTORS.len()).filter(|&s| owner[s] == m).collect();
                        (label, selectors)
                    })
                    .filter(|(_, s)| !s.is_empty())
                    .collect();
                ObjectSpec {
                    policy,
                    versions,
                    portions,
                }
            })
    })
}

/// The decisions of the oracle: the release policy built from the shipped data, as the node's.
struct Oracle {
    policy: ReleasePolicy,
    day: Date,
    originator: NationCode,
}

/// A reader of the node.
struct Reader {
    name: &'static str,
    nation: &'static str,
    policy: &'static str,
    level: &'static str,
    caveats: &'static [&'static str],
}

const READERS: &[Reader] = &[
    Reader {
        name: "fra",
        nation: "FRA",
        policy: "NATO",
        level: "COSMIC TOP SECRET",
        caveats: &["ATOMAL", "CRYPTO"],
    },
    Reader {
        name: "fra-nat",
        nation: "FRA",
        policy: "FRA",
        level: "TRÈS SECRET",
        caveats: &["SPECIAL FRANCE"],
    },
    Reader {
        name: "fra-low",
        nation: "FRA",
        policy: "NATO",
        level: "RESTRICTED",
        caveats: &[],
    },
    Reader {
        name: "jpn",
        nation: "JPN",
        policy: "NATO",
        level: "SECRET",
        caveats: &[],
    },
    Reader {
        name: "jpn-top",
        nation: "JPN",
        policy: "NATO",
        level: "COSMIC TOP SECRET",
        caveats: &["ATOMAL", "CRYPTO"],
    },
    Reader {
        name: "gbr",
        nation: "GBR",
        policy: "NATO",
        level: "SECRET",
        caveats: &["CRYPTO"],
    },
    Reader {
        name: "gbr-fr",
        nation: "GBR",
        policy: "FRA",
        level: "SECRET",
        caveats: &[],
    },
    Reader {
        name: "deu",
        nation: "DEU",
        policy: "NATO",
        level: "CONFIDENTIAL",
        caveats: &[],
    },
    Reader {
        name: "usa",
        nation: "USA",
        policy: "NATO",
        level: "SECRET",
        caveats: &["ATOMAL"],
    },
];

impl Oracle {
    fn new() -> Oracle {
        let data = entente_node::shipped_data();
        let registry = Registry::load(&data.join("registry")).unwrap();
        let policies = PolicySet::load(&data.join("policies")).unwrap();
        Oracle {
            policy: ReleasePolicy::new(&registry, policies),
            day: chrono::Utc::now().date_naive(),
            originator: nation("FRA"),
        }
    }

    fn label(&self, policy: Pol, spec: &LabelSpec) -> Label {
        let p = self.policy.policies();
        let mut label = Label::new(p, policy.id(), policy.levels()[spec.level]).unwrap();
        for (i, c) in policy.caveats().iter().enumerate() {
            if spec.caveats & (1 << i) != 0 {
                label = label.with_caveat(p, c).unwrap();
            }
        }
        for set in spec.releasable_to.iter().flatten() {
            let tokens = set.iter().map(|&t| ReleaseToken::parse(TOKENS[t]).unwrap());
            label = label.with_releasable_to(tokens).unwrap();
        }
        label
    }

    /// Whether `reader` may receive information under `label`: released to its nation and within
    /// its clearance.
    fn may_see(&self, reader: &Reader, label: &Label) -> bool {
        self.released(reader, label) && self.cleared(reader, label)
    }

    fn released(&self, reader: &Reader, label: &Label) -> bool {
        self.policy
            .decide(label, self.originator, nation(reader.nation), self.day)
            .is_permit()
    }

    fn cleared(&self, reader: &Reader, label: &Label) -> bool {
        let caveats: Vec<String> = reader.caveats.iter().map(|c| (*c).to_owned()).collect();
        self.policy.is_cleared(
            &Clearance {
                policy: reader.policy,
                level: reader.level,
                caveats: &caveats,
            },
            label,
        )
    }
}

/// What a reader may see of one object version.
#[derive(Debug, PartialEq, Eq)]
enum Sight {
    Hidden,
    /// Visible, with the leaves it holds.
    Visible(BTreeSet<&'static str>),
}

/// The oracle's verdict for one version: the object is released on its label; each portion on
/// its effective label (the object label dominated by every marking covering it) and on each
/// covering label alone (a portion marked without "Releasable To" keeps its policy's default even
/// inside a wider object); a cut `name` (required) withholds the object; the banner of what
/// remains must be within the clearance; lists emptied by cuts are removed.
fn sight(oracle: &Oracle, reader: &Reader, spec: &ObjectSpec, version: usize) -> Sight {
    let object = oracle.label(spec.policy, &spec.versions[version]);
    if !oracle.released(reader, &object) {
        return Sight::Hidden;
    }
    let marks: Vec<(Label, &Vec<usize>)> = spec
        .portions
        .iter()
        .map(|(l, s)| (oracle.label(spec.policy, l), s))
        .collect();
    let contains = |outer: usize, inner: usize| {
        outer == inner
            || SELECTORS[inner]
                .strip_prefix(SELECTORS[outer])
                .is_some_and(|rest| rest.starts_with('.'))
    };
    // Selectors denied on their own.
    let mut denied = BTreeSet::new();
    for (_, selectors) in &marks {
        for &s in selectors.iter() {
            let covering: Vec<&Label> = marks
                .iter()
                .filter(|(_, other)| other.iter().any(|&o| contains(o, s)))
                .map(|(l, _)| l)
                .collect();
            let mut effective = object.clone();
            for l in &covering {
                effective = effective.dominate(l).unwrap();
            }
            let ok = oracle.released(reader, &effective)
                && covering.iter().all(|l| oracle.released(reader, l));
            if !ok {
                denied.insert(s);
            }
        }
    }
    let cut = |s: usize| denied.iter().any(|&d| contains(d, s));
    if denied.contains(&0) {
        // `name` is required of an attack pattern.
        return Sight::Hidden;
    }
    // A list whose elements were all cut is removed, and a marking left only on it goes.
    let emptied = |s: usize| s == 2 && cut(3) && cut(4);
    let mut banner = object;
    for (label, selectors) in &marks {
        if selectors.iter().any(|&s| !cut(s) && !emptied(s)) {
            banner = banner.dominate(label).unwrap();
        }
    }
    if !oracle.cleared(reader, &banner) {
        return Sight::Hidden;
    }
    let leaves = LEAVES
        .iter()
        .filter(|(_, covering)| {
            !covering.iter().any(|c| {
                let s = SELECTORS.iter().position(|x| x == c).unwrap();
                denied.iter().any(|&d| contains(d, s))
            })
        })
        .map(|(leaf, _)| *leaf)
        .collect();
    Sight::Visible(leaves)
}

fn object_id(i: usize) -> String {
    format!("attack-pattern--00000000-0000-4000-8000-{i:012x}")
}

fn canary(i: usize, version: usize, leaf: &str) -> String {
    format!("canary{i}v{version}{leaf}x")
}

fn modified(version: usize) -> String {
    format!("2024-0{}-01T00:00:00.000Z", version + 1)
}

/// The STIX object for version `v` of object `i`.
fn object_json(oracle: &Oracle, i: usize, v: usize, spec: &ObjectSpec) -> Value {
    let p = oracle.policy.policies();
    let md = |l: &Label| stix::marking_definition_id(p, l).unwrap();
    let object_label = oracle.label(spec.policy, &spec.versions[v]);
    let granular: Vec<Value> = spec
        .portions
        .iter()
        .map(|(l, selectors)| {
            json!({
                "marking_ref": md(&oracle.label(spec.policy, l)),
                "selectors": selectors.iter().map(|&s| SELECTORS[s]).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut o = json!({
        "type": "attack-pattern",
        "spec_version": "2.1",
        "id": object_id(i),
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified(v),
        "name": canary(i, v, "name"),
        "description": canary(i, v, "description"),
        "aliases": [canary(i, v, "alias0"), canary(i, v, "alias1")],
        "external_references": [
            {"source_name": "entente-test", "description": canary(i, v, "ref0")}
        ],
        "object_marking_refs": [md(&object_label)],
    });
    if !granular.is_empty() {
        o["granular_markings"] = Value::Array(granular);
    }
    o
}

/// A client of the node with a bearer token per reader (Basic would cost an argon2 check per
/// request).
struct Client {
    base: String,
    http: reqwest::Client,
    tokens: HashMap<&'static str, String>,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

impl Client {
    async fn send(&self, user: &str, r: reqwest::RequestBuilder) -> Reply {
        let r = r
            .header(AUTHORIZATION, format!("Bearer {}", self.tokens[user]))
            .header(ACCEPT, MEDIA_TYPE_TAXII)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Reply {
            status,
            headers,
            body: r.text().await.unwrap(),
        }
    }
    async fn get(&self, user: &str, path: &str) -> Reply {
        self.send(user, self.http.get(format!("{}{path}", self.base)))
            .await
    }
    async fn post(&self, user: &str, objects: &[Value]) -> Reply {
        let body = json!({ "objects": objects }).to_string();
        let r = self
            .http
            .post(format!("{}{OBJECTS}", self.base))
            .header(CONTENT_TYPE, MEDIA_TYPE_TAXII)
            .body(body);
        self.send(user, r).await
    }
}

async fn add_reader(s: &Sandbox, r: &Reader, write: bool) -> String {
    let user = User {
        name: r.name.into(),
        nation: nation(r.nation),
        clearance_policy: r.policy.into(),
        clearance_level: r.level.into(),
        clearance_caveats: r.caveats.iter().map(|c| (*c).to_owned()).collect(),
        password_hash: None,
        rights: vec![CollectionRight {
            collection: "intel".into(),
            read: true,
            write,
        }],
    };
    s.node.store().put_user(&user).await.unwrap();
    let token = auth::new_token();
    s.node
        .store()
        .add_token(r.name, &auth::token_hash(&token))
        .await
        .unwrap();
    token
}

/// Every page of a listing (`objects` or manifest) with `limit`, checking the page headers.
async fn walk(c: &Client, user: &str, path: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..1000 {
        let mut url = format!("{path}?limit={limit}");
        if let Some(n) = &next {
            url.push_str(&format!("&next={n}"));
        }
        let r = c.get(user, &url).await;
        assert_eq!(r.status, 200, "{user} {url}: {}", r.body);
        let page = r.json();
        let items = page["objects"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= limit, "{user}: page larger than {limit}");
        // The date headers name the page's own first and last entries, nothing hidden.
        let first = r.header("x-taxii-date-added-first");
        let last = r.header("x-taxii-date-added-last");
        if items.is_empty() {
            assert_eq!(
                (first, last),
                (None, None),
                "{user}: headers on an empty page"
            );
        } else if path == MANIFEST {
            let added: Vec<&str> = items
                .iter()
                .map(|m| m["date_added"].as_str().unwrap())
                .collect();
            assert_eq!(first.as_deref(), added.first().copied(), "{user} first");
            assert_eq!(last.as_deref(), added.last().copied(), "{user} last");
        } else {
            assert!(first.is_some() && last.is_some(), "{user}: page headers");
        }
        out.extend(items);
        let more = page["more"].as_bool().unwrap_or(false);
        match page["next"].as_str() {
            Some(n) if more => next = Some(n.to_owned()),
            None if !more => return out,
            other => panic!("{user}: more = {more} with next = {other:?}"),
        }
    }
    panic!("{user}: paging does not end");
}

/// The label of a served marking definition, or `None` for a marking without one.
fn served_label(oracle: &Oracle, md: &Value) -> Option<Label> {
    stix::is_label_marking(md)
        .then(|| stix::from_marking_definition(oracle.policy.policies(), md).unwrap())
}

fn check_corpus(specs: &[ObjectSpec], limit: usize, postgres: bool) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = |c: &mut NodeConfig| c.max_content_length = 8 << 20;
        let s = if postgres {
            match Sandbox::start_postgres(config).await {
                Some(s) => s,
                None => return,
            }
        } else {
            Sandbox::start_with(config).await
        };
        check_corpus_async(s, specs, limit).await;
    });
}

async fn check_corpus_async(s: Sandbox, specs: &[ObjectSpec], limit: usize) {
    let oracle = Oracle::new();
    let mut tokens = HashMap::new();
    for r in READERS {
        let write = r.name == "fra" || r.name == "fra-nat";
        tokens.insert(r.name, add_reader(&s, r, write).await);
    }
    let c = Client {
        base: s.base.clone(),
        http: reqwest::Client::new(),
        tokens,
    };
    let p = oracle.policy.policies();

    // Post per policy and version: the poster cleared for that policy posts the marking
    // definitions of every label it uses and the objects in one envelope.
    let mut statuses = Vec::new();
    for (pol, poster) in [(Pol::Nato, "fra"), (Pol::Fra, "fra-nat")] {
        let max_versions = specs.iter().map(|o| o.versions.len()).max().unwrap_or(0);
        for v in 0..max_versions {
            let mut markings: BTreeMap<String, Value> = BTreeMap::new();
            let mut objects = Vec::new();
            for (i, spec) in specs.iter().enumerate() {
                if spec.policy != pol || v >= spec.versions.len() {
                    continue;
                }
                let labels =
                    std::iter::once(&spec.versions[v]).chain(spec.portions.iter().map(|p| &p.0));
                for l in labels {
                    let md = stix::to_marking_definition(p, &oracle.label(pol, l)).unwrap();
                    markings.insert(md["id"].as_str().unwrap().to_owned(), md);
                }
                objects.push(object_json(&oracle, i, v, spec));
            }
            if objects.is_empty() {
                continue;
            }
            let n = objects.len();
            let all: Vec<Value> = markings.into_values().chain(objects).collect();
            let r = c.post(poster, &all).await;
            assert_eq!(r.status, 202, "{}", r.body);
            let status = r.json();
            assert_eq!(status["failure_count"], 0, "{}", status["failures"]);
            assert_eq!(status["success_count"], all.len(), "{n} objects");
            statuses.push((poster, status["id"].as_str().unwrap().to_owned()));
        }
    }

    for reader in READERS {
        let user = reader.name;
        // The oracle: the latest version of each object decides what listings show.
        let mut expected: BTreeMap<String, (usize, usize, BTreeSet<&str>)> = BTreeMap::new();
        let mut expected_versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (i, spec) in specs.iter().enumerate() {
            let last = spec.versions.len() - 1;
            if let Sight::Visible(leaves) = sight(&oracle, reader, spec, last) {
                expected.insert(object_id(i), (i, last, leaves));
            }
            let vs: Vec<String> = (0..spec.versions.len())
                .filter(|&v| sight(&oracle, reader, spec, v) != Sight::Hidden)
                .map(modified)
                .collect();
            expected_versions.insert(object_id(i), vs);
        }

        let served = walk(&c, user, OBJECTS, limit).await;
        let mut seen_ids = BTreeSet::new();
        let mut refs = BTreeSet::new();
        let mut served_markings = BTreeMap::new();
        for o in &served {
            let id = o["id"].as_str().unwrap().to_owned();
            assert!(seen_ids.insert(id.clone()), "{user}: {id} served twice");
            if o["type"] == "marking-definition" {
                // A marking definition is itself information: only labels the reader may see.
                if let Some(label) = served_label(&oracle, o) {
                    assert!(
                        oracle.may_see(reader, &label),
                        "{user} was served the marking {}",
                        o["name"]
                    );
                }
                served_markings.insert(id, o.clone());
                continue;
            }
            let Some((i, v, leaves)) = expected.get(&id) else {
                panic!("{user} was served {id}, which it may not see: {o}");
            };
            let text = o.to_string();
            for (leaf, _) in LEAVES {
                let present = text.contains(&canary(*i, *v, leaf));
                assert_eq!(
                    present,
                    leaves.contains(leaf),
                    "{user}: portion {leaf} of {id}: served {present}, oracle {leaves:?}: {text}"
                );
            }
            for other in 0..specs[*i].versions.len() {
                if other != *v {
                    assert!(
                        !text.contains(&format!("canary{i}v{other}")),
                        "{user}: old version"
                    );
                }
            }
            for r in o["object_marking_refs"].as_array().into_iter().flatten() {
                refs.insert(r.as_str().unwrap().to_owned());
            }
            for g in o["granular_markings"].as_array().into_iter().flatten() {
                refs.insert(g["marking_ref"].as_str().unwrap().to_owned());
            }
        }
        let objects: BTreeSet<&String> = seen_ids
            .iter()
            .filter(|id| !served_markings.contains_key(*id))
            .collect();
        let want: BTreeSet<&String> = expected.keys().collect();
        assert_eq!(objects, want, "{user}: objects served");
        // Every posted marking the reader may see is served; every reference resolves.
        for spec in specs {
            for l in std::iter::once(spec.versions.last().unwrap())
                .chain(spec.portions.iter().map(|p| &p.0))
            {
                let label = oracle.label(spec.policy, l);
                let id = stix::marking_definition_id(p, &label).unwrap();
                if oracle.may_see(reader, &label) {
                    assert!(
                        served_markings.contains_key(&id),
                        "{user}: marking {id} withheld"
                    );
                }
            }
        }
        for r in &refs {
            assert!(
                served_markings.contains_key(r),
                "{user}: a served object refers to {r}, which the collection does not serve"
            );
        }

        // The manifest lists exactly what the objects resource serves, in the same order.
        let manifest = walk(&c, user, MANIFEST, limit).await;
        let listed: Vec<&str> = manifest.iter().map(|m| m["id"].as_str().unwrap()).collect();
        let served_ids: Vec<&str> = served.iter().map(|o| o["id"].as_str().unwrap()).collect();
        assert_eq!(listed, served_ids, "{user}: manifest");

        for (i, spec) in specs.iter().enumerate() {
            let id = object_id(i);
            let by_id = c.get(user, &format!("{OBJECTS}{id}/")).await;
            let versions = c.get(user, &format!("{OBJECTS}{id}/versions/")).await;
            let all = c
                .get(user, &format!("{OBJECTS}{id}/?match[version]=all"))
                .await;
            let expected_v = &expected_versions[&id];
            match expected.get(&id) {
                Some((_, v, _)) => {
                    assert_eq!(by_id.status, 200, "{user} {id}: {}", by_id.body);
                    let env = by_id.json();
                    assert_eq!(env["objects"].as_array().map(Vec::len), Some(1));
                    assert_eq!(env["objects"][0]["modified"], modified(*v));
                    assert_eq!(
                        Some(&env["objects"][0]),
                        served.iter().find(|o| o["id"] == id),
                        "{user}: by id and in the listing differ"
                    );
                }
                None => {
                    // Hidden and absent look the same, to the byte but for the id.
                    assert_eq!(by_id.status, 404, "{user} {id}: {}", by_id.body);
                    let absent_id = object_id(100_000 + i);
                    let absent = c.get(user, &format!("{OBJECTS}{absent_id}/")).await;
                    assert_eq!(absent.status, 404);
                    assert_eq!(by_id.body.replace(&id, &absent_id), absent.body);
                    assert!(by_id.header("x-taxii-date-added-first").is_none());
                }
            }
            if expected_v.is_empty() {
                assert_eq!(
                    versions.status, 404,
                    "{user} {id} versions: {}",
                    versions.body
                );
                assert_eq!(all.status, 404, "{user} {id} all: {}", all.body);
                assert!(!versions.body.contains("canary") && !all.body.contains("canary"));
            } else {
                assert_eq!(versions.status, 200, "{user} {id}: {}", versions.body);
                assert_eq!(
                    versions.json()["versions"],
                    json!(expected_v),
                    "{user} {id}"
                );
                let env = all.json();
                let got: Vec<&str> = env["objects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["modified"].as_str().unwrap())
                    .collect();
                assert_eq!(got, *expected_v, "{user} {id}: match[version]=all");
                for v in 0..spec.versions.len() {
                    if !expected_v.contains(&modified(v)) {
                        assert!(
                            !all.body.contains(&format!("canary{i}v{v}")),
                            "{user} {id} v{v}"
                        );
                    }
                }
            }
        }

        // Search answers from what TAXII served and nothing else: each version's canaries find
        // the object exactly when the served copy holds one of them, a portion cut out of the
        // copy is found by none of its words, and counts and facets are those of the served
        // copies.
        let search = |q: String| {
            let c = &c;
            async move {
                let r = c.get(user, &format!("/api/search/?limit=1000&q={q}")).await;
                assert_eq!(r.status, 200, "{user} search {q}: {}", r.body);
                r.json()
            }
        };
        let everything = search(String::new()).await;
        assert_eq!(everything["total"], objects.len(), "{user}: search total");
        let kinds = if objects.is_empty() {
            json!({})
        } else {
            json!({"attack-pattern": objects.len()})
        };
        assert_eq!(
            everything["facets"]["types"], kinds,
            "{user}: search facets"
        );
        for (i, spec) in specs.iter().enumerate() {
            let served_copy = served
                .iter()
                .find(|o| o["id"] == object_id(i))
                .map(Value::to_string);
            for v in 0..spec.versions.len() {
                let answer = search(format!("canary{i}v{v}*")).await;
                let holds = served_copy
                    .as_ref()
                    .is_some_and(|t| t.contains(&format!("canary{i}v{v}")));
                let ids: Vec<&str> = answer["hits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h["id"].as_str().unwrap())
                    .collect();
                let want: Vec<String> = if holds {
                    vec![object_id(i)]
                } else {
                    Vec::new()
                };
                assert_eq!(ids, want, "{user}: search for version {v} of object {i}");
                assert_eq!(
                    answer["total"],
                    want.len(),
                    "{user}: count for version {v} of object {i}"
                );
                for (leaf, _) in LEAVES {
                    let word = canary(i, v, leaf);
                    if served_copy.as_ref().is_some_and(|t| !t.contains(&word)) && holds {
                        let cut = search(word.clone()).await;
                        assert_eq!(
                            cut["total"], 0,
                            "{user}: the cut portion {word} was found: {cut}"
                        );
                        assert_eq!(
                            cut["facets"]["types"],
                            json!({}),
                            "{user}: facets of {word}"
                        );
                    }
                }
            }
        }

        // Status resources belong to their poster.
        for (poster, id) in &statuses {
            let r = c.get(user, &format!("/api/status/{id}/")).await;
            if *poster == user {
                assert_eq!(r.status, 200);
            } else {
                assert_eq!(r.status, 404, "{user} read the status of {poster}");
                assert!(!r.body.contains("attack-pattern"));
            }
        }
    }
    s.stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(16),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn each_reader_sees_exactly_what_its_labels_allow(
        specs in proptest::collection::vec(object_spec(), 1..10),
        limit in 1usize..6,
    ) {
        check_corpus(&specs, limit, false);
    }
}

proptest! {
    // The same property on PostgreSQL, on fewer corpora (each case makes a schema).
    #![proptest_config(ProptestConfig {
        cases: 4,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn each_reader_sees_exactly_what_its_labels_allow_on_postgres(
        specs in proptest::collection::vec(object_spec(), 1..10),
        limit in 1usize..6,
    ) {
        check_corpus(&specs, limit, true);
    }
}
