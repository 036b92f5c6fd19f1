//! What each nation should receive, computed with `ReleasePolicy` independently of the
//! federation, and the wait until every node holds exactly that.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use entente_labels::Label;
use entente_policy::{ReleasePolicy, ReleaseVerdict};
use entente_store::{ObjectQuery, VersionFilter};
use entente_types::{Date, NationCode};

use super::nodes::DemoNode;
use super::COLLECTION;
use crate::dataset::{Dataset, DemoObject};
use crate::error::{fail, Context as _};
use crate::progress::{Delivery, Progress};
use crate::DemoError;

/// What one nation should receive from one published object, decided by `ReleasePolicy`.
pub(super) struct Expected<'a> {
    pub object: &'a DemoObject,
    pub recipient: NationCode,
    pub verdict: ReleaseVerdict,
    pub reason: String,
}

/// Objects by id, with the nation they came from.
pub(super) type Held = BTreeMap<String, NationCode>;

/// For every published object and every other nation: the policy's verdict and its reason.
pub(super) fn expectations<'a>(
    dataset: &'a Dataset,
    release: &ReleasePolicy,
    nations: &[NationCode],
    day: Date,
) -> Result<Vec<Expected<'a>>, DemoError> {
    let lookup = |id: &str| -> Option<Label> { dataset.labels.get(id).cloned() };
    let mut out = Vec::new();
    for o in &dataset.objects {
        for &recipient in nations.iter().filter(|n| **n != o.origin) {
            let r = release
                .release_stored(&o.object, &lookup, o.origin, recipient, day)
                .with_context(|| format!("release of {} to {recipient}", o.id))?;
            let reason = r.explain();
            out.push(Expected {
                object: o,
                recipient,
                verdict: r.verdict,
                reason,
            });
        }
    }
    Ok(out)
}

