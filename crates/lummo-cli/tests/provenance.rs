//! Provenance (issue 32) is sound: over random LummoDeployments, LummoJobs,
//! LummoCronJobs, LummoTopics, LummoSubscriptions, LummoNetworkings (Traefik
//! and Gateway API mode), LummoPgBouncers and Backstage entities and random
//! single-field mutations of them, every generated field that changes is
//! attributed to the mutated spec field — by a record naming it, or a rule
//! listing it among its inputs — and every object that comes or goes names it
//! among what makes the object exist. A record naming another spec field for
//! a field that changed is a failure, and so is a changed field no record
//! covers.
//!
//! Seeded (`RngSeed::Fixed`), so every run tries the same cases; proptest shrinks
//! a failure to the smallest spec and mutation and saves it in
//! `tests/provenance.proptest-regressions`, which later runs try first.
//! `PROVENANCE_CASES=N` runs more cases. The share of generated fields with a
//! provenance is measured over the examples (`provenance_coverage_of_the_examples`).

use krm_sdk::{json, ObjectExt, ResourceList, Value};
use lummo_core::origins::{changed_paths, covers, leaf_paths, pointer, Coverage, ObjectOrigins};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError};
use std::collections::BTreeMap;

/// The function's config: what an app that scales on Pub/Sub needs.
fn config() -> Value {
    config_map(
        "workload-config",
        json!({"project": "proj-dev1", "namespace": "apps",
            "googleServiceAccount": "{app}@proj-dev1.iam.gserviceaccount.com"}),
    )
}

/// The generated objects of `spec` and their records, by (kind, name); `None`
/// when the spec has an error (its mutation made it invalid).
fn render(spec: &Value) -> Option<BTreeMap<(String, String), (Value, ObjectOrigins)>> {
    render_by("lummo-workload", config(), spec, no_objects_beside)
}

/// [`render`] by `function` with its `config`, `beside(spec)` in the package too
/// (what an earlier step generated from the same app, e.g. its Service).
fn render_by(
    function: &str,
    config: Value,
    spec: &Value,
    beside: fn(&Value) -> Vec<Value>,
) -> Option<BTreeMap<(String, String), (Value, ObjectOrigins)>> {
    let descriptor = lummo_validate::DESCRIPTORS
        .iter()
        .find(|d| d.name() == function)
        .expect("the function is registered");
    let mut list = ResourceList::new([vec![spec.clone()], beside(spec)].concat());
    list.function_config = Some(config);
    let origins = (descriptor.record)(&mut list);
    if list.has_errors() {
        return None;
    }
    let mut out = BTreeMap::new();
    for item in &list.items {
        let value = krm_sdk::object::without_kpt_annotations(item.value());
        if value.annotation(lummo_core::GENERATED_BY).is_none() {
            continue;
        }
        let (kind, name) = (value.kind().to_string(), value.name().to_string());
        let records = origins
            .iter()
            .find(|o| o.kind == kind && o.name == name)
            .cloned()
            .unwrap_or_default();
        let misnamed = misnamed_records(&value, &records);
        assert!(misnamed.is_empty(), "{kind} {name}: {misnamed:?}");
        out.insert((kind, name), (value, records));
    }
    Some(out)
}

/// The records of `object` whose prefix names a field it has but covers none
/// of its leaf paths: written otherwise than `leaf_paths` writes paths
/// (`['argocd/app-name']` for `.argocd/app-name`), so `lummo explain` and
/// `lummo diff` never find them.
fn misnamed_records(object: &Value, origins: &ObjectOrigins) -> Vec<String> {
    let leaves = leaf_paths(object);
    origins
        .records
        .iter()
        .map(|r| &r.prefix)
        .filter(|prefix| object.pointer(&pointer(prefix)).is_some())
        .filter(|prefix| !leaves.iter().any(|leaf| covers(prefix, leaf)))
        .cloned()
        .collect()
}

/// Nothing beside the spec: the function reads the spec alone.
fn no_objects_beside(_: &Value) -> Vec<Value> {
    Vec::new()
}

/// A function's config: a ConfigMap `name` with `data`.
fn config_map(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

/// A Lummo spec object of `kind` named `name`, in `namespace` if any.
fn spec_object(kind: &str, name: &str, namespace: Option<&str>, spec: Value) -> Value {
    let mut metadata = json!({ "name": name });
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    json!({"apiVersion": "lummo.dev/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec})
}

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["api", "web", "orders-api", "billing", "jobs-worker"])
        .prop_map(str::to_string)
}

fn container(first: bool) -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["img:1.0.0", "img:1.2.3", "registry.example/app:2.0"]),
        prop::sample::subsequence(vec![("http", 8080), ("grpc", 9090)], 0..=2),
        prop::sample::select(vec!["100m", "250m"]),
        prop::sample::select(vec!["128Mi", "256Mi"]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(image, ports, cpu, memory, configs, secrets)| {
            let mut c = json!({"image": image,
                "resources": {"requests": {"cpu": cpu, "memory": memory}}});
            if !first {
                c["name"] = json!("sidecar");
            }
            if !ports.is_empty() {
                c["ports"] = ports
                    .iter()
                    .map(|(n, p)| json!({"name": n, "port": p}))
                    .collect();
            }
            if configs {
                c["configs"] = json!(["app-config"]);
            }
            if secrets {
                c["secrets"] = json!(["app-secret"]);
            }
            c
        })
}

