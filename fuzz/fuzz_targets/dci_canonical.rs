//! DCI v2 request signing and its canonicalisation: method, URL, access key
//! and body, one per line (the body is the rest).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    latchkey_core::fuzz_surface::dci_canonical(data);
});
