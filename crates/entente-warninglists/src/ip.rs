//! IP addresses and networks read exactly as Python's `ipaddress` module (3.11) reads them.
//!
//! The reference (`pymispwarninglists`) decides whether a value is an address with
//! `IPv4Address(value)` then `IPv6Address(value)`, and reads list entries with
//! `ip_network(entry)` (strict: host bits must be zero). A value that Python does not take for an
//! address is compared as a string instead, so the edges matter: leading zeros in an IPv4 octet
//! (`010.0.0.1`) are refused, an IPv6 zone (`fe80::1%eth0`) is accepted and ignored, an IPv4 tail
//! in IPv6 (`::ffff:192.0.2.1`) is accepted, surrounding spaces are refused. `std::net` differs on
//! several of these (zones, for one), hence this module.

/// A network as a closed range of addresses, with the length of its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Network {
    V4 { first: u32, last: u32 },
    V6 { first: u128, last: u128 },
}

/// An address in either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Address {
    V4(u32),
    V6(u128),
}

/// `IPv4Address(text)` then `IPv6Address(text)`: the address Python reads, if any.
pub(crate) fn parse_address(text: &str) -> Option<Address> {
    if let Some(v4) = parse_ipv4(text) {
        return Some(Address::V4(v4));
    }
    parse_ipv6(text).map(Address::V6)
}

/// `IPv4Address(text)`: four dot-separated decimal octets, 0–255, ASCII digits only, at most three
/// digits and no leading zero.
pub(crate) fn parse_ipv4(text: &str) -> Option<u32> {
    let mut value = 0u32;
    let mut octets = 0;
    for octet in text.split('.') {
        octets += 1;
        if octets > 4 {
            return None;
        }
        value = (value << 8) | u32::from(parse_octet(octet)?);
    }
    (octets == 4).then_some(value)
}

fn parse_octet(octet: &str) -> Option<u8> {
    let bytes = octet.as_bytes();
    if bytes.is_empty() || bytes.len() > 3 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return None;
    }
    let number = bytes
        .iter()
        .fold(0u16, |acc, digit| acc * 10 + u16::from(digit - b'0'));
    u8::try_from(number).ok()
}

/// `IPv6Address(text)`: an optional zone after `%` (not empty, no second `%`, ignored), then at
/// most one `::`, hextets of one to four hex digits, and optionally an IPv4 address in place of the
/// last two hextets.
pub(crate) fn parse_ipv6(text: &str) -> Option<u128> {
    if text.contains('/') {
        return None;
    }
    let address = match text.split_once('%') {
        None => text,
        Some((address, zone)) => {
            if zone.is_empty() || zone.contains('%') {
                return None;
            }
            address
        }
    };
    if address.is_empty() {
        return None;
    }
    // Python splits on ':' and works on the list of parts; at most 9 parts survive the checks,
    // plus one more while an IPv4 tail is being replaced by two hextets.
    let mut parts: Vec<&str> = Vec::with_capacity(10);
    for part in address.split(':') {
        if parts.len() == 10 {
            return None;
        }
        parts.push(part);
    }
    if parts.len() < 3 {
        return None;
    }
    let mut tail_hextets: Option<[u16; 2]> = None;
    if let Some(last) = parts.last() {
        if last.contains('.') {
            let v4 = parse_ipv4(last)?;
            parts.pop();
            tail_hextets = Some([(v4 >> 16) as u16, (v4 & 0xFFFF) as u16]);
        }
    }
    // From here on a part is either text to read as a hextet or one of the tail's hextets.
    let total_parts = parts.len() + if tail_hextets.is_some() { 2 } else { 0 };
    if total_parts > 9 {
        return None;
    }
    let part_is_empty = |index: usize| index < parts.len() && parts[index].is_empty();
    let mut skip_index = None;
    for index in 1..total_parts.saturating_sub(1) {
        if part_is_empty(index) {
            if skip_index.is_some() {
                return None;
            }
            skip_index = Some(index);
        }
    }
    let (parts_hi, parts_lo, parts_skipped) = match skip_index {
        Some(skip) => {
            let mut hi = skip;
            let mut lo = total_parts - skip - 1;
            if part_is_empty(0) {
                hi -= 1;
                if hi != 0 {
                    return None;
                }
            }
            if part_is_empty(total_parts - 1) {
                lo -= 1;
                if lo != 0 {
                    return None;
                }
            }
            let kept = hi + lo;
            if kept >= 8 {
                return None;
            }
            (hi, lo, 8 - kept)
        }
        None => {
            if total_parts != 8 || part_is_empty(0) || part_is_empty(total_parts - 1) {
                return None;
            }
            (total_parts, 0, 0)
        }
    };
    let hextet = |index: usize| -> Option<u16> {
        if index < parts.len() {
            parse_hextet(parts[index])
        } else {
            tail_hextets.map(|tail| tail[index - parts.len()])
        }
    };
    let mut value = 0u128;
    for index in 0..parts_hi {
        value = (value << 16) | u128::from(hextet(index)?);
    }
    // A shift by 128 (all eight hextets skipped) is the address 0: `checked_shl` refuses it.
    value = value.checked_shl(16 * parts_skipped as u32).unwrap_or(0);
    for index in total_parts - parts_lo..total_parts {
        value = (value << 16) | u128::from(hextet(index)?);
    }
    Some(value)
}

