//! Crisis rooms across real nodes: a room opened at one participant's node ends with exactly the
//! room's objects at every participant's node, and nothing of it (not even its collection)
//! reaches a node outside; a node that was down catches up; a nation whose membership ends
//! receives nothing more and keeps what it was released, and one that accedes receives the
//! room's history.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use entente_crisis::{OpenRequest, Room};
use entente_policy::ReleasePolicy;
use entente_registry::Registry;
use entente_store::{CollectionRight, User};
use entente_types::NationCode;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use crate::harness::*;

/// A user of `nation`'s node who may open rooms and publish in them, cleared to `clearance`
/// (`NATO SECRET`, `EU SECRET UE/EU SECRET`…).
fn officer(nation: NationCode, policy: &str, level: &str) -> User {
    User {
        name: format!("{}-crisis-officer", nation.as_str().to_lowercase()),
        nation,
        clearance_policy: policy.into(),
        clearance_level: level.into(),
        clearance_caveats: Vec::new(),
        password_hash: None,
        rights: vec![CollectionRight {
            collection: "crisis-*".into(),
            read: true,
            write: true,
        }],
    }
}

/// A NATO SECRET crisis officer of `nation`.
fn officer_of(nation: NationCode) -> User {
    officer(nation, "NATO", "SECRET")
}

/// A note, unlabelled: it gets the room's label at ingest.
fn note(origin: NationCode, n: usize) -> serde_json::Value {
    json!({
        "type": "note",
        "spec_version": "2.1",
        "id": format!("note--{}", uuid::Uuid::new_v4()),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "content": format!("situation report {n} from {origin}"),
        "object_refs": ["identity--11111111-2222-4333-8444-555555555555"],
    })
}

/// Who officers of a room's label are: its policy and level.
fn clearance(room: &Room) -> (String, String) {
    let policies =
        entente_labels::PolicySet::load(&entente_node::shipped_data().join("policies")).unwrap();
    let label = entente_labels::parse_marking(&policies, &room.label).unwrap();
    (label.policy().to_owned(), label.classification().to_owned())
}

async fn publish_in(member: &Member, room: &Room, n: usize) -> String {
    let (policy, level) = clearance(room);
    let o = note(member.nation, n);
    let status = member
        .node
        .post_envelope(
            &officer(member.nation, &policy, &level),
            &room.collection,
            json!({ "objects": [o.clone()] }).to_string().as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status.failures.len(), 0, "{:?}", status.failures);
    o["id"].as_str().unwrap().to_owned()
}

