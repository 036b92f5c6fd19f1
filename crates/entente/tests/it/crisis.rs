//! Crisis rooms with real `entente node` processes on loopback: POL, EST, LTU, LVA and JPN in a
//! full mesh, a room under NATO's Article 4 opened at POL with `entente crisis open`, and POL
//! killed at the failpoint `after-room-announced` once the first partner has the room. The room
//! converges to exactly its participants (each holding the descriptor and the report once),
//! JPN learns nothing of it, and every audit log stays one history. Then the `entente crisis`
//! commands on the same federation: list, show, close, and their refusals and exit codes.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::federation_faults::{assert_received_once, http, NodeProc};
use crate::util::{entente, wait_for, Run};

const FAILPOINT: &str = "ENTENTE_FAILPOINT";
const NATIONS: [&str; 5] = ["POL", "EST", "LTU", "LVA", "JPN"];
/// The day the room is opened as of: the day Poland, the Baltic states and others requested
/// consultations under Article 4 (Finland and Sweden joined NATO since).
const AS_OF: &str = "2022-02-24";

/// A node with its crisis officer (NATO SECRET, `crisis-*` read and write), whose token is in
/// `token_file` too.
struct Nation {
    node: NodeProc,
    officer: String,
    token_file: PathBuf,
}

impl Nation {
    fn new(root: &std::path::Path, code: &str) -> Nation {
        let node = NodeProc::init(root, code);
        let cfg = node.config();
        let add = entente(&[
            "user",
            "add",
            "--config",
            &cfg,
            "--name",
            "crisis-officer",
            "--nation",
            code,
            "--clearance",
            "NATO SECRET",
            "--read",
            "crisis-*",
            "--write",
            "crisis-*",
        ]);
        assert_eq!(add.code, 0, "{}", add.stderr);
        let token = entente(&[
            "user",
            "token",
            "--config",
            &cfg,
            "--name",
            "crisis-officer",
        ]);
        assert_eq!(token.code, 0, "{}", token.stderr);
        let officer = token.stdout.trim().to_owned();
        let token_file = node.dir.join("officer.token");
        std::fs::write(&token_file, format!("{officer}\n")).unwrap();
        Nation {
            node,
            officer,
            token_file,
        }
    }

    /// `entente crisis ARGS` against this node as its crisis officer.
    fn crisis(&self, args: &[&str]) -> Run {
        self.crisis_as(&self.token_file, args)
    }

    fn crisis_as(&self, token_file: &std::path::Path, args: &[&str]) -> Run {
        let url = format!("http://{}", self.node.http);
        let mut all = vec!["crisis"];
        all.extend_from_slice(args);
        all.extend(["--node", &url, "--token-file", token_file.to_str().unwrap()]);
        entente(&all)
    }

    /// The rooms the officer sees (`entente crisis list --json`).
    fn rooms(&self) -> Vec<Value> {
        let run = self.crisis(&["list", "--json"]);
        assert_eq!(run.code, 0, "{}: {}", self.node.nation, run.stderr);
        run.json()["rooms"].as_array().unwrap().clone()
    }

    /// Posts `objects` into `collection` as the officer: the status code and body.
    fn post(&self, collection: &str, objects: &[Value]) -> (u16, String) {
        let body = json!({ "objects": objects }).to_string();
        http(
            &self.node.http,
            "POST",
            &format!("/api/collections/{collection}/objects/"),
            &self.officer,
            Some(&body),
        )
    }

