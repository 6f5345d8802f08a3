//! The JSON Schema, CustomResourceDefinition and reference page of every Lummo kind,
//! all generated from the Rust types (schemars) and their doc comments. `xtask
//! generate` writes them into the repository; the `lummo` CLI prints them.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Where editors fetch the published schemas (`schemas/lummo/<Kind>.json` on the
/// main branch): the `$schema` modelines `lummo init` writes and the catalog's URLs.
pub const SCHEMA_BASE: &str =
    "https://raw.githubusercontent.com/lummo/krm-functions/main/schemas/lummo";

/// A Lummo kind and where its documentation example comes from.
pub struct Kind {
    pub kind: &'static str,
    pub about: &'static str,
    /// A file under Kptfile.examples holding an example of the kind.
    pub example: Option<&'static str>,
    schema: fn() -> Value,
}

/// Every kind of every Lummo function, from their descriptors.
pub fn kinds() -> Vec<Kind> {
    lummo_validate::DESCRIPTORS
        .iter()
        .flat_map(|d| d.kinds)
        .map(|k| Kind {
            kind: k.kind,
            about: k.about,
            example: k.example,
            schema: k.schema,
        })
        .collect()
}

impl Kind {
    fn plural(&self) -> String {
        format!("{}s", self.kind.to_ascii_lowercase())
    }

    /// A JSON Schema of the whole object, for editors (yaml-language-server).
    pub fn json_schema(&self) -> Value {
        let mut spec = (self.schema)();
        let defs = spec
            .as_object_mut()
            .and_then(|m| m.shift_remove("$defs"))
            .unwrap_or(json!({}));
        if let Some(map) = spec.as_object_mut() {
            map.shift_remove("$schema");
            map.shift_remove("title");
        }
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": format!("https://lummo.dev/schemas/{}.json", self.kind),
            "title": self.kind,
            "description": self.about,
            "type": "object",
            "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {
                "apiVersion": { "const": lummo_core::API_VERSION },
                "kind": { "const": self.kind },
                "metadata": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": { "type": "string" },
                        "namespace": { "type": "string" },
                        "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                        "annotations": { "type": "object", "additionalProperties": { "type": "string" } },
                    },
                },
                "spec": spec,
            },
            "$defs": defs,
        })
    }

    /// A CustomResourceDefinition with a structural schema, so a cluster that
    /// installs it validates specs server-side too.
    pub fn crd(&self) -> Value {
        let root = (self.schema)();
        let defs = root
            .get("$defs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let spec = structural(&root, &defs);
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": { "name": format!("{}.{}", self.plural(), lummo_core::GROUP) },
            "spec": {
                "group": lummo_core::GROUP,
                "names": {
                    "kind": self.kind,
                    "listKind": format!("{}List", self.kind),
                    "plural": self.plural(),
                    "singular": self.kind.to_ascii_lowercase(),
                    "categories": ["lummo"],
                },
                "scope": "Namespaced",
                "versions": [{
                    "name": lummo_core::API_VERSION.split('/').nth(1).unwrap_or("v1alpha1"),
                    "served": true,
                    "storage": true,
                    "schema": { "openAPIV3Schema": {
                        "description": self.about,
                        "type": "object",
                        "required": ["spec"],
                        "properties": {
                            "apiVersion": { "type": "string" },
                            "kind": { "type": "string" },
                            "metadata": { "type": "object" },
                            "spec": spec,
                        },
                    }},
                }],
            },
        })
    }

    /// `docs/reference/<Kind>.md`.
    pub fn reference(&self) -> String {
        let schema = self.json_schema();
        let defs = schema
            .get("$defs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut rows = Vec::new();
        walk(
            &schema["properties"]["spec"],
            &defs,
            "spec",
            true,
            &mut rows,
        );
        let mut page = format!(
            "<!-- Generated by `make generate` from the Rust types; do not edit. -->\n# {}\n\n{}\n\n`apiVersion: {}` · `kind: {}` · JSON Schema: [`schemas/lummo/{}.json`](../../schemas/lummo/{}.json) · CRD: [`schemas/crds/{}.{}.yaml`](../../schemas/crds/{}.{}.yaml)\n\n\
             Editors with yaml-language-server validate and complete a spec file that starts with:\n\n```yaml\n# yaml-language-server: $schema={}/{}.json\n```\n\n\
             | field | type | required | default | allowed | description |\n|---|---|---|---|---|---|\n",
            self.kind, self.about, lummo_core::API_VERSION, self.kind, self.kind, self.kind,
            lummo_core::GROUP, self.plural(), lummo_core::GROUP, self.plural(), SCHEMA_BASE, self.kind
        );
        for row in rows {
            page.push_str(&row);
            page.push('\n');
        }
        if let Some(example) = self.example {
            if let Some(text) = example_text(example) {
                let body = text
                    .split("\n---\n")
                    .find(|doc| doc.contains(&format!("kind: {}\n", self.kind)))
                    .unwrap_or(&text)
                    .trim();
                page.push_str(&format!("\n## Example\n\nFrom [`{example}`](../../{example}):\n\n```yaml\n{body}\n```\n"));
            }
        }
        page
    }
}

