//! Latchkey's own, lenient JWT decoder and the inspector on top of it (what a
//! pasted token goes through), on any text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    latchkey_core::fuzz_surface::jwt_lenient(&String::from_utf8_lossy(data));
});
