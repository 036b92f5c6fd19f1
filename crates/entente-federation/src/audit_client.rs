//! A client of a node's audit routes (`/audit/…`, on its TAXII port or federation port): signed
//! checkpoints, inclusion and consistency proofs and entries, fetched over HTTP or over HTTPS
//! trusting one CA file, and verified here. `entente audit … --url` and `entente demo` both use it,
//! so a partner, an operator and the demonstration check a log the same way.

use std::path::Path;
use std::time::Duration;

use entente_audit::report::{NoteSummary, Verified};
use entente_audit::{
    check_consistent, AuditEvent, Checkpoint, ConsistencyProof, InclusionProof, NoteVerifier,
};
use hyper::body::Bytes;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;

use crate::client::HttpClient;
use crate::FederationError;

/// How long one connection attempt or request may take.
pub const AUDIT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The most entries the server returns per `GET /audit/entries`.
const ENTRIES_PAGE: u64 = 1000;

/// A client of the node at `url` (`http://HOST:PORT` or `https://HOST:PORT`, optionally with a
/// path prefix); HTTPS trusts only the CA certificates in `ca`.
pub(crate) fn client_of(
    url: &str,
    ca: Option<&Path>,
    timeout: Duration,
) -> Result<HttpClient, FederationError> {
    let bad = |message: String| FederationError::Remote {
        url: url.to_owned(),
        message,
    };
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad("the URL must start with http:// or https://".into()));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let host = match authority.rsplit_once(':') {
        Some((h, p)) => {
            p.parse::<u16>()
                .map_err(|_| bad(format!("port {p:?} is not a number")))?;
            h
        }
        None => authority,
    };
    if host.is_empty() {
        return Err(bad("no host".into()));
    }
    let tls = if https {
        let ca =
            ca.ok_or_else(|| bad("https needs the node's CA certificate (--ca FILE)".into()))?;
        let config = entente_node::pki::client_config(ca, None)
            .map_err(|e| bad(format!("CA {}: {e}", ca.display())))?;
        ServerName::try_from(host.to_owned()).map_err(|e| bad(format!("host {host:?}: {e}")))?;
        ClientConfig::clone(&config)
    } else {
        let config = entente_node::pki::trust_nobody_client_config()
            .map_err(|e| bad(format!("TLS configuration: {e}")))?;
        ClientConfig::clone(&config)
    };
    let scheme = if https { "https" } else { "http" };
    let base = format!("{scheme}://{authority}{path}");
    HttpClient::new(base, tls, timeout).map_err(|e| bad(format!("HTTP client: {e}")))
}

/// One node's audit routes, reached at a base URL (`https://127.0.0.1:8401`), keeping its
/// connection between requests.
pub struct AuditClient {
    url: String,
    http: HttpClient,
}

impl AuditClient {
    /// A client of the node at `url` (`http://HOST:PORT` or `https://HOST:PORT`, optionally with
    /// a path prefix). HTTPS trusts only the CA certificates in `ca`.
    pub fn new(url: &str, ca: Option<&Path>) -> Result<AuditClient, FederationError> {
        Ok(AuditClient {
            url: url.trim_end_matches('/').to_owned(),
            http: client_of(url, ca, AUDIT_REQUEST_TIMEOUT)?,
        })
    }

