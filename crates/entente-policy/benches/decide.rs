//! Release decisions on the shipped registry and policies: one decision on the compiled path and
//! through Cedar, and tear-lining one object for many recipients.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use entente_labels::{parse_marking, stix, Label, PolicySet};
use entente_policy::{CedarNationalRules, CedarPolicy, CompiledNationalRules, ReleasePolicy};
use entente_registry::Registry;
use entente_types::{parse_date, NationCode};
use serde_json::{json, Value};

struct Setup {
    policies: PolicySet,
    compiled: ReleasePolicy,
    compiled_with_rules: ReleasePolicy,
    compiled_with_cedar_rules: ReleasePolicy,
    cedar: CedarPolicy,
    cedar_with_rules: CedarPolicy,
    registry: Registry,
}

fn setup() -> Setup {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let registry = Registry::load(&data.join("registry")).unwrap();
    let policies = PolicySet::load(&data.join("policies")).unwrap();
    let rules =
        || CedarNationalRules::load(&data.join("policies/rules"), &registry, &policies).unwrap();
    Setup {
        compiled: ReleasePolicy::new(&registry, policies.clone()),
        compiled_with_rules: ReleasePolicy::new(&registry, policies.clone())
            .with_national_rules(Box::new(CompiledNationalRules::compile(rules(), &registry))),
        compiled_with_cedar_rules: ReleasePolicy::new(&registry, policies.clone())
            .with_national_rules(Box::new(rules())),
        cedar: CedarPolicy::new(&registry, &policies).unwrap(),
        cedar_with_rules: CedarPolicy::new(&registry, &policies)
            .unwrap()
            .with_national_rules(rules()),
        policies,
        registry,
    }
}

fn decide(c: &mut Criterion) {
    let s = setup();
    let label = parse_marking(&s.policies, "NATO SECRET//REL TO FRA, GBR, USA").unwrap();
    let (fra, usa): (NationCode, NationCode) = ("FRA".parse().unwrap(), "USA".parse().unwrap());
    let day = parse_date("2024-06-01").unwrap();
    assert!(s.compiled.decide(&label, fra, usa, day).is_permit());
    assert_eq!(
        s.compiled.decide(&label, fra, usa, day),
        s.cedar.decide(&label, fra, usa, day)
    );
    let mut g = c.benchmark_group("decide NATO SECRET//REL TO FRA, GBR, USA FRA->USA");
    g.bench_function("compiled", |b| {
        b.iter(|| s.compiled.decide(black_box(&label), fra, usa, day))
    });
    g.bench_function("cedar", |b| {
        b.iter(|| s.cedar.decide(black_box(&label), fra, usa, day))
    });
    // With France's national rules evaluated after the agreements: compiled, and by Cedar.
    g.bench_function("compiled + FRA rules", |b| {
        b.iter(|| {
            s.compiled_with_rules
                .decide(black_box(&label), fra, usa, day)
        })
    });
    g.bench_function("compiled + FRA rules by Cedar", |b| {
        b.iter(|| {
            s.compiled_with_cedar_rules
                .decide(black_box(&label), fra, usa, day)
        })
    });
    g.bench_function("cedar + FRA rules", |b| {
        b.iter(|| s.cedar_with_rules.decide(black_box(&label), fra, usa, day))
    });
    g.finish();
}

/// A report with 20 portions under 8 different labels, for FRA to release.
fn object(policies: &PolicySet) -> (Value, HashMap<String, Label>) {
    let markings = [
        "NATO SECRET//REL TO FRA, GBR, USA, JPN",
        "NATO SECRET//REL TO FRA, GBR, USA",
        "NATO SECRET//REL TO FRA, GBR",
        "NATO CONFIDENTIAL//REL TO NATO",
        "NATO RESTRICTED//REL TO FRA, JPN",
        "NATO SECRET//REL TO NATO//REL TO FRA, DEU, USA",
        "COSMIC TOP SECRET//REL TO FRA, USA",
        "NATO UNCLASSIFIED//REL TO NATO, JPN",
    ];
    let mut labels = HashMap::new();
    let mut ids = Vec::new();
    for m in markings {
        let l = parse_marking(policies, m).unwrap();
        let id = stix::marking_definition_id(policies, &l).unwrap();
        labels.insert(id.clone(), l);
        ids.push(id);
    }
    let mut obj = serde_json::Map::new();
    let mut refs = Vec::new();
    let mut granular = Vec::new();
    for i in 0..20 {
        obj.insert(
            format!("x_portion_{i}"),
            json!(format!("content of portion {i}")),
        );
        refs.push(format!("indicator--00000000-0000-4000-8000-{i:012}"));
        granular.push(json!({
            "marking_ref": ids[1 + i % (ids.len() - 1)],
            "selectors": [format!("x_portion_{i}"), format!("object_refs.[{i}]")]
        }));
    }
    for (k, v) in [
        ("type", json!("report")),
        ("spec_version", json!("2.1")),
        ("id", json!("report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b")),
        ("created", json!("2024-08-01T00:00:00.000Z")),
        ("modified", json!("2024-08-01T00:00:00.000Z")),
        ("name", json!("Air activity over the Baltic")),
        ("published", json!("2024-08-01T00:00:00.000Z")),
        ("object_refs", json!(refs)),
        ("object_marking_refs", json!([ids[0]])),
        ("granular_markings", Value::Array(granular)),
    ] {
        obj.insert(k.to_owned(), v);
    }
    (Value::Object(obj), labels)
}

fn tear_line(c: &mut Criterion) {
    let s = setup();
    let (object, labels) = object(&s.policies);
    let lookup = |id: &str| labels.get(id).cloned();
    let fra: NationCode = "FRA".parse().unwrap();
    let recipients: Vec<NationCode> = s.registry.nations().map(|n| n.code).take(30).collect();
    assert_eq!(recipients.len(), 30);
    let day = parse_date("2024-09-01").unwrap();
    let released = recipients
        .iter()
        .filter(|r| {
            s.compiled
                .release_object(&object, &lookup, fra, **r, day)
                .unwrap()
                .object
                .is_some()
        })
        .count();
    assert!(released > 0);
    c.bench_function(
        "tear-line 20 portions x 30 recipients (prepared once)",
        |b| {
            b.iter(|| {
                let prepared = s.compiled.prepare(black_box(&object), &lookup).unwrap();
                for &r in &recipients {
                    black_box(s.compiled.release_prepared(&prepared, fra, r, day).unwrap());
                }
            })
        },
    );
    c.bench_function(
        "tear-line 20 portions x 30 recipients (prepared once, copies shared)",
        |b| {
            b.iter(|| {
                let prepared = s.compiled.prepare(black_box(&object), &lookup).unwrap();
                for &r in &recipients {
                    black_box(
                        s.compiled
                            .release_prepared_shared(&prepared, fra, r, day)
                            .unwrap(),
                    );
                }
            })
        },
    );
    c.bench_function("release_object 20 portions x 30 recipients", |b| {
        b.iter(|| {
            for &r in &recipients {
                black_box(
                    s.compiled
                        .release_object(black_box(&object), &lookup, fra, r, day)
                        .unwrap(),
                );
            }
        })
    });
}

criterion_group!(benches, decide, tear_line);
criterion_main!(benches);
