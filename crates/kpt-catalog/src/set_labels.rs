//! `set-labels`: sets labels on objects and on the selectors and templates that
//! must carry them.
//!
//! v0.2 and later follow kptdev/krm-functions-catalog
//! `functions/go/set-labels/setlabels/transformer.go`: config from a ConfigMap's
//! `data` or `SetLabels.labels`; local-config objects are left alone; keys are set
//! in sorted order; `metadata.labels` is created everywhere, `spec.selector` of
//! Service/ReplicationController and `spec.selector.matchLabels` of
//! Deployment/ReplicaSet/DaemonSet/StatefulSet are created, while the selectors of
//! Job, PodDisruptionBudget, NetworkPolicy, topology spread constraints and volume
//! claim templates only have existing keys updated; pod templates (also under a
//! CronJob's jobTemplate) and volume claim templates get labels.
//!
//! v0.1 was kustomize's commonLabels transformer (field specs of
//! sigs.k8s.io/kustomize/api/konfig/builtinpluginconsts/commonlabels.go), which
//! also labels local-config objects such as the Kptfile.

use crate::util::{self, Config, FieldSpec, StaticSpec};
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};
use serde_json::Map;

const KIND: &str = "SetLabels";

fn labels(list: &ResourceList) -> Result<Option<Vec<(String, String)>>, ResultItem> {
    match util::config(list.function_config.as_ref(), KIND)? {
        Config::None => Ok(None),
        Config::ConfigMap(data) => {
            let fc = Value::Object(Map::from_iter([(
                "data".to_string(),
                Value::Object(data.clone()),
            )]));
            util::string_map(&fc, "data").map(Some)
        }
        Config::Typed(fc) => {
            util::check_fields(fc, &["labels"])?;
            util::string_map(fc, "labels").map(Some)
        }
    }
}

/// The newest behaviour (v0.2 and later, `unstable`), run as
/// kpt-functions-sdk's `runnerProcessor.Process` runs `SetLabels.Run`.
pub fn process(list: &mut ResourceList) {
    let fc = list.function_config.as_ref();
    let labels = if sdk_empty_config(fc) {
        // runnerProcessor: "functions may not need functionConfig".
        list.results
            .push(ResultItem::info("`FunctionConfig` is not given"));
        Vec::new()
    } else {
        match labels(list) {
            Ok(labels) => labels.unwrap_or_default(),
            Err(e) => return list.results.push(e),
        }
    };
    if !list.items.iter().any(|i| !i.is_local_config()) {
        return list.results.push(ResultItem::info("no input resources"));
    }
    // `EmptyfnConfig`: `Run` returns false, giving no result; the SDK fails
    // the run all the same (kpt's e2e `no-fnconfig` at v1.0.0-beta.67).
    if empty_fn_config(list.function_config.as_ref()) {
        list.unsuccessful = true;
        return;
    }
    if labels.is_empty() {
        return list.results.push(ResultItem::warning(
            "no `labels` arguments are given in FunctionConfig",
        ));
    }
    let mut count = 0usize;
    for item in list.items.iter_mut().filter(|i| !i.is_local_config()) {
        item.update(|o| set_all(o, &labels, &mut count));
    }
    list.results
        .push(ResultItem::info(format!("set {count} labels in total")));
}

/// kpt-functions-sdk's test before `runnerProcessor` reads a config
/// (`IsEmpty() || EmptyFunctionConfig(..)`): none, `{}`, or `kpt fn eval`'s
/// placeholder ConfigMap `function-input` whose `data` is there and empty.
fn sdk_empty_config(fc: Option<&Value>) -> bool {
    let Some(fc) = fc else { return true };
    fc.as_object().is_none_or(|m| m.is_empty())
        || fc.kind() == "ConfigMap"
            && fc.name() == "function-input"
            && fc
                .get("data")
                .and_then(Value::as_object)
                .is_some_and(|data| data.is_empty())
}

/// set-labels' `EmptyfnConfig` (setlabels/transformer.go): the placeholder
/// `function-input` ConfigMap without data, or a config with neither kind
/// nor name (what kpt passes for a step without one).
fn empty_fn_config(fc: Option<&Value>) -> bool {
    let Some(fc) = fc else { return true };
    if fc.kind() == "ConfigMap" && fc.name() == "function-input" {
        return fc
            .get("data")
            .and_then(Value::as_object)
            .is_none_or(|data| data.is_empty());
    }
    fc.kind().is_empty() && fc.name().is_empty()
}

