//! `set-namespace`: sets the namespace of every namespaced object, and the
//! references to it.
//!
//! v0.3 and later follow kptdev/krm-functions-catalog
//! `functions/go/set-namespace/transformer/namespace.go`: config from a ConfigMap's
//! `data.namespace` (or `data.name` of the `kptfile.kpt.dev` package-context
//! ConfigMap) or a `SetNamespace` (`namespace`, `namespaceMatcher`); local-config
//! objects are left alone; `Namespace` objects are renamed, the service namespace
//! of CRD conversion webhooks and APIServices and the subjects of
//! ClusterRoleBindings follow; `config.kubernetes.io/depends-on` annotations that
//! point at a namespaced object of the package are rewritten; without
//! `namespaceMatcher` all objects must come from one upstream namespace
//! (`internal.kpt.dev/upstream-identifier`).
//!
//! v0.1 was kustomize's namespace transformer (sigs.k8s.io/kustomize/api/filters/
//! namespace): `metadata.namespace` on every object whose kind is not known to be
//! cluster-scoped, the Kptfile and custom kinds included, and the namespace of
//! RoleBinding/ClusterRoleBinding subjects named `default`.

use crate::util::{self, Config};
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Severity, Value};
use std::collections::{BTreeSet, HashSet};

const KIND: &str = "SetNamespace";
const PACKAGE_CONTEXT: &str = "kptfile.kpt.dev";
const DEPENDS_ON: &str = "config.kubernetes.io/depends-on";
const UPSTREAM: &str = "internal.kpt.dev/upstream-identifier";

/// Kinds the SDK's OpenAPI knows as namespaced; any other kind counts as
/// namespaced only when it has a namespace (krm-functions-sdk `IsNamespaceScoped`).
const NAMESPACED: &[&str] = &[
    "Binding",
    "ConfigMap",
    "ControllerRevision",
    "CronJob",
    "CSIStorageCapacity",
    "DaemonSet",
    "Deployment",
    "EndpointSlice",
    "Endpoints",
    "Event",
    "HorizontalPodAutoscaler",
    "Ingress",
    "Job",
    "Lease",
    "LimitRange",
    "LocalSubjectAccessReview",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "Pod",
    "PodDisruptionBudget",
    "PodTemplate",
    "ReplicaSet",
    "ReplicationController",
    "ResourceQuota",
    "Role",
    "RoleBinding",
    "Secret",
    "Service",
    "ServiceAccount",
    "StatefulSet",
];

struct Settings {
    namespace: String,
    matcher: String,
}

fn settings(list: &ResourceList) -> Result<Settings, ResultItem> {
    let fc = list.function_config.as_ref();
    match util::config(fc, KIND)? {
        Config::None => Err(ResultItem::error(format!(
            "FunctionConfig is missing. Expect `ConfigMap.v1` or `{KIND}.v1alpha1.fn.kpt.dev`"
        ))),
        Config::ConfigMap(data) => {
            let get = |k: &str| {
                data.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let name = fc.map(|f| f.name()).unwrap_or("");
            let matcher = get("namespaceMatcher");
            if !get("namespace").is_empty() {
                return Ok(Settings {
                    namespace: get("namespace"),
                    matcher,
                });
            }
            if !get("name").is_empty() && name == PACKAGE_CONTEXT {
                return Ok(Settings {
                    namespace: get("name"),
                    matcher,
                });
            }
            let message = if name == PACKAGE_CONTEXT {
                "`data.name` should not be empty"
            } else {
                "`data.namespace` should not be empty"
            };
            Err(with_fc(ResultItem::error(message), fc).field("data.namespace"))
        }
        Config::Typed(fc) => {
            util::check_fields(fc, &["namespace", "namespaceMatcher"])?;
            let get = |k: &str| fc.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            if get("namespace").is_empty() {
                return Err(ResultItem::error("`namespace` should not be empty")
                    .for_object(fc)
                    .field("namespace"));
            }
            Ok(Settings {
                namespace: get("namespace"),
                matcher: get("namespaceMatcher"),
            })
        }
    }
}

fn with_fc(result: ResultItem, fc: Option<&Value>) -> ResultItem {
    match fc {
        Some(fc) => result.for_object(fc),
        None => result,
    }
}

fn is_namespaced(o: &Value) -> bool {
    let kind = o.kind();
    if util::is_cluster_scoped_kind(kind) {
        return false;
    }
    NAMESPACED.contains(&kind) || !o.namespace().is_empty()
}

fn short(o: &Value) -> String {
    format!(
        "Resource(apiVersion={}, kind={}, namespace={}, name={})",
        o.api_version(),
        o.kind(),
        o.namespace(),
        o.name()
    )
}

/// `group|Kind|namespace|name` of kpt's upstream identifier.
fn origin(o: &Value) -> Option<Vec<String>> {
    let id = o.annotation(UPSTREAM)?;
    let parts: Vec<String> = id.split('|').map(str::to_string).collect();
    (parts.len() == 4).then_some(parts)
}

fn depends_on_key(o: &Value) -> String {
    let group = util::group_version(o.api_version()).0;
    let ns = if o.namespace().is_empty() {
        "default"
    } else {
        o.namespace()
    };
    format!("{group}/namespaces/{ns}/{}/{}", o.kind(), o.name())
}

/// The released behaviour of v0.3 and later, `latest` included.
pub fn process(list: &mut ResourceList) {
    run(list, Unsourced::Quiet)
}

/// The catalog's main branch (`unstable`): it also warns of each namespaced
/// object without an upstream origin (catalog commit d955e7d3, in no release
/// tag; kpt v1.0.0-beta.67's e2e data shows `:latest` without those warnings).
pub fn process_unstable(list: &mut ResourceList) {
    run(list, Unsourced::Warn)
}

/// What to say of a namespaced object without an upstream origin annotation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unsourced {
    Quiet,
    Warn,
}

