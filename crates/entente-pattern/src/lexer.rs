//! The tokens of the STIX 2.1 pattern grammar, cut the way the OASIS ANTLR lexer (`STIXPattern.g4`)
//! cuts them: at each point the longest match of any rule wins, and of two rules matching the same
//! length the one written first in the grammar. So `ANDx` is an identifier, `5SECONDS` is two tokens,
//! `true` is a boolean literal and `TRUE` a keyword no rule of the parser accepts.

/// The kind of a token, in the order of the grammar's lexer rules (that order breaks ties).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    IntNeg,
    IntPos,
    FloatNeg,
    FloatPos,
    Hex,
    Binary,
    Str,
    Bool,
    Timestamp,
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    TrueKeyword,
    FalseKeyword,
    Within,
    Repeats,
    Times,
    IdentWithoutHyphen,
    IdentWithHyphen,
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Quote,
    Colon,
    Dot,
    Comma,
    RParen,
    LParen,
    RBrack,
    LBrack,
    Plus,
    Hyphen,
    Power,
    Divide,
    Asterisk,
    Invalid,
    Eof,
}

impl TokenKind {
    /// How an error message names a token of this kind.
    pub(crate) fn describe(self) -> &'static str {
        use TokenKind::*;
        match self {
            IntNeg | IntPos => "an integer",
            FloatNeg | FloatPos => "a float",
            Hex => "a hex literal",
            Binary => "a binary literal",
            Str => "a string",
            Bool => "a boolean",
            Timestamp => "a timestamp",
            And => "'AND'",
            Or => "'OR'",
            Not => "'NOT'",
            FollowedBy => "'FOLLOWEDBY'",
            Like => "'LIKE'",
            Matches => "'MATCHES'",
            IsSuperset => "'ISSUPERSET'",
            IsSubset => "'ISSUBSET'",
            Exists => "'EXISTS'",
            Last => "'LAST'",
            In => "'IN'",
            Start => "'START'",
            Stop => "'STOP'",
            Seconds => "'SECONDS'",
            TrueKeyword => "'TRUE'",
            FalseKeyword => "'FALSE'",
            Within => "'WITHIN'",
            Repeats => "'REPEATS'",
            Times => "'TIMES'",
            IdentWithoutHyphen | IdentWithHyphen => "an identifier",
            Eq => "'='",
            Neq => "'!='",
            Lt => "'<'",
            Le => "'<='",
            Gt => "'>'",
            Ge => "'>='",
            Quote => "an unterminated quote",
            Colon => "':'",
            Dot => "'.'",
            Comma => "','",
            RParen => "')'",
            LParen => "'('",
            RBrack => "']'",
            LBrack => "'['",
            Plus => "'+'",
            Hyphen => "'-'",
            Power => "'^'",
            Divide => "'/'",
            Asterisk => "'*'",
            Invalid => "an invalid character",
            Eof => "the end of the pattern",
        }
    }
}

/// A token: its kind and its byte range in the pattern text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

const KEYWORDS: [(&str, TokenKind); 19] = [
    ("AND", TokenKind::And),
    ("OR", TokenKind::Or),
    ("NOT", TokenKind::Not),
    ("FOLLOWEDBY", TokenKind::FollowedBy),
    ("LIKE", TokenKind::Like),
    ("MATCHES", TokenKind::Matches),
    ("ISSUPERSET", TokenKind::IsSuperset),
    ("ISSUBSET", TokenKind::IsSubset),
    ("EXISTS", TokenKind::Exists),
    ("LAST", TokenKind::Last),
    ("IN", TokenKind::In),
    ("START", TokenKind::Start),
    ("STOP", TokenKind::Stop),
    ("SECONDS", TokenKind::Seconds),
    ("TRUE", TokenKind::TrueKeyword),
    ("FALSE", TokenKind::FalseKeyword),
    ("WITHIN", TokenKind::Within),
    ("REPEATS", TokenKind::Repeats),
    ("TIMES", TokenKind::Times),
];

/// Whether the grammar's `WS` rule skips this character.
pub(crate) fn is_grammar_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Whether `word` is lexed as a keyword or literal rather than an identifier.
pub(crate) fn is_reserved_word(word: &str) -> bool {
    word == "true" || word == "false" || KEYWORDS.iter().any(|(k, _)| *k == word)
}

/// Whether `word` lexes as one `IdentifierWithoutHyphen` token.
pub(crate) fn is_plain_identifier(word: &str) -> bool {
    let b = word.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !is_reserved_word(word)
}

/// Whether `word` lexes as one identifier token (with or without hyphens).
#[allow(dead_code)]
pub(crate) fn is_type_identifier(word: &str) -> bool {
    let b = word.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        && !is_reserved_word(word)
}