fn parse_hextet(hextet: &str) -> Option<u16> {
    let bytes = hextet.as_bytes();
    if bytes.is_empty() || bytes.len() > 4 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u16::from_str_radix(hextet, 16).ok()
}

/// `ip_network(text)` (strict): `ADDRESS[/MASK]`, where MASK is a prefix length in ASCII digits
/// (leading zeros allowed) or, for IPv4 only, a netmask or hostmask in dotted form; the address
/// must have no bit set beyond the prefix.
pub(crate) fn parse_network(text: &str) -> Option<Network> {
    let mut pieces = text.split('/');
    let address = pieces.next()?;
    let mask = pieces.next();
    if pieces.next().is_some() {
        return None;
    }
    if let Some(network) = parse_network_v4(address, mask) {
        return Some(network);
    }
    parse_network_v6(address, mask)
}

fn parse_network_v4(address: &str, mask: Option<&str>) -> Option<Network> {
    let first = parse_ipv4(address)?;
    let prefix = match mask {
        None => 32,
        Some(mask) => match parse_prefix_length(mask, 32) {
            Some(prefix) => prefix,
            None => prefix_from_v4_mask(parse_ipv4(mask)?)?,
        },
    };
    let host_bits = u32::MAX.checked_shr(prefix).unwrap_or(0);
    (first & host_bits == 0).then_some(Network::V4 {
        first,
        last: first | host_bits,
    })
}

fn parse_network_v6(address: &str, mask: Option<&str>) -> Option<Network> {
    let first = parse_ipv6(address)?;
    let prefix = match mask {
        None => 128,
        Some(mask) => parse_prefix_length(mask, 128)?,
    };
    let host_bits = u128::MAX.checked_shr(prefix).unwrap_or(0);
    (first & host_bits == 0).then_some(Network::V6 {
        first,
        last: first | host_bits,
    })
}

/// `_prefix_from_prefix_string`: ASCII digits only, value at most `max`.
fn parse_prefix_length(text: &str, max: u32) -> Option<u32> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digits = text.trim_start_matches('0');
    if digits.len() > 3 {
        return None;
    }
    let value = digits.parse::<u32>().unwrap_or(0);
    (value <= max).then_some(value)
}

