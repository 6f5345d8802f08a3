//! Lummo conventions shared by every function: the API group of Lummo kinds, how
//! specs are found and decoded, ownership of generated objects, labels, name rules
//! and the restricted pod-security defaults of generated pods.
//!
//! It builds on `krm-sdk` and holds no function's own kinds.

pub mod descriptor;
pub mod duration;
pub mod function;
mod kinds;
pub mod names;
pub mod origins;
pub mod pod;
pub mod port;
pub mod quantity;
pub mod resources;
pub mod scalar;
#[cfg(feature = "testing")]
pub mod testing;

pub use kinds::{CONFIG_KINDS, KINDS};

/// ARCHITECTURE.md, whose worked example of a function ("Adding a function") is
/// compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../ARCHITECTURE.md")]
pub struct ArchitectureExample;

use krm_sdk::{decode, Generated, Generator, Map, ObjectExt, ResourceList, ResultItem, Value};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// API group and version of every Lummo kind.
pub const GROUP: &str = "lummo.dev";
pub const API_VERSION: &str = "lummo.dev/v1alpha1";
/// Annotation that marks an object as generated, naming function and spec.
pub const GENERATED_BY: &str = "lummo.dev/generated-by";
/// The hash of a generated object as its function emitted it
/// (`krm_sdk::generate::content_hash`): `lummo render` compares it with the next
/// emission to tell a hand edit of a generated file from a spec change.
pub const GENERATED_HASH: &str = "lummo.dev/generated-hash";
/// Tag of results that depend on a function's own functionConfig; lummo-validate,
/// which runs without it, leaves them to the function.
pub const NEEDS_CONFIG_TAG: &str = "lummo.dev/needs-function-config";
/// Argo CD's sync-wave annotation. Argo CD applies a sync phase wave by wave and
/// starts a wave only when every resource of the earlier ones is synced and
/// healthy (argo-cd docs/user-guide/sync-waves.md; gitops-engine
/// pkg/sync/sync_tasks.go orders by phase, wave, kind, name). Unannotated objects
/// (ConfigMaps, Secrets, pgbouncer, the Vault secrets) are in wave 0.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// Wave of what hooks use and no spec orders otherwise: a LummoDeployment's
/// ServiceAccount, which its LummoJobs may run as.
pub const CONFIG_WAVE: &str = "0";
/// Wave of LummoJobs: after the configuration, the secrets and pgbouncer they use.
pub const JOB_WAVE: &str = "1";
/// Wave of a LummoDeployment's objects: after its migration.
pub const APP_WAVE: &str = "2";

/// Sets `metadata.annotations[key]` of a generated object.
/// The fix for a setting a spec needs and `function`'s config lacks: the key, the
/// config kind it goes in, and the Kptfile line that gives the step its config
/// (`configPath: <name>-config.yaml`), so the reader needs no other page.
pub fn set_in_config(function: &str, kind: &str, key: &str, example: &str) -> String {
    let file = format!("{}-config.yaml", function.trim_start_matches("lummo-"));
    format!(
        "set `{key}` in {function}'s functionConfig (kind {kind}, `spec: {{{key}: {example}}}`, or a ConfigMap with the key under `data`); in a Kptfile give the {function} step `configPath: {file}`"
    )
}

pub fn annotate(object: &mut Value, key: &str, value: &str) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(key.into(), Value::String(value.into()));
    }
}

/// The app a generated job or pooler belongs to; no selector uses it, so it
/// groups objects without making their pods match the app's selectors.
pub const APP_LABEL: &str = "lummo.dev/app";
/// Value of `app.kubernetes.io/managed-by` on generated objects.
pub const MANAGED_BY: &str = "lummo-krm-functions";

/// The ownership marker of a Lummo function.
pub const fn generator(function: &'static str) -> Generator {
    Generator {
        annotation: GENERATED_BY,
        hash_annotation: GENERATED_HASH,
        function,
    }
}

/// A decoded spec and the object it came from.
#[derive(Debug, Clone)]
pub struct Spec<T> {
    pub object: Value,
    pub spec: T,
}

impl<T> Spec<T> {
    /// An error result about `spec.<field>` of this spec.
    pub fn error(&self, field: &str, message: impl Into<String>) -> ResultItem {
        ResultItem::error(message)
            .for_object(&self.object)
            .field(function::spec_path(field))
    }

