//! Seeded (pattern, observed-data bundles) pairs over small value domains, so that a good share
//! match: a few addresses, domains, files and numbers, 1 to 4 observed-data of a few objects each
//! with references between them, patterns with every operator and qualifier. A small share of
//! pairs meet values stix2-matcher raises on (an address block it cannot read, a reference that
//! is not a string), so that raising is compared too.
//!
//! Shared by the differential test and the benchmark (`examples/pattern_bench.rs`).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const IPS: &[&str] = &["198.51.100.7", "198.51.100.9", "203.0.113.5", "10.0.0.1"];
const BLOCKS: &[&str] = &[
    "198.51.100.0/24",
    "10.0.0.0/8",
    "203.0.113.0/25",
    "198.51.100.8/29",
    "0.0.0.0/1",
];
const DOMAINS: &[&str] = &["example.com", "evil.example", "a.test"];
const NAMES: &[&str] = &["setup.exe", "report.pdf", "Setup12.exe", "notes\n"];
const MD5S: &[&str] = &[
    "d41d8cd98f00b204e9800998ecf8427e",
    "9e107d9d372bb6826bd81d3542a419d6",
];
const SIZES: &[i64] = &[5, 100, 2048];
const OFFSETS: &[i64] = &[0, 10, 30, 60, 120, 600];
const BASE: i64 = 1_577_836_800; // 2020-01-01T00:00:00Z

