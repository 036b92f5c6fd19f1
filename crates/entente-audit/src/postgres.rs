//! The audit log in PostgreSQL: one log per node, however many processes serve it.
//!
//! Three tables, in the schema of the pool's connections:
//! - `audit_head`: one row: the origin and verifier key the log was created with (a log never
//!   changes hands), its size and root, the signed checkpoint of that size and root, and the
//!   highest source position of each stream among its entries (JSONB, `{"intent": 17}`);
//! - `audit_leaves`: each entry's leaf (the event's canonical JSON) by its index;
//! - `audit_nodes`: every complete subtree hash by its post-order position, numbered as the file
//!   log's `nodes.idx`, so proofs are the same computation over another store;
//! - `audit_partner_checkpoints`: the last checkpoint of each partner's log that the node
//!   verified, so that every process checks a partner against the same history.
//!
//! An append is one transaction that locks the head row (`SELECT … FOR UPDATE`): appends from
//! every process are serialised there, and the process holding the row is the one that signs the
//! new checkpoint. Under that lock it leaves out the events whose source is already recorded,
//! reads the right edge of the tree (at most 64 nodes), checks that it hashes to the head's root,
//! inserts the new leaves and nodes, and moves the head. Reads lock nothing: everything below the
//! head's size is never written again, so any process answers checkpoints, entries and proofs.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use deadpool_postgres::Pool;
use ed25519_dalek::{SigningKey, VerifyingKey};
use tokio_postgres::types::ToSql;
use tokio_postgres::GenericClient;

use crate::log::{keep_unrecorded, node_count, node_position, prepare, push_leaf, Positions};
use crate::merkle::{self, leaf_hash, node_hash, Hash, NodeSource, EMPTY_ROOT};
use crate::note::{self, Checkpoint, NoteSigner, NoteVerifier};
use crate::{Appended, AuditError, AuditEvent, ConsistencyProof, InclusionProof};

/// The advisory lock under which the tables are created (concurrent first starts of several
/// processes create them one at a time).
const SCHEMA_LOCK: i64 = 74_202;

