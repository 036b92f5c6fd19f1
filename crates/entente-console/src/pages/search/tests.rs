use super::terms::{split, with, without};
use super::*;

#[test]
fn terms_keep_quoted_texts_whole() {
    assert_eq!(
        split(r#"  cable "cable fault"  label:"NATO SECRET//REL TO FRA, GBR" -type:note "#),
        [
            "cable",
            "\"cable fault\"",
            "label:\"NATO SECRET//REL TO FRA, GBR\"",
            "-type:note"
        ]
    );
    assert!(split("   ").is_empty());
}

#[test]
fn a_facet_adds_its_term_and_removes_it_again() {
    let q = with("harbor*", "type", "indicator", &[]);
    assert_eq!(q, "harbor* type:indicator");
    assert_eq!(without(&q, "type", "indicator"), "harbor*");
    // Case aside, as the query reads it; other fields and exclusions stay.
    assert_eq!(
        without(
            "type:Indicator -type:indicator originator:FRA",
            "type",
            "indicator"
        ),
        "-type:indicator originator:FRA"
    );
}

#[test]
fn a_label_facet_excludes_the_labels_that_hold_it_and_takes_them_out_with_it() {
    let q = with(
        "",
        "label",
        "NATO SECRET//REL TO FRA",
        &["NATO SECRET//REL TO FRA, JPN"],
    );
    assert_eq!(
        q,
        r#"label:"NATO SECRET//REL TO FRA" -label:"NATO SECRET//REL TO FRA, JPN""#
    );
    let parsed = Query::parse(&q).unwrap();
    assert_eq!(parsed.labels, ["nato secret//rel to fra"]);
    assert_eq!(parsed.without_labels, ["nato secret//rel to fra, jpn"]);
    assert_eq!(without(&q, "label", "NATO SECRET//REL TO FRA"), "");
    // An exclusion of a label that does not hold it stays.
    assert_eq!(
        without(
            r#"label:"NATO SECRET" -label:"UK SECRET""#,
            "label",
            "NATO SECRET"
        ),
        r#"-label:"UK SECRET""#
    );
}

#[test]
fn links_name_the_query_and_only_what_differs_from_the_defaults() {
    assert_eq!(search_link("", Sort::Relevance, 0), "/console/search?q=");
    assert_eq!(
        search_link("type:indicator 198.51.100.7", Sort::Newest, 50),
        "/console/search?q=type%3Aindicator%20198.51.100.7&sort=newest&offset=50"
    );
}