/// Over 120 lines on purpose: it follows the catalog function's run in its
/// order (config, the namespace to replace, namespaced objects, Namespace
/// objects, references, results) so that it reads beside the upstream source.
fn run(list: &mut ResourceList, unsourced: Unsourced) {
    let settings = match settings(list) {
        Ok(s) => s,
        Err(e) => return list.results.push(e),
    };
    let new_ns = settings.namespace.as_str();
    let matcher = settings.matcher.as_str();
    let objects: Vec<usize> = (0..list.items.len())
        .filter(|&i| !list.items[i].is_local_config())
        .collect();
    let depends_on: HashSet<String> = objects
        .iter()
        .map(|&i| &*list.items[i])
        .filter(|o| is_namespaced(o))
        .map(depends_on_key)
        .collect();
    // ListAllOrigins
    let mut origins = BTreeSet::new();
    let mut results = Vec::new();
    for &i in &objects {
        let o = &*list.items[i];
        match origin(o) {
            Some(parts) => {
                if !is_namespaced(o) {
                    continue;
                }
                if parts[2] == "~C" {
                    list.results.push(ResultItem::error(format!(
                        "{} is namespace-scoped, but has cluster-scoped or unknown scoepd origin {}",
                        short(o),
                        parts.join("|")
                    )).for_object(o));
                    return;
                }
                origins.insert(parts[2].clone());
            }
            None if unsourced == Unsourced::Warn => results.push(ResultItem::warning(format!(
                "{} does not have upstream origin.",
                short(o)
            ))),
            None => {}
        }
    }
    if matcher.is_empty() && origins.len() > 1 {
        list.results.push(ResultItem::error(format!(
            "unable to use origin `namespace` to match. expect a single upstream namespace, found {}. please switch to use `namespaceMatcher`to specify the namespace value you want to change",
            go_list(&origins)
        )));
        return;
    }
    let mut count = 0;
    let mut old_nss = BTreeSet::new();
    // The visitor of WalkAndReplace: `origin` None is the SDK's unknown namespace.
    let mut visit =
        |origin: &str, current: &mut String, id: &str, results: &mut Vec<ResultItem>| {
            if current.is_empty() {
                *current = "default".into();
            }
            if current == new_ns {
                return;
            }
            let change = matcher.is_empty() || {
                if matcher == origin {
                    results.push(ResultItem::info(format!(
                        "[{id}] has matching origin {origin}"
                    )));
                }
                matcher == current || matcher == origin
            };
            if change {
                old_nss.insert(current.clone());
                *current = new_ns.to_string();
                count += 1;
            }
        };
    // VisitSpecialClusterResource, then VisitNamespaceResource, as the catalog does.
    for &i in &objects {
        if is_namespaced(&list.items[i]) {
            continue;
        }
        let item = &mut list.items[i];
        let kind = item.kind().to_string();
        let (group, _) = util::group_version(item.api_version());
        let group = group.to_string();
        item.update(|o| match (group.as_str(), kind.as_str()) {
            ("", "Namespace") => {
                let origin_name = origin(o)
                    .map(|p| p[3].clone())
                    .unwrap_or_else(|| o.name().to_string());
                let mut name = o.name().to_string();
                let id = short(o);
                visit(&origin_name, &mut name, &id, &mut results);
                o["metadata"]["name"] = Value::String(name);
            }
            // A service reference without a namespace means `default` and gets
            // the new one; a URL webhook or no conversion webhook is left alone
            // (catalog tests crd-no-webhook-strategy and apiservice-no-service).
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                visit_service(
                    o,
                    "/spec/conversion/webhook/clientConfig/service",
                    &mut |c| visit("", c, "", &mut results),
                );
            }
            ("apiregistration.k8s.io", "APIService") => {
                visit_service(o, "/spec/service", &mut |c| visit("", c, "", &mut results));
            }
            (_, "ClusterRoleBinding" | "RoleBinding") => {
                if let Some(subjects) = o.get_mut("subjects").and_then(Value::as_array_mut) {
                    for s in subjects {
                        if let Some(ns) = s.get_mut("namespace") {
                            let mut current = ns.as_str().unwrap_or("").to_string();
                            visit("", &mut current, "", &mut results);
                            *ns = Value::String(current);
                        }
                    }
                }
            }
            _ => {}
        });
    }
    for &i in &objects {
        if !is_namespaced(&list.items[i]) {
            continue;
        }
        list.items[i].update(|o| {
            let origin_ns = origin(o)
                .map(|p| p[2].clone())
                .unwrap_or_else(|| o.namespace().to_string());
            let mut ns = o.namespace().to_string();
            let id = short(o);
            visit(&origin_ns, &mut ns, &id, &mut results);
            if ns != o.namespace() {
                set_metadata(o, "namespace", ns);
            }
        });
    }
    if count == 0 {
        results.push(ResultItem::info(format!(
            "all matching namespaces are already {new_ns:?}. no value changed"
        )));
    } else {
        results.push(ResultItem::info(format!(
            "namespace {} updated to {new_ns:?}, {count} value(s) changed",
            go_list(&old_nss)
        )));
    }
    // UpdateAnnotation
    let mut count = 0;
    let mut old_nss = BTreeSet::new();
    for &i in &objects {
        let Some(annotation) = list.items[i].annotation(DEPENDS_ON).map(str::to_string) else {
            continue;
        };
        let segments: Vec<&str> = annotation.split('/').collect();
        let namespaced = segments.len() == 5 && segments[1] == "namespaces";
        if !namespaced || !depends_on.contains(&annotation) || segments[2] == new_ns {
            continue;
        }
        if !matcher.is_empty() && matcher != segments[2] {
            continue;
        }
        old_nss.insert(segments[2].to_string());
        let mut updated = segments.clone();
        updated[2] = new_ns;
        let updated = updated.join("/");
        list.items[i].update(|o| o.set_annotation(DEPENDS_ON, &updated));
        count += 1;
    }
    results.push(ResultItem::info(if count == 0 {
        "all `depends-on` annotations are up-to-date. no `namespace` changed".to_string()
    } else {
        format!(
            "`depends-on` annotation namespace {} updated to {new_ns:?}, {count} value(s) changed",
            go_list(&old_nss)
        )
    }));
    list.results.extend(results);
}

