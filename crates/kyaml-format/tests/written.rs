//! `Original::Written` builds the tree kyaml reads from krm-sdk's writing of a
//! value without writing and reading it: the output must be exactly what
//! formatting that writing gives, for every object our functions generate (their
//! golden outputs) and for values that exercise each of the writer's choices.
use kyaml_format::{format_values_restyled, Original, SeqIndent};
use serde_json::{json, Value};
use std::path::Path;

fn check(value: &Value, origin: &str) {
    let text = krm_sdk::yaml::to_string(value);
    let read = format_values_restyled(&[(
        Original::Text(&text),
        value,
        SeqIndent::Compact,
        false,
        false,
    )]);
    let built =
        format_values_restyled(&[(Original::Written, value, SeqIndent::Compact, false, false)]);
    assert_eq!(
        built, read,
        "{origin}: the built tree and the written text differ for\n{text}"
    );
}

#[test]
fn generated_objects_of_every_golden_case() {
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../functions");
    let mut checked = 0;
    for function in std::fs::read_dir(&functions).unwrap().flatten() {
        let Ok(cases) = std::fs::read_dir(function.path().join("testdata")) else {
            continue;
        };
        for case in cases.flatten() {
            let expected = case.path().join("expected.yaml");
            let Ok(text) = std::fs::read_to_string(&expected) else {
                continue;
            };
            let limits = krm_sdk::yaml::Limits::default();
            for document in krm_sdk::yaml::parse_documents(&text, &limits).unwrap() {
                let items = match document.get("items").and_then(Value::as_array) {
                    Some(items) => items.clone(),
                    None => vec![document],
                };
                for item in &items {
                    check(item, &expected.display().to_string());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} objects found");
}

#[test]
fn every_choice_of_the_writer() {
    let long_key = "k".repeat(1200);
    let value = json!({
        "plain": "word", "spaces": "two words", "colon": "a: b", "hash": "a #b",
        "ambiguous": ["yes", "no", "on", "null", "~", "true", "1e3", "0777", "0x1F", "1:20", "2001-12-14", ""],
        "multi": "line one\nline two\n", "strip": "one\ntwo", "trailing": "one \ntwo",
        "escapes": "tab\there", "unicode": "é\u{2028}x", "quote": "\"q\" and 'q'",
        "numbers": [1, -0, 1.5, 1.10, 1e3, 123456789012345678901234567890u128.to_string()],
        "bools": [true, false, null], "empty": {}, "none": [],
        "nested": {"list": [{"a": 1, "b": [1, 2]}, [], {}], "map": {"x": {"y": "z"}}},
        "--- doc": 1, "... end": 2, "- dash": 3, "? q": 4,
        long_key: "long key",
    });
    check(&value, "crafted");
    let numbers: Value = krm_sdk::yaml::parse_documents(
        "a: 1e3\nb: 0.000001\nc: 1.10\nd: 0644\ne: 18446744073709551616\n",
        &krm_sdk::yaml::Limits::default(),
    )
    .unwrap()
    .remove(0);
    check(&numbers, "numbers as read");
}
