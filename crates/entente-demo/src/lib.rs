//! `entente demo`, the main job of the README, as a library. Part 1 ([`walkthrough`]) walks
//! through the shipped registry: who belongs to which alliance on which day, who must come to
//! whose aid, and which agreements let two nations exchange classified information. Part 2
//! ([`live`]) starts a federation of national nodes on loopback (five by default), publishes the shipped
//! exercise objects ([`dataset`]), shows what each nation received and why, verifies every audit
//! log and serves until the caller's shutdown signal or the requested duration.
//!
//! The library prints nothing itself: everything it shows goes, in order, through the caller's
//! [`Progress`].

pub mod dataset;
mod error;
pub mod live;
mod progress;
pub mod walkthrough;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use entente_types::{Date, NationCode};

pub use crate::error::{chain_text, DemoError};
pub use crate::live::picture::LiveExercise;
pub use crate::live::LiveReport;
pub use crate::progress::{Crisis, Delivery, Progress, Table};
pub use crate::walkthrough::{Walkthrough, WalkthroughReport};

/// How the demonstration runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The registry folder (`data/registry`); its parent is the policy data given to each node.
    pub registry_dir: PathBuf,
    /// The policies folder (`data/policies`).
    pub policies_dir: PathBuf,
    /// The exercise objects to publish (`data/demo/exercise-objects.json`).
    pub dataset: PathBuf,
    /// The "today" of the registry walk-through.
    pub at: Date,
    /// The day the live nodes decide on (they decide on today's date).
    pub today: Date,
    /// Only the registry walk-through: start no nodes.
    pub registry_only: bool,
    /// Where to write what the demonstration showed, as JSON.
    pub manifest: Option<PathBuf>,
    /// Where to create the nodes' folders (an empty or new folder; default: a temporary folder
    /// removed at the end).
    pub nodes_dir: Option<PathBuf>,
    /// Serve TAXII over plain HTTP instead of TLS (the federation stays mutual TLS).
    pub plain_http: bool,
    /// Stop by itself this long after the federation is up and verified (default: serve until
    /// the shutdown signal).
    pub duration: Option<Duration>,
    /// Written (with the nodes' folder) once the nodes serve and every check passed.
    pub ready_file: Option<PathBuf>,
    /// The longest wait for the federation to converge and for audit events to appear.
    pub timeout: Duration,
    /// The exercise flown live once the federation converged, feeding every console's air
    /// picture (none: no air picture).
    pub exercise: Option<LiveExercise>,
    /// The nations of the live federation, one node each, in the order shown (default
    /// [`live::NATIONS`]); FRA, whose node replays the consultation, and DEU, where the live
    /// exercise's tracks enter, must be among them.
    pub nations: Vec<NationCode>,
}

/// What the demonstration showed: the walk-through, and the live federation unless
/// `registry_only`.
#[derive(Debug)]
pub struct DemoReport {
    pub walkthrough: WalkthroughReport,
    pub live: Option<LiveReport>,
}

/// Runs the demonstration: the walk-through, then (unless `registry_only`) the live federation,
/// which serves until `shutdown` completes or `duration` passes. Fails when the federation did
/// not converge or an audit check failed, once the nodes are stopped.
pub async fn run(
    options: &DemoOptions,
    progress: &mut dyn Progress,
    shutdown: impl Future<Output = ()>,
) -> Result<DemoReport, DemoError> {
    let walk = walkthrough::run(
        &options.registry_dir,
        &options.policies_dir,
        options.at,
        progress,
    )?;
    if options.registry_only {
        if let Some(path) = &options.manifest {
            write_manifest(path, &walk.report)?;
        }
        return Ok(DemoReport {
            walkthrough: walk.report,
            live: None,
        });
    }
    let live = live::run(options, &walk.release, &walk.report, progress, shutdown).await?;
    if !live.converged {
        return Err(DemoError::Message(format!(
            "the federation did not converge in {:?}",
            options.timeout
        )));
    }
    if !live.audit_ok {
        return Err(DemoError::Message(
            "an audit check failed (see the table above)".into(),
        ));
    }
    if !live.crisis_ok {
        return Err(DemoError::Message(
            "the replayed consultation's room did not reach exactly its participants (see above)"
                .into(),
        ));
    }
    Ok(DemoReport {
        walkthrough: walk.report,
        live: Some(live),
    })
}

/// Writes the walk-through's report alone as the manifest.
fn write_manifest(path: &Path, report: &WalkthroughReport) -> Result<(), DemoError> {
    let text = serde_json::to_string_pretty(report)?;
    std::fs::write(path, text + "\n")
        .map_err(|e| DemoError::Message(format!("cannot write manifest {}: {e}", path.display())))
}
