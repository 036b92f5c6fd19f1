//! The workloads, run against any TAXII 2.1 server: ingest, one paged reader, many concurrent
//! readers; and the RSS of the server process sampled meanwhile.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::corpus;

const TAXII: &str = "application/taxii+json;version=2.1";

/// Where and as whom to talk.
#[derive(Debug, Clone)]
pub struct Target {
    /// e.g. `http://127.0.0.1:8400`; several processes of one node: each request goes to the
    /// next of them in turn, as a round-robin load balancer in front of them would send it.
    pub bases: Vec<String>,
    /// The API root path, e.g. `/api/`.
    pub api_root: String,
    pub collection: String,
    pub user: String,
    pub password: String,
    /// The round-robin position over `bases`, shared by the copies of one client.
    pub turn: Arc<AtomicUsize>,
}

impl Target {
    fn objects_url(&self) -> String {
        let base = &self.bases[self.turn.fetch_add(1, Ordering::Relaxed) % self.bases.len()];
        format!(
            "{}{}collections/{}/objects/",
            base, self.api_root, self.collection
        )
    }

    /// A copy whose requests go round the bases on their own, starting at `bases[start]` (one
    /// reader's connection, which the balancer spreads by itself).
    fn with_own_turn(&self, start: usize) -> Target {
        Target {
            turn: Arc::new(AtomicUsize::new(start)),
            ..self.clone()
        }
    }
}

