//! `testdata/format/<case>/input.yaml` and `kpt.yaml`: what `kpt fn render`
//! (kpt 1.0.0-beta.56, Kptfile without pipeline) wrote for the input; produced by
//! scripts/kyaml-format-golden.sh with the real kpt, never by hand. `format` must
//! give kpt's bytes, be idempotent, and keep the data (krm-sdk's reader) except the
//! empty `metadata.annotations` kyaml's writer removes.
use serde_json::Value;
use std::path::Path;

fn cases() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/format");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "testdata/format holds the cases");
    cases
}

/// The data of every document, with empty `metadata.annotations` dropped.
fn data(text: &str) -> Vec<Value> {
    let mut docs = krm_sdk::yaml::parse_documents(text, &krm_sdk::yaml::Limits::default()).unwrap();
    for d in docs.iter_mut() {
        if let Some(meta) = d.get_mut("metadata").and_then(Value::as_object_mut) {
            let empty = meta
                .get("annotations")
                .is_some_and(|a| a.is_null() || a.as_object().is_some_and(|o| o.is_empty()));
            if empty {
                meta.remove("annotations");
            }
        }
    }
    docs
}

#[test]
fn format_gives_kpts_bytes() {
    let mut failures = Vec::new();
    for case in cases() {
        let input = std::fs::read_to_string(case.join("input.yaml")).unwrap();
        let expected = std::fs::read_to_string(case.join("kpt.yaml")).unwrap();
        let got = kyaml_format::format(&input).unwrap();
        if got != expected {
            failures.push(format!(
                "{}:\n--- kpt\n{expected}\n--- format\n{got}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn format_is_idempotent_and_keeps_the_data() {
    for case in cases() {
        let input = std::fs::read_to_string(case.join("input.yaml")).unwrap();
        let once = kyaml_format::format(&input).unwrap();
        let twice = kyaml_format::format(&once).unwrap();
        assert_eq!(
            once,
            twice,
            "{}: format(format(x)) != format(x)",
            case.display()
        );
        assert_eq!(
            data(&input),
            data(&once),
            "{}: data changed",
            case.display()
        );
    }
}
