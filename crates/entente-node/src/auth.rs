//! Who is asking: HTTP Basic (argon2id password hashes) or bearer tokens (stored as SHA-256).
//!
//! Argon2 is slow on purpose (tens of milliseconds), so a verified `Authorization` header is
//! remembered for a short time ([`CredentialCache`]): a client that sends the same credentials on
//! every request pays for one verification per [`CREDENTIAL_TTL`], not one per request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::http::{header, HeaderMap};
use base64::Engine;
use entente_store::{Store, User};
use sha2::{Digest, Sha256};

use crate::error::{NodeError, NodeErrorKind};

/// The PHC string of an argon2id hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, NodeError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| {
            NodeError::new(
                NodeErrorKind::Internal,
                format!("cannot hash password: {e}"),
            )
        })
}

/// Who a new user is: the fields an administrator gives (`entente user add`).
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub name: String,
    pub nation: entente_types::NationCode,
    /// A marking of the node's policies, e.g. `NATO SECRET`.
    pub clearance: &'a str,
    /// The first line of it is the password; none for a user who signs in with tokens only.
    pub password: Option<&'a str>,
    pub rights: Vec<entente_store::CollectionRight>,
}

impl NewUser<'_> {
    /// The user to store on the node `config` describes: the name checked (HTTP Basic cannot
    /// carry ':'), the clearance read with the node's policies, the password hashed.
    pub fn into_user(self, config: &crate::NodeConfig) -> Result<User, NodeError> {
        let bad = |message: String| NodeError::new(NodeErrorKind::BadRequest, message);
        let name = self.name;
        if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
            return Err(bad(format!(
                "--name {name:?}: a user name is non-empty, without ':' or control characters"
            )));
        }
        let dir = config.policy_data.join("policies");
        let policies = entente_labels::PolicySet::load(&dir)
            .map_err(|e| NodeError::config(format!("{}: {e}", dir.display())))?;
        let label = entente_labels::parse_marking(&policies, self.clearance)
            .map_err(|e| bad(format!("--clearance: {e}")))?;
        let password_hash = match self.password.map(|text| text.lines().next().unwrap_or("")) {
            Some("") => return Err(bad("the password on standard input is empty".into())),
            Some(password) => Some(hash_password(password)?),
            None => None,
        };
        Ok(User {
            name,
            nation: self.nation,
            clearance_policy: label.policy().to_owned(),
            clearance_level: label.classification().to_owned(),
            clearance_caveats: label.caveats().iter().cloned().collect(),
            password_hash,
            rights: self.rights,
        })
    }
}

/// A new random bearer token (printed once; only its hash is kept).
pub fn new_token() -> String {
    use rand::Rng;
    let mut bytes = [0u8; 32];
    rand::rand_core::UnwrapErr(rand::rngs::SysRng).fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a bearer token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn unauthorized() -> NodeError {
    NodeError::new(
        NodeErrorKind::Unauthorized,
        "valid credentials are required (HTTP Basic or a bearer token)",
    )
}

/// How long a verified header is trusted without checking it again: a removed user, a changed
/// password or clearance takes effect within this time.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(30);
/// The most headers remembered at once.
const CREDENTIAL_CAPACITY: usize = 4096;

/// Verified `Authorization` headers and their users, for [`CREDENTIAL_TTL`].
///
/// Keys are SHA-256 of a per-process random secret and the header, so the cache holds no
/// password or token, nor anything that can be checked against one outside this process. Only
/// successes are kept: a wrong password costs a full verification every time.
pub struct CredentialCache {
    secret: [u8; 32],
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], (User, Instant)>>,
}

impl Default for CredentialCache {
    fn default() -> CredentialCache {
        CredentialCache::new(CREDENTIAL_TTL)
    }
}

impl CredentialCache {
    pub fn new(ttl: Duration) -> CredentialCache {
        use rand::Rng;
        let mut secret = [0u8; 32];
        rand::rand_core::UnwrapErr(rand::rngs::SysRng).fill_bytes(&mut secret);
        CredentialCache {
            secret,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, header: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(header.as_bytes());
        h.finalize().into()
    }

    fn get(&self, key: &[u8; 32], now: Instant) -> Option<User> {
        let entries = self.entries.lock().ok()?;
        match entries.get(key) {
            Some((user, until)) if *until > now => Some(user.clone()),
            _ => None,
        }
    }

    fn insert(&self, key: [u8; 32], user: User, now: Instant) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CREDENTIAL_CAPACITY {
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= CREDENTIAL_CAPACITY {
                // Full of live entries: start again rather than grow without bound.
                entries.clear();
            }
        }
        entries.insert(key, (user, now + self.ttl));
    }

