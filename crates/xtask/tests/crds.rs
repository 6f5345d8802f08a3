//! The generated CRDs accept every Lummo spec the project ships and reject a bad one.

use krm_sdk::openapi::SchemaSet;
use krm_sdk::yaml::{parse_documents, Limits};
use krm_sdk::{json, ObjectExt, Value};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lummo_crds() -> SchemaSet {
    let mut set = SchemaSet::default();
    for entry in std::fs::read_dir(root().join("schemas/crds")).expect("schemas/crds exists") {
        let text =
            std::fs::read_to_string(entry.expect("readable entry").path()).expect("readable CRD");
        for crd in parse_documents(&text, &Limits::default()).expect("CRDs are YAML") {
            assert!(set.add_crd(&crd) > 0, "{} has a served version", crd.name());
        }
    }
    set
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn crds_accept_every_example_spec() {
    let crds = lummo_crds();
    let mut files = Vec::new();
    yaml_files(&root().join("Kptfile.examples"), &mut files);
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable example");
        for document in parse_documents(&text, &Limits::default()).expect("examples are YAML") {
            if document.api_version() != lummo_core::API_VERSION {
                continue;
            }
            let errors = crds
                .validate(&document)
                .unwrap_or_else(|| panic!("no CRD for {}", document.kind()));
            assert!(
                errors.is_empty(),
                "{}: {} {}: {errors:?}",
                file.display(),
                document.kind(),
                document.name()
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} specs checked");
}

#[test]
fn crds_reject_wrong_types_and_unknown_fields() {
    let crds = lummo_crds();
    let spec: Value = json!({"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoDeployment", "metadata": {"name": "x"},
        "spec": {"app": "x", "containers": {"image": "x:1"}, "scaling": {"maxreplica": "ten", "minReplica": 1}}});
    let messages: Vec<String> = crds
        .validate(&spec)
        .expect("a CRD")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "spec.scaling.maxreplica: expected an integer, found string \"ten\"",
            "spec.scaling.minReplica: unknown field"
        ]
    );
}
