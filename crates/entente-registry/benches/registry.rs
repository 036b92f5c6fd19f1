//! Loading and validating the shipped dataset, and answering the common questions.
//! Run: `cargo bench -p entente-registry --bench registry`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use entente_registry::Registry;
use entente_types::parse_date;

fn registry(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/registry");
    c.bench_function("load_and_validate_shipped_dataset", |b| {
        b.iter(|| Registry::load(black_box(&dir)).map(|r| r.agreements().len()))
    });
    let Ok(registry) = Registry::load(&dir) else {
        panic!("shipped dataset does not load");
    };
    let (Ok(day), Ok(nato), Ok(est)) = (
        parse_date("2024-03-08"),
        registry.organization("NATO"),
        registry.nation_code("EST"),
    ) else {
        panic!("shipped dataset lacks NATO or EST");
    };
    c.bench_function("members_nato", |b| {
        b.iter(|| registry.members(black_box(nato), black_box(day)))
    });
    c.bench_function("obligations_toward_est", |b| {
        b.iter(|| registry.obligations_toward(black_box(est), black_box(day)))
    });
}

criterion_group!(benches, registry);
criterion_main!(benches);
