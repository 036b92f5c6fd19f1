//! Observable values: what an object says was seen (an address, a domain, a file's hash), in one
//! normal form so that the same value written two ways is one value.
//!
//! Values come from STIX Cyber-observable Objects, from the `objects` of observed data, from the
//! comparisons of indicators' STIX patterns, and from vulnerabilities' CVE ids.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

/// One observable value in normal form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Observable {
    /// An IPv4 address or network: the network's first address and its prefix length (32 for
    /// an address).
    Ipv4(u32, u8),
    /// An IPv6 address or network (128 for an address).
    Ipv6(u128, u8),
    /// A domain name, lower case, without a trailing dot.
    Domain(String),
    /// A URL as written, its scheme and host in lower case.
    Url(String),
    /// An e-mail address, lower case.
    Email(String),
    /// A file's hash value in lower case (whatever the algorithm: values of different
    /// algorithms differ in length).
    Hash(String),
    /// A file's name, as written.
    FileName(String),
    /// An autonomous system's number.
    Asn(u32),
    /// A MAC address, lower case with colons.
    Mac(String),
    /// A vulnerability's CVE id, upper case.
    Cve(String),
}

impl Observable {
    /// The kind of value, as the search page and the API name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Observable::Ipv4(..) => "ipv4-addr",
            Observable::Ipv6(..) => "ipv6-addr",
            Observable::Domain(_) => "domain-name",
            Observable::Url(_) => "url",
            Observable::Email(_) => "email-addr",
            Observable::Hash(_) => "file-hash",
            Observable::FileName(_) => "file-name",
            Observable::Asn(_) => "autonomous-system",
            Observable::Mac(_) => "mac-addr",
            Observable::Cve(_) => "vulnerability",
        }
    }

    /// An address (not a network).
    pub fn is_address(&self) -> bool {
        matches!(self, Observable::Ipv4(_, 32) | Observable::Ipv6(_, 128))
    }

    /// Reads a value typed into a search box or given to `correlate`: an address or network, a
    /// URL, an e-mail address, a hash, a MAC address, an AS number, a CVE id or a domain name.
    /// `None` when it looks like none of them.
    pub fn guess(text: &str) -> Option<Observable> {
        let text = text.trim();
        if text.is_empty() || text.chars().any(char::is_whitespace) {
            return None;
        }
        if let Some(ip) = ip(text) {
            return Some(ip);
        }
        if text.contains("://") {
            return url(text);
        }
        if let Some(cve) = cve(text) {
            return Some(cve);
        }
        if text.contains('@') {
            return email(text);
        }
        if is_hash(text) {
            return Some(Observable::Hash(text.to_ascii_lowercase()));
        }
        if let Some(mac) = mac(text) {
            return Some(mac);
        }
        if let Some(n) = text
            .strip_prefix("AS")
            .or_else(|| text.strip_prefix("as"))
            .and_then(|n| n.parse().ok())
        {
            return Some(Observable::Asn(n));
        }
        domain(text)
    }

    /// Reads the value of a property of an object of STIX type `kind` (`ipv4-addr` and `value`,
    /// `file` and `hashes.'SHA-256'`), as an indicator's pattern or an SCO gives it.
    pub fn of_property(kind: &str, path: &str, value: &str) -> Option<Observable> {
        match (kind, path) {
            ("ipv4-addr" | "ipv6-addr", "value") => ip(value),
            ("domain-name", "value") => domain(value),
            ("url", "value") => url(value),
            ("email-addr", "value") => email(value),
            ("mac-addr", "value") => mac(value),
            ("file", "name") => (!value.is_empty()).then(|| Observable::FileName(value.to_owned())),
            ("autonomous-system", "number") => value.parse().ok().map(Observable::Asn),
            ("file", path) => {
                path.strip_prefix("hashes.")?;
                let value = value.trim();
                (!value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric()))
                    .then(|| Observable::Hash(value.to_ascii_lowercase()))
            }
            _ => None,
        }
    }

    /// The text the value is searched by: what [`Observable::guess`] reads back.
    pub fn text(&self) -> String {
        self.to_string()
    }

    /// The domain a domain, URL or e-mail address names.
    pub fn host(&self) -> Option<&str> {
        match self {
            Observable::Domain(d) => Some(d),
            Observable::Url(u) => url_host(u),
            Observable::Email(e) => e.rsplit_once('@').map(|(_, d)| d),
            _ => None,
        }
    }
}

impl fmt::Display for Observable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observable::Ipv4(a, 32) => write!(f, "{}", Ipv4Addr::from(*a)),
            Observable::Ipv4(a, p) => write!(f, "{}/{p}", Ipv4Addr::from(*a)),
            Observable::Ipv6(a, 128) => write!(f, "{}", Ipv6Addr::from(*a)),
            Observable::Ipv6(a, p) => write!(f, "{}/{p}", Ipv6Addr::from(*a)),
            Observable::Domain(s)
            | Observable::Url(s)
            | Observable::Email(s)
            | Observable::FileName(s)
            | Observable::Mac(s)
            | Observable::Hash(s)
            | Observable::Cve(s) => f.write_str(s),
            Observable::Asn(n) => write!(f, "AS{n}"),
        }
    }
}

