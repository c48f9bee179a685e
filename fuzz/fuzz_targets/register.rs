//! The record of processing activities (the register file): an error that says why, never a
//! panic; a register accepted passes its own validation again.
#![no_main]

use dsar::config::processing::Register;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(register) = Register::parse(input) {
        register.validate().expect("a parsed register is valid");
    }
});
