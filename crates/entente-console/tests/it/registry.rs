//! The registry page: the map, the graph, the timeline and the release decision tool; every
//! state a plain GET that works without htmx.

use crate::harness::{populated, Answer, Browser, Site};

/// A FRA node's console with `fra` signed in.
async fn signed_in() -> (Site, Browser) {
    let site = populated().await;
    let mut b = site.browser();
    b.sign_in("fra").await;
    (site, b)
}

/// The `<title>` of the map's country whose title starts with `name`.
fn map_title<'a>(page: &'a Answer, name: &str) -> &'a str {
    let map = &page.text[page
        .text
        .find("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"map")
        .unwrap()..];
    let map = &map[..map.find("</svg>").unwrap()];
    let at = map
        .find(&format!("<title>{name}"))
        .unwrap_or_else(|| panic!("no country titled {name}"));
    let title = &map[at + 7..];
    &title[..title.find("</title>").unwrap()]
}

/// The class of the map path whose title starts with `name`.
fn map_class<'a>(page: &'a Answer, name: &str) -> &'a str {
    let map = &page.text[page.text.find("class=\"countries\"").unwrap()..];
    let at = map.find(&format!("<title>{name}")).unwrap();
    let path = &map[..at];
    let path = &path[path.rfind("<path class=\"").unwrap() + 13..];
    &path[..path.find('"').unwrap()]
}

#[tokio::test]
async fn the_map_colours_who_is_bound_to_defend_france_and_under_which_clause() {
    let (site, mut b) = signed_in().await;
    let page = b.get("/console/registry?nation=FRA&day=2024-09-01").await;
    assert_eq!(page.status, 200, "{}", page.text);
    // France is the nation defended.
    assert_eq!(map_class(&page, "France"), "defended");
    // Austria is bound by the EU's mutual-assistance clause only, not by NATO's.
    let austria = map_title(&page, "Austria");
    assert_eq!(
        austria,
        "Austria (AUT) is bound to defend France under Treaty on European Union, as amended by the Treaty of Lisbon, Article 42(7)"
    );
    assert!(map_class(&page, "Austria").starts_with("bound-"));
    // The United States by Article 5; Germany also by the Treaty of Aachen, in another colour.
    assert_eq!(
        map_title(&page, "United States"),
        "United States (USA) is bound to defend France under North Atlantic Treaty, Article 5"
    );
    assert!(map_title(&page, "Germany").contains("Treaty of Aachen)"));
    assert_ne!(
        map_class(&page, "Germany"),
        map_class(&page, "United States")
    );
    assert_ne!(
        map_class(&page, "Austria"),
        map_class(&page, "United States")
    );
    // Japan shares an agreement with France but no obligation; Brazil is not in the registry.
    assert_eq!(map_class(&page, "Japan"), "member-only");
    assert_eq!(map_class(&page, "Brazil"), "other");
    // Malta, too small for a shape, is a dot, bound by the EU's clause.
    assert!(page
        .text
        .contains("<title>Malta (MLT) is bound to defend France under Treaty on European Union"));
    // The table beside the map says the same, for those who do not see the map.
    assert!(page
        .text
        .contains("35 nations bound to defend France (FRA) on 2024-09-01"));
    let row = &page.text[page
        .text
        .find("Austria <span class=\"muted\">AUT</span>")
        .unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("Treaty on European Union, as amended by the Treaty of Lisbon, <strong>Article 42(7)</strong>"), "{row}");
    assert!(!row.contains("North Atlantic"), "{row}");
    assert!(page.text.contains("role=\"img\" aria-label=\"Map of the nations bound to defend France on 2024-09-01: 35 nations"));
    site.stop().await;
}

#[tokio::test]
async fn sweden_is_bound_by_article_5_from_its_accession() {
    let (site, mut b) = signed_in().await;
    let before = b.get("/console/registry?nation=FRA&day=2024-03-06").await;
    let after = b.get("/console/registry?nation=FRA&day=2024-03-07").await;
    assert!(!map_title(&before, "Sweden").contains("North Atlantic Treaty"));
    assert!(map_title(&after, "Sweden").contains("North Atlantic Treaty, Article 5"));
    // The graph of each day follows: Sweden is a member of NATO on the second only.
    let sweden = |page: &Answer| {
        let g = &page.text[page.text.find("class=\"graph\"").unwrap()..];
        let at = g.find("<title>Sweden (SWE)").unwrap();
        g[at..at + g[at..].find("</title>").unwrap()].to_owned()
    };
    assert!(!sweden(&before).contains("North Atlantic Treaty Organization"));
    assert!(sweden(&after).contains("North Atlantic Treaty Organization"));
    site.stop().await;
}

