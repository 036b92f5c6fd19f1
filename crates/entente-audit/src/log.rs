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
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
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

/// The index files are made durable, and the mark rewritten, every this many leaves: recovery
/// rebuilds at most this many leaves' worth of index from the entry file.
pub const MARK_INTERVAL: u64 = 1 << 16;

const HEADER: usize = 12;
/// Set in the length word of the last record of each batch: recovery keeps whole batches only.
const BATCH_END: u32 = 1 << 31;
const META_MAGIC: &str = "entente-audit-log 1";
const POSITIONS_MAGIC: &str = "entente-audit-positions 1";

/// The highest position recorded of each source stream (`intent` → 17 for `intent/17`).
type Positions = BTreeMap<String, u64>;

/// Raises `positions` to the source of `event`, if it has one.
fn note_position(positions: &mut Positions, event: &AuditEvent) {
    if let Some((stream, seq)) = event.source_position() {
        let at = positions.entry(stream.to_owned()).or_insert(seq);
        *at = (*at).max(seq);
    }
}

/// Number of nodes stored for a tree of `n` leaves (every complete subtree).
fn node_count(n: u64) -> u64 {
    2 * n - u64::from(n.count_ones())
}

/// Position in `nodes.idx` of the complete subtree (`level`, `index`): it is written right after
/// its last leaf and that leaf's completed ancestors below it.
fn node_position(level: u32, index: u64) -> u64 {
    let last_leaf = ((index + 1) << level) - 1;
    node_count(last_leaf) + u64::from(level)
}

