//! Quay's answers: API errors, the user view, authorizations, registry tokens,
//! Set-Cookie, WWW-Authenticate and Retry-After headers. Input: one byte
//! choosing the status, the body, then after a NUL byte a header value.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, rest) = latchkey_core::fuzz_surface::status_and_body(data);
    let (body, header) = rest.split_once('\0').unwrap_or((&rest, ""));
    latchkey_core::fuzz_surface::quay_answer(status, body, header);
});
