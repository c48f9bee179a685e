//! The one rule every text that people type must follow before it is kept, whatever the
//! field and whichever the way in (portal, API, dashboard): no control characters (newlines
//! and tabs only in long texts), no bidirectional overrides, and a name holds at least one
//! letter one can see.
//!
//! Why: a NUL byte is refused by PostgreSQL (and would be kept by SQLite), control characters
//! break CSV registers and mail headers, bidi overrides make a name or a reference read
//! differently from what it is (Trojan Source), and a name made only of zero-width
//! characters shows nothing to the staff who must answer it.

use std::fmt;

/// What kind of text a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: a reference, an address, a search.
    Line,
    /// A person's name: one line with at least one visible letter.
    Name,
    /// Several lines, in a person's own words: details, messages, notes, reasons, letters.
    Long,
}

/// Why a text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFault {
    /// A control character (a NUL byte, an escape, a line break in a one-line field…).
    Control,
    /// A character that reverses or isolates the direction of the text around it.
    BidiOverride,
    /// Nothing in it that reads as a letter (only digits, signs or invisible characters).
    NoLetter,
}

impl fmt::Display for TextFault {
    /// In English, as the API says it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextFault::Control => "contains a control character (only line breaks and tabs are allowed, in long texts)",
            TextFault::BidiOverride => "contains a character that overrides the direction of the text",
            TextFault::NoLetter => "must contain at least one letter",
        })
    }
}

/// Checks `text` against the rule for `kind`.
pub fn check(text: &str, kind: TextKind) -> Result<(), TextFault> {
    for c in text.chars() {
        let allowed_control = kind == TextKind::Long && matches!(c, '\n' | '\r' | '\t');
        if is_control(c) && !allowed_control {
            return Err(TextFault::Control);
        }
        if is_bidi_override(c) {
            return Err(TextFault::BidiOverride);
        }
    }
    if kind == TextKind::Name && !text.chars().any(char::is_alphabetic) {
        return Err(TextFault::NoLetter);
    }
    Ok(())
}

/// What a search box may look for: the text without the characters no stored text can hold,
/// so a search never fails, it only finds nothing.
pub fn searchable(text: &str) -> String {
    text.chars()
        .filter(|c| !is_control(*c) && !is_bidi_override(*c))
        .collect()
}

/// C0 and C1 controls and DEL, plus the line and paragraph separators, which break a line
/// as a newline would.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The embeddings, overrides and isolates of Unicode's bidirectional algorithm. The marks
/// (LRM, RLM, ALM) stay: Arabic and Hebrew names legitimately need them.
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::{TextFault::*, TextKind::*, check, searchable};

    #[test]
    fn people_write_what_people_write() {
        for (text, kind) in [
            ("Camille Martin", Name),
            ("Zoë O'Brien-Łukasiewicz", Name),
            ("محمد بن سلمان", Name),
            ("שָׁלוֹם\u{200F} כהן", Name),
            ("李小龍", Name),
            ("C-00042", Line),
            ("Bonjour,\r\nJe souhaite\tvoir mes données.\n", Long),
            ("", Line),
        ] {
            assert_eq!(check(text, kind), Ok(()), "{text:?}");
        }
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_in_long_texts() {
        assert_eq!(check("Cam\0ille", Name), Err(Control));
        assert_eq!(check("details\0", Long), Err(Control));
        assert_eq!(check("a\u{1b}[31mred", Long), Err(Control));
        assert_eq!(check("C-1\nC-2", Line), Err(Control));
        assert_eq!(check("Camille\tMartin", Name), Err(Control));
        assert_eq!(check("a\u{85}b", Long), Err(Control));
        assert_eq!(check("a\u{2028}b", Line), Err(Control));
        assert_eq!(check("a\u{7f}", Long), Err(Control));
    }

    #[test]
    fn direction_overrides_are_refused() {
        assert_eq!(check("invoice\u{202E}fdp.exe", Line), Err(BidiOverride));
        assert_eq!(
            check("Camille \u{2066}Martin\u{2069}", Name),
            Err(BidiOverride)
        );
        assert_eq!(check("text \u{202B}x", Long), Err(BidiOverride));
    }

    #[test]
    fn a_name_needs_a_letter_one_can_see() {
        assert_eq!(
            check("\u{200B}\u{200C}\u{200D}\u{FEFF}", Name),
            Err(NoLetter)
        );
        assert_eq!(check("1234 !!", Name), Err(NoLetter));
        assert_eq!(check("\u{200B}", Line), Ok(()));
    }

    #[test]
    fn searches_drop_what_no_stored_text_holds() {
        assert_eq!(searchable("DSAR-2026\0-0001\u{202E}"), "DSAR-2026-0001");
    }
}
