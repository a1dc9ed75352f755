//! The redirect router in `flows`: any URL, against a hub with a deep-link
//! and a loopback login waiting (states `state-deep` and `state-loop`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    latchkey_core::fuzz_surface::redirect(&String::from_utf8_lossy(data));
});
