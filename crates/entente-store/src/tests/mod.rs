//! One suite, run against both backends: every test below runs on SQLite (a temporary file) and
//! on PostgreSQL (a fresh schema on `ENTENTE_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). Without a reachable server the PostgreSQL half
//! skips with a message, except under `CI=true`, where it fails.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use entente_types::NationCode;

use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;
use crate::*;

/// A store under test and what to clean up after it.
struct Harness {
    store: Arc<dyn Store>,
    schema: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    async fn close(self) {
        drop(self.store);
        if let Some((url, schema)) = self.schema {
            if let Err(e) = PostgresStore::drop_schema(&url, &schema).await {
                eprintln!("cannot drop test schema {schema}: {e}");
            }
        }
    }
}

async fn make_sqlite() -> Option<Harness> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("node.db")).unwrap();
    Some(Harness {
        store: Arc::new(store),
        schema: None,
        _dir: Some(dir),
    })
}

async fn make_postgres() -> Option<Harness> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let url = std::env::var("ENTENTE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schema = format!(
        "entente_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    match PostgresStore::connect(&url, &schema).await {
        Ok(store) => Some(Harness {
            store: Arc::new(store),
            schema: Some((url, schema)),
            _dir: None,
        }),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs PostgreSQL at {url}: {e}"
            );
            eprintln!("SKIPPED postgres store test: {url} unreachable: {e}");
            None
        }
    }
}

macro_rules! store_test_suite {
    ($backend:ident, $make:path; $($test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(h) = $make().await {
                        super::$test(&h.store).await;
                        h.close().await;
                    }
                }
            )*
        }
    };
}

macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        store_test_suite!(sqlite, super::make_sqlite; $($test),*);
        store_test_suite!(postgres, super::make_postgres; $($test),*);
    };
}

suite!(
    objects_round_trip_byte_for_byte,
    reposts_are_idempotent,
    versions_filter,
    pages_follow_seq_and_filters,
    deletes_are_soft_and_reposts_revive,
    latest_follows_every_write,
    latest_follows_received_versions,
    date_added_strictly_increases_when_the_clock_goes_back,
    users_and_tokens,
    collections_and_markings,
    concurrent_writers_page_without_gaps,
    statuses_round_trip,
    change_stream_carries_tombstones_in_order,
    received_versions_are_idempotent_and_recalls_stick,
    cursors_round_trip,
    audit_intents_commit_with_what_they_record,
);

const FRA: NationCode = match NationCode::from_bytes(*b"FRA") {
    Some(n) => n,
    None => panic!(),
};
const T0: i64 = 1_700_000_000_000_000;

fn obj(id_n: u32, kind: &str, version: &str) -> NewObject {
    let id = format!("{kind}--00000000-0000-4000-8000-{id_n:012}");
    let json = format!(
        r#"{{"type": "{kind}", "id": "{id}", "spec_version": "2.1", "modified": "{version}", "x_order": [3, 1, 2]}}"#
    );
    NewObject {
        id,
        kind: kind.to_owned(),
        spec_version: "2.1".to_owned(),
        version: version.to_owned(),
        version_key: version.to_owned(),
        originator: FRA,
        json,
    }
}

fn request(n: usize, objects: Vec<NewObject>, now_us: i64) -> AddRequest {
    AddRequest {
        status_id: format!("status-{n}-{now_us}-{}", objects.len()),
        owner: "alice".to_owned(),
        collection: "c1".to_owned(),
        now_us,
        objects,
        failures: Vec::new(),
        ..Default::default()
    }
}

fn all() -> ObjectQuery {
    ObjectQuery {
        limit: 10_000,
        ..ObjectQuery::default()
    }
}

async fn objects_round_trip_byte_for_byte(store: &Arc<dyn Store>) {
    let a = obj(1, "indicator", "2020-01-01T00:00:00.000Z");
    let status = store
        .add_objects(request(1, vec![a.clone()], T0))
        .await
        .unwrap();
    assert_eq!(status.successes.len(), 1);
    assert_eq!(status.successes[0].version, "2020-01-01T00:00:00.000Z");
    let page = store.objects("c1", &all()).await.unwrap();
    assert!(!page.more);
    assert_eq!(page.objects.len(), 1);
    let got = &page.objects[0];
    assert_eq!(got.json, a.json);
    assert_eq!(got.originator, FRA);
    assert_eq!(got.added_us, T0);
    assert_eq!(got.date_added(), "2023-11-14T22:13:20.000000Z");
    assert!(store
        .objects("other", &all())
        .await
        .unwrap()
        .objects
        .is_empty());
}

