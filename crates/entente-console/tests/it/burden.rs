//! The burden-sharing page: guideline charts and trends with their values, the programme
//! ledger, cost shares, sources; the charts served as SVG images to signed-in users only.

use crate::harness::populated;

/// The `src` of every image of a page.
fn images(html: &str) -> Vec<String> {
    html.split("<img src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|s| s.replace("&#x2f;", "/").replace("&#47;", "/"))
        .collect()
}

#[tokio::test]
async fn the_burden_page_shows_charts_with_their_values_the_ledger_and_cost_shares() {
    let s = populated().await;
    let mut b = s.browser();
    b.sign_in("jpn").await;
    let a = b.get("/console/burden").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let text = &a.text;
    for part in [
        "Wales 2% guideline",
        "The Hague 3.5% core defence",
        "Values of the chart",
        "Direction of travel",
        "Programme ledger",
        "European MALE RPAS (Eurodrone)",
        "Published cost shares",
        "equal shares",
        "planned (ledger)",
        "id=\"source-B6\"",
        "NO LABELLED INFORMATION DISPLAYED",
    ] {
        assert!(text.contains(part), "{part} missing");
    }
    assert!(!text.contains(" style="), "an inline style");
    assert!(!text.contains("<script>"), "an inline script");
    let charts = images(text);
    assert!(charts.len() >= 4, "{charts:?}");
    for src in &charts {
        assert!(src.starts_with("/console/burden/charts/"), "{src}");
        let chart = b.get(src).await;
        assert_eq!(chart.status, 200, "{src}: {}", chart.text);
        assert_eq!(chart.header("content-type"), Some("image/svg+xml"));
        assert!(chart.text.contains("<svg"), "{src}");
    }
    // Another year: its chart and values.
    let a = b.get("/console/burden?year=2014").await;
    assert!(a.text.contains("/console/burden/charts/guideline-2014.svg"));
    assert_eq!(
        b.get("/console/burden/charts/no-such-chart.svg")
            .await
            .status,
        404
    );
    assert_eq!(b.get("/console/burden/charts/trend.png").await.status, 404);
    // Signed out, no chart.
    let mut anonymous = s.browser();
    assert_eq!(
        anonymous
            .get("/console/burden/charts/trend.svg")
            .await
            .status,
        303
    );
    s.stop().await;
}
