//! `taxii-load`: the load client of the bench/ harness (`bench/taxii/run.sh`).
//!
//! `taxii-load run` drives one TAXII 2.1 server through the phases asked for (ingest, one paged
//! reader, concurrent readers), samples the server's RSS when given its pid, and writes the
//! figures as JSON. `taxii-load report` turns result files into the markdown of BENCHMARKS.md,
//! with the ratio of each server to the reference at the same size.

mod corpus;
mod load;
mod report;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde::{Deserialize, Serialize};

#[derive(Debug, Parser)]
#[command(name = "taxii-load", about = "TAXII 2.1 load client")]
// Parsed once per process: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Cli {
    /// Runs the workload against one server and writes its figures as JSON.
    Run(RunArgs),
    /// Writes the markdown tables of result files (JSON from `run`).
    Report {
        /// The server whose figures the others are divided by.
        #[arg(long, default_value = "medallion")]
        reference: String,
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The server's name in the results (e.g. entente, medallion).
    #[arg(long)]
    server: String,
    /// e.g. http://127.0.0.1:8400; several processes of one node, comma-separated
    /// (http://127.0.0.1:8400,http://127.0.0.1:8401): requests go to each in turn.
    #[arg(long)]
    base: String,
    #[arg(long, default_value = "/api/")]
    api_root: String,
    #[arg(long, default_value = "intel")]
    collection: String,
    #[arg(long)]
    user: String,
    /// The password, from the environment so that it stays out of process listings.
    #[arg(long, env = "TAXII_LOAD_PASSWORD", hide_env_values = true)]
    password: String,
    /// How many objects to ingest (the corpus is deterministic).
    #[arg(long)]
    objects: u64,
    #[arg(long, default_value_t = 1000)]
    envelope: u64,
    /// Concurrent POSTs during ingest.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Page size of the single paged reader.
    #[arg(long, default_value_t = 1000)]
    page: usize,
    /// Concurrent readers (0 skips the phase).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Page size of the concurrent readers.
    #[arg(long, default_value_t = 100)]
    client_page: usize,
    /// Requests per concurrent reader.
    #[arg(long, default_value_t = 50)]
    client_requests: u64,
    /// Users the concurrent readers log in as, in turn (comma-separated, same password);
    /// default: --user.
    #[arg(long, value_delimiter = ',')]
    reader_users: Vec<String>,
    /// Each concurrent reader starts at its own offset, so no two ask for the same page.
    #[arg(long)]
    stagger: bool,
    /// Skip the paged read.
    #[arg(long)]
    no_read: bool,
    /// The server's process id, to sample its RSS and count its CPU time; several processes of
    /// one node, comma-separated: their CPU times are added, the first one's RSS is sampled.
    #[arg(long, value_delimiter = ',')]
    pid: Vec<u32>,
    /// Time allowed to each phase, in seconds.
    #[arg(long, default_value_t = 600)]
    phase_timeout: u64,
    #[arg(long)]
    out: PathBuf,
}

/// The figures of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub server: String,
    pub objects: u64,
    pub ingest: load::IngestResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_ingest: Option<load::Rss>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<load::ReadResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent: Option<load::ConcurrentResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_end: Option<load::Rss>,
    /// CPU seconds the server used in each phase (user + system), when its pid is known: a
    /// figure that does not depend on what else the machine was doing.
    #[serde(default)]
    pub server_cpu: ServerCpu,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ServerCpu {
    pub ingest_s: Option<f64>,
    /// Background work the ingest left to the server (its audit log of the writes), done
    /// before the reads start: CPU seconds, and the seconds waited for it.
    #[serde(default)]
    pub settle_s: Option<f64>,
    #[serde(default)]
    pub settle_wait_s: Option<f64>,
    pub read_s: Option<f64>,
    pub concurrent_s: Option<f64>,
}

/// CPU seconds the processes `pids` used while `phase` ran.
async fn timed_cpu<T>(
    pids: &[u32],
    phase: impl std::future::Future<Output = T>,
) -> (T, Option<f64>) {
    let before = load::cpu_seconds_of(pids);
    let out = phase.await;
    let after = load::cpu_seconds_of(pids);
    (out, before.zip(after).map(|(b, a)| a - b))
}

