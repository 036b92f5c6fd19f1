//! Scenario files: TOML read into span-carrying raw twins, then validated into a [`Scenario`].
//!
//! Validation never stops at the first problem: every problem becomes a [`Diagnostic`] naming the
//! file, line and field (`radar[LTU-1].pd`), and a [`Scenario`] exists only when there are none.
//! References between sections (a flight's base, a scramble's target) are checked, with the
//! closest valid name suggested.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use entente_fusion::geodesy::Geodetic;
use entente_types::NationCode;
use serde::Deserialize;
use toml::Spanned;

use entente_types::diagnostic::LineIndex;
use entente_types::suggest::{closest, Nearness};

use crate::error::{Diagnostic, Error};

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
    /// Participating nations (those with sensors or flights), with what they share.
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
    /// Nations its national tracks are released to (itself always included).
    pub shares_with: BTreeSet<NationCode>,
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

// ---------------------------------------------------------------------------------------------
// Raw twins.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    version: Spanned<i64>,
    name: Spanned<String>,
    title: String,
    #[allow(dead_code)]
    description: Option<String>,
    seed: Spanned<i64>,
    duration: Spanned<String>,
    step: Spanned<f64>,
    epoch: Spanned<String>,
    #[serde(default)]
    source: Vec<Spanned<RawSource>>,
    area: Spanned<RawArea>,
    #[serde(default)]
    nation: Vec<Spanned<RawNation>>,
    #[serde(default)]
    base: Vec<Spanned<RawBase>>,
    #[serde(default)]
    aircraft_type: Vec<Spanned<RawType>>,
    #[serde(default)]
    radar: Vec<Spanned<RawRadar>>,
    #[serde(default)]
    flight: Vec<Spanned<RawFlight>>,
    #[serde(default)]
    traffic: Vec<Spanned<RawTraffic>>,
    #[serde(default)]
    event: Vec<Spanned<RawEvent>>,
    #[serde(default)]
    standard: Vec<Spanned<RawStandard>>,
    controller: Spanned<RawController>,
    picture: Spanned<RawPicture>,
    dis: Spanned<RawDis>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: Spanned<String>,
    title: String,
    reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    name: String,
    origin: Spanned<RawPoint>,
    south: Spanned<f64>,
    north: Spanned<f64>,
    west: Spanned<f64>,
    east: Spanned<f64>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    lat: f64,
    lon: f64,
    #[serde(default)]
    alt_m: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNation {
    code: Spanned<String>,
    shares_with: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBase {
    id: Spanned<String>,
    name: String,
    nation: Spanned<String>,
    lat: Spanned<f64>,
    lon: Spanned<f64>,
    elevation_m: Spanned<f64>,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    id: Spanned<String>,
    name: String,
    cruise_speed_mps: Spanned<f64>,
    max_speed_mps: Spanned<f64>,
    min_speed_mps: Spanned<f64>,
    climb_rate_mps: Spanned<f64>,
    descent_rate_mps: Spanned<f64>,
    acceleration_mps2: Spanned<f64>,
    max_bank_deg: Spanned<f64>,
    max_turn_rate_dps: Spanned<f64>,
    ceiling_m: Spanned<f64>,
    dis_category: Spanned<i64>,
    #[serde(default)]
    dis_subcategory: Option<Spanned<i64>>,
    #[serde(default)]
    dis_specific: Option<Spanned<i64>>,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRadar {
    id: Spanned<String>,
    nation: Spanned<String>,
    lat: Spanned<f64>,
    lon: Spanned<f64>,
    antenna_m: Spanned<f64>,
    range_km: Spanned<f64>,
    sigma_m: Spanned<f64>,
    period_s: Spanned<f64>,
    pd: Spanned<f64>,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlight {
    id: Spanned<String>,
    callsign: Spanned<String>,
    nation: Spanned<String>,
    base: Spanned<String>,
    aircraft: Spanned<String>,
    count: Spanned<i64>,
    readiness: Spanned<String>,
    dash_speed_mps: Spanned<f64>,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    id: Spanned<String>,
    callsign: Spanned<String>,
    nation: Option<Spanned<String>>,
    aircraft: Spanned<String>,
    start: Spanned<String>,
    speed_mps: Spanned<f64>,
    force: Spanned<String>,
    route: Spanned<Vec<Spanned<RawPoint>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    at: Spanned<String>,
    kind: Spanned<String>,
    traffic: Option<Spanned<String>>,
    flight: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStandard {
    name: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
    within: Spanned<String>,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawController {
    intercept_range_m: Spanned<f64>,
    vid_range_m: Spanned<f64>,
    vid_time_s: Spanned<f64>,
    escort_offset_m: Spanned<f64>,
    own_sensor_range_km: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPicture {
    period_s: Spanned<f64>,
    process_noise: Spanned<f64>,
    gospa_c_m: Spanned<f64>,
    gospa_p: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDis {
    exercise: Spanned<i64>,
    site: Spanned<i64>,
    application: Spanned<i64>,
    heartbeat_s: Spanned<f64>,
    threshold_m: Spanned<f64>,
}

// ---------------------------------------------------------------------------------------------
// Conversion.

/// Collects diagnostics against one file.
struct Ctx {
    file: PathBuf,
    lines: LineIndex,
    diagnostics: Vec<Diagnostic>,
}

impl Ctx {
    fn new(file: &Path, text: &str) -> Ctx {
        let lines = LineIndex::new(text);
        Ctx {
            file: file.to_path_buf(),
            lines,
            diagnostics: Vec::new(),
        }
    }

    fn report(&mut self, offset: usize, field: impl Into<String>, message: impl Into<String>) {
        let line = self.lines.line_of(offset);
        self.diagnostics.push(Diagnostic {
            file: self.file.clone(),
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    /// A number within `[lo, hi]`, or a diagnostic.
    fn range(&mut self, v: &Spanned<f64>, field: &str, lo: f64, hi: f64) -> f64 {
        let x = *v.get_ref();
        if !(x.is_finite() && lo <= x && x <= hi) {
            self.report(
                v.span().start,
                field,
                format!("{x} is outside {lo} ..= {hi}"),
            );
        }
        x
    }

    /// A strictly positive number no larger than `hi`.
    fn positive(&mut self, v: &Spanned<f64>, field: &str, hi: f64) -> f64 {
        let x = *v.get_ref();
        if !(x.is_finite() && x > 0.0 && x <= hi) {
            self.report(
                v.span().start,
                field,
                format!("{x} must be greater than 0 and at most {hi}"),
            );
        }
        x
    }

    fn int(&mut self, v: &Spanned<i64>, field: &str, lo: i64, hi: i64) -> i64 {
        let x = *v.get_ref();
        if !(lo..=hi).contains(&x) {
            self.report(
                v.span().start,
                field,
                format!("{x} is outside {lo} ..= {hi}"),
            );
        }
        x.clamp(lo, hi)
    }

    fn nation(&mut self, v: &Spanned<String>, field: &str) -> Option<NationCode> {
        match v.get_ref().parse::<NationCode>() {
            Ok(code) => Some(code),
            Err(e) => {
                self.report(v.span().start, field, e.to_string());
                None
            }
        }
    }

    fn duration(&mut self, v: &Spanned<String>, field: &str) -> f64 {
        match parse_duration(v.get_ref()) {
            Some(s) => s,
            None => {
                self.report(
                    v.span().start,
                    field,
                    format!("`{}` is not a duration HH:MM:SS", v.get_ref()),
                );
                0.0
            }
        }
    }

    fn point(&mut self, p: &Spanned<RawPoint>, field: &str) -> Geodetic {
        let r = *p.get_ref();
        if !(r.lat.is_finite() && (-MAX_LAT..=MAX_LAT).contains(&r.lat)) {
            self.report(
                p.span().start,
                format!("{field}.lat"),
                format!("{} is outside -{MAX_LAT} ..= {MAX_LAT}", r.lat),
            );
        }
        if !(r.lon.is_finite() && (-180.0..=180.0).contains(&r.lon)) {
            self.report(
                p.span().start,
                format!("{field}.lon"),
                format!("{} is outside -180 ..= 180", r.lon),
            );
        }
        if !(r.alt_m.is_finite() && (-500.0..=30_000.0).contains(&r.alt_m)) {
            self.report(
                p.span().start,
                format!("{field}.alt_m"),
                format!("{} is outside -500 ..= 30000", r.alt_m),
            );
        }
        Geodetic {
            lat: r.lat,
            lon: r.lon,
            h: r.alt_m,
        }
    }

    /// Resolves a reference to one of `names`; reports an unknown one with the closest name.
    fn lookup(&mut self, v: &Spanned<String>, field: &str, what: &str, names: &[&str]) -> usize {
        let text = v.get_ref();
        if let Some(i) = names.iter().position(|n| n == text) {
            return i;
        }
        // Of equally close names the alphabetically first is suggested.
        let mut sorted = names.to_vec();
        sorted.sort_unstable();
        let closest = closest(
            text,
            sorted.into_iter().map(|n| (n, n)),
            Nearness::EditDistance(3),
        )
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
        self.report(
            v.span().start,
            field,
            format!("unknown {what} `{text}`{closest}"),
        );
        usize::MAX
    }

    fn unique(&mut self, seen: &mut HashMap<String, ()>, v: &Spanned<String>, field: &str) {
        let text = v.get_ref();
        if text.is_empty() || !text.chars().all(|c| c.is_ascii_graphic()) {
            self.report(
                v.span().start,
                field,
                format!("`{text}` must be non-empty printable ASCII without spaces"),
            );
        }
        if seen.insert(text.clone(), ()).is_some() {
            self.report(v.span().start, field, format!("duplicate id `{text}`"));
        }
    }
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

fn convert(cx: &mut Ctx, raw: RawScenario) -> Scenario {
    let version = *raw.version.get_ref();
    if version != 1 {
        cx.report(
            raw.version.span().start,
            "version",
            format!("version {version} is not supported (expected 1)"),
        );
    }
    let name = raw.name.get_ref().clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        cx.report(
            raw.name.span().start,
            "name",
            "must be non-empty ASCII letters, digits, `-` or `_`",
        );
    }
    let seed = *raw.seed.get_ref();
    if seed < 0 {
        cx.report(raw.seed.span().start, "seed", "must not be negative");
    }
    let duration = cx.duration(&raw.duration, "duration");
    if duration <= 0.0 {
        cx.report(raw.duration.span().start, "duration", "must be positive");
    }
    let step = cx.positive(&raw.step, "step", 10.0);
    let epoch = match chrono::DateTime::parse_from_rfc3339(raw.epoch.get_ref()) {
        Ok(t) => t.timestamp() as f64,
        Err(e) => {
            cx.report(
                raw.epoch.span().start,
                "epoch",
                format!("not an RFC 3339 time: {e}"),
            );
            0.0
        }
    };

    // Sources.
    let mut seen = HashMap::new();
    let mut sources = Vec::new();
    for s in &raw.source {
        let s = s.get_ref();
        cx.unique(&mut seen, &s.id, &format!("source[{}].id", s.id.get_ref()));
        sources.push(Source {
            id: s.id.get_ref().clone(),
            title: s.title.clone(),
            reference: s.reference.clone(),
        });
    }
    let source_ids: Vec<String> = sources.iter().map(|s| s.id.clone()).collect();
    let source_refs: Vec<&str> = source_ids.iter().map(String::as_str).collect();
    let cite = |cx: &mut Ctx, v: &Spanned<String>, field: String| {
        cx.lookup(v, &field, "source", &source_refs);
    };

    // Area.
    let a = raw.area.get_ref();
    let area = Area {
        name: a.name.clone(),
        origin: cx.point(&a.origin, "area.origin"),
        south: cx.range(&a.south, "area.south", -MAX_LAT, MAX_LAT),
        north: cx.range(&a.north, "area.north", -MAX_LAT, MAX_LAT),
        west: cx.range(&a.west, "area.west", -180.0, 180.0),
        east: cx.range(&a.east, "area.east", -180.0, 180.0),
    };
    if area.south >= area.north || area.west >= area.east {
        cx.report(
            raw.area.span().start,
            "area",
            "south must be below north and west below east",
        );
    }

    // Nations.
    let mut nations = Vec::new();
    let mut nation_seen = HashMap::new();
    for n in &raw.nation {
        let n = n.get_ref();
        let field = format!("nation[{}]", n.code.get_ref());
        cx.unique(&mut nation_seen, &n.code, &format!("{field}.code"));
        let Some(code) = cx.nation(&n.code, &format!("{field}.code")) else {
            continue;
        };
        nations.push((code, n.shares_with.as_ref()));
    }
    let codes: Vec<NationCode> = nations.iter().map(|(c, _)| *c).collect();
    let code_names: Vec<String> = codes.iter().map(ToString::to_string).collect();
    let code_refs: Vec<&str> = code_names.iter().map(String::as_str).collect();
    let nations: Vec<Nation> = nations
        .into_iter()
        .map(|(code, shares)| {
            let mut set: BTreeSet<NationCode> = match shares {
                None => codes.iter().copied().collect(),
                Some(list) => list
                    .iter()
                    .filter_map(|s| {
                        let i = cx.lookup(
                            s,
                            &format!("nation[{code}].shares_with"),
                            "participating nation",
                            &code_refs,
                        );
                        codes.get(i).copied()
                    })
                    .collect(),
            };
            set.insert(code);
            Nation {
                code,
                shares_with: set,
            }
        })
        .collect();
    let participant = |cx: &mut Ctx, v: &Spanned<String>, field: &str| -> Option<NationCode> {
        let code = cx.nation(v, field)?;
        if codes.contains(&code) {
            Some(code)
        } else {
            cx.lookup(v, field, "participating nation", &code_refs);
            None
        }
    };

    // Bases.
    let mut seen = HashMap::new();
    let mut bases = Vec::new();
    for b in &raw.base {
        let b = b.get_ref();
        let f = format!("base[{}]", b.id.get_ref());
        cx.unique(&mut seen, &b.id, &format!("{f}.id"));
        let nation = cx.nation(&b.nation, &format!("{f}.nation"));
        cite(cx, &b.source, format!("{f}.source"));
        bases.push(Base {
            id: b.id.get_ref().clone(),
            name: b.name.clone(),
            nation: nation.unwrap_or(REPORTED_INVALID),
            position: Geodetic {
                lat: cx.range(&b.lat, &format!("{f}.lat"), -MAX_LAT, MAX_LAT),
                lon: cx.range(&b.lon, &format!("{f}.lon"), -180.0, 180.0),
                h: cx.range(&b.elevation_m, &format!("{f}.elevation_m"), -500.0, 5000.0),
            },
        });
    }
    let base_names: Vec<String> = bases.iter().map(|b| b.id.clone()).collect();
    let base_refs: Vec<&str> = base_names.iter().map(String::as_str).collect();

    // Aircraft types.
    let mut seen = HashMap::new();
    let mut types = Vec::new();
    for t in &raw.aircraft_type {
        let t = t.get_ref();
        let f = format!("aircraft_type[{}]", t.id.get_ref());
        cx.unique(&mut seen, &t.id, &format!("{f}.id"));
        cite(cx, &t.source, format!("{f}.source"));
        let ty = AircraftType {
            id: t.id.get_ref().clone(),
            name: t.name.clone(),
            cruise_speed: cx.positive(
                &t.cruise_speed_mps,
                &format!("{f}.cruise_speed_mps"),
                1000.0,
            ),
            max_speed: cx.positive(&t.max_speed_mps, &format!("{f}.max_speed_mps"), 1000.0),
            min_speed: cx.positive(&t.min_speed_mps, &format!("{f}.min_speed_mps"), 1000.0),
            climb_rate: cx.positive(&t.climb_rate_mps, &format!("{f}.climb_rate_mps"), 400.0),
            descent_rate: cx.positive(&t.descent_rate_mps, &format!("{f}.descent_rate_mps"), 400.0),
            acceleration: cx.positive(
                &t.acceleration_mps2,
                &format!("{f}.acceleration_mps2"),
                100.0,
            ),
            max_bank: cx.range(&t.max_bank_deg, &format!("{f}.max_bank_deg"), 5.0, 85.0),
            max_turn_rate: cx.positive(
                &t.max_turn_rate_dps,
                &format!("{f}.max_turn_rate_dps"),
                60.0,
            ),
            ceiling: cx.positive(&t.ceiling_m, &format!("{f}.ceiling_m"), 30_000.0),
            dis: DisType {
                category: cx.int(&t.dis_category, &format!("{f}.dis_category"), 0, 255) as u8,
                subcategory: t
                    .dis_subcategory
                    .as_ref()
                    .map(|v| cx.int(v, &format!("{f}.dis_subcategory"), 0, 255) as u8)
                    .unwrap_or(0),
                specific: t
                    .dis_specific
                    .as_ref()
                    .map(|v| cx.int(v, &format!("{f}.dis_specific"), 0, 255) as u8)
                    .unwrap_or(0),
            },
        };
        if !(ty.min_speed < ty.cruise_speed && ty.cruise_speed <= ty.max_speed) {
            cx.report(
                t.cruise_speed_mps.span().start,
                format!("{f}.cruise_speed_mps"),
                "speeds must satisfy min_speed_mps < cruise_speed_mps <= max_speed_mps",
            );
        }
        types.push(ty);
    }
    let type_names: Vec<String> = types.iter().map(|t| t.id.clone()).collect();
    let type_refs: Vec<&str> = type_names.iter().map(String::as_str).collect();

    // Radars.
    let mut seen = HashMap::new();
    let mut radars = Vec::new();
    for r in &raw.radar {
        let r = r.get_ref();
        let f = format!("radar[{}]", r.id.get_ref());
        cx.unique(&mut seen, &r.id, &format!("{f}.id"));
        let nation = participant(cx, &r.nation, &format!("{f}.nation"));
        cite(cx, &r.source, format!("{f}.source"));
        radars.push(Radar {
            id: r.id.get_ref().clone(),
            nation: nation.unwrap_or(REPORTED_INVALID),
            position: Geodetic {
                lat: cx.range(&r.lat, &format!("{f}.lat"), -MAX_LAT, MAX_LAT),
                lon: cx.range(&r.lon, &format!("{f}.lon"), -180.0, 180.0),
                h: cx.range(&r.antenna_m, &format!("{f}.antenna_m"), 0.0, 5000.0),
            },
            range: cx.positive(&r.range_km, &format!("{f}.range_km"), 1000.0) * 1000.0,
            sigma: cx.positive(&r.sigma_m, &format!("{f}.sigma_m"), 10_000.0),
            period: cx.positive(&r.period_s, &format!("{f}.period_s"), 600.0),
            pd: cx.range(&r.pd, &format!("{f}.pd"), 0.0, 1.0),
        });
    }

    // Flights.
    let mut seen = HashMap::new();
    let mut flights = Vec::new();
    for fl in &raw.flight {
        let r = fl.get_ref();
        let f = format!("flight[{}]", r.id.get_ref());
        cx.unique(&mut seen, &r.id, &format!("{f}.id"));
        let nation = participant(cx, &r.nation, &format!("{f}.nation"));
        cite(cx, &r.source, format!("{f}.source"));
        check_callsign(cx, &r.callsign, &format!("{f}.callsign"), 10);
        let flight = Flight {
            id: r.id.get_ref().clone(),
            callsign: r.callsign.get_ref().clone(),
            nation: nation.unwrap_or(REPORTED_INVALID),
            base: cx.lookup(&r.base, &format!("{f}.base"), "base", &base_refs),
            kind: cx.lookup(
                &r.aircraft,
                &format!("{f}.aircraft"),
                "aircraft type",
                &type_refs,
            ),
            count: cx.int(&r.count, &format!("{f}.count"), 1, 2) as u8,
            readiness: cx.duration(&r.readiness, &format!("{f}.readiness")),
            dash_speed: cx.positive(&r.dash_speed_mps, &format!("{f}.dash_speed_mps"), 1000.0),
        };
        if let Some(ty) = types.get(flight.kind) {
            if flight.dash_speed > ty.max_speed || flight.dash_speed < ty.min_speed {
                cx.report(
                    r.dash_speed_mps.span().start,
                    format!("{f}.dash_speed_mps"),
                    format!(
                        "{} is outside the speeds of {} ({} ..= {} m/s)",
                        flight.dash_speed, ty.id, ty.min_speed, ty.max_speed
                    ),
                );
            }
        }
        flights.push(flight);
    }
    let flight_names: Vec<String> = flights.iter().map(|f| f.id.clone()).collect();
    let flight_refs: Vec<&str> = flight_names.iter().map(String::as_str).collect();

    // Traffic.
    let mut traffic = Vec::new();
    for tr in &raw.traffic {
        let r = tr.get_ref();
        let f = format!("traffic[{}]", r.id.get_ref());
        cx.unique(&mut seen, &r.id, &format!("{f}.id"));
        check_callsign(cx, &r.callsign, &format!("{f}.callsign"), 11);
        let nation = r
            .nation
            .as_ref()
            .and_then(|n| cx.nation(n, &format!("{f}.nation")));
        let route: Vec<Waypoint> = r
            .route
            .get_ref()
            .iter()
            .enumerate()
            .map(|(i, p)| Waypoint {
                position: cx.point(p, &format!("{f}.route[{i}]")),
            })
            .collect();
        if route.len() < 2 {
            cx.report(
                r.route.span().start,
                format!("{f}.route"),
                "a route needs at least two waypoints",
            );
        }
        let force = Force::parse(r.force.get_ref()).unwrap_or_else(|| {
            cx.report(
                r.force.span().start,
                format!("{f}.force"),
                format!(
                    "unknown force `{}` (friendly, opposing, neutral or other)",
                    r.force.get_ref()
                ),
            );
            Force::Other
        });
        let t = Traffic {
            id: r.id.get_ref().clone(),
            callsign: r.callsign.get_ref().clone(),
            nation,
            kind: cx.lookup(
                &r.aircraft,
                &format!("{f}.aircraft"),
                "aircraft type",
                &type_refs,
            ),
            start: cx.duration(&r.start, &format!("{f}.start")),
            route,
            speed: cx.positive(&r.speed_mps, &format!("{f}.speed_mps"), 1000.0),
            force,
        };
        if let Some(ty) = types.get(t.kind) {
            if t.speed > ty.max_speed || t.speed < ty.min_speed {
                cx.report(
                    r.speed_mps.span().start,
                    format!("{f}.speed_mps"),
                    format!(
                        "{} is outside the speeds of {} ({} ..= {} m/s)",
                        t.speed, ty.id, ty.min_speed, ty.max_speed
                    ),
                );
            }
            for (i, w) in t.route.iter().enumerate() {
                if w.position.h > ty.ceiling {
                    cx.report(
                        r.route.span().start,
                        format!("{f}.route[{i}].alt_m"),
                        format!("{} m is above the ceiling of {}", w.position.h, ty.id),
                    );
                }
            }
        }
        traffic.push(t);
    }
    let traffic_names: Vec<String> = traffic.iter().map(|t| t.id.clone()).collect();
    let traffic_refs: Vec<&str> = traffic_names.iter().map(String::as_str).collect();

    // Events.
    let mut events = Vec::new();
    for (i, e) in raw.event.iter().enumerate() {
        let r = e.get_ref();
        let f = format!("event[{i}]");
        let t = cx.duration(&r.at, &format!("{f}.at"));
        if t > duration {
            cx.report(
                r.at.span().start,
                format!("{f}.at"),
                "the event is after the end of the exercise",
            );
        }
        let need =
            |cx: &mut Ctx, v: &Option<Spanned<String>>, name: &str| -> Option<Spanned<String>> {
                if v.is_none() {
                    cx.report(
                        e.span().start,
                        format!("{f}.{name}"),
                        format!("a `{}` event needs `{name}`", r.kind.get_ref()),
                    );
                }
                v.clone()
            };
        let kind = match r.kind.get_ref().as_str() {
            "non-responsive" => need(cx, &r.traffic, "traffic").map(|v| EventKind::NonResponsive {
                traffic: cx.lookup(&v, &format!("{f}.traffic"), "traffic", &traffic_refs),
            }),
            "scramble" => {
                let flight = need(cx, &r.flight, "flight");
                let target = need(cx, &r.target, "target");
                flight.zip(target).map(|(fl, tg)| EventKind::Scramble {
                    flight: cx.lookup(&fl, &format!("{f}.flight"), "flight", &flight_refs),
                    target: cx.lookup(&tg, &format!("{f}.target"), "traffic", &traffic_refs),
                })
            }
            "handover" => {
                let from = need(cx, &r.from, "from");
                let to = need(cx, &r.to, "to");
                from.zip(to).map(|(a, b)| EventKind::Handover {
                    from: cx.lookup(&a, &format!("{f}.from"), "flight", &flight_refs),
                    to: cx.lookup(&b, &format!("{f}.to"), "flight", &flight_refs),
                })
            }
            other => {
                cx.report(
                    r.kind.span().start,
                    format!("{f}.kind"),
                    format!("unknown event kind `{other}` (non-responsive, scramble or handover)"),
                );
                None
            }
        };
        if let Some(kind) = kind {
            events.push(Event { t, kind });
        }
    }
    events.sort_by(|a, b| a.t.total_cmp(&b.t));

    // Standards.
    let mut standards = Vec::new();
    for s in &raw.standard {
        let r = s.get_ref();
        let f = format!("standard[{}]", r.name.get_ref());
        cite(cx, &r.source, format!("{f}.source"));
        let milestone = |cx: &mut Ctx, v: &Spanned<String>, name: &str| {
            Milestone::parse(v.get_ref()).unwrap_or_else(|| {
                let names: Vec<&str> = Milestone::ALL.iter().map(|m| m.as_str()).collect();
                cx.lookup(v, &format!("{f}.{name}"), "milestone", &names);
                Milestone::Landed
            })
        };
        standards.push(Standard {
            name: r.name.get_ref().clone(),
            from: milestone(cx, &r.from, "from"),
            to: milestone(cx, &r.to, "to"),
            within: cx.duration(&r.within, &format!("{f}.within")),
            source: r.source.get_ref().clone(),
        });
    }

    let c = raw.controller.get_ref();
    let controller = ControllerParams {
        intercept_range: cx.positive(
            &c.intercept_range_m,
            "controller.intercept_range_m",
            50_000.0,
        ),
        vid_range: cx.positive(&c.vid_range_m, "controller.vid_range_m", 10_000.0),
        vid_time: cx.positive(&c.vid_time_s, "controller.vid_time_s", 3600.0),
        escort_offset: cx.positive(&c.escort_offset_m, "controller.escort_offset_m", 10_000.0),
        own_sensor_range: cx.positive(
            &c.own_sensor_range_km,
            "controller.own_sensor_range_km",
            500.0,
        ) * 1000.0,
    };
    if controller.vid_range > controller.intercept_range {
        cx.report(
            c.vid_range_m.span().start,
            "controller.vid_range_m",
            "must not exceed controller.intercept_range_m",
        );
    }
    let p = raw.picture.get_ref();
    let picture = PictureParams {
        period: cx.positive(&p.period_s, "picture.period_s", 600.0),
        q: cx.positive(&p.process_noise, "picture.process_noise", 1.0e6),
        gospa_c: cx.positive(&p.gospa_c_m, "picture.gospa_c_m", 1.0e6),
        gospa_p: cx.range(&p.gospa_p, "picture.gospa_p", 1.0, 10.0),
    };
    let d = raw.dis.get_ref();
    let dis = DisParams {
        exercise: cx.int(&d.exercise, "dis.exercise", 1, 255) as u8,
        site: cx.int(&d.site, "dis.site", 1, 65_534) as u16,
        application: cx.int(&d.application, "dis.application", 1, 65_534) as u16,
        heartbeat: cx.positive(&d.heartbeat_s, "dis.heartbeat_s", 60.0),
        threshold: cx.range(&d.threshold_m, "dis.threshold_m", 0.0, 10_000.0),
    };
    if flights.len() * 2 + traffic.len() > 65_534 {
        cx.report(
            0,
            "traffic",
            "more entities than DIS entity numbers (65534)",
        );
    }

    Scenario {
        file: cx.file.clone(),
        name,
        title: raw.title,
        seed: seed.max(0) as u64,
        duration,
        step,
        epoch,
        sources,
        area,
        nations,
        bases,
        types,
        radars,
        flights,
        traffic,
        events,
        standards,
        controller,
        picture,
        dis,
    }
}

fn check_callsign(cx: &mut Ctx, v: &Spanned<String>, field: &str, max: usize) {
    let text = v.get_ref();
    if text.is_empty() || text.len() > max || !text.bytes().all(|b| b.is_ascii_graphic()) {
        cx.report(
            v.span().start,
            field,
            format!("`{text}` must be 1 to {max} printable ASCII characters (the DIS marking)"),
        );
    }
}

#[cfg(test)]
mod tests;
