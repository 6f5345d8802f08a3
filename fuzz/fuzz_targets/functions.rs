//! Every function's transform on arbitrary YAML: no panic, exit code 1 exactly when
//! an error result is reported.
#![no_main]
use krm_sdk::yaml::Limits;
use krm_sdk::process_text;
use libfuzzer_sys::fuzz_target;

use lummo_validate::FUNCTIONS;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for (name, process) in FUNCTIONS {
        let outcome = process_text(name, text, &Limits::default(), process);
        let reported = outcome.stdout.contains("severity: error") || outcome.stderr.contains(": error:");
        assert_eq!(outcome.exit_code == 1, reported, "{name}");
    }
});
