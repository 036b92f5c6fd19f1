//! The federation's set-up: each nation's folder (keys, certificates, node.toml), its demo users,
//! and its TAXII server, admin listener and federation endpoint started on loopback, paired
//! with every other node.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use entente_audit::{origin_for, NoteVerifier};
use entente_federation::{audit_routes, generate_dev_pki, partner_block, Federation};
use entente_labels::PolicySet;
use entente_node::pki::DevCa;
use entente_node::{Node, NodeConfig};
use entente_policy::ReleaseVerdict;
use entente_seal::NodeIdentity;
use entente_store::{CollectionRight, User};
use entente_types::NationCode;
use tokio::sync::watch;

use super::checks::Expected;
use super::{lower, write, write_private, COLLECTION};
use crate::dataset::Dataset;
use crate::error::Context as _;
use crate::DemoError;

/// A demo user as shown to whoever runs the demonstration.
pub(super) struct DemoUser {
    pub name: String,
    pub password: String,
    /// The clearance as shown: policy, level and caveats.
    pub clearance: String,
    pub policy: String,
}

/// A running node of the federation.
pub(super) struct DemoNode {
    pub nation: NationCode,
    pub dir: PathBuf,
    pub taxii_url: String,
    pub federation_url: String,
    /// The admin listener (plain HTTP on loopback): metrics and the OpenAPI document.
    pub admin_url: String,
    pub vkey: String,
    pub verifier: NoteVerifier,
    pub users: Vec<DemoUser>,
    pub node: Arc<Node>,
    pub tasks: Vec<tokio::task::JoinHandle<Result<(), DemoError>>>,
}

/// Where and how the nodes are set up.
pub(super) struct Setup<'a> {
    /// The federation's folder: `ca.pem` and one folder per nation.
    pub root: &'a Path,
    /// The folder holding `registry/` and `policies/`, given to every node.
    pub policy_data: &'a Path,
    /// TAXII over plain HTTP instead of TLS.
    pub plain_http: bool,
    /// Whether the consoles replay the runs recorded in `root/runs/`.
    pub exercise_runs: bool,
}

/// A nation's folder written and its listeners bound, before any node starts (every node's
/// configuration names every other node's federation address and keys).
struct Prepared {
    nation: NationCode,
    dir: PathBuf,
    identity: NodeIdentity,
    federation_ca: String,
    taxii: TcpListener,
    federation: TcpListener,
    admin: TcpListener,
}

