//! Parsing Python format specs (`[[fill]align][sign][#][0][width][,][.precision][type]`).
//!
//! A [`FormatSpec`] is parsed once, when a Monitor is configured, and applied on every log
//! line. [`Display`](fmt::Display) writes a spec that parses back to an equal value.

use std::fmt;
use std::str::FromStr;

/// Largest width or precision accepted. Python allows any size; a bigger number here is
/// almost certainly a typo and would allocate a huge string on every log line.
pub const MAX_WIDTH: usize = 10_000;

/// The grammar, quoted in error messages.
const GRAMMAR: &str = "[[fill]align][sign][#][0][width][,][.precision][type]";

/// The accepted types, quoted in error messages.
const TYPES: &str = "f, F, e, E, g, G, d, s, % or no type";

/// Where padding goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    /// `<`
    Left,
    /// `>`
    Right,
    /// `^`
    Center,
    /// `=`: between the sign and the digits (numbers only).
    AfterSign,
}

impl Align {
    fn from_char(c: char) -> Option<Align> {
        Some(match c {
            '<' => Align::Left,
            '>' => Align::Right,
            '^' => Align::Center,
            '=' => Align::AfterSign,
            _ => return None,
        })
    }

    fn as_char(self) -> char {
        match self {
            Align::Left => '<',
            Align::Right => '>',
            Align::Center => '^',
            Align::AfterSign => '=',
        }
    }
}

/// What to print before non-negative numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sign {
    /// `-`: nothing (the default, written explicitly).
    Minus,
    /// `+`: a plus sign.
    Plus,
    /// ` `: a space.
    Space,
}

impl Sign {
    fn from_char(c: char) -> Option<Sign> {
        Some(match c {
            '-' => Sign::Minus,
            '+' => Sign::Plus,
            ' ' => Sign::Space,
            _ => return None,
        })
    }

    fn as_char(self) -> char {
        match self {
            Sign::Minus => '-',
            Sign::Plus => '+',
            Sign::Space => ' ',
        }
    }
}

/// The presentation type (the last character of a spec).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Type {
    /// `f`, or `F` (upper-case `INF`/`NAN`).
    Fixed { upper: bool },
    /// `e` or `E`.
    Exp { upper: bool },
    /// `g` or `G`.
    General { upper: bool },
    /// `d`: integers only.
    Decimal,
    /// `s`: text only.
    Str,
    /// `%`: percentage.
    Percent,
}

impl Type {
    fn from_char(c: char) -> Option<Type> {
        Some(match c {
            'f' => Type::Fixed { upper: false },
            'F' => Type::Fixed { upper: true },
            'e' => Type::Exp { upper: false },
            'E' => Type::Exp { upper: true },
            'g' => Type::General { upper: false },
            'G' => Type::General { upper: true },
            'd' => Type::Decimal,
            's' => Type::Str,
            '%' => Type::Percent,
            _ => return None,
        })
    }

    pub(crate) fn as_char(self) -> char {
        match self {
            Type::Fixed { upper } => {
                if upper {
                    'F'
                } else {
                    'f'
                }
            }
            Type::Exp { upper } => {
                if upper {
                    'E'
                } else {
                    'e'
                }
            }
            Type::General { upper } => {
                if upper {
                    'G'
                } else {
                    'g'
                }
            }
            Type::Decimal => 'd',
            Type::Str => 's',
            Type::Percent => '%',
        }
    }
}

/// A parsed Python format spec, as in `format(value, ".3f")`.
///
/// The grammar is `[[fill]align][sign][#][0][width][,|_][.precision][type]` with the types
/// `f F e E g G d s %` or none. Apply it with [`FormatSpec::format`] or [`FormatSpec::write`];
/// the empty spec renders Python's `str()` of any value.
///
/// ```
/// use xmen_core::pyfmt::FormatSpec;
/// use xmen_core::Value;
/// let spec: FormatSpec = "08.3f".parse().unwrap();
/// assert_eq!(spec.format(&Value::Float(-3.14159)).unwrap(), "-003.142");
/// assert_eq!(spec.to_string(), "08.3f");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormatSpec {
    /// The fill character, when written explicitly before an alignment.
    pub(crate) fill: Option<char>,
    pub(crate) align: Option<Align>,
    pub(crate) sign: Option<Sign>,
    /// `#`: alternate form.
    pub(crate) alt: bool,
    /// The `0` flag: zero fill (and `=` alignment for numbers when no alignment is given).
    pub(crate) zero: bool,
    pub(crate) width: Option<usize>,
    /// The thousands separator, `,` or `_`.
    pub(crate) grouping: Option<char>,
    pub(crate) precision: Option<usize>,
    pub(crate) ty: Option<Type>,
}