fn stamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(BASE + seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub struct PairGenerator {
    rng: ChaCha8Rng,
    next_id: u32,
}

impl PairGenerator {
    pub fn new(seed: u64) -> Self {
        PairGenerator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            next_id: 0,
        }
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &'a [&'a T]) -> &'a T {
        items[self.rng.random_range(0..items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("{kind}--00000000-0000-4000-8000-{:012}", self.next_id)
    }

    /// One pair: a pattern and a list of bundles.
    pub fn pair(&mut self) -> (String, Value) {
        let pattern = self.observations(0);
        let bundles: Vec<Value> = (0..self.rng.random_range(1..=4))
            .map(|_| self.bundle())
            .collect();
        (pattern, Value::Array(bundles))
    }

    fn bundle(&mut self) -> Value {
        let mut objects = Vec::new();
        let mut refs = Vec::new();
        for _ in 0..self.rng.random_range(2..=4) {
            let mut made = self.sco();
            for o in &made {
                refs.push(o["id"].clone());
            }
            objects.append(&mut made);
        }
        let first = OFFSETS[self.rng.random_range(0..OFFSETS.len())];
        let last = first + [0, 0, 5, 30][self.rng.random_range(0..4)];
        let n = if self.chance(0.8) {
            1
        } else {
            self.rng.random_range(2..=3)
        };
        let mut all = vec![json!({
            "type": "observed-data", "spec_version": "2.1", "id": self.id("observed-data"),
            "created": stamp(0), "modified": stamp(0),
            "first_observed": stamp(first), "last_observed": stamp(last), "number_observed": n,
            "object_refs": refs,
        })];
        all.append(&mut objects);
        json!({"type": "bundle", "id": self.id("bundle"), "objects": all})
    }

    /// One object, with the objects it refers to (first).
    fn sco(&mut self) -> Vec<Value> {
        match self.rng.random_range(0..6) {
            0 => {
                let value = if self.chance(0.05) {
                    self.pick(BLOCKS)
                } else {
                    self.pick(IPS)
                };
                vec![json!({"type": "ipv4-addr", "id": self.id("ipv4-addr"), "value": value})]
            }
            1 => {
                let ip = json!({"type": "ipv4-addr", "id": self.id("ipv4-addr"), "value": self.pick(IPS)});
                let domain = json!({"type": "domain-name", "id": self.id("domain-name"), "value": self.pick(DOMAINS),
                    "resolves_to_refs": [ip["id"].clone()]});
                vec![ip, domain]
            }
            2 => {
                let md5 = self.pick(MD5S);
                let size = SIZES[self.rng.random_range(0..SIZES.len())];
                let mut file = json!({"type": "file", "id": self.id("file"), "name": self.pick(NAMES), "size": size,
                    "hashes": {"MD5": md5}, "ctime": stamp(OFFSETS[self.rng.random_range(0..OFFSETS.len())])});
                if self.chance(0.3) {
                    file["payload_bin"] =
                        json!(["QUJD", "c2V0dXA=", "AAEC"][self.rng.random_range(0..3)]);
                }
                vec![file]
            }
            3 => {
                let src = json!({"type": "ipv4-addr", "id": self.id("ipv4-addr"), "value": self.pick(IPS)});
                let dst = json!({"type": "ipv4-addr", "id": self.id("ipv4-addr"), "value": self.pick(IPS)});
                let port = [80, 443, 8080][self.rng.random_range(0..3)];
                let protocols = if self.chance(0.5) {
                    json!(["tcp", "http"])
                } else {
                    json!(["udp"])
                };
                let mut traffic = json!({"type": "network-traffic", "id": self.id("network-traffic"),
                    "src_ref": src["id"].clone(), "dst_ref": dst["id"].clone(), "dst_port": port, "protocols": protocols});
                if self.chance(0.03) {
                    traffic["src_ref"] = json!(7);
                }
                vec![src, dst, traffic]
            }
            4 => {
                let n = [json!(1), json!(2.0), json!(true), json!(0.5), json!(3)]
                    [self.rng.random_range(0..5)]
                .clone();
                let tags = if self.chance(0.5) {
                    json!(["a", "b"])
                } else {
                    json!(["c"])
                };
                vec![json!({"type": "x-custom", "id": self.id("x-custom"), "n": n, "tags": tags})]
            }
            _ => {
                let value = ["a@example.com", "b@evil.example"][self.rng.random_range(0..2)];
                let addr =
                    json!({"type": "email-addr", "id": self.id("email-addr"), "value": value});
                let message = json!({"type": "email-message", "id": self.id("email-message"), "is_multipart": false,
                    "to_refs": [addr["id"].clone(), "email-addr--00000000-0000-4000-8000-999999999999"]});
                vec![addr, message]
            }
        }
    }

    fn observations(&mut self, depth: u32) -> String {
        let mut text = self.observation(depth);
        while depth < 2 && self.chance(0.35) {
            let op = self.pick(&["AND", "OR", "FOLLOWEDBY"]);
            let right = self.observation(depth + 1);
            text = format!("{text} {op} {right}");
        }
        text
    }

    fn observation(&mut self, depth: u32) -> String {
        let mut text = if depth < 2 && self.chance(0.15) {
            format!("({})", self.observations(depth + 1))
        } else {
            format!("[{}]", self.comparisons())
        };
        if self.chance(0.25) {
            text = match self.rng.random_range(0..3) {
                0 => format!(
                    "{text} WITHIN {} SECONDS",
                    self.pick(&["5", "30", "60", "600", "0.5"])
                ),
                1 => format!("{text} REPEATS {} TIMES", self.pick(&["2", "3"])),
                _ => {
                    let a = OFFSETS[self.rng.random_range(0..OFFSETS.len())];
                    let b = a + [10, 60, 1000][self.rng.random_range(0..3)];
                    format!("{text} START t'{}' STOP t'{}'", stamp(a), stamp(b))
                }
            };
        }
        text
    }

    fn comparisons(&mut self) -> String {
        let kind = self.rng.random_range(0..6);
        let mut text = self.comparison(kind);
        for _ in 0..self.rng.random_range(0..3) {
            // AND mostly on the same object type (across types it never holds).
            let (op, other) = if self.chance(0.35) {
                (
                    "AND",
                    if self.chance(0.9) {
                        kind
                    } else {
                        self.rng.random_range(0..6)
                    },
                )
            } else {
                ("OR", self.rng.random_range(0..6))
            };
            let right = self.comparison(other);
            text = if self.chance(0.2) {
                format!("({text}) {op} {right}")
            } else {
                format!("{text} {op} {right}")
            };
        }
        text
    }

    fn comparison(&mut self, kind: u32) -> String {
        let not = if self.chance(0.1) { "NOT " } else { "" };
        match kind {
            0 => match self.rng.random_range(0..7) {
                0 | 1 => format!("ipv4-addr:value {not}= '{}'", self.pick(IPS)),
                2 => format!("ipv4-addr:value {not}!= '{}'", self.pick(IPS)),
                3 => format!(
                    "ipv4-addr:value {not}IN ('{}', '{}')",
                    self.pick(IPS),
                    self.pick(IPS)
                ),
                4 => format!("ipv4-addr:value {not}ISSUBSET '{}'", self.pick(BLOCKS)),
                5 => format!(
                    "ipv4-addr:value {not}LIKE '{}'",
                    self.pick(&["198.51.%", "%.5", "10.0.0._"])
                ),
                _ => format!(
                    "ipv4-addr:value {not}MATCHES '{}'",
                    self.pick(&["^198\\\\.51", "\\\\.[0-9]$", "^(10|203)\\\\."])
                ),
            },
            1 => match self.rng.random_range(0..5) {
                0 => format!("domain-name:value {not}= '{}'", self.pick(DOMAINS)),
                1 => format!(
                    "domain-name:value {not}LIKE '%.{}'",
                    self.pick(&["example", "com", "test"])
                ),
                2 => format!(
                    "domain-name:resolves_to_refs[*].value {not}= '{}'",
                    self.pick(IPS)
                ),
                3 => format!(
                    "domain-name:resolves_to_refs[0].value {not}ISSUBSET '{}'",
                    self.pick(BLOCKS)
                ),
                _ => format!(
                    "domain-name:value {not}MATCHES '{}'",
                    self.pick(&["(?i)EXAMPLE", "^a\\\\.", "e$"])
                ),
            },
            2 => match self.rng.random_range(0..8) {
                0 => format!(
                    "file:name {not}= '{}'",
                    self.pick(&["setup.exe", "report.pdf", "notes\n"])
                ),
                1 => format!(
                    "file:name {not}LIKE '{}'",
                    self.pick(&["Setup%", "%.exe", "notes", "_etup.exe"])
                ),
                2 => format!(
                    "file:name {not}MATCHES '{}'",
                    self.pick(&["^[Ss]etup", "exe$", "s$", "\\\\d+"])
                ),
                3 => {
                    let op = self.pick(&["<", "<=", ">", ">="]);
                    let v = self.pick(&["100", "5", "2048.0", "99.5", "-1"]);
                    format!("file:size {not}{op} {v}")
                }
                4 => format!("file:hashes.MD5 {not}= '{}'", self.pick(MD5S)),
                5 => {
                    let op = self.pick(&["<", ">=", "=", "!="]);
                    format!(
                        "file:ctime {not}{op} t'{}'",
                        stamp(OFFSETS[self.rng.random_range(0..OFFSETS.len())])
                    )
                }
                6 => format!(
                    "file:payload_bin {not}= {}",
                    self.pick(&["'ABC'", "b'QUJD'", "h'000102'", "'setup'"])
                ),
                _ => format!(
                    "file:size {not}IN ({})",
                    self.pick(&["5, 100", "2048", "5.0, 7"])
                ),
            },
            3 => match self.rng.random_range(0..5) {
                0 => format!("network-traffic:src_ref.value {not}= '{}'", self.pick(IPS)),
                1 => format!(
                    "network-traffic:dst_ref.value {not}ISSUBSET '{}'",
                    self.pick(BLOCKS)
                ),
                2 => format!(
                    "network-traffic:dst_port {not}IN ({})",
                    self.pick(&["80, 443", "8080", "22"])
                ),
                3 => format!(
                    "network-traffic:protocols[*] {not}= '{}'",
                    self.pick(&["tcp", "http", "udp"])
                ),
                _ => format!(
                    "network-traffic:protocols[0] {not}= '{}'",
                    self.pick(&["tcp", "udp"])
                ),
            },
            4 => match self.rng.random_range(0..4) {
                0 => format!(
                    "x-custom:n {not}= {}",
                    self.pick(&["1", "2", "true", "0.5"])
                ),
                1 => format!(
                    "x-custom:n {not}IN ({})",
                    self.pick(&["1, 2", "1.0, 3", "true", "0.5"])
                ),
                2 => format!("x-custom:n {not}> {}", self.pick(&["0.5", "1", "2"])),
                _ => format!("x-custom:tags[*] {not}= '{}'", self.pick(&["a", "b", "c"])),
            },
            _ => match self.rng.random_range(0..3) {
                0 => format!(
                    "email-message:to_refs[*].value {not}LIKE '{}'",
                    self.pick(&["a@%", "%.example"])
                ),
                1 => format!(
                    "email-message:to_refs[1].value {not}= '{}'",
                    self.pick(&["a@example.com", "b@evil.example"])
                ),
                _ => format!(
                    "email-addr:value {not}= '{}'",
                    self.pick(&["a@example.com", "b@evil.example"])
                ),
            },
        }
    }
}

/// `n` pairs from `seed`.
pub fn pairs(seed: u64, n: usize) -> Vec<(String, Value)> {
    let mut gen = PairGenerator::new(seed);
    (0..n).map(|_| gen.pair()).collect()
}
