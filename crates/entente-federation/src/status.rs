//! What this node knows of each link, kept in memory for the console and operators: whether the
//! last delivery attempt got through, when a delivery was last acknowledged, how many envelopes
//! went each way or were refused, and the outcome of the last check of the partner's audit
//! checkpoint (a split view is an alarm). Counts start at zero when the process starts; the
//! audit log is the durable record.

use std::collections::BTreeMap;
use std::sync::Mutex;

use entente_types::NationCode;

/// The last delivery attempt to a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// No delivery has been attempted since the node started (nothing to send yet).
    Unknown,
    /// The last attempt was acknowledged.
    Up,
    /// The last attempt failed, with the error.
    Down(String),
}

/// The outcome of the last check of a partner's audit checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointState {
    /// Not checked yet (or the partner has no `audit_key`).
    Unchecked,
    /// Verified and consistent with the one kept before: its size and root (base64).
    Consistent { size: u64, root: String },
    /// The checkpoint could not be fetched; the error.
    Unreachable(String),
}

/// A split view: the partner signed a checkpoint inconsistent with one it showed before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitView {
    /// When it was found, microseconds since the epoch.
    pub at_us: i64,
    pub message: String,
}

/// One link's state, as last recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerStatus {
    pub link: LinkState,
    /// When a delivery was last attempted, and when one was last acknowledged (µs).
    pub last_attempt_us: Option<i64>,
    pub last_delivery_us: Option<i64>,
    /// Envelopes the partner acknowledged (stored or already held), and refused.
    pub sent: u64,
    pub refused_by_partner: u64,
    /// Versions the release policy denied to the partner.
    pub denied: u64,
    /// Envelopes received from the partner and stored (or already held), and refused here.
    pub received: u64,
    pub refused_from_partner: u64,
    /// When a batch from the partner last arrived (µs).
    pub last_received_us: Option<i64>,
    pub checkpoint: CheckpointState,
    /// When the checkpoint was last checked (µs).
    pub checkpoint_checked_us: Option<i64>,
    /// The latest split view found, kept until the process restarts: it is an alarm, and a
    /// later consistent answer does not undo what the partner showed.
    pub split_view: Option<SplitView>,
}

impl Default for PartnerStatus {
    fn default() -> PartnerStatus {
        PartnerStatus {
            link: LinkState::Unknown,
            last_attempt_us: None,
            last_delivery_us: None,
            sent: 0,
            refused_by_partner: 0,
            denied: 0,
            received: 0,
            refused_from_partner: 0,
            last_received_us: None,
            checkpoint: CheckpointState::Unchecked,
            checkpoint_checked_us: None,
            split_view: None,
        }
    }
}

/// The status of every partner, updated by the dispatchers, the inbox and the checkpoint checks.
#[derive(Debug, Default)]
pub struct PartnerStatuses {
    by_partner: Mutex<BTreeMap<NationCode, PartnerStatus>>,
}

impl PartnerStatuses {
    /// A record for each of `partners`, all unknown.
    pub fn new(partners: impl IntoIterator<Item = NationCode>) -> PartnerStatuses {
        PartnerStatuses {
            by_partner: Mutex::new(
                partners
                    .into_iter()
                    .map(|n| (n, PartnerStatus::default()))
                    .collect(),
            ),
        }
    }

    /// Changes one partner's record (created when absent). A poisoned lock is taken over: the
    /// record holds counters, which a panic elsewhere cannot leave half-written.
    fn update(&self, partner: NationCode, change: impl FnOnce(&mut PartnerStatus)) {
        let mut map = self
            .by_partner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        change(map.entry(partner).or_default());
    }