async fn reposts_are_idempotent(store: &Arc<dyn Store>) {
    let a = obj(1, "indicator", "2020-01-01T00:00:00.000Z");
    store
        .add_objects(request(1, vec![a.clone()], T0))
        .await
        .unwrap();
    let again = store
        .add_objects(request(2, vec![a.clone(), a.clone()], T0 + 10))
        .await
        .unwrap();
    assert_eq!(again.successes.len(), 2);
    let page = store.objects("c1", &all()).await.unwrap();
    assert_eq!(page.objects.len(), 1);
    assert_eq!(
        page.objects[0].added_us, T0,
        "a re-post keeps the first date_added"
    );
    // An object without a version: its version is its (first) date_added.
    let mut sco = obj(9, "ipv4-addr", "");
    sco.version_key.clear();
    let s1 = store
        .add_objects(request(3, vec![sco.clone()], T0 + 20))
        .await
        .unwrap();
    let s2 = store
        .add_objects(request(4, vec![sco], T0 + 30))
        .await
        .unwrap();
    assert_eq!(s1.successes[0].version, s2.successes[0].version);
}

async fn versions_filter(store: &Arc<dyn Store>) {
    let v1 = obj(1, "indicator", "2020-01-01T00:00:00.000000000Z");
    let v2 = obj(1, "indicator", "2021-01-01T00:00:00.000000000Z");
    let v3 = obj(1, "indicator", "2022-01-01T00:00:00.000000000Z");
    // Stored out of order: "last" is by version, not by arrival.
    store
        .add_objects(request(1, vec![v3.clone(), v1.clone(), v2.clone()], T0))
        .await
        .unwrap();
    let versions = |f: VersionFilter| {
        let q = ObjectQuery {
            versions: f,
            ..all()
        };
        async move {
            store
                .objects("c1", &q)
                .await
                .unwrap()
                .objects
                .into_iter()
                .map(|o| o.version)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(versions(VersionFilter::last()).await, [v3.version.as_str()]);
    let first = VersionFilter {
        first: true,
        ..VersionFilter::default()
    };
    assert_eq!(versions(first).await, [v1.version.as_str()]);
    assert_eq!(versions(VersionFilter::all()).await.len(), 3);
    let exact = VersionFilter {
        first: true,
        keys: vec![v2.version_key.clone()],
        ..VersionFilter::default()
    };
    assert_eq!(
        versions(exact).await,
        [v1.version.as_str(), v2.version.as_str()]
    );
    let listed = store.versions("c1", &v1.id).await.unwrap();
    let listed: Vec<_> = listed.iter().map(|o| o.version.as_str()).collect();
    assert_eq!(listed, [&v1.version, &v2.version, &v3.version]);
}

async fn pages_follow_seq_and_filters(store: &Arc<dyn Store>) {
    let objects: Vec<_> = (0..25)
        .map(|i| {
            obj(
                i,
                if i % 2 == 0 { "indicator" } else { "malware" },
                "2020-01-01T00:00:00Z",
            )
        })
        .collect();
    store.add_objects(request(1, objects, T0)).await.unwrap();
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .objects(
                "c1",
                &ObjectQuery {
                    after_seq: after,
                    limit: 10,
                    ..ObjectQuery::default()
                },
            )
            .await
            .unwrap();
        after = page.objects.last().map_or(after, |o| o.seq);
        seen.extend(page.objects.into_iter().map(|o| o.id));
        if !page.more {
            break;
        }
    }
    assert_eq!(seen.len(), 25);
    let q = ObjectQuery {
        kinds: vec!["malware".into()],
        added_after_us: Some(T0 + 4),
        ..all()
    };
    let page = store.objects("c1", &q).await.unwrap();
    // Object i was added at T0 + i: malware with i > 4 are 5, 7, …, 23.
    assert_eq!(page.objects.len(), 10);
    let q = ObjectQuery {
        ids: vec![seen[3].clone(), seen[7].clone()],
        spec_versions: vec!["2.1".into()],
        ..all()
    };
    assert_eq!(store.objects("c1", &q).await.unwrap().objects.len(), 2);
    let q = ObjectQuery {
        spec_versions: vec!["2.0".into()],
        ..all()
    };
    assert!(store.objects("c1", &q).await.unwrap().objects.is_empty());
}

async fn deletes_are_soft_and_reposts_revive(store: &Arc<dyn Store>) {
    let v1 = obj(1, "indicator", "2020-01-01T00:00:00Z");
    let v2 = obj(1, "indicator", "2021-01-01T00:00:00Z");
    store
        .add_objects(request(1, vec![v1.clone(), v2.clone()], T0))
        .await
        .unwrap();
    let n = store
        .delete_versions("c1", &v1.id, std::slice::from_ref(&v2.version_key))
        .await
        .unwrap();
    assert_eq!(n, 1);
    // The older version becomes the last one.
    let page = store.objects("c1", &all()).await.unwrap();
    assert_eq!(page.objects.len(), 1);
    assert_eq!(page.objects[0].version, v1.version);
    assert_eq!(store.versions("c1", &v1.id).await.unwrap().len(), 1);
    assert_eq!(
        store
            .delete_versions("c1", &v1.id, std::slice::from_ref(&v2.version_key))
            .await
            .unwrap(),
        0
    );
    // Posting the deleted version again brings it back, as a new addition.
    store
        .add_objects(request(2, vec![v2.clone()], T0 + 100))
        .await
        .unwrap();
    let page = store.objects("c1", &all()).await.unwrap();
    assert_eq!(page.objects[0].version, v2.version);
    assert_eq!(page.objects[0].added_us, T0 + 100);
}

/// The latest version of each object, after writes in every order: older versions after newer
/// ones, several versions in one request, deletes of the latest and of older versions, revivals.
/// Indicator `n` at the start of `year`.
fn yearly(n: u32, year: u32) -> NewObject {
    obj(n, "indicator", &format!("{year}-01-01T00:00:00Z"))
}

/// How many live versions `c1` holds, latest or not.
async fn live_version_count(store: &Arc<dyn Store>) -> usize {
    store
        .objects(
            "c1",
            &ObjectQuery {
                versions: VersionFilter::all(),
                ..all()
            },
        )
        .await
        .unwrap()
        .objects
        .len()
}

/// The (id, version) of the latest version of each object of `c1`, sorted.
async fn latest_versions(store: &Arc<dyn Store>) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = store
        .objects("c1", &all())
        .await
        .unwrap()
        .objects
        .into_iter()
        .map(|o| (o.id, o.version))
        .collect();
    got.sort();
    got
}

