//! Decoding of stored rows shared by both backends: JSON columns, nation codes, object and user
//! rows read back into the model.

use crate::error::{StoreError, StoreErrorKind};
use crate::model::{StoredObject, User};

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreErrorKind::Corrupt(e.to_string()).into())
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreErrorKind::Corrupt(e.to_string()).into())
}

pub(crate) fn nation(text: &str) -> Result<entente_types::NationCode, StoreError> {
    text.parse()
        .map_err(|e: entente_types::NationCodeError| StoreErrorKind::Corrupt(e.to_string()).into())
}

/// A row of object columns as read, before the originator is checked.
pub(crate) type RawObject = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

pub(crate) fn stored_object(raw: RawObject) -> Result<StoredObject, StoreError> {
    let (seq, added_us, id, kind, spec_version, version, version_key, originator, json) = raw;
    Ok(StoredObject {
        seq,
        added_us,
        id,
        kind,
        spec_version,
        version,
        version_key,
        originator: nation(&originator)?,
        json,
    })
}

pub(crate) fn user_from(cols: [Option<String>; 7]) -> Result<User, StoreError> {
    let [name, rights, nation_text, policy, level, caveats, hash] = cols;
    let missing = || StoreError::from(StoreErrorKind::Corrupt("user row with NULL".into()));
    Ok(User {
        name: name.ok_or_else(missing)?,
        nation: nation(&nation_text.ok_or_else(missing)?)?,
        clearance_policy: policy.ok_or_else(missing)?,
        clearance_level: level.ok_or_else(missing)?,
        clearance_caveats: from_json(&caveats.ok_or_else(missing)?)?,
        password_hash: hash,
        rights: from_json(&rights.ok_or_else(missing)?)?,
    })
}