fn main() -> anyhow::Result<()> {
    match Cli::parse() {
        Cli::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let result = runtime.block_on(run(&args))?;
            let text = serde_json::to_string_pretty(&result)?;
            std::fs::write(&args.out, format!("{text}\n"))
                .with_context(|| format!("cannot write {}", args.out.display()))?;
            println!("{text}");
            Ok(())
        }
        Cli::Report { reference, files } => {
            let mut results = Vec::new();
            for f in &files {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read {}", f.display()))?;
                let r: RunResult = serde_json::from_str(&text)
                    .with_context(|| format!("{}: not a taxii-load result", f.display()))?;
                results.push(r);
            }
            print!("{}", report::markdown(&results, &reference));
            Ok(())
        }
    }
}

async fn run(a: &RunArgs) -> anyhow::Result<RunResult> {
    let target = load::Target {
        bases: a
            .base
            .split(',')
            .map(|b| b.trim().trim_end_matches('/').to_owned())
            .filter(|b| !b.is_empty())
            .collect(),
        turn: Default::default(),
        api_root: a.api_root.clone(),
        collection: a.collection.clone(),
        user: a.user.clone(),
        password: a.password.clone(),
    };
    anyhow::ensure!(!target.bases.is_empty(), "--base names no server");
    let phase = Duration::from_secs(a.phase_timeout);
    let connections = a.connections.max(a.clients).max(1);
    let client = load::client(connections, phase)?;
    load::post_definitions(&client, &target)
        .await
        .context("posting the marking definitions")?;
    let definitions = corpus::definitions()?.len() as u64;

    let sampler = a.pid.first().copied().map(load::RssSampler::start);
    eprintln!("{}: ingest of {} objects", a.server, a.objects);
    let (ingest, ingest_cpu) = timed_cpu(
        &a.pid,
        load::ingest(
            &client,
            &target,
            a.objects,
            a.envelope,
            a.connections,
            Instant::now() + phase,
        ),
    )
    .await;
    let rss_ingest = sampler.map(load::RssSampler::finish);
    eprintln!(
        "{}: ingest {:.0} objects/s ({} objects, completed {})",
        a.server, ingest.objects_per_s, ingest.objects, ingest.completed
    );

    // The reads are measured on a settled server: the work an ingest leaves behind (the audit
    // log of every write, appended behind the store's change stream) would otherwise run during
    // them. Its cost is reported on its own.
    let settle_started = Instant::now();
    let (_, settle_cpu) = timed_cpu(&a.pid, load::settle(&a.pid, phase)).await;
    let mut server_cpu = ServerCpu {
        ingest_s: ingest_cpu,
        settle_s: settle_cpu,
        settle_wait_s: (!a.pid.is_empty()).then(|| settle_started.elapsed().as_secs_f64()),
        ..ServerCpu::default()
    };
    if let (Some(cpu), Some(wait)) = (server_cpu.settle_s, server_cpu.settle_wait_s) {
        eprintln!(
            "{}: settled after the ingest in {wait:.1} s ({cpu:.2} s of server CPU)",
            a.server
        );
    }
    let sampler = a.pid.first().copied().map(load::RssSampler::start);
    let read = if a.no_read {
        None
    } else {
        let expected = ingest.objects + definitions;
        let (r, cpu) = timed_cpu(
            &a.pid,
            load::paged_read(&client, &target, a.page, expected, Instant::now() + phase),
        )
        .await;
        server_cpu.read_s = cpu;
        eprintln!(
            "{}: paged read {:.0} objects/s ({} objects in {} pages, completed {})",
            a.server, r.objects_per_s, r.objects, r.pages, r.completed
        );
        Some(r)
    };
    let concurrent = if a.clients == 0 {
        None
    } else {
        let (c, cpu) = timed_cpu(
            &a.pid,
            load::concurrent(
                &client,
                &target,
                a.clients,
                a.client_requests,
                a.client_page,
                &load::Readers {
                    users: &a.reader_users,
                    stagger: a.stagger,
                },
                Instant::now() + phase,
            ),
        )
        .await;
        server_cpu.concurrent_s = cpu;
        eprintln!(
            "{}: {} clients of {} identities (staggered {}), {} requests ({} cut at the deadline): p50 {:?} ms, p99 {:?} ms (completed {})",
            a.server, c.clients, c.identities, c.staggered, c.requests, c.cut, c.p50_ms, c.p99_ms, c.completed
        );
        Some(c)
    };
    let rss_end = sampler.map(load::RssSampler::finish);
    Ok(RunResult {
        server: a.server.clone(),
        objects: a.objects,
        ingest,
        rss_ingest,
        read,
        concurrent,
        rss_end,
        server_cpu,
    })
}
