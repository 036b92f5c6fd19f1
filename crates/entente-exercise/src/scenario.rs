//! Scenario files: TOML read into span-carrying raw twins, then validated into a [`Scenario`].
//!
//! Validation never stops at the first problem: every problem becomes a [`Diagnostic`](crate::Diagnostic) naming the
//! file, line and field (`radar[LTU-1].pd`), and a [`Scenario`] exists only when there are none.
//! References between sections (a flight's base, a scramble's target) are checked, with the
//! closest valid name suggested.
//!
//! The public model is here; the raw twins are in `raw`, the shared checks in `validate`, and the
//! conversion of each section in `build`.

use std::path::{Path, PathBuf};

use entente_fusion::geodesy::Geodetic;
use entente_types::NationCode;

use crate::error::Error;

use build::convert;
use raw::RawScenario;
use validate::Ctx;

/// Latitudes beyond which positions are refused: east-west steps of the point-mass model divide
/// by the cosine of the latitude, and polar air policing is not this model's business.
pub const MAX_LAT: f64 = 85.0;

/// Stands in for a nation code already reported as wrong, so that checking goes on and reports
/// every other problem; a scenario with diagnostics is never returned, so it never escapes. `ZZZ`
/// is in ISO 3166-1's user-assigned range and names no nation.
const REPORTED_INVALID: NationCode = match NationCode::from_bytes(*b"ZZZ") {
    Some(code) => code,
    None => unreachable!(),
};

/// A validated exercise scenario. Indices (`base`, `kind`, `target` …) point into the vectors of
/// this struct.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// File it was read from (for messages).
    pub file: PathBuf,
    /// Short name, used for run folders and DIS markings.
    pub name: String,
    /// Human title.
    pub title: String,
    /// Seed of every random draw (detections, plot noise).
    pub seed: u64,
    /// Length of the exercise, seconds.
    pub duration: f64,
    /// Fixed simulation time step, seconds.
    pub step: f64,
    /// Unix time (seconds) of `t = 0` in batch runs; live runs start at the wall clock.
    pub epoch: f64,
    /// Sources cited by the figures of the file.
    pub sources: Vec<Source>,
    /// The exercise area.
    pub area: Area,
    /// Participating nations (those with sensors or flights), with their tracks' labels.
    pub nations: Vec<Nation>,
    /// Air bases.
    pub bases: Vec<Base>,
    /// Aircraft performance figures.
    pub types: Vec<AircraftType>,
    /// National surveillance radars.
    pub radars: Vec<Radar>,
    /// Quick-reaction-alert flights.
    pub flights: Vec<Flight>,
    /// Other traffic (civil, and the aircraft that will stop responding).
    pub traffic: Vec<Traffic>,
    /// Scheduled events, sorted by time.
    pub events: Vec<Event>,
    /// Standards the after-action review checks.
    pub standards: Vec<Standard>,
    /// Controller thresholds.
    pub controller: ControllerParams,
    /// Air picture parameters.
    pub picture: PictureParams,
    /// DIS parameters.
    pub dis: DisParams,
}

/// A cited source.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Identifier cited by `source = "…"` fields.
    pub id: String,
    /// Title.
    pub title: String,
    /// Where to find it.
    pub reference: String,
}

/// The exercise area: a latitude / longitude box and the origin of the shared local frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    /// Name.
    pub name: String,
    /// Origin of the east-north frame in which plots and tracks are exchanged.
    pub origin: Geodetic,
    /// Southern bound, degrees.
    pub south: f64,
    /// Northern bound, degrees.
    pub north: f64,
    /// Western bound, degrees.
    pub west: f64,
    /// Eastern bound, degrees.
    pub east: f64,
}

impl Area {
    /// Whether a position lies inside the box.
    pub fn contains(&self, g: Geodetic) -> bool {
        (self.south..=self.north).contains(&g.lat) && (self.west..=self.east).contains(&g.lon)
    }
}

/// A participating nation.
#[derive(Debug, Clone, PartialEq)]
pub struct Nation {
    /// ISO 3166-1 alpha-3.
    pub code: NationCode,
    /// The confidentiality label of its sensors' national tracks (a marking such as
    /// `NATO SECRET//REL TO NATO`), checked against the policies by
    /// [`crate::release::sensors`]; the release policy decides who receives them.
    pub label: LabelText,
}

/// A label as written in the scenario, with its line for diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelText {
    /// The marking.
    pub text: String,
    /// Line of the file it is on (1-based).
    pub line: usize,
}

/// An air base.
#[derive(Debug, Clone, PartialEq)]
pub struct Base {
    /// Identifier (ICAO location indicator).
    pub id: String,
    /// Name.
    pub name: String,
    /// Host nation.
    pub nation: NationCode,
    /// Aerodrome reference point; `h` is the elevation.
    pub position: Geodetic,
}

