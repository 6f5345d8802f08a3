//! The `LummoDeployment` kind, as users write it.
//!
//! Spellings follow the product README (`part-of`, `minreplica`, `maxreplica`,
//! `pubsubTopic`); the conventional camelCase forms (`partOf`, `minReplicas`,
//! `maxReplicas`) are accepted as aliases everywhere the README is unusual.

use krm_sdk::decode::one_or_many;
use lummo_core::duration::GoDuration;
use lummo_core::names::{AppName, DnsLabel, DnsSubdomain, LabelValue, PortName};
use lummo_core::port::{PortNumber, PortRef};
use lummo_core::quantity::ResourceQuantity;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LummoDeploymentSpec {
    /// `app.kubernetes.io/name` and the name of every generated object.
    pub app: AppName,
    /// `app.kubernetes.io/part-of`: the system this app belongs to.
    #[serde(default, rename = "part-of", alias = "partOf")]
    pub part_of: Option<LabelValue>,
    /// The environment this app runs in (`dev`, `prod`): Datadog's `env` tag
    /// (`tags.datadoghq.com/env` on the workload and its pods, hence DD_ENV). An
    /// environment overlay sets it, e.g. a kustomize patch of `/spec/environment`.
    #[serde(default)]
    pub environment: Option<LabelValue>,
    /// One container or a list of them; the first is the main one.
    #[serde(deserialize_with = "one_or_many")]
    #[schemars(with = "OneOrMany<Container>")]
    pub containers: Vec<Container>,
    /// Fixed replica count when there is no `scaling`; default 1 (`ha`: 2).
    #[serde(default)]
    pub replicas: Option<u32>,
    #[serde(default)]
    pub monitoring: Monitoring,
    /// The Argo Rollout strategy, passed through as is, plus the `analysis`
    /// shorthand. Empty: a stepped canary. `canary.trafficRouting` is refused: its
    /// TraefikService and canary/stable Services are not generated.
    #[serde(default)]
    #[schemars(with = "StrategySchema")]
    pub strategy: Map<String, Value>,
    #[serde(default)]
    pub scaling: Option<Scaling>,
    #[serde(default)]
    pub topology: Topology,
    /// Mount the ServiceAccount token into pods (off by default).
    #[serde(default)]
    pub automount_service_account_token: bool,
    /// How a pod stops: Traefik and kube-proxy stop sending it requests while
    /// it still serves them.
    #[serde(default)]
    pub shutdown: Shutdown,
}

/// Graceful shutdown. A deleted pod leaves the Service's endpoints while the
/// kubelet sends SIGTERM, in parallel: Traefik keeps routing to it until its
/// provider sees the endpoint go. The `preStop` sleep holds SIGTERM back for
/// `preStopSeconds`, so the app stops only after the routers have let go; the
/// app then has the rest of `terminationGracePeriodSeconds` to finish its
/// requests before SIGKILL.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Shutdown {
    /// Seconds between the pod's deletion and SIGTERM (a `preStop` sleep action,
    /// Kubernetes 1.30+, no `sleep` binary needed in the image); 0 leaves the
    /// `preStop` out. Default 10.
    #[serde(default = "pre_stop_seconds")]
    #[schemars(range(min = 0, max = 300))]
    pub pre_stop_seconds: u32,
    /// Seconds from the pod's deletion to SIGKILL, preStop included; more than
    /// `preStopSeconds`. Default 45.
    #[serde(default = "termination_grace_period_seconds")]
    #[schemars(range(min = 1, max = 3600))]
    pub termination_grace_period_seconds: u32,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            pre_stop_seconds: pre_stop_seconds(),
            termination_grace_period_seconds: termination_grace_period_seconds(),
        }
    }
}