/// Appends one leaf hash to the post-order node stream, given the pending left siblings.
fn push_leaf(frontier: &mut [Option<Hash>; 64], out: &mut Vec<u8>, leaf: Hash) {
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
        // Validation, canonical JSON and leaf hashes happen outside the lock, in the caller's thread.
        let mut records = Vec::with_capacity(events.len() * 300);
        let mut sizes = Vec::with_capacity(events.len());
        let mut hashes = Vec::with_capacity(events.len());
        let mut positions = Positions::new();
        for (i, event) in events.iter().enumerate() {
            note_position(&mut positions, event);
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
            let hash = leaf_hash(&leaf);
            let last = i + 1 == events.len();
            let word = leaf.len() as u32 | if last { BATCH_END } else { 0 };
            records.extend_from_slice(&word.to_le_bytes());
            records.extend_from_slice(&hash[..8]);
            records.extend_from_slice(&leaf);
            sizes.push((HEADER + leaf.len()) as u64);
            hashes.push(hash);
        }
        if events.is_empty() {
            let size = self.size();
            return Ok(size..size);
        }
        let range = {
            let mut w = lock(&self.writer);
            self.check_poisoned()?;
            let start = w.written;
            let mut offsets = Vec::with_capacity(sizes.len() * 8);
            let mut at = w.entries_len;
            for size in &sizes {
                offsets.extend_from_slice(&at.to_le_bytes());
                at += size;
            }
            let mut nodes = Vec::with_capacity(hashes.len() * 64 + 64 * 32);
            for hash in &hashes {
                push_leaf(&mut w.frontier, &mut nodes, *hash);
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
                // The frontier already moved on: nothing more may be appended in this process.
                self.poison(&e);
                return Err(e);
            }
            w.written += events.len() as u64;
            w.entries_len = at;
            for (stream, seq) in positions {
                let held = w.positions.entry(stream).or_insert(seq);
                *held = (*held).max(seq);
            }
            start..w.written
        };
        self.sync(range.end)?;
        Ok(range)
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

    fn corrupt(&self, file: &str, message: String) -> AuditError {
        AuditError::Corrupt {
            path: self.dir.join(file),
            message,
        }
    }

    /// Makes the index files durable up to `size` and records it in `synced`, with the
    /// `positions` of those entries in `positions` (written first: a crash between the two leaves
    /// a positions file of another size, which an open does not trust).
    fn write_mark(&self, size: u64, positions: &Positions) -> Result<(), AuditError> {
        write_atomically(&self.dir, "positions", &encode_positions(size, positions))?;
        self.offsets
            .sync_data()
            .map_err(|e| AuditError::io(self.dir.join("offsets.idx"), e))?;
        self.nodes
            .sync_data()
            .map_err(|e| AuditError::io(self.dir.join("nodes.idx"), e))?;
        let entries_len = if size == 0 {
            0
        } else {
            let mut off = [0u8; 8];
            self.offsets
                .read_exact_at(&mut off, (size - 1) * 8)
                .map_err(|e| AuditError::io(self.dir.join("offsets.idx"), e))?;
            let start = u64::from_le_bytes(off);
            let (leaf, _) = read_record(&self.entries, start)
                .map_err(|m| self.corrupt("entries.log", format!("entry {}: {m}", size - 1)))?;
            start + (HEADER + leaf.len()) as u64
        };
        let mark = Mark {
            size,
            entries_len,
            root: merkle::root(self, size)?,
        };
        write_atomically(&self.dir, "synced", &mark.encode())
    }

    /// The positions of the entries in the first `len` bytes of `entries.log` (whole, checked
    /// records: the part a mark covers), read from start to end.
    fn scan_positions(&self, len: u64) -> Result<Positions, AuditError> {
        let path = self.dir.join("entries.log");
        let mut file = &self.entries;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0))
            .map_err(|e| AuditError::io(&path, e))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file.take(len));
        let mut positions = Positions::new();
        let mut header = [0u8; HEADER];
        let mut leaf = Vec::new();
        let mut at = 0u64;
        while at < len {
            reader
                .read_exact(&mut header)
                .map_err(|e| AuditError::io(&path, e))?;
            let word = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let n = (word & !BATCH_END) as usize;
            if n > MAX_EVENT_BYTES {
                return Err(self.corrupt(
                    "entries.log",
                    format!("record at byte {at} claims {n} bytes"),
                ));
            }
            leaf.resize(n, 0);
            reader
                .read_exact(&mut leaf)
                .map_err(|e| AuditError::io(&path, e))?;
            let event = AuditEvent::from_json(&leaf)
                .map_err(|e| self.corrupt("entries.log", format!("record at byte {at}: {e}")))?;
            note_position(&mut positions, &event);
            at += (HEADER + n) as u64;
        }
        Ok(positions)
    }

    /// Brings the files to a consistent state and sets the sizes (see the module documentation).
    fn recover(&self) -> Result<(), AuditError> {
        let entries_path = self.dir.join("entries.log");
        let file_len = |f: &File, name: &str| {
            f.metadata()
                .map(|m| m.len())
                .map_err(|e| AuditError::io(self.dir.join(name), e))
        };
        let entries_len = file_len(&self.entries, "entries.log")?;
        let mark = match std::fs::read(self.dir.join("synced")) {
            Ok(bytes) => Mark::decode(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(AuditError::io(self.dir.join("synced"), e)),
        };
        let mut start = Mark {
            size: 0,
            entries_len: 0,
            root: merkle::EMPTY_ROOT,
        };
        // The size the mark says was durable: whatever happens below, no fewer entries may remain.
        let claimed = mark.as_ref().map_or(0, |m| m.size);
        let mut rewrite_mark = mark.is_none();
        if let Some(mark) = mark {
            if mark.entries_len > entries_len {
                return Err(self.corrupt(
                    "entries.log",
                    format!(
                        "{entries_len} bytes, but {} entries were durable in {} bytes: acknowledged \
                         entries are missing; restore the file from a backup",
                        mark.size, mark.entries_len
                    ),
                ));
            }
            let indexed = file_len(&self.offsets, "offsets.idx")? >= mark.size * 8
                && file_len(&self.nodes, "nodes.idx")? >= node_count(mark.size) * 32;
            // The index files up to the mark were fsynced before it was written; check them anyway
            // against the root it records, and rebuild everything if they disagree.
            if indexed && merkle::root(self, mark.size).ok() == Some(mark.root) {
                start = mark;
            } else {
                rewrite_mark = true;
            }
        }
        // The positions of the entries the mark covers: from `positions` when it was written with
        // this mark, else read from the entries (a log written before the file existed).
        let mut positions = Positions::new();
        if start.size > 0 {
            match read_positions(&self.dir.join("positions"))? {
                Some((size, p)) if size == start.size => positions = p,
                _ => {
                    positions = self.scan_positions(start.entries_len)?;
                    rewrite_mark = true;
                }
            }
        }
        let mut frontier = [None; 64];
        for (level, slot) in frontier.iter_mut().enumerate() {
            let count = start.size >> level;
            if count & 1 == 1 {
                *slot = Some(self.node(level as u32, count - 1)?);
            }
        }
        // Scan the entries past the mark; stop at the first record that is cut short or fails.
        let mut tail = Vec::new();
        {
            let mut f = &self.entries;
            std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(start.entries_len))
                .map_err(|e| AuditError::io(&entries_path, e))?;
            f.read_to_end(&mut tail)
                .map_err(|e| AuditError::io(&entries_path, e))?;
        }
        let mut offsets = Vec::new();
        let mut nodes = Vec::new();
        // `pos` ends the last whole batch; records of a batch wait in `batch` until its last one.
        let mut pos = 0usize;
        let mut scan = 0usize;
        let mut batch: Vec<(u64, Hash)> = Vec::new();
        let mut batch_positions = Positions::new();
        let mut size = start.size;
        while let Some((leaf, hash, len, last)) = parse_record(&tail[scan..]) {
            // Only canonical events are ever written; anything else is not ours.
            match AuditEvent::from_json(leaf) {
                Ok(event) if event.leaf_bytes() == leaf => {
                    note_position(&mut batch_positions, &event);
                }
                _ => break,
            }
            batch.push((start.entries_len + scan as u64, hash));
            scan += len;
            if last {
                for (stream, seq) in std::mem::take(&mut batch_positions) {
                    let held = positions.entry(stream).or_insert(seq);
                    *held = (*held).max(seq);
                }
                for (offset, hash) in batch.drain(..) {
                    offsets.extend_from_slice(&offset.to_le_bytes());
                    push_leaf(&mut frontier, &mut nodes, hash);
                    size += 1;
                }
                pos = scan;
            }
        }
        if size < claimed {
            return Err(self.corrupt(
                "entries.log",
                format!(
                    "holds {size} valid entries, but {claimed} were durable: acknowledged entries \
                     are damaged; restore the file from a backup (nothing was changed)"
                ),
            ));
        }
        let good_len = start.entries_len + pos as u64;
        let io = |name: &str, e| AuditError::io(self.dir.join(name), e);
        self.offsets
            .set_len(start.size * 8)
            .and_then(|()| self.offsets.write_all_at(&offsets, start.size * 8))
            .and_then(|()| self.offsets.sync_data())
            .map_err(|e| io("offsets.idx", e))?;
        self.nodes
            .set_len(node_count(start.size) * 32)
            .and_then(|()| self.nodes.write_all_at(&nodes, node_count(start.size) * 32))
            .and_then(|()| self.nodes.sync_data())
            .map_err(|e| io("nodes.idx", e))?;
        if good_len != entries_len {
            self.entries
                .set_len(good_len)
                .and_then(|()| self.entries.sync_data())
                .map_err(|e| io("entries.log", e))?;
        }
        {
            let mut w = lock(&self.writer);
            w.written = size;
            w.entries_len = good_len;
            w.frontier = frontier;
            w.positions = positions.clone();
        }
        *lock(&self.durable_positions) = positions.clone();
        self.durable.store(size, Ordering::Release);
        if size != start.size || rewrite_mark {
            self.write_mark(size, &positions)?;
        }
        lock(&self.syncer).mark = size;
        Ok(())
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

/// Reads a record at `offset`: its leaf and its length, checking the leaf against its hash prefix.
fn read_record(file: &File, offset: u64) -> Result<(Vec<u8>, u64), String> {
    let mut header = [0u8; HEADER];
    file.read_exact_at(&mut header, offset)
        .map_err(|e| format!("header at byte {offset}: {e}"))?;
    let len =
        (u32::from_le_bytes([header[0], header[1], header[2], header[3]]) & !BATCH_END) as usize;
    if len > MAX_EVENT_BYTES {
        return Err(format!("record at byte {offset} claims {len} bytes"));
    }
    let mut leaf = vec![0u8; len];
    file.read_exact_at(&mut leaf, offset + HEADER as u64)
        .map_err(|e| format!("record at byte {offset}: {e}"))?;
    if leaf_hash(&leaf)[..8] != header[4..] {
        return Err(format!("record at byte {offset} fails its check"));
    }
    Ok((leaf, (HEADER + len) as u64))
}

/// Parses one record at the start of `bytes`: leaf, leaf hash, record length, whether it ends
/// its batch. `None` when the record is cut short or fails its check.
fn parse_record(bytes: &[u8]) -> Option<(&[u8], Hash, usize, bool)> {
    let header = bytes.get(..HEADER)?;
    let word = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let len = (word & !BATCH_END) as usize;
    if len > MAX_EVENT_BYTES {
        return None;
    }
    let leaf = bytes.get(HEADER..HEADER + len)?;
    let hash = leaf_hash(leaf);
    (hash[..8] == header[4..]).then_some((leaf, hash, HEADER + len, word & BATCH_END != 0))
}

/// The `positions` file: magic, `size S`, one `<stream> <position>` line per stream, and a check
/// (the first 16 hex digits of the SHA-256 of the lines above it).
fn encode_positions(size: u64, positions: &Positions) -> Vec<u8> {
    let mut text = format!("{POSITIONS_MAGIC}\nsize {size}\n");
    for (stream, seq) in positions {
        text.push_str(&format!("{stream} {seq}\n"));
    }
    let check = Sha256::digest(text.as_bytes());
    text.push_str(&format!("check {}\n", hex16(&check)));
    text.into_bytes()
}

fn hex16(bytes: &[u8]) -> String {
    bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The size and positions a `positions` file records; `None` when it is missing or does not
/// check out (the caller then reads the positions from the entries).
fn read_positions(path: &Path) -> Result<Option<(u64, Positions)>, AuditError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // Not valid UTF-8: not a file of ours, read the entries instead.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Ok(None),
        Err(e) => return Err(AuditError::io(path, e)),
    };
    let Some(body_end) = text.rfind("check ") else {
        return Ok(None);
    };
    let (body, check) = text.split_at(body_end);
    if check.trim_end() != format!("check {}", hex16(&Sha256::digest(body.as_bytes()))) {
        return Ok(None);
    }
    let mut lines = body.lines();
    if lines.next() != Some(POSITIONS_MAGIC) {
        return Ok(None);
    }
    let Some(size) = lines
        .next()
        .and_then(|l| l.strip_prefix("size "))
        .and_then(|n| n.parse().ok())
    else {
        return Ok(None);
    };
    let mut positions = Positions::new();
    for line in lines {
        let Some((stream, seq)) = line
            .split_once(' ')
            .and_then(|(s, n)| Some((s, n.parse().ok()?)))
        else {
            return Ok(None);
        };
        positions.insert(stream.to_owned(), seq);
    }
    Ok(Some((size, positions)))
}

