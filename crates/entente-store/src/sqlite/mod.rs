//! The embedded backend: one SQLite database file in WAL mode.
//!
//! Writes go to one writer thread through a channel. The thread takes every request that is
//! waiting, applies each inside its own savepoint (a failing request leaves the others intact),
//! commits once and only then answers them all: one fsync (`synchronous = FULL`) covers the whole
//! batch, which is what makes small concurrent posts fast and every acknowledged write durable.
//! Reads use a small pool of read-only connections on blocking threads; WAL lets them run beside
//! the writer.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::error::{StoreError, StoreErrorKind};
use crate::migrations::{self, Step};
use files::protect_database_files;
use writer::{writer_loop, Write};

mod files;
mod store;
mod writer;

/// Where the writer sends a request's outcome.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// The SQLite store. Cloning shares the writer and the read pool.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Option<mpsc::Sender<Write>>>,
    readers: Mutex<Vec<Connection>>,
    /// One permit per read connection: a read waits for a pooled connection rather than opening
    /// (and then closing) one of its own, which would parse the schema, prepare its statements
    /// and warm a page cache again for every request under many concurrent readers.
    read_permits: Arc<tokio::sync::Semaphore>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the writer thread after its current batch.
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
    }
}

/// Page cache of the writer, in KiB (SQLite's negative form): the indexes of a large collection
/// stay in memory, so an insert does not read its B-tree pages back from disk.
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// Prepared statements the writer keeps.
const WRITER_STATEMENTS: usize = 32;
/// Read connections, and so reads in flight: two per core keep a paged reader's next chunk
/// reading while one is released; more only share the cores among more threads (with 64
/// concurrent readers, eight connections gave a p90 of 13.3–15.2 ms, four 11.5–14.9, two
/// 11.0–15.2 but once 21.7; BENCHMARKS.md, round 6), and each costs a page cache.
const READERS: usize = 4;
/// Page cache of each pooled reader, in KiB.
const READER_CACHE_KIB: i64 = 16 * 1024;
/// Bytes of the database each reader maps into memory: pages are read without a system call
/// each (the mapping is of the file, shared with the page cache of the kernel).
const READER_MMAP_BYTES: i64 = 256 * 1024 * 1024;
/// WAL pages between checkpoints: fewer, larger checkpoints under sustained ingest (SQLite's
/// default is 1,000).
const WAL_CHECKPOINT_PAGES: i64 = 8192;

/// Plans stay as prepared, whatever is bound: otherwise SQLite prepares a statement again each
/// time a parameter its plan looked at changes (the `LIMIT` of a page read, for one), which
/// costs as much as a fifth of a chunk's read.
fn stable_plans(conn: &Connection) -> Result<(), StoreError> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    stable_plans(conn)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Every write statement stays prepared (about 25 of them; rusqlite's default keeps 16).
    conn.set_prepared_statement_cache_capacity(WRITER_STATEMENTS);
    Ok(())
}

/// Brings the database to [`SCHEMA_VERSION`] in one write transaction (which also keeps a second
/// process opening it at the same moment waiting), or refuses a newer one.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute(migrations::CREATE_VERSIONS, [])?;
    let current: i64 = tx.query_row(migrations::SELECT_VERSION, [], |r| r.get(0))?;
    for migration in migrations::pending(current, &path.display().to_string())? {
        for step in (migration.steps)() {
            match step {
                Step::Sql(statement) => {
                    tx.execute(statement, [])?;
                }
                Step::AddColumn {
                    table,
                    column,
                    declaration,
                } => {
                    let has: i64 = tx.query_row(
                        "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2",
                        [table, column],
                        |r| r.get(0),
                    )?;
                    if has == 0 {
                        tx.execute(
                            &format!("ALTER TABLE {table} ADD COLUMN {column} {declaration}"),
                            [],
                        )?;
                    }
                }
            }
        }
        tx.execute(
            migrations::INSERT_VERSION,
            rusqlite::params![migration.version, migration.name, migrations::now_us()],
        )?;
        tracing::info!(path = %path.display(), version = migration.version, "schema migrated");
    }
    tx.commit()?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        protect_database_files(path)?;
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrate(&mut conn, path)?;
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("entente-sqlite-writer".into())
            .spawn(move || writer_loop(conn, receiver))
            .map_err(|e| StoreErrorKind::Config(format!("cannot start the writer thread: {e}")))?;
        tracing::info!(path = %path.display(), "sqlite store opened");
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(Some(sender)),
                readers: Mutex::new(Vec::new()),
                read_permits: Arc::new(tokio::sync::Semaphore::new(READERS)),
            }),
        })
    }

    async fn write<T: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<T>) -> Write,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        {
            let guard = self
                .inner
                .writer
                .lock()
                .map_err(|_| StoreError::from(StoreErrorKind::Closed))?;
            let sender = guard.as_ref().ok_or(StoreErrorKind::Closed)?;
            sender
                .send(make(reply))
                .map_err(|_| StoreError::from(StoreErrorKind::Closed))?;
        }
        answer.await.map_err(|_| StoreErrorKind::Closed)?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let permit = self
            .inner
            .read_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreErrorKind::Closed)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut p| p.pop());
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let c = Connection::open_with_flags(
                        &inner.path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    c.busy_timeout(std::time::Duration::from_secs(10))?;
                    stable_plans(&c)?;
                    c.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
                    c.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
                    c
                }
            };
            let result = f(&conn);
            if let Ok(mut p) = inner.readers.lock() {
                p.push(conn);
            }
            // Released here, with the connection back in the pool, even when the caller has
            // stopped waiting: the pool never holds more than `READERS` connections.
            drop(permit);
            result
        })
        .await
        .map_err(|_| StoreErrorKind::Closed)?
    }
}
