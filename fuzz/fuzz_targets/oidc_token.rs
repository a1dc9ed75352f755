//! An OpenID provider's (or Auth0's) token endpoint answer, and its error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    latchkey_core::fuzz_surface::oidc_token(data);
});