    /// Every (id, version) of information the officer reads in `collection` over TAXII, all
    /// versions (labels and extension definitions aside); `None` when the collection is unknown
    /// here.
    fn room_objects(&self, collection: &str) -> Option<Vec<(String, String)>> {
        let (status, text) = http(
            &self.node.http,
            "GET",
            &format!("/api/collections/{collection}/objects/?limit=1000&match%5Bversion%5D=all"),
            &self.officer,
            None,
        );
        if status == 404 {
            return None;
        }
        assert_eq!(status, 200, "{}: {text}", self.node.nation);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_ne!(v["more"], true, "one page holds the room");
        Some(
            v["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| {
                    o["type"] != "marking-definition" && o["type"] != "extension-definition"
                })
                .map(|o| {
                    (
                        o["id"].as_str().unwrap().to_owned(),
                        o["modified"].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
        )
    }
}

/// A situation report, unlabelled: it takes the room's label at ingest.
fn report(n: usize) -> Value {
    json!({
        "type": "note",
        "spec_version": "2.1",
        "id": format!("note--6a1d4c2e-0c3b-4f7e-9a51-{n:012}"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "abstract": format!("situation report {n}"),
        "content": "Armed forces massing at the border; airspace violations overnight.",
        "object_refs": ["identity--11111111-2222-4333-8444-555555555555"],
    })
}

/// Pairs every node with every other (each imports the others' blocks).
fn full_mesh(nations: &mut [Nation]) {
    let blocks: Vec<String> = nations.iter_mut().map(|n| n.node.export(None)).collect();
    for (i, n) in nations.iter().enumerate() {
        for (j, block) in blocks.iter().enumerate() {
            if i != j {
                n.node.import(block);
            }
        }
    }
}

#[test]
fn a_room_whose_opener_dies_announcing_it_reaches_exactly_its_participants() {
    let root = tempfile::tempdir().unwrap();
    let mut nations: Vec<Nation> = NATIONS
        .iter()
        .map(|code| Nation::new(root.path(), code))
        .collect();
    full_mesh(&mut nations);
    let [pol, est, ltu, lva, jpn] = &mut nations[..] else {
        unreachable!()
    };
    // POL opens the room and publishes while EST, LTU and LVA are down, so that the room and
    // its report wait in POL's stream; JPN is up throughout.
    jpn.node.start();
    pol.node
        .start_with_env(&[(FAILPOINT, "after-room-announced")]);
    let pol_first = pol.node.checkpoint();
    let jpn_first = jpn.node.checkpoint();
    let open = pol.crisis(&[
        "open",
        "--clause",
        "nato-art-4",
        "--requested-by",
        "POL",
        "--at",
        AS_OF,
        "--title",
        "Consultations on the eastern flank",
        "--json",
    ]);
    assert_eq!(open.code, 0, "{}", open.stderr);
    let room = open.json();
    let collection = room["collection"].as_str().unwrap().to_owned();
    let descriptor = room["id"].as_str().unwrap().to_owned();
    let uuid = collection.strip_prefix("crisis-").unwrap().to_owned();
    assert_eq!(descriptor, format!("x-entente-crisis-room--{uuid}"));
    assert_eq!(room["status"], "open");
    assert_eq!(room["label"], "NATO SECRET");
    let participants: BTreeSet<&str> = room["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nation"].as_str().unwrap())
        .collect();
    for n in ["POL", "EST", "LTU", "LVA"] {
        assert!(participants.contains(n), "{n} missing from {room}");
    }
    assert!(!participants.contains("JPN"), "{room}");
    let first = report(1);
    let (status, text) = pol.post(&collection, std::slice::from_ref(&first));
    assert_eq!(status, 202, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["failure_count"],
        0
    );
    let want: BTreeSet<String> = [descriptor.clone(), first["id"].as_str().unwrap().to_owned()]
        .into_iter()
        .collect();
    assert_eq!(
        pol.room_objects(&collection).unwrap().len(),
        2,
        "POL holds the descriptor and the report"
    );

    // EST comes up: POL announces the room to it and dies at the acknowledgement.
    est.node.start();
    let est_first = est.node.checkpoint();
    pol.node.wait_exit();
    let log = pol.node.log();
    assert!(
        log.contains("failpoint reached") && log.contains("after-room-announced"),
        "POL did not stop at its failpoint: {log}"
    );
    wait_for("EST lists the room", || est.rooms().len() == 1);
    assert_eq!(est.rooms()[0]["id"], descriptor.as_str());
    // EST goes down too before LTU and LVA come up: at this moment they have nothing of the room.
    let est_before = est.node.assert_consistent(&est_first);
    est.node.kill9();
    ltu.node.start();
    lva.node.start();
    let ltu_first = ltu.node.checkpoint();
    let lva_first = lva.node.checkpoint();
    for n in [&*ltu, &*lva] {
        assert!(
            n.rooms().is_empty(),
            "{} has the room already",
            n.node.nation
        );
        assert_eq!(n.room_objects(&collection), None, "{}", n.node.nation);
    }

    // POL restarts without the failpoint, EST comes back: the room converges.
    pol.node.start();
    let pol_before = pol.node.assert_consistent(&pol_first);
    est.node.start();
    let est_before = est.node.assert_consistent(&est_before);
    for n in [&*est, &*ltu, &*lva] {
        wait_for(&format!("{} holds the room", n.node.nation), || {
            n.room_objects(&collection)
                .is_some_and(|held| held.len() >= want.len())
        });
    }
    // Time for any duplicate still in flight (a replay, a relay) to arrive.
    std::thread::sleep(Duration::from_millis(1500));
    for n in [&*pol, &*est, &*ltu, &*lva] {
        let held = n.room_objects(&collection).unwrap();
        let ids: BTreeSet<String> = held.iter().map(|h| h.0.clone()).collect();
        assert_eq!(
            held.len(),
            ids.len(),
            "{} holds a version twice",
            n.node.nation
        );
        assert_eq!(ids, want, "{}", n.node.nation);
        let rooms = n.rooms();
        assert_eq!(rooms.len(), 1, "{}", n.node.nation);
        assert_eq!(rooms[0]["id"], descriptor.as_str());
    }
    for n in [&*est, &*ltu, &*lva] {
        assert_received_once(&n.node, &want);
    }
    // JPN: no collection, no object, no room, no receipt.
    assert_jpn_knows_nothing(jpn, &collection, &uuid, &want);

    // The CLI on the same federation.
    cli_checks(pol, est, jpn, &collection, &uuid, &descriptor);

    // The room's closing reached the participants; nothing more is published in it.
    wait_for("EST learns that the room is closed", || {
        est.rooms()[0]["status"] == "closed"
    });
    let (status, text) = est.post(&collection, &[report(3)]);
    assert_eq!(status, 403, "a closed room takes nothing at EST: {text}");
    assert_jpn_knows_nothing(jpn, &collection, &uuid, &want);

    // Every log is one history across the fault and what followed.
    pol.node.assert_consistent(&pol_before);
    est.node.assert_consistent(&est_before);
    ltu.node.assert_consistent(&ltu_first);
    lva.node.assert_consistent(&lva_first);
    jpn.node.assert_consistent(&jpn_first);
    for n in [&*pol, &*est, &*ltu, &*lva, &*jpn] {
        assert!(!n.node.log().contains("SPLIT VIEW"), "{}", n.node.nation);
    }
}

fn assert_jpn_knows_nothing(jpn: &Nation, collection: &str, uuid: &str, ids: &BTreeSet<String>) {
    assert_eq!(
        jpn.room_objects(collection),
        None,
        "JPN has the room's collection"
    );
    let (status, text) = http(
        &jpn.node.http,
        "GET",
        "/api/collections/",
        &jpn.officer,
        None,
    );
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(collection), "JPN lists the room: {text}");
    assert!(jpn.rooms().is_empty(), "JPN sees a room");
    let list = jpn.crisis(&["list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("No crisis room."), "{}", list.stdout);
    let show = jpn.crisis(&["show", uuid]);
    assert_eq!(show.code, 2, "{}", show.stderr);
    assert!(
        show.stderr.contains("not found") && show.stderr.contains("no crisis room"),
        "{}",
        show.stderr
    );
    for e in jpn.node.audit_events() {
        let id = e["object_id"].as_str().unwrap_or("");
        assert!(
            !ids.contains(id) || e["kind"] != "receive",
            "JPN recorded a receipt of the room's {id}: {e}"
        );
    }
}

fn cli_checks(pol: &Nation, est: &Nation, jpn: &Nation, collection: &str, uuid: &str, id: &str) {
    // list, text and JSON.
    let list = pol.crisis(&["list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    // The table wraps long cells: the UUID's first group and the title's first words.
    for want in [
        &uuid[..8],
        "Consultations on the",
        "Article 4",
        "POL",
        AS_OF,
        "open",
    ] {
        assert!(
            list.stdout.contains(want),
            "{want} missing from\n{}",
            list.stdout
        );
    }
    let rooms = pol.rooms();
    assert_eq!(rooms.len(), 1);
    for p in rooms[0]["participants"].as_array().unwrap() {
        assert!(
            !p["reason"].as_str().unwrap_or("").is_empty(),
            "a participant without a reason: {p}"
        );
    }
    let requesting: Vec<&Value> = rooms[0]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["requesting"] == true)
        .collect();
    assert_eq!(requesting.len(), 1);
    assert_eq!(requesting[0]["nation"], "POL");

    // show, by UUID, collection and descriptor id; text and JSON, at the opener and a receiver.
    for room_ref in [uuid, collection, id] {
        let show = est.crisis(&["show", room_ref, "--json"]);
        assert_eq!(show.code, 0, "{room_ref}: {}", show.stderr);
        let detail = show.json();
        assert_eq!(detail["room"]["id"], id);
        // Finland and Sweden acceded after the room's day.
        let joined: BTreeSet<&str> = detail["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["joined"] == true)
            .map(|c| c["nation"].as_str().unwrap())
            .collect();
        assert!(joined.contains("FIN") && joined.contains("SWE"), "{detail}");
    }
    let show = pol.crisis(&["show", uuid]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    for want in [
        "Consultations on the eastern flank [open]",
        "Article 4 of the North Atlantic Treaty",
        "label: NATO SECRET",
        &format!("collection: {collection}"),
        "why in the room",
        "EST",
        "LTU",
        "LVA",
        "Since then:",
        "FIN",
        "SWE",
    ] {
        assert!(
            show.stdout.contains(want),
            "{want:?} missing from\n{}",
            show.stdout
        );
    }
    assert!(!show.stdout.contains("JPN"), "{}", show.stdout);

    // open without the rooms right: refused (exit 3); an unknown clause: exit 2, a suggestion.
    let analyst = pol.node.dir.join("analyst.token");
    std::fs::write(&analyst, &pol.node.token).unwrap();
    let refused = pol.crisis_as(
        &analyst,
        &["open", "--clause", "nato-art-4", "--requested-by", "POL"],
    );
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("crisis-*"), "{}", refused.stderr);
    let unknown = pol.crisis(&["open", "--clause", "nato-art-44", "--requested-by", "POL"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("did you mean"),
        "{}",
        unknown.stderr
    );
    // JPN's officer cannot open a NATO room at JPN's node: JPN is not a party.
    let outsider = jpn.crisis(&["open", "--clause", "nato-art-4", "--requested-by", "POL"]);
    assert_ne!(outsider.code, 0, "{}", outsider.stdout);
    assert_eq!(pol.rooms().len(), 1, "nothing was opened by the refusals");

    // close, then nothing more is published in the room; closing again is an error.
    let close = pol.crisis(&["close", uuid, "--json"]);
    assert_eq!(close.code, 0, "{}", close.stderr);
    let closed = close.json();
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed"].is_string(), "{closed}");
    let (status, text) = pol.post(collection, &[report(2)]);
    assert_eq!(status, 403, "a closed room takes nothing: {text}");
    let again = pol.crisis(&["close", uuid]);
    assert_ne!(again.code, 0, "{}", again.stdout);
    assert!(again.stderr.contains("already closed"), "{}", again.stderr);
    let list = pol.crisis(&["list"]);
    assert!(list.stdout.contains("closed"), "{}", list.stdout);
    let show = pol.crisis(&["show", uuid]);
    assert!(show.stdout.contains("[closed "), "{}", show.stdout);
}
