//! Strict validation of objects against the `openAPIV3Schema` of a CRD, as the API
//! server applies it (see [`validate`]): unknown fields are errors (the server would
//! prune them) unless the schema preserves them.

pub mod cel;
pub mod formats;

use crate::object::ObjectExt;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// One schema violation, at a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            if self.path.is_empty() {
                "<root>"
            } else {
                &self.path
            },
            self.message
        )
    }
}

/// Schemas by apiVersion and kind.
#[derive(Debug, Clone, Default)]
pub struct SchemaSet {
    schemas: HashMap<(String, String), Value>,
}

impl SchemaSet {
    /// Loads every `*.json` of `dir` written by the schema extractor: objects with
    /// `apiVersion`, `kind` and `openAPIV3Schema`.
    pub fn load_dir(dir: &Path) -> Result<Self, String> {
        let mut set = SchemaSet::default();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            set.add_document(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(set)
    }

    /// Adds one extracted schema document (JSON).
    pub fn add_document(&mut self, text: &str) -> Result<(), String> {
        let document: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let schema = document
            .get("openAPIV3Schema")
            .cloned()
            .ok_or("no openAPIV3Schema")?;
        self.insert(document.api_version(), document.kind(), schema);
        Ok(())
    }

    /// Adds the schemas of a CustomResourceDefinition object; returns how many.
    pub fn add_crd(&mut self, crd: &Value) -> usize {
        let schemas = crd_schemas(crd);
        let count = schemas.len();
        for s in schemas {
            self.insert(&s.api_version, &s.kind, s.schema);
        }
        count
    }

    pub fn insert(&mut self, api_version: &str, kind: &str, schema: Value) {
        self.schemas
            .insert((api_version.to_string(), kind.to_string()), schema);
    }

    pub fn get(&self, api_version: &str, kind: &str) -> Option<&Value> {
        self.schemas
            .get(&(api_version.to_string(), kind.to_string()))
    }

    pub fn len(&self) -> usize {
        self.schemas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty()
    }

    /// Validates `object` against the schema of its apiVersion and kind; `None` when
    /// the set has no such schema.
    pub fn validate(&self, object: &Value) -> Option<Vec<SchemaError>> {
        let schema = self.get(object.api_version(), object.kind())?;
        Some(validate(schema, object))
    }

    /// Like [`validate`](Self::validate), but a custom resource without a schema in
    /// the set is itself an error; built-in kinds without one pass.
    pub fn validate_strict(&self, object: &Value) -> Vec<String> {
        match self.validate(object) {
            Some(errors) => errors.iter().map(ToString::to_string).collect(),
            None if is_builtin(object.api_version()) => Vec::new(),
            None => vec![format!(
                "no schema for {} {}",
                object.api_version(),
                object.kind()
            )],
        }
    }
}

/// One served version of a CRD: its apiVersion, kind and `openAPIV3Schema` with
/// descriptions stripped (structure only).
#[derive(Debug, Clone, PartialEq)]
pub struct CrdSchema {
    pub api_version: String,
    pub kind: String,
    pub schema: Value,
}

/// The schemas of every served version of a CustomResourceDefinition object;
/// nothing for other objects.
pub fn crd_schemas(crd: &Value) -> Vec<CrdSchema> {
    if crd.kind() != "CustomResourceDefinition" {
        return Vec::new();
    }
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = crd
        .pointer("/spec/names/kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array);
    versions
        .into_iter()
        .flatten()
        .filter(|version| version.get("served") == Some(&Value::Bool(true)))
        .filter_map(|version| {
            let name = version.get("name")?.as_str()?;
            let schema = version.pointer("/schema/openAPIV3Schema")?;
            Some(CrdSchema {
                api_version: format!("{group}/{name}"),
                kind: kind.to_string(),
                schema: strip_descriptions(schema.clone()),
            })
        })
        .collect()
}

/// Removes `description` from a schema and every schema nested in it, leaving
/// properties that happen to be named `description` alone.
pub fn strip_descriptions(mut schema: Value) -> Value {
    let Some(map) = schema.as_object_mut() else {
        return schema;
    };
    map.shift_remove("description");
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        for value in properties.values_mut() {
            *value = strip_descriptions(value.take());
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(value) = map.get_mut(key).filter(|v| v.is_object()) {
            *value = strip_descriptions(value.take());
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = map.get_mut(key) {
            for branch in branches.iter_mut() {
                *branch = strip_descriptions(branch.take());
            }
        }
    }
    schema
}

/// Whether an apiVersion belongs to Kubernetes itself (`v1`, `apps/v1`,
/// `networking.k8s.io/v1`) rather than to a CRD.
pub fn is_builtin(api_version: &str) -> bool {
    match api_version.rsplit_once('/') {
        None => true,
        Some((group, _)) => {
            !group.contains('.')
                || (group.ends_with(".k8s.io") && !group.starts_with("gateway.networking."))
        }
    }
}

/// Validates a whole object against a CRD's `openAPIV3Schema` in the API server's
/// order (k8s.io/apiextensions-apiserver `pkg/registry/customresource`: decode,
/// prune, default, validate): `null` on a field that is not `nullable` is dropped
/// (or replaced by the field's `default`), absent fields with a `default` get it,
/// then structure, `pattern`, `format`, `enum`, `oneOf/anyOf/allOf/not` and the
/// CEL rules of `x-kubernetes-validations` are checked. Unknown fields, which the
/// server would prune, are reported: `kubectl apply` asks for strict field
/// validation, which turns the pruning into an error. `metadata` is left to the
/// API server's own ObjectMeta rules, as CRD schemas leave it.
pub fn validate(schema: &Value, object: &Value) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    let Some(original) = object.as_object() else {
        errors.push(SchemaError {
            path: String::new(),
            message: "must be an object".into(),
        });
        return errors;
    };
    let mut map = original.clone();
    let properties = field(schema, "properties").and_then(Value::as_object);
    if let Some(properties) = properties {
        default_fields(properties, &mut map, &["apiVersion", "kind", "metadata"]);
    }
    for (key, value) in &map {
        if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match properties.and_then(|p| p.get(key)) {
            Some(child) => check(child, value, key.clone(), true, &mut errors),
            None => errors.push(SchemaError {
                path: key.clone(),
                message: "unknown field".into(),
            }),
        }
    }
    check_required(schema, &map, "", &mut errors);
    if let Some(rules) = field(schema, "x-kubernetes-validations").and_then(Value::as_array) {
        check_rules(rules, &Value::Object(map), "", &mut errors);
    }
    errors
}

/// The object as the API server stores it before validating: non-nullable nulls
/// dropped and `default`s applied, recursively (`structuraldefaulting.Default`
/// and `PruneNonNullableNullsWithoutDefaults`).
pub fn apply_defaults(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(properties) = field(schema, "properties").and_then(Value::as_object) {
                default_fields(properties, map, &[]);
            } else if let Some(extra) =
                field(schema, "additionalProperties").filter(|a| a.is_object())
            {
                if !flag(extra, "nullable") {
                    map.retain(|_, v| !v.is_null());
                }
                for child in map.values_mut() {
                    apply_defaults(extra, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = field(schema, "items").filter(|i| i.is_object()) {
                for item in items {
                    apply_defaults(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

fn default_fields(
    properties: &serde_json::Map<String, Value>,
    map: &mut serde_json::Map<String, Value>,
    skip: &[&str],
) {
    for (key, property) in properties {
        if skip.contains(&key.as_str()) {
            continue;
        }
        let default = field(property, "default");
        match map.get_mut(key) {
            Some(value) if value.is_null() && !flag(property, "nullable") => match default {
                Some(default) => *value = default.clone(),
                None => {
                    map.shift_remove(key);
                    continue;
                }
            },
            None => match default {
                Some(default) => {
                    map.insert(key.clone(), default.clone());
                }
                None => continue,
            },
            Some(_) => {}
        }
        if let Some(value) = map.get_mut(key) {
            apply_defaults(property, value);
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn flag(schema: &Value, name: &str) -> bool {
    field(schema, name)
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// A keyword of a schema node. Nodes hold a handful of keywords and each value
/// checked asks for twenty: comparing the few keys costs less than hashing the
/// one asked for (`Map::get`).
fn field<'a>(schema: &'a Value, key: &str) -> Option<&'a Value> {
    let map = schema.as_object()?;
    if map.len() > 8 {
        return map.get(key);
    }
    map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
}

fn check_required(
    schema: &Value,
    map: &serde_json::Map<String, Value>,
    path: &str,
    errors: &mut Vec<SchemaError>,
) {
    for required in field(schema, "required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = required.as_str() {
            if !map.contains_key(name) {
                errors.push(SchemaError {
                    path: join(path, name),
                    message: "required field is missing".into(),
                });
            }
        }
    }
}

fn check_rules(rules: &[Value], value: &Value, path: &str, errors: &mut Vec<SchemaError>) {
    for failure in cel::evaluate(rules, value) {
        errors.push(SchemaError {
            path: if failure.field_path.is_empty() {
                path.to_string()
            } else {
                join(path, &failure.field_path)
            },
            message: failure.message,
        });
    }
}

/// Whether `value` has the JSON type a schema's `type` names.
fn has_type(kind: &str, value: &Value) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    }
}

/// Checks `value` against one schema node. `structural` is false inside
/// `anyOf`/`oneOf`/`allOf`/`not` branches: they only add value validations and
/// never declare fields, so a field they do not list is not unknown; but their
/// `properties`, `items` and `required` apply to the value whatever the branch's
/// `type` (JSON Schema; a branch without `type: object` still constrains an
/// object's properties).
fn check(
    schema: &Value,
    value: &Value,
    path: String,
    structural: bool,
    errors: &mut Vec<SchemaError>,
) {
    if value.is_null() {
        if structural && !flag(schema, "nullable") {
            errors.push(SchemaError {
                path,
                message: "null is not allowed here".into(),
            });
        }
        return;
    }
    let mut fail = |message: String| {
        errors.push(SchemaError {
            path: path.clone(),
            message,
        })
    };
    if flag(schema, "x-kubernetes-int-or-string") {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            fail(format!(
                "expected an integer or a string, found {}",
                describe(value)
            ));
            return;
        }
    } else if let Some(kind) = field(schema, "type").and_then(Value::as_str) {
        if !has_type(kind, value) {
            let expected = match kind {
                "object" => "an object",
                "array" => "a list",
                "string" => "a string",
                "integer" => "an integer",
                "number" => "a number",
                "boolean" => "a boolean",
                other => other,
            };
            fail(format!("expected {expected}, found {}", describe(value)));
            return;
        }
    }
    match value {
        Value::Object(map) => {
            let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
            let properties = field(schema, "properties").and_then(Value::as_object);
            let additional = field(schema, "additionalProperties");
            for (key, child) in map {
                let child_path = join(&path, key);
                if let Some(child_schema) = properties.and_then(|p| p.get(key)) {
                    check(child_schema, child, child_path, structural, errors);
                } else if let Some(extra) = additional.filter(|a| a.is_object()) {
                    check(extra, child, child_path, structural, errors);
                } else if structural && !preserve && additional != Some(&Value::Bool(true)) {
                    errors.push(SchemaError {
                        path: child_path,
                        message: "unknown field".into(),
                    });
                }
            }
            check_count(
                schema,
                map.len(),
                "minProperties",
                "maxProperties",
                &path,
                errors,
            );
            check_required(schema, map, &path, errors);
        }
        Value::Array(items) => {
            if let Some(item_schema) = field(schema, "items").filter(|i| i.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    check(
                        item_schema,
                        item,
                        format!("{path}[{i}]"),
                        structural,
                        errors,
                    );
                }
            }
            check_count(schema, items.len(), "minItems", "maxItems", &path, errors);
        }
        Value::String(s) => {
            check_count(
                schema,
                s.chars().count(),
                "minLength",
                "maxLength",
                &path,
                errors,
            );
            check_string(schema, s, &path, errors);
        }
        Value::Number(_) => check_range(schema, value, &path, errors),
        _ => {}
    }
    if let Some(allowed) = field(schema, "enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            errors.push(SchemaError {
                path: path.clone(),
                message: format!("must be one of {}", list.join(", ")),
            });
        }
    }
    check_combinators(schema, value, &path, errors);
    // Rules only live in the structural part of a schema (structural schemas
    // forbid them under the combinators).
    if structural {
        if let Some(rules) = field(schema, "x-kubernetes-validations").and_then(Value::as_array) {
            check_rules(rules, value, &path, errors);
        }
    }
}

/// `pattern` (an RE2 expression, which the `regex` crate implements: both
/// guarantee linear time and share the syntax) and `format`.
fn check_string(schema: &Value, s: &str, path: &str, errors: &mut Vec<SchemaError>) {
    if let Some(pattern) = field(schema, "pattern").and_then(Value::as_str) {
        if matches_pattern(pattern, s) == Some(false) {
            errors.push(SchemaError {
                path: path.to_string(),
                message: format!("{s:?} does not match the pattern {pattern}"),
            });
        }
    }
    if let Some(format) = field(schema, "format").and_then(Value::as_str) {
        if let Some(expected) = formats::check(format, s) {
            errors.push(SchemaError {
                path: path.to_string(),
                message: format!("{s:?} is not {expected} (format {format})"),
            });
        }
    }
}

/// `None` when the pattern is not a valid expression (the API server refuses such
/// a CRD, so it never reaches an object).
fn matches_pattern(pattern: &str, s: &str) -> Option<bool> {
    compiled(pattern).ok().map(|re| re.is_match(s))
}

/// A regular expression, compiled once per process: schemas repeat patterns on
/// every object of a kind, and validation runs on short-lived threads (a cache
/// per thread was compiled again for every package of a monorepo).
fn compiled(pattern: &str) -> Result<regex::Regex, String> {
    static COMPILED: std::sync::LazyLock<
        std::sync::Mutex<HashMap<String, Result<regex::Regex, String>>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut compiled = COMPILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    compiled
        .entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).map_err(|e| e.to_string()))
        .clone()
}

fn check_combinators(schema: &Value, value: &Value, path: &str, errors: &mut Vec<SchemaError>) {
    let branch_errors = |branch: &Value| {
        let mut found = Vec::new();
        check(branch, value, path.to_string(), false, &mut found);
        found
    };
    for branch in field(schema, "allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        errors.extend(branch_errors(branch));
    }
    if let Some(negated) = field(schema, "not") {
        if branch_errors(negated).is_empty() {
            errors.push(SchemaError {
                path: path.to_string(),
                message: "matches a form that is not allowed (not)".into(),
            });
        }
    }
    if let Some(branches) = field(schema, "anyOf").and_then(Value::as_array) {
        if !branches.iter().any(|b| branch_errors(b).is_empty()) {
            errors.push(SchemaError {
                path: path.to_string(),
                message: "matches none of the allowed forms (anyOf)".into(),
            });
        }
    }
    if let Some(branches) = field(schema, "oneOf").and_then(Value::as_array) {
        let matching = branches
            .iter()
            .filter(|b| branch_errors(b).is_empty())
            .count();
        if matching != 1 {
            errors.push(SchemaError {
                path: path.to_string(),
                message: format!("must match exactly one allowed form (oneOf), matches {matching}"),
            });
        }
    }
}

fn check_count(
    schema: &Value,
    count: usize,
    min: &str,
    max: &str,
    path: &str,
    errors: &mut Vec<SchemaError>,
) {
    if let Some(limit) = field(schema, min).and_then(Value::as_u64) {
        if (count as u64) < limit {
            errors.push(SchemaError {
                path: path.to_string(),
                message: format!("{min} is {limit}, found {count}"),
            });
        }
    }
    if let Some(limit) = field(schema, max).and_then(Value::as_u64) {
        if count as u64 > limit {
            errors.push(SchemaError {
                path: path.to_string(),
                message: format!("{max} is {limit}, found {count}"),
            });
        }
    }
}

fn check_range(schema: &Value, value: &Value, path: &str, errors: &mut Vec<SchemaError>) {
    let Some(n) = value.as_f64() else { return };
    if let Some(min) = field(schema, "minimum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMinimum");
        if n < min || (exclusive && n == min) {
            errors.push(SchemaError {
                path: path.to_string(),
                message: format!("must be at least {min}, found {value}"),
            });
        }
    }
    if let Some(max) = field(schema, "maximum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMaximum");
        if n > max || (exclusive && n == max) {
            errors.push(SchemaError {
                path: path.to_string(),
                message: format!("must be at most {max}, found {value}"),
            });
        }
    }
    if let Some(step) = field(schema, "multipleOf").and_then(Value::as_f64) {
        if step > 0.0 && (n / step).fract() != 0.0 {
            errors.push(SchemaError {
                path: path.to_string(),
                message: format!("must be a multiple of {step}, found {value}"),
            });
        }
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("string {s:?}"),
        Value::Object(_) => "an object".into(),
        Value::Array(_) => "a list".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_unknown_wrong_and_missing_fields() {
        let schema = json!({"type": "object", "properties": {
        "spec": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"},
            "port": {"x-kubernetes-int-or-string": true},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "list": {"type": "array", "items": {"type": "integer", "minimum": 1}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}
        }}}});
        let object = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n"}, "spec": {
            "port": "http", "mode": "c", "list": [1, 0], "free": {"any": 1}, "labels": {"a": 1}, "extra": true}});
        let messages: Vec<String> = validate(&schema, &object)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            messages,
            vec![
                "spec.mode: must be one of \"a\", \"b\"",
                "spec.list[1]: must be at least 1, found 0",
                "spec.labels.a: expected a string, found 1",
                "spec.extra: unknown field",
                "spec.name: required field is missing",
            ]
        );
    }

    #[test]
    fn applies_one_of_branches_without_declaring_fields() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}}});
        assert!(validate(&schema, &json!({"spec": {"a": "x"}})).is_empty());
        assert_eq!(
            validate(&schema, &json!({"spec": {"a": "x", "b": "y"}}))[0].message,
            "must match exactly one allowed form (oneOf), matches 2"
        );
        let exclusive = json!({"type": "object", "properties": {"ref": {"type": "object",
            "properties": {"name": {"type": "string"}, "external": {"type": "string"}},
            "oneOf": [{"not": {"required": ["external"]}, "required": ["name"]},
                      {"not": {"anyOf": [{"required": ["name"]}]}, "required": ["external"]}]}}});
        assert!(validate(&exclusive, &json!({"ref": {"name": "x"}})).is_empty());
        assert!(!validate(&exclusive, &json!({"ref": {"name": "x", "external": "y"}})).is_empty());
    }

    /// The Gateway `spec.addresses` false alarm: a oneOf branch without
    /// `type: object` still checks the properties it lists, and `type` defaults to
    /// IPAddress before the branches are tried.
    #[test]
    fn one_of_branches_without_type_check_their_properties() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"addresses": {"type": "array", "items": {
                "type": "object",
                "properties": {"type": {"type": "string", "default": "IPAddress"},
                               "value": {"type": "string"}},
                "oneOf": [
                    {"properties": {"type": {"enum": ["IPAddress"]},
                                    "value": {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}}},
                    {"properties": {"type": {"not": {"enum": ["IPAddress"]}}}}]}}}}}});
        let object = |addresses: Value| json!({"spec": {"addresses": addresses}});
        assert_eq!(
            validate(
                &schema,
                &object(json!([{"type": "IPAddress", "value": "10.0.0.1"},
                               {"type": "Hostname", "value": "a.example"},
                               {"value": "fd00::1"}]))
            ),
            vec![]
        );
        let errors = validate(&schema, &object(json!([{"value": "not-an-ip"}])));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "spec.addresses[0]");
    }

    /// The API server defaults before it validates, and prunes nulls of fields
    /// that are not nullable (keda TriggerAuthentication `oauth2.type`, VSO
    /// `VaultConnection.skipTLSVerify`).
    #[test]
    fn defaults_and_nulls_before_validation() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "required": ["type", "skip"],
            "properties": {"type": {"type": "string", "default": "clientCredentials"},
                           "skip": {"type": "boolean", "default": false},
                           "optional": {"type": "string"},
                           "list": {"type": "array", "items": {"type": "string"}},
                           "maybe": {"type": "string", "nullable": true}}}}});
        assert_eq!(
            validate(
                &schema,
                &json!({"spec": {"optional": null, "skip": null, "maybe": null}})
            ),
            vec![]
        );
        let errors = validate(&schema, &json!({"spec": {"list": ["a", null]}}));
        assert_eq!(
            errors[0].to_string(),
            "spec.list[1]: null is not allowed here"
        );
    }

    #[test]
    fn checks_pattern_format_and_cel_rules() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"},
                           "ip": {"type": "string", "format": "ipv4"},
                           "port": {"type": "integer", "format": "int32"},
                           "min": {"type": "integer"}, "max": {"type": "integer"}},
            "x-kubernetes-validations": [
                {"rule": "self.min <= self.max", "message": "min must not exceed max"},
                {"rule": "self.min == oldSelf.min", "message": "immutable (update only)"}]}}});
        assert_eq!(
            validate(
                &schema,
                &json!({"spec": {"name": "abc", "ip": "10.0.0.1", "port": 80, "min": 1, "max": 2}})
            ),
            vec![]
        );
        let messages: Vec<String> = validate(
            &schema,
            &json!({"spec": {"name": "ABC", "ip": "10.0.0.300", "min": 3, "max": 2}}),
        )
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            messages,
            vec![
                "spec.name: \"ABC\" does not match the pattern ^[a-z]+$",
                "spec.ip: \"10.0.0.300\" is not an IPv4 address (format ipv4)",
                "spec: min must not exceed max",
            ]
        );
    }
}
