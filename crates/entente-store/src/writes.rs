//! The write transactions of the store, written once for both backends: what an add, a received
//! batch, a delete, a recall or a cursor move writes, in which order, and how the clock (`seq`,
//! `date_added`) moves. A backend only runs statements ([`Statements`]): SQLite's on its writer
//! thread inside a savepoint of the batch's transaction, PostgreSQL's in the transaction of the
//! call. The SQL itself is in [`crate::sql`].

use crate::error::StoreError;
use crate::model::*;
use crate::rows::to_json;
use crate::sql;

/// A statement parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
}

use Arg::{Int, OptText, Text};

/// Runs statements inside a transaction of one backend. Statements have `?N` placeholders.
pub(crate) trait Statements {
    /// Whether reads of the clock rows must lock them until the commit: several processes write
    /// to a PostgreSQL database, one thread writes to a SQLite one.
    const SHARED: bool;

    /// Runs `sql`; the number of rows it changed.
    async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64, StoreError>;

    /// The text in the first column of the first row `sql` returns, if it returns a row.
    async fn text(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<String>, StoreError>;

    /// The integers in the first `N` columns of the one row `sql` returns.
    async fn ints<const N: usize>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<[i64; N], StoreError>;
}

/// The last `seq` given and the last `date_added` (µs): each version stored or deleted takes the
/// next `seq` and a `date_added` above every earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clock {
    pub seq: i64,
    pub added: i64,
}

/// The clock as stored (locked until the commit where the database is shared).
pub(crate) async fn read_clock<S: Statements>(s: &mut S) -> Result<Clock, StoreError> {
    let query = if S::SHARED {
        sql::LOCK_CLOCK
    } else {
        sql::SELECT_CLOCK
    };
    let [seq, added] = s.ints(query, &[]).await?;
    Ok(Clock { seq, added })
}

pub(crate) async fn save_clock<S: Statements>(s: &mut S, clock: Clock) -> Result<(), StoreError> {
    s.execute(sql::UPDATE_CLOCK, &[Int(clock.seq), Int(clock.added)])
        .await?;
    Ok(())
}

/// One `add_objects` request: its objects, its objects held back for their markings, the held
/// objects it settles and its status resource.
pub(crate) async fn add<S: Statements>(
    s: &mut S,
    req: &AddRequest,
    clock: &mut Clock,
) -> Result<StatusRecord, StoreError> {
    let collection = req.collection.as_str();
    let mut successes = Vec::with_capacity(req.objects.len());
    for o in &req.objects {
        clock.seq += 1;
        clock.added = (clock.added + 1).max(req.now_us);
        let (previous, newest) = newest_before(s, collection, o).await?;
        let changed = s
            .execute(
                sql::INSERT_OBJECT,
                &[
                    Text(collection),
                    Text(&o.id),
                    Text(&o.version_key),
                    Int(clock.seq),
                    Int(clock.added),
                    Text(&o.kind),
                    Text(&o.spec_version),
                    Text(&o.version),
                    Text(o.originator.as_str()),
                    Text(&o.json),
                    Int(i64::from(newest)),
                ],
            )
            .await?;
        if changed > 0 && newest {
            if let Some(older) = &previous {
                s.execute(
                    sql::CLEAR_LATEST,
                    &[Text(collection), Text(&o.id), Text(older)],
                )
                .await?;
            }
        }
        let version = if !o.version.is_empty() {
            o.version.clone()
        } else if changed > 0 {
            // Just written: its `date_added` is this request's.
            format_added(clock.added)
        } else {
            // Stored before: the `date_added` of the stored row (older than this request).
            let [us] = s
                .ints(
                    sql::SELECT_ADDED,
                    &[Text(collection), Text(&o.id), Text(&o.version_key)],
                )
                .await?;
            format_added(us)
        };
        successes.push(StatusDetail {
            message: req.notes.get(&o.id).cloned(),
            id: o.id.clone(),
            version,
        });
    }
    for p in &req.pending {
        s.execute(
            sql::INSERT_PENDING,
            &[
                Text(collection),
                Text(&p.id),
                Text(&p.version_key),
                Text(&p.version),
                Text(&req.status_id),
                Text(&req.owner),
                Text(&to_json(&p.waiting)?),
                Int(req.now_us),
                Text(&p.json),
            ],
        )
        .await?;
    }
    for settled in &req.settles {
        // Settled once: a concurrent settling of the same object finds it gone.
        let held = s
            .execute(
                sql::DELETE_PENDING,
                &[
                    Text(collection),
                    Text(&settled.id),
                    Text(&settled.version_key),
                ],
            )
            .await?;
        if held == 0 {
            continue;
        }
        s.execute(
            sql::INSERT_OUTCOME,
            &[
                Text(&settled.status_id),
                Text(&settled.id),
                Text(&settled.version),
                OptText(settled.failure.as_deref()),
            ],
        )
        .await?;
    }
    let status = StatusRecord {
        id: req.status_id.clone(),
        owner: req.owner.clone(),
        collection: req.collection.clone(),
        request_us: req.now_us,
        successes,
        failures: req.failures.clone(),
        pendings: req
            .pending
            .iter()
            .map(PendingObject::status_detail)
            .collect(),
    };
    s.execute(
        sql::INSERT_STATUS,
        &[
            Text(&status.id),
            Text(&status.owner),
            Text(&status.collection),
            Int(status.request_us),
            Text(&to_json(&status.successes)?),
            Text(&to_json(&status.failures)?),
        ],
    )
    .await?;
    Ok(status)
}

