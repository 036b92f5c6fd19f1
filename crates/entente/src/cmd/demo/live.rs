//! Part 2 of `entente demo`: a live federation of national nodes on loopback.
//!
//! Each nation gets a folder (node.toml, SQLite store, keys, audit log), a TAXII 2.1 server over
//! TLS (one demo CA for every node, so a client needs one CA file) and a federation endpoint
//! over mutual TLS, paired with every other node. Each origin's analysts publish the shipped
//! exercise objects through their node's TAXII `POST`; the demonstration then waits, with one
//! progress bar per receiving nation, until every nation holds exactly what `ReleasePolicy`
//! says it may receive (computed here, independently of the federation), verifies every audit
//! log over HTTP as a partner would, and serves until Ctrl-C or `--duration`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use entente_audit::{origin_for, Checkpoint, EventKind, NoteVerifier};
use entente_federation::{audit_routes, generate_dev_pki, partner_block, AuditClient, Federation};
use entente_labels::{Label, PolicySet};
use entente_node::pki::DevCa;
use entente_node::{Node, NodeConfig};
use entente_policy::{ReleasePolicy, ReleaseVerdict};
use entente_seal::NodeIdentity;
use entente_store::{CollectionRight, ObjectQuery, User, VersionFilter};
use entente_types::{Date, NationCode};
use serde_json::{json, Value};
use tokio::sync::watch;

use super::dataset::{Dataset, DemoObject};
use crate::output::{self, UsageError};

/// The nations of the demonstration, in the order they are shown.
pub const NATIONS: [&str; 5] = ["FRA", "USA", "GBR", "DEU", "JPN"];
/// The collection every node serves and federates.
const COLLECTION: &str = "intel";

/// How the live part runs.
pub struct Options {
    /// Where the nodes' folders go (default: a temporary folder removed at exit).
    pub root: Option<PathBuf>,
    /// TAXII over plain HTTP instead of TLS (the federation link stays mutual TLS).
    pub plain_http: bool,
    /// Stop by itself this long after the federation is up and verified.
    pub duration: Option<Duration>,
    /// Written (with the manifest's path) once the nodes serve and everything is verified.
    pub ready_file: Option<PathBuf>,
    /// The longest wait for the federation to converge and for audit events to appear.
    pub timeout: Duration,
    /// The exercise objects.
    pub dataset: PathBuf,
    /// The folder holding `registry/` and `policies/`, given to every node.
    pub policy_data: PathBuf,
    /// The day releases are decided on (the nodes decide on today's date).
    pub today: Date,
}

struct DemoUser {
    name: String,
    password: String,
    /// The clearance as shown: policy, level and caveats.
    clearance: String,
    policy: String,
}

struct DemoNode {
    nation: NationCode,
    dir: PathBuf,
    taxii_url: String,
    federation_url: String,
    /// The admin listener (plain HTTP on loopback): metrics and the OpenAPI document.
    admin_url: String,
    vkey: String,
    verifier: NoteVerifier,
    users: Vec<DemoUser>,
    node: Arc<Node>,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// What one nation should receive from one published object, decided by `ReleasePolicy`.
struct Expected<'a> {
    object: &'a DemoObject,
    recipient: NationCode,
    verdict: ReleaseVerdict,
    reason: String,
}

/// Runs the live federation; `part1` is what the registry walk-through recorded. Returns the
/// exit code: failure when the federation did not converge or an audit check failed.
pub fn run(
    opts: &Options,
    release: &ReleasePolicy,
    part1: serde_json::Map<String, Value>,
    manifest: Option<&Path>,
) -> anyhow::Result<std::process::ExitCode> {
    crate::cmd::node::runtime()?.block_on(run_async(opts, release, part1, manifest))
}

fn nations() -> anyhow::Result<Vec<NationCode>> {
    NATIONS
        .iter()
        .map(|n| n.parse().map_err(anyhow::Error::from))
        .collect()
}

fn lower(n: NationCode) -> String {
    n.as_str().to_ascii_lowercase()
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    Ok(entente_seal::write_private(
        path,
        text.as_bytes(),
        entente_seal::Existing::Replace,
    )?)
}

