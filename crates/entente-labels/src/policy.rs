//! Classification policies as data: ordered levels, markings, caveats, contexts, default release.

use std::collections::BTreeMap;
use std::path::Path;

use entente_types::suggest::{closest, Nearness};
use serde::Deserialize;

use crate::error::{LabelError, LabelErrorKind};

/// How close an unknown policy, classification or marking must be to a known one to be suggested.
pub(crate) const NAME_NEARNESS: Nearness = Nearness::JaroWinkler(0.8);

/// What a label without a "Releasable To" category means under its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultRelease {
    /// Releasable to the members of this organisation on the day of the decision (NATO, EU).
    MembersOf(String),
    /// Not releasable beyond the originating nation (national policies).
    OriginatorOnly,
}

/// One classification level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// The canonical name, e.g. `SECRET`.
    pub name: String,
    /// How it renders in a marking, e.g. `NATO SECRET`.
    pub marking: String,
    /// Other spellings accepted on input.
    pub aliases: Vec<String>,
}

/// A classification policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub oid: Option<String>,
    /// Levels from lowest to highest; a level's rank is its index.
    pub levels: Vec<Level>,
    /// Restrictive "Additional Sensitivity" values.
    pub caveats: Vec<String>,
    /// Informative "Context" values.
    pub contexts: Vec<String>,
    pub default_release: DefaultRelease,
    pub sources: Vec<String>,
}

impl Policy {
    /// The rank of a level given by its name, marking or an alias.
    pub fn rank_of(&self, text: &str) -> Option<u8> {
        self.levels
            .iter()
            .position(|l| {
                l.name == text || l.marking == text || l.aliases.iter().any(|a| a == text)
            })
            .and_then(|i| u8::try_from(i).ok())
    }

    /// The level at `rank`.
    pub fn level(&self, rank: u8) -> Option<&Level> {
        self.levels.get(usize::from(rank))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    id: String,
    name: String,
    oid: Option<String>,
    source: String,
    default_release: RawDefaultRelease,
    levels: Vec<RawLevel>,
    #[serde(default)]
    caveats: Vec<String>,
    #[serde(default)]
    contexts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawDefaultRelease {
    Keyword(String),
    MembersOf { members_of: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    name: String,
    marking: String,
    #[serde(default)]
    aliases: Vec<String>,
}

/// Every known policy, by id. Built once; markings are unique across all policies, so a marking
/// names its policy.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    policies: BTreeMap<String, Policy>,
    /// Every level marking and alias → (policy id, rank), for marking parsing.
    markings: BTreeMap<String, (String, u8)>,
}

impl PolicySet {
    /// Reads every `*.toml` in `dir`.
    pub fn load(dir: &Path) -> Result<PolicySet, LabelError> {
        let io = |e: std::io::Error| {
            LabelError::new(
                LabelErrorKind::PolicyFile(e.to_string()),
                dir.display().to_string(),
            )
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                LabelError::new(
                    LabelErrorKind::PolicyFile(e.to_string()),
                    path.display().to_string(),
                )
            })?;
            files.push((path.display().to_string(), text));
        }
        PolicySet::from_texts(files)
    }

    /// Builds the set from `(file name, TOML text)` pairs.
    pub fn from_texts(files: Vec<(String, String)>) -> Result<PolicySet, LabelError> {
        let mut set = PolicySet::default();
        for (name, text) in files {
            let raw: RawPolicy = toml::from_str(&text).map_err(|e| {
                let line = e.span().map_or(0, |s| {
                    text[..s.start.min(text.len())].matches('\n').count() + 1
                });
                LabelError::new(
                    LabelErrorKind::PolicyFile(e.message().to_owned()),
                    format!("{name}:{line}"),
                )
            })?;
            let bad = |m: String| LabelError::new(LabelErrorKind::PolicyFile(m), name.clone());
            let default_release = match raw.default_release {
                RawDefaultRelease::MembersOf { members_of } => DefaultRelease::MembersOf(members_of),
                RawDefaultRelease::Keyword(k) if k == "originator-only" => DefaultRelease::OriginatorOnly,
                RawDefaultRelease::Keyword(k) => {
                    return Err(bad(format!(
                        "default_release {k:?}: expected \"originator-only\" or {{ members_of = \"ORG\" }}"
                    )))
                }
            };
            if raw.levels.is_empty() || raw.levels.len() > 32 {
                return Err(bad("a policy needs between 1 and 32 levels".to_owned()));
            }
            let sources: Vec<String> = raw
                .source
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if sources.is_empty() {
                return Err(bad("missing source".to_owned()));
            }
            let policy = Policy {
                id: raw.id.clone(),
                name: raw.name,
                oid: raw.oid,
                levels: raw
                    .levels
                    .into_iter()
                    .map(|l| Level {
                        name: l.name,
                        marking: l.marking,
                        aliases: l.aliases,
                    })
                    .collect(),
                caveats: raw.caveats,
                contexts: raw.contexts,
                default_release,
                sources,
            };
            for (rank, level) in policy.levels.iter().enumerate() {
                let rank = u8::try_from(rank).unwrap_or(u8::MAX);
                for text in std::iter::once(&level.marking).chain(&level.aliases) {
                    if let Some((other, _)) = set.markings.get(text) {
                        return Err(bad(format!(
                            "marking {text:?} is already used by policy {other}"
                        )));
                    }
                    set.markings.insert(text.clone(), (policy.id.clone(), rank));
                }
            }
            if set.policies.insert(raw.id.clone(), policy).is_some() {
                return Err(bad(format!("duplicate policy {}", raw.id)));
            }
        }
        Ok(set)
    }

    pub fn get(&self, id: &str) -> Option<&Policy> {
        self.policies.get(id)
    }

    /// The policy with this id, or an error suggesting the closest one.
    pub fn require(&self, id: &str) -> Result<&Policy, LabelError> {
        self.get(id).ok_or_else(|| {
            LabelError::new(
                LabelErrorKind::UnknownPolicy {
                    policy: id.to_owned(),
                    suggestion: closest(
                        id,
                        self.policies.keys().map(|k| (k.as_str(), k.clone())),
                        NAME_NEARNESS,
                    ),
                },
                "policy",
            )
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Policy> {
        self.policies.values()
    }

    /// The policy and rank a level marking (e.g. `NATO SECRET`) stands for.
    pub fn marking(&self, text: &str) -> Option<(&Policy, u8)> {
        let (id, rank) = self.markings.get(text)?;
        Some((self.policies.get(id)?, *rank))
    }

    /// The known level marking closest to `text`, for error messages.
    pub fn closest_marking(&self, text: &str) -> Option<String> {
        closest(
            text,
            self.markings.keys().map(|k| (k.as_str(), k.clone())),
            NAME_NEARNESS,
        )
    }
}