/// Versions received from partners, each with the origin's binding: whether each was stored
/// (or replaced a relay's copy); the audit intents of the stored ones are kept with them.
pub(crate) async fn add_received<S: Statements>(
    s: &mut S,
    collection: &str,
    now_us: i64,
    objects: &[ReceivedObject],
    clock: &mut Clock,
) -> Result<Vec<bool>, StoreError> {
    let mut flags = Vec::with_capacity(objects.len());
    let mut intents = Vec::new();
    for r in objects {
        let o = &r.object;
        let next = Clock {
            seq: clock.seq + 1,
            added: (clock.added + 1).max(now_us),
        };
        let (previous, newest) = newest_before(s, collection, o).await?;
        let mut n = s
            .execute(
                sql::INSERT_RECEIVED,
                &[
                    Text(collection),
                    Text(&o.id),
                    Text(&o.version_key),
                    Int(next.seq),
                    Int(next.added),
                    Text(&o.kind),
                    Text(&o.spec_version),
                    Text(&o.version),
                    Text(o.originator.as_str()),
                    Text(&o.json),
                    Int(i64::from(newest)),
                ],
            )
            .await?;
        if let (0, true, Some(binding)) = (n, r.supersedes, &r.binding) {
            n = s
                .execute(
                    sql::SUPERSEDE_RECEIVED,
                    &[
                        Text(collection),
                        Text(&o.id),
                        Text(&o.version_key),
                        Int(next.seq),
                        Int(next.added),
                        Text(&o.json),
                    ],
                )
                .await?;
            if n > 0 {
                *clock = next;
                s.execute(
                    sql::SUPERSEDE_BINDING,
                    &[
                        Text(collection),
                        Text(&o.id),
                        Text(&o.version_key),
                        Text(r.sender.as_str()),
                        Text(binding),
                    ],
                )
                .await?;
                intents.extend(r.intent.as_deref());
            }
            flags.push(n > 0);
            continue;
        }
        if n > 0 {
            *clock = next;
            if let (true, Some(older)) = (newest, &previous) {
                s.execute(
                    sql::CLEAR_LATEST,
                    &[Text(collection), Text(&o.id), Text(older)],
                )
                .await?;
            }
            if let Some(binding) = &r.binding {
                s.execute(
                    sql::INSERT_BINDING,
                    &[
                        Text(collection),
                        Text(&o.id),
                        Text(&o.version_key),
                        Text(o.originator.as_str()),
                        Text(r.sender.as_str()),
                        Text(binding),
                    ],
                )
                .await?;
            }
            intents.extend(r.intent.as_deref());
        }
        flags.push(n > 0);
    }
    insert_intents(s, &intents).await?;
    Ok(flags)
}

/// Soft-deletes the live versions of one object among `keys`: how many were deleted.
pub(crate) async fn delete_versions<S: Statements>(
    s: &mut S,
    collection: &str,
    id: &str,
    keys: &[String],
    clock: &mut Clock,
) -> Result<u64, StoreError> {
    let mut n = 0;
    for key in keys {
        n += u64::from(tombstone(s, collection, id, key, clock).await?);
    }
    Ok(n)
}

/// Withdraws a received version on its origin's recall: deleted, the recall kept with its
/// binding, its audit intent kept. False when no such live version was held.
pub(crate) async fn recall<S: Statements>(
    s: &mut S,
    (collection, id, key): (&str, &str, &str),
    recall: &str,
    intent: Option<&str>,
    clock: &mut Clock,
) -> Result<bool, StoreError> {
    let done = tombstone(s, collection, id, key, clock).await?;
    if done {
        s.execute(
            sql::SET_RECALL,
            &[Text(collection), Text(id), Text(key), Text(recall)],
        )
        .await?;
        insert_intents(s, intent.as_slice()).await?;
    }
    Ok(done)
}

