//! A node on a port-0 listener, with users of several nations.

use std::sync::Arc;

use entente_node::{auth, pki, Node, NodeConfig, Storage, MEDIA_TYPE_TAXII};
use entente_store::postgres::PostgresStore;
use entente_store::{CollectionRight, User};
use entente_types::NationCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Sandbox {
    pub base: String,
    /// The admin listener (plain HTTP): metrics and the OpenAPI document.
    pub admin: String,
    pub node: Arc<Node>,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The PostgreSQL (url, schema) to drop at `stop`.
    schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

pub fn nation(code: &str) -> NationCode {
    code.parse().unwrap()
}

/// reqwest's TLS takes the process's default crypto provider: ring, as the node's own TLS.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Sandbox {
    /// A FRA node with the collection `intel`.
    pub async fn start() -> Sandbox {
        Sandbox::start_with(|_| {}).await
    }

    /// A FRA node whose test config `adjust` changes first.
    pub async fn start_with(adjust: impl FnOnce(&mut NodeConfig)) -> Sandbox {
        install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut config = NodeConfig::for_test(nation("FRA"), dir.path());
        adjust(&mut config);
        Sandbox::start_config(config, dir, reqwest::Client::new()).await
    }

    /// A FRA node over TLS with a development PKI under its folder (`tls/ca.pem` is the root),
    /// and a client that trusts only that CA.
    pub async fn start_tls(adjust: impl FnOnce(&mut NodeConfig)) -> Sandbox {
        install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let files = pki::write_dev_pki(&dir.path().join("tls"), "test CA").unwrap();
        let mut config = NodeConfig::for_test(nation("FRA"), dir.path());
        config.tls = Some(entente_node::TlsFiles {
            cert: files.server_cert,
            key: files.server_key,
            client_ca: None,
        });
        adjust(&mut config);
        let ca = std::fs::read(&files.ca_cert).unwrap();
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
            .build()
            .unwrap();
        Sandbox::start_config(config, dir, client).await
    }

    /// A FRA node whose objects live in PostgreSQL (`ENTENTE_TEST_DATABASE_URL`, default
    /// `postgres://postgres@127.0.0.1:5432/test`), in a fresh schema dropped at `stop`. `None`
    /// (with a message) when the server is unreachable, except under `CI=true`, where it fails.
    pub async fn start_postgres(adjust: impl FnOnce(&mut NodeConfig)) -> Option<Sandbox> {
        install_crypto_provider();
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let url = std::env::var("ENTENTE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "entente_node_test_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        if let Err(e) = PostgresStore::connect(&url, &schema).await {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs PostgreSQL at {url}: {e}"
            );
            eprintln!("SKIPPED a PostgreSQL node test: {url} unreachable: {e}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut config = NodeConfig::for_test(nation("FRA"), dir.path());
        config.storage = Storage::Postgres(Box::new(entente_store::postgres::PgSettings::new(
            url.clone(),
            schema.clone(),
        )));
        adjust(&mut config);
        let mut s = Sandbox::start_config(config, dir, reqwest::Client::new()).await;
        s.schema = Some((url, schema));
        Some(s)
    }

    /// The folder of the node (its database, and `tls/` for TLS nodes).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    async fn start_config(
        config: NodeConfig,
        dir: tempfile::TempDir,
        client: reqwest::Client,
    ) -> Sandbox {
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let node = Node::open(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("{scheme}://{}", listener.local_addr().unwrap());
        let admin_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = format!("http://{}", admin_listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let serving = node.clone();
        let mut public_stopped = stopped.clone();
        let public = tokio::spawn(async move {
            entente_node::serve_node(serving, listener, async move {
                let _ = public_stopped.wait_for(|s| *s).await;
            })
            .await
            .unwrap();
        });
        let serving = node.clone();
        let mut admin_stopped = stopped;
        let document = entente_node::openapi::node_document();
        let admin_task = tokio::spawn(async move {
            entente_node::serve_admin(serving, admin_listener, document, async move {
                let _ = admin_stopped.wait_for(|s| *s).await;
            })
            .await
            .unwrap();
        });
        Sandbox {
            base,
            admin,
            node,
            client,
            stop: Some(stop),
            tasks: vec![public, admin_task],
            schema: None,
            _dir: dir,
        }
    }

    /// Adds a user with a password; `rights` is "r", "w" or "rw" on `intel`.
    pub async fn user(&self, name: &str, nation_code: &str, clearance: &str, rights: &str) {
        let (policy, level) = clearance.split_once(' ').unwrap();
        let user = User {
            name: name.into(),
            nation: nation(nation_code),
            clearance_policy: policy.into(),
            clearance_level: level.into(),
            clearance_caveats: Vec::new(),
            password_hash: Some(auth::hash_password(PASSWORD).unwrap()),
            rights: vec![CollectionRight {
                collection: "intel".into(),
                read: rights.contains('r'),
                write: rights.contains('w'),
            }],
        };
        self.node.store().put_user(&user).await.unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A URL on the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{}", self.admin, path)
    }

    pub async fn get(&self, user: &str, path: &str) -> Answer {
        let r = self
            .client
            .get(self.url(path))
            .basic_auth(user, Some(PASSWORD))
            .header(ACCEPT, MEDIA_TYPE_TAXII)
            .send()
            .await
            .unwrap();
        Answer::read(r).await
    }

    pub async fn post(&self, user: &str, path: &str, body: &Value) -> Answer {
        let r = self
            .client
            .post(self.url(path))
            .basic_auth(user, Some(PASSWORD))
            .header(ACCEPT, MEDIA_TYPE_TAXII)
            .header(CONTENT_TYPE, MEDIA_TYPE_TAXII)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        Answer::read(r).await
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        for t in self.tasks.drain(..) {
            t.await.unwrap();
        }
        if let Some((url, schema)) = self.schema.take() {
            drop(self.node);
            if let Err(e) = PostgresStore::drop_schema(&url, &schema).await {
                eprintln!("cannot drop test schema {schema}: {e}");
            }
        }
    }
}

/// An HTTP answer, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub async fn read(r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Answer {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