/// `_prefix_from_ip_string`: a netmask (ones then zeros) or else a hostmask (zeros then ones).
fn prefix_from_v4_mask(mask: u32) -> Option<u32> {
    if mask.leading_ones() + mask.trailing_zeros() == 32 {
        return Some(mask.leading_ones());
    }
    let inverted = !mask;
    if inverted.leading_ones() + inverted.trailing_zeros() == 32 {
        return Some(inverted.leading_ones());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(text: &str) -> u128 {
        text.parse::<std::net::Ipv6Addr>().unwrap().into()
    }

    #[test]
    fn ipv4_is_strict_dotted_decimal() {
        assert_eq!(parse_ipv4("192.0.2.1"), Some(0xC000_0201));
        assert_eq!(parse_ipv4("0.0.0.0"), Some(0));
        assert_eq!(parse_ipv4("255.255.255.255"), Some(u32::MAX));
        for refused in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.256",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.4/32",
            "1..3.4",
            "1.2.3.4.",
            "1.2.3.+4",
            "1.2.3.٤",
            "1.2.3.0004",
            "0x1.2.3.4",
        ] {
            assert_eq!(parse_ipv4(refused), None, "{refused:?} accepted");
        }
    }

    #[test]
    fn ipv6_follows_python() {
        for text in [
            "::",
            "::1",
            "1::",
            "2001:db8::1",
            "2001:DB8:0:0:0:0:0:1",
            "1:2:3:4:5:6:7:8",
            "::ffff:192.0.2.1",
            "64:ff9b::192.0.2.1",
            "1:2:3:4:5:6:1.2.3.4",
            "1::2:3:4:5:6:7",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
        ] {
            assert_eq!(parse_ipv6(text), Some(v6(text)), "{text}");
        }
        // A zone is accepted and ignored.
        assert_eq!(parse_ipv6("fe80::1%eth0"), Some(v6("fe80::1")));
        assert_eq!(parse_ipv6("fe80::1%a:b"), Some(v6("fe80::1")));
        for refused in [
            "",
            ":",
            "::1::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            ":1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:",
            "1::2:3:4:5:6:7:8",
            "12345::",
            "g::",
            "fe80::1%",
            "fe80::1%a%b",
            "%eth0",
            "::1/128",
            "::01.2.3.4",
            "1.2.3.4::",
            "[::1]",
            " ::1",
            "1:2:3:4:5:6:7:1.2.3.4",
            ":::",
        ] {
            assert_eq!(parse_ipv6(refused), None, "{refused:?} accepted");
        }
        // Python accepts a leading "::" before seven hextets (one zero hextet skipped).
        assert_eq!(parse_ipv6("::2:3:4:5:6:7:8"), Some(v6("0:2:3:4:5:6:7:8")));
    }

    #[test]
    fn networks_are_strict() {
        assert_eq!(
            parse_network("10.0.0.0/8"),
            Some(Network::V4 {
                first: 0x0A00_0000,
                last: 0x0AFF_FFFF
            })
        );
        assert_eq!(
            parse_network("10.0.0.0/255.0.0.0"),
            parse_network("10.0.0.0/8")
        );
        assert_eq!(
            parse_network("10.0.0.0/0.255.255.255"),
            parse_network("10.0.0.0/8")
        );
        assert_eq!(parse_network("10.0.0.0/008"), parse_network("10.0.0.0/8"));
        assert_eq!(
            parse_network("192.0.2.7"),
            Some(Network::V4 {
                first: 0xC000_0207,
                last: 0xC000_0207
            })
        );
        assert_eq!(
            parse_network("0.0.0.0/0"),
            Some(Network::V4 {
                first: 0,
                last: u32::MAX
            })
        );
        assert_eq!(
            parse_network("2001:db8::/32"),
            Some(Network::V6 {
                first: v6("2001:db8::"),
                last: v6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
            })
        );
        assert_eq!(
            parse_network("::/0"),
            Some(Network::V6 {
                first: 0,
                last: u128::MAX
            })
        );
        for refused in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/8/8",
            "10.0.0.0/255.0.255.0",
            "10.0.0.0/+8",
            "2001:db8::1/32",
            "2001:db8::/129",
            "2001:db8::/ffff::",
            "garbage",
            "",
        ] {
            assert_eq!(parse_network(refused), None, "{refused:?} accepted");
        }
    }
}
