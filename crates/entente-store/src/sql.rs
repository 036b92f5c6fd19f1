//! SQL shared by both backends. Statements are written once with `?N` placeholders (SQLite's
//! form); the PostgreSQL backend rewrites them to `$N`.

use crate::model::{ObjectQuery, VersionFilter};

/// The schema, for both backends: integers are 64-bit, JSON is kept as text so that an object is
/// served byte for byte as it was stored.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS clock (
        one BIGINT PRIMARY KEY CHECK (one = 1),
        seq BIGINT NOT NULL,
        added_us BIGINT NOT NULL
    )",
    "INSERT INTO clock (one, seq, added_us) VALUES (1, 0, 0) ON CONFLICT (one) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS objects (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        version_key TEXT NOT NULL,
        seq BIGINT NOT NULL UNIQUE,
        added_us BIGINT NOT NULL,
        kind TEXT NOT NULL,
        spec_version TEXT NOT NULL,
        version TEXT NOT NULL,
        originator TEXT NOT NULL,
        deleted BIGINT NOT NULL DEFAULT 0,
        json TEXT NOT NULL,
        latest BIGINT,
        PRIMARY KEY (collection, id, version_key)
    )",
    "CREATE INDEX IF NOT EXISTS objects_by_seq ON objects (collection, seq)",
    "CREATE INDEX IF NOT EXISTS markings ON objects (id, version_key) WHERE kind = 'marking-definition'",
    "CREATE TABLE IF NOT EXISTS statuses (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        collection TEXT NOT NULL,
        request_us BIGINT NOT NULL,
        successes TEXT NOT NULL,
        failures TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS collections (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        description TEXT
    )",
    "CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY,
        nation TEXT NOT NULL,
        clearance_policy TEXT NOT NULL,
        clearance_level TEXT NOT NULL,
        clearance_caveats TEXT NOT NULL,
        password_hash TEXT,
        rights TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS tokens (
        token_hash TEXT PRIMARY KEY,
        name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE
    )",
    // Federation: the origin's binding of each received version (and its recall), and the
    // per-partner dispatch cursors.
    "CREATE TABLE IF NOT EXISTS federation_bindings (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        version_key TEXT NOT NULL,
        origin TEXT NOT NULL,
        sender TEXT NOT NULL,
        binding TEXT NOT NULL,
        recall TEXT,
        PRIMARY KEY (collection, id, version_key)
    )",
    // Objects accepted but held back until the marking definitions they refer to are known, and
    // the outcomes of those settled since, by the status of the request that posted them.
    "CREATE TABLE IF NOT EXISTS pending_objects (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        version_key TEXT NOT NULL,
        version TEXT NOT NULL,
        status_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        waiting TEXT NOT NULL,
        request_us BIGINT NOT NULL,
        json TEXT NOT NULL,
        PRIMARY KEY (collection, id, version_key)
    )",
    "CREATE INDEX IF NOT EXISTS pending_by_status ON pending_objects (status_id)",
    "CREATE TABLE IF NOT EXISTS status_outcomes (
        status_id TEXT NOT NULL,
        id TEXT NOT NULL,
        version TEXT NOT NULL,
        failure TEXT
    )",
    "CREATE INDEX IF NOT EXISTS outcomes_by_status ON status_outcomes (status_id)",
    "CREATE TABLE IF NOT EXISTS federation_cursors (
        name TEXT PRIMARY KEY,
        seq BIGINT NOT NULL,
        fingerprint TEXT NOT NULL
    )",
    // Audit events committed with what they record, until the audit log holds them. Their
    // `seq` comes from `audit_intent_clock`, never from the table, so a position is never
    // given twice even after every intent has been cleared.
    "CREATE TABLE IF NOT EXISTS audit_intents (
        seq BIGINT PRIMARY KEY,
        event TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS audit_intent_clock (
        one BIGINT PRIMARY KEY CHECK (one = 1),
        seq BIGINT NOT NULL
    )",
    "INSERT INTO audit_intent_clock (one, seq) VALUES (1, 0) ON CONFLICT (one) DO NOTHING",
];

