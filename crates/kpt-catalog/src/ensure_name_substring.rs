//! `ensure-name-substring`: makes every name contain a substring, prepending or
//! appending it where it is missing, and fixes the references to renamed objects
//! (kptdev/krm-functions-catalog `functions/go/ensure-name-substring`).
//!
//! Config: a ConfigMap with exactly one entry, `prepend: <s>` or `append: <s>`,
//! or `EnsureNameSubstring` (`substring`, `editMode` prepend|append,
//! `additionalNameFields`, the deprecated `fieldSpecs`). CRDs, APIServices,
//! Namespaces and the Kptfile keep their names (`prefixSuffixFieldSpecsToSkip`);
//! local-config objects are renamed too (`IncludeLocalConfigs`). Names in
//! `config.kubernetes.io/depends-on` follow when the object is in the package.
//! References are fixed for the kinds kustomize's namereference table lists that
//! packages use most: ConfigMaps, Secrets, ServiceAccounts and
//! PersistentVolumeClaims in pod specs, roles and subjects of role bindings,
//! the target of a HorizontalPodAutoscaler, a StatefulSet's service.
//!
//! Like the catalog release the examples were recorded with, the result carries no
//! kpt path annotations (kustomize's `RemoveBuildAnnotations`): kpt writes every
//! object to `<kind>_<name>.yaml` (under a folder per namespace). Later releases
//! keep the paths; `.expected/diff.patch` of the catalog's examples is the proof.

use crate::util::{self, Config, FieldSpec};
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};
use std::collections::{HashMap, HashSet};

const KIND: &str = "EnsureNameSubstring";
const DEPENDS_ON: &str = "config.kubernetes.io/depends-on";

/// kustomize's `resource.BuildAnnotations` that name kpt's bookkeeping.
const BUILD_ANNOTATIONS: &[&str] = &[
    "internal.config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/seqindent",
    "internal.config.kubernetes.io/id",
    "internal.config.kubernetes.io/annotations-migration-resource-id",
    "config.kubernetes.io/path",
    "config.kubernetes.io/index",
    "config.k8s.io/id",
];

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Prepend,
    Append,
}

struct Settings {
    substring: String,
    mode: Mode,
    extra: Vec<FieldSpec>,
}

fn settings(list: &ResourceList) -> Result<Settings, ResultItem> {
    let fc = list.function_config.as_ref();
    match util::config(fc, KIND)? {
        Config::None => Err(ResultItem::error("failed to load the `functionConfig`: give `prepend: <substring>` or `append: <substring>` in a ConfigMap, or an EnsureNameSubstring")),
        Config::ConfigMap(data) => {
            let fc = fc.expect("a ConfigMap is present");
            if data.len() != 1 {
                return Err(ResultItem::error(format!("only 1 entry is allowed in the ConfigMap, but got: {}", data.len())).for_object(fc).field("data"));
            }
            let (key, value) = data.iter().next().expect("one entry");
            let mode = match key.as_str() {
                "prepend" => Mode::Prepend,
                "append" => Mode::Append,
                other => return Err(ResultItem::error(format!("unknown editMode: {other}, only prepend and append are allowed")).for_object(fc).field(format!("data.{other}"))),
            };
            let substring = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
            validate(Settings { substring, mode, extra: Vec::new() }, fc)
        }
        Config::Typed(fc) => {
            util::check_fields(fc, &["substring", "editMode", "additionalNameFields", "fieldSpecs"])?;
            if fc.get("additionalNameFields").is_some() && fc.get("fieldSpecs").is_some() {
                return Err(ResultItem::error("`fieldSpecs` has been deprecated, please rename it to `additionalNameFields`").for_object(fc).field("fieldSpecs"));
            }
            let mode = match fc.get("editMode").and_then(Value::as_str).unwrap_or("prepend") {
                "prepend" | "" => Mode::Prepend,
                "append" => Mode::Append,
                other => return Err(ResultItem::error(format!("unknown editMode: {other}, only prepend and append are allowed")).for_object(fc).field("editMode")),
            };
            let mut extra = FieldSpec::list(fc, "additionalNameFields")?;
            extra.extend(FieldSpec::list(fc, "fieldSpecs")?);
            let substring = fc.get("substring").and_then(Value::as_str).unwrap_or("").to_string();
            validate(Settings { substring, mode, extra }, fc)
        }
    }
}

