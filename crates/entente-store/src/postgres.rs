//! The PostgreSQL backend: several stateless node processes may share one database.
//!
//! Writers serialize on the single row of the `clock` table (`SELECT … FOR UPDATE`), so `seq` and
//! `date_added` are assigned in commit order across processes: a reader paging by `seq` never
//! skips a version committed after it read a later one. Each store works in one schema (created on
//! connect), which lets test runs share a server without colliding.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Hook, HookError, Manager, ManagerConfig, Object, Pool};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, Connection, NoTls, Row, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{StoreError, StoreErrorKind};
use crate::migrations::{self, Step};
use crate::model::*;
use crate::rows::{from_json, nation, stored_object, user_from};
use crate::sql::{self, to_postgres, Param};
use crate::writes::{self, Arg, Statements};
use crate::{Lease, Store};

/// The advisory lock key space of this crate (the first of the two keys): migrations take
/// `(LOCK_SPACE, 0)`, leases `(LOCK_SPACE, hashtext(schema/name))`.
const LOCK_SPACE: i32 = 74201;
/// While the notification connection is down, the store signals a change this often, so that
/// caches are dropped and dispatchers look at the stream even without notifications.
const POLL_WHEN_DEAF: Duration = Duration::from_secs(1);
/// Between attempts to reconnect the notification or lease connection.
const RECONNECT: Duration = Duration::from_millis(500);

/// How a node reaches PostgreSQL (from `node.toml`, see the node's config).
#[derive(Clone, PartialEq, Eq)]
pub struct PgSettings {
    /// A libpq-style URL or key-value string (without a password when `password` is given).
    pub url: String,
    /// The schema the node works in (created if missing).
    pub schema: String,
    /// The password, when it comes from a file or the environment rather than the URL.
    pub password: Option<String>,
    /// Connections in the pool.
    pub pool_size: usize,
    /// Longest a statement may run before PostgreSQL cancels it.
    pub statement_timeout: Duration,
    /// Longest to wait for a connection (to open one, or for one of the pool to be free).
    pub connect_timeout: Duration,
    /// TLS to the server; `None`: plain TCP (or a Unix socket).
    pub tls: Option<PgTls>,
}

/// TLS to PostgreSQL: the server is authenticated by a CA, and the node by a client certificate
/// when the server asks for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTls {
    /// The CA certificate (PEM) the server's certificate must chain to.
    pub ca: PathBuf,
    /// A client certificate and its key (PEM), for servers that authenticate clients by them.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl PgSettings {
    /// Settings with the defaults: 16 connections, statements cancelled after 30 s, 5 s to
    /// connect, no TLS.
    pub fn new(url: impl Into<String>, schema: impl Into<String>) -> PgSettings {
        PgSettings {
            url: url.into(),
            schema: schema.into(),
            password: None,
            pool_size: 16,
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            tls: None,
        }
    }

    fn config(&self) -> Result<tokio_postgres::Config, StoreError> {
        let mut config: tokio_postgres::Config = self
            .url
            .parse()
            .map_err(|e| StoreErrorKind::Config(format!("database URL: {e}")))?;
        if let Some(password) = &self.password {
            config.password(password);
        }
        config.connect_timeout(self.connect_timeout);
        // A dead peer (a machine gone, a cut link) is noticed in about 20 s, not hours.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        config.keepalives_interval(Duration::from_secs(5));
        config.keepalives_retries(2);
        // Names the node's connections (by schema) in `pg_stat_activity`, for operators.
        config.application_name(application_name(&self.schema));
        Ok(config)
    }
}

/// Never shows a password, from the URL or beside it.
impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSettings")
            .field("url", &redacted_url(&self.url))
            .field("schema", &self.schema)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// A database URL with its password (`scheme://user:password@…`, `password=…`) masked.
pub fn redacted_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((credentials, host)) = rest.split_once('@') {
            if let Some((user, _)) = credentials.split_once(':') {
                return format!("{scheme}://{user}:…@{host}");
            }
        }
        return url.to_owned();
    }
    url.split_whitespace()
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=…"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `application_name` of a node's connections.
pub fn application_name(schema: &str) -> String {
    format!("entente {schema}")
}

/// How connections are made: plain, or TLS with rustls.
#[derive(Clone)]
enum Connector {
    Plain,
    Rustls(MakeRustlsConnect),
}