/// Moves a named cursor, keeping `intents` in the same transaction.
pub(crate) async fn set_cursor<S: Statements>(
    s: &mut S,
    name: &str,
    cursor: &Cursor,
    intents: &[&str],
) -> Result<(), StoreError> {
    s.execute(
        sql::UPSERT_CURSOR,
        &[Text(name), Int(cursor.seq), Text(&cursor.fingerprint)],
    )
    .await?;
    insert_intents(s, intents).await
}

pub(crate) async fn put_collection<S: Statements>(
    s: &mut S,
    c: &CollectionInfo,
) -> Result<(), StoreError> {
    s.execute(
        sql::UPSERT_COLLECTION,
        &[
            Text(&c.id),
            Text(&c.title),
            OptText(c.description.as_deref()),
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn put_user<S: Statements>(s: &mut S, u: &User) -> Result<(), StoreError> {
    s.execute(
        sql::UPSERT_USER,
        &[
            Text(&u.name),
            Text(u.nation.as_str()),
            Text(&u.clearance_policy),
            Text(&u.clearance_level),
            Text(&to_json(&u.clearance_caveats)?),
            OptText(u.password_hash.as_deref()),
            Text(&to_json(&u.rights)?),
        ],
    )
    .await?;
    Ok(())
}

/// Keeps a token of a known user; an unknown user is an error naming them.
pub(crate) async fn add_token<S: Statements>(
    s: &mut S,
    name: &str,
    token_hash: &str,
) -> Result<(), StoreError> {
    if s.text(sql::SELECT_USER_NAME, &[Text(name)])
        .await?
        .is_none()
    {
        return Err(crate::error::StoreErrorKind::NotFound(format!("user {name:?}")).into());
    }
    s.execute(sql::INSERT_TOKEN, &[Text(token_hash), Text(name)])
        .await?;
    Ok(())
}

/// Forgets the audit intents up to `through` (recorded in the audit log): how many.
pub(crate) async fn clear_intents<S: Statements>(
    s: &mut S,
    through: i64,
) -> Result<u64, StoreError> {
    s.execute(sql::DELETE_INTENTS, &[Int(through)]).await
}

/// Soft-deletes one live version, giving it the next `seq` (a tombstone in the change stream).
async fn tombstone<S: Statements>(
    s: &mut S,
    collection: &str,
    id: &str,
    key: &str,
    clock: &mut Clock,
) -> Result<bool, StoreError> {
    let next = Clock {
        seq: clock.seq + 1,
        added: clock.added + 1,
    };
    let n = s
        .execute(
            sql::DELETE_VERSION,
            &[
                Text(collection),
                Text(id),
                Text(key),
                Int(next.seq),
                Int(next.added),
            ],
        )
        .await?;
    if n > 0 {
        *clock = next;
        refresh_latest(s, collection, id).await?;
    }
    Ok(n > 0)
}

/// Keeps `latest` right on the versions of one object after a write to them.
/// The newest live version of `o`'s object before `o` is written, and whether `o` becomes the
/// latest: it does unless a newer one is live (an equal key is this very version, already live,
/// left untouched).
async fn newest_before<S: Statements>(
    s: &mut S,
    collection: &str,
    o: &NewObject,
) -> Result<(Option<String>, bool), StoreError> {
    let previous = s
        .text(sql::SELECT_LATEST_KEY, &[Text(collection), Text(&o.id)])
        .await?;
    let newest = previous
        .as_deref()
        .is_none_or(|k| k < o.version_key.as_str());
    Ok((previous, newest))
}

async fn refresh_latest<S: Statements>(
    s: &mut S,
    collection: &str,
    id: &str,
) -> Result<(), StoreError> {
    s.execute(sql::REFRESH_LATEST, &[Text(collection), Text(id)])
        .await?;
    Ok(())
}

/// Keeps audit events as intents, each at the next intent position (in commit order: the
/// intent clock is locked until the commit where the database is shared).
async fn insert_intents<S: Statements>(s: &mut S, events: &[&str]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let query = if S::SHARED {
        sql::LOCK_INTENT_CLOCK
    } else {
        sql::SELECT_INTENT_CLOCK
    };
    let [mut seq] = s.ints(query, &[]).await?;
    for event in events {
        seq += 1;
        s.execute(sql::INSERT_INTENT, &[Int(seq), Text(event)])
            .await?;
    }
    s.execute(sql::UPDATE_INTENT_CLOCK, &[Int(seq)]).await?;
    Ok(())
}
