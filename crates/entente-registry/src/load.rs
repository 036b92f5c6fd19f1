//! Reading and validating the dataset.
//!
//! The TOML files are read into "raw" twins of the model that keep the byte span of every field,
//! then converted. Conversion never stops at the first problem: it collects every
//! [`Diagnostic`] (file, line, field) and only yields a [`Registry`] when there are none.

use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, ErrorKind};
use crate::model::*;
use crate::Registry;

use check::SourceFile;
use convert::convert;

mod check;
mod convert;
mod invocations;
mod raw;

/// The files of a dataset folder, in a fixed order so that diagnostics are stable.
fn dataset_files(dir: &Path) -> Result<(PathBuf, PathBuf, Vec<PathBuf>, Vec<PathBuf>), Error> {
    let list = |sub: &str| -> Result<Vec<PathBuf>, Error> {
        let path = dir.join(sub);
        let entries = std::fs::read_dir(&path).map_err(|source| {
            Error::new(ErrorKind::Io {
                path: path.clone(),
                source,
            })
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| {
                Error::new(ErrorKind::Io {
                    path: path.clone(),
                    source,
                })
            })?;
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "toml") {
                files.push(p);
            }
        }
        files.sort();
        Ok(files)
    };
    Ok((
        dir.join("sources.toml"),
        dir.join("nations.toml"),
        list("organizations")?,
        list("agreements")?,
    ))
}

/// Reads, converts and validates the dataset in `dir`.
pub(crate) fn load(dir: &Path) -> Result<Registry, Error> {
    let (sources_path, nations_path, org_paths, agreement_paths) = dataset_files(dir)?;
    let sources_file = SourceFile::read(sources_path)?;
    let nations_file = SourceFile::read(nations_path)?;
    let org_files = org_paths
        .into_iter()
        .map(SourceFile::read)
        .collect::<Result<Vec<_>, _>>()?;
    let agreement_files = agreement_paths
        .into_iter()
        .map(SourceFile::read)
        .collect::<Result<Vec<_>, _>>()?;
    let invocations_path = dir.join("invocations.toml");
    // The file is optional: a dataset without invocations records none.
    let invocations_file = match std::fs::read_to_string(&invocations_path) {
        Ok(text) => Some(SourceFile::new(invocations_path, text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(Error::new(ErrorKind::Io {
                path: invocations_path,
                source,
            }))
        }
    };
    // Invocations refer to clauses, nations and days of the rest, so they are checked once the
    // rest is valid.
    let registry = convert(sources_file, nations_file, org_files, agreement_files)?;
    invocations::attach(registry, invocations_file)
}

/// The text of a dataset held in memory (generated data, tests): the same files as on disk.
#[derive(Debug, Clone, Default)]
pub struct DatasetText {
    pub sources: String,
    pub nations: String,
    /// `(file name, text)` of each organisations file.
    pub organizations: Vec<(String, String)>,
    /// `(file name, text)` of each agreements file.
    pub agreements: Vec<(String, String)>,
}

/// Converts and validates a dataset held in memory, exactly as [`load`] does for files.
pub(crate) fn load_text(text: DatasetText, invocations: Option<String>) -> Result<Registry, Error> {
    let named = |dir: &str, files: Vec<(String, String)>| -> Vec<SourceFile> {
        files
            .into_iter()
            .map(|(name, text)| SourceFile::new(Path::new(dir).join(name), text))
            .collect()
    };
    let registry = convert(
        SourceFile::new(PathBuf::from("sources.toml"), text.sources),
        SourceFile::new(PathBuf::from("nations.toml"), text.nations),
        named("organizations", text.organizations),
        named("agreements", text.agreements),
    )?;
    invocations::attach(
        registry,
        invocations.map(|t| SourceFile::new(PathBuf::from("invocations.toml"), t)),
    )
}

/// The source ids that another dataset's `sources.toml` (`other`, e.g. `data/burden/sources.toml`)
/// defines and `registry` defines too: one diagnostic per such id, located in `other`. The two
/// datasets cite sources by id, so an id must name one document across them.
pub(crate) fn shared_source_ids(
    registry: &Registry,
    other: &Path,
) -> Result<Vec<Diagnostic>, Error> {
    #[derive(serde::Deserialize)]
    struct OtherFile {
        #[serde(default)]
        source: Vec<OtherSource>,
    }
    #[derive(serde::Deserialize)]
    struct OtherSource {
        id: toml::Spanned<String>,
    }
    let file = SourceFile::read(other.to_path_buf())?;
    let mut ck = check::Checker {
        diagnostics: Vec::new(),
        file: None,
    };
    // Any other field is the other dataset's business: only the ids are read.
    if let Some(parsed) = ck.parse::<OtherFile>(&file) {
        for (i, s) in parsed.source.iter().enumerate() {
            let id = SourceId(s.id.get_ref().trim().to_owned());
            if registry.source(&id).is_some() {
                ck.report(
                    s.id.span().start,
                    format!("source[{i}].id"),
                    format!(
                        "source id {:?} is also defined in the registry's sources.toml: an id must name one document across the datasets",
                        id.0
                    ),
                );
            }
        }
    }
    Ok(ck.diagnostics)
}
