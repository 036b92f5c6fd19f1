//! What nations report and what the alliance fuses: plots, national tracks and system tracks,
//! each carrying a confidentiality label like any other shared object.

use std::collections::BTreeSet;

use entente_types::NationCode;

use crate::kalman::{Gaussian, Measurement};

/// A confidentiality label as far as fusion is concerned: fusion only needs to know which label
/// covers a product derived from several labelled inputs.
///
/// `entente_labels::Label::dominate` (STANAG 4774 labels) fits this directly; [`Markings`] is the
/// STIX reading, in which every marking of every input applies to the product.
pub trait Label: Clone + PartialEq + std::fmt::Debug {
    /// The label a product derived from inputs labelled `self` and `other` must carry: at least
    /// as restrictive as both. `None` when no label covers both (e.g. labels of two different
    /// policies): fusion then keeps the two contributions in separate system tracks.
    fn dominant(&self, other: &Self) -> Option<Self>;
}

/// STIX `object_marking_refs`: a set of marking-definition identifiers, all of which apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Markings(pub BTreeSet<String>);

impl Markings {
    /// Markings from identifiers.
    pub fn of<I: IntoIterator<Item = S>, S: Into<String>>(refs: I) -> Markings {
        Markings(refs.into_iter().map(Into::into).collect())
    }
}

impl Label for Markings {
    fn dominant(&self, other: &Markings) -> Option<Markings> {
        Some(Markings(self.0.union(&other.0).cloned().collect()))
    }
}

impl Label for () {
    fn dominant(&self, _: &()) -> Option<()> {
        Some(())
    }
}

/// Standard identity of a track (the public STANAG 1241 / APP-6 categories), ordered from the
/// least to the most alarming; fusion keeps the most alarming claim of its contributions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Identity {
    /// Not yet evaluated.
    #[default]
    Pending,
    /// Evaluated but not identified.
    Unknown,
    /// Assumed friend.
    AssumedFriend,
    /// Friend.
    Friend,
    /// Neutral.
    Neutral,
    /// Suspect.
    Suspect,
    /// Hostile.
    Hostile,
}

impl Identity {
    /// All identities, in order.
    pub const ALL: [Identity; 7] = [
        Identity::Pending,
        Identity::Unknown,
        Identity::AssumedFriend,
        Identity::Friend,
        Identity::Neutral,
        Identity::Suspect,
        Identity::Hostile,
    ];

    /// Lower-case name used in files and STIX objects.
    pub fn as_str(self) -> &'static str {
        match self {
            Identity::Pending => "pending",
            Identity::Unknown => "unknown",
            Identity::AssumedFriend => "assumed-friend",
            Identity::Friend => "friend",
            Identity::Neutral => "neutral",
            Identity::Suspect => "suspect",
            Identity::Hostile => "hostile",
        }
    }

    /// Parses [`Identity::as_str`].
    pub fn parse(text: &str) -> Option<Identity> {
        Identity::ALL.into_iter().find(|i| i.as_str() == text)
    }
}

/// A detection report from one national sensor: a position at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot<L = Markings> {
    /// Reporting nation.
    pub nation: NationCode,
    /// Sensor name, unique within the nation.
    pub sensor: String,
    /// Time, seconds.
    pub t: f64,
    /// Measured position, metres in the shared local frame.
    pub z: Measurement,
    /// Confidentiality label.
    pub label: L,
}

/// Which national track: the nation and its own identifier for the track.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrackRef {
    /// Owning nation.
    pub nation: NationCode,
    /// The nation's identifier of the track.
    pub local_id: String,
}

/// What an aircraft's own replies add to a track: its pressure altitude (SSR Mode C, IFF) and
/// its identification (Mode S aircraft identification, or an own flight's callsign). Radars
/// measure neither: a track of an aircraft that does not answer has none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    /// Altitude, metres.
    pub altitude_m: Option<f64>,
    /// Callsign or aircraft identification.
    pub callsign: Option<String>,
}

impl Reply {
    /// This reply, completed with what `other` has and this one lacks.
    pub fn or(&self, other: &Reply) -> Reply {
        Reply {
            altitude_m: self.altitude_m.or(other.altitude_m),
            callsign: self.callsign.clone().or_else(|| other.callsign.clone()),
        }
    }
}

/// A local track as a nation reports it to its partners.
#[derive(Debug, Clone, PartialEq)]
pub struct NationalTrack<L = Markings> {
    /// Which track.
    pub source: TrackRef,
    /// Sensor or command centre that produced it.
    pub sensor: String,
    /// Time of the estimate, seconds.
    pub t: f64,
    /// State estimate.
    pub estimate: Gaussian,
    /// Identity the nation assigns.
    pub identity: Identity,
    /// What the aircraft's replies told the nation.
    pub reply: Reply,
    /// Confidentiality label.
    pub label: L,
}

/// A track of the fused (recognised) air picture.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemTrack<L = Markings> {
    /// System track number, stable from one fusion instant to the next while its contributors
    /// persist.
    pub id: u64,
    /// Time of the estimate, seconds.
    pub t: f64,
    /// Fused estimate.
    pub estimate: Gaussian,
    /// The national tracks it was fused from (at least one), sorted.
    pub contributions: Vec<TrackRef>,
    /// Track quality, 0 (worst) to 15 (best); see [`quality`].
    pub quality: u8,
    /// Most alarming identity among the contributions.
    pub identity: Identity,
    /// The replies of the contributions, the first one reported of each kind, in contribution
    /// order.
    pub reply: Reply,
    /// Dominant label of the contributions.
    pub label: L,
}

/// Track quality on the project's own 0–15 scale, from the 1-σ position error
/// `σ = √((Pxx + Pyy) / 2)`: 15 when `σ ≤ 1 m`, one step lower per doubling of `σ`, 0 from
/// 2¹⁵ m (about 33 km) on.
pub fn quality(estimate: &Gaussian) -> u8 {
    let variance = (estimate.p[(0, 0)] + estimate.p[(2, 2)]) / 2.0;
    if !variance.is_finite() || variance < 0.0 {
        return 0;
    }
    let sigma = variance.sqrt();
    let steps = sigma.max(1.0).log2().ceil();
    (15.0 - steps).clamp(0.0, 15.0) as u8
}

#[cfg(test)]
mod tests;
