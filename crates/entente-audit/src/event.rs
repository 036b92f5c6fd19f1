//! The events the log records, and their canonical bytes (the Merkle leaves).

use serde::{Deserialize, Serialize};

use crate::AuditError;

/// Largest canonical event accepted (a `detail` is a reason, not a document).
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// What happened to an object at a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// An analyst of this node published (or changed) the object.
    Publish,
    /// The object was released to a partner.
    Release,
    /// The object was received from a partner.
    Receive,
    /// A release or a received object was refused.
    Deny,
    /// The object was deleted or revoked at its origin, or the recall was applied here.
    Recall,
}

impl EventKind {
    /// The lowercase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Publish => "publish",
            EventKind::Release => "release",
            EventKind::Receive => "receive",
            EventKind::Deny => "deny",
            EventKind::Recall => "recall",
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    pub kind: EventKind,
    /// RFC 3339 UTC, millisecond precision, e.g. `2026-11-27T03:40:00.000Z`.
    pub at: String,
    /// Nation code of the object's originator.
    pub origin: String,
    /// Nation code of the node writing the entry.
    pub node: String,
    /// The other nation (release: recipient; receive: sender).
    #[serde(default)]
    pub partner: Option<String>,
    /// STIX id of the object.
    pub object_id: String,
    /// STIX `modified` (or `created`) of the version.
    pub version: String,
    /// Lowercase hex SHA-256 of the bound (canonical) content.
    pub digest: String,
    /// Reason for a deny or recall; agreement and article for a release.
    #[serde(default)]
    pub detail: Option<String>,
}

impl AuditEvent {
    /// The RFC 8785 canonical JSON of the event: the bytes the Merkle leaf hashes.
    ///
    /// Every member is a string, an enum name or null, so canonicalisation is member names in
    /// UTF-16 order (all ASCII here, hence byte order) and strings escaped as RFC 8785 §3.2.2.2
    /// says, which is what `serde_json` writes (short escapes, `\u00xx` in lowercase for other
    /// control characters, everything else verbatim UTF-8). Absent options are `null`, so every
    /// leaf has the same members.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        // Members in sorted order.
        out.extend_from_slice(b"{\"at\":");
        push_string(&mut out, &self.at);
        out.extend_from_slice(b",\"detail\":");
        push_option(&mut out, self.detail.as_deref());
        out.extend_from_slice(b",\"digest\":");
        push_string(&mut out, &self.digest);
        out.extend_from_slice(b",\"kind\":");
        push_string(&mut out, self.kind.as_str());
        out.extend_from_slice(b",\"node\":");
        push_string(&mut out, &self.node);
        out.extend_from_slice(b",\"object_id\":");
        push_string(&mut out, &self.object_id);
        out.extend_from_slice(b",\"origin\":");
        push_string(&mut out, &self.origin);
        out.extend_from_slice(b",\"partner\":");
        push_option(&mut out, self.partner.as_deref());
        out.extend_from_slice(b",\"version\":");
        push_string(&mut out, &self.version);
        out.push(b'}');
        out
    }

    /// Reads an event from its canonical bytes (or any JSON of the same shape).
    pub fn from_json(bytes: &[u8]) -> Result<AuditEvent, AuditError> {
        serde_json::from_slice(bytes)
            .map_err(|e| AuditError::malformed("audit event JSON", e.to_string()))
    }

    /// Checks what the log promises about its entries: nation codes, timestamps and digests in
    /// their stated forms, non-empty ids, no control characters.
    pub fn validate(&self) -> Result<(), AuditError> {
        nation("origin", &self.origin)?;
        nation("node", &self.node)?;
        if let Some(partner) = &self.partner {
            nation("partner", partner)?;
        }
        timestamp("at", &self.at)?;
        text("object_id", &self.object_id)?;
        text("version", &self.version)?;
        if let Some(detail) = &self.detail {
            if detail.chars().any(|c| c.is_control() && c != '\n') {
                return Err(invalid("detail", "contains a control character"));
            }
        }
        if self.digest.len() != 64
            || !self
                .digest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(invalid(
                "digest",
                format!(
                    "{:?} is not 64 lowercase hex digits (a SHA-256)",
                    self.digest
                ),
            ));
        }
        Ok(())
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> AuditError {
    AuditError::InvalidEvent {
        field,
        message: message.into(),
    }
}

