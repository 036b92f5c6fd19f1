//! The deterministic simulation core: a fixed time step, one seeded random stream, and the same
//! order of work on every step, so that a scenario and a seed always give the same run, whether
//! it is paced to the wall clock or run as fast as the machine allows.
//!
//! One step: scheduled events → traffic appearing → controller commands → kinematics → radar
//! scans (plots → national trackers → national tracks) → each nation's fused picture (at the
//! picture period) → Entity State PDUs (dead reckoning) → records.

use std::collections::BTreeSet;

use entente_fusion::fusion::{FusionConfig, RecipientPicture};
use entente_fusion::geodesy::{Ecef, Geodetic, LocalFrame};
use entente_fusion::kalman::{Measurement, MeasurementCovariance, Motion};
use entente_fusion::metrics;
use entente_fusion::model::{Identity, Markings, NationalTrack, SystemTrack, TrackRef};
use entente_fusion::tracker::{Tracker, TrackerConfig};
use entente_types::NationCode;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::controller::{self, FlightState, Phase};
use crate::dis::{self, DeadReckoning, EntityHeader, Kinematics, ESPDU_LEN};
use crate::error::Error;
use crate::kinematics::{self, Command, Limits, State};
use crate::record::{
    EntityInfo, FirstSeen, PictureSample, PositionSample, QualitySample, RunRecord, TimelineEntry,
};
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

/// What an aircraft is in the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Traffic number `index`, flying towards waypoint `leg`.
    Traffic {
        /// Index into [`Scenario::traffic`].
        index: usize,
        /// Next waypoint.
        leg: usize,
    },
    /// Aircraft `slot` (0 lead, 1 wingman) of flight `flight`.
    Fighter {
        /// Index into [`Scenario::flights`].
        flight: usize,
        /// 0 lead, 1 wingman.
        slot: u8,
    },
}

/// One simulated aircraft.
#[derive(Debug, Clone)]
pub struct Entity {
    /// DIS identity, type and marking.
    pub header: EntityHeader,
    /// Kinematic state.
    pub state: State,
    /// Performance limits.
    pub limits: Limits,
    /// Flying (appeared and not yet landed or gone).
    pub active: bool,
    /// Transponder on, answering air traffic control.
    pub transponder: bool,
    /// Traffic or fighter.
    pub role: Role,
    /// Time it entered the exercise area.
    pub entered: Option<f64>,
    /// Has taken off or appeared (an aircraft that landed or left does not come back).
    pub appeared: bool,
    command: Command,
    dr: DeadReckoning,
}

struct RadarState {
    spec: Radar,
    ecef: Ecef,
    next_scan: f64,
    sensor: usize,
}

