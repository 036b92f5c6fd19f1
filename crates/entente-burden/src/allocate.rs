//! Cost-share rules for a joint programme or a common budget, and indicators of how fair a split is.
//!
//! Rules:
//! - proportional to a basis (GNI, GDP…), with an optional cap and floor on each share, as NATO caps
//!   the largest contributor: shares are `clamp(λ·wᵢ, floor, cap)` with the one λ that makes them sum to
//!   1, so capped nations' excess is spread over the others in proportion to their basis;
//! - equal shares;
//! - the Shapley value of a cost game in which every coalition's stand-alone cost is given.

use std::collections::BTreeMap;

use entente_types::NationCode;

use crate::error::Error;

/// The largest coalition game solved exactly (2ⁿ coalitions).
pub const MAX_GAME_PLAYERS: usize = 16;

/// A cost-sharing rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Shares proportional to `basis`, each clamped to `[floor, cap]`.
    Proportional {
        cap: Option<f64>,
        floor: Option<f64>,
    },
    /// Every nation pays the same.
    Equal,
    /// The Shapley value of a cost game.
    Shapley,
}

/// One nation's part of an allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub nation: NationCode,
    /// Fraction of the total, in [0, 1].
    pub fraction: f64,
    /// `fraction × total`.
    pub amount: f64,
    /// Whether a cap or floor bound this share.
    pub bound: Option<Bound>,
}

/// Which limit bound a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Cap,
    Floor,
}

/// An allocation of `total` among nations.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    pub total: f64,
    pub shares: Vec<Share>,
}

impl Allocation {
    pub fn fraction_of(&self, nation: NationCode) -> Option<f64> {
        self.shares
            .iter()
            .find(|s| s.nation == nation)
            .map(|s| s.fraction)
    }
}

fn check_total(total: f64) -> Result<(), Error> {
    if total.is_finite() && total >= 0.0 {
        Ok(())
    } else {
        Err(Error::input(
            "total",
            format!("expected a finite amount >= 0, found {total}"),
        ))
    }
}

