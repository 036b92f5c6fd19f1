//! Seeded values for comparing lookups with the reference: addresses inside, at the edges of and
//! just outside listed networks, listed hosts and their subdomains and parents, URLs on them,
//! list strings with their case changed, substrings in e-mail addresses, the targets of the
//! regex lists, and junk. Shared by the differential test and the benchmark example.

use entente_warninglists::{ListType, WarningLists};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Where values come from: the entries of the loaded lists, grouped by list so that small lists
/// are drawn as often as large ones.
pub struct Sources {
    v4_networks: Vec<Vec<(u32, u32)>>,
    v6_networks: Vec<Vec<(u128, u128)>>,
    cidr_entries: Vec<Vec<String>>,
    hostnames: Vec<Vec<String>>,
    strings: Vec<Vec<String>>,
    substrings: Vec<Vec<String>>,
}

impl Sources {
    pub fn new(lists: &WarningLists) -> Sources {
        let mut sources = Sources {
            v4_networks: Vec::new(),
            v6_networks: Vec::new(),
            cidr_entries: Vec::new(),
            hostnames: Vec::new(),
            strings: Vec::new(),
            substrings: Vec::new(),
        };
        for list in lists.lists() {
            if list.entries.is_empty() {
                continue;
            }
            let entries = list.entries.clone();
            match list.list_type {
                ListType::Cidr => {
                    let (mut v4, mut v6) = (Vec::new(), Vec::new());
                    for entry in &entries {
                        let (address, prefix) = entry.split_once('/').unwrap_or((entry, ""));
                        if let Ok(address) = address.parse::<std::net::Ipv4Addr>() {
                            let prefix: u32 = prefix.parse().unwrap_or(32);
                            let first = u32::from(address);
                            let span = u32::MAX.checked_shr(prefix).unwrap_or(0);
                            v4.push((first, first | span));
                        } else if let Ok(address) = address.parse::<std::net::Ipv6Addr>() {
                            let prefix: u32 = prefix.parse().unwrap_or(128);
                            let first = u128::from(address);
                            let span = u128::MAX.checked_shr(prefix).unwrap_or(0);
                            v6.push((first, first | span));
                        }
                    }
                    if !v4.is_empty() {
                        sources.v4_networks.push(v4);
                    }
                    if !v6.is_empty() {
                        sources.v6_networks.push(v6);
                    }
                    sources.cidr_entries.push(entries);
                }
                ListType::Hostname => sources.hostnames.push(entries),
                ListType::String => sources.strings.push(entries),
                ListType::Substring => sources.substrings.push(entries),
                ListType::Regex => {}
            }
        }
        sources
    }
}

/// `count` values drawn from `sources` with the generator seeded by `seed`.
pub fn generate(sources: &Sources, count: usize, seed: u64) -> Vec<String> {
    let mut generator = Generator {
        rng: ChaCha8Rng::seed_from_u64(seed),
        sources,
    };
    (0..count).map(|_| generator.value()).collect()
}

struct Generator<'a> {
    rng: ChaCha8Rng,
    sources: &'a Sources,
}

const JUNK_CHARS: &[char] = &[
    'a', 'b', 'z', 'A', 'Z', '0', '1', '9', '.', '.', '.', '-', '_', '/', ':', ':', '@', '[', ']',
    '%', '?', '#', ' ', '\t', '\n', '\r', '\u{0}', '\u{1}', 'é', 'ß', 'Σ', 'я', '中', '℀', '＠',
    '／', '．', 'ﬁ', '🦀', '\u{200b}', '\\', '"', '\'', '*', '+', ',',
];

const LABELS: &[&str] = &[
    "www",
    "mail",
    "a",
    "cdn",
    "api",
    "x1",
    "static",
    "login",
    "dns",
    "m",
    "xn--bcher-kva",
    "WWW",
];

