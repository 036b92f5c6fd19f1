//! The file contract of the command line, and the only IO of the crate.
//!
//! A scenario directory holds `scans.csv` (`scan,t`: every scan, also those without plots),
//! `detections.csv` (`scan,t,x,y`) and `meta.json` (`{"model": {"dt", "q", "R": [rx, ry], "pd",
//! "clutter_rate", "clutter_region"}}`, optionally `"tracker": {...}` overrides). Track files are
//! `track_id,t,x,vx,y,vy`, optionally followed by the ten upper-triangle covariance columns
//! [`COVARIANCE_COLUMNS`]; truth files use `target_id` for the first column. Columns are found by
//! name, extra columns are ignored, and every malformed value is reported with its file, line and
//! column.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use entente_types::NationCode;

use crate::kalman::{Measurement, StateCovariance, StateVector};
use crate::metrics::Sample;
use crate::tracker::TrackerConfig;
use crate::Error;

/// Names of the covariance columns, upper triangle of the `[x, vx, y, vy]` covariance, row by row.
pub const COVARIANCE_COLUMNS: [&str; 10] = [
    "p_x_x", "p_x_vx", "p_x_y", "p_x_vy", "p_vx_vx", "p_vx_y", "p_vx_vy", "p_y_y", "p_y_vy",
    "p_vy_vy",
];
/// The `(row, column)` of each of [`COVARIANCE_COLUMNS`] in the covariance matrix.
pub const UPPER: [(usize, usize); 10] = [
    (0, 0),
    (0, 1),
    (0, 2),
    (0, 3),
    (1, 1),
    (1, 2),
    (1, 3),
    (2, 2),
    (2, 3),
    (3, 3),
];

/// A CSV file read into memory: header names and data rows with their line numbers.
struct Csv {
    file: PathBuf,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Csv {
    fn read(file: &Path) -> Result<Csv, Error> {
        let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
            file: file.to_owned(),
            source,
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut records = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| Error::Csv {
                file: file.to_owned(),
                line: e.position().map_or(0, |p| p.line() as usize),
                column: 1,
                message: e.to_string(),
            })?;
            // Lines of blanks only are not records.
            if record.iter().all(str::is_empty) {
                continue;
            }
            let line = record.position().map_or(0, |p| p.line() as usize);
            records.push((line, record.iter().map(str::to_owned).collect::<Vec<_>>()));
        }
        let mut records = records.into_iter();
        let Some((_, header)) = records.next() else {
            return Err(Error::Csv {
                file: file.to_owned(),
                line: 1,
                column: 1,
                message: "empty file: expected a header line".into(),
            });
        };
        Ok(Csv {
            file: file.to_owned(),
            header,
            rows: records.collect(),
        })
    }

    fn column(&self, name: &str) -> Result<usize, Error> {
        self.find(name).ok_or_else(|| Error::Csv {
            file: self.file.clone(),
            line: 1,
            column: self.header.len() + 1,
            message: format!("missing column {name:?}"),
        })
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn text<'a>(&self, line: usize, row: &'a [String], col: usize) -> Result<&'a str, Error> {
        row.get(col).map(String::as_str).ok_or_else(|| Error::Csv {
            file: self.file.clone(),
            line,
            column: row.len() + 1,
            message: format!("expected {} fields, found {}", self.header.len(), row.len()),
        })
    }

    fn number(&self, line: usize, row: &[String], col: usize) -> Result<f64, Error> {
        let text = self.text(line, row, col)?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(Error::Csv {
                file: self.file.clone(),
                line,
                column: col + 1,
                message: format!(
                    "{}: expected a finite number, found {text:?}",
                    self.header[col]
                ),
            }),
        }
    }

    fn integer(&self, line: usize, row: &[String], col: usize) -> Result<u64, Error> {
        let text = self.text(line, row, col)?;
        text.parse::<u64>().map_err(|_| Error::Csv {
            file: self.file.clone(),
            line,
            column: col + 1,
            message: format!(
                "{}: expected a non-negative integer, found {text:?}",
                self.header[col]
            ),
        })
    }
}

/// The sensor and motion model of a scenario (`meta.json`'s `model`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioModel {
    /// Nominal scan interval, seconds.
    pub dt: f64,
    /// Process noise spectral density.
    pub q: f64,
    /// Plot noise variances `[rx, ry]`.
    #[serde(rename = "R")]
    pub r: [f64; 2],
    /// Detection probability.
    pub pd: f64,
    /// Mean clutter plots per scan.
    pub clutter_rate: f64,
    /// Clutter region `[[xmin, xmax], [ymin, ymax]]`.
    pub clutter_region: [[f64; 2]; 2],
}