/// The (id, version) of each of `versions`, sorted.
fn expected_versions(versions: impl Iterator<Item = NewObject>) -> Vec<(String, String)> {
    let mut e: Vec<(String, String)> = versions.map(|o| (o.id, o.version)).collect();
    e.sort();
    e
}

/// The latest version of each object as versions arrive from partners, older after newer, the
/// same one twice, and mixed with local writes.
async fn latest_follows_received_versions(store: &Arc<dyn Store>) {
    let v = yearly;
    let received = |objects: Vec<NewObject>| {
        objects
            .into_iter()
            .map(|object| ReceivedObject {
                object,
                sender: FRA,
                binding: Some("{}".into()),
                supersedes: false,
                intent: None,
            })
            .collect::<Vec<_>>()
    };
    let last = || latest_versions(store);
    let expect = |pairs: &[(u32, u32)]| expected_versions(pairs.iter().map(|&(n, y)| v(n, y)));
    let flags = store
        .add_received("c1", T0, received(vec![v(1, 2021), v(1, 2020), v(2, 2020)]))
        .await
        .unwrap();
    assert_eq!(flags, [true, true, true]);
    assert_eq!(last().await, expect(&[(1, 2021), (2, 2020)]));
    store
        .add_received(
            "c1",
            T0 + 10,
            received(vec![v(2, 2022), v(1, 2021), v(1, 2019), v(2, 2023)]),
        )
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(1, 2021), (2, 2023)]));
    // A local write and a received one take the flag from each other.
    store
        .add_objects(request(1, vec![v(1, 2024)], T0 + 20))
        .await
        .unwrap();
    store
        .add_received("c1", T0 + 30, received(vec![v(2, 2021), v(1, 2025)]))
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(1, 2025), (2, 2023)]));
    let live = live_version_count(store).await;
    assert_eq!(live, 9, "every version is kept");
}