fn validate(settings: Settings, fc: &Value) -> Result<Settings, ResultItem> {
    if settings.substring.is_empty() {
        return Err(ResultItem::error("substring must not be empty").for_object(fc));
    }
    Ok(settings)
}

fn skip(o: &Value) -> bool {
    let (group, _) = util::group_version(o.api_version());
    matches!(o.kind(), "CustomResourceDefinition" | "Namespace")
        || (o.kind() == "APIService" && group == "apiregistration.k8s.io")
        || (o.kind() == "Kptfile" && group == "kpt.dev")
}

impl Settings {
    fn apply(&self, name: &str) -> String {
        match self.mode {
            Mode::Prepend => format!("{}{name}", self.substring),
            Mode::Append => format!("{name}{}", self.substring),
        }
    }
}

pub fn process(list: &mut ResourceList) {
    let settings = match settings(list) {
        Ok(s) => s,
        Err(e) => return list.results.push(e),
    };
    let lookup: HashSet<(String, String, String)> = list
        .items
        .iter()
        .map(|o| {
            (
                util::group_version(o.api_version()).0.to_string(),
                o.kind().to_string(),
                o.name().to_string(),
            )
        })
        .collect();
    // (kind, namespace, old name) → new name, for the references.
    let mut renamed: HashMap<(String, String, String), String> = HashMap::new();
    for item in &mut list.items {
        if skip(item) {
            continue;
        }
        item.update(|o| {
            let mut touched = false;
            if !o.name().contains(&settings.substring) {
                let new = settings.apply(o.name());
                renamed.insert(
                    (
                        o.kind().to_string(),
                        o.namespace().to_string(),
                        o.name().to_string(),
                    ),
                    new.clone(),
                );
                crate::set_namespace::set_metadata(o, "name", new);
                touched = true;
            }
            let specs: Vec<FieldSpec> = settings
                .extra
                .iter()
                .filter(|s| s.matches(o))
                .cloned()
                .collect();
            for spec in specs {
                util::visit_path(o, &spec.path, false, &mut |node| {
                    if let Some(s) = node.as_str() {
                        if !s.contains(&settings.substring) {
                            *node = Value::String(settings.apply(s));
                        }
                    }
                });
                touched = true;
            }
            if touched {
                update_depends_on(o, &settings, &lookup);
            }
        });
    }
    for item in &mut list.items {
        item.update(|o| {
            fix_references(o, &renamed);
            for key in BUILD_ANNOTATIONS {
                o.remove_annotation(key);
            }
            let empty = o
                .pointer("/metadata/annotations")
                .and_then(Value::as_object)
                .is_some_and(|m| m.is_empty());
            if empty {
                o["metadata"]
                    .as_object_mut()
                    .expect("has annotations")
                    .shift_remove("annotations");
            }
        });
    }
}

fn update_depends_on(
    o: &mut Value,
    settings: &Settings,
    lookup: &HashSet<(String, String, String)>,
) {
    let Some(annotation) = o.annotation(DEPENDS_ON).map(str::to_string) else {
        return;
    };
    let mut segments: Vec<String> = annotation.split('/').map(str::to_string).collect();
    let valid = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
    };
    if !segments.iter().all(|s| valid(s)) {
        return;
    }
    let (kind_index, name_index) = match segments.len() {
        5 if segments[1] == "namespaces" => (3, 4),
        3 => (1, 2),
        _ => return,
    };
    let key = (
        segments[0].clone(),
        segments[kind_index].clone(),
        segments[name_index].clone(),
    );
    if !lookup.contains(&key) {
        return;
    }
    segments[name_index] = settings.apply(&segments[name_index]);
    o.set_annotation(DEPENDS_ON, &segments.join("/"));
}

