//! Backstage's schemas reject what Backstage rejects (so passing them means
//! something), accept Backstage's own example files, and match `../shared`.

mod common;

use common::{schema_dir, Schemas, SCHEMA_FILES};
use krm_sdk::yaml::{parse_documents, Limits};
use serde_json::json;
use std::path::Path;

fn shared() -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/backstage");
    dir.is_dir().then_some(dir)
}

#[test]
fn copies_match_shared() {
    let Some(shared) = shared() else {
        eprintln!("../shared/backstage absent: the committed copies are used as they are");
        return;
    };
    for file in SCHEMA_FILES {
        let ours = std::fs::read(schema_dir().join(file)).unwrap();
        let theirs = std::fs::read(shared.join(file)).unwrap();
        assert!(
            ours == theirs,
            "{file} differs from ../shared/backstage/{file}: copy it again"
        );
    }
}

#[test]
fn backstage_examples_pass() {
    let Some(shared) = shared() else { return };
    let schemas = Schemas::load();
    let mut checked = 0;
    for file in [
        "catalog-info.yaml",
        "plugins/kubernetes/catalog-info.yaml",
        "packages/create-app/templates/default-app/examples/template/template.yaml",
        "plugins/scaffolder-backend/sample-templates/conditional-parameters-demo/template.yaml",
        "plugins/scaffolder-backend/sample-templates/bui-kitchen-sink-demo/template.yaml",
    ] {
        let text = std::fs::read_to_string(shared.join(file)).unwrap();
        for document in parse_documents(&text, &Limits::default()).unwrap() {
            assert_eq!(schemas.problems(&document), Vec::<String>::new(), "{file}");
            checked += 1;
        }
    }
    assert_eq!(checked, 5);
}

#[test]
fn schemas_reject_what_backstage_rejects() {
    let schemas = Schemas::load();
    let good = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "a"}, "spec": {"type": "service", "lifecycle": "production", "owner": "team"}});
    assert_eq!(schemas.problems(&good), Vec::<String>::new());
    let mut no_lifecycle = good.clone();
    no_lifecycle["spec"]
        .as_object_mut()
        .unwrap()
        .remove("lifecycle");
    assert!(!schemas.problems(&no_lifecycle).is_empty());
    let mut unknown_root = good.clone();
    unknown_root["status2"] = json!({});
    assert!(!schemas.problems(&unknown_root).is_empty());
    let mut bad_ref = good.clone();
    bad_ref["relations"] = json!([{"type": "dependsOn"}]); // common#relation needs targetRef
    assert!(
        !schemas.problems(&bad_ref).is_empty(),
        "common#relation is resolved"
    );
    let mut bad_resource = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Resource",
        "metadata": {"name": "r"}, "spec": {"type": "database"}});
    assert!(
        !schemas.problems(&bad_resource).is_empty(),
        "Resource needs an owner"
    );
    bad_resource["spec"]["owner"] = json!("team");
    assert_eq!(schemas.problems(&bad_resource), Vec::<String>::new());
    let template = json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
        "metadata": {"name": "t"}, "spec": {"type": "service", "steps": []}});
    assert_eq!(schemas.problems(&template), Vec::<String>::new());
    let mut no_steps = template.clone();
    no_steps["spec"].as_object_mut().unwrap().remove("steps");
    assert!(
        !schemas.problems(&no_steps).is_empty(),
        "a Template needs steps"
    );
}
