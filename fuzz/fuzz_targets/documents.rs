//! Uploaded documents (`documents::sanitize`) on any bytes: no panic, and what comes out is a
//! document of the kind it says, which passes the same check again (an image we wrote, a PDF
//! without active content).
#![no_main]

use dsar::documents::{self, Sniffed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(clean) = documents::sanitize(input) else {
        return;
    };
    assert_eq!(Sniffed::detect(&clean.bytes), Some(clean.kind));
    let again = documents::sanitize(&clean.bytes).expect("what we stored passes again");
    assert_eq!(again.kind, clean.kind);
    if clean.kind == Sniffed::Pdf {
        // A PDF is kept as it came, once scanned.
        assert_eq!(clean.bytes, input);
    }
});
