//! The ResourceList reader and writer: any bytes, no panic; what parses writes back
//! and parses again to the same items.
#![no_main]
use krm_sdk::yaml::Limits;
use krm_sdk::ResourceList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(list) = ResourceList::parse(text, &Limits::default()) else { return };
    let written = list.write();
    let again = ResourceList::parse(&written, &Limits::default()).expect("our own output parses");
    assert_eq!(again.items, list.items);
});
