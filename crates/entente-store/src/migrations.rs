//! Schema versions, for both backends.
//!
//! A database records the versions applied to it in `schema_migrations` (version, name, when).
//! Opening a store applies, in one transaction under a lock (an advisory lock on PostgreSQL, the
//! write lock on SQLite), every version above the database's, and refuses a database whose version
//! is newer than this build knows: a process of an older release must not write a schema it does
//! not understand while a newer one serves it.
//!
//! Version 1 is the schema as it was before versions were recorded; its statements are idempotent
//! (`IF NOT EXISTS`), so a database of that time, which has no `schema_migrations`, is brought to
//! version 1 by running them again.

use crate::error::{StoreError, StoreErrorKind};
use crate::sql;

/// One step of a migration.
pub(crate) enum Step {
    /// A statement in the SQL both backends share.
    Sql(&'static str),
    /// Adds a column unless the table has it (neither backend's `ADD COLUMN` says that alike).
    AddColumn {
        table: &'static str,
        column: &'static str,
        declaration: &'static str,
    },
}

/// A schema version and the steps that bring the version before it to it.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub steps: fn() -> Vec<Step>,
}

/// Every version, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "objects, statuses, collections, users, tokens, federation cursors and bindings, audit intents",
        steps: version_1,
    },
    Migration {
        version: 2,
        name: "leases (one dispatcher per partner across node processes)",
        steps: version_2,
    },
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 2;

/// The table that records versions.
pub(crate) const CREATE_VERSIONS: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_us BIGINT NOT NULL
)";
pub(crate) const SELECT_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
pub(crate) const INSERT_VERSION: &str =
    "INSERT INTO schema_migrations (version, name, applied_us) VALUES (?1, ?2, ?3)";

fn version_1() -> Vec<Step> {
    let mut steps: Vec<Step> = sql::SCHEMA.iter().map(|s| Step::Sql(s)).collect();
    steps.push(Step::AddColumn {
        table: "objects",
        column: "latest",
        declaration: "BIGINT",
    });
    steps.extend(sql::LATEST_MIGRATION.iter().map(|s| Step::Sql(s)));
    steps
}

fn version_2() -> Vec<Step> {
    vec![Step::Sql(
        "CREATE TABLE IF NOT EXISTS leases (
            name TEXT PRIMARY KEY,
            token BIGINT NOT NULL,
            holder TEXT NOT NULL,
            acquired_us BIGINT NOT NULL
        )",
    )]
}

/// The migrations a database at `current` needs, or why it cannot be opened.
pub(crate) fn pending(current: i64, database: &str) -> Result<&'static [Migration], StoreError> {
    if current > SCHEMA_VERSION {
        return Err(StoreErrorKind::Config(format!(
            "{database} has schema version {current}, newer than this build knows \
             ({SCHEMA_VERSION}): run a release of entente that knows it"
        ))
        .into());
    }
    let first = MIGRATIONS
        .iter()
        .position(|m| m.version > current)
        .unwrap_or(MIGRATIONS.len());
    Ok(&MIGRATIONS[first..])
}

/// The time a version is recorded at (the store reads no clock for data; this is bookkeeping).
pub(crate) fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_end_at_the_known_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn a_newer_database_is_refused_and_an_older_gets_what_it_lacks() {
        let e = pending(SCHEMA_VERSION + 1, "db")
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("schema version 3, newer")));
        assert_eq!(pending(0, "db").map(|m| m.len()).ok(), Some(2));
        assert_eq!(
            pending(1, "db")
                .map(|m| m.iter().map(|m| m.version).collect::<Vec<_>>())
                .ok(),
            Some(vec![2])
        );
        assert_eq!(pending(SCHEMA_VERSION, "db").map(|m| m.len()).ok(), Some(0));
    }
}
