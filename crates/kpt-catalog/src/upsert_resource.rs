//! `upsert-resource`: the functionConfig is the object to insert or replace (or a
//! `kind: List` of them), as kptdev/krm-functions-catalog
//! `functions/go/upsert-resource` documents it. An object of the package with the
//! same group, kind, namespace and name (and, when the config object carries
//! `config.kubernetes.io/target-path`, the same file) is replaced, keeping its
//! file, index and comments; otherwise the object is added, in the target path
//! when one is given.

use krm_sdk::object::{annotations, set_file};
use krm_sdk::{FileRef, ObjectExt, ResourceList, ResultItem, Value};

const TARGET_PATH: &str = "config.kubernetes.io/target-path";

fn id(o: &Value) -> (String, String, String, String) {
    let group = crate::util::group_version(o.api_version()).0.to_string();
    (
        group,
        o.kind().to_string(),
        o.namespace().to_string(),
        o.name().to_string(),
    )
}

pub fn process(list: &mut ResourceList) {
    let Some(fc) = list.function_config.clone() else {
        return list.results.push(ResultItem::error(
            "functionConfig is missing; give the object to upsert (or a `kind: List` of objects) as the functionConfig",
        ));
    };
    let objects: Vec<Value> = if fc.kind() == "List" {
        fc.get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    } else {
        vec![fc.clone()]
    };
    for (i, object) in objects.into_iter().enumerate() {
        if object.kind().is_empty() || object.name().is_empty() {
            list.results.push(
                ResultItem::error("the object to upsert needs `kind` and `metadata.name`")
                    .for_object(&fc)
                    .field(if fc.kind() == "List" {
                        format!("items[{i}]")
                    } else {
                        "metadata.name".into()
                    }),
            );
            continue;
        }
        let target = object.annotation(TARGET_PATH).map(str::to_string);
        let mut object = object;
        object.remove_annotation(TARGET_PATH);
        drop_empty_annotations(&mut object);
        let wanted = id(&object);
        // Every object with that identity is replaced (the functionConfig's own
        // file, when it lies in the package, is one of them and stays as it is).
        let found: Vec<usize> = (0..list.items.len())
            .filter(|&i| {
                let item = &list.items[i];
                id(item) == wanted
                    && target
                        .as_deref()
                        .is_none_or(|t| item.file_ref().is_some_and(|f| f.path == t))
            })
            .collect();
        if found.is_empty() {
            if let Some(path) = &target {
                set_file(
                    &mut object,
                    &FileRef {
                        path: path.clone(),
                        index: 0,
                    },
                );
            }
            list.results
                .push(ResultItem::info("added resource").for_object(&object));
            list.items.push(object.into());
            continue;
        }
        for index in found {
            {
                let old = list.items[index].value().clone();
                let mut new = object.clone();
                // The object keeps its place in the package (kpt's internal annotations).
                if let Some(old_annotations) = old
                    .pointer("/metadata/annotations")
                    .and_then(Value::as_object)
                {
                    for (key, value) in old_annotations {
                        let internal = key.starts_with("internal.config.kubernetes.io/")
                            || key == annotations::PATH
                            || key == annotations::INDEX
                            || key == annotations::LEGACY_PATH
                            || key == annotations::LEGACY_INDEX
                            || key == annotations::ID;
                        if internal {
                            new.set_annotation(key, value.as_str().unwrap_or(""));
                        }
                    }
                }
                list.items[index].set(new);
                list.results
                    .push(ResultItem::info("replaced resource").for_object(&old));
            }
        }
    }
}

fn drop_empty_annotations(o: &mut Value) {
    let empty = o
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|m| m.is_empty());
    if empty {
        if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.shift_remove("annotations");
        }
    }
}
