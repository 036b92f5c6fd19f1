//! Replaying recorded inputs through the engine: a scenario's plots through the tracker, and
//! nations' recorded track files through the fuser, with the fused picture written as CSV.
//!
//! National files report every track a nation holds at each instant it reports; at a fusion
//! instant the fuser is given each nation's latest report at or before it. Instants are the union
//! of the nations' report times, or a regular grid (`every` seconds) from the first to the last.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use entente_types::NationCode;

use crate::files::{Scenario, TrackRow, COVARIANCE_COLUMNS, UPPER};
use crate::fusion::{Fuser, FusionConfig};
use crate::kalman::{Gaussian, StateCovariance, StateVector};
use crate::model::{Identity, Markings, NationalTrack, TrackRef};
use crate::tracker::{Tracker, TrackerConfig};
use crate::Error;

/// The rows a tracker produced over a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedScenario {
    /// One row per confirmed track per scan (and past states, when kept), by time then track.
    pub rows: Vec<TrackRow>,
    /// Number of distinct confirmed tracks.
    pub tracks: usize,
}

/// Runs the tracker over every scan of a scenario.
pub fn track_scenario(
    scenario: &Scenario,
    config: TrackerConfig,
) -> Result<TrackedScenario, Error> {
    let mut tracker = Tracker::new(config);
    let mut rows: Vec<TrackRow> = Vec::new();
    let mut ids = BTreeSet::new();
    for scan in &scenario.scans {
        for tr in tracker.step(scan.t, &scan.plots)? {
            ids.insert(tr.id);
            rows.push(TrackRow {
                id: tr.id.to_string(),
                t: tr.t,
                x: tr.estimate.x,
                p: Some(tr.estimate.p),
            });
        }
        for past in tracker.drain_history() {
            rows.push(TrackRow {
                id: past.id.to_string(),
                t: past.t,
                x: past.x,
                p: None,
            });
        }
    }
    // Rows of one instant together, then by track number (the tracker's ids are numbers).
    let number = |id: &str| id.parse::<u64>().unwrap_or(0);
    rows.sort_by(|a, b| {
        a.t.total_cmp(&b.t)
            .then_with(|| number(&a.id).cmp(&number(&b.id)))
    });
    Ok(TrackedScenario {
        rows,
        tracks: ids.len(),
    })
}

/// One system track at one fusion instant.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedRow {
    pub id: u64,
    pub t: f64,
    pub x: StateVector,
    pub p: StateCovariance,
    /// `NATION:local_id` of each contributing national track.
    pub contributors: Vec<String>,
}

/// The fused picture over all instants.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedPicture {
    pub nations: Vec<NationCode>,
    pub instants: usize,
    /// Number of distinct system tracks.
    pub system_tracks: usize,
    pub rows: Vec<FusedRow>,
}

/// Fuses nations' recorded tracks (as [`crate::files::read_national_dir`] returns them).
pub fn fuse_recorded(
    national: &[(NationCode, Vec<TrackRow>)],
    config: FusionConfig,
    every: Option<f64>,
) -> Result<FusedPicture, Error> {
    if every.is_some_and(|e| !(e.is_finite() && e > 0.0)) {
        return Err(Error::InvalidInput {
            what: "fusion interval".into(),
            message: "--every must be a positive number of seconds".into(),
        });
    }
    let reports = group_by_instant(national);
    let instants = fusion_instants(&reports, every);
    let mut fuser = Fuser::new(config);
    let mut rows = Vec::new();
    let mut system_ids = BTreeSet::new();
    for &k in &instants {
        let latest = latest_reports(&reports, k);
        let refs: Vec<&NationalTrack<Markings>> = latest.iter().collect();
        let t = k as f64 / 1e6;
        for s in fuser.fuse(t, &refs)? {
            system_ids.insert(s.id);
            rows.push(FusedRow {
                id: s.id,
                t,
                x: s.estimate.x,
                p: s.estimate.p,
                contributors: s
                    .contributions
                    .iter()
                    .map(|c| format!("{}:{}", c.nation, c.local_id))
                    .collect(),
            });
        }
    }
    Ok(FusedPicture {
        nations: national.iter().map(|(n, _)| *n).collect(),
        instants: instants.len(),
        system_tracks: system_ids.len(),
        rows,
    })
}

/// Each nation's reports grouped by instant (in microseconds): a report lists every track the
/// nation holds.
type Reports<'a> = Vec<(NationCode, BTreeMap<i64, Vec<&'a TrackRow>>)>;

fn group_by_instant(national: &[(NationCode, Vec<TrackRow>)]) -> Reports<'_> {
    national
        .iter()
        .map(|(nation, rows)| {
            let mut by_t: BTreeMap<i64, Vec<&TrackRow>> = BTreeMap::new();
            for r in rows {
                by_t.entry(micros(r.t)).or_default().push(r);
            }
            (*nation, by_t)
        })
        .collect()
}

/// The fusion instants: every report time, or a grid of `every` seconds spanning them.
fn fusion_instants(reports: &Reports<'_>, every: Option<f64>) -> Vec<i64> {
    let all: BTreeSet<i64> = reports
        .iter()
        .flat_map(|(_, by_t)| by_t.keys().copied())
        .collect();
    match (every, all.first(), all.last()) {
        (Some(step), Some(&first), Some(&last)) => {
            let step = micros(step);
            (0..)
                .map(|i| first + i * step)
                .take_while(|k| *k <= last)
                .collect()
        }
        _ => all.into_iter().collect(),
    }
}

