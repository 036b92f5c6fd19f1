//! The [`Store`] trait over SQLite: reads on the pool of read-only connections, writes handed
//! to the writer thread.

use rusqlite::{params, OptionalExtension};

use super::writer::Write;
use super::SqliteStore;
use crate::error::StoreError;
use crate::model::*;
use crate::rows::{from_json, nation, stored_object, user_from, RawObject};
use crate::sql::{self, Param};
use crate::Store;

fn object_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawObject> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn finish(rows: Vec<RawObject>) -> Result<Vec<StoredObject>, StoreError> {
    rows.into_iter().map(stored_object).collect()
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 7]> {
    Ok([
        r.get(0)?,
        r.get(6)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ])
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn put_collection(&self, collection: &CollectionInfo) -> Result<(), StoreError> {
        let c = collection.clone();
        self.write(|reply| Write::PutCollection(c, reply)).await
    }

    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        self.read(|conn| {
            let mut st = conn.prepare_cached(sql::SELECT_COLLECTIONS)?;
            let rows = st.query_map([], |r| {
                Ok(CollectionInfo {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    description: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn add_objects(&self, request: AddRequest) -> Result<StatusRecord, StoreError> {
        self.write(|reply| Write::Add(request, reply)).await
    }

    async fn objects(&self, collection: &str, query: &ObjectQuery) -> Result<Page, StoreError> {
        let (text, params) = sql::objects_query(collection, query);
        let limit = query.limit;
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&text)?;
            let values: Vec<Box<dyn rusqlite::ToSql>> = params
                .into_iter()
                .map(|p| -> Box<dyn rusqlite::ToSql> {
                    match p {
                        Param::Text(t) => Box::new(t),
                        Param::Int(i) => Box::new(i),
                    }
                })
                .collect();
            let rows = st.query_map(rusqlite::params_from_iter(values.iter()), object_row)?;
            let mut objects = finish(rows.collect::<Result<Vec<_>, _>>()?)?;
            let more = objects.len() > limit;
            objects.truncate(limit);
            Ok(Page { objects, more })
        })
        .await
    }

    async fn versions(&self, collection: &str, id: &str) -> Result<Vec<StoredObject>, StoreError> {
        let (collection, id) = (collection.to_owned(), id.to_owned());
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_VERSIONS)?;
            let rows = st.query_map(params![collection, id], object_row)?;
            finish(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn delete_versions(
        &self,
        collection: &str,
        id: &str,
        version_keys: &[String],
    ) -> Result<u64, StoreError> {
        let (c, i, k) = (collection.to_owned(), id.to_owned(), version_keys.to_vec());
        self.write(|reply| Write::Delete(c, i, k, reply)).await
    }

    async fn marking(&self, id: &str) -> Result<Option<StoredObject>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_MARKING)?;
            let row = st.query_row([&id], object_row).optional()?;
            Ok(finish(row.into_iter().collect())?.pop())
        })
        .await
    }

    async fn status(&self, id: &str) -> Result<Option<StatusRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_STATUS)?;
            let row = st
                .query_row([&id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .optional()?;
            let Some((id, owner, collection, request_us, s, f)) = row else {
                return Ok(None);
            };
            let mut status = StatusRecord {
                successes: from_json(&s)?,
                failures: from_json(&f)?,
                pendings: Vec::new(),
                id,
                owner,
                collection,
                request_us,
            };
            let mut st = conn.prepare_cached(sql::SELECT_STATUS_PENDING)?;
            let rows = st.query_map([&status.id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (id, version, waiting) = row?;
                status.pendings.push(PendingObject::detail(
                    id,
                    version,
                    &from_json::<Vec<String>>(&waiting)?,
                ));
            }
            let mut st = conn.prepare_cached(sql::SELECT_STATUS_OUTCOMES)?;
            let rows = st.query_map([&status.id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?;
            for row in rows {
                status.settle(row?);
            }
            Ok(Some(status))
        })
        .await
    }

    async fn pending_objects(&self, collection: &str) -> Result<Vec<PendingRow>, StoreError> {
        let collection = collection.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_PENDING)?;
            let rows = st.query_map([&collection], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (collection, status_id, owner, id, version, version_key, waiting, json) = row?;
                out.push(PendingRow {
                    collection,
                    status_id,
                    owner,
                    object: PendingObject {
                        id,
                        version,
                        version_key,
                        waiting: from_json(&waiting)?,
                        json,
                    },
                });
            }
            Ok(out)
        })
        .await
    }

    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        let u = user.clone();
        self.write(|reply| Write::PutUser(u, reply)).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_USER)?;
            st.query_row([&name], user_row)
                .optional()?
                .map(user_from)
                .transpose()
        })
        .await
    }

    async fn add_token(&self, user: &str, token_hash: &str) -> Result<(), StoreError> {
        let (u, h) = (user.to_owned(), token_hash.to_owned());
        self.write(|reply| Write::AddToken(u, h, reply)).await
    }

    async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let hash = token_hash.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_USER_BY_TOKEN)?;
            st.query_row([&hash], user_row)
                .optional()?
                .map(user_from)
                .transpose()
        })
        .await
    }

    async fn changes(&self, after_seq: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_CHANGES)?;
            let rows = st.query_map(params![after_seq, limit], |r| {
                Ok((object_row(r)?, r.get::<_, String>(9)?, r.get::<_, i64>(10)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (raw, collection, deleted) = row?;
                out.push(Change {
                    collection,
                    deleted: deleted != 0,
                    object: stored_object(raw)?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn add_received(
        &self,
        collection: &str,
        now_us: i64,
        objects: Vec<ReceivedObject>,
    ) -> Result<Vec<bool>, StoreError> {
        let c = collection.to_owned();
        self.write(|reply| Write::Received(c, now_us, objects, reply))
            .await
    }

    async fn recall_received(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
        recall: &str,
        intent: Option<&str>,
    ) -> Result<bool, StoreError> {
        let args = (
            collection.to_owned(),
            id.to_owned(),
            version_key.to_owned(),
            recall.to_owned(),
            intent.map(str::to_owned),
        );
        self.write(|reply| Write::Recall(args.0, args.1, args.2, args.3, args.4, reply))
            .await
    }

    async fn binding(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
    ) -> Result<Option<BindingRecord>, StoreError> {
        let args = (collection.to_owned(), id.to_owned(), version_key.to_owned());
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_BINDING)?;
            let row = st
                .query_row(params![args.0, args.1, args.2], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .optional()?;
            row.map(|(origin, sender, binding, recall)| {
                Ok(BindingRecord {
                    origin: nation(&origin)?,
                    sender: nation(&sender)?,
                    binding,
                    recall,
                })
            })
            .transpose()
        })
        .await
    }

    async fn cursor(&self, name: &str) -> Result<Option<Cursor>, StoreError> {
        let name = name.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_CURSOR)?;
            Ok(st
                .query_row([&name], |r| {
                    Ok(Cursor {
                        seq: r.get(0)?,
                        fingerprint: r.get(1)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn set_cursor_with_intents(
        &self,
        name: &str,
        cursor: &Cursor,
        intents: Vec<String>,
    ) -> Result<(), StoreError> {
        let (n, c) = (name.to_owned(), cursor.clone());
        self.write(|reply| Write::SetCursor(n, c, intents, reply))
            .await
    }

    async fn audit_intents(&self, limit: usize) -> Result<Vec<AuditIntent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut st = conn.prepare_cached(sql::SELECT_INTENTS)?;
            let rows = st.query_map(params![limit], |r| {
                Ok(AuditIntent {
                    seq: r.get(0)?,
                    event: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn clear_audit_intents(&self, through: i64) -> Result<u64, StoreError> {
        self.write(|reply| Write::ClearIntents(through, reply))
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await?;
        Ok(())
    }
}