/// An address or a network in CIDR form; a network is kept by its first address.
fn ip(text: &str) -> Option<Observable> {
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (text, None),
    };
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => {
            let p = prefix.unwrap_or(32);
            (p <= 32).then(|| Observable::Ipv4(u32::from(a) & v4_mask(p), p))
        }
        IpAddr::V6(a) => {
            let p = prefix.unwrap_or(128);
            (p <= 128).then(|| Observable::Ipv6(u128::from(a) & v6_mask(p), p))
        }
    }
}

/// The mask of an IPv4 prefix of length `prefix` (at most 32).
pub fn v4_mask(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

/// The mask of an IPv6 prefix of length `prefix` (at most 128).
pub fn v6_mask(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0)
}

fn domain(text: &str) -> Option<Observable> {
    let d = text.trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = d.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    });
    (d.contains('.') && labels_ok && !d.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .then_some(Observable::Domain(d))
}

fn url(text: &str) -> Option<Observable> {
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() {
        return None;
    }
    Some(Observable::Url(format!(
        "{}://{}{tail}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    )))
}

/// The host of a URL in the form [`url`] keeps (`scheme://host[:port]/…`), without user or port.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_once(']').map_or(host, |(h, _)| &h[1..])
    } else {
        host.split_once(':').map_or(host, |(h, _)| h)
    };
    (!host.is_empty()).then_some(host)
}

/// A URL's site: scheme, host and port, what two URLs differing only in path or query share.
pub fn url_site(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme.len() + 3 + end])
}

fn email(text: &str) -> Option<Observable> {
    let (local, host) = text.rsplit_once('@')?;
    (!local.is_empty() && domain(host).is_some())
        .then(|| Observable::Email(text.to_ascii_lowercase()))
}

fn cve(text: &str) -> Option<Observable> {
    let upper = text.to_ascii_uppercase();
    let rest = upper.strip_prefix("CVE-")?;
    let (year, n) = rest.split_once('-')?;
    (year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && n.len() >= 4
        && n.chars().all(|c| c.is_ascii_digit()))
    .then_some(Observable::Cve(upper))
}

fn mac(text: &str) -> Option<Observable> {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    (parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit())))
    .then(|| Observable::Mac(parts.join(":").to_ascii_lowercase()))
}

/// A bare hexadecimal text of the length of an MD5, SHA-1, SHA-256 or SHA-512 hash.
fn is_hash(text: &str) -> bool {
    matches!(text.len(), 32 | 40 | 64 | 128) && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// Every observable value one object names: an SCO's own values, those of the objects embedded
/// in observed data, a vulnerability's CVE id, and what an indicator's STIX pattern compares
/// for equality (a negated comparison names a value that was not seen, and is left out).
pub fn observables_of(object: &Value) -> Vec<Observable> {
    let mut found = Vec::new();
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match kind {
        "indicator" => {
            let stix = object.get("pattern_type").and_then(Value::as_str) == Some("stix");
            if let (true, Some(text)) = (stix, object.get("pattern").and_then(Value::as_str)) {
                found.extend(pattern_observables(text));
            }
        }
        "observed-data" => {
            if let Some(objects) = object.get("objects").and_then(Value::as_object) {
                for embedded in objects.values() {
                    sco_observables(embedded, &mut found);
                }
            }
        }
        "vulnerability" => {
            let name = object
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            found.extend(cve(name));
            let references = object.get("external_references").and_then(Value::as_array);
            for reference in references.into_iter().flatten() {
                if reference.get("source_name").and_then(Value::as_str) == Some("cve") {
                    let id = reference.get("external_id").and_then(Value::as_str);
                    found.extend(id.and_then(cve));
                }
            }
        }
        _ => sco_observables(object, &mut found),
    }
    found.sort();
    found.dedup();
    found
}

fn sco_observables(object: &Value, found: &mut Vec<Observable>) {
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let text = |key: &str| object.get(key).and_then(Value::as_str);
    match kind {
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr" | "mac-addr" => {
            found.extend(text("value").and_then(|v| Observable::of_property(kind, "value", v)));
        }
        "autonomous-system" => {
            found.extend(
                object
                    .get("number")
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok().map(Observable::Asn)),
            );
        }
        "file" => {
            found.extend(text("name").and_then(|v| Observable::of_property("file", "name", v)));
            if let Some(hashes) = object.get("hashes").and_then(Value::as_object) {
                for (algo, value) in hashes {
                    let path = format!("hashes.{algo}");
                    found.extend(
                        value
                            .as_str()
                            .and_then(|v| Observable::of_property("file", &path, v)),
                    );
                }
            }
        }
        _ => {}
    }
}

