//! `apply-replacements`: kustomize's replacements over the package
//! (kptdev/krm-functions-catalog `functions/go/apply-replacements`, which runs
//! sigs.k8s.io/kustomize/api/filters/replacement). Config: `ApplyReplacements`
//! with `replacements: [{source, targets}]`, the schema of kustomize's
//! `replacements` (kubectl.docs/kustomize reference "replacements"): the source is
//! one object (group/version/kind/name/namespace) and a `fieldPath` (default
//! `metadata.name`), optionally a part of it (`options.delimiter`/`index`); each
//! target selects objects (`select`, `reject`) and `fieldPaths`
//! (`a.b`, `list.[name=x].c`, `*`, an index), with `options.create` to create
//! missing fields and `delimiter`/`index` to replace a part of a string.

use crate::util::{self, Config};
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};
use serde_json::Map;

const KIND: &str = "ApplyReplacements";

fn err(message: impl Into<String>, fc: &Value, field: impl Into<String>) -> ResultItem {
    ResultItem::error(message).for_object(fc).field(field)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// A kustomize ResId selector: every field it sets must match.
fn selected(o: &Value, selector: &Value) -> bool {
    let (group, version) = util::group_version(o.api_version());
    [
        ("group", group),
        ("version", version),
        ("kind", o.kind()),
        ("name", o.name()),
        ("namespace", o.namespace()),
    ]
    .iter()
    .all(|(key, actual)| {
        let wanted = text(selector, key);
        wanted.is_empty() || wanted == *actual
    })
}

fn selector_string(s: &Value) -> String {
    let mut parts = Vec::new();
    for key in ["group", "version", "kind", "name", "namespace"] {
        let v = text(s, key);
        if !v.is_empty() {
            parts.push(format!("{key}={v}"));
        }
    }
    format!("[{}]", parts.join(", "))
}

/// kyaml's SmarterPathSplitter: `.` separates, except inside `[...]`.
fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    // `[a.b]` names a field whose key holds dots; `[k=v]` selects list elements.
    out.into_iter()
        .map(
            |segment| match segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                Some(inner) if !inner.contains('=') => inner.to_string(),
                _ => segment,
            },
        )
        .collect()
}

fn lookup<'a>(node: &'a Value, path: &[String]) -> Option<&'a Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let child = match node {
        Value::Object(map) => map.get(first.as_str())?,
        Value::Array(items) => {
            if let Some(inner) = first.strip_prefix('[').and_then(|f| f.strip_suffix(']')) {
                let (key, value) = inner.split_once('=')?;
                items
                    .iter()
                    .find(|i| i.get(key).and_then(scalar_string).as_deref() == Some(value))?
            } else {
                items.get(first.parse::<usize>().ok()?)?
            }
        }
        _ => return None,
    };
    lookup(child, rest)
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// kyaml's PathMatcher: every node the path reaches (`*` and `[k=v]` may reach
/// several); with `create`, missing fields are made on the way.
fn targets(
    node: &mut Value,
    path: &[String],
    create: Option<&Value>,
    out: &mut dyn FnMut(&mut Value),
) {
    let Some((first, rest)) = path.split_first() else {
        out(node);
        return;
    };
    match node {
        Value::Object(map) => {
            if first == "*" {
                for child in map.values_mut() {
                    targets(child, rest, create, out);
                }
                return;
            }
            if !map.contains_key(first.as_str())
                || map.get(first.as_str()).is_some_and(Value::is_null)
            {
                let Some(value) = create else { return };
                let fresh = if rest.is_empty() {
                    match value {
                        Value::Object(_) => Value::Object(Map::new()),
                        Value::Array(_) => Value::Array(Vec::new()),
                        _ => Value::String(String::new()),
                    }
                } else if rest[0].starts_with('[') {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(Map::new())
                };
                map.insert(first.clone(), fresh);
            }
            targets(
                map.get_mut(first.as_str()).expect("present"),
                rest,
                create,
                out,
            );
        }
        Value::Array(items) => {
            if first == "*" {
                for child in items.iter_mut() {
                    targets(child, rest, create, out);
                }
            } else if let Some(inner) = first.strip_prefix('[').and_then(|f| f.strip_suffix(']')) {
                let Some((key, value)) = inner.split_once('=') else {
                    return;
                };
                let mut any = false;
                for child in items.iter_mut() {
                    if child.get(key).and_then(scalar_string).as_deref() == Some(value) {
                        any = true;
                        targets(child, rest, create, out);
                    }
                }
                if !any && create.is_some() {
                    let mut element = Map::new();
                    element.insert(key.to_string(), Value::String(value.to_string()));
                    items.push(Value::Object(element));
                    targets(items.last_mut().expect("pushed"), rest, create, out);
                }
            } else if let Ok(index) = first.parse::<usize>() {
                if let Some(child) = items.get_mut(index) {
                    targets(child, rest, create, out);
                }
            }
        }
        _ => {}
    }
}

