//! `Original::Written` builds the tree kyaml reads from krm-sdk's writing of a
//! value without writing and reading it: the output must be exactly what
//! formatting that writing gives, for every object our functions generate (their
//! golden outputs) and for values that exercise each of the writer's choices.
use kyaml_format::{format_values_restyled, FileDocument, Original, Restyle, SeqIndent};
use serde_json::{json, Value};
use std::path::Path;

/// Whether `written_text` gave the text (and it was right).
fn check(value: &Value, origin: &str) -> bool {
    let text = krm_sdk::yaml::to_string(value);
    let read = format_values_restyled(&[FileDocument {
        original: Original::Text(&text),
        value,
        seq_indent: SeqIndent::Compact,
        restyled: Restyle::Keep,
        changed: false,
        set_annotations: &[],
        set_anew: &[],
    }]);
    let built = format_values_restyled(&[FileDocument {
        original: Original::Written,
        value,
        seq_indent: SeqIndent::Compact,
        restyled: Restyle::Keep,
        changed: false,
        set_annotations: &[],
        set_anew: &[],
    }]);
    assert_eq!(
        built, read,
        "{origin}: the built tree and the written text differ for\n{text}"
    );
    // lummo render writes a new file of one such object as `written_text` when it
    // gives one.
    let fast = kyaml_format::written_text(value);
    if let Some(fast) = &fast {
        assert_eq!(fast, &built, "{origin}: written_text is not the formatting");
    }
    // lummo render writes new files of such objects without reading them back:
    // they must read back as the value (a number as the same number: the writer
    // spells `1e3` as `1.0e+3`, as kyaml does, so compare the writings).
    let limits = krm_sdk::yaml::Limits::default();
    let read = krm_sdk::yaml::parse_documents(&built, &limits).unwrap();
    assert_eq!(read.len(), 1, "{origin}: {built}");
    assert_eq!(
        krm_sdk::yaml::to_string(&read[0]),
        text,
        "{origin}: the formatted object reads back as another value:\n{built}"
    );
    fast.is_some()
}

#[test]
fn generated_objects_of_every_golden_case() {
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../functions");
    let (mut checked, mut fast) = (0, 0);
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
                    if check(item, &expected.display().to_string()) {
                        fast += 1;
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} objects found");
    // The shortcut is the common case, not a rarity the check never meets.
    assert!(
        fast * 10 > checked * 9,
        "written_text for {fast} of {checked}"
    );
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

/// Every value of the YAML test suite (`in.json`, when ../shared is present, as
/// in CI): the widest set of strings and shapes at hand.
#[test]
fn every_value_of_the_yaml_test_suite() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/yaml-test-suite");
    let Ok(tests) = std::fs::read_dir(&suite) else {
        assert!(std::env::var_os("CI").is_none(), "CI runs with ../shared");
        return;
    };
    let mut folders: Vec<_> = tests.flatten().map(|t| t.path()).collect();
    let mut checked = 0;
    while let Some(folder) = folders.pop() {
        if let Ok(subtests) = std::fs::read_dir(&folder) {
            folders.extend(subtests.flatten().map(|s| s.path()).filter(|p| p.is_dir()));
        }
        let Ok(json) = std::fs::read_to_string(folder.join("in.json")) else {
            continue;
        };
        for value in serde_json::Deserializer::from_str(&json).into_iter::<Value>() {
            let Ok(value) = value else { break };
            // A document is an object in a file; wrap scalars and lists as one.
            check(&json!({ "v": value }), &folder.display().to_string());
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} values found");
}