/// The demo users of one node: one per classification policy among the labels it publishes or
/// receives, cleared at that policy's highest level with every caveat (demo only).
pub(super) fn users_for(
    nation: NationCode,
    dataset: &Dataset,
    expected: &[Expected<'_>],
    policies: &PolicySet,
) -> Result<Vec<(User, DemoUser)>, DemoError> {
    let mut needed = BTreeSet::new();
    for o in dataset.objects.iter().filter(|o| o.origin == nation) {
        needed.insert(o.policy.clone());
    }
    for e in expected
        .iter()
        .filter(|e| e.recipient == nation && e.verdict != ReleaseVerdict::Deny)
    {
        needed.insert(e.object.policy.clone());
    }
    needed.insert("NATO".to_owned());
    let mut out = Vec::new();
    for policy_id in needed {
        let policy = policies
            .get(&policy_id)
            .with_context(|| format!("policy {policy_id} is not in the policy data"))?;
        let top = policy
            .levels
            .last()
            .with_context(|| format!("policy {policy_id} has no levels"))?;
        let name = format!("{}-{}", lower(nation), policy_id.to_ascii_lowercase());
        // Deterministic and printed: these nodes live on loopback for the demonstration only.
        let password = format!("demo-{name}");
        let mut clearance = top.marking.clone();
        for c in &policy.caveats {
            clearance.push_str("//");
            clearance.push_str(c);
        }
        let user = User {
            name: name.clone(),
            nation,
            clearance_policy: policy_id.clone(),
            clearance_level: top.name.clone(),
            clearance_caveats: policy.caveats.clone(),
            password_hash: Some(entente_node::auth::hash_password(&password)?),
            rights: vec![
                CollectionRight {
                    collection: COLLECTION.into(),
                    read: true,
                    write: true,
                },
                CollectionRight {
                    collection: super::picture::COLLECTION.into(),
                    read: true,
                    write: false,
                },
                // Every crisis room; the NATO-cleared officer of each nation opens, publishes
                // in and closes rooms, the others read them.
                CollectionRight {
                    collection: entente_node::crisis::ROOMS_RIGHT.into(),
                    read: true,
                    write: policy_id == "NATO",
                },
            ],
        };
        out.push((
            user,
            DemoUser {
                name,
                password,
                clearance,
                policy: policy_id,
            },
        ));
    }
    Ok(out)
}

/// Writes every node's folder and starts its TAXII server, admin listener and federation; they
/// stop when `stopped` turns true.
pub(super) async fn start(
    setup: &Setup<'_>,
    nations: &[NationCode],
    dataset: &Dataset,
    expected: &[Expected<'_>],
    stopped: watch::Receiver<bool>,
) -> Result<Vec<DemoNode>, DemoError> {
    let ca = DevCa::generate("Entente demo CA (development only)")?;
    write(&setup.root.join("ca.pem"), ca.cert_pem())?;
    let mut prepared = Vec::new();
    for &n in nations {
        prepared.push(prepare(setup.root, n, &ca)?);
    }
    let policy_data = setup
        .policy_data
        .canonicalize()
        .with_context(|| format!("{}", setup.policy_data.display()))?;
    let scheme = if setup.plain_http { "http" } else { "https" };
    let mut nodes = Vec::new();
    for p in &prepared {
        let taxii_addr = p.taxii.local_addr()?;
        let fed_addr = p.federation.local_addr()?;
        let admin_addr = p.admin.local_addr()?;
        let mut text = node_toml(p, &prepared, &policy_data, setup.plain_http)?;
        if setup.exercise_runs {
            text.push_str(&super::runs::console_table());
        }
        let config_path = p.dir.join("node.toml");
        write_private(&config_path, &text)?;
        let config = NodeConfig::parse(&text, &p.dir)
            .map_err(|e| DemoError::Message(format!("{}: {e}", config_path.display())))?;
        let node = Node::open(config).await?;
        let fed = Federation::open(node.clone())
            .await?
            .with_context(|| format!("{}: no [federation] table", config_path.display()))?;
        let pairs = users_for(
            p.nation,
            dataset,
            expected,
            node.release_policy().policies(),
        )?;
        let mut users = Vec::new();
        for (user, shown) in pairs {
            node.store().put_user(&user).await?;
            users.push(shown);
        }
        let verifying = p.identity.signing_key().verifying_key();
        let vkey = entente_audit::vkey(&origin_for(p.nation.as_str()), &verifying);
        let verifier = NoteVerifier::new(p.nation.as_str(), verifying);
        let tasks = serve(p, &node, &fed, &stopped)?;
        nodes.push(DemoNode {
            nation: p.nation,
            dir: p.dir.clone(),
            taxii_url: format!("{scheme}://127.0.0.1:{}", taxii_addr.port()),
            federation_url: format!("https://127.0.0.1:{}", fed_addr.port()),
            admin_url: format!("http://127.0.0.1:{}", admin_addr.port()),
            vkey,
            verifier,
            users,
            node,
            tasks,
        });
    }
    Ok(nodes)
}

/// Writes a nation's keys and certificates (federation PKI, TAXII server certificate from the
/// demo CA) and binds its three listeners on loopback.
fn prepare(root: &Path, n: NationCode, ca: &DevCa) -> Result<Prepared, DemoError> {
    let dir = root.join(lower(n));
    entente_seal::create_private_dir(&dir.join("tls"))?;
    let identity = NodeIdentity::generate(n);
    identity.save(&dir.join("node.keys"))?;
    let pki = generate_dev_pki(n)?;
    write(&dir.join("tls/ca.crt"), &pki.ca_pem)?;
    write(&dir.join("tls/node.crt"), &pki.cert_pem)?;
    write_private(&dir.join("tls/node.key"), &pki.key_pem)?;
    let server = ca.issue_server(&["localhost", "127.0.0.1"])?;
    write(
        &dir.join("tls/taxii.pem"),
        &format!("{}{}", server.cert_pem, ca.cert_pem()),
    )?;
    write_private(&dir.join("tls/taxii.key"), &server.key_pem)?;
    let bind = || -> Result<TcpListener, DemoError> {
        let l = TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?;
        l.set_nonblocking(true)?;
        Ok(l)
    };
    Ok(Prepared {
        nation: n,
        dir,
        identity,
        federation_ca: pki.ca_pem,
        taxii: bind()?,
        federation: bind()?,
        admin: bind()?,
    })
}

/// The node.toml of one prepared nation, paired with every other one.
fn node_toml(
    p: &Prepared,
    all: &[Prepared],
    policy_data: &Path,
    plain_http: bool,
) -> Result<String, DemoError> {
    let taxii_addr = p.taxii.local_addr()?;
    let fed_addr = p.federation.local_addr()?;
    let admin_addr = p.admin.local_addr()?;
    let mut text = format!(
        "# Entente demo node {n} (written by `entente demo`)\nversion = 1\nnation = \"{n}\"\ntitle = \"Entente demo node {n}\"\nlisten = \"{taxii_addr}\"\ndata_dir = \".\"\npolicy_data = {:?}\n\n[admin]\nlisten = \"{admin_addr}\"\n",
        policy_data.display().to_string(),
        n = p.nation,
    );
    if !plain_http {
        text.push_str("\n[tls]\ncert = \"tls/taxii.pem\"\nkey = \"tls/taxii.key\"\n");
    }
    text.push_str(&format!(
        "\n[[collections]]\nid = \"{COLLECTION}\"\ntitle = \"Intelligence\"\ndescription = \"Exercise objects published by {n} analysts and received from partners\"\n\n[[collections]]\nid = \"{picture}\"\ntitle = \"Air picture\"\ndescription = \"National tracks of the live exercise, as released to {n}\"\n\n[federation]\nlisten = \"{fed_addr}\"\nkeys = \"node.keys\"\ntls_cert = \"tls/node.crt\"\ntls_key = \"tls/node.key\"\ntls_ca = \"tls/ca.crt\"\nretry_max_ms = 500\ncheckpoint_interval_ms = 500\n",
        n = p.nation,
        picture = super::picture::COLLECTION,
    ));
    for q in all.iter().filter(|q| q.nation != p.nation) {
        let vkey = entente_audit::vkey(
            &origin_for(q.nation.as_str()),
            &q.identity.signing_key().verifying_key(),
        );
        text.push_str(&partner_block(
            &format!("https://{}", q.federation.local_addr()?),
            &q.identity.public(),
            &q.federation_ca,
            Some(&vkey),
        ));
    }
    Ok(text)
}

/// Starts the node's TAXII server (with the audit routes), admin listener and federation.
fn serve(
    p: &Prepared,
    node: &Arc<Node>,
    fed: &Arc<Federation>,
    stopped: &watch::Receiver<bool>,
) -> Result<Vec<tokio::task::JoinHandle<Result<(), DemoError>>>, DemoError> {
    let taxii = tokio::net::TcpListener::from_std(p.taxii.try_clone()?)?;
    let federation = tokio::net::TcpListener::from_std(p.federation.try_clone()?)?;
    let admin = tokio::net::TcpListener::from_std(p.admin.try_clone()?)?;
    let mut admin_stopped = stopped.clone();
    let admin_task = tokio::spawn({
        let node = node.clone();
        let document = entente_node::openapi::document([entente_federation::openapi()]);
        async move {
            entente_node::serve_admin(node, admin, document, async move {
                let _ = admin_stopped.wait_for(|s| *s).await;
            })
            .await
            .map_err(DemoError::from)
        }
    });
    let mut http_stopped = stopped.clone();
    let http = tokio::spawn({
        let node = node.clone();
        let console = entente_console::Console::new(node.clone(), Some(fed.clone()))
            .map_err(|e| DemoError::Message(format!("{}: the web console: {e}", p.nation)))?;
        let routes = audit_routes(fed.audit().clone()).merge(entente_console::router(console));
        async move {
            entente_node::serve_node_with(node, routes, taxii, async move {
                let _ = http_stopped.wait_for(|s| *s).await;
            })
            .await
            .map_err(DemoError::from)
        }
    });
    let federation_task = tokio::spawn({
        let fed = fed.clone();
        let stopped = stopped.clone();
        async move { fed.run(federation, stopped).await.map_err(DemoError::from) }
    });
    Ok(vec![http, federation_task, admin_task])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::live::checks::fixtures::{expected, object};
    use crate::tests::data_dir;

    #[test]
    fn a_node_gets_one_user_per_policy_it_publishes_or_receives_and_nato() {
        let policies = PolicySet::load(&data_dir("policies")).unwrap();
        let fra: NationCode = "FRA".parse().unwrap();
        let own = object("indicator--1", "FRA", "FRA");
        let received = object("indicator--2", "USA", "NATO");
        let withheld = object("indicator--3", "USA", "USA");
        let dataset = Dataset {
            objects: vec![own],
            labels: Default::default(),
        };
        let all = [
            expected(&received, "FRA", ReleaseVerdict::Permit),
            expected(&withheld, "FRA", ReleaseVerdict::Deny),
        ];
        let Ok(users) = users_for(fra, &dataset, &all, &policies) else {
            panic!("users")
        };
        let names: Vec<&str> = users.iter().map(|(_, shown)| shown.name.as_str()).collect();
        assert_eq!(names, ["fra-fra", "fra-nato"]);
        for (user, shown) in &users {
            assert_eq!(user.nation, fra);
            assert_eq!(shown.password, format!("demo-{}", shown.name));
            assert!(user.password_hash.is_some());
            assert!(user
                .rights
                .iter()
                .any(|r| r.collection == COLLECTION && r.write));
            let rooms = user
                .right("crisis-0b6c7b52-5d64-4b5f-9a43-7d5b2f3c8e11")
                .unwrap();
            assert!(rooms.read);
            assert_eq!(rooms.write, shown.policy == "NATO", "{}", shown.name);
            let policy = policies.get(&shown.policy).unwrap();
            assert_eq!(user.clearance_level, policy.levels.last().unwrap().name);
            assert!(shown
                .clearance
                .starts_with(&policy.levels.last().unwrap().marking));
        }
    }

    #[test]
    fn an_unknown_policy_is_named() {
        let policies = PolicySet::load(&data_dir("policies")).unwrap();
        let dataset = Dataset {
            objects: vec![object("indicator--1", "FRA", "ZZ")],
            labels: Default::default(),
        };
        let Err(e) = users_for("FRA".parse().unwrap(), &dataset, &[], &policies) else {
            panic!("an unknown policy was accepted")
        };
        assert_eq!(e.to_string(), "policy ZZ is not in the policy data");
    }
}
