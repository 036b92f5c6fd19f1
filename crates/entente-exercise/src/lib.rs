//! Joint air policing exercises: scenario → simulated world → national sensors → national
//! pictures → after-action review, with the world published as DIS (IEEE 1278.1-2012).
//!
//! - [`scenario`] reads and validates scenario files (TOML), every problem located to file,
//!   line and field.
//! - [`sim`] is the deterministic core: fixed step, one seeded random stream; aircraft are
//!   point masses ([`kinematics`]), radars produce plots that the trackers of `entente-fusion`
//!   turn into national tracks, each nation fuses what the release policy releases to it
//!   ([`release`]: per sensor, recipient and day), and QRA flights follow the simple controller
//!   logic of [`controller`].
//! - [`dis`] encodes Entity State PDUs and sends them over UDP or into pcap files.
//! - [`record`] is what a run leaves; [`aar`] reviews it (standards, GOSPA, first sightings,
//!   charts, HTML).
//!
//! [`run`] drives a simulation to its end, in batch (as fast as possible) or paced to the wall
//! clock. Pacing never changes the outcome: the same scenario and seed give the same record.

pub mod aar;
pub mod controller;
pub mod dis;
pub mod entity;
mod error;
pub mod kinematics;
pub mod outputs;
pub mod record;
pub mod release;
pub mod report;
pub mod scenario;
pub mod sim;

pub use error::{Diagnostic, Error};
pub use record::RunRecord;
pub use release::Releases;
pub use scenario::Scenario;
pub use sim::{NoOutputs, Outputs, Simulation};

use std::time::{Duration, Instant};

/// How a run is paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// As fast as the machine allows.
    Batch,
    /// Each step waits for its wall-clock time; `speed` 1 is real time, 2 twice as fast.
    Realtime {
        /// Simulated seconds per wall-clock second.
        speed: f64,
    },
}

/// Runs `scenario` to its end. `epoch` is the Unix time of `t = 0`; live runs pass the wall
/// clock at start and get UTC-synchronised (absolute) DIS timestamps. `releases` are what the
/// release policy decided for the scenario's sensors over the days of the run
/// ([`Releases::prepare`] with the same scenario and epoch).
pub fn run(
    scenario: &Scenario,
    epoch: f64,
    pacing: Pacing,
    releases: &Releases,
    out: &mut dyn Outputs,
) -> Result<RunRecord, Error> {
    let realtime = matches!(pacing, Pacing::Realtime { .. });
    let mut sim = Simulation::new(scenario, epoch, realtime, releases);
    let start = Instant::now();
    while !sim.finished() {
        sim.step(out)?;
        if let Pacing::Realtime { speed } = pacing {
            let due = Duration::from_secs_f64(sim.t() / speed.max(1e-6));
            let elapsed = start.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
    }
    Ok(sim.into_record())
}