/// kpt-functions-sdk's `KubeObject.IsGVK(group, version, kind)`, which the
/// releases since v0.2 are built on: each part is compared only where both the
/// object and the call give it, so an object without `apiVersion` and `kind`
/// (a kustomization.yaml) is taken for every kind asked about (kpt's e2e case
/// `krm-check-exclude-kustomize`: its `spec.selector` and
/// `spec.selector.matchLabels` are created, as for a Service and a
/// Deployment); an apiVersion that does not parse (two slashes) leaves the
/// whole GVK empty (`GroupVersionKind`).
fn is(o: &Value, group: &str, version: &str, kind: &str) -> bool {
    let api_version = o.api_version();
    let (own_group, own_version, own_kind) = if api_version.matches('/').count() > 1 {
        ("", "", "")
    } else {
        let (g, v) = util::group_version(api_version);
        (g, v, o.kind())
    };
    let agree = |own: &str, asked: &str| own.is_empty() || asked.is_empty() || own == asked;
    agree(own_kind, kind) && agree(own_group, group) && agree(own_version, version)
}

/// updateLabels: every key counts; a key is written when it exists with another
/// value, or is missing and `create` is set.
fn update(
    node: Option<&mut Value>,
    path: &[&str],
    labels: &[(String, String)],
    create: bool,
    count: &mut usize,
) {
    let Some(node) = node else { return };
    let mut keys: Vec<&(String, String)> = labels.iter().collect();
    keys.sort();
    for (key, value) in keys {
        *count += 1;
        let mut target = &mut *node;
        let mut missing = false;
        for segment in path {
            if !target.is_object() {
                missing = true;
                break;
            }
            if target.get(*segment).is_none_or(Value::is_null) {
                if !create {
                    missing = true;
                    break;
                }
                target[*segment] = Value::Object(Map::new());
            }
            target = target.get_mut(*segment).expect("present or created");
        }
        if missing || !target.is_object() {
            continue;
        }
        let exists = target.get(key).is_some();
        if exists || create {
            target[key.as_str()] = Value::String(value.clone());
        }
    }
}

fn meta(node: Option<&mut Value>, labels: &[(String, String)], count: &mut usize) {
    update(node, &["metadata", "labels"], labels, true, count);
}

fn map_field<'a>(node: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    node.get_mut(key).filter(|v| v.is_object())
}

fn set_all(o: &mut Value, labels: &[(String, String)], count: &mut usize) {
    meta(Some(o), labels, count);
    // setLabelsInSelector
    if is(o, "", "v1", "Service") || is(o, "", "v1", "ReplicationController") {
        update(Some(o), &["spec", "selector"], labels, true, count);
    }
    let (found, create) = if is(o, "", "", "Deployment")
        || is(o, "", "", "ReplicaSet")
        || is(o, "", "", "DaemonSet")
        || is(o, "apps", "", "StatefulSet")
    {
        (true, true)
    } else if is(o, "batch", "", "Job") || is(o, "policy", "", "PodDisruptionBudget") {
        (true, false)
    } else {
        (false, false)
    };
    if found {
        update(
            Some(o),
            &["spec", "selector", "matchLabels"],
            labels,
            create,
            count,
        );
    }
    let network_policy = is(o, "networking.k8s.io", "", "NetworkPolicy");
    if network_policy {
        update(
            Some(o),
            &["spec", "podSelector", "matchLabels"],
            labels,
            false,
            count,
        );
    }
    let pod = is(o, "", "v1", "ReplicationController")
        || is(o, "", "", "Deployment")
        || is(o, "", "", "ReplicaSet")
        || is(o, "", "", "DaemonSet")
        || is(o, "apps", "", "StatefulSet")
        || is(o, "batch", "", "Job");
    let cron = is(o, "batch", "", "CronJob");
    let volumes = is(o, "apps", "", "StatefulSet");
    let Some(spec) = map_field(o, "spec") else {
        return;
    };
    if pod {
        set_pod(map_field(spec, "template"), labels, count);
    }
    if cron {
        if let Some(job) = map_field(spec, "jobTemplate") {
            meta(Some(job), labels, count);
            if let Some(job_spec) = map_field(job, "spec") {
                update(
                    Some(job_spec),
                    &["selector", "matchLabels"],
                    labels,
                    false,
                    count,
                );
                set_pod(map_field(job_spec, "template"), labels, count);
            }
        }
    }
    if volumes {
        if let Some(claims) = spec
            .get_mut("volumeClaimTemplates")
            .and_then(Value::as_array_mut)
        {
            for claim in claims.iter_mut().filter(|c| c.is_object()) {
                meta(Some(claim), labels, count);
                update(
                    Some(claim),
                    &["selector", "matchLabels"],
                    labels,
                    false,
                    count,
                );
            }
        }
    }
    if network_policy {
        for (rules, peers) in [("ingress", "from"), ("egress", "to")] {
            for rule in spec
                .get_mut(rules)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                for peer in rule
                    .get_mut(peers)
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    update(
                        Some(peer),
                        &["podSelector", "matchLabels"],
                        labels,
                        false,
                        count,
                    );
                }
            }
        }
    }
}