/// Every nation's latest report at or before instant `k`, as national tracks.
fn latest_reports(reports: &Reports<'_>, k: i64) -> Vec<NationalTrack<Markings>> {
    let mut latest = Vec::new();
    for (nation, by_t) in reports {
        let Some((_, rows)) = by_t.range(..=k).next_back() else {
            continue;
        };
        for r in rows {
            latest.push(NationalTrack {
                source: TrackRef {
                    nation: *nation,
                    local_id: r.id.clone(),
                },
                sensor: nation.to_string(),
                t: r.t,
                estimate: Gaussian::new(r.x, r.p.unwrap_or_else(StateCovariance::identity)),
                reply: Default::default(),
                identity: Identity::Unknown,
                label: Markings::default(),
            });
        }
    }
    latest
}

fn micros(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

/// Writes the fused picture: `track_id,t,x,vx,y,vy`, the covariance columns, `contributors`
/// (`NATION:id` joined by `;`).
pub fn write_fused(file: &Path, rows: &[FusedRow]) -> Result<(), Error> {
    let csv_error = |e: csv::Error| Error::Io {
        file: file.to_owned(),
        source: e.into(),
    };
    let mut out = csv::Writer::from_path(file).map_err(csv_error)?;
    let mut header = vec!["track_id", "t", "x", "vx", "y", "vy"];
    header.extend(COVARIANCE_COLUMNS);
    header.push("contributors");
    out.write_record(&header).map_err(csv_error)?;
    for r in rows {
        let mut record = vec![
            r.id.to_string(),
            r.t.to_string(),
            r.x[0].to_string(),
            r.x[1].to_string(),
            r.x[2].to_string(),
            r.x[3].to_string(),
        ];
        record.extend(UPPER.iter().map(|&(i, j)| r.p[(i, j)].to_string()));
        record.push(r.contributors.join(";"));
        out.write_record(&record).map_err(csv_error)?;
    }
    out.flush().map_err(|source| Error::Io {
        file: file.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, t: f64, x: f64) -> TrackRow {
        TrackRow {
            id: id.into(),
            t,
            x: StateVector::new(x, 0.0, 0.0, 0.0),
            p: Some(StateCovariance::identity() * 100.0),
        }
    }

    fn n(code: &str) -> NationCode {
        code.parse().unwrap()
    }

    #[test]
    fn instants_are_the_union_of_report_times_or_a_grid() {
        let national = vec![
            (n("EST"), vec![row("a", 0.0, 0.0), row("a", 2.0, 0.0)]),
            (n("LVA"), vec![row("7", 1.0, 0.0)]),
        ];
        let reports = group_by_instant(&national);
        assert_eq!(
            fusion_instants(&reports, None),
            vec![0, 1_000_000, 2_000_000]
        );
        assert_eq!(
            fusion_instants(&reports, Some(0.5)).len(),
            5,
            "0, 0.5, 1, 1.5, 2"
        );
    }

    #[test]
    fn the_latest_report_at_or_before_an_instant_is_used() {
        let national = vec![(n("EST"), vec![row("a", 0.0, 1.0), row("a", 2.0, 5.0)])];
        let reports = group_by_instant(&national);
        let latest = latest_reports(&reports, 1_500_000);
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].estimate.x[0], 1.0);
        assert!(latest_reports(&reports, -1).is_empty());
    }

    #[test]
    fn two_nations_on_one_target_fuse_into_one_track() {
        let national = vec![
            (n("EST"), vec![row("a", 0.0, 0.0)]),
            (
                n("LVA"),
                vec![row("7", 0.0, 1.0), row("far", 0.0, 90_000.0)],
            ),
        ];
        let picture = fuse_recorded(&national, FusionConfig::new(0.05), None).unwrap();
        assert_eq!(picture.instants, 1);
        assert_eq!(picture.system_tracks, 2);
        assert!(picture
            .rows
            .iter()
            .any(|r| r.contributors == ["EST:a", "LVA:7"]));
    }

    #[test]
    fn a_bad_interval_is_refused() {
        let err = fuse_recorded(&[], FusionConfig::new(0.05), Some(0.0)).unwrap_err();
        assert!(err.to_string().contains("--every"), "{err}");
    }

    #[test]
    fn the_fused_file_has_header_covariance_and_contributors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fused.csv");
        let fused = FusedRow {
            id: 3,
            t: 1.5,
            x: StateVector::new(1.0, 2.0, 3.0, 4.0),
            p: StateCovariance::identity(),
            contributors: vec!["EST:a".into(), "LVA:7".into()],
        };
        write_fused(&file, &[fused]).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        assert!(
            header.starts_with("track_id,t,x,vx,y,vy,p_x_x,"),
            "{header}"
        );
        assert!(header.ends_with(",contributors"));
        assert_eq!(
            lines.next().unwrap(),
            "3,1.5,1,2,3,4,1,0,0,0,1,0,0,1,0,1,EST:a;LVA:7"
        );
    }
}
