//! Part 2 of the demonstration: a live federation of national nodes on loopback.
//!
//! Each nation gets a folder (node.toml, SQLite store, keys, audit log), a TAXII 2.1 server over
//! TLS (one demo CA for every node, so a client needs one CA file) and a federation endpoint
//! over mutual TLS, paired with every other node ([`nodes`]). Each origin's analysts publish the
//! shipped exercise objects through their node's TAXII `POST` ([`publish`]); the demonstration
//! then waits, showing each receiving nation's progress, until every nation holds exactly what
//! `ReleasePolicy` says it may receive, computed here independently of the federation
//! ([`checks`]), verifies every audit log over HTTP as a partner would ([`audit`]), shows and
//! records the outcome ([`report`]) and serves until the shutdown signal or the duration.

mod audit;
mod checks;
pub mod crisis;
mod nodes;
pub mod picture;
mod publish;
mod report;
mod runs;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use entente_policy::ReleasePolicy;
use entente_types::NationCode;
use serde_json::Value;
use tokio::sync::watch;

use crate::dataset::Dataset;
use crate::error::{chain_text, Context as _};
use crate::progress::Progress;
use crate::walkthrough::WalkthroughReport;
use crate::{DemoError, DemoOptions};

/// The nations of the demonstration, in the order they are shown.
pub const NATIONS: [&str; 5] = ["FRA", "USA", "GBR", "DEU", "JPN"];
/// The collection every node serves and federates.
const COLLECTION: &str = "intel";

/// What the live federation did (the `federation` part of the manifest).
#[derive(Debug)]
pub struct LiveReport {
    /// The nodes' folders.
    pub root: PathBuf,
    /// Every nation held exactly what the release policy lets it receive, in time.
    pub converged: bool,
    /// Every audit log verified.
    pub audit_ok: bool,
    /// The replayed consultation's room reached exactly the demo nations among its
    /// participants (true when there was nothing to replay).
    pub crisis_ok: bool,
    /// The manifest's `federation` object: nodes, published objects, what each nation
    /// received, the audit checks and the timings.
    pub federation: Value,
}

