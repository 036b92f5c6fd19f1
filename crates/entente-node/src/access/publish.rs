//! Banners published: the label marking definitions that released copies refer to, stored in
//! the collection they are served from so that every reference a client receives resolves.

use std::sync::Arc;

use entente_store::{AddRequest, Store};
use entente_types::NationCode;
use serde_json::Value;

use super::Access;
use crate::error::NodeError;

impl Access {
    /// Stores in collection `cid` the label marking definitions among `markings` that it does not
    /// hold yet (the banners of tear-lined copies, derived from their labels), so that every
    /// marking reference a client receives resolves in the collection. Returns how many were
    /// stored. Re-storing one is harmless (a re-post changes nothing), so concurrent readers
    /// need no coordination.
    pub async fn publish(
        &self,
        store: &dyn Store,
        cid: &str,
        markings: Vec<Arc<Value>>,
        originator: NationCode,
        now_us: i64,
    ) -> Result<usize, NodeError> {
        let known = |id: &str| {
            self.published
                .read()
                .is_ok_and(|p| p.get(cid).is_some_and(|ids| ids.contains(id)))
        };
        let mut new: Vec<(String, Value)> = Vec::new();
        for md in markings {
            let Some(id) = md.get("id").and_then(Value::as_str) else {
                continue;
            };
            if known(id) || new.iter().any(|(k, _)| k == id) {
                continue;
            }
            let id = id.to_owned();
            if store.versions(cid, &id).await?.is_empty() {
                new.push((id, Value::clone(&md)));
            } else if let Ok(mut p) = self.published.write() {
                p.entry(cid.to_owned()).or_default().insert(id);
            }
        }
        if new.is_empty() {
            return Ok(0);
        }
        let mut objects = Vec::with_capacity(new.len());
        for (_, md) in &new {
            let header = entente_stix::validate_object(md).map_err(|e| {
                NodeError::new(
                    crate::error::NodeErrorKind::Internal,
                    format!("derived marking definition: {e}"),
                )
            })?;
            objects.push(crate::new_object(header, originator, md.to_string()));
        }
        let n = objects.len();
        store
            .add_objects(AddRequest {
                status_id: uuid::Uuid::new_v4().to_string(),
                // No user has an empty name: nobody can read this status.
                owner: String::new(),
                collection: cid.to_owned(),
                now_us,
                objects,
                failures: Vec::new(),
                ..Default::default()
            })
            .await?;
        if let Ok(mut p) = self.published.write() {
            p.entry(cid.to_owned())
                .or_default()
                .extend(new.into_iter().map(|(id, _)| id));
        }
        tracing::debug!(collection = %cid, count = n, "derived marking definitions stored");
        Ok(n)
    }
}
