//! What several catalog functions share: reading a functionConfig, walking
//! kustomize-style field specs, and the cluster-scoped kinds.

use krm_sdk::{ObjectExt, ResultItem, Value};
use serde_json::Map;

/// The functionConfig's kind and body, as the catalog's functions accept them:
/// a ConfigMap's `data`, or a typed kind whose fields sit at the top level.
pub enum Config<'a> {
    /// No functionConfig, or kpt's empty placeholder.
    None,
    ConfigMap(&'a Map<String, Value>),
    Typed(&'a Value),
}

static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();

/// Classifies the functionConfig; `kind` is the function's typed kind
/// (`SetNamespace`, ...). Any other kind is an error naming both accepted ones.
pub fn config<'a>(fc: Option<&'a Value>, kind: &str) -> Result<Config<'a>, ResultItem> {
    let Some(fc) = fc else {
        return Ok(Config::None);
    };
    match fc.kind() {
        // `kpt fn render` passes `{}` for a step without config.
        "" if fc.as_object().is_none_or(|m| m.is_empty()) => Ok(Config::None),
        "ConfigMap" => Ok(Config::ConfigMap(
            fc.get("data")
                .and_then(Value::as_object)
                .unwrap_or_else(|| EMPTY.get_or_init(Map::new)),
        )),
        k if k == kind => Ok(Config::Typed(fc)),
        other => Err(ResultItem::error(format!(
            "unknown functionConfig Kind={other} ApiVersion={}, expect `ConfigMap.v1` or `{kind}.v1alpha1.fn.kpt.dev`",
            fc.api_version()
        ))
        .for_object(fc)),
    }
}

/// A string-to-string map field of a typed config; an error names the field.
pub fn string_map(fc: &Value, field: &str) -> Result<Vec<(String, String)>, ResultItem> {
    let Some(value) = fc.get(field) else {
        return Ok(Vec::new());
    };
    if value.is_null() {
        return Ok(Vec::new());
    }
    let Some(map) = value.as_object() else {
        return Err(ResultItem::error(format!(
            "`{field}` must be a mapping of strings, found {}",
            krm_sdk::resource_list::type_name(value)
        ))
        .for_object(fc)
        .field(field));
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
            other => Err(ResultItem::error(format!(
                "`{field}.{k}` must be a string, found {}",
                krm_sdk::resource_list::type_name(other)
            ))
            .for_object(fc)
            .field(format!("{field}.{k}"))),
        })
        .collect()
}

/// Rejects fields of a typed config that the function does not know, with a
/// suggestion, as the catalog's strict decoding does.
pub fn check_fields(fc: &Value, known: &[&str]) -> Result<(), ResultItem> {
    let Some(map) = fc.as_object() else {
        return Ok(());
    };
    for key in map.keys() {
        if ["apiVersion", "kind", "metadata"].contains(&key.as_str())
            || known.contains(&key.as_str())
        {
            continue;
        }
        let hint = krm_sdk::decode::suggest(key, known.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| format!("; known fields: {}", known.join(", ")));
        return Err(
            ResultItem::error(format!("unknown field `{key}` in {}{hint}", fc.kind()))
                .for_object(fc)
                .field(key.clone()),
        );
    }
    Ok(())
}

/// `group` and `version` of an apiVersion.
pub fn group_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// A kustomize field spec: where in which kinds a transformer writes.
/// (sigs.k8s.io/kustomize/api/types/fieldspec.go)
#[derive(Debug, Clone, Default)]
pub struct FieldSpec {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub path: String,
    pub create: bool,
}

