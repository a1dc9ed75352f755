//! GitHub's token and device-code answers, its user view, and Kontinuous'
//! login answer. Input: one byte choosing the status, then the body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = latchkey_core::fuzz_surface::status_and_body(data);
    latchkey_core::fuzz_surface::github_answer(status, &body);
});
