//! The PostgreSQL backend: several stateless node processes may share one database.
//!
//! Writers serialize on the single row of the `clock` table (`SELECT … FOR UPDATE`), so `seq` and
//! `date_added` are assigned in commit order across processes: a reader paging by `seq` never
//! skips a version committed after it read a later one. Each store works in one schema (created on
//! connect), which lets test runs share a server without colliding.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Mutex;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, NoTls, Row, Statement};

use crate::error::{StoreError, StoreErrorKind};
use crate::model::*;
use crate::rows::{from_json, nation, stored_object, user_from};
use crate::sql::{self, to_postgres, Param};
use crate::writes::{self, Arg, Statements};
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

/// Statements of [`crate::writes`] on one connection or transaction, each prepared once for it.
struct PgStatements<'c, C: GenericClient> {
    client: &'c C,
    prepared: HashMap<&'static str, Statement>,
}

impl<'c, C: GenericClient> PgStatements<'c, C> {
    fn new(client: &'c C) -> Self {
        PgStatements {
            client,
            prepared: HashMap::new(),
        }
    }

    async fn prepared(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&to_postgres(sql)).await?;
        self.prepared.insert(sql, statement.clone());
        Ok(statement)
    }
}

fn pg_args<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter()
        .map(|a| -> &(dyn ToSql + Sync) {
            match a {
                Arg::Text(t) => t,
                Arg::OptText(t) => t,
                Arg::Int(i) => i,
            }
        })
        .collect()
}

impl<C: GenericClient + Sync> Statements for PgStatements<'_, C> {
    const SHARED: bool = true;

    async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let statement = self.prepared(sql).await?;
        Ok(self.client.execute(&statement, &pg_args(args)).await?)
    }

    async fn text(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<String>, StoreError> {
        let statement = self.prepared(sql).await?;
        let row = self.client.query_opt(&statement, &pg_args(args)).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn ints<const N: usize>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<[i64; N], StoreError> {
        let statement = self.prepared(sql).await?;
        let row = self.client.query_one(&statement, &pg_args(args)).await?;
        let mut out = [0; N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = row.try_get(i)?;
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn put_collection(&self, c: &CollectionInfo) -> Result<(), StoreError> {
        let client = self.client().lock().await;
        writes::put_collection(&mut PgStatements::new(&*client), c).await
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
        let mut s = PgStatements::new(&tx);
        let mut clock = writes::read_clock(&mut s).await?;
        let status = writes::add(&mut s, &request, &mut clock).await?;
        writes::save_clock(&mut s, clock).await?;
        drop(s);
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
        let mut s = PgStatements::new(&tx);
        let mut clock = writes::read_clock(&mut s).await?;
        let n = writes::delete_versions(&mut s, collection, id, version_keys, &mut clock).await?;
        writes::save_clock(&mut s, clock).await?;
        drop(s);
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
        writes::put_user(&mut PgStatements::new(&*client), u).await
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
        writes::add_token(&mut PgStatements::new(&*client), name, token_hash).await
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
        let mut s = PgStatements::new(&tx);
        let mut clock = writes::read_clock(&mut s).await?;
        let flags = writes::add_received(&mut s, collection, now_us, &objects, &mut clock).await?;
        writes::save_clock(&mut s, clock).await?;
        drop(s);
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
        let mut s = PgStatements::new(&tx);
        let mut clock = writes::read_clock(&mut s).await?;
        let version = (collection, id, version_key);
        let done = writes::recall(&mut s, version, recall, intent, &mut clock).await?;
        writes::save_clock(&mut s, clock).await?;
        drop(s);
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
                origin: nation(r.try_get(0)?)?,
                sender: nation(r.try_get(1)?)?,
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
        let events: Vec<&str> = intents.iter().map(String::as_str).collect();
        writes::set_cursor(&mut PgStatements::new(&tx), name, cursor, &events).await?;
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
        writes::clear_intents(&mut PgStatements::new(&*client), through).await
    }
}
