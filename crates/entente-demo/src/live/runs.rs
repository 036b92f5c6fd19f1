//! A recorded exercise for the consoles' replay page: the shipped Baltic QRA scenario, run once
//! in batch while the nodes start, into `runs/baltic-qra/run.json` under the federation's
//! folder; every node's `node.toml` names that folder (`[console] exercise_runs`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use entente_exercise::{NoOutputs, Pacing, Releases, Scenario};
use entente_policy::ReleasePolicy;

use crate::DemoError;

/// The scenario recorded, in `<data>/scenarios/`.
pub(super) const SCENARIO: &str = "baltic-qra";
/// The folder of runs, beside the nations' folders.
const FOLDER: &str = "runs";

/// A run being recorded.
pub(super) struct Recording {
    task: tokio::task::JoinHandle<Result<Duration, DemoError>>,
}

/// The runs folder of the federation at `root`, as a node's `node.toml` names it from its own
/// folder (`root/<nation>/`).
pub(super) fn console_table() -> String {
    format!("\n[console]\nexercise_runs = \"../{FOLDER}\"\n")
}

/// Starts recording the scenario of the data folder `data` into `root/runs/`, its tracks
/// released as `policy` decides; `None` when that folder has no such scenario (a dataset of
/// one's own), so the consoles list no run.
pub(super) fn start(root: &Path, data: &Path, policy: &ReleasePolicy) -> Option<Recording> {
    let path = data.join("scenarios").join(format!("{SCENARIO}.toml"));
    if !path.is_file() {
        return None;
    }
    let out: PathBuf = root.join(FOLDER).join(SCENARIO);
    // The scenario and its releases are read here (the policy stays with the caller); the run,
    // seconds long, goes to a blocking thread while the nodes start.
    let prepared = Scenario::load(&path).and_then(|s| {
        let releases = Releases::prepare(policy, &s, s.epoch)?;
        Ok((s, releases))
    });
    let task = tokio::task::spawn_blocking(move || {
        let (s, releases) = prepared.map_err(|e| fail(&path, &e))?;
        record(&s, &releases, &out).map_err(|e| fail(&path, &e))
    });
    Some(Recording { task })
}

fn fail(scenario: &Path, e: &dyn std::fmt::Display) -> DemoError {
    DemoError::Message(format!("{}: {e}", scenario.display()))
}

impl Recording {
    /// Waits for the run; how long it took.
    pub(super) async fn finish(self) -> Result<Duration, DemoError> {
        self.task
            .await
            .map_err(|e| DemoError::Message(format!("the exercise recording: {e}")))?
    }
}

/// Runs `s` in batch on its own epoch, publishing nothing, and saves its record as
/// `out/run.json`.
fn record(
    s: &Scenario,
    releases: &Releases,
    out: &Path,
) -> Result<Duration, entente_exercise::Error> {
    let started = Instant::now();
    let record = entente_exercise::run(s, s.epoch, Pacing::Batch, releases, &mut NoOutputs)?;
    std::fs::create_dir_all(out).map_err(|source| entente_exercise::Error::Io {
        path: out.to_owned(),
        source,
    })?;
    record.save(&out.join("run.json"))?;
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_console_table_names_the_runs_beside_the_nations() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "version = 1\nnation = \"FRA\"\ndata_dir = \".\"\n{}",
            console_table()
        );
        let config = entente_node::NodeConfig::parse(&text, &dir.path().join("fra")).unwrap();
        assert_eq!(
            config.console.exercise_runs,
            Some(dir.path().join("fra").join("../runs"))
        );
    }

    #[tokio::test]
    async fn without_the_scenario_nothing_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let data = entente_node::shipped_data();
        let registry = entente_registry::Registry::load(&data.join("registry")).unwrap();
        let policies = entente_labels::PolicySet::load(&data.join("policies")).unwrap();
        let policy = ReleasePolicy::new(&registry, policies);
        assert!(start(dir.path(), dir.path(), &policy).is_none());
    }
}
