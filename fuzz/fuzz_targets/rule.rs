//! The Traefik rule parser: no panic; a parsed rule prints to text that parses back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lummo_networking::rule;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(parsed) = rule::parse(text) {
        let printed = parsed.rule.to_string();
        rule::parse(&printed).expect("a printed rule parses");
    }
});
