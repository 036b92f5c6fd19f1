//! 100,000 seeded values looked up over the full set of lists, compared with pymispwarninglists.
//!
//! - `lookup` against `WarningLists(slow_search=True).search` (the typed comparison MISP does),
//!   for every list but the `regex` ones;
//! - `lookup` on the `regex` lists against the patterns run by Python's `re` (the reference never
//!   matches these lists, see `reference_bugs.rs`);
//! - `lookup_exact` against `WarningLists(slow_search=False).search` (the package's default);
//! - where the reference raises (`urlparse` refusing a URL), our URL parser must refuse the same
//!   values, and the lists that did not raise are still compared.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use entente_warninglists::{url_hostname, ListType, WarningLists};

use crate::oracle::Oracle;
use crate::values::{generate, Sources};

const VALUES: usize = 100_000;
const SEED: u64 = 0x5741_524e_494e_4753;
/// Values also searched with the unmodified `search()`, at about 0.2 s each.
const CHECKED_UNMODIFIED: &str = "24";
const SHOWN: usize = 12;

struct Ours {
    typed: Vec<String>,
    regex: Vec<String>,
    exact: Vec<String>,
    url_refused: bool,
}

fn ours(lists: &WarningLists, value: &str) -> Ours {
    let (regex, typed): (Vec<_>, Vec<_>) = lists
        .lookup(value)
        .into_iter()
        .partition(|hit| hit.list.list_type == ListType::Regex);
    let names = |hits: Vec<entente_warninglists::Hit<'_>>| -> Vec<String> {
        let mut names: Vec<String> = hits.into_iter().map(|hit| hit.list.name.clone()).collect();
        names.sort();
        names
    };
    Ours {
        typed: names(typed),
        regex: names(regex),
        exact: names(lists.lookup_exact(value)),
        url_refused: url_hostname(value).is_err(),
    }
}

fn sorted(names: &[String]) -> Vec<String> {
    let mut names = names.to_vec();
    names.sort();
    names
}

#[test]
fn lookups_equal_pymispwarninglists() {
    let Some(oracle) = Oracle::find("differential test against pymispwarninglists") else {
        return;
    };
    let started = Instant::now();
    let lists = WarningLists::load_dir(&oracle.lists_dir).unwrap();
    eprintln!(
        "ours: {} lists loaded from {} in {:.1} s",
        lists.len(),
        oracle.lists_dir.display(),
        started.elapsed().as_secs_f64()
    );
    let values = generate(&Sources::new(&lists), VALUES, SEED);
    let (answers, ours) = oracle.answer(&values, &["--check", CHECKED_UNMODIFIED], || {
        let started = Instant::now();
        let ours: Vec<Ours> = values.iter().map(|value| ours(&lists, value)).collect();
        eprintln!(
            "ours: {} values looked up in {:.1} s (debug build)",
            values.len(),
            started.elapsed().as_secs_f64()
        );
        ours
    });

    let list_type = |name: &str| lists.get(name).map(|list| list.list_type);
    let mut disagreements: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut disagree = |kind: &'static str, message: String| {
        disagreements.entry(kind).or_default().push(message);
    };
    let mut typed_hit_values = 0;
    let mut exact_hit_values = 0;
    let mut regex_hit_values = 0;
    let mut raising_values = 0;
    let mut modes_differ = 0;
    let mut hits_by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for ((value, ours), theirs) in values.iter().zip(&ours).zip(&answers) {
        for name in &theirs.slow {
            match list_type(name) {
                Some(ListType::Regex) => disagree(
                    "the reference matched a regex list",
                    format!("{value:?}: {name}"),
                ),
                Some(list_type) => *hits_by_type.entry(list_type.as_str()).or_default() += 1,
                None => disagree("unknown list name", format!("{value:?}: {name}")),
            }
        }
        let raised: HashSet<&str> = theirs.raised.iter().map(String::as_str).collect();
        if !raised.is_empty() {
            raising_values += 1;
            if !ours.url_refused {
                disagree(
                    "the reference raised, our URL parser accepts the value",
                    format!("{value:?}: {:?}", theirs.error),
                );
            }
            if let Some(name) = raised
                .iter()
                .find(|name| list_type(name) != Some(ListType::Hostname))
            {
                disagree(
                    "a list other than hostname raised",
                    format!("{value:?}: {name}"),
                );
            }
        } else if ours.url_refused {
            disagree(
                "our URL parser refuses a value the reference accepts",
                format!("{value:?}"),
            );
        }
        let our_typed: Vec<String> = ours
            .typed
            .iter()
            .filter(|name| !raised.contains(name.as_str()))
            .cloned()
            .collect();
        let their_typed = sorted(&theirs.slow);
        if our_typed != their_typed {
            disagree(
                "lookup (slow_search=True)",
                format!("{value:?}: ours {our_typed:?}, reference {their_typed:?}"),
            );
        }
        let their_regex = sorted(&theirs.regex);
        if ours.regex != their_regex {
            disagree(
                "lookup on regex lists (Python re)",
                format!(
                    "{value:?}: ours {:?}, reference {their_regex:?}",
                    ours.regex
                ),
            );
        }
        let their_exact = sorted(&theirs.fast);
        if ours.exact != their_exact {
            disagree(
                "lookup_exact (slow_search=False)",
                format!(
                    "{value:?}: ours {:?}, reference {their_exact:?}",
                    ours.exact
                ),
            );
        }
        typed_hit_values += usize::from(!theirs.slow.is_empty());
        exact_hit_values += usize::from(!theirs.fast.is_empty());
        regex_hit_values += usize::from(!theirs.regex.is_empty());
        modes_differ += usize::from(their_typed != their_exact);
    }

    let percent = |count: usize| 100.0 * count as f64 / values.len() as f64;
    eprintln!("compared {} values (seed {SEED:#x})", values.len());
    eprintln!(
        "hit rate: slow_search=True {:.1}% ({typed_hit_values}), slow_search=False {:.1}% ({exact_hit_values}), regex lists {:.1}% ({regex_hit_values})",
        percent(typed_hit_values),
        percent(exact_hit_values),
        percent(regex_hit_values)
    );
    eprintln!("hits by list type (slow_search=True): {hits_by_type:?}");
    eprintln!(
        "the two reference modes differ on {modes_differ} values; the reference raised on {raising_values}"
    );
    let total: usize = disagreements.values().map(Vec::len).sum();
    for (kind, messages) in &disagreements {
        eprintln!("{} disagreements: {kind}", messages.len());
        for message in messages.iter().take(SHOWN) {
            eprintln!("  {message}");
        }
    }
    eprintln!("disagreements: {total}");
    assert_eq!(total, 0, "lookups differ from pymispwarninglists");
}