    pub fn warning(&self, field: &str, message: impl Into<String>) -> ResultItem {
        ResultItem::warning(message)
            .for_object(&self.object)
            .field(function::spec_path(field))
    }

    pub fn name(&self) -> &str {
        self.object.name()
    }
}

/// Whether `kind` is a Lummo spec kind rather than a function's typed config.
pub fn is_spec_kind(kind: &str) -> bool {
    KINDS.contains(&kind) && !CONFIG_KINDS.contains(&kind)
}

/// Kinds of the product README's draft forms (`apiVersion: LummoKRM`, `kind:
/// pgbouncer`) that a function reads and answers with a warning; not suggested.
pub const DRAFT_KINDS: [&str; 1] = ["pgbouncer"];

fn lowercase_kinds() -> &'static [String] {
    static LOWERCASE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LOWERCASE.get_or_init(|| KINDS.iter().map(|k| k.to_ascii_lowercase()).collect())
}

/// Whether `object` claims to be a Lummo spec: its apiVersion is in the `lummo.dev`
/// group, or its kind starts with `Lummo` (any case) or is a near-miss of one.
pub fn looks_like_lummo(object: &Value) -> bool {
    let group = object.api_version().split('/').next().unwrap_or("");
    if group.eq_ignore_ascii_case(GROUP) {
        return true;
    }
    let kind = object.kind().to_ascii_lowercase();
    // Two edits: `LumoDeployment`, `LummoDeploymnet`; no Kubernetes kind is that
    // close to a Lummo kind (`Deployment` is five edits from `LummoDeployment`).
    kind.starts_with("lummo")
        || lowercase_kinds().iter().any(|k| {
            // The distance is at least the difference in length: skip the
            // computation for most kinds (validate asks this of every object).
            k.len().abs_diff(kind.len()) <= 2 && decode::edit_distance_within(&kind, k, 2).is_some()
        })
}

/// Error results for every object (and the functionConfig) that looks like a Lummo
/// spec but that no function would read: an unknown kind, or a known kind with a
/// missing, foreign or unknown apiVersion. Every function reports them, so a typo
/// never silently prunes what the spec generated before.
pub fn check_kinds(list: &ResourceList) -> Vec<ResultItem> {
    let items = list.items.iter().map(|item| item.value());
    let mut results = Vec::new();
    for object in items.chain(list.function_config.as_ref()) {
        if let Some(result) = check_kind(object) {
            results.push(result);
        }
    }
    results
}

fn check_kind(object: &Value) -> Option<ResultItem> {
    let kind = object.kind();
    let api_version = object.api_version();
    if DRAFT_KINDS.contains(&kind) || !looks_like_lummo(object) {
        return None;
    }
    if !KINDS.contains(&kind) {
        let mut result = ResultItem::error(format!(
            "unknown Lummo kind `{kind}`: no Lummo function reads it, so it generates nothing{}",
            match decode::suggest(kind, KINDS.iter().copied()) {
                Some(best) => format!("; did you mean `{best}`?"),
                None => format!("; the Lummo kinds are {}", KINDS.join(", ")),
            }
        ))
        .for_object(object)
        .field("kind");
        if let Some(best) = decode::suggest(kind, KINDS.iter().copied()) {
            result = result.proposed_value(Value::String(best.into()));
        }
        return Some(result);
    }
    if api_version == API_VERSION {
        return None;
    }
    let found = if api_version.is_empty() {
        "no apiVersion".to_string()
    } else {
        format!("`{api_version}`")
    };
    Some(
        ResultItem::error(format!(
            "{kind} needs `apiVersion: {API_VERSION}`, found {found}"
        ))
        .for_object(object)
        .field("apiVersion")
        .proposed_value(Value::String(API_VERSION.into())),
    )
}

/// The spec objects of `kind`: the items of that kind, and the functionConfig when
/// it is of that kind (kustomize's KRM plugin mode passes the spec there). One with
/// another apiVersion is not a spec; [`check_kinds`] reports it.
pub fn spec_objects(list: &ResourceList, kind: &str) -> Vec<Value> {
    let is_spec = |object: &&Value| object.kind() == kind && object.api_version() == API_VERSION;
    let items = list.items.iter().map(|item| item.value()).filter(is_spec);
    let config = list.function_config.as_ref().filter(is_spec);
    items.chain(config).cloned().collect()
}

