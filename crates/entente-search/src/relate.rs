//! How two observable values relate: the same value, or related without being equal (an
//! address inside a network, a domain and its subdomains, URLs of one site, one file's hashes).
//!
//! This is the one definition of "related": the index only finds candidates quickly, then asks
//! [`relation`] of each, and the plain evaluation the tests compare the index with asks it of
//! every value in view.

use crate::observable::{url_site, v4_mask, v6_mask, Observable};

/// Why a value correlates with the value asked about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// The same value.
    Same,
    /// The value is an address or network inside the network asked about.
    Inside,
    /// The value is a network that holds the address or network asked about.
    Holds,
    /// The value is a subdomain of the domain asked about, or on one (a URL, an e-mail address).
    Subdomain,
    /// The value is a domain the one asked about is a subdomain of.
    ParentDomain,
    /// A URL of the same scheme, host and port: it differs only in path or query.
    SameSite,
    /// Another hash of the same file (a file object in view gives both).
    SameFile,
}

impl Relation {
    /// The relation as the console and the CLI say it.
    pub fn describe(&self) -> &'static str {
        match self {
            Relation::Same => "same value",
            Relation::Inside => "inside the network",
            Relation::Holds => "network holding it",
            Relation::Subdomain => "subdomain",
            Relation::ParentDomain => "parent domain",
            Relation::SameSite => "same site",
            Relation::SameFile => "same file",
        }
    }
}

/// How `value` relates to `asked`, not counting [`Relation::SameFile`] (which needs the file
/// objects in view), or `None`.
pub fn relation(asked: &Observable, value: &Observable) -> Option<Relation> {
    if asked == value {
        return Some(Relation::Same);
    }
    match (asked, value) {
        (Observable::Ipv4(a, p), Observable::Ipv4(b, q)) => {
            nested((u128::from(*a), *p), (u128::from(*b), *q), |p| {
                u128::from(v4_mask(p))
            })
        }
        (Observable::Ipv6(a, p), Observable::Ipv6(b, q)) => nested((*a, *p), (*b, *q), v6_mask),
        (Observable::Url(a), Observable::Url(b)) => {
            (url_site(a).is_some() && url_site(a) == url_site(b)).then_some(Relation::SameSite)
        }
        (Observable::Domain(d), other) => {
            let host = other.host()?;
            if is_subdomain(host, d) || (host == d && !matches!(other, Observable::Domain(_))) {
                Some(Relation::Subdomain)
            } else if matches!(other, Observable::Domain(_)) && is_subdomain(d, host) {
                Some(Relation::ParentDomain)
            } else {
                None
            }
        }
        (Observable::Url(_) | Observable::Email(_), Observable::Domain(d)) => {
            let host = asked.host()?;
            if host == d {
                Some(Relation::ParentDomain)
            } else {
                is_subdomain(host, d).then_some(Relation::ParentDomain)
            }
        }
        _ => None,
    }
}

/// How two networks (a base and a prefix length) nest.
fn nested((a, p): (u128, u8), (b, q): (u128, u8), mask: impl Fn(u8) -> u128) -> Option<Relation> {
    if q >= p && b & mask(p) == a {
        Some(Relation::Inside)
    } else if q < p && a & mask(q) == b {
        Some(Relation::Holds)
    } else {
        None
    }
}

/// `host` is a proper subdomain of `domain`.
pub fn is_subdomain(host: &str, domain: &str) -> bool {
    host.len() > domain.len()
        && host.ends_with(domain)
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(text: &str) -> Observable {
        Observable::guess(text).unwrap()
    }

    #[test]
    fn addresses_and_networks() {
        assert_eq!(
            relation(&o("198.51.100.0/24"), &o("198.51.100.7")),
            Some(Relation::Inside)
        );
        assert_eq!(
            relation(&o("198.51.100.0/24"), &o("198.51.100.128/25")),
            Some(Relation::Inside)
        );
        assert_eq!(
            relation(&o("198.51.100.7"), &o("198.51.0.0/16")),
            Some(Relation::Holds)
        );
        assert_eq!(relation(&o("198.51.100.7"), &o("198.51.101.0/24")), None);
        assert_eq!(
            relation(&o("0.0.0.0/0"), &o("10.1.2.3")),
            Some(Relation::Inside)
        );
        assert_eq!(
            relation(&o("2001:db8::/32"), &o("2001:db8:1::5")),
            Some(Relation::Inside)
        );
        assert_eq!(relation(&o("2001:db8::/32"), &o("10.0.0.1")), None);
    }

    #[test]
    fn domains_urls_and_mail() {
        assert_eq!(
            relation(&o("example.com"), &o("mail.example.com")),
            Some(Relation::Subdomain)
        );
        assert_eq!(relation(&o("example.com"), &o("badexample.com")), None);
        assert_eq!(
            relation(&o("mail.example.com"), &o("example.com")),
            Some(Relation::ParentDomain)
        );
        assert_eq!(
            relation(&o("example.com"), &o("https://example.com/x")),
            Some(Relation::Subdomain)
        );
        assert_eq!(
            relation(&o("example.com"), &o("ops@cdn.example.com")),
            Some(Relation::Subdomain)
        );
        assert_eq!(
            relation(&o("https://example.com/a?b=1"), &o("https://example.com/c")),
            Some(Relation::SameSite)
        );
        assert_eq!(
            relation(&o("https://example.com/a"), &o("http://example.com/a")),
            None
        );
        assert_eq!(
            relation(&o("https://a.example.com/a"), &o("example.com")),
            Some(Relation::ParentDomain)
        );
        assert_eq!(
            relation(&o("https://example.com/a"), &o("example.com")),
            Some(Relation::ParentDomain)
        );
    }
}
