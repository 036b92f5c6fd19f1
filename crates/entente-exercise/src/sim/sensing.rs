//! What the nations see: radar scans turned into plots for each nation's tracker, the fused
//! picture each nation builds from the national tracks it may receive, its quality against the
//! truth, and the first sightings of each aircraft.

use entente_fusion::kalman::Measurement;
use entente_fusion::metrics;
use entente_fusion::model::{Identity, Markings, NationalTrack, Reply, TrackRef};
use entente_types::NationCode;
use rand::RngExt;

use crate::controller;
use crate::entity::{Entity, Role};
use crate::error::Error;
use crate::record::{FirstSeen, PictureSample, QualitySample};
use crate::scenario::{Force, Milestone};

/// How far from an aircraft a track may lie and still take the identity of its reply, metres.
const IDENTIFY_RANGE: f64 = 5_000.0;

use super::{gauss, radar_horizon, Outputs, Simulation, PICTURE_PERIOD};

impl Simulation {
    pub(super) fn scan(&mut self, t: f64) -> Result<(), Error> {
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
            let sensor = self.radars[ri].sensor;
            let tracks = self.sensors[sensor]
                .tracker
                .step(t, &self.plots)
                .map_err(|source| Error::Picture { t, source })?
                .to_vec();
            let identities: Vec<(Identity, Reply)> = tracks
                .iter()
                .map(|tr| self.identify(tr.estimate.x[0], tr.estimate.x[2]))
                .collect();
            let n = &mut self.sensors[sensor];
            n.tracks = tracks
                .iter()
                .zip(identities)
                .map(|(tr, (identity, reply))| NationalTrack {
                    source: TrackRef {
                        nation: n.nation,
                        local_id: format!("{}-{}", n.track_prefix, tr.id),
                    },
                    sensor: n.name.clone(),
                    t: tr.t,
                    estimate: tr.estimate,
                    identity,
                    reply,
                    label: n.label.clone(),
                })
                .collect();
        }
        Ok(())
    }

    /// The identity a nation gives a track at east-north position (`e`, `n`), from the reply of
    /// the aircraft it correlates with (the nearest within [`IDENTIFY_RANGE`]): an allied
    /// fighter answers IFF and is a friend; traffic with its transponder on is identified by
    /// what it declares (its force: friendly, neutral, opposing); traffic that stopped answering
    /// air traffic control is suspect; a track that correlates with no aircraft stays unknown.
    /// An aircraft that answers (a fighter's IFF, a transponder) also gives its altitude and
    /// its callsign. No random draw: the simulation's stream does not depend on it.
    fn identify(&self, e: f64, n: f64) -> (Identity, Reply) {
        let nearest = self
            .entities
            .iter()
            .filter(|x| x.active)
            .map(|x| {
                let [xe, xn] = self.enu(x);
                (x, (xe - e).hypot(xn - n))
            })
            .filter(|(_, d)| *d <= IDENTIFY_RANGE)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let Some((aircraft, _)) = nearest else {
            return (Identity::Unknown, Reply::default());
        };
        let answers = matches!(aircraft.role, Role::Fighter { .. }) || aircraft.transponder;
        let reply = if answers {
            Reply {
                altitude_m: Some(aircraft.state.position.h),
                callsign: Some(aircraft.header.marking.clone()),
            }
        } else {
            Reply::default()
        };
        let identity = match aircraft.role {
            Role::Fighter { .. } => Identity::Friend,
            Role::Traffic { .. } if !aircraft.transponder => Identity::Suspect,
            Role::Traffic { index, .. } => match self.scenario.traffic[index].force {
                Force::Friendly => Identity::Friend,
                Force::Neutral => Identity::Neutral,
                Force::Opposing => Identity::Hostile,
                Force::Other => Identity::Unknown,
            },
        };
        (identity, reply)
    }

    /// ENU position (e, n) of an entity in the shared frame.
    fn enu(&self, e: &Entity) -> [f64; 2] {
        let p = self.frame.enu_of_ecef(e.state.ecef());
        [p.e, p.n]
    }

    pub(super) fn fuse(&mut self, t: f64, out: &mut dyn Outputs) -> Result<(), Error> {
        if self.nations.is_empty() {
            return Ok(());
        }
        let all: Vec<NationalTrack<Markings>> = self
            .sensors
            .iter()
            .flat_map(|n| n.tracks.iter().cloned())
            .collect();
        // What the release policy decided for the day of this instant (a run may cross midnight).
        let releasable = self.releases.at(self.epoch + t);
        for n in &mut self.nations {
            n.latest = n
                .picture
                .fuse(t, &all, releasable)
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
}