    /// The base URL this client reaches.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn fail(&self, message: impl Into<String>) -> FederationError {
        FederationError::Remote {
            url: self.url.clone(),
            message: message.into(),
        }
    }

    /// `GET path`: the body of a 2xx answer; any other answer is an error quoting the body.
    pub async fn get(&mut self, path: &str) -> Result<Bytes, FederationError> {
        let (status, body) = self
            .http
            .request(hyper::Method::GET, path, Vec::new())
            .await
            .map_err(|e| self.fail(e.to_string()))?;
        if !status.is_success() {
            return Err(self.fail(format!(
                "GET {path}: {status} {}",
                String::from_utf8_lossy(&body).trim()
            )));
        }
        Ok(body)
    }

    /// The node's current signed checkpoint, as served (a C2SP signed note).
    pub async fn checkpoint_note(&mut self) -> Result<String, FederationError> {
        let body = self.get("/audit/checkpoint").await?;
        String::from_utf8(body.to_vec()).map_err(|_| self.fail("checkpoint: not UTF-8"))
    }

    /// The size of the checkpoint the node serves now (its signature is not checked here).
    pub async fn size(&mut self) -> Result<u64, FederationError> {
        let note = self.checkpoint_note().await?;
        let summary = NoteSummary::of(&note).map_err(|e| self.fail(format!("checkpoint: {e}")))?;
        Ok(summary.size)
    }

    /// Verifies the checkpoint the node serves now, then the inclusion of entry `index` in it
    /// and its consistency with `older`, the proofs fetched from the node, telling `step` each
    /// thing established; the first failure ends it.
    pub async fn verify_served(
        &mut self,
        verifier: &NoteVerifier,
        index: Option<u64>,
        older: Option<&Checkpoint>,
        mut step: impl FnMut(Verified),
    ) -> Result<(), FederationError> {
        let cp = self.checkpoint(verifier).await?;
        step(Verified::Checkpoint {
            source: self.url.clone(),
            remote: true,
            checkpoint: cp.clone(),
        });
        if let Some(index) = index {
            let proof = self.verify_inclusion(&cp, index, None).await?;
            let entry = proof
                .leaf
                .as_ref()
                .map(|e| format!("{} {} {}", e.kind.as_str(), e.object_id, e.node));
            let size = cp.size;
            step(Verified::Inclusion { index, size, entry });
        }
        if let Some(old) = older {
            self.verify_consistency(old, &cp).await?;
            step(Verified::consistency(old.size, cp.size));
        }
        Ok(())
    }

    /// The node's current checkpoint, its signature verified with `verifier`.
    pub async fn checkpoint(
        &mut self,
        verifier: &NoteVerifier,
    ) -> Result<Checkpoint, FederationError> {
        let note = self.checkpoint_note().await?;
        Ok(verifier.verify(&note)?)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries (it carries the entry).
    pub async fn inclusion(
        &mut self,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof, FederationError> {
        let body = self
            .get(&format!("/audit/proof/inclusion?index={index}&size={size}"))
            .await?;
        Ok(InclusionProof::from_json(&body)?)
    }

    /// The consistency proof from the tree of `first` entries to the tree of `second`.
    pub async fn consistency(
        &mut self,
        first: u64,
        second: u64,
    ) -> Result<ConsistencyProof, FederationError> {
        let body = self
            .get(&format!(
                "/audit/proof/consistency?first={first}&second={second}"
            ))
            .await?;
        Ok(ConsistencyProof::from_json(&body)?)
    }

    /// Entries `start..end`, fetched a page at a time.
    pub async fn entries(
        &mut self,
        start: u64,
        end: u64,
    ) -> Result<Vec<AuditEvent>, FederationError> {
        let mut out = Vec::new();
        let mut at = start;
        while at < end {
            let to = end.min(at + ENTRIES_PAGE);
            let body = self
                .get(&format!("/audit/entries?start={at}&end={to}"))
                .await?;
            let page: Vec<AuditEvent> = serde_json::from_slice(&body)
                .map_err(|e| self.fail(format!("entries {at}..{to}: {e}")))?;
            if page.len() as u64 != to - at {
                return Err(self.fail(format!(
                    "entries {at}..{to}: {} entries returned",
                    page.len()
                )));
            }
            out.extend(page);
            at = to;
        }
        Ok(out)
    }

    /// Fetches the inclusion proof of entry `index` in `checkpoint`'s tree and verifies it
    /// against the checkpoint's root; with `expected`, the proof must be about that entry.
    pub async fn verify_inclusion(
        &mut self,
        checkpoint: &Checkpoint,
        index: u64,
        expected: Option<&AuditEvent>,
    ) -> Result<InclusionProof, FederationError> {
        let mut proof = self.inclusion(index, checkpoint.size).await?;
        if let Some(event) = expected {
            proof.leaf = Some(event.clone());
        }
        proof.verify_against(checkpoint)?;
        Ok(proof)
    }

    /// Fetches the consistency proof between two checkpoints of this log and verifies it: a
    /// failure is a split view (`AuditError` naming both sizes and roots).
    pub async fn verify_consistency(
        &mut self,
        older: &Checkpoint,
        newer: &Checkpoint,
    ) -> Result<ConsistencyProof, FederationError> {
        let (a, b) = if older.size <= newer.size {
            (older, newer)
        } else {
            (newer, older)
        };
        let proof = self.consistency(a.size, b.size).await?;
        check_consistent(a, b, &proof.hashes)?;
        Ok(proof)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use ed25519_dalek::SigningKey;
    use entente_audit::{AuditError, AuditLog, EventKind};

    use super::*;

    fn event(i: u64, digest: u64) -> AuditEvent {
        AuditEvent {
            kind: EventKind::Release,
            at: format!("2026-11-27T03:00:{:02}.000Z", i % 60),
            origin: "FRA".into(),
            node: "FRA".into(),
            partner: Some("DEU".into()),
            object_id: format!("indicator--{i:08x}-17d4-4cbf-938f-98ee46b3cd3f"),
            version: "2026-11-27T03:00:00.000Z".into(),
            digest: format!("{digest:064x}"),
            detail: None,
            source: None,
        }
    }

    /// Serves a log's audit routes over plain HTTP on loopback; returns its base URL.
    async fn serve(log: Arc<AuditLog>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let journal = Arc::new(entente_audit::Journal::Files(log));
            let _ = axum::serve(listener, crate::audit_routes(journal)).await;
        });
        url
    }

    /// A pool whose connections work in a fresh schema of the test database (dropped by the
    /// returned statement), or `None` with a visible message when the database is unreachable
    /// outside CI; in CI an unreachable database fails the test.
    async fn test_pool() -> Option<(deadpool_postgres::Pool, String, String)> {
        let url = std::env::var("ENTENTE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let schema = format!(
            "entente_fed_audit_test_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let created = async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            client
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .await
        };
        if let Err(e) = created.await {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs PostgreSQL at {url}: {e}"
            );
            eprintln!("SKIPPED postgres audit routes test: {url} unreachable: {e}");
            return None;
        }
        let mut config: tokio_postgres::Config = url.parse().unwrap();
        config.options(format!("-c search_path={schema}"));
        let manager = deadpool_postgres::Manager::new(config, tokio_postgres::NoTls);
        let pool = deadpool_postgres::Pool::builder(manager).build().unwrap();
        Some((pool, url, format!("DROP SCHEMA {schema} CASCADE")))
    }

    /// Every audit route answers the same status and bytes from a log in files and from the
    /// same log in PostgreSQL, errors included.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_routes_serve_the_same_documents_from_files_and_from_postgres() {
        let Some((pool, url, drop_schema)) = test_pool().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let files =
            entente_audit::Journal::from(AuditLog::open(dir.path(), "FRA", key.clone()).unwrap());
        let pg = entente_audit::Journal::from(
            entente_audit::PgAuditLog::open(pool, "FRA", key.clone())
                .await
                .unwrap(),
        );
        let events: Vec<AuditEvent> = (0..37).map(|i| event(i, i * 3)).collect();
        for chunk in events.chunks(10) {
            files.append(chunk.to_vec()).await.unwrap();
            pg.append(chunk.to_vec()).await.unwrap();
        }
        let routes = |log: entente_audit::Journal| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tokio::spawn(async move {
                let _ = axum::serve(listener, crate::audit_routes(Arc::new(log))).await;
            });
            url
        };
        let mut a = AuditClient::new(&routes(files), None).unwrap();
        let mut b = AuditClient::new(&routes(pg), None).unwrap();
        let answer = |r: Result<Bytes, FederationError>| match r {
            Ok(body) => Ok(body.to_vec()),
            Err(FederationError::Remote { message, .. }) => Err(message),
            Err(other) => panic!("{other}"),
        };
        let mut paths = vec![
            "/audit/checkpoint".to_owned(),
            "/audit/entries?start=0&end=37".to_owned(),
            "/audit/entries?start=30&end=38".to_owned(),
            "/audit/proof/inclusion?index=37&size=37".to_owned(),
            "/audit/proof/inclusion?index=0&size=38".to_owned(),
            "/audit/proof/consistency?first=20&second=38".to_owned(),
            "/audit/proof/consistency?first=30&second=20".to_owned(),
        ];
        for size in [1, 10, 20, 36, 37] {
            for index in [0, size / 2, size - 1] {
                paths.push(format!("/audit/proof/inclusion?index={index}&size={size}"));
            }
            for first in [0, 1, size / 3, size] {
                paths.push(format!(
                    "/audit/proof/consistency?first={first}&second={size}"
                ));
            }
        }
        let mut served = 0;
        for path in &paths {
            let (x, y) = (answer(a.get(path).await), answer(b.get(path).await));
            assert_eq!(x, y, "{path}");
            served += usize::from(x.is_ok());
        }
        // Five paths ask beyond the log or in the wrong order; both refuse them alike.
        assert_eq!(served, paths.len() - 5);
        // And what is served verifies.
        let verifier = NoteVerifier::new("FRA", key.verifying_key());
        let newest = b.checkpoint(&verifier).await.unwrap();
        assert_eq!(newest.size, 37);
        assert_eq!(b.entries(0, 37).await.unwrap(), events);
        b.verify_inclusion(&newest, 12, Some(&events[12]))
            .await
            .unwrap();
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client.batch_execute(&drop_schema).await.unwrap();
    }

    #[tokio::test]
    async fn fetches_and_verifies_checkpoints_proofs_and_entries() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let log = Arc::new(AuditLog::open(dir.path(), "FRA", key.clone()).unwrap());
        let events: Vec<AuditEvent> = (0..5).map(|i| event(i, i)).collect();
        log.append_batch(&events[..2]).unwrap();
        let mut client = AuditClient::new(&serve(log.clone()).await, None).unwrap();
        let verifier = NoteVerifier::new("FRA", key.verifying_key());
        let older = client.checkpoint(&verifier).await.unwrap();
        assert_eq!(older.size, 2);
        log.append_batch(&events[2..]).unwrap();
        let newer = client.checkpoint(&verifier).await.unwrap();
        assert_eq!(newer.size, 5);
        assert_eq!(client.entries(0, 5).await.unwrap(), events);
        for (i, e) in events.iter().enumerate() {
            let proof = client
                .verify_inclusion(&newer, i as u64, Some(e))
                .await
                .unwrap();
            assert_eq!(proof.index, i as u64);
        }
        // The proof must be about the entry the caller expects.
        let wrong = client.verify_inclusion(&newer, 0, Some(&events[1])).await;
        assert!(matches!(wrong, Err(FederationError::Audit(_))), "{wrong:?}");
        client.verify_consistency(&older, &newer).await.unwrap();
        // Another key does not verify the checkpoint.
        let other = NoteVerifier::new("FRA", SigningKey::from_bytes(&[8; 32]).verifying_key());
        assert!(matches!(
            client.checkpoint(&other).await,
            Err(FederationError::Audit(_))
        ));
    }

    #[tokio::test]
    async fn a_node_showing_another_history_is_a_split_view() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let verifier = NoteVerifier::new("FRA", key.verifying_key());
        // Two logs signed with the same key that agree on the first entry only.
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Arc::new(AuditLog::open(a_dir.path(), "FRA", key.clone()).unwrap());
        let b = Arc::new(AuditLog::open(b_dir.path(), "FRA", key.clone()).unwrap());
        a.append_batch(&[event(0, 0), event(1, 1)]).unwrap();
        b.append_batch(&[event(0, 0), event(1, 99), event(2, 2)])
            .unwrap();
        let mut shown_first = AuditClient::new(&serve(a).await, None).unwrap();
        let mut shown_later = AuditClient::new(&serve(b).await, None).unwrap();
        let seen = shown_first.checkpoint(&verifier).await.unwrap();
        let now = shown_later.checkpoint(&verifier).await.unwrap();
        match shown_later.verify_consistency(&seen, &now).await {
            Err(FederationError::Audit(AuditError::SplitView { .. })) => {}
            other => panic!("expected a split view, got {other:?}"),
        }
    }

    #[test]
    fn urls_are_checked_before_any_connection() {
        assert!(AuditClient::new("ftp://127.0.0.1:1", None).is_err());
        assert!(AuditClient::new("http://127.0.0.1:port", None).is_err());
        let e = AuditClient::new("https://127.0.0.1:8401", None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("--ca"), "{e}");
        let c = AuditClient::new("http://127.0.0.1:8401/node/", None).unwrap();
        assert_eq!(c.url(), "http://127.0.0.1:8401/node");
    }
}
