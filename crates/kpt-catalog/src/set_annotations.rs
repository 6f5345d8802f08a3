//! `set-annotations`: kustomize's commonAnnotations transformer, as the catalog
//! wraps it (kptdev/krm-functions-catalog `functions/go/set-annotations`):
//! config from a ConfigMap's `data` or `SetAnnotations` (`annotations`,
//! `additionalAnnotationFields`, the deprecated `fieldSpecs`); annotations go to
//! `metadata.annotations` of every object and to the pod templates of workloads
//! (third_party/.../commonannotations.go), in sorted key order.
//!
//! The releases (v0.1.3, v0.1.4) report nothing; the catalog's later source
//! (commit 106a8b0e, in no set-annotations release tag, so what `:unstable` and
//! the newest kpt's `:latest` run) reports each annotations map it set, as
//! `annotations_transformer.go`'s `SetEntryCallback` and `main.go`'s
//! `resultsToItems` do.

use crate::util::{self, Config, FieldSpec, StaticSpec};
use krm_sdk::{FileRef, ObjectExt, ResourceList, ResultItem, Value};
use serde_json::Map;
use std::collections::BTreeMap;

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

/// v0.1.3 and v0.1.4: the transformer, reporting nothing. v0.1.3 round-tripped
/// every object through a kustomize resmap, so all of them come back restyled
/// (quotes and flow style gone; kpt restores comments only): kpt's e2e case
/// `fn-render/resource-has-pkgname-prefix` records `'PROJECT_ID'` → `PROJECT_ID`.
/// v0.1.4, on kustomize api v0.8.11, filters the function's own nodes
/// (`Resource.ApplyFilter` filters `&r.RNode`): the objects keep their styles.
/// That difference is `crate::restyles`'; the objects keep their texts either
/// way, as kpt gives the comments back from the node that went in
/// (`CopyComments` by id), which the text is (fuzz seed i134 case 49: without
/// it a v0.1.3 object got its comments from the file at its path, none once an
/// earlier step had moved it).
pub fn process_v0_1(list: &mut ResourceList) {
    let _ = annotate(list);
}

/// The newest source: sets the annotations and reports, for every map it set
/// them in, `set annotations: {...}` with the map's field path and the
/// object's file (`resultsToItems`): one result per file, index and field path
/// (objects that share them, as a subpackage's `Kptfile` and its parent's do
/// in the parent's pipeline, share one), sorted as kyaml's `Results.Sort`
/// sorts them (file path, index, then the field); `no annotations applied`
/// when there was nothing to set them in.
pub fn process(list: &mut ResourceList) {
    let Some((visited, annotations)) = annotate(list) else {
        return;
    };
    // kioutil.GetFileAnnotations: the index as written, read by strconv.Atoi.
    let mut set: BTreeMap<(String, String, String), BTreeMap<String, String>> = BTreeMap::new();
    for (item, paths) in list.items.iter().zip(visited) {
        let path = item
            .annotation(krm_sdk::annotations::PATH)
            .or_else(|| item.annotation(krm_sdk::annotations::LEGACY_PATH))
            .unwrap_or("");
        let index = item
            .annotation(krm_sdk::annotations::INDEX)
            .or_else(|| item.annotation(krm_sdk::annotations::LEGACY_INDEX))
            .unwrap_or("");
        for field in paths {
            set.entry((path.to_string(), index.to_string(), field))
                .or_default()
                .extend(annotations.iter().cloned());
        }
    }
    if set.is_empty() {
        return list
            .results
            .push(ResultItem::unset("no annotations applied"));
    }
    let mut results: Vec<(u32, String, ResultItem)> = set
        .into_iter()
        .map(|((path, index, field), annotations)| {
            let index = index.parse().unwrap_or(0);
            let result = ResultItem::unset(format!("set annotations: {}", go_json(&annotations)))
                .field(field.clone());
            // An object without a path has an empty `file` (`{}`), which a
            // result here leaves out.
            let result = ResultItem {
                file: (!path.is_empty()).then_some(FileRef { path, index }),
                ..result
            };
            (index, field, result)
        })
        .collect();
    results.sort_by(|(ia, fa, a), (ib, fb, b)| {
        let file = |r: &ResultItem| r.file.as_ref().map(|f| f.path.clone());
        (file(a), ia, fa, &a.message).cmp(&(file(b), ib, fb, &b.message))
    });
    list.results.extend(results.into_iter().map(|(_, _, r)| r));
}

/// A string map as Go's `json.Marshal` writes it: keys sorted, and `<`, `>`,
/// `&`, U+2028 and U+2029 escaped as `\u003c`... (Go escapes them for HTML).
fn go_json(map: &BTreeMap<String, String>) -> String {
    let text = serde_json::to_string(map).unwrap_or_default();
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Sets the configured annotations; `None` when the config was refused (an
/// error result is in the list) or names none, else per item the field path
/// of every map they were set in, and the annotations.
fn annotate(list: &mut ResourceList) -> Option<(Vec<Vec<String>>, Vec<(String, String)>)> {
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
                Err(e) => {
                    list.results.push(e);
                    return None;
                }
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
                Err(e) => {
                    list.results.push(e);
                    return None;
                }
            }
        }
        Err(e) => {
            list.results.push(e);
            return None;
        }
    };
    if annotations.is_empty() {
        return None;
    }
    let visited = crate::set_labels::apply_specs(list, &specs, &annotations);
    Some((visited, annotations))
}
