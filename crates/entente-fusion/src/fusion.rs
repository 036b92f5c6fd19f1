//! Track-to-track fusion across nations into one picture, and per-recipient pictures.
//!
//! At each fusion instant every national track is predicted to that instant; tracks are then
//! associated nation by nation (a system track never holds two tracks of one nation) with a χ²
//! gate on the state difference, `Δᵀ (P₁ + P₂)⁻¹ Δ ≤ gate`, and an optimal assignment; each
//! group is fused by covariance intersection, which stays consistent whatever the unknown
//! cross-correlation between national estimates.
//!
//! A recipient's picture is fused from the contributions it may receive and from nothing else:
//! [`RecipientPicture::fuse`] filters with the [`Releasability`] predicate *before* any
//! arithmetic, so no estimate, identity, label or track number of the recipient's picture can
//! depend on a contribution it may not see.

use std::collections::{BTreeMap, HashMap, HashSet};

use entente_types::NationCode;
use nalgebra::Cholesky;

use crate::assignment::{gnn, Edge};
use crate::ci::{self, Weighting};
use crate::kalman::{Gaussian, Motion, StateCovariance, StateVector};
use crate::model::{quality, Label, Markings, NationalTrack, SystemTrack, TrackRef};
use crate::Error;

/// χ² quantile for 4 degrees of freedom at 0.99: the default association gate.
pub const CHI2_4_99: f64 = 13.276_704_135_987_6;

/// Fusion parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionConfig {
    /// Model used to bring each national track to the fusion instant.
    pub motion: Motion,
    /// Gate on the squared Mahalanobis distance between two tracks' states.
    pub gate: f64,
    /// How covariance-intersection weights are chosen.
    pub weighting: Weighting,
    /// National tracks older than this (seconds) at the fusion instant are left out.
    pub max_age: f64,
}

impl FusionConfig {
    /// Constant-velocity prediction with process noise `q`, 99 % χ² gate, fast CI, tracks kept for
    /// 30 s after their last report.
    pub fn new(q: f64) -> FusionConfig {
        FusionConfig {
            motion: Motion::ConstantVelocity { q },
            gate: CHI2_4_99,
            weighting: Weighting::Fast,
            max_age: 30.0,
        }
    }
}

/// Whether a national track may be received by a nation: the release decision, per contribution.
///
/// The release-policy crate implements this from labels and agreements in force; any
/// `Fn(&NationalTrack<L>, NationCode) -> bool` is one too.
pub trait Releasability<L> {
    /// `true` if `recipient` may receive `track`.
    fn may_receive(&self, track: &NationalTrack<L>, recipient: NationCode) -> bool;
}

impl<L, F> Releasability<L> for F
where
    F: Fn(&NationalTrack<L>, NationCode) -> bool,
{
    fn may_receive(&self, track: &NationalTrack<L>, recipient: NationCode) -> bool {
        self(track, recipient)
    }
}

/// Fuses successive snapshots of national tracks into system tracks with stable numbers.
#[derive(Debug, Clone)]
pub struct Fuser {
    config: FusionConfig,
    next_id: u64,
    /// System track number each national track belonged to at the last instant, and that
    /// instant's generation.
    owner: HashMap<TrackRef, (u64, u64)>,
    generation: u64,
}

struct Group<L> {
    members: Vec<usize>,
    fused: Gaussian,
    /// Dominant label of the members so far.
    label: L,
    /// Fast-CI accumulators: Σ Pᵢ⁻¹ / tr Pᵢ, Σ Pᵢ⁻¹ xᵢ / tr Pᵢ, Σ 1 / tr Pᵢ.
    fast: Option<(StateCovariance, StateVector, f64)>,
}

/// One estimate's terms in the fast-CI sums.
fn info(g: &Gaussian) -> Result<(StateCovariance, StateVector, f64), Error> {
    let w = 1.0 / g.p.trace();
    let inv = ci::spd_inverse(&g.p)?;
    Ok((inv * w, inv * g.x * w, w))
}

