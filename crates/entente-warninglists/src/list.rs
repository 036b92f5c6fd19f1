//! One warning list as MISP ships it (`lists/<name>/list.json`), and its reading.

use serde::Deserialize;

use crate::WarningListError;

/// How the entries of a list are compared with a value (the list's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListType {
    /// Networks and addresses: an address matches when a network contains it; anything else
    /// matches an entry written exactly like it.
    Cidr,
    /// Host names: the value (or a URL's host) matches an entry equal to it or a parent domain.
    Hostname,
    /// Exact, case-sensitive strings.
    String,
    /// Case-sensitive strings found anywhere in the value.
    Substring,
    /// PCRE patterns written PHP-style (`/pattern/flags`).
    Regex,
}

impl ListType {
    /// The name in the list's `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::Cidr => "cidr",
            ListType::Hostname => "hostname",
            ListType::String => "string",
            ListType::Substring => "substring",
            ListType::Regex => "regex",
        }
    }

    fn from_name(name: &str) -> Option<ListType> {
        Some(match name {
            "cidr" => ListType::Cidr,
            "hostname" => ListType::Hostname,
            "string" => ListType::String,
            "substring" => ListType::Substring,
            "regex" => ListType::Regex,
            _ => return None,
        })
    }
}

/// A warning list: known benign values of one kind, with what MISP says about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningList {
    /// The list's name (unique among loaded lists; MISP and `pymispwarninglists` key lists by it).
    pub name: String,
    pub description: String,
    pub version: u64,
    pub list_type: ListType,
    /// MISP attribute types the list is meant for (`ip-dst`, `domain`, …). MISP uses them to
    /// choose which lists to check an attribute against; `pymispwarninglists` ignores them, and
    /// so does [`crate::WarningLists::lookup`]: filter hits with [`WarningList::applies_to`].
    pub matching_attributes: Vec<String>,
    /// The entries, in file order.
    pub entries: Vec<String>,
}

impl WarningList {
    /// Reads a `list.json`. `origin` names the input in errors (a path, usually).
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<WarningList, WarningListError> {
        let raw: RawList = match serde_json::from_slice(bytes) {
            Ok(raw) => raw,
            Err(_) => return Err(locate_json_error(bytes, origin)),
        };
        raw.into_list(origin)
    }

    /// Whether MISP would check an attribute of this type against the list.
    pub fn applies_to(&self, attribute_type: &str) -> bool {
        self.matching_attributes
            .iter()
            .any(|known| known == attribute_type)
    }
}

/// The file's shape, every field optional so that a missing one is reported by name.
#[derive(Deserialize)]
#[serde(expecting = "a warning list (a JSON object)")]
struct RawList {
    name: Option<String>,
    description: Option<String>,
    version: Option<serde_json::Value>,
    #[serde(rename = "type")]
    list_type: Option<String>,
    matching_attributes: Option<Vec<String>>,
    list: Option<Vec<String>>,
}

impl RawList {
    fn into_list(self, origin: &str) -> Result<WarningList, WarningListError> {
        let missing = |field: &str| WarningListError::field(origin, field, "missing");
        let type_name = self.list_type.ok_or_else(|| missing("type"))?;
        let list_type = ListType::from_name(&type_name).ok_or_else(|| {
            WarningListError::field(
                origin,
                "type",
                format!(
                    "unknown list type {type_name:?} (expected cidr, hostname, string, substring or regex)"
                ),
            )
        })?;
        let version = self.version.ok_or_else(|| missing("version"))?;
        Ok(WarningList {
            name: self.name.ok_or_else(|| missing("name"))?,
            description: self.description.ok_or_else(|| missing("description"))?,
            version: read_version(&version).ok_or_else(|| {
                WarningListError::field(
                    origin,
                    "version",
                    format!("expected a whole number, found {version}"),
                )
            })?,
            list_type,
            matching_attributes: self.matching_attributes.unwrap_or_default(),
            entries: self.list.ok_or_else(|| missing("list"))?,
        })
    }
}

/// `int(version)` as Python reads it for the versions lists carry: a whole JSON number or a
/// string of decimal digits.
fn read_version(version: &serde_json::Value) -> Option<u64> {
    match version {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => {
            let text = text.trim();
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            text.parse().ok()
        }
        _ => None,
    }
}

/// Reads the file again, slowly, to say which field broke the fast read.
fn locate_json_error(bytes: &[u8], origin: &str) -> WarningListError {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, RawList>(&mut deserializer) {
        Ok(_) => WarningListError::field(origin, ".", "not a warning list"),
        Err(error) => {
            let field = error.path().to_string();
            WarningListError::field(origin, field, error.into_inner().to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(json: &str) -> String {
        WarningList::from_json(json.as_bytes(), "lists/x/list.json")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_a_list() {
        let list = WarningList::from_json(
            br#"{"name": "RFC 1918", "description": "private", "version": "5", "type": "cidr",
                 "list": ["10.0.0.0/8"], "matching_attributes": ["ip-dst"], "extra": true}"#,
            "rfc1918",
        )
        .unwrap();
        assert_eq!(list.name, "RFC 1918");
        assert_eq!(list.version, 5);
        assert_eq!(list.list_type, ListType::Cidr);
        assert_eq!(list.entries, ["10.0.0.0/8"]);
        assert!(list.applies_to("ip-dst"));
        assert!(!list.applies_to("domain"));
    }

    #[test]
    fn errors_name_file_and_field() {
        assert_eq!(
            error_of(r#"{"name": "n", "description": "d", "version": 1, "type": "cidr", "list": ["a", 5]}"#),
            "lists/x/list.json: field `list[1]`: invalid type: integer `5`, expected a string at line 1 column 79"
        );
        assert_eq!(
            error_of(r#"{"description": "d", "version": 1, "type": "cidr", "list": []}"#),
            "lists/x/list.json: field `name`: missing"
        );
        assert_eq!(
            error_of(r#"{"name": "n", "description": "d", "version": 1, "type": "glob", "list": []}"#),
            "lists/x/list.json: field `type`: unknown list type \"glob\" (expected cidr, hostname, string, substring or regex)"
        );
        assert_eq!(
            error_of(
                r#"{"name": "n", "description": "d", "version": "v2", "type": "cidr", "list": []}"#
            ),
            "lists/x/list.json: field `version`: expected a whole number, found \"v2\""
        );
        assert_eq!(
            error_of(
                r#"{"name": "n", "description": "d", "version": 1, "type": "cidr", "list": [}"#
            ),
            "lists/x/list.json: field `list[0]`: expected value at line 1 column 74"
        );
        assert_eq!(
            error_of("5"),
            "lists/x/list.json: field `.`: invalid type: integer `5`, expected a warning list (a JSON object) at line 1 column 1"
        );
    }
}