/// `objects.latest` is 1 on the newest live version of each object and 0 on every other row,
/// kept by the write that changes an object's versions ([`REFRESH_LATEST`] in the same
/// transaction), so that a page of latest versions reads a column instead of probing each row
/// for a newer one. A database written before the column existed gets it (NULL on every row),
/// then [`LATEST_MIGRATION`] fills it in.
pub const LATEST_MIGRATION: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS objects_latest_unset ON objects (collection, id) WHERE latest IS NULL",
    "UPDATE objects SET latest = CASE WHEN deleted = 0 AND NOT EXISTS (SELECT 1 FROM objects o2
        WHERE o2.collection = objects.collection AND o2.id = objects.id AND o2.deleted = 0
        AND o2.version_key > objects.version_key) THEN 1 ELSE 0 END
    WHERE latest IS NULL",
];

/// Sets `latest` on the versions of one object (`?1` collection, `?2` id) after a write to them;
/// only rows whose flag changes are written.
pub const REFRESH_LATEST: &str = "UPDATE objects SET latest = CASE WHEN deleted = 0 AND version_key = (
        SELECT MAX(o2.version_key) FROM objects o2 WHERE o2.collection = ?1 AND o2.id = ?2 AND o2.deleted = 0)
        THEN 1 ELSE 0 END
    WHERE collection = ?1 AND id = ?2 AND (latest IS NULL OR latest <> CASE WHEN deleted = 0 AND version_key = (
        SELECT MAX(o3.version_key) FROM objects o3 WHERE o3.collection = ?1 AND o3.id = ?2 AND o3.deleted = 0)
        THEN 1 ELSE 0 END)";

pub const OBJECT_COLUMNS: &str =
    "seq, added_us, id, kind, spec_version, version, version_key, originator, json";

/// Inserts a version, or revives it when it was deleted; an existing live version is untouched.
/// `?11` is its `latest` flag, decided by the caller from [`SELECT_LATEST_KEY`] read just before
/// (the version becomes the latest unless a newer live one exists); when it takes the flag from
/// an older version, the caller clears that one with [`CLEAR_LATEST`].
pub const INSERT_OBJECT: &str = "INSERT INTO objects
    (collection, id, version_key, seq, added_us, kind, spec_version, version, originator, deleted, json, latest)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11)
    ON CONFLICT (collection, id, version_key) DO UPDATE
    SET seq = excluded.seq, added_us = excluded.added_us, deleted = 0, json = excluded.json,
        latest = excluded.latest
    WHERE objects.deleted <> 0";
/// The newest live version key of one object (`?1` collection, `?2` id), if any: a walk down the
/// primary key index from its end, stopping at the first live row.
pub const SELECT_LATEST_KEY: &str = "SELECT version_key FROM objects
    WHERE collection = ?1 AND id = ?2 AND deleted = 0 ORDER BY version_key DESC LIMIT 1";
/// Takes the `latest` flag from one version (`?3`) that a newer live version has just replaced.
pub const CLEAR_LATEST: &str =
    "UPDATE objects SET latest = 0 WHERE collection = ?1 AND id = ?2 AND version_key = ?3";
pub const SELECT_CLOCK: &str = "SELECT seq, added_us FROM clock WHERE one = 1";
/// [`SELECT_CLOCK`] holding the row until the commit (PostgreSQL: writers of several processes
/// take `seq` and `date_added` in commit order).
pub const LOCK_CLOCK: &str = "SELECT seq, added_us FROM clock WHERE one = 1 FOR UPDATE";
pub const UPDATE_CLOCK: &str = "UPDATE clock SET seq = ?1, added_us = ?2 WHERE one = 1";
pub const SELECT_ADDED: &str =
    "SELECT added_us FROM objects WHERE collection = ?1 AND id = ?2 AND version_key = ?3";
pub const INSERT_STATUS: &str =
    "INSERT INTO statuses (id, owner, collection, request_us, successes, failures)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
pub const SELECT_STATUS: &str =
    "SELECT id, owner, collection, request_us, successes, failures FROM statuses WHERE id = ?1";
/// A held-back object; one already held back (the same version posted again) stays as it was.
pub const INSERT_PENDING: &str = "INSERT INTO pending_objects
    (collection, id, version_key, version, status_id, owner, waiting, request_us, json)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
    ON CONFLICT (collection, id, version_key) DO NOTHING";
pub const DELETE_PENDING: &str =
    "DELETE FROM pending_objects WHERE collection = ?1 AND id = ?2 AND version_key = ?3";