/// A LummoDeployment most of whose choices render.
fn deployment() -> impl Strategy<Value = Value> {
    let containers = (container(true), prop::option::of(container(false)))
        .prop_map(|(a, b)| Value::Array([Some(a), b].into_iter().flatten().collect()));
    let scaling = prop::option::of((
        prop::option::of(1i64..=3),
        3i64..=10,
        prop::option::of(50i64..=90),
        prop::option::of(60i64..=90),
        prop::option::of(100i64..=1000),
    ));
    (
        (
            name(),
            prop::option::of(name()),
            prop::option::of(prop::sample::select(vec!["dev", "prod"])),
        ),
        containers,
        prop::option::of(1u32..=4),
        scaling,
        (any::<bool>(), any::<bool>(), any::<bool>()),
        (
            prop::option::of(3u32..=10),
            prop::option::of(60u32..=90),
            prop::option::of(any::<bool>()),
        ),
        prop::option::of(prop::sample::select(vec!["team-a", "team-b"])),
    )
        .prop_map(
            |(
                (app, part_of, environment),
                containers,
                replicas,
                scaling,
                (ha, datadog, prometheus),
                (pre_stop, grace, automount),
                namespace,
            )| {
                let mut spec = json!({"app": app, "containers": containers});
                if let Some(part_of) = part_of {
                    spec["part-of"] = json!(part_of);
                }
                if let Some(environment) = environment {
                    spec["environment"] = json!(environment);
                }
                match scaling {
                    Some((min, max, cpu, memory, pubsub)) => {
                        let mut s = json!({"maxreplica": max});
                        if let Some(min) = min {
                            s["minreplica"] = json!(min);
                        }
                        if let Some(cpu) = cpu {
                            s["cpu"] = json!({"target": cpu});
                        }
                        if let Some(memory) = memory {
                            s["memory"] = json!({"target": memory});
                        }
                        if let Some(size) = pubsub {
                            s["pubsubTopic"] = json!([{"name": "queue", "size": size}]);
                        }
                        spec["scaling"] = s;
                    }
                    None => {
                        if let Some(replicas) = replicas {
                            spec["replicas"] = json!(replicas);
                        }
                    }
                }
                if ha {
                    spec["topology"] = json!("ha");
                }
                spec["monitoring"] = json!({"datadog": datadog});
                if prometheus {
                    spec["monitoring"]["prometheus"] =
                        json!({"endpoint": "/metrics", "port": 9100});
                }
                let mut shutdown = json!({});
                if let Some(pre_stop) = pre_stop {
                    shutdown["preStopSeconds"] = json!(pre_stop);
                }
                if let Some(grace) = grace {
                    shutdown["terminationGracePeriodSeconds"] = json!(grace);
                }
                if shutdown != json!({}) {
                    spec["shutdown"] = shutdown;
                }
                if let Some(automount) = automount {
                    spec["automountServiceAccountToken"] = json!(automount);
                }
                spec_object("LummoDeployment", "app", namespace, spec)
            },
        )
}

/// A LummoJob or LummoCronJob most of whose choices render.
fn job() -> impl Strategy<Value = Value> {
    (
        (any::<bool>(), name(), prop::option::of(name()), prop::option::of(prop::sample::select(vec!["dev", "prod"]))),
        container(true),
        (any::<bool>(), any::<bool>(), prop::option::of(0i32..=3), prop::option::of(600i64..=3600), prop::option::of(60i32..=600)),
        (prop::option::of(prop::sample::select(vec!["Forbid", "Replace", "Allow"])), prop::option::of(prop::sample::select(vec!["Asia/Jakarta", "UTC"])), prop::option::of(30i64..=300), any::<bool>()),
        prop::option::of(prop::sample::select(vec!["team-a", "team-b"])),
    )
        .prop_map(|((cron, app, part_of, environment), container, (datadog, migration, backoff, deadline, ttl), (concurrency, zone, starting, suspend), namespace)| {
            let mut spec = json!({"app": app, "containers": [container], "monitoring": {"datadog": datadog}});
            for (key, value) in [
                ("part-of", part_of.map(Value::from)),
                ("environment", environment.map(Value::from)),
                ("backoffLimit", backoff.map(Value::from)),
                ("activeDeadlineSeconds", deadline.map(Value::from)),
                ("ttlSecondsAfterFinished", ttl.map(Value::from)),
            ] {
                if let Some(value) = value {
                    spec[key] = value;
                }
            }
            if migration && !cron {
                spec["migration"] = json!(true);
            }
            if cron {
                spec["schedule"] = json!("30 1 * * *");
                for (key, value) in [
                    ("concurrencyPolicy", concurrency.map(Value::from)),
                    ("timeZone", zone.map(Value::from)),
                    ("startingDeadlineSeconds", starting.map(Value::from)),
                ] {
                    if let Some(value) = value {
                        spec[key] = value;
                    }
                }
                if suspend {
                    spec["suspend"] = json!(true);
                }
            }
            let kind = if cron { "LummoCronJob" } else { "LummoJob" };
            spec_object(kind, "nightly-task", namespace, spec)
        })
}

