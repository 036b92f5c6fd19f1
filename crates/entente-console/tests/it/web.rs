//! Signing in and out, the cookie and security headers, CSRF, the back-off, hostile content and
//! the pages' behaviour.

use crate::harness::{hidden, populated, Site, HOSTILE, PORTIONED, REL_JPN, SECRET_PORTION};

#[tokio::test]
async fn signing_in_sets_a_strict_cookie_and_signing_out_ends_the_session() {
    let s = populated().await;
    let mut b = s.browser();
    // Signed out: every page sends to the sign-in page.
    let a = b.get("/console/holdings").await;
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location"), Some("/console/signin"));
    // An htmx request is told to go there as a whole page.
    let a = b
        .get_with("/console/holdings", &[("hx-request", "true")])
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(a.header("hx-redirect"), Some("/console/signin"));
    let page = b.get("/console/signin").await;
    let token = hidden(&page.text, "csrf").unwrap();
    let a = b
        .post(
            "/console/signin",
            &[
                ("name", "jpn"),
                ("password", crate::harness::PASSWORD),
                ("csrf", &token),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text);
    let cookie = a
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-entente-session="))
        .unwrap();
    for part in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let holdings = b.get("/console/holdings").await;
    assert_eq!(holdings.status, 200);
    assert!(holdings.text.contains("jpn · JPN · NATO SECRET"));
    let csrf = hidden(&holdings.text, "csrf").unwrap();
    // Signing out without the token is refused; with it the session ends.
    assert_eq!(b.post("/console/signout", &[]).await.status, 403);
    let a = b.post("/console/signout", &[("csrf", &csrf)]).await;
    assert_eq!(a.status, 303);
    assert!(!b.cookies.contains_key("__Host-entente-session"));
    assert_eq!(b.get("/console/holdings").await.status, 303);
    s.stop().await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let s = populated().await;
    let mut b = s.browser();
    b.sign_in("fra").await;
    for path in [
        "/console/signin",
        "/console/holdings",
        "/console/publish",
        "/console/partners",
        "/console/registry",
        "/console/burden",
        "/console/no-such-page",
        "/console/assets/console.css",
    ] {
        let a = b.get(path).await;
        let csp = a.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(a.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(a.header("referrer-policy"), Some("no-referrer"), "{path}");
        assert_eq!(
            a.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        if !path.contains("/assets/") {
            assert_eq!(a.header("cache-control"), Some("no-store"), "{path}");
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let s = populated().await;
    let mut b = s.browser();
    // The sign-in form's token lives in a cookie until there is a session.
    let a = b
        .post(
            "/console/signin",
            &[("name", "fra"), ("password", crate::harness::PASSWORD)],
        )
        .await;
    assert_eq!(a.status, 403, "{}", a.text);
    let csrf = b.sign_in("fra").await;
    let form = [
        ("kind", "report"),
        ("name", "A report posted without its token"),
        ("level", "NATO|SECRET"),
    ];
    let a = b.post("/console/publish", &form).await;
    assert_eq!(a.status, 403, "{}", a.text);
    let a = b.post("/console/publish/preview", &form).await;
    assert_eq!(a.status, 403, "{}", a.text);
    let mut with_wrong = form.to_vec();
    with_wrong.push(("csrf", "not-the-token"));
    assert_eq!(b.post("/console/publish", &with_wrong).await.status, 403);
    let index = s
        .node
        .store()
        .objects("intel", &Default::default())
        .await
        .unwrap();
    assert!(!index
        .objects
        .iter()
        .any(|o| o.json.contains("without its token")));
    // With it, the report is published and the browser goes to its page.
    let mut with = form.to_vec();
    with.push(("csrf", &csrf));
    let a = b.post("/console/publish", &with).await;
    assert_eq!(a.status, 303, "{}", a.text);
    let page = b.get(a.header("location").unwrap()).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("A report posted without its token"));
    s.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_back_off() {
    let s = populated().await;
    let mut b = s.browser();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let page = b.get("/console/signin").await;
        let token = hidden(&page.text, "csrf").unwrap();
        let a = b
            .post(
                "/console/signin",
                &[("name", "fra"), ("password", "wrong"), ("csrf", &token)],
            )
            .await;
        statuses.push(a.status);
    }
    // Three free failures, a fourth that starts the wait, then refused without a check.
    assert_eq!(statuses, [401, 401, 401, 401, 429]);
    let page = b.get("/console/signin").await;
    let token = hidden(&page.text, "csrf").unwrap();
    let a = b
        .post(
            "/console/signin",
            &[
                ("name", "fra"),
                ("password", crate::harness::PASSWORD),
                ("csrf", &token),
            ],
        )
        .await;
    assert_eq!(a.status, 429, "the right password waits too");
    assert!(a.text.contains("try again in"));
    s.stop().await;
}

#[tokio::test]
async fn hostile_content_renders_inert() {
    let s = populated().await;
    let mut b = s.browser();
    b.sign_in("jpn").await;
    let holdings = b.get("/console/holdings").await;
    let object = b.get(&format!("/console/objects/intel/{HOSTILE}")).await;
    assert_eq!(object.status, 200, "{}", object.text);
    for page in [&holdings.text, &object.text] {
        assert!(!page.contains("<script>alert"), "a script tag got through");
        assert!(!page.contains("<img src=x"), "an img tag got through");
        assert!(
            !page.to_lowercase().contains("href=\"javascript:"),
            "a javascript: link"
        );
    }
    assert!(
        object
            .text
            .contains("&#60;script&#62;alert(&#39;name&#39;)&#60;/script&#62;"),
        "{}",
        object.text
    );
    assert!(
        object
            .text
            .contains("&#34;&#62;&#60;img src=x onerror=alert"),
        "{}",
        object.text
    );
    // Bidirectional overrides stay inside their own isolate.
    let at = object.text.find('\u{202e}').unwrap();
    let before = &object.text[..at];
    assert!(
        before.rfind("<bdi>") > before.rfind("</bdi>"),
        "the override is not isolated"
    );
    s.stop().await;
}

#[tokio::test]
async fn holdings_filter_sort_and_page_and_the_object_page_shows_portions() {
    let s = populated().await;
    let mut b = s.browser();
    b.sign_in("gbr").await;
    let all = b.get("/console/holdings").await;
    // GBR sees the portioned report (with its portion) and the hostile one.
    assert!(all.text.contains("Objects 1–2 of 2"), "{}", all.text);
    let reports = b
        .get("/console/holdings?type=report&sort=name&dir=asc")
        .await;
    let baltic = reports.text.find("Baltic overflight").unwrap();
    let script = reports.text.find("&#60;script&#62;").unwrap();
    assert!(script < baltic, "'<' sorts before letters");
    let reports = b
        .get("/console/holdings?type=report&sort=name&dir=desc")
        .await;
    let baltic = reports.text.find("Baltic overflight").unwrap();
    let script = reports.text.find("&#60;script&#62;").unwrap();
    assert!(baltic < script);
    // The table alone for htmx, with the banners out of band.
    let table = b
        .get_with("/console/holdings?type=report", &[("hx-request", "true")])
        .await;
    assert!(!table.text.contains("<html"));
    assert!(table.text.contains("hx-swap-oob"));
    let object = b.get(&format!("/console/objects/intel/{PORTIONED}")).await;
    assert!(object.text.contains(SECRET_PORTION));
    assert!(
        object.text.contains("NATO SECRET REL TO FRA, GBR")
            || object.text.contains("NATO SECRET//REL TO FRA, GBR"),
        "{}",
        object.text
    );
    // The banner is the dominant label: the portion's.
    let banner_at = object.text.find("id=\"banner-top\"").unwrap();
    assert!(object.text[banner_at..banner_at + 200].contains("NATO SECRET"));
    // Why: GBR is not FRA; an agreement covers the release.
    assert!(object.text.contains("Why you see this"));
    // A date filter that excludes everything.
    let none = b.get("/console/holdings?to=2000-01-01").await;
    assert!(none.text.contains("No objects match."));
    let bad = b.get("/console/holdings?from=yesterday").await;
    assert_eq!(bad.status, 400);
    s.stop().await;
}

#[tokio::test]
async fn the_preview_shows_each_nation_its_copy_or_nothing() {
    let s = populated().await;
    let mut b = s.browser();
    let csrf = b.sign_in("fra").await;
    let a = b
        .post(
            "/console/publish/preview",
            &[
                ("csrf", &csrf),
                ("kind", "indicator"),
                ("name", "Jammer near the coast"),
                ("pattern", "[ipv4-addr:value = '198.51.100.7']"),
                ("description", "Seen by the FRA liaison only"),
                ("level", "NATO|SECRET"),
                ("rel", "FRA"),
                ("rel", "GBR"),
                ("rel", "JPN"),
                ("portion_field", "description"),
                ("portion_level", "NATO|SECRET"),
                ("portion_rel", "FRA"),
                ("portion_rel", "GBR"),
            ],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let row = |nation: &str| {
        let at = a
            .text
            .find(&format!("<th scope=\"row\">{nation}</th>"))
            .unwrap();
        let end = a.text[at..].find("</tr>").unwrap();
        a.text[at..at + end].to_owned()
    };
    let jpn = row("JPN");
    assert!(jpn.contains("tear-lined copy"), "{jpn}");
    assert!(!jpn.contains("Seen by the FRA liaison only"), "{jpn}");
    let gbr = row("GBR");
    assert!(
        gbr.contains("the whole object") && gbr.contains("Seen by the FRA liaison only"),
        "{gbr}"
    );
    let deu = row("DEU");
    assert!(deu.contains("nothing"), "{deu}");
    s.stop().await;
}

#[tokio::test]
async fn bad_input_gets_the_ingest_errors() {
    let s = populated().await;
    let mut b = s.browser();
    let csrf = b.sign_in("fra").await;
    let a = b
        .post(
            "/console/publish",
            &[
                ("csrf", &csrf),
                ("kind", "indicator"),
                ("name", "No pattern"),
                ("level", "NATO|SECRET"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(
        a.text.contains("pattern") && a.text.contains("is required"),
        "{}",
        a.text
    );
    // Above the user's clearance: refused by the ingest checks.
    let a = b
        .post(
            "/console/publish",
            &[
                ("csrf", &csrf),
                ("kind", "report"),
                ("name", "Too high"),
                ("level", "NATO|COSMIC TOP SECRET"),
            ],
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.text);
    assert!(a.text.contains("clearance"), "{}", a.text);
    let _ = REL_JPN;
    s.stop().await;
}

#[tokio::test]
async fn a_disabled_console_is_not_served() {
    let s = Site::start_with(|c| c.console.enabled = false).await;
    let mut b = s.browser();
    assert_eq!(b.get("/console/signin").await.status, 404);
    s.stop().await;
}