/// Checks the name of a spec object and strictly decodes its `spec` (the apiVersion
/// is [`check_kinds`]' business), with every problem at once: see
/// [`krm_sdk::decode::decode_all`]. The spec is `Some` when it decodes without its
/// offending fields; each problem's result covers its field (see [`settle`]).
pub fn decode_spec<T: DeserializeOwned + JsonSchema>(
    object: &Value,
    kind: &str,
) -> (Option<T>, Vec<ResultItem>) {
    let mut problems = Vec::new();
    if object.name().is_empty() {
        problems.push(
            ResultItem::error(format!("{kind} needs `metadata.name`"))
                .for_object(object)
                .field("metadata.name"),
        );
    } else if let Err(message) = names::dns_label(object.name()) {
        problems.push(
            ResultItem::error(message)
                .for_object(object)
                .field("metadata.name"),
        );
    }
    let Some(spec) = object.get("spec") else {
        problems.push(
            ResultItem::error(format!("{kind} needs a `spec`"))
                .for_object(object)
                .field("spec"),
        );
        return (None, problems);
    };
    let schema = || Some(descriptor::schema_of::<T>());
    let (decoded, errors) = decode::decode_all(spec, &schema);
    for error in errors {
        let covered = match error.covers.as_deref().unwrap_or(&error.path) {
            "" => "spec".to_string(),
            path => format!("spec.{path}"),
        };
        problems.push(covers(error.into_result(object, "spec"), &covered));
    }
    (decoded, problems)
}

/// Internal tag of a result whose problem makes every other result about the same
/// object at or under the tag's field path a consequence (a field removed before
/// decoding, a container whose template could not be merged). [`settle`] drops those
/// and the tag.
const COVERS_TAG: &str = "internal.lummo.dev/covers";

/// `result`, marked as covering `path` of its object (see [`settle`]).
pub fn covers(result: ResultItem, path: &str) -> ResultItem {
    result.tag(COVERS_TAG, path)
}

/// Drops the results that are consequences of a covering result (see [`covers`]):
/// about the same object, at or under its path, reported after it. Every function
/// that decodes specs calls it on its results before it returns.
pub fn settle(results: &mut Vec<ResultItem>) {
    let mut covering: Vec<(usize, ResultItem, String)> = Vec::new();
    for (i, result) in results.iter_mut().enumerate() {
        if let Some(path) = result.tags.remove(COVERS_TAG) {
            covering.push((i, result.clone(), path));
        }
    }
    if covering.is_empty() {
        return;
    }
    let mut index = 0;
    results.retain(|result| {
        let i = index;
        index += 1;
        let path = result.field.as_ref().map_or("", |f| f.path.as_str());
        // Covering results are independent problems themselves: all stay.
        covering.iter().any(|(at, _, _)| *at == i)
            || !covering.iter().any(|(at, cover, prefix)| {
                i > *at
                    && cover.resource_ref == result.resource_ref
                    && cover.file == result.file
                    && decode::within(path, prefix)
            })
    });
}

/// What one spec generated, each object in the spec's namespace (unless it names its
/// own), placed right after its name.
pub fn generated(spec: &Value, mut objects: Vec<Value>) -> Generated {
    let namespace = spec.namespace();
    if !namespace.is_empty() {
        for object in &mut objects {
            let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
                continue;
            };
            if metadata.contains_key("namespace") {
                continue;
            }
            let mut ordered = Map::new();
            for (key, value) in std::mem::take(metadata) {
                let after_name = key == "name";
                ordered.insert(key, value);
                if after_name {
                    ordered.insert("namespace".into(), Value::String(namespace.to_string()));
                }
            }
            *metadata = ordered;
        }
    }
    Generated::from_spec(spec, objects)
}

/// Labels of every generated object of an app.
pub fn labels(app: &str, part_of: Option<&str>) -> BTreeMap<String, String> {
    let mut labels = selector_labels(app);
    if let Some(part_of) = part_of {
        labels.insert("app.kubernetes.io/part-of".into(), part_of.into());
    }
    labels.insert("app.kubernetes.io/managed-by".into(), MANAGED_BY.into());
    labels
}

/// The labels that select an app's pods; stable across releases.
pub fn selector_labels(app: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/name".to_string(), app.to_string())])
}