impl Fuser {
    /// A fuser with no history.
    pub fn new(config: FusionConfig) -> Fuser {
        Fuser {
            config,
            next_id: 1,
            owner: HashMap::new(),
            generation: 0,
        }
    }

    /// The parameters.
    pub fn config(&self) -> &FusionConfig {
        &self.config
    }

    /// Fuses the latest national tracks (one entry per national track) into the picture at time
    /// `t`. Tracks reported after `t` are taken as current.
    pub fn fuse<L: Label>(
        &mut self,
        t: f64,
        tracks: &[&NationalTrack<L>],
    ) -> Result<Vec<SystemTrack<L>>, Error> {
        let cfg = self.config;
        let fresh: Vec<&NationalTrack<L>> = tracks
            .iter()
            .copied()
            .filter(|tr| t - tr.t <= cfg.max_age)
            .collect();
        let predicted: Vec<Gaussian> = fresh
            .iter()
            .map(|tr| cfg.motion.predict(&tr.estimate, (t - tr.t).max(0.0)))
            .collect();
        let mut by_nation: BTreeMap<NationCode, Vec<usize>> = BTreeMap::new();
        for (i, tr) in fresh.iter().enumerate() {
            by_nation.entry(tr.source.nation).or_default().push(i);
        }

        let mut groups: Vec<Group<L>> = Vec::new();
        for members in by_nation.values() {
            let compatible = |g: &Group<L>, m: usize| g.label.dominant(&fresh[m].label).is_some();
            let assigned = associate(&groups, members, &predicted, cfg.gate, compatible);
            for (&i, group) in members.iter().zip(assigned) {
                match group {
                    Some(g) => {
                        let group = &mut groups[g];
                        group.members.push(i);
                        // `associate` only pairs labels that have a dominant label.
                        if let Some(label) = group.label.dominant(&fresh[i].label) {
                            group.label = label;
                        }
                        group.fused = match cfg.weighting {
                            Weighting::Fast => {
                                let (a, b, s) = group.fast.get_or_insert(info(&group.fused)?);
                                let (ia, ib, is) = info(&predicted[i])?;
                                *a += ia;
                                *b += ib;
                                *s += is;
                                // Σ wᵢ Pᵢ⁻¹ with wᵢ = (1/tr Pᵢ) / s, so P = s · A⁻¹ and x = A⁻¹ b.
                                let a_inv = ci::spd_inverse(a)?;
                                Gaussian::new(a_inv * *b, a_inv * *s)
                            }
                            Weighting::MinTrace => ci::ci_min_trace(&group.fused, &predicted[i])?,
                        };
                    }
                    None => groups.push(Group {
                        members: vec![i],
                        fused: predicted[i],
                        fast: None,
                        label: fresh[i].label.clone(),
                    }),
                }
            }
        }

        // Stable numbering: a group keeps the number most of its members had, if still free.
        self.generation += 1;
        let generation = self.generation;
        let mut taken: HashSet<u64> = HashSet::with_capacity(groups.len());
        let mut out = Vec::with_capacity(groups.len());
        let mut votes: Vec<(u64, usize)> = Vec::new();
        for group in groups {
            votes.clear();
            for &m in &group.members {
                if let Some(&(id, _)) = self.owner.get(&fresh[m].source) {
                    match votes.iter_mut().find(|v| v.0 == id) {
                        Some(v) => v.1 += 1,
                        None => votes.push((id, 1)),
                    }
                }
            }
            let best = votes
                .iter()
                .filter(|(id, _)| !taken.contains(id))
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|(id, _)| *id);
            let id = best.unwrap_or_else(|| {
                let id = self.next_id;
                self.next_id += 1;
                id
            });
            taken.insert(id);
            let first = &fresh[group.members[0]];
            let mut identity = first.identity;
            let mut reply = crate::model::Reply::default();
            let mut contributions = Vec::with_capacity(group.members.len());
            for &m in &group.members {
                let tr = fresh[m];
                identity = identity.max(tr.identity);
                reply = reply.or(&tr.reply);
                contributions.push(tr.source.clone());
                match self.owner.get_mut(&tr.source) {
                    Some(entry) => *entry = (id, generation),
                    None => {
                        self.owner.insert(tr.source.clone(), (id, generation));
                    }
                }
            }
            contributions.sort();
            out.push(SystemTrack {
                id,
                t,
                estimate: group.fused,
                contributions,
                quality: quality(&group.fused),
                identity,
                reply,
                label: group.label,
            });
        }
        // Forget national tracks that were not reported this time.
        self.owner.retain(|_, entry| entry.1 == generation);
        out.sort_by_key(|s| s.id);
        Ok(out)
    }
}