/// The ids of information objects a node holds in `collection` (markings and extension
/// definitions aside); `None` when the node has no such collection.
async fn room_ids(member: &Member, collection: &str) -> Option<BTreeSet<String>> {
    let store = member.node.store();
    if !store
        .collections()
        .await
        .unwrap()
        .iter()
        .any(|c| c.id == collection)
    {
        return None;
    }
    let page = store
        .objects(
            collection,
            &entente_store::ObjectQuery {
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    Some(
        page.objects
            .into_iter()
            .filter(|o| o.kind != "marking-definition" && o.kind != "extension-definition")
            .map(|o| o.id)
            .collect(),
    )
}

/// Whether a node holds anything of any crisis room, anywhere in its change stream.
async fn knows_of_room(member: &Member, room: &Room) -> bool {
    let changes = member.node.store().changes(0, 1_000_000).await.unwrap();
    changes
        .iter()
        .any(|c| c.collection == room.collection || c.object.id == room.id)
        || member.node.room(&room.collection).is_some()
}

/// Waits until each of `expected`'s nodes holds exactly its set in the room; then checks that
/// the others know nothing of the room.
async fn converge(
    mesh: &Mesh,
    room: &Room,
    expected: &BTreeMap<NationCode, BTreeSet<String>>,
    limit: Duration,
) {
    let start = Instant::now();
    loop {
        let mut done = true;
        for (n, want) in expected {
            let held = room_ids(&mesh.members[n], &room.collection).await;
            if held.as_ref() != Some(want) {
                if let Some(h) = &held {
                    assert!(
                        h.is_subset(want),
                        "{n} holds what is not the room's: {:?}",
                        h.difference(want).collect::<Vec<_>>()
                    );
                }
                done = false;
                if start.elapsed() > limit {
                    panic!("{n} did not converge in {limit:?}: holds {held:?}, want {want:?}");
                }
            }
        }
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if mesh_is_symmetric(mesh) {
        settled(mesh, Duration::from_secs(30)).await;
    } else {
        // A node that lists a partner not listing it back retries for ever: nothing settles,
        // so the nodes are given time to pass on anything they still would.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    for (n, m) in &mesh.members {
        if !expected.contains_key(n) {
            assert!(
                !knows_of_room(m, room).await,
                "{n} is not a participant but learned of room {}",
                room.id
            );
        }
    }
}

/// Whether every partner link is listed at both ends.
fn mesh_is_symmetric(mesh: &Mesh) -> bool {
    mesh.members.iter().all(|(a, m)| {
        m.fed.config().partners.iter().all(|p| {
            mesh.members
                .get(&p.nation)
                .is_some_and(|o| o.fed.config().partners.iter().any(|q| q.nation == *a))
        })
    })
}

/// An Article 4 consultation requested by Poland today.
fn art4_requested_by_pol() -> OpenRequest {
    OpenRequest {
        clause: "nato-art-4".into(),
        requested_by: vec![nation("POL")],
        as_of: today(),
        title: None,
        label: None,
    }
}

fn today() -> entente_types::Date {
    chrono::Utc::now().date_naive()
}

const POOL: [&str; 7] = ["FRA", "DEU", "POL", "EST", "SWE", "USA", "JPN"];
const CLAUSES: [&str; 4] = ["nato-art-4", "nato-art-5", "eu-art-42-7", "aachen-art-4"];

#[derive(Debug, Clone)]
struct Case {
    nations: Vec<&'static str>,
    clause: &'static str,
    /// Indexes into the participants present (opener, requester), reduced modulo their number.
    opener: usize,
    requester: usize,
    /// Notes each node publishes in the room.
    notes: Vec<usize>,
    /// The opener does not list one other participant as a partner: the room reaches it
    /// through a third.
    relay: bool,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        proptest::sample::subsequence(POOL.to_vec(), 3..=5),
        proptest::sample::select(CLAUSES.to_vec()),
        0..8usize,
        0..8usize,
        proptest::collection::vec(0..3usize, 5),
        any::<bool>(),
    )
        .prop_map(|(nations, clause, opener, requester, notes, relay)| Case {
            nations,
            clause,
            opener,
            requester,
            notes,
            relay,
        })
}

#[test]
fn every_participant_ends_with_exactly_the_rooms_objects_and_no_one_else_learns_of_it() {
    let registry = Registry::load(&entente_node::shipped_data().join("registry")).unwrap();
    let count = if std::env::var("ENTENTE_CRISIS_CASES").is_ok() {
        24
    } else {
        6
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: count,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&cases(), |case| {
            runtime.block_on(run_case(&registry, &case));
            Ok(())
        })
        .unwrap();
}

async fn run_case(registry: &Registry, case: &Case) {
    let (agreement, clause) = registry.clause(case.clause).unwrap();
    let day = today();
    let nations: Vec<NationCode> = case.nations.iter().map(|c| nation(c)).collect();
    let all = registry.participants(agreement, clause, &[], day);
    let in_room: Vec<NationCode> = match &all {
        Ok(p) => p.nations().filter(|n| nations.contains(n)).collect(),
        Err(_) => Vec::new(),
    };
    if in_room.is_empty() {
        return;
    }
    let opener = in_room[case.opener % in_room.len()];
    let requester = in_room[case.requester % in_room.len()];
    let mut links = BTreeSet::new();
    for a in &nations {
        for b in nations.iter().filter(|b| *b != a) {
            links.insert((*a, *b));
        }
    }
    let relayed = (case.relay && in_room.len() >= 3)
        .then(|| *in_room.iter().find(|n| **n != opener).unwrap());
    if let Some(x) = relayed {
        links.remove(&(opener, x));
    }
    let mesh = Mesh::with_links(&nations, &links).await;
    let request = OpenRequest {
        clause: case.clause.into(),
        requested_by: vec![requester],
        as_of: day,
        title: None,
        label: None,
    };
    let probe = entente_crisis::plan(
        registry,
        mesh.members[&opener].node.release_policy(),
        &request,
        opener,
        "00000000-0000-4000-8000-000000000000",
        "2026-01-01T00:00:00.000Z",
    )
    .unwrap();
    let (policy, level) = clearance(&probe.0);
    let room = mesh.members[&opener]
        .node
        .open_room(&officer(opener, &policy, &level), &request)
        .await
        .unwrap();
    let mut ids: BTreeSet<String> = [room.id.clone()].into();
    // The opener publishes first; the others once the room has reached them.
    let mut publishers = vec![opener];
    publishers.extend(in_room.iter().filter(|n| **n != opener));
    for (i, n) in publishers.iter().enumerate() {
        // Nothing of the relayed node reaches the opener, which does not know it.
        if Some(*n) == relayed {
            continue;
        }
        let m = &mesh.members[n];
        let start = Instant::now();
        while m.node.room(&room.collection).is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{n} never learned of the room"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for k in 0..case.notes[i % case.notes.len()] {
            ids.insert(publish_in(m, &room, k).await);
        }
    }
    let expected = in_room.iter().map(|n| (*n, ids.clone())).collect();
    converge(&mesh, &room, &expected, Duration::from_secs(60)).await;
    // The federation's own check: what a participant's officer reads of the room is what the
    // node holds, and a non-participant's officer sees no room at all.
    for (n, m) in &mesh.members {
        let rooms = m
            .node
            .rooms_for(&officer(*n, &policy, &level), day)
            .await
            .unwrap();
        assert_eq!(rooms.len(), usize::from(in_room.contains(n)), "{n}");
    }
    mesh.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_down_when_the_room_opens_catches_up_when_it_returns() {
    let mut mesh = Mesh::full(&["POL", "EST", "FRA", "JPN"]).await;
    let est = mesh.get("EST");
    let (dir, text, addr) = (est.dir.clone(), est.config_text.clone(), est.fed_addr);
    mesh.stop("EST").await;
    let request = OpenRequest {
        clause: "nato-art-4".into(),
        requested_by: vec![nation("POL"), nation("EST")],
        as_of: today(),
        title: Some("Airspace violations over the Baltic".into()),
        label: None,
    };
    let pol = mesh.get("POL");
    let room = pol
        .node
        .open_room(&officer(nation("POL"), "NATO", "SECRET"), &request)
        .await
        .unwrap();
    assert_eq!(room.label, "NATO SECRET");
    let first = publish_in(mesh.get("POL"), &room, 1).await;
    mesh.restart("EST", &dir, text, addr).await;
    let want: BTreeSet<String> = [room.id.clone(), first].into();
    let expected: BTreeMap<_, _> = ["POL", "EST", "FRA"]
        .iter()
        .map(|n| (nation(n), want.clone()))
        .collect();
    converge(&mesh, &room, &expected, Duration::from_secs(60)).await;
    // EST's analysts publish into the room it learned of on its return.
    let from_est = publish_in(mesh.get("EST"), &room, 2).await;
    let want: BTreeSet<String> = want.into_iter().chain([from_est]).collect();
    let expected = expected.keys().map(|n| (*n, want.clone())).collect();
    converge(&mesh, &room, &expected, Duration::from_secs(60)).await;
    mesh.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_whose_labels_would_leave_the_room_are_refused_and_a_closed_room_takes_nothing() {
    let mesh = Mesh::full(&["POL", "EST", "JPN"]).await;
    let pol = mesh.get("POL");
    let officer = officer(nation("POL"), "NATO", "SECRET");
    let room = pol
        .node
        .open_room(&officer, &art4_requested_by_pol())
        .await
        .unwrap();
    let wide = mesh.marking("NATO CONFIDENTIAL//REL TO NATO, JPN");
    let mut o = note(nation("POL"), 1);
    o["object_marking_refs"] = json!([wide["id"]]);
    let status = pol
        .node
        .post_envelope(
            &officer,
            &room.collection,
            json!({ "objects": [wide, o] }).to_string().as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status.failures.len(), 1, "{status:?}");
    let why = status.failures[0].message.clone().unwrap_or_default();
    assert!(
        why.contains("JPN") && why.contains("not in the crisis room"),
        "{why}"
    );
    // A descriptor is the node's to write, not a client's.
    let forged = room.to_stix("marking-definition--00000000-0000-4000-8000-000000000000");
    let status = pol
        .node
        .post_envelope(
            &officer,
            &room.collection,
            json!({ "objects": [forged] }).to_string().as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status.failures.len(), 1, "{status:?}");
    // Only the opening node closes a room: EST's officer, in the room, may not.
    let est = mesh.get("EST");
    let start = Instant::now();
    while est.node.room(&room.collection).is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "EST never learned of the room"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let e = est
        .node
        .close_room(&officer_of(nation("EST")), room.uuid())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("only its node closes it"), "{e}");
    let closed = pol.node.close_room(&officer, room.uuid()).await.unwrap();
    assert!(!closed.is_open());
    let e = pol
        .node
        .post_envelope(
            &officer,
            &room.collection,
            json!({ "objects": [note(nation("POL"), 2)] })
                .to_string()
                .as_bytes(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("closed"), "{e}");
    // The closing reaches EST, whose node freezes the room too.
    let est = mesh.get("EST");
    let start = Instant::now();
    while est
        .node
        .room(&room.collection)
        .is_none_or(|r| r.room.is_open())
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "EST never saw the room closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(mesh.get("JPN").node.room(&room.collection).is_none());
    mesh.stop_all().await;
}

/// A copy of the shipped data whose NATO membership of `nation` is replaced by `membership`
/// (the inside of its inline table after the nation).
fn data_with(root: &Path, nation: &str, membership: &str) -> std::path::PathBuf {
    let shipped = entente_node::shipped_data();
    let dir = root.join(format!("data-{}", uuid::Uuid::new_v4()));
    for sub in ["registry", "policies"] {
        copy_dir(&shipped.join(sub), &dir.join(sub));
    }
    let nato = dir.join("registry/organizations/nato.toml");
    let text = std::fs::read_to_string(&nato).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains(&format!("nation = \"{nation}\"")))
        .unwrap()
        .to_owned();
    let edited = format!("  {{ nation = \"{nation}\", {membership} }},");
    std::fs::write(&nato, text.replace(&line, &edited)).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Restarts every member on the policy data in `data`.
async fn restart_on(mesh: &mut Mesh, data: &Path) {
    let members: Vec<(String, std::path::PathBuf, String, std::net::SocketAddr)> = mesh
        .members
        .values()
        .map(|m| {
            let mut text = m.config_text.clone();
            let current = text
                .lines()
                .find(|l| l.starts_with("policy_data"))
                .unwrap()
                .to_owned();
            text = text.replace(
                &current,
                &format!("policy_data = {:?}", data.display().to_string()),
            );
            (m.nation.to_string(), m.dir.clone(), text, m.fed_addr)
        })
        .collect();
    for (code, ..) in &members {
        mesh.stop(code).await;
    }
    for (code, dir, text, addr) in members {
        mesh.restart(&code, &dir, text, addr).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_departing_nation_receives_nothing_more_and_an_acceding_one_receives_the_history() {
    let root = tempfile::tempdir().unwrap();
    let yesterday = (today() - chrono::Days::new(1)).to_string();
    // SWE, an ally until yesterday in this registry; FIN, not yet one.
    let mut mesh = Mesh::full(&["POL", "SWE", "FIN", "JPN"]).await;
    let first = data_with(root.path(), "FIN", "from = \"2099-01-01\", source = \"N7\"");
    restart_on(&mut mesh, &first).await;
    let policy = ReleasePolicy::new(
        &Registry::load(&first.join("registry")).unwrap(),
        entente_labels::PolicySet::load(&first.join("policies")).unwrap(),
    );
    assert!(
        policy
            .decide(
                &entente_labels::parse_marking(policy.policies(), "NATO SECRET").unwrap(),
                nation("POL"),
                nation("FIN"),
                today()
            )
            .verdict
            == entente_policy::Verdict::Deny
    );
    let pol_officer = officer(nation("POL"), "NATO", "SECRET");
    let room = mesh
        .get("POL")
        .node
        .open_room(&pol_officer, &art4_requested_by_pol())
        .await
        .unwrap();
    let a = publish_in(mesh.get("POL"), &room, 1).await;
    let before: BTreeSet<String> = [room.id.clone(), a.clone()].into();
    let expected: BTreeMap<_, _> = ["POL", "SWE"]
        .iter()
        .map(|n| (nation(n), before.clone()))
        .collect();
    converge(&mesh, &room, &expected, Duration::from_secs(60)).await;
    assert!(room_ids(mesh.get("FIN"), &room.collection).await.is_none());

    // The registry now says SWE left NATO yesterday and FIN joined yesterday.
    let second = data_with(
        root.path(),
        "FIN",
        &format!("from = \"{yesterday}\", source = \"N7\""),
    );
    let nato = second.join("registry/organizations/nato.toml");
    let text = std::fs::read_to_string(&nato).unwrap();
    let swe = text
        .lines()
        .find(|l| l.contains("nation = \"SWE\""))
        .unwrap()
        .to_owned();
    let before_yesterday = (today() - chrono::Days::new(2)).to_string();
    std::fs::write(
        &nato,
        // The shipped line with an end, keeping its sources (a fact needs more than a weak one).
        text.replace(
            &swe,
            &swe.replacen(
                "from = \"2024-03-07\"",
                &format!("from = \"2024-03-07\", until = \"{before_yesterday}\""),
                1,
            ),
        ),
    )
    .unwrap();
    restart_on(&mut mesh, &second).await;
    let b = publish_in(mesh.get("POL"), &room, 2).await;
    let after: BTreeSet<String> = before.iter().cloned().chain([b]).collect();
    let expected: BTreeMap<_, _> = [
        ("POL", after.clone()),
        ("FIN", after.clone()),
        ("SWE", before.clone()),
    ]
    .into_iter()
    .map(|(n, s)| (nation(n), s))
    .collect();
    // SWE keeps what it was released while an ally (no clause of the registry requires its
    // return) and receives nothing published after; FIN receives the room's whole history.
    converge(&mesh, &room, &expected, Duration::from_secs(60)).await;
    mesh.stop_all().await;
}
