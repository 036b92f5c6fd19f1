//! RFC 8785 canonical JSON.
//!
//! `serde_jcs` sorts member names by UTF-16 code units and writes numbers with the ECMAScript
//! algorithm (ryu-js), as RFC 8785 requires. One deviation is kept on purpose: integers parsed
//! into `u64`/`i64` beyond 2^53 are written exactly rather than rounded through a double, so two
//! different integers never canonicalise to the same bytes (STIX has no such numbers).

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::SealError;

/// The canonical bytes of a value.
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, SealError> {
    serde_jcs::to_vec(value).map_err(|e| SealError::json("canonical JSON", e))
}

/// SHA-256 of bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Lowercase hex SHA-256 of a value's canonical JSON.
pub fn sha256_hex<T: Serialize + ?Sized>(value: &T) -> Result<String, SealError> {
    Ok(hex(&sha256(&canonical_json(value)?)))
}