/// Starts the federation, publishes the dataset, checks delivery and audit logs, writes the
/// manifest (the walk-through's report with this part under `federation`) and the ready file,
/// serves until `shutdown` or the duration, then stops every node. A federation that did not
/// converge or a failed audit check is reported (`converged`, `audit_ok`), not an error.
pub async fn run(
    opts: &DemoOptions,
    release: &ReleasePolicy,
    walkthrough: &WalkthroughReport,
    progress: &mut dyn Progress,
    shutdown: impl Future<Output = ()>,
) -> Result<LiveReport, DemoError> {
    let started = Instant::now();
    let nations = nations(&opts.nations, release)?;
    let dataset = Dataset::load(&opts.dataset, release.policies(), &nations)?;
    // The folder of the federation: given, or temporary (removed when the demo ends).
    let (root, _temp) = federation_root(opts.nodes_dir.as_deref())?;
    let expected = checks::expectations(&dataset, release, &nations, opts.today)?;

    progress.text(&format!(
        "\n== Live federation: {} national nodes on loopback, {} exercise objects ==",
        nations.len(),
        dataset.objects.len()
    ))?;
    let (stop, stopped) = watch::channel(false);
    let policy_data = opts
        .registry_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // A recorded exercise for the consoles' replay page, run while the nodes start.
    let recording = runs::start(&root, &policy_data, release);
    let setup = nodes::Setup {
        root: &root,
        policy_data: &policy_data,
        plain_http: opts.plain_http,
        exercise_runs: recording.is_some(),
    };
    let mut nodes = nodes::start(&setup, &nations, &dataset, &expected, stopped).await?;
    let ca_path = root.join("ca.pem");
    let up = started.elapsed();
    progress.text(&format!(
        "{} nodes up in {:.1} s under {} (TAXII over {}, federation over mutual TLS, full mesh)",
        nodes.len(),
        up.as_secs_f64(),
        root.display(),
        if opts.plain_http { "plain HTTP" } else { "TLS" }
    ))?;

    // Each origin publishes through its own node's TAXII POST.
    let client = publish::taxii_client(opts.plain_http, &ca_path)?;
    let mut first_checkpoints = BTreeMap::new();
    for node in &nodes {
        publish::publish(&client, node, &dataset).await?;
    }
    let published = started.elapsed();
    for node in &nodes {
        let mut client = audit::audit_client(node, opts.plain_http, &ca_path)?;
        first_checkpoints.insert(node.nation, client.checkpoint(&node.verifier).await?);
    }
    progress.text(&format!(
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
    let converged = checks::converge(&nodes, &expected, opts.timeout, progress).await;
    let converged_at = started.elapsed();
    let held = match &converged {
        Ok(held) => held.clone(),
        Err(_) => BTreeMap::new(),
    };
    if let Err(e) = &converged {
        progress.text(&format!("\nFEDERATION DID NOT CONVERGE: {}", chain_text(e)))?;
    } else {
        progress.text(&format!(
            "converged in {:.2} s after publication ({:.1} s from start)",
            (converged_at - published).as_secs_f64(),
            converged_at.as_secs_f64()
        ))?;
        report::show_outcomes(&nations, &expected, progress)?;
    }

    // Every audit log, checked over HTTP as a partner would.
    let audits = if converged.is_ok() {
        let check = audit::AuditCheck {
            first: &first_checkpoints,
            plain_http: opts.plain_http,
            ca: &ca_path,
            timeout: opts.timeout,
        };
        audit::verify_audits(&nodes, &expected, &check).await?
    } else {
        Vec::new()
    };
    let audited_at = started.elapsed();
    let audit_ok = !audits.is_empty() && audits.iter().all(|a| a.ok);
    if converged.is_ok() {
        report::show_audits(&audits, progress)?;
    }
    report::show_access(&nodes, &ca_path, opts.plain_http, progress)?;

    // A historical consultation replayed in a crisis room, once everything else is verified.
    let replay = if converged.is_ok() && audit_ok {
        progress.text(&format!(
            "\n== Crisis room: the consultation {} replayed at {}'s node ==",
            crisis::INVOCATION,
            crisis::HOST
        ))?;
        crisis::replay(&nodes, opts.timeout, progress).await?
    } else {
        None
    };
    let crisis_ok = replay.as_ref().is_none_or(crisis::Replay::ok);

    if let Some(recording) = recording {
        match recording.finish().await {
            Ok(took) => progress.text(&format!(
                "exercise {} recorded in {:.1} s for the consoles' replay page (Exercises)",
                runs::SCENARIO,
                took.as_secs_f64()
            ))?,
            Err(e) => progress.text(&format!(
                "the exercise recording failed: {}",
                chain_text(&e)
            ))?,
        }
    }

    let federation = report::federation_json(&report::Outcome {
        opts,
        root: &root,
        ca: &ca_path,
        nodes: &nodes,
        dataset: &dataset,
        nations: &nations,
        expected: &expected,
        held: &held,
        convergence_error: converged.as_ref().err().map(|e| chain_text(e)),
        audits: &audits,
        audit_ok,
        timings: report::Timings {
            up,
            published,
            converged: converged_at,
            audited: audited_at,
        },
    });
    let mut federation = federation;
    if let (Some(replay), Value::Object(map)) = (&replay, &mut federation) {
        map.insert("crisis".into(), replay.to_json());
    }
    if let Some(path) = &opts.manifest {
        let mut manifest = match serde_json::to_value(walkthrough)? {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        manifest.insert("federation".into(), federation.clone());
        let text = serde_json::to_string_pretty(&Value::Object(manifest))?;
        write(path, &(text + "\n")).context("cannot write the manifest")?;
    }

    let ok = converged.is_ok() && audit_ok && crisis_ok;
    // The air picture: a live exercise whose national tracks federation carries.
    let mut feed = None;
    if let (true, Some(exercise)) = (ok, &opts.exercise) {
        let ca = (!opts.plain_http).then_some(ca_path.as_path());
        let started = picture::start(exercise, &nodes, &root, ca).await?;
        progress.text(&format!(
            "\nAir picture: exercise {} flown live at {}× real time, looping; its national tracks enter the federation at {}'s node (collection {}), each console fuses what its nation is released",
            started.scenario,
            exercise.speed,
            picture::HOST,
            picture::COLLECTION
        ))?;
        feed = Some(started);
    }
    if ok {
        if let Some(ready) = &opts.ready_file {
            write(ready, &format!("{}\n", root.display()))?;
        }
        serve(opts.duration, shutdown, progress).await?;
    }
    if let Some(feed) = feed {
        let posted = feed.posted();
        match feed.stop() {
            Ok(()) => progress.text(&format!(
                "the exercise stopped ({posted} national track states posted)"
            ))?,
            Err(e) => progress.text(&format!("the exercise failed: {e}"))?,
        }
    }
    progress.text("stopping the nodes…")?;
    let _ = stop.send(true);
    for node in &mut nodes {
        for task in node.tasks.drain(..) {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    progress.text(&format!("node {}: {}", node.nation, chain_text(&e)))?;
                }
                Ok(Err(e)) => progress.text(&format!("node {}: {e}", node.nation))?,
                Err(_) => progress.text(&format!("node {}: did not stop in 10 s", node.nation))?,
            }
        }
    }
    drop(nodes);
    Ok(LiveReport {
        root,
        converged: converged.is_ok(),
        audit_ok,
        crisis_ok,
        federation,
    })
}

/// Serves until `shutdown` completes, or `duration` passes if given.
async fn serve(
    duration: Option<Duration>,
    shutdown: impl Future<Output = ()>,
    progress: &mut dyn Progress,
) -> Result<(), DemoError> {
    match duration {
        Some(d) => {
            progress.text(&format!(
                "\nServing for {} s (--duration); Ctrl-C stops earlier.",
                d.as_secs()
            ))?;
            tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = shutdown => {}
            }
        }
        None => {
            progress.text("\nServing until Ctrl-C.")?;
            shutdown.await;
        }
    }
    Ok(())
}