/// A job's mutations, as [`mutations`].
fn job_mutations() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("metadata.name", vec![json!("other-task")]),
        ("metadata.namespace", vec![json!("team-c"), Value::Null]),
        ("spec.app", vec![json!("api"), json!("web-two")]),
        ("spec.part-of", vec![json!("shop"), Value::Null]),
        ("spec.environment", vec![json!("staging"), Value::Null]),
        ("spec.containers[0].image", vec![json!("img:9.9.9")]),
        ("spec.containers[0].command", vec![json!(["run", "--once"])]),
        (
            "spec.containers[0].secrets",
            vec![json!(["other-secret"]), Value::Null],
        ),
        (
            "spec.containers[0].resources.requests.cpu",
            vec![json!("500m")],
        ),
        ("spec.monitoring.datadog", vec![json!(true), json!(false)]),
        ("spec.migration", vec![json!(true), Value::Null]),
        ("spec.restartPolicy", vec![json!("OnFailure"), Value::Null]),
        ("spec.backoffLimit", vec![json!(6), Value::Null]),
        ("spec.activeDeadlineSeconds", vec![json!(7200), Value::Null]),
        ("spec.ttlSecondsAfterFinished", vec![json!(30), Value::Null]),
        (
            "spec.automountServiceAccountToken",
            vec![json!(true), Value::Null],
        ),
        (
            "spec.serviceAccountName",
            vec![json!("runner"), Value::Null],
        ),
        ("spec.schedule", vec![json!("0 3 * * MON")]),
        ("spec.timeZone", vec![json!("Europe/Paris"), Value::Null]),
        ("spec.concurrencyPolicy", vec![json!("Allow"), Value::Null]),
        (
            "spec.startingDeadlineSeconds",
            vec![json!(120), Value::Null],
        ),
        (
            "spec.successfulJobsHistoryLimit",
            vec![json!(5), Value::Null],
        ),
        ("spec.failedJobsHistoryLimit", vec![json!(2), Value::Null]),
        ("spec.suspend", vec![json!(true), Value::Null]),
    ]
}

/// The fields a mutation may change, each with values it may take (`null`:
/// removed).
fn mutations() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("spec.app", vec![json!("api"), json!("web-two")]),
        ("spec.part-of", vec![json!("shop"), Value::Null]),
        ("spec.environment", vec![json!("staging"), Value::Null]),
        (
            "spec.containers[0].image",
            vec![json!("img:9.9.9"), json!("other:1")],
        ),
        (
            "spec.containers[0].ports",
            vec![json!([{"name": "http", "port": 8081}]), Value::Null],
        ),
        (
            "spec.containers[0].resources.requests.cpu",
            vec![json!("500m")],
        ),
        (
            "spec.containers[0].resources.requests.memory",
            vec![json!("512Mi")],
        ),
        (
            "spec.containers[0].configs",
            vec![json!(["other-config"]), Value::Null],
        ),
        (
            "spec.containers[0].secrets",
            vec![json!(["other-secret"]), Value::Null],
        ),
        ("spec.containers[0].command", vec![json!(["run", "--fast"])]),
        ("spec.containers[0].env", vec![json!({"MODE": "fast"})]),
        ("spec.containers[1]", vec![Value::Null]),
        ("spec.replicas", vec![json!(2), json!(5), Value::Null]),
        (
            "spec.scaling.minreplica",
            vec![json!(1), json!(2), json!(3), Value::Null],
        ),
        ("spec.scaling.maxreplica", vec![json!(4), json!(12)]),
        ("spec.scaling.cpu", vec![json!({"target": 70}), Value::Null]),
        (
            "spec.scaling.memory",
            vec![json!({"target": 75}), Value::Null],
        ),
        (
            "spec.scaling.pubsubTopic",
            vec![json!([{"name": "other", "size": 50}]), Value::Null],
        ),
        ("spec.topology", vec![json!("ha"), Value::Null]),
        ("spec.monitoring.datadog", vec![json!(true), json!(false)]),
        (
            "spec.monitoring.prometheus",
            vec![json!({"endpoint": "/stats", "port": 9200}), Value::Null],
        ),
        ("spec.shutdown.preStopSeconds", vec![json!(7), Value::Null]),
        (
            "spec.shutdown.terminationGracePeriodSeconds",
            vec![json!(75), Value::Null],
        ),
        (
            "spec.automountServiceAccountToken",
            vec![json!(true), Value::Null],
        ),
        ("metadata.namespace", vec![json!("team-c"), Value::Null]),
    ]
}