include!(concat!(env!("OUT_DIR"), "/examples.rs"));

/// The text of an example file, embedded at build time (build.rs).
fn example_text(path: &str) -> Option<&'static str> {
    EXAMPLES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

/// Resolves a `$ref` to `#/$defs/<name>`.
fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        Some(name) => defs.get(name).map(|d| resolve(d, defs)).unwrap_or(schema),
        None => schema,
    }
}

/// The non-null alternative of `Option<T>` schemas, and whether null was allowed.
fn non_null<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> (&'a Value, bool) {
    let schema = resolve(schema, defs);
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let rest: Vec<&Value> = branches
                .iter()
                .filter(|b| b.get("type") != Some(&json!("null")))
                .collect();
            if rest.len() == 1 && rest.len() < branches.len() {
                return (resolve(rest[0], defs), true);
            }
        }
    }
    (schema, false)
}

/// A field's description: the field's own (on an `Option`'s `anyOf` when the
/// value type is inlined), else its type's.
fn description_of<'a>(field: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    field
        .get("description")
        .or_else(|| schema.get("description"))
}

/// The types of a scalar that takes several forms (`integer or string` for a port
/// given by number or name), or None when a branch is not a plain scalar.
fn scalar_types(schema: &Value, defs: &Map<String, Value>, types: &mut Vec<String>) -> Option<()> {
    let schema = resolve(schema, defs);
    match ["anyOf", "oneOf"].iter().find_map(|k| schema.get(*k)) {
        Some(branches) => {
            for branch in branches.as_array()? {
                scalar_types(branch, defs, types)?;
            }
        }
        None => {
            let kind = schema.get("type")?.as_str()?;
            if !matches!(kind, "string" | "integer" | "number" | "null") {
                return None;
            }
            if kind != "null" && !types.iter().any(|t| t == kind) {
                types.push(kind.to_string());
            }
        }
    }
    Some(())
}

/// The schema's type name, and its allowed values when it is an enumeration.
fn type_of(schema: &Value, defs: &Map<String, Value>) -> (String, Vec<String>) {
    if let Some(values) = enumeration(schema) {
        return ("string".into(), values);
    }
    let described = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" | "),
        _ if schema.get("anyOf").is_some() || schema.get("oneOf").is_some() => {
            let mut types = Vec::new();
            match scalar_types(schema, defs, &mut types) {
                Some(()) if !types.is_empty() => types.join(" or "),
                _ => "one of several forms".into(),
            }
        }
        _ => "any".into(),
    };
    (described, Vec::new())
}

