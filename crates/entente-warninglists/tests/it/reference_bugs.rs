//! The two places where our answers differ from pymispwarninglists 1.7.0 on purpose, each shown
//! with both answers.

use entente_warninglists::{url_hostname, MalformedUrl, WarningList, WarningLists};

use crate::oracle::Oracle;

fn load(oracle: &Oracle, folders: &[&str]) -> WarningLists {
    let lists = folders
        .iter()
        .map(|folder| {
            let path = oracle.lists_dir.join(folder).join("list.json");
            WarningList::from_json(&std::fs::read(&path).unwrap(), &path.display().to_string())
                .unwrap()
        })
        .collect();
    WarningLists::from_lists(lists).unwrap()
}

/// `WarningList._slow_search` has no branch for the `regex` type and returns False, so the
/// reference never finds a value on a regex list, even the list's own example of a match.
/// MISP matches these lists with `preg_match`; so do we.
#[test]
fn reference_never_matches_regex_lists() {
    let Some(oracle) = Oracle::find("regex lists in pymispwarninglists") else {
        return;
    };
    let lists = load(&oracle, &["common-contact-emails", "phone_numbers"]);
    let values = ["abuse@example.org".to_owned(), "+447700900123".to_owned()];
    let (answers, ()) = oracle.answer(
        &values,
        &["--lists", "common-contact-emails,phone_numbers"],
        || (),
    );
    for (value, answer) in values.iter().zip(&answers) {
        let ours = lists.names_of(value);
        eprintln!(
            "{value:?}: reference search() {:?}, ours {ours:?}, Python re on the patterns {:?}",
            answer.slow, answer.regex
        );
        assert!(
            answer.slow.is_empty(),
            "the reference now matches regex lists"
        );
        assert_eq!(ours.len(), 1);
        assert_eq!(ours, answer.regex);
    }
}

/// `_slow_search` calls `urlparse` for `hostname` lists without catching its `ValueError`, so
/// `search()` raises on a value such as `http://[::1/`. We answer instead, comparing the value
/// as it is written (as for any value without a URL host), and `url_hostname` says why the URL
/// is refused.
#[test]
fn reference_raises_on_malformed_urls() {
    let Some(oracle) = Oracle::find("malformed URLs in pymispwarninglists") else {
        return;
    };
    let lists = load(&oracle, &["url-shortener", "rfc1918"]);
    let values = [
        "https://[bit.ly]/x".to_owned(),
        "http://[::1/".to_owned(),
        "https://bit.ly/x".to_owned(),
    ];
    let (answers, ()) = oracle.answer(&values, &["--lists", "url-shortener,rfc1918"], || ());
    let expected_refusals = [
        Err(MalformedUrl::InvalidBracketedHost),
        Err(MalformedUrl::UnbalancedBrackets),
        Ok(()),
    ];
    for ((value, answer), refusal) in values.iter().zip(&answers).zip(expected_refusals) {
        let ours = lists.names_of(value);
        eprintln!(
            "{value:?}: reference {:?} (raised in {:?}), ours {ours:?}",
            answer.error, answer.raised
        );
        assert_eq!(url_hostname(value).map(|_| ()), refusal);
        if refusal.is_err() {
            assert!(answer
                .error
                .as_deref()
                .is_some_and(|error| error.starts_with("ValueError")));
            assert_eq!(answer.raised, ["List of known URL Shorteners domains"]);
            assert!(ours.is_empty());
        } else {
            assert_eq!(answer.error, None);
            assert_eq!(ours, answer.slow);
            assert_eq!(ours, ["List of known URL Shorteners domains"]);
        }
    }
}