impl Connector {
    fn new(tls: Option<&PgTls>) -> Result<Connector, StoreError> {
        let Some(tls) = tls else {
            return Ok(Connector::Plain);
        };
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|e| {
                StoreError::from(StoreErrorKind::Config(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            })
        };
        let bad = |path: &PathBuf, e: &dyn std::fmt::Display| {
            StoreError::from(StoreErrorKind::Config(format!("{}: {e}", path.display())))
        };
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&read(&tls.ca)?) {
            let cert = cert.map_err(|e| bad(&tls.ca, &e))?;
            roots.add(cert).map_err(|e| bad(&tls.ca, &e))?;
        }
        if roots.is_empty() {
            return Err(bad(&tls.ca, &"no certificate in the file"));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(&tls.ca, &e))?
            .with_root_certificates(roots);
        let config = match &tls.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(&read(cert)?)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| bad(cert, &e))?;
                let key_der =
                    PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| bad(key, &e))?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| bad(cert, &e))?
            }
        };
        Ok(Connector::Rustls(MakeRustlsConnect::new(config)))
    }

    fn manager(&self, config: tokio_postgres::Config) -> Manager {
        let recycling = ManagerConfig {
            // A connection is checked (`is_closed`) when it comes back: one broken by a server
            // restart or a cut link is dropped and the next checkout opens a new one.
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        };
        match self {
            Connector::Plain => Manager::from_config(config, NoTls, recycling),
            Connector::Rustls(tls) => Manager::from_config(config, tls.clone(), recycling),
        }
    }

    /// One connection outside the pool, whose asynchronous messages (notifications) come out of
    /// the returned channel; the channel closes when the connection ends.
    async fn connect(
        &self,
        config: &tokio_postgres::Config,
    ) -> Result<
        (
            Client,
            mpsc::UnboundedReceiver<tokio_postgres::Notification>,
        ),
        StoreError,
    > {
        Ok(match self {
            Connector::Plain => {
                let (client, connection) = config.connect(NoTls).await?;
                (client, drive(connection))
            }
            Connector::Rustls(tls) => {
                let (client, connection) = config.connect(tls.clone()).await?;
                (client, drive(connection))
            }
        })
    }
}

/// Runs a connection on a task of its own and hands out its notifications.
fn drive<S, T>(
    mut connection: Connection<S, T>,
) -> mpsc::UnboundedReceiver<tokio_postgres::Notification>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    let _ = sender.send(n);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "postgres connection ended");
                    break;
                }
                None => break,
            }
        }
    });
    receiver
}

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Pool,
    schema: String,
    /// The channel writes notify on (one per schema: several nodes may share a server).
    channel: String,
    /// Bumped on each notification from any process (and every [`POLL_WHEN_DEAF`] while the
    /// notification connection is down).
    changes: watch::Receiver<u64>,
    /// Whether the notification connection is up.
    listening: watch::Receiver<bool>,
    /// The leases this process holds (one connection holds their advisory locks).
    leases: Arc<tokio::sync::Mutex<LeaseConnection>>,
    config: tokio_postgres::Config,
    connector: Connector,
    /// Dropped with the store: stops the notification task.
    _stop: oneshot::Sender<()>,
    /// Dropped with the store: stops the statistics task.
    _stop_statistics: oneshot::Sender<()>,
}

/// Whether `schema` is a plain lowercase identifier (it is interpolated into SQL).
fn check_schema(schema: &str) -> Result<(), StoreError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(StoreErrorKind::Config(format!(
            "schema name {schema:?} must be lowercase letters, digits and underscores"
        ))
        .into())
    }
}

impl PostgresStore {
    /// Connects to `url` with the default settings and works in `schema`.
    pub async fn connect(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open(&PgSettings::new(url, schema)).await
    }

