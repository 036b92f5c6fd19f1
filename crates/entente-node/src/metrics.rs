//! Counters exposed in the Prometheus text format at `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
    pub objects_added: AtomicU64,
    pub objects_refused: AtomicU64,
    pub objects_served: AtomicU64,
    pub objects_withheld: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, counter) in [
            (
                "entente_http_requests_total",
                "HTTP requests answered",
                &self.requests,
            ),
            (
                "entente_http_client_errors_total",
                "answers with a 4xx status",
                &self.client_errors,
            ),
            (
                "entente_http_server_errors_total",
                "answers with a 5xx status",
                &self.server_errors,
            ),
            (
                "entente_objects_added_total",
                "object versions accepted on POST",
                &self.objects_added,
            ),
            (
                "entente_objects_refused_total",
                "objects refused on POST",
                &self.objects_refused,
            ),
            (
                "entente_objects_served_total",
                "object copies served",
                &self.objects_served,
            ),
            (
                "entente_objects_withheld_total",
                "stored versions not released to the requesting user",
                &self.objects_withheld,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", counter.load(Ordering::Relaxed));
        }
        out
    }
}