async fn latest_follows_every_write(store: &Arc<dyn Store>) {
    let v = yearly;
    let last = || latest_versions(store);
    let expect = |pairs: &[(u32, u32)]| expected_versions(pairs.iter().map(|&(n, y)| v(n, y)));
    store
        .add_objects(request(1, vec![v(1, 2021), v(1, 2020), v(2, 2020)], T0))
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(1, 2021), (2, 2020)]));
    // A newer version, a repost of the latest and an older one in the same request.
    store
        .add_objects(request(
            2,
            vec![v(2, 2022), v(1, 2022), v(1, 2022), v(1, 2019), v(2, 2020)],
            T0 + 10,
        ))
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(1, 2022), (2, 2022)]));
    // Deleting an older version leaves the latest; deleting the latest hands the flag down.
    store
        .delete_versions("c1", &v(1, 0).id, &[v(1, 2020).version_key])
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(1, 2022), (2, 2022)]));
    store
        .delete_versions("c1", &v(1, 0).id, &[v(1, 2022).version_key])
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(1, 2021), (2, 2022)]));
    // Reviving an older version keeps the latest; reviving the newest takes the flag back.
    store
        .add_objects(request(3, vec![v(1, 2020)], T0 + 20))
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(1, 2021), (2, 2022)]));
    store
        .add_objects(request(4, vec![v(1, 2022)], T0 + 30))
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(1, 2022), (2, 2022)]));
    // Every version gone, then one back.
    let keys: Vec<String> = [2019, 2020, 2021, 2022]
        .iter()
        .map(|&y| v(1, y).version_key)
        .collect();
    store
        .delete_versions("c1", &v(1, 0).id, &keys)
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(2, 2022)]));
    store
        .add_objects(request(5, vec![v(1, 2019)], T0 + 40))
        .await
        .unwrap();
    assert_eq!(last().await, expect(&[(1, 2019), (2, 2022)]));
    let live = live_version_count(store).await;
    assert_eq!(live, 3, "1@2019, 2@2020 and 2@2022");
}

async fn date_added_strictly_increases_when_the_clock_goes_back(store: &Arc<dyn Store>) {
    store
        .add_objects(request(
            1,
            vec![obj(1, "indicator", "2020-01-01T00:00:00Z")],
            T0,
        ))
        .await
        .unwrap();
    store
        .add_objects(request(
            2,
            vec![
                obj(2, "indicator", "2020-01-01T00:00:00Z"),
                obj(3, "indicator", "2020-01-01T00:00:00Z"),
            ],
            T0 - 1_000_000,
        ))
        .await
        .unwrap();
    let page = store.objects("c1", &all()).await.unwrap();
    let added: Vec<_> = page.objects.iter().map(|o| o.added_us).collect();
    assert_eq!(added, [T0, T0 + 1, T0 + 2]);
}

async fn users_and_tokens(store: &Arc<dyn Store>) {
    let mut u = User {
        name: "alice".into(),
        nation: FRA,
        clearance_policy: "NATO".into(),
        clearance_level: "SECRET".into(),
        clearance_caveats: vec!["ATOMAL".into()],
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        rights: vec![CollectionRight {
            collection: "c1".into(),
            read: true,
            write: false,
        }],
    };
    store.put_user(&u).await.unwrap();
    assert_eq!(store.user("alice").await.unwrap().as_ref(), Some(&u));
    u.clearance_level = "CONFIDENTIAL".into();
    store.put_user(&u).await.unwrap();
    assert_eq!(store.user("alice").await.unwrap().as_ref(), Some(&u));
    assert!(store.user("bob").await.unwrap().is_none());
    store.add_token("alice", "hash-1").await.unwrap();
    assert_eq!(
        store.user_by_token("hash-1").await.unwrap().as_ref(),
        Some(&u)
    );
    assert!(store.user_by_token("hash-2").await.unwrap().is_none());
    let err = store.add_token("bob", "hash-3").await.unwrap_err();
    assert_eq!(err.code(), entente_types::ErrorCode::NotFound);
}

async fn collections_and_markings(store: &Arc<dyn Store>) {
    let c = CollectionInfo {
        id: "c1".into(),
        title: "Intel".into(),
        description: None,
    };
    store.put_collection(&c).await.unwrap();
    let c2 = CollectionInfo {
        description: Some("shared".into()),
        ..c.clone()
    };
    store.put_collection(&c2).await.unwrap();
    assert_eq!(store.collections().await.unwrap(), [c2]);
    let mut m = obj(5, "marking-definition", "2020-01-01T00:00:00Z");
    m.json = r#"{"type": "marking-definition"}"#.into();
    store
        .add_objects(request(1, vec![m.clone()], T0))
        .await
        .unwrap();
    let got = store.marking(&m.id).await.unwrap().unwrap();
    assert_eq!(got.json, m.json);
    assert!(store
        .marking("marking-definition--00000000-0000-4000-8000-000000000009")
        .await
        .unwrap()
        .is_none());
}

