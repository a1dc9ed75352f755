//! A DCI server's answer to a signed request (identity, errors), with its
//! `Date` header. Input: one byte choosing the status, the body, then after a
//! NUL byte the `Date` value.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, rest) = latchkey_core::fuzz_surface::status_and_body(data);
    let (body, date) = rest.split_once('\0').unwrap_or((&rest, ""));
    latchkey_core::fuzz_surface::dci_answer(status, body, date);
});