fn options(v: &Value) -> (String, i64, bool) {
    let o = v.get("options").cloned().unwrap_or(Value::Null);
    (
        text(&o, "delimiter"),
        o.get("index").and_then(Value::as_i64).unwrap_or(0),
        o.get("create").and_then(Value::as_bool).unwrap_or(false),
    )
}

/// v0.1.2 and later (kustomize api v0.19): a target field that is missing is an
/// error, and a scalar target keeps its type.
pub fn process(list: &mut ResourceList) {
    replace(list, Api::Current);
}

/// v0.1.0 and v0.1.1, built on kustomize api v0.10.1, whose `applyToNode`
/// (api/filters/replacement/replacement.go at api/v0.10.1) skips a target field
/// `yaml.Lookup` does not find (the error "unable to find field ... in
/// replacement target" came with api v0.13), and whose `setTargetValue`
/// replaces the target's node with the source's (`t.SetYNode(value.YNode())`):
/// the source's type wins, a string stays a string in an integer field.
pub fn process_v0_1(list: &mut ResourceList) {
    replace(list, Api::V0_10);
}

/// The kustomize api a release is built on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    V0_10,
    Current,
}

fn replace(list: &mut ResourceList, api: Api) {
    let fc = match util::config(list.function_config.as_ref(), KIND) {
        Ok(Config::Typed(fc)) => fc.clone(),
        Ok(Config::ConfigMap(_)) | Ok(Config::None) => {
            return list.results.push(ResultItem::error(format!(
                "the functionConfig must be an `{KIND}` (apiVersion fn.kpt.dev/v1alpha1) with `replacements`"
            )))
        }
        Err(e) => return list.results.push(e),
    };
    if let Err(e) = util::check_fields(&fc, &["replacements"]) {
        return list.results.push(e);
    }
    let replacements = fc
        .get("replacements")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, r) in replacements.iter().enumerate() {
        if let Err(e) = apply(list, r, &fc, i, api) {
            list.results.push(e);
            return;
        }
    }
}

