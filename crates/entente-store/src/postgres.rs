//! The PostgreSQL backend: several stateless node processes may share one database.
//!
//! Writers serialize on the single row of the `clock` table (`SELECT … FOR UPDATE`), so `seq` and
//! `date_added` are assigned in commit order across processes: a reader paging by `seq` never
//! skips a version committed after it read a later one. Each store works in one schema (created on
//! connect), which lets test runs share a server without colliding.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Mutex;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Transaction};

use crate::error::{StoreError, StoreErrorKind};
use crate::model::*;
use crate::sql::{self, to_postgres, Param};
use crate::sqlite::{from_json, stored_object, to_json, user_from};
use crate::Store;

/// Connections kept open per store.
const POOL: usize = 4;

/// The PostgreSQL store.
pub struct PostgresStore {
    clients: Vec<Mutex<Client>>,
    next: AtomicUsize,
}

/// Whether `schema` is a plain lowercase identifier (it is interpolated into SQL).
fn check_schema(schema: &str) -> Result<(), StoreError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(StoreErrorKind::Config(format!(
            "schema name {schema:?} must be lowercase letters, digits and underscores"
        ))
        .into())
    }
}

impl PostgresStore {
    /// Connects to `url` (a libpq-style URL or key-value string) and works in `schema`, creating it
    /// and the tables when missing.
    pub async fn connect(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        check_schema(schema)?;
        let mut clients = Vec::with_capacity(POOL);
        for i in 0..POOL {
            let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "postgres connection ended");
                }
            });
            if i == 0 {
                client
                    .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .await?;
            }
            client
                .batch_execute(&format!("SET search_path TO {schema}"))
                .await?;
            clients.push(Mutex::new(client));
        }
        {
            let mut c = clients[0].lock().await;
            let tx = c.transaction().await?;
            // Concurrent first starts of several processes create the tables one at a time.
            tx.batch_execute("SELECT pg_advisory_xact_lock(74201)")
                .await?;
            for statement in sql::SCHEMA {
                tx.batch_execute(statement).await?;
            }
            tx.batch_execute("ALTER TABLE objects ADD COLUMN IF NOT EXISTS latest BIGINT")
                .await?;
            for statement in sql::LATEST_MIGRATION {
                tx.batch_execute(statement).await?;
            }
            tx.commit().await?;
        }
        tracing::info!(schema, "postgres store connected");
        Ok(PostgresStore {
            clients,
            next: AtomicUsize::new(0),
        })
    }

    /// Drops a schema and everything in it (for tests).
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        check_schema(schema)?;
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        let task = tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await?;
        drop(client);
        let _ = task.await;
        Ok(())
    }

    fn client(&self) -> &Mutex<Client> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len();
        &self.clients[i]
    }
}

fn object(row: &Row) -> Result<StoredObject, StoreError> {
    stored_object((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
        row.try_get(7)?,
        row.try_get(8)?,
    ))
}

fn user(row: &Row) -> Result<User, StoreError> {
    user_from([
        row.try_get(0)?,
        row.try_get(6)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
    ])
}