#[tokio::test]
async fn the_page_defaults_to_the_nodes_nation_today_and_works_without_htmx() {
    let (site, mut b) = signed_in().await;
    let page = b.get("/console/registry").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let today = entente_node::clock::today().to_string();
    assert!(page
        .text
        .contains("<option value=\"FRA\" selected>France (FRA)</option>"));
    assert!(page
        .text
        .contains(&format!("name=\"day\" type=\"date\" value=\"{today}\"")));
    assert!(page
        .text
        .contains(&format!("Who is bound to defend France on {today}")));
    // A plain GET gets the whole page: form, map, table, graph, timeline, decision form.
    for part in [
        "<form class=\"filters registry-choice\" method=\"get\" action=\"/console/registry\"",
        "class=\"map world\"",
        "class=\"graph\"",
        "Timeline of France",
        "action=\"/console/registry/decision\"",
    ] {
        assert!(page.text.contains(part), "no {part}");
    }
    // The map's views are plain links that keep the nation and the day.
    assert!(
        page.text.contains(&format!(
            "href=\"/console/registry?nation=FRA&#38;day={today}&#38;view=europe\""
        )),
        "{}",
        &page.text[..3000]
    );
    let europe = b
        .get(&format!(
            "/console/registry?nation=FRA&day={today}&view=europe"
        ))
        .await;
    assert!(europe.text.contains("class=\"map europe\""));
    // htmx gets the body alone, the same content.
    let part = b
        .get_with(
            "/console/registry?nation=JPN&day=2024-09-01",
            &[("hx-request", "true")],
        )
        .await;
    assert_eq!(part.status, 200);
    assert!(!part.text.contains("<html"));
    assert!(part
        .text
        .contains("Who is bound to defend Japan on 2024-09-01"));
    assert!(part
        .text
        .contains("1 nation bound to defend Japan (JPN) on 2024-09-01"));
    assert_eq!(map_title(&part, "United States"), "United States (USA) is bound to defend Japan under Treaty of Mutual Cooperation and Security between Japan and the United States of America, Article V");
    // No inline script or style: the CSP would block them.
    for text in [&page.text, &part.text] {
        assert!(!text.contains("style="));
        assert_eq!(
            text.matches("<script").count(),
            if text.contains("<html") { 2 } else { 0 }
        );
    }
    site.stop().await;
}

#[tokio::test]
async fn the_timeline_lists_the_nations_events_with_their_sources() {
    let (site, mut b) = signed_in().await;
    let page = b.get("/console/registry?nation=SWE&day=2024-05-01").await;
    let timeline = &page.text[page.text.find("Timeline of Sweden").unwrap()..];
    let joined = timeline
        .find("Sweden joins North Atlantic Treaty Organization")
        .unwrap();
    let marker = timeline.find("2024-05-01, the day shown").unwrap();
    let acceded = timeline.find("enters into force for Sweden").unwrap();
    assert!(
        joined < marker && marker < acceded,
        "in date order, the day between"
    );
    // Sources are titles and references as text, never links.
    let row = &timeline[timeline[..joined].rfind("<tr").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("<ul class=\"sources\"><li>"), "{row}");
    assert!(!row.contains("<a "), "{row}");
    site.stop().await;
}

