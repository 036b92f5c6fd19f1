//! The durable log: files, group commit and recovery.
//!
//! A log directory holds:
//! - `LOG`: the origin and verifier key the log was created with (a log never changes hands);
//! - `entries.log`: the records, each `len (u32 LE) ‖ first 8 bytes of the leaf hash ‖ leaf`,
//!   where the leaf is the event's canonical JSON and the top bit of `len` marks the last record
//!   of a batch. This file is the only authority: it is the one
//!   fsynced on every append, and everything else can be rebuilt from it;
//! - `offsets.idx`: the byte offset (u64 LE) of each record, so entry `i` is two reads away;
//! - `nodes.idx`: every complete subtree hash, 32 bytes each, in the order the subtrees complete
//!   (post-order), so any node is one read at a computed position and appending only appends;
//! - `synced`: a mark "the index files are durable up to size S", with the entry file length and
//!   root at S, rewritten every [`MARK_INTERVAL`] leaves and when the log is closed;
//! - `positions`: the highest source position of each stream among the first S entries (see
//!   [`AuditLog::position`]), written just before each mark, so that an open reads only the
//!   entries past the mark to know them;
//! - `lock`: held (advisory lock) while a process has the log open.
//!
//! Appends write the three data files with positional writes, then share one `fdatasync` of
//! `entries.log` among every appender waiting at that moment (group commit). On open, the index
//! files are trusted up to the mark (after checking the root recorded there) and rebuilt beyond it
//! from `entries.log`, whose torn tail (a record cut short or failing its check, and any records of
//! a batch whose last record is not there) is cut off. An
//! acknowledged record was fsynced, so it is never in that tail.

use std::collections::BTreeMap;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::{self, leaf_hash, node_hash, Hash, NodeSource};
use crate::note::{self, Checkpoint, NoteSigner, NoteVerifier};
use crate::{AuditError, AuditEvent, ConsistencyProof, InclusionProof, MAX_EVENT_BYTES};

use files::*;

mod files;
mod recover;

/// The index files are made durable, and the mark rewritten, every this many leaves: recovery
/// rebuilds at most this many leaves' worth of index from the entry file.
pub const MARK_INTERVAL: u64 = 1 << 16;

const HEADER: usize = 12;
/// Set in the length word of the last record of each batch: recovery keeps whole batches only.
const BATCH_END: u32 = 1 << 31;
const META_MAGIC: &str = "entente-audit-log 1";
const POSITIONS_MAGIC: &str = "entente-audit-positions 1";

/// The highest position recorded of each source stream (`intent` → 17 for `intent/17`).
pub(crate) type Positions = BTreeMap<String, u64>;

/// Raises `positions` to the source of `event`, if it has one.
fn note_position(positions: &mut Positions, event: &AuditEvent) {
    if let Some((stream, seq)) = event.source_position() {
        let at = positions.entry(stream.to_owned()).or_insert(seq);
        *at = (*at).max(seq);
    }
}

/// Raises `positions` to `source`, if there is one.
fn note_source(positions: &mut Positions, source: Option<&(String, u64)>) {
    if let Some((stream, seq)) = source {
        let at = positions.entry(stream.clone()).or_insert(*seq);
        *at = (*at).max(*seq);
    }
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The leaf indices of the events appended (empty when none was).
    pub leaves: Range<u64>,
    /// The events left out because their source position was already recorded.
    pub skipped: usize,
}

/// An event checked and encoded for appending.
pub(crate) struct Prepared {
    /// The canonical JSON.
    pub(crate) leaf: Vec<u8>,
    pub(crate) hash: Hash,
    /// The source stream and position, when the event has one.
    pub(crate) source: Option<(String, u64)>,
}

/// Validates and encodes a batch; an invalid event refuses the whole batch, naming its place.
pub(crate) fn prepare(events: &[AuditEvent]) -> Result<Vec<Prepared>, AuditError> {
    let mut out = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        event.validate().map_err(|e| match e {
            AuditError::InvalidEvent { field, message } => AuditError::InvalidEvent {
                field,
                message: format!("{message} (event {i} of the batch)"),
            },
            other => other,
        })?;
        let leaf = event.leaf_bytes();
        if leaf.len() > MAX_EVENT_BYTES {
            return Err(AuditError::InvalidEvent {
                field: "detail",
                message: format!(
                    "the event is {} bytes, more than {MAX_EVENT_BYTES} (event {i} of the batch)",
                    leaf.len()
                ),
            });
        }
        out.push(Prepared {
            hash: leaf_hash(&leaf),
            leaf,
            source: event
                .source_position()
                .map(|(stream, seq)| (stream.to_owned(), seq)),
        });
    }
    Ok(out)
}