const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS audit_head (
        id SMALLINT PRIMARY KEY CHECK (id = 1),
        origin TEXT NOT NULL,
        vkey TEXT NOT NULL,
        size BIGINT NOT NULL CHECK (size >= 0),
        root BYTEA NOT NULL,
        checkpoint TEXT NOT NULL,
        positions JSONB NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS audit_leaves (
        idx BIGINT PRIMARY KEY,
        leaf BYTEA NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS audit_nodes (
        pos BIGINT PRIMARY KEY,
        hash BYTEA NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS audit_partner_checkpoints (
        partner TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
        note TEXT NOT NULL
    )",
];

/// The audit log of a node in PostgreSQL. `Send + Sync`; every method takes a connection from
/// the pool for its own use.
pub struct PgAuditLog {
    pool: Pool,
    signer: NoteSigner,
    verifying: VerifyingKey,
}

/// Maps a database error met while doing `context`.
fn db<E: std::error::Error + 'static>(context: &'static str) -> impl FnOnce(E) -> AuditError {
    move |e| AuditError::database(context, &e)
}

fn to_i64(n: u64) -> Result<i64, AuditError> {
    i64::try_from(n).map_err(|_| {
        AuditError::OutOfRange(format!("{n} is beyond the database's 64-bit signed range"))
    })
}

fn corrupt(table: &'static str, message: String) -> AuditError {
    AuditError::DatabaseCorrupt { table, message }
}

fn hash_of(bytes: &[u8], table: &'static str, what: &str) -> Result<Hash, AuditError> {
    bytes.try_into().map_err(|_| {
        corrupt(
            table,
            format!("{what} is {} bytes, not a 32-byte hash", bytes.len()),
        )
    })
}

/// The (level, index) of the complete subtrees on the right edge of a tree of `size` leaves:
/// one per bit set in `size`, the pending left siblings of the next appends.
fn frontier_nodes(size: u64) -> impl Iterator<Item = (u32, u64)> {
    (0..64u32)
        .filter(move |l| (size >> l) & 1 == 1)
        .map(move |l| (l, (size >> l) - 1))
}

/// The root of a tree from its right edge.
fn frontier_root(frontier: &[Option<Hash>; 64]) -> Hash {
    let mut acc: Option<Hash> = None;
    for left in frontier.iter().flatten() {
        acc = Some(match acc {
            None => *left,
            Some(right) => node_hash(left, &right),
        });
    }
    acc.unwrap_or(EMPTY_ROOT)
}

/// The head row, as an append reads it.
struct Head {
    size: u64,
    root: Hash,
    positions: Positions,
}

/// A node source that only notes which nodes a computation asks for.
#[derive(Default)]
struct Recorder(RefCell<BTreeSet<(u32, u64)>>);

impl NodeSource for Recorder {
    fn node(&self, level: u32, index: u64) -> Result<Hash, AuditError> {
        self.0.borrow_mut().insert((level, index));
        Ok(EMPTY_ROOT)
    }
}

/// The nodes fetched for a computation.
struct Fetched(HashMap<(u32, u64), Hash>);

impl NodeSource for Fetched {
    fn node(&self, level: u32, index: u64) -> Result<Hash, AuditError> {
        self.0.get(&(level, index)).copied().ok_or_else(|| {
            corrupt(
                "audit_nodes",
                format!("no subtree hash at level {level}, index {index}"),
            )
        })
    }
}

/// The hashes of the subtrees `wanted`, in one query; a missing one is an error.
async fn fetch_nodes<C: GenericClient + Sync>(
    client: &C,
    wanted: &[(u32, u64)],
) -> Result<HashMap<(u32, u64), Hash>, AuditError> {
    let mut by_position = HashMap::with_capacity(wanted.len());
    for &(level, index) in wanted {
        by_position.insert(to_i64(node_position(level, index))?, (level, index));
    }
    let positions: Vec<i64> = by_position.keys().copied().collect();
    let rows = client
        .query(
            "SELECT pos, hash FROM audit_nodes WHERE pos = ANY($1)",
            &[&positions],
        )
        .await
        .map_err(db("reading subtree hashes"))?;
    let mut out = HashMap::with_capacity(wanted.len());
    for row in rows {
        let pos: i64 = row.try_get(0).map_err(db("reading subtree hashes"))?;
        let hash: &[u8] = row.try_get(1).map_err(db("reading subtree hashes"))?;
        if let Some(&key) = by_position.get(&pos) {
            out.insert(key, hash_of(hash, "audit_nodes", &format!("pos {pos}"))?);
        }
    }
    if let Some((level, index)) = wanted.iter().find(|k| !out.contains_key(k)) {
        return Err(corrupt(
            "audit_nodes",
            format!(
                "no row at pos {} (the subtree at level {level}, index {index})",
                node_position(*level, *index)
            ),
        ));
    }
    Ok(out)
}

/// Runs a tree computation over the stored nodes: once to learn which nodes it needs, then,
/// after fetching them in one query, for real.
async fn over_nodes<C, T, F>(client: &C, compute: F) -> Result<T, AuditError>
where
    C: GenericClient + Sync,
    F: Fn(&dyn NodeSource) -> Result<T, AuditError>,
{
    let wanted: Vec<(u32, u64)> = {
        let recorder = Recorder::default();
        compute(&recorder)?;
        recorder.0.into_inner().into_iter().collect()
    };
    let fetched = Fetched(fetch_nodes(client, &wanted).await?);
    compute(&fetched)
}

impl PgAuditLog {
    /// Opens (creating the tables and the empty log if needed) the log of the node of `origin`
    /// (a nation code such as `FRA`, or the origin line `entente.audit/FRA`), which signs its
    /// checkpoints with `key`, in the database of `pool` (whose connections are already in the
    /// node's schema). A log created for another origin or with another key is refused.
    pub async fn open(pool: Pool, origin: &str, key: SigningKey) -> Result<PgAuditLog, AuditError> {
        let signer = NoteSigner::new(origin, key);
        let verifying = signer.verifying_key();
        let vkey = note::vkey(&signer.origin, &verifying);
        let empty = signer.checkpoint(0, EMPTY_ROOT)?;
        let mut client = pool.get().await.map_err(db("connecting"))?;
        let tx = client
            .transaction()
            .await
            .map_err(db("creating the tables"))?;
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))
            .await
            .map_err(db("creating the tables"))?;
        for statement in SCHEMA {
            tx.batch_execute(statement)
                .await
                .map_err(db("creating the tables"))?;
        }
        tx.execute(
            "INSERT INTO audit_head (id, origin, vkey, size, root, checkpoint, positions) \
             VALUES (1, $1, $2, 0, $3, $4, '{}') ON CONFLICT (id) DO NOTHING",
            &[&signer.origin, &vkey, &EMPTY_ROOT.as_slice(), &empty.note],
        )
        .await
        .map_err(db("creating the log"))?;
        let row = tx
            .query_one("SELECT origin, vkey FROM audit_head WHERE id = 1", &[])
            .await
            .map_err(db("reading the head"))?;
        tx.commit().await.map_err(db("creating the log"))?;
        let theirs: String = row.try_get(0).map_err(db("reading the head"))?;
        let their_key: String = row.try_get(1).map_err(db("reading the head"))?;
        if theirs != signer.origin {
            return Err(AuditError::DatabaseMismatch {
                message: format!(
                    "the log of {theirs} cannot be opened as the log of {}",
                    signer.origin
                ),
            });
        }
        if their_key != vkey {
            return Err(AuditError::DatabaseMismatch {
                message: format!("the log was created with the key {their_key}, not {vkey}"),
            });
        }
        Ok(PgAuditLog {
            pool,
            signer,
            verifying,
        })
    }

    /// The pool the log works through.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The origin line of this log, e.g. `entente.audit/FRA`.
    pub fn origin(&self) -> &str {
        &self.signer.origin
    }

    /// The verifier of this log's checkpoints.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier::new(&self.signer.origin, self.verifying)
    }

    /// The verifier key text partners configure: `entente.audit/FRA+<id>+<key>`.
    pub fn vkey(&self) -> String {
        note::vkey(&self.signer.origin, &self.verifying)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, AuditError> {
        self.pool.get().await.map_err(db("connecting"))
    }

    /// Appends, in order and in one transaction, the events whose source is not recorded yet: an
    /// event whose source position is at or below the highest recorded position of its stream
    /// (or of an earlier event of the batch) is left out, so several processes may drain the
    /// same stream without recording an event twice. Signs the checkpoint of the new size.
    /// Either every event is valid, or none is appended.
    pub async fn append_batch(&self, events: &[AuditEvent]) -> Result<Appended, AuditError> {
        let prepared = prepare(events)?;
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(db("beginning an append"))?;
        let row = tx
            .query_one(
                "SELECT size, root, positions::text FROM audit_head WHERE id = 1 FOR UPDATE",
                &[],
            )
            .await
            .map_err(db("locking the head"))?;
        let mut head = head_of(&row)?;
        let (kept, skipped) = keep_unrecorded(prepared, &mut head.positions);
        let start = head.size;
        if kept.is_empty() {
            tx.rollback().await.map_err(db("ending an empty append"))?;
            return Ok(Appended {
                leaves: start..start,
                skipped,
            });
        }
        let edge: Vec<(u32, u64)> = frontier_nodes(start).collect();
        let hashes = fetch_nodes(&*tx, &edge).await?;
        let mut frontier = [None; 64];
        for (level, index) in edge {
            frontier[level as usize] = hashes.get(&(level, index)).copied();
        }
        if frontier_root(&frontier) != head.root {
            return Err(corrupt(
                "audit_nodes",
                format!(
                    "the right edge of the tree of size {start} does not hash to the head's root"
                ),
            ));
        }
        let mut nodes = Vec::with_capacity(kept.len() * 64 + 64 * 32);
        for p in &kept {
            push_leaf(&mut frontier, &mut nodes, p.hash);
        }
        let end = start + kept.len() as u64;
        let checkpoint = self.signer.checkpoint(end, frontier_root(&frontier))?;
        let indices = (start..end).map(to_i64).collect::<Result<Vec<_>, _>>()?;
        let leaves: Vec<&[u8]> = kept.iter().map(|p| p.leaf.as_slice()).collect();
        tx.execute(
            "INSERT INTO audit_leaves (idx, leaf) SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[])",
            &[&indices, &leaves],
        )
        .await
        .map_err(db("inserting leaves"))?;
        let first = node_count(start);
        let node_hashes: Vec<&[u8]> = nodes.chunks_exact(32).collect();
        let positions = (first..first + node_hashes.len() as u64)
            .map(to_i64)
            .collect::<Result<Vec<_>, _>>()?;
        tx.execute(
            "INSERT INTO audit_nodes (pos, hash) SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[])",
            &[&positions, &node_hashes],
        )
        .await
        .map_err(db("inserting subtree hashes"))?;
        let streams = serde_json::to_string(&head.positions)
            .map_err(|e| corrupt("audit_head", format!("positions: {e}")))?;
        let params: [&(dyn ToSql + Sync); 4] = [
            &to_i64(end)?,
            &checkpoint.root.as_slice(),
            &checkpoint.note,
            &streams,
        ];
        tx.execute(
            "UPDATE audit_head SET size = $1, root = $2, checkpoint = $3, \
             positions = $4::text::jsonb WHERE id = 1",
            &params,
        )
        .await
        .map_err(db("moving the head"))?;
        tx.commit().await.map_err(db("committing an append"))?;
        Ok(Appended {
            leaves: start..end,
            skipped,
        })
    }

    /// The highest position of `stream` among the sources of the entries (`Some(17)` for
    /// `intent` when `intent/17` is the highest `intent/…` recorded), `None` when no entry comes
    /// from it.
    pub async fn position(&self, stream: &str) -> Result<Option<u64>, AuditError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT (positions ->> $1)::bigint FROM audit_head WHERE id = 1",
                &[&stream],
            )
            .await
            .map_err(db("reading the positions"))?;
        let at: Option<i64> = row.try_get(0).map_err(db("reading the positions"))?;
        at.map(|p| {
            u64::try_from(p).map_err(|_| {
                corrupt(
                    "audit_head",
                    format!("the position of {stream:?} is negative"),
                )
            })
        })
        .transpose()
    }

    /// Number of entries: the size of the tree the latest checkpoint describes.
    pub async fn size(&self) -> Result<u64, AuditError> {
        let client = self.client().await?;
        size_on(&**client).await
    }

    /// The stored leaf (canonical event JSON) at `index`.
    pub async fn leaf(&self, index: u64) -> Result<Vec<u8>, AuditError> {
        let client = self.client().await?;
        leaf_on(&**client, index).await
    }

    /// The event at `index`.
    pub async fn entry(&self, index: u64) -> Result<AuditEvent, AuditError> {
        let leaf = self.leaf(index).await?;
        event_of(index, &leaf)
    }

    /// The events in `range` (which must lie within the log).
    pub async fn entries(&self, range: Range<u64>) -> Result<Vec<AuditEvent>, AuditError> {
        let client = self.client().await?;
        let size = size_on(&**client).await?;
        if range.end > size || range.start > range.end {
            return Err(AuditError::OutOfRange(format!(
                "entries {}..{} are not within the log's {size} entries",
                range.start, range.end
            )));
        }
        let rows = client
            .query(
                "SELECT idx, leaf FROM audit_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[&to_i64(range.start)?, &to_i64(range.end)?],
            )
            .await
            .map_err(db("reading entries"))?;
        let mut out = Vec::with_capacity(rows.len());
        for (expected, row) in range.clone().zip(&rows) {
            let idx: i64 = row.try_get(0).map_err(db("reading entries"))?;
            if u64::try_from(idx).ok() != Some(expected) {
                return Err(corrupt(
                    "audit_leaves",
                    format!("entry {expected} is missing"),
                ));
            }
            let leaf: &[u8] = row.try_get(1).map_err(db("reading entries"))?;
            out.push(event_of(expected, leaf)?);
        }
        if (out.len() as u64) < range.end - range.start {
            return Err(corrupt(
                "audit_leaves",
                format!("entry {} is missing", range.start + out.len() as u64),
            ));
        }
        Ok(out)
    }

    /// The root of the tree of the first `size` entries.
    pub async fn root(&self, size: u64) -> Result<Hash, AuditError> {
        let client = self.client().await?;
        check_size(&**client, size).await?;
        over_nodes(&**client, |src| merkle::root(src, size)).await
    }

    /// The latest checkpoint, as the process that appended last signed it.
    pub async fn checkpoint(&self) -> Result<Checkpoint, AuditError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT size, root, checkpoint FROM audit_head WHERE id = 1",
                &[],
            )
            .await
            .map_err(db("reading the checkpoint"))?;
        let size: i64 = row.try_get(0).map_err(db("reading the checkpoint"))?;
        let root: &[u8] = row.try_get(1).map_err(db("reading the checkpoint"))?;
        let note: String = row.try_get(2).map_err(db("reading the checkpoint"))?;
        Ok(Checkpoint {
            origin: self.signer.origin.clone(),
            size: u64::try_from(size)
                .map_err(|_| corrupt("audit_head", format!("size {size} is negative")))?,
            root: hash_of(root, "audit_head", "root")?,
            note,
        })
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, AuditError> {
        let client = self.client().await?;
        check_size(&**client, size).await?;
        over_nodes(&**client, |src| merkle::inclusion_path(src, index, size)).await
    }

    /// The consistency proof between the trees of the first `first` and `second` entries.
    pub async fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<Vec<Hash>, AuditError> {
        let client = self.client().await?;
        check_size(&**client, second).await?;
        over_nodes(&**client, |src| {
            merkle::consistency_path(src, first, second)
        })
        .await
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries, as a document carrying
    /// the entry, its leaf hash and the root.
    pub async fn prove_inclusion(
        &self,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof, AuditError> {
        let client = self.client().await?;
        check_size(&**client, size).await?;
        let (hashes, root) = over_nodes(&**client, |src| {
            Ok((
                merkle::inclusion_path(src, index, size)?,
                merkle::root(src, size)?,
            ))
        })
        .await?;
        let leaf = leaf_on(&**client, index).await?;
        Ok(InclusionProof {
            origin: self.signer.origin.clone(),
            index,
            size,
            leaf: Some(event_of(index, &leaf)?),
            leaf_hash: leaf_hash(&leaf),
            root,
            hashes,
        })
    }

    /// The consistency proof from `first` to `second` entries, as a document carrying both roots.
    pub async fn prove_consistency(
        &self,
        first: u64,
        second: u64,
    ) -> Result<ConsistencyProof, AuditError> {
        let client = self.client().await?;
        check_size(&**client, second).await?;
        let (hashes, first_root, second_root) = over_nodes(&**client, |src| {
            Ok((
                merkle::consistency_path(src, first, second)?,
                merkle::root(src, first)?,
                merkle::root(src, second)?,
            ))
        })
        .await?;
        Ok(ConsistencyProof {
            origin: self.signer.origin.clone(),
            first,
            second,
            first_root,
            second_root,
            hashes,
        })
    }
}

impl PgAuditLog {
    /// The signed note of the last checkpoint of `partner`'s log that the node kept.
    pub async fn kept_checkpoint(&self, partner: &str) -> Result<Option<String>, AuditError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT note FROM audit_partner_checkpoints WHERE partner = $1",
                &[&partner],
            )
            .await
            .map_err(db("reading a partner checkpoint"))?;
        row.map(|r| r.try_get(0))
            .transpose()
            .map_err(db("reading a partner checkpoint"))
    }

    /// Keeps `checkpoint` (verified by the caller) as the last of `partner`'s log, unless one of
    /// a larger size is kept already (another process may have moved on).
    pub async fn keep_checkpoint(
        &self,
        partner: &str,
        checkpoint: &Checkpoint,
    ) -> Result<(), AuditError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO audit_partner_checkpoints (partner, size, note) VALUES ($1, $2, $3) \
                 ON CONFLICT (partner) DO UPDATE SET size = EXCLUDED.size, note = EXCLUDED.note \
                 WHERE audit_partner_checkpoints.size <= EXCLUDED.size",
                &[&partner, &to_i64(checkpoint.size)?, &checkpoint.note],
            )
            .await
            .map_err(db("keeping a partner checkpoint"))?;
        Ok(())
    }
}

