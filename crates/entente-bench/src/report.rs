//! The markdown of a set of runs: one table of figures, one of ratios to the reference server.

use std::fmt::Write;

use crate::RunResult;

fn rate(v: f64, completed: bool) -> String {
    let figure = if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    if completed {
        figure
    } else {
        format!("{figure} (incomplete)")
    }
}

fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{v:.1}"),
        None => "–".to_owned(),
    }
}

/// Markdown tables of `results`; ratios are taken to the `reference` server's run of the same size.
pub fn markdown(results: &[RunResult], reference: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| server | objects | ingest (objects/s) | paged read, pages of 1,000 (objects/s) | first page (s) | {} readers, pages of 100: p50 / p99 (ms) | peak RSS (MiB) |",
        results
            .iter()
            .find_map(|r| r.concurrent.as_ref().map(|c| c.clients))
            .unwrap_or(64)
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let read = r.read.as_ref();
        let conc = r.concurrent.as_ref();
        let rss = [r.rss_ingest.as_ref(), r.rss_end.as_ref()]
            .into_iter()
            .flatten()
            .map(|x| x.hwm_mib.max(x.max_rss_mib))
            .fold(f64::NAN, f64::max);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.server,
            r.objects,
            rate(r.ingest.objects_per_s, r.ingest.completed),
            read.map(|x| if x.pages == 0 {
                format!("no page within {:.0} s", x.seconds)
            } else {
                rate(x.objects_per_s, x.completed)
            })
            .unwrap_or_else(|| "–".into()),
            read.map(|x| if x.pages == 0 {
                format!("> {:.0}", x.seconds)
            } else {
                format!("{:.3}", x.first_page_s)
            })
            .unwrap_or_else(|| "–".into()),
            conc.map(|c| {
                let mut s = format!("{} / {}", ms(c.p50_ms), ms(c.p99_ms));
                if c.identities > 1 || c.staggered {
                    s.push_str(&format!(
                        " ({} identities{})",
                        c.identities,
                        if c.staggered { ", staggered" } else { "" }
                    ));
                }
                if c.completed {
                    s
                } else if c.requests + c.cut == 0 {
                    format!("no request answered within {:.0} s", c.seconds)
                } else {
                    format!(
                        "≥ {s} ({} requests done, {} cut at the deadline)",
                        c.requests, c.cut
                    )
                }
            })
            .unwrap_or_else(|| "–".into()),
            if rss.is_nan() {
                "–".into()
            } else {
                format!("{rss:.0}")
            },
        );
    }
    let _ = writeln!(
        out,
        "\nServer CPU time per object (user + system, µs; independent of other load on the machine):\n"
    );
    let _ = writeln!(
        out,
        "| server | objects | ingest | after the ingest (audit log; s waited) | paged read | concurrent readers |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for r in results {
        let per = |cpu: Option<f64>, n: u64| match cpu {
            Some(s) if n > 0 => format!("{:.1}", s * 1e6 / n as f64),
            _ => "–".to_owned(),
        };
        let settle = match r.server_cpu.settle_wait_s {
            Some(wait) => format!(
                "{} ({wait:.1} s)",
                per(r.server_cpu.settle_s, r.ingest.objects)
            ),
            None => "–".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.server,
            r.objects,
            per(r.server_cpu.ingest_s, r.ingest.objects),
            settle,
            per(
                r.server_cpu.read_s,
                r.read.as_ref().map_or(0, |x| x.objects)
            ),
            per(
                r.server_cpu.concurrent_s,
                r.concurrent.as_ref().map_or(0, |x| x.objects)
            ),
        );
    }
    let pairs: Vec<(&RunResult, &RunResult)> = results
        .iter()
        .filter(|r| r.server != reference)
        .filter_map(|r| {
            results
                .iter()
                .find(|b| b.server == reference && b.objects == r.objects)
                .map(|b| (r, b))
        })
        .collect();
    if !pairs.is_empty() {
        let _ = writeln!(
            out,
            "\n| objects | ratio | ingest | paged read | p99 of concurrent readers ({reference} / ours) |"
        );
        let _ = writeln!(out, "|---:|---|---:|---:|---:|");
        for (r, b) in pairs {
            let read = match (&r.read, &b.read) {
                (Some(_), Some(y)) if y.pages == 0 => {
                    format!("∞ ({} served no page)", b.server)
                }
                (Some(x), Some(y)) => {
                    let bound = if y.completed { "" } else { "≥ " };
                    format!("{bound}{:.0}×", x.objects_per_s / y.objects_per_s)
                }
                _ => "–".into(),
            };
            let p99 = match (&r.concurrent, &b.concurrent) {
                (Some(x), Some(y)) => match (x.p99_ms, y.p99_ms) {
                    (Some(ours), Some(theirs)) if ours > 0.0 => {
                        let bound = if y.completed { "" } else { "≥ " };
                        format!("{bound}{:.0}×", theirs / ours)
                    }
                    _ => "–".into(),
                },
                _ => "–".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} / {} | {:.0}× | {} | {} |",
                r.objects,
                r.server,
                b.server,
                r.ingest.objects_per_s / b.ingest.objects_per_s,
                read,
                p99
            );
        }
    }
    out
}