/// The folder of the nodes: `given` (which must be empty or new), or a temporary folder kept
/// alive by the returned guard.
fn federation_root(
    given: Option<&Path>,
) -> Result<(PathBuf, Option<tempfile::TempDir>), DemoError> {
    match given {
        Some(dir) => {
            if dir.exists()
                && std::fs::read_dir(dir)
                    .with_context(|| format!("cannot read {}", dir.display()))?
                    .next()
                    .is_some()
            {
                return Err(DemoError::Usage(format!(
                    "--data-dir {}: the folder is not empty (the demo creates new nodes)",
                    dir.display()
                )));
            }
            entente_seal::create_private_dir(dir)?;
            Ok((dir.canonicalize()?, None))
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("entente-demo-")
                .tempdir()
                .context("cannot create a temporary folder")?;
            Ok((temp.path().to_owned(), Some(temp)))
        }
    }
}

/// The default nations of the federation, [`NATIONS`].
pub fn default_nations() -> Vec<NationCode> {
    NATIONS.iter().filter_map(|n| n.parse().ok()).collect()
}

/// The federation's nations, checked: at least two, each once, each a nation the release
/// policy knows, FRA (the consultation's host) and DEU (the live exercise's) among them.
fn nations(given: &[NationCode], release: &ReleasePolicy) -> Result<Vec<NationCode>, DemoError> {
    if given.len() < 2 {
        return Err(DemoError::Usage(
            "--nations: a federation takes at least two nations".into(),
        ));
    }
    for (i, n) in given.iter().enumerate() {
        if given[..i].contains(n) {
            return Err(DemoError::Usage(format!("--nations: {n} is named twice")));
        }
        if !release.nations().contains(n) {
            return Err(DemoError::Usage(format!(
                "--nations: {n} is not a nation of the registry's policies"
            )));
        }
    }
    for needed in [crisis::HOST, picture::HOST] {
        if !given.iter().any(|n| n.as_str() == needed) {
            return Err(DemoError::Usage(format!(
                "--nations: {needed} must be among them (its node has a part in the demonstration)"
            )));
        }
    }
    Ok(given.to_vec())
}

/// The folder and user-name form of a nation code.
fn lower(n: NationCode) -> String {
    n.as_str().to_ascii_lowercase()
}

fn write(path: &Path, text: &str) -> Result<(), DemoError> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn write_private(path: &Path, text: &str) -> Result<(), DemoError> {
    Ok(entente_seal::write_private(
        path,
        text.as_bytes(),
        entente_seal::Existing::Replace,
    )?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_non_empty_nodes_folder_is_a_usage_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("something"), "x").unwrap();
        let e = federation_root(Some(dir.path())).unwrap_err();
        let DemoError::Usage(message) = &e else {
            panic!("not a usage error: {e}")
        };
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("not empty"), "{message}");
    }

    #[test]
    fn a_new_nodes_folder_is_created_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let wanted = dir.path().join("nodes");
        let (root, guard) = federation_root(Some(&wanted)).unwrap();
        assert!(guard.is_none());
        assert!(root.is_dir());
        assert_eq!(root, wanted.canonicalize().unwrap());
    }

    #[test]
    fn without_a_folder_a_temporary_one_lives_as_long_as_its_guard() {
        let (root, guard) = federation_root(None).unwrap();
        assert!(root.is_dir());
        drop(guard);
        assert!(!root.exists());
    }

    #[test]
    fn the_nations_parse_in_the_order_shown() {
        let parsed = default_nations();
        assert_eq!(parsed.len(), NATIONS.len());
        assert_eq!(parsed[0].as_str(), "FRA");
        assert_eq!(lower(parsed[4]), "jpn");
    }

    #[test]
    fn a_bad_list_of_nations_is_a_usage_error_naming_the_nation() {
        let data = crate::tests::data_dir("registry");
        let registry = entente_registry::Registry::load(&data).unwrap();
        let policies =
            entente_labels::PolicySet::load(&crate::tests::data_dir("policies")).unwrap();
        let release = ReleasePolicy::new(&registry, policies);
        let codes = |list: &[&str]| -> Vec<NationCode> {
            list.iter().map(|n| n.parse().unwrap()).collect()
        };
        let with_pol_est = codes(&["FRA", "USA", "GBR", "DEU", "JPN", "POL", "EST"]);
        assert_eq!(nations(&with_pol_est, &release).unwrap(), with_pol_est);
        for (list, named) in [
            (&["FRA"][..], "at least two"),
            (&["FRA", "DEU", "FRA"][..], "FRA is named twice"),
            (&["FRA", "USA"][..], "DEU must be among them"),
            (&["DEU", "USA"][..], "FRA must be among them"),
        ] {
            let Err(DemoError::Usage(message)) = nations(&codes(list), &release) else {
                panic!("{list:?} accepted")
            };
            assert!(message.contains(named), "{list:?}: {message}");
        }
    }
}
