//! Ground-controlled interception: the simple controller logic of a QRA flight.
//!
//! Phases: ready → scrambled (readiness runs) → airborne and vectored to intercept → escorting
//! (visual identification, then shadowing from a station behind the target) → returning to base
//! → landed. Until the fighter's own sensor has the target (within `own_sensor_range`) the
//! controller steers on the fused picture of its nation, following the system track designated
//! at take-off; a poor picture therefore shows in the timeline. The vector is a lead pursuit: the
//! heading that meets the target's estimated constant-velocity path at the fighter's dash speed.
//! A wingman keeps a station behind and to the right of the lead.

use std::f64::consts::PI;

use entente_fusion::geodesy::{Enu, Geodetic, LocalFrame};
use entente_fusion::model::{Markings, SystemTrack};
use entente_types::NationCode;

use crate::entity::Entity;
use crate::kinematics::{self, Command, State};
use crate::scenario::{Milestone, Scenario};

/// Gate for following the designated track from one picture to the next, metres.
const FOLLOW_GATE: f64 = 15_000.0;
/// Wingman station: behind and to the right of the lead, metres.
const WING_BACK: f64 = 1_500.0;
const WING_SIDE: f64 = 1_000.0;
/// A flight has landed within this distance of its base and height above it, metres.
const LANDED_DISTANCE: f64 = 2_000.0;
const LANDED_HEIGHT: f64 = 200.0;

/// Phase of a flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// On the ground at readiness.
    Ready,
    /// Ordered to scramble; wheels up at `airborne_at`.
    Scrambled {
        /// Time of take-off, seconds.
        airborne_at: f64,
    },
    /// Airborne, vectored towards the target.
    Intercepting,
    /// Within intercept range: identifying, then shadowing.
    Escorting,
    /// Released, flying home.
    Returning,
    /// Back on the ground.
    Landed,
}

/// The controller's estimate of its target.
#[derive(Debug, Clone, Copy)]
struct Estimate {
    t: f64,
    position: Geodetic,
    heading: f64,
    speed: f64,
}

impl Estimate {
    fn predict(&self, t: f64) -> Geodetic {
        let d = self.speed * (t - self.t);
        kinematics::displace(
            self.position,
            d * self.heading.cos(),
            d * self.heading.sin(),
            self.position.h,
        )
    }
}

/// The state of one flight.
#[derive(Debug, Clone)]
pub struct FlightState {
    /// Phase.
    pub phase: Phase,
    /// Target (index into the scenario's traffic, which is also its entity index).
    pub target: Option<usize>,
    /// Flight this one relieves on escort (hand-over).
    pub relieving: Option<usize>,
    /// Entity indices, lead first.
    pub members: Vec<usize>,
    /// Nation whose picture the controller steers on.
    pub controller: NationCode,
    estimate: Option<Estimate>,
    vid_since: Option<f64>,
    identified: bool,
    on_station: bool,
}

impl FlightState {
    /// A flight at readiness.
    pub fn new(members: Vec<usize>, controller: NationCode) -> FlightState {
        FlightState {
            phase: Phase::Ready,
            target: None,
            relieving: None,
            members,
            controller,
            estimate: None,
            vid_since: None,
            identified: false,
            on_station: false,
        }
    }

    /// Whether its controller reads the picture this step.
    pub fn needs_picture(&self) -> bool {
        matches!(self.phase, Phase::Intercepting)
    }
}

/// Time to meet a target at relative position `d` (north, east) moving with `v`, flying at
/// `speed`; `None` when the target cannot be caught.
pub fn intercept_time(d: (f64, f64), v: (f64, f64), speed: f64) -> Option<f64> {
    let a = v.0 * v.0 + v.1 * v.1 - speed * speed;
    let b = 2.0 * (d.0 * v.0 + d.1 * v.1);
    let c = d.0 * d.0 + d.1 * d.1;
    if a.abs() < 1e-9 {
        return (b < 0.0).then(|| -c / b);
    }
    let disc = b * b - 4.0 * a * c;
    if disc < 0.0 {
        return None;
    }
    let r = disc.sqrt();
    let (t1, t2) = ((-b - r) / (2.0 * a), (-b + r) / (2.0 * a));
    let (lo, hi) = (t1.min(t2), t1.max(t2));
    if lo > 0.0 {
        Some(lo)
    } else if hi > 0.0 {
        Some(hi)
    } else {
        None
    }
}

/// The lead-pursuit heading from `own` to a target at `target` flying `heading` at `speed`, for
/// a fighter at `dash` speed (pure pursuit when it cannot be caught).
pub fn pursuit_heading(
    own: Geodetic,
    target: Geodetic,
    heading: f64,
    speed: f64,
    dash: f64,
) -> f64 {
    let d = kinematics::offset_ne(own, target);
    let v = (speed * heading.cos(), speed * heading.sin());
    let aim = match intercept_time(d, v, dash) {
        Some(tau) => (d.0 + v.0 * tau, d.1 + v.1 * tau),
        None => d,
    };
    aim.1.atan2(aim.0).rem_euclid(2.0 * PI)
}

