//! A recursive-descent parser of the OASIS grammar (`STIXPattern.g4`, STIX 2.1), followed by the
//! checks the OASIS validator (`stix2patterns.validator.run_validator`, 2.1) adds to it.

use crate::ast::{
    Comparison, ComparisonExpr, Constant, Number, ObjectPath, ObservationExpr, Operator, PathStep,
    Pattern, Qualifier, Timestamp,
};
use crate::error::{PatternError, PatternErrorKind};
use crate::lexer::{tokenize, Token, TokenKind};

impl Pattern {
    /// Parses a STIX 2.1 pattern, accepting exactly what the OASIS validator accepts.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let mut parser = Parser {
            text,
            tokens: tokenize(text),
            at: 0,
            comparisons: Vec::new(),
            checks: Vec::new(),
        };
        let root = parser.observation_expressions()?;
        parser.expect(
            TokenKind::Eof,
            "'AND', 'OR', 'FOLLOWEDBY', a qualifier or the end",
        )?;
        check_brackets(text)?;
        if let Some(first) = parser.checks.into_iter().min_by_key(|e| e.offset) {
            return Err(first);
        }
        Ok(Pattern {
            root,
            comparisons: parser.comparisons,
        })
    }
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    at: usize,
    comparisons: Vec<Comparison>,
    /// Errors of the validator's checks, reported only when the grammar is satisfied.
    checks: Vec<PatternError>,
}

type Parsed<T> = Result<T, PatternError>;

impl<'t> Parser<'t> {
    fn peek(&self) -> TokenKind {
        self.tokens[self.at].kind
    }

