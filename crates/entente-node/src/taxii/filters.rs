//! The TAXII query parameters of a request (`added_after`, `limit`, `next`, `match[…]`), parsed
//! into [`Filters`].

use entente_stix::Timestamp;
use entente_store::VersionFilter;

use super::bad;
use crate::error::NodeError;

pub(super) const DEFAULT_LIMIT: usize = 100;
pub(super) const MAX_LIMIT: usize = 10_000;

/// The TAXII filters of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Filters {
    pub(super) added_after_us: Option<i64>,
    pub(super) limit: usize,
    pub(super) next: i64,
    pub(super) ids: Vec<String>,
    pub(super) kinds: Vec<String>,
    pub(super) spec_versions: Vec<String>,
    pub(super) versions: VersionFilter,
}

pub(super) fn parse_filters(
    params: &[(String, String)],
    default: VersionFilter,
) -> Result<Filters, NodeError> {
    let mut f = Filters {
        added_after_us: None,
        limit: DEFAULT_LIMIT,
        next: 0,
        ids: Vec::new(),
        kinds: Vec::new(),
        spec_versions: Vec::new(),
        versions: default,
    };
    let mut versions: Option<VersionFilter> = None;
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (key, value) in params {
        match key.as_str() {
            "added_after" => {
                let t = Timestamp::parse(value).map_err(|e| bad(format!("added_after: {e}")))?;
                f.added_after_us = Some(t.instant().timestamp_micros());
            }
            "limit" => {
                let n: usize =
                    value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        bad(format!("limit: {value:?} is not a positive integer"))
                    })?;
                f.limit = n.min(MAX_LIMIT);
            }
            "next" => {
                f.next = value
                    .parse()
                    .ok()
                    .filter(|n: &i64| *n >= 0)
                    .ok_or_else(|| bad(format!("next: {value:?} is not a token of this server")))?;
            }
            "match[id]" => f.ids.extend(list(value)),
            "match[type]" => f.kinds.extend(list(value)),
            "match[spec_version]" => f.spec_versions.extend(list(value)),
            "match[version]" => {
                let v = versions.get_or_insert_with(VersionFilter::default);
                for item in list(value) {
                    match item.as_str() {
                        "first" => v.first = true,
                        "last" => v.last = true,
                        "all" => v.all = true,
                        t => {
                            let t = Timestamp::parse(t)
                                .map_err(|e| bad(format!("match[version]: {e}")))?;
                            v.keys.push(t.key());
                        }
                    }
                }
            }
            // Unknown parameters are ignored, as TAXII asks.
            _ => {}
        }
    }
    if let Some(v) = versions {
        f.versions = v;
    }
    Ok(f)
}

/// By every field, as equality compares them (`VersionFilter` has no `Hash` of its own).
impl std::hash::Hash for Filters {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.added_after_us.hash(state);
        self.limit.hash(state);
        self.next.hash(state);
        self.ids.hash(state);
        self.kinds.hash(state);
        self.spec_versions.hash(state);
        let v = &self.versions;
        (v.first, v.last, v.all, &v.keys).hash(state);
    }
}
