//! Where the node's audit log records an object version: the entries that record its publication
//! here or its receipt from a partner, found through an index of the append-only log that is
//! extended, on use, by the entries appended since.
//!
//! The index keeps 8 bytes of hash per version and the entries' positions, not their text: the
//! entries are read back and compared when a page asks for them, so a hash collision costs a read,
//! never a wrong answer.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use entente_audit::{AuditError, AuditEvent, Checkpoint, EventKind, Journal};
use tokio::sync::Mutex;

use crate::error::PageError;

/// Entries read from the log at once while the index catches up.
const CHUNK: u64 = 10_000;

/// Publish and receive entries by object version.
#[derive(Default)]
pub struct AuditTrail {
    /// The log's size the index reflects.
    scanned: u64,
    by_version: HashMap<u64, Vec<u64>>,
    hasher: RandomState,
}

/// An entry about a version, with the checkpoint that includes it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub index: u64,
    pub event: AuditEvent,
    pub checkpoint: Checkpoint,
}

impl AuditTrail {
    fn key(&self, object_id: &str, version: &str) -> u64 {
        self.hasher.hash_one((object_id, version))
    }

    /// The entries of `log` that record version `version` of `object_id` being published here or
    /// received, oldest first, each with the log's current signed checkpoint (which includes it).
    pub async fn recorded(
        &mut self,
        log: &Journal,
        object_id: &str,
        version: &str,
    ) -> Result<Vec<Recorded>, AuditError> {
        let checkpoint = log.checkpoint().await?;
        while self.scanned < checkpoint.size {
            let end = checkpoint.size.min(self.scanned + CHUNK);
            for (index, event) in (self.scanned..end).zip(log.entries(self.scanned..end).await?) {
                if matches!(event.kind, EventKind::Publish | EventKind::Receive) {
                    let key = self.key(&event.object_id, &event.version);
                    self.by_version.entry(key).or_default().push(index);
                }
            }
            self.scanned = end;
        }
        let key = self.key(object_id, version);
        let mut out = Vec::new();
        for &index in self.by_version.get(&key).into_iter().flatten() {
            let event = log.entry(index).await?;
            if event.object_id == object_id && event.version == version {
                let checkpoint = checkpoint.clone();
                out.push(Recorded {
                    index,
                    event,
                    checkpoint,
                });
            }
        }
        Ok(out)
    }
}

/// [`AuditTrail::recorded`] with the shared trail (one page extends the index at a time).
pub async fn recorded(
    trail: Arc<Mutex<AuditTrail>>,
    log: Arc<Journal>,
    object_id: &str,
    version: &str,
) -> Result<Vec<Recorded>, PageError> {
    let mut trail = trail.lock().await;
    trail
        .recorded(&log, object_id, version)
        .await
        .map_err(PageError::internal)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn event(kind: EventKind, object: u32, version: &str) -> AuditEvent {
        AuditEvent {
            kind,
            at: "2026-12-01T08:00:00.000Z".into(),
            origin: "FRA".into(),
            node: "GBR".into(),
            partner: (kind != EventKind::Publish).then(|| "FRA".to_owned()),
            object_id: format!("report--{object:08x}-0000-4000-8000-000000000000"),
            version: version.into(),
            digest: "ab".repeat(32),
            detail: None,
            source: None,
        }
    }

    #[tokio::test]
    async fn the_trail_finds_a_version_s_publish_and_receive_entries_as_the_log_grows() {
        let dir = tempfile::tempdir().unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let log = Journal::from(
            entente_audit::AuditLog::open(dir.path(), "entente.audit/GBR", key).unwrap(),
        );
        let (v1, v2) = ("2026-12-01T08:00:00.000Z", "2026-12-02T08:00:00.000Z");
        log.append(vec![
            event(EventKind::Receive, 1, v1),
            event(EventKind::Release, 1, v1),
            event(EventKind::Receive, 2, v1),
            event(EventKind::Deny, 1, v2),
        ])
        .await
        .unwrap();
        let mut trail = AuditTrail::default();
        let id = |n: u32| format!("report--{n:08x}-0000-4000-8000-000000000000");
        let found = trail.recorded(&log, &id(1), v1).await.unwrap();
        let indexes: Vec<u64> = found.iter().map(|r| r.index).collect();
        assert_eq!(indexes, [0], "the receive, not the release");
        assert_eq!(found[0].checkpoint.size, 4);
        assert!(trail.recorded(&log, &id(1), v2).await.unwrap().is_empty());
        // Entries appended later are found on the next call.
        log.append(vec![event(EventKind::Receive, 1, v2)])
            .await
            .unwrap();
        log.append(vec![event(EventKind::Publish, 1, v1)])
            .await
            .unwrap();
        let found = trail.recorded(&log, &id(1), v2).await.unwrap();
        assert_eq!(found.iter().map(|r| r.index).collect::<Vec<_>>(), [4]);
        assert_eq!(found[0].checkpoint.size, 6);
        let both: Vec<u64> = (trail.recorded(&log, &id(1), v1).await.unwrap().iter())
            .map(|r| r.index)
            .collect();
        assert_eq!(both, [0, 5]);
    }
}
