//! The deterministic simulation core: a fixed time step, one seeded random stream, and the same
//! order of work on every step, so that a scenario and a seed always give the same run, whether
//! it is paced to the wall clock or run as fast as the machine allows.
//!
//! One step: scheduled events → traffic appearing → controller commands → kinematics → radar
//! scans (plots → national trackers → national tracks) → each nation's fused picture (at the
//! picture period) → Entity State PDUs (dead reckoning) → records.
//!
//! Building the world from a scenario is in `setup`; radar scans, national tracks, fused pictures
//! and first sightings are in `sensing`; the aircraft themselves are [`crate::entity`].

use std::collections::BTreeSet;

use entente_fusion::fusion::RecipientPicture;
use entente_fusion::geodesy::{Ecef, LocalFrame};
use entente_fusion::kalman::Measurement;
use entente_fusion::model::{Markings, NationalTrack, SystemTrack};
use entente_fusion::tracker::Tracker;
use entente_types::NationCode;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

pub use crate::entity::{Entity, Role};

use crate::controller::{self, FlightState, Phase};
use crate::dis::{self, Kinematics, ESPDU_LEN};
use crate::error::Error;
use crate::kinematics::{self, Command};
use crate::record::{PositionSample, RunRecord, TimelineEntry};
use crate::release::Releases;
use crate::scenario::{EventKind, Milestone, Radar, Scenario};

/// Largest speed a new track is assumed to have, m/s (1-σ of each velocity component's prior).
const PRIOR_SPEED: f64 = 250.0;
/// Truth samples kept for the review, one per this many seconds.
const TRUTH_PERIOD: f64 = 10.0;
/// Picture samples kept for the review, one per this many seconds.
const PICTURE_PERIOD: f64 = 30.0;

/// Where a run's products go besides its record.
pub trait Outputs {
    /// An Entity State PDU produced at simulation time `t`.
    fn pdu(&mut self, t: f64, pdu: &[u8]) -> Result<(), Error>;

    /// The national tracks `nation`'s sensors hold at time `t`, at each picture period.
    fn national_tracks(
        &mut self,
        t: f64,
        nation: NationCode,
        tracks: &[NationalTrack<Markings>],
    ) -> Result<(), Error>;