/// Keeps the events whose source position is above what `positions` records for their stream
/// (raising it as it goes, so a batch repeating a source keeps its first); returns them and how
/// many were left out.
pub(crate) fn keep_unrecorded(
    prepared: Vec<Prepared>,
    positions: &mut Positions,
) -> (Vec<Prepared>, usize) {
    let before = prepared.len();
    let kept: Vec<Prepared> = prepared
        .into_iter()
        .filter(|p| match &p.source {
            Some((stream, seq)) if positions.get(stream).is_some_and(|r| seq <= r) => false,
            source => {
                note_source(positions, source.as_ref());
                true
            }
        })
        .collect();
    let skipped = before - kept.len();
    (kept, skipped)
}

/// Number of nodes stored for a tree of `n` leaves (every complete subtree).
pub(crate) fn node_count(n: u64) -> u64 {
    2 * n - u64::from(n.count_ones())
}

/// Position in `nodes.idx` of the complete subtree (`level`, `index`): it is written right after
/// its last leaf and that leaf's completed ancestors below it.
pub(crate) fn node_position(level: u32, index: u64) -> u64 {
    let last_leaf = ((index + 1) << level) - 1;
    node_count(last_leaf) + u64::from(level)
}

/// Appends one leaf hash to the post-order node stream, given the pending left siblings.
pub(crate) fn push_leaf(frontier: &mut [Option<Hash>; 64], out: &mut Vec<u8>, leaf: Hash) {
    let mut node = leaf;
    let mut level = 0;
    loop {
        out.extend_from_slice(&node);
        match frontier[level].take() {
            Some(left) => {
                node = node_hash(&left, &node);
                level += 1;
            }
            None => {
                frontier[level] = Some(node);
                return;
            }
        }
    }
}

struct Writer {
    /// Leaves written to the files (durable or not yet).
    written: u64,
    /// Length of `entries.log` holding those leaves.
    entries_len: u64,
    /// For each level, the left sibling waiting for its right one.
    frontier: [Option<Hash>; 64],
    /// The positions of the `written` leaves.
    positions: Positions,
}

struct Syncer {
    /// The size the `synced` mark records.
    mark: u64,
}

/// An append-only, verifiable audit log in a directory. `Send + Sync`: share it as
/// `Arc<AuditLog>`; appends from many threads share fsyncs.
pub struct AuditLog {
    dir: PathBuf,
    origin: String,
    verifying: VerifyingKey,
    /// Absent when the log was opened without its key: entries and proofs, no checkpoints.
    signer: Option<NoteSigner>,
    entries: File,
    offsets: File,
    nodes: File,
    _lock: File,
    writer: Mutex<Writer>,
    syncer: Mutex<Syncer>,
    /// Leaves that are durable: what readers, proofs and checkpoints see.
    durable: AtomicU64,
    /// The positions of the durable leaves.
    durable_positions: Mutex<Positions>,
    poisoned: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these leaves no half-done state behind that the poison flag
    // of the log does not already cover.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Mark {
    size: u64,
    entries_len: u64,
    root: Hash,
}

impl Mark {
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(56);
        b.extend_from_slice(&self.size.to_le_bytes());
        b.extend_from_slice(&self.entries_len.to_le_bytes());
        b.extend_from_slice(&self.root);
        let check = Sha256::digest(&b);
        b.extend_from_slice(&check[..8]);
        b
    }

    fn decode(b: &[u8]) -> Option<Mark> {
        if b.len() != 56 || Sha256::digest(&b[..48])[..8] != b[48..] {
            return None;
        }
        let mut root = [0u8; 32];
        root.copy_from_slice(&b[16..48]);
        Some(Mark {
            size: u64::from_le_bytes(b[..8].try_into().ok()?),
            entries_len: u64::from_le_bytes(b[8..16].try_into().ok()?),
            root,
        })
    }
}

impl AuditLog {
    /// Opens (creating if needed) the log in `dir` of the node of `origin` (a nation code such as
    /// `FRA`, or the origin line `entente.audit/FRA`), which signs its checkpoints with `key`.
    /// Recovers from a crash: cuts a torn tail and rebuilds the index files past the last mark.
    pub fn open(dir: &Path, origin: &str, key: SigningKey) -> Result<AuditLog, AuditError> {
        let signer = NoteSigner::new(origin, key);
        std::fs::create_dir_all(dir).map_err(|e| AuditError::io(dir, e))?;
        let lock_file = take_lock(dir)?;
        check_meta(dir, &signer)?;
        let (origin, verifying) = (signer.origin.clone(), signer.verifying_key());
        AuditLog::finish_open(dir, lock_file, origin, verifying, Some(signer))
    }

