//! Accessors for KRM objects held as `serde_json::Value`, and the annotations kpt uses.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Annotation keys of the KRM Functions Specification and kpt.
pub mod annotations {
    /// File of the object, relative to the package root.
    pub const PATH: &str = "internal.config.kubernetes.io/path";
    /// Position of the object among the documents of its file.
    pub const INDEX: &str = "internal.config.kubernetes.io/index";
    /// Older spelling of [`PATH`] that kpt still writes and checks.
    pub const LEGACY_PATH: &str = "config.kubernetes.io/path";
    /// Older spelling of [`INDEX`] that kpt still writes and checks.
    pub const LEGACY_INDEX: &str = "config.kubernetes.io/index";
    /// Id kpt uses to copy comments back onto objects a function returns.
    pub const ID: &str = "config.k8s.io/id";
    /// The package an object belongs to, as kpt sets it while rendering nested
    /// packages; kpt makes `PATH` relative to that package.
    pub const PACKAGE_PATH: &str = "internal.config.kubernetes.io/package-path";
    /// Marks configuration that tools read but clusters never receive.
    pub const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";
}

/// An annotation kpt adds to objects while it renders and removes before it writes
/// them: where an object came from (`config.kubernetes.io/index`, `.../path`,
/// `config.k8s.io/id`) and everything under `internal.config.kubernetes.io/` or
/// `internal.config.k8s.io/`.
pub fn is_kpt_annotation(key: &str) -> bool {
    key == annotations::LEGACY_PATH
        || key == annotations::LEGACY_INDEX
        || key == annotations::ID
        || key.starts_with("internal.config.kubernetes.io/")
        || key.starts_with("internal.config.k8s.io/")
}

pub fn has_kpt_annotations(object: &Value) -> bool {
    object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|m| m.keys().any(|k| is_kpt_annotation(k)))
}

/// The object without kpt's annotations; an `annotations` mapping (and then a
/// `metadata` mapping) that held nothing else goes too, as it was not there before
/// kpt added them.
pub fn without_kpt_annotations(object: &Value) -> Value {
    without_kpt_annotations_owned(object.clone())
}

/// [`without_kpt_annotations`] of an object the caller gives up.
pub fn without_kpt_annotations_owned(mut object: Value) -> Value {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return object;
    };
    let Some(map) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    else {
        return object;
    };
    let before = map.len();
    map.retain(|key, _| !is_kpt_annotation(key));
    if map.is_empty() && before > 0 {
        metadata.shift_remove("annotations");
        if metadata.is_empty() {
            object.as_object_mut().map(|o| o.shift_remove("metadata"));
        }
    }
    object
}

/// Identifies an object, as `resourceRef` of a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    // kpt's Go struct reads a missing or null field as empty: a function may point
    // at a kustomization, which has no apiVersion.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub api_version: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub kind: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub name: String,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
}

/// A string field that may be `null`, read as empty.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// Where an object lives in the package, as `file` of a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FileRef {
    /// May be absent, as kpt's (`omitempty`): the TypeScript SDK's results of an
    /// object without a path annotation have `file: {}`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub index: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Read and write access to the parts of a KRM object every function touches.
pub trait ObjectExt {
    fn api_version(&self) -> &str;
    fn kind(&self) -> &str;
    fn name(&self) -> &str;
    fn namespace(&self) -> &str;
    fn annotation(&self, key: &str) -> Option<&str>;
    fn label(&self, key: &str) -> Option<&str>;
    /// Sets an annotation, creating `metadata.annotations` as needed.
    fn set_annotation(&mut self, key: &str, value: &str);
    fn remove_annotation(&mut self, key: &str);
    fn resource_ref(&self) -> ResourceRef;
    /// The file and index kpt gave the object, if any.
    fn file_ref(&self) -> Option<FileRef>;
    /// Whether the object is marked `config.kubernetes.io/local-config: "true"`.
    fn is_local_config(&self) -> bool;
}

/// The field `key` of a mapping, as `Value::get`. An object's mappings are small
/// (a handful of top-level keys, of `metadata`'s, of its annotations): comparing
/// the keys costs less than hashing the one wanted (serde_json's maps hash every
/// lookup with SipHash), and these accessors run millions of times in a render.
pub fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    /// Beyond this many keys, hashing wins.
    const SCAN: usize = 16;
    let map = value.as_object()?;
    if map.len() > SCAN {
        return map.get(key);
    }
    map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
}

fn meta_str<'a>(value: &'a Value, name: &str) -> &'a str {
    field(value, "metadata")
        .and_then(|m| field(m, name))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn string_map_entry<'a>(value: &'a Value, map: &str, key: &str) -> Option<&'a str> {
    field(field(field(value, "metadata")?, map)?, key)?.as_str()
}

impl ObjectExt for Value {
    fn api_version(&self) -> &str {
        field(self, "apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    fn kind(&self) -> &str {
        field(self, "kind").and_then(Value::as_str).unwrap_or("")
    }

    fn name(&self) -> &str {
        meta_str(self, "name")
    }

    fn namespace(&self) -> &str {
        meta_str(self, "namespace")
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        string_map_entry(self, "annotations", key)
    }

    fn label(&self, key: &str) -> Option<&str> {
        string_map_entry(self, "labels", key)
    }

    fn set_annotation(&mut self, key: &str, value: &str) {
        let Some(object) = self.as_object_mut() else {
            return;
        };
        let metadata = object
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !metadata.is_object() {
            *metadata = Value::Object(Map::new());
        }
        let annotations = metadata
            .as_object_mut()
            .expect("metadata was made an object above")
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        annotations
            .as_object_mut()
            .expect("annotations was made an object above")
            .insert(key.to_string(), Value::String(value.to_string()));
    }

    fn remove_annotation(&mut self, key: &str) {
        let annotations = self
            .get_mut("metadata")
            .and_then(|m| m.get_mut("annotations"))
            .and_then(Value::as_object_mut);
        if let Some(annotations) = annotations {
            annotations.shift_remove(key);
        }
    }

    fn resource_ref(&self) -> ResourceRef {
        ResourceRef {
            api_version: self.api_version().to_string(),
            kind: self.kind().to_string(),
            name: self.name().to_string(),
            namespace: self.namespace().to_string(),
        }
    }

    fn file_ref(&self) -> Option<FileRef> {
        let path = self
            .annotation(annotations::PATH)
            .or_else(|| self.annotation(annotations::LEGACY_PATH))?;
        let index = self
            .annotation(annotations::INDEX)
            .or_else(|| self.annotation(annotations::LEGACY_INDEX))
            .and_then(|i| i.parse().ok())
            .unwrap_or(0);
        Some(FileRef {
            path: path.to_string(),
            index,
        })
    }

    fn is_local_config(&self) -> bool {
        self.annotation(annotations::LOCAL_CONFIG) == Some("true")
    }
}

/// Sets both spellings of the path and index annotations, which kpt requires to agree.
pub fn set_file(object: &mut Value, file: &FileRef) {
    let index = file.index.to_string();
    object.set_annotation(annotations::LEGACY_PATH, &file.path);
    object.set_annotation(annotations::LEGACY_INDEX, &index);
    object.set_annotation(annotations::PATH, &file.path);
    object.set_annotation(annotations::INDEX, &index);
}

/// Marks an object as local configuration, so `kpt live apply`, kustomize and the
/// `lummo render` output leave it out of the cluster.
pub fn set_local_config(object: &mut Value) {
    object.set_annotation(annotations::LOCAL_CONFIG, "true");
}