/// Serialises a typed Kubernetes object (k8s-openapi) into a value.
pub fn to_value<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).expect("k8s-openapi types always serialize")
}

/// A typed object as a value, with the apiVersion and kind its type knows, laid out
/// as people write manifests: apiVersion, kind, metadata (name, labels,
/// annotations), then the rest.
pub fn typed_object<T: serde::Serialize + k8s_openapi::Resource>(object: &T) -> Value {
    let (api_version, kind) = (T::API_VERSION, T::KIND);
    let mut fields = match to_value(object) {
        Value::Object(fields) => fields,
        _ => Default::default(),
    };
    let mut metadata = match fields.shift_remove("metadata") {
        Some(Value::Object(metadata)) => metadata,
        _ => Default::default(),
    };
    let mut ordered = krm_sdk::Map::new();
    for key in ["name", "namespace", "labels", "annotations"] {
        if let Some(value) = metadata.shift_remove(key) {
            ordered.insert(key.into(), value);
        }
    }
    ordered.extend(metadata);
    let mut value =
        serde_json::json!({ "apiVersion": api_version, "kind": kind, "metadata": ordered });
    for (key, field) in fields {
        value[key] = field;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use krm_sdk::json;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Thing {
        size: u8,
        #[serde(default)]
        colour: Option<String>,
    }

    #[test]
    fn a_bad_name_and_every_spec_problem_are_reported_together() {
        let object = json!({"kind": "LummoThing", "metadata": {"name": "Bad_Name"},
            "spec": {"size": 300, "color": "red"}});
        let (spec, problems) = decode_spec::<Thing>(&object, "LummoThing");
        assert!(spec.is_none(), "`size` is required and was wrong");
        let fields: Vec<&str> = problems
            .iter()
            .map(|p| p.field.as_ref().unwrap().path.as_str())
            .collect();
        assert_eq!(fields, ["metadata.name", "spec.size", "spec.color"]);
        assert_eq!(
            problems[1].message,
            "expected a whole number (0 to 255), found the number 300"
        );
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Hosts {
        domains: Vec<names::Hostname>,
    }

    /// A bad item goes from its list while decoding; the checks on the shortened
    /// list (`needs at least one`, an index) are then about a list the user did not
    /// write, so the item's problem covers the whole list.
    #[test]
    fn a_bad_list_item_covers_its_list() {
        let object = json!({"kind": "LummoThing", "metadata": {"name": "a"},
            "spec": {"domains": ["Shop.example.com"]}});
        let (spec, problems) = decode_spec::<Hosts>(&object, "LummoThing");
        assert!(spec.is_some_and(|s| s.domains.is_empty()));
        let empty = ResultItem::error("needs at least one domain")
            .for_object(&object)
            .field("spec.domains");
        let mut results = [problems, vec![empty]].concat();
        settle(&mut results);
        let messages: Vec<&str> = results.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, ["`Shop.example.com` is not a valid hostname: use lower case (e.g. `shop.example.com`)"]);
    }

    #[test]
    fn settle_drops_consequences_and_keeps_independent_results() {
        let object = json!({"kind": "LummoThing", "metadata": {"name": "a"}});
        let other = json!({"kind": "LummoThing", "metadata": {"name": "b"}});
        let at = |path: &str, on: &Value| ResultItem::error(path).for_object(on).field(path);
        let mut results = vec![
            covers(
                at("spec.containers[0].template", &object),
                "spec.containers[0]",
            ),
            covers(
                at("spec.containers[0].image", &object),
                "spec.containers[0].image",
            ),
            at("spec.containers[0].resources", &object),
            at("spec.containers[1].image", &object),
            at("spec.containers[0].image", &other),
            at("spec.schedule", &object),
        ];
        settle(&mut results);
        let kept: Vec<(&str, &str)> = results
            .iter()
            .map(|r| {
                (
                    r.resource_ref.as_ref().unwrap().name.as_str(),
                    r.message.as_str(),
                )
            })
            .collect();
        assert_eq!(
            kept,
            [
                ("a", "spec.containers[0].template"),
                ("a", "spec.containers[0].image"),
                ("a", "spec.containers[1].image"),
                ("b", "spec.containers[0].image"),
                ("a", "spec.schedule"),
            ]
        );
        assert!(results.iter().all(|r| r.tags.is_empty()));
    }
}