/// A nation's multi-radar tracker and the national tracks it holds.
struct NationSensors {
    nation: NationCode,
    name: String,
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
    /// A simulation at `t = 0`. `epoch` is the Unix time of `t = 0` (DIS and STIX times);
    /// `absolute_time` marks DIS timestamps as UTC-synchronised (live runs).
    pub fn new(scenario: &Scenario, epoch: f64, absolute_time: bool) -> Simulation {
        let s = scenario.clone();
        let frame = LocalFrame::new(s.area.origin);
        let mut entities = Vec::new();
        let mut infos = Vec::new();
        let mut next_number: u16 = 1;
        let header =
            |number: u16, force: u8, nation: Option<NationCode>, kind: usize, marking: &str| {
                let d = s.types[kind].dis;
                EntityHeader {
                    id: (s.dis.site, s.dis.application, number),
                    force,
                    entity_type: (
                        1,
                        2,
                        dis::country_code(nation),
                        d.category,
                        d.subcategory,
                        d.specific,
                        0,
                    ),
                    marking: marking.to_owned(),
                }
            };
        for (index, tr) in s.traffic.iter().enumerate() {
            let start = tr.route[0].position;
            let state = State {
                position: start,
                heading: kinematics::bearing(start, tr.route[1].position),
                speed: tr.speed,
                vertical_speed: 0.0,
                bank: 0.0,
            };
            entities.push(Entity {
                header: header(
                    next_number,
                    tr.force.dis(),
                    tr.nation,
                    tr.kind,
                    &tr.callsign,
                ),
                state,
                limits: Limits::from(&s.types[tr.kind]),
                active: false,
                transponder: true,
                role: Role::Traffic { index, leg: 1 },
                entered: None,
                appeared: false,
                command: Command {
                    heading: state.heading,
                    speed: tr.speed,
                    altitude: start.h,
                },
                dr: DeadReckoning::default(),
            });
            infos.push(EntityInfo {
                entity: next_number,
                callsign: tr.callsign.clone(),
                owner: tr.id.clone(),
                role: "traffic".into(),
                nation: tr.nation.map(|n| n.to_string()),
            });
            next_number += 1;
        }
        let mut flights = Vec::new();
        for (fi, fl) in s.flights.iter().enumerate() {
            let base = s.bases[fl.base].position;
            let mut members = Vec::new();
            for slot in 0..fl.count {
                let marking = if slot == 0 {
                    fl.callsign.clone()
                } else {
                    format!("{}2", fl.callsign)
                };
                members.push(entities.len());
                let state = State {
                    position: base,
                    heading: 0.0,
                    speed: s.types[fl.kind].min_speed,
                    vertical_speed: 0.0,
                    bank: 0.0,
                };
                entities.push(Entity {
                    header: header(next_number, 1, Some(fl.nation), fl.kind, &marking),
                    state,
                    limits: Limits::from(&s.types[fl.kind]),
                    active: false,
                    transponder: true,
                    role: Role::Fighter { flight: fi, slot },
                    entered: None,
                    appeared: false,
                    command: Command {
                        heading: 0.0,
                        speed: state.speed,
                        altitude: base.h,
                    },
                    dr: DeadReckoning::default(),
                });
                infos.push(EntityInfo {
                    entity: next_number,
                    callsign: marking,
                    owner: fl.id.clone(),
                    role: "fighter".into(),
                    nation: Some(fl.nation.to_string()),
                });
                next_number += 1;
            }
            // The ground controller of a QRA flight is the host nation's, when it takes part.
            let controller = if s.nation(s.bases[fl.base].nation).is_some() {
                s.bases[fl.base].nation
            } else {
                fl.nation
            };
            flights.push(FlightState::new(members, controller));
        }
        // One tracker per nation, fed by each of its radars in turn: the fusion never fuses two
        // tracks of one nation, so a nation reports one track per aircraft, as a national
        // air operations centre does.
        let mut sensors: Vec<NationSensors> = Vec::new();
        let mut radars = Vec::new();
        for r in &s.radars {
            let sensor = match sensors.iter().position(|n| n.nation == r.nation) {
                Some(i) => i,
                None => {
                    let sigma = s
                        .radars
                        .iter()
                        .filter(|o| o.nation == r.nation)
                        .map(|o| o.sigma)
                        .fold(0.0, f64::max);
                    let var = sigma * sigma;
                    let prior = PRIOR_SPEED * PRIOR_SPEED;
                    sensors.push(NationSensors {
                        nation: r.nation,
                        name: format!("{}-radars", r.nation),
                        tracker: Tracker::new(TrackerConfig {
                            motion: Motion::ConstantVelocity { q: s.picture.q },
                            r: MeasurementCovariance::new(var, 0.0, 0.0, var),
                            missed_distance: 3.0,
                            // Above a new track's own trace, so that one missed scan of a held
                            // track does not drop it; two or three do.
                            delete_covariance_trace: 4.0 * (var + prior),
                            min_points: 3,
                            prior_velocity_variance: prior,
                            keep_history: false,
                            report_deleted: false,
                        }),
                        tracks: Vec::new(),
                    });
                    sensors.len() - 1
                }
            };
            radars.push(RadarState {
                ecef: entente_fusion::geodesy::to_ecef(r.position),
                next_scan: 0.0,
                sensor,
                spec: r.clone(),
            });
        }
        let fusion = FusionConfig {
            max_age: 3.0
                * s.radars
                    .iter()
                    .map(|r| r.period)
                    .fold(s.picture.period, f64::max),
            ..FusionConfig::new(s.picture.q)
        };
        let nations = s
            .nations
            .iter()
            .map(|n| NationState {
                code: n.code,
                picture: RecipientPicture::new(n.code, fusion),
                latest: Vec::new(),
            })
            .collect();
        let steps_total = (s.duration / s.step).round() as u64;
        let record = RunRecord {
            version: RunRecord::VERSION,
            scenario: s.name.clone(),
            title: s.title.clone(),
            seed: s.seed,
            step: s.step,
            duration: s.duration,
            epoch,
            realtime: absolute_time,
            nations: s.nations.iter().map(|n| n.code.to_string()).collect(),
            standards: s
                .standards
                .iter()
                .map(|st| crate::aar::StandardSpec {
                    name: st.name.clone(),
                    from: st.from,
                    to: st.to,
                    within: st.within,
                    source: s
                        .sources
                        .iter()
                        .find(|src| src.id == st.source)
                        .map(|src| format!("{}: {}", src.id, src.title))
                        .unwrap_or_else(|| st.source.clone()),
                })
                .collect(),
            gospa_c: s.picture.gospa_c,
            gospa_p: s.picture.gospa_p,
            entities: infos,
            timeline: Vec::new(),
            quality: Vec::new(),
            first_seen: Vec::new(),
            truth: Vec::new(),
            pictures: Vec::new(),
            pdus: 0,
            steps: 0,
        };
        Simulation {
            rng: ChaCha8Rng::seed_from_u64(s.seed),
            frame,
            step_index: 0,
            steps_total,
            entities,
            flights,
            radars,
            sensors,
            nations,
            next_event: 0,
            next_fusion: 0.0,
            next_truth: 0.0,
            next_picture: 0.0,
            absolute_time,
            epoch,
            pdu: [0; ESPDU_LEN],
            detected: BTreeSet::new(),
            record,
            plots: Vec::new(),
            scenario: s,
        }
    }

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