/// `value` with the field at `path` set to `to` (`null`: removed); `None`
/// when the mutation changes nothing or its parent is missing.
fn mutate(value: &Value, path: &str, to: &Value) -> Option<Value> {
    let mut out = value.clone();
    let pointer = pointer(path);
    let (parent, last) = pointer.rsplit_once('/')?;
    let parent = out.pointer_mut(parent)?;
    match (parent, to) {
        (Value::Object(map), Value::Null) => {
            map.remove(last)?;
        }
        (Value::Object(map), to) => {
            if map.get(last) == Some(to) {
                return None;
            }
            map.insert(last.to_string(), to.clone());
        }
        (Value::Array(items), Value::Null) => {
            let index: usize = last.parse().ok()?;
            (index < items.len()).then(|| items.remove(index))?;
        }
        _ => return None,
    }
    Some(out)
}

/// Every failure of the property for one spec and one mutation of `field`.
fn misattributions(
    field: &str,
    before: &BTreeMap<(String, String), (Value, ObjectOrigins)>,
    after: &BTreeMap<(String, String), (Value, ObjectOrigins)>,
) -> Vec<String> {
    let mut failures = Vec::new();
    let keys: std::collections::BTreeSet<_> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let (old, new) = (before.get(key), after.get(key));
        let (Some((old, old_origins)), Some((new, new_origins))) = (old, new) else {
            let origins = &old.or(new).expect("a key of one side").1;
            // It exists because of the field, or the field renamed it.
            let made = origins
                .made_by
                .as_ref()
                .is_some_and(|m| m.depends_on(field));
            let renamed = origins
                .origin_of("metadata.name")
                .is_some_and(|m| m.depends_on(field));
            if !made && !renamed {
                failures.push(format!(
                    "{} {} comes or goes, made by {:?}",
                    key.0, key.1, origins.made_by
                ));
            }
            continue;
        };
        for path in changed_paths(Some(old), Some(new)) {
            if path == format!("metadata.annotations['{}']", lummo_core::GENERATED_HASH) {
                continue;
            }
            let origins = [new_origins.origin_of(&path), old_origins.origin_of(&path)];
            if !origins.iter().flatten().any(|o| o.depends_on(field)) {
                failures.push(format!(
                    "{} {} {path}: attributed to {:?}",
                    key.0, key.1, origins[0]
                ));
            }
        }
    }
    failures
}

