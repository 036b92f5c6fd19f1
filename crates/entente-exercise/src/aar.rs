//! After-action review: the timeline against the standards, picture quality over time, what each
//! nation saw and when, charts (SVG, plotters) and an HTML report, all from a [`RunRecord`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::FontStyle;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::record::{QualitySample, RunRecord};
// The standards are part of the record; re-exported where reviewers have always found them.
pub use crate::record::StandardSpec;
use crate::scenario::{format_duration, Milestone};

const FONT: &str = "sans-serif";
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Registers the TrueType font of chart text (plotters keeps it for the process).
pub fn register_font(ttf: &'static [u8]) -> Result<(), Error> {
    plotters::style::register_font(FONT, FontStyle::Normal, ttf).map_err(|_| Error::Chart {
        path: PathBuf::from("(font)"),
        message: "the font data is not a usable TrueType font".into(),
    })
}

/// A standard checked for one flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardResult {
    /// Standard name.
    pub name: String,
    /// Flight.
    pub flight: String,
    /// Its target.
    pub target: Option<String>,
    /// Start time, seconds (absent if the starting milestone never happened).
    pub from_t: Option<f64>,
    /// End time, seconds (absent if never reached).
    pub to_t: Option<f64>,
    /// Elapsed, seconds.
    pub elapsed: Option<f64>,
    /// Limit, seconds.
    pub within: f64,
    /// Whether the flight met it.
    pub met: bool,
    /// Source.
    pub source: String,
}

/// Picture quality of one nation over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualitySummary {
    /// Nation.
    pub nation: String,
    /// Mean GOSPA, metres.
    pub mean_gospa: f64,
    /// Mean number of aircraft in the area the picture missed.
    pub mean_missed: f64,
    /// Mean number of false tracks.
    pub mean_false: f64,
    /// Mean localisation error per held aircraft, metres (`(Σdᵖ / n)^(1/p)`, p as configured).
    pub mean_localisation: f64,
    /// Samples.
    pub samples: usize,
}

/// The review of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// Scenario name.
    pub scenario: String,
    /// Title.
    pub title: String,
    /// Every standard for every scrambled flight.
    pub standards: Vec<StandardResult>,
    /// Quality per nation.
    pub quality: Vec<QualitySummary>,
}

/// Checks every standard of the record for every scrambled flight.
pub fn check_standards(record: &RunRecord) -> Vec<StandardResult> {
    let mut out = Vec::new();
    let scrambles: Vec<(&str, Option<&str>)> = record
        .timeline
        .iter()
        .filter(|e| e.milestone == Milestone::Scramble)
        .map(|e| (e.subject.as_str(), e.target.as_deref()))
        .collect();
    for std in &record.standards {
        for &(flight, target) in &scrambles {
            // Milestones of the target (it stopped responding, it was detected) are the target's.
            let from_t = match std.from {
                Milestone::NonResponsive | Milestone::Detection => {
                    target.and_then(|tg| record.time_of(std.from, tg, None))
                }
                m => record.time_of(m, flight, target),
            };
            let to_t = record.time_of(std.to, flight, target);
            let elapsed = from_t.zip(to_t).map(|(a, b)| b - a);
            out.push(StandardResult {
                name: std.name.clone(),
                flight: flight.to_owned(),
                target: target.map(str::to_owned),
                from_t,
                to_t,
                elapsed,
                within: std.within,
                met: elapsed.is_some_and(|e| (0.0..=std.within).contains(&e)),
                source: std.source.clone(),
            });
        }
    }
    out
}

