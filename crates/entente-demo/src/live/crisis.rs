//! A historical consultation replayed: once the federation converged, FRA's officer opens at
//! FRA's node the crisis room of a request recorded in the registry (by default NATO's Article 4
//! consultation requested on 2022-02-24 by eight eastern Allies) "as of" the day it was made, so
//! its participants are the Allies of that day. The demonstration shows who is in the room and
//! why, then waits until the room has reached every demo nation among them whom its label
//! reaches, and checks that it reached no other node (the room's collection is absent there).

use std::time::{Duration, Instant};

use entente_crisis::{OpenRequest, Room, RoomDetail};
use entente_types::NationCode;
use serde_json::{json, Value};

use super::nodes::DemoNode;
use crate::error::Context as _;
use crate::progress::{Crisis, Progress};
use crate::DemoError;

/// The recorded invocation the demonstration replays.
pub const INVOCATION: &str = "nato-art4-2022-02-24";
/// The nation whose node opens the room.
pub const HOST: &str = "FRA";
/// The demo user who opens it (the NATO-cleared officer of the host nation).
const OFFICER: &str = "fra-nato";

/// What the replay did (the manifest's `crisis`).
pub(super) struct Replay {
    pub room: Room,
    pub changes: Vec<entente_crisis::RoomChange>,
    /// Demo nations the room reached, with how long after opening.
    pub reached: Vec<(NationCode, Duration)>,
    /// Demo nations among the participants whom the room did not reach in time.
    pub missing: Vec<NationCode>,
    /// Demo nations outside the room, and whether each (wrongly) holds it.
    pub outside: Vec<(NationCode, bool)>,
}

impl Replay {
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.outside.iter().all(|(_, holds)| !holds)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "invocation": INVOCATION,
            "host": HOST,
            "room": self.room.id,
            "collection": self.room.collection,
            "uuid": self.room.uuid(),
            "title": self.room.title,
            "clause": self.room.clause,
            "article": self.room.article,
            "as_of": self.room.as_of.to_string(),
            "requested_by": self.room.requested_by,
            "label": self.room.label,
            "participants": self.room.participants.iter().map(|p| json!({
                "nation": p.nation, "requesting": p.requesting, "reason": p.reason,
                "receives": p.receives, "withheld": p.withheld,
            })).collect::<Vec<_>>(),
            "participant_count": self.room.participants.len(),
            "changes_since": self.changes.iter().map(|c| json!({
                "day": c.day.to_string(), "nation": c.nation, "joined": c.joined, "reason": c.reason,
            })).collect::<Vec<_>>(),
            "reached": self.reached.iter().map(|(n, after)| json!({
                "nation": n, "after_ms": after.as_millis() as u64,
            })).collect::<Vec<_>>(),
            "missing": self.missing,
            "outside": self.outside.iter().map(|(n, holds)| json!({
                "nation": n, "holds_room": holds,
            })).collect::<Vec<_>>(),
            "ok": self.ok(),
        })
    }
}

/// Opens the recorded consultation at the host's node and waits (at most `timeout`) until it
/// reached every demo nation the room's label reaches; `None` when the host is not among the
/// nodes.
pub(super) async fn replay(
    nodes: &[DemoNode],
    timeout: Duration,
    progress: &mut dyn Progress,
) -> Result<Option<Replay>, DemoError> {
    let Some(host) = nodes.iter().find(|n| n.nation.as_str() == HOST) else {
        return Ok(None);
    };
    let registry = host.node.registry();
    let invocation = registry
        .invocations()
        .iter()
        .find(|i| i.id == INVOCATION)
        .with_context(|| format!("the registry records no invocation {INVOCATION}"))?;
    let as_of = invocation.requested_days().0;
    let officer = host
        .node
        .store()
        .user(OFFICER)
        .await?
        .with_context(|| format!("{HOST}'s node has no user {OFFICER}"))?;
    let request = OpenRequest {
        clause: invocation.clause.to_string(),
        requested_by: invocation.requested_by.clone(),
        as_of,
        title: Some(format!(
            "Article 4 consultation of {as_of}, replayed as of that day"
        )),
        label: None,
    };
    let opened = Instant::now();
    let room = host
        .node
        .open_room(&officer, &request)
        .await
        .context("opening the recorded consultation's room")?;
    let changes = host.node.room_changes(&room, entente_node::clock::today());
    let detail = RoomDetail {
        room: room.clone(),
        changes: changes.clone(),
    };
    progress.crisis(Crisis::Opened {
        host: host.nation,
        invocation: INVOCATION,
        detail: &detail,
    })?;

    // The demo nations the room must reach: participants its label reaches on the room's day
    // (the host holds it already); every other demo nation must not hold it.
    let receives = |n: NationCode| {
        room.participants
            .iter()
            .any(|p| p.nation == n && p.receives)
    };
    let mut waiting: Vec<&DemoNode> = nodes
        .iter()
        .filter(|n| n.nation != host.nation && receives(n.nation))
        .collect();
    let mut reached = Vec::new();
    let deadline = opened + timeout;
    while !waiting.is_empty() && Instant::now() < deadline {
        let mut still = Vec::new();
        for n in waiting {
            if n.node.room(&room.collection).is_some() {
                let after = opened.elapsed();
                progress.crisis(Crisis::Reached {
                    nation: n.nation,
                    after,
                })?;
                reached.push((n.nation, after));
            } else {
                still.push(n);
            }
        }
        waiting = still;
        if !waiting.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let missing: Vec<NationCode> = waiting.iter().map(|n| n.nation).collect();
    for &nation in &missing {
        progress.crisis(Crisis::Missing { nation })?;
    }
    let mut outside = Vec::new();
    for n in nodes
        .iter()
        .filter(|n| n.nation != host.nation && !receives(n.nation))
    {
        let holds = n.node.room(&room.collection).is_some()
            || n.node
                .store()
                .collections()
                .await?
                .iter()
                .any(|c| c.id == room.collection);
        progress.crisis(Crisis::Outside {
            nation: n.nation,
            holds,
        })?;
        outside.push((n.nation, holds));
    }
    Ok(Some(Replay {
        room,
        changes,
        reached,
        missing,
        outside,
    }))
}
