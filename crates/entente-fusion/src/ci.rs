//! Covariance intersection: fusing estimates whose cross-correlation is unknown.
//!
//! Two national radars that saw the same aircraft, or two command centres that exchanged tracks
//! earlier, produce estimates with unknown correlation; the Kalman combination would then be
//! overconfident. Covariance intersection takes a convex combination of the information matrices,
//! `P⁻¹ = Σ wᵢ Pᵢ⁻¹`, `x = P Σ wᵢ Pᵢ⁻¹ xᵢ`, with `Σ wᵢ = 1`, which is consistent whatever the
//! correlation. The weights either minimise the trace of `P` (a one-dimensional search for two
//! inputs) or follow the fast rule of Niehsen (2002), `wᵢ ∝ 1 / tr Pᵢ`.

use nalgebra::Cholesky;

use crate::kalman::{symmetrize, Gaussian, StateCovariance, StateVector};
use crate::Error;

/// How the weights are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weighting {
    /// `wᵢ ∝ 1 / tr Pᵢ` (closed form, any number of inputs).
    Fast,
    /// Minimise `tr P` (golden-section search over `w` for two inputs; pairwise for more).
    MinTrace,
}

/// Fuses `inputs` with the given weights (normalised here). Fails if a covariance is not positive
/// definite.
pub fn fuse_weighted(inputs: &[Gaussian], weights: &[f64]) -> Result<Gaussian, Error> {
    if inputs.is_empty() || inputs.len() != weights.len() {
        return Err(Error::InvalidInput {
            what: "covariance intersection".into(),
            message: "needs as many weights as estimates, and at least one".into(),
        });
    }
    let total: f64 = weights.iter().sum();
    let valid = |w: f64| w.is_finite() && w >= 0.0;
    if !valid(total) || total == 0.0 || !weights.iter().all(|w| valid(*w)) {
        return Err(Error::InvalidInput {
            what: "covariance intersection".into(),
            message: "weights must be non-negative with a positive sum".into(),
        });
    }
    let mut info = StateCovariance::zeros();
    let mut info_x = StateVector::zeros();
    for (g, w) in inputs.iter().zip(weights) {
        let inv = spd_inverse(&g.p)?;
        let w = w / total;
        info += inv * w;
        info_x += inv * g.x * w;
    }
    let p = spd_inverse(&info)?;
    Ok(Gaussian::new(p * info_x, symmetrize(&p)))
}

/// Fast covariance intersection (Niehsen 2002): `wᵢ = (1/tr Pᵢ) / Σⱼ (1/tr Pⱼ)`.
pub fn fast_ci(inputs: &[Gaussian]) -> Result<Gaussian, Error> {
    let weights: Vec<f64> = inputs.iter().map(|g| 1.0 / g.p.trace()).collect();
    fuse_weighted(inputs, &weights)
}

/// Covariance intersection of two estimates with the weight on `a` that minimises `tr P`.
pub fn ci_min_trace(a: &Gaussian, b: &Gaussian) -> Result<Gaussian, Error> {
    let (ia, ib) = (spd_inverse(&a.p)?, spd_inverse(&b.p)?);
    let trace_at = |w: f64| -> f64 {
        spd_inverse(&(ia * w + ib * (1.0 - w)))
            .map(|p| p.trace())
            .unwrap_or(f64::INFINITY)
    };
    // tr P(w) is convex in w (Reinhardt et al.), so golden-section search finds the minimum.
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    let (mut c, mut d) = (hi - phi * (hi - lo), lo + phi * (hi - lo));
    let (mut fc, mut fd) = (trace_at(c), trace_at(d));
    for _ in 0..60 {
        if fc < fd {
            hi = d;
            d = c;
            fd = fc;
            c = hi - phi * (hi - lo);
            fc = trace_at(c);
        } else {
            lo = c;
            c = d;
            fc = fd;
            d = lo + phi * (hi - lo);
            fd = trace_at(d);
        }
    }
    let mut w = (lo + hi) / 2.0;
    // The optimum may sit on an end point (one estimate dominates the other).
    for end in [0.0, 1.0] {
        if trace_at(end) < trace_at(w) {
            w = end;
        }
    }
    fuse_weighted(&[*a, *b], &[w, 1.0 - w])
}

/// Fuses any number of estimates.
pub fn fuse(inputs: &[Gaussian], weighting: Weighting) -> Result<Gaussian, Error> {
    match (weighting, inputs) {
        (_, [only]) => Ok(*only),
        (Weighting::MinTrace, [first, rest @ ..]) => {
            rest.iter().try_fold(*first, |acc, g| ci_min_trace(&acc, g))
        }
        _ => fast_ci(inputs),
    }
}

/// The inverse of a symmetric positive definite matrix.
pub fn spd_inverse(p: &StateCovariance) -> Result<StateCovariance, Error> {
    Cholesky::new(*p)
        .map(|c| c.inverse())
        .ok_or(Error::NotPositiveDefinite)
}

#[cfg(test)]
mod tests;
