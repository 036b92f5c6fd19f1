//! A seeded corpus of pattern texts: hand-written valid and invalid ones, random valid ones from
//! the grammar, and mutations of those (tokens and characters deleted, inserted, swapped).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Written by hand: every feature of the grammar and the usual mistakes.
pub const HAND_WRITTEN: &[&str] = &[
    "[ipv4-addr:value = '198.51.100.7']",
    "[ipv4-addr:value = '198.51.100.7' AND ipv4-addr:value = '1.2.3.4']",
    "[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'example.com']",
    "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'example.com']",
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[file:hashes.'SHA-256' = 'not a hash']",
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427']",
    "[file:hashes.md5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
    "[file:hashes.MD6 = 'd41d8cd98f00b204e9800998ecf8427e and more']",
    "[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']",
    "[file:hashes.MD5 IN ('d41d8cd98f00b204e9800998ecf8427e')]",
    "[file:hashes.MD5 != 'd41d8cd98f00b204e9800998ecf8427e']",
    "[file:hashes[*] = 'x']",
    "[file:hashes[0] = 'x']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:extensions.windows-pebinary-ext.sections[*].entropy > 7.0]",
    "[network-traffic:src_ref.value = '10.0.0.1']",
    "[email-message:to_refs[*].value = 'a@example.com']",
    "[email-message:to_refs[0].value = 'a@example.com']",
    "[email-message:to_refs[-1].value = 'a@example.com']",
    "[email-message:to_refs[+1].value = 'a@example.com']",
    "[x:y[99999999999999999999999] = 1]",
    "[user-account:account_login LIKE 'adm%']",
    "[user-account:account_login NOT LIKE 'adm_n']",
    "[file:name MATCHES '^Setup[0-9]+\\\\.exe$']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value ISSUPERSET '198.51.100.7']",
    "[ipv4-addr:value NOT ISSUBSET '198.51.100.0/24']",
    "[EXISTS windows-registry-key:values]",
    "[NOT EXISTS windows-registry-key:values]",
    "[windows-registry-key:values NOT EXISTS]",
    "[process:pid IN (1, 2, 3)]",
    "[process:pid IN ()]",
    "[process:pid NOT IN (1)]",
    "[process:name IN ('a', 'b',)]",
    "[process:pid < 5]",
    "[process:pid <= -5]",
    "[process:pid > +5]",
    "[process:pid >= 5.5]",
    "[process:pid = true]",
    "[process:pid < true]",
    "[process:pid = TRUE]",
    "[process:pid = True]",
    "[process:pid == 1]",
    "[process:pid <> 1]",
    "[process:pid != 1]",
    "[process:pid =! 1]",
    "[process:pid === 1]",
    "[artifact:payload_bin = b'QUJD']",
    "[artifact:payload_bin = b'QUI=']",
    "[artifact:payload_bin = b'QQ==']",
    "[artifact:payload_bin = b'Q===']",
    "[artifact:payload_bin = b'']",
    "[artifact:payload_bin = h'414243']",
    "[artifact:payload_bin = h'41424']",
    "[artifact:payload_bin = h'']",
    "[artifact:payload_bin = H'41']",
    "[file:created = t'2016-11-23T10:40:22Z']",
    "[file:created = t'2016-11-23T10:40:22.123456789Z']",
    "[file:created = t'2016-02-30T10:40:22Z']",
    "[file:created = t'2016-13-01T10:40:22Z']",
    "[file:created = t'2016-11-23T24:00:00Z']",
    "[file:created = t'2016-11-23T23:59:60Z']",
    "[file:created = t'2016-11-23 10:40:22Z']",
    "[file:created = t'2016-11-23T10:40:22']",
    "[file:created = t'2016-11-23T10:40:22z']",
    "[file:created = t'2016-11-23T10:40:22+01:00']",
    "[file:created = '2016-11-23T10:40:22Z']",
    "[file:created = T'2016-11-23T10:40:22Z']",
    "[file:name = 'it\\'s']",
    "[file:name = 'back\\\\slash']",
    "[file:name = 'bad \\n escape']",
    "[file:name = \"double\"]",
    "[file:name = 'unterminated]",
    "[file:name = '']",
    "[file:'name' = 'x']",
    "[file:'na me'.'x y' = 'x']",
    "[file:name.'' = 'x']",
    "[file:name = 'x'] AND [file:name = 'y']",
    "[file:name = 'x'] OR [file:name = 'y']",
    "[file:name = 'x'] FOLLOWEDBY [file:name = 'y']",
    "[file:name = 'x'] and [file:name = 'y']",
    "[file:name = 'x'] followedby [file:name = 'y']",
    "[file:name = 'x' and file:name = 'y']",
    "([file:name = 'x'] AND [file:name = 'y']) WITHIN 5 SECONDS",
    "([file:name = 'x'] OR ([file:name = 'y'] FOLLOWEDBY [file:name = 'z'])) REPEATS 2 TIMES",
    "[file:name = 'x'] WITHIN 5 SECONDS",
    "[file:name = 'x'] WITHIN 5.5 SECONDS",
    "[file:name = 'x'] WITHIN .5 SECONDS",
    "[file:name = 'x'] WITHIN 0 SECONDS",
    "[file:name = 'x'] WITHIN -5 SECONDS",
    "[file:name = 'x'] WITHIN 5 SECOND",
    "[file:name = 'x'] WITHIN 5",
    "[file:name = 'x'] WITHIN SECONDS",
    "[file:name = 'x'] within 5 seconds",
    "[file:name = 'x'] WITHIN 5SECONDS",
    "[file:name = 'x'] REPEATS 5 TIMES",
    "[file:name = 'x'] REPEATS 0 TIMES",
    "[file:name = 'x'] REPEATS 1.5 TIMES",
    "[file:name = 'x'] REPEATS -1 TIMES",
    "[file:name = 'x'] REPEATS 5",
    "[file:name = 'x'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    "[file:name = 'x'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
    "[file:name = 'x'] START t'2016-06-01T00:00:00Z'",
    "[file:name = 'x'] STOP t'2016-06-01T00:00:00Z' START t'2016-07-01T00:00:00Z'",
    "[file:name = 'x'] WITHIN 5 SECONDS REPEATS 2 TIMES",
    "[file:name = 'x'] WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "[file:name = 'x'] REPEATS 2 TIMES REPEATS 3 TIMES",
    "([file:name = 'x']) WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "([file:name = 'x'] WITHIN 5 SECONDS) WITHIN 6 SECONDS",
    "[file:name = 'x'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z' START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    "[file:name = 'x'",
    "file:name = 'x']",
    "file:name = 'x'",
    "[file:name = 'x']]",
    "[[file:name = 'x']]",
    "[file:name = 'x'] garbage",
    "[file:name = 'x'] AND",
    "[file:name = 'x'] AND []",
    "[]",
    "",
    "   ",
    "()",
    "([file:name = 'x']",
    "[file:name = 'x'])",
    "((([file:name = 'x'])))",
    "  (  [file:name = 'x'] )  ",
    "[file:name 'x']",
    "[file:name == 'x']",
    "[file:name ~ 'x']",
    "[file:name LIKES 'x']",
    "[file:name CONTAINS 'x']",
    "[file:name = x]",
    "[file:name = 'x' AND]",
    "[file:name = 'x' AND OR file:name = 'y']",
    "[(file:name = 'x' OR file:name = 'y') AND file:size = 5]",
    "[file:name = 'x' OR (file:name = 'y' AND file:size = 5)]",
    "[(file:name = 'x']",
    "[file:name = 'x')]",
    "[NOT file:name = 'x']",
    "[file:name NOT = 'x']",
    "[file:name NOT != 'x']",
    "[file:name NOT NOT = 'x']",
    "[file: name = 'x']",
    "[file :name = 'x']",
    "[file:name . x = 'x']",
    "[ file:name='x' ]",
    "[file:name='x']AND[file:name='y']",
    "[file:name='x']ANDX[file:name='y']",
    "[file:name = 'x'] /* comment */ AND [file:name = 'y']",
    "/* comment */ [file:name = 'x']",
    "[file:name = 'x'] // trailing comment",
    "// leading comment\n[file:name = 'x']",
    "[file:name = 'x'] /* unterminated",
    "[file:name = 'x'\n AND file:size = 5]",
    "\t[file:name = 'x']\r\n",
    "\u{a0}[file:name = 'x']\u{3000}",
    "[file:name = 'x'\u{200b}]",
    "\u{1c}[file:name = 'x']",
    "[file:name = 'x'] \u{1c}",
    "[file:name = 'Ⅻ ünïcödé ✓ 😀']",
    "[x-custom:'ünïcode' = 1]",
    "[_a:_b = 1]",
    "[a-:b = 1]",
    "[-a:b = 1]",
    "[1a:b = 1]",
    "[a:1b = 1]",
    "[a:b-c = 1]",
    "[a:b.c-d = 1]",
    "[a:b[1.5] = 1]",
    "[a:b[x] = 1]",
    "[a:b[] = 1]",
    "[a:b[*][*].c = 1]",
    "[AND:b = 1]",
    "[a:AND = 1]",
    "[a:LAST = 1]",
    "[a:true = 1]",
    "[a:t = 1]",
    "[a:b.IN = 1]",
    "[t:t = t'2016-06-01T00:00:00Z']",
    "[h:h = h'00']",
    "[b:b = b'AAAA']",
    "[a:b = -0]",
    "[a:b = 00]",
    "[a:b = 01.5]",
    "[a:b = 1.]",
    "[a:b = 1e5]",
    "[a:b = - 5]",
    "[a:b = +-5]",
    "[a:b = 99999999999999999999999999999999]",
    "[a:b = -99999999999999999999999999999999]",
    "[a:b IN (1, 'a', true, 1.5, t'2016-06-01T00:00:00Z', b'AAAA', h'00')]",
    "[a:b IN 1, 2]",
    "[a:b IN (1 2)]",
    "[a:b IN ((1))]",
    "[a:b LIKE 5]",
    "[a:b MATCHES 5]",
    "[a:b ISSUBSET 5]",
    "[a:b ISSUBSET ('1.2.3.0/24')]",
    "[a:b = 1] FOLLOWEDBY [a:b = 2] FOLLOWEDBY [a:b = 3]",
    "[a:b = 1] AND [a:b = 2] OR [a:b = 3] FOLLOWEDBY [a:b = 4]",
    "[a:b = 1] WITHIN 1 SECONDS AND [a:b = 2] REPEATS 2 TIMES",
    "[a:b = 1] LAST 5 SECONDS",
    "[a:b = 1]\u{0}",
];

pub struct Generator {
    pub rng: ChaCha8Rng,
}

const TYPES: &[&str] = &[
    "ipv4-addr",
    "file",
    "domain-name",
    "x-custom-thing",
    "network-traffic",
    "email-message",
    "a",
    "_t",
    "user-account",
    "process",
    "t",
    "h",
    "b",
    "x509-certificate",
];
const FIRST: &[&str] = &[
    "value",
    "name",
    "hashes",
    "extensions",
    "size",
    "src_ref",
    "'quoted name'",
    "'it\\'s'",
    "resolves_to_refs",
    "created",
    "x_y",
    "'hashes'",
];
const KEYS: &[&str] = &[
    "MD5",
    "'SHA-256'",
    "'SHA-1'",
    "sha256",
    "md5",
    "x",
    "'windows-pebinary-ext'",
    "sections",
    "name",
    "value",
    "'a b'",
    "SSDEEP",
    "MD6",
    "hashes",
    "'SHA3-256'",
    "WHIRLPOOL",
    "'SHA-512'",
];
const STRINGS: &[&str] = &[
    "'198.51.100.7'",
    "'example.com'",
    "'d41d8cd98f00b204e9800998ecf8427e'",
    "'da39a3ee5e6b4b0d3255bfef95601890afd80709'",
    "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'",
    "'x'",
    "''",
    "'it\\'s'",
    "'back\\\\slash'",
    "'ünï ✓'",
    "'line\nbreak'",
    "'%adm_n%'",
    "'^a.*b$'",
    "'10.0.0.0/8'",
    "'3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C'",
];
const INTS: &[&str] = &[
    "0",
    "5",
    "-3",
    "+7",
    "42",
    "123456789012345678901234567890",
    "-0",
];
const FLOATS: &[&str] = &["1.5", "-0.25", ".5", "+2.0", "0.0", "-.5"];
const TIMESTAMPS: &[&str] = &[
    "t'2016-11-23T10:40:22Z'",
    "t'2016-11-23T10:40:22.5Z'",
    "t'2016-02-30T00:00:00Z'",
    "t'2020-12-31T23:59:60.123456789Z'",
    "t'0000-01-01T00:00:00Z'",
];
const BINARIES: &[&str] = &[
    "b'AAAA'",
    "b'QUJD'",
    "b'QUI='",
    "b'QQ=='",
    "h''",
    "h'00ff'",
    "h'DEADbeef'",
];
const SEPARATORS: &[&str] = &[
    " ",
    " ",
    " ",
    " ",
    "",
    "  ",
    "\t",
    "\n",
    "\u{a0}",
    "/* c */",
    "// line\n",
    "\r\n",
];

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.random_range(0..items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// A pattern from the grammar, as tokens.
    pub fn tokens(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        self.observations(&mut out, 0);
        out
    }

    /// Joins tokens with random white space and comments (rarely none).
    pub fn join(&mut self, tokens: &[String]) -> String {
        let mut text = String::new();
        for (i, t) in tokens.iter().enumerate() {
            if i > 0 {
                let sep = if self.chance(0.8) {
                    " "
                } else {
                    self.pick(SEPARATORS)
                };
                text.push_str(sep);
            }
            text.push_str(t);
        }
        text
    }

    fn observations(&mut self, out: &mut Vec<String>, depth: usize) {
        if depth < 3 && self.chance(0.35) {
            self.observation(out, depth + 1);
            let op = self.pick(&["AND", "OR", "FOLLOWEDBY"]);
            out.push(op.to_owned());
            self.observation(out, depth + 1);
        } else {
            self.observation(out, depth + 1);
        }
    }

    fn observation(&mut self, out: &mut Vec<String>, depth: usize) {
        if depth < 3 && self.chance(0.25) {
            out.push("(".into());
            self.observations(out, depth + 1);
            out.push(")".into());
        } else {
            out.push("[".into());
            self.comparisons(out, 0);
            out.push("]".into());
        }
        while self.chance(0.2) {
            match self.rng.random_range(0..3) {
                0 => {
                    out.push("WITHIN".into());
                    let n = self.pick(&["5", "1", "0", "2.5", ".5", "+3", "86400"]);
                    out.push(n.into());
                    out.push("SECONDS".into());
                }
                1 => {
                    out.push("REPEATS".into());
                    let n = self.pick(&["2", "1", "0", "+3", "10"]);
                    out.push(n.into());
                    out.push("TIMES".into());
                }
                _ => {
                    out.push("START".into());
                    let a = self.pick(TIMESTAMPS);
                    out.push(a.into());
                    out.push("STOP".into());
                    let b = self.pick(TIMESTAMPS);
                    out.push(b.into());
                }
            }
        }
    }

    fn comparisons(&mut self, out: &mut Vec<String>, depth: usize) {
        let n = if depth < 2 {
            self.rng.random_range(1..=3)
        } else {
            1
        };
        for i in 0..n {
            if i > 0 {
                let op = self.pick(&["AND", "OR"]);
                out.push(op.into());
            }
            if depth < 2 && self.chance(0.15) {
                out.push("(".into());
                self.comparisons(out, depth + 1);
                out.push(")".into());
            } else {
                self.test(out);
            }
        }
    }

    fn path(&mut self, out: &mut Vec<String>) {
        let ty = self.pick(TYPES);
        out.push(ty.into());
        out.push(":".into());
        let first = self.pick(FIRST);
        out.push(first.into());
        let steps = self.rng.random_range(0..3);
        for _ in 0..steps {
            if self.chance(0.7) {
                out.push(".".into());
                let key = self.pick(KEYS);
                out.push(key.into());
            } else {
                out.push("[".into());
                let index = self.pick(&["*", "0", "1", "-1", "+2", "*"]);
                out.push(index.into());
                out.push("]".into());
            }
        }
    }

    fn test(&mut self, out: &mut Vec<String>) {
        if self.chance(0.06) {
            if self.chance(0.5) {
                out.push("NOT".into());
            }
            out.push("EXISTS".into());
            self.path(out);
            return;
        }
        self.path(out);
        if self.chance(0.15) {
            out.push("NOT".into());
        }
        let op = self.pick(&[
            "=",
            "!=",
            "==",
            "<>",
            "<",
            "<=",
            ">",
            ">=",
            "IN",
            "LIKE",
            "MATCHES",
            "ISSUBSET",
            "ISSUPERSET",
            "=",
        ]);
        out.push(op.into());
        match op {
            "=" | "!=" | "==" | "<>" => {
                let v = self.primitive();
                out.push(v);
            }
            "<" | "<=" | ">" | ">=" => {
                let v = self.orderable();
                out.push(v);
            }
            "IN" => {
                out.push("(".into());
                let n = self.rng.random_range(0..4);
                for i in 0..n {
                    if i > 0 {
                        out.push(",".into());
                    }
                    let v = self.primitive();
                    out.push(v);
                }
                out.push(")".into());
            }
            _ => {
                let v = self.pick(STRINGS);
                out.push(v.into());
            }
        }
    }

    fn orderable(&mut self) -> String {
        let list = match self.rng.random_range(0..6) {
            0 | 1 => STRINGS,
            2 => INTS,
            3 => FLOATS,
            4 => TIMESTAMPS,
            _ => BINARIES,
        };
        self.pick(list).to_owned()
    }

    fn primitive(&mut self) -> String {
        if self.chance(0.1) {
            self.pick(&["true", "false"]).to_owned()
        } else {
            self.orderable()
        }
    }

    /// A mutation of a token list: a token deleted, duplicated, swapped, replaced or inserted, or
    /// a character of the joined text deleted, inserted or replaced, or a keyword lower-cased.
    pub fn mutate(&mut self, tokens: &[String]) -> String {
        const INSERTS: &[&str] = &[
            "[",
            "]",
            "(",
            ")",
            "AND",
            "OR",
            "NOT",
            "'",
            ":",
            ".",
            ",",
            "=",
            "IN",
            "WITHIN",
            "5",
            "SECONDS",
            "x",
            "'x'",
            "t'2016-11-23T10:40:22Z'",
            "*",
            "FOLLOWEDBY",
            "-",
            "EXISTS",
        ];
        let mut tokens = tokens.to_vec();
        let n = tokens.len();
        match self.rng.random_range(0..9) {
            0 => {
                tokens.remove(self.rng.random_range(0..n));
            }
            1 => {
                let i = self.rng.random_range(0..n);
                let t = tokens[i].clone();
                tokens.insert(i, t);
            }
            2 if n > 1 => {
                let i = self.rng.random_range(0..n - 1);
                tokens.swap(i, i + 1);
            }
            3 => {
                let i = self.rng.random_range(0..n);
                tokens[i] = self.pick(INSERTS).to_owned();
            }
            4 => {
                let i = self.rng.random_range(0..=n);
                let t = self.pick(INSERTS).to_owned();
                tokens.insert(i, t);
            }
            5 => {
                let i = self.rng.random_range(0..n);
                tokens[i] = tokens[i].to_lowercase();
            }
            _ => {
                let text = self.join(&tokens);
                let mut chars: Vec<char> = text.chars().collect();
                let i = self.rng.random_range(0..chars.len());
                const CHARS: &[char] = &[
                    '[', ']', '\'', ' ', '\\', '.', '-', '(', ')', 'a', '0', ':', '=', '*', '/',
                ];
                match self.rng.random_range(0..3) {
                    0 => {
                        chars.remove(i);
                    }
                    1 => chars.insert(i, CHARS[self.rng.random_range(0..CHARS.len())]),
                    _ => chars[i] = CHARS[self.rng.random_range(0..CHARS.len())],
                }
                return chars.into_iter().collect();
            }
        }
        self.join(&tokens)
    }
}

/// The corpus of the pattern differential: hand-written, then `generated` valid ones from the
/// grammar and `mutated` mutations of further generated ones.
pub fn pattern_corpus(seed: u64, generated: usize, mutated: usize) -> Vec<String> {
    let mut gen = Generator::new(seed);
    let mut corpus: Vec<String> = HAND_WRITTEN.iter().map(|s| (*s).to_owned()).collect();
    for _ in 0..generated {
        let tokens = gen.tokens();
        let text = gen.join(&tokens);
        corpus.push(text);
    }
    for _ in 0..mutated {
        let tokens = gen.tokens();
        let text = gen.mutate(&tokens);
        corpus.push(text);
    }
    corpus
}