fn cases() -> u32 {
    std::env::var("PROVENANCE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256)
}

/// The property for one random `spec` of `function` and its mutation number
/// `which` of `mutations` (the value `choice` picks): every changed field is
/// attributed to the mutated field ([`misattributions`]). A mutation that
/// changes nothing or makes the spec invalid is rejected, not failed.
fn attributed(
    function: &str,
    config: Value,
    beside: fn(&Value) -> Vec<Value>,
    spec: &Value,
    mutations: &[(&'static str, Vec<Value>)],
    (which, choice): (usize, usize),
) -> Result<(), TestCaseError> {
    let (field, values) = &mutations[which];
    let to = &values[choice % values.len()];
    let mutated = mutate(spec, field, to);
    prop_assume!(mutated.is_some());
    let before = render_by(function, config.clone(), spec, beside);
    let after = render_by(function, config, &mutated.expect("assumed"), beside);
    prop_assume!(before.is_some() && after.is_some());
    let failures = misattributions(field, &before.expect("assumed"), &after.expect("assumed"));
    prop_assert!(
        failures.is_empty(),
        "mutating {} to {}:\n{}",
        field,
        to,
        failures.join("\n")
    );
    Ok(())
}

/// One property test per kind of spec: `$name` tries `cases()` specs of
/// `$specs` rendered by `$function` with `$config` (seeded by `$seed`), and the
/// objects `$beside` gives for the spec, each with a random mutation of
/// `$mutations`.
macro_rules! attribution_property {
    ($name:ident, $seed:expr, $function:expr, $config:expr, $specs:expr, $mutations:expr) => {
        attribution_property!($name, $seed, $function, $config, $specs, $mutations, no_objects_beside);
    };
    ($name:ident, $seed:expr, $function:expr, $config:expr, $specs:expr, $mutations:expr, $beside:expr) => {
        proptest! {
            #![proptest_config(Config { cases: cases(), rng_seed: RngSeed::Fixed($seed), max_global_rejects: 100_000, ..Config::default() })]

            #[test]
            fn $name(spec in $specs, which in 0..$mutations.len(), choice in 0usize..4) {
                attributed($function, $config, $beside, &spec, &$mutations, (which, choice))?;
            }
        }
    };
}

attribution_property!(
    every_changed_field_is_attributed_to_the_mutated_spec_field,
    32,
    "lummo-workload",
    config(),
    deployment(),
    mutations()
);

attribution_property!(
    every_changed_job_field_is_attributed_to_the_mutated_spec_field,
    33,
    "lummo-workload",
    config(),
    job(),
    job_mutations()
);

/// A LummoTopic or LummoSubscription.
fn pubsub() -> impl Strategy<Value = Value> {
    let topics = prop::sample::subsequence(vec!["orders", "payments", "events"], 1..=3);
    let entry = (
        prop::sample::select(vec!["orders", "payments"]),
        prop::option::of(10i64..=600),
        prop::option::of(5i64..=100),
        prop::option::of(prop::sample::select(vec!["never", "30d"])),
    );
    (
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["dev-", "prod-"])),
        topics,
        prop::collection::vec(entry, 1..=2),
        (
            prop::option::of(10i64..=600),
            prop::option::of(any::<bool>()),
            prop::option::of(name()),
        ),
        prop::option::of(prop::sample::select(vec!["abandon", "delete"])),
    )
        .prop_map(
            |(subscription, prefix, topics, entries, (ack, retain, app), policy)| {
                let mut spec = json!({});
                if let Some(prefix) = prefix {
                    spec["prefix"] = json!(prefix);
                }
                if let Some(policy) = policy {
                    spec["deletionPolicy"] = json!(policy);
                }
                let kind = if subscription {
                    let entries: Vec<Value> = entries
                        .iter()
                        .enumerate()
                        .map(|(i, (topic, ack, attempts, ttl))| {
                            let mut e =
                                json!({"topic": topic, "subscription": format!("{topic}-sub{i}")});
                            for (key, value) in [
                                ("ackDeadlineSeconds", ack.map(Value::from)),
                                ("maxDeliveryAttempts", attempts.map(Value::from)),
                                ("ttl", ttl.map(Value::from)),
                            ] {
                                if let Some(value) = value {
                                    e[key] = value;
                                }
                            }
                            e
                        })
                        .collect();
                    spec["subscriptions"] = Value::Array(entries);
                    let mut config = json!({});
                    if let Some(ack) = ack {
                        config["ackDeadlineSeconds"] = json!(ack);
                    }
                    if let Some(retain) = retain {
                        config["retainAckedMessages"] = json!(retain);
                    }
                    if config != json!({}) {
                        spec["config"] = config;
                    }
                    if let Some(app) = app {
                        spec["app"] = json!(app);
                    }
                    "LummoSubscription"
                } else {
                    spec["topics"] = json!(topics);
                    "LummoTopic"
                };
                json!({"apiVersion": "lummo.dev/v1alpha1", "kind": kind,
                "metadata": {"name": "queues"}, "spec": spec})
            },
        )
}

/// A LummoTopic's or LummoSubscription's mutations, as [`mutations`].
fn pubsub_mutations() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("metadata.name", vec![json!("other-queues")]),
        ("metadata.namespace", vec![json!("team-c")]),
        ("spec.prefix", vec![json!("stg-"), Value::Null]),
        ("spec.deletionPolicy", vec![json!("delete"), Value::Null]),
        ("spec.topics[0]", vec![json!("audit")]),
        (
            "spec.topics",
            vec![json!(["orders"]), json!(["orders", "audit"])],
        ),
        ("spec.subscriptions[0].subscription", vec![json!("renamed")]),
        ("spec.subscriptions[0].topic", vec![json!("events")]),
        (
            "spec.subscriptions[0].ackDeadlineSeconds",
            vec![json!(42), Value::Null],
        ),
        (
            "spec.subscriptions[0].maxDeliveryAttempts",
            vec![json!(7), Value::Null],
        ),
        (
            "spec.subscriptions[0].ttl",
            vec![json!("never"), json!("14d"), Value::Null],
        ),
        ("spec.subscriptions[1]", vec![Value::Null]),
        (
            "spec.config",
            vec![json!({"ackDeadlineSeconds": 99}), Value::Null],
        ),
        ("spec.app", vec![json!("billing"), Value::Null]),
    ]
}

attribution_property!(
    every_changed_pubsub_field_is_attributed_to_the_mutated_spec_field,
    34,
    "lummo-pubsub",
    pubsub_config(),
    pubsub(),
    pubsub_mutations()
);

