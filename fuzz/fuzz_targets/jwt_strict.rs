//! The strict JWT path: jsonwebtoken's and openidconnect's parsers and the
//! signature check against a secret, a PEM key or a JWKS. Input: the token,
//! a newline, then the key material.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (token, key) = text.split_once('\n').unwrap_or((&text, ""));
    latchkey_core::fuzz_surface::jwt_strict(token, key);
});
