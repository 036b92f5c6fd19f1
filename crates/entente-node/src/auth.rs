//! Who is asking: HTTP Basic (argon2id password hashes) or bearer tokens (stored as SHA-256).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::{header, HeaderMap};
use base64::Engine;
use entente_store::{Store, User};
use sha2::{Digest, Sha256};

use crate::error::{NodeError, NodeErrorKind};

/// The PHC string of an argon2id hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, NodeError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            NodeError::new(
                NodeErrorKind::Internal,
                format!("cannot hash password: {e}"),
            )
        })
}

/// A new random bearer token (printed once; only its hash is kept).
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
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

/// The user named by the request's `Authorization` header; every failure looks the same.
pub async fn authenticate(store: &dyn Store, headers: &HeaderMap) -> Result<User, NodeError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
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
    let user = store.user(name).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password = password.to_owned();
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