impl Generator<'_> {
    fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn pick_in<'b, T>(&mut self, groups: &'b [Vec<T>]) -> &'b T {
        let group = self.rng.random_range(0..groups.len());
        self.pick(&groups[group])
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn value(&mut self) -> String {
        match self.rng.random_range(0..100) {
            0..14 => self.ipv4_near_listed(),
            14..22 => self.ipv6_near_listed(),
            22..26 => self.cidr_entry(),
            26..30 => self.random_address(),
            30..46 => self.host(),
            46..61 => self.url(),
            61..71 => self.string_entry(),
            71..79 => self.substring_entry(),
            79..84 => self.regex_target(),
            84..98 => self.junk(),
            _ => self
                .pick(&[
                    "", " ", "\t", "\n", ".", "..", "/", "//", "http://", ":", "%",
                ])
                .to_string(),
        }
    }

    fn ipv4_near_listed(&mut self) -> String {
        let sources = self.sources;
        let (first, last) = *self.pick_in(&sources.v4_networks);
        let address = match self.rng.random_range(0..6) {
            0 | 1 => first + self.rng.random_range(0..=last - first),
            2 => first,
            3 => last,
            4 => first.wrapping_sub(1),
            _ => last.wrapping_add(1),
        };
        self.format_ipv4(address)
    }

    fn format_ipv4(&mut self, address: u32) -> String {
        let plain = std::net::Ipv4Addr::from(address).to_string();
        match self.rng.random_range(0..40) {
            0 => format!("0{plain}"),
            1 => format!("{plain} "),
            2 => format!("{plain}:443"),
            3 => format!("{plain}/32"),
            4 => format!("::ffff:{plain}"),
            5 => format!("{plain}%eth0"),
            6 => format!("{plain}."),
            7 => plain.replace('.', ","),
            _ => plain,
        }
    }

    fn ipv6_near_listed(&mut self) -> String {
        let sources = self.sources;
        let (first, last) = *self.pick_in(&sources.v6_networks);
        let address = match self.rng.random_range(0..6) {
            0 | 1 => {
                let span = last - first;
                first
                    + if span == u128::MAX {
                        self.rng.random()
                    } else {
                        self.rng.random_range(0..=span)
                    }
            }
            2 => first,
            3 => last,
            4 => first.wrapping_sub(1),
            _ => last.wrapping_add(1),
        };
        self.format_ipv6(address)
    }

    fn format_ipv6(&mut self, address: u128) -> String {
        let ip = std::net::Ipv6Addr::from(address);
        let hextets = ip.segments();
        match self.rng.random_range(0..20) {
            0 => ip.to_string().to_uppercase(),
            1 => hextets
                .iter()
                .map(|h| format!("{h:04x}"))
                .collect::<Vec<_>>()
                .join(":"),
            2 => hextets
                .iter()
                .map(|h| format!("{h:x}"))
                .collect::<Vec<_>>()
                .join(":"),
            3 => format!("{ip}%eth0"),
            4 => format!("{ip}%"),
            5 => {
                let v4 = std::net::Ipv4Addr::from((address & 0xFFFF_FFFF) as u32);
                let head = hextets[..6]
                    .iter()
                    .map(|h| format!("{h:x}"))
                    .collect::<Vec<_>>()
                    .join(":");
                format!("{head}:{v4}")
            }
            6 => format!("[{ip}]"),
            7 => format!("{ip}/128"),
            8 => format!("{ip}:"),
            9 => format!(":{ip}"),
            _ => ip.to_string(),
        }
    }

    fn random_address(&mut self) -> String {
        if self.chance(60) {
            let address = self.rng.random();
            self.format_ipv4(address)
        } else {
            let address = self.rng.random();
            self.format_ipv6(address)
        }
    }

    fn cidr_entry(&mut self) -> String {
        let sources = self.sources;
        let entry = self.pick_in(&sources.cidr_entries).clone();
        match self.rng.random_range(0..8) {
            0..=2 => entry,
            3 => match entry.split_once('/') {
                Some((address, prefix)) => {
                    let prefix: u32 = prefix.parse().unwrap_or(0);
                    format!("{address}/{}", prefix + 1)
                }
                None => format!("{entry}/32"),
            },
            4 => entry
                .split_once('/')
                .map_or(entry.clone(), |(address, _)| address.to_owned()),
            5 => entry.to_uppercase(),
            6 => format!(" {entry}"),
            _ => entry.replace("/", "/0"),
        }
    }

    /// A host built on a listed host name or domain.
    fn host(&mut self) -> String {
        let sources = self.sources;
        let base = if self.chance(75) {
            self.pick_in(&sources.hostnames).clone()
        } else {
            self.pick_in(&sources.strings).clone()
        };
        let stripped = if self.chance(80) {
            base.trim_start_matches('.').to_owned()
        } else {
            base.clone()
        };
        match self.rng.random_range(0..12) {
            0..=2 => stripped,
            3 | 4 => {
                let mut host = stripped;
                for _ in 0..self.rng.random_range(1..=3) {
                    let label = *self.pick(LABELS);
                    host = format!("{label}.{host}");
                }
                host
            }
            5 => stripped
                .split_once('.')
                .map_or(stripped.clone(), |(_, parent)| parent.to_owned()),
            6 => stripped.to_uppercase(),
            7 => format!("{stripped}."),
            8 => format!("x{stripped}"),
            9 => format!("{stripped}.evil.example"),
            10 => format!(".{stripped}"),
            _ => {
                let mut chars: Vec<char> = stripped.chars().collect();
                if !chars.is_empty() {
                    let at = self.rng.random_range(0..chars.len());
                    chars[at] = chars[at].to_ascii_uppercase();
                }
                chars.into_iter().collect()
            }
        }
    }

    fn url(&mut self) -> String {
        let sources = self.sources;
        let scheme = *self.pick(&[
            "http://",
            "https://",
            "HTTP://",
            "hxxp://",
            "ftp://",
            "//",
            "s3://",
            "http:/",
            "http:",
            "",
            "  http://",
            "ht\ttp://",
            "1http://",
            "a+b.c-d://",
            "mailto:",
        ]);
        let user = *self.pick(&["", "", "", "", "user@", "user:pw@", "a@b@", "@"]);
        let host = match self.rng.random_range(0..10) {
            0 => {
                let (first, last) = *self.pick_in(&sources.v4_networks);
                std::net::Ipv4Addr::from(first + self.rng.random_range(0..=last - first))
                    .to_string()
            }
            1 => {
                let (first, _) = *self.pick_in(&sources.v6_networks);
                let zone = if self.chance(20) { "%ETH0" } else { "" };
                format!(
                    "[{}{zone}]",
                    std::net::Ipv6Addr::from(first.wrapping_add(1))
                )
            }
            2 => self
                .pick(&[
                    "[",
                    "]",
                    "[::1",
                    "[1.2.3.4]",
                    "[v1.x]",
                    "[vz.x]",
                    "[v1.]",
                    "[example.com]",
                    "a℀b.example",
                    "a＠b.example",
                    "ｅｘａｍｐｌｅ.com",
                    "ÉCOLE.example",
                    "[::1]x",
                    "x[::1]",
                    "",
                ])
                .to_string(),
            _ => self.host(),
        };
        let port = *self.pick(&["", "", "", ":80", ":8443", ":", ":abc"]);
        let path = *self.pick(&[
            "",
            "/",
            "/index.html",
            "/a/b?q=1&r=2",
            "?q",
            "#frag",
            "/p#f?x",
            "/%41",
        ]);
        format!("{scheme}{user}{host}{port}{path}")
    }

    fn string_entry(&mut self) -> String {
        let sources = self.sources;
        let entry = self.pick_in(&sources.strings).clone();
        match self.rng.random_range(0..10) {
            0..5 => entry,
            5 => entry.to_uppercase(),
            6 => entry.to_lowercase(),
            7 => format!(" {entry}"),
            8 => format!("{entry}x"),
            _ => format!("www.{entry}"),
        }
    }

    fn substring_entry(&mut self) -> String {
        let sources = self.sources;
        let entry = self.pick_in(&sources.substrings).clone();
        match self.rng.random_range(0..8) {
            0..3 => format!("user{}@{entry}", self.rng.random_range(0..100)),
            3 => format!("x{entry}y"),
            4 => entry.to_uppercase(),
            5 => entry,
            6 => entry.chars().skip(1).collect(),
            _ => format!("https://{entry}/path"),
        }
    }

    fn regex_target(&mut self) -> String {
        if self.chance(50) {
            let local = *self.pick(&[
                "security",
                "noc",
                "soc",
                "abuse",
                "SECURITY",
                "Abuse",
                "admin",
                "security-team",
                "xabuse",
            ]);
            let domain = *self.pick(&["example.org", "example", "mail.example.co.uk", "", "."]);
            let tail = *self.pick(&["", "", "", "\n", "\n\n", " "]);
            format!("{local}@{domain}{tail}")
        } else {
            match self.rng.random_range(0..6) {
                0 => format!(
                    "+1{:03}55501{:02}",
                    self.rng.random_range(0..1000),
                    self.rng.random_range(0..100)
                ),
                1 => format!("07700900{:03}", self.rng.random_range(0..1000)),
                2 => format!("+4407700900{:03}", self.rng.random_range(0..1000)),
                3 => format!("0491570{}", self.pick(&["006", "156", "999", "737"])),
                4 => format!(
                    "+33{}{:04}",
                    self.pick(&["19900", "26191", "12345"]),
                    self.rng.random_range(0..10000)
                ),
                _ => (0..self.rng.random_range(6..14))
                    .map(|_| char::from(b'0' + self.rng.random_range(0..10u8)))
                    .collect(),
            }
        }
    }

    fn junk(&mut self) -> String {
        let length = self.rng.random_range(0..40);
        (0..length).map(|_| *self.pick(JUNK_CHARS)).collect()
    }
}