fn set_pod(pod: Option<&mut Value>, labels: &[(String, String)], count: &mut usize) {
    let Some(pod) = pod else { return };
    meta(Some(pod), labels, count);
    let Some(spec) = map_field(pod, "spec") else {
        return;
    };
    for constraint in spec
        .get_mut("topologySpreadConstraints")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        update(
            Some(constraint),
            &["labelSelector", "matchLabels"],
            labels,
            false,
            count,
        );
    }
    // The catalog reads the affinity terms from `affinity` itself, not from
    // `podAffinity`/`podAntiAffinity` (transformer.go setLabelsInPodSpec), so in
    // valid specs it finds none; kept as the catalog behaves.
    if let Some(affinity) = map_field(spec, "affinity") {
        let has_pod_affinity = ["podAffinity", "podAntiAffinity"]
            .iter()
            .any(|k| affinity.get(*k).is_some_and(Value::is_object));
        if has_pod_affinity {
            for term in affinity
                .get_mut("preferredDuringSchedulingIgnoredDuringExecution")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                update(
                    map_field(term, "podAffinityTerm"),
                    &["labelSelector", "matchLabels"],
                    labels,
                    false,
                    count,
                );
            }
            for term in affinity
                .get_mut("requiredDuringSchedulingIgnoredDuringExecution")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                update(
                    Some(term),
                    &["labelSelector", "matchLabels"],
                    labels,
                    false,
                    count,
                );
            }
        }
    }
}

/// kustomize's commonLabels field specs, as set-labels v0.1 applied them.
const COMMON_LABELS: &[StaticSpec] = &[
    StaticSpec::new("", "metadata/labels", true),
    StaticSpec::new("Service", "spec/selector", true).version("v1"),
    StaticSpec::new("ReplicationController", "spec/selector", true).version("v1"),
    StaticSpec::new("ReplicationController", "spec/template/metadata/labels", true).version("v1"),
    StaticSpec::new("Deployment", "spec/selector/matchLabels", true),
    StaticSpec::new("Deployment", "spec/template/metadata/labels", true),
    StaticSpec::new("Deployment", "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", false).group("apps"),
    StaticSpec::new("Deployment", "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", false).group("apps"),
    StaticSpec::new("Deployment", "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", false).group("apps"),
    StaticSpec::new("Deployment", "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", false).group("apps"),
    StaticSpec::new("ReplicaSet", "spec/selector/matchLabels", true),
    StaticSpec::new("ReplicaSet", "spec/template/metadata/labels", true),
    StaticSpec::new("DaemonSet", "spec/selector/matchLabels", true),
    StaticSpec::new("DaemonSet", "spec/template/metadata/labels", true),
    StaticSpec::new("StatefulSet", "spec/selector/matchLabels", true).group("apps"),
    StaticSpec::new("StatefulSet", "spec/template/metadata/labels", true).group("apps"),
    StaticSpec::new("StatefulSet", "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", false).group("apps"),
    StaticSpec::new("StatefulSet", "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", false).group("apps"),
    StaticSpec::new("StatefulSet", "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", false).group("apps"),
    StaticSpec::new("StatefulSet", "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", false).group("apps"),
    StaticSpec::new("StatefulSet", "spec/volumeClaimTemplates[]/metadata/labels", true).group("apps"),
    StaticSpec::new("Job", "spec/selector/matchLabels", false).group("batch"),
    StaticSpec::new("Job", "spec/template/metadata/labels", true).group("batch"),
    StaticSpec::new("CronJob", "spec/jobTemplate/spec/selector/matchLabels", false).group("batch"),
    StaticSpec::new("CronJob", "spec/jobTemplate/metadata/labels", true).group("batch"),
    StaticSpec::new("CronJob", "spec/jobTemplate/spec/template/metadata/labels", true).group("batch"),
    StaticSpec::new("PodDisruptionBudget", "spec/selector/matchLabels", false).group("policy"),
    StaticSpec::new("NetworkPolicy", "spec/podSelector/matchLabels", false).group("networking.k8s.io"),
    StaticSpec::new("NetworkPolicy", "spec/ingress/from/podSelector/matchLabels", false).group("networking.k8s.io"),
    StaticSpec::new("NetworkPolicy", "spec/egress/to/podSelector/matchLabels", false).group("networking.k8s.io"),
];