fn open_rw(path: &Path) -> Result<File, AuditError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| AuditError::io(path, e))
}

fn sync_dir(dir: &Path) -> Result<(), AuditError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| AuditError::io(dir, e))
}

/// Replaces `dir/name` with `bytes`: written beside it, fsynced, renamed over it, directory fsynced.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), AuditError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = File::create(&tmp).map_err(|e| AuditError::io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| AuditError::io(&tmp, e))?;
    std::fs::rename(&tmp, dir.join(name)).map_err(|e| AuditError::io(dir.join(name), e))?;
    sync_dir(dir)
}

/// Creates `LOG` for a new log, or checks that an existing log was created for this origin and key.
fn take_lock(dir: &Path) -> Result<File, AuditError> {
    let lock_path = dir.join("lock");
    let lock_file = open_rw(&lock_path)?;
    match lock_file.try_lock() {
        Ok(()) => Ok(lock_file),
        Err(std::fs::TryLockError::WouldBlock) => Err(AuditError::Locked { path: dir.into() }),
        Err(std::fs::TryLockError::Error(e)) => Err(AuditError::io(lock_path, e)),
    }
}

/// The origin and verifier key recorded in `LOG`.
fn read_meta(dir: &Path) -> Result<(String, VerifyingKey), AuditError> {
    let path = dir.join("LOG");
    let text = std::fs::read_to_string(&path).map_err(|e| AuditError::io(&path, e))?;
    let corrupt = |message: String| AuditError::Corrupt {
        path: path.clone(),
        message,
    };
    let mut lines = text.lines();
    if lines.next() != Some(META_MAGIC) {
        return Err(corrupt(format!("line 1 is not {META_MAGIC:?}")));
    }
    let origin = lines
        .next()
        .and_then(|l| l.strip_prefix("origin "))
        .ok_or_else(|| corrupt("line 2 is not `origin <origin>`".into()))?;
    let vkey = lines
        .next()
        .and_then(|l| l.strip_prefix("vkey "))
        .ok_or_else(|| corrupt("line 3 is not `vkey <verifier key>`".into()))?;
    let (name, key) = note::parse_vkey(vkey).map_err(|e| corrupt(format!("line 3: {e}")))?;
    if name != origin {
        return Err(corrupt(format!(
            "the key is named {name:?}, the log {origin:?}"
        )));
    }
    Ok((origin.to_owned(), key))
}