fn pubsub_config() -> Value {
    config_map("pubsub-config", json!({"projectNumber": "123456789012"}))
}
/// Mutations of a rendered field's spec field are seen: a property that only
/// ever passed would prove nothing. Changing minreplica changes the
/// ScaledObject's minReplicaCount, which names it; had the record named
/// maxreplica, the property would fail.
#[test]
fn the_property_catches_a_wrong_record() {
    let spec = json!({"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoDeployment",
        "metadata": {"name": "app"}, "spec": {"app": "api",
            "containers": [{"image": "img:1", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
            "scaling": {"minreplica": 1, "maxreplica": 5, "cpu": {"target": 50}}}});
    let mutated = mutate(&spec, "spec.scaling.minreplica", &json!(2)).expect("a change");
    let before = render(&spec).expect("renders");
    let after = render(&mutated).expect("renders");
    assert!(misattributions("spec.scaling.minreplica", &before, &after).is_empty());
    let mut wrong = after.clone();
    for (_, origins) in wrong.values_mut() {
        for record in &mut origins.records {
            if record.prefix == "spec.minReplicaCount" {
                record.origin = lummo_core::origins::spec("spec.scaling.maxreplica");
            }
        }
    }
    let mut wrong_before = before.clone();
    for (_, origins) in wrong_before.values_mut() {
        origins
            .records
            .retain(|r| r.prefix != "spec.minReplicaCount");
    }
    let failures = misattributions("spec.scaling.minreplica", &wrong_before, &wrong);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("spec.minReplicaCount"), "{failures:?}");
}

/// The share of generated fields with a provenance, per function, over the
/// rendered example packages (`Kptfile.examples/*`): printed (`--nocapture`) and held to
/// a floor per function, so a renderer change that drops records fails.
#[test]
fn provenance_coverage_of_the_examples() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Kptfile.examples");
    let settings = lummo_render::Settings {
        provenance: lummo_render::Provenance::Record,
        ..Default::default()
    };
    let mut shares: BTreeMap<&str, Coverage> = BTreeMap::new();
    let mut packages: Vec<std::path::PathBuf> = std::fs::read_dir(&examples)
        .expect("Kptfile.examples")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.join("Kptfile").is_file())
        .collect();
    packages.sort();
    assert!(packages.len() >= 5, "the examples went missing");
    for package in &packages {
        let rendered =
            lummo_render::render_quietly(package, settings.clone(), lummo_render::Target::Items)
                .expect("the examples render");
        assert!(
            !rendered.failed(),
            "{} renders without errors",
            package.display()
        );
        for item in &rendered.items {
            let Some(by) = item.annotation(lummo_core::GENERATED_BY) else {
                continue;
            };
            let function = lummo_validate::DESCRIPTORS
                .iter()
                .map(|d| d.name())
                .find(|name| by.starts_with(&format!("{name}:")))
                .unwrap_or("unknown");
            let file = item.file_ref().expect("a rendered object has a file");
            let provenance = rendered.provenance.get(&(file.path, file.index));
            if let Some(provenance) = provenance {
                let misnamed = misnamed_records(item.value(), &provenance.origins);
                assert!(
                    misnamed.is_empty(),
                    "{} {} in {}: records {misnamed:?} name no field as written",
                    item.kind(),
                    item.name(),
                    package.display()
                );
            }
            shares
                .entry(function)
                .or_default()
                .add(item.value(), provenance.map(|p| &p.origins));
        }
    }
    let mut report = String::new();
    for (function, coverage) in &shares {
        report.push_str(&format!(
            "{function}: {} of {} generated fields have a provenance ({:.0}%)\n",
            coverage.with_origin,
            coverage.fields,
            100.0 * coverage.with_origin as f64 / coverage.fields.max(1) as f64
        ));
    }
    println!("{report}");
    // Floors, raised as records are added (a ratchet). lummo-networking's and
    // lummo-pgbouncer's were 0.75 and 0.8 under one blanket record over each
    // object's whole `spec`, which also claimed its constants (probes, ports,
    // a redirect's scheme) came from every spec field; their records are now
    // per field and constants answer "rule of <function>", as lummo-workload's.
    for (function, floor) in [
        ("lummo-workload", 0.7),
        ("lummo-pubsub", 0.75),
        ("lummo-networking", 0.65),
        ("lummo-pgbouncer", 0.65),
        ("lummo-backstage", 0.6),
    ] {
        let coverage = shares.get(function).copied().unwrap_or_default();
        let share = coverage.with_origin as f64 / coverage.fields.max(1) as f64;
        assert!(
            share >= floor,
            "{function}: {share:.2} of its fields have a provenance, below {floor}\n{report}"
        );
    }
}

/// A LummoNetworking most of whose choices render: 1 to 3 routes of distinct
/// rules, some vpn, on one or two domains; Traefik mode or Gateway API mode
/// is the config's (`networking_config`).
fn networking() -> impl Strategy<Value = Value> {
    networking_with(&[
        "PathPrefix(`/`)",
        "PathPrefix(`/api`)",
        "Path(`/healthz`)",
        "Method(`DELETE`)",
    ])
}

