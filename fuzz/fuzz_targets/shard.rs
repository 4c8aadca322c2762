//! The shard reader and merge on an arbitrary shard file: an error or a merged report,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("shard-0-of-1.json"), data).expect("written");
    let _ = splitbrain::shard::merge(dir.path(), 0);
});