    /// Forgets every verified header (e.g. after users changed).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The user named by the request's `Authorization` header, from `cache` when the same header was
/// verified less than its TTL ago; every failure looks the same.
pub async fn authenticate(
    store: &dyn Store,
    cache: &CredentialCache,
    headers: &HeaderMap,
) -> Result<User, NodeError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let key = cache.key(value);
    let now = Instant::now();
    if let Some(user) = cache.get(&key, now) {
        return Ok(user);
    }
    let user = verify(store, value).await?;
    cache.insert(key, user.clone(), now);
    Ok(user)
}

/// Password verifications running at once, at most.
const VERIFICATIONS_AT_ONCE: usize = 4;

/// Checks an `Authorization` header against the store.
async fn verify(store: &dyn Store, value: &str) -> Result<User, NodeError> {
    if let Some(token) = value.strip_prefix("Bearer ") {
        return store
            .user_by_token(&token_hash(token.trim()))
            .await?
            .ok_or_else(unauthorized);
    }
    let encoded = value.strip_prefix("Basic ").ok_or_else(unauthorized)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| unauthorized())?;
    let text = String::from_utf8(decoded).map_err(|_| unauthorized())?;
    let (name, password) = text.split_once(':').ok_or_else(unauthorized)?;
    verify_password(store, name, password).await
}

/// Checks a user's password against its argon2 hash in the store (TAXII Basic and the console's
/// sign-in); every failure looks the same.
pub async fn verify_password(
    store: &dyn Store,
    name: &str,
    password: &str,
) -> Result<User, NodeError> {
    let user = store.user(name).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password = password.to_owned();
    // Each verification holds argon2's memory cost (19 MiB by default): many clients logging in
    // at once would otherwise hold it many times over (1 GB for 64 first requests). The work is
    // CPU-bound, so waiting for a permit costs no throughput.
    static VERIFYING: tokio::sync::Semaphore =
        tokio::sync::Semaphore::const_new(VERIFICATIONS_AT_ONCE);
    let _permit = VERIFYING.acquire().await.map_err(|_| unauthorized())?;
    // Argon2 is deliberately slow: verify off the async threads.
    let ok = tokio::task::spawn_blocking(move || {
        hash.as_deref()
            .and_then(|h| PasswordHash::new(h).ok())
            .is_some_and(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
    })
    .await
    .unwrap_or(false);
    match user {
        Some(u) if ok => Ok(u),
        _ => Err(unauthorized()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;
    use entente_store::sqlite::SqliteStore;

    fn user(name: &str, password: &str) -> User {
        User {
            name: name.into(),
            nation: "FRA".parse().unwrap(),
            clearance_policy: "NATO".into(),
            clearance_level: "SECRET".into(),
            clearance_caveats: Vec::new(),
            password_hash: Some(hash_password(password).unwrap()),
            rights: Vec::new(),
        }
    }

    fn basic(name: &str, password: &str) -> HeaderMap {
        let text = base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {text}")).unwrap(),
        );
        h
    }

    #[tokio::test]
    async fn a_verified_header_is_remembered_until_its_ttl_and_never_a_wrong_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("node.db")).unwrap();
        store.put_user(&user("ana", "first")).await.unwrap();
        let cache = CredentialCache::new(Duration::from_secs(3600));
        let ok = authenticate(&store, &cache, &basic("ana", "first")).await;
        assert_eq!(ok.unwrap().name, "ana");
        // A wrong password is verified (and refused) even while the right one is cached.
        assert!(authenticate(&store, &cache, &basic("ana", "second"))
            .await
            .is_err());
        // The password changes: the cached header still opens until the TTL (or a clear).
        store.put_user(&user("ana", "second")).await.unwrap();
        assert!(authenticate(&store, &cache, &basic("ana", "first"))
            .await
            .is_ok());
        cache.clear();
        assert!(authenticate(&store, &cache, &basic("ana", "first"))
            .await
            .is_err());
        assert!(authenticate(&store, &cache, &basic("ana", "second"))
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn an_expired_entry_is_verified_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("node.db")).unwrap();
        store.put_user(&user("ben", "first")).await.unwrap();
        let cache = CredentialCache::new(Duration::ZERO);
        assert!(authenticate(&store, &cache, &basic("ben", "first"))
            .await
            .is_ok());
        store.put_user(&user("ben", "second")).await.unwrap();
        assert!(authenticate(&store, &cache, &basic("ben", "first"))
            .await
            .is_err());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = CredentialCache::new(Duration::from_secs(3600));
        let now = Instant::now();
        let u = User {
            password_hash: None,
            ..user("c", "x")
        };
        for i in 0..(CREDENTIAL_CAPACITY + 10) {
            cache.insert(cache.key(&format!("Bearer {i}")), u.clone(), now);
        }
        let n = cache.entries.lock().unwrap().len();
        assert!(n <= CREDENTIAL_CAPACITY, "{n} entries");
        assert!(cache.get(&cache.key("Bearer 0"), now).is_none());
        let last = format!("Bearer {}", CREDENTIAL_CAPACITY + 9);
        assert!(cache.get(&cache.key(&last), now).is_some());
    }
}
