//! The page read: the next page of a collection that a reader may see, its rows read from the
//! store in chunks (the next one while this one is released), each chunk released through
//! [`Access::release_rows`](crate::access::Access::release_rows), and the banners of the
//! released copies published before the page is answered.

use std::sync::Arc;

use entente_store::{ObjectQuery, StoredObject, User, VersionFilter};
use entente_types::Date;
use serde_json::Value;

use super::envelope::{EnvelopeWriter, PageInfo};
use super::error;
use super::filters::{parse_filters, Filters, MAX_LIMIT};
use crate::access::{Outcome, Reader, Served};
use crate::clock;
use crate::error::{NodeError, NodeErrorKind};
use crate::metrics::Metrics;
use crate::Node;

/// The next page of objects `reader` may see: each released copy goes to `emit` as soon as it is
/// decided, in `seq` order, so a page is never held as a list of values. Versions the reader may
/// not see are skipped as if absent: they shape neither the page, nor `more`, nor `next`.
pub(super) async fn visible(
    node: &Node,
    reader: &Reader,
    cid: &str,
    f: &Filters,
    emit: impl FnMut(&StoredObject, Served<'_>) + Send,
) -> Result<PageInfo, NodeError> {
    visible_on(node, reader, cid, f, clock::today(), emit).await
}

impl Node {
    /// The latest version of every object of collection `cid` that `user` may read on `day`,
    /// released by the read path of TAXII's `GET …/objects/` (its shared decisions and copies
    /// included), for readers other than HTTP clients.
    pub async fn readable_objects(
        &self,
        user: &User,
        cid: &str,
        day: Date,
    ) -> Result<Vec<Value>, NodeError> {
        let mut f = parse_filters(&[], VersionFilter::last())?;
        f.limit = MAX_LIMIT;
        let reader = Reader::of(user);
        let mut objects = Vec::new();
        loop {
            let mut envelope = EnvelopeWriter::new();
            let info = visible_on(self, &reader, cid, &f, day, |_, copy| {
                envelope.push_served(&copy)
            })
            .await?;
            let body = envelope.finish(&info)?.to_vec();
            let page: entente_stix::taxii::Envelope = serde_json::from_slice(&body)
                .map_err(|e| error(NodeErrorKind::Internal, e.to_string()))?;
            objects.extend(page.objects);
            match page.next.and_then(|n| n.parse::<i64>().ok()) {
                Some(next) if page.more => f.next = next,
                _ => return Ok(objects),
            }
        }
    }
}

/// [`visible`] on a given day.
pub(super) async fn visible_on(
    node: &Node,
    reader: &Reader,
    cid: &str,
    f: &Filters,
    day: Date,
    mut emit: impl FnMut(&StoredObject, Served<'_>) + Send,
) -> Result<PageInfo, NodeError> {
    let mut info = PageInfo::default();
    let mut after = f.next;
    let mut withheld = 0u64;
    let in_flight = InFlight::enter(&node.reads_in_flight);
    // Rows are read in chunks, the next one while this one is released (the store's read and the
    // release each take about half of a page's work). A chunk is asked for as soon as it is sure
    // to be needed: when even releasing every row so far would leave the page short.
    let query = |after_seq: i64, rows: usize| ObjectQuery {
        after_seq,
        added_after_us: f.added_after_us,
        ids: f.ids.clone(),
        kinds: f.kinds.clone(),
        spec_versions: f.spec_versions.clone(),
        versions: f.versions.clone(),
        limit: rows.clamp(MIN_CHUNK, MAX_CHUNK),
    };
    let read = |q: ObjectQuery| {
        let (store, cid) = (node.store.clone(), cid.to_owned());
        tokio::spawn(async move { store.objects(&cid, &q).await })
    };
    // Banners published during this read, and how many had been when each read was asked for:
    // a read asked for before the last publication may miss its banners.
    let mut publications = 0u64;
    let mut pending = Some((read(query(after, f.limit + 1)), publications));
    loop {
        let (handle, asked_at) = match pending.take() {
            Some(p) => p,
            None => (read(query(after, f.limit + 1 - info.count)), publications),
        };
        let page = handle
            .await
            .map_err(|e| error(NodeErrorKind::Internal, format!("store read failed: {e}")))??;
        if page.more {
            // Rows this chunk can fill at most; the next chunk is needed if they fall short.
            let short = (f.limit + 1).saturating_sub(info.count + page.objects.len());
            if let (true, Some(last)) = (short > 0, page.objects.last()) {
                pending = Some((read(query(last.seq, short)), publications));
                // Let the read start (a task spawned here waits in this worker's slot for the
                // next task, which the release below would hold for its whole run).
                tokio::task::yield_now().await;
            }
        }
        // Asked once per chunk: a page read alone spreads its chunks over the cores.
        let spread = in_flight.alone();
        let released = node
            .access
            .release_rows(node.store.as_ref(), reader, &page.objects, day, spread)
            .await?;
        let mut derived: Vec<Arc<Value>> = Vec::new();
        let mut full = false;
        for (o, outcome) in released {
            after = o.seq;
            let Outcome::Served(copy, markings) = outcome else {
                withheld += 1;
                continue;
            };
            if info.count == f.limit {
                // One more released object: the page is full and more remain.
                info.more = true;
                full = true;
                break;
            }
            // A page shares few labels: keep one copy of each marking.
            for m in markings.iter() {
                if !derived
                    .iter()
                    .any(|d| Arc::ptr_eq(d, m) || d.get("id") == m.get("id"))
                {
                    derived.push(m.clone());
                }
            }
            info.count += 1;
            info.first.get_or_insert((o.seq, o.added_us));
            info.last = Some((o.seq, o.added_us));
            emit(o, copy);
        }
        // Banners new to the collection are stored before the next page is read; on the last
        // page, read on to serve them with it.
        let published = node
            .access
            .publish(
                node.store.as_ref(),
                cid,
                derived,
                node.config.nation,
                clock::now_us(),
            )
            .await?;
        if published > 0 {
            // A write like any other: shared pages built before it lack these definitions.
            node.notify_changed();
            publications += 1;
        }
        if full || (!page.more && asked_at == publications) {
            break;
        }
    }
    if let Some((handle, _)) = pending {
        // Read ahead for rows the page turned out not to need.
        handle.abort();
    }
    info.withheld = withheld;
    Metrics::add(&node.metrics.objects_withheld, withheld);
    Metrics::add(&node.metrics.objects_served, info.count as u64);
    Ok(info)
}

/// Rows of the store read at once by [`visible`]: fewer than `MIN_CHUNK` is not worth a read
/// when many rows are withheld; `MAX_CHUNK` lets the release of one chunk overlap the read of
/// the next.
pub(super) const MIN_CHUNK: usize = 100;
pub(super) const MAX_CHUNK: usize = 256;

/// One page read counted in [`Node::reads_in_flight`] for as long as it lives.
pub(super) struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(count: &'a std::sync::atomic::AtomicUsize) -> InFlight<'a> {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        InFlight(count)
    }

    /// Whether no other page read is being released.
    fn alone(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed) <= 1
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}
