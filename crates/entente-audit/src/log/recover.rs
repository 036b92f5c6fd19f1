//! Bringing a log directory back to a consistent state on open: the mark and the positions of
//! the entries it covers, the torn tail of `entries.log` cut off, and the index files rebuilt
//! past the mark.

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::FileExt as _;
use std::sync::atomic::Ordering;

use crate::merkle::{self, Hash, NodeSource};
use crate::{AuditError, AuditEvent, MAX_EVENT_BYTES};

use super::*;

impl AuditLog {
    pub(super) fn corrupt(&self, file: &str, message: String) -> AuditError {
        AuditError::Corrupt {
            path: self.dir.join(file),
            message,
        }
    }

    /// Makes the index files durable up to `size` and records it in `synced`, with the
    /// `positions` of those entries in `positions` (written first: a crash between the two leaves
    /// a positions file of another size, which an open does not trust).
    pub(super) fn write_mark(&self, size: u64, positions: &Positions) -> Result<(), AuditError> {
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
    pub(super) fn scan_positions(&self, len: u64) -> Result<Positions, AuditError> {
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
    pub(super) fn recover(&self) -> Result<(), AuditError> {
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