pub const INSERT_OUTCOME: &str =
    "INSERT INTO status_outcomes (status_id, id, version, failure) VALUES (?1, ?2, ?3, ?4)";
pub const SELECT_PENDING: &str =
    "SELECT collection, status_id, owner, id, version, version_key, waiting, json
    FROM pending_objects WHERE collection = ?1 ORDER BY request_us, id, version_key";
pub const SELECT_STATUS_PENDING: &str =
    "SELECT id, version, waiting FROM pending_objects WHERE status_id = ?1 ORDER BY id, version_key";
pub const SELECT_STATUS_OUTCOMES: &str =
    "SELECT id, version, failure FROM status_outcomes WHERE status_id = ?1 ORDER BY id, version";
pub const UPSERT_COLLECTION: &str =
    "INSERT INTO collections (id, title, description) VALUES (?1, ?2, ?3)
    ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description";
pub const SELECT_COLLECTIONS: &str = "SELECT id, title, description FROM collections ORDER BY id";
pub const SELECT_VERSIONS: &str =
    "SELECT seq, added_us, id, kind, spec_version, version, version_key, originator, json
    FROM objects WHERE collection = ?1 AND id = ?2 AND deleted = 0 ORDER BY version_key";
pub const SELECT_MARKING: &str =
    "SELECT seq, added_us, id, kind, spec_version, version, version_key, originator, json
    FROM objects WHERE kind = 'marking-definition' AND id = ?1 AND deleted = 0
    ORDER BY version_key DESC, seq DESC LIMIT 1";
/// A delete takes the next `seq`: the deleted row becomes a tombstone in the change stream that
/// federation follows (TAXII reads never see deleted rows, so their order is unchanged).
pub const DELETE_VERSION: &str =
    "UPDATE objects SET deleted = 1, seq = ?4, added_us = ?5 WHERE collection = ?1 AND id = ?2 AND version_key = ?3 AND deleted = 0";
/// Every version, live or deleted, after a `seq`, across collections (the federation stream).
pub const SELECT_CHANGES: &str =
    "SELECT seq, added_us, id, kind, spec_version, version, version_key, originator, json, collection, deleted
    FROM objects WHERE seq > ?1 ORDER BY seq LIMIT ?2";
/// A received version: stored unless any row of it exists, so a recalled version is never revived
/// by a replay.
/// A version received from a partner; `?11` is its `latest` flag, decided as for
/// [`INSERT_OBJECT`].
pub const INSERT_RECEIVED: &str = "INSERT INTO objects
    (collection, id, version_key, seq, added_us, kind, spec_version, version, originator, deleted, json, latest)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11)
    ON CONFLICT (collection, id, version_key) DO NOTHING";
pub const INSERT_BINDING: &str = "INSERT INTO federation_bindings
    (collection, id, version_key, origin, sender, binding) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (collection, id, version_key) DO NOTHING";
pub const SUPERSEDE_RECEIVED: &str = "UPDATE objects SET seq = ?4, added_us = ?5, json = ?6
    WHERE collection = ?1 AND id = ?2 AND version_key = ?3 AND deleted = 0
      AND EXISTS (SELECT 1 FROM federation_bindings b WHERE b.collection = ?1 AND b.id = ?2
                  AND b.version_key = ?3 AND b.recall IS NULL)";
pub const SUPERSEDE_BINDING: &str = "UPDATE federation_bindings SET sender = ?4, binding = ?5
    WHERE collection = ?1 AND id = ?2 AND version_key = ?3 AND recall IS NULL";
pub const SET_RECALL: &str = "UPDATE federation_bindings SET recall = ?4
    WHERE collection = ?1 AND id = ?2 AND version_key = ?3";
pub const SELECT_BINDING: &str = "SELECT origin, sender, binding, recall FROM federation_bindings
    WHERE collection = ?1 AND id = ?2 AND version_key = ?3";
pub const SELECT_CURSOR: &str = "SELECT seq, fingerprint FROM federation_cursors WHERE name = ?1";
pub const UPSERT_CURSOR: &str =
    "INSERT INTO federation_cursors (name, seq, fingerprint) VALUES (?1, ?2, ?3)
    ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, fingerprint = excluded.fingerprint";