/// Values of a unit enum: `enum`, or a `oneOf` of `const`s.
fn enumeration(schema: &Value) -> Option<Vec<String>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(
            values
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
        );
    }
    let branches = schema.get("oneOf").and_then(Value::as_array)?;
    branches
        .iter()
        .map(|b| b.get("const").and_then(Value::as_str).map(String::from))
        .collect()
}

fn walk(
    schema: &Value,
    defs: &Map<String, Value>,
    path: &str,
    required: bool,
    rows: &mut Vec<String>,
) {
    let outer = schema;
    let (schema, _) = non_null(schema, defs);
    let (kind, allowed) = type_of(schema, defs);
    let description = description_of(outer, schema)
        .and_then(Value::as_str)
        .unwrap_or("")
        .replace('\n', " ")
        .replace('|', "\\|");
    let default = schema
        .get("default")
        .filter(|d| !d.is_null())
        .map(|d| format!("`{d}`"))
        .unwrap_or_default();
    let allowed = if allowed.is_empty() {
        range(schema)
    } else {
        allowed
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if path != "spec" {
        rows.push(format!(
            "| `{path}` | {kind} | {} | {default} | {allowed} | {description} |",
            if required { "yes" } else { "" }
        ));
    }
    let required_fields: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            walk(
                child,
                defs,
                &format!("{path}.{name}"),
                required_fields.contains(&name.as_str()),
                rows,
            );
        }
    }
    if let Some(items) = schema.get("items") {
        let item = resolve(items, defs);
        if item.get("properties").is_some() {
            walk(item, defs, &format!("{path}[]"), false, rows);
        }
    }
    // `containers`: a list of containers, or one written as a map (same fields).
    for key in ["anyOf", "oneOf"] {
        for branch in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(items) = resolve(branch, defs).get("items") {
                let item = resolve(items, defs);
                if item.get("properties").is_some() {
                    walk(item, defs, &format!("{path}[]"), false, rows);
                }
            }
        }
    }
}

fn range(schema: &Value) -> String {
    match (schema.get("minimum"), schema.get("maximum")) {
        (Some(min), Some(max)) => format!("{min}–{max}"),
        (Some(min), None) => format!("≥ {min}"),
        (None, Some(max)) => format!("≤ {max}"),
        _ => String::new(),
    }
}

