//! The demonstration's live air picture: once the federation has converged, the shipped Baltic
//! air policing scenario is flown live (faster than real time, looping) and its sensors' national
//! tracks are posted, with their labels, to one node of the federation. Federation replicates
//! them like any other object, so each node holds the tracks the release policy lets its nation
//! receive, and each console shows the picture fused from those ([`entente_node::picture`]).
//!
//! The demonstration has no node for the scenario's Baltic nations: their tracks enter the
//! federation at [`HOST`]'s node (each object keeps its reporting nation and its sensor's label,
//! and the release of the copy a partner receives is decided on that label).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use entente_exercise::outputs::{NodePublisher, RunOutputs};
use entente_exercise::{Outputs, Pacing, Releases, Scenario};
use entente_fusion::model::{Markings, NationalTrack};
use entente_node::auth;
use entente_policy::ReleasePolicy;
use entente_store::{CollectionRight, User};
use entente_types::NationCode;

use super::nodes::DemoNode;
use crate::error::{Context as _, DemoError};

/// The collection national tracks are posted to and federated in.
pub const COLLECTION: &str = "air-picture";
/// The nation whose node receives the scenario's national tracks.
pub const HOST: &str = "DEU";
/// Runs that may fail (a post refused, a node not answering) before the exercise gives up.
const MAX_FAILURES: u32 = 3;
/// The name of the user that posts them.
const FEED_USER: &str = "deu-air-picture-feed";

/// How the live exercise runs.
#[derive(Debug, Clone)]
pub struct LiveExercise {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Simulated seconds per wall-clock second.
    pub speed: f64,
}

/// The running exercise: it loops until [`ExerciseFeed::stop`].
pub(super) struct ExerciseFeed {
    stop: Arc<AtomicBool>,
    posted: Arc<AtomicU64>,
    thread: Option<JoinHandle<Result<(), String>>>,
    pub scenario: String,
}

impl ExerciseFeed {
    /// National track states posted so far.
    pub fn posted(&self) -> u64 {
        self.posted.load(Ordering::Relaxed)
    }

    /// Stops the exercise and waits for its thread; the error of a run that failed, if any.
    pub fn stop(mut self) -> Result<(), String> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(outcome)) => outcome,
            Some(Err(_)) => Err("the exercise thread panicked".into()),
            None => Ok(()),
        }
    }
}

impl Drop for ExerciseFeed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Adds the user that posts the tracks to the host's node and returns its bearer token.
async fn feed_user(host: &DemoNode) -> Result<String, DemoError> {
    let user = User {
        name: FEED_USER.into(),
        nation: host.nation,
        clearance_policy: "NATO".into(),
        clearance_level: "NATO SECRET".into(),
        clearance_caveats: Vec::new(),
        password_hash: None,
        rights: vec![CollectionRight {
            collection: COLLECTION.into(),
            read: true,
            write: true,
        }],
    };
    host.node.store().put_user(&user).await?;
    let token = auth::new_token();
    host.node
        .store()
        .add_token(FEED_USER, &auth::token_hash(&token))
        .await?;
    Ok(token)
}

