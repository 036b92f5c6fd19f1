//! `ISSUBSET` and `ISSUPERSET` as stix2-matcher computes them: IPv4 addresses read by the C
//! library's lenient `inet_aton` (`10.1` is 10.0.0.1, `0x7f.1` is 127.0.0.1, octal parts, anything
//! after white space ignored), CIDR prefixes from 1 to 32, a plain address a /32, a container that
//! must be a CIDR block. What it cannot read raises.
//!
//! Beyond stix2-matcher, which raises on every IPv6 text: IPv6 addresses and blocks (prefixes 1 to
//! 128, as for IPv4) are compared too; an address of one family is never in a block of the other.

use std::net::Ipv6Addr;

use crate::timestamp::decimal_value;

/// An address or a block: family, address bits (IPv4 in the low 32) and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    v6: bool,
    bits: u128,
    prefix: u32,
}

/// Whether the address or block `containee` lies within the block `container` (stix2-matcher's
/// `_ip_or_cidr_in_subnet`).
pub(crate) fn within(containee: &str, container: &str) -> Result<bool, String> {
    let inner = match containee.find('/') {
        None => {
            let (v6, bits) = address(containee)?;
            Block {
                v6,
                bits,
                prefix: if v6 { 128 } else { 32 },
            }
        }
        Some(_) => cidr(containee)?,
    };
    let outer = cidr(container)?;
    if inner.v6 != outer.v6 || outer.prefix > inner.prefix {
        return Ok(false);
    }
    let width = if outer.v6 { 128 } else { 32 };
    let mask = if outer.prefix == 0 {
        0
    } else {
        u128::MAX << (width - outer.prefix)
    };
    let mask = if outer.v6 { mask } else { mask & 0xffff_ffff };
    Ok(inner.bits & mask == outer.bits & mask)
}

/// `_cidr_subnet_to_ints`: `address/prefix` with a prefix of Unicode decimal digits, 1 to 32 (128).
pub(crate) fn cidr(text: &str) -> Result<Block, String> {
    let invalid = || format!("invalid CIDR subnet: {text}");
    let (ip, prefix) = text.split_once('/').ok_or_else(invalid)?;
    let (v6, bits) = address(ip)?;
    if prefix.is_empty() {
        return Err(invalid());
    }
    let mut value: u64 = 0;
    for c in prefix.chars() {
        let d = decimal_value(c).ok_or_else(invalid)?;
        value = value.saturating_mul(10).saturating_add(u64::from(d));
    }
    let max = if v6 { 128 } else { 32 };
    if !(1..=max).contains(&value) {
        return Err(invalid());
    }
    Ok(Block {
        v6,
        bits,
        prefix: value as u32,
    })
}

/// An IPv4 address as `inet_aton` reads it, else an IPv6 address.
fn address(text: &str) -> Result<(bool, u128), String> {
    if let Some(v4) = inet_aton(text) {
        return Ok((false, u128::from(v4)));
    }
    if text.contains(':') {
        if let Ok(v6) = text.parse::<Ipv6Addr>() {
            return Ok((true, u128::from(v6)));
        }
    }
    Err(format!("invalid IPv4 address: {text}"))
}

/// glibc's `inet_aton` (as Python's `socket.inet_aton` calls it).
pub(crate) fn inet_aton(text: &str) -> Option<u32> {
    let s = text.as_bytes();
    if s.contains(&0) {
        return None; // Python refuses an embedded NUL
    }
    let mut parts: Vec<u32> = Vec::with_capacity(4);
    let mut i = 0;
    let last = loop {
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        // strtoul with base 0.
        let (radix, mut j) = if s[i] == b'0'
            && matches!(s.get(i + 1), Some(b'x' | b'X'))
            && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            (16, i + 2)
        } else if s[i] == b'0' {
            (8, i)
        } else {
            (10, i)
        };
        let mut value: u64 = 0;
        while let Some(d) = s.get(j).and_then(|c| (*c as char).to_digit(radix)) {
            value = value
                .saturating_mul(u64::from(radix))
                .saturating_add(u64::from(d));
            j += 1;
        }
        if value > 0xffff_ffff {
            return None;
        }
        i = j;
        if s.get(i) == Some(&b'.') {
            if parts.len() > 2 || value > 0xff {
                return None;
            }
            parts.push(value as u32);
            i += 1;
        } else {
            break value as u32;
        }
    };
    if let Some(c) = s.get(i) {
        if !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            return None;
        }
    }
    let max: [u32; 4] = [0xffff_ffff, 0xff_ffff, 0xffff, 0xff];
    if last > max[parts.len()] {
        return None;
    }
    let mut address = 0u32;
    for (k, p) in parts.iter().enumerate() {
        address |= p << (24 - 8 * k);
    }
    Some(address | last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_addresses_as_inet_aton() {
        assert_eq!(inet_aton("1.2.3.4"), Some(0x0102_0304));
        assert_eq!(inet_aton("1"), Some(1));
        assert_eq!(inet_aton("10.1"), Some(0x0a00_0001));
        assert_eq!(inet_aton("0x7f.1"), Some(0x7f00_0001));
        assert_eq!(inet_aton("010.0.0.1"), Some(0x0800_0001));
        assert_eq!(inet_aton("1.2.3.4 junk"), Some(0x0102_0304));
        for bad in [
            "1.2.3.4.",
            "256.1.1.1",
            " 1.2.3.4",
            "08.1.1.1",
            "0x",
            "1..2",
            "",
            "1.2.3.4x",
            "4294967296",
        ] {
            assert_eq!(inet_aton(bad), None, "{bad}");
        }
    }

    #[test]
    fn compares_blocks() {
        assert_eq!(within("198.51.100.7", "198.51.100.0/24"), Ok(true));
        assert_eq!(within("198.51.101.7", "198.51.100.0/24"), Ok(false));
        assert_eq!(within("198.51.100.0/25", "198.51.100.0/24"), Ok(true));
        assert_eq!(within("198.51.100.0/23", "198.51.100.0/24"), Ok(false));
        assert!(within("198.51.100.7", "198.51.100.7").is_err());
        assert!(within("198.51.100.7", "198.51.100.0/0").is_err());
        assert!(within("x", "198.51.100.0/24").is_err());
        assert_eq!(within("2001:db8::1", "2001:db8::/32"), Ok(true));
        assert_eq!(within("2001:db9::1", "2001:db8::/32"), Ok(false));
        assert_eq!(within("2001:db8::1", "10.0.0.0/8"), Ok(false));
    }
}
