//! Field-level provenance (issue 32): where each field of a generated object
//! comes from — a spec field, a documented default, the functionConfig, or a rule
//! over several spec fields. A function records it while it renders
//! ([`Origins`], given beside the [`crate::function::Report`]); the framework
//! hands the records out with the objects ([`crate::function::generate_recording`]);
//! `lummo render` keeps them per (file, index), `lummo explain` and `lummo diff`
//! answer from them. Nothing is written to the package or the manifests.
//!
//! Records are prefix-based: the longest recorded output prefix of a field
//! answers for it, so a few calls cover a renderer's objects. A field no record
//! covers answers "rule of <function>" and is counted as without provenance
//! ([`Coverage`]).
//!
//! Paths are the field paths results use (`spec.template.spec.containers[0].image`,
//! a key with a dot as `metadata.labels['app.kubernetes.io/name']`), each from
//! its object's root: a spec field is `spec.scaling.minreplica` or
//! `metadata.name` of the spec object.

use krm_sdk::{ObjectExt, Value};
use std::collections::BTreeSet;

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Copied or translated from one spec field (`scaling.minreplica`).
    Spec { field: String },
    /// A documented default, used because the spec leaves `field` unset.
    Default { field: String, rule: String },
    /// A key of the function's functionConfig (`project`).
    Config { field: String },
    /// Computed by a rule from several spec fields (all listed, so a change of
    /// any of them may change the field).
    Derived { rule: String, from: Vec<String> },
}

impl Origin {
    /// The spec fields this origin depends on (a default depends on its field
    /// being unset).
    pub fn spec_fields(&self) -> Vec<&str> {
        match self {
            Origin::Spec { field } | Origin::Default { field, .. } => vec![field.as_str()],
            Origin::Config { .. } => Vec::new(),
            Origin::Derived { from, .. } => from.iter().map(String::as_str).collect(),
        }
    }

    /// Whether a change of spec field `changed` may change a field of this
    /// origin: the same field, a field inside it, or one containing it.
    pub fn depends_on(&self, changed: &str) -> bool {
        self.spec_fields()
            .iter()
            .any(|field| covers(field, changed) || covers(changed, field))
    }
}

/// One record: the fields at and below `prefix` of an object come from `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub prefix: String,
    pub origin: Origin,
}

/// The records of one generated object, which is named by kind and name as the
/// function emitted it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectOrigins {
    pub kind: String,
    pub name: String,
    /// Why the object exists at all (a PodDisruptionBudget only for more than
    /// one replica): what makes it come or go.
    pub made_by: Option<Origin>,
    pub records: Vec<Record>,
}

impl ObjectOrigins {
    /// The origin of the field at `path`: the record with the longest prefix
    /// covering it (the later one of two with the same prefix). `None`: no
    /// record covers it, the function's own rule made it.
    pub fn origin_of(&self, path: &str) -> Option<&Origin> {
        let mut best: Option<&Record> = None;
        for record in &self.records {
            if covers(&record.prefix, path)
                && best.is_none_or(|b| record.prefix.len() >= b.prefix.len())
            {
                best = Some(record);
            }
        }
        best.map(|r| &r.origin)
    }
}

/// What a function records while it renders one spec.
#[derive(Debug, Default)]
pub struct Origins {
    pub objects: Vec<ObjectOrigins>,
}

impl Origins {
    pub fn new() -> Self {
        Origins::default()
    }

    /// The fields at and below `prefix` of `object` come from `origin`.
    pub fn record(&mut self, object: &Value, prefix: &str, origin: Origin) {
        self.of(object).records.push(Record {
            prefix: prefix.to_string(),
            origin,
        });
    }

    /// `object` exists because of `origin` (see [`ObjectOrigins::made_by`]).
    pub fn exists(&mut self, object: &Value, origin: Origin) {
        self.of(object).made_by = Some(origin);
    }

    fn of(&mut self, object: &Value) -> &mut ObjectOrigins {
        let (kind, name) = (object.kind(), object.name());
        let index = match self
            .objects
            .iter()
            .position(|o| o.kind == kind && o.name == name)
        {
            Some(index) => index,
            None => {
                self.objects.push(ObjectOrigins {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    ..ObjectOrigins::default()
                });
                self.objects.len() - 1
            }
        };
        &mut self.objects[index]
    }

    /// `prefix` of `object` is the spec's `field`.
    pub fn spec(&mut self, object: &Value, prefix: &str, field: &str) {
        self.record(object, prefix, spec(field));
    }

    /// `prefix` of `object` is the spec's `field` when the spec object (the
    /// item as written) sets it, else the default `rule`.
    pub fn spec_or_default(
        &mut self,
        object: &Value,
        prefix: &str,
        spec_object: &Value,
        field: &str,
        rule: &str,
    ) {
        let set = spec_object
            .pointer(&pointer(field))
            .is_some_and(|v| !v.is_null());
        let origin = if set {
            spec(field)
        } else {
            Origin::Default {
                field: field.to_string(),
                rule: rule.to_string(),
            }
        };
        self.record(object, prefix, origin);
    }