impl FormatSpec {
    /// Whether this is the empty spec `""`, which renders `str()` of any value.
    pub fn is_empty(&self) -> bool {
        *self == FormatSpec::default()
    }
}

/// Why a format spec string was rejected: the input, the 1-based character column and the
/// reason.
///
/// Displays as, for example,
/// `invalid format spec ".3q": unknown type "q" at column 3; expected one of f, F, e, E, g, G, d, s, % or no type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatSpecError {
    /// The whole spec string as given.
    pub spec: String,
    /// The 1-based character column where parsing went wrong.
    pub column: usize,
    /// What went wrong, where, and what to write instead.
    pub message: String,
}

impl fmt::Display for FormatSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid format spec \"{}\": {}", self.spec, self.message)
    }
}

impl std::error::Error for FormatSpecError {}

/// A cursor over the characters of a spec, counting 1-based columns.
struct Cursor<'a> {
    spec: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn column(&self) -> usize {
        self.pos + 1
    }

    fn error(&self, column: usize, message: String) -> FormatSpecError {
        FormatSpecError { spec: self.spec.to_owned(), column, message }
    }

    /// Read a run of decimal digits as a width or precision; `None` when there are none.
    fn number(&mut self, what: &str) -> Result<Option<usize>, FormatSpecError> {
        let start = self.pos;
        let mut value: usize = 0;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            value = value.saturating_mul(10).saturating_add(d as usize);
            self.pos += 1;
        }
        if self.pos == start {
            return Ok(None);
        }
        if value > MAX_WIDTH {
            let digits: String = self.chars[start..self.pos].iter().collect();
            return Err(self.error(
                start + 1,
                format!("{what} {digits} at column {} is too large; the limit is {MAX_WIDTH}", start + 1),
            ));
        }
        Ok(Some(value))
    }
}

impl FromStr for FormatSpec {
    type Err = FormatSpecError;

    /// Parse a spec the way Python's `format()` does (Python 3.10+ rules for the `0` flag).
    fn from_str(s: &str) -> Result<FormatSpec, FormatSpecError> {
        let mut c = Cursor { spec: s, chars: s.chars().collect(), pos: 0 };
        let mut spec = FormatSpec::default();

        if let Some(align) = c.peek_at(1).and_then(Align::from_char) {
            spec.fill = c.peek();
            spec.align = Some(align);
            c.pos += 2;
        } else if let Some(align) = c.peek().and_then(Align::from_char) {
            spec.align = Some(align);
            c.pos += 1;
        }
        if let Some(sign) = c.peek().and_then(Sign::from_char) {
            spec.sign = Some(sign);
            c.pos += 1;
        }
        if c.peek() == Some('#') {
            spec.alt = true;
            c.pos += 1;
        }
        // An explicit fill turns a leading 0 into part of the width, as in Python.
        if spec.fill.is_none() && c.peek() == Some('0') {
            spec.zero = true;
            c.pos += 1;
        }
        spec.width = c.number("width")?;
        if let Some(sep @ (',' | '_')) = c.peek() {
            spec.grouping = Some(sep);
            c.pos += 1;
            if let Some(other @ (',' | '_')) = c.peek() {
                let message = if other == sep {
                    format!("\"{other}\" repeated at column {}; write it once", c.column())
                } else {
                    format!("both \",\" and \"_\" given at column {}; choose one thousands separator", c.column())
                };
                return Err(c.error(c.column(), message));
            }
        }
        if c.peek() == Some('.') {
            c.pos += 1;
            spec.precision = c.number("precision")?;
            if spec.precision.is_none() {
                let col = c.column();
                return Err(c.error(
                    col,
                    format!("missing precision after \".\" at column {col}; write digits such as \".3\""),
                ));
            }
        }
        if let Some(t) = c.peek() {
            let col = c.column();
            match Type::from_char(t) {
                Some(ty) => {
                    spec.ty = Some(ty);
                    c.pos += 1;
                }
                None if t.is_alphabetic() => {
                    return Err(c.error(col, format!("unknown type \"{t}\" at column {col}; expected one of {TYPES}")));
                }
                None => {
                    return Err(c.error(col, format!("unexpected \"{t}\" at column {col}; a spec reads {GRAMMAR}")));
                }
            }
        }
        if let Some(extra) = c.peek() {
            let col = c.column();
            let rest: String = c.chars[c.pos..].iter().collect();
            let message = format!(
                "unexpected \"{rest}\" after the type at column {col}; the type (\"{}\") must come last",
                spec.ty.map_or(extra, Type::as_char)
            );
            return Err(c.error(col, message));
        }
        Ok(spec)
    }
}

