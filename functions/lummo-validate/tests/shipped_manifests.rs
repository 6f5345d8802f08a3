//! The custom resources the repository ships to be applied as they are (not
//! generated: deploy/monitoring's PrometheusRule of the Argo Rollouts alerts)
//! validate strictly against their upstream CRD schemas, with the schemas
//! `lummo validate` embeds, as every generated custom resource does in the
//! golden tests: a misspelled field or a malformed duration would otherwise
//! surface only when the API server refuses the apply.

use krm_sdk::yaml::{parse_documents, Limits};
use krm_sdk::{ObjectExt, Value};
use lummo_validate::embedded_schemas;
use std::path::Path;

const MONITORING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/monitoring");

fn problems(object: &Value) -> Vec<String> {
    match embedded_schemas().validate(object) {
        Some(errors) => errors.iter().map(ToString::to_string).collect(),
        None => vec![format!(
            "no schema for {} {} in schemas/upstream",
            object.api_version(),
            object.kind()
        )],
    }
}

fn shipped() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(MONITORING)
        .expect("deploy/monitoring exists")
        .map(|entry| entry.expect("deploy/monitoring is readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("the file is readable");
        let name = Path::new(&file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        for document in parse_documents(&text, &Limits::default()).expect("the file is YAML") {
            objects.push((name.clone(), document));
        }
    }
    objects
}

#[test]
fn deploy_monitoring_validates_against_its_crds() {
    let objects = shipped();
    assert!(
        objects.iter().any(|(_, o)| o.kind() == "PrometheusRule"),
        "deploy/monitoring holds no PrometheusRule"
    );
    for (file, object) in &objects {
        assert_eq!(problems(object), Vec::<String>::new(), "{file}");
    }
}

/// The check can fail: the shipped rule with a misspelled field and a `for`
/// the CRD's duration pattern refuses.
#[test]
fn a_broken_prometheus_rule_is_refused() {
    let (_, mut rule) = shipped()
        .into_iter()
        .find(|(_, o)| o.kind() == "PrometheusRule")
        .expect("deploy/monitoring holds a PrometheusRule");
    let first = &mut rule["spec"]["groups"][0]["rules"][0];
    let expr = first["expr"].take();
    let object = first.as_object_mut().expect("a rule is a mapping");
    object.remove("expr");
    object.insert("expresion".into(), expr);
    object.insert("for".into(), Value::from("1 minute"));
    let problems = problems(&rule).join("\n");
    assert!(
        problems.contains("spec.groups[0].rules[0].expresion"),
        "{problems}"
    );
    assert!(
        problems.contains("spec.groups[0].rules[0].for"),
        "{problems}"
    );
}
