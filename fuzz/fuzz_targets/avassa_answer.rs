//! An Avassa answer to a login or refresh. Input: one byte choosing the HTTP
//! status, then the body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = latchkey_core::fuzz_surface::status_and_body(data);
    latchkey_core::fuzz_surface::avassa_answer(status, &body);
});