/// Station-keeping on a reference aircraft: `back` metres behind and `side` metres to its right.
fn station_command(
    own: &State,
    reference: &State,
    back: f64,
    side: f64,
    max_closure: f64,
) -> Command {
    let (ch, sh) = (reference.heading.cos(), reference.heading.sin());
    // Unit vectors (north, east) along and to the right of the reference's track.
    let (an, ae) = (ch, sh);
    let (rn, re) = (-sh, ch);
    let station = kinematics::displace(
        reference.position,
        -back * an + side * rn,
        -back * ae + side * re,
        reference.position.h,
    );
    let (dn, de) = kinematics::offset_ne(own.position, station);
    let along = dn * an + de * ae;
    let cross = dn * rn + de * re;
    let far = dn.hypot(de) > 5_000.0;
    let heading = if far && along > 0.0 {
        de.atan2(dn)
    } else {
        reference.heading + (cross / 2_000.0).atan()
    };
    Command {
        heading: heading.rem_euclid(2.0 * PI),
        speed: reference.speed + (0.03 * along).clamp(-max_closure, max_closure),
        altitude: reference.position.h,
    }
}

type Milestones = Vec<(Milestone, usize, Option<usize>)>;

/// Updates flight `fi` for time `t`: phase changes, and the commands of its aircraft. Returns the
/// milestones reached, each as (milestone, flight, target).
pub(crate) fn command(
    s: &Scenario,
    frame: &LocalFrame,
    fi: usize,
    flights: &mut [FlightState],
    entities: &mut [Entity],
    pictures: &[(NationCode, Vec<SystemTrack<Markings>>)],
    t: f64,
) -> Milestones {
    let mut events = Milestones::new();
    let spec = &s.flights[fi];
    let ty = &s.types[spec.kind];
    let base = s.bases[spec.base].position;
    let lead = flights[fi].members[0];
    let target = flights[fi].target;
    match flights[fi].phase {
        Phase::Ready | Phase::Landed => {}
        Phase::Scrambled { airborne_at } => {
            if t + 1e-9 >= airborne_at {
                let heading = target
                    .map(|ti| kinematics::bearing(base, entities[ti].state.position))
                    .unwrap_or(0.0);
                for &m in &flights[fi].members {
                    let e = &mut entities[m];
                    e.active = true;
                    e.appeared = true;
                    e.state = State {
                        position: base,
                        heading,
                        speed: ty.min_speed,
                        vertical_speed: 0.0,
                        bank: 0.0,
                    };
                }
                // The operator designates the target's track at take-off.
                flights[fi].estimate = target.map(|ti| truth_estimate(&entities[ti].state, t));
                flights[fi].phase = Phase::Intercepting;
                events.push((Milestone::Airborne, fi, target));
            }
        }
        Phase::Intercepting | Phase::Escorting => match target {
            Some(ti) if entities[ti].active && s.area.contains(entities[ti].state.position) => {
                escort_or_intercept(
                    s,
                    frame,
                    fi,
                    ti,
                    flights,
                    entities,
                    pictures,
                    t,
                    &mut events,
                );
            }
            _ => {
                flights[fi].phase = Phase::Returning;
                events.push((Milestone::Released, fi, target));
            }
        },
        Phase::Returning => {
            let own = entities[lead].state;
            let (n, e) = kinematics::offset_ne(own.position, base);
            let d = n.hypot(e);
            if d < LANDED_DISTANCE && own.position.h - base.h < LANDED_HEIGHT {
                for &m in &flights[fi].members {
                    entities[m].active = false;
                }
                flights[fi].phase = Phase::Landed;
                events.push((Milestone::Landed, fi, target));
                return events;
            }
            // A 3° approach path (about 5 %) within 40 km; cruise home before that.
            let altitude = if d > 40_000.0 {
                own.position.h.min(9_000.0)
            } else {
                base.h + 0.05 * d
            };
            let speed = if d > 40_000.0 {
                ty.cruise_speed
            } else {
                ty.min_speed * 1.3
            };
            entities[lead].set_command(Command {
                heading: e.atan2(n).rem_euclid(2.0 * PI),
                speed,
                altitude,
            });
        }
    }
    // The wingman keeps station on the lead.
    if let Some(&wing) = flights[fi].members.get(1) {
        if entities[wing].active {
            if entities[lead].active {
                let reference = entities[lead].state;
                let own = entities[wing].state;
                entities[wing].set_command(station_command(
                    &own, &reference, WING_BACK, WING_SIDE, 60.0,
                ));
            } else {
                entities[wing].active = false;
            }
        }
    }
    events
}

fn truth_estimate(state: &State, t: f64) -> Estimate {
    Estimate {
        t,
        position: state.position,
        heading: state.heading,
        speed: state.speed,
    }
}