/// A subset of kustomize's namereference table (api/konfig/builtinpluginconsts/
/// namereference.go): the references packages hold most. Long because it is
/// that table, one arm per referring field, kept in one place.
fn fix_references(o: &mut Value, renamed: &HashMap<(String, String, String), String>) {
    if renamed.is_empty() {
        return;
    }
    let namespace = o.namespace().to_string();
    let lookup = |kind: &str, ns: &str, name: &str| {
        renamed
            .get(&(kind.to_string(), ns.to_string(), name.to_string()))
            .cloned()
    };
    let set = |node: Option<&mut Value>, kind: &str, ns: &str| {
        if let Some(node) = node {
            if let Some(new) = node.as_str().and_then(|n| lookup(kind, ns, n)) {
                *node = Value::String(new);
            }
        }
    };
    let kind = o.kind().to_string();
    let pod_specs: Vec<&str> = match kind.as_str() {
        "Pod" => vec!["/spec"],
        "CronJob" => vec!["/spec/jobTemplate/spec/template/spec"],
        "Deployment"
        | "ReplicaSet"
        | "DaemonSet"
        | "StatefulSet"
        | "Job"
        | "ReplicationController" => vec!["/spec/template/spec"],
        _ => vec![],
    };
    for pointer in pod_specs {
        let Some(spec) = o.pointer_mut(pointer) else {
            continue;
        };
        set(
            spec.get_mut("serviceAccountName"),
            "ServiceAccount",
            &namespace,
        );
        set(spec.get_mut("serviceAccount"), "ServiceAccount", &namespace);
        for secret in spec
            .get_mut("imagePullSecrets")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            set(secret.get_mut("name"), "Secret", &namespace);
        }
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for c in spec
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                for env in c
                    .get_mut("env")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    set(
                        env.pointer_mut("/valueFrom/configMapKeyRef/name"),
                        "ConfigMap",
                        &namespace,
                    );
                    set(
                        env.pointer_mut("/valueFrom/secretKeyRef/name"),
                        "Secret",
                        &namespace,
                    );
                }
                for from in c
                    .get_mut("envFrom")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    set(
                        from.pointer_mut("/configMapRef/name"),
                        "ConfigMap",
                        &namespace,
                    );
                    set(from.pointer_mut("/secretRef/name"), "Secret", &namespace);
                }
            }
        }
        for volume in spec
            .get_mut("volumes")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            set(
                volume.pointer_mut("/configMap/name"),
                "ConfigMap",
                &namespace,
            );
            set(
                volume.pointer_mut("/secret/secretName"),
                "Secret",
                &namespace,
            );
            set(
                volume.pointer_mut("/persistentVolumeClaim/claimName"),
                "PersistentVolumeClaim",
                &namespace,
            );
            for source in volume
                .pointer_mut("/projected/sources")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                set(
                    source.pointer_mut("/configMap/name"),
                    "ConfigMap",
                    &namespace,
                );
                set(source.pointer_mut("/secret/name"), "Secret", &namespace);
            }
        }
    }
    match kind.as_str() {
        "RoleBinding" | "ClusterRoleBinding" => {
            let role_kind = o
                .pointer("/roleRef/kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let role_ns = if role_kind == "Role" {
                namespace.clone()
            } else {
                String::new()
            };
            set(o.pointer_mut("/roleRef/name"), &role_kind, &role_ns);
            for s in o
                .get_mut("subjects")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if s.get("kind").and_then(Value::as_str) == Some("ServiceAccount") {
                    let ns = s
                        .get("namespace")
                        .and_then(Value::as_str)
                        .unwrap_or(&namespace)
                        .to_string();
                    set(s.get_mut("name"), "ServiceAccount", &ns);
                }
            }
        }
        "HorizontalPodAutoscaler" => {
            let target = o
                .pointer("/spec/scaleTargetRef/kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            set(
                o.pointer_mut("/spec/scaleTargetRef/name"),
                &target,
                &namespace,
            );
        }
        "StatefulSet" => set(o.pointer_mut("/spec/serviceName"), "Service", &namespace),
        _ => {}
    }
}