    /// Opens an existing log without its signing key (as a tool serving entries and proofs
    /// does): everything but [`AuditLog::checkpoint`] works. Recovers like [`AuditLog::open`].
    pub fn open_without_key(dir: &Path) -> Result<AuditLog, AuditError> {
        let meta = dir.join("LOG");
        if !meta.exists() {
            return Err(AuditError::Corrupt {
                path: meta,
                message: "missing: this is not an audit log directory".into(),
            });
        }
        let lock_file = take_lock(dir)?;
        let (origin, verifying) = read_meta(dir)?;
        AuditLog::finish_open(dir, lock_file, origin, verifying, None)
    }

    fn finish_open(
        dir: &Path,
        lock_file: File,
        origin: String,
        verifying: VerifyingKey,
        signer: Option<NoteSigner>,
    ) -> Result<AuditLog, AuditError> {
        let entries = open_rw(&dir.join("entries.log"))?;
        let offsets = open_rw(&dir.join("offsets.idx"))?;
        let nodes = open_rw(&dir.join("nodes.idx"))?;
        sync_dir(dir)?;
        let log = AuditLog {
            dir: dir.to_owned(),
            origin,
            verifying,
            signer,
            entries,
            offsets,
            nodes,
            _lock: lock_file,
            writer: Mutex::new(Writer {
                written: 0,
                entries_len: 0,
                frontier: [None; 64],
                positions: Positions::new(),
            }),
            syncer: Mutex::new(Syncer { mark: 0 }),
            durable: AtomicU64::new(0),
            durable_positions: Mutex::new(Positions::new()),
            poisoned: Mutex::new(None),
        };
        log.recover()?;
        Ok(log)
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The origin line of this log, e.g. `entente.audit/FRA`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier of this log's checkpoints.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier::new(&self.origin, self.verifying)
    }

    /// The verifier key text partners configure: `entente.audit/FRA+<id>+<key>`.
    pub fn vkey(&self) -> String {
        note::vkey(&self.origin, &self.verifying)
    }

    /// Appends one event; returns its leaf index once it is durable.
    pub fn append(&self, event: &AuditEvent) -> Result<u64, AuditError> {
        Ok(self.append_batch(std::slice::from_ref(event))?.start)
    }

    /// The highest position of `stream` among the sources of the durable entries (`Some(17)`
    /// for `intent` when `intent/17` is the highest `intent/…` recorded), `None` when no entry
    /// comes from it. A writer that appends the events of one stream in position order, one
    /// batch at a time, asks it before appending what may already be there (after a crash
    /// between its append and the step that marks the events recorded) and skips what is at or
    /// below it: so each source is recorded once.
    pub fn position(&self, stream: &str) -> Option<u64> {
        lock(&self.durable_positions).get(stream).copied()
    }

    /// Appends events in order with one fsync; returns their leaf indices once they are durable.
    /// Either every event is valid and appended, or none is.
    pub fn append_batch(&self, events: &[AuditEvent]) -> Result<Range<u64>, AuditError> {
        Ok(self.append_prepared(prepare(events)?, false)?.leaves)
    }

    /// Appends, in order and with one fsync, the events of `events` that are not recorded yet:
    /// an event whose source position is at or below the highest recorded position of its
    /// stream (see [`AuditLog::position`]), or below an earlier event of the batch, is skipped.
    /// The check and the append are one step under the log's writer lock, so concurrent
    /// callers draining the same stream never record a source twice. Either every event is
    /// valid, or none is appended.
    pub fn append_unrecorded(&self, events: &[AuditEvent]) -> Result<Appended, AuditError> {
        self.append_prepared(prepare(events)?, true)
    }

