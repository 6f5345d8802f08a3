//! `set-project-id`: gives a package a GCP project id, as kptdev/krm-functions-catalog
//! `functions/go/set-project-id/main.go` does at its tags `set-project-id/v0.1.0`
//! and `set-project-id/v0.2.0` (they differ only in the apply-setters image they
//! add).
//!
//! Config: `data.project-id` of the functionConfig (absent: the empty string,
//! which the release sets as well). For every Kptfile of the list:
//! - its first mutator whose image contains `apply-setters` gets the setter
//!   `project-id` when it has none (or an empty one): in its `configMap`, else
//!   in the `data` of the ConfigMap its `configPath` names (by the file's path
//!   in the package); a step with neither is an error;
//! - a Kptfile without such a step gets one appended, `apply-setters` with
//!   `configMap: {project-id: <id>}` (the next render runs it).
//!
//! Then every Config Connector object (apiVersion `<group>.cnrm.cloud.google.com/<version>`,
//! except the group `core`) without the annotation `cnrm.cloud.google.com/project-id`
//! gets it. No Kptfile in the list is an error, and nothing changes.
//!
//! The release rebuilds the maps it writes (`yaml.Marshal` of the whole Kptfile,
//! `SetDataMap`, `SetAnnotations`), so under kpt those maps come out in go-yaml's
//! default styles; lummo changes the values and keeps the text's styles where its
//! editor can (see ARCHITECTURE.md). A Kptfile that gains a step is printed
//! afresh, as the release prints it: the function runs over the ResourceList's
//! text ([`filter`]) so that kpt's id step gives it back its comments and field
//! order, as under kpt.

use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};

const SETTER: &str = "project-id";
const ANNOTATION: &str = "cnrm.cloud.google.com/project-id";

/// v0.1.0 added apply-setters v0.1, v0.2.0 adds v0.2.
pub fn process_v0_1(list: &mut ResourceList) {
    run(list, "gcr.io/kpt-fn/apply-setters:v0.1")
}

pub fn process(list: &mut ResourceList) {
    run(list, "gcr.io/kpt-fn/apply-setters:v0.2")
}

fn run(list: &mut ResourceList, apply_setters: &str) {
    let project_id = list
        .function_config
        .as_ref()
        .and_then(|fc| fc.pointer("/data/project-id"))
        .map(scalar_text)
        .unwrap_or_default();
    if let Err(message) = set_setters(list, &project_id, apply_setters) {
        return list.results.push(ResultItem::error(format!(
            "failed to set project-id setter: {message}"
        )));
    }
    for item in list.items.iter_mut() {
        if is_config_connector(item.value().api_version())
            && item.value().annotation(ANNOTATION).is_none()
        {
            item.update(|o| o.set_annotation(ANNOTATION, &project_id));
        }
    }
}

/// The text of a ConfigMap value as kyaml's `GetDataMap` reads it.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `^(\w+)\.cnrm\.cloud\.google\.com/\w+$` with a group other than `core`.
fn is_config_connector(api_version: &str) -> bool {
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    api_version
        .split_once(".cnrm.cloud.google.com/")
        .is_some_and(|(group, version)| word(group) && word(version) && group != "core")
}

fn set_setters(
    list: &mut ResourceList,
    project_id: &str,
    apply_setters: &str,
) -> Result<(), String> {
    let kptfiles: Vec<usize> = (0..list.items.len())
        .filter(|&i| list.items[i].value().kind() == "Kptfile")
        .collect();
    if kptfiles.is_empty() {
        return Err(
            "faild to find Kptfile: unable to find Kptfile, please include \
                    --include-meta-resources flag if a Kptfile is present"
                .into(),
        );
    }
    for index in kptfiles {
        set_on_kptfile(list, index, project_id, apply_setters)
            .map_err(|e| format!("error updating Kptfile: {e}"))?;
    }
    Ok(())
}

fn set_on_kptfile(
    list: &mut ResourceList,
    index: usize,
    project_id: &str,
    apply_setters: &str,
) -> Result<(), String> {
    let kptfile = list.items[index].value();
    let mutators = kptfile
        .pointer("/pipeline/mutators")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let step = mutators.iter().position(|m| {
        m.get("image")
            .and_then(Value::as_str)
            .is_some_and(|image| image.contains("apply-setters"))
    });
    let Some(step) = step else {
        list.items[index].update(|k| {
            let mut config = krm_sdk::Map::new();
            config.insert(SETTER.into(), project_id.into());
            let step = krm_sdk::json!({"image": apply_setters, "configMap": config});
            match k
                .pointer_mut("/pipeline/mutators")
                .and_then(Value::as_array_mut)
            {
                Some(mutators) => mutators.push(step),
                None => {
                    let object = k.as_object_mut().expect("a Kptfile is an object");
                    let pipeline = object
                        .entry("pipeline")
                        .or_insert_with(|| Value::Object(krm_sdk::Map::new()));
                    if !pipeline.is_object() {
                        *pipeline = Value::Object(krm_sdk::Map::new());
                    }
                    pipeline
                        .as_object_mut()
                        .expect("made an object")
                        .insert("mutators".into(), Value::Array(vec![step]));
                }
            }
        });
        return Ok(());
    };
    let mutator = &mutators[step];
    if mutator.get("configMap").is_some_and(Value::is_object) {
        let pointer = format!("/pipeline/mutators/{step}/configMap");
        set_if_empty(&mut list.items[index], &pointer, project_id);
        return Ok(());
    }
    let config_path = mutator
        .get("configPath")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if config_path.is_empty() {
        return Err(
            "unable to find `ConfigMap` or `configPath` as the `functionConfig` for apply-setters"
                .into(),
        );
    }
    let Some(setters) = list.items.iter_mut().find(|item| {
        item.value()
            .file_ref()
            .is_some_and(|f| f.path == config_path)
    }) else {
        return Err(format!(
            "failed to find setter file: file {config_path} doesn't exist, please ensure the \
             file specified in \"configPath\" exists and retry"
        ));
    };
    set_if_empty(setters, "/data", project_id);
    Ok(())
}

/// Sets the setter in the map at `pointer` (created when absent) unless it has
/// a non-empty value.
fn set_if_empty(item: &mut krm_sdk::Item, pointer: &str, project_id: &str) {
    let current = item.value().pointer(pointer).and_then(|m| m.get(SETTER));
    if current.is_some_and(|v| !scalar_text(v).is_empty()) {
        return;
    }
    item.update(|o| {
        let (parent, field) = pointer.rsplit_once('/').expect("a pointer");
        let Some(parent) = o.pointer_mut(parent).and_then(Value::as_object_mut) else {
            return;
        };
        let map = parent
            .entry(field.to_string())
            .or_insert_with(|| Value::Object(krm_sdk::Map::new()));
        if !map.is_object() {
            *map = Value::Object(krm_sdk::Map::new());
        }
        map.as_object_mut()
            .expect("made an object")
            .insert(SETTER.into(), project_id.into());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_connector_groups() {
        assert!(is_config_connector("iam.cnrm.cloud.google.com/v1beta1"));
        assert!(!is_config_connector("core.cnrm.cloud.google.com/v1alpha1"));
        assert!(!is_config_connector("a.b.cnrm.cloud.google.com/v1"));
        assert!(!is_config_connector("cnrm.cloud.google.com/v1"));
        assert!(!is_config_connector("apps/v1"));
    }
}