async fn concurrent_writers_page_without_gaps(store: &Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for w in 0..8u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..5u32 {
                let objects = (0..10)
                    .map(|i| obj(w * 1000 + b * 10 + i, "indicator", "2020-01-01T00:00:00Z"))
                    .collect();
                store
                    .add_objects(request((w * 100 + b) as usize, objects, T0))
                    .await
                    .unwrap();
            }
        }));
    }
    // A reader paging while the writers run sees each object once, in increasing seq and date.
    let mut seen = std::collections::BTreeSet::new();
    let mut after = 0;
    let mut last_added = 0;
    let mut rounds = 0;
    while seen.len() < 400 && rounds < 10_000 {
        rounds += 1;
        let page = store
            .objects(
                "c1",
                &ObjectQuery {
                    after_seq: after,
                    limit: 7,
                    ..ObjectQuery::default()
                },
            )
            .await
            .unwrap();
        for o in page.objects {
            assert!(o.seq > after && o.added_us > last_added);
            after = o.seq;
            last_added = o.added_us;
            assert!(seen.insert(o.id), "seen twice");
        }
        if !page.more {
            tokio::task::yield_now().await;
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(seen.len(), 400);
}

async fn statuses_round_trip(store: &Arc<dyn Store>) {
    let mut req = request(1, vec![obj(1, "indicator", "2020-01-01T00:00:00Z")], T0);
    req.failures.push(StatusDetail {
        id: "indicator--bad".into(),
        version: String::new(),
        message: Some("$.created: required property is missing".into()),
    });
    let status = store.add_objects(req.clone()).await.unwrap();
    let got = store.status(&req.status_id).await.unwrap().unwrap();
    assert_eq!(got, status);
    assert_eq!(got.failures, req.failures);
    assert_eq!(got.owner, "alice");
    assert!(store.status("nope").await.unwrap().is_none());
}

async fn change_stream_carries_tombstones_in_order(store: &Arc<dyn Store>) {
    let a = obj(1, "indicator", "2020-01-01T00:00:00.000Z");
    let b = obj(2, "indicator", "2020-01-01T00:00:00.000Z");
    store
        .add_objects(request(1, vec![a.clone(), b.clone()], T0))
        .await
        .unwrap();
    let before = store.changes(0, 100).await.unwrap();
    assert_eq!(before.len(), 2);
    assert!(before.iter().all(|c| !c.deleted && c.collection == "c1"));
    let last = before[1].object.seq;
    store
        .delete_versions("c1", &a.id, std::slice::from_ref(&a.version_key))
        .await
        .unwrap();
    // The delete is a new entry after everything before it; the live version keeps its place.
    let after = store.changes(last, 100).await.unwrap();
    assert_eq!(after.len(), 1);
    assert!(after[0].deleted);
    assert_eq!(after[0].object.id, a.id);
    assert!(after[0].object.seq > last);
    let all_changes = store.changes(0, 100).await.unwrap();
    let ids: Vec<(&str, bool)> = all_changes
        .iter()
        .map(|c| (c.object.id.as_str(), c.deleted))
        .collect();
    assert_eq!(ids, [(b.id.as_str(), false), (a.id.as_str(), true)]);
    assert_eq!(store.changes(0, 1).await.unwrap().len(), 1);
    // A later post still gets a later seq and date than the tombstone.
    let c = obj(3, "indicator", "2020-01-01T00:00:00.000Z");
    store.add_objects(request(2, vec![c], T0)).await.unwrap();
    let tail = store.changes(after[0].object.seq, 100).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert!(tail[0].object.added_us > after[0].object.added_us);
}

async fn received_versions_are_idempotent_and_recalls_stick(store: &Arc<dyn Store>) {
    let usa: NationCode = "USA".parse().unwrap();
    let a = obj(1, "indicator", "2020-01-01T00:00:00.000Z");
    let m = obj(9, "marking-definition", "2020-01-01T00:00:00.000Z");
    let received = vec![
        ReceivedObject {
            object: m.clone(),
            sender: usa,
            binding: None,
            supersedes: false,
            intent: None,
        },
        ReceivedObject {
            object: a.clone(),
            sender: usa,
            binding: Some("{\"sig\":1}".into()),
            supersedes: false,
            intent: None,
        },
    ];
    let flags = store
        .add_received("c1", T0, received.clone())
        .await
        .unwrap();
    assert_eq!(flags, [true, true]);
    assert_eq!(
        store
            .add_received("c1", T0, received.clone())
            .await
            .unwrap(),
        [false, false],
        "a replay stores nothing"
    );
    assert_eq!(store.changes(0, 100).await.unwrap().len(), 2);
    let b = store
        .binding("c1", &a.id, &a.version_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.origin, b.sender), (FRA, usa));
    assert_eq!(b.binding, "{\"sig\":1}");
    assert_eq!(b.recall, None);
    // A fuller copy of the same version, from the origin itself, replaces the held one in place
    // and re-enters the change stream; the version count stays one.
    let mut fuller = a.clone();
    fuller.json = fuller.json.replacen('}', r#", "description": "more"}"#, 1);
    let superseding = ReceivedObject {
        object: fuller.clone(),
        sender: FRA,
        binding: Some("{\"sig\":2}".into()),
        supersedes: true,
        intent: None,
    };
    assert_eq!(
        store
            .add_received("c1", T0, vec![superseding.clone()])
            .await
            .unwrap(),
        [true]
    );
    let held = store.versions("c1", &a.id).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].json, fuller.json);
    let changes = store.changes(0, 100).await.unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[1].object.json, fuller.json,
        "the copy moved to the stream's end"
    );
    let b = store
        .binding("c1", &a.id, &a.version_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (b.origin, b.sender, b.binding.as_str()),
        (FRA, FRA, "{\"sig\":2}")
    );
    assert!(store
        .binding("c1", &m.id, &m.version_key)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .recall_received("c1", &a.id, &a.version_key, "recall", None)
        .await
        .unwrap());
    assert!(!store
        .recall_received("c1", &a.id, &a.version_key, "recall", None)
        .await
        .unwrap());
    let b = store
        .binding("c1", &a.id, &a.version_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.recall.as_deref(), Some("recall"));
    // A replay after the recall does not bring the version back, nor does a fuller copy.
    assert_eq!(
        store.add_received("c1", T0, received).await.unwrap(),
        [false, false]
    );
    assert_eq!(
        store
            .add_received("c1", T0, vec![superseding])
            .await
            .unwrap(),
        [false]
    );
    assert!(store.versions("c1", &a.id).await.unwrap().is_empty());
    let changes = store.changes(0, 100).await.unwrap();
    assert_eq!(changes.len(), 2);
    assert!(changes[1].deleted && changes[1].object.id == a.id);
}

