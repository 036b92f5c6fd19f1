//! Crisis rooms in the console: the list and the open form (each refused field at its field),
//! a recorded invocation replayed, the room's page (participants and why, the clause, the
//! changes since its day), publishing into it, closing it, and "not found" for users who may not
//! see it, identical to an absent room.

use entente_node::auth;
use entente_store::{CollectionRight, User};

use crate::harness::*;

/// Refused forms: the fields sent, the field error expected and what it names.
type Cases = [(
    [(&'static str, &'static str); 4],
    &'static str,
    &'static str,
); 7];

const BALTIC: &str = "BGR, CZE, EST, LTU, LVA, POL, ROU, SVK";

/// A user of the FRA node with `rights` on `crisis-*` (`None`: no right on rooms).
async fn crisis_user(site: &Site, name: &str, nation: &str, clearance: &str, rights: Option<bool>) {
    let (policy, level) = clearance.split_once(' ').unwrap();
    let mut collections = vec![CollectionRight {
        collection: "intel".into(),
        read: true,
        write: true,
    }];
    if let Some(write) = rights {
        collections.push(CollectionRight {
            collection: "crisis-*".into(),
            read: true,
            write,
        });
    }
    let user = User {
        name: name.into(),
        nation: nation.parse().unwrap(),
        clearance_policy: policy.into(),
        clearance_level: level.into(),
        clearance_caveats: Vec::new(),
        password_hash: Some(auth::hash_password(PASSWORD).unwrap()),
        rights: collections,
    };
    site.node.store().put_user(&user).await.unwrap();
}

/// A FRA node with an officer who may open rooms, a reader who may only read them, users who
/// may not see them (no right, too low a clearance, a nation outside NATO) and a JPN reader.
async fn site() -> Site {
    let s = Site::start().await;
    crisis_user(&s, "officer", "FRA", "NATO SECRET", Some(true)).await;
    crisis_user(&s, "reader", "FRA", "NATO SECRET", Some(false)).await;
    crisis_user(&s, "no-right", "FRA", "NATO SECRET", None).await;
    crisis_user(&s, "low", "FRA", "NATO CONFIDENTIAL", Some(true)).await;
    crisis_user(&s, "jpn", "JPN", "NATO SECRET", Some(true)).await;
    s
}

