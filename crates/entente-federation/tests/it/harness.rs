//! Starts nodes with keys, development PKI and a full mesh (or a chosen topology) of partners.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use entente_federation::{generate_dev_pki, partner_block, Federation};
use entente_labels::{parse_marking, stix, PolicySet};
use entente_node::{shipped_data, Node, NodeConfig};
use entente_seal::NodeIdentity;
use entente_store::{AddRequest, NewObject, ObjectQuery, VersionFilter};
use entente_types::NationCode;
use serde_json::{json, Value};
use tokio::sync::watch;

pub fn nation(code: &str) -> NationCode {
    code.parse().unwrap()
}

pub struct Member {
    pub nation: NationCode,
    pub dir: PathBuf,
    pub fed_addr: SocketAddr,
    pub config_text: String,
    pub node: Arc<Node>,
    pub fed: Arc<Federation>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

pub struct Mesh {
    _root: tempfile::TempDir,
    pub members: BTreeMap<NationCode, Member>,
    pub policies: PolicySet,
}

struct Prepared {
    dir: PathBuf,
    identity: NodeIdentity,
    ca: String,
    listener: std::net::TcpListener,
    addr: SocketAddr,
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

impl Mesh {
    /// Every nation paired with every other.
    pub async fn full(codes: &[&str]) -> Mesh {
        let nations: Vec<NationCode> = codes.iter().map(|c| nation(c)).collect();
        let mut links = BTreeSet::new();
        for a in &nations {
            for b in &nations {
                if a != b {
                    links.insert((*a, *b));
                }
            }
        }
        Mesh::with_links(&nations, &links).await
    }

    /// Nodes where `a` lists `b` as partner for each `(a, b)` in `links` (links should be
    /// symmetric for delivery to work both ways).
    pub async fn with_links(
        nations: &[NationCode],
        links: &BTreeSet<(NationCode, NationCode)>,
    ) -> Mesh {
        Mesh::with_links_and_settings(nations, links, "").await
    }

    /// [`Mesh::full`] with `settings` (top-level `node.toml` lines) added to every node's config.
    pub async fn full_with_settings(codes: &[&str], settings: &str) -> Mesh {
        let nations: Vec<NationCode> = codes.iter().map(|c| nation(c)).collect();
        let mut links = BTreeSet::new();
        for a in &nations {
            for b in nations.iter().filter(|b| *b != a) {
                links.insert((*a, *b));
            }
        }
        Mesh::with_links_and_settings(&nations, &links, settings).await
    }

    /// [`Mesh::with_links`] with `settings` added to every node's config.
    pub async fn with_links_and_settings(
        nations: &[NationCode],
        links: &BTreeSet<(NationCode, NationCode)>,
        settings: &str,
    ) -> Mesh {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let root = tempfile::tempdir().unwrap();
        let mut prepared = BTreeMap::new();
        for n in nations {
            let dir = root.path().join(n.as_str());
            std::fs::create_dir_all(&dir).unwrap();
            let identity = NodeIdentity::generate(*n);
            identity.save(&dir.join("node.keys")).unwrap();
            let pki = generate_dev_pki(*n).unwrap();
            write(&dir.join("tls/ca.crt"), &pki.ca_pem);
            write(&dir.join("tls/node.crt"), &pki.cert_pem);
            write(&dir.join("tls/node.key"), &pki.key_pem);
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            let addr = listener.local_addr().unwrap();
            prepared.insert(
                *n,
                Prepared {
                    dir,
                    identity,
                    ca: pki.ca_pem,
                    listener,
                    addr,
                },
            );
        }
        let mut members = BTreeMap::new();
        for n in nations {
            let p = &prepared[n];
            let mut text = format!(
                "version = 1\nnation = \"{n}\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \".\"\npolicy_data = {:?}\n{settings}\n[[collections]]\nid = \"intel\"\ntitle = \"Intelligence\"\n\n[federation]\nlisten = \"{}\"\nkeys = \"node.keys\"\ntls_cert = \"tls/node.crt\"\ntls_key = \"tls/node.key\"\ntls_ca = \"tls/ca.crt\"\nretry_max_ms = 300\ncheckpoint_interval_ms = 200\n",
                shipped_data().display().to_string(),
                p.addr
            );
            for (a, b) in links {
                if a == n {
                    let q = &prepared[b];
                    let vkey = entente_audit::vkey(
                        &entente_audit::origin_for(b.as_str()),
                        &q.identity.signing_key().verifying_key(),
                    );
                    text.push_str(&partner_block(
                        &format!("https://127.0.0.1:{}", q.addr.port()),
                        &q.identity.public(),
                        &q.ca,
                        Some(&vkey),
                    ));
                }
            }
            write(&p.dir.join("node.toml"), &text);
            let listener = p.listener.try_clone().unwrap();
            let member = start(*n, &p.dir, text, listener).await;
            members.insert(*n, member);
        }
        let policies = PolicySet::load(&shipped_data().join("policies")).unwrap();
        Mesh {
            _root: root,
            members,
            policies,
        }
    }

    pub fn get(&self, code: &str) -> &Member {
        &self.members[&nation(code)]
    }

    /// Stops a member (its federation tasks and its store handle), keeping its folder.
    pub async fn stop(&mut self, code: &str) {
        let m = self.members.remove(&nation(code)).unwrap();
        let _ = m.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), m.task).await;
    }