/// One replacement, in kustomize's order (`applyReplacement`: the source, its
/// value, then every target with its options); kept in one piece so it reads
/// beside the kustomize source whose errors it reproduces.
fn apply(
    list: &mut ResourceList,
    r: &Value,
    fc: &Value,
    i: usize,
    api: Api,
) -> Result<(), ResultItem> {
    let at = format!("replacements[{i}]");
    if r.get("path").is_some() {
        return Err(err(
            "replacements from a `path` are not supported; write the replacement inline",
            fc,
            format!("{at}.path"),
        ));
    }
    let (Some(source), Some(target_list)) =
        (r.get("source"), r.get("targets").and_then(Value::as_array))
    else {
        return Err(err(
            "replacements must specify a source and at least one target",
            fc,
            at,
        ));
    };
    let matches: Vec<usize> = (0..list.items.len())
        .filter(|&j| selected(&list.items[j], source))
        .collect();
    let source_index = match matches.as_slice() {
        [one] => *one,
        [] => {
            return Err(err(
                format!("nothing selected by {}", selector_string(source)),
                fc,
                format!("{at}.source"),
            ))
        }
        _ => {
            return Err(err(
                format!("multiple matches for selector {}", selector_string(source)),
                fc,
                format!("{at}.source"),
            ))
        }
    };
    let field_path = Some(text(source, "fieldPath"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "metadata.name".into());
    let value = lookup(&list.items[source_index], &split_path(&field_path))
        .filter(|v| !v.is_null() && v.as_object().is_none_or(|m| !m.is_empty()))
        .cloned()
        .ok_or_else(|| {
            err(
                format!(
                    "fieldPath `{field_path}` is missing for replacement source {}",
                    selector_string(source)
                ),
                fc,
                format!("{at}.source.fieldPath"),
            )
        })?;
    let (delimiter, index, _) = options(source);
    let value = if delimiter.is_empty() {
        value
    } else {
        let s = scalar_string(&value).ok_or_else(|| {
            err(
                "delimiter option can only be used with scalar nodes",
                fc,
                format!("{at}.source.options"),
            )
        })?;
        let parts: Vec<&str> = s.split(delimiter.as_str()).collect();
        let part = usize::try_from(index)
            .ok()
            .and_then(|k| parts.get(k))
            .ok_or_else(|| {
                err(
                    format!("options.index {index} is out of bounds for value {s}"),
                    fc,
                    format!("{at}.source.options.index"),
                )
            })?;
        Value::String(part.to_string())
    };
    for (t, target) in target_list.iter().enumerate() {
        let Some(select) = target.get("select") else {
            return Err(err(
                "target must specify resources to select",
                fc,
                format!("{at}.targets[{t}]"),
            ));
        };
        let rejects = target
            .get("reject")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut paths: Vec<String> = target
            .get("fieldPaths")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if paths.is_empty() {
            paths.push("metadata.name".into());
        }
        let (delimiter, index, create) = options(target);
        for item in list.items.iter_mut() {
            if !selected(item, select)
                || rejects
                    .iter()
                    .any(|r| r.as_object().is_some_and(|m| !m.is_empty()) && selected(item, r))
            {
                continue;
            }
            let mut failure = None;
            let mut changed = item.value().clone();
            (|o: &mut Value| {
                for path in &paths {
                    let mut found = 0;
                    let mut problem = None;
                    targets(
                        o,
                        &split_path(path),
                        create.then_some(&value),
                        &mut |node| {
                            found += 1;
                            if let Err(e) = set_field(node, &value, &delimiter, index, api) {
                                problem.get_or_insert(e);
                            }
                        },
                    );
                    // api v0.10's applyToNode: `if t != nil { setTargetValue }`.
                    if found == 0 && api == Api::Current {
                        let verb = if create { "find or create" } else { "find" };
                        problem = Some(format!(
                            "unable to {verb} field {path:?} in replacement target"
                        ));
                    }
                    if problem.is_some() {
                        failure = problem;
                        return;
                    }
                }
            })(&mut changed);
            if failure.is_none() {
                item.set(changed);
            }
            if let Some(message) = failure {
                // The object is left as it was; kpt discards the output of a failed step.
                return Err(err(message, fc, format!("{at}.targets[{t}]"))
                    .tag("target", format!("{}/{}", item.kind(), item.name())));
            }
        }
    }
    Ok(())
}

/// setFieldValue: a scalar target keeps its type, anything else is replaced
/// (api v0.10's setTargetValue: the target becomes the source's node).
fn set_field(
    node: &mut Value,
    value: &Value,
    delimiter: &str,
    index: i64,
    api: Api,
) -> Result<(), String> {
    let mut value = value.clone();
    if !delimiter.is_empty() {
        let current =
            scalar_string(node).ok_or("delimiter option can only be used with scalar nodes")?;
        let v = scalar_string(&value).unwrap_or_default();
        let mut parts: Vec<String> = current.split(delimiter).map(str::to_string).collect();
        if index < 0 {
            parts.insert(0, v);
        } else if index as usize >= parts.len() {
            parts.push(v);
        } else {
            parts[index as usize] = v;
        }
        value = Value::String(parts.join(delimiter));
    }
    if api == Api::V0_10 {
        *node = value;
        return Ok(());
    }
    match (&*node, scalar_string(&value)) {
        (Value::String(_), Some(s)) => *node = Value::String(s),
        (Value::Number(_) | Value::Bool(_), Some(s)) => {
            *node = krm_sdk::yaml::parse_documents(&s, &Default::default())
                .ok()
                .and_then(|d| d.into_iter().next())
                .filter(|v| !v.is_object() && !v.is_array())
                .unwrap_or(Value::String(s));
        }
        _ => *node = value,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_field_paths_as_kyaml_does() {
        assert_eq!(
            super::split_path("spec.containers.[name=nginx].image"),
            vec!["spec", "containers", "[name=nginx]", "image"]
        );
        // kpt e2e fn-render/fnconfig-updated-in-render targets such a key.
        assert_eq!(
            super::split_path("data.[app.kubernetes.io/app]"),
            vec!["data", "app.kubernetes.io/app"]
        );
    }
}
