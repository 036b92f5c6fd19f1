//! Synthetic national pictures for timing the fuser: aircraft flying straight over a square, each
//! nation reporting them with its own accuracy and missing some, from a seeded generator so that
//! every run sees the same input.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use entente_types::NationCode;

use crate::kalman::{Gaussian, StateCovariance, StateVector};
use crate::model::{Identity, Markings, NationalTrack, TrackRef};

/// Side of the square the aircraft fly over, metres.
const SIDE: f64 = 400_000.0;
/// Largest speed along each axis, metres per second.
const MAX_SPEED: f64 = 250.0;
/// Share of the aircraft a nation misses in each report.
const MISS_RATE: f64 = 0.1;

/// The truth and the nations that observe it.
#[derive(Debug, Clone)]
pub struct SyntheticPicture {
    nations: Vec<NationCode>,
    truth: Vec<StateVector>,
    rng: ChaCha8Rng,
}

impl SyntheticPicture {
    /// `targets` aircraft seen by `nations`, from `seed`.
    pub fn new(targets: usize, nations: Vec<NationCode>, seed: u64) -> SyntheticPicture {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let truth = (0..targets)
            .map(|_| {
                StateVector::new(
                    rng.random::<f64>() * SIDE,
                    (rng.random::<f64>() - 0.5) * 2.0 * MAX_SPEED,
                    rng.random::<f64>() * SIDE,
                    (rng.random::<f64>() - 0.5) * 2.0 * MAX_SPEED,
                )
            })
            .collect();
        SyntheticPicture {
            nations,
            truth,
            rng,
        }
    }

    /// Moves every aircraft one second on and returns every nation's report at time `t`: nation
    /// `n` sees with σ = 50 + 50·n metres and 10 m/s, and misses 10 % of the aircraft.
    pub fn step(&mut self, t: f64) -> Vec<NationalTrack<Markings>> {
        for x in &mut self.truth {
            x[0] += x[1];
            x[2] += x[3];
        }
        let mut reports = Vec::with_capacity(self.truth.len() * self.nations.len());
        for (n, code) in self.nations.iter().enumerate() {
            let sigma = 50.0 + 50.0 * n as f64;
            let p = StateCovariance::from_diagonal(&nalgebra::Vector4::new(
                sigma * sigma,
                100.0,
                sigma * sigma,
                100.0,
            ));
            for (i, x) in self.truth.iter().enumerate() {
                if self.rng.random::<f64>() < MISS_RATE {
                    continue;
                }
                let noisy = StateVector::new(
                    x[0] + sigma * normal(&mut self.rng),
                    x[1] + 10.0 * normal(&mut self.rng),
                    x[2] + sigma * normal(&mut self.rng),
                    x[3] + 10.0 * normal(&mut self.rng),
                );
                reports.push(NationalTrack {
                    source: TrackRef {
                        nation: *code,
                        // Distinct local numbers per nation, stable over time.
                        local_id: (i * 7 + n).to_string(),
                    },
                    sensor: code.to_string(),
                    t,
                    estimate: Gaussian::new(noisy, p),
                    identity: Identity::Unknown,
                    reply: Default::default(),
                    label: Markings::default(),
                });
            }
        }
        reports
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nations() -> Vec<NationCode> {
        ["EST", "LVA"].iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_reports() {
        let (mut a, mut b) = (
            SyntheticPicture::new(20, nations(), 7),
            SyntheticPicture::new(20, nations(), 7),
        );
        assert_eq!(a.step(0.0), b.step(0.0));
        let mut c = SyntheticPicture::new(20, nations(), 8);
        assert_ne!(a.step(1.0), c.step(1.0));
    }

    #[test]
    fn each_nation_sees_most_aircraft_with_its_own_accuracy() {
        let mut picture = SyntheticPicture::new(200, nations(), 1);
        let reports = picture.step(0.0);
        let est = reports.iter().filter(|r| r.source.nation.as_str() == "EST");
        let (count, sigma2) = est.fold((0, 0.0), |(n, _), r| (n + 1, r.estimate.p[(0, 0)]));
        assert!((160..=200).contains(&count), "{count}");
        assert_eq!(sigma2, 2500.0);
        assert!(reports.iter().all(|r| r.t == 0.0));
    }
}
