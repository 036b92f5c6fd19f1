//! The host of a URL, read exactly as Python's `urllib.parse.urlparse(value).hostname` (3.11.7).
//!
//! `hostname` lists compare the host of a URL when the value is one, and the value itself
//! otherwise. Which values count as URLs is Python's rule, not a URL standard's: a netloc exists only
//! after `//` (so `example.com:80/x` has none), the host is lowercased except for an IPv6 zone,
//! and some values make Python raise `ValueError` (unbalanced brackets, an IPv4 address or garbage
//! in brackets, characters that NFKC-normalise into URL delimiters).

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// Why Python's `urlparse` refuses a value (it raises `ValueError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedUrl {
    /// A `[` without a `]` in the netloc, or the other way round.
    #[error("unbalanced brackets in the URL's network location")]
    UnbalancedBrackets,
    /// Brackets around something that is neither an IPv6 address nor an `IPvFuture` literal.
    #[error("brackets in the URL's network location hold no IPv6 address")]
    InvalidBracketedHost,
    /// A character of the network location becomes `/`, `?`, `#`, `@` or `:` under NFKC.
    #[error("the URL's network location holds characters that normalise to delimiters")]
    NormalisesToDelimiter,
}

/// The host of `value` taken as a URL, lowercased as Python lowercases it, or `None` when Python
/// finds no host (no `//` netloc, or an empty host).
pub fn url_hostname(value: &str) -> Result<Option<Cow<'_, str>>, MalformedUrl> {
    // Leading C0 controls and spaces are stripped, tabs and line breaks removed everywhere.
    let stripped = value.trim_start_matches(|c: char| c <= ' ');
    let url: Cow<'_, str> = if stripped.contains(['\t', '\r', '\n']) {
        Cow::Owned(stripped.replace(['\t', '\r', '\n'], ""))
    } else {
        Cow::Borrowed(stripped)
    };
    let hostname: Cow<'_, str> = match url {
        Cow::Borrowed(url) => match raw_hostname(url)? {
            Some(hostname) => Cow::Borrowed(hostname),
            None => return Ok(None),
        },
        Cow::Owned(url) => match raw_hostname(&url)? {
            Some(hostname) => Cow::Owned(hostname.to_owned()),
            None => return Ok(None),
        },
    };
    let (name, zone) = match hostname.find('%') {
        Some(at) => hostname.split_at(at),
        None => (&hostname[..], ""),
    };
    let needs_lowering = !name.is_ascii() || name.bytes().any(|b| b.is_ascii_uppercase());
    if !needs_lowering {
        return Ok(Some(hostname));
    }
    let mut lowered = name.to_lowercase();
    lowered.push_str(zone);
    Ok(Some(Cow::Owned(lowered)))
}

/// The `hostname` property before lowercasing: the netloc after its last `@`, inside brackets
/// or before the port's `:`; `None` when empty.
fn raw_hostname(url: &str) -> Result<Option<&str>, MalformedUrl> {
    let Some(netloc) = netloc(url)? else {
        return Ok(None);
    };
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, after)| after);
    let hostname = match hostinfo.split_once('[') {
        Some((_, bracketed)) => bracketed
            .split_once(']')
            .map_or(bracketed, |(host, _)| host),
        None => hostinfo.split_once(':').map_or(hostinfo, |(host, _)| host),
    };
    Ok((!hostname.is_empty()).then_some(hostname))
}

/// `urlsplit`'s netloc: what follows `//` (after an optional scheme) up to `/`, `?` or `#`,
/// with Python's checks on brackets and NFKC.
fn netloc(url: &str) -> Result<Option<&str>, MalformedUrl> {
    let mut rest = url;
    if let Some(colon) = url.find(':') {
        let scheme = &url.as_bytes()[..colon];
        let starts_with_letter = scheme.first().is_some_and(u8::is_ascii_alphabetic);
        if starts_with_letter
            && scheme
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            rest = &url[colon + 1..];
        }
    }
    let Some(after_slashes) = rest.strip_prefix("//") else {
        return Ok(None);
    };
    let end = after_slashes
        .find(['/', '?', '#'])
        .unwrap_or(after_slashes.len());
    let netloc = &after_slashes[..end];
    let has_open = netloc.contains('[');
    let has_close = netloc.contains(']');
    if has_open != has_close {
        return Err(MalformedUrl::UnbalancedBrackets);
    }
    if has_open {
        let bracketed = netloc.split_once('[').map_or("", |(_, after)| after);
        let host = bracketed
            .split_once(']')
            .map_or(bracketed, |(host, _)| host);
        check_bracketed_host(host)?;
    }
    check_nfkc(netloc)?;
    Ok(Some(netloc))
}

