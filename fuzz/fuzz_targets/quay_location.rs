//! Quay's `Location` header after `/oauth/authorizeapp`: the token in the
//! fragment, `state` and errors in the query.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    latchkey_core::fuzz_surface::quay_location(&String::from_utf8_lossy(data));
});