    fn append_prepared(
        &self,
        prepared: Vec<Prepared>,
        skip_recorded: bool,
    ) -> Result<Appended, AuditError> {
        if prepared.is_empty() {
            let size = self.size();
            return Ok(Appended {
                leaves: size..size,
                skipped: 0,
            });
        }
        let (range, skipped) = {
            let mut w = lock(&self.writer);
            self.check_poisoned()?;
            let (kept, skipped) = if skip_recorded {
                keep_unrecorded(prepared, &mut w.positions)
            } else {
                for p in &prepared {
                    note_source(&mut w.positions, p.source.as_ref());
                }
                (prepared, 0)
            };
            if kept.is_empty() {
                // Nothing new; what is recorded may still be on its way to the disk.
                let written = w.written;
                drop(w);
                self.sync(written)?;
                return Ok(Appended {
                    leaves: written..written,
                    skipped,
                });
            }
            let start = w.written;
            let mut records = Vec::with_capacity(kept.iter().map(|p| HEADER + p.leaf.len()).sum());
            let mut offsets = Vec::with_capacity(kept.len() * 8);
            let mut nodes = Vec::with_capacity(kept.len() * 64 + 64 * 32);
            let mut at = w.entries_len;
            for (i, p) in kept.iter().enumerate() {
                let last = i + 1 == kept.len();
                let word = p.leaf.len() as u32 | if last { BATCH_END } else { 0 };
                records.extend_from_slice(&word.to_le_bytes());
                records.extend_from_slice(&p.hash[..8]);
                records.extend_from_slice(&p.leaf);
                offsets.extend_from_slice(&at.to_le_bytes());
                at += (HEADER + p.leaf.len()) as u64;
                push_leaf(&mut w.frontier, &mut nodes, p.hash);
            }
            let wrote = self
                .entries
                .write_all_at(&records, w.entries_len)
                .map_err(|e| AuditError::io(self.dir.join("entries.log"), e))
                .and_then(|()| {
                    self.offsets
                        .write_all_at(&offsets, start * 8)
                        .map_err(|e| AuditError::io(self.dir.join("offsets.idx"), e))
                })
                .and_then(|()| {
                    self.nodes
                        .write_all_at(&nodes, node_count(start) * 32)
                        .map_err(|e| AuditError::io(self.dir.join("nodes.idx"), e))
                });
            if let Err(e) = wrote {
                // The frontier (and the positions) already moved on: nothing more may be
                // appended in this process.
                self.poison(&e);
                return Err(e);
            }
            w.written += kept.len() as u64;
            w.entries_len = at;
            (start..w.written, skipped)
        };
        self.sync(range.end)?;
        Ok(Appended {
            leaves: range,
            skipped,
        })
    }

    /// Makes every leaf below `end` durable, sharing the fsync with concurrent appenders.
    fn sync(&self, end: u64) -> Result<(), AuditError> {
        let mut s = lock(&self.syncer);
        if self.durable.load(Ordering::Acquire) >= end {
            return Ok(());
        }
        self.check_poisoned()?;
        let (target, positions) = {
            let w = lock(&self.writer);
            (w.written, w.positions.clone())
        };
        if let Err(e) = self.entries.sync_data() {
            // After a failed fsync the kernel may have dropped the dirty pages: nothing written
            // since the last good fsync can be trusted, so stop here.
            let e = AuditError::io(self.dir.join("entries.log"), e);
            self.poison(&e);
            return Err(e);
        }
        *lock(&self.durable_positions) = positions.clone();
        self.durable.store(target, Ordering::Release);
        if target - s.mark >= MARK_INTERVAL {
            // The entries are durable whatever happens here; a failed mark only stops appends.
            if let Err(e) = self.write_mark(target, &positions) {
                self.poison(&e);
            } else {
                s.mark = target;
            }
        }
        Ok(())
    }

    fn poison(&self, e: &AuditError) {
        let mut p = lock(&self.poisoned);
        if p.is_none() {
            *p = Some(e.to_string());
        }
    }

