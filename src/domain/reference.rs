//! The reference a requester quotes, `DSAR-2026-000123`: the year of
//! receipt and the request's sequence number. One canonical spelling per
//! request, so a reference can be looked up by its text.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

const PREFIX: &str = "DSAR-";
/// Sequence numbers are padded to this many digits.
const SEQUENCE_WIDTH: usize = 6;

/// A request reference. Displayed as `DSAR-<year>-<seq>`, with the sequence
/// padded to six digits (more when it needs them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    pub year: i32,
    pub seq: i64,
}

/// Text that is not a reference. It does not echo the input: a search box
/// that tries references first also receives names and addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("not a request reference: {reason}; references look like DSAR-2026-000123")]
pub struct InvalidReference {
    pub reason: &'static str,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}{:04}-{:0width$}",
            self.year,
            self.seq,
            width = SEQUENCE_WIDTH
        )
    }
}

impl FromStr for Reference {
    type Err = InvalidReference;

    /// Accepts the displayed form in any case, surrounded by whitespace.
    /// Anything else is refused, including a sequence padded differently,
    /// so each reference has one spelling.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| InvalidReference { reason };
        let text = input.trim();
        let rest = strip_prefix_ignore_case(text, PREFIX)
            .ok_or_else(|| invalid("it does not start with DSAR-"))?;
        let (year, seq) = rest
            .split_once('-')
            .ok_or_else(|| invalid("the year and the number must be separated by -"))?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the year must have four digits"));
        }
        if seq.len() < SEQUENCE_WIDTH || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the number must have at least six digits"));
        }
        if seq.len() > SEQUENCE_WIDTH && seq.starts_with('0') {
            return Err(invalid(
                "a number longer than six digits has no leading zero",
            ));
        }
        let year = year
            .parse()
            .map_err(|_| invalid("the year must have four digits"))?;
        let seq = seq
            .parse()
            .map_err(|_| invalid("the number is too large"))?;
        Ok(Reference { year, seq })
    }
}

/// Whether `text` is meant as a reference (starts with "DSAR-", in any
/// case), so a search can tell a mistyped reference from a name.
pub fn looks_like_reference(text: &str) -> bool {
    strip_prefix_ignore_case(text.trim_start(), PREFIX).is_some()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(year: i32, seq: i64) -> Reference {
        Reference { year, seq }
    }

    #[test]
    fn displays_with_six_digits_at_least() {
        assert_eq!(reference(2026, 123).to_string(), "DSAR-2026-000123");
        assert_eq!(reference(2026, 1).to_string(), "DSAR-2026-000001");
        assert_eq!(reference(2026, 999_999).to_string(), "DSAR-2026-999999");
        assert_eq!(reference(2026, 1_234_567).to_string(), "DSAR-2026-1234567");
    }

    #[test]
    fn parses_what_it_displays() {
        for seq in [1, 123, 999_999, 1_000_000, 1_234_567_890_123] {
            let original = reference(2026, seq);
            assert_eq!(original.to_string().parse(), Ok(original));
        }
    }

    #[test]
    fn parsing_ignores_case_and_surrounding_whitespace() {
        assert_eq!("  dsar-2025-000042\n".parse(), Ok(reference(2025, 42)));
        assert_eq!("Dsar-2025-000042".parse(), Ok(reference(2025, 42)));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "DSAR",
            "DSAR-",
            "DSAR-2025",
            "DSAR-2025-",
            "DSAR-2025-42",
            "DSAR-25-000042",
            "DSAR-02025-000042",
            "DSAR-2025-0000042",
            "DSAR-2025-00004x",
            "DSAR-2025-+00042",
            "DSAR-2025-000042-1",
            "DSAR 2025 000042",
            "REQ-2025-000042",
            "DSAR-2025-99999999999999999999",
            "DSÄR-2025-000042",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_error_says_what_a_reference_looks_like_without_echoing_the_input() {
        let error = "jean@example.fr".parse::<Reference>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "not a request reference: it does not start with DSAR-; \
             references look like DSAR-2026-000123"
        );
    }

    #[test]
    fn looks_like_reference_checks_the_prefix_only() {
        assert!(looks_like_reference("DSAR-2026-000123"));
        assert!(looks_like_reference("dsar-whatever"));
        assert!(looks_like_reference("  DSAR-"));
        assert!(!looks_like_reference("DSAR"));
        assert!(!looks_like_reference("Jean Dupont"));
        assert!(!looks_like_reference("é"));
    }
}