    /// Every partner's record, by nation.
    pub fn snapshot(&self) -> BTreeMap<NationCode, PartnerStatus> {
        self.by_partner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A delivery attempt failed.
    pub fn attempt_failed(&self, partner: NationCode, at_us: i64, error: String) {
        self.update(partner, |s| {
            s.link = LinkState::Down(error);
            s.last_attempt_us = Some(at_us);
        });
    }

    /// A delivery was acknowledged: `stored` envelopes taken, `refused` rejected by the partner.
    pub fn delivered(&self, partner: NationCode, at_us: i64, stored: u64, refused: u64) {
        self.update(partner, |s| {
            s.link = LinkState::Up;
            s.last_attempt_us = Some(at_us);
            s.last_delivery_us = Some(at_us);
            s.sent += stored;
            s.refused_by_partner += refused;
        });
    }

    /// The release policy denied `n` versions to the partner.
    pub fn denied(&self, partner: NationCode, n: u64) {
        if n > 0 {
            self.update(partner, |s| s.denied += n);
        }
    }

    /// A batch from the partner was received: `stored` envelopes taken, `refused` rejected.
    pub fn received(&self, partner: NationCode, at_us: i64, stored: u64, refused: u64) {
        self.update(partner, |s| {
            s.last_received_us = Some(at_us);
            s.received += stored;
            s.refused_from_partner += refused;
        });
    }

    /// The partner's checkpoint was checked, with this outcome.
    pub fn checkpoint_checked(&self, partner: NationCode, at_us: i64, state: CheckpointState) {
        self.update(partner, |s| {
            s.checkpoint = state;
            s.checkpoint_checked_us = Some(at_us);
        });
    }

    /// The partner showed a checkpoint inconsistent with one it showed before.
    pub fn split_view(&self, partner: NationCode, at_us: i64, message: String) {
        self.update(partner, |s| {
            s.split_view = Some(SplitView { at_us, message });
            s.checkpoint_checked_us = Some(at_us);
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn nation(code: &str) -> NationCode {
        code.parse().unwrap()
    }

    #[test]
    fn a_link_goes_down_and_up_with_its_attempts_and_counts_add_up() {
        let statuses = PartnerStatuses::new([nation("DEU")]);
        assert_eq!(statuses.snapshot()[&nation("DEU")].link, LinkState::Unknown);
        statuses.attempt_failed(nation("DEU"), 10, "connection refused".into());
        let s = &statuses.snapshot()[&nation("DEU")];
        assert_eq!(s.link, LinkState::Down("connection refused".into()));
        assert_eq!((s.last_attempt_us, s.last_delivery_us), (Some(10), None));
        statuses.delivered(nation("DEU"), 20, 3, 1);
        statuses.delivered(nation("DEU"), 30, 2, 0);
        statuses.denied(nation("DEU"), 4);
        statuses.received(nation("DEU"), 40, 5, 2);
        let s = &statuses.snapshot()[&nation("DEU")];
        assert_eq!(s.link, LinkState::Up);
        assert_eq!(
            (s.last_attempt_us, s.last_delivery_us),
            (Some(30), Some(30))
        );
        assert_eq!((s.sent, s.refused_by_partner, s.denied), (5, 1, 4));
        assert_eq!((s.received, s.refused_from_partner), (5, 2));
        assert_eq!(s.last_received_us, Some(40));
    }

    #[test]
    fn a_split_view_stays_after_a_consistent_check() {
        let statuses = PartnerStatuses::new([nation("USA")]);
        statuses.split_view(nation("USA"), 5, "roots differ".into());
        statuses.checkpoint_checked(
            nation("USA"),
            6,
            CheckpointState::Consistent {
                size: 3,
                root: "r".into(),
            },
        );
        let s = &statuses.snapshot()[&nation("USA")];
        assert_eq!(s.split_view.as_ref().unwrap().message, "roots differ");
        assert_eq!(s.checkpoint_checked_us, Some(6));
    }

    #[test]
    fn updates_from_many_threads_are_all_counted() {
        let statuses = Arc::new(PartnerStatuses::new([nation("GBR")]));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let s = statuses.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        s.delivered(nation("GBR"), i, 1, 0);
                        s.received(nation("GBR"), i, 1, 0);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = &statuses.snapshot()[&nation("GBR")];
        assert_eq!((s.sent, s.received), (8000, 8000));
    }
}
