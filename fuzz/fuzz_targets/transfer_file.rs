//! The export/import file (`latchkey import FILE`): TOML from anyone on a
//! team, read and checked entry by entry, and written back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = latchkey_core::fuzz_surface::transfer_file(&String::from_utf8_lossy(data));
});