/// Optional tracker overrides (`meta.json`'s `tracker`).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackerOverrides {
    /// Mahalanobis missed distance.
    pub missed_distance: Option<f64>,
    /// Deletion threshold on the covariance trace.
    pub delete_covariance_trace: Option<f64>,
    /// Plots needed to confirm.
    pub min_points: Option<u32>,
    /// Prior velocity variance.
    pub prior_velocity_variance: Option<f64>,
}

#[derive(Debug, serde::Deserialize)]
struct Meta {
    model: ScenarioModel,
    #[serde(default)]
    tracker: TrackerOverrides,
}

/// One scan: its time and plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// Scan number.
    pub index: u64,
    /// Time, seconds.
    pub t: f64,
    /// Plots.
    pub plots: Vec<Measurement>,
}

/// A scenario directory in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Model parameters.
    pub model: ScenarioModel,
    /// Tracker overrides.
    pub tracker: TrackerOverrides,
    /// Scans in time order.
    pub scans: Vec<Scan>,
}

impl Scenario {
    /// The tracker for this scenario: tutorial components with the scenario's noise, then the
    /// overrides.
    pub fn tracker_config(&self) -> TrackerConfig {
        let m = &self.model;
        let mut c = TrackerConfig::tutorial(m.q, m.r[0], m.r[1]);
        let o = &self.tracker;
        c.missed_distance = o.missed_distance.unwrap_or(c.missed_distance);
        c.delete_covariance_trace = o
            .delete_covariance_trace
            .unwrap_or(c.delete_covariance_trace);
        c.min_points = o.min_points.unwrap_or(c.min_points);
        c.prior_velocity_variance = o
            .prior_velocity_variance
            .unwrap_or(c.prior_velocity_variance);
        c
    }
}

/// Reads a scenario directory.
pub fn read_scenario(dir: &Path) -> Result<Scenario, Error> {
    let meta_file = dir.join("meta.json");
    let text = std::fs::read_to_string(&meta_file).map_err(|source| Error::Io {
        file: meta_file.clone(),
        source,
    })?;
    let meta: Meta = serde_json::from_str(&text).map_err(|e| Error::Json {
        file: meta_file.clone(),
        message: e.to_string(),
    })?;
    let m = &meta.model;
    let valid =
        m.dt > 0.0 && m.q >= 0.0 && m.r.iter().all(|r| *r > 0.0) && (0.0..=1.0).contains(&m.pd);
    if !valid {
        return Err(Error::Json {
            file: meta_file,
            message: "model: need dt > 0, q ≥ 0, R > 0 and 0 ≤ pd ≤ 1".into(),
        });
    }

    let scans_csv = Csv::read(&dir.join("scans.csv"))?;
    let (cs, ct) = (scans_csv.column("scan")?, scans_csv.column("t")?);
    let mut scans = Vec::with_capacity(scans_csv.rows.len());
    let mut index_of = HashMap::new();
    for (line, row) in &scans_csv.rows {
        let index = scans_csv.integer(*line, row, cs)?;
        let t = scans_csv.number(*line, row, ct)?;
        if scans.last().is_some_and(|s: &Scan| t < s.t) {
            return Err(Error::Csv {
                file: scans_csv.file.clone(),
                line: *line,
                column: ct + 1,
                message: "scans must be in time order".into(),
            });
        }
        if index_of.insert(index, scans.len()).is_some() {
            return Err(Error::Csv {
                file: scans_csv.file.clone(),
                line: *line,
                column: cs + 1,
                message: format!("scan {index} listed twice"),
            });
        }
        scans.push(Scan {
            index,
            t,
            plots: Vec::new(),
        });
    }

    let det = Csv::read(&dir.join("detections.csv"))?;
    let (ds, dx, dy) = (det.column("scan")?, det.column("x")?, det.column("y")?);
    for (line, row) in &det.rows {
        let index = det.integer(*line, row, ds)?;
        let (x, y) = (det.number(*line, row, dx)?, det.number(*line, row, dy)?);
        let k = *index_of.get(&index).ok_or_else(|| Error::Csv {
            file: det.file.clone(),
            line: *line,
            column: ds + 1,
            message: format!("scan {index} is not in scans.csv"),
        })?;
        scans[k].plots.push(Measurement::new(x, y));
    }
    Ok(Scenario {
        model: meta.model,
        tracker: meta.tracker,
        scans,
    })
}