fn check_meta(dir: &Path, signer: &NoteSigner) -> Result<(), AuditError> {
    let path = dir.join("LOG");
    let vkey = note::vkey(&signer.origin, &signer.verifying_key());
    let expected = format!("{META_MAGIC}\norigin {}\nvkey {vkey}\n", signer.origin);
    match std::fs::read_to_string(&path) {
        Ok(text) if text == expected => Ok(()),
        Ok(text) => {
            let mut lines = text.lines();
            if lines.next() != Some(META_MAGIC) {
                return Err(AuditError::Corrupt {
                    path,
                    message: format!("line 1 is not {META_MAGIC:?}"),
                });
            }
            let origin = lines
                .next()
                .and_then(|l| l.strip_prefix("origin "))
                .unwrap_or("?");
            let theirs = lines
                .next()
                .and_then(|l| l.strip_prefix("vkey "))
                .unwrap_or("?");
            let message = if origin != signer.origin {
                format!(
                    "the log of {origin} cannot be opened as the log of {}",
                    signer.origin
                )
            } else {
                format!("the log was created with the key {theirs}, not {vkey}")
            };
            Err(AuditError::Mismatch { path, message })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let entries = dir.join("entries.log");
            if entries.metadata().map(|m| m.len() > 0).unwrap_or(false) {
                return Err(AuditError::Corrupt {
                    path,
                    message: "missing, but entries.log holds entries".into(),
                });
            }
            write_atomically(dir, "LOG", expected.as_bytes())
        }
        Err(e) => Err(AuditError::io(path, e)),
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
