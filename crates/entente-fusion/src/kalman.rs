//! Linear Gaussian motion and measurement models and the Kalman filter over them.
//!
//! The state is `[x, vx, y, vy]`, the ordering Stone Soup uses, so that figures and files compare
//! one to one. Measurements are plots: positions `[x, y]`.

use nalgebra::{Matrix2, Matrix4, Vector2, Vector4};

/// `[x, vx, y, vy]` in metres and metres per second.
pub type StateVector = Vector4<f64>;
/// Covariance of a [`StateVector`].
pub type StateCovariance = Matrix4<f64>;
/// A plot position `[x, y]`.
pub type Measurement = Vector2<f64>;
/// Covariance of a [`Measurement`].
pub type MeasurementCovariance = Matrix2<f64>;

/// A Gaussian estimate of one target's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian {
    /// Mean.
    pub x: StateVector,
    /// Covariance.
    pub p: StateCovariance,
}

impl Gaussian {
    /// Builds an estimate from its mean and covariance.
    pub fn new(x: StateVector, p: StateCovariance) -> Gaussian {
        Gaussian { x, p }
    }

    /// The position part of the mean.
    pub fn position(&self) -> Measurement {
        Measurement::new(self.x[0], self.x[2])
    }

    /// The position block of the covariance.
    pub fn position_covariance(&self) -> MeasurementCovariance {
        Matrix2::new(
            self.p[(0, 0)],
            self.p[(0, 2)],
            self.p[(2, 0)],
            self.p[(2, 2)],
        )
    }
}

/// How a target moves between two instants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Motion {
    /// Nearly constant velocity with white acceleration noise of spectral density `q` per axis
    /// (Stone Soup's `ConstantVelocity(q)` on each axis).
    ConstantVelocity {
        /// Process noise spectral density, m²/s³.
        q: f64,
    },
    /// Coordinated turn at a known rate `omega` (rad/s, counter-clockwise), with the same process
    /// noise as the constant-velocity model.
    ConstantTurn {
        /// Process noise spectral density, m²/s³.
        q: f64,
        /// Turn rate, rad/s.
        omega: f64,
    },
}

impl Motion {
    /// The transition matrix `F` and process noise `Q` over `dt` seconds.
    pub fn matrices(&self, dt: f64) -> (StateCovariance, StateCovariance) {
        let q = match *self {
            Motion::ConstantVelocity { q } | Motion::ConstantTurn { q, .. } => q,
        };
        let (dt2, dt3) = (dt * dt, dt * dt * dt);
        let (a, b, c) = (q * dt3 / 3.0, q * dt2 / 2.0, q * dt);
        #[rustfmt::skip]
        let noise = Matrix4::new(
            a, b, 0.0, 0.0,
            b, c, 0.0, 0.0,
            0.0, 0.0, a, b,
            0.0, 0.0, b, c,
        );
        let f = match *self {
            Motion::ConstantTurn { omega, .. } if omega.abs() > 1e-9 => {
                let (s, co) = ((omega * dt).sin(), (omega * dt).cos());
                #[rustfmt::skip]
                let f = Matrix4::new(
                    1.0, s / omega, 0.0, -(1.0 - co) / omega,
                    0.0, co, 0.0, -s,
                    0.0, (1.0 - co) / omega, 1.0, s / omega,
                    0.0, s, 0.0, co,
                );
                f
            }
            _ => {
                #[rustfmt::skip]
                let f = Matrix4::new(
                    1.0, dt, 0.0, 0.0,
                    0.0, 1.0, 0.0, 0.0,
                    0.0, 0.0, 1.0, dt,
                    0.0, 0.0, 0.0, 1.0,
                );
                f
            }
        };
        (f, noise)
    }

    /// Predicts `g` forward by `dt` seconds.
    pub fn predict(&self, g: &Gaussian, dt: f64) -> Gaussian {
        if dt == 0.0 {
            return *g;
        }
        let (f, q) = self.matrices(dt);
        let p = f * g.p * f.transpose() + q;
        Gaussian::new(f * g.x, symmetrize(&p))
    }
}

/// The measurement prediction for a plot: innovation covariance and the gain ingredients.
#[derive(Debug, Clone, Copy)]
pub struct Innovation {
    /// Predicted position.
    pub z: Measurement,
    /// Innovation covariance `S = H P Hᵀ + R`.
    pub s: MeasurementCovariance,
    /// `S⁻¹`.
    pub s_inv: MeasurementCovariance,
}

impl Innovation {
    /// The measurement prediction of `g` under position measurements with noise `r`. `None` if
    /// `S` is singular.
    pub fn of(g: &Gaussian, r: &MeasurementCovariance) -> Option<Innovation> {
        let s = g.position_covariance() + r;
        let s_inv = s.try_inverse()?;
        Some(Innovation {
            z: g.position(),
            s,
            s_inv,
        })
    }

    /// Squared Mahalanobis distance of plot `z` from the prediction.
    pub fn mahalanobis2(&self, z: &Measurement) -> f64 {
        let d = z - self.z;
        (d.transpose() * self.s_inv * d)[(0, 0)]
    }
}

/// Kalman update of `g` with plot `z` (position measurement, noise `r`).
pub fn update(g: &Gaussian, innovation: &Innovation, z: &Measurement) -> Gaussian {
    // P Hᵀ is the position columns of P.
    let pht: nalgebra::Matrix4x2<f64> = nalgebra::Matrix4x2::from_columns(&[
        g.p.column(0).into_owned(),
        g.p.column(2).into_owned(),
    ]);
    let k = pht * innovation.s_inv;
    let x = g.x + k * (z - innovation.z);
    // P - K S Kᵀ, the form Stone Soup's KalmanUpdater uses.
    let p = g.p - k * innovation.s * k.transpose();
    Gaussian::new(x, symmetrize(&p))
}

/// `(A + Aᵀ) / 2`: keeps rounding from making a covariance asymmetric over many steps.
pub fn symmetrize(p: &StateCovariance) -> StateCovariance {
    (p + p.transpose()) * 0.5
}

/// A state mean from its parts.
pub fn state(x: f64, vx: f64, y: f64, vy: f64) -> StateVector {
    Vector4::new(x, vx, y, vy)
}

#[cfg(test)]
mod tests;