/// Quality per nation, averaged over the samples.
pub fn quality_summary(record: &RunRecord, c: f64, p: f64) -> Vec<QualitySummary> {
    let half = c.powf(p) / 2.0;
    let mut by: BTreeMap<&str, Vec<&QualitySample>> = BTreeMap::new();
    for q in &record.quality {
        by.entry(q.nation.as_str()).or_default().push(q);
    }
    by.into_iter()
        .map(|(nation, qs)| {
            let n = qs.len().max(1) as f64;
            let missed: f64 = qs.iter().map(|q| q.missed / half).sum::<f64>() / n;
            let false_: f64 = qs.iter().map(|q| q.false_tracks / half).sum::<f64>() / n;
            let assigned: f64 = qs.iter().map(|q| q.truths as f64 - q.missed / half).sum();
            let loc_sum: f64 = qs.iter().map(|q| q.localisation).sum();
            QualitySummary {
                nation: nation.to_owned(),
                mean_gospa: qs.iter().map(|q| q.gospa).sum::<f64>() / n,
                mean_missed: missed,
                mean_false: false_,
                mean_localisation: if assigned > 0.0 {
                    (loc_sum / assigned).powf(1.0 / p)
                } else {
                    0.0
                },
                samples: qs.len(),
            }
        })
        .collect()
}

/// The review of a record.
pub fn review(record: &RunRecord) -> Review {
    Review {
        scenario: record.scenario.clone(),
        title: record.title.clone(),
        standards: check_standards(record),
        quality: quality_summary(record, record.gospa_c, record.gospa_p),
    }
}

/// Files of a written report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFiles {
    /// The HTML report.
    pub html: PathBuf,
    /// The review as JSON.
    pub json: PathBuf,
    /// Charts.
    pub charts: Vec<PathBuf>,
}

/// Writes the review, the charts and the HTML report into `dir`. Needs a registered font.
pub fn write_report(record: &RunRecord, dir: &Path) -> Result<ReportFiles, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let review = review(record);
    let json = dir.join("review.json");
    let text = serde_json::to_string_pretty(&review).map_err(|e| Error::Record {
        path: json.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&json, text).map_err(|e| Error::io(&json, e))?;
    let gospa = dir.join("gospa.svg");
    let map = dir.join("map.svg");
    let timeline = dir.join("timeline.svg");
    write_svg(&gospa, |root| draw_gospa(root, record))?;
    write_svg(&map, |root| draw_map(root, record))?;
    write_svg(&timeline, |root| draw_timeline(root, record))?;
    let html = dir.join("report.html");
    std::fs::write(&html, render_html(record, &review)).map_err(|e| Error::io(&html, e))?;
    Ok(ReportFiles {
        html,
        json,
        charts: vec![gospa, map, timeline],
    })
}

type Root<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// Why a chart could not be drawn (the SVG backend writes to a string, so its errors are IO).
type DrawError = DrawingAreaErrorKind<std::io::Error>;