fn nation(field: &'static str, value: &str) -> Result<(), AuditError> {
    value
        .parse::<entente_types::NationCode>()
        .map(|_| ())
        .map_err(|e| invalid(field, e.to_string()))
}

fn text(field: &'static str, value: &str) -> Result<(), AuditError> {
    if value.is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "contains a control character"));
    }
    Ok(())
}

fn timestamp(field: &'static str, value: &str) -> Result<(), AuditError> {
    let parsed = chrono::DateTime::parse_from_rfc3339(value)
        .map_err(|e| invalid(field, format!("{value:?} is not an RFC 3339 time: {e}")))?;
    if parsed.offset().local_minus_utc() != 0 || !value.ends_with('Z') {
        return Err(invalid(field, format!("{value:?} is not in UTC (`Z`)")));
    }
    Ok(())
}

fn push_string(out: &mut Vec<u8>, value: &str) {
    // serde_json's string escaping is RFC 8785's; writing a &str cannot fail.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

fn push_option(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => push_string(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> AuditEvent {
        AuditEvent {
            kind: EventKind::Release,
            at: "2026-11-27T03:40:00.123Z".into(),
            origin: "FRA".into(),
            node: "FRA".into(),
            partner: Some("DEU".into()),
            object_id: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into(),
            version: "2026-11-27T03:39:59.000Z".into(),
            digest: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
            detail: Some("agreement fra-deu-2021 art. 4".into()),
        }
    }

    #[test]
    fn leaf_bytes_are_sorted_canonical_json() {
        let bytes = sample().leaf_bytes();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "{\"at\":\"2026-11-27T03:40:00.123Z\",\"detail\":\"agreement fra-deu-2021 art. 4\",\
             \"digest\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\
             \"kind\":\"release\",\"node\":\"FRA\",\
             \"object_id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"origin\":\"FRA\",\
             \"partner\":\"DEU\",\"version\":\"2026-11-27T03:39:59.000Z\"}"
        );
    }

    #[test]
    fn leaf_bytes_escape_as_rfc8785() {
        let mut e = sample();
        e.detail = Some("quote \" slash \\ nl \n tab \t bell \u{7} é €".into());
        e.partner = None;
        let text = String::from_utf8(e.leaf_bytes()).unwrap();
        assert!(text.contains(r#""detail":"quote \" slash \\ nl \n tab \t bell \u0007 é €""#));
        assert!(text.contains("\"partner\":null"));
    }

    #[test]
    fn leaf_bytes_round_trip() {
        let e = sample();
        let back = AuditEvent::from_json(&e.leaf_bytes()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.leaf_bytes(), e.leaf_bytes());
        // serde names the kind in lowercase too.
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "release");
    }

    #[test]
    fn validation_names_the_field() {
        type Mutation = fn(&mut AuditEvent);
        let cases: Vec<(Mutation, &str)> = vec![
            (|e| e.origin = "fr".into(), "origin"),
            (|e| e.node = "F\u{200b}A".into(), "node"),
            (|e| e.partner = Some("deu".into()), "partner"),
            (|e| e.at = "yesterday".into(), "at"),
            (|e| e.at = "2026-11-27T04:40:00.000+01:00".into(), "at"),
            (|e| e.object_id = String::new(), "object_id"),
            (|e| e.version = "a\u{0}b".into(), "version"),
            (|e| e.digest = "E3B0".into(), "digest"),
            (|e| e.detail = Some("x\u{1b}[31m".into()), "detail"),
        ];
        for (mutate, field) in cases {
            let mut e = sample();
            mutate(&mut e);
            match e.validate() {
                Err(AuditError::InvalidEvent { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected an error on {field}, got {other:?}"),
            }
        }
        sample().validate().unwrap();
    }

    #[test]
    fn unknown_members_are_refused() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json["extra"] = "x".into();
        assert!(AuditEvent::from_json(json.to_string().as_bytes()).is_err());
    }
}
