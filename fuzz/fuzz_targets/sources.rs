//! The data sources file as an operator might mistype it: an error that says why, never a
//! panic.
#![no_main]

use dsar::config::sources::Sources;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let _ = Sources::parse(input, None);
});