/// Starts flying `exercise` live, posting every sensor's national tracks to the host's node.
pub(super) async fn start(
    exercise: &LiveExercise,
    nodes: &[DemoNode],
    root: &Path,
    ca: Option<&Path>,
) -> Result<ExerciseFeed, DemoError> {
    let host_code: NationCode = HOST.parse()?;
    let host = nodes
        .iter()
        .find(|n| n.nation == host_code)
        .with_context(|| format!("the demonstration has no {HOST} node"))?;
    let scenario = Scenario::load(&exercise.scenario)
        .map_err(|e| DemoError::Message(format!("the live exercise: {e}")))?;
    // Labels the policies refuse stop the demonstration here, not in the exercise's thread.
    Releases::prepare(
        host.node.release_policy(),
        &scenario,
        entente_node::clock::now_seconds(),
    )
    .map_err(|e| DemoError::Message(format!("the live exercise: {e}")))?;
    let token = feed_user(host).await?;
    let token_file = root.join("air-picture-feed.token");
    super::write_private(&token_file, &token)?;
    let stop = Arc::new(AtomicBool::new(false));
    let posted = Arc::new(AtomicU64::new(0));
    let name = scenario.name.clone();
    let speed = exercise.speed;
    // The host node's policy: the one its own releases are decided by.
    let node = host.node.clone();
    let url = host.taxii_url.clone();
    let ca = ca.map(Path::to_path_buf);
    // The publishers' blocking HTTP clients live and die in the exercise's own thread (a
    // blocking client may not be dropped inside the async runtime).
    let (connected, connection) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("demo-exercise".into())
        .spawn({
            let stop = stop.clone();
            let posted = posted.clone();
            move || {
                let mut publishers = Vec::new();
                for n in &scenario.nations {
                    match NodePublisher::connect(
                        n.code,
                        &url,
                        COLLECTION,
                        &token_file,
                        ca.as_deref(),
                    ) {
                        Ok(p) => publishers.push(p),
                        Err(e) => {
                            let message = format!("the air picture feed: {e}");
                            let _ = connected.send(Err(message.clone()));
                            return Err(message);
                        }
                    }
                }
                let _ = connected.send(Ok(()));
                fly(
                    &scenario,
                    node.release_policy(),
                    speed,
                    publishers,
                    &stop,
                    &posted,
                )
            }
        })
        .context("cannot start the exercise thread")?;
    let outcome = tokio::task::spawn_blocking(move || connection.recv())
        .await
        .map_err(|e| DemoError::Message(format!("the air picture feed: {e}")))?;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(message)) => return Err(DemoError::Message(message)),
        Err(_) => {
            return Err(DemoError::Message(
                "the air picture feed did not start".into(),
            ))
        }
    }
    Ok(ExerciseFeed {
        stop,
        posted,
        thread: Some(thread),
        scenario: name,
    })
}

/// Runs the scenario again and again, each run starting where the last one's clock ended (so
/// that track times never go back), until `stop`.
fn fly(
    scenario: &Scenario,
    release: &ReleasePolicy,
    speed: f64,
    publishers: Vec<NodePublisher>,
    stop: &AtomicBool,
    posted: &AtomicU64,
) -> Result<(), String> {
    let mut epoch = entente_node::clock::now_seconds();
    let mut failures = 0;
    let mut outputs = RunOutputs {
        nodes: publishers,
        ..RunOutputs::default()
    };
    while !stop.load(Ordering::Relaxed) {
        let releases = Releases::prepare(release, scenario, epoch).map_err(|e| e.to_string())?;
        outputs = outputs.with_tracks_of(scenario, &releases);
        outputs.epoch = epoch;
        let mut out = Stoppable {
            inner: &mut outputs,
            stop,
        };
        let outcome = entente_exercise::run(
            scenario,
            epoch,
            Pacing::Realtime { speed },
            &releases,
            &mut out,
        );
        posted.store(
            outputs.nodes.iter().map(|p| p.posted).sum(),
            Ordering::Relaxed,
        );
        match outcome {
            Ok(_) => {}
            Err(_) if stop.load(Ordering::Relaxed) => return Ok(()),
            Err(e) => {
                // A failed post (a node restarting, say) ends this run; the next starts afresh.
                failures += 1;
                if failures >= MAX_FAILURES {
                    return Err(format!("{failures} runs failed, the last: {e}"));
                }
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
        epoch += scenario.duration;
    }
    Ok(())
}

/// The run's outputs, which end the run once `stop` is set.
struct Stoppable<'a> {
    inner: &'a mut RunOutputs,
    stop: &'a AtomicBool,
}

impl Outputs for Stoppable<'_> {
    fn pdu(&mut self, t: f64, pdu: &[u8]) -> Result<(), entente_exercise::Error> {
        self.inner.pdu(t, pdu)
    }

    fn national_tracks(
        &mut self,
        t: f64,
        nation: NationCode,
        tracks: &[NationalTrack<Markings>],
    ) -> Result<(), entente_exercise::Error> {
        self.inner.national_tracks(t, nation, tracks)
    }

    fn end_step(&mut self) -> Result<(), entente_exercise::Error> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(entente_exercise::Error::Publish {
                what: "the live exercise".into(),
                message: "stopped".into(),
            });
        }
        self.inner.end_step()
    }
}
