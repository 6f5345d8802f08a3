//! `set-annotations`: kustomize's commonAnnotations transformer, as the catalog
//! wraps it (kptdev/krm-functions-catalog `functions/go/set-annotations`):
//! config from a ConfigMap's `data` or `SetAnnotations` (`annotations`,
//! `additionalAnnotationFields`, the deprecated `fieldSpecs`); annotations go to
//! `metadata.annotations` of every object and to the pod templates of workloads
//! (third_party/.../commonannotations.go), in sorted key order.

use crate::util::{self, Config, FieldSpec, StaticSpec};
use krm_sdk::{ResourceList, ResultItem, Value};
use serde_json::Map;

const KIND: &str = "SetAnnotations";

const COMMON_ANNOTATIONS: &[StaticSpec] = &[
    StaticSpec::new("", "metadata/annotations", true),
    StaticSpec::new(
        "ReplicationController",
        "spec/template/metadata/annotations",
        true,
    )
    .version("v1"),
    StaticSpec::new("Deployment", "spec/template/metadata/annotations", true),
    StaticSpec::new("ReplicaSet", "spec/template/metadata/annotations", true),
    StaticSpec::new("DaemonSet", "spec/template/metadata/annotations", true),
    StaticSpec::new("StatefulSet", "spec/template/metadata/annotations", true),
    StaticSpec::new("Job", "spec/template/metadata/annotations", true).group("batch"),
    StaticSpec::new("CronJob", "spec/jobTemplate/metadata/annotations", true).group("batch"),
    StaticSpec::new(
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    )
    .group("batch"),
];

/// v0.1.x: the same transformer, but the release round-tripped every object
/// through a kustomize resmap, so all of them come back restyled (quotes and flow
/// style gone; kpt restores comments only): kpt's e2e case
/// `fn-render/resource-has-pkgname-prefix` records `'PROJECT_ID'` → `PROJECT_ID`.
pub fn process_v0_1(list: &mut ResourceList) {
    process(list);
    if list.has_errors() {
        return;
    }
    for item in &mut list.items {
        // A mutable borrow forgets the source text: the item is written afresh.
        let _: &mut Value = &mut *item;
    }
}

pub fn process(list: &mut ResourceList) {
    let mut specs: Vec<FieldSpec> = COMMON_ANNOTATIONS.iter().map(|s| s.to_spec()).collect();
    let annotations = match util::config(list.function_config.as_ref(), KIND) {
        Ok(Config::None) => Vec::new(),
        Ok(Config::ConfigMap(data)) => {
            let fc = Value::Object(Map::from_iter([(
                "data".to_string(),
                Value::Object(data.clone()),
            )]));
            match util::string_map(&fc, "data") {
                Ok(a) => a,
                Err(e) => return list.results.push(e),
            }
        }
        Ok(Config::Typed(fc)) => {
            let parsed = util::check_fields(fc, &["annotations", "additionalAnnotationFields", "fieldSpecs"])
                .and_then(|_| {
                    if fc.get("additionalAnnotationFields").is_some() && fc.get("fieldSpecs").is_some() {
                        return Err(ResultItem::error("`fieldSpecs` has been deprecated, please rename it to `additionalAnnotationFields`").for_object(fc).field("fieldSpecs"));
                    }
                    let mut extra = FieldSpec::list(fc, "additionalAnnotationFields")?;
                    extra.extend(FieldSpec::list(fc, "fieldSpecs")?);
                    Ok((util::string_map(fc, "annotations")?, extra))
                });
            match parsed {
                Ok((a, extra)) => {
                    specs.extend(extra);
                    a
                }
                Err(e) => return list.results.push(e),
            }
        }
        Err(e) => return list.results.push(e),
    };
    if annotations.is_empty() {
        return;
    }
    crate::set_labels::apply_specs(list, &specs, &annotations);
}
