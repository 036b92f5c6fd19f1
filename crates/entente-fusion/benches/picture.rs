//! Criterion benchmarks: one tracker scan, one fusion instant, and the assignment solver, at the
//! sizes the comparison with Stone Soup uses. Inputs are generated deterministically in memory.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use entente_fusion::assignment::{gnn, solve_dense, Edge};
use entente_fusion::fusion::{Fuser, FusionConfig};
use entente_fusion::kalman::{Gaussian, Measurement, StateCovariance, StateVector};
use entente_fusion::model::{Identity, Markings, NationalTrack, TrackRef};
use entente_fusion::tracker::{Tracker, TrackerConfig};

struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// `n` targets on a grid 100 m apart moving slowly, 50 clutter plots, Pd 0.9, σ = 0.5 m.
fn scans(n: usize, count: usize, rng: &mut Rng) -> Vec<Vec<Measurement>> {
    let side = (n as f64).sqrt().ceil() as usize;
    let extent = side as f64 * 100.0;
    (0..count)
        .map(|k| {
            let mut plots = Vec::with_capacity(n + 50);
            for i in 0..n {
                if rng.uniform() < 0.9 {
                    let (gx, gy) = ((i % side) as f64 * 100.0, (i / side) as f64 * 100.0);
                    plots.push(Measurement::new(
                        gx + 0.5 * k as f64 + 0.5 * rng.normal(),
                        gy - 0.3 * k as f64 + 0.5 * rng.normal(),
                    ));
                }
            }
            for _ in 0..50 {
                plots.push(Measurement::new(
                    rng.uniform() * extent,
                    rng.uniform() * extent,
                ));
            }
            plots
        })
        .collect()
}

fn tracker(c: &mut Criterion) {
    let mut group = c.benchmark_group("tracker_scan");
    for n in [10usize, 100, 1000] {
        let mut rng = Rng(7);
        let warm = scans(n, 20, &mut rng);
        let mut base = Tracker::new(TrackerConfig::tutorial(0.005, 0.25, 0.25));
        for (k, plots) in warm.iter().enumerate() {
            let _ = base.step(k as f64, plots);
        }
        let next = scans(n, 21, &mut Rng(7)).pop().unwrap_or_default();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_batched(
                || base.clone(),
                |mut t| {
                    let _ = black_box(t.step(20.0, &next));
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn fusion(c: &mut Criterion) {
    let mut rng = Rng(11);
    let nations = ["EST", "LVA", "LTU"];
    let mut tracks = Vec::new();
    let truth: Vec<(f64, f64)> = (0..1000)
        .map(|_| (rng.uniform() * 400_000.0, rng.uniform() * 400_000.0))
        .collect();
    for (n, code) in nations.iter().enumerate() {
        let sigma = 50.0 + 50.0 * n as f64;
        for (i, &(x, y)) in truth.iter().enumerate() {
            tracks.push(NationalTrack {
                source: TrackRef {
                    nation: code.parse().unwrap_or_else(|_| unreachable!()),
                    local_id: i.to_string(),
                },
                sensor: (*code).to_owned(),
                t: 0.0,
                estimate: Gaussian::new(
                    StateVector::new(
                        x + sigma * rng.normal(),
                        100.0,
                        y + sigma * rng.normal(),
                        0.0,
                    ),
                    StateCovariance::from_diagonal(&nalgebra::Vector4::new(
                        sigma * sigma,
                        100.0,
                        sigma * sigma,
                        100.0,
                    )),
                ),
                identity: Identity::Unknown,
                reply: Default::default(),
                label: Markings::default(),
            });
        }
    }
    let refs: Vec<&NationalTrack<Markings>> = tracks.iter().collect();
    let mut fuser = Fuser::new(FusionConfig::new(1.0));
    let mut t = 0.0;
    c.bench_function("fusion_1000_targets_3_nations", |b| {
        b.iter(|| {
            t += 1e-3;
            black_box(fuser.fuse(t, &refs).map(|p| p.len()))
        })
    });
}

fn assignment(c: &mut Criterion) {
    let mut rng = Rng(3);
    for n in [10usize, 100] {
        let cost: Vec<f64> = (0..n * n).map(|_| rng.uniform()).collect();
        c.bench_function(&format!("dense_assignment_{n}x{n}"), |b| {
            b.iter(|| black_box(solve_dense(n, n, &cost)))
        });
    }
    // 1,000 rows in clusters of about three: what gating leaves for GNN.
    let edges: Vec<Edge> = (0..1000)
        .flat_map(|r| {
            let base = (r / 3) * 3;
            (0..3).map(move |k| Edge {
                row: r,
                col: base + k,
                cost: ((r * 7 + k * 13) % 10) as f64 / 4.0,
            })
        })
        .collect();
    c.bench_function("gnn_1000_gated", |b| {
        b.iter(|| black_box(gnn(1000, 1002, &edges, 3.0)))
    });
}

criterion_group!(benches, tracker, fusion, assignment);
criterion_main!(benches);