#[tokio::test]
async fn bad_choices_are_told_precisely_with_400() {
    let (site, mut b) = signed_in().await;
    let page = b.get("/console/registry?nation=FRX&day=2024-13-01").await;
    assert_eq!(page.status, 400);
    assert!(
        page.text
            .contains("Nation: unknown nation &#34;FRX&#34;; did you mean FRA (France)?"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Day: "));
    // The form is there to correct the choice, on the node's nation.
    assert!(page.text.contains("<option value=\"FRA\" selected>"));
    let hostile = b
        .get("/console/registry?nation=%3Cscript%3Ealert(1)%3C/script%3E")
        .await;
    assert_eq!(hostile.status, 400);
    assert!(!hostile.text.contains("<script>alert"));
    // Signed out: to the sign-in page.
    let mut stranger = site.browser();
    assert_eq!(stranger.get("/console/registry").await.status, 303);
    assert_eq!(
        stranger
            .get("/console/registry/decision?label=x")
            .await
            .status,
        303
    );
    site.stop().await;
}

#[tokio::test]
async fn the_release_decision_tool_permits_denies_and_explains() {
    let (site, mut b) = signed_in().await;
    let empty = b.get("/console/registry/decision").await;
    assert_eq!(empty.status, 200);
    assert!(!empty.text.contains("role=\"alert\""));
    assert!(
        empty.text.contains("<option value=\"FRA\" selected>"),
        "from defaults to the node's nation"
    );

    let permit = b
        .get("/console/registry/decision?label=NATO+SECRET//REL+TO+FRA,+GBR&from=FRA&to=GBR&day=2024-09-01")
        .await;
    assert_eq!(permit.status, 200, "{}", permit.text);
    assert!(permit.text.contains("<h2 id=\"verdict\">Permit</h2>"));
    assert!(permit.text.contains("Permitted from FRA to GBR on 2024-09-01 under Agreement between the Parties to the North Atlantic Treaty for the Security of Information, Article 1 and Annex I."));
    assert!(permit
        .text
        .contains("<dt>Clause</dt><dd>Article 1 and Annex I</dd>"));
    // The form keeps what was asked.
    assert!(permit
        .text
        .contains("value=\"NATO SECRET//REL TO FRA, GBR\""));
    assert!(permit.text.contains("<option value=\"GBR\" selected>"));

    let deny = b
        .get("/console/registry/decision?label=NATO+SECRET//REL+TO+FRA,+GBR&from=FRA&to=JPN&day=2024-09-01")
        .await;
    assert_eq!(deny.status, 200);
    assert!(deny.text.contains("<h2 id=\"verdict\">Deny</h2>"));
    assert!(deny
        .text
        .contains("JPN is not in REL TO FRA, GBR on 2024-09-01."));
    assert!(!deny.text.contains("<dt>Clause</dt>"));

    // A day before the United Kingdom could be covered: Sweden before its accession to the
    // NATO security agreement (in force for it on 2024-08-02).
    let early = b
        .get("/console/registry/decision?label=NATO+SECRET//REL+TO+FRA,+SWE&from=FRA&to=SWE&day=2024-08-01")
        .await;
    let late = b
        .get("/console/registry/decision?label=NATO+SECRET//REL+TO+FRA,+SWE&from=FRA&to=SWE&day=2024-08-02")
        .await;
    assert!(
        early.text.contains("<h2 id=\"verdict\">Deny</h2>"),
        "{}",
        early.text
    );
    assert!(
        late.text.contains("<h2 id=\"verdict\">Permit</h2>"),
        "{}",
        late.text
    );

    let bad = b
        .get("/console/registry/decision?label=NATO+SEKRET//REL+TO+FRA&from=FRA&to=&day=2024-09-01")
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.text.contains(
            "unknown classification &#34;NATO SEKRET&#34;; did you mean &#34;NATO SECRET&#34;?"
        ),
        "{}",
        bad.text
    );
    assert!(bad.text.contains("To: choose a nation."));
    assert!(bad
        .text
        .contains("id=\"d-label\" name=\"label\" type=\"text\" value=\"NATO SEKRET//REL TO FRA\""));
    assert!(bad
        .text
        .contains("aria-invalid=\"true\" aria-describedby=\"d-label-error\""));
    assert!(!bad.text.contains("id=\"verdict\""));

    let unknown = b
        .get("/console/registry/decision?label=NATO+SECRET&from=FRA&to=JPX&day=2024-02-30")
        .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown
            .text
            .contains("To: unknown nation &#34;JPX&#34;; did you mean JPN (Japan)?"),
        "{}",
        unknown.text
    );
    assert!(unknown.text.contains("Day: "));
    site.stop().await;
}