    fn scan(&mut self, t: f64) -> Result<(), Error> {
        for ri in 0..self.radars.len() {
            if self.radars[ri].next_scan > t + 1e-9 {
                continue;
            }
            self.radars[ri].next_scan += self.radars[ri].spec.period;
            self.plots.clear();
            let r = &self.radars[ri];
            for e in self.entities.iter().filter(|e| e.active) {
                let p = e.state.ecef();
                let range = ((p.x - r.ecef.x).powi(2)
                    + (p.y - r.ecef.y).powi(2)
                    + (p.z - r.ecef.z).powi(2))
                .sqrt();
                let h = e.state.position.h;
                if range > r.spec.range || range > radar_horizon(r.spec.position.h, h) {
                    continue;
                }
                // One draw per candidate, always, so that the stream does not depend on outcomes.
                let detect = self.rng.random::<f64>() < r.spec.pd;
                let (nx, ny) = (gauss(&mut self.rng), gauss(&mut self.rng));
                if detect {
                    let enu = self.frame.enu_of_ecef(p);
                    self.plots.push(Measurement::new(
                        enu.e + r.spec.sigma * nx,
                        enu.n + r.spec.sigma * ny,
                    ));
                }
            }
            let n = &mut self.sensors[self.radars[ri].sensor];
            let tracks = n
                .tracker
                .step(t, &self.plots)
                .map_err(|source| Error::Picture { t, source })?;
            n.tracks = tracks
                .iter()
                .map(|tr| NationalTrack {
                    source: TrackRef {
                        nation: n.nation,
                        local_id: format!("{}-{}", n.nation, tr.id),
                    },
                    sensor: n.name.clone(),
                    t: tr.t,
                    estimate: tr.estimate,
                    identity: Identity::Unknown,
                    label: Markings::default(),
                })
                .collect();
        }
        Ok(())
    }

    /// ENU position (e, n) of an entity in the shared frame.
    fn enu(&self, e: &Entity) -> [f64; 2] {
        let p = self.frame.enu_of_ecef(e.state.ecef());
        [p.e, p.n]
    }