async fn run_async(
    opts: &Options,
    release: &ReleasePolicy,
    mut manifest_doc: serde_json::Map<String, Value>,
    manifest: Option<&Path>,
) -> anyhow::Result<std::process::ExitCode> {
    let started = Instant::now();
    let nations = nations()?;
    let policies = release.policies();
    let dataset = Dataset::load(&opts.dataset, policies, &nations)?;

    // The folder of the federation: given, or temporary (removed when the demo ends).
    let (root, _temp) = match &opts.root {
        Some(dir) => {
            if dir.exists()
                && std::fs::read_dir(dir)
                    .with_context(|| format!("cannot read {}", dir.display()))?
                    .next()
                    .is_some()
            {
                return Err(UsageError(format!(
                    "--data-dir {}: the folder is not empty (the demo creates new nodes)",
                    dir.display()
                ))
                .into());
            }
            entente_seal::create_private_dir(dir)?;
            (dir.canonicalize()?, None)
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("entente-demo-")
                .tempdir()
                .context("cannot create a temporary folder")?;
            (temp.path().to_owned(), Some(temp))
        }
    };
    let expected = expectations(&dataset, release, &nations, opts.today)?;

    output::print(format!(
        "\n== Live federation: {} national nodes on loopback, {} exercise objects ==",
        nations.len(),
        dataset.objects.len()
    ))?;
    let (stop, stopped) = watch::channel(false);
    let mut nodes = start_nodes(opts, &root, &nations, &dataset, &expected, stopped).await?;
    let ca_path = root.join("ca.pem");
    let up = started.elapsed();
    output::print(format!(
        "{} nodes up in {:.1} s under {} (TAXII over {}, federation over mutual TLS, full mesh)",
        nodes.len(),
        up.as_secs_f64(),
        root.display(),
        if opts.plain_http { "plain HTTP" } else { "TLS" }
    ))?;

    // Each origin publishes through its own node's TAXII POST.
    let client = taxii_client(opts.plain_http, &ca_path)?;
    let mut first_checkpoints = BTreeMap::new();
    for node in &nodes {
        publish(&client, node, &dataset).await?;
    }
    let published = started.elapsed();
    for node in &nodes {
        let mut audit = audit_client(node, opts.plain_http, &ca_path)?;
        first_checkpoints.insert(node.nation, audit.checkpoint(&node.verifier).await?);
    }
    output::print(format!(
        "published {} objects at their origins' nodes ({})",
        dataset.objects.len(),
        nations
            .iter()
            .map(|n| format!(
                "{n} {}",
                dataset.objects.iter().filter(|o| o.origin == *n).count()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;

    // Live progress until every nation holds exactly what the policy lets it receive.
    let converged = converge(&nodes, &expected, opts.timeout).await;
    let converged_at = started.elapsed();
    let held = match &converged {
        Ok(held) => held.clone(),
        Err(_) => BTreeMap::new(),
    };
    if let Err(e) = &converged {
        output::print(format!("\nFEDERATION DID NOT CONVERGE: {e:#}"))?;
    } else {
        output::print(format!(
            "converged in {:.2} s after publication ({:.1} s from start)",
            (converged_at - published).as_secs_f64(),
            converged_at.as_secs_f64()
        ))?;
        print_outcomes(&nations, &expected)?;
    }

    // Every audit log, checked over HTTP as a partner would.
    let audits = if converged.is_ok() {
        verify_audits(
            &nodes,
            &expected,
            &first_checkpoints,
            opts.plain_http,
            &ca_path,
            opts.timeout,
        )
        .await?
    } else {
        Vec::new()
    };
    let audited_at = started.elapsed();
    let audit_ok = !audits.is_empty() && audits.iter().all(|a| a.ok);
    if converged.is_ok() {
        print_audits(&audits)?;
    }
    print_access(&nodes, &ca_path, opts.plain_http)?;

    manifest_doc.insert(
        "federation".into(),
        json!({
            "root": root.display().to_string(),
            "ca": if opts.plain_http { Value::Null } else { json!(ca_path.display().to_string()) },
            "plain_http": opts.plain_http,
            "day": opts.today.to_string(),
            "collection": COLLECTION,
            "nodes": nodes.iter().map(|n| node_json(n, &ca_path, opts.plain_http)).collect::<Vec<_>>(),
            "published": dataset.objects.iter().map(|o| json!({
                "origin": o.origin, "id": o.id, "type": o.kind, "title": o.title,
                "marking": o.marking,
                "portions": o.portions.iter().map(|(s, m)| json!({"selector": s, "marking": m})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "nations": nations.iter().map(|n| nation_json(*n, &expected, held.get(n))).collect::<Vec<_>>(),
            "converged": converged.is_ok(),
            "convergence_error": converged.as_ref().err().map(|e| format!("{e:#}")),
            "audit": audits.iter().map(AuditResult::to_json).collect::<Vec<_>>(),
            "audit_ok": audit_ok,
            "timings_ms": {
                "nodes_up": up.as_millis() as u64,
                "published": published.as_millis() as u64,
                "converged": converged_at.as_millis() as u64,
                "audited": audited_at.as_millis() as u64,
                "publish_to_converged": (converged_at - published).as_millis() as u64,
            },
        }),
    );
    if let Some(path) = manifest {
        let text = serde_json::to_string_pretty(&Value::Object(manifest_doc))?;
        write(path, &(text + "\n")).context("cannot write the manifest")?;
    }

    let ok = converged.is_ok() && audit_ok;
    if ok {
        if let Some(ready) = &opts.ready_file {
            write(ready, &format!("{}\n", root.display()))?;
        }
        match opts.duration {
            Some(d) => {
                output::print(format!(
                    "\nServing for {} s (--duration); Ctrl-C stops earlier.",
                    d.as_secs()
                ))?;
                tokio::select! {
                    _ = tokio::time::sleep(d) => {}
                    _ = crate::cmd::node::shutdown_signal() => {}
                }
            }
            None => {
                output::print("\nServing until Ctrl-C.")?;
                crate::cmd::node::shutdown_signal().await;
            }
        }
    }
    output::print("stopping the nodes…")?;
    let _ = stop.send(true);
    for node in &mut nodes {
        for task in node.tasks.drain(..) {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    output::print(format!("node {}: {e:#}", node.nation))?;
                }
                Ok(Err(e)) => output::print(format!("node {}: {e}", node.nation))?,
                Err(_) => output::print(format!("node {}: did not stop in 10 s", node.nation))?,
            }
        }
    }
    drop(nodes);
    if !ok {
        if converged.is_err() {
            bail!("the federation did not converge in {:?}", opts.timeout);
        }
        bail!("an audit check failed (see the table above)");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// For every published object and every other nation: the policy's verdict and its reason.
fn expectations<'a>(
    dataset: &'a Dataset,
    release: &ReleasePolicy,
    nations: &[NationCode],
    day: Date,
) -> anyhow::Result<Vec<Expected<'a>>> {
    let lookup = |id: &str| -> Option<Label> { dataset.labels.get(id).cloned() };
    let mut out = Vec::new();
    for o in &dataset.objects {
        for &recipient in nations.iter().filter(|n| **n != o.origin) {
            let r = release
                .release_stored(&o.object, &lookup, o.origin, recipient, day)
                .with_context(|| format!("release of {} to {recipient}", o.id))?;
            let reason = r.explain();
            out.push(Expected {
                object: o,
                recipient,
                verdict: r.verdict,
                reason,
            });
        }
    }
    Ok(out)
}

fn received_ids(expected: &[Expected<'_>], nation: NationCode) -> BTreeSet<String> {
    expected
        .iter()
        .filter(|e| e.recipient == nation && e.verdict != ReleaseVerdict::Deny)
        .map(|e| e.object.id.clone())
        .collect()
}

/// The demo users of one node: one per classification policy among the labels it publishes or
/// receives, cleared at that policy's highest level with every caveat (demo only).
fn users_for(
    nation: NationCode,
    dataset: &Dataset,
    expected: &[Expected<'_>],
    policies: &PolicySet,
) -> anyhow::Result<Vec<(User, DemoUser)>> {
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
            rights: vec![CollectionRight {
                collection: COLLECTION.into(),
                read: true,
                write: true,
            }],
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

struct Prepared {
    nation: NationCode,
    dir: PathBuf,
    identity: NodeIdentity,
    federation_ca: String,
    taxii: std::net::TcpListener,
    federation: std::net::TcpListener,
    admin: std::net::TcpListener,
}

/// Writes every node's folder and starts its TAXII server and federation.
async fn start_nodes(
    opts: &Options,
    root: &Path,
    nations: &[NationCode],
    dataset: &Dataset,
    expected: &[Expected<'_>],
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<Vec<DemoNode>> {
    let ca = DevCa::generate("Entente demo CA (development only)")?;
    write(&root.join("ca.pem"), ca.cert_pem())?;
    let mut prepared = Vec::new();
    for &n in nations {
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
        let bind = || -> anyhow::Result<std::net::TcpListener> {
            let l =
                std::net::TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?;
            l.set_nonblocking(true)?;
            Ok(l)
        };
        prepared.push(Prepared {
            nation: n,
            dir,
            identity,
            federation_ca: pki.ca_pem,
            taxii: bind()?,
            federation: bind()?,
            admin: bind()?,
        });
    }
    let policy_data = opts
        .policy_data
        .canonicalize()
        .with_context(|| format!("{}", opts.policy_data.display()))?;
    let scheme = if opts.plain_http { "http" } else { "https" };
    let mut nodes = Vec::new();
    for p in &prepared {
        let taxii_addr = p.taxii.local_addr()?;
        let fed_addr = p.federation.local_addr()?;
        let admin_addr = p.admin.local_addr()?;
        let mut text = format!(
            "# Entente demo node {n} (written by `entente demo`)\nversion = 1\nnation = \"{n}\"\ntitle = \"Entente demo node {n}\"\nlisten = \"{taxii_addr}\"\ndata_dir = \".\"\npolicy_data = {:?}\n\n[admin]\nlisten = \"{admin_addr}\"\n",
            policy_data.display().to_string(),
            n = p.nation,
        );
        if !opts.plain_http {
            text.push_str("\n[tls]\ncert = \"tls/taxii.pem\"\nkey = \"tls/taxii.key\"\n");
        }
        text.push_str(&format!(
            "\n[[collections]]\nid = \"{COLLECTION}\"\ntitle = \"Intelligence\"\ndescription = \"Exercise objects published by {n} analysts and received from partners\"\n\n[federation]\nlisten = \"{fed_addr}\"\nkeys = \"node.keys\"\ntls_cert = \"tls/node.crt\"\ntls_key = \"tls/node.key\"\ntls_ca = \"tls/ca.crt\"\nretry_max_ms = 500\ncheckpoint_interval_ms = 500\n",
            n = p.nation
        ));
        for q in prepared.iter().filter(|q| q.nation != p.nation) {
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
        let config_path = p.dir.join("node.toml");
        write_private(&config_path, &text)?;
        let config = NodeConfig::parse(&text, &p.dir)
            .map_err(|e| anyhow::anyhow!("{}: {e}", config_path.display()))?;
        let node = Node::open(config).await?;
        let fed = Federation::open(node.clone())?
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
                .map_err(anyhow::Error::from)
            }
        });
        let mut http_stopped = stopped.clone();
        let http = tokio::spawn({
            let node = node.clone();
            let routes = audit_routes(fed.audit().clone());
            async move {
                entente_node::serve_node_with(node, routes, taxii, async move {
                    let _ = http_stopped.wait_for(|s| *s).await;
                })
                .await
                .map_err(anyhow::Error::from)
            }
        });
        let federation_task = tokio::spawn({
            let fed = fed.clone();
            let stopped = stopped.clone();
            async move {
                fed.run(federation, stopped)
                    .await
                    .map_err(anyhow::Error::from)
            }
        });
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
            tasks: vec![http, federation_task, admin_task],
        });
    }
    Ok(nodes)
}

fn taxii_client(plain_http: bool, ca: &Path) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .tls_backend_rustls()
        .tls_certs_only([]);
    if !plain_http {
        let pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
        builder = builder
            .tls_certs_only([reqwest::Certificate::from_pem(&pem)
                .with_context(|| format!("{}", ca.display()))?]);
    }
    builder.build().context("cannot build the TAXII client")
}

fn audit_client(node: &DemoNode, plain_http: bool, ca: &Path) -> anyhow::Result<AuditClient> {
    Ok(AuditClient::new(
        &node.taxii_url,
        (!plain_http).then_some(ca),
    )?)
}

const TAXII_MEDIA: &str = "application/taxii+json;version=2.1";

/// Posts the node's own objects, one envelope per label policy, each with a user cleared under
/// that policy, and checks that the status resource reports every object stored.
async fn publish(
    client: &reqwest::Client,
    node: &DemoNode,
    dataset: &Dataset,
) -> anyhow::Result<()> {
    let mut by_policy: BTreeMap<&str, Vec<&DemoObject>> = BTreeMap::new();
    for o in dataset.objects.iter().filter(|o| o.origin == node.nation) {
        by_policy.entry(o.policy.as_str()).or_default().push(o);
    }
    let url = format!("{}/api/collections/{COLLECTION}/objects/", node.taxii_url);
    for (policy, objects) in by_policy {
        let user = node
            .users
            .iter()
            .find(|u| u.policy == policy)
            .with_context(|| format!("{}: no demo user cleared under {policy}", node.nation))?;
        let mut envelope: Vec<Value> = Vec::new();
        for o in &objects {
            for m in &o.markings {
                if !envelope.iter().any(|e| e["id"] == m["id"]) {
                    envelope.push(m.clone());
                }
            }
        }
        envelope.extend(objects.iter().map(|o| o.object.clone()));
        let total = envelope.len();
        let response = client
            .post(&url)
            .basic_auth(&user.name, Some(&user.password))
            .header("Content-Type", TAXII_MEDIA)
            .header("Accept", TAXII_MEDIA)
            .body(json!({ "objects": envelope }).to_string())
            .send()
            .await
            .with_context(|| format!("POST {url} as {}", user.name))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("POST {url} as {}: {status} {body}", user.name);
        }
        let answer: entente_stix::taxii::Status = serde_json::from_str(&body)
            .with_context(|| format!("POST {url}: the status resource is not TAXII 2.1: {body}"))?;
        if answer.failure_count > 0 || answer.success_count as usize != total {
            bail!(
                "POST {url} as {}: {} of {total} objects stored; failures: {}",
                user.name,
                answer.success_count,
                answer
                    .failures
                    .iter()
                    .map(|f| format!("{} ({})", f.id, f.message.as_deref().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

/// The objects a node holds from other nations, by id with their originator.
async fn held_from_others(node: &DemoNode) -> anyhow::Result<BTreeMap<String, NationCode>> {
    let page = node
        .node
        .store()
        .objects(
            COLLECTION,
            &ObjectQuery {
                versions: VersionFilter::all(),
                limit: 100_000,
                ..ObjectQuery::default()
            },
        )
        .await?;
    Ok(page
        .objects
        .into_iter()
        .filter(|o| o.originator != node.nation)
        .filter(|o| {
            !matches!(
                o.kind.as_str(),
                "marking-definition" | "extension-definition"
            )
        })
        .map(|o| (o.id, o.originator))
        .collect())
}

/// Waits, showing one bar per receiving nation, until each holds exactly its expected set; fails
/// at once on an object it should not hold, and after `timeout` naming what is missing.
async fn converge(
    nodes: &[DemoNode],
    expected: &[Expected<'_>],
    timeout: Duration,
) -> anyhow::Result<BTreeMap<NationCode, BTreeMap<String, NationCode>>> {
    let bars = indicatif::MultiProgress::new();
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>4} [{bar:30}] {pos:>2}/{len:<2} received {msg}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let mut per_nation = Vec::new();
    for n in nodes {
        let want = received_ids(expected, n.nation);
        let bar = bars.add(indicatif::ProgressBar::new(want.len() as u64));
        bar.set_style(style.clone());
        bar.set_prefix(n.nation.to_string());
        per_nation.push((n, want, bar));
    }
    let deadline = Instant::now() + timeout;
    loop {
        let mut done = true;
        let mut held_all = BTreeMap::new();
        for (node, want, bar) in &per_nation {
            let held = held_from_others(node).await?;
            if let Some((id, from)) = held.iter().find(|(id, _)| !want.contains(*id)) {
                bar.abandon_with_message("UNEXPECTED OBJECT");
                bail!(
                    "{} holds {id} from {from}, which the release policy does not let it receive",
                    node.nation
                );
            }
            bar.set_position(held.len() as u64);
            if held.len() == want.len() {
                bar.set_message("complete");
            } else {
                done = false;
            }
            held_all.insert(node.nation, held);
        }
        if done {
            for (_, _, bar) in &per_nation {
                bar.finish();
            }
            // Bars are hidden when stderr is not a terminal: the summary goes to stdout too.
            if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                for (node, want, _) in &per_nation {
                    output::print(format!(
                        "  {} received {}/{}",
                        node.nation,
                        want.len(),
                        want.len()
                    ))?;
                }
            }
            return Ok(held_all);
        }
        if Instant::now() > deadline {
            let mut missing = Vec::new();
            for (node, want, bar) in &per_nation {
                bar.abandon();
                let held = &held_all[&node.nation];
                let lacking: Vec<&String> =
                    want.iter().filter(|id| !held.contains_key(*id)).collect();
                if !lacking.is_empty() {
                    missing.push(format!(
                        "{} lacks {} of {} ({})",
                        node.nation,
                        lacking.len(),
                        want.len(),
                        lacking
                            .iter()
                            .take(3)
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            bail!("not converged after {timeout:?}: {}", missing.join("; "));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn print_outcomes(nations: &[NationCode], expected: &[Expected<'_>]) -> anyhow::Result<()> {
    output::print(
        "\nWhat each nation received, from whom and why (decided by the release policy):",
    )?;
    for &n in nations {
        let mut mine: Vec<&Expected<'_>> = expected.iter().filter(|e| e.recipient == n).collect();
        // Received first, then tear-lined, then denied; by origin within each.
        let rank = |v: ReleaseVerdict| match v {
            ReleaseVerdict::Permit => 0,
            ReleaseVerdict::Partial => 1,
            ReleaseVerdict::Deny => 2,
        };
        mine.sort_by_key(|e| {
            (
                rank(e.verdict),
                NATIONS.iter().position(|x| *x == e.object.origin.as_str()),
            )
        });
        let got = mine
            .iter()
            .filter(|e| e.verdict != ReleaseVerdict::Deny)
            .count();
        output::print(format!(
            "\n{n}: received {got} of the {} objects published by the other nations",
            mine.len()
        ))?;
        let mut table = output::table(["from", "object", "outcome", "because"]);
        for e in mine {
            let outcome = match e.verdict {
                ReleaseVerdict::Permit => "received",
                ReleaseVerdict::Partial => "received, tear-lined",
                ReleaseVerdict::Deny => "denied",
            };
            table.add_row([
                e.object.origin.to_string(),
                format!("{} {}\n{}", e.object.kind, e.object.title, e.object.marking),
                outcome.to_owned(),
                e.reason.clone(),
            ]);
        }
        output::print(table)?;
    }
    Ok(())
}

fn nation_json(
    n: NationCode,
    expected: &[Expected<'_>],
    held: Option<&BTreeMap<String, NationCode>>,
) -> Value {
    let mine = expected.iter().filter(|e| e.recipient == n);
    let (received, denied): (Vec<_>, Vec<_>) =
        mine.partition(|e| e.verdict != ReleaseVerdict::Deny);
    let entry = |e: &&Expected<'_>| {
        json!({
            "id": e.object.id, "from": e.object.origin, "type": e.object.kind,
            "marking": e.object.marking,
            "outcome": match e.verdict {
                ReleaseVerdict::Permit => "received",
                ReleaseVerdict::Partial => "received-tearlined",
                ReleaseVerdict::Deny => "denied",
            },
            "reason": e.reason,
        })
    };
    json!({
        "nation": n,
        "expected": received.iter().map(entry).collect::<Vec<_>>(),
        "denied": denied.iter().map(entry).collect::<Vec<_>>(),
        "held": held.map(|h| h.iter().map(|(id, from)| json!({"id": id, "from": from})).collect::<Vec<_>>()),
    })
}

/// The outcome of checking one node's audit log.
struct AuditResult {
    nation: NationCode,
    size: u64,
    signature: bool,
    events_found: bool,
    inclusion_checked: usize,
    inclusion_verified: usize,
    consistency_since_publish: bool,
    partner_views: Vec<(NationCode, u64, bool)>,
    problems: Vec<String>,
    ok: bool,
}

impl AuditResult {
    fn to_json(&self) -> Value {
        json!({
            "nation": self.nation,
            "size": self.size,
            "checkpoint_signature": self.signature,
            "events_found": self.events_found,
            "inclusion_proofs": {"checked": self.inclusion_checked, "verified": self.inclusion_verified},
            "consistency_since_publish": self.consistency_since_publish,
            "partner_views": self.partner_views.iter().map(|(p, size, ok)| json!({"partner": p, "size": size, "consistent": ok})).collect::<Vec<_>>(),
            "problems": self.problems,
            "ok": self.ok,
        })
    }
}

/// The entries (index, event) a node's log must hold: a release per (object, recipient) it
/// originated, a receive per object it holds from another nation.
fn wanted_events(node: &DemoNode, expected: &[Expected<'_>]) -> Vec<(EventKind, String, String)> {
    let mut out = Vec::new();
    for e in expected
        .iter()
        .filter(|e| e.verdict != ReleaseVerdict::Deny)
    {
        if e.object.origin == node.nation {
            out.push((
                EventKind::Release,
                e.object.id.clone(),
                e.recipient.to_string(),
            ));
        }
        if e.recipient == node.nation {
            out.push((
                EventKind::Receive,
                e.object.id.clone(),
                e.object.origin.to_string(),
            ));
        }
    }
    out
}

async fn verify_audits(
    nodes: &[DemoNode],
    expected: &[Expected<'_>],
    first: &BTreeMap<NationCode, Checkpoint>,
    plain_http: bool,
    ca: &Path,
    timeout: Duration,
) -> anyhow::Result<Vec<AuditResult>> {
    let mut results = Vec::new();
    for node in nodes {
        let mut client = audit_client(node, plain_http, ca)?;
        let mut result = AuditResult {
            nation: node.nation,
            size: 0,
            signature: false,
            events_found: false,
            inclusion_checked: 0,
            inclusion_verified: 0,
            consistency_since_publish: false,
            partner_views: Vec::new(),
            problems: Vec::new(),
            ok: false,
        };
        let wanted = wanted_events(node, expected);
        // Release events follow the partner's acknowledgement: wait for them, bounded.
        let deadline = Instant::now() + timeout;
        let (checkpoint, found) = loop {
            let checkpoint = match client.checkpoint(&node.verifier).await {
                Ok(c) => c,
                Err(e) => {
                    result.problems.push(format!("checkpoint: {e}"));
                    break (None, Vec::new());
                }
            };
            let entries = client.entries(0, checkpoint.size).await?;
            let mut found = Vec::new();
            for (kind, id, other) in &wanted {
                let hit = entries.iter().position(|ev| {
                    ev.kind == *kind
                        && &ev.object_id == id
                        && match kind {
                            EventKind::Release => ev.partner.as_deref() == Some(other.as_str()),
                            _ => &ev.origin == other,
                        }
                });
                if let Some(i) = hit {
                    found.push((i as u64, entries[i].clone()));
                }
            }
            if found.len() == wanted.len() || Instant::now() > deadline {
                if found.len() < wanted.len() {
                    result.problems.push(format!(
                        "{} of {} release/receive events in the log after {timeout:?}",
                        found.len(),
                        wanted.len()
                    ));
                }
                break (Some(checkpoint), found);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let Some(checkpoint) = checkpoint else {
            results.push(result);
            continue;
        };
        result.signature = true;
        result.size = checkpoint.size;
        result.events_found = found.len() == wanted.len();
        for (index, event) in &found {
            result.inclusion_checked += 1;
            match client
                .verify_inclusion(&checkpoint, *index, Some(event))
                .await
            {
                Ok(_) => result.inclusion_verified += 1,
                Err(e) => result
                    .problems
                    .push(format!("inclusion of entry {index}: {e}")),
            }
        }
        if let Some(older) = first.get(&node.nation) {
            match client.verify_consistency(older, &checkpoint).await {
                Ok(_) => result.consistency_since_publish = true,
                Err(e) => result.problems.push(format!(
                    "consistency {} -> {}: {e}",
                    older.size, checkpoint.size
                )),
            }
        }
        // The checkpoints each partner fetched and kept of this log must be consistent with it.
        for partner in nodes.iter().filter(|p| p.nation != node.nation) {
            let kept = partner
                .dir
                .join("audit/partners")
                .join(format!("{}.checkpoint", node.nation));
            // Partners fetch checkpoints every 500 ms: wait for a first one, bounded.
            while !kept.exists() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let Ok(note) = std::fs::read_to_string(&kept) else {
                result.problems.push(format!(
                    "{} has not fetched a checkpoint yet",
                    partner.nation
                ));
                continue;
            };
            let outcome = match node.verifier.verify(&note) {
                Ok(seen) => match client.verify_consistency(&seen, &checkpoint).await {
                    Ok(_) => (seen.size, true),
                    Err(e) => {
                        result.problems.push(format!(
                            "{}'s view (size {}): {e}",
                            partner.nation, seen.size
                        ));
                        (seen.size, false)
                    }
                },
                Err(e) => {
                    result.problems.push(format!("{}: {e}", kept.display()));
                    (0, false)
                }
            };
            result
                .partner_views
                .push((partner.nation, outcome.0, outcome.1));
        }
        result.ok = result.signature
            && result.events_found
            && result.inclusion_verified == result.inclusion_checked
            && result.consistency_since_publish
            && result.partner_views.len() == nodes.len() - 1
            && result.partner_views.iter().all(|v| v.2)
            && result.problems.is_empty();
        results.push(result);
    }
    Ok(results)
}

fn print_audits(audits: &[AuditResult]) -> anyhow::Result<()> {
    output::print(
        "\nAudit logs (RFC 9162 Merkle trees), checked over HTTP: signed checkpoint, inclusion of every\nrelease and receive event, consistency since publication and with each partner's kept checkpoint:",
    )?;
    let mut table = output::table([
        "node",
        "entries",
        "checkpoint",
        "inclusion proofs",
        "since publication",
        "partners' views",
        "result",
    ]);
    for a in audits {
        let views = a.partner_views.iter().filter(|v| v.2).count();
        table.add_row([
            a.nation.to_string(),
            a.size.to_string(),
            if a.signature {
                "signature ok"
            } else {
                "FAILED"
            }
            .to_owned(),
            format!("{}/{} verified", a.inclusion_verified, a.inclusion_checked),
            if a.consistency_since_publish {
                "consistent"
            } else {
                "FAILED"
            }
            .to_owned(),
            format!("{views}/{} consistent", a.partner_views.len()),
            if a.ok {
                "OK".to_owned()
            } else {
                format!("FAILED: {}", a.problems.join("; "))
            },
        ]);
    }
    output::print(table)?;
    Ok(())
}

fn node_json(n: &DemoNode, ca: &Path, plain_http: bool) -> Value {
    json!({
        "nation": n.nation,
        "dir": n.dir.display().to_string(),
        "taxii_url": n.taxii_url,
        "discovery": format!("{}/taxii2/", n.taxii_url),
        "api_root": format!("{}/api/", n.taxii_url),
        "collection": format!("{}/api/collections/{COLLECTION}/", n.taxii_url),
        "federation_url": n.federation_url,
        "metrics": format!("{}/metrics", n.admin_url),
        "openapi": format!("{}/openapi.json", n.admin_url),
        "ca": if plain_http { Value::Null } else { json!(ca.display().to_string()) },
        "audit_vkey": n.vkey,
        "users": n.users.iter().map(|u| json!({"name": u.name, "password": u.password, "clearance": u.clearance})).collect::<Vec<_>>(),
    })
}

fn print_access(nodes: &[DemoNode], ca: &Path, plain_http: bool) -> anyhow::Result<()> {
    output::print("\nThe nodes (TAXII 2.1; the API root is /api/, the collection is intel):")?;
    let mut table = output::table([
        "node",
        "TAXII discovery",
        "collection objects",
        "federation (mTLS)",
        "admin (metrics, /openapi.json)",
    ]);
    for n in nodes {
        table.add_row([
            n.nation.to_string(),
            format!("{}/taxii2/", n.taxii_url),
            format!("{}/api/collections/{COLLECTION}/objects/", n.taxii_url),
            n.federation_url.clone(),
            format!("{}/metrics", n.admin_url),
        ]);
    }
    output::print(table)?;
    if !plain_http {
        output::print(format!(
            "CA certificate of every TAXII server: {}",
            ca.display()
        ))?;
    }
    output::print("Demo users (DEMONSTRATION ONLY: passwords are derived from the user name; one user per\nclassification policy the node holds, cleared at its highest level):")?;
    let mut table = output::table(["node", "user", "password", "clearance"]);
    for n in nodes {
        for u in &n.users {
            table.add_row([
                n.nation.to_string(),
                u.name.clone(),
                u.password.clone(),
                u.clearance.clone(),
            ]);
        }
    }
    output::print(table)?;
    if let Some(n) = nodes
        .iter()
        .find(|n| n.nation.as_str() == "JPN")
        .or(nodes.first())
    {
        if let Some(u) = n
            .users
            .iter()
            .find(|u| u.policy == "NATO")
            .or(n.users.first())
        {
            let cacert = if plain_http {
                String::new()
            } else {
                format!("--cacert {} ", ca.display())
            };
            let verify = if plain_http {
                String::new()
            } else {
                format!(", verify=\"{}\"", ca.display())
            };
            output::print(format!(
                "\nTry, while it runs:\n  curl {cacert}-u {user}:{pw} -H 'Accept: {TAXII_MEDIA}' {url}/api/collections/{COLLECTION}/objects/\n  python3 -c 'from taxii2client.v21 import Collection; c = Collection(\"{url}/api/collections/{COLLECTION}/\", user=\"{user}\", password=\"{pw}\"{verify}); print([o[\"id\"] for o in c.get_objects()[\"objects\"]])'\n  entente audit verify --url {url} {ca_flag}--vkey '{vkey}' --index 0",
                user = u.name,
                pw = u.password,
                url = n.taxii_url,
                ca_flag = if plain_http { String::new() } else { format!("--ca {} ", ca.display()) },
                vkey = n.vkey,
            ))?;
        }
    }
    Ok(())
}
