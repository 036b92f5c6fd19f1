//! What the picture commands show: summaries of a tracking or fusion run and scores, as JSON
//! (`Serialize`) and as text (`ToReport`).

use std::path::Path;

use entente_types::report::{Report, Table, ToReport};
use serde::Serialize;

use crate::files::Scenario;
use crate::metrics::{Score, ScoreParams};
use crate::replay::{FusedPicture, TrackedScenario};

/// A scenario tracked and written to a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackSummary {
    pub scans: usize,
    pub plots: usize,
    pub tracks: usize,
    pub rows: usize,
    pub out: String,
}

impl TrackSummary {
    pub fn new(scenario: &Scenario, tracked: &TrackedScenario, out: &Path) -> TrackSummary {
        TrackSummary {
            scans: scenario.scans.len(),
            plots: scenario.scans.iter().map(|s| s.plots.len()).sum(),
            tracks: tracked.tracks,
            rows: tracked.rows.len(),
            out: out.display().to_string(),
        }
    }
}

impl ToReport for TrackSummary {
    fn report(&self) -> Report {
        let mut report = Report::default();
        report.text(format!(
            "{} scans, {} plots → {} tracks, {} rows written to {}",
            self.scans, self.plots, self.tracks, self.rows, self.out
        ));
        report
    }
}

/// National pictures fused and written to a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FuseSummary {
    pub nations: Vec<String>,
    pub instants: usize,
    pub system_tracks: usize,
    pub rows: usize,
    pub out: String,
}

impl FuseSummary {
    pub fn new(picture: &FusedPicture, out: &Path) -> FuseSummary {
        FuseSummary {
            nations: picture.nations.iter().map(ToString::to_string).collect(),
            instants: picture.instants,
            system_tracks: picture.system_tracks,
            rows: picture.rows.len(),
            out: out.display().to_string(),
        }
    }
}

impl ToReport for FuseSummary {
    fn report(&self) -> Report {
        let mut report = Report::default();
        report.text(format!(
            "{} nations, {} instants → {} system tracks, {} rows written to {}",
            self.nations.len(),
            self.instants,
            self.system_tracks,
            self.rows,
            self.out
        ));
        report
    }
}

/// Scores with the parameters they were computed with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoreReport {
    #[serde(flatten)]
    pub params: ScoreParams,
    #[serde(flatten)]
    pub score: Score,
}

impl ToReport for ScoreReport {
    fn report(&self) -> Report {
        let (s, g) = (&self.score, &self.score.gospa);
        let mut table = Table::new(["metric", "mean over instants"]);
        for (metric, value) in [
            ("GOSPA", g.distance),
            ("  localisation", g.localisation),
            ("  missed", g.missed),
            ("  false", g.false_tracks),
            ("OSPA", s.ospa),
            ("SIAP completeness", s.siap.completeness),
            ("SIAP ambiguity", s.siap.ambiguity),
            ("SIAP spuriousness", s.siap.spuriousness),
        ] {
            table.add_row([metric.to_owned(), format!("{value:.4}")]);
        }
        let mut report = Report::default();
        report.table(table).text(format!(
            "{} instants, c = {}, p = {}",
            s.instants, self.params.c, self.params.p
        ));
        report
    }
}