/// Associates one nation's tracks (`members`) with the current groups; returns each track's group.
fn associate<L>(
    groups: &[Group<L>],
    members: &[usize],
    predicted: &[Gaussian],
    gate: f64,
    compatible: impl Fn(&Group<L>, usize) -> bool,
) -> Vec<Option<usize>> {
    if groups.is_empty() || members.is_empty() {
        return vec![None; members.len()];
    }
    // Index the nation's tracks by x to prune pairs that cannot pass the gate.
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        predicted[members[a]].x[0].total_cmp(&predicted[members[b]].x[0])
    });
    let xs: Vec<f64> = order.iter().map(|&k| predicted[members[k]].x[0]).collect();
    let max_pxx = members
        .iter()
        .map(|&m| predicted[m].p[(0, 0)])
        .fold(0.0_f64, f64::max);
    let max_pyy = members
        .iter()
        .map(|&m| predicted[m].p[(2, 2)])
        .fold(0.0_f64, f64::max);
    let mut edges = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let a = &group.fused;
        // Δx² / (Pxx₁ + Pxx₂) ≤ d² ≤ gate bounds |Δx|.
        let wx = (gate * (a.p[(0, 0)] + max_pxx)).sqrt();
        let wy = (gate * (a.p[(2, 2)] + max_pyy)).sqrt();
        let lo = xs.partition_point(|&x| x < a.x[0] - wx);
        for k in lo..xs.len() {
            if xs[k] > a.x[0] + wx {
                break;
            }
            let b = &predicted[members[order[k]]];
            if (b.x[2] - a.x[2]).abs() > wy {
                continue;
            }
            let d = a.x - b.x;
            let Some(chol) = Cholesky::new(a.p + b.p) else {
                continue;
            };
            let d2 = d.dot(&chol.solve(&d));
            if d2 <= gate && compatible(group, members[order[k]]) {
                edges.push(Edge {
                    row: order[k],
                    col: g,
                    cost: d2,
                });
            }
        }
    }
    gnn(members.len(), groups.len(), &edges, gate)
}

/// The fused picture one recipient nation may see.
#[derive(Debug, Clone)]
pub struct RecipientPicture {
    recipient: NationCode,
    fuser: Fuser,
}

impl RecipientPicture {
    /// An empty picture for `recipient`.
    pub fn new(recipient: NationCode, config: FusionConfig) -> RecipientPicture {
        RecipientPicture {
            recipient,
            fuser: Fuser::new(config),
        }
    }

    /// The recipient.
    pub fn recipient(&self) -> NationCode {
        self.recipient
    }

    /// Fuses, at time `t`, the national tracks that `policy` releases to the recipient. Nothing
    /// else enters the computation.
    pub fn fuse<L: Label, P: Releasability<L> + ?Sized>(
        &mut self,
        t: f64,
        tracks: &[NationalTrack<L>],
        policy: &P,
    ) -> Result<Vec<SystemTrack<L>>, Error> {
        let released: Vec<&NationalTrack<L>> = tracks
            .iter()
            .filter(|tr| policy.may_receive(tr, self.recipient))
            .collect();
        self.fuser.fuse(t, &released)
    }
}

/// Fuses a snapshot once, without history (system numbers start at 1).
pub fn fuse_snapshot(
    config: FusionConfig,
    t: f64,
    tracks: &[NationalTrack<Markings>],
) -> Result<Vec<SystemTrack<Markings>>, Error> {
    let refs: Vec<&NationalTrack<Markings>> = tracks.iter().collect();
    Fuser::new(config).fuse(t, &refs)
}

#[cfg(test)]
mod tests;
