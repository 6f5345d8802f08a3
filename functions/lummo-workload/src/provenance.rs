//! Where the fields of a LummoDeployment's objects come from (issue 32,
//! `lummo_core::origins`): one rule set per generated kind, beside the
//! renderers it describes. Each record names every spec field its rule reads, so
//! a change of any other field never changes a field it covers: the property
//! test of crates/lummo-cli/tests/provenance.rs mutates random specs one field
//! at a time and holds the records to it. Constant fields (security contexts,
//! KEDA's HPA behaviour, sync waves) have no record: they answer "rule of
//! lummo-workload".

use crate::spec::LummoDeploymentSpec;
use krm_sdk::{ObjectExt, Value};
use lummo_core::origins::{derived, spec, Origins};
use lummo_core::Spec;

/// The labels every object of the app carries (`lummo_core::labels`).
const LABELS_FROM: [&str; 2] = ["spec.app", "spec.part-of"];

/// The records of `objects`, all generated from `deployment`.
pub fn record(deployment: &Spec<LummoDeploymentSpec>, objects: &[Value]) -> Origins {
    let mut origins = Origins::new();
    let written = Written(&deployment.object);
    let part_of = written.either("spec.part-of", "spec.partOf");
    let labels: Vec<&str> = vec![LABELS_FROM[0], part_of];
    for object in objects {
        let o = &mut origins;
        o.metadata(
            object,
            spec("spec.app"),
            derived("the app's labels", &labels),
        );
        match object.kind() {
            "Rollout" => rollout(o, object, &labels),
            "Service" => {
                o.exists(object, spec("spec.containers"));
                o.derived(
                    object,
                    "spec.ports",
                    "the containers' declared ports, the metrics port left out",
                    &["spec.containers", "spec.monitoring.prometheus"],
                );
                o.spec(object, "spec.selector", "spec.app");
            }
            "ServiceAccount" => {
                o.spec_or_default(
                    object,
                    "automountServiceAccountToken",
                    &deployment.object,
                    "spec.automountServiceAccountToken",
                    "false: the pods read no Kubernetes API",
                );
                // The configured account (googleServiceAccounts, or the
                // googleServiceAccount template for an app that uses Pub/Sub).
                o.derived(object, "metadata.annotations['iam.gke.io/gcp-service-account']", "the Google service account configured for the app (googleServiceAccounts, or googleServiceAccount when it uses Pub/Sub)", &["spec.app", "spec.scaling"]);
            }
            "PodDisruptionBudget" => {
                let from = ["spec.replicas", "spec.scaling", "spec.topology"];
                o.exists(object, derived("a PodDisruptionBudget when the app may run more than one replica, or with topology ha", &from));
                o.derived(
                    object,
                    "spec.maxUnavailable",
                    "1 replica at a time (a floor of 2 with topology ha)",
                    &from,
                );
                o.derived(
                    object,
                    "spec.minAvailable",
                    "1 replica at a time (a floor of 2 with topology ha)",
                    &from,
                );
                o.spec(object, "spec.selector", "spec.app");
            }
            "ScaledObject" => scaled_object(o, object, &written),
            "TriggerAuthentication" => {
                let scaling = written.either("spec.scaling.pubsubTopic", "spec.scaling.pubsub");
                o.exists(object, spec(scaling));
            }
            "PodMonitor" => {
                let from = ["spec.monitoring.prometheus", "spec.containers"];
                o.exists(
                    object,
                    derived(
                        "a PodMonitor for monitoring.prometheus on the metrics port",
                        &from,
                    ),
                );
                o.derived(
                    object,
                    "spec.podMetricsEndpoints",
                    "monitoring.prometheus's endpoint on the metrics port",
                    &from,
                );
                o.spec(object, "spec.selector", "spec.app");
            }
            "AnalysisTemplate" => {
                let from = ["spec.strategy", "spec.monitoring", "spec.app"];
                o.exists(object, derived("the canary's analysis", &from));
                o.derived(
                    object,
                    "spec",
                    "the canary's analysis query and its limits",
                    &from,
                );
            }
            "NetworkPolicy" => {
                o.derived(object, "spec", "the app's pods admit Prometheus (the config's prometheusNamespace) to the metrics port", &["spec.app", "spec.monitoring.prometheus", "spec.containers"]);
            }
            "IAMPolicyMember" => {
                let from = ["spec.app", "spec.scaling", "metadata.namespace"];
                o.exists(
                    object,
                    derived("Workload Identity: the app's grants", &from),
                );
                o.derived(
                    object,
                    "metadata.name",
                    "Workload Identity: the app's grants",
                    &from,
                );
                o.derived(object, "spec", "Workload Identity: the app's grants, with the configured accounts and projects", &from);
            }
            _ => {}
        }
    }
    origins
}