/// The values an indicator's pattern compares for equality (`=`, `IN`) or containment in a
/// network (`ISSUBSET`), outside `NOT`.
pub fn pattern_observables(text: &str) -> Vec<Observable> {
    use entente_pattern::{Constant, Operator, PathStep};
    let Ok(pattern) = entente_pattern::Pattern::parse(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for comparison in pattern.comparisons() {
        if comparison.negated {
            continue;
        }
        let path = &comparison.path;
        let path = match (path.first.as_str(), path.steps.as_slice()) {
            (first, []) => first.to_owned(),
            ("hashes", [PathStep::Key(algo)]) => format!("hashes.{algo}"),
            _ => continue,
        };
        let constants: Vec<&Constant> = match (comparison.operator, &comparison.value) {
            (Operator::Eq | Operator::IsSubset, Some(c)) => vec![c],
            (Operator::In, Some(Constant::List(items))) => items.iter().collect(),
            _ => Vec::new(),
        };
        for constant in constants {
            let text = match constant {
                Constant::String(s) => s.clone(),
                Constant::Int(n) => n.to_string(),
                _ => continue,
            };
            found.extend(Observable::of_property(
                &comparison.object_type,
                &path,
                &text,
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_read_in_one_form() {
        assert_eq!(
            Observable::guess("198.51.100.7"),
            Some(Observable::Ipv4(0xc633_6407, 32))
        );
        assert_eq!(
            Observable::guess("198.51.100.7/24"),
            Some(Observable::Ipv4(0xc633_6400, 24))
        );
        assert_eq!(
            Observable::guess("2001:DB8::1")
                .map(|o| o.to_string())
                .as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            Observable::guess("Example.COM."),
            Some(Observable::Domain("example.com".into()))
        );
        assert_eq!(
            Observable::guess("HTTPS://Example.com/Path?q=1"),
            Some(Observable::Url("https://example.com/Path?q=1".into()))
        );
        assert_eq!(
            Observable::guess("cve-2024-3400"),
            Some(Observable::Cve("CVE-2024-3400".into()))
        );
        assert_eq!(Observable::guess("AS64500"), Some(Observable::Asn(64500)));
        assert_eq!(
            Observable::guess("D41D8CD98F00B204E9800998ECF8427E"),
            Some(Observable::Hash("d41d8cd98f00b204e9800998ecf8427e".into()))
        );
        assert_eq!(
            Observable::guess("00-1A-2b-3c-4d-5e"),
            Some(Observable::Mac("00:1a:2b:3c:4d:5e".into()))
        );
        assert_eq!(
            Observable::guess("ops@Example.org")
                .map(|o| o.to_string())
                .as_deref(),
            Some("ops@example.org")
        );
        for nothing in [
            "",
            "two words",
            "ransomware",
            "1.2.3",
            "999.1.1.1/8",
            "10.0.0.0/33",
        ] {
            assert_eq!(Observable::guess(nothing), None, "{nothing}");
        }
    }

    #[test]
    fn hosts_and_sites_of_urls() {
        let u = Observable::guess("https://user@Files.Example.com:8443/a?b").unwrap();
        assert_eq!(u.host(), Some("files.example.com"));
        let Observable::Url(text) = &u else { panic!() };
        assert_eq!(url_site(text), Some("https://user@files.example.com:8443"));
        let v6 = Observable::guess("http://[2001:db8::1]:80/x").unwrap();
        assert_eq!(v6.host(), Some("2001:db8::1"));
    }

    #[test]
    fn objects_name_their_values() {
        let file = json!({"type": "file", "id": "file--1", "name": "dropper.exe",
            "hashes": {"SHA-256": "AB".repeat(32), "MD5": "cd".repeat(16)}});
        let found = observables_of(&file);
        assert!(found.contains(&Observable::FileName("dropper.exe".into())));
        assert!(found.contains(&Observable::Hash("ab".repeat(32))));
        assert!(found.contains(&Observable::Hash("cd".repeat(16))));
        let vulnerability = json!({"type": "vulnerability", "name": "PAN-OS command injection",
            "external_references": [{"source_name": "cve", "external_id": "CVE-2024-3400"}]});
        assert_eq!(
            observables_of(&vulnerability),
            vec![Observable::Cve("CVE-2024-3400".into())]
        );
        let observed = json!({"type": "observed-data", "objects": {
            "0": {"type": "ipv4-addr", "value": "203.0.113.9"},
            "1": {"type": "autonomous-system", "number": 64500}}});
        assert_eq!(observables_of(&observed).len(), 2);
    }

    #[test]
    fn indicators_name_what_their_pattern_compares() {
        let indicator = json!({"type": "indicator", "pattern_type": "stix", "pattern":
            "([ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value ISSUBSET '203.0.113.0/24'] AND [domain-name:value IN ('a.example', 'b.example')]) OR [file:hashes.'SHA-256' = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'] AND [url:value != 'http://x.example/'] AND [email-addr:value NOT = 'x@y.example']"});
        let found: Vec<String> = observables_of(&indicator)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "198.51.100.7",
                "203.0.113.0/24",
                "a.example",
                "b.example",
                &"a".repeat(64)
            ]
        );
        let broken =
            json!({"type": "indicator", "pattern_type": "stix", "pattern": "[ipv4-addr:value = "});
        assert!(observables_of(&broken).is_empty());
    }
}
