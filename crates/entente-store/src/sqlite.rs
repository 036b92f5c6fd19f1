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

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use tokio::sync::oneshot;

use crate::error::{StoreError, StoreErrorKind};
use crate::model::*;
use crate::sql::{self, Param};
use crate::Store;

/// The most requests one commit covers.
const MAX_BATCH: usize = 256;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Write {
    Add(AddRequest, Reply<StatusRecord>),
    Delete(String, String, Vec<String>, Reply<u64>),
    PutCollection(CollectionInfo, Reply<()>),
    PutUser(User, Reply<()>),
    AddToken(String, String, Reply<()>),
    Received(String, i64, Vec<ReceivedObject>, Reply<Vec<bool>>),
    Recall(String, String, String, String, Option<String>, Reply<bool>),
    SetCursor(String, Cursor, Vec<String>, Reply<()>),
    ClearIntents(i64, Reply<u64>),
}

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

/// The database holds every object and the users' password hashes, so it is owner-only (0600):
/// created with that mode before SQLite opens it (SQLite would create it 0644), and SQLite gives
/// its `-wal` and `-shm` files the database file's mode. A database found with a wider mode (one
/// created before this rule) is narrowed to 0600 with its `-wal` and `-shm`.
fn protect_database_files(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let fail = |p: &Path, e: std::io::Error| {
            StoreError::from(StoreErrorKind::Config(format!("{}: {e}", p.display())))
        };
        // An empty file is an empty database to SQLite; an existing one is not truncated.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| fail(path, e))?;
        let mode = file
            .metadata()
            .map_err(|e| fail(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            let private = std::fs::Permissions::from_mode(0o600);
            file.set_permissions(private.clone())
                .map_err(|e| fail(path, e))?;
            for suffix in ["-wal", "-shm"] {
                let mut side = path.as_os_str().to_owned();
                side.push(suffix);
                let side = PathBuf::from(side);
                if side.exists() {
                    std::fs::set_permissions(&side, private.clone()).map_err(|e| fail(&side, e))?;
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
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
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        protect_database_files(path)?;
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        {
            let tx = conn.transaction()?;
            for statement in sql::SCHEMA {
                tx.execute(statement, [])?;
            }
            let has_latest: i64 = tx.query_row(
                "SELECT COUNT(*) FROM pragma_table_info('objects') WHERE name = 'latest'",
                [],
                |r| r.get(0),
            )?;
            if has_latest == 0 {
                tx.execute("ALTER TABLE objects ADD COLUMN latest BIGINT", [])?;
            }
            for statement in sql::LATEST_MIGRATION {
                tx.execute(statement, [])?;
            }
            tx.commit()?;
        }
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

/// Quiet time after a write before the writer checkpoints the WAL.
const IDLE_CHECKPOINT_AFTER: std::time::Duration = std::time::Duration::from_millis(50);

fn writer_loop(mut conn: Connection, receiver: mpsc::Receiver<Write>) {
    // Whether the WAL holds frames written since the last idle checkpoint.
    let mut wal_written = false;
    loop {
        let first = if wal_written {
            match receiver.recv_timeout(IDLE_CHECKPOINT_AFTER) {
                Ok(w) => w,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // Idle: copy the WAL into the database file. Readers then find every page in
                    // the mapped file instead of looking each one up in the WAL and reading it
                    // with a system call (after a large ingest, this halves the cost of a read).
                    // Passive: it never waits for readers or blocks them.
                    let done: Result<i64, _> =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(0));
                    if let Err(e) = done {
                        tracing::warn!(error = %e, "idle WAL checkpoint failed");
                    }
                    wal_written = false;
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match receiver.recv() {
                Ok(w) => w,
                Err(_) => break,
            }
        };
        wal_written = true;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let size = batch.len();
        if let Err(e) = commit_batch(&mut conn, batch) {
            tracing::error!(error = %e, size, "sqlite batch failed");
        }
    }
    tracing::debug!("sqlite writer stopped");
}

/// A request's outcome waiting for the commit.
enum Pending {
    Add(Reply<StatusRecord>, Result<StatusRecord, StoreError>),
    Count(Reply<u64>, Result<u64, StoreError>),
    Unit(Reply<()>, Result<(), StoreError>),
    Flags(Reply<Vec<bool>>, Result<Vec<bool>, StoreError>),
    Flag(Reply<bool>, Result<bool, StoreError>),
}

fn commit_batch(conn: &mut Connection, batch: Vec<Write>) -> Result<(), StoreError> {
    let mut pending = Vec::with_capacity(batch.len());
    let outcome = (|| -> Result<(), StoreError> {
        let mut tx = conn.transaction()?;
        let (mut seq, mut added): (i64, i64) =
            tx.query_row(sql::SELECT_CLOCK, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for write in batch {
            let mut sp = tx.savepoint()?;
            let clock_before = (seq, added);
            let result: Pending = match write {
                Write::Add(req, reply) => {
                    let r = add(&sp, &req, &mut seq, &mut added);
                    Pending::Add(reply, r)
                }
                Write::Delete(collection, id, keys, reply) => {
                    let r = (|| {
                        let mut n = 0;
                        for k in &keys {
                            n += tombstone(&sp, &collection, &id, k, &mut seq, &mut added)? as u64;
                        }
                        Ok(n)
                    })();
                    Pending::Count(reply, r)
                }
                Write::PutCollection(c, reply) => {
                    let r = sp
                        .execute(
                            sql::UPSERT_COLLECTION,
                            params![c.id, c.title, c.description],
                        )
                        .map(|_| ())
                        .map_err(StoreError::from);
                    Pending::Unit(reply, r)
                }
                Write::PutUser(u, reply) => {
                    let r = put_user(&sp, &u);
                    Pending::Unit(reply, r)
                }
                Write::AddToken(name, hash, reply) => {
                    let r = (|| {
                        let known: Option<String> = sp
                            .query_row("SELECT name FROM users WHERE name = ?1", [&name], |r| {
                                r.get(0)
                            })
                            .optional()?;
                        if known.is_none() {
                            return Err(StoreErrorKind::NotFound(format!("user {name:?}")).into());
                        }
                        sp.execute(sql::INSERT_TOKEN, params![hash, name])?;
                        Ok(())
                    })();
                    Pending::Unit(reply, r)
                }
                Write::Received(collection, now, objects, reply) => {
                    let r = add_received(&sp, &collection, now, &objects, &mut seq, &mut added);
                    Pending::Flags(reply, r)
                }
                Write::Recall(collection, id, key, recall, intent, reply) => {
                    let r = (|| {
                        let done = tombstone(&sp, &collection, &id, &key, &mut seq, &mut added)?;
                        if done {
                            sp.execute(sql::SET_RECALL, params![collection, id, key, recall])?;
                            insert_intents(&sp, intent.as_deref())?;
                        }
                        Ok(done)
                    })();
                    Pending::Flag(reply, r)
                }
                Write::SetCursor(name, c, intents, reply) => {
                    let r = (|| {
                        sp.execute(sql::UPSERT_CURSOR, params![name, c.seq, c.fingerprint])?;
                        insert_intents(&sp, intents.iter().map(String::as_str))
                    })();
                    Pending::Unit(reply, r)
                }
                Write::ClearIntents(through, reply) => {
                    let r = sp
                        .execute(sql::DELETE_INTENTS, params![through])
                        .map(|n| n as u64)
                        .map_err(StoreError::from);
                    Pending::Count(reply, r)
                }
            };
            let failed = match &result {
                Pending::Add(_, r) => r.is_err(),
                Pending::Count(_, r) => r.is_err(),
                Pending::Unit(_, r) => r.is_err(),
                Pending::Flags(_, r) => r.is_err(),
                Pending::Flag(_, r) => r.is_err(),
            };
            if failed {
                // Undo this request only; the clock goes back with it.
                sp.rollback()?;
                (seq, added) = clock_before;
            } else {
                sp.commit()?;
            }
            pending.push(result);
        }
        tx.execute(sql::UPDATE_CLOCK, params![seq, added])?;
        tx.commit()?;
        Ok(())
    })();
    let failure = outcome.as_ref().err().map(ToString::to_string);
    for p in pending {
        // When the commit failed, nothing was stored: every request gets the error.
        let err = || {
            StoreError::from(StoreErrorKind::Corrupt(format!(
                "commit failed: {}",
                failure.as_deref().unwrap_or("")
            )))
        };
        match p {
            Pending::Add(reply, r) => {
                let _ = reply.send(if failure.is_some() { Err(err()) } else { r });
            }
            Pending::Count(reply, r) => {
                let _ = reply.send(if failure.is_some() { Err(err()) } else { r });
            }
            Pending::Unit(reply, r) => {
                let _ = reply.send(if failure.is_some() { Err(err()) } else { r });
            }
            Pending::Flags(reply, r) => {
                let _ = reply.send(if failure.is_some() { Err(err()) } else { r });
            }
            Pending::Flag(reply, r) => {
                let _ = reply.send(if failure.is_some() { Err(err()) } else { r });
            }
        }
    }
    outcome
}

fn add(
    tx: &Connection,
    req: &AddRequest,
    seq: &mut i64,
    added: &mut i64,
) -> Result<StatusRecord, StoreError> {
    let mut insert = tx.prepare_cached(sql::INSERT_OBJECT)?;
    let mut latest_key = tx.prepare_cached(sql::SELECT_LATEST_KEY)?;
    let mut successes = Vec::with_capacity(req.objects.len());
    for o in &req.objects {
        *seq += 1;
        *added = (*added + 1).max(req.now_us);
        // The newest live version before this one: the new version is the latest unless a newer
        // one is live (an equal key is this very version, already live, left untouched).
        let previous: Option<String> = latest_key
            .query_row(params![req.collection, o.id], |r| r.get(0))
            .optional()?;
        let newest = previous
            .as_deref()
            .is_none_or(|k| k < o.version_key.as_str());
        let changed = insert.execute(params![
            req.collection,
            o.id,
            o.version_key,
            *seq,
            *added,
            o.kind,
            o.spec_version,
            o.version,
            o.originator.as_str(),
            o.json,
            i64::from(newest)
        ])?;
        if changed > 0 && newest {
            if let Some(older) = &previous {
                tx.prepare_cached(sql::CLEAR_LATEST)?.execute(params![
                    req.collection,
                    o.id,
                    older
                ])?;
            }
        }
        let version = if !o.version.is_empty() {
            o.version.clone()
        } else if changed > 0 {
            // Just written: its `date_added` is this request's.
            format_added(*added)
        } else {
            stored_added(tx, req, o)?
        };
        successes.push(StatusDetail {
            id: o.id.clone(),
            version,
            message: None,
        });
    }
    for p in &req.pending {
        tx.prepare_cached(sql::INSERT_PENDING)?.execute(params![
            req.collection,
            p.id,
            p.version_key,
            p.version,
            req.status_id,
            req.owner,
            to_json(&p.waiting)?,
            req.now_us,
            p.json
        ])?;
    }
    for settled in &req.settles {
        // Settled once: a concurrent settling of the same object finds it gone.
        let held = tx.prepare_cached(sql::DELETE_PENDING)?.execute(params![
            req.collection,
            settled.id,
            settled.version_key
        ])?;
        if held == 0 {
            continue;
        }
        tx.prepare_cached(sql::INSERT_OUTCOME)?.execute(params![
            settled.status_id,
            settled.id,
            settled.version,
            settled.failure
        ])?;
    }
    let status = StatusRecord {
        id: req.status_id.clone(),
        owner: req.owner.clone(),
        collection: req.collection.clone(),
        request_us: req.now_us,
        successes,
        failures: req.failures.clone(),
        pendings: req
            .pending
            .iter()
            .map(PendingObject::status_detail)
            .collect(),
    };
    tx.execute(
        sql::INSERT_STATUS,
        params![
            status.id,
            status.owner,
            status.collection,
            status.request_us,
            to_json(&status.successes)?,
            to_json(&status.failures)?
        ],
    )?;
    Ok(status)
}

/// The TAXII version of an object without one that was already stored: the `date_added` of the
/// stored row (older than this request).
fn stored_added(tx: &Connection, req: &AddRequest, o: &NewObject) -> Result<String, StoreError> {
    let us: i64 = tx
        .prepare_cached(
            "SELECT added_us FROM objects WHERE collection = ?1 AND id = ?2 AND version_key = ?3",
        )?
        .query_row(params![req.collection, o.id, o.version_key], |r| r.get(0))?;
    Ok(format_added(us))
}

/// Soft-deletes one live version, giving it the next `seq` (a tombstone in the change stream).
fn tombstone(
    tx: &Connection,
    collection: &str,
    id: &str,
    key: &str,
    seq: &mut i64,
    added: &mut i64,
) -> Result<bool, StoreError> {
    let n = tx.execute(
        sql::DELETE_VERSION,
        params![collection, id, key, *seq + 1, *added + 1],
    )?;
    if n > 0 {
        *seq += 1;
        *added += 1;
        refresh_latest(tx, collection, id)?;
    }
    Ok(n > 0)
}

/// Keeps `latest` right on the versions of one object after a write to them.
fn refresh_latest(tx: &Connection, collection: &str, id: &str) -> Result<(), StoreError> {
    tx.prepare_cached(sql::REFRESH_LATEST)?
        .execute(params![collection, id])?;
    Ok(())
}

/// Keeps audit events as intents, each at the next intent position.
fn insert_intents<'a>(
    tx: &Connection,
    events: impl IntoIterator<Item = &'a str>,
) -> Result<(), StoreError> {
    let mut events = events.into_iter().peekable();
    if events.peek().is_none() {
        return Ok(());
    }
    let mut seq: i64 = tx
        .prepare_cached(sql::SELECT_INTENT_CLOCK)?
        .query_row([], |r| r.get(0))?;
    let mut insert = tx.prepare_cached(sql::INSERT_INTENT)?;
    for event in events {
        seq += 1;
        insert.execute(params![seq, event])?;
    }
    tx.prepare_cached(sql::UPDATE_INTENT_CLOCK)?
        .execute(params![seq])?;
    Ok(())
}

fn add_received(
    tx: &Connection,
    collection: &str,
    now_us: i64,
    objects: &[ReceivedObject],
    seq: &mut i64,
    added: &mut i64,
) -> Result<Vec<bool>, StoreError> {
    let mut insert = tx.prepare_cached(sql::INSERT_RECEIVED)?;
    let mut flags = Vec::with_capacity(objects.len());
    let mut intents = Vec::new();
    for r in objects {
        let o = &r.object;
        let (next_seq, next_added) = (*seq + 1, (*added + 1).max(now_us));
        let mut n = insert.execute(params![
            collection,
            o.id,
            o.version_key,
            next_seq,
            next_added,
            o.kind,
            o.spec_version,
            o.version,
            o.originator.as_str(),
            o.json
        ])?;
        if n == 0 && r.supersedes {
            if let Some(binding) = &r.binding {
                n = tx.execute(
                    sql::SUPERSEDE_RECEIVED,
                    params![
                        collection,
                        o.id,
                        o.version_key,
                        next_seq,
                        next_added,
                        o.json
                    ],
                )?;
                if n > 0 {
                    (*seq, *added) = (next_seq, next_added);
                    tx.execute(
                        sql::SUPERSEDE_BINDING,
                        params![collection, o.id, o.version_key, r.sender.as_str(), binding],
                    )?;
                    intents.extend(r.intent.as_deref());
                }
                flags.push(n > 0);
                continue;
            }
        }
        if n > 0 {
            (*seq, *added) = (next_seq, next_added);
            refresh_latest(tx, collection, &o.id)?;
            if let Some(binding) = &r.binding {
                tx.execute(
                    sql::INSERT_BINDING,
                    params![
                        collection,
                        o.id,
                        o.version_key,
                        o.originator.as_str(),
                        r.sender.as_str(),
                        binding
                    ],
                )?;
            }
            intents.extend(r.intent.as_deref());
        }
        flags.push(n > 0);
    }
    insert_intents(tx, intents)?;
    Ok(flags)
}

fn put_user(tx: &Connection, u: &User) -> Result<(), StoreError> {
    tx.execute(
        sql::UPSERT_USER,
        params![
            u.name,
            u.nation.as_str(),
            u.clearance_policy,
            u.clearance_level,
            to_json(&u.clearance_caveats)?,
            u.password_hash,
            to_json(&u.rights)?
        ],
    )?;
    Ok(())
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreErrorKind::Corrupt(e.to_string()).into())
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreErrorKind::Corrupt(e.to_string()).into())
}

pub(crate) fn nation(text: &str) -> Result<entente_types::NationCode, StoreError> {
    text.parse()
        .map_err(|e: entente_types::NationCodeError| StoreErrorKind::Corrupt(e.to_string()).into())
}

/// A row of object columns as read, before the originator is checked.
type RawObject = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn object_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawObject> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn finish(rows: Vec<RawObject>) -> Result<Vec<StoredObject>, StoreError> {
    rows.into_iter().map(stored_object).collect()
}

pub(crate) fn stored_object(raw: RawObject) -> Result<StoredObject, StoreError> {
    let (seq, added_us, id, kind, spec_version, version, version_key, originator, json) = raw;
    Ok(StoredObject {
        seq,
        added_us,
        id,
        kind,
        spec_version,
        version,
        version_key,
        originator: nation(&originator)?,
        json,
    })
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 7]> {
    Ok([
        r.get(0)?,
        r.get(6)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ])
}

pub(crate) fn user_from(cols: [Option<String>; 7]) -> Result<User, StoreError> {
    let [name, rights, nation_text, policy, level, caveats, hash] = cols;
    let missing = || StoreError::from(StoreErrorKind::Corrupt("user row with NULL".into()));
    Ok(User {
        name: name.ok_or_else(missing)?,
        nation: nation(&nation_text.ok_or_else(missing)?)?,
        clearance_policy: policy.ok_or_else(missing)?,
        clearance_level: level.ok_or_else(missing)?,
        clearance_caveats: from_json(&caveats.ok_or_else(missing)?)?,
        password_hash: hash,
        rights: from_json(&rights.ok_or_else(missing)?)?,
    })
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn put_collection(&self, collection: &CollectionInfo) -> Result<(), StoreError> {
        let c = collection.clone();
        self.write(|reply| Write::PutCollection(c, reply)).await
    }

    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        self.read(|conn| {
            let mut st = conn.prepare_cached(sql::SELECT_COLLECTIONS)?;
            let rows = st.query_map([], |r| {
                Ok(CollectionInfo {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    description: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn add_objects(&self, request: AddRequest) -> Result<StatusRecord, StoreError> {
        self.write(|reply| Write::Add(request, reply)).await
    }

    async fn objects(&self, collection: &str, query: &ObjectQuery) -> Result<Page, StoreError> {
        let (text, params) = sql::objects_query(collection, query);
        let limit = query.limit;
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&text)?;
            let values: Vec<Box<dyn rusqlite::ToSql>> = params
                .into_iter()
                .map(|p| -> Box<dyn rusqlite::ToSql> {
                    match p {
                        Param::Text(t) => Box::new(t),
                        Param::Int(i) => Box::new(i),
                    }
                })
                .collect();
            let rows = st.query_map(rusqlite::params_from_iter(values.iter()), object_row)?;
            let mut objects = finish(rows.collect::<Result<Vec<_>, _>>()?)?;
            let more = objects.len() > limit;
            objects.truncate(limit);
            Ok(Page { objects, more })
        })
        .await
    }

    async fn versions(&self, collection: &str, id: &str) -> Result<Vec<StoredObject>, StoreError> {
        let (collection, id) = (collection.to_owned(), id.to_owned());
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_VERSIONS)?;
            let rows = st.query_map(params![collection, id], object_row)?;
            finish(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn delete_versions(
        &self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<u64, StoreError> {
        let (c, i, k) = (collection.to_owned(), id.to_owned(), version_keys.to_vec());
        self.write(|reply| Write::Delete(c, i, k, reply)).await
    }

    async fn marking(&self, id: &str) -> Result<Option<StoredObject>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_MARKING)?;
            let row = st.query_row([&id], object_row).optional()?;
            Ok(finish(row.into_iter().collect())?.pop())
        })
        .await
    }

    async fn status(&self, id: &str) -> Result<Option<StatusRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_STATUS)?;
            let row = st
                .query_row([&id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .optional()?;
            let Some((id, owner, collection, request_us, s, f)) = row else {
                return Ok(None);
            };
            let mut status = StatusRecord {
                successes: from_json(&s)?,
                failures: from_json(&f)?,
                pendings: Vec::new(),
                id,
                owner,
                collection,
                request_us,
            };
            let mut st = conn.prepare_cached(sql::SELECT_STATUS_PENDING)?;
            let rows = st.query_map([&status.id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (id, version, waiting) = row?;
                status.pendings.push(PendingObject::detail(
                    id,
                    version,
                    &from_json::<Vec<String>>(&waiting)?,
                ));
            }
            let mut st = conn.prepare_cached(sql::SELECT_STATUS_OUTCOMES)?;
            let rows = st.query_map([&status.id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?;
            for row in rows {
                status.settle(row?);
            }
            Ok(Some(status))
        })
        .await
    }

    async fn pending_objects(&self, collection: &str) -> Result<Vec<PendingRow>, StoreError> {
        let collection = collection.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_PENDING)?;
            let rows = st.query_map([&collection], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (collection, status_id, owner, id, version, version_key, waiting, json) = row?;
                out.push(PendingRow {
                    collection,
                    status_id,
                    owner,
                    object: PendingObject {
                        id,
                        version,
                        version_key,
                        waiting: from_json(&waiting)?,
                        json,
                    },
                });
            }
            Ok(out)
        })
        .await
    }

    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        let u = user.clone();
        self.write(|reply| Write::PutUser(u, reply)).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_USER)?;
            st.query_row([&name], user_row)
                .optional()?
                .map(user_from)
                .transpose()
        })
        .await
    }

    async fn add_token(&self, user: &str, token_hash: &str) -> Result<(), StoreError> {
        let (u, h) = (user.to_owned(), token_hash.to_owned());
        self.write(|reply| Write::AddToken(u, h, reply)).await
    }

    async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let hash = token_hash.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_USER_BY_TOKEN)?;
            st.query_row([&hash], user_row)
                .optional()?
                .map(user_from)
                .transpose()
        })
        .await
    }

    async fn changes(&self, after_seq: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_CHANGES)?;
            let rows = st.query_map(params![after_seq, limit], |r| {
                Ok((object_row(r)?, r.get::<_, String>(9)?, r.get::<_, i64>(10)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (raw, collection, deleted) = row?;
                out.push(Change {
                    collection,
                    deleted: deleted != 0,
                    object: stored_object(raw)?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn add_received(
        &self,
        collection: &str,
        now_us: i64,
        objects: Vec<ReceivedObject>,
    ) -> Result<Vec<bool>, StoreError> {
        let c = collection.to_owned();
        self.write(|reply| Write::Received(c, now_us, objects, reply))
            .await
    }

    async fn recall_received(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
        recall: &str,
        intent: Option<&str>,
    ) -> Result<bool, StoreError> {
        let args = (
            collection.to_owned(),
            id.to_owned(),
            version_key.to_owned(),
            recall.to_owned(),
            intent.map(str::to_owned),
        );
        self.write(|reply| Write::Recall(args.0, args.1, args.2, args.3, args.4, reply))
            .await
    }

    async fn binding(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
    ) -> Result<Option<BindingRecord>, StoreError> {
        let args = (collection.to_owned(), id.to_owned(), version_key.to_owned());
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_BINDING)?;
            let row = st
                .query_row(params![args.0, args.1, args.2], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .optional()?;
            row.map(|(origin, sender, binding, recall)| {
                Ok(BindingRecord {
                    origin: nation(&origin)?,
                    sender: nation(&sender)?,
                    binding,
                    recall,
                })
            })
            .transpose()
        })
        .await
    }

    async fn cursor(&self, name: &str) -> Result<Option<Cursor>, StoreError> {
        let name = name.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_CURSOR)?;
            Ok(st
                .query_row([&name], |r| {
                    Ok(Cursor {
                        seq: r.get(0)?,
                        fingerprint: r.get(1)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn set_cursor_with_intents(
        &self,
        name: &str,
        cursor: &Cursor,
        intents: Vec<String>,
    ) -> Result<(), StoreError> {
        let (n, c) = (name.to_owned(), cursor.clone());
        self.write(|reply| Write::SetCursor(n, c, intents, reply))
            .await
    }

    async fn audit_intents(&self, limit: usize) -> Result<Vec<AuditIntent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_INTENTS)?;
            let rows = st.query_map(params![limit], |r| {
                Ok(AuditIntent {
                    seq: r.get(0)?,
                    event: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn clear_audit_intents(&self, through: i64) -> Result<u64, StoreError> {
        self.write(|reply| Write::ClearIntents(through, reply))
            .await
    }
}

#[cfg(all(test, unix))]
mod file_mode_tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn side(path: &Path, suffix: &str) -> PathBuf {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    }

    async fn write_something(store: &SqliteStore) {
        store
            .put_collection(&CollectionInfo {
                id: "intel".into(),
                title: "Intelligence".into(),
                description: None,
            })
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_database_and_its_wal_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.db");
        let store = SqliteStore::open(&path).unwrap();
        write_something(&store).await;
        for file in [path.clone(), side(&path, "-wal"), side(&path, "-shm")] {
            assert!(file.exists(), "{} is written", file.display());
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_database_made_readable_to_others_is_narrowed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.db");
        let store = SqliteStore::open(&path).unwrap();
        write_something(&store).await;
        drop(store);
        let wide = std::fs::Permissions::from_mode(0o644);
        for file in [path.clone(), side(&path, "-wal"), side(&path, "-shm")] {
            if file.exists() {
                std::fs::set_permissions(&file, wide.clone()).unwrap();
            }
        }
        let store = SqliteStore::open(&path).unwrap();
        write_something(&store).await;
        for file in [path.clone(), side(&path, "-wal"), side(&path, "-shm")] {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }
}
