//! The email check: whatever the input, an answer and no panic; an address accepted once is
//! accepted again as it is kept, and never holds what breaks a mail header.
#![no_main]

use dsar::domain::email::EmailAddress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(address) = EmailAddress::parse(input) {
        let kept = address.as_str();
        assert!(!kept.chars().any(|c| c.is_control() || c.is_whitespace()), "{kept:?}");
        let again = EmailAddress::parse(kept).expect("an accepted address is accepted again");
        assert_eq!(again.as_str(), kept);
    }
});