    /// `prefix` of `object` is computed by `rule` from the spec fields `from`.
    pub fn derived(&mut self, object: &Value, prefix: &str, rule: &str, from: &[&str]) {
        self.record(object, prefix, derived(rule, from));
    }

    /// `prefix` of `object` is the functionConfig's `field`.
    pub fn config(&mut self, object: &Value, prefix: &str, field: &str) {
        self.record(
            object,
            prefix,
            Origin::Config {
                field: field.to_string(),
            },
        );
    }

    /// The records every object of a spec shares: its name and labels from
    /// the spec's `naming` fields, its namespace from the spec's, and its
    /// `spec` by `rule` from `from` (a renderer whose whole output reads the
    /// same fields records them once; finer records may follow).
    pub fn object(&mut self, object: &Value, naming: &[&str], rule: &str, from: &[&str]) {
        self.metadata(
            object,
            derived("named after the spec", naming),
            derived("the app's labels", naming),
        );
        self.derived(object, "spec", rule, from);
    }

    /// The metadata every generated object has: its `name` and `labels`, and
    /// its namespace, which is the spec's.
    pub fn metadata(&mut self, object: &Value, name: Origin, labels: Origin) {
        self.record(object, "metadata.name", name);
        self.spec(object, "metadata.namespace", "metadata.namespace");
        self.record(object, "metadata.labels", labels);
    }

    /// Adds another renderer's records (a part of the same spec's objects).
    pub fn extend(&mut self, other: Origins) {
        for object in other.objects {
            match self
                .objects
                .iter_mut()
                .find(|o| o.kind == object.kind && o.name == object.name)
            {
                Some(own) => {
                    own.records.extend(object.records);
                    own.made_by = own.made_by.take().or(object.made_by);
                }
                None => self.objects.push(object),
            }
        }
    }
}

/// [`Origin::Spec`] of `field`.
pub fn spec(field: &str) -> Origin {
    Origin::Spec {
        field: field.to_string(),
    }
}

/// [`Origin::Derived`] by `rule` from `from`.
pub fn derived(rule: &str, from: &[&str]) -> Origin {
    Origin::Derived {
        rule: rule.to_string(),
        from: from.iter().map(|f| f.to_string()).collect(),
    }
}

/// Whether `prefix` covers `path`: equal, or `path` continues it with a key or
/// an index; the empty prefix covers every path.
pub fn covers(prefix: &str, path: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.starts_with(prefix)
            && matches!(path.as_bytes().get(prefix.len()), Some(b'.' | b'[')))
}

/// The field `key` of the mapping at `path`, written as [`leaf_paths`] and
/// [`changed_paths`] write it, which records must match
/// (`metadata.annotations.argocd/app-name`, `metadata.annotations['a.io/b']`).
pub fn child(path: &str, key: &str) -> String {
    format!("{path}{}", key_step(path, key))
}

/// The step of a path for `key` after `path` (`.key`, or `['key']` for a key a
/// path could not otherwise spell).
fn key_step(path: &str, key: &str) -> String {
    if key.contains(['.', '[', ']', '\'']) || key.is_empty() {
        format!("['{key}']")
    } else if path.is_empty() {
        key.to_string()
    } else {
        format!(".{key}")
    }
}

/// The leaf paths (`a.b[0]['c.d']`) where two values differ; a list whose
/// length changed, or a value present on one side only, is one path.
pub fn changed_paths(old: Option<&Value>, new: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    changed(old, new, "", &mut out);
    out
}

fn changed(old: Option<&Value>, new: Option<&Value>, path: &str, out: &mut Vec<String>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                changed(a.get(key), b.get(key), &child(path, key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                changed(Some(x), Some(y), &format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a != b => out.push(path.to_string()),
        _ => {}
    }
}

/// Every leaf path of a value (scalars, empty lists and mappings).
pub fn leaf_paths(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    leaves(value, "", &mut out);
    out
}

fn leaves(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, value) in map {
                leaves(value, &child(path, key), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, value) in items.iter().enumerate() {
                leaves(value, &format!("{path}[{i}]"), out);
            }
        }
        _ => out.push(path.to_string()),
    }
}

/// A JSON pointer for a field path (`a.b[0]['c.d']` → `/a/b/0/c.d`).
pub fn pointer(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']").unwrap_or(after.len());
            out.push('/');
            out.push_str(&after[..end].replace('~', "~0").replace('/', "~1"));
            rest = after.get(end + 2..).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').unwrap_or(after.len());
            out.push('/');
            out.push_str(&after[..end]);
            rest = after.get(end + 1..).unwrap_or("");
        } else {
            let key = rest.strip_prefix('.').unwrap_or(rest);
            let end = key.find(['.', '[']).unwrap_or(key.len());
            out.push('/');
            out.push_str(&key[..end].replace('~', "~0").replace('/', "~1"));
            rest = &key[end..];
        }
    }
    out
}

