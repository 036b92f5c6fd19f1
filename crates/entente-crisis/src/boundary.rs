//! The room's boundary: the nations its label reaches, and whether an object's label keeps it
//! inside. Both are the release policy's answers; nothing here decides on its own.

use entente_labels::Label;
use entente_policy::ReleasePolicy;
use entente_types::{Date, NationCode};

/// A room's label as released by one originator.
pub struct Boundary<'a> {
    pub policy: &'a ReleasePolicy,
    pub room_label: &'a Label,
    pub originator: NationCode,
}

/// An object whose label would take it out of the room: a nation it is releasable to, which
/// the room's label does not reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("its label is releasable to {nation}, which is not in the crisis room (the room's label {room_label} does not reach it on {day}); publish in the room under the room's label or a narrower one")]
pub struct Outside {
    pub nation: NationCode,
    pub room_label: String,
    pub day: Date,
}

impl Boundary<'_> {
    /// The nations the room's label reaches from the originator on `day` (the originator
    /// included): the room's participants that day as the policy sees them.
    pub fn reached_on(&self, day: Date) -> Vec<NationCode> {
        let mut out: Vec<NationCode> = self
            .policy
            .nations()
            .iter()
            .copied()
            .filter(|&n| {
                self.policy
                    .decide(self.room_label, self.originator, n, day)
                    .is_permit()
            })
            .collect();
        if !out.contains(&self.originator) {
            out.push(self.originator);
        }
        out.sort();
        out
    }

    /// Whether an object labelled `label` stays in the room on `day`: every nation it may be
    /// released to is one the room's label reaches.
    pub fn admits(&self, label: &Label, day: Date) -> Result<(), Outside> {
        for &nation in self.policy.nations() {
            if self
                .policy
                .decide(label, self.originator, nation, day)
                .is_permit()
                && !self
                    .policy
                    .decide(self.room_label, self.originator, nation, day)
                    .is_permit()
            {
                return Err(Outside {
                    nation,
                    room_label: entente_labels::render_marking(
                        self.policy.policies(),
                        self.room_label,
                    )
                    .unwrap_or_else(|_| self.room_label.classification().to_owned()),
                    day,
                });
            }
        }
        Ok(())
    }
}
