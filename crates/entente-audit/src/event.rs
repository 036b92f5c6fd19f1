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
    /// Where the event was taken from, when it has one such place: `change/<seq>` (a version or
    /// tombstone of the node's change stream) or `intent/<seq>` (an audit intent the store
    /// committed together with what it records). A log records each source at most once (see
    /// `AuditLog::position`). Absent, the member is left out of the leaf, so entries written
    /// before it existed keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The stream and position of a source such as `intent/17`; `None` when it is not of that form
/// (lowercase letters, a slash, a decimal number without leading zeros).
pub fn parse_source(source: &str) -> Option<(&str, u64)> {
    let (stream, seq) = source.split_once('/')?;
    let plain_number = !seq.is_empty()
        && seq.bytes().all(|b| b.is_ascii_digit())
        && (seq == "0" || !seq.starts_with('0'));
    if stream.is_empty() || !stream.bytes().all(|b| b.is_ascii_lowercase()) || !plain_number {
        return None;
    }
    Some((stream, seq.parse().ok()?))
}

impl AuditEvent {
    /// The RFC 8785 canonical JSON of the event: the bytes the Merkle leaf hashes.
    ///
    /// Every member is a string, an enum name or null, so canonicalisation is member names in
    /// UTF-16 order (all ASCII here, hence byte order) and strings escaped as RFC 8785 §3.2.2.2
    /// says, which is what `serde_json` writes (short escapes, `\u00xx` in lowercase for other
    /// control characters, everything else verbatim UTF-8). Absent options are `null`, so every
    /// leaf has the same members, except `source`, which is left out when absent.
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
        if let Some(source) = &self.source {
            out.extend_from_slice(b",\"source\":");
            push_string(&mut out, source);
        }
        out.extend_from_slice(b",\"version\":");
        push_string(&mut out, &self.version);
        out.push(b'}');
        out
    }

    /// Reads an event from its canonical bytes (or any JSON of the same shape).
    /// The stream and position of the event's source, when it has one.
    pub fn source_position(&self) -> Option<(&str, u64)> {
        self.source.as_deref().and_then(parse_source)
    }

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
        if let Some(source) = &self.source {
            if parse_source(source).is_none() {
                return Err(invalid(
                    "source",
                    format!("{source:?} is not `<stream>/<position>` (e.g. `intent/17`)"),
                ));
            }
        }
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
            source: None,
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
            (|e| e.source = Some("intent".into()), "source"),
            (|e| e.source = Some("intent/007".into()), "source"),
            (|e| e.source = Some("Intent/7".into()), "source"),
            (|e| e.source = Some("intent/-7".into()), "source"),
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
    fn a_source_is_in_the_leaf_only_when_present() {
        let without = sample();
        let text = String::from_utf8(without.leaf_bytes()).unwrap();
        assert!(!text.contains("source"), "{text}");
        // An entry written before the member existed reads back to the same bytes.
        assert_eq!(
            AuditEvent::from_json(text.as_bytes()).unwrap().leaf_bytes(),
            text.as_bytes()
        );
        let mut with = sample();
        with.source = Some("intent/17".into());
        with.validate().unwrap();
        let text = String::from_utf8(with.leaf_bytes()).unwrap();
        assert!(
            text.contains(r#""partner":"DEU","source":"intent/17","version":"#),
            "{text}"
        );
        let back = AuditEvent::from_json(text.as_bytes()).unwrap();
        assert_eq!(back, with);
        assert_eq!(back.source_position(), Some(("intent", 17)));
        // serde writes the same members in the same order as `leaf_bytes`.
        let value = serde_json::to_value(&with).unwrap();
        assert_eq!(entente_canonical(&value), text);
    }

    /// Sorted members, no whitespace: RFC 8785 for an object of strings and nulls.
    fn entente_canonical(value: &serde_json::Value) -> String {
        let map = value.as_object().unwrap();
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        let members: Vec<String> = keys
            .into_iter()
            .map(|k| format!("{}:{}", serde_json::to_string(k).unwrap(), map[k]))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    #[test]
    fn unknown_members_are_refused() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json["extra"] = "x".into();
        assert!(AuditEvent::from_json(json.to_string().as_bytes()).is_err());
    }
}