/// The value at a field path, a single mapping where a list is taken counting
/// as its item `[0]` (as specs may write `containers:`).
pub fn value_at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = value;
    for step in pointer(path).split('/').skip(1) {
        let step = step.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Object(map) => match map.get(&step) {
                Some(next) => next,
                None if step == "0" => node,
                None => return None,
            },
            Value::Array(items) => items.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// `path` as it is in `value`: an index `[0]` where `value` has a single
/// mapping in place of a list is dropped (`spec.containers[0].image` of a spec
/// that writes `containers:` as one mapping is `spec.containers.image`), so
/// paths recorded with list indexes compare with the paths of a spec's
/// changes ([`changed_paths`]).
pub fn canonical(value: &Value, path: &str) -> String {
    let mut node = Some(value);
    let mut out = String::new();
    for step in pointer(path).split('/').skip(1) {
        let key = step.replace("~1", "/").replace("~0", "~");
        let index = key.parse::<usize>().ok();
        match node {
            Some(Value::Object(map)) if index == Some(0) && !map.contains_key(&key) => continue,
            Some(Value::Object(map)) => {
                out.push_str(&key_step(&out, &key));
                node = map.get(&key);
            }
            Some(Value::Array(items)) => {
                out.push_str(&format!("[{key}]"));
                node = index.and_then(|i| items.get(i));
            }
            _ => {
                match index {
                    Some(i) => out.push_str(&format!("[{i}]")),
                    None => out.push_str(&key_step(&out, &key)),
                }
                node = None;
            }
        }
    }
    out
}

/// How many leaf fields of generated objects have a recorded origin.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub fields: usize,
    pub with_origin: usize,
}

impl Coverage {
    /// Counts the leaves of `object` (location and ownership annotations left
    /// out: the framework's, not the function's) against `origins`.
    pub fn add(&mut self, object: &Value, origins: Option<&ObjectOrigins>) {
        for path in leaf_paths(object) {
            if path.starts_with("metadata.annotations['config.kubernetes.io/")
                || path.starts_with("metadata.annotations['internal.config.kubernetes.io/")
                || path.starts_with("metadata.annotations['lummo.dev/generated-")
            {
                continue;
            }
            self.fields += 1;
            if origins.is_some_and(|o| o.origin_of(&path).is_some()) {
                self.with_origin += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use krm_sdk::json;

    #[test]
    fn the_longest_covering_prefix_answers() {
        let object = json!({"kind": "Rollout", "metadata": {"name": "a"}});
        let mut origins = Origins::new();
        origins.derived(&object, "spec", "the pod", &["containers"]);
        origins.spec(&object, "spec.replicas", "replicas");
        origins.spec(&object, "spec.replicasX", "nothing");
        let object = &origins.objects[0];
        assert_eq!(object.origin_of("spec.replicas"), Some(&spec("replicas")));
        assert_eq!(
            object.origin_of("spec.template.spec"),
            Some(&derived("the pod", &["containers"]))
        );
        assert_eq!(object.origin_of("metadata.name"), None);
    }

    #[test]
    fn dependence_goes_both_ways_along_a_path() {
        let origin = spec("scaling.cpu");
        assert!(origin.depends_on("scaling.cpu.target"));
        assert!(origin.depends_on("scaling"));
        assert!(!origin.depends_on("scaling.cpuX"));
        assert!(!origin.depends_on("replicas"));
    }

    #[test]
    fn paths_and_pointers_agree() {
        let a = json!({"m": {"a.b": 1, "l": [1, 2]}});
        let b = json!({"m": {"a.b": 2, "l": [1, 3]}});
        let paths = changed_paths(Some(&a), Some(&b));
        assert_eq!(paths, ["m['a.b']", "m.l[1]"]);
        assert_eq!(pointer(&paths[0]), "/m/a.b");
        assert_eq!(b.pointer(&pointer(&paths[1])), Some(&json!(3)));
        let spec = json!({"containers": {"image": "a:1"}, "list": [{"x": 1}]});
        assert_eq!(value_at(&spec, "containers[0].image"), Some(&json!("a:1")));
        assert_eq!(value_at(&spec, "list[0].x"), Some(&json!(1)));
        assert_eq!(value_at(&spec, "list[1]"), None);
        assert_eq!(canonical(&spec, "containers[0].image"), "containers.image");
        assert_eq!(canonical(&spec, "list[0].x"), "list[0].x");
        assert_eq!(canonical(&spec, "missing[2].y"), "missing[2].y");
    }
}