pub const SELECT_INTENT_CLOCK: &str = "SELECT seq FROM audit_intent_clock WHERE one = 1";
/// [`SELECT_INTENT_CLOCK`] holding the row until the commit (intent positions in commit order).
pub const LOCK_INTENT_CLOCK: &str = "SELECT seq FROM audit_intent_clock WHERE one = 1 FOR UPDATE";
pub const UPDATE_INTENT_CLOCK: &str = "UPDATE audit_intent_clock SET seq = ?1 WHERE one = 1";
pub const INSERT_INTENT: &str = "INSERT INTO audit_intents (seq, event) VALUES (?1, ?2)";
pub const SELECT_INTENTS: &str = "SELECT seq, event FROM audit_intents ORDER BY seq LIMIT ?1";
pub const DELETE_INTENTS: &str = "DELETE FROM audit_intents WHERE seq <= ?1";
pub const UPSERT_USER: &str = "INSERT INTO users (name, nation, clearance_policy, clearance_level, clearance_caveats, password_hash, rights)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT (name) DO UPDATE SET nation = excluded.nation, clearance_policy = excluded.clearance_policy,
    clearance_level = excluded.clearance_level, clearance_caveats = excluded.clearance_caveats,
    password_hash = excluded.password_hash, rights = excluded.rights";
pub const SELECT_USER: &str =
    "SELECT name, nation, clearance_policy, clearance_level, clearance_caveats, password_hash, rights FROM users WHERE name = ?1";
pub const SELECT_USER_BY_TOKEN: &str = "SELECT u.name, u.nation, u.clearance_policy, u.clearance_level, u.clearance_caveats, u.password_hash, u.rights
    FROM tokens t JOIN users u ON u.name = t.name WHERE t.token_hash = ?1";
pub const SELECT_USER_NAME: &str = "SELECT name FROM users WHERE name = ?1";
pub const INSERT_TOKEN: &str =
    "INSERT INTO tokens (token_hash, name) VALUES (?1, ?2) ON CONFLICT (token_hash) DO NOTHING";

/// A query parameter.
#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    Int(i64),
}

/// The page query for [`ObjectQuery`]: SQL with `?N` placeholders and its parameters. One row more
/// than the limit is asked for, to know whether more remain.
pub fn objects_query(collection: &str, q: &ObjectQuery) -> (String, Vec<Param>) {
    let mut params = vec![Param::Text(collection.to_owned()), Param::Int(q.after_seq)];
    let mut sql = format!(
        "SELECT {OBJECT_COLUMNS} FROM objects o WHERE o.collection = ?1 AND o.seq > ?2 AND o.deleted = 0"
    );
    let mut push = |sql: &mut String, p: Param| {
        params.push(p);
        let n = params.len();
        sql.push_str(&format!("?{n}"));
    };
    if let Some(us) = q.added_after_us {
        sql.push_str(" AND o.added_us > ");
        push(&mut sql, Param::Int(us));
    }
    for (column, values) in [
        ("o.id", &q.ids),
        ("o.kind", &q.kinds),
        ("o.spec_version", &q.spec_versions),
    ] {
        if values.is_empty() {
            continue;
        }
        sql.push_str(&format!(" AND {column} IN ("));
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            push(&mut sql, Param::Text(v.clone()));
        }
        sql.push(')');
    }
    let VersionFilter {
        first,
        last,
        all,
        keys,
    } = &q.versions;
    if !all {
        let mut alternatives = Vec::new();
        let newer = "NOT EXISTS (SELECT 1 FROM objects o2 WHERE o2.collection = o.collection AND o2.id = o.id AND o2.deleted = 0 AND o2.version_key";
        if *last {
            alternatives.push("o.latest = 1".to_owned());
        }
        if *first {
            alternatives.push(format!("{newer} < o.version_key)"));
        }
        if !keys.is_empty() {
            let mut s = String::from("o.version_key IN (");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                push(&mut s, Param::Text(k.clone()));
            }
            s.push(')');
            alternatives.push(s);
        }
        if alternatives.is_empty() {
            alternatives.push("1 = 0".to_owned());
        }
        sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    sql.push_str(" ORDER BY o.seq LIMIT ");
    push(&mut sql, Param::Int(q.limit.saturating_add(1) as i64));
    (sql, params)
}

/// Rewrites `?N` placeholders to PostgreSQL's `$N`.
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}