/// DIS entity type of an aircraft type (SISO-REF-010 enumerations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisType {
    /// Platform category (1 fighter / air defence, 4 cargo / tanker, 87 large civil …).
    pub category: u8,
    /// Subcategory.
    pub subcategory: u8,
    /// Specific.
    pub specific: u8,
}

/// Point-mass performance figures of an aircraft type.
#[derive(Debug, Clone, PartialEq)]
pub struct AircraftType {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Cruise true airspeed, m/s.
    pub cruise_speed: f64,
    /// Highest true airspeed the model commands, m/s.
    pub max_speed: f64,
    /// Lowest airborne speed, m/s.
    pub min_speed: f64,
    /// Sustained climb rate, m/s.
    pub climb_rate: f64,
    /// Sustained descent rate, m/s.
    pub descent_rate: f64,
    /// Longitudinal acceleration, m/s².
    pub acceleration: f64,
    /// Bank angle limit, degrees (turn rate = g tan(bank) / v).
    pub max_bank: f64,
    /// Turn rate limit, degrees per second.
    pub max_turn_rate: f64,
    /// Service ceiling, metres.
    pub ceiling: f64,
    /// DIS entity type.
    pub dis: DisType,
}

/// A national surveillance radar.
#[derive(Debug, Clone, PartialEq)]
pub struct Radar {
    /// Identifier, unique in the scenario.
    pub id: String,
    /// Owning nation.
    pub nation: NationCode,
    /// Antenna position (`h` is the antenna height above the ellipsoid).
    pub position: Geodetic,
    /// Instrumented range, metres.
    pub range: f64,
    /// 1-σ plot position error per horizontal axis, metres.
    pub sigma: f64,
    /// Time between scans, seconds.
    pub period: f64,
    /// Probability of detecting a target in coverage on one scan.
    pub pd: f64,
    /// The label of this radar's tracks, when not its nation's.
    pub label: Option<LabelText>,
}

/// A QRA flight (one or two aircraft) held at readiness at a base.
#[derive(Debug, Clone, PartialEq)]
pub struct Flight {
    /// Identifier.
    pub id: String,
    /// Callsign (DIS marking of the lead; the wingman gets a `2` appended).
    pub callsign: String,
    /// Nation of the detachment.
    pub nation: NationCode,
    /// Index into [`Scenario::bases`].
    pub base: usize,
    /// Index into [`Scenario::types`].
    pub kind: usize,
    /// Aircraft in the flight (1 or 2).
    pub count: u8,
    /// Time from the scramble order to wheels up, seconds.
    pub readiness: f64,
    /// Interception speed, m/s.
    pub dash_speed: f64,
}

/// Whether an aircraft answers air traffic control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Force {
    /// Friendly (DIS force 1).
    Friendly,
    /// Opposing (DIS force 2).
    Opposing,
    /// Neutral (DIS force 3).
    Neutral,
    /// Other (DIS force 0).
    Other,
}

impl Force {
    /// The DIS force identifier.
    pub fn dis(self) -> u8 {
        match self {
            Force::Other => 0,
            Force::Friendly => 1,
            Force::Opposing => 2,
            Force::Neutral => 3,
        }
    }

    fn parse(text: &str) -> Option<Force> {
        Some(match text {
            "friendly" => Force::Friendly,
            "opposing" => Force::Opposing,
            "neutral" => Force::Neutral,
            "other" => Force::Other,
            _ => return None,
        })
    }
}

/// A waypoint of a route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Waypoint {
    /// Position (`h` is the altitude).
    pub position: Geodetic,
}

/// An aircraft flying a route.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    /// Identifier.
    pub id: String,
    /// Callsign (DIS marking).
    pub callsign: String,
    /// Nation of registration, when known.
    pub nation: Option<NationCode>,
    /// Index into [`Scenario::types`].
    pub kind: usize,
    /// Appearance time, seconds.
    pub start: f64,
    /// Route, at least two waypoints; the aircraft starts at the first.
    pub route: Vec<Waypoint>,
    /// True airspeed, m/s.
    pub speed: f64,
    /// DIS force.
    pub force: Force,
}

/// What happens at an event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// Traffic `traffic` stops answering air traffic control and switches its transponder off.
    NonResponsive {
        /// Index into [`Scenario::traffic`].
        traffic: usize,
    },
    /// Flight `flight` is ordered to scramble against `target`.
    Scramble {
        /// Index into [`Scenario::flights`].
        flight: usize,
        /// Index into [`Scenario::traffic`].
        target: usize,
    },
    /// Escort of the target passes from flight `from` to flight `to`; `from` returns to base
    /// once `to` has the target in sight.
    Handover {
        /// Index into [`Scenario::flights`].
        from: usize,
        /// Index into [`Scenario::flights`].
        to: usize,
    },
}

/// A scheduled event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Time, seconds.
    pub t: f64,
    /// What happens.
    pub kind: EventKind,
}