    /// The end of a step: the PDUs of the step are all out (a bundling sink sends what it holds).
    fn end_step(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// Outputs that discard everything (a run for its record only).
#[derive(Debug, Default)]
pub struct NoOutputs;

impl Outputs for NoOutputs {
    fn pdu(&mut self, _: f64, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }

    fn national_tracks(
        &mut self,
        _: f64,
        _: NationCode,
        _: &[NationalTrack<Markings>],
    ) -> Result<(), Error> {
        Ok(())
    }
}

struct RadarState {
    spec: Radar,
    ecef: Ecef,
    next_scan: f64,
    sensor: usize,
}

/// A nation's multi-radar tracker (its radars under one label) and the national tracks it holds.
struct NationSensors {
    nation: NationCode,
    name: String,
    /// The label its tracks carry: its marking definition's id.
    label: Markings,
    /// What its tracks' local ids start with: the nation when it is the nation's only sensor
    /// (`LTU-12`), else the sensor's name, so that track references stay unique.
    track_prefix: String,
    tracker: Tracker,
    tracks: Vec<NationalTrack<Markings>>,
}

struct NationState {
    code: NationCode,
    picture: RecipientPicture,
    latest: Vec<SystemTrack<Markings>>,
}

/// A running exercise.
pub struct Simulation {
    scenario: Scenario,
    frame: LocalFrame,
    rng: ChaCha8Rng,
    step_index: u64,
    steps_total: u64,
    entities: Vec<Entity>,
    flights: Vec<FlightState>,
    radars: Vec<RadarState>,
    sensors: Vec<NationSensors>,
    nations: Vec<NationState>,
    next_event: usize,
    next_fusion: f64,
    next_truth: f64,
    next_picture: f64,
    absolute_time: bool,
    epoch: f64,
    pdu: [u8; ESPDU_LEN],
    detected: BTreeSet<usize>,
    record: RunRecord,
    plots: Vec<Measurement>,
    releases: Releases,
}

/// A standard normal draw (Box–Muller; one value per call keeps the stream simple to follow).
fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Radar horizon over a 4/3 Earth, metres: 4.12 km × (√h_radar + √h_target), heights in metres.
pub fn radar_horizon(h_radar: f64, h_target: f64) -> f64 {
    4_120.0 * (h_radar.max(0.0).sqrt() + h_target.max(0.0).sqrt())
}

impl Simulation {
    /// Current simulation time, seconds.
    pub fn t(&self) -> f64 {
        self.step_index as f64 * self.scenario.step
    }

    /// Whether the scenario's duration has been simulated.
    pub fn finished(&self) -> bool {
        self.step_index >= self.steps_total
    }

    /// Steps in the whole run.
    pub fn steps_total(&self) -> u64 {
        self.steps_total
    }

    /// The aircraft.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// The fused picture `nation` holds as of the last picture period.
    pub fn picture(&self, nation: NationCode) -> Option<&[SystemTrack<Markings>]> {
        self.nations
            .iter()
            .find(|n| n.code == nation)
            .map(|n| n.latest.as_slice())
    }

    /// The national tracks every sensor holds as of its last scan, with their labels.
    pub fn national_tracks(&self) -> impl Iterator<Item = &NationalTrack<Markings>> {
        self.sensors.iter().flat_map(|s| s.tracks.iter())
    }

    /// The record so far.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// Ends the run and returns its record.
    pub fn into_record(mut self) -> RunRecord {
        self.record.steps = self.step_index;
        self.record
            .first_seen
            .sort_by(|a, b| (&a.nation, a.entity).cmp(&(&b.nation, b.entity)));
        self.record
    }

    fn mark(
        &mut self,
        t: f64,
        milestone: Milestone,
        subject: &str,
        target: Option<&str>,
        nation: Option<NationCode>,
    ) {
        self.record.timeline.push(TimelineEntry {
            t,
            milestone,
            subject: subject.to_owned(),
            target: target.map(str::to_owned),
            nation: nation.map(|n| n.to_string()),
        });
    }

    /// Runs one time step.
    pub fn step(&mut self, out: &mut dyn Outputs) -> Result<(), Error> {
        let t = self.t();
        let dt = self.scenario.step;
        self.apply_events(t);
        self.appear(t);
        self.command_traffic();
        self.command_flights(t);
        for e in self.entities.iter_mut().filter(|e| e.active) {
            e.state.step(&e.command, &e.limits, dt);
        }
        for e in self.entities.iter_mut().filter(|e| e.active) {
            if e.entered.is_none() && self.scenario.area.contains(e.state.position) {
                e.entered = Some(t);
            }
        }
        self.scan(t)?;
        if t + 1e-9 >= self.next_fusion {
            self.fuse(t, out)?;
            self.next_fusion += self.scenario.picture.period;
        }
        self.emit_dis(t, out)?;
        out.end_step()?;
        if t + 1e-9 >= self.next_truth {
            self.sample_truth(t);
            self.next_truth += TRUTH_PERIOD;
        }
        self.step_index += 1;
        self.record.steps = self.step_index;
        Ok(())
    }

    fn apply_events(&mut self, t: f64) {
        while let Some(ev) = self.scenario.events.get(self.next_event) {
            if ev.t > t + 1e-9 {
                break;
            }
            let ev = ev.clone();
            self.next_event += 1;
            match ev.kind {
                EventKind::NonResponsive { traffic } => {
                    if let Some(e) = self.entities.get_mut(traffic) {
                        e.transponder = false;
                    }
                    let id = self.scenario.traffic[traffic].id.clone();
                    self.mark(t, Milestone::NonResponsive, &id, None, None);
                }
                EventKind::Scramble { flight, target } => {
                    let fl = &mut self.flights[flight];
                    if fl.phase == Phase::Ready {
                        fl.phase = Phase::Scrambled {
                            airborne_at: t + self.scenario.flights[flight].readiness,
                        };
                    }
                    fl.target = Some(target);
                    let (fid, tid) = (
                        self.scenario.flights[flight].id.clone(),
                        self.scenario.traffic[target].id.clone(),
                    );
                    self.mark(t, Milestone::Scramble, &fid, Some(&tid), None);
                }
                EventKind::Handover { from, to } => {
                    self.flights[to].relieving = Some(from);
                    if self.flights[to].target.is_none() {
                        self.flights[to].target = self.flights[from].target;
                    }
                }
            }
        }
    }

    fn appear(&mut self, t: f64) {
        for e in &mut self.entities {
            if let Role::Traffic { index, .. } = e.role {
                if !e.appeared && self.scenario.traffic[index].start <= t + 1e-9 {
                    e.active = true;
                    e.appeared = true;
                }
            }
        }
    }

    fn command_traffic(&mut self) {
        for e in self.entities.iter_mut().filter(|e| e.active) {
            let Role::Traffic { index, leg } = e.role else {
                continue;
            };
            let route = &self.scenario.traffic[index].route;
            let wp = route[leg].position;
            let (n, ea) = kinematics::offset_ne(e.state.position, wp);
            // A waypoint is passed within a standard-rate turn's radius (or 2 km).
            let radius = (e.state.speed * e.state.speed
                / (kinematics::G * 25f64.to_radians().tan()))
            .max(2_000.0);
            if n.hypot(ea) < radius {
                if leg + 1 < route.len() {
                    e.role = Role::Traffic {
                        index,
                        leg: leg + 1,
                    };
                } else {
                    // End of route: the aircraft leaves the exercise.
                    e.active = false;
                }
                continue;
            }
            e.command = Command {
                heading: ea.atan2(n).rem_euclid(2.0 * std::f64::consts::PI),
                speed: self.scenario.traffic[index].speed,
                altitude: wp.h,
            };
        }
    }

    fn command_flights(&mut self, t: f64) {
        let pictures = self.nations_latest();
        for fi in 0..self.flights.len() {
            let events = controller::command(
                &self.scenario,
                &self.frame,
                fi,
                &mut self.flights,
                &mut self.entities,
                &pictures,
                t,
            );
            for (milestone, flight, target) in events {
                let fid = self.scenario.flights[flight].id.clone();
                let tid = target.map(|i| self.scenario.traffic[i].id.clone());
                self.mark(t, milestone, &fid, tid.as_deref(), None);
            }
        }
    }

    fn nations_latest(&self) -> Vec<(NationCode, Vec<SystemTrack<Markings>>)> {
        // Controllers steer on the picture they own; cloned once per step for the few flights.
        if self.flights.iter().all(|f| !f.needs_picture()) {
            return Vec::new();
        }
        self.nations
            .iter()
            .map(|n| (n.code, n.latest.clone()))
            .collect()
    }

    fn emit_dis(&mut self, t: f64, out: &mut dyn Outputs) -> Result<(), Error> {
        let dis = &self.scenario.dis;
        let stamp = dis::timestamp(self.epoch + t, self.absolute_time);
        for e in self.entities.iter_mut().filter(|e| e.active) {
            let k = Kinematics::of(&e.state);
            if !e.dr.due(t, &k, dis.heartbeat, dis.threshold) {
                continue;
            }
            dis::encode_entity_state(&mut self.pdu, dis.exercise, stamp, &e.header, &k);
            out.pdu(t, &self.pdu)?;
            e.dr.sent(t, &k);
            self.record.pdus += 1;
        }
        Ok(())
    }

    fn sample_truth(&mut self, t: f64) {
        for e in self.entities.iter().filter(|e| e.active) {
            self.record.truth.push(PositionSample {
                t,
                entity: e.header.id.2,
                lat: e.state.position.lat,
                lon: e.state.position.lon,
                h: e.state.position.h,
            });
        }
    }
}

mod sensing;
mod setup;

#[cfg(test)]
mod tests;
