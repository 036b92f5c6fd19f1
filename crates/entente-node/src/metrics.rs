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
    /// Time from a request's arrival to its answer being ready to send.
    pub answer_seconds: Histogram,
}

/// Upper bounds of the buckets of [`Histogram`], in seconds.
const BOUNDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// A Prometheus histogram: a count per bucket (cumulated when rendered), a sum and a count.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BOUNDS.len()],
    /// Microseconds, so that the sum is kept in an integer.
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, seconds: f64) {
        if let Some(i) = BOUNDS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulated = 0;
        for (bound, bucket) in BOUNDS.iter().zip(&self.buckets) {
            cumulated += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulated}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
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
        self.answer_seconds.render(
            &mut out,
            "entente_http_answer_seconds",
            "time from a request's arrival to its answer being ready to send",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_times_are_rendered_as_a_cumulative_histogram() {
        let m = Metrics::default();
        for seconds in [0.0001, 0.003, 0.003, 0.2, 7.0] {
            m.answer_seconds.observe(seconds);
        }
        let text = m.render();
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} in {text}"))
                .to_owned()
        };
        assert_eq!(
            line("entente_http_answer_seconds_bucket{le=\"0.0005\"}"),
            "entente_http_answer_seconds_bucket{le=\"0.0005\"} 1"
        );
        assert_eq!(
            line("entente_http_answer_seconds_bucket{le=\"0.005\"}"),
            "entente_http_answer_seconds_bucket{le=\"0.005\"} 3"
        );
        assert_eq!(
            line("entente_http_answer_seconds_bucket{le=\"5\"}"),
            "entente_http_answer_seconds_bucket{le=\"5\"} 4"
        );
        assert_eq!(
            line("entente_http_answer_seconds_bucket{le=\"+Inf\"}"),
            "entente_http_answer_seconds_bucket{le=\"+Inf\"} 5"
        );
        assert_eq!(
            line("entente_http_answer_seconds_count"),
            "entente_http_answer_seconds_count 5"
        );
        assert!(text.contains("# TYPE entente_http_answer_seconds histogram"));
    }
}