impl fmt::Display for FormatSpec {
    /// The spec in canonical form; it parses back to an equal [`FormatSpec`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        if let Some(align) = self.align {
            if let Some(fill) = self.fill {
                f.write_char(fill)?;
            }
            f.write_char(align.as_char())?;
        }
        if let Some(sign) = self.sign {
            f.write_char(sign.as_char())?;
        }
        if self.alt {
            f.write_char('#')?;
        }
        if self.zero {
            f.write_char('0')?;
        }
        if let Some(w) = self.width {
            write!(f, "{w}")?;
        }
        if let Some(g) = self.grouping {
            f.write_char(g)?;
        }
        if let Some(p) = self.precision {
            write!(f, ".{p}")?;
        }
        if let Some(ty) = self.ty {
            f.write_char(ty.as_char())?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    fn parse(s: &str) -> FormatSpec {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn valid_specs_parse_and_round_trip() {
        let specs = [
            "",
            ".3f",
            ".5f",
            "10.2f",
            "<10",
            "^10s",
            "+.2e",
            ",d",
            ".1%",
            "08.3f",
            ".3g",
            "g",
            "#.3g",
            "x<10",
            "0<5",
            "<05",
            "*^+#012,.3e",
            "_",
            " ",
            "-",
            "=+8d",
            "00",
            "x<0",
            "<<5",
            ">",
            ".0",
            "E",
            "G",
            "F",
            "%",
            "010_.2f",
            "é>7",
            "{^3",
        ];
        for s in specs {
            let spec = parse(s);
            assert_eq!(spec.to_string().parse::<FormatSpec>(), Ok(spec.clone()), "{s:?}");
        }
        assert!(parse("").is_empty());
        assert!(!parse("0").is_empty());
    }

    #[test]
    fn fields_follow_pythons_grammar() {
        let s = parse("*^+#012,.3e");
        assert_eq!(s.fill, Some('*'));
        assert_eq!(s.align, Some(Align::Center));
        assert_eq!(s.sign, Some(Sign::Plus));
        assert!(s.alt);
        // With an explicit fill, the 0 belongs to the width.
        assert!(!s.zero);
        assert_eq!(s.width, Some(12));
        assert_eq!(s.grouping, Some(','));
        assert_eq!(s.precision, Some(3));
        assert_eq!(s.ty, Some(Type::Exp { upper: false }));

        let s = parse("<05");
        assert_eq!((s.fill, s.align, s.zero, s.width), (None, Some(Align::Left), true, Some(5)));
        let s = parse("00");
        assert_eq!((s.zero, s.width), (true, Some(0)));
        let s = parse("<<5");
        assert_eq!((s.fill, s.align, s.width), (Some('<'), Some(Align::Left), Some(5)));
        let s = parse(" ");
        assert_eq!((s.fill, s.sign), (None, Some(Sign::Space)));
    }

    #[test]
    fn errors_name_the_input_column_and_fix() {
        let cases: &[(&str, usize, &str)] = &[
            (".3q", 3, "unknown type \"q\" at column 3; expected one of"),
            ("x", 1, "unknown type \"x\""),
            (".f", 2, "missing precision after \".\" at column 2"),
            ("10.", 4, "missing precision"),
            (".3ff", 4, "unexpected \"f\" after the type at column 4"),
            ("10x5", 3, "unknown type \"x\""),
            ("++5", 2, "unexpected \"+\" at column 2"),
            (",_", 2, "both \",\" and \"_\""),
            (",,", 2, "\",\" repeated"),
            ("99999", 1, "width 99999 at column 1 is too large"),
            (".99999f", 2, "precision 99999 at column 2 is too large"),
            ("<<<", 3, "unexpected \"<\" at column 3"),
        ];
        for &(s, column, needle) in cases {
            let e = s.parse::<FormatSpec>().expect_err(s);
            assert_eq!(e.spec, s);
            assert_eq!(e.column, column, "{s:?}: {e}");
            assert!(e.message.contains(needle), "{s:?}: {e}");
        }
        let e = ".3q".parse::<FormatSpec>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid format spec \".3q\": unknown type \"q\" at column 3; \
             expected one of f, F, e, E, g, G, d, s, % or no type"
        );
    }
}