    fn token_text(&self, token: Token) -> &'t str {
        &self.text[token.start..token.end]
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.at];
        if token.kind != TokenKind::Eof {
            self.at += 1;
        }
        token
    }

    fn error_here(&self, expected: &str) -> PatternError {
        let token = self.tokens[self.at];
        let described = token.kind.describe();
        let found = if token.kind == TokenKind::Eof || described.starts_with('\'') {
            described.to_owned()
        } else {
            let text: String = self.token_text(token).chars().take(24).collect();
            format!("{} {:?}", token.kind.describe(), text)
        };
        PatternError::at(
            self.text,
            token.start,
            PatternErrorKind::Syntax,
            format!("expected {expected}, found {found}"),
        )
    }

    fn expect(&mut self, kind: TokenKind, expected: &str) -> Parsed<Token> {
        if self.peek() == kind {
            Ok(self.advance())
        } else {
            Err(self.error_here(expected))
        }
    }

    fn observation_expressions(&mut self) -> Parsed<ObservationExpr> {
        let mut left = self.observation_or()?;
        while self.peek() == TokenKind::FollowedBy {
            self.advance();
            let right = self.observation_or()?;
            left = ObservationExpr::FollowedBy(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn observation_or(&mut self) -> Parsed<ObservationExpr> {
        let mut left = self.observation_and()?;
        while self.peek() == TokenKind::Or {
            self.advance();
            let right = self.observation_and()?;
            left = ObservationExpr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn observation_and(&mut self) -> Parsed<ObservationExpr> {
        let mut left = self.observation()?;
        while self.peek() == TokenKind::And {
            self.advance();
            let right = self.observation()?;
            left = ObservationExpr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn observation(&mut self) -> Parsed<ObservationExpr> {
        let (mut expr, bracketed) = match self.peek() {
            TokenKind::LBrack => {
                self.advance();
                let inner = self.comparison_or()?;
                self.expect(TokenKind::RBrack, "']', 'AND' or 'OR'")?;
                (ObservationExpr::Observation(inner), true)
            }
            TokenKind::LParen => {
                self.advance();
                let inner = self.observation_expressions()?;
                self.expect(TokenKind::RParen, "')', 'AND', 'OR' or 'FOLLOWEDBY'")?;
                (ObservationExpr::Group(Box::new(inner)), false)
            }
            _ => return Err(self.error_here("'[' or '('")),
        };
        let mut seen: [bool; 3] = [false; 3];
        loop {
            let start = self.tokens[self.at].start;
            let (qualifier, slot, name) = match self.peek() {
                TokenKind::Within => (self.within()?, 0, "WITHIN"),
                TokenKind::Repeats => (self.repeats()?, 1, "REPEATS"),
                TokenKind::Start => (self.start_stop()?, 2, "STARTSTOP"),
                _ => break,
            };
            // The validator refuses a qualifier kind twice directly on `[...]`, not on `(...)`.
            if bracketed && std::mem::replace(&mut seen[slot], true) {
                self.checks.push(PatternError::at(
                    self.text,
                    start,
                    PatternErrorKind::DuplicateQualifier,
                    format!("duplicate qualifier {name} on one observation expression"),
                ));
            }
            expr = ObservationExpr::Qualified(Box::new(expr), qualifier);
        }
        Ok(expr)
    }

    fn within(&mut self) -> Parsed<Qualifier> {
        self.advance();
        let number = match self.peek() {
            TokenKind::IntPos => {
                let token = self.advance();
                int_number(self.token_text(token))
            }
            TokenKind::FloatPos => {
                let token = self.advance();
                Number::Float(float_value(self.token_text(token)))
            }
            _ => return Err(self.error_here("a positive number of seconds")),
        };
        self.expect(TokenKind::Seconds, "'SECONDS'")?;
        Ok(Qualifier::Within(number))
    }

    fn repeats(&mut self) -> Parsed<Qualifier> {
        self.advance();
        let token = self.expect(TokenKind::IntPos, "a positive integer")?;
        let digits = self.token_text(token).trim_start_matches('+');
        let count = digits.parse::<u64>().unwrap_or(u64::MAX);
        self.expect(TokenKind::Times, "'TIMES'")?;
        Ok(Qualifier::Repeats(count))
    }

    fn start_stop(&mut self) -> Parsed<Qualifier> {
        self.advance();
        let start = self.expect(TokenKind::Timestamp, "a timestamp t'...'")?;
        self.expect(TokenKind::Stop, "'STOP'")?;
        let stop = self.expect(TokenKind::Timestamp, "a timestamp t'...'")?;
        Ok(Qualifier::StartStop(
            timestamp_constant(self.token_text(start)),
            timestamp_constant(self.token_text(stop)),
        ))
    }

    fn comparison_or(&mut self) -> Parsed<ComparisonExpr> {
        let mut left = self.comparison_and()?;
        while self.peek() == TokenKind::Or {
            self.advance();
            let right = self.comparison_and()?;
            left = ComparisonExpr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison_and(&mut self) -> Parsed<ComparisonExpr> {
        let mut left = self.prop_test()?;
        while self.peek() == TokenKind::And {
            self.advance();
            let right = self.prop_test()?;
            left = ComparisonExpr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn prop_test(&mut self) -> Parsed<ComparisonExpr> {
        match self.peek() {
            TokenKind::LParen => {
                self.advance();
                let inner = self.comparison_or()?;
                self.expect(TokenKind::RParen, "')', 'AND' or 'OR'")?;
                return Ok(inner);
            }
            TokenKind::Not | TokenKind::Exists => {
                let negated = self.peek() == TokenKind::Not;
                if negated {
                    self.advance();
                }
                self.expect(TokenKind::Exists, "'EXISTS'")?;
                let (object_type, path) = self.object_path()?;
                return Ok(self.push(Comparison {
                    object_type,
                    path,
                    negated,
                    operator: Operator::Exists,
                    value: None,
                }));
            }
            TokenKind::IdentWithoutHyphen | TokenKind::IdentWithHyphen => {}
            _ => return Err(self.error_here("an object path, 'EXISTS', 'NOT EXISTS' or '('")),
        }
        let (object_type, path) = self.object_path()?;
        let negated = self.peek() == TokenKind::Not;
        if negated {
            self.advance();
        }
        let operator_token = self.advance();
        let operator = match operator_token.kind {
            TokenKind::Eq => Operator::Eq,
            TokenKind::Neq => Operator::Ne,
            TokenKind::Lt => Operator::Lt,
            TokenKind::Le => Operator::Le,
            TokenKind::Gt => Operator::Gt,
            TokenKind::Ge => Operator::Ge,
            TokenKind::In => Operator::In,
            TokenKind::Like => Operator::Like,
            TokenKind::Matches => Operator::Matches,
            TokenKind::IsSubset => Operator::IsSubset,
            TokenKind::IsSuperset => Operator::IsSuperset,
            _ => {
                self.at -= usize::from(operator_token.kind != TokenKind::Eof);
                let expected = if negated {
                    "an operator after 'NOT'"
                } else {
                    "an operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)"
                };
                return Err(self.error_here(expected));
            }
        };
        let value_start = self.at;
        let value = match operator {
            Operator::Eq | Operator::Ne => self.primitive_literal()?,
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
                self.orderable_literal()?
            }
            Operator::In => self.set_literal()?,
            _ => {
                let token = self.expect(TokenKind::Str, "a string '...'")?;
                Constant::String(string_value(self.token_text(token)))
            }
        };
        if crate::check::names_hashes(&path) {
            // The validator reads the value as the text of its tokens (without what lies between).
            let value_text: String = self.tokens[value_start..self.at]
                .iter()
                .map(|t| self.token_text(*t))
                .collect();
            let value_at = self.tokens[value_start].start;
            if let Some(problem) = crate::check::hash_problem(&path, &value_text) {
                self.checks.push(PatternError::at(
                    self.text,
                    value_at,
                    PatternErrorKind::InvalidHash,
                    problem,
                ));
            }
        }
        Ok(self.push(Comparison {
            object_type,
            path,
            negated,
            operator,
            value: Some(value),
        }))
    }

    fn push(&mut self, comparison: Comparison) -> ComparisonExpr {
        self.comparisons.push(comparison);
        ComparisonExpr::Test(self.comparisons.len() - 1)
    }

    fn object_path(&mut self) -> Parsed<(String, ObjectPath)> {
        let object_type = match self.peek() {
            TokenKind::IdentWithoutHyphen | TokenKind::IdentWithHyphen => {
                let token = self.advance();
                self.token_text(token).to_owned()
            }
            _ => return Err(self.error_here("an object type")),
        };
        self.expect(TokenKind::Colon, "':' after the object type")?;
        let first = match self.peek() {
            TokenKind::IdentWithoutHyphen => {
                let token = self.advance();
                self.token_text(token).to_owned()
            }
            TokenKind::Str => {
                let token = self.advance();
                string_value(self.token_text(token))
            }
            _ => return Err(self.error_here("a property name (quote names with '-')")),
        };
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                TokenKind::Dot => {
                    self.advance();
                    let key = match self.peek() {
                        TokenKind::IdentWithoutHyphen => {
                            let token = self.advance();
                            self.token_text(token).to_owned()
                        }
                        TokenKind::Str => {
                            let token = self.advance();
                            string_value(self.token_text(token))
                        }
                        _ => return Err(self.error_here("a property name (quote names with '-')")),
                    };
                    steps.push(PathStep::Key(key));
                }
                TokenKind::LBrack => {
                    self.advance();
                    let step = match self.peek() {
                        TokenKind::Asterisk => {
                            self.advance();
                            PathStep::AnyIndex
                        }
                        TokenKind::IntPos | TokenKind::IntNeg => {
                            let token = self.advance();
                            PathStep::Index(match int_constant(self.token_text(token)) {
                                Constant::Int(i) => i,
                                Constant::BigInt(s) if s.starts_with('-') => i64::MIN,
                                _ => i64::MAX,
                            })
                        }
                        _ => return Err(self.error_here("a list index or '*'")),
                    };
                    self.expect(TokenKind::RBrack, "']' after the list index")?;
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok((object_type, ObjectPath { first, steps }))
    }

    fn primitive_literal(&mut self) -> Parsed<Constant> {
        if self.peek() == TokenKind::Bool {
            let token = self.advance();
            return Ok(Constant::Bool(self.token_text(token) == "true"));
        }
        self.literal("a constant")
    }

    fn orderable_literal(&mut self) -> Parsed<Constant> {
        self.literal("a number, string, timestamp, binary or hex constant")
    }

    fn literal(&mut self, expected: &str) -> Parsed<Constant> {
        let token = self.tokens[self.at];
        let text = self.token_text(token);
        let constant = match token.kind {
            TokenKind::IntPos | TokenKind::IntNeg => int_constant(text),
            TokenKind::FloatPos | TokenKind::FloatNeg => Constant::Float(float_value(text)),
            TokenKind::Str => Constant::String(string_value(text)),
            TokenKind::Binary => Constant::Binary(base64_value(&text[2..text.len() - 1])),
            TokenKind::Hex => Constant::Hex(hex_value(&text[2..text.len() - 1])),
            TokenKind::Timestamp => Constant::Timestamp(timestamp_constant(text)),
            _ => return Err(self.error_here(expected)),
        };
        self.advance();
        Ok(constant)
    }

    fn set_literal(&mut self) -> Parsed<Constant> {
        self.expect(TokenKind::LParen, "'(' opening a set")?;
        let mut items = Vec::new();
        if self.peek() == TokenKind::RParen {
            self.advance();
            return Ok(Constant::List(items));
        }
        loop {
            items.push(self.primitive_literal()?);
            match self.peek() {
                TokenKind::Comma => {
                    self.advance();
                }
                TokenKind::RParen => {
                    self.advance();
                    return Ok(Constant::List(items));
                }
                _ => return Err(self.error_here("',' or ')'")),
            }
        }
    }
}

/// An integer token's value (`+` and `-` signs allowed; beyond `i64` kept as decimal text).
fn int_number(text: &str) -> Number {
    let digits = text.trim_start_matches('+');
    match digits.parse::<i64>() {
        Ok(i) => Number::Int(i),
        Err(_) => Number::BigInt(digits.to_owned()),
    }
}

fn int_constant(text: &str) -> Constant {
    match int_number(text) {
        Number::Int(i) => Constant::Int(i),
        Number::BigInt(s) => Constant::BigInt(s),
        Number::Float(f) => Constant::Float(f),
    }
}

fn float_value(text: &str) -> f64 {
    text.parse::<f64>().unwrap_or(f64::NAN)
}

/// A string token's value: quotes removed, `\'` and `\\` unescaped.
pub(crate) fn string_value(text: &str) -> String {
    let inner = &text[1..text.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn timestamp_constant(text: &str) -> Timestamp {
    Timestamp(text[2..text.len() - 1].to_owned())
}

fn hex_value(digits: &str) -> Vec<u8> {
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| (hex_digit(pair[0]) << 4) | hex_digit(pair[1]))
        .collect()
}

fn hex_digit(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Decodes base64 the lexer has checked (alphabet and padding); bits past the last byte are dropped.
fn base64_value(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => break,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The validator's `brackets_check`: after any `(` and white space (Python's `isspace`), the text
/// must go on with `[`.
fn check_brackets(text: &str) -> Result<(), PatternError> {
    let first = text
        .char_indices()
        .find(|(_, c)| *c != '(' && !crate::check::python_isspace(*c));
    match first {
        Some((_, '[')) => Ok(()),
        Some((at, _)) => Err(PatternError::at(
            text,
            at,
            PatternErrorKind::MissingBrackets,
            "a pattern must open with '[' (after any '(' and white space)".to_owned(),
        )),
        None => Err(PatternError::at(
            text,
            text.len(),
            PatternErrorKind::MissingBrackets,
            "a pattern must contain an observation expression in '[' and ']'".to_owned(),
        )),
    }
}
