//! Several node processes over one PostgreSQL database: each `PostgresStore` here stands for one
//! process (its own pool, notification connection and lease connection). And schema versions on
//! both backends: a database of the release before versions were recorded is upgraded and
//! served; a newer one is refused.

use std::time::Duration;

use super::*;
use crate::postgres::PgSettings;

fn url() -> String {
    std::env::var("ENTENTE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh schema name, or `None` (after saying so) when no server answers outside CI.
async fn fresh_schema() -> Option<String> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let schema = format!(
        "entente_proc_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    match admin().await {
        Ok(_) => Some(schema),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs PostgreSQL at {}: {e}",
                url()
            );
            eprintln!("SKIPPED postgres process test: {} unreachable: {e}", url());
            None
        }
    }
}

/// A plain connection, as an operator's `psql` would be.
async fn admin() -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

async fn process(schema: &str) -> PostgresStore {
    let mut settings = PgSettings::new(url(), schema);
    settings.pool_size = 4;
    settings.connect_timeout = Duration::from_secs(2);
    PostgresStore::open(&settings).await.unwrap()
}

async fn drop_schema(schema: &str) {
    PostgresStore::drop_schema(&url(), schema).await.unwrap();
}

/// Polls `ok` every 20 ms until it holds; panics after `within`.
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    within: Duration,
    mut ok: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + within;
    while !ok().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Terminates the server side of the connections whose current or last query matches `like`