/// The typed config of v0.1 (`SetLabelConfig`, later renamed `SetLabels`).
const KIND_V0_1: &str = "SetLabelConfig";

/// v0.1.0–v0.1.4: kustomize's commonLabels transformer over every object.
pub fn process_v0_1(list: &mut ResourceList) {
    commonlabels(list, false);
}

/// v0.1.5: as v0.1.4, and its config may also be a `SetLabels` (the kind v0.2
/// kept): set-labels/v0.1.5 `main.go` `Config` takes both kinds and words its
/// refusal after the new one.
pub fn process_v0_1_5(list: &mut ResourceList) {
    commonlabels(list, true);
}

fn commonlabels(list: &mut ResourceList, takes_set_labels: bool) {
    // Without a config v0.1 fails (kpt e2e `fn-render/no-fnconfig` records the message).
    let fc = list.function_config.as_ref();
    let kind = match fc {
        Some(fc) if takes_set_labels && fc.kind() == KIND => KIND,
        _ => KIND_V0_1,
    };
    let refusal = if takes_set_labels {
        "failed to configure function: `functionConfig` must be either a `ConfigMap` or `SetLabels`"
    } else {
        "failed to configure function: function config must be a ConfigMap or SetLabelConfig"
    };
    let labels = match util::config(fc, kind) {
        Ok(Config::ConfigMap(data)) => {
            let fc = Value::Object(Map::from_iter([(
                "data".to_string(),
                Value::Object(data.clone()),
            )]));
            util::string_map(&fc, "data")
        }
        Ok(Config::Typed(fc)) => {
            util::check_fields(fc, &["labels"]).and_then(|_| util::string_map(fc, "labels"))
        }
        Ok(Config::None) | Err(_) => Err(ResultItem::error(refusal)),
    };
    let labels = match labels {
        Ok(l) => l,
        Err(e) => return list.results.push(e),
    };
    if labels.is_empty() {
        return;
    }
    let specs: Vec<FieldSpec> = COMMON_LABELS.iter().map(|s| s.to_spec()).collect();
    apply_specs(list, &specs, &labels);
}

/// Writes the entries at every matching field spec (kustomize's fsslice filter);
/// returns, for each item, the field path (kyaml's `RNode.FieldPath`) of every
/// map the entries went to, in the order visited.
pub(crate) fn apply_specs(
    list: &mut ResourceList,
    specs: &[FieldSpec],
    entries: &[(String, String)],
) -> Vec<Vec<String>> {
    let mut visited = Vec::with_capacity(list.items.len());
    for item in &mut list.items {
        let mut paths = Vec::new();
        item.update(|o| {
            let matching: Vec<&FieldSpec> = specs.iter().filter(|s| s.matches(o)).collect();
            for spec in matching {
                util::visit_path_at(o, &spec.path, spec.create, &mut |node, path| {
                    paths.push(path.join("."));
                    util::set_entries(node, entries)
                });
            }
        });
        visited.push(paths);
    }
    visited
}
