//! The publication of the dataset: each origin's analysts post their objects through their own
//! node's TAXII 2.1 `POST`, as a partner's tool would.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use entente_types::NationCode;
use serde_json::{json, Value};

use super::nodes::DemoNode;
use super::COLLECTION;
use crate::dataset::{Dataset, DemoObject};
use crate::error::{fail, Context as _};
use crate::DemoError;

/// The media type of TAXII 2.1 requests and answers.
pub(super) const TAXII_MEDIA: &str = "application/taxii+json;version=2.1";

/// A client of the nodes' TAXII servers: trusting only the demo CA in `ca` (none with
/// `plain_http`).
pub(super) fn taxii_client(plain_http: bool, ca: &Path) -> Result<reqwest::Client, DemoError> {
    let tls = if plain_http {
        entente_node::pki::trust_nobody_client_config()
    } else {
        entente_node::pki::client_config(ca, None)
    }
    .with_context(|| format!("TLS configuration trusting {}", ca.display()))?;
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .use_preconfigured_tls(rustls::ClientConfig::clone(&tls))
        .build()
        .context("cannot build the TAXII client")
}

/// The node's own objects grouped by label policy, each group an envelope (the marking
/// definitions once, then the objects) to post as a user cleared under that policy.
fn envelopes(node: NationCode, dataset: &Dataset) -> BTreeMap<&str, Vec<Value>> {
    let mut by_policy: BTreeMap<&str, Vec<&DemoObject>> = BTreeMap::new();
    for o in dataset.objects.iter().filter(|o| o.origin == node) {
        by_policy.entry(o.policy.as_str()).or_default().push(o);
    }
    by_policy
        .into_iter()
        .map(|(policy, objects)| {
            let mut envelope: Vec<Value> = Vec::new();
            for o in &objects {
                for m in &o.markings {
                    if !envelope.iter().any(|e| e["id"] == m["id"]) {
                        envelope.push(m.clone());
                    }
                }
            }
            envelope.extend(objects.iter().map(|o| o.object.clone()));
            (policy, envelope)
        })
        .collect()
}

/// Posts the node's own objects, one envelope per label policy, each with a user cleared under
/// that policy, and checks that the status resource reports every object stored.
pub(super) async fn publish(
    client: &reqwest::Client,
    node: &DemoNode,
    dataset: &Dataset,
) -> Result<(), DemoError> {
    let url = format!("{}/api/collections/{COLLECTION}/objects/", node.taxii_url);
    for (policy, envelope) in envelopes(node.nation, dataset) {
        let user = node
            .users
            .iter()
            .find(|u| u.policy == policy)
            .with_context(|| format!("{}: no demo user cleared under {policy}", node.nation))?;
        let total = envelope.len();
        let response = client
            .post(&url)
            .basic_auth(&user.name, Some(&user.password))
            .header("Content-Type", TAXII_MEDIA)
            .header("Accept", TAXII_MEDIA)
            .body(json!({ "objects": envelope }).to_string())
            .send()
            .await
            .with_context(|| format!("POST {url} as {}", user.name))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if !status.is_success() {
            fail!("POST {url} as {}: {status} {body}", user.name);
        }
        let answer: entente_stix::taxii::Status = serde_json::from_str(&body)
            .with_context(|| format!("POST {url}: the status resource is not TAXII 2.1: {body}"))?;
        if answer.failure_count > 0 || answer.success_count as usize != total {
            fail!(
                "POST {url} as {}: {} of {total} objects stored; failures: {}",
                user.name,
                answer.success_count,
                answer
                    .failures
                    .iter()
                    .map(|f| format!("{} ({})", f.id, f.message.as_deref().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::tests::data_dir;
    use entente_labels::PolicySet;

    #[test]
    fn each_envelope_holds_one_policy_with_its_markings_once_before_the_objects() {
        let policies = PolicySet::load(&data_dir("policies")).unwrap();
        let nations: Vec<NationCode> = super::super::default_nations();
        let dataset = Dataset::load(
            &data_dir("demo").join("exercise-objects.json"),
            &policies,
            &nations,
        )
        .unwrap();
        let fra: NationCode = "FRA".parse().unwrap();
        let envelopes = envelopes(fra, &dataset);
        assert!(!envelopes.is_empty());
        let mut posted = 0;
        for (policy, envelope) in &envelopes {
            let first_object = envelope
                .iter()
                .position(|v| v["type"] != "marking-definition")
                .unwrap();
            let (markings, objects) = envelope.split_at(first_object);
            assert!(objects.iter().all(|v| v["type"] != "marking-definition"));
            let ids: std::collections::BTreeSet<&str> =
                markings.iter().map(|m| m["id"].as_str().unwrap()).collect();
            assert_eq!(ids.len(), markings.len(), "a marking twice under {policy}");
            for o in objects {
                let mine = dataset
                    .objects
                    .iter()
                    .find(|d| d.object["id"] == o["id"])
                    .unwrap();
                assert_eq!(mine.origin, fra);
                assert_eq!(mine.policy, *policy);
                for m in &mine.markings {
                    assert!(ids.contains(m["id"].as_str().unwrap()));
                }
            }
            posted += objects.len();
        }
        let fra_objects = dataset.objects.iter().filter(|o| o.origin == fra).count();
        assert_eq!(posted, fra_objects);
    }
}