fn rollout(o: &mut Origins, object: &Value, labels: &[&str]) {
    let datadog = "spec.monitoring.datadog";
    let datadog_labels = |prefix: &str, o: &mut Origins| {
        o.derived(
            object,
            &format!("{prefix}.labels"),
            "the app's labels",
            labels,
        );
        let tag = |name: &str| format!("{prefix}.labels['tags.datadoghq.com/{name}']");
        o.derived(
            object,
            &tag("env"),
            "Datadog's env: environment, with monitoring.datadog",
            &["spec.environment", datadog],
        );
        o.derived(
            object,
            &tag("service"),
            "Datadog's service: the app, with monitoring.datadog",
            &["spec.app", datadog],
        );
        o.derived(
            object,
            &tag("version"),
            "Datadog's version: the first container's image tag, with monitoring.datadog",
            &["spec.containers", datadog],
        );
    };
    datadog_labels("metadata", o);
    datadog_labels("spec.template.metadata", o);
    o.derived(
        object,
        "metadata.annotations",
        "Reloader restarts the Rollout when a ConfigMap or Secret of its containers changes",
        &["spec.containers"],
    );
    o.derived(
        object,
        "spec.replicas",
        "replicas, or 1 (2 with topology ha) when unset",
        &["spec.replicas", "spec.topology"],
    );
    o.spec(object, "spec.selector", "spec.app");
    o.derived(
        object,
        "spec.strategy",
        "the rollout strategy, its analysis and the Prometheus or Datadog query",
        &["spec.strategy", "spec.monitoring", "spec.app"],
    );
    let pod = "spec.template.spec";
    let shutdown = "spec.shutdown.terminationGracePeriodSeconds";
    o.derived(
        object,
        &format!("{pod}.terminationGracePeriodSeconds"),
        "shutdown.terminationGracePeriodSeconds, 45 when unset",
        &[shutdown],
    );
    o.spec(object, &format!("{pod}.serviceAccountName"), "spec.app");
    o.derived(
        object,
        &format!("{pod}.automountServiceAccountToken"),
        "automountServiceAccountToken, false when unset",
        &["spec.automountServiceAccountToken"],
    );
    o.derived(
        object,
        &format!("{pod}.topologySpreadConstraints"),
        "spread over zones and nodes by topology",
        &["spec.topology", "spec.app"],
    );
    o.derived(
        object,
        &format!("{pod}.volumes"),
        "a /tmp emptyDir per read-only container",
        &["spec.containers"],
    );
    let containers = object
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    o.spec(object, &format!("{pod}.containers"), "spec.containers");
    for i in 0..containers {
        let at = format!("{pod}.containers[{i}]");
        let from = format!("spec.containers[{i}]");
        container(o, object, &at, &from, &["spec.monitoring.datadog"]);
        for field in ["image", "command", "args", "resources"] {
            o.spec(object, &format!("{at}.{field}"), &format!("{from}.{field}"));
        }
        o.derived(
            object,
            &format!("{at}.envFrom"),
            "the container's configs and secrets",
            &[&format!("{from}.configs"), &format!("{from}.secrets")],
        );
        o.derived(
            object,
            &format!("{at}.ports"),
            "the container's ports, with the metrics port",
            &[&from, "spec.monitoring.prometheus"],
        );
        o.derived(
            object,
            &format!("{at}.lifecycle"),
            "a preStop sleep of shutdown.preStopSeconds",
            &["spec.shutdown.preStopSeconds"],
        );
    }
}

fn scaled_object(o: &mut Origins, object: &Value, written: &Written) {
    let scaling = "spec.scaling";
    o.exists(object, spec(scaling));
    o.spec(object, "spec.scaleTargetRef", "spec.app");
    let min = written.either("spec.scaling.minreplica", "spec.scaling.minReplicas");
    o.derived(
        object,
        "spec.minReplicaCount",
        "minreplica, or 1 (2 with topology ha) when unset",
        &[min, "spec.topology"],
    );
    let max = written.either("spec.scaling.maxreplica", "spec.scaling.maxReplicas");
    o.spec(object, "spec.maxReplicaCount", max);
    o.derived(
        object,
        "spec.fallback",
        "fallbackReplicas, for scaling on pubsubTopic alone",
        &["spec.scaling"],
    );
    let pubsub = written.either("spec.scaling.pubsubTopic", "spec.scaling.pubsub");
    o.derived(
        object,
        "spec.triggers",
        "one trigger per cpu, memory and pubsubTopic target, in that order",
        &["spec.scaling.cpu", "spec.scaling.memory", pubsub],
    );
    // A trigger's index moves when one before it comes or goes; its own fields
    // are recorded when the spec's order gives the index.
    let mut index = 0;
    for resource in ["cpu", "memory"] {
        if written.has(&format!("spec.scaling.{resource}")) {
            o.spec(
                object,
                &format!("spec.triggers[{index}].metadata.value"),
                &format!("spec.scaling.{resource}.target"),
            );
            index += 1;
        }
    }
    let triggers = written.len(pubsub);
    for i in 0..triggers {
        let at = format!("spec.triggers[{}]", index + i);
        let from = format!("{pubsub}[{i}]");
        o.derived(object, &format!("{at}.metadata.subscriptionName"), "projects/<project>/subscriptions/<name>, the configured project unless the name is full", &[&format!("{from}.name")]);
        o.spec(
            object,
            &format!("{at}.metadata.value"),
            &format!("{from}.size"),
        );
        o.spec(
            object,
            &format!("{at}.metadata.activationValue"),
            &format!("{from}.activationSize"),
        );
        o.spec(object, &format!("{at}.authenticationRef"), "spec.app");
    }
}