/// Default `preStopSeconds`: longer than Traefik's kubernetescrd provider takes
/// to drop an endpoint (its watch plus `providers.providersThrottleDuration`, 2s
/// by default) and kube-proxy's iptables sync.
pub const PRE_STOP_SECONDS: u32 = 10;
/// Default `terminationGracePeriodSeconds`: the preStop delay plus 35 seconds of
/// draining (the kubelet's default is 30 in all).
pub const TERMINATION_GRACE_PERIOD_SECONDS: u32 = 45;

fn pre_stop_seconds() -> u32 {
    PRE_STOP_SECONDS
}

fn termination_grace_period_seconds() -> u32 {
    TERMINATION_GRACE_PERIOD_SECONDS
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Container {
    /// Default: the app name for the first container, `<app>-<n>` after it.
    #[serde(default)]
    pub name: Option<DnsLabel>,
    /// Required, here or in the template.
    #[serde(default)]
    pub image: Option<String>,
    /// A LummoContainer whose fields this container extends (`extends` works too).
    #[serde(default, alias = "extends")]
    pub template: Option<String>,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub ports: Vec<Port>,
    /// ConfigMap names whose keys become environment variables.
    #[serde(default)]
    pub configs: Vec<DnsSubdomain>,
    /// Secret names whose keys become environment variables.
    #[serde(default)]
    pub secrets: Vec<DnsSubdomain>,
    /// Extra environment variables, `NAME: value`.
    #[serde(default, deserialize_with = "krm_sdk::decode::exact_scalars")]
    pub env: Map<String, Value>,
    /// Required: requests are what KEDA's cpu and memory targets are relative to.
    pub resources: Option<Resources>,
    #[serde(default)]
    pub probes: Probes,
    /// Keep the root filesystem read-only (a writable `/tmp` is mounted).
    #[serde(default = "yes")]
    pub read_only_root_filesystem: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Port {
    /// IANA service name; LummoNetworking routes to `http` or `grpc`.
    pub name: PortName,
    #[serde(alias = "containerPort")]
    pub port: PortNumber,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    pub requests: Option<Quantities>,
    /// Default: memory limit = memory request; no CPU limit (throttling hurts).
    #[serde(default)]
    pub limits: Quantities,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantities {
    pub cpu: Option<ResourceQuantity>,
    pub memory: Option<ResourceQuantity>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probes {
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
    pub startup: Option<Probe>,
}

/// HTTP GET when `path` is set, exec when `command` is, TCP otherwise.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probe {
    pub path: Option<String>,
    /// A port name or number; default the container's first port.
    pub port: Option<PortRef>,
    pub command: Option<Vec<String>>,
    pub initial_delay_seconds: Option<i32>,
    pub period_seconds: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub failure_threshold: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Datadog unified service tagging: `DD_*` env vars and `tags.datadoghq.com/*` labels.
    #[serde(default)]
    pub datadog: bool,
    /// Generates a PodMonitor (Prometheus Operator).
    pub prometheus: Option<Prometheus>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prometheus {
    #[serde(default = "metrics_path", alias = "path")]
    pub endpoint: String,
    /// A declared port name, or a number (a `metrics` port is then declared).
    /// Default 9090: a port of its own, which no Service or route carries, so
    /// metrics are never public. `http` and `grpc` (the ports LummoNetworking
    /// routes) are warned of.
    #[serde(default = "metrics_port")]
    pub port: PortRef,
}

/// The default metrics port: Prometheus' own, never a routed one.
pub const METRICS_PORT: u16 = 9090;

fn metrics_port() -> PortRef {
    PortRef::Number(PortNumber::new(i64::from(METRICS_PORT)).expect("9090 is a port number"))
}

fn metrics_path() -> String {
    "/metrics".into()
}

/// One container written as a map, or a list of containers (the schema of `containers`).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [replica_order_rule()]))]
pub struct Scaling {
    #[serde(rename = "minreplica", alias = "minReplicas")]
    pub min_replicas: Option<i64>,
    #[serde(rename = "maxreplica", alias = "maxReplicas")]
    pub max_replicas: i64,
    pub cpu: Option<Target>,
    pub memory: Option<Target>,
    #[serde(default, rename = "pubsubTopic", alias = "pubsub")]
    pub pubsub_topic: Vec<PubsubTrigger>,
    /// Replicas KEDA runs while it cannot read a pubsubTopic trigger's metric
    /// (3 failures in a row), from minreplica to maxreplica. Default: minreplica,
    /// at least 1, so the subscription keeps a consumer. KEDA refuses a fallback
    /// beside cpu or memory triggers, so there is none then.
    #[serde(default, rename = "fallbackReplicas")]
    pub fallback_replicas: Option<i64>,
}

/// `minreplica ≤ maxreplica`, the function's form of the rule; its CEL form, for
/// the API server, is [`replica_order_rule`], beside it (a test evaluates one
/// against the other).
pub fn check_replica_order(min: i64, max: i64) -> Result<(), String> {
    if min > max {
        return Err(format!(
            "minreplica ({min}) is greater than maxreplica ({max})"
        ));
    }
    Ok(())
}

/// [`check_replica_order`] as a CEL rule; `minreplica` may be left out (the
/// function then takes the topology's floor, which the API server does not know).
fn replica_order_rule() -> serde_json::Value {
    serde_json::json!({
        "rule": "!has(self.minreplica) || self.minreplica <= self.maxreplica",
        "message": "minreplica must not be greater than maxreplica"
    })
}

/// The lowest and highest scaling target, percent of the containers' requests:
/// the schema's range and the function's check.
pub const TARGET_PERCENT: (i64, i64) = (1, 100);

/// The function's check of [`TARGET_PERCENT`].
pub fn check_target(target: i64) -> Result<(), String> {
    let (low, high) = TARGET_PERCENT;
    if !(low..=high).contains(&target) {
        return Err(format!(
            "must be a percentage from {low} to {high}, found {target}"
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Percent of the containers' requests.
    #[schemars(range(min = TARGET_PERCENT.0, max = TARGET_PERCENT.1))]
    pub target: i64,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PubsubTrigger {
    /// The Pub/Sub subscription whose backlog drives scaling: its name (KEDA is
    /// given `projects/<project>/subscriptions/<name>`, the project from the
    /// functionConfig), or that full name.
    pub name: String,
    /// Target undelivered messages per replica.
    pub size: i64,
    /// Backlog at which scaling from zero starts (KEDA `activationValue`), at
    /// most `size`; only read when minreplica is 0.
    #[serde(default)]
    pub activation_size: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Topology {
    /// One replica is acceptable; no spreading.
    #[default]
    Single,
    /// At least two replicas, a PodDisruptionBudget, spread across nodes and zones.
    Ha,
}

/// The schema of `strategy` (the function reads it as a map, to pass Argo
/// Rollouts' own fields through untouched).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct StrategySchema {
    /// Argo Rollouts' canary strategy, as is. Without steps: 20%, a pause, 50%, a
    /// pause (1m each; with `analysis`, the pauses share the time it needs).
    canary: Option<Map<String, Value>>,
    /// Argo Rollouts' blue-green strategy, as is (not with `analysis`).
    blue_green: Option<Map<String, Value>>,
    /// Judge the canary by its success rate, in the background from the first
    /// step on. Timeline with the defaults: the canary's pods are ready at 20%
    /// and the analysis starts; after `initialDelay` (1m) it measures, every
    /// `interval` (1m), the success rate of the canary's requests in the last
    /// `interval`. A failing canary fails `failureLimit + 1` (3) measurements by
    /// about 3m in and is aborted and rolled back before the steps end: the
    /// default steps pause `initialDelay + (failureLimit + inconclusiveLimit + 1)
    /// × interval` (6m: Argo Rollouts counts failed and inconclusive
    /// measurements apart, so a failing canary whose first measurements were
    /// inconclusive needs that many) in all (3m at 20%, 3m at 50%), and given
    /// steps must pause at least as long after the first step (an error
    /// otherwise). A healthy canary is promoted
    /// when the last pause ends, by the controller alone. A measurement without
    /// data or traffic is inconclusive; more than `inconclusiveLimit` of them
    /// pause the Rollout (`InconclusiveAnalysisRun`) for a person to promote or
    /// abort: a canary that gets no traffic is paused about 3m in. A warm-up is
    /// tolerated while it fails at most `failureLimit` measurements. With the
    /// default query a measurement fails only when the window's 5xx exceed the
    /// errors `successRate` allows by more than chance (2 × the square root of
    /// that number), and passes only when the window holds the requests in
    /// which `successRate` allows one error (20 at 0.95, 100 at 0.99); with
    /// fewer it is inconclusive, so a canary with a trickle of traffic pauses
    /// for a person, like one without, instead of being promoted on minutes
    /// that held no error. Proven by scripts/rollout_model.py (Argo Rollouts'
    /// controllers over time) and the real promtool.
    analysis: Option<Analysis>,
}

/// The `strategy.analysis` shorthand: judge a canary by a success rate.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Analysis {
    pub prometheus: Option<PrometheusAnalysis>,
    pub datadog: Option<DatadogAnalysis>,
    /// Lowest acceptable success rate, 0 < x ≤ 1 (below 1 with the default
    /// query: a rate of 1 allows no error, so no measurement could pass).
    #[serde(default = "success_rate")]
    pub success_rate: f64,
    /// How often to measure, as Argo Rollouts reads it (Go `time.ParseDuration`).
    #[serde(default = "interval")]
    pub interval: GoDuration,
    /// Failed measurements tolerated before the canary aborts and rolls back.
    #[serde(default = "failure_limit")]
    pub failure_limit: u32,
    /// Wait after the analysis starts (the canary's first pods ready) before the
    /// first measurement, so the query's window holds the canary's own requests.
    /// Default 1m.
    #[serde(default = "initial_delay")]
    pub initial_delay: GoDuration,
    /// Measurements without a verdict (no data, no traffic) tolerated; one more
    /// pauses the Rollout (`InconclusiveAnalysisRun`) for a person to promote or
    /// abort. Default: `failureLimit`.
    #[serde(default)]
    pub inconclusive_limit: Option<u32>,
}

impl Analysis {
    /// The inconclusive measurements tolerated.
    pub fn inconclusive_limit(&self) -> u32 {
        self.inconclusive_limit.unwrap_or(self.failure_limit)
    }

    /// Seconds the canary's pauses must last, from the analysis' start, for a
    /// failing canary to abort (or pause, when too few of its measurements
    /// hold data) before the last step: the initial delay, then
    /// `failureLimit + inconclusiveLimit + 1` measurements, one interval apart,
    /// and one interval of slack for the last one to be taken and seen. Argo
    /// Rollouts counts failed and inconclusive measurements apart
    /// (analysis/analysis.go assessMetricStatus: failed > failureLimit, or
    /// inconclusive > inconclusiveLimit), so only that many measurements
    /// without a success are sure to exceed one of the limits; a canary whose
    /// first minutes held too few requests and whose later ones fail needs
    /// them all (found by scripts/rollout_model.py's random specs).
    pub fn needed_seconds(&self) -> i64 {
        let measurements = i64::from(self.failure_limit) + i64::from(self.inconclusive_limit()) + 1;
        self.initial_delay.as_secs().max(0) + measurements * self.interval.as_secs().max(0)
    }
}

fn initial_delay() -> GoDuration {
    GoDuration::parse("1m").expect("`1m` is a Go duration")
}

fn success_rate() -> f64 {
    0.95
}

fn interval() -> GoDuration {
    GoDuration::parse("1m").expect("`1m` is a Go duration")
}

fn failure_limit() -> u32 {
    2
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusAnalysis {
    pub address: String,
    /// Must return the success rate as one number; default: the canary pods'
    /// non-5xx ratio of `http_requests_total{code}` as the PodMonitor scrapes it.
    pub query: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatadogAnalysis {
    /// Required: the success rate (trace metric names depend on the framework).
    pub query: Option<String>,
}

/// A `LummoContainer` template: every container field optional, plus `extends`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PartialContainer {
    pub extends: Option<String>,
    pub name: Option<DnsLabel>,
    pub image: Option<String>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub ports: Option<Vec<Port>>,
    pub configs: Option<Vec<DnsSubdomain>>,
    pub secrets: Option<Vec<DnsSubdomain>>,
    pub env: Option<Map<String, Value>>,
    pub resources: Option<Resources>,
    pub probes: Option<Probes>,
    pub read_only_root_filesystem: Option<bool>,
}

/// `LummoJob` (run once) and `LummoCronJob` (on a schedule).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LummoJobSpec {
    pub app: AppName,
    #[serde(default, rename = "part-of", alias = "partOf")]
    pub part_of: Option<LabelValue>,
    #[serde(deserialize_with = "one_or_many")]
    #[schemars(with = "OneOrMany<Container>")]
    pub containers: Vec<Container>,
    /// The environment this app runs in (`dev`, `prod`): Datadog's `env` tag
    /// (`tags.datadoghq.com/env` on the workload and its pods, hence DD_ENV). An
    /// environment overlay sets it, e.g. a kustomize patch of `/spec/environment`.
    #[serde(default)]
    pub environment: Option<LabelValue>,
    /// Only `datadog` applies to jobs.
    #[serde(default)]
    pub monitoring: JobMonitoring,
    /// A schema migration. Every LummoJob runs as an Argo CD Sync hook in wave 1,
    /// after the configuration, secrets and pgbouncer of wave 0 and before the
    /// app's Rollout (wave 2); `migration` states that intent and is refused on a
    /// LummoCronJob.
    #[serde(default)]
    pub migration: bool,
    #[serde(default)]
    pub restart_policy: RestartPolicy,
    pub backoff_limit: Option<i32>,
    /// Seconds a run may take before its pods are stopped and it fails. Default:
    /// 900 for a LummoJob (a Sync hook: a hung one would hold the sync forever),
    /// 3600 for a LummoCronJob's runs (with `Forbid`, a hung run would block
    /// every later one).
    pub active_deadline_seconds: Option<i64>,
    pub ttl_seconds_after_finished: Option<i32>,
    #[serde(default)]
    pub automount_service_account_token: bool,
    pub service_account_name: Option<DnsSubdomain>,
    /// LummoCronJob only: a cron expression (5 fields, or `@hourly`, `@daily`, ...).
    pub schedule: Option<String>,
    /// LummoCronJob only: an IANA time zone, e.g. `Asia/Jakarta`.
    pub time_zone: Option<String>,
    /// LummoCronJob only; default `Forbid` (runs never overlap).
    pub concurrency_policy: Option<ConcurrencyPolicy>,
    /// LummoCronJob only: a run that could not start within this many seconds of
    /// its time is skipped, not started late. Default 300.
    pub starting_deadline_seconds: Option<i64>,
    pub successful_jobs_history_limit: Option<i32>,
    pub failed_jobs_history_limit: Option<i32>,
    #[serde(default)]
    pub suspend: bool,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobMonitoring {
    #[serde(default)]
    pub datadog: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum RestartPolicy {
    #[default]
    Never,
    OnFailure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ConcurrencyPolicy {
    Allow,
    Forbid,
    Replace,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CEL rule the API server runs and the function's check agree.
    #[test]
    fn replica_order_rule_is_the_check() {
        let rule = [replica_order_rule()];
        for (min, max) in [(0, 0), (1, 3), (3, 3), (4, 3), (10, 1), (-1, 0)] {
            let scaling = serde_json::json!({"minreplica": min, "maxreplica": max});
            let cel_passes = krm_sdk::openapi::cel::evaluate(&rule, &scaling).is_empty();
            assert_eq!(
                cel_passes,
                check_replica_order(min, max).is_ok(),
                "{min} {max}"
            );
        }
    }
}