/// A milestone of the timeline.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Milestone {
    /// A traffic stopped responding.
    NonResponsive,
    /// The first picture period at which a nation's sensors held a track on an aircraft that had
    /// stopped responding (already tracked before, it is detected as soon as it stops).
    Detection,
    /// The scramble order.
    Scramble,
    /// Wheels up.
    Airborne,
    /// The flight closed within the intercept range of the target.
    Intercept,
    /// Visual identification completed.
    VisualId,
    /// The flight took station to escort the target.
    Escort,
    /// The receiving flight took over the escort.
    Handover,
    /// The flight was released (hand-over done or target left the area).
    Released,
    /// The flight landed.
    Landed,
}

impl Milestone {
    /// All milestones, in order.
    pub const ALL: [Milestone; 10] = [
        Milestone::NonResponsive,
        Milestone::Detection,
        Milestone::Scramble,
        Milestone::Airborne,
        Milestone::Intercept,
        Milestone::VisualId,
        Milestone::Escort,
        Milestone::Handover,
        Milestone::Released,
        Milestone::Landed,
    ];

    /// Name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::NonResponsive => "non-responsive",
            Milestone::Detection => "detection",
            Milestone::Scramble => "scramble",
            Milestone::Airborne => "airborne",
            Milestone::Intercept => "intercept",
            Milestone::VisualId => "visual-id",
            Milestone::Escort => "escort",
            Milestone::Handover => "handover",
            Milestone::Released => "released",
            Milestone::Landed => "landed",
        }
    }

    fn parse(text: &str) -> Option<Milestone> {
        Milestone::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// A time standard: milestone `to` of a flight within `within` seconds of milestone `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct Standard {
    /// Name.
    pub name: String,
    /// Starting milestone (of the flight, or of its target for `non-responsive`/`detection`).
    pub from: Milestone,
    /// Ending milestone of the flight.
    pub to: Milestone,
    /// Limit, seconds.
    pub within: f64,
    /// Source id.
    pub source: String,
}

/// Controller thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerParams {
    /// Range at which the intercept is complete, metres.
    pub intercept_range: f64,
    /// Range for visual identification, metres.
    pub vid_range: f64,
    /// Time spent within `vid_range` to identify, seconds.
    pub vid_time: f64,
    /// Escort station behind the target, metres.
    pub escort_offset: f64,
    /// Range within which the fighter's own sensor replaces the ground picture, metres.
    pub own_sensor_range: f64,
}

/// Air picture parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct PictureParams {
    /// Time between fusions of each nation's picture, seconds.
    pub period: f64,
    /// Process noise of the trackers and the fusion, m²/s³.
    pub q: f64,
    /// GOSPA cut-off, metres.
    pub gospa_c: f64,
    /// GOSPA order.
    pub gospa_p: f64,
}

/// DIS parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DisParams {
    /// Exercise identifier.
    pub exercise: u8,
    /// Site number of every entity.
    pub site: u16,
    /// Application number of every entity.
    pub application: u16,
    /// Longest time between two Entity State PDUs of one entity, seconds.
    pub heartbeat: f64,
    /// Dead-reckoning position error that triggers an update, metres.
    pub threshold: f64,
}

/// Parses `HH:MM:SS` (hours may exceed 24; minutes and seconds below 60) into seconds.
pub fn parse_duration(text: &str) -> Option<f64> {
    let mut parts = text.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !(digits(h) && digits(m) && digits(s)) {
        return None;
    }
    let (h, m, s): (u64, u64, u64) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
    if m >= 60 || s >= 60 {
        return None;
    }
    // Hours beyond a year are no exercise (and would overflow).
    if h > 24 * 366 {
        return None;
    }
    Some((h * 3600 + m * 60 + s) as f64)
}

/// Formats seconds as `HH:MM:SS`.
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Input {
            path: path.to_path_buf(),
            source,
        })?;
        Scenario::parse(path, &text)
    }

    /// Validates scenario text; `path` is used in diagnostics only.
    pub fn parse(path: &Path, text: &str) -> Result<Scenario, Error> {
        let mut cx = Ctx::new(path, text);
        let raw: RawScenario = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let offset = e.span().map(|s| s.start).unwrap_or(0);
                cx.report(offset, "(file)", e.message().to_owned());
                return Err(Error::Invalid(cx.diagnostics));
            }
        };
        let scenario = convert(&mut cx, raw);
        if cx.diagnostics.is_empty() {
            Ok(scenario)
        } else {
            Err(Error::Invalid(cx.diagnostics))
        }
    }

    /// The nation record of `code`, if it participates.
    pub fn nation(&self, code: NationCode) -> Option<&Nation> {
        self.nations.iter().find(|n| n.code == code)
    }
}

mod build;
mod raw;
mod validate;

#[cfg(test)]
mod tests;