    /// Opens a pool to the database, brings the schema to this build's version (or refuses a
    /// newer one), and starts listening for other processes' writes.
    pub async fn open(settings: &PgSettings) -> Result<PostgresStore, StoreError> {
        let schema = settings.schema.clone();
        check_schema(&schema)?;
        let config = settings.config()?;
        let connector = Connector::new(settings.tls.as_ref())?;
        let setup = format!(
            "SET search_path TO {schema}; SET statement_timeout = {}",
            settings.statement_timeout.as_millis()
        );
        let pool = Pool::builder(connector.manager(config.clone()))
            .max_size(settings.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(settings.connect_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .post_create(Hook::async_fn(move |client, _| {
                let setup = setup.clone();
                Box::pin(async move {
                    client
                        .batch_execute(&setup)
                        .await
                        .map_err(HookError::Backend)
                })
            }))
            .build()
            .map_err(|e| StoreErrorKind::Config(format!("connection pool: {e}")))?;
        migrate(&pool, &schema).await?;
        let channel = format!("entente_{schema}");
        let (stop, stopped) = oneshot::channel();
        let (changes_tx, changes) = watch::channel(0u64);
        let (listening_tx, listening) = watch::channel(false);
        tokio::spawn(listen(
            config.clone(),
            connector.clone(),
            channel.clone(),
            changes_tx,
            listening_tx,
            stopped,
        ));
        let (stop_statistics, statistics_stopped) = oneshot::channel();
        tokio::spawn(keep_statistics(
            pool.clone(),
            schema.clone(),
            statistics_stopped,
        ));
        tracing::info!(
            schema,
            pool = settings.pool_size,
            tls = settings.tls.is_some(),
            "postgres store connected"
        );
        Ok(PostgresStore {
            pool,
            leases: Arc::new(tokio::sync::Mutex::new(LeaseConnection::default())),
            schema,
            channel,
            changes,
            listening,
            config,
            connector,
            _stop: stop,
            _stop_statistics: stop_statistics,
        })
    }

    /// Drops a schema and everything in it (for tests).
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        check_schema(schema)?;
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        let task = tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await?;
        drop(client);
        let _ = task.await;
        Ok(())
    }

    /// The pool (its connections work in the store's schema), for the node's other tables
    /// (the audit log).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The schema the store works in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Whether the connection that hears other processes' writes is up.
    pub fn listening(&self) -> bool {
        *self.listening.borrow()
    }

    async fn client(&self) -> Result<Object, StoreError> {
        checkout(&self.pool).await
    }

    /// Tells every process (this one too) that the objects changed; delivered at commit.
    async fn notify<C: GenericClient>(&self, client: &C) -> Result<(), StoreError> {
        let statement = client.prepare_cached("SELECT pg_notify($1, '')").await?;
        client.execute(&statement, &[&self.channel]).await?;
        Ok(())
    }
}

/// Brings the schema to [`migrations::SCHEMA_VERSION`] in one transaction under an advisory
/// lock, so that processes starting together migrate one at a time.
async fn migrate(pool: &Pool, schema: &str) -> Result<(), StoreError> {
    let mut client = pool
        .get()
        .await
        .map_err(|e| StoreErrorKind::Unavailable(format!("postgres: {e}")))?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_SPACE])
        .await?;
    tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .await?;
    tx.batch_execute(migrations::CREATE_VERSIONS).await?;
    let current: i64 = tx
        .query_one(migrations::SELECT_VERSION, &[])
        .await?
        .try_get(0)?;
    for migration in migrations::pending(current, &format!("schema {schema}"))? {
        for step in (migration.steps)() {
            match step {
                Step::Sql(statement) => tx.batch_execute(statement).await?,
                Step::AddColumn {
                    table,
                    column,
                    declaration,
                } => {
                    tx.batch_execute(&format!(
                        "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {declaration}"
                    ))
                    .await?
                }
            }
        }
        tx.execute(
            &to_postgres(migrations::INSERT_VERSION),
            &[&migration.version, &migration.name, &migrations::now_us()],
        )
        .await?;
        tracing::info!(schema, version = migration.version, "schema migrated");
    }
    tx.commit().await?;
    Ok(())
}