fn check_basis(basis: &[(NationCode, f64)]) -> Result<(), Error> {
    if basis.is_empty() {
        return Err(Error::input("basis", "no nations to share among"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (n, w) in basis {
        if !seen.insert(*n) {
            return Err(Error::input("basis", format!("{n} appears twice")));
        }
        if !w.is_finite() || *w < 0.0 {
            return Err(Error::input(
                "basis",
                format!("{n}: expected a finite value >= 0, found {w}"),
            ));
        }
    }
    Ok(())
}

/// Splits `total` in proportion to `basis`, each share clamped to `[floor, cap]` (fractions of the
/// total). Fails when the limits cannot hold together (`n·floor > 1`, `n·cap < 1`, `floor > cap`) or
/// the basis is all zeros with no floor to fall back on.
pub fn proportional(
    total: f64,
    basis: &[(NationCode, f64)],
    cap: Option<f64>,
    floor: Option<f64>,
) -> Result<Allocation, Error> {
    check_total(total)?;
    check_basis(basis)?;
    let n = basis.len() as f64;
    let lo = floor.unwrap_or(0.0);
    let hi = cap.unwrap_or(1.0);
    for (name, v) in [("floor", lo), ("cap", hi)] {
        if !v.is_finite() || !(0.0..=1.0).contains(&v) {
            return Err(Error::input(
                name,
                format!("expected a fraction between 0 and 1, found {v}"),
            ));
        }
    }
    if lo > hi {
        return Err(Error::infeasible(format!("floor {lo} is above cap {hi}")));
    }
    if hi * n < 1.0 - 1e-12 {
        return Err(Error::infeasible(format!(
            "a cap of {hi} cannot cover the total with {} nations (needs at least {:.6})",
            basis.len(),
            1.0 / n
        )));
    }
    if lo * n > 1.0 + 1e-12 {
        return Err(Error::infeasible(format!(
            "a floor of {lo} over {} nations exceeds the total (at most {:.6})",
            basis.len(),
            1.0 / n
        )));
    }
    let sum_w: f64 = basis.iter().map(|(_, w)| w).sum();
    if sum_w == 0.0 {
        return Err(Error::infeasible("the basis is zero for every nation"));
    }
    let fracs = clamp_scale(basis.iter().map(|(_, w)| *w / sum_w).collect(), lo, hi);
    let shares = basis
        .iter()
        .zip(fracs)
        .map(|((nation, _), (fraction, bound))| Share {
            nation: *nation,
            fraction,
            amount: fraction * total,
            bound,
        })
        .collect();
    Ok(Allocation { total, shares })
}

/// Finds λ with Σ clamp(λ·wᵢ, lo, hi) = 1 (the sum is continuous and non-decreasing in λ), then
/// recomputes the free shares exactly so that the result sums to 1 up to rounding.
fn clamp_scale(w: Vec<f64>, lo: f64, hi: f64) -> Vec<(f64, Option<Bound>)> {
    let f = |l: f64| w.iter().map(|wi| (l * wi).clamp(lo, hi)).sum::<f64>();
    let (mut a, mut b) = (0.0_f64, 1.0_f64);
    while f(b) < 1.0 && b < 1e300 {
        b *= 2.0;
    }
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if f(m) < 1.0 {
            a = m;
        } else {
            b = m;
        }
    }
    let lambda = 0.5 * (a + b);
    let bound: Vec<Option<Bound>> = w
        .iter()
        .map(|wi| {
            let v = lambda * wi;
            if v >= hi && hi < 1.0 {
                Some(Bound::Cap)
            } else if v <= lo && lo > 0.0 {
                Some(Bound::Floor)
            } else {
                None
            }
        })
        .collect();
    let fixed: f64 = bound
        .iter()
        .map(|b| match b {
            Some(Bound::Cap) => hi,
            Some(Bound::Floor) => lo,
            None => 0.0,
        })
        .sum();
    let free_w: f64 = w
        .iter()
        .zip(&bound)
        .filter(|(_, b)| b.is_none())
        .map(|(wi, _)| wi)
        .sum();
    let exact = if free_w > 0.0 {
        (1.0 - fixed) / free_w
    } else {
        lambda
    };
    w.iter()
        .zip(bound)
        .map(|(wi, b)| match b {
            Some(Bound::Cap) => (hi, b),
            Some(Bound::Floor) => (lo, b),
            None => ((exact * wi).clamp(lo, hi), None),
        })
        .collect()
}

/// Splits `total` equally.
pub fn equal(total: f64, nations: &[NationCode]) -> Result<Allocation, Error> {
    check_total(total)?;
    let basis: Vec<(NationCode, f64)> = nations.iter().map(|n| (*n, 1.0)).collect();
    check_basis(&basis)?;
    let fraction = 1.0 / nations.len() as f64;
    Ok(Allocation {
        total,
        shares: nations
            .iter()
            .map(|n| Share {
                nation: *n,
                fraction,
                amount: fraction * total,
                bound: None,
            })
            .collect(),
    })
}

/// A cost game: the stand-alone cost of every non-empty coalition of `players`.
#[derive(Debug, Clone, PartialEq)]
pub struct CostGame {
    players: Vec<NationCode>,
    /// Indexed by bitmask over `players`; entry 0 (the empty coalition) is 0.
    costs: Vec<f64>,
}

impl CostGame {
    /// Builds a game from coalition costs. Every non-empty coalition must be given exactly once.
    pub fn new(
        players: Vec<NationCode>,
        coalitions: &[(Vec<NationCode>, f64)],
    ) -> Result<CostGame, Error> {
        let n = players.len();
        if n == 0 {
            return Err(Error::input("players", "a game needs at least one player"));
        }
        if n > MAX_GAME_PLAYERS {
            return Err(Error::input(
                "players",
                format!("{n} players: at most {MAX_GAME_PLAYERS} are solved exactly"),
            ));
        }
        let index: BTreeMap<NationCode, usize> =
            players.iter().enumerate().map(|(i, p)| (*p, i)).collect();
        if index.len() != n {
            return Err(Error::input("players", "a player is listed twice"));
        }
        let mut costs = vec![f64::NAN; 1 << n];
        costs[0] = 0.0;
        for (members, cost) in coalitions {
            let mut mask = 0usize;
            for m in members {
                let i = *index.get(m).ok_or_else(|| {
                    Error::input("coalition.members", format!("{m} is not a player"))
                })?;
                if mask & (1 << i) != 0 {
                    return Err(Error::input(
                        "coalition.members",
                        format!("{m} is listed twice in a coalition"),
                    ));
                }
                mask |= 1 << i;
            }
            if mask == 0 {
                return Err(Error::input(
                    "coalition.members",
                    "a coalition must not be empty",
                ));
            }
            if !cost.is_finite() || *cost < 0.0 {
                return Err(Error::input(
                    "coalition.cost",
                    format!("expected a finite cost >= 0, found {cost}"),
                ));
            }
            if !costs[mask].is_nan() {
                return Err(Error::input(
                    "coalition",
                    format!("coalition {} is given twice", names(&players, mask)),
                ));
            }
            costs[mask] = *cost;
        }
        let missing: Vec<String> = (1..costs.len())
            .filter(|m| costs[*m].is_nan())
            .take(5)
            .map(|m| names(&players, m))
            .collect();
        if !missing.is_empty() {
            return Err(Error::input(
                "coalition",
                format!(
                    "{} coalition costs missing, e.g. {}",
                    costs.iter().filter(|c| c.is_nan()).count(),
                    missing.join("; ")
                ),
            ));
        }
        Ok(CostGame { players, costs })
    }

    /// A game from a function of coalition masks (used for generated games and tests).
    pub fn from_fn(
        players: Vec<NationCode>,
        cost: impl Fn(usize) -> f64,
    ) -> Result<CostGame, Error> {
        let n = players.len();
        if n == 0 || n > MAX_GAME_PLAYERS {
            return Err(Error::input(
                "players",
                format!("expected 1 to {MAX_GAME_PLAYERS} players, found {n}"),
            ));
        }
        let costs = (0..1usize << n)
            .map(|m| if m == 0 { 0.0 } else { cost(m) })
            .collect();
        Ok(CostGame { players, costs })
    }

    pub fn players(&self) -> &[NationCode] {
        &self.players
    }

    /// The cost of the coalition given as a bitmask over [`CostGame::players`].
    pub fn cost(&self, mask: usize) -> f64 {
        self.costs.get(mask).copied().unwrap_or(f64::NAN)
    }

    /// The grand coalition's cost.
    pub fn total(&self) -> f64 {
        self.cost((1 << self.players.len()) - 1)
    }

    /// The Shapley value: each player's average marginal cost over all orders of joining.
    pub fn shapley(&self) -> Allocation {
        let n = self.players.len();
        // weight[s] = s! (n - s - 1)! / n!, computed as a product to stay in range.
        let weight: Vec<f64> = (0..n)
            .map(|s| {
                let mut w = 1.0 / n as f64;
                // 1 / C(n-1, s)
                for k in 0..s {
                    w *= (k + 1) as f64 / (n - 1 - k) as f64;
                }
                w
            })
            .collect();
        let mut phi = vec![0.0; n];
        for mask in 0..(1usize << n) {
            let size = mask.count_ones() as usize;
            for (i, p) in phi.iter_mut().enumerate() {
                if mask & (1 << i) == 0 {
                    *p += weight[size] * (self.costs[mask | (1 << i)] - self.costs[mask]);
                }
            }
        }
        let total = self.total();
        let shares = self
            .players
            .iter()
            .zip(phi)
            .map(|(nation, amount)| Share {
                nation: *nation,
                fraction: if total > 0.0 { amount / total } else { 0.0 },
                amount,
                bound: None,
            })
            .collect();
        Allocation { total, shares }
    }

    /// Checks an allocation of the grand coalition's cost against every coalition: in the core, no
    /// group of nations pays more together than it would alone.
    pub fn core_check(&self, allocation: &Allocation) -> CoreCheck {
        let amounts: Vec<f64> = self
            .players
            .iter()
            .map(|p| {
                allocation
                    .shares
                    .iter()
                    .find(|s| s.nation == *p)
                    .map_or(0.0, |s| s.amount)
            })
            .collect();
        let mut worst: Option<(usize, f64)> = None;
        for mask in 1..(1usize << self.players.len()) {
            let paid: f64 = (0..self.players.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| amounts[i])
                .sum();
            let excess = paid - self.costs[mask];
            if worst.is_none_or(|(_, e)| excess > e) {
                worst = Some((mask, excess));
            }
        }
        let (mask, excess) = worst.unwrap_or((0, 0.0));
        let tol = 1e-9 * self.total().abs().max(1.0);
        CoreCheck {
            in_core: excess <= tol,
            worst_coalition: members(&self.players, mask),
            worst_excess: excess,
        }
    }
}

fn members(players: &[NationCode], mask: usize) -> Vec<NationCode> {
    players
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect()
}

fn names(players: &[NationCode], mask: usize) -> String {
    let m: Vec<String> = members(players, mask)
        .iter()
        .map(ToString::to_string)
        .collect();
    format!("[{}]", m.join(", "))
}

/// Whether an allocation is stable in a cost game.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreCheck {
    pub in_core: bool,
    /// The coalition that gains most by leaving (pays most above its stand-alone cost).
    pub worst_coalition: Vec<NationCode>,
    /// What it pays above its stand-alone cost (≤ 0 when in the core).
    pub worst_excess: f64,
}

/// Fairness of an allocation measured against a reference basis (e.g. GNI).
#[derive(Debug, Clone, PartialEq)]
pub struct Fairness {
    /// Herfindahl–Hirschman index of the shares (1/n when equal, 1 when one nation pays all).
    pub hhi: f64,
    /// Half the sum of |shareᵢ − basis shareᵢ|: the fraction of the total moved away from pure
    /// proportionality (0 when proportional).
    pub proportionality_gap: f64,
    /// `(nation, share / basis share)`: above 1 pays more than its weight.
    pub ratios: Vec<(NationCode, f64)>,
    /// Gini coefficient of the shares (0 when equal).
    pub gini: f64,
}

/// Measures `allocation` against `basis` (nations missing from the basis count as weight 0).
pub fn fairness(allocation: &Allocation, basis: &[(NationCode, f64)]) -> Fairness {
    let sum_w: f64 = basis.iter().map(|(_, w)| w).sum();
    let weight = |n: NationCode| -> f64 {
        if sum_w > 0.0 {
            basis
                .iter()
                .find(|(b, _)| *b == n)
                .map_or(0.0, |(_, w)| w / sum_w)
        } else {
            0.0
        }
    };
    let hhi = allocation
        .shares
        .iter()
        .map(|s| s.fraction * s.fraction)
        .sum();
    let proportionality_gap = 0.5
        * allocation
            .shares
            .iter()
            .map(|s| (s.fraction - weight(s.nation)).abs())
            .sum::<f64>();
    let ratios = allocation
        .shares
        .iter()
        .filter(|s| weight(s.nation) > 0.0)
        .map(|s| (s.nation, s.fraction / weight(s.nation)))
        .collect();
    let mut x: Vec<f64> = allocation.shares.iter().map(|s| s.fraction).collect();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let sum: f64 = x.iter().sum();
    let gini = if n > 0.0 && sum > 0.0 {
        let weighted: f64 = x
            .iter()
            .enumerate()
            .map(|(i, v)| (i as f64 + 1.0) * v)
            .sum();
        (2.0 * weighted) / (n * sum) - (n + 1.0) / n
    } else {
        0.0
    };
    Fairness {
        hhi,
        proportionality_gap,
        ratios,
        gini,
    }
}
