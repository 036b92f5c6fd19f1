//! Setting a simulation up from its scenario: the aircraft (traffic and QRA flights) with their DIS
//! identities, one tracker per nation fed by its radars, each nation's fused picture, and the
//! opening of the run record.

use std::collections::BTreeSet;

use entente_fusion::fusion::{FusionConfig, RecipientPicture};
use entente_fusion::geodesy::LocalFrame;
use entente_fusion::kalman::{MeasurementCovariance, Motion};
use entente_fusion::model::Markings;
use entente_fusion::tracker::{Tracker, TrackerConfig};
use entente_types::NationCode;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::controller::FlightState;
use crate::dis::{self, DeadReckoning, EntityHeader, ESPDU_LEN};
use crate::entity::{Entity, Role};
use crate::kinematics::{self, Command, Limits, State};
use crate::record::{EntityInfo, RunRecord};
use crate::release::Releases;
use crate::scenario::Scenario;

use super::{NationSensors, NationState, RadarState, Simulation, PRIOR_SPEED};

impl Simulation {
    /// A simulation at `t = 0`. `epoch` is the Unix time of `t = 0` (DIS and STIX times);
    /// `absolute_time` marks DIS timestamps as UTC-synchronised (live runs). `releases` are the
    /// scenario's sensors and what the release policy decided for the days of the run
    /// ([`Releases::prepare`] with the same scenario and epoch); each nation's picture holds only
    /// what they release to it.
    pub fn new(
        scenario: &Scenario,
        epoch: f64,
        absolute_time: bool,
        releases: &Releases,
    ) -> Simulation {
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
        // One tracker per sensor (a nation's radars under one label), fed by each of its radars in
        // turn: the fusion never fuses two tracks of one nation, so a nation reports one track
        // per aircraft and label, as a national air operations centre does.
        let tracker = |sigma: f64| {
            let var = sigma * sigma;
            let prior = PRIOR_SPEED * PRIOR_SPEED;
            Tracker::new(TrackerConfig {
                motion: Motion::ConstantVelocity { q: s.picture.q },
                r: MeasurementCovariance::new(var, 0.0, 0.0, var),
                missed_distance: 3.0,
                // Above a new track's own trace, so that one missed scan of a held track does
                // not drop it; two or three do.
                delete_covariance_trace: 4.0 * (var + prior),
                min_points: 3,
                prior_velocity_variance: prior,
                keep_history: false,
                report_deleted: false,
            })
        };
        let mut sensors: Vec<NationSensors> = releases
            .sensors()
            .iter()
            .map(|sensor| NationSensors {
                nation: sensor.nation,
                name: sensor.name.clone(),
                label: Markings::of([sensor.marking_id.clone()]),
                track_prefix: if releases
                    .sensors()
                    .iter()
                    .filter(|o| o.nation == sensor.nation)
                    .count()
                    == 1
                {
                    sensor.nation.to_string()
                } else {
                    sensor.name.clone()
                },
                tracker: tracker(
                    sensor
                        .radars
                        .iter()
                        .map(|&i| s.radars[i].sigma)
                        .fold(0.0, f64::max),
                ),
                tracks: Vec::new(),
            })
            .collect();
        let mut radars = Vec::new();
        for (ri, r) in s.radars.iter().enumerate() {
            // Releases prepared for another scenario may miss a radar: it still scans (the random
            // stream does not depend on labels), into a sensor they do not know, which no
            // picture receives.
            let sensor = releases.sensor_of_radar(ri).unwrap_or_else(|| {
                sensors.push(NationSensors {
                    nation: r.nation,
                    name: format!("{} (no label)", r.id),
                    label: Markings::default(),
                    track_prefix: r.id.clone(),
                    tracker: tracker(r.sigma),
                    tracks: Vec::new(),
                });
                sensors.len() - 1
            });
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
            area: Some((&s.area).into()),
            standards: s
                .standards
                .iter()
                .map(|st| crate::record::StandardSpec {
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
            releases: releases.entries(),
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
            releases: releases.clone(),
            scenario: s,
        }
    }
}