/// Opens the 2022-02-24 consultation as `officer`; the room's path.
async fn open_2022(b: &mut Browser, csrf: &str) -> String {
    let a = b
        .post(
            "/console/crisis/open",
            &[
                ("csrf", csrf),
                ("clause", "nato-art-4"),
                ("requested_by", BALTIC),
                ("as_of", "2022-02-24"),
                ("title", "Eastern flank consultation"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text);
    let to = a.header("location").unwrap().to_owned();
    assert!(to.starts_with("/console/crisis/"), "{to}");
    to
}

#[tokio::test]
async fn the_list_offers_the_form_and_replays_a_recorded_invocation() {
    let s = site().await;
    let mut b = s.browser();
    let csrf = b.sign_in("officer").await;
    let list = b.get("/console/crisis").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains("No crisis room you may see."));
    assert!(list.text.contains("Open a room"));
    assert!(list.text.contains("Recorded invocations"));
    assert!(list.text.contains("Open as of 2022-02-24"), "{}", list.text);
    assert!(list.text.contains(r#"value="nato-art-4""#));
    assert!(list.text.contains(r#"aria-current="page">Crisis rooms"#));
    assert_eq!(b.get("/console/crisis/").await.status, 200);
    // The invocation's button fills the form.
    let filled = b
        .get("/console/crisis?clause=nato-art-4&requested_by=BGR%2C+CZE%2C+EST%2C+LTU%2C+LVA%2C+POL%2C+ROU%2C+SVK&as_of=2022-02-24")
        .await;
    assert!(filled.text.contains(&format!(r#"value="{BALTIC}""#)));
    assert!(filled.text.contains(r#"value="2022-02-24""#));
    assert!(filled.text.contains(r#"value="nato-art-4" selected"#));

    let room = open_2022(&mut b, &csrf).await;
    let list = b.get("/console/crisis").await;
    assert!(list.text.contains("Eastern flank consultation"));
    assert!(list.text.contains(&format!("href=\"{room}\"")));
    assert!(
        list.text.contains("<td class=\"num\">30</td>"),
        "{}",
        list.text
    );
    assert!(list.text.contains(BALTIC));
    assert!(list.text.contains("NATO SECRET"));
    // A reader sees the room but no form.
    let mut r = s.browser();
    r.sign_in("reader").await;
    let list = r.get("/console/crisis").await;
    assert!(list.text.contains("Eastern flank consultation"));
    assert!(!list.text.contains("Open a room"));
    assert!(!list.text.contains("Open as of"));
    s.stop().await;
}

#[tokio::test]
async fn each_refused_field_is_named_at_its_field() {
    let s = site().await;
    let mut b = s.browser();
    let csrf = b.sign_in("officer").await;
    let open = |clause: &'static str, requested: &'static str, as_of: &'static str, title| {
        [
            ("clause", clause),
            ("requested_by", requested),
            ("as_of", as_of),
            ("title", title),
        ]
    };
    // The fields sent, the id of the field error expected, a text it names.
    let cases: Cases = [
        (
            open("nato-art-99", "POL", "2022-02-24", ""),
            "c-clause-error",
            "nato-art-99",
        ),
        (
            open("nato-art-4", "XYZ", "2022-02-24", ""),
            "c-requested-error",
            "XYZ",
        ),
        (
            open("nato-art-4", "", "2022-02-24", ""),
            "c-requested-error",
            "at least one",
        ),
        (
            open("nato-art-4", "JPN", "2022-02-24", ""),
            "c-requested-error",
            "JPN",
        ),
        (
            open("nato-art-4", "POL", "2022-02-31", ""),
            "c-as-of-error",
            "2022-02-31",
        ),
        (
            open("nato-art-4", "POL", "1940-01-01", ""),
            "c-as-of-error",
            "1940-01-01",
        ),
        (
            open("nato-art-4", "POL", "2022-02-24", "bad \u{202e}title"),
            "c-title-error",
            "title",
        ),
    ];
    for (fields, error_id, named) in cases {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let a = b.post("/console/crisis/open", &form).await;
        assert_eq!(a.status, 422, "{fields:?}: {}", a.text);
        let at = a
            .text
            .find(&format!("id=\"{error_id}\""))
            .unwrap_or_else(|| panic!("{fields:?}: no {error_id} in {}", a.text));
        let message = &a.text[at..at + a.text[at..].find("</span>").unwrap()];
        assert!(message.contains(named), "{fields:?}: {message}");
        // What was typed is kept.
        assert!(a.text.contains(&format!("value=\"{}\"", fields[1].1)));
    }
    // A stale token is refused, and no room was opened by any of the above.
    let a = b
        .post(
            "/console/crisis/open",
            &[
                ("csrf", "stale"),
                ("clause", "nato-art-4"),
                ("requested_by", "POL"),
            ],
        )
        .await;
    assert_eq!(a.status, 403);
    assert!(s
        .node
        .rooms_for(
            &s.node.store().user("officer").await.unwrap().unwrap(),
            entente_node::clock::today()
        )
        .await
        .unwrap()
        .is_empty());
    // A user without the write right is told at the form.
    let mut r = s.browser();
    let token = r.sign_in("reader").await;
    let a = r
        .post(
            "/console/crisis/open",
            &[
                ("csrf", &token),
                ("clause", "nato-art-4"),
                ("requested_by", "POL"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.text.contains("may not open rooms"), "{}", a.text);
    s.stop().await;
}

#[tokio::test]
async fn the_room_shows_its_clause_participants_and_changes_and_takes_what_is_published() {
    let s = site().await;
    let mut b = s.browser();
    let csrf = b.sign_in("officer").await;
    let room = open_2022(&mut b, &csrf).await;
    let page = b.get(&room).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let t = &page.text;
    assert!(t.contains("<h1>Eastern flank consultation</h1>"));
    assert!(t.contains("Article 4, North Atlantic Treaty"), "{t}");
    assert!(t.contains("<blockquote class=\"clause\">"));
    assert!(t.contains("consult together"), "the clause's text: {t}");
    assert!(t.contains("30 participants as of 2022-02-24"));
    assert!(t.contains("Requested by Bulgaria (BGR)"), "{t}");
    // Each participant and why; the requesting nations emphasised, on the map too.
    assert_eq!(t.matches("<tr class=\"requesting\">").count(), 8);
    assert!(t.contains("Poland <span class=\"muted\">POL</span>"));
    assert!(t.contains("member of NATO since 1999-03-12"), "{t}");
    assert!(!t.contains("Finland <span class=\"muted\">FIN</span>"));
    assert!(t.contains("class=\"room-requesting\""));
    assert!(t.contains("class=\"room-participant\""));
    // Finland and Sweden joined since.
    assert!(t.contains("Changes since 2022-02-24"));
    assert!(
        t.contains("Finland (FIN)") && t.contains("Sweden (SWE)"),
        "{t}"
    );
    // The banner carries the room's label.
    assert!(t.contains("id=\"banner-top\""));
    let banner = &t[t.find("id=\"banner-top\"").unwrap()..];
    assert!(banner[..banner.find("</div>").unwrap()].contains("NATO SECRET"));
    assert!(t.contains("Nothing published in the room yet."));

    // A report and a note published from the page reach the timeline, newest first.
    let a = b
        .post(
            &format!("{room}/publish"),
            &[
                ("csrf", &csrf),
                ("kind", "report"),
                ("title", "Air policing sortie over Estonia"),
                ("text", "Two aircraft scrambled at 0412Z."),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text);
    let a = b
        .post(
            &format!("{room}/publish"),
            &[
                ("csrf", &csrf),
                ("kind", "note"),
                ("title", ""),
                ("text", "FRA ready to contribute."),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text);
    let fragment = b
        .get_with(&format!("{room}/timeline"), &[("hx-request", "true")])
        .await;
    assert_eq!(fragment.status, 200);
    let f = &fragment.text;
    assert!(
        f.contains("Shared timeline <span class=\"muted\">(2)</span>"),
        "{f}"
    );
    let report_at = f.find("Air policing sortie over Estonia").unwrap();
    let note_at = f.find("FRA ready to contribute.").unwrap();
    assert!(note_at < report_at, "newest first: {f}");
    assert!(f.contains("Two aircraft scrambled at 0412Z."));
    assert!(f.contains("<strong>FRA</strong> · report"));
    assert!(f.contains("/console/objects/crisis-"));
    assert!(f.contains("hx-swap-oob"), "the banners follow the timeline");
    // Unlabelled when posted, they carry the room's label.
    let held = s
        .node
        .room(&format!("crisis-{}", &room["/console/crisis/".len()..]))
        .unwrap();
    let rows = s
        .node
        .release_latest(
            &entente_node::Reader::of(&s.node.store().user("officer").await.unwrap().unwrap()),
            &held.room.collection,
            0,
            100,
            entente_node::clock::today(),
        )
        .await
        .unwrap();
    let published: Vec<_> = rows
        .rows
        .iter()
        .filter(|r| r.kind == "report" || r.kind == "note")
        .collect();
    assert_eq!(published.len(), 2);
    for r in published {
        assert_eq!(r.copy["object_refs"][0], held.room.id.as_str());
        assert_eq!(r.banner.as_ref().unwrap(), &held.label);
    }
    // The object page opens.
    let link_at = f.find("href=\"/console/objects/crisis-").unwrap() + 6;
    let link = &f[link_at..link_at + f[link_at..].find('"').unwrap()];
    assert_eq!(b.get(link).await.status, 200);
    // A report without a title is refused at its field; the text typed is kept.
    let a = b
        .post(
            &format!("{room}/publish"),
            &[
                ("csrf", &csrf),
                ("kind", "report"),
                ("title", " "),
                ("text", "kept text"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.text.contains("id=\"r-title-error\""), "{}", a.text);
    assert!(a.text.contains("kept text"));
    let a = b
        .post(
            &format!("{room}/publish"),
            &[("csrf", "stale"), ("kind", "note"), ("text", "x")],
        )
        .await;
    assert_eq!(a.status, 403);
    s.stop().await;
}

#[tokio::test]
async fn a_room_the_user_may_not_see_is_not_found_like_an_absent_one() {
    let s = site().await;
    let mut b = s.browser();
    let csrf = b.sign_in("officer").await;
    let room = open_2022(&mut b, &csrf).await;
    let absent = "/console/crisis/0b6c7b52-5d64-4b5f-9a43-7d5b2f3c8e11";
    for user in ["no-right", "low", "jpn"] {
        let mut u = s.browser();
        let token = u.sign_in(user).await;
        let list = u.get("/console/crisis").await;
        assert_eq!(list.status, 200);
        assert!(!list.text.contains("Eastern flank"), "{user}");
        assert!(list.text.contains("No crisis room you may see."), "{user}");
        let seen = u.get(&room).await;
        let none = u.get(absent).await;
        assert_eq!(seen.status, 404, "{user}");
        assert_eq!(seen.text, none.text, "{user}");
        for path in ["timeline", "close"] {
            let a = u
                .get_with(&format!("{room}/{path}"), &[("hx-request", "true")])
                .await;
            assert_eq!(a.status, 404, "{user} {path}");
        }
        let a = u
            .post(
                &format!("{room}/publish"),
                &[("csrf", &token), ("kind", "note"), ("text", "leak?")],
            )
            .await;
        assert_eq!(a.status, 404, "{user}");
        assert_eq!(a.text, none.text, "{user}");
        let a = u.post(&format!("{room}/close"), &[("csrf", &token)]).await;
        assert_eq!(a.status, 404, "{user}");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_closed_room_says_so_and_takes_nothing() {
    let s = site().await;
    let mut b = s.browser();
    let csrf = b.sign_in("officer").await;
    let room = open_2022(&mut b, &csrf).await;
    let page = b.get(&room).await;
    assert!(page.text.contains(&format!("href=\"{room}/close\"")));
    // A reader may not close it.
    let mut r = s.browser();
    let token = r.sign_in("reader").await;
    assert!(!r.get(&room).await.text.contains("Close the room"));
    assert_eq!(r.get(&format!("{room}/close")).await.status, 403);
    assert_eq!(
        r.post(&format!("{room}/close"), &[("csrf", &token)])
            .await
            .status,
        403
    );
    // The confirmation step, then the close.
    let confirm = b.get(&format!("{room}/close")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm
        .text
        .contains("Close <strong>Eastern flank consultation</strong>?"));
    assert_eq!(
        b.post(&format!("{room}/close"), &[("csrf", "stale")])
            .await
            .status,
        403
    );
    let a = b.post(&format!("{room}/close"), &[("csrf", &csrf)]).await;
    assert_eq!(a.status, 303, "{}", a.text);
    let page = b.get(&room).await;
    assert!(page
        .text
        .contains("<span class=\"status-closed\">closed</span>"));
    assert!(page.text.contains("This room is closed since"));
    assert!(
        !page.text.contains("action=\"/console/crisis/"),
        "no form: {}",
        page.text
    );
    assert!(!page.text.contains("Close the room"));
    let list = b.get("/console/crisis").await;
    assert!(list
        .text
        .contains("<span class=\"status-closed\">closed</span>"));
    // Publishing is refused by the node, and said at the form.
    let a = b
        .post(
            &format!("{room}/publish"),
            &[("csrf", &csrf), ("kind", "note"), ("text", "too late")],
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.text);
    assert!(a.text.contains("It was not published"), "{}", a.text);
    s.stop().await;
}