/// Visits the namespace of the service reference at `pointer`, when there is one.
fn visit_service(o: &mut Value, pointer: &str, visit: &mut dyn FnMut(&mut String)) {
    let Some(service) = o.pointer_mut(pointer).and_then(Value::as_object_mut) else {
        return;
    };
    let mut current = service
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let before = current.clone();
    visit(&mut current);
    if current != before {
        service.insert("namespace".into(), Value::String(current));
    }
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(set: &BTreeSet<String>) -> String {
    format!("[{}]", set.iter().cloned().collect::<Vec<_>>().join(" "))
}

/// Sets a string field of `metadata`, creating `metadata` if needed.
pub(crate) fn set_metadata(o: &mut Value, field: &str, value: String) {
    if !o.get("metadata").is_some_and(Value::is_object) {
        o["metadata"] = Value::Object(Default::default());
    }
    o["metadata"][field] = Value::String(value);
}

/// v0.1.x: kustomize's namespace transformer.
pub fn process_v0_1(list: &mut ResourceList) {
    let namespace = match util::config(list.function_config.as_ref(), KIND) {
        Ok(Config::ConfigMap(data)) => data
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_string),
        Ok(Config::Typed(fc)) => fc
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_string),
        Ok(Config::None) => None,
        Err(e) => return list.results.push(e),
    };
    let Some(namespace) = namespace.filter(|n| !n.is_empty()) else {
        let mut error = ResultItem::error("`data.namespace` should not be empty; set the namespace in the step's configMap, e.g. `configMap: {namespace: staging}`");
        error.severity = Severity::Error;
        return list.results.push(error.field("data.namespace"));
    };
    for item in &mut list.items {
        let kind = item.kind().to_string();
        if util::is_cluster_scoped_kind(&kind) && kind != "ClusterRoleBinding" {
            continue;
        }
        item.update(|o| {
            if !util::is_cluster_scoped_kind(&kind) {
                set_metadata(o, "namespace", namespace.clone());
            }
            if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
                // roleBindingHack: only subjects named `default` get the namespace.
                if let Some(subjects) = o.get_mut("subjects").and_then(Value::as_array_mut) {
                    for s in subjects
                        .iter_mut()
                        .filter(|s| s.get("name").and_then(Value::as_str) == Some("default"))
                    {
                        if let Some(map) = s.as_object_mut() {
                            map.insert("namespace".into(), Value::String(namespace.clone()));
                        }
                    }
                }
            }
        });
    }
}