/// Turns a schemars schema into a Kubernetes structural schema: references
/// inlined, `nullable` for options, the `x-kubernetes-*` markers where a field
/// takes several shapes, and keywords the API server rejects removed.
fn structural(schema: &Value, defs: &Map<String, Value>) -> Value {
    let outer = schema;
    let (schema, nullable) = non_null(schema, defs);
    let mut out = Map::new();
    if let Some(description) = description_of(outer, schema) {
        out.insert("description".into(), description.clone());
    }
    if let Some(values) = enumeration(schema) {
        out.insert("type".into(), json!("string"));
        out.insert("enum".into(), json!(values));
    } else if schema.get("anyOf").is_some()
        || schema.get("oneOf").is_some()
        || schema.as_object().is_some_and(|m| m.get("type").is_none())
        || schema == &Value::Bool(true)
    {
        let branches: Vec<&Value> = ["anyOf", "oneOf"]
            .iter()
            .filter_map(|k| schema.get(*k))
            .filter_map(Value::as_array)
            .flatten()
            .map(|b| resolve(b, defs))
            .collect();
        let scalar = !branches.is_empty()
            && branches.iter().all(|b| {
                matches!(
                    b.get("type").and_then(Value::as_str),
                    Some("string" | "number" | "integer")
                )
            });
        if scalar {
            out.insert("x-kubernetes-int-or-string".into(), json!(true));
        } else {
            out.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
        }
    } else {
        let kind = match schema.get("type") {
            Some(Value::Array(types)) => types
                .iter()
                .find(|t| *t != "null")
                .cloned()
                .unwrap_or(json!("string")),
            Some(t) => t.clone(),
            None => json!("object"),
        };
        out.insert("type".into(), kind.clone());
        match kind.as_str() {
            Some("object") => {
                if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                    let converted: Map<String, Value> = properties
                        .iter()
                        .map(|(k, v)| (k.clone(), structural(v, defs)))
                        .collect();
                    out.insert("properties".into(), Value::Object(converted));
                    if let Some(required) = schema.get("required") {
                        out.insert("required".into(), required.clone());
                    }
                } else {
                    match schema.get("additionalProperties") {
                        Some(extra) if extra.is_object() && extra.get("type").is_some() => {
                            out.insert("additionalProperties".into(), structural(extra, defs));
                        }
                        _ => {
                            out.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
                        }
                    }
                }
            }
            Some("array") => {
                let items = schema
                    .get("items")
                    .map(|i| structural(i, defs))
                    .unwrap_or(json!({ "x-kubernetes-preserve-unknown-fields": true }));
                out.insert("items".into(), items);
            }
            Some("integer") => {
                let format = match schema.get("format").and_then(Value::as_str) {
                    Some("int32" | "uint16" | "uint8" | "int16" | "int8") => "int32",
                    _ => "int64",
                };
                out.insert("format".into(), json!(format));
            }
            _ => {}
        }
        for key in [
            "minimum",
            "maximum",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "pattern",
        ] {
            if let Some(value) = schema.get(key) {
                out.insert(key.into(), value.clone());
            }
        }
        if let Some(default) = schema.get("default").filter(|d| !d.is_null()) {
            out.insert("default".into(), default.clone());
        }
    }
    if let Some(rules) = schema.get("x-kubernetes-validations") {
        out.insert("x-kubernetes-validations".into(), rules.clone());
    }
    if nullable {
        out.insert("nullable".into(), json!(true));
    }
    Value::Object(out)
}

/// Every generated file, by path relative to the repository root.
/// File names the catalog associates with a kind: `<anything>.<kind, lowercase>.yaml`
/// (e.g. `shop.lummodeployment.yaml`), for files without a modeline.
pub fn file_match(kind: &str) -> Vec<String> {
    let lower = kind.to_ascii_lowercase();
    ["yaml", "yml"]
        .iter()
        .flat_map(|ext| [format!("*.{lower}.{ext}"), format!("**/*.{lower}.{ext}")])
        .collect()
}

