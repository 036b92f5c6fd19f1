//! No leak through the console: a user crawls every link reachable from every page (htmx
//! fragments, sort and page links, object pages, the search page and its facets, assets) and
//! nothing of what the user may not see appears anywhere: no id, name, portion text, label or
//! count.

use std::collections::{BTreeSet, VecDeque};

use crate::harness::{
    populated, Browser, FRA_ONLY, FRA_ONLY_NAME, HOSTILE, LINK, PORTIONED, REL_JPN, SECRET_PORTION,
};

/// Links of a page: `href`, `hx-get` and `src` values under `/console/`.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "hx-get=\"", "src=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let Some(end) = rest.find('"') else { break };
            let link = rest[..end].replace("&amp;", "&");
            if link.starts_with("/console/") && !link.contains("/signout") {
                out.push(link);
            }
        }
    }
    out
}

/// Crawls from every navigation page; returns every page read (path, status, text).
async fn crawl(b: &mut Browser) -> Vec<(String, u16, String)> {
    let mut queue: VecDeque<String> = [
        "/console/holdings",
        "/console/publish",
        "/console/partners",
        "/console/registry",
        "/console/burden",
        "/console/search",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let mut seen = BTreeSet::new();
    let mut pages = Vec::new();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 400 {
            continue;
        }
        // Each page as a browser loads it, and as htmx asks for its fragment.
        for htmx in [false, true] {
            let headers: &[(&str, &str)] = if htmx { &[("hx-request", "true")] } else { &[] };
            let a = b.get_with(&path, headers).await;
            assert!(a.status < 500, "{path}: {}", a.status);
            for link in links(&a.text) {
                queue.push_back(link);
            }
            pages.push((path.clone(), a.status, a.text));
        }
    }
    assert!(
        pages.len() > 20,
        "the crawl reached only {} pages",
        pages.len()
    );
    pages
}

fn assert_absent(pages: &[(String, u16, String)], forbidden: &[&str]) {
    for (path, _, text) in pages {
        for f in forbidden {
            assert!(!text.contains(f), "{path} shows {f:?}");
        }
    }
}

#[tokio::test]
async fn a_jpn_user_sees_nothing_of_what_is_not_released_to_japan() {
    let s = populated().await;
    let mut b = s.browser();
    b.sign_in("jpn").await;
    let pages = crawl(&mut b).await;
    assert_absent(
        &pages,
        &[
            FRA_ONLY,
            &FRA_ONLY[11..],
            FRA_ONLY_NAME,
            SECRET_PORTION,
            "203.0.113.77",
            // The labels of the FRA-only indicator and of the cut portion, as labels show.
            ">NATO SECRET//REL TO FRA<",
            ">NATO SECRET//REL TO FRA, GBR<",
            "(NATO SECRET//REL TO FRA, GBR)",
            "value=\"NATO SECRET//REL TO FRA\"",
        ],
    );
    // What JPN may see is there, and counted as it is: four objects.
    let all: String = pages.iter().map(|(_, _, t)| t.as_str()).collect();
    for id in [REL_JPN, PORTIONED, HOSTILE, LINK] {
        assert!(all.contains(id), "{id} is missing from JPN's console");
    }
    let holdings = &pages
        .iter()
        .find(|(p, _, _)| p == "/console/holdings")
        .unwrap()
        .2;
    assert!(holdings.contains("Objects 1–4 of 4"), "{holdings}");
    assert!(holdings.contains("(4 held for you in all)"));
    // The forbidden indicator's page is "not found", as one that does not exist.
    let a = b.get(&format!("/console/objects/intel/{FRA_ONLY}")).await;
    let missing = b
        .get("/console/objects/intel/indicator--0b9d1c0e-0000-4000-8000-0000000000ff")
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.text, missing.text);
    s.stop().await;
}

#[tokio::test]
async fn a_fra_user_cleared_lower_sees_nothing_above_the_clearance() {
    let s = populated().await;
    let mut b = s.browser();
    b.sign_in("fra-low").await;
    let pages = crawl(&mut b).await;
    assert_absent(
        &pages,
        &[
            FRA_ONLY,
            FRA_ONLY_NAME,
            REL_JPN,
            "Pacific liaison summary",
            PORTIONED,
            "Baltic overflight",
            SECRET_PORTION,
            LINK,
            ">NATO SECRET//REL TO FRA<",
            ">NATO SECRET//REL TO FRA, JPN<",
            ">NATO SECRET//REL TO FRA, GBR<",
        ],
    );
    let holdings = &pages
        .iter()
        .find(|(p, _, _)| p == "/console/holdings")
        .unwrap()
        .2;
    assert!(holdings.contains("Objects 1–1 of 1"), "{holdings}");
    s.stop().await;
}