/// The ids of the objects `nation` should receive (whole or tear-lined).
pub(super) fn received_ids(expected: &[Expected<'_>], nation: NationCode) -> BTreeSet<String> {
    expected
        .iter()
        .filter(|e| e.recipient == nation && e.verdict != ReleaseVerdict::Deny)
        .map(|e| e.object.id.clone())
        .collect()
}

/// The objects a node holds from other nations, by id with their originator.
async fn held_from_others(node: &DemoNode) -> Result<Held, DemoError> {
    let page = node
        .node
        .store()
        .objects(
            COLLECTION,
            &ObjectQuery {
                versions: VersionFilter::all(),
                limit: 100_000,
                ..ObjectQuery::default()
            },
        )
        .await?;
    Ok(page
        .objects
        .into_iter()
        .filter(|o| o.originator != node.nation)
        .filter(|o| {
            !matches!(
                o.kind.as_str(),
                "marking-definition" | "extension-definition"
            )
        })
        .map(|o| (o.id, o.originator))
        .collect())
}

/// Waits, reporting each receiving nation's progress, until each holds exactly its expected
/// set; fails at once on an object it should not hold, and after `timeout` naming what is
/// missing.
pub(super) async fn converge(
    nodes: &[DemoNode],
    expected: &[Expected<'_>],
    timeout: Duration,
    progress: &mut dyn Progress,
) -> Result<BTreeMap<NationCode, Held>, DemoError> {
    let per_nation: Vec<(&DemoNode, BTreeSet<String>)> = nodes
        .iter()
        .map(|n| (n, received_ids(expected, n.nation)))
        .collect();
    let wanted: Vec<(NationCode, usize)> = per_nation
        .iter()
        .map(|(n, want)| (n.nation, want.len()))
        .collect();
    progress.delivery(Delivery::Started(&wanted))?;
    let deadline = Instant::now() + timeout;
    loop {
        let mut done = true;
        let mut held_all = BTreeMap::new();
        for (node, want) in &per_nation {
            let held = held_from_others(node).await?;
            if let Some((id, from)) = held.iter().find(|(id, _)| !want.contains(*id)) {
                progress.delivery(Delivery::Unexpected(node.nation))?;
                fail!(
                    "{} holds {id} from {from}, which the release policy does not let it receive",
                    node.nation
                );
            }
            progress.delivery(Delivery::Held {
                nation: node.nation,
                held: held.len(),
                wanted: want.len(),
            })?;
            if held.len() != want.len() {
                done = false;
            }
            held_all.insert(node.nation, held);
        }
        if done {
            progress.delivery(Delivery::Complete)?;
            return Ok(held_all);
        }
        if Instant::now() > deadline {
            progress.delivery(Delivery::TimedOut)?;
            fail!(
                "not converged after {timeout:?}: {}",
                missing(&per_nation, &held_all).join("; ")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// For each nation that lacks objects: how many, and the first three ids.
fn missing(
    per_nation: &[(&DemoNode, BTreeSet<String>)],
    held_all: &BTreeMap<NationCode, Held>,
) -> Vec<String> {
    let mut missing = Vec::new();
    for (node, want) in per_nation {
        let empty = Held::new();
        let held = held_all.get(&node.nation).unwrap_or(&empty);
        let lacking: Vec<&String> = want.iter().filter(|id| !held.contains_key(*id)).collect();
        if !lacking.is_empty() {
            missing.push(format!(
                "{} lacks {} of {} ({})",
                node.nation,
                lacking.len(),
                want.len(),
                lacking
                    .iter()
                    .take(3)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::tests::data_dir;
    use entente_labels::PolicySet;
    use entente_registry::Registry;

    #[test]
    fn each_nation_expects_what_the_policy_lets_it_receive_from_the_others() {
        let registry = Registry::load(&data_dir("registry")).unwrap();
        let release =
            ReleasePolicy::new(&registry, PolicySet::load(&data_dir("policies")).unwrap());
        let nations = super::super::default_nations();
        let dataset = Dataset::load(
            &data_dir("demo").join("exercise-objects.json"),
            release.policies(),
            &nations,
        )
        .unwrap();
        let day = entente_types::parse_date("2024-09-01").unwrap();
        let expected = expectations(&dataset, &release, &nations, day).unwrap();
        // Every object, to every nation but its origin.
        assert_eq!(expected.len(), dataset.objects.len() * (nations.len() - 1));
        assert!(expected.iter().all(|e| e.recipient != e.object.origin));
        assert!(expected.iter().all(|e| !e.reason.is_empty()));
        let jpn: NationCode = "JPN".parse().unwrap();
        let received = received_ids(&expected, jpn);
        let denied: Vec<&Expected<'_>> = expected
            .iter()
            .filter(|e| e.recipient == jpn && e.verdict == ReleaseVerdict::Deny)
            .collect();
        assert!(!denied.is_empty());
        for e in denied {
            assert!(!received.contains(&e.object.id));
        }
        assert!(expected.iter().any(|e| e.verdict != ReleaseVerdict::Deny));
    }
}

/// A hand-made object and expectations for the unit tests of the live part.
#[cfg(test)]
pub(super) mod fixtures {
    #![allow(clippy::unwrap_used)]

    use super::*;

    pub fn object(id: &str, origin: &str, policy: &str) -> DemoObject {
        DemoObject {
            origin: origin.parse().unwrap(),
            marking: format!("{policy} SECRET"),
            portions: Vec::new(),
            policy: policy.to_owned(),
            id: id.to_owned(),
            kind: "indicator".to_owned(),
            title: "EXERCISE".to_owned(),
            object: serde_json::json!({ "id": id }),
            markings: Vec::new(),
        }
    }

    pub fn expected<'a>(
        object: &'a DemoObject,
        recipient: &str,
        verdict: ReleaseVerdict,
    ) -> Expected<'a> {
        Expected {
            object,
            recipient: recipient.parse().unwrap(),
            verdict,
            reason: format!("{verdict:?}"),
        }
    }
}