    fn fuse(&mut self, t: f64, out: &mut dyn Outputs) -> Result<(), Error> {
        if self.nations.is_empty() {
            return Ok(());
        }
        let all: Vec<NationalTrack<Markings>> = self
            .sensors
            .iter()
            .flat_map(|n| n.tracks.iter().cloned())
            .collect();
        let scenario = &self.scenario;
        let releasable = |tr: &NationalTrack<Markings>, recipient: NationCode| {
            scenario
                .nation(tr.source.nation)
                .is_some_and(|n| n.shares_with.contains(&recipient))
        };
        for n in &mut self.nations {
            n.latest = n
                .picture
                .fuse(t, &all, &releasable)
                .map_err(|source| Error::Picture { t, source })?;
        }
        for n in &self.nations {
            let own: Vec<NationalTrack<Markings>> = all
                .iter()
                .filter(|tr| tr.source.nation == n.code)
                .cloned()
                .collect();
            out.national_tracks(t, n.code, &own)?;
        }

        // Truth in the area, for quality and first sightings.
        let truth: Vec<(usize, [f64; 2])> = self
            .entities
            .iter()
            .enumerate()
            .filter(|(_, e)| e.active && self.scenario.area.contains(e.state.position))
            .map(|(i, e)| (i, self.enu(e)))
            .collect();
        let truth_xy: Vec<[f64; 2]> = truth.iter().map(|(_, p)| *p).collect();
        let c = self.scenario.picture.gospa_c;
        let p = self.scenario.picture.gospa_p;
        let sample_picture = t + 1e-9 >= self.next_picture;
        for ni in 0..self.nations.len() {
            let code = self.nations[ni].code;
            // Tracks of aircraft outside the area are no more false than those aircraft are
            // missed: both sides of the metric stop at the area's edge.
            let tracks: Vec<[f64; 2]> = self.nations[ni]
                .latest
                .iter()
                .map(|s| [s.estimate.x[0], s.estimate.x[2]])
                .filter(|p| {
                    let g = controller::on_plane(&self.frame, p[0], p[1], 0.0);
                    self.scenario.area.contains(g)
                })
                .collect();
            let g = metrics::gospa(&truth_xy, &tracks, c, p);
            self.record.quality.push(QualitySample {
                t,
                nation: code.to_string(),
                gospa: g.distance,
                localisation: g.localisation,
                missed: g.missed,
                false_tracks: g.false_tracks,
                truths: truth_xy.len(),
                tracks: tracks.len(),
            });
            let own: Vec<[f64; 2]> = all
                .iter()
                .filter(|tr| tr.source.nation == code)
                .map(|tr| [tr.estimate.x[0], tr.estimate.x[2]])
                .collect();
            let near = |set: &[[f64; 2]], q: [f64; 2]| {
                set.iter().any(|s| (s[0] - q[0]).hypot(s[1] - q[1]) < c)
            };
            for &(ei, q) in &truth {
                let seen_own = near(&own, q);
                let seen_picture = near(&tracks, q);
                self.first_seen(code, ei, t, seen_own, seen_picture);
                // Detection of an aircraft that stopped responding: the first national track on it.
                if seen_own && !self.entities[ei].transponder && self.detected.insert(ei) {
                    if let Role::Traffic { index, .. } = self.entities[ei].role {
                        let id = self.scenario.traffic[index].id.clone();
                        self.mark(t, Milestone::Detection, &id, None, Some(code));
                    }
                }
            }
            if sample_picture {
                for s in &self.nations[ni].latest {
                    let g =
                        controller::on_plane(&self.frame, s.estimate.x[0], s.estimate.x[2], 0.0);
                    self.record.pictures.push(PictureSample {
                        t,
                        nation: code.to_string(),
                        track: s.id,
                        lat: g.lat,
                        lon: g.lon,
                    });
                }
            }
        }
        if sample_picture {
            self.next_picture += PICTURE_PERIOD;
        }
        Ok(())
    }

    fn first_seen(&mut self, nation: NationCode, ei: usize, t: f64, own: bool, picture: bool) {
        let e = &self.entities[ei];
        let number = e.header.id.2;
        let name = nation.to_string();
        let idx = match self
            .record
            .first_seen
            .iter()
            .position(|f| f.nation == name && f.entity == number)
        {
            Some(i) => i,
            None => {
                self.record.first_seen.push(FirstSeen {
                    nation: name,
                    callsign: e.header.marking.clone(),
                    entity: number,
                    entered: e.entered,
                    own_sensors: None,
                    picture: None,
                });
                self.record.first_seen.len() - 1
            }
        };
        let f = &mut self.record.first_seen[idx];
        if own && f.own_sensors.is_none() {
            f.own_sensors = Some(t);
        }
        if picture && f.picture.is_none() {
            f.picture = Some(t);
        }
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

impl Entity {
    /// Position as geodetic coordinates.
    pub fn position(&self) -> Geodetic {
        self.state.position
    }

    pub(crate) fn set_command(&mut self, command: Command) {
        self.command = command;
    }
}

#[cfg(test)]
mod tests;
