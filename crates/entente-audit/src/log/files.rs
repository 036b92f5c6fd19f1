//! The files of a log directory below the log itself: records of `entries.log`, the `positions`
//! file, the `LOG` metadata, the lock, and durable (atomic, fsynced) writes.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use crate::merkle::{leaf_hash, Hash};
use crate::note::{self, NoteSigner};
use crate::{AuditError, MAX_EVENT_BYTES};

use super::*;

/// Why a record of `entries.log` cannot be read back; the caller names the entry.
#[derive(Debug, thiserror::Error)]
pub(super) enum RecordError {
    #[error("header at byte {offset}: {source}")]
    Header {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("record at byte {offset} claims {len} bytes")]
    TooLong { offset: u64, len: usize },
    #[error("record at byte {offset}: {source}")]
    Body {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("record at byte {offset} fails its check")]
    Check { offset: u64 },
}

/// Reads a record at `offset`: its leaf and its length, checking the leaf against its hash prefix.
pub(super) fn read_record(file: &File, offset: u64) -> Result<(Vec<u8>, u64), RecordError> {
    let mut header = [0u8; HEADER];
    file.read_exact_at(&mut header, offset)
        .map_err(|source| RecordError::Header { offset, source })?;
    let len =
        (u32::from_le_bytes([header[0], header[1], header[2], header[3]]) & !BATCH_END) as usize;
    if len > MAX_EVENT_BYTES {
        return Err(RecordError::TooLong { offset, len });
    }
    let mut leaf = vec![0u8; len];
    file.read_exact_at(&mut leaf, offset + HEADER as u64)
        .map_err(|source| RecordError::Body { offset, source })?;
    if leaf_hash(&leaf)[..8] != header[4..] {
        return Err(RecordError::Check { offset });
    }
    Ok((leaf, (HEADER + len) as u64))
}

/// Parses one record at the start of `bytes`: leaf, leaf hash, record length, whether it ends
/// its batch. `None` when the record is cut short or fails its check.
pub(super) fn parse_record(bytes: &[u8]) -> Option<(&[u8], Hash, usize, bool)> {
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
pub(super) fn encode_positions(size: u64, positions: &Positions) -> Vec<u8> {
    let mut text = format!("{POSITIONS_MAGIC}\nsize {size}\n");
    for (stream, seq) in positions {
        text.push_str(&format!("{stream} {seq}\n"));
    }
    let check = Sha256::digest(text.as_bytes());
    text.push_str(&format!("check {}\n", hex16(&check)));
    text.into_bytes()
}

pub(super) fn hex16(bytes: &[u8]) -> String {
    bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The size and positions a `positions` file records; `None` when it is missing or does not
/// check out (the caller then reads the positions from the entries).
pub(super) fn read_positions(path: &Path) -> Result<Option<(u64, Positions)>, AuditError> {
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

pub(super) fn open_rw(path: &Path) -> Result<File, AuditError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| AuditError::io(path, e))
}

pub(super) fn sync_dir(dir: &Path) -> Result<(), AuditError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| AuditError::io(dir, e))
}

/// Replaces `dir/name` with `bytes`: written beside it, fsynced, renamed over it, directory fsynced.
pub(super) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), AuditError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = File::create(&tmp).map_err(|e| AuditError::io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| AuditError::io(&tmp, e))?;
    std::fs::rename(&tmp, dir.join(name)).map_err(|e| AuditError::io(dir.join(name), e))?;
    sync_dir(dir)
}

/// Creates `LOG` for a new log, or checks that an existing log was created for this origin and key.
pub(super) fn take_lock(dir: &Path) -> Result<File, AuditError> {
    let lock_path = dir.join("lock");
    let lock_file = open_rw(&lock_path)?;
    match lock_file.try_lock() {
        Ok(()) => Ok(lock_file),
        Err(std::fs::TryLockError::WouldBlock) => Err(AuditError::Locked { path: dir.into() }),
        Err(std::fs::TryLockError::Error(e)) => Err(AuditError::io(lock_path, e)),
    }
}

/// The origin and verifier key recorded in `LOG`.
pub(super) fn read_meta(dir: &Path) -> Result<(String, VerifyingKey), AuditError> {
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

pub(super) fn check_meta(dir: &Path, signer: &NoteSigner) -> Result<(), AuditError> {
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
