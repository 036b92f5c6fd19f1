//! The run record: what a run leaves behind (`run.json`) for the after-action review.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::scenario::Milestone;

/// A standard as the run record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardSpec {
    /// Name.
    pub name: String,
    /// Starting milestone.
    pub from: Milestone,
    /// Ending milestone.
    pub to: Milestone,
    /// Limit, seconds.
    pub within: f64,
    /// Source id and title.
    pub source: String,
}

/// Everything the after-action review needs from one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Format version of this record.
    pub version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Scenario title.
    pub title: String,
    /// Seed used.
    pub seed: u64,
    /// Time step, seconds.
    pub step: f64,
    /// Simulated length, seconds.
    pub duration: f64,
    /// Unix time of `t = 0`.
    pub epoch: f64,
    /// Whether the run was paced to the wall clock.
    pub realtime: bool,
    /// Participating nations.
    pub nations: Vec<String>,
    /// The exercise area's bounds (absent from records written before it was kept).
    #[serde(default)]
    pub area: Option<AreaBounds>,
    /// Standards the review checks.
    pub standards: Vec<StandardSpec>,
    /// GOSPA cut-off, metres.
    pub gospa_c: f64,
    /// GOSPA order.
    pub gospa_p: f64,
    /// Every simulated aircraft.
    pub entities: Vec<EntityInfo>,
    /// Milestones in time order.
    pub timeline: Vec<TimelineEntry>,
    /// Picture quality per nation over time.
    pub quality: Vec<QualitySample>,
    /// When each nation first held each aircraft.
    pub first_seen: Vec<FirstSeen>,
    /// Truth positions, sampled.
    pub truth: Vec<PositionSample>,
    /// Fused picture positions per nation, sampled.
    pub pictures: Vec<PictureSample>,
    /// What the release policy decided, per day, sensor and recipient (absent from records
    /// written before tracks carried labels).
    #[serde(default)]
    pub releases: Vec<ReleaseEntry>,
    /// Entity State PDUs produced.
    pub pdus: u64,
    /// Simulation steps run.
    pub steps: u64,
}

/// The bounds of the exercise area, degrees (the scenario's `[area]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AreaBounds {
    /// Southern bound.
    pub south: f64,
    /// Northern bound.
    pub north: f64,
    /// Western bound.
    pub west: f64,
    /// Eastern bound.
    pub east: f64,
}

impl From<&crate::scenario::Area> for AreaBounds {
    fn from(area: &crate::scenario::Area) -> AreaBounds {
        AreaBounds {
            south: area.south,
            north: area.north,
            west: area.west,
            east: area.east,
        }
    }
}

/// Whether one sensor's national tracks were released to one nation's picture on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseEntry {
    /// The sensor (a nation's tracker).
    pub sensor: String,
    /// Its nation, the originator of its tracks.
    pub nation: String,
    /// The nation whose picture it is.
    pub recipient: String,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// The tracks' label, as a marking.
    pub label: String,
    /// Whether the policy released them.
    pub released: bool,
    /// The policy's reason.
    pub reason: String,
}

/// One simulated aircraft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityInfo {
    /// DIS entity number.
    pub entity: u16,
    /// Callsign (DIS marking).
    pub callsign: String,
    /// Scenario id of the flight or traffic it belongs to.
    pub owner: String,
    /// `traffic` or `fighter`.
    pub role: String,
    /// Nation, when known.
    pub nation: Option<String>,
}

/// One milestone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Time, seconds from the start.
    pub t: f64,
    /// What happened.
    pub milestone: Milestone,
    /// The flight or traffic it happened to.
    pub subject: String,
    /// The target concerned, for flight milestones.
    pub target: Option<String>,
    /// The nation concerned (the detecting nation for `detection`).
    pub nation: Option<String>,
}

/// GOSPA of one nation's picture at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualitySample {
    /// Time, seconds.
    pub t: f64,
    /// The nation whose picture it is.
    pub nation: String,
    /// GOSPA distance, metres.
    pub gospa: f64,
    /// Localisation term (Σ dᵖ).
    pub localisation: f64,
    /// Missed-target term.
    pub missed: f64,
    /// False-track term.
    pub false_tracks: f64,
    /// Aircraft in the area.
    pub truths: usize,
    /// System tracks in the picture.
    pub tracks: usize,
}

/// When a nation first held an aircraft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstSeen {
    /// The nation.
    pub nation: String,
    /// The aircraft's callsign.
    pub callsign: String,
    /// DIS entity number.
    pub entity: u16,
    /// When the aircraft entered the area (or appeared in it).
    pub entered: Option<f64>,
    /// First time one of the nation's own sensors held a track on it.
    pub own_sensors: Option<f64>,
    /// First time the nation's fused picture held it.
    pub picture: Option<f64>,
}

/// A sampled truth position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionSample {
    /// Time, seconds.
    pub t: f64,
    /// DIS entity number.
    pub entity: u16,
    /// Degrees.
    pub lat: f64,
    /// Degrees.
    pub lon: f64,
    /// Metres.
    pub h: f64,
}

/// A sampled system track position of one nation's picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PictureSample {
    /// Time, seconds.
    pub t: f64,
    /// The picture's nation.
    pub nation: String,
    /// System track number.
    pub track: u64,
    /// Degrees.
    pub lat: f64,
    /// Degrees.
    pub lon: f64,
}

impl RunRecord {
    /// Current format version.
    pub const VERSION: u32 = 1;

    /// Writes the record as JSON.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let text = serde_json::to_string(self).map_err(|e| Error::Record {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|e| Error::io(path, e))
    }

    /// Reads a record back; `path` is `run.json` or the run folder holding it.
    pub fn load(path: &Path) -> Result<RunRecord, Error> {
        let file = if path.is_dir() {
            path.join("run.json")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file).map_err(|source| Error::Input {
            path: file.clone(),
            source,
        })?;
        let record: RunRecord = serde_json::from_str(&text).map_err(|e| Error::Record {
            path: file.clone(),
            message: format!("line {}, column {}: {e}", e.line(), e.column()),
        })?;
        if record.version != RunRecord::VERSION {
            return Err(Error::Record {
                path: file,
                message: format!(
                    "record version {} is not supported (expected {})",
                    record.version,
                    RunRecord::VERSION
                ),
            });
        }
        Ok(record)
    }

    /// The first time `milestone` happened to `subject` (and `target`, when given).
    pub fn time_of(
        &self,
        milestone: Milestone,
        subject: &str,
        target: Option<&str>,
    ) -> Option<f64> {
        self.timeline
            .iter()
            .find(|e| {
                e.milestone == milestone
                    && e.subject == subject
                    && target.is_none_or(|t| e.target.as_deref() == Some(t))
            })
            .map(|e| e.t)
    }
}