#[allow(clippy::too_many_arguments)]
fn escort_or_intercept(
    s: &Scenario,
    frame: &LocalFrame,
    fi: usize,
    ti: usize,
    flights: &mut [FlightState],
    entities: &mut [Entity],
    pictures: &[(NationCode, Vec<SystemTrack<Markings>>)],
    t: f64,
    events: &mut Milestones,
) {
    let spec = &s.flights[fi];
    let c = &s.controller;
    let lead = flights[fi].members[0];
    let own = entities[lead].state;
    let tgt = entities[ti].state;
    let range = kinematics::distance(own.position, tgt.position);

    if flights[fi].phase == Phase::Intercepting {
        // Own sensor within its range; the ground picture before.
        let estimate = if range <= c.own_sensor_range {
            truth_estimate(&tgt, t)
        } else {
            follow_picture(frame, &flights[fi], pictures, tgt.position.h, t)
        };
        flights[fi].estimate = Some(estimate);
        let heading = pursuit_heading(
            own.position,
            estimate.position,
            estimate.heading,
            estimate.speed,
            spec.dash_speed,
        );
        entities[lead].set_command(Command {
            heading,
            speed: spec.dash_speed,
            altitude: estimate.position.h,
        });
        if range <= c.intercept_range {
            flights[fi].phase = Phase::Escorting;
            events.push((Milestone::Intercept, fi, Some(ti)));
        }
        return;
    }

    // Escorting: close to the station behind the target, identify, shadow.
    entities[lead].set_command(station_command(&own, &tgt, c.escort_offset, 0.0, 80.0));
    let f = &mut flights[fi];
    if !f.identified {
        if range <= c.vid_range {
            let since = *f.vid_since.get_or_insert(t);
            if t - since >= c.vid_time {
                f.identified = true;
                events.push((Milestone::VisualId, fi, Some(ti)));
                if let Some(r) = f.relieving.take() {
                    events.push((Milestone::Handover, fi, Some(ti)));
                    if matches!(flights[r].phase, Phase::Intercepting | Phase::Escorting) {
                        flights[r].phase = Phase::Returning;
                        events.push((Milestone::Released, r, Some(ti)));
                    }
                }
            }
        } else {
            f.vid_since = None;
        }
    } else if !f.on_station && range <= 1.5 * c.escort_offset {
        f.on_station = true;
        events.push((Milestone::Escort, fi, Some(ti)));
    }
}

/// The geodetic point under plane coordinates (east, north) of the shared frame at height `h`:
/// plots carry no height, so the frame's "up" is taken where the Earth's surface drops away from
/// the tangent plane (`d² / 2R`), which keeps the point within metres of the aircraft it came from
/// hundreds of kilometres from the origin.
pub(crate) fn on_plane(frame: &LocalFrame, e: f64, n: f64, h: f64) -> Geodetic {
    const MEAN_RADIUS: f64 = 6_371_000.0;
    let u = h - (e * e + n * n) / (2.0 * MEAN_RADIUS);
    let g = frame.geodetic(Enu { e, n, u });
    Geodetic { h, ..g }
}

/// The designated track in the controller's picture: the system track nearest to where the last
/// estimate predicts the target, within [`FOLLOW_GATE`]; the prediction itself when none is.
fn follow_picture(
    frame: &LocalFrame,
    flight: &FlightState,
    pictures: &[(NationCode, Vec<SystemTrack<Markings>>)],
    height: f64,
    t: f64,
) -> Estimate {
    let Some(last) = flight.estimate else {
        return Estimate {
            t,
            position: Geodetic {
                lat: 0.0,
                lon: 0.0,
                h: height,
            },
            heading: 0.0,
            speed: 0.0,
        };
    };
    let predicted = last.predict(t);
    let p = frame.enu(Geodetic {
        h: 0.0,
        ..predicted
    });
    let tracks = pictures
        .iter()
        .find(|(n, _)| *n == flight.controller)
        .map(|(_, tracks)| tracks.as_slice())
        .unwrap_or_default();
    let best = tracks
        .iter()
        .map(|s| ((s.estimate.x[0] - p.e).hypot(s.estimate.x[2] - p.n), s))
        .filter(|(d, _)| *d < FOLLOW_GATE)
        .min_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, s)) => {
            let g = on_plane(frame, s.estimate.x[0], s.estimate.x[2], height);
            let (vn, ve) = (s.estimate.x[3], s.estimate.x[1]);
            // The track is as of the last fusion; bring it to now.
            let est = Estimate {
                t: s.t,
                position: Geodetic { h: height, ..g },
                heading: ve.atan2(vn).rem_euclid(2.0 * PI),
                speed: vn.hypot(ve),
            };
            Estimate {
                t,
                position: est.predict(t),
                ..est
            }
        }
        None => Estimate {
            t,
            position: Geodetic {
                h: height,
                ..predicted
            },
            ..last
        },
    }
}

#[cfg(test)]
mod tests;
