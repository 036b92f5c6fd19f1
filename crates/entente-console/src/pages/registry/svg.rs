//! What the registry page's drawings share: escaping text into SVG, and compact numbers.

use std::fmt;

/// Text as SVG character data or an attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A coordinate to one decimal, without a trailing `.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl Number {
    /// A number of tenths, e.g. `123` as `12.3`.
    pub fn tenths(tenths: i64) -> Number {
        // Coordinates in tenths are far below 2^52: exact as f64.
        #[allow(clippy::cast_precision_loss)]
        Number(tenths as f64 / 10.0)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded = (self.0 * 10.0).round() / 10.0;
        if rounded == 0.0 {
            f.write_str("0")
        } else if rounded.fract() == 0.0 {
            write!(f, "{rounded:.0}")
        } else {
            write!(f, "{rounded:.1}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(Number(12.0).to_string(), "12");
        assert_eq!(Number(12.34).to_string(), "12.3");
        assert_eq!(Number::tenths(-5).to_string(), "-0.5");
        assert_eq!(Number(-0.04).to_string(), "0");
    }
}