/// An HTTP/1.1 client with keep-alive, one connection per concurrent task.
pub fn client(connections: usize, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    // reqwest is built without a crypto provider of its own (ring is the workspace's one); the
    // servers measured speak plain HTTP, but building a client needs a provider installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections.max(1))
        .tcp_nodelay(true)
        .timeout(timeout)
        .build()?)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestResult {
    pub objects: u64,
    pub envelope: u64,
    pub connections: usize,
    pub seconds: f64,
    pub objects_per_s: f64,
    /// Whether every envelope was posted and fully accepted before the deadline.
    pub completed: bool,
    /// Objects the server did not report as successes.
    pub refused: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadResult {
    pub page: usize,
    pub objects: u64,
    pub pages: u64,
    pub seconds: f64,
    pub objects_per_s: f64,
    pub first_page_s: f64,
    pub completed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConcurrentResult {
    pub clients: usize,
    /// Distinct users the readers log in as (in turn).
    #[serde(default)]
    pub identities: usize,
    /// Whether each reader started at its own offset (see [`concurrent`]).
    #[serde(default)]
    pub staggered: bool,
    pub page: usize,
    pub requests: u64,
    pub objects: u64,
    pub seconds: f64,
    pub requests_per_s: f64,
    /// Requests cut by the phase deadline; their time so far is counted in the quantiles, which
    /// are then lower bounds.
    pub cut: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub completed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rss {
    pub pid: u32,
    /// The largest VmRSS seen by sampling (every 50 ms), in MiB.
    pub max_rss_mib: f64,
    /// The kernel's high-water mark (VmHWM) at the end, in MiB.
    pub hwm_mib: f64,
}

/// The status fields the client checks.
#[derive(Deserialize)]
struct StatusCounts {
    #[serde(default)]
    success_count: u64,
    #[serde(default)]
    failure_count: u64,
    #[serde(default)]
    failures: Vec<serde_json::Value>,
}

/// A page, scanned without building its objects.
#[derive(Deserialize)]
struct PageScan {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<serde::de::IgnoredAny>,
}

async fn post(client: &reqwest::Client, t: &Target, body: String) -> anyhow::Result<StatusCounts> {
    let r = client
        .post(t.objects_url())
        .basic_auth(&t.user, Some(&t.password))
        .header("accept", TAXII)
        .header("content-type", TAXII)
        .body(body)
        .send()
        .await?;
    let status = r.status();
    let bytes = r.bytes().await?;
    if status.as_u16() != 202 {
        anyhow::bail!(
            "POST answered {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        );
    }
    serde_json::from_slice(&bytes).context("POST answer is not a TAXII status")
}

/// Posts the extension and marking definitions the corpus refers to.
pub async fn post_definitions(client: &reqwest::Client, t: &Target) -> anyhow::Result<()> {
    let s = post(client, t, corpus::definitions_envelope()?).await?;
    if s.failure_count > 0 {
        anyhow::bail!("definitions refused: {:?}", s.failures);
    }
    Ok(())
}

/// Posts objects `0..n` in envelopes of `envelope` objects over `connections` connections.
pub async fn ingest(
    client: &reqwest::Client,
    t: &Target,
    n: u64,
    envelope: u64,
    connections: usize,
    deadline: Instant,
) -> IngestResult {
    let next = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let error: Arc<Mutex<Option<String>>> = Arc::default();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (client, t) = (client.clone(), t.clone());
        let (next, accepted, refused, stop, error) = (
            next.clone(),
            accepted.clone(),
            refused.clone(),
            stop.clone(),
            error.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
                let from = next.fetch_add(envelope, Ordering::Relaxed);
                if from >= n {
                    return;
                }
                let to = (from + envelope).min(n);
                let body = corpus::envelope(from, to);
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, post(&client, &t, body)).await {
                    Ok(Ok(s)) => {
                        accepted.fetch_add(s.success_count, Ordering::Relaxed);
                        let missing = (to - from).saturating_sub(s.success_count);
                        if missing > 0 {
                            refused.fetch_add(missing, Ordering::Relaxed);
                            if let Ok(mut e) = error.lock() {
                                e.get_or_insert_with(|| {
                                    format!("objects {from}..{to}: {:?}", s.failures.first())
                                });
                            }
                        }
                    }
                    Ok(Err(e)) => {
                        if let Ok(mut slot) = error.lock() {
                            slot.get_or_insert_with(|| format!("objects {from}..{to}: {e:#}"));
                        }
                        stop.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(_) => {
                        stop.store(true, Ordering::Relaxed);
                        return;
                    }
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let objects = accepted.load(Ordering::Relaxed);
    let refused = refused.load(Ordering::Relaxed);
    let mut error = error.lock().ok().and_then(|mut e| e.take());
    let completed = objects == n && error.is_none();
    if !completed && error.is_none() {
        error = Some(format!("deadline reached after {objects} of {n} objects"));
    }
    IngestResult {
        objects,
        envelope,
        connections,
        seconds,
        objects_per_s: objects as f64 / seconds,
        completed,
        refused,
        error,
    }
}

async fn get_page(
    client: &reqwest::Client,
    t: &Target,
    limit: usize,
    next: Option<&str>,
) -> anyhow::Result<PageScan> {
    let mut request = client
        .get(t.objects_url())
        .basic_auth(&t.user, Some(&t.password))
        .header("accept", TAXII)
        .query(&[("limit", limit.to_string())]);
    if let Some(token) = next {
        request = request.query(&[("next", token)]);
    }
    let r = request.send().await?;
    let status = r.status();
    let bytes = r.bytes().await?;
    if !status.is_success() {
        anyhow::bail!(
            "GET answered {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        );
    }
    serde_json::from_slice(&bytes).context("GET answer is not a TAXII envelope")
}

/// Reads the whole collection in pages of `page`, following `next`.
pub async fn paged_read(
    client: &reqwest::Client,
    t: &Target,
    page: usize,
    expected: u64,
    deadline: Instant,
) -> ReadResult {
    let start = Instant::now();
    let (mut objects, mut pages, mut first_page_s) = (0u64, 0u64, 0.0);
    let mut next: Option<String> = None;
    let mut error = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, get_page(client, t, page, next.as_deref())).await {
            Ok(Ok(p)) => {
                if pages == 0 {
                    first_page_s = start.elapsed().as_secs_f64();
                }
                pages += 1;
                objects += p.objects.len() as u64;
                if !p.more {
                    break;
                }
                match p.next {
                    Some(token) => next = Some(token),
                    None => {
                        error = Some("more is true but no next token".to_owned());
                        break;
                    }
                }
            }
            Ok(Err(e)) => {
                error = Some(format!("page {}: {e:#}", pages + 1));
                break;
            }
            Err(_) => {
                error = Some(format!(
                    "deadline reached after {pages} pages ({objects} objects)"
                ));
                break;
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    if error.is_none() && objects < expected {
        error = Some(format!("read {objects} objects, expected {expected}"));
    }
    ReadResult {
        page,
        objects,
        pages,
        seconds,
        objects_per_s: objects as f64 / seconds,
        first_page_s,
        completed: error.is_none(),
        error,
    }
}

/// Waits until the server processes `pids` are idle (together under a tenth of a core over a
/// quarter of a second), at most `limit`. Without a pid there is nothing to watch.
pub async fn settle(pids: &[u32], limit: Duration) {
    const WINDOW: Duration = Duration::from_millis(250);
    if pids.is_empty() {
        return;
    }
    let deadline = Instant::now() + limit;
    let mut before = cpu_seconds_of(pids);
    while Instant::now() < deadline {
        tokio::time::sleep(WINDOW).await;
        let now = cpu_seconds_of(pids);
        match (before, now) {
            (Some(b), Some(n)) if n - b < 0.1 * WINDOW.as_secs_f64() => return,
            (_, None) => return,
            _ => before = now,
        }
    }
}

/// The `q`-quantile (0..=1) of sorted values, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// How the concurrent readers log in and where they start.
pub struct Readers<'a> {
    /// Reader `i` logs in as `users[i % users.len()]` (all with the target's password); empty:
    /// the target's user.
    pub users: &'a [String],
    /// Reader `i` first reads, unmeasured, a page of `i % page + 1` objects and walks on from
    /// there, so that no two readers ask for the same page and no shared page can serve one.
    pub stagger: bool,
}

/// `clients` readers, each walking the collection in pages of `page` (from the start again when
/// it ends) for `requests` requests; the latency of every request is kept.
///
/// Every reader's first request is unmeasured (it logs in: a password hash is verified, tens of
/// milliseconds of CPU by design), and the measured requests start when every reader has made
/// it, so that the latencies are those of pages, not of logins running beside them.
pub async fn concurrent(
    client: &reqwest::Client,
    t: &Target,
    clients: usize,
    requests: u64,
    page: usize,
    readers: &Readers<'_>,
    deadline: Instant,
) -> ConcurrentResult {
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let objects = Arc::new(AtomicU64::new(0));
    let cut = Arc::new(AtomicU64::new(0));
    let error: Arc<Mutex<Option<String>>> = Arc::default();
    let phase_start = Instant::now();
    let logged_in = Arc::new(tokio::sync::Barrier::new(clients));
    let started: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (client, mut t) = (client.clone(), t.with_own_turn(i));
        if !readers.users.is_empty() {
            t.user = readers.users[i % readers.users.len()].clone();
        }
        let offset = readers.stagger.then_some(i % page.max(1) + 1);
        let (latencies, objects, error, cut, logged_in, started) = (
            latencies.clone(),
            objects.clone(),
            error.clone(),
            cut.clone(),
            logged_in.clone(),
            started.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut next: Option<String> = None;
            // Logging in at every process but the one the first page comes from (each process
            // verifies a password once): unmeasured.
            let mut first = Ok(());
            for _ in 1..t.bases.len() {
                if let Err(e) = get_page(&client, &t, 1, None).await {
                    first = Err(e);
                }
            }
            // Without a stagger, the first page is read twice: once to log in, then measured.
            let first = match first {
                Ok(()) => get_page(&client, &t, offset.unwrap_or(page), None).await,
                Err(e) => Err(e),
            };
            let failed = match first {
                Ok(p) => {
                    if offset.is_some() {
                        next = if p.more { p.next } else { None };
                    }
                    false
                }
                Err(e) => {
                    if let Ok(mut slot) = error.lock() {
                        slot.get_or_insert_with(|| format!("{e:#}"));
                    }
                    true
                }
            };
            // A reader that failed still meets the others here, so that none waits forever.
            if logged_in.wait().await.is_leader() {
                if let Ok(mut s) = started.lock() {
                    *s = Some(Instant::now());
                }
            }
            if failed {
                return;
            }
            let mut mine = Vec::with_capacity(requests as usize);
            for _ in 0..requests {
                let left = deadline.saturating_duration_since(Instant::now());
                let sent = Instant::now();
                match tokio::time::timeout(left, get_page(&client, &t, page, next.as_deref())).await
                {
                    Ok(Ok(p)) => {
                        mine.push(sent.elapsed().as_secs_f64() * 1000.0);
                        objects.fetch_add(p.objects.len() as u64, Ordering::Relaxed);
                        next = if p.more { p.next } else { None };
                    }
                    Ok(Err(e)) => {
                        if let Ok(mut slot) = error.lock() {
                            slot.get_or_insert_with(|| format!("{e:#}"));
                        }
                        break;
                    }
                    Err(_) => {
                        // Still waiting at the deadline: at least this long.
                        mine.push(sent.elapsed().as_secs_f64() * 1000.0);
                        cut.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut slot) = error.lock() {
                            slot.get_or_insert_with(|| "deadline reached".to_owned());
                        }
                        break;
                    }
                }
            }
            if let Ok(mut all) = latencies.lock() {
                all.extend(mine);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut all = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    all.sort_by(f64::total_cmp);
    let cut = cut.load(Ordering::Relaxed);
    let done = all.len() as u64 - cut;
    // Measured from the end of the logins; when no request was measured (the logins failed or
    // never ended), from the start of the phase, so that the time waited is reported.
    let start = match started.lock().ok().and_then(|s| *s) {
        Some(s) if !all.is_empty() => s,
        _ => phase_start,
    };
    let seconds = start.elapsed().as_secs_f64();
    let error = error.lock().ok().and_then(|mut e| e.take());
    ConcurrentResult {
        clients,
        identities: readers.users.len().max(1),
        staggered: readers.stagger,
        page,
        requests: done,
        objects: objects.load(Ordering::Relaxed),
        seconds,
        requests_per_s: if seconds > 0.0 {
            done as f64 / seconds
        } else {
            0.0
        },
        cut,
        p50_ms: quantile(&all, 0.50),
        p90_ms: quantile(&all, 0.90),
        p99_ms: quantile(&all, 0.99),
        max_ms: all.last().copied(),
        completed: error.is_none() && done == clients as u64 * requests,
        error,
    }
}

/// CPU time (user + system) a process has used so far, in seconds, from `/proc/PID/stat`.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / CLOCK_TICKS_PER_SECOND)
}

/// CPU time the processes `pids` have used so far, added up; `None` without pids or when one
/// of them is gone.
pub fn cpu_seconds_of(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| cpu_seconds(p)).sum()
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux architecture this runs on.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// VmRSS and VmHWM of a process, in KiB.
fn read_rss(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Samples a process's RSS until dropped.
pub struct RssSampler {
    pid: u32,
    max_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    pub fn start(pid: u32) -> RssSampler {
        let max_kib = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (max_kib.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some((rss, _)) = read_rss(pid) {
                    m.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        RssSampler {
            pid,
            max_kib,
            stop,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> Rss {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let hwm = read_rss(self.pid).map(|(_, h)| h).unwrap_or(0);
        Rss {
            pid: self.pid,
            max_rss_mib: self.max_kib.load(Ordering::Relaxed) as f64 / 1024.0,
            hwm_mib: hwm as f64 / 1024.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        assert_eq!(quantile(&[7.0], 0.99), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn cpu_time_of_this_process_is_read() {
        let before = super::cpu_seconds(std::process::id()).expect("/proc/self/stat");
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let after = super::cpu_seconds(std::process::id()).unwrap();
        assert!(after >= before, "{before} then {after}");
    }

    #[test]
    fn rss_of_this_process_is_read() {
        let (rss, hwm) = super::read_rss(std::process::id()).expect("/proc/self/status");
        assert!(rss > 0 && hwm >= rss, "rss {rss} hwm {hwm}");
    }
}