fn head_of(row: &tokio_postgres::Row) -> Result<Head, AuditError> {
    let size: i64 = row.try_get(0).map_err(db("reading the head"))?;
    let root: &[u8] = row.try_get(1).map_err(db("reading the head"))?;
    let positions: String = row.try_get(2).map_err(db("reading the head"))?;
    Ok(Head {
        size: u64::try_from(size)
            .map_err(|_| corrupt("audit_head", format!("size {size} is negative")))?,
        root: hash_of(root, "audit_head", "root")?,
        positions: serde_json::from_str(&positions).map_err(|e| {
            corrupt(
                "audit_head",
                format!("positions {positions:?} are not a map of streams to positions: {e}"),
            )
        })?,
    })
}

fn event_of(index: u64, leaf: &[u8]) -> Result<AuditEvent, AuditError> {
    AuditEvent::from_json(leaf).map_err(|e| corrupt("audit_leaves", format!("entry {index}: {e}")))
}

async fn size_on<C: GenericClient + Sync>(client: &C) -> Result<u64, AuditError> {
    let row = client
        .query_one("SELECT size FROM audit_head WHERE id = 1", &[])
        .await
        .map_err(db("reading the size"))?;
    let size: i64 = row.try_get(0).map_err(db("reading the size"))?;
    u64::try_from(size).map_err(|_| corrupt("audit_head", format!("size {size} is negative")))
}

async fn check_size<C: GenericClient + Sync>(client: &C, size: u64) -> Result<(), AuditError> {
    let current = size_on(client).await?;
    if size > current {
        return Err(AuditError::OutOfRange(format!(
            "tree size {size} is beyond the log's current size {current}"
        )));
    }
    Ok(())
}

async fn leaf_on<C: GenericClient + Sync>(client: &C, index: u64) -> Result<Vec<u8>, AuditError> {
    let size = size_on(client).await?;
    if index >= size {
        return Err(AuditError::OutOfRange(format!(
            "entry {index} does not exist: the log has {size} entries"
        )));
    }
    let row = client
        .query_opt(
            "SELECT leaf FROM audit_leaves WHERE idx = $1",
            &[&to_i64(index)?],
        )
        .await
        .map_err(db("reading an entry"))?
        .ok_or_else(|| corrupt("audit_leaves", format!("entry {index} is missing")))?;
    row.try_get(0).map_err(db("reading an entry"))
}

impl std::fmt::Debug for PgAuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgAuditLog")
            .field("origin", &self.signer.origin)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
