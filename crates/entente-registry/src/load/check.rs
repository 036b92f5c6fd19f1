//! The dataset files as read, and the checks every section shares (sources, dates, nation codes,
//! keywords), each failure collected as a [`Diagnostic`] located to file, line and field.

use std::collections::BTreeMap;
use std::path::PathBuf;

use entente_types::NationCode;
use toml::Spanned;

use entente_types::diagnostic::LineIndex;

use crate::error::{Diagnostic, Error, ErrorKind};
use crate::interval::StatedDate;

use super::*;

/// One dataset file: its path, text and where its lines start.
pub(super) struct SourceFile {
    pub(super) path: PathBuf,
    pub(super) text: String,
    pub(super) lines: LineIndex,
}

impl SourceFile {
    pub(super) fn read(path: PathBuf) -> Result<SourceFile, Error> {
        let text = std::fs::read_to_string(&path).map_err(|source| {
            Error::new(ErrorKind::Io {
                path: path.clone(),
                source,
            })
        })?;
        Ok(SourceFile::new(path, text))
    }

    pub(super) fn new(path: PathBuf, text: String) -> SourceFile {
        let lines = LineIndex::new(&text);
        SourceFile { path, text, lines }
    }
}

/// Collects diagnostics while a file is converted.
pub(super) struct Checker<'a> {
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) file: Option<&'a SourceFile>,
}

impl<'a> Checker<'a> {
    pub(super) fn report(
        &mut self,
        offset: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let (file, line) = match self.file {
            Some(f) => (f.path.clone(), f.lines.line_of(offset)),
            None => (PathBuf::new(), 0),
        };
        self.diagnostics.push(Diagnostic {
            file,
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    pub(super) fn parse<T: serde::de::DeserializeOwned>(
        &mut self,
        file: &'a SourceFile,
    ) -> Option<T> {
        self.file = Some(file);
        match toml::from_str::<T>(&file.text) {
            Ok(value) => Some(value),
            Err(err) => {
                let offset = err.span().map_or(0, |s| s.start);
                let message = err.message().to_owned();
                self.report(offset, "(syntax)", message);
                None
            }
        }
    }

    /// Source ids of a fact; reports a missing or empty `source` and ids not in `sources.toml`.
    pub(super) fn sources(
        &mut self,
        raw: &Option<Spanned<String>>,
        owner_offset: usize,
        field: &str,
        known: &BTreeMap<SourceId, Source>,
    ) -> Vec<SourceId> {
        let Some(raw) = raw else {
            self.report(
                owner_offset,
                field,
                "missing source: every fact must name one",
            );
            return Vec::new();
        };
        let ids: Vec<SourceId> = raw
            .get_ref()
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| SourceId(s.to_owned()))
            .collect();
        if ids.is_empty() {
            self.report(
                raw.span().start,
                field,
                "empty source: every fact must name one",
            );
        }
        for id in &ids {
            if !known.contains_key(id) {
                self.report(
                    raw.span().start,
                    field,
                    format!("unknown source {:?}: not defined in sources.toml", id.0),
                );
            }
        }
        let cited: Vec<&Source> = ids.iter().filter_map(|id| known.get(id)).collect();
        if cited.len() == ids.len()
            && !cited.is_empty()
            && cited.iter().all(|s| s.tier == Tier::Weak)
        {
            let names: Vec<&str> = cited.iter().map(|s| s.id.0.as_str()).collect();
            self.report(
                raw.span().start,
                field,
                format!(
                    "only weak sources ({}, tier 3): a fact needs at least one primary or secondary source",
                    names.join(", ")
                ),
            );
        }
        ids
    }

    pub(super) fn stated_date(&mut self, raw: &Spanned<String>, field: &str) -> Option<StatedDate> {
        let parsed = StatedDate::parse(raw.get_ref());
        if parsed.is_none() {
            self.report(
                raw.span().start,
                field,
                format!(
                    "malformed date {:?}: expected YYYY-MM-DD, YYYY-MM or YYYY",
                    raw.get_ref()
                ),
            );
        }
        parsed
    }

    pub(super) fn optional_date(
        &mut self,
        raw: &Option<Spanned<String>>,
        field: &str,
    ) -> Option<StatedDate> {
        raw.as_ref().and_then(|r| self.stated_date(r, field))
    }

    pub(super) fn nation(
        &mut self,
        raw: &Spanned<String>,
        field: &str,
        known: &BTreeMap<NationCode, Nation>,
    ) -> Option<NationCode> {
        match raw.get_ref().parse::<NationCode>() {
            Ok(code) if known.contains_key(&code) => Some(code),
            Ok(code) => {
                self.report(
                    raw.span().start,
                    field,
                    format!("unknown nation code {code}: not in nations.toml"),
                );
                None
            }
            Err(err) => {
                self.report(raw.span().start, field, err.to_string());
                None
            }
        }
    }

    pub(super) fn keyword<T: Copy>(
        &mut self,
        raw: &Spanned<String>,
        field: &str,
        table: &[(&'static str, T)],
    ) -> Option<T> {
        let found = table
            .iter()
            .find(|(k, _)| *k == raw.get_ref())
            .map(|(_, v)| *v);
        if found.is_none() {
            let valid: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
            self.report(
                raw.span().start,
                field,
                format!(
                    "unknown value {:?}: expected one of {}",
                    raw.get_ref(),
                    valid.join(", ")
                ),
            );
        }
        found
    }

    pub(super) fn non_empty(&mut self, raw: &Spanned<String>, field: &str) {
        if raw.get_ref().trim().is_empty() {
            self.report(raw.span().start, field, "must not be empty");
        }
    }
}