/// Listens on `channel` and bumps `changes` on each notification; while the connection is
/// down (and until it is back), bumps it every [`POLL_WHEN_DEAF`] instead.
async fn listen(
    config: tokio_postgres::Config,
    connector: Connector,
    channel: String,
    changes: watch::Sender<u64>,
    listening: watch::Sender<bool>,
    mut stop: oneshot::Receiver<()>,
) {
    let bump = || changes.send_modify(|n| *n = n.wrapping_add(1));
    loop {
        let connected = async {
            let (client, notes) = connector.connect(&config).await?;
            client.batch_execute(&format!("LISTEN {channel}")).await?;
            Ok::<_, StoreError>((client, notes))
        };
        let attempt = tokio::select! {
            _ = &mut stop => return,
            attempt = connected => attempt,
        };
        match attempt {
            Ok((_client, mut notes)) => {
                listening.send_replace(true);
                // Writes made while deaf were not heard: what was read before is stale.
                bump();
                loop {
                    tokio::select! {
                        _ = &mut stop => return,
                        note = notes.recv() => match note {
                            Some(_) => bump(),
                            None => break,
                        },
                    }
                }
                listening.send_replace(false);
                tracing::warn!(channel, "lost the connection that hears other processes' writes; polling until it is back");
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot listen for other processes' writes yet");
            }
        }
        bump();
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(RECONNECT.min(POLL_WHEN_DEAF)) => {}
        }
    }
}

/// Page queries with at most this many filter values (ids, types, spec versions, version keys)
/// are prepared and cached per connection; longer lists are sent unprepared.
const MAX_CACHED_FILTER_VALUES: usize = 4;

/// A connection from the pool; none within the wait timeout means the database is unavailable.
async fn checkout(pool: &Pool) -> Result<Object, StoreError> {
    pool.get()
        .await
        .map_err(|e| StoreError::from(StoreErrorKind::Unavailable(format!("postgres: {e}"))))
}

/// `sql` (with `?N` placeholders) prepared once per pooled connection, cached by its text.
async fn cached(client: &Object, sql: &str) -> Result<Statement, StoreError> {
    Ok(client.prepare_cached(&to_postgres(sql)).await?)
}

/// How often the statistics of `objects` are looked at.
const STATISTICS_CHECK: Duration = Duration::from_secs(2);

/// Keeps the planner's statistics of `objects` close to its contents: whenever the rows changed
/// since the last `ANALYZE` pass a tenth of the table (and at least 500), one process analyses it.
///
/// Why not leave it to autovacuum: it wakes once a minute and waits for a fifth of the table to
/// change, and until then a freshly filled table is planned as if nearly empty. The page query
/// (`collection = $1 AND seq > $2 … ORDER BY seq LIMIT $3`) is then run as a bitmap scan of
/// every later row and a sort, instead of an index walk that stops after the page: a hundred
/// times slower on 20,000 objects, measured (bench/scale-out).
async fn keep_statistics(pool: Pool, schema: String, mut stop: oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(STATISTICS_CHECK) => {}
        }
        if let Err(e) = analyze_if_stale(&pool, &schema).await {
            tracing::debug!(error = %e, "cannot refresh the statistics of objects now");
        }
    }
}

async fn analyze_if_stale(pool: &Pool, schema: &str) -> Result<(), StoreError> {
    let mut client = checkout(pool).await?;
    let row = client
        .query_opt(
            "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables
             WHERE schemaname = $1 AND relname = 'objects'",
            &[&schema],
        )
        .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let (changed, live): (i64, i64) = (row.get(0), row.get(1));
    if changed < 500.max(live / 10) {
        return Ok(());
    }
    // One process analyses at a time; the others find the statistics fresh at their next look.
    let tx = client.transaction().await?;
    let key = format!("entente analyze {schema}");
    let mine: bool = tx
        .query_one("SELECT pg_try_advisory_xact_lock(hashtext($1))", &[&key])
        .await?
        .get(0);
    if mine {
        tx.batch_execute("ANALYZE objects").await?;
        tracing::debug!(changed, live, "statistics of objects refreshed");
    }
    tx.commit().await?;
    Ok(())
}

/// The connection holding this process's leases (session advisory locks), opened on first use
/// and again after it is lost.
#[derive(Default)]
struct LeaseConnection {
    client: Option<Client>,
    /// Turns true when the connection ends: every lease it held is lost.
    lost: Option<watch::Sender<bool>>,
}