async fn add(tx: &Transaction<'_>, req: &AddRequest) -> Result<StatusRecord, StoreError> {
    let clock = tx
        .query_one(&format!("{} FOR UPDATE", sql::SELECT_CLOCK), &[])
        .await?;
    let (mut seq, mut added): (i64, i64) = (clock.try_get(0)?, clock.try_get(1)?);
    let insert = tx.prepare(&to_postgres(sql::INSERT_OBJECT)).await?;
    let latest_key = tx.prepare(&to_postgres(sql::SELECT_LATEST_KEY)).await?;
    let clear_latest = tx.prepare(&to_postgres(sql::CLEAR_LATEST)).await?;
    let added_of = tx
        .prepare(
            "SELECT added_us FROM objects WHERE collection = $1 AND id = $2 AND version_key = $3",
        )
        .await?;
    let mut successes = Vec::with_capacity(req.objects.len());
    for o in &req.objects {
        seq += 1;
        added = (added + 1).max(req.now_us);
        // The newest live version before this one: the new version is the latest unless a newer
        // one is live (an equal key is this very version, already live, left untouched).
        let previous: Option<String> = tx
            .query_opt(&latest_key, &[&req.collection, &o.id])
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        let newest = previous
            .as_deref()
            .is_none_or(|k| k < o.version_key.as_str());
        let changed = tx
            .execute(
                &insert,
                &[
                    &req.collection,
                    &o.id,
                    &o.version_key,
                    &seq,
                    &added,
                    &o.kind,
                    &o.spec_version,
                    &o.version,
                    &o.originator.as_str(),
                    &o.json,
                    &i64::from(newest),
                ],
            )
            .await?;
        if changed > 0 && newest {
            if let Some(older) = &previous {
                tx.execute(&clear_latest, &[&req.collection, &o.id, older])
                    .await?;
            }
        }
        let version = if !o.version.is_empty() {
            o.version.clone()
        } else if changed > 0 {
            format_added(added)
        } else {
            let row = tx
                .query_one(&added_of, &[&req.collection, &o.id, &o.version_key])
                .await?;
            format_added(row.try_get(0)?)
        };
        successes.push(StatusDetail {
            id: o.id.clone(),
            version,
            message: None,
        });
    }
    tx.execute(&to_postgres(sql::UPDATE_CLOCK), &[&seq, &added])
        .await?;
    for p in &req.pending {
        tx.execute(
            &to_postgres(sql::INSERT_PENDING),
            &[
                &req.collection,
                &p.id,
                &p.version_key,
                &p.version,
                &req.status_id,
                &req.owner,
                &to_json(&p.waiting)?,
                &req.now_us,
                &p.json,
            ],
        )
        .await?;
    }
    for settled in &req.settles {
        // Settled once: a concurrent settling of the same object finds it gone.
        let held = tx
            .execute(
                &to_postgres(sql::DELETE_PENDING),
                &[&req.collection, &settled.id, &settled.version_key],
            )
            .await?;
        if held == 0 {
            continue;
        }
        tx.execute(
            &to_postgres(sql::INSERT_OUTCOME),
            &[
                &settled.status_id,
                &settled.id,
                &settled.version,
                &settled.failure,
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
    tx.execute(
        &to_postgres(sql::INSERT_STATUS),
        &[
            &status.id,
            &status.owner,
            &status.collection,
            &status.request_us,
            &to_json(&status.successes)?,
            &to_json(&status.failures)?,
        ],
    )
    .await?;
    Ok(status)
}

async fn lock_clock(tx: &Transaction<'_>) -> Result<(i64, i64), StoreError> {
    let clock = tx
        .query_one(&format!("{} FOR UPDATE", sql::SELECT_CLOCK), &[])
        .await?;
    Ok((clock.try_get(0)?, clock.try_get(1)?))
}

async fn save_clock(tx: &Transaction<'_>, (seq, added): (i64, i64)) -> Result<(), StoreError> {
    tx.execute(&to_postgres(sql::UPDATE_CLOCK), &[&seq, &added])
        .await?;
    Ok(())
}

/// Keeps audit events as intents, each at the next intent position (the clock row locked until
/// the commit, so positions follow commit order across processes).
async fn insert_intents(tx: &Transaction<'_>, events: &[&str]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let row = tx
        .query_one(&format!("{} FOR UPDATE", sql::SELECT_INTENT_CLOCK), &[])
        .await?;
    let mut seq: i64 = row.try_get(0)?;
    let insert = tx.prepare(&to_postgres(sql::INSERT_INTENT)).await?;
    for event in events {
        seq += 1;
        tx.execute(&insert, &[&seq, event]).await?;
    }
    tx.execute(&to_postgres(sql::UPDATE_INTENT_CLOCK), &[&seq])
        .await?;
    Ok(())
}

/// Soft-deletes one live version with the next `seq` (a tombstone in the change stream).
async fn tombstone(
    tx: &Transaction<'_>,
    collection: &str,
    id: &str,
    key: &str,
    clock: &mut (i64, i64),
) -> Result<bool, StoreError> {
    let (seq, added) = (clock.0 + 1, clock.1 + 1);
    let n = tx
        .execute(
            &to_postgres(sql::DELETE_VERSION),
            &[&collection, &id, &key, &seq, &added],
        )
        .await?;
    if n > 0 {
        *clock = (seq, added);
        tx.execute(&to_postgres(sql::REFRESH_LATEST), &[&collection, &id])
            .await?;
    }
    Ok(n > 0)
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn put_collection(&self, c: &CollectionInfo) -> Result<(), StoreError> {
        let client = self.client().lock().await;
        client
            .execute(
                &to_postgres(sql::UPSERT_COLLECTION),
                &[&c.id, &c.title, &c.description],
            )
            .await?;
        Ok(())
    }

    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        let client = self.client().lock().await;
        let rows = client.query(sql::SELECT_COLLECTIONS, &[]).await?;
        rows.iter()
            .map(|r| {
                Ok(CollectionInfo {
                    id: r.try_get(0)?,
                    title: r.try_get(1)?,
                    description: r.try_get(2)?,
                })
            })
            .collect()
    }

    async fn add_objects(&self, request: AddRequest) -> Result<StatusRecord, StoreError> {
        let mut client = self.client().lock().await;
        let tx = client.transaction().await?;
        let status = add(&tx, &request).await?;
        tx.commit().await?;
        Ok(status)
    }

    async fn objects(&self, collection: &str, query: &ObjectQuery) -> Result<Page, StoreError> {
        let (text, params) = sql::objects_query(collection, query);
        let values: Vec<Box<dyn ToSql + Sync + Send>> = params
            .into_iter()
            .map(|p| -> Box<dyn ToSql + Sync + Send> {
                match p {
                    Param::Text(t) => Box::new(t),
                    Param::Int(i) => Box::new(i),
                }
            })
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let client = self.client().lock().await;
        let rows = client.query(&to_postgres(&text), &refs).await?;
        let mut objects = rows.iter().map(object).collect::<Result<Vec<_>, _>>()?;
        let more = objects.len() > query.limit;
        objects.truncate(query.limit);
        Ok(Page { objects, more })
    }

    async fn versions(&self, collection: &str, id: &str) -> Result<Vec<StoredObject>, StoreError> {
        let client = self.client().lock().await;
        let rows = client
            .query(&to_postgres(sql::SELECT_VERSIONS), &[&collection, &id])
            .await?;
        rows.iter().map(object).collect()
    }

    async fn delete_versions(
        &self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<u64, StoreError> {
        let mut client = self.client().lock().await;
        let tx = client.transaction().await?;
        let mut clock = lock_clock(&tx).await?;
        let mut n = 0;
        for k in version_keys {
            n += u64::from(tombstone(&tx, collection, id, k, &mut clock).await?);
        }
        save_clock(&tx, clock).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn marking(&self, id: &str) -> Result<Option<StoredObject>, StoreError> {
        let client = self.client().lock().await;
        let row = client
            .query_opt(&to_postgres(sql::SELECT_MARKING), &[&id])
            .await?;
        row.as_ref().map(object).transpose()
    }

    async fn status(&self, id: &str) -> Result<Option<StatusRecord>, StoreError> {
        let client = self.client().lock().await;
        let row = client
            .query_opt(&to_postgres(sql::SELECT_STATUS), &[&id])
            .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let mut status = StatusRecord {
            id: r.try_get(0)?,
            owner: r.try_get(1)?,
            collection: r.try_get(2)?,
            request_us: r.try_get(3)?,
            successes: from_json(r.try_get(4)?)?,
            failures: from_json(r.try_get(5)?)?,
            pendings: Vec::new(),
        };
        for r in client
            .query(&to_postgres(sql::SELECT_STATUS_PENDING), &[&id])
            .await?
        {
            status.pendings.push(PendingObject::detail(
                r.try_get(0)?,
                r.try_get(1)?,
                &from_json::<Vec<String>>(r.try_get(2)?)?,
            ));
        }
        for r in client
            .query(&to_postgres(sql::SELECT_STATUS_OUTCOMES), &[&id])
            .await?
        {
            status.settle((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
        }
        Ok(Some(status))
    }

    async fn pending_objects(&self, collection: &str) -> Result<Vec<PendingRow>, StoreError> {
        let client = self.client().lock().await;
        let rows = client
            .query(&to_postgres(sql::SELECT_PENDING), &[&collection])
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingRow {
                    collection: r.try_get(0)?,
                    status_id: r.try_get(1)?,
                    owner: r.try_get(2)?,
                    object: PendingObject {
                        id: r.try_get(3)?,
                        version: r.try_get(4)?,
                        version_key: r.try_get(5)?,
                        waiting: from_json(r.try_get(6)?)?,
                        json: r.try_get(7)?,
                    },
                })
            })
            .collect()
    }

    async fn put_user(&self, u: &User) -> Result<(), StoreError> {
        let client = self.client().lock().await;
        client
            .execute(
                &to_postgres(sql::UPSERT_USER),
                &[
                    &u.name,
                    &u.nation.as_str(),
                    &u.clearance_policy,
                    &u.clearance_level,
                    &to_json(&u.clearance_caveats)?,
                    &u.password_hash,
                    &to_json(&u.rights)?,
                ],
            )
            .await?;
        Ok(())
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let client = self.client().lock().await;
        let row = client
            .query_opt(&to_postgres(sql::SELECT_USER), &[&name])
            .await?;
        row.as_ref().map(user).transpose()
    }

    async fn add_token(&self, name: &str, token_hash: &str) -> Result<(), StoreError> {
        let client = self.client().lock().await;
        let known = client
            .query_opt("SELECT name FROM users WHERE name = $1", &[&name])
            .await?;
        if known.is_none() {
            return Err(StoreErrorKind::NotFound(format!("user {name:?}")).into());
        }
        client
            .execute(&to_postgres(sql::INSERT_TOKEN), &[&token_hash, &name])
            .await?;
        Ok(())
    }

    async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let client = self.client().lock().await;
        let row = client
            .query_opt(&to_postgres(sql::SELECT_USER_BY_TOKEN), &[&token_hash])
            .await?;
        row.as_ref().map(user).transpose()
    }

    async fn changes(&self, after_seq: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().lock().await;
        let rows = client
            .query(&to_postgres(sql::SELECT_CHANGES), &[&after_seq, &limit])
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Change {
                    collection: r.try_get(9)?,
                    deleted: r.try_get::<_, i64>(10)? != 0,
                    object: object(r)?,
                })
            })
            .collect()
    }

    async fn add_received(
        &self,
        collection: &str,
        now_us: i64,
        objects: Vec<ReceivedObject>,
    ) -> Result<Vec<bool>, StoreError> {
        let mut client = self.client().lock().await;
        let tx = client.transaction().await?;
        let (mut seq, mut added) = lock_clock(&tx).await?;
        let insert = tx.prepare(&to_postgres(sql::INSERT_RECEIVED)).await?;
        let refresh = tx.prepare(&to_postgres(sql::REFRESH_LATEST)).await?;
        let mut flags = Vec::with_capacity(objects.len());
        let mut intents: Vec<&str> = Vec::new();
        for r in &objects {
            let o = &r.object;
            let (next_seq, next_added) = (seq + 1, (added + 1).max(now_us));
            let mut n = tx
                .execute(
                    &insert,
                    &[
                        &collection,
                        &o.id,
                        &o.version_key,
                        &next_seq,
                        &next_added,
                        &o.kind,
                        &o.spec_version,
                        &o.version,
                        &o.originator.as_str(),
                        &o.json,
                    ],
                )
                .await?;
            if let (0, true, Some(binding)) = (n, r.supersedes, &r.binding) {
                n = tx
                    .execute(
                        &to_postgres(sql::SUPERSEDE_RECEIVED),
                        &[
                            &collection,
                            &o.id,
                            &o.version_key,
                            &next_seq,
                            &next_added,
                            &o.json,
                        ],
                    )
                    .await?;
                if n > 0 {
                    (seq, added) = (next_seq, next_added);
                    tx.execute(
                        &to_postgres(sql::SUPERSEDE_BINDING),
                        &[
                            &collection,
                            &o.id,
                            &o.version_key,
                            &r.sender.as_str(),
                            binding,
                        ],
                    )
                    .await?;
                    intents.extend(r.intent.as_deref());
                }
                flags.push(n > 0);
                continue;
            }
            if n > 0 {
                (seq, added) = (next_seq, next_added);
                tx.execute(&refresh, &[&collection, &o.id]).await?;
                if let Some(binding) = &r.binding {
                    tx.execute(
                        &to_postgres(sql::INSERT_BINDING),
                        &[
                            &collection,
                            &o.id,
                            &o.version_key,
                            &o.originator.as_str(),
                            &r.sender.as_str(),
                            binding,
                        ],
                    )
                    .await?;
                }
                intents.extend(r.intent.as_deref());
            }
            flags.push(n > 0);
        }
        insert_intents(&tx, &intents).await?;
        save_clock(&tx, (seq, added)).await?;
        tx.commit().await?;
        Ok(flags)
    }

    async fn recall_received(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
        recall: &str,
        intent: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().lock().await;
        let tx = client.transaction().await?;
        let mut clock = lock_clock(&tx).await?;
        let done = tombstone(&tx, collection, id, version_key, &mut clock).await?;
        if done {
            tx.execute(
                &to_postgres(sql::SET_RECALL),
                &[&collection, &id, &version_key, &recall],
            )
            .await?;
            insert_intents(&tx, intent.as_slice()).await?;
        }
        save_clock(&tx, clock).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn binding(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
    ) -> Result<Option<BindingRecord>, StoreError> {
        let client = self.client().lock().await;
        let row = client
            .query_opt(
                &to_postgres(sql::SELECT_BINDING),
                &[&collection, &id, &version_key],
            )
            .await?;
        row.map(|r| {
            Ok(BindingRecord {
                origin: crate::sqlite::nation(r.try_get(0)?)?,
                sender: crate::sqlite::nation(r.try_get(1)?)?,
                binding: r.try_get(2)?,
                recall: r.try_get(3)?,
            })
        })
        .transpose()
    }

    async fn cursor(&self, name: &str) -> Result<Option<Cursor>, StoreError> {
        let client = self.client().lock().await;
        let row = client
            .query_opt(&to_postgres(sql::SELECT_CURSOR), &[&name])
            .await?;
        row.map(|r| {
            Ok(Cursor {
                seq: r.try_get(0)?,
                fingerprint: r.try_get(1)?,
            })
        })
        .transpose()
    }

    async fn set_cursor_with_intents(
        &self,
        name: &str,
        cursor: &Cursor,
        intents: Vec<String>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().lock().await;
        let tx = client.transaction().await?;
        tx.execute(
            &to_postgres(sql::UPSERT_CURSOR),
            &[&name, &cursor.seq, &cursor.fingerprint],
        )
        .await?;
        let events: Vec<&str> = intents.iter().map(String::as_str).collect();
        insert_intents(&tx, &events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_intents(&self, limit: usize) -> Result<Vec<AuditIntent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().lock().await;
        let rows = client
            .query(&to_postgres(sql::SELECT_INTENTS), &[&limit])
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditIntent {
                    seq: r.try_get(0)?,
                    event: r.try_get(1)?,
                })
            })
            .collect()
    }

    async fn clear_audit_intents(&self, through: i64) -> Result<u64, StoreError> {
        let client = self.client().lock().await;
        Ok(client
            .execute(&to_postgres(sql::DELETE_INTENTS), &[&through])
            .await?)
    }
}
