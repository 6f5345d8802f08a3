//! Decoding problems are told in the user's words: wrong-typed and unknown values
//! for every field of every Lummo kind (specs and functionConfigs), run through the
//! function that reads the kind, never yield a Rust type name (`u32`, `struct
//! Port`, `LummoDeploymentSpec`) in a message.

use krm_sdk::{json, ResourceList, Value};

/// `node` with its `$ref` followed.
fn resolve<'s>(root: &'s Value, node: &'s Value) -> &'s Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(target) => resolve(root, root.pointer(&target[1..]).expect("ref resolves")),
        None => node,
    }
}

/// A value of another type than `node` takes.
fn wrong_value(root: &Value, node: &Value) -> Value {
    let node = resolve(root, node);
    let text = node.to_string();
    if text.contains("\"string\"") && !text.contains("\"enum\"") && !text.contains("\"const\"") {
        json!({"a": [1]})
    } else if text.contains("\"enum\"") || text.contains("\"const\"") {
        json!("not-one-of-them")
    } else {
        json!("x")
    }
}

/// Specs each with one wrong field, at the top level and one mapping down.
fn bad_specs(schema: &Value) -> Vec<Value> {
    let mut specs = vec![json!({"notAField": 1}), json!("x"), json!([1])];
    let properties = |node: &Value| -> Vec<(String, Value)> {
        let node = resolve(schema, node);
        let mut out = Vec::new();
        for branch in std::iter::once(node).chain(
            ["anyOf", "oneOf"]
                .iter()
                .filter_map(|k| node.get(*k).and_then(Value::as_array))
                .flatten()
                .map(|b| resolve(schema, b)),
        ) {
            if let Some(props) = branch.get("properties").and_then(Value::as_object) {
                out.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            if let Some(items) = branch.get("items") {
                let items = resolve(schema, items);
                if let Some(props) = items.get("properties").and_then(Value::as_object) {
                    out.extend(props.iter().map(|(k, v)| (format!("[]{k}"), v.clone())));
                }
            }
        }
        out
    };
    for (key, node) in properties(schema) {
        specs.push(json!({ key.clone(): wrong_value(schema, &node) }));
        specs.push(json!({ key.clone(): {"notAField": 1} }));
        for (inner, inner_node) in properties(&node) {
            let wrong = wrong_value(schema, &inner_node);
            let value = match inner.strip_prefix("[]") {
                Some(inner) => json!([{ inner: wrong }]),
                None => json!({ inner: wrong }),
            };
            specs.push(json!({ key.clone(): value }));
        }
    }
    specs
}

#[test]
fn no_rust_words_in_decoding_problems() {
    let mut forbidden: Vec<String> = [
        "struct ",
        "enum ",
        "untagged",
        "u8",
        "u16",
        "u32",
        "u64",
        "usize",
        "i8",
        "i16",
        "i32",
        "i64",
        "isize",
        "f32",
        "f64",
        "a sequence",
        "a map,",
        "expected map",
        "Spec",
    ]
    .map(String::from)
    .to_vec();
    let mut checked = 0;
    for descriptor in lummo_validate::DESCRIPTORS {
        for kind in descriptor.kinds {
            let schema = (kind.schema)();
            // The Rust type names schemars recorded.
            forbidden.extend(
                schema
                    .get("$defs")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(name, _)| format!(" {name} ")),
            );
            for spec in bad_specs(&schema) {
                let object = json!({
                    "apiVersion": "lummo.dev/v1alpha1",
                    "kind": kind.kind,
                    "metadata": {"name": "x", "annotations": {"config.kubernetes.io/path": "x.yaml"}},
                    "spec": spec,
                });
                let mut list;
                if kind.function_config {
                    list = ResourceList::new(Vec::new());
                    list.function_config = Some(object);
                } else {
                    list = ResourceList::new(vec![object]);
                }
                (descriptor.process)(&mut list);
                for result in &list.results {
                    checked += 1;
                    let message = format!(" {} ", result.message);
                    for word in &forbidden {
                        let hit = message.match_indices(word.as_str()).any(|(at, _)| {
                            let before = message[..at].chars().last();
                            let after = message[at + word.len()..].chars().next();
                            !before.is_some_and(char::is_alphanumeric)
                                && !after.is_some_and(char::is_alphanumeric)
                        });
                        assert!(
                            !hit,
                            "{}: `{word}` in: {} (spec {spec})",
                            kind.kind, result.message
                        );
                    }
                    assert!(
                        result.tags.is_empty()
                            || !result.tags.keys().any(|k| k.starts_with("internal."))
                    );
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} results checked");
}