/// One row of a track (or truth) file.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackRow {
    /// Track or target identifier.
    pub id: String,
    /// Time, seconds.
    pub t: f64,
    /// State `[x, vx, y, vy]`.
    pub x: StateVector,
    /// Covariance, when the file has the covariance columns.
    pub p: Option<StateCovariance>,
}

/// Reads a track file (`id_column` = `track_id`) or truth file (`target_id`).
pub fn read_tracks(file: &Path, id_column: &str) -> Result<Vec<TrackRow>, Error> {
    let csv = Csv::read(file)?;
    let id = csv.column(id_column)?;
    let cols = ["t", "x", "vx", "y", "vy"]
        .map(|n| csv.column(n))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let cov: Option<Vec<usize>> = COVARIANCE_COLUMNS.iter().map(|n| csv.find(n)).collect();
    let mut out = Vec::with_capacity(csv.rows.len());
    for (line, row) in &csv.rows {
        let v = cols
            .iter()
            .map(|&c| csv.number(*line, row, c))
            .collect::<Result<Vec<_>, _>>()?;
        let p = match &cov {
            None => None,
            Some(cc) => {
                let mut p = StateCovariance::zeros();
                for (&c, &(i, j)) in cc.iter().zip(UPPER.iter()) {
                    let value = csv.number(*line, row, c)?;
                    p[(i, j)] = value;
                    p[(j, i)] = value;
                }
                Some(p)
            }
        };
        out.push(TrackRow {
            id: csv.text(*line, row, id)?.to_owned(),
            t: v[0],
            x: StateVector::new(v[1], v[2], v[3], v[4]),
            p,
        });
    }
    Ok(out)
}

/// Writes a track file; covariance columns are written when `with_covariance` (rows without a
/// covariance then get zeros).
pub fn write_tracks(file: &Path, rows: &[TrackRow], with_covariance: bool) -> Result<(), Error> {
    let csv_error = |e: csv::Error| Error::Io {
        file: file.to_owned(),
        source: e.into(),
    };
    let mut out = csv::Writer::from_path(file).map_err(csv_error)?;
    let mut header = vec!["track_id", "t", "x", "vx", "y", "vy"];
    if with_covariance {
        header.extend(COVARIANCE_COLUMNS);
    }
    out.write_record(&header).map_err(csv_error)?;
    for r in rows {
        let mut record = vec![
            r.id.clone(),
            r.t.to_string(),
            r.x[0].to_string(),
            r.x[1].to_string(),
            r.x[2].to_string(),
            r.x[3].to_string(),
        ];
        if with_covariance {
            let p = r.p.unwrap_or_else(StateCovariance::zeros);
            record.extend(UPPER.iter().map(|&(i, j)| p[(i, j)].to_string()));
        }
        out.write_record(&record).map_err(csv_error)?;
    }
    out.flush().map_err(|source| Error::Io {
        file: file.to_owned(),
        source,
    })
}

/// Reads the national track files of a directory: one `<NATION>.csv` per nation (e.g.
/// `LTU.csv`), with covariance columns. Other files are ignored. Sorted by nation.
pub fn read_national_dir(dir: &Path) -> Result<Vec<(NationCode, Vec<TrackRow>)>, Error> {
    let io = |source| Error::Io {
        file: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("csv") {
            continue;
        }
        let Some(nation) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<NationCode>().ok())
        else {
            continue;
        };
        let rows = read_tracks(&path, "track_id")?;
        if let Some(bad) = rows.iter().position(|r| r.p.is_none()) {
            return Err(Error::Csv {
                file: path,
                line: bad + 2,
                column: 7,
                message: "national tracks need the covariance columns".into(),
            });
        }
        out.push((nation, rows));
    }
    if out.is_empty() {
        return Err(Error::InvalidInput {
            what: format!("directory {}", dir.display()),
            message: "no <NATION>.csv track file found".into(),
        });
    }
    out.sort_by_key(|(n, _)| *n);
    Ok(out)
}

/// Turns rows into metric samples, numbering identifiers in order of appearance.
pub fn samples(rows: &[TrackRow]) -> Vec<Sample> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    rows.iter()
        .map(|r| {
            let n = ids.len();
            let id = *ids.entry(r.id.as_str()).or_insert(n);
            Sample {
                id,
                t: r.t,
                x: r.x[0],
                y: r.x[2],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
