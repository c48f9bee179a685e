//! A filing, field by field from the fuzzer's bytes: checked without a panic, and what is
//! accepted follows the text rule (no NUL, no control character in one-line fields).
#![no_main]

use chrono::{TimeZone, Utc};
use dsar::domain::filing::{self, Draft, SubjectDraft};
use dsar::domain::text::{self, TextKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let mut fields = input.split('\u{1f}');
    let mut next = || fields.next().unwrap_or("");
    let (kind, name, email, customer_ref, details) = (next(), next(), next(), next(), next());
    let received_at = Some(next()).filter(|s| !s.is_empty());
    let (channel, language) = (next(), next());
    let subject = Some(SubjectDraft {
        name: next(),
        email: next(),
        customer_ref: next(),
    })
    .filter(|s| !s.name.is_empty());
    let draft = Draft {
        kind,
        name,
        email,
        customer_ref,
        details,
        received_at,
        profile: None,
        channel,
        language,
        person: None,
        answers: None,
        subject,
        postal: Default::default(),
        contact: "",
        registered_number: "",
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    if let Ok(checked) = filing::check(&draft, &["two-months"], now) {
        assert_eq!(text::check(&checked.name, TextKind::Name), Ok(()));
        assert_eq!(text::check(&checked.details, TextKind::Long), Ok(()));
        if let Some(r) = &checked.customer_ref {
            assert_eq!(text::check(r, TextKind::Line), Ok(()));
        }
        assert!(checked.received_at <= now);
    }
});
