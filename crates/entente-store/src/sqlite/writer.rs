//! The writer thread of the SQLite store: it takes every request that is waiting, runs each
//! inside its own savepoint of one transaction ([`crate::writes`] decides what each writes), commits
//! once and only then answers them all.

use std::sync::mpsc;

use rusqlite::{Connection, OptionalExtension};

use super::Reply;
use crate::error::{StoreError, StoreErrorKind};
use crate::model::*;
use crate::writes::{self, Arg, Clock, Statements};

/// The most requests one commit covers.
const MAX_BATCH: usize = 256;

/// A write request and where to send its outcome.
pub(super) enum Write {
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

/// Quiet time after a write before the writer checkpoints the WAL.
const IDLE_CHECKPOINT_AFTER: std::time::Duration = std::time::Duration::from_millis(50);

pub(super) fn writer_loop(mut conn: Connection, receiver: mpsc::Receiver<Write>) {
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
        let mut clock = run_now(writes::read_clock(&mut SqliteStatements(&tx)))?;
        for write in batch {
            let mut sp = tx.savepoint()?;
            let clock_before = clock;
            let result = apply(&mut SqliteStatements(&sp), write, &mut clock);
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
                clock = clock_before;
            } else {
                sp.commit()?;
            }
            pending.push(result);
        }
        run_now(writes::save_clock(&mut SqliteStatements(&tx), clock))?;
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

/// Runs one request's transaction (inside its savepoint) and keeps its outcome for the commit.
fn apply(s: &mut SqliteStatements<'_>, write: Write, clock: &mut Clock) -> Pending {
    match write {
        Write::Add(req, reply) => Pending::Add(reply, run_now(writes::add(s, &req, clock))),
        Write::Delete(collection, id, keys, reply) => Pending::Count(
            reply,
            run_now(writes::delete_versions(s, &collection, &id, &keys, clock)),
        ),
        Write::PutCollection(c, reply) => {
            Pending::Unit(reply, run_now(writes::put_collection(s, &c)))
        }
        Write::PutUser(u, reply) => Pending::Unit(reply, run_now(writes::put_user(s, &u))),
        Write::AddToken(name, hash, reply) => {
            Pending::Unit(reply, run_now(writes::add_token(s, &name, &hash)))
        }
        Write::Received(collection, now, objects, reply) => Pending::Flags(
            reply,
            run_now(writes::add_received(s, &collection, now, &objects, clock)),
        ),
        Write::Recall(collection, id, key, recall, intent, reply) => Pending::Flag(
            reply,
            run_now(writes::recall(
                s,
                (&collection, &id, &key),
                &recall,
                intent.as_deref(),
                clock,
            )),
        ),
        Write::SetCursor(name, c, intents, reply) => {
            let intents: Vec<&str> = intents.iter().map(String::as_str).collect();
            Pending::Unit(reply, run_now(writes::set_cursor(s, &name, &c, &intents)))
        }
        Write::ClearIntents(through, reply) => {
            Pending::Count(reply, run_now(writes::clear_intents(s, through)))
        }
    }
}

/// Statements on the writer's connection (a savepoint of the batch's transaction), prepared
/// once and kept in the connection's cache.
struct SqliteStatements<'c>(&'c Connection);

fn sqlite_args<'a>(args: &'a [Arg<'a>]) -> Vec<&'a dyn rusqlite::ToSql> {
    args.iter()
        .map(|a| -> &dyn rusqlite::ToSql {
            match a {
                Arg::Text(t) => t,
                Arg::OptText(t) => t,
                Arg::Int(i) => i,
            }
        })
        .collect()
}

impl Statements for SqliteStatements<'_> {
    const SHARED: bool = false;

    async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let n = self
            .0
            .prepare_cached(sql)?
            .execute(sqlite_args(args).as_slice())?;
        Ok(n as u64)
    }

    async fn text(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .0
            .prepare_cached(sql)?
            .query_row(sqlite_args(args).as_slice(), |r| r.get(0))
            .optional()?)
    }

    async fn ints<const N: usize>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<[i64; N], StoreError> {
        Ok(self
            .0
            .prepare_cached(sql)?
            .query_row(sqlite_args(args).as_slice(), |r| {
                let mut out = [0; N];
                for (i, v) in out.iter_mut().enumerate() {
                    *v = r.get(i)?;
                }
                Ok(out)
            })?)
    }
}

/// The outcome of a transaction of [`crate::writes`] on SQLite. Its statements never wait, so
/// its future is ready at the first poll; one that is not is a bug, reported as an error.
fn run_now<T>(
    transaction: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let mut transaction = std::pin::pin!(transaction);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match transaction.as_mut().poll(&mut context) {
        std::task::Poll::Ready(outcome) => outcome,
        std::task::Poll::Pending => {
            Err(StoreErrorKind::Corrupt("a SQLite write waited, which it never does".into()).into())
        }
    }
}