impl FieldSpec {
    pub fn matches(&self, object: &Value) -> bool {
        let (group, version) = group_version(object.api_version());
        (self.kind.is_empty() || self.kind == object.kind())
            && (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
    }

    /// Reads `additionalXFields` entries of a typed config.
    pub fn list(fc: &Value, field: &str) -> Result<Vec<FieldSpec>, ResultItem> {
        let Some(list) = fc.get(field).filter(|v| !v.is_null()) else {
            return Ok(Vec::new());
        };
        let Some(list) = list.as_array() else {
            return Err(
                ResultItem::error(format!("`{field}` must be a list of field specs"))
                    .for_object(fc)
                    .field(field),
            );
        };
        let mut specs = Vec::new();
        for (i, entry) in list.iter().enumerate() {
            let known = ["group", "version", "kind", "path", "create"];
            if let Some(map) = entry.as_object() {
                if let Some(key) = map.keys().find(|k| !known.contains(&k.as_str())) {
                    let hint = krm_sdk::decode::suggest(key, known)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    return Err(ResultItem::error(format!("unknown field `{key}`{hint}"))
                        .for_object(fc)
                        .field(format!("{field}[{i}].{key}")));
                }
            }
            let text = |k: &str| {
                entry
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let spec = FieldSpec {
                group: text("group"),
                version: text("version"),
                kind: text("kind"),
                path: text("path"),
                create: entry
                    .get("create")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            };
            if spec.path.is_empty() {
                return Err(ResultItem::error("a field spec needs a `path`")
                    .for_object(fc)
                    .field(format!("{field}[{i}].path")));
            }
            specs.push(spec);
        }
        Ok(specs)
    }
}

/// A field spec written in the source.
#[derive(Debug, Clone, Copy)]
pub struct StaticSpec {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub path: &'static str,
    pub create: bool,
}

impl StaticSpec {
    pub const fn new(kind: &'static str, path: &'static str, create: bool) -> Self {
        StaticSpec {
            group: "",
            version: "",
            kind,
            path,
            create,
        }
    }

    pub const fn group(mut self, group: &'static str) -> Self {
        self.group = group;
        self
    }
    pub const fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }
    pub fn to_spec(self) -> FieldSpec {
        FieldSpec {
            group: self.group.into(),
            version: self.version.into(),
            kind: self.kind.into(),
            path: self.path.into(),
            create: self.create,
        }
    }
}

/// Visits the node at a kustomize path (`a/b/c`, `list[]/x`; a list met on the
/// way is walked element by element, as kustomize's fsslice does). With
/// `create`, missing mappings on the way are created.
pub fn visit_path(node: &mut Value, path: &str, create: bool, f: &mut dyn FnMut(&mut Value)) {
    visit_path_at(node, path, create, &mut |node, _| f(node));
}

/// [`visit_path`], `f` also given the visited node's field path as kyaml's
/// `RNode.FieldPath` has it: the keys walked from the object, or from the
/// nearest list element (kyaml starts an element's path afresh).
pub fn visit_path_at(
    node: &mut Value,
    path: &str,
    create: bool,
    f: &mut dyn FnMut(&mut Value, &[&str]),
) {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    visit(node, &segments, create, &mut Vec::new(), f);
}

fn visit<'a>(
    node: &mut Value,
    segments: &[&'a str],
    create: bool,
    walked: &mut Vec<&'a str>,
    f: &mut dyn FnMut(&mut Value, &[&str]),
) {
    if let Value::Array(items) = node {
        for item in items {
            visit(item, segments, create, &mut Vec::new(), f);
        }
        return;
    }
    let Some((first, rest)) = segments.split_first() else {
        f(node, walked);
        return;
    };
    let key = first.strip_suffix("[]").unwrap_or(first);
    let Some(map) = node.as_object_mut() else {
        return;
    };
    if !map.contains_key(key) || map.get(key).is_some_and(Value::is_null) {
        if !create || first.ends_with("[]") {
            return;
        }
        let fresh = if rest.is_empty() {
            Value::Null
        } else {
            Value::Object(Map::new())
        };
        map.insert(key.to_string(), fresh);
    }
    let child = map.get_mut(key).expect("inserted above");
    walked.push(key);
    visit(child, rest, create, walked, f);
    walked.pop();
}

/// A string as Go's `%q` (`strconv.Quote`) writes it: in double quotes, `"`
/// and `\` escaped, control characters as `\n`, `\t`... or `\xNN` / `\uNNNN`.
pub fn go_quote(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Sets the entries of a string map in sorted key order, creating the map when it
/// is null; existing keys keep their place (kyaml's SetField).
pub fn set_entries(node: &mut Value, entries: &[(String, String)]) {
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    let Some(map) = node.as_object_mut() else {
        return;
    };
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort();
    for (k, v) in sorted {
        match map.get_mut(k) {
            Some(existing) => *existing = Value::String(v.clone()),
            None => {
                map.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
}

/// Kinds that are cluster-scoped in Kubernetes (and kpt's own kinds, which have
/// no namespace); what kustomize and the catalog's SDK treat as such.
pub const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "StorageClass",
    "SubjectAccessReview",
    "TokenReview",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

pub fn is_cluster_scoped_kind(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}