/// The spec as its author wrote it: which spelling of a field it uses.
struct Written<'a>(&'a Value);

impl Written<'_> {
    fn has(&self, path: &str) -> bool {
        self.0
            .pointer(&lummo_core::origins::pointer(path))
            .is_some_and(|v| !v.is_null())
    }

    /// `alias` when the spec uses it, else `field` (its documented spelling).
    fn either<'f>(&self, field: &'f str, alias: &'f str) -> &'f str {
        if !self.has(field) && self.has(alias) {
            alias
        } else {
            field
        }
    }

    /// How many entries the list at `path` has (a single mapping is one).
    fn len(&self, path: &str) -> usize {
        match self.0.pointer(&lummo_core::origins::pointer(path)) {
            Some(Value::Array(items)) => items.len(),
            Some(Value::Object(_)) => 1,
            _ => 0,
        }
    }
}

/// The records every generated container has: the spec's container `from` at
/// `at`, its name (the app's for the first container) and its env, which adds
/// Datadog's variables read from `env_reads` to the container's own.
fn container(o: &mut Origins, object: &Value, at: &str, from: &str, env_reads: &[&str]) {
    o.spec(object, at, from);
    o.derived(
        object,
        &format!("{at}.name"),
        "the container's name, the app's for the first",
        &[from, "spec.app"],
    );
    let env: Vec<&str> = std::iter::once(from)
        .chain(env_reads.iter().copied())
        .collect();
    o.derived(
        object,
        &format!("{at}.env"),
        "the container's env, with Datadog's",
        &env,
    );
}

/// The records of the Job or CronJob of a LummoJob or LummoCronJob.
pub fn record_job(job: &Value, objects: &[Value]) -> Origins {
    let mut origins = Origins::new();
    let written = Written(job);
    let part_of = written.either("spec.part-of", "spec.partOf");
    let labels = [
        "metadata.name",
        "spec.app",
        part_of,
        "spec.environment",
        "spec.containers",
        "spec.monitoring.datadog",
    ];
    for object in objects {
        let o = &mut origins;
        o.metadata(
            object,
            spec("metadata.name"),
            derived("the job's labels, with its app's and Datadog's", &labels),
        );
        let (job_at, cron) = match object.kind() {
            "CronJob" => ("spec.jobTemplate.spec", true),
            _ => ("spec", false),
        };
        if cron {
            o.derived(
                object,
                "spec.jobTemplate.metadata.labels",
                "the job's labels, with its app's and Datadog's",
                &labels,
            );
            for (at, field) in [
                ("spec.schedule", "spec.schedule"),
                ("spec.timeZone", "spec.timeZone"),
                (
                    "spec.successfulJobsHistoryLimit",
                    "spec.successfulJobsHistoryLimit",
                ),
                ("spec.failedJobsHistoryLimit", "spec.failedJobsHistoryLimit"),
                ("spec.suspend", "spec.suspend"),
            ] {
                o.spec(object, at, field);
            }
            o.derived(
                object,
                "spec.concurrencyPolicy",
                "concurrencyPolicy, Forbid when unset",
                &["spec.concurrencyPolicy"],
            );
            o.derived(
                object,
                "spec.startingDeadlineSeconds",
                "startingDeadlineSeconds, its default when unset",
                &["spec.startingDeadlineSeconds"],
            );
        }
        o.spec(
            object,
            &format!("{job_at}.backoffLimit"),
            "spec.backoffLimit",
        );
        o.derived(
            object,
            &format!("{job_at}.activeDeadlineSeconds"),
            "activeDeadlineSeconds, the kind's default when unset",
            &["spec.activeDeadlineSeconds"],
        );
        o.spec(
            object,
            &format!("{job_at}.ttlSecondsAfterFinished"),
            "spec.ttlSecondsAfterFinished",
        );
        let pod = format!("{job_at}.template");
        o.derived(
            object,
            &format!("{pod}.metadata.labels"),
            "the job's labels, with its app's and Datadog's",
            &labels,
        );
        o.derived(
            object,
            &format!("{pod}.spec.restartPolicy"),
            "restartPolicy, Never when unset",
            &["spec.restartPolicy"],
        );
        o.derived(
            object,
            &format!("{pod}.spec.automountServiceAccountToken"),
            "automountServiceAccountToken, false when unset",
            &["spec.automountServiceAccountToken"],
        );
        o.spec(
            object,
            &format!("{pod}.spec.serviceAccountName"),
            "spec.serviceAccountName",
        );
        let containers = object
            .pointer(&lummo_core::origins::pointer(&format!(
                "{pod}.spec.containers"
            )))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        for i in 0..containers {
            let at = format!("{pod}.spec.containers[{i}]");
            let from = format!("spec.containers[{i}]");
            container(
                o,
                object,
                &at,
                &from,
                &["spec.monitoring.datadog", "spec.app"],
            );
        }
    }
    origins
}
