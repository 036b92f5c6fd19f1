//! Storage of a node: STIX object versions per collection, status resources, collections, users.
//!
//! One [`Store`] trait, two backends: [`sqlite::SqliteStore`] (embedded, the default: WAL, one writer
//! thread that commits waiting requests together and fsyncs once per batch) and
//! [`postgres::PostgresStore`] (several stateless node processes over one database). Both pass the
//! same test suite (`store_test_suite!` in `tests.rs`).
//!
//! The model:
//! - an object version is keyed by (collection, id, version key); posting the same version again
//!   changes nothing (idempotent), posting it again after a delete brings it back;
//! - every stored version gets the next value of a per-node sequence (`seq`) and a `date_added`
//!   strictly greater than every earlier one, assigned under the write lock at commit, so readers
//!   paging by `seq` or `added_after` never miss a version that commits after they started;
//! - deletes are soft (the row stays, marked deleted, and is never served);
//! - one `add_objects` call is one transaction: its objects and its status are stored together or
//!   not at all.
//!
//! The store knows no labels and no users' rights: the node filters every read through the release
//! policy. It reads no clock: "now" comes with each write.

mod error;
mod lease;
mod migrations;
mod model;
pub mod postgres;
mod rows;
mod sql;
pub mod sqlite;
mod writes;

pub use crate::error::{StoreError, StoreErrorKind};
pub use crate::lease::Lease;
pub use crate::migrations::SCHEMA_VERSION;
pub use crate::model::{
    format_added, AddRequest, AuditIntent, BindingRecord, Change, CollectionInfo, CollectionRight,
    Cursor, NewObject, ObjectQuery, Page, PendingObject, PendingRow, ReceivedObject, Settled,
    StatusDetail, StatusRecord, StoredObject, User, VersionFilter,
};

/// The storage of a node. Every method is one transaction.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates or replaces a collection.
    async fn put_collection(&self, collection: &CollectionInfo) -> Result<(), StoreError>;
    /// Every collection, by id.
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError>;
    /// Stores the objects of one request and its status resource together, and returns the status.
    async fn add_objects(&self, request: AddRequest) -> Result<StatusRecord, StoreError>;
    /// Live object versions of a collection in `seq` order, after `query.after_seq`.
    async fn objects(&self, collection: &str, query: &ObjectQuery) -> Result<Page, StoreError>;
    /// Every live version of one object, oldest version first.
    async fn versions(&self, collection: &str, id: &str) -> Result<Vec<StoredObject>, StoreError>;
    /// Soft-deletes the named versions (by version key) of one object; returns how many.
    async fn delete_versions(
        &self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<u64, StoreError>;
    /// The latest live marking definition with this id, in any collection.
    async fn marking(&self, id: &str) -> Result<Option<StoredObject>, StoreError>;
    /// A status resource.
    async fn status(&self, id: &str) -> Result<Option<StatusRecord>, StoreError>;
    /// The objects of a collection held back until their marking definitions are known, oldest
    /// first.
    async fn pending_objects(&self, collection: &str) -> Result<Vec<PendingRow>, StoreError>;
    /// Creates or replaces a user (by name).
    async fn put_user(&self, user: &User) -> Result<(), StoreError>;
    async fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Records a bearer token (its hash) for a user.
    async fn add_token(&self, user: &str, token_hash: &str) -> Result<(), StoreError>;
    async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError>;

    // Federation. Deletes take the next `seq`, so the change stream carries them as tombstones.

    /// Every version, live or deleted (tombstones), with `seq > after_seq`, in `seq` order
    /// across collections; at most `limit`.
    async fn changes(&self, after_seq: i64, limit: usize) -> Result<Vec<Change>, StoreError>;
    /// Stores versions received from a partner in one transaction. A version already present,
    /// live or recalled, is left as it is (a replay changes nothing); returns, per object, whether
    /// it was stored now. The intent of each object stored now is kept in the same transaction.
    async fn add_received(
        &self,
        collection: &str,
        now_us: i64,
        objects: Vec<ReceivedObject>,
    ) -> Result<Vec<bool>, StoreError>;
    /// Withdraws a received version on its origin's recall (a tombstone, keeping the recall);
    /// returns whether a live version was withdrawn, and if so keeps `intent` (an audit event)
    /// in the same transaction.
    async fn recall_received(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
        recall: &str,
        intent: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// The provenance of a received version.
    async fn binding(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
    ) -> Result<Option<BindingRecord>, StoreError>;
    /// A named cursor in the change stream.
    async fn cursor(&self, name: &str) -> Result<Option<Cursor>, StoreError>;
    async fn set_cursor(&self, name: &str, cursor: &Cursor) -> Result<(), StoreError> {
        self.set_cursor_with_intents(name, cursor, Vec::new()).await
    }
    /// Moves a cursor and keeps audit intents (events, JSON) in one transaction: what the
    /// cursor passed is recorded, or it did not pass it.
    async fn set_cursor_with_intents(
        &self,
        name: &str,
        cursor: &Cursor,
        intents: Vec<String>,
    ) -> Result<(), StoreError>;

    // The audit intents: events committed with what they record, kept until the audit log
    // holds them.

    /// The oldest intents, in `seq` order; at most `limit`.
    async fn audit_intents(&self, limit: usize) -> Result<Vec<AuditIntent>, StoreError>;
    /// Removes every intent up to `through` (the audit log holds them); returns how many.
    async fn clear_audit_intents(&self, through: i64) -> Result<u64, StoreError>;

    // Several processes over one database (PostgreSQL). With one process (SQLite) a lease is
    // always this process's and no other process writes.

    /// Takes the lease `name` (e.g. dispatching to one partner) for this process, recording
    /// `holder`; `None` while another process holds it. A lease is held until it is dropped or
    /// its process loses its connection to the database ([`Lease::lost`]).
    async fn try_lease(&self, name: &str, holder: &str) -> Result<Option<Lease>, StoreError> {
        let _ = holder;
        Ok(Some(Lease::new(name.to_owned(), 0, None, None)))
    }
    /// [`Store::set_cursor_with_intents`] fenced by `lease`: refused
    /// ([`StoreErrorKind::Fenced`]) once another process has taken the lease over, so a process
    /// that lost its lease cannot move the cursor its successor now owns.
    async fn set_cursor_fenced(
        &self,
        name: &str,
        cursor: &Cursor,
        intents: Vec<String>,
        lease: &Lease,
    ) -> Result<(), StoreError> {
        let _ = lease;
        self.set_cursor_with_intents(name, cursor, intents).await
    }
    /// Whether the store answers now (readiness).
    async fn ping(&self) -> Result<(), StoreError>;
    /// Bumped when another process may have written (a notification, or a periodic tick while
    /// notifications cannot be heard); `None` when no other process writes.
    fn changes_elsewhere(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
}

#[cfg(test)]
mod tests;