/// (as a restart or a cut link would end them); returns how many.
async fn terminate(schema: &str, like: &str) -> i64 {
    let admin = admin().await.unwrap();
    admin
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = $1 AND query LIKE $2 AND pid <> pg_backend_pid()",
            &[&crate::postgres::application_name(schema), &like],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_holds_a_lease_and_another_takes_it_over_when_it_is_let_go() {
    let Some(schema) = fresh_schema().await else {
        return;
    };
    let a = process(&schema).await;
    let b = process(&schema).await;
    let first = a.try_lease("dispatch/EST", "a").await.unwrap().unwrap();
    assert!(b.try_lease("dispatch/EST", "b").await.unwrap().is_none());
    // Another partner's lease is independent.
    let other = b.try_lease("dispatch/LTU", "b").await.unwrap().unwrap();
    let token = first.token();
    drop(first);
    let taken = take_within(&b, "dispatch/EST", Duration::from_secs(5)).await;
    assert!(taken.token() > token, "fencing tokens grow");
    assert!(!taken.is_lost() && !other.is_lost());
    drop((taken, other, a, b));
    drop_schema(&schema).await;
}

/// Asks for a lease every 20 ms until it is had; panics after `within`.
async fn take_within(store: &PostgresStore, name: &str, within: Duration) -> Lease {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(lease) = store.try_lease(name, "b").await.unwrap() {
            return lease;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "lease {name} not taken within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_dies_with_its_connection_and_the_old_holder_is_fenced_off() {
    let Some(schema) = fresh_schema().await else {
        return;
    };
    let a = process(&schema).await;
    let b = process(&schema).await;
    let old = a.try_lease("dispatch/EST", "a").await.unwrap().unwrap();
    let cursor = |seq| Cursor {
        seq,
        fingerprint: "f".into(),
    };
    a.set_cursor_fenced("federation/partner/EST", &cursor(5), Vec::new(), &old)
        .await
        .unwrap();
    // The lease connection's last statement took the lease.
    assert!(terminate(&schema, "%leases%").await >= 1);
    tokio::time::timeout(Duration::from_secs(5), old.lost())
        .await
        .expect("the holder learns that its lease is lost");
    let new = take_within(&b, "dispatch/EST", Duration::from_secs(5)).await;
    // The old holder, unaware, tries to move the cursor its successor now owns.
    let e = a
        .set_cursor_fenced("federation/partner/EST", &cursor(9), Vec::new(), &old)
        .await
        .unwrap_err();
    assert!(matches!(e.kind(), StoreErrorKind::Fenced(_)), "{e}");
    b.set_cursor_fenced(
        "federation/partner/EST",
        &cursor(7),
        vec!["{}".into()],
        &new,
    )
    .await
    .unwrap();
    assert_eq!(
        a.cursor("federation/partner/EST")
            .await
            .unwrap()
            .unwrap()
            .seq,
        7
    );
    assert_eq!(b.audit_intents(10).await.unwrap().len(), 1);
    drop((old, new, a, b));
    drop_schema(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_in_one_process_is_heard_by_the_others_at_once() {
    let Some(schema) = fresh_schema().await else {
        return;
    };
    let a = process(&schema).await;
    let b = process(&schema).await;
    eventually("b listens", Duration::from_secs(5), || async {
        b.listening()
    })
    .await;
    let mut heard = b.changes_elsewhere().unwrap();
    heard.borrow_and_update();
    let started = std::time::Instant::now();
    a.add_objects(request(
        1,
        vec![obj(1, "indicator", "2024-01-01T00:00:00.000Z")],
        T0,
    ))
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(1), heard.changed())
        .await
        .expect("heard within a second")
        .unwrap();
    eprintln!("heard after {:?}", started.elapsed());
    let page = b.objects("c1", &all()).await.unwrap();
    assert_eq!(page.objects.len(), 1);
    drop((a, b));
    drop_schema(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_connections_come_back_and_a_deaf_process_polls_meanwhile() {
    let Some(schema) = fresh_schema().await else {
        return;
    };
    let a = process(&schema).await;
    eventually("a listens", Duration::from_secs(5), || async {
        a.listening()
    })
    .await;
    a.ping().await.unwrap();
    let mut heard = a.changes_elsewhere().unwrap();
    heard.borrow_and_update();
    // Every connection of the process, as a server restart would.
    assert!(terminate(&schema, "%").await >= 2);
    eventually("a notices it is deaf", Duration::from_secs(5), || async {
        !a.listening()
    })
    .await;
    // While deaf, the store still signals (a poll), so nothing waits on a notification.
    tokio::time::timeout(Duration::from_secs(3), heard.changed())
        .await
        .expect("a tick while deaf")
        .unwrap();
    // The pool drops broken connections and opens new ones; the first request may fail.
    eventually(
        "the pool answers again",
        Duration::from_secs(10),
        || async { a.ping().await.is_ok() },
    )
    .await;
    eventually("a listens again", Duration::from_secs(10), || async {
        a.listening()
    })
    .await;
    a.add_objects(request(
        2,
        vec![obj(2, "indicator", "2024-01-01T00:00:00.000Z")],
        T0,
    ))
    .await
    .unwrap();
    assert_eq!(a.objects("c1", &all()).await.unwrap().objects.len(), 1);
    drop(a);
    drop_schema(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_a_newer_schema_is_refused() {
    let Some(schema) = fresh_schema().await else {
        return;
    };
    drop(process(&schema).await);
    admin()
        .await
        .unwrap()
        .execute(
            &format!(
                "INSERT INTO {schema}.schema_migrations (version, name, applied_us) VALUES ($1, 'from the future', 0)"
            ),
            &[&(SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
    let e = PostgresStore::open(&PgSettings::new(url(), &schema))
        .await
        .err()
        .expect("refused");
    assert!(e.to_string().contains("newer than this build knows"), "{e}");
    drop_schema(&schema).await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_us) VALUES (?1, 'from the future', 0)",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
    let e = SqliteStore::open(&path).err().expect("refused");
    assert!(e.to_string().contains("newer than this build knows"), "{e}");
}

/// The schema of the release before versions were recorded and before `objects.latest`
/// existed, with two versions of one object and a deleted one: what such a node left behind.
const PREVIOUS_RELEASE: &[&str] = &[
    "CREATE TABLE clock (one BIGINT PRIMARY KEY CHECK (one = 1), seq BIGINT NOT NULL, added_us BIGINT NOT NULL)",
    "INSERT INTO clock (one, seq, added_us) VALUES (1, 3, 1700000000000003)",
    "CREATE TABLE objects (collection TEXT NOT NULL, id TEXT NOT NULL, version_key TEXT NOT NULL,
        seq BIGINT NOT NULL UNIQUE, added_us BIGINT NOT NULL, kind TEXT NOT NULL,
        spec_version TEXT NOT NULL, version TEXT NOT NULL, originator TEXT NOT NULL,
        deleted BIGINT NOT NULL DEFAULT 0, json TEXT NOT NULL,
        PRIMARY KEY (collection, id, version_key))",
    "CREATE INDEX objects_by_seq ON objects (collection, seq)",
    "INSERT INTO objects VALUES ('c1', 'indicator--00000000-0000-4000-8000-000000000001', '2024-01-01T00:00:00.000Z', 1, 1700000000000001, 'indicator', '2.1', '2024-01-01T00:00:00.000Z', 'FRA', 0, '{\"type\": \"indicator\", \"id\": \"indicator--00000000-0000-4000-8000-000000000001\", \"modified\": \"2024-01-01T00:00:00.000Z\"}')",
    "INSERT INTO objects VALUES ('c1', 'indicator--00000000-0000-4000-8000-000000000001', '2024-02-01T00:00:00.000Z', 2, 1700000000000002, 'indicator', '2.1', '2024-02-01T00:00:00.000Z', 'FRA', 0, '{\"type\": \"indicator\", \"id\": \"indicator--00000000-0000-4000-8000-000000000001\", \"modified\": \"2024-02-01T00:00:00.000Z\"}')",
    "INSERT INTO objects VALUES ('c1', 'indicator--00000000-0000-4000-8000-000000000002', '2024-01-01T00:00:00.000Z', 3, 1700000000000003, 'indicator', '2.1', '2024-01-01T00:00:00.000Z', 'FRA', 1, '{\"type\": \"indicator\", \"id\": \"indicator--00000000-0000-4000-8000-000000000002\"}')",
    "CREATE TABLE collections (id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT)",
    "INSERT INTO collections VALUES ('c1', 'Intelligence', NULL)",
];

/// What a node of the previous release left is served after the upgrade: the latest version of
/// the live object, nothing of the deleted one, and new writes continue its sequence.
async fn upgraded_database_is_served(store: &dyn Store) {
    let query = ObjectQuery {
        limit: 100,
        ..ObjectQuery::default()
    };
    let page = store.objects("c1", &query).await.unwrap();
    let versions: Vec<_> = page
        .objects
        .iter()
        .map(|o| (o.id.as_str(), o.version.as_str()))
        .collect();
    assert_eq!(
        versions,
        [(
            "indicator--00000000-0000-4000-8000-000000000001",
            "2024-02-01T00:00:00.000Z"
        )]
    );
    assert_eq!(store.collections().await.unwrap().len(), 1);
    store
        .add_objects(request(
            9,
            vec![obj(5, "indicator", "2024-03-01T00:00:00.000Z")],
            T0,
        ))
        .await
        .unwrap();
    let changes = store.changes(0, 100).await.unwrap();
    assert_eq!(
        changes.iter().map(|c| c.object.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_the_previous_release_is_upgraded_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for statement in PREVIOUS_RELEASE {
            conn.execute(statement, []).unwrap();
        }
    }
    let sqlite = SqliteStore::open(&path).unwrap();
    upgraded_database_is_served(&sqlite).await;
    drop(sqlite);
    let versions: Vec<i64> = rusqlite::Connection::open(&path)
        .unwrap()
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());

    let Some(schema) = fresh_schema().await else {
        return;
    };
    let admin = admin().await.unwrap();
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema}"
        ))
        .await
        .unwrap();
    for statement in PREVIOUS_RELEASE {
        admin.batch_execute(statement).await.unwrap();
    }
    // Three processes of the new release start at once on it: one migrates, the others wait
    // for it and find nothing to do.
    let (a, b, c) = tokio::join!(process(&schema), process(&schema), process(&schema));
    upgraded_database_is_served(&b).await;
    let recorded: i64 = admin
        .query_one(
            &format!("SELECT COUNT(*) FROM {schema}.schema_migrations"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, SCHEMA_VERSION, "each version recorded once");
    drop((a, b, c));
    drop_schema(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freshly_filled_table_is_analysed_and_paged_by_an_index_walk() {
    let Some(schema) = fresh_schema().await else {
        return;
    };
    let store = process(&schema).await;
    for batch in 0..10u32 {
        let objects = (0..500)
            .map(|i| obj(batch * 500 + i, "indicator", "2024-01-01T00:00:00.000Z"))
            .collect();
        store
            .add_objects(request(batch as usize, objects, T0 + i64::from(batch)))
            .await
            .unwrap();
    }
    let admin = admin().await.unwrap();
    // Long before autovacuum would (it wakes once a minute and waits for a fifth of the table).
    let started = std::time::Instant::now();
    eventually("objects analysed", Duration::from_secs(10), || async {
        let row = admin
            .query_opt(
                "SELECT n_live_tup FROM pg_stat_user_tables
                 WHERE schemaname = $1 AND relname = 'objects' AND last_analyze IS NOT NULL",
                &[&schema],
            )
            .await
            .unwrap();
        row.is_some_and(|r| r.get::<_, i64>(0) >= 4_000)
    })
    .await;
    eprintln!("analysed after {:?}", started.elapsed());
    let (sql, _) = crate::sql::objects_query(
        "c1",
        &ObjectQuery {
            after_seq: 2_000,
            limit: 100,
            versions: crate::VersionFilter::last(),
            ..all()
        },
    );
    let explain = format!(
        "SET search_path TO {schema}; PREPARE page(text, bigint, bigint) AS {}",
        crate::sql::to_postgres(&sql)
    );
    admin.batch_execute(&explain).await.unwrap();
    let plan: Vec<String> = admin
        .query("EXPLAIN EXECUTE page('c1', 2000, 101)", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains("Index Scan") && !plan.contains("Sort"),
        "the page query is not an index walk:\n{plan}"
    );
    drop(store);
    drop_schema(&schema).await;
}
