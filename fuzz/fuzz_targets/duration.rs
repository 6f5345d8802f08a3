//! Duration parsing: no panic, and the Pub/Sub form parses to the same duration.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lummo_core::duration::{Duration, GoDuration};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(duration) = Duration::parse(text) {
        assert_eq!(Duration::parse(&duration.to_string()), Ok(duration));
    }
    let _ = GoDuration::parse(text);
});