    /// Starts a stopped member again from its folder, on the same federation port.
    pub async fn restart(&mut self, code: &str, dir: &Path, text: String, addr: SocketAddr) {
        let mut listener = None;
        for _ in 0..100 {
            match std::net::TcpListener::bind(addr) {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let listener = listener.expect("federation port free again");
        listener.set_nonblocking(true).unwrap();
        let m = start(nation(code), dir, text, listener).await;
        self.members.insert(nation(code), m);
    }

    /// A marking definition for a marking text ("NATO SECRET//REL TO FRA, USA").
    pub fn marking(&self, text: &str) -> Value {
        let label = parse_marking(&self.policies, text).unwrap();
        stix::to_marking_definition(&self.policies, &label).unwrap()
    }

    pub async fn stop_all(mut self) {
        let codes: Vec<String> = self.members.keys().map(|n| n.to_string()).collect();
        for c in codes {
            self.stop(&c).await;
        }
    }
}

async fn start(n: NationCode, dir: &Path, text: String, listener: std::net::TcpListener) -> Member {
    let config = NodeConfig::parse(&text, dir).unwrap();
    let node = Node::open(config).await.unwrap();
    // A member restarted in this process may find its audit log still locked for a moment by
    // the stopped instance's last receive, which runs to completion (a killed process would
    // have released the lock with its file descriptors).
    let started = std::time::Instant::now();
    let fed = loop {
        match Federation::open(node.clone()).await {
            Err(entente_federation::FederationError::Audit(
                entente_audit::AuditError::Locked { .. },
            )) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => break other.unwrap().unwrap(),
        }
    };
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    let fed_addr = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    let runner = fed.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = runner.run(listener, stopped).await {
            panic!("federation of {n} failed: {e}");
        }
    });
    Member {
        nation: n,
        dir: dir.to_owned(),
        fed_addr,
        config_text: text,
        node,
        fed,
        stop,
        task,
    }
}

/// A STIX indicator, with an object label and optional portion labels.
pub fn indicator(n: u32, version: &str, label: &Value, portions: &[(&str, &Value)]) -> Value {
    let mut o = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2025-01-01T00:00:00.000Z",
        "modified": version,
        "name": format!("indicator {n}"),
        "description": format!("details of indicator {n}"),
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2025-01-01T00:00:00Z",
        "object_marking_refs": [label["id"].clone()],
    });
    if !portions.is_empty() {
        o["granular_markings"] = Value::Array(
            portions
                .iter()
                .map(|(sel, m)| json!({"marking_ref": m["id"].clone(), "selectors": [sel]}))
                .collect(),
        );
    }
    o
}

impl Member {
    /// Publishes objects (and the markings they use) at this node, as its analysts would.
    pub async fn publish(&self, objects: &[Value]) {
        let mut new = Vec::new();
        for o in objects {
            let header = entente_stix::validate_object(o).unwrap();
            let (version, version_key) = match header.version() {
                Some(t) => (t.as_str().to_owned(), t.key()),
                None => (String::new(), String::new()),
            };
            new.push(NewObject {
                id: header.id,
                kind: header.kind,
                spec_version: header.spec_version,
                version,
                version_key,
                originator: self.nation,
                json: o.to_string(),
            });
        }
        self.node
            .store()
            .add_objects(AddRequest {
                status_id: uuid_like(),
                owner: "analyst".into(),
                collection: "intel".into(),
                now_us: chrono::Utc::now().timestamp_micros(),
                objects: new,
                failures: Vec::new(),
                ..Default::default()
            })
            .await
            .unwrap();
        self.node.notify_changed();
    }

    /// Deletes every version of an object here (a recall when this node is its origin).
    pub async fn delete(&self, id: &str) {
        let keys: Vec<String> = self
            .node
            .store()
            .versions("intel", id)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.version_key)
            .collect();
        self.node
            .store()
            .delete_versions("intel", id, &keys)
            .await
            .unwrap();
        self.node.notify_changed();
    }

    /// Every live version held, as (id, version, originator, json), markings excluded.
    pub async fn held(&self) -> Vec<(String, String, NationCode, Value)> {
        let page = self
            .node
            .store()
            .objects(
                "intel",
                &ObjectQuery {
                    versions: VersionFilter::all(),
                    limit: 100_000,
                    ..ObjectQuery::default()
                },
            )
            .await
            .unwrap();
        page.objects
            .into_iter()
            .filter(|o| o.kind != "marking-definition")
            .map(|o| {
                let v: Value = serde_json::from_str(&o.json).unwrap();
                (o.id, o.version, o.originator, v)
            })
            .collect()
    }
}

fn uuid_like() -> String {
    use rand::RngExt;
    format!("status-{:032x}", rand::rng().random::<u128>())
}

/// Waits until every node's dispatchers are idle: each partner cursor at the end of its stream.
/// Waits until the audit log of `m` holds every audit intent its store kept (the receive and
/// release events committed with what they record reach the log just after).
pub async fn intents_recorded(m: &Member) {
    let start = Instant::now();
    while !m.node.store().audit_intents(1).await.unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "audit intents of {} not recorded in 10 s",
            m.nation
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn settled(mesh: &Mesh, limit: Duration) {
    let start = Instant::now();
    let mut stable_rounds = 0;
    loop {
        let mut idle = true;
        for m in mesh.members.values() {
            let store = m.node.store();
            let head = store
                .changes(0, 1_000_000)
                .await
                .unwrap()
                .last()
                .map_or(0, |c| c.object.seq);
            // Receive and release events reach the audit log just after their commit.
            if !store.audit_intents(1).await.unwrap().is_empty() {
                idle = false;
            }
            for p in &m.fed.config().partners {
                let c = store
                    .cursor(&format!("federation/partner/{}", p.nation))
                    .await
                    .unwrap()
                    .map_or(0, |c| c.seq);
                if c < head {
                    idle = false;
                }
            }
        }
        stable_rounds = if idle { stable_rounds + 1 } else { 0 };
        // Idle twice in a row: a receive that bumps a stream is seen in between.
        if stable_rounds >= 3 {
            return;
        }
        if start.elapsed() > limit {
            panic!("federation not settled in {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