/// `schemas/catalog.json`: a schema catalog in SchemaStore's format
/// (https://json.schemastore.org/schema-catalog.json: `$schema`, `version`, and
/// `schemas` of `name`, `description`, `url`, `fileMatch`), which
/// yaml-language-server reads from its `yaml.schemaStore.url` setting.
pub fn catalog() -> Value {
    let schemas: Vec<Value> = kinds()
        .iter()
        .map(|k| {
            json!({
                "name": k.kind,
                "description": k.about,
                "fileMatch": file_match(k.kind),
                "url": format!("{SCHEMA_BASE}/{}.json", k.kind),
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/schema-catalog.json",
        "version": 1,
        "schemas": schemas,
    })
}

/// Every generated file (path from the repository root, text).
pub fn generated_files() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut catalog = serde_json::to_string_pretty(&catalog()).expect("values serialize");
    catalog.push('\n');
    files.insert("schemas/catalog.json".to_string(), catalog);
    files.insert("crates/lummo-core/src/kinds.rs".to_string(), core_kinds());
    for kind in kinds() {
        let mut schema =
            serde_json::to_string_pretty(&kind.json_schema()).expect("values serialize");
        schema.push('\n');
        files.insert(format!("schemas/lummo/{}.json", kind.kind), schema);
        let crd = format!(
            "# Generated by `make generate` from the Rust types; do not edit.\n{}",
            krm_sdk::yaml::to_string(&kind.crd())
        );
        files.insert(
            format!("schemas/crds/{}.{}.yaml", lummo_core::GROUP, kind.plural()),
            crd,
        );
        files.insert(format!("docs/reference/{}.md", kind.kind), kind.reference());
    }
    files
}

/// `lummo_core::KINDS` and `CONFIG_KINDS`, from the registry: every function
/// recognises a typo of any Lummo kind, yet a function's binary links no other
/// function, so the list is generated into lummo-core like the schemas.
fn core_kinds() -> String {
    let declared = lummo_validate::DESCRIPTORS.iter().flat_map(|d| d.kinds);
    let list = |kinds: &mut dyn Iterator<Item = &lummo_core::descriptor::KindDoc>| {
        kinds
            .map(|k| format!("    {:?},\n", k.kind))
            .collect::<String>()
    };
    format!(
        "//! Every Lummo kind, generated by `make generate` from the registry\n\
         //! (`lummo_validate::DESCRIPTORS`); do not edit.\n\n\
         /// Every Lummo kind of every function, in the registry's order: a spec no\n\
         /// function reads is a silent no-op whose generated objects get pruned, so\n\
         /// every function reports a kind that is not one of these.\n\
         pub const KINDS: &[&str] = &[\n{}];\n\n\
         /// The kinds that are a function's typed functionConfig rather than a spec.\n\
         pub const CONFIG_KINDS: &[&str] = &[\n{}];\n",
        list(&mut declared.clone()),
        list(&mut declared.filter(|k| k.function_config)),
    )
}

#[cfg(test)]
mod catalog_rules {
    /// The fields SchemaStore's catalog schema requires (schema-catalog.json:
    /// `required: [schemas, version, $schema]`, each schema `[name, url,
    /// description]`, url `^https://`, fileMatch unique), and every URL names a
    /// schema the repository publishes.
    #[test]
    fn catalog_follows_schemastore_and_points_at_published_schemas() {
        let catalog = super::catalog();
        assert_eq!(
            catalog["$schema"],
            "https://json.schemastore.org/schema-catalog.json"
        );
        assert!(catalog["version"].is_number());
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let schemas = catalog["schemas"].as_array().unwrap();
        assert_eq!(schemas.len(), super::kinds().len());
        let mut patterns = std::collections::BTreeSet::new();
        for entry in schemas {
            let object = entry.as_object().unwrap();
            for key in object.keys() {
                assert!(
                    ["name", "description", "url", "fileMatch", "versions"].contains(&key.as_str()),
                    "{key}"
                );
            }
            let url = entry["url"].as_str().unwrap();
            assert!(url.starts_with("https://"), "{url}");
            assert!(!entry["description"].as_str().unwrap().is_empty());
            let file = url
                .strip_prefix(&format!("{}/", super::SCHEMA_BASE))
                .unwrap();
            assert!(
                root.join("schemas/lummo").join(file).is_file(),
                "{file} not published"
            );
            for pattern in entry["fileMatch"].as_array().unwrap() {
                // One kind per pattern: an editor must not be left to choose.
                assert!(
                    patterns.insert(pattern.as_str().unwrap().to_string()),
                    "{pattern} twice"
                );
            }
        }
    }
}

#[cfg(test)]
mod kind_list {
    /// `lummo_core::KINDS`, which every function checks kinds against, is the
    /// generated list of the registry's kinds as compiled (`make generate` is
    /// what a new kind needs), and `is_spec_kind` tells specs from configs as
    /// the declarations do.
    #[test]
    fn core_kinds_are_the_functions_kinds() {
        let declared = lummo_validate::DESCRIPTORS.iter().flat_map(|d| d.kinds);
        let names: Vec<&str> = declared.clone().map(|k| k.kind).collect();
        assert_eq!(names, lummo_core::KINDS, "run `make generate`");
        for kind in declared {
            assert_eq!(
                lummo_core::is_spec_kind(kind.kind),
                !kind.function_config,
                "{}",
                kind.kind
            );
        }
        assert_eq!(lummo_core::DRAFT_KINDS, [lummo_pgbouncer::LITERAL_KIND]);
    }
}