async fn cursors_round_trip(store: &Arc<dyn Store>) {
    assert_eq!(store.cursor("partner/USA").await.unwrap(), None);
    let c = Cursor {
        seq: 42,
        fingerprint: "abc".into(),
    };
    store.set_cursor("partner/USA", &c).await.unwrap();
    assert_eq!(store.cursor("partner/USA").await.unwrap(), Some(c));
    let d = Cursor {
        seq: 7,
        fingerprint: "def".into(),
    };
    store.set_cursor("partner/USA", &d).await.unwrap();
    assert_eq!(store.cursor("partner/USA").await.unwrap(), Some(d));
}

async fn audit_intents_commit_with_what_they_record(store: &Arc<dyn Store>) {
    let usa: NationCode = "USA".parse().unwrap();
    let received = |o: &NewObject, intent: &str| ReceivedObject {
        object: o.clone(),
        sender: usa,
        binding: Some("{\"sig\":1}".into()),
        supersedes: false,
        intent: Some(intent.into()),
    };
    let (a, b) = (
        obj(1, "indicator", "2020-01-01T00:00:00.000Z"),
        obj(2, "indicator", "2020-01-01T00:00:00.000Z"),
    );
    assert!(store.audit_intents(10).await.unwrap().is_empty());
    store
        .add_received("c1", T0, vec![received(&a, "receive a")])
        .await
        .unwrap();
    // Only what is stored now leaves an intent: `a` is held already, a replay adds nothing.
    let flags = store
        .add_received(
            "c1",
            T0,
            vec![received(&a, "receive a again"), received(&b, "receive b")],
        )
        .await
        .unwrap();
    assert_eq!(flags, [false, true]);
    assert!(store
        .recall_received("c1", &a.id, &a.version_key, "recall", Some("recall a"))
        .await
        .unwrap());
    assert!(!store
        .recall_received(
            "c1",
            &a.id,
            &a.version_key,
            "recall",
            Some("recall a again")
        )
        .await
        .unwrap());
    let cursor = Cursor {
        seq: 9,
        fingerprint: "f".into(),
    };
    store
        .set_cursor_with_intents(
            "partner/USA",
            &cursor,
            vec!["release 1".into(), "release 2".into()],
        )
        .await
        .unwrap();
    assert_eq!(store.cursor("partner/USA").await.unwrap(), Some(cursor));
    let intents = store.audit_intents(10).await.unwrap();
    let events: Vec<&str> = intents.iter().map(|i| i.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "receive a",
            "receive b",
            "recall a",
            "release 1",
            "release 2"
        ]
    );
    assert!(intents.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(store.audit_intents(2).await.unwrap(), intents[..2]);
    // Cleared up to a position, then all: a later intent still gets a position never given.
    assert_eq!(store.clear_audit_intents(intents[1].seq).await.unwrap(), 2);
    assert_eq!(store.audit_intents(10).await.unwrap(), intents[2..]);
    assert_eq!(store.clear_audit_intents(intents[4].seq).await.unwrap(), 3);
    assert!(store.audit_intents(10).await.unwrap().is_empty());
    store
        .set_cursor_with_intents(
            "partner/USA",
            &Cursor {
                seq: 10,
                fingerprint: "f".into(),
            },
            vec!["release 3".into()],
        )
        .await
        .unwrap();
    let after = store.audit_intents(10).await.unwrap();
    assert_eq!(after.len(), 1);
    assert!(after[0].seq > intents[4].seq, "{after:?} after {intents:?}");
    // A cursor moved without intents keeps none.
    store
        .set_cursor(
            "partner/USA",
            &Cursor {
                seq: 11,
                fingerprint: "f".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(store.audit_intents(10).await.unwrap(), after);
}

/// A database written before `objects.latest` existed is given the column, filled in, on open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_without_the_latest_flag_gets_it_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    let (v1, v2, other) = (
        obj(1, "indicator", "2020-01-01T00:00:00Z"),
        obj(1, "indicator", "2021-01-01T00:00:00Z"),
        obj(2, "indicator", "2020-01-01T00:00:00Z"),
    );
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        // The objects table as the previous schema created it.
        conn.execute_batch(
            "CREATE TABLE objects (
                collection TEXT NOT NULL, id TEXT NOT NULL, version_key TEXT NOT NULL,
                seq BIGINT NOT NULL UNIQUE, added_us BIGINT NOT NULL, kind TEXT NOT NULL,
                spec_version TEXT NOT NULL, version TEXT NOT NULL, originator TEXT NOT NULL,
                deleted BIGINT NOT NULL DEFAULT 0, json TEXT NOT NULL,
                PRIMARY KEY (collection, id, version_key))",
        )
        .unwrap();
        for (seq, (o, deleted)) in [(&v2, 0), (&v1, 0), (&other, 1)].into_iter().enumerate() {
            conn.execute(
                "INSERT INTO objects VALUES ('c1', ?1, ?2, ?3, ?3, ?4, ?5, ?6, 'FRA', ?7, ?8)",
                rusqlite::params![
                    o.id,
                    o.version_key,
                    seq as i64 + 1,
                    o.kind,
                    o.spec_version,
                    o.version,
                    deleted,
                    o.json
                ],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    let page = store.objects("c1", &all()).await.unwrap();
    let versions: Vec<_> = page.objects.iter().map(|o| o.version.as_str()).collect();
    // The newest live version of each object; the deleted one is not there.
    assert_eq!(versions, [v2.version.as_str()]);
    // Writes after the migration keep the flag.
    store
        .delete_versions("c1", &v1.id, std::slice::from_ref(&v2.version_key))
        .await
        .unwrap();
    let page = store.objects("c1", &all()).await.unwrap();
    assert_eq!(page.objects.len(), 1);
    assert_eq!(page.objects[0].version, v1.version);
}

/// Several node processes over one PostgreSQL database (each `PostgresStore` stands for one
/// process: its own pool, notification and lease connections), and schema versions.
mod processes;
