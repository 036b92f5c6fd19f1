//! What the exercise commands show: a scenario checked, a run done, a run reviewed — as JSON
//! (`Serialize`) and as text (`ToReport`).

use std::path::Path;

use entente_types::report::{Report, Table, ToReport};
use serde::Serialize;

use crate::aar::{QualitySummary, ReportFiles, StandardResult};
use crate::outputs::NodePublisher;
use crate::record::{ReleaseEntry, TimelineEntry};
use crate::scenario::format_duration;
use crate::{RunRecord, Scenario};

/// A valid scenario, counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioSummary {
    pub file: String,
    pub name: String,
    pub title: String,
    pub duration: String,
    pub step: f64,
    pub seed: u64,
    pub nations: Vec<String>,
    pub bases: usize,
    pub radars: usize,
    pub flights: usize,
    pub traffic: usize,
    pub events: usize,
    pub standards: usize,
}

impl ScenarioSummary {
    pub fn new(file: &Path, s: &Scenario) -> ScenarioSummary {
        ScenarioSummary {
            file: file.display().to_string(),
            name: s.name.clone(),
            title: s.title.clone(),
            duration: format_duration(s.duration),
            step: s.step,
            seed: s.seed,
            nations: s.nations.iter().map(|n| n.code.to_string()).collect(),
            bases: s.bases.len(),
            radars: s.radars.len(),
            flights: s.flights.len(),
            traffic: s.traffic.len(),
            events: s.events.len(),
            standards: s.standards.len(),
        }
    }
}

impl ToReport for ScenarioSummary {
    fn report(&self) -> Report {
        let mut report = Report::default();
        report.text(format!(
            "{}: valid — {} ({}, {} nations, {} radars, {} QRA flights, {} other aircraft, {} events)",
            self.file,
            self.title,
            self.duration,
            self.nations.len(),
            self.radars,
            self.flights,
            self.traffic,
            self.events
        ));
        report
    }
}

/// What one nation's node received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    pub nation: String,
    pub url: String,
    pub tracks: u64,
}

/// A run done: its record's headline figures and where it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub run: String,
    pub scenario: String,
    /// `realtime` or `batch`.
    pub mode: &'static str,
    pub simulated_seconds: f64,
    pub wall_seconds: f64,
    pub steps: u64,
    pub pdus: u64,
    pub dis: Option<String>,
    pub published: Vec<Published>,
    pub timeline: Vec<TimelineEntry>,
    /// What the release policy decided per day, sensor and recipient.
    pub releases: Vec<ReleaseEntry>,
}

impl RunSummary {
    pub fn new(
        run_file: &Path,
        record: &RunRecord,
        wall_seconds: f64,
        dis: Option<std::net::SocketAddr>,
        nodes: &[NodePublisher],
    ) -> RunSummary {
        let published = nodes.iter().map(|n| Published {
            nation: n.nation.to_string(),
            url: n.url.clone(),
            tracks: n.posted,
        });
        RunSummary {
            run: run_file.display().to_string(),
            scenario: record.scenario.clone(),
            mode: if record.realtime { "realtime" } else { "batch" },
            simulated_seconds: record.duration,
            wall_seconds,
            steps: record.steps,
            pdus: record.pdus,
            dis: dis.map(|a| a.to_string()),
            published: published.collect(),
            timeline: record.timeline.clone(),
            releases: record.releases.clone(),
        }
    }
}

impl ToReport for RunSummary {
    fn report(&self) -> Report {
        let mut report = Report::default();
        report.text(format!(
            "{} ({}): {} simulated in {:.2} s wall clock, {} steps, {} Entity State PDUs{}",
            self.scenario,
            if self.mode == "realtime" {
                "live"
            } else {
                "batch"
            },
            format_duration(self.simulated_seconds),
            self.wall_seconds,
            self.steps,
            self.pdus,
            self.dis
                .as_ref()
                .map(|a| format!(" sent to {a}"))
                .unwrap_or_default()
        ));
        for n in &self.published {
            report.text(format!(
                "published {} national tracks of {} to {}",
                n.tracks, n.nation, n.url
            ));
        }
        let mut table = Table::new(["time", "milestone", "subject", "target", "nation"]);
        for e in &self.timeline {
            table.add_row([
                format_duration(e.t),
                e.milestone.as_str().to_owned(),
                e.subject.clone(),
                e.target.clone().unwrap_or_default(),
                e.nation.clone().unwrap_or_default(),
            ]);
        }
        report.table(table);
        for r in &self.releases {
            report.text(release_line(r));
        }
        report.text(format!("run record: {}", self.run));
        report
    }
}

/// One release decision as a line: `EST-radars (EST) → LVA on 2026-03-29: released (…)`.
pub fn release_line(r: &ReleaseEntry) -> String {
    format!(
        "{} ({}, {}) → {} on {}: {} ({})",
        r.sensor,
        r.nation,
        r.label,
        r.recipient,
        r.day,
        if r.released {
            "released"
        } else {
            "NOT released"
        },
        r.reason
    )
}

/// A run reviewed: the files written, the standards and the picture quality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewSummary {
    pub html: String,
    pub review: String,
    pub charts: Vec<String>,
    pub standards: Vec<StandardResult>,
    pub quality: Vec<QualitySummary>,
    pub timeline: Vec<TimelineEntry>,
}

impl ReviewSummary {
    pub fn new(files: &ReportFiles, record: &RunRecord) -> ReviewSummary {
        let review = crate::aar::review(record);
        ReviewSummary {
            html: files.html.display().to_string(),
            review: files.json.display().to_string(),
            charts: files
                .charts
                .iter()
                .map(|c| c.display().to_string())
                .collect(),
            standards: review.standards,
            quality: review.quality,
            timeline: record.timeline.clone(),
        }
    }
}

impl ToReport for ReviewSummary {
    fn report(&self) -> Report {
        let mut standards = Table::new(["standard", "flight", "elapsed", "limit", "result"]);
        for s in &self.standards {
            standards.add_row([
                s.name.clone(),
                s.flight.clone(),
                s.elapsed
                    .map(format_duration)
                    .unwrap_or_else(|| "not reached".into()),
                format_duration(s.within),
                if s.met { "met" } else { "NOT MET" }.to_owned(),
            ]);
        }
        let mut quality = Table::new([
            "nation",
            "mean GOSPA (m)",
            "missed",
            "false",
            "localisation (m)",
        ]);
        for q in &self.quality {
            quality.add_row([
                q.nation.clone(),
                format!("{:.0}", q.mean_gospa),
                format!("{:.2}", q.mean_missed),
                format!("{:.2}", q.mean_false),
                format!("{:.0}", q.mean_localisation),
            ]);
        }
        let mut report = Report::default();
        report
            .table(standards)
            .table(quality)
            .text(format!("report: {}", self.html));
        for c in &self.charts {
            report.text(format!("chart: {c}"));
        }
        report
    }
}