/// Cuts the whole text into tokens (skipping white space and comments), ending with `Eof`.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(text.len() / 3 + 2);
    let mut pos = 0;
    while pos < bytes.len() {
        let (len, kind) = longest_match(text, pos);
        // `None`: white space or a comment.
        if let Some(kind) = kind {
            tokens.push(Token {
                kind,
                start: pos,
                end: pos + len,
            });
        }
        pos += len;
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        start: bytes.len(),
        end: bytes.len(),
    });
    tokens
}

/// The longest token at `pos` (`None` as kind for skipped text) and its byte length (at least 1).
fn longest_match(text: &str, pos: usize) -> (usize, Option<TokenKind>) {
    let rest = &text.as_bytes()[pos..];
    let mut best_len = 0;
    let mut best: Option<TokenKind> = None;
    // A rule replaces the best so far only with a strictly longer match: earlier rules win ties.
    let mut offer = |len: usize, kind: Option<TokenKind>| {
        if len > best_len {
            best_len = len;
            best = kind;
        }
    };
    let first = rest[0];
    match first {
        b'-' => {
            offer(
                int_literal(&rest[1..]).map_or(0, |n| n + 1),
                Some(TokenKind::IntNeg),
            );
            offer(
                float_literal(&rest[1..]).map_or(0, |n| n + 1),
                Some(TokenKind::FloatNeg),
            );
            offer(1, Some(TokenKind::Hyphen));
        }
        b'+' => {
            offer(
                int_literal(&rest[1..]).map_or(0, |n| n + 1),
                Some(TokenKind::IntPos),
            );
            offer(
                float_literal(&rest[1..]).map_or(0, |n| n + 1),
                Some(TokenKind::FloatPos),
            );
            offer(1, Some(TokenKind::Plus));
        }
        b'0'..=b'9' | b'.' => {
            offer(int_literal(rest).unwrap_or(0), Some(TokenKind::IntPos));
            offer(float_literal(rest).unwrap_or(0), Some(TokenKind::FloatPos));
            if first == b'.' {
                offer(1, Some(TokenKind::Dot));
            }
        }
        b'\'' => {
            offer(string_literal(rest).unwrap_or(0), Some(TokenKind::Str));
            offer(1, Some(TokenKind::Quote));
        }
        b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
            if first == b'h' {
                offer(hex_literal(rest).unwrap_or(0), Some(TokenKind::Hex));
            }
            if first == b'b' {
                offer(binary_literal(rest).unwrap_or(0), Some(TokenKind::Binary));
            }
            if rest.starts_with(b"true") {
                offer(4, Some(TokenKind::Bool));
            } else if rest.starts_with(b"false") {
                offer(5, Some(TokenKind::Bool));
            }
            if first == b't' {
                offer(
                    timestamp_literal(rest).unwrap_or(0),
                    Some(TokenKind::Timestamp),
                );
            }
            if first.is_ascii_uppercase() {
                for (word, kind) in KEYWORDS {
                    if word.as_bytes()[0] == first && rest.starts_with(word.as_bytes()) {
                        offer(word.len(), Some(kind));
                    }
                }
            }
            let without = 1 + rest[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            offer(without, Some(TokenKind::IdentWithoutHyphen));
            let with = 1 + rest[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
                .count();
            offer(with, Some(TokenKind::IdentWithHyphen));
        }
        b'=' => offer(
            if rest.starts_with(b"==") { 2 } else { 1 },
            Some(TokenKind::Eq),
        ),
        b'!' if rest.starts_with(b"!=") => offer(2, Some(TokenKind::Neq)),
        b'<' => {
            if rest.starts_with(b"<>") {
                offer(2, Some(TokenKind::Neq));
            }
            offer(1, Some(TokenKind::Lt));
            if rest.starts_with(b"<=") {
                offer(2, Some(TokenKind::Le));
            }
        }
        b'>' => {
            offer(1, Some(TokenKind::Gt));
            if rest.starts_with(b">=") {
                offer(2, Some(TokenKind::Ge));
            }
        }
        b':' => offer(1, Some(TokenKind::Colon)),
        b',' => offer(1, Some(TokenKind::Comma)),
        b')' => offer(1, Some(TokenKind::RParen)),
        b'(' => offer(1, Some(TokenKind::LParen)),
        b']' => offer(1, Some(TokenKind::RBrack)),
        b'[' => offer(1, Some(TokenKind::LBrack)),
        b'^' => offer(1, Some(TokenKind::Power)),
        b'*' => offer(1, Some(TokenKind::Asterisk)),
        b'/' => {
            offer(1, Some(TokenKind::Divide));
            if rest.starts_with(b"/*") {
                if let Some(close) = find(&rest[2..], b"*/") {
                    offer(close + 4, None);
                }
            } else if rest.starts_with(b"//") {
                let line = rest
                    .iter()
                    .take_while(|c| **c != b'\n' && **c != b'\r')
                    .count();
                offer(line, None);
            }
        }
        _ => {}
    }
    // White space (the rule comes after all the others, so it only wins when longer; only ASCII
    // spaces and non-ASCII characters can start it).
    if matches!(first, b'\t'..=b'\r' | b' ') || !first.is_ascii() {
        let spaces: usize = text[pos..]
            .chars()
            .take_while(|c| is_grammar_space(*c))
            .map(char::len_utf8)
            .sum();
        offer(spaces, None);
    }
    if best_len == 0 {
        // InvalidCharacter: one character, whatever it is.
        let len = text[pos..].chars().next().map_or(1, char::len_utf8);
        return (len, Some(TokenKind::Invalid));
    }
    (best_len, best)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `'0' | [1-9] [0-9]*` at the start of `s`: its length.
fn int_literal(s: &[u8]) -> Option<usize> {
    match s.first()? {
        b'0' => Some(1),
        b'1'..=b'9' => Some(1 + s[1..].iter().take_while(|c| c.is_ascii_digit()).count()),
        _ => None,
    }
}

/// `[0-9]* '.' [0-9]+` at the start of `s`: its length.
fn float_literal(s: &[u8]) -> Option<usize> {
    let int = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if s.get(int) != Some(&b'.') {
        return None;
    }
    let frac = s[int + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    (frac > 0).then_some(int + 1 + frac)
}

/// `QUOTE ( ~['\\] | '\\\'' | '\\\\' )* QUOTE` at the start of `s`: its length.
fn string_literal(s: &[u8]) -> Option<usize> {
    let mut i = 1;
    loop {
        match *s.get(i)? {
            b'\'' => return Some(i + 1),
            b'\\' => match *s.get(i + 1)? {
                b'\'' | b'\\' => i += 2,
                _ => return None,
            },
            _ => i += 1,
        }
    }
}

/// `'h' QUOTE TwoHexDigits* QUOTE`.
fn hex_literal(s: &[u8]) -> Option<usize> {
    if s.get(1) != Some(&b'\'') {
        return None;
    }
    let digits = s[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
    let pairs = digits / 2 * 2;
    (s.get(2 + pairs) == Some(&b'\'')).then_some(3 + pairs)
}

fn is_base64_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

/// `'b' QUOTE (B B B B)* (B B B B | B B B '=' | B B '==') QUOTE`.
fn binary_literal(s: &[u8]) -> Option<usize> {
    if s.get(1) != Some(&b'\'') {
        return None;
    }
    let n = s[2..].iter().take_while(|c| is_base64_char(**c)).count();
    let after = &s[2 + n..];
    let padding = match n % 4 {
        0 if n > 0 => 0,
        3 => 1,
        2 => 2,
        _ => return None,
    };
    if after.len() > padding
        && after[..padding].iter().all(|c| *c == b'=')
        && after[padding] == b'\''
    {
        Some(3 + n + padding)
    } else {
        None
    }
}

/// `t'YYYY-MM-DDThh:mm:ss(.f+)?Z'` with the grammar's digit ranges.
fn timestamp_literal(s: &[u8]) -> Option<usize> {
    let d = |i: usize| s.get(i).copied().unwrap_or(0);
    let is = |i: usize, lo: u8, hi: u8| (lo..=hi).contains(&d(i));
    if d(1) != b'\'' {
        return None;
    }
    let year = (2..6).all(|i| is(i, b'0', b'9'));
    let month = d(6) == b'-'
        && ((d(7) == b'0' && is(8, b'1', b'9')) || (d(7) == b'1' && is(8, b'0', b'2')));
    let day = d(9) == b'-'
        && ((d(10) == b'0' && is(11, b'1', b'9'))
            || (is(10, b'1', b'2') && is(11, b'0', b'9'))
            || (d(10) == b'3' && is(11, b'0', b'1')));
    let hour = d(12) == b'T'
        && ((is(13, b'0', b'1') && is(14, b'0', b'9')) || (d(13) == b'2' && is(14, b'0', b'3')));
    let minute = d(15) == b':' && is(16, b'0', b'5') && is(17, b'0', b'9');
    let second = d(18) == b':'
        && ((is(19, b'0', b'5') && is(20, b'0', b'9')) || (d(19) == b'6' && d(20) == b'0'));
    if !(year && month && day && hour && minute && second) {
        return None;
    }
    let mut i = 21;
    if d(i) == b'.' {
        let frac = s[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return None;
        }
        i += 1 + frac;
    }
    (d(i) == b'Z' && d(i + 1) == b'\'').then_some(i + 2)
}