impl PostgresStore {
    async fn lease_client<'a>(
        &self,
        held: &'a mut LeaseConnection,
    ) -> Result<&'a Client, StoreError> {
        let alive = held.client.as_ref().is_some_and(|c| !c.is_closed());
        if !alive {
            if let Some(lost) = held.lost.take() {
                lost.send_replace(true);
            }
            let (client, mut notes) = self.connector.connect(&self.config).await?;
            client
                .batch_execute(&format!("SET search_path TO {}", self.schema))
                .await?;
            let (lost, _) = watch::channel(false);
            let watcher = lost.clone();
            tokio::spawn(async move {
                while notes.recv().await.is_some() {}
                watcher.send_replace(true);
            });
            held.lost = Some(lost);
            held.client = Some(client);
        }
        held.client
            .as_ref()
            .ok_or_else(|| StoreErrorKind::Unavailable("no lease connection".into()).into())
    }
}
fn object(row: &Row) -> Result<StoredObject, StoreError> {
    stored_object((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
        row.try_get(7)?,
        row.try_get(8)?,
    ))
}

fn user(row: &Row) -> Result<User, StoreError> {
    user_from([
        row.try_get(0)?,
        row.try_get(6)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
    ])
}

/// Statements of [`crate::writes`] on one connection or transaction, each prepared once per
/// connection (the pool's statement cache).
struct PgStatements<'c, C: GenericClient> {
    client: &'c C,
}

impl<'c, C: GenericClient> PgStatements<'c, C> {
    fn new(client: &'c C) -> Self {
        PgStatements { client }
    }

    async fn prepared(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        Ok(self.client.prepare_cached(&to_postgres(sql)).await?)
    }
}

fn pg_args<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter()
        .map(|a| -> &(dyn ToSql + Sync) {
            match a {
                Arg::Text(t) => t,
                Arg::OptText(t) => t,
                Arg::Int(i) => i,
            }
        })
        .collect()
}