fn write_svg(
    path: &Path,
    draw: impl FnOnce(Root<'_>) -> Result<(), DrawError>,
) -> Result<(), Error> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1100, 600)).into_drawing_area();
        draw(root).map_err(|e| Error::Chart {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    std::fs::write(path, out).map_err(|e| Error::io(path, e))
}

fn draw_gospa(root: Root<'_>, record: &RunRecord) -> Result<(), DrawError> {
    root.fill(&WHITE)?;
    let t_max = (record.duration / 60.0).max(1.0);
    let y_max = record
        .quality
        .iter()
        .map(|q| q.gospa / 1000.0)
        .fold(1.0_f64, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Picture quality: GOSPA against truth, per nation",
            (FONT, 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..t_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("exercise time (min)")
        .y_desc("GOSPA (km)")
        .label_style((FONT, 14))
        .draw()?;
    for (i, nation) in record.nations.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> = record
            .quality
            .iter()
            .filter(|q| &q.nation == nation)
            .map(|q| (q.t / 60.0, q.gospa / 1000.0))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(nation.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    // Milestones of flights as vertical lines.
    for e in record.timeline.iter().filter(|e| {
        matches!(
            e.milestone,
            Milestone::Scramble | Milestone::Airborne | Milestone::Intercept
        )
    }) {
        let x = e.t / 60.0;
        chart.draw_series(LineSeries::new(vec![(x, 0.0), (x, y_max)], BLACK.mix(0.25)))?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .label_font((FONT, 14))
        .draw()?;
    root.present()
}

fn draw_map(root: Root<'_>, record: &RunRecord) -> Result<(), DrawError> {
    root.fill(&WHITE)?;
    let (mut lo_lat, mut hi_lat, mut lo_lon, mut hi_lon) = (90.0f64, -90.0f64, 180.0f64, -180.0f64);
    for p in &record.truth {
        lo_lat = lo_lat.min(p.lat);
        hi_lat = hi_lat.max(p.lat);
        lo_lon = lo_lon.min(p.lon);
        hi_lon = hi_lon.max(p.lon);
    }
    if lo_lat > hi_lat {
        (lo_lat, hi_lat, lo_lon, hi_lon) = (0.0, 1.0, 0.0, 1.0);
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Truth (lines) and the first nation's fused picture (dots)",
            (FONT, 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (lo_lon - 0.3)..(hi_lon + 0.3),
            (lo_lat - 0.2)..(hi_lat + 0.2),
        )?;
    chart
        .configure_mesh()
        .x_desc("longitude (°E)")
        .y_desc("latitude (°N)")
        .label_style((FONT, 14))
        .draw()?;
    if let Some(nation) = record.nations.first() {
        let dots: Vec<(f64, f64)> = record
            .pictures
            .iter()
            .filter(|p| &p.nation == nation)
            .map(|p| (p.lon, p.lat))
            .collect();
        chart.draw_series(
            dots.into_iter()
                .map(|p| Circle::new(p, 2, RGBColor(120, 120, 120).filled())),
        )?;
    }
    for (i, info) in record.entities.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let path: Vec<(f64, f64)> = record
            .truth
            .iter()
            .filter(|p| p.entity == info.entity)
            .map(|p| (p.lon, p.lat))
            .collect();
        if path.is_empty() {
            continue;
        }
        let label_at = path[0];
        chart.draw_series(LineSeries::new(path, color.stroke_width(2)))?;
        chart.draw_series(std::iter::once(Text::new(
            info.callsign.clone(),
            label_at,
            (FONT, 13).into_font().color(&color),
        )))?;
    }
    root.present()
}

fn draw_timeline(root: Root<'_>, record: &RunRecord) -> Result<(), DrawError> {
    root.fill(&WHITE)?;
    let mut subjects: Vec<&str> = Vec::new();
    for e in &record.timeline {
        if !subjects.contains(&e.subject.as_str()) {
            subjects.push(&e.subject);
        }
    }
    let rows = subjects.len().max(1) as f64;
    let t_max = (record.duration / 60.0).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption("Timeline", (FONT, 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(120)
        .build_cartesian_2d(0.0..t_max, -0.5..(rows - 0.5))?;
    let names: Vec<String> = subjects.iter().map(|s| s.to_string()).collect();
    chart
        .configure_mesh()
        .x_desc("exercise time (min)")
        .y_labels(subjects.len().max(1))
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 0.01 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .label_style((FONT, 13))
        .draw()?;
    // Labels of milestones close in time on one row are stacked so that they stay readable.
    let mut recent: Vec<(usize, f64)> = Vec::new();
    for e in &record.timeline {
        let row_index = subjects.iter().position(|s| *s == e.subject).unwrap_or(0);
        let row = row_index as f64;
        let color = PALETTE[(e.milestone as usize) % PALETTE.len()];
        let p = (e.t / 60.0, row);
        chart.draw_series(std::iter::once(Circle::new(p, 5, color.filled())))?;
        recent.retain(|&(r, t)| r != row_index || e.t - t < 240.0);
        let stack = recent.iter().filter(|&&(r, _)| r == row_index).count();
        recent.push((row_index, e.t));
        let dy = 0.12 + 0.1 * stack as f64;
        chart.draw_series(std::iter::once(Text::new(
            format!("{} {}", e.milestone.as_str(), format_duration(e.t)),
            (p.0, p.1 + dy),
            (FONT, 11).into_font(),
        )))?;
    }
    root.present()
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn opt_time(t: Option<f64>) -> String {
    t.map(format_duration).unwrap_or_else(|| "—".into())
}

/// The HTML report (charts referenced as files beside it).
pub fn render_html(record: &RunRecord, review: &Review) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>After-action review: {}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em;max-width:1150px}}table{{border-collapse:collapse;margin:1em 0}}\
         td,th{{border:1px solid #bbb;padding:3px 8px;text-align:left}}.met{{color:#1a7f37}}.missed{{color:#c62828;font-weight:bold}}</style>\n\
         </head><body>\n<h1>After-action review: {}</h1>\n<p>Scenario <code>{}</code>, seed {}, step {} s, {} simulated, {} ({} steps, {} Entity State PDUs).</p>\n",
        esc(&record.title),
        esc(&record.title),
        esc(&record.scenario),
        record.seed,
        record.step,
        format_duration(record.duration),
        if record.realtime { "live (paced to the wall clock)" } else { "batch" },
        record.steps,
        record.pdus
    );
    h.push_str("<h2>Standards</h2>\n<table><tr><th>standard</th><th>flight</th><th>target</th><th>from</th><th>to</th><th>elapsed</th><th>limit</th><th>result</th><th>source</th></tr>\n");
    for s in &review.standards {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(&s.name),
            esc(&s.flight),
            esc(s.target.as_deref().unwrap_or("")),
            opt_time(s.from_t),
            opt_time(s.to_t),
            opt_time(s.elapsed),
            format_duration(s.within),
            if s.met { "met" } else { "missed" },
            if s.met { "met" } else { "NOT MET" },
            esc(&s.source)
        );
    }
    h.push_str("</table>\n<h2>Timeline</h2>\n<img src=\"timeline.svg\" alt=\"timeline chart\" width=\"1100\">\n<table><tr><th>time</th><th>milestone</th><th>subject</th><th>target</th><th>nation</th></tr>\n");
    for e in &record.timeline {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            format_duration(e.t),
            e.milestone.as_str(),
            esc(&e.subject),
            esc(e.target.as_deref().unwrap_or("")),
            esc(e.nation.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table>\n<h2>Picture quality</h2>\n<img src=\"gospa.svg\" alt=\"GOSPA over time\" width=\"1100\">\n<table><tr><th>nation</th><th>mean GOSPA (m)</th><th>mean missed aircraft</th><th>mean false tracks</th><th>mean localisation error (m)</th><th>samples</th></tr>\n");
    for q in &review.quality {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{:.0}</td><td>{:.2}</td><td>{:.2}</td><td>{:.0}</td><td>{}</td></tr>",
            esc(&q.nation),
            q.mean_gospa,
            q.mean_missed,
            q.mean_false,
            q.mean_localisation,
            q.samples
        );
    }
    h.push_str("</table>\n<h2>What each nation saw and when</h2>\n<table><tr><th>nation</th><th>aircraft</th><th>entered the area</th><th>first held by its own sensors</th><th>first in its fused picture</th></tr>\n");
    for f in &record.first_seen {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.nation),
            esc(&f.callsign),
            opt_time(f.entered),
            opt_time(f.own_sensors),
            opt_time(f.picture)
        );
    }
    h.push_str("</table>\n");
    if !record.releases.is_empty() {
        h.push_str("<h2>What each nation was released</h2>\n<table><tr><th>day</th><th>sensor</th><th>its nation</th><th>label</th><th>recipient</th><th>released</th><th>reason</th></tr>\n");
        for r in &record.releases {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
                esc(&r.day),
                esc(&r.sensor),
                esc(&r.nation),
                esc(&r.label),
                esc(&r.recipient),
                if r.released { "met" } else { "missed" },
                if r.released { "yes" } else { "no" },
                esc(&r.reason)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Map</h2>\n<img src=\"map.svg\" alt=\"map of truth and picture\" width=\"1100\">\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests;
