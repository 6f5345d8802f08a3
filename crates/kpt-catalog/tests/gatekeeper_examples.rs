//! The gatekeeper function against the catalog's own examples and tests at its
//! release tags, and kpt's e2e case that runs it (`tests/gatekeeper/`, see its
//! PROVENANCE.md). Each case folder is a package as the release's test runner
//! renders it: its YAML files become the ResourceList (each object with the
//! path and index kpt gives it), the image comes from `.expected/results.yaml`
//! (`gcr.io/kpt-fn/gatekeeper:v0.1.3` where the case has none), and the
//! results must equal the expected ones field for field (message, severity,
//! resourceRef, field, file), in order, with the same exit code.

use krm_sdk::yaml::{self, Limits};
use krm_sdk::{ResourceList, Value};
use std::fs;
use std::path::Path;

fn package_items(dir: &Path) -> Vec<Value> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut items = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(&file).unwrap();
        for (index, mut object) in yaml::parse_documents(&text, &Limits::default())
            .unwrap()
            .into_iter()
            .filter(|o| !o.is_null())
            .enumerate()
        {
            let annotations = object
                .as_object_mut()
                .unwrap()
                .entry("metadata")
                .or_insert_with(|| krm_sdk::json!({}))
                .as_object_mut()
                .unwrap()
                .entry("annotations")
                .or_insert_with(|| krm_sdk::json!({}));
            for key in [
                "config.kubernetes.io/path",
                "internal.config.kubernetes.io/path",
            ] {
                annotations[key] = krm_sdk::json!(name);
            }
            for key in [
                "config.kubernetes.io/index",
                "internal.config.kubernetes.io/index",
            ] {
                annotations[key] = krm_sdk::json!(index.to_string());
            }
            items.push(object);
        }
    }
    items
}

/// The fields kpt compares, as plain YAML values.
fn comparable(result: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in ["message", "severity", "resourceRef", "field", "file"] {
        if let Some(v) = result.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

#[test]
fn catalog_examples_and_kpt_e2e() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gatekeeper");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 14);
    let mut failures = Vec::new();
    for case in &cases {
        let label = case.file_name().unwrap().to_string_lossy().to_string();
        let expected = fs::read_to_string(case.join(".expected/results.yaml"))
            .ok()
            .map(|t| {
                yaml::parse_documents(&t, &Limits::default())
                    .unwrap()
                    .remove(0)
            });
        let step = expected.as_ref().map(|e| e["items"][0].clone());
        let image = step
            .as_ref()
            .and_then(|s| s["image"].as_str())
            .unwrap_or("gcr.io/kpt-fn/gatekeeper:v0.1.3")
            .to_string();
        let want: Vec<Value> = step
            .as_ref()
            .and_then(|s| s["results"].as_array())
            .map(|r| r.iter().map(comparable).collect())
            .unwrap_or_default();
        let want_exit = step
            .as_ref()
            .and_then(|s| s["exitCode"].as_u64())
            .unwrap_or(0);

        let function = kpt_catalog::lookup(&image).expect("a catalog function");
        assert_eq!(function.name, "gatekeeper");
        let mut list = ResourceList::new(package_items(case));
        function.run(&mut list);
        let got: Vec<Value> = list
            .results
            .iter()
            .map(|r| comparable(&serde_json::to_value(r).unwrap()))
            .collect();
        let exit = u64::from(list.has_errors());
        if got != want || exit != want_exit {
            failures.push(format!(
                "{label} ({image}): exit {exit}, expected {want_exit}\n--- expected\n{}\n--- actual\n{}",
                serde_json::to_string_pretty(&want).unwrap(),
                serde_json::to_string_pretty(&got).unwrap()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
