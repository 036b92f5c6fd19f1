//! Checks shared by every section of a scenario: numbers in range, nation codes, durations,
//! positions, references to other sections (with the closest name suggested) and unique ids,
//! each failure recorded as a [`Diagnostic`] against the file and line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use entente_fusion::geodesy::Geodetic;
use entente_types::NationCode;
use toml::Spanned;

use entente_types::diagnostic::LineIndex;
use entente_types::suggest::{closest, Nearness};

use crate::error::Diagnostic;

use super::raw::RawPoint;
use super::*;

/// Collects diagnostics against one file.
pub(super) struct Ctx {
    pub(super) file: PathBuf,
    pub(super) lines: LineIndex,
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Ctx {
    pub(super) fn new(file: &Path, text: &str) -> Ctx {
        let lines = LineIndex::new(text);
        Ctx {
            file: file.to_path_buf(),
            lines,
            diagnostics: Vec::new(),
        }
    }

    pub(super) fn report(
        &mut self,
        offset: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let line = self.lines.line_of(offset);
        self.diagnostics.push(Diagnostic {
            file: self.file.clone(),
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    /// A number within `[lo, hi]`, or a diagnostic.
    pub(super) fn range(&mut self, v: &Spanned<f64>, field: &str, lo: f64, hi: f64) -> f64 {
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
    pub(super) fn positive(&mut self, v: &Spanned<f64>, field: &str, hi: f64) -> f64 {
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

    pub(super) fn int(&mut self, v: &Spanned<i64>, field: &str, lo: i64, hi: i64) -> i64 {
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

    pub(super) fn nation(&mut self, v: &Spanned<String>, field: &str) -> Option<NationCode> {
        match v.get_ref().parse::<NationCode>() {
            Ok(code) => Some(code),
            Err(e) => {
                self.report(v.span().start, field, e.to_string());
                None
            }
        }
    }

    /// A label's text and line; whether the policies accept it is checked with them
    /// ([`crate::release::sensors`]).
    pub(super) fn label(&mut self, v: &Spanned<String>, field: &str) -> LabelText {
        if v.get_ref().trim().is_empty() {
            self.report(v.span().start, field, "must not be empty");
        }
        LabelText {
            text: v.get_ref().clone(),
            line: self.lines.line_of(v.span().start),
        }
    }

    pub(super) fn duration(&mut self, v: &Spanned<String>, field: &str) -> f64 {
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

    pub(super) fn point(&mut self, p: &Spanned<RawPoint>, field: &str) -> Geodetic {
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
    pub(super) fn lookup(
        &mut self,
        v: &Spanned<String>,
        field: &str,
        what: &str,
        names: &[&str],
    ) -> usize {
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

    pub(super) fn unique(
        &mut self,
        seen: &mut HashMap<String, ()>,
        v: &Spanned<String>,
        field: &str,
    ) {
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

pub(super) fn check_callsign(cx: &mut Ctx, v: &Spanned<String>, field: &str, max: usize) {
    let text = v.get_ref();
    if text.is_empty() || text.len() > max || !text.bytes().all(|b| b.is_ascii_graphic()) {
        cx.report(
            v.span().start,
            field,
            format!("`{text}` must be 1 to {max} printable ASCII characters (the DIS marking)"),
        );
    }
}
