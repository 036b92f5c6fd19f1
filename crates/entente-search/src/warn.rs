//! Warning lists as the index asks them: which lists a value is on.

use std::fmt;
use std::sync::Arc;

use crate::observable::Observable;

type Lookup = dyn Fn(&str) -> Vec<String> + Send + Sync;

/// The warning lists a node checks values against (none, by default).
#[derive(Clone, Default)]
pub struct Warnings {
    lookup: Option<Arc<Lookup>>,
}

impl fmt::Debug for Warnings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Warnings")
            .field("lists", &self.lookup.is_some())
            .finish()
    }
}

impl Warnings {
    /// No list: no value is flagged.
    pub fn none() -> Warnings {
        Warnings::default()
    }

    /// MISP's warning lists.
    pub fn from_lists(lists: Arc<entente_warninglists::WarningLists>) -> Warnings {
        Warnings::from_fn(move |value| lists.names_of(value))
    }

    /// Lists answered by a function from a value's text to the names of the lists it is on.
    pub fn from_fn(lookup: impl Fn(&str) -> Vec<String> + Send + Sync + 'static) -> Warnings {
        Warnings {
            lookup: Some(Arc::new(lookup)),
        }
    }

    /// No list is loaded.
    pub fn is_none(&self) -> bool {
        self.lookup.is_none()
    }

    /// The names of the lists `value` is on, sorted.
    pub fn lists_of(&self, value: &Observable) -> Vec<String> {
        let Some(lookup) = &self.lookup else {
            return Vec::new();
        };
        let mut names = lookup(&value.to_string());
        names.sort();
        names.dedup();
        names
    }
}