/// A LummoNetworking of 1 to 3 of these rules, each vpn or not, on one or two
/// domains, grpc or not, in a namespace or not.
fn networking_with(rules: &[&'static str]) -> impl Strategy<Value = Value> {
    let rules = prop::sample::subsequence(rules.to_vec(), 1..=3);
    (
        name(),
        any::<bool>(),
        prop::sample::subsequence(vec!["a.example.com", "b.example.com"], 1..=2),
        rules,
        prop::collection::vec(any::<bool>(), 3),
        prop::option::of(prop::sample::select(vec!["team-a", "team-b"])),
    )
        .prop_map(|(app, grpc, domains, rules, vpn, namespace)| {
            let routes: Vec<Value> = rules
                .iter()
                .zip(vpn)
                .map(|(rule, vpn)| {
                    let mut route = json!({"match": rule});
                    if vpn {
                        route["vpn"] = json!(true);
                    }
                    route
                })
                .collect();
            let mut spec = json!({"app": app, "domains": domains, "routes": routes});
            if grpc {
                spec["grpc"] = json!(true);
            }
            spec_object("LummoNetworking", "routes", namespace, spec)
        })
}

fn networking_config() -> Value {
    config_map(
        "networking-config",
        json!({"vpnSourceRanges": "[10.8.0.0/16]", "ipStrategyDepth": "1"}),
    )
}

/// A LummoNetworking's mutations, as [`mutations`].
fn networking_mutations() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("metadata.name", vec![json!("other-routes")]),
        ("metadata.namespace", vec![json!("team-c"), Value::Null]),
        ("spec.app", vec![json!("billing"), json!("web-two")]),
        ("spec.grpc", vec![json!(true), json!(false)]),
        (
            "spec.domains",
            vec![
                json!(["c.example.com"]),
                json!(["a.example.com", "c.example.com"]),
            ],
        ),
        ("spec.domains[0]", vec![json!("d.example.com")]),
        (
            "spec.routes[0].match",
            vec![json!("PathPrefix(`/v2`)"), json!("Path(`/`)")],
        ),
        ("spec.routes[0].vpn", vec![json!(true), Value::Null]),
        ("spec.routes[1].match", vec![json!("Path(`/admin`)")]),
        ("spec.routes[1].vpn", vec![json!(true), Value::Null]),
        ("spec.routes[1]", vec![Value::Null]),
        (
            "spec.routes",
            vec![json!([{"match": "PathPrefix(`/other`)"}])],
        ),
    ]
}

attribution_property!(
    every_changed_networking_field_is_attributed_to_the_mutated_spec_field,
    35,
    "lummo-networking",
    networking_config(),
    networking(),
    networking_mutations()
);

/// A LummoNetworking for Gateway API mode: 1 to 3 routes, some vpn, of rules
/// both an HTTPRoute and a GRPCRoute can express (so `grpc` may flip) and
/// rules only an HTTPRoute can (a method, a query, an `||`: with `grpc` they
/// are an error, and the case is rejected).
fn gateway_networking() -> impl Strategy<Value = Value> {
    networking_with(&[
        "PathPrefix(`/orders.Orders/`)",
        "Path(`/orders.Orders/Get`)",
        "Header(`x-team`, `ops`)",
        "PathPrefix(`/billing.Billing/`) && Header(`x-canary`, `1`)",
        "Method(`DELETE`)",
        "PathPrefix(`/api`) && Query(`debug`, `1`)",
        "(PathPrefix(`/a`) || PathPrefix(`/b`)) && Method(`GET`)",
    ])
}

/// Gateway API mode reads the port numbers of the app's Service (lummo-workload
/// generates it from the same app): one in the spec's namespace, its numbers
/// differing between apps, so that a change of `spec.app` changes them too.
fn service_of_the_app(spec: &Value) -> Vec<Value> {
    let app = spec
        .pointer("/spec/app")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let base = 8000 + 10 * app.len() as i64;
    let mut metadata = json!({ "name": app });
    if let Some(namespace) = spec.pointer("/metadata/namespace") {
        metadata["namespace"] = namespace.clone();
    }
    vec![
        json!({"apiVersion": "v1", "kind": "Service", "metadata": metadata,
        "spec": {"ports": [{"name": "http", "port": base}, {"name": "grpc", "port": base + 1}]}}),
    ]
}

fn gateway_networking_config() -> Value {
    config_map(
        "networking-config",
        json!({"mode": "gateway-api", "gateway": "public", "gatewayNamespace": "gateways",
            "gatewaySectionName": "websecure", "vpnSourceRanges": "[10.8.0.0/16]"}),
    )
}

/// A Gateway API LummoNetworking's mutations: [`networking_mutations`] and the
/// rules only Gateway API mode turns into matches.
fn gateway_networking_mutations() -> Vec<(&'static str, Vec<Value>)> {
    let mut mutations = networking_mutations();
    mutations.extend([
        (
            "spec.routes[0].match",
            vec![
                json!("Path(`/payments.Payments/Refund`)"),
                json!("PathPrefix(`/v2`) && Header(`x-team`, `ops`)"),
                json!("Method(`POST`) || Method(`PUT`)"),
            ],
        ),
        (
            "spec.routes[2].match",
            vec![json!(
                "PathPrefix(`/orders.Orders/`) && Header(`x-team`, `dev`)"
            )],
        ),
        ("spec.routes[2].vpn", vec![json!(true), Value::Null]),
    ]);
    mutations
}

attribution_property!(
    every_changed_gateway_api_field_is_attributed_to_the_mutated_spec_field,
    38,
    "lummo-networking",
    gateway_networking_config(),
    gateway_networking(),
    gateway_networking_mutations(),
    service_of_the_app
);

