//! What a user may see and post: every read goes through `entente_policy::ReleasePolicy` (the
//! recipient is the reader's nation, the originator the nation of the node that published the
//! object) and then through the reader's clearance ceiling.
//!
//! - [`labels`]: the label cache, the label of a marking definition, the ingest checks;
//! - [`key`] and [`scan`]: release keys read in place from stored texts;
//! - [`caches`]: the row keys, decisions and released copies shared by every request;
//! - [`release`]: the fast and the full release, and [`Access::release_rows`] that picks;
//! - [`publish`]: the banners stored so that released copies' markings resolve.
//!
//! A reader is a [`Reader`] everywhere: the page cache's key, the decision cache's key and the
//! policy's clearance check all take it, so two users of one nation and clearance are one reader.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use entente_labels::Label;
use entente_policy::ReleasePolicy;
use entente_store::User;
use entente_types::NationCode;

use crate::error::NodeError;

pub mod caches;
pub mod key;
pub mod labels;
mod publish;
pub mod release;
pub mod scan;
#[cfg(test)]
mod tests;

pub use caches::RowKeys;
pub use labels::{label_of_marking, IngestLabel, LabelCache, MarkingLabelError, RoomIngest};
pub use release::{ByMarkings, Outcome, Served};

/// What decides what a reader may see: the nation a release is made to and the clearance that
/// must cover what is released. Nothing else of the user enters a release, so users alike are
/// one reader (they share cached pages and decisions).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reader {
    pub nation: NationCode,
    pub clearance: Clearance,
}

/// A reader's clearance ceiling, owned (the policy's [`entente_policy::Clearance`] borrows it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Clearance {
    pub policy: String,
    pub level: String,
    pub caveats: Vec<String>,
}

impl Reader {
    /// The reader a user is.
    pub fn of(user: &User) -> Reader {
        Reader {
            nation: user.nation,
            clearance: Clearance {
                policy: user.clearance_policy.clone(),
                level: user.clearance_level.clone(),
                caveats: user.clearance_caveats.clone(),
            },
        }
    }

    /// The clearance as the release policy reads it.
    pub fn clearance(&self) -> entente_policy::Clearance<'_> {
        entente_policy::Clearance {
            policy: &self.clearance.policy,
            level: &self.clearance.level,
            caveats: &self.clearance.caveats,
        }
    }
}

/// The release policy of a node and its label cache.
pub struct Access {
    pub policy: ReleasePolicy,
    pub cache: LabelCache,
    /// Marking-definition ids known to be stored, by collection.
    published: RwLock<HashMap<String, HashSet<String>>>,
    /// Decisions on release keys, shared by every request.
    decisions: caches::OnLabels<caches::DecisionKey, ByMarkings>,
    /// Copies released through the full path, shared by every request.
    released: caches::OnLabels<caches::ReleasedKey, Option<Arc<release::ReleasedText>>>,
    /// Release keys of stored rows, shared by every request.
    pub row_keys: RowKeys,
}

impl Access {
    pub fn new(policy: ReleasePolicy, default_label: Option<&str>) -> Result<Access, NodeError> {
        let policy = policy
            .with_default_label(default_label)
            .map_err(|e| NodeError::config(format!("default_label: {e}")))?;
        Ok(Access {
            policy,
            cache: LabelCache::default(),
            published: RwLock::default(),
            decisions: caches::shared_decisions(),
            released: caches::released_copies(),
            row_keys: RowKeys::default(),
        })
    }

    /// Whether `label` is within the reader's clearance (decided by the release policy).
    pub fn cleared(&self, reader: &Reader, label: &Label) -> bool {
        self.policy.is_cleared(&reader.clearance(), label)
    }
}