/// `_check_bracketed_host`: `v<hex>.<anything>` (IPvFuture) or an IPv6 address (an IPv4 address
/// is refused).
fn check_bracketed_host(host: &str) -> Result<(), MalformedUrl> {
    if let Some(future) = host.strip_prefix('v') {
        let hex_digits = future.bytes().take_while(u8::is_ascii_hexdigit).count();
        let valid = hex_digits > 0
            && future[hex_digits..]
                .strip_prefix('.')
                .is_some_and(|tail| !tail.is_empty() && !tail.contains('\n'));
        return if valid {
            Ok(())
        } else {
            Err(MalformedUrl::InvalidBracketedHost)
        };
    }
    match crate::ip::parse_address(host) {
        Some(crate::ip::Address::V6(_)) => Ok(()),
        _ => Err(MalformedUrl::InvalidBracketedHost),
    }
}

/// `_checknetloc`: a non-ASCII netloc must not gain a delimiter under NFKC normalisation.
fn check_nfkc(netloc: &str) -> Result<(), MalformedUrl> {
    if netloc.is_ascii() {
        return Ok(());
    }
    let without: String = netloc
        .chars()
        .filter(|c| !matches!(c, '@' | ':' | '#' | '?'))
        .collect();
    let normalised: String = without.nfkc().collect();
    if normalised != without && normalised.contains(['/', '?', '#', '@', ':']) {
        return Err(MalformedUrl::NormalisesToDelimiter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: &str) -> Option<String> {
        url_hostname(value).unwrap().map(Cow::into_owned)
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(
            host("http://www.Example.COM/a?b#c").as_deref(),
            Some("www.example.com")
        );
        assert_eq!(
            host("https://user:pw@host.example:8443/x").as_deref(),
            Some("host.example")
        );
        assert_eq!(host("//example.org").as_deref(), Some("example.org"));
        assert_eq!(host("hxxp://evil.example").as_deref(), Some("evil.example"));
        assert_eq!(host("  \x01http://a.example").as_deref(), Some("a.example"));
        assert_eq!(host("ht\ttp://a.ex\nample").as_deref(), Some("a.example"));
        assert_eq!(
            host("http://[2001:DB8::1]:80/").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            host("http://[fe80::1%ETH0]/").as_deref(),
            Some("fe80::1%ETH0")
        );
        assert_eq!(host("http://[v1.x]/").as_deref(), Some("v1.x"));
        assert_eq!(host("http://a@b@c.example/").as_deref(), Some("c.example"));
        assert_eq!(
            host("http://ÉCOLE.example/").as_deref(),
            Some("école.example")
        );
        assert_eq!(host("http://a.example?q").as_deref(), Some("a.example"));
        assert_eq!(host("http://a.example#f").as_deref(), Some("a.example"));
        assert_eq!(host("http://a.example.:80").as_deref(), Some("a.example."));
    }

    #[test]
    fn values_without_a_host() {
        for value in [
            "",
            "example.com",
            "example.com:80/path",
            "http:/example.com",
            "http://",
            "http://:80/",
            "http://user@/",
            "mailto:someone@example.com",
            "1http://example.com",
            "/\\example.com",
        ] {
            assert_eq!(host(value), None, "{value:?}");
        }
    }

    #[test]
    fn values_python_refuses() {
        assert_eq!(
            url_hostname("http://[::1/"),
            Err(MalformedUrl::UnbalancedBrackets)
        );
        assert_eq!(
            url_hostname("http://::1]/"),
            Err(MalformedUrl::UnbalancedBrackets)
        );
        assert_eq!(
            url_hostname("http://[192.0.2.1]/"),
            Err(MalformedUrl::InvalidBracketedHost)
        );
        assert_eq!(
            url_hostname("http://[example.com]/"),
            Err(MalformedUrl::InvalidBracketedHost)
        );
        assert_eq!(
            url_hostname("http://[v.x]/"),
            Err(MalformedUrl::InvalidBracketedHost)
        );
        assert_eq!(
            url_hostname("http://a\u{2100}b.example/"),
            Err(MalformedUrl::NormalisesToDelimiter)
        );
        // A bracket outside the netloc is not looked at.
        assert_eq!(host("http://a.example/[").as_deref(), Some("a.example"));
    }
}