/// A LummoPgBouncer most of whose choices render: a connection Secret or
/// Vault (static or dynamic, with a role or not), a database or not, some
/// settings, TLS to PostgreSQL, a server connection budget.
fn pgbouncer() -> impl Strategy<Value = Value> {
    (
        (name(), prop::option::of(name()), prop::option::of(1i32..=3)),
        (
            prop::option::of(prop::sample::select(vec!["static", "dynamic"])),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            prop::option::of(prop::sample::select(vec![20u32, 50])),
            prop::option::of(prop::sample::select(vec!["require", "disable"])),
            prop::option::of(prop::sample::select(vec![120u32, 400])),
        ),
        (
            prop::option::of(prop::sample::select(vec!["edoburu/pgbouncer:v1.23.1-p3"])),
            prop::option::of(prop::sample::select(vec!["100m", "200m"])),
        ),
        prop::option::of(prop::sample::select(vec!["team-a", "team-b"])),
    )
        .prop_map(
            |(
                (app, part_of, replicas),
                (vault, role, database),
                (pool, tls, budget),
                (image, cpu),
                namespace,
            )| {
                let mut spec = json!({"app": app});
                if let Some(part_of) = part_of {
                    spec["part-of"] = json!(part_of);
                }
                if let Some(replicas) = replicas {
                    spec["replicas"] = json!(replicas);
                }
                match vault {
                    Some(kind) => {
                        spec["vault"] = json!({"path": "infra/postgres/creds", "type": kind});
                        if role {
                            spec["vault"]["role"] = json!("db-reader");
                        }
                    }
                    None => spec["connectionSecret"] = json!("db-creds"),
                }
                if database || vault == Some("dynamic") {
                    spec["database"] =
                        json!({"host": "db.internal", "port": 5432, "name": "orders"});
                }
                if let Some(pool) = pool {
                    spec["config"] = json!({"default_pool_size": pool});
                }
                if let Some(mode) = tls {
                    spec["serverTls"] = json!({"sslmode": mode});
                }
                if let Some(budget) = budget {
                    spec["maxServerConnections"] = json!(budget);
                }
                if let Some(image) = image {
                    spec["image"] = json!(image);
                }
                if let Some(cpu) = cpu {
                    spec["resources"] = json!({"requests": {"cpu": cpu}});
                }
                spec_object("LummoPgBouncer", "pooler", namespace, spec)
            },
        )
}

fn pgbouncer_config() -> Value {
    config_map(
        "pgbouncer-config",
        json!({"databaseCidrs": "[10.20.0.0/24]"}),
    )
}

/// A LummoPgBouncer's mutations, as [`mutations`].
fn pgbouncer_mutations() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("metadata.name", vec![json!("other-pooler")]),
        ("metadata.namespace", vec![json!("team-c"), Value::Null]),
        ("spec.app", vec![json!("billing"), json!("web-two")]),
        ("spec.part-of", vec![json!("shop"), Value::Null]),
        ("spec.replicas", vec![json!(1), json!(4), Value::Null]),
        (
            "spec.image",
            vec![json!("edoburu/pgbouncer:v1.22.0"), Value::Null],
        ),
        (
            "spec.resources",
            vec![json!({"limits": {"memory": "256Mi"}}), Value::Null],
        ),
        (
            "spec.config",
            vec![
                json!({"default_pool_size": 30, "reserve_pool_size": 5}),
                Value::Null,
            ],
        ),
        (
            "spec.serverTls",
            vec![json!({"sslmode": "require"}), Value::Null],
        ),
        ("spec.maxServerConnections", vec![json!(300), Value::Null]),
        (
            "spec.connectionSecret",
            vec![json!("other-creds"), Value::Null],
        ),
        ("spec.vault.role", vec![json!("other-role"), Value::Null]),
        ("spec.vault.path", vec![json!("kv/other/creds")]),
        ("spec.vault.type", vec![json!("static"), json!("dynamic")]),
        ("spec.database.name", vec![json!("billing"), Value::Null]),
        ("spec.database.host", vec![json!("db2.internal")]),
    ]
}

attribution_property!(
    every_changed_pgbouncer_field_is_attributed_to_the_mutated_spec_field,
    36,
    "lummo-pgbouncer",
    pgbouncer_config(),
    pgbouncer(),
    pgbouncer_mutations()
);

fn backstage_config() -> Value {
    config_map(
        "backstage-config",
        json!({"owner": "group:payments", "datadogSite": "datadoghq.eu"}),
    )
}

/// The LummoDeployment fields lummo-backstage reads, and some it does not (a
/// Component must not change with them), as [`mutations`].
fn backstage_mutations() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("metadata.name", vec![json!("other-app")]),
        ("metadata.namespace", vec![json!("team-c"), Value::Null]),
        ("spec.app", vec![json!("billing"), json!("web-two")]),
        ("spec.part-of", vec![json!("shop"), Value::Null]),
        ("spec.monitoring.datadog", vec![json!(true), json!(false)]),
        (
            "spec.scaling.pubsubTopic",
            vec![json!([{"name": "other", "size": 50}]), Value::Null],
        ),
        ("spec.containers[0].image", vec![json!("img:9.9.9")]),
        ("spec.replicas", vec![json!(5), Value::Null]),
    ]
}

attribution_property!(
    every_changed_backstage_field_is_attributed_to_the_mutated_spec_field,
    37,
    "lummo-backstage",
    backstage_config(),
    deployment(),
    backstage_mutations()
);
