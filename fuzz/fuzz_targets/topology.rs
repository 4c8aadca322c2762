//! The topology parser on arbitrary bytes: an error or a topology, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = splitbrain::topology::parse_bytes("fuzz.toml", data);
});
