//! A run record shaped for the replay (`data.json`): per aircraft and per nation's system track,
//! columns of samples sorted by time (`t`, `lat`, `lon`, …), so that the browser finds any
//! instant with one binary search per series instead of scanning the record.

use std::collections::BTreeMap;

use entente_exercise::record::AreaBounds;
use entente_exercise::scenario::Milestone;
use entente_exercise::RunRecord;
use serde::Serialize;

/// How the replay names a milestone.
pub fn milestone_text(m: Milestone) -> &'static str {
    match m {
        Milestone::NonResponsive => "stopped responding",
        Milestone::Detection => "detection",
        Milestone::Scramble => "scramble",
        Milestone::Airborne => "airborne",
        Milestone::Intercept => "intercept",
        Milestone::VisualId => "visual identification",
        Milestone::Escort => "escort",
        Milestone::Handover => "hand-over",
        Milestone::Released => "released",
        Milestone::Landed => "landing",
    }
}

#[derive(Serialize)]
struct Data<'a> {
    id: &'a str,
    scenario: &'a str,
    title: &'a str,
    duration: f64,
    epoch: f64,
    area: AreaBounds,
    nations: &'a [String],
    /// Seconds between truth samples (how long a sample stands for).
    truth_period: f64,
    truth: Vec<Aircraft<'a>>,
    /// Seconds between picture samples.
    picture_period: f64,
    pictures: BTreeMap<&'a str, Vec<Track>>,
    events: Vec<Event<'a>>,
    quality: BTreeMap<&'a str, Quality>,
}

#[derive(Serialize)]
struct Aircraft<'a> {
    entity: u16,
    callsign: &'a str,
    role: &'a str,
    /// How the map draws it: `friend` (fighters), `suspect` (traffic that stopped responding),
    /// `neutral` (other traffic).
    identity: &'static str,
    t: Vec<f64>,
    lat: Vec<f64>,
    lon: Vec<f64>,
    h: Vec<f64>,
}

#[derive(Serialize)]
struct Track {
    track: u64,
    t: Vec<f64>,
    lat: Vec<f64>,
    lon: Vec<f64>,
}

#[derive(Serialize)]
struct Event<'a> {
    t: f64,
    milestone: &'static str,
    text: &'static str,
    subject: &'a str,
    target: Option<&'a str>,
    nation: Option<&'a str>,
}

#[derive(Serialize)]
struct Quality {
    t: Vec<f64>,
    gospa: Vec<f64>,
}

/// Degrees to five decimals (about a metre): the replay draws nothing finer.
fn deg(v: f64) -> f64 {
    (v * 1e5).round() / 1e5
}

/// The smallest step between distinct sample times, or `fallback` with fewer than two.
fn period(times: impl Iterator<Item = f64>, fallback: f64) -> f64 {
    let mut ts: Vec<f64> = times.collect();
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    ts.windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.min(d))))
        .unwrap_or(fallback)
}

/// The area of a record: its bounds, or (records written before they were kept) the box around
/// its truth with a margin.
pub fn area(record: &RunRecord) -> AreaBounds {
    if let Some(a) = record.area {
        return a;
    }
    let mut b = AreaBounds {
        south: f64::INFINITY,
        north: f64::NEG_INFINITY,
        west: f64::INFINITY,
        east: f64::NEG_INFINITY,
    };
    for p in &record.truth {
        b.south = b.south.min(p.lat);
        b.north = b.north.max(p.lat);
        b.west = b.west.min(p.lon);
        b.east = b.east.max(p.lon);
    }
    if b.south > b.north || b.west > b.east {
        // Nothing flew: central Europe.
        return AreaBounds {
            south: 45.0,
            north: 60.0,
            west: 0.0,
            east: 30.0,
        };
    }
    AreaBounds {
        south: b.south - 0.3,
        north: b.north + 0.3,
        west: b.west - 0.5,
        east: b.east + 0.5,
    }
}

/// `data.json` of a run.
pub fn shape(id: &str, record: &RunRecord) -> Vec<u8> {
    let suspects: Vec<&str> = record
        .timeline
        .iter()
        .filter(|e| e.milestone == Milestone::NonResponsive)
        .map(|e| e.subject.as_str())
        .collect();
    let mut truth: Vec<Aircraft<'_>> = record
        .entities
        .iter()
        .map(|e| Aircraft {
            entity: e.entity,
            callsign: &e.callsign,
            role: &e.role,
            identity: if e.role == "fighter" {
                "friend"
            } else if suspects.contains(&e.owner.as_str()) {
                "suspect"
            } else {
                "neutral"
            },
            t: Vec::new(),
            lat: Vec::new(),
            lon: Vec::new(),
            h: Vec::new(),
        })
        .collect();
    let index: BTreeMap<u16, usize> = truth
        .iter()
        .enumerate()
        .map(|(i, a)| (a.entity, i))
        .collect();
    let mut samples: Vec<_> = record.truth.iter().collect();
    samples.sort_by(|a, b| a.t.total_cmp(&b.t));
    for p in samples {
        if let Some(&i) = index.get(&p.entity) {
            let a = &mut truth[i];
            a.t.push(p.t);
            a.lat.push(deg(p.lat));
            a.lon.push(deg(p.lon));
            a.h.push(p.h.round());
        }
    }
    let mut pictures: BTreeMap<&str, BTreeMap<u64, Track>> = BTreeMap::new();
    let mut picture_samples: Vec<_> = record.pictures.iter().collect();
    picture_samples.sort_by(|a, b| a.t.total_cmp(&b.t));
    for p in picture_samples {
        let track = pictures
            .entry(p.nation.as_str())
            .or_default()
            .entry(p.track)
            .or_insert_with(|| Track {
                track: p.track,
                t: Vec::new(),
                lat: Vec::new(),
                lon: Vec::new(),
            });
        track.t.push(p.t);
        track.lat.push(deg(p.lat));
        track.lon.push(deg(p.lon));
    }
    let mut quality: BTreeMap<&str, Quality> = BTreeMap::new();
    let mut quality_samples: Vec<_> = record.quality.iter().collect();
    quality_samples.sort_by(|a, b| a.t.total_cmp(&b.t));
    for q in quality_samples {
        let series = quality.entry(q.nation.as_str()).or_insert(Quality {
            t: Vec::new(),
            gospa: Vec::new(),
        });
        series.t.push(q.t);
        series.gospa.push(q.gospa.round());
    }
    let mut events: Vec<Event<'_>> = record
        .timeline
        .iter()
        .map(|e| Event {
            t: e.t,
            milestone: e.milestone.as_str(),
            text: milestone_text(e.milestone),
            subject: &e.subject,
            target: e.target.as_deref(),
            nation: e.nation.as_deref(),
        })
        .collect();
    events.sort_by(|a, b| a.t.total_cmp(&b.t));
    let data = Data {
        id,
        scenario: &record.scenario,
        title: &record.title,
        duration: record.duration,
        epoch: record.epoch,
        area: area(record),
        nations: &record.nations,
        truth_period: period(record.truth.iter().map(|p| p.t), record.step.max(1.0)),
        truth,
        picture_period: period(record.pictures.iter().map(|p| p.t), record.step.max(1.0)),
        pictures: pictures
            .into_iter()
            .map(|(n, tracks)| (n, tracks.into_values().collect()))
            .collect(),
        events,
        quality,
    };
    // Every value is a plain number or string: serialization cannot fail.
    serde_json::to_vec(&data).unwrap_or_else(|_| b"{}".to_vec())
}