impl<C: GenericClient + Sync> Statements for PgStatements<'_, C> {
    const SHARED: bool = true;

    async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let statement = self.prepared(sql).await?;
        Ok(self.client.execute(&statement, &pg_args(args)).await?)
    }

    async fn text(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<String>, StoreError> {
        let statement = self.prepared(sql).await?;
        let row = self.client.query_opt(&statement, &pg_args(args)).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn ints<const N: usize>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<[i64; N], StoreError> {
        let statement = self.prepared(sql).await?;
        let row = self.client.query_one(&statement, &pg_args(args)).await?;
        let mut out = [0; N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = row.try_get(i)?;
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn put_collection(&self, c: &CollectionInfo) -> Result<(), StoreError> {
        let client = self.client().await?;
        writes::put_collection(&mut PgStatements::new(&client), c).await?;
        self.notify(&client).await
    }

    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        let client = self.client().await?;
        let rows = client.query(sql::SELECT_COLLECTIONS, &[]).await?;
        rows.iter()
            .map(|r| {
                Ok(CollectionInfo {
                    id: r.try_get(0)?,
                    title: r.try_get(1)?,
                    description: r.try_get(2)?,
                })
            })
            .collect()
    }

    async fn add_objects(&self, request: AddRequest) -> Result<StatusRecord, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut s = PgStatements::new(&tx);
        let mut clock = writes::read_clock(&mut s).await?;
        let status = writes::add(&mut s, &request, &mut clock).await?;
        writes::save_clock(&mut s, clock).await?;
        self.notify(&tx).await?;
        tx.commit().await?;
        Ok(status)
    }

    async fn objects(&self, collection: &str, query: &ObjectQuery) -> Result<Page, StoreError> {
        let (text, params) = sql::objects_query(collection, query);
        let values: Vec<Box<dyn ToSql + Sync + Send>> = params
            .into_iter()
            .map(|p| -> Box<dyn ToSql + Sync + Send> {
                match p {
                    Param::Text(t) => Box::new(t),
                    Param::Int(i) => Box::new(i),
                }
            })
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let client = self.client().await?;
        // The common shapes (a few filter values at most) are prepared once per connection: an
        // unprepared query costs the server a parse and plan, and the client a round trip, per
        // page. Long value lists make texts of their own, so they stay unprepared rather than
        // fill the connection's statement cache.
        let values_listed = query.ids.len()
            + query.kinds.len()
            + query.spec_versions.len()
            + query.versions.keys.len();
        let rows = if values_listed <= MAX_CACHED_FILTER_VALUES {
            client.query(&cached(&client, &text).await?, &refs).await?
        } else {
            client.query(&to_postgres(&text), &refs).await?
        };
        let mut objects = rows.iter().map(object).collect::<Result<Vec<_>, _>>()?;
        let more = objects.len() > query.limit;
        objects.truncate(query.limit);
        Ok(Page { objects, more })
    }

    async fn versions(&self, collection: &str, id: &str) -> Result<Vec<StoredObject>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &cached(&client, sql::SELECT_VERSIONS).await?,
                &[&collection, &id],
            )
            .await?;
        rows.iter().map(object).collect()
    }

    async fn delete_versions(
        &self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut s = PgStatements::new(&tx);
        let mut clock = writes::read_clock(&mut s).await?;
        let n = writes::delete_versions(&mut s, collection, id, version_keys, &mut clock).await?;
        writes::save_clock(&mut s, clock).await?;
        self.notify(&tx).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn marking(&self, id: &str) -> Result<Option<StoredObject>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(&cached(&client, sql::SELECT_MARKING).await?, &[&id])
            .await?;
        row.as_ref().map(object).transpose()
    }

    async fn status(&self, id: &str) -> Result<Option<StatusRecord>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(&cached(&client, sql::SELECT_STATUS).await?, &[&id])
            .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let mut status = StatusRecord {
            id: r.try_get(0)?,
            owner: r.try_get(1)?,
            collection: r.try_get(2)?,
            request_us: r.try_get(3)?,
            successes: from_json(r.try_get(4)?)?,
            failures: from_json(r.try_get(5)?)?,
            pendings: Vec::new(),
        };
        for r in client
            .query(&cached(&client, sql::SELECT_STATUS_PENDING).await?, &[&id])
            .await?
        {
            status.pendings.push(PendingObject::detail(
                r.try_get(0)?,
                r.try_get(1)?,
                &from_json::<Vec<String>>(r.try_get(2)?)?,
            ));
        }
        for r in client
            .query(&cached(&client, sql::SELECT_STATUS_OUTCOMES).await?, &[&id])
            .await?
        {
            status.settle((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
        }
        Ok(Some(status))
    }

    async fn pending_objects(&self, collection: &str) -> Result<Vec<PendingRow>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(&cached(&client, sql::SELECT_PENDING).await?, &[&collection])
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingRow {
                    collection: r.try_get(0)?,
                    status_id: r.try_get(1)?,
                    owner: r.try_get(2)?,
                    object: PendingObject {
                        id: r.try_get(3)?,
                        version: r.try_get(4)?,
                        version_key: r.try_get(5)?,
                        waiting: from_json(r.try_get(6)?)?,
                        json: r.try_get(7)?,
                    },
                })
            })
            .collect()
    }

    async fn put_user(&self, u: &User) -> Result<(), StoreError> {
        let client = self.client().await?;
        writes::put_user(&mut PgStatements::new(&client), u).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(&cached(&client, sql::SELECT_USER).await?, &[&name])
            .await?;
        row.as_ref().map(user).transpose()
    }

    async fn add_token(&self, name: &str, token_hash: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        writes::add_token(&mut PgStatements::new(&client), name, token_hash).await
    }

    async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &cached(&client, sql::SELECT_USER_BY_TOKEN).await?,
                &[&token_hash],
            )
            .await?;
        row.as_ref().map(user).transpose()
    }

    async fn changes(&self, after_seq: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let rows = client
            .query(
                &cached(&client, sql::SELECT_CHANGES).await?,
                &[&after_seq, &limit],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Change {
                    collection: r.try_get(9)?,
                    deleted: r.try_get::<_, i64>(10)? != 0,
                    object: object(r)?,
                })
            })
            .collect()
    }

    async fn add_received(
        &self,
        collection: &str,
        now_us: i64,
        objects: Vec<ReceivedObject>,
    ) -> Result<Vec<bool>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut s = PgStatements::new(&tx);
        let mut clock = writes::read_clock(&mut s).await?;
        let flags = writes::add_received(&mut s, collection, now_us, &objects, &mut clock).await?;
        writes::save_clock(&mut s, clock).await?;
        self.notify(&tx).await?;
        tx.commit().await?;
        Ok(flags)
    }

    async fn recall_received(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
        recall: &str,
        intent: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut s = PgStatements::new(&tx);
        let mut clock = writes::read_clock(&mut s).await?;
        let version = (collection, id, version_key);
        let done = writes::recall(&mut s, version, recall, intent, &mut clock).await?;
        writes::save_clock(&mut s, clock).await?;
        self.notify(&tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn binding(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
    ) -> Result<Option<BindingRecord>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &cached(&client, sql::SELECT_BINDING).await?,
                &[&collection, &id, &version_key],
            )
            .await?;
        row.map(|r| {
            Ok(BindingRecord {
                origin: nation(r.try_get(0)?)?,
                sender: nation(r.try_get(1)?)?,
                binding: r.try_get(2)?,
                recall: r.try_get(3)?,
            })
        })
        .transpose()
    }

    async fn cursor(&self, name: &str) -> Result<Option<Cursor>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(&cached(&client, sql::SELECT_CURSOR).await?, &[&name])
            .await?;
        row.map(|r| {
            Ok(Cursor {
                seq: r.try_get(0)?,
                fingerprint: r.try_get(1)?,
            })
        })
        .transpose()
    }

    async fn set_cursor_with_intents(
        &self,
        name: &str,
        cursor: &Cursor,
        intents: Vec<String>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let events: Vec<&str> = intents.iter().map(String::as_str).collect();
        writes::set_cursor(&mut PgStatements::new(&tx), name, cursor, &events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_intents(&self, limit: usize) -> Result<Vec<AuditIntent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let rows = client
            .query(&cached(&client, sql::SELECT_INTENTS).await?, &[&limit])
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditIntent {
                    seq: r.try_get(0)?,
                    event: r.try_get(1)?,
                })
            })
            .collect()
    }

    async fn clear_audit_intents(&self, through: i64) -> Result<u64, StoreError> {
        let client = self.client().await?;
        writes::clear_intents(&mut PgStatements::new(&client), through).await
    }

    async fn set_cursor_fenced(
        &self,
        name: &str,
        cursor: &Cursor,
        intents: Vec<String>,
        lease: &Lease,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Shared lock on the lease row: a process taking the lease over (which updates the row)
        // waits for this commit, and this one fails once the token has moved on.
        let held: Option<i64> = tx
            .query_opt(
                "SELECT token FROM leases WHERE name = $1 FOR SHARE",
                &[&lease.name()],
            )
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if held != Some(lease.token()) {
            return Err(StoreErrorKind::Fenced(format!(
                "lease {} (token {}) is now held by another process (token {})",
                lease.name(),
                lease.token(),
                held.map_or_else(|| "none".to_owned(), |t| t.to_string())
            ))
            .into());
        }
        let events: Vec<&str> = intents.iter().map(String::as_str).collect();
        writes::set_cursor(&mut PgStatements::new(&tx), name, cursor, &events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn try_lease(&self, name: &str, holder: &str) -> Result<Option<Lease>, StoreError> {
        let mut held = self.leases.lock().await;
        let client = self.lease_client(&mut held).await?;
        let key = format!("{}/{name}", self.schema);
        let got: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                &[&LOCK_SPACE, &key],
            )
            .await?
            .try_get(0)?;
        if !got {
            return Ok(None);
        }
        let token: i64 = client
            .query_one(
                "INSERT INTO leases (name, token, holder, acquired_us) VALUES ($1, 1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET token = leases.token + 1,
                     holder = EXCLUDED.holder, acquired_us = EXCLUDED.acquired_us
                 RETURNING token",
                &[&name, &holder, &migrations::now_us()],
            )
            .await?
            .try_get(0)?;
        let lost = held.lost.as_ref().map(|l| l.subscribe());
        let leases = self.leases.clone();
        let release = move || {
            tokio::spawn(async move {
                let held = leases.lock().await;
                if let Some(client) = held.client.as_ref() {
                    let _ = client
                        .execute(
                            "SELECT pg_advisory_unlock($1, hashtext($2))",
                            &[&LOCK_SPACE, &key],
                        )
                        .await;
                }
            });
        };
        Ok(Some(Lease::new(
            name.to_owned(),
            token,
            lost,
            Some(Box::new(release)),
        )))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await?;
        Ok(())
    }

    fn changes_elsewhere(&self) -> Option<watch::Receiver<u64>> {
        Some(self.changes.clone())
    }
}