    fn check_poisoned(&self) -> Result<(), AuditError> {
        match &*lock(&self.poisoned) {
            Some(cause) => Err(AuditError::Poisoned {
                path: self.dir.clone(),
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Number of durable entries: the size of the tree that proofs and checkpoints describe.
    pub fn size(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    fn check_size(&self, size: u64) -> Result<(), AuditError> {
        let current = self.size();
        if size > current {
            return Err(AuditError::OutOfRange(format!(
                "tree size {size} is beyond the log's current size {current}"
            )));
        }
        Ok(())
    }

    /// The stored leaf (canonical event JSON) at `index`.
    pub fn leaf(&self, index: u64) -> Result<Vec<u8>, AuditError> {
        if index >= self.size() {
            return Err(AuditError::OutOfRange(format!(
                "entry {index} does not exist: the log has {} entries",
                self.size()
            )));
        }
        let mut off = [0u8; 8];
        self.offsets
            .read_exact_at(&mut off, index * 8)
            .map_err(|e| AuditError::io(self.dir.join("offsets.idx"), e))?;
        let (leaf, _) = read_record(&self.entries, u64::from_le_bytes(off))
            .map_err(|m| self.corrupt("entries.log", format!("entry {index}: {m}")))?;
        Ok(leaf)
    }

    /// The event at `index`.
    pub fn entry(&self, index: u64) -> Result<AuditEvent, AuditError> {
        let leaf = self.leaf(index)?;
        AuditEvent::from_json(&leaf)
            .map_err(|e| self.corrupt("entries.log", format!("entry {index}: {e}")))
    }

    /// The events in `range` (which must lie within the log).
    pub fn entries(&self, range: Range<u64>) -> Result<Vec<AuditEvent>, AuditError> {
        if range.end > self.size() || range.start > range.end {
            return Err(AuditError::OutOfRange(format!(
                "entries {}..{} are not within the log's {} entries",
                range.start,
                range.end,
                self.size()
            )));
        }
        range.map(|i| self.entry(i)).collect()
    }

    /// The root of the tree of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash, AuditError> {
        self.check_size(size)?;
        merkle::root(self, size)
    }

    /// A checkpoint of the current size, signed now.
    pub fn checkpoint(&self) -> Result<Checkpoint, AuditError> {
        let size = self.size();
        let signer = self.signer.as_ref().ok_or_else(|| AuditError::Mismatch {
            path: self.dir.clone(),
            message: "the log was opened without its signing key: no checkpoint can be signed"
                .into(),
        })?;
        signer.checkpoint(size, merkle::root(self, size)?)
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, AuditError> {
        self.check_size(size)?;
        merkle::inclusion_path(self, index, size)
    }

    /// The consistency proof between the trees of the first `first` and `second` entries.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, AuditError> {
        self.check_size(second)?;
        merkle::consistency_path(self, first, second)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries, as a document carrying
    /// the entry, its leaf hash and the root.
    pub fn prove_inclusion(&self, index: u64, size: u64) -> Result<InclusionProof, AuditError> {
        let hashes = self.inclusion_proof(index, size)?;
        let leaf = self.leaf(index)?;
        let event = AuditEvent::from_json(&leaf)
            .map_err(|e| self.corrupt("entries.log", format!("entry {index}: {e}")))?;
        Ok(InclusionProof {
            origin: self.origin.clone(),
            index,
            size,
            leaf: Some(event),
            leaf_hash: leaf_hash(&leaf),
            root: merkle::root(self, size)?,
            hashes,
        })
    }

    /// The consistency proof from `first` to `second` entries, as a document carrying both roots.
    pub fn prove_consistency(
        &self,
        first: u64,
        second: u64,
    ) -> Result<ConsistencyProof, AuditError> {
        let hashes = self.consistency_proof(first, second)?;
        Ok(ConsistencyProof {
            origin: self.origin.clone(),
            first,
            second,
            first_root: merkle::root(self, first)?,
            second_root: merkle::root(self, second)?,
            hashes,
        })
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // Recording the mark makes the next open skip the scan; if it fails, the next open scans.
        if lock(&self.poisoned).is_none() {
            let size = self.size();
            let positions = lock(&self.durable_positions).clone();
            let mut s = lock(&self.syncer);
            if s.mark != size && self.write_mark(size, &positions).is_ok() {
                s.mark = size;
            }
        }
    }
}

impl NodeSource for AuditLog {
    fn node(&self, level: u32, index: u64) -> Result<Hash, AuditError> {
        let mut h = [0u8; 32];
        self.nodes
            .read_exact_at(&mut h, node_position(level, index) * 32)
            .map_err(|e| AuditError::io(self.dir.join("nodes.idx"), e))?;
        Ok(h)
    }
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.dir)
            .field("origin", &self.origin)
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_positions_are_post_order() {
        // Appending leaves one by one emits nodes in exactly the order the positions say.
        let mut frontier = [None; 64];
        let mut out = Vec::new();
        let mut tree = merkle::MemoryTree::new();
        for i in 0u64..100 {
            let h = leaf_hash(&i.to_le_bytes());
            push_leaf(&mut frontier, &mut out, h);
            tree.push(h);
            assert_eq!(out.len() as u64, node_count(i + 1) * 32);
        }
        for level in 0..7u32 {
            for index in 0..(100u64 >> level) {
                let p = node_position(level, index) as usize * 32;
                assert_eq!(&out[p..p + 32], &tree.node(level, index).unwrap()[..]);
            }
        }
    }
}
