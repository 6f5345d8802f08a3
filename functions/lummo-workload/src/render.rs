//! Validation and generation for one LummoDeployment.

use crate::containers::{self, unique, DeclaredPort, PodInput, Report};
use crate::identity::{self, Grants, PubSubUse};
use crate::spec::{self, Analysis, LummoDeploymentSpec, Scaling, Topology};
use crate::WorkloadConfig;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use krm_sdk::decode::{self, suggest};
use krm_sdk::{json, ResultItem, Value};
use lummo_core::duration::GoDuration;
use lummo_core::function::Rendered;
use lummo_core::names::PortName;
use lummo_core::port::PortRef;
use lummo_core::resources::{
    ANALYSIS_TEMPLATE, POD_MONITOR, ROLLOUT, SCALED_OBJECT, TRIGGER_AUTHENTICATION,
};
use lummo_core::{pod, Spec};
use std::collections::BTreeMap;

/// `vault_secrets`: the app's Secrets whose rotation the Vault Secrets Operator
/// answers with a restart of the Rollout itself (no Reloader annotation for them).
pub fn render(
    spec: &Spec<LummoDeploymentSpec>,
    config: &WorkloadConfig,
    pubsub: &PubSubUse,
    vault_secrets: &[&str],
) -> Rendered {
    let mut context = Context {
        spec,
        config,
        pubsub,
        vault_secrets,
        report: Report::new(&spec.object),
    };
    let objects = context.objects();
    context.report.rendered(objects)
}

struct Context<'a> {
    spec: &'a Spec<LummoDeploymentSpec>,
    config: &'a WorkloadConfig,
    pubsub: &'a PubSubUse,
    vault_secrets: &'a [&'a str],
    report: Report<'a>,
}

const STRATEGY_KEYS: [&str; 3] = ["canary", "blueGreen", "analysis"];
/// The step from which the background analysis runs: after the first setWeight.
const ANALYSIS_STARTING_STEP: usize = 1;
/// How often the PodMonitor scrapes the app.
const SCRAPE_INTERVAL: &str = "15s";
/// The shortest analysis interval the default query reads: two scrapes.
const MIN_QUERY_WINDOW_SECONDS: i64 = 30;
/// The shortest initialDelay with the default query: the canary's first scrape
/// (up to one interval after it is ready) and three more.
const MIN_INITIAL_DELAY_SECONDS: i64 = 60;
/// The default analysis query fails a measurement only when its 5xx exceed
/// the errors `successRate` allows by more than this many standard deviations
/// of a Poisson count: a canary exactly at the limit exceeds it by chance in
/// about 2.3% of its measurements (normal approximation), and `failureLimit + 1`
/// of them are needed to abort.
const NOISE_SIGMAS: u32 = 2;
/// The ports LummoNetworking routes to.
const ROUTED_PORTS: [&str; 2] = ["http", "grpc"];
/// The label Argo Rollouts puts on each ReplicaSet's pods.
const POD_TEMPLATE_HASH: &str = "rollouts-pod-template-hash";

/// Seconds of a canary pause step as Argo Rollouts reads it
/// (RolloutPause.DurationSeconds: an integer, a string of digits, or a Go
/// duration); `None` for a pause without a duration, which waits for a person.
fn pause_seconds(pause: &Value) -> Option<i64> {
    match pause.get("duration")? {
        Value::Number(n) => Some(n.as_i64().unwrap_or(0)),
        Value::String(text) => Some(
            text.parse::<i64>()
                .ok()
                .or_else(|| GoDuration::parse(text).ok().map(|d| d.as_secs()))
                .unwrap_or(0),
        ),
        _ => Some(0),
    }
}

impl Context<'_> {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.report.error(field, message);
    }

    fn objects(&mut self) -> Vec<Value> {
        let s = &self.spec.spec;
        let app = s.app.as_str();
        let labels = lummo_core::labels(app, s.part_of.as_deref());
        let (min, max) = self.replica_range();
        let analysis = self.analysis();
        let input = PodInput {
            app,
            containers: &s.containers,
            datadog: s.monitoring.datadog,
            long_running: true,
        };
        let (containers, ports) = containers::build(&mut self.report, &input);
        let shutdown = &s.shutdown;
        if shutdown.termination_grace_period_seconds <= shutdown.pre_stop_seconds {
            self.error("shutdown.terminationGracePeriodSeconds", format!(
                "{}s leaves the app no time after the {}s preStop delay: the kubelet sends SIGKILL when the grace period ends, preStop included; make it longer than preStopSeconds (e.g. {})",
                shutdown.termination_grace_period_seconds, shutdown.pre_stop_seconds, shutdown.pre_stop_seconds + 35));
        }
        let metrics_port = self.metrics_port(&ports);
        let scaled = match &s.scaling {
            Some(scaling) => self.subscription_names(scaling),
            None => Vec::new(),
        };
        let (gsa, grants) = self.workload_identity(&labels, &scaled);

        let mut objects = vec![self.service_account(&labels, gsa.as_deref())];
        if !ports.is_empty() {
            objects.push(self.service(&labels, &ports));
        }
        let datadog = if s.monitoring.datadog {
            containers::datadog_labels(
                &mut self.report,
                app,
                s.environment.as_deref(),
                s.containers.first().and_then(|c| c.image.as_deref()),
            )
        } else {
            BTreeMap::new()
        };
        objects.push(self.rollout(
            &labels,
            datadog,
            containers,
            metrics_port.as_ref(),
            analysis.as_ref(),
        ));
        if max > 1 || s.topology == Topology::Ha {
            objects.push(self.disruption_budget(&labels));
        }
        if let Some(scaling) = &s.scaling {
            objects.extend(self.autoscaling(&labels, scaling, &scaled, min, max));
        }
        let prometheus_namespace = self
            .config
            .prometheus_namespace
            .as_deref()
            .unwrap_or(crate::network::PROMETHEUS_NAMESPACE);
        let scraped = metrics_port
            .as_ref()
            .filter(|_| s.monitoring.prometheus.is_some())
            .map(|p| p.name.to_string());
        objects.push(crate::network::app_policy(
            app,
            &labels,
            scraped.as_deref(),
            prometheus_namespace,
        ));
        if let (Some(prometheus), Some(port)) = (&s.monitoring.prometheus, metrics_port) {
            objects.push(self.pod_monitor(&labels, &port.name, &prometheus.endpoint));
        }
        if let Some(analysis) = &analysis {
            objects.push(self.analysis_template(&labels, analysis));
        }
        // After the app's migration (a Sync hook in wave 1): no new pod starts on
        // an old schema, and KEDA's ScaledObject never targets a missing Rollout.
        for object in &mut objects {
            lummo_core::annotate(object, lummo_core::SYNC_WAVE, lummo_core::APP_WAVE);
        }
        // The ServiceAccount before every hook: a LummoJob (wave 1) may run as the
        // app's ServiceAccount, and a pod naming a missing one is refused.
        lummo_core::annotate(
            &mut objects[0],
            lummo_core::SYNC_WAVE,
            lummo_core::CONFIG_WAVE,
        );
        // The grants with it, so the app's first pods can already use them.
        for mut grant in grants {
            lummo_core::annotate(&mut grant, lummo_core::SYNC_WAVE, lummo_core::CONFIG_WAVE);
            objects.push(grant);
        }
        objects
    }

    /// Minimum and maximum replicas the workload can run with.
    fn replica_range(&mut self) -> (i64, i64) {
        let s = &self.spec.spec;
        let floor = if s.topology == Topology::Ha { 2 } else { 1 };
        let Some(scaling) = &s.scaling else {
            let replicas = s.replicas.map_or(floor, i64::from);
            if replicas < floor {
                self.error(
                    "replicas",
                    format!("topology `ha` needs at least 2 replicas, found {replicas}"),
                );
            }
            return (replicas, replicas);
        };
        if s.replicas.is_some() {
            self.error("replicas", "set either `replicas` or `scaling`: KEDA owns the replica count when scaling is set");
        }
        let min = scaling.min_replicas.unwrap_or(floor);
        let max = scaling.max_replicas;
        if min < 0 {
            self.error(
                "scaling.minreplica",
                format!("must be 0 or more, found {min}"),
            );
        }
        if max < 1 {
            self.error(
                "scaling.maxreplica",
                format!("must be at least 1, found {max}"),
            );
        }
        if let Err(message) = spec::check_replica_order(min, max) {
            self.error("scaling.minreplica", message);
        }
        if s.topology == Topology::Ha && min < 2 {
            self.error(
                "scaling.minreplica",
                format!("topology `ha` needs minreplica of at least 2, found {min}"),
            );
        }
        if min == 0 && scaling.pubsub_topic.is_empty() {
            self.error("scaling.minreplica", "scaling to 0 needs a pubsubTopic trigger: cpu and memory cannot wake a stopped app");
        }
        for (field, target) in [("cpu", &scaling.cpu), ("memory", &scaling.memory)] {
            if let Some(Err(message)) = target.as_ref().map(|t| spec::check_target(t.target)) {
                self.error(&format!("scaling.{field}.target"), message);
            }
        }
        if scaling.cpu.is_none() && scaling.memory.is_none() && scaling.pubsub_topic.is_empty() {
            self.error(
                "scaling",
                "needs at least one trigger: cpu, memory or pubsubTopic",
            );
        }
        for (i, trigger) in scaling.pubsub_topic.iter().enumerate() {
            if trigger.size < 1 {
                self.error(
                    &format!("scaling.pubsubTopic[{i}].size"),
                    format!(
                        "must be a positive number of messages, found {}",
                        trigger.size
                    ),
                );
            }
            if trigger.activation_size.is_some_and(|a| a < 0) {
                self.error(
                    &format!("scaling.pubsubTopic[{i}].activationSize"),
                    "must be 0 or more",
                );
            }
            if trigger.name.is_empty() {
                self.error(
                    &format!("scaling.pubsubTopic[{i}].name"),
                    "needs the subscription name",
                );
            }
            if let Some(activation) = trigger.activation_size.filter(|a| *a > trigger.size) {
                self.error(&format!("scaling.pubsubTopic[{i}].activationSize"), format!(
                    "{activation} is above the target size {}: KEDA would keep the app at 0 while the backlog is more than one replica's share; use at most {} (e.g. 1, to start on the first message)",
                    trigger.size, trigger.size));
            } else if trigger.activation_size.is_some() && min > 0 {
                self.report.warning(&format!("scaling.pubsubTopic[{i}].activationSize"), format!(
                    "is only read when scaling from 0, and minreplica is {min}: KEDA ignores it; remove it or set minreplica to 0"));
            }
        }
        self.check_fallback(scaling, min, max);
        (min, max)
    }

    /// KEDA's fallback replaces a trigger's metric it cannot read; it refuses a
    /// fallback beside cpu and memory triggers (their metrics come from the
    /// metrics server, not from KEDA: keda.sh/docs/latest/reference/scaledobject-spec/#fallback,
    /// "not supported for CPU or memory triggers"), so it is only generated for
    /// pubsubTopic-only scaling, and it must be a count the HPA can run.
    fn check_fallback(&mut self, scaling: &Scaling, min: i64, max: i64) {
        let Some(fallback) = scaling.fallback_replicas else {
            return;
        };
        if scaling.pubsub_topic.is_empty() || scaling.cpu.is_some() || scaling.memory.is_some() {
            self.error("scaling.fallbackReplicas", "KEDA refuses a fallback beside cpu or memory triggers and has no use for one without pubsubTopic triggers: remove fallbackReplicas, or scale on pubsubTopic alone");
        } else if !(min.max(1)..=max).contains(&fallback) {
            self.error("scaling.fallbackReplicas", format!(
                "{fallback} is outside the replicas KEDA may run ({} to {max}): the HPA would clamp it; use a count from {} to {max}",
                min.max(1), min.max(1)));
        }
    }

    /// The full resource name KEDA reads of each pubsubTopic trigger's
    /// subscription, `projects/<project>/subscriptions/<name>` (the gcp-pubsub
    /// scaler's `subscriptionName` takes either; the short one resolves against
    /// the project of KEDA's own credentials, which need not be Pub/Sub's).
    fn subscription_names(&mut self, scaling: &Scaling) -> Vec<String> {
        let mut names = Vec::new();
        for (i, trigger) in scaling.pubsub_topic.iter().enumerate() {
            let field = format!("scaling.pubsubTopic[{i}].name");
            if let Some(rest) = trigger.name.strip_prefix("projects/") {
                let parts: Vec<&str> = rest.split('/').collect();
                match parts.as_slice() {
                    [project, "subscriptions", name] if !name.is_empty() => {
                        if let Err(message) = crate::check_project_id(project) {
                            self.error(&field, message);
                        }
                        names.push(trigger.name.clone());
                    }
                    _ => self.error(&field, format!("`{}` is neither a subscription name nor `projects/<project>/subscriptions/<name>`", trigger.name)),
                }
                continue;
            }
            if trigger.name.contains('/') {
                self.error(&field, format!("`{}` is neither a subscription name nor `projects/<project>/subscriptions/<name>`", trigger.name));
                continue;
            }
            match &self.config.project {
                Some(project) => {
                    names.push(format!("projects/{project}/subscriptions/{}", trigger.name))
                }
                None => {
                    let message = format!(
                        "KEDA reads the backlog of `{}` by its full name, `projects/<project>/subscriptions/{}`, and the project is not configured: {} (or write the full name here)",
                        trigger.name, trigger.name, WorkloadConfig::missing("project", "foobar-dev"));
                    let error = self
                        .spec
                        .error(&field, message)
                        .tag(lummo_core::NEEDS_CONFIG_TAG, "project");
                    self.report.push(error);
                }
            }
        }
        names
    }

    /// The app's Google service account and its grants (see [`identity`]):
    /// needed when the app scales on, consumes or publishes to Pub/Sub; made for
    /// any app `googleServiceAccounts` names.
    fn workload_identity(
        &mut self,
        labels: &BTreeMap<String, String>,
        scaled: &[String],
    ) -> (Option<String>, Vec<Value>) {
        let app = self.spec.spec.app.as_str();
        let consumed = self.pubsub.consumed.get(app);
        let published = self.pubsub.published.get(app);
        let uses = [
            (!scaled.is_empty()).then(|| "scales on Pub/Sub subscriptions".to_string()),
            consumed.map(|c| format!("consumes the subscriptions of {}", c[0].spec)),
            published.map(|p| format!("publishes to the topics of {}", p[0].spec)),
        ];
        let uses: Vec<String> = uses.into_iter().flatten().collect();
        // A template (`googleServiceAccount`) serves the apps that need an
        // account; an app named in `googleServiceAccounts` gets its own anyway.
        let gsa = match self.config.google_service_accounts.get(app) {
            Some(gsa) => Some(gsa.clone()),
            None if uses.is_empty() => None,
            None => self.config.google_service_account(app),
        };
        let Some(gsa) = gsa else {
            if !uses.is_empty() {
                let field = if scaled.is_empty() {
                    "app"
                } else {
                    "scaling.pubsubTopic"
                };
                let message = format!(
                    "`{app}` {}, so its pods need a Google service account (GKE Workload Identity) with the Pub/Sub roles: {} (or `googleServiceAccount: \"{{app}}@<project>.iam.gserviceaccount.com\"` for every app)",
                    uses.join(" and "),
                    WorkloadConfig::missing("googleServiceAccounts", &format!("{{{app}: {app}@foobar-dev.iam.gserviceaccount.com}}")));
                let error = self
                    .spec
                    .error(field, message)
                    .tag(lummo_core::NEEDS_CONFIG_TAG, "googleServiceAccounts");
                self.report.push(error);
            }
            return (None, Vec::new());
        };
        if let Err(message) = identity::gsa_project(&gsa) {
            let message = format!("the configured Google service account of `{app}`: {message}; name it in `googleServiceAccounts` of lummo-workload's functionConfig");
            let error = self
                .spec
                .error("app", message)
                .tag(lummo_core::NEEDS_CONFIG_TAG, "googleServiceAccounts");
            self.report.push(error);
            return (None, Vec::new());
        }
        let Some(cluster_project) = self
            .config
            .cluster_project
            .as_deref()
            .or(self.config.project.as_deref())
        else {
            let message = format!("Workload Identity binds `{app}`'s ServiceAccount as `serviceAccount:<cluster project>.svc.id.goog[<namespace>/{app}]`, and no project is configured: {}", WorkloadConfig::missing("clusterProject", "foobar-dev"));
            let error = self
                .spec
                .error("app", message)
                .tag(lummo_core::NEEDS_CONFIG_TAG, "clusterProject");
            self.report.push(error);
            return (None, Vec::new());
        };
        let own = self
            .spec
            .object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        let Some(namespace) = own.or(self.config.namespace.as_deref()) else {
            let message = format!(
                "Workload Identity binds the ServiceAccount `<namespace>/{app}`, and neither this LummoDeployment nor the config names its namespace: set metadata.namespace (kustomize `namespace:`, or kpt's set-namespace before lummo-workload), or {}",
                WorkloadConfig::missing("namespace", "foobar"));
            let error = ResultItem::error(message)
                .for_object(&self.spec.object)
                .field("metadata.namespace");
            self.report
                .push(error.tag(lummo_core::NEEDS_CONFIG_TAG, "namespace"));
            return (None, Vec::new());
        };
        let grants = Grants {
            app,
            namespace,
            gsa: &gsa,
            cluster_project,
            scaled,
            project: self.config.project.as_deref(),
        };
        let objects = grants.objects(labels, self.pubsub);
        (Some(gsa), objects)
    }

    fn analysis(&mut self) -> Option<Analysis> {
        let strategy = &self.spec.spec.strategy;
        for key in strategy.keys() {
            if !STRATEGY_KEYS.contains(&key.as_str()) {
                let hint = suggest(key, STRATEGY_KEYS)
                    .map(|s| format!(", did you mean `{s}`?"))
                    .unwrap_or_default();
                self.error(&format!("strategy.{key}"), format!("unknown strategy `{key}`{hint} (canary, blueGreen or the analysis shorthand)"));
            }
        }
        if strategy
            .get("canary")
            .and_then(|c| c.get("trafficRouting"))
            .is_some()
        {
            self.error("strategy.canary.trafficRouting", TRAFFIC_ROUTING_REFUSED);
        }
        let raw = strategy.get("analysis")?;
        let analysis: Analysis = match decode::from_value(raw) {
            Ok(analysis) => analysis,
            Err(e) => {
                let path = if e.path.is_empty() {
                    "strategy.analysis".to_string()
                } else {
                    format!("strategy.analysis.{}", e.path)
                };
                self.error(&path, e.message);
                return None;
            }
        };
        if analysis.prometheus.is_some() == analysis.datadog.is_some() {
            self.error(
                "strategy.analysis",
                "set exactly one provider: `prometheus` or `datadog`",
            );
        }
        let default_query = analysis
            .prometheus
            .as_ref()
            .is_some_and(|p| p.query.is_none());
        if default_query && self.spec.spec.monitoring.prometheus.is_none() {
            self.error(
                "strategy.analysis.prometheus",
                "the default query reads the canary's `http_requests_total` as the app's PodMonitor scrapes it, and there is none: set `monitoring.prometheus` (e.g. `{endpoint: /metrics}`, served on its own port 9090) or give `strategy.analysis.prometheus.query`",
            );
        }
        if analysis.datadog.as_ref().is_some_and(|d| d.query.is_none()) {
            self.error(
                "strategy.analysis.datadog.query",
                "is required: Datadog trace metrics are named after the framework's span (e.g. trace.flask.request, trace.grpc.server), so no default fits every app; give a query returning the success rate scoped to the canary's env and version, e.g. `1 - (sum:trace.flask.request.errors{service:{{args.service-name}},env:prod}.as_count() / sum:trace.flask.request.hits{service:{{args.service-name}},env:prod}.as_count())`",
            );
        }
        if !(analysis.success_rate > 0.0 && analysis.success_rate <= 1.0) {
            self.error(
                "strategy.analysis.successRate",
                format!("must be a ratio in (0, 1], found {}", analysis.success_rate),
            );
        } else if default_query && analysis.success_rate == 1.0 {
            // The default query passes a measurement once its requests are
            // enough for the budget to allow one error; a budget of 0 never is.
            self.error(
                "strategy.analysis.successRate",
                "1 allows no error, so no number of requests can show it is met: every measurement of the default query is inconclusive and every canary pauses for a person; use the rate you can accept, e.g. `0.999` (judged once a measurement holds 1000 requests)",
            );
        }
        if strategy.contains_key("blueGreen") {
            self.error(
                "strategy.analysis",
                "the analysis shorthand drives canary steps; it cannot be combined with blueGreen",
            );
        }
        if analysis.initial_delay.as_secs() < 0 {
            self.error(
                "strategy.analysis.initialDelay",
                format!(
                    "must not be negative, found `{}`",
                    analysis.initial_delay.as_str()
                ),
            );
        }
        if default_query && analysis.interval.as_secs() < MIN_QUERY_WINDOW_SECONDS {
            self.error("strategy.analysis.interval", format!(
                "the default query reads the last `interval` of requests, scraped every {SCRAPE_INTERVAL}: `{}` holds fewer than two scrapes, so every measurement would be empty; use at least `{MIN_QUERY_WINDOW_SECONDS}s`",
                analysis.interval.as_str()));
        }
        if default_query
            && (0..MIN_INITIAL_DELAY_SECONDS).contains(&analysis.initial_delay.as_secs())
        {
            self.error("strategy.analysis.initialDelay", format!(
                "`{}` is too short for the default query: the first measurement needs two scrapes of the canary's new pods (every {SCRAPE_INTERVAL}, the first up to {SCRAPE_INTERVAL} after they are ready), or it is empty and inconclusive; use at least `{}`",
                analysis.initial_delay.as_str(),
                GoDuration::from_secs(MIN_INITIAL_DELAY_SECONDS as u64).as_str()));
        }
        if analysis.failure_limit == 0 {
            self.report.warning("strategy.analysis.failureLimit", "0: a single failed measurement aborts the canary, and a low-traffic minute with one error is one; 1 or more tolerates noise and warm-up");
        }
        if analysis.inconclusive_limit() == 0 {
            self.report.warning("strategy.analysis.inconclusiveLimit", "0: a single measurement without data (metrics scraped late, a quiet minute) pauses the Rollout for a person; 1 or more tolerates it");
        }
        self.check_pauses(&analysis);
        Some(analysis)
    }

    /// A canary must last long enough for its analysis to abort it: background
    /// analysis ends with the last step (rollout/analysis.go,
    /// reconcileAnalysisRuns: a fully promoted Rollout cancels its runs, and a
    /// cancelled run without a failure is Successful, analysis/analysis.go
    /// assessMetricStatus). So the steps after `startingStep` must pause for at
    /// least [`Analysis::needed_seconds`].
    fn check_pauses(&mut self, analysis: &Analysis) {
        let needed = analysis.needed_seconds();
        let Some(canary) = self.spec.spec.strategy.get("canary") else {
            return; // the default steps, which last `needed`
        };
        let Some(steps) = canary
            .get("steps")
            .and_then(Value::as_array)
            .filter(|s| !s.is_empty())
        else {
            self.error("strategy.canary.steps", format!(
                "is missing: a canary without steps is promoted at once, before its analysis measures anything; give steps that pause at least {} after the first (e.g. `[{{setWeight: 20}}, {{pause: {{duration: {}}}}}]`), or leave `canary` out for the default steps",
                GoDuration::from_secs(needed.max(0) as u64).as_str(),
                GoDuration::from_secs(needed.max(0) as u64).as_str()));
            return;
        };
        let mut total = 0;
        for step in steps.iter().skip(ANALYSIS_STARTING_STEP) {
            match step.get("pause").map(pause_seconds) {
                Some(None) => return, // an indefinite pause: a person promotes
                Some(Some(seconds)) => total += seconds,
                None => {}
            }
        }
        if total < needed {
            self.error("strategy.canary.steps", format!(
                "the pauses after step {ANALYSIS_STARTING_STEP} last {}, but the analysis needs {} to stop a failing canary (initialDelay {} + (failureLimit {} + inconclusiveLimit {} + 1) × interval {}: Argo Rollouts counts failed and inconclusive measurements apart, so a failing canary whose first measurements were inconclusive needs that many): background analysis ends with the last step, so this canary could be promoted before it fails; lengthen the pauses (e.g. `{{pause: {{duration: {}}}}}` after setWeight), or lower failureLimit, inconclusiveLimit, interval or initialDelay",
                GoDuration::from_secs(total.max(0) as u64).as_str(),
                GoDuration::from_secs(needed as u64).as_str(),
                analysis.initial_delay.as_str(),
                analysis.failure_limit,
                analysis.inconclusive_limit(),
                analysis.interval.as_str(),
                GoDuration::from_secs((needed - total).max(0) as u64).as_str(),
            ));
        }
    }

    /// The named port Prometheus scrapes; a numeric port not declared by any
    /// container is declared on the first one as `metrics`.
    fn metrics_port(&mut self, ports: &[DeclaredPort]) -> Option<DeclaredPort> {
        let port = self.declared_metrics_port(ports)?;
        if ROUTED_PORTS.contains(&port.name.as_str()) {
            self.report.warning(
                "monitoring.prometheus.port",
                format!("metrics are served on `{}`, the port LummoNetworking routes: anyone who reaches the app reads them; serve them on a port of their own (e.g. `port: 9090`, the default)", port.name),
            );
        }
        Some(port)
    }

    fn declared_metrics_port(&mut self, ports: &[DeclaredPort]) -> Option<DeclaredPort> {
        let prometheus = self.spec.spec.monitoring.prometheus.as_ref()?;
        if !prometheus.endpoint.starts_with('/') {
            self.error(
                "monitoring.prometheus.endpoint",
                format!("`{}` must start with `/`", prometheus.endpoint),
            );
        }
        match &prometheus.port {
            PortRef::Name(name) => match ports.iter().find(|p| &p.name == name) {
                Some(p) => Some(DeclaredPort {
                    name: p.name.clone(),
                    port: p.port,
                }),
                None => {
                    let known: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
                    let hint = suggest(name, known.iter().copied())
                        .map(|s| format!(", did you mean `{s}`?"))
                        .unwrap_or_default();
                    self.error(
                        "monitoring.prometheus.port",
                        format!("no container declares a port named `{name}`{hint}"),
                    );
                    None
                }
            },
            PortRef::Number(number) => match ports.iter().find(|p| p.port == *number) {
                Some(p) => Some(DeclaredPort {
                    name: p.name.clone(),
                    port: p.port,
                }),
                None => Some(DeclaredPort {
                    name: PortName::new("metrics").expect("`metrics` is a port name"),
                    port: *number,
                }),
            },
        }
    }

    fn service_account(&self, labels: &BTreeMap<String, String>, gsa: Option<&str>) -> Value {
        let mut metadata = meta(&self.spec.spec.app, labels);
        if let Some(gsa) = gsa {
            metadata.annotations = Some(BTreeMap::from([(
                identity::GSA_ANNOTATION.to_string(),
                gsa.to_string(),
            )]));
        }
        let account = core::ServiceAccount {
            metadata,
            automount_service_account_token: Some(false),
            ..Default::default()
        };
        lummo_core::typed_object(&account)
    }

    fn service(&self, labels: &BTreeMap<String, String>, ports: &[DeclaredPort]) -> Value {
        let service = core::Service {
            metadata: meta(&self.spec.spec.app, labels),
            spec: Some(core::ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(lummo_core::selector_labels(&self.spec.spec.app)),
                ports: Some(
                    ports
                        .iter()
                        .map(|p| core::ServicePort {
                            name: Some(p.name.to_string()),
                            port: p.port.into(),
                            target_port: Some(IntOrString::String(p.name.to_string())),
                            protocol: Some("TCP".into()),
                            app_protocol: (p.name == "grpc" || p.name.starts_with("grpc-"))
                                .then(|| "kubernetes.io/h2c".to_string()),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            status: None,
        };
        lummo_core::typed_object(&service)
    }

    fn rollout(
        &self,
        labels: &BTreeMap<String, String>,
        datadog: BTreeMap<String, String>,
        mut containers: Vec<core::Container>,
        metrics_port: Option<&DeclaredPort>,
        analysis: Option<&Analysis>,
    ) -> Value {
        let s = &self.spec.spec;
        if let (Some(port), Some(first)) = (metrics_port, containers.first_mut()) {
            let ports = first.ports.get_or_insert_with(Vec::new);
            if !ports
                .iter()
                .any(|p| p.name.as_deref() == Some(port.name.as_str()))
            {
                ports.push(core::ContainerPort {
                    name: Some(port.name.to_string()),
                    container_port: port.port.into(),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                });
            }
        }
        let mut pod_labels = labels.clone();
        pod_labels.extend(datadog.clone());
        let shutdown = &s.shutdown;
        if shutdown.pre_stop_seconds > 0 {
            for container in &mut containers {
                container.lifecycle = Some(core::Lifecycle {
                    pre_stop: Some(core::LifecycleHandler {
                        sleep: Some(core::SleepAction {
                            seconds: shutdown.pre_stop_seconds.into(),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
            }
        }
        let (tmp, _) = pod::tmp_volume();
        let mut pod_spec = core::PodSpec {
            termination_grace_period_seconds: Some(
                shutdown.termination_grace_period_seconds.into(),
            ),
            service_account_name: Some(s.app.to_string()),
            automount_service_account_token: Some(s.automount_service_account_token),
            enable_service_links: Some(false),
            security_context: Some(pod::pod_security_context()),
            containers,
            volumes: Some(vec![tmp]),
            ..Default::default()
        };
        if s.topology == Topology::Ha {
            pod_spec.topology_spread_constraints = Some(spread_constraints(&s.app));
        }
        let template = core::PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(pod_labels),
                ..Default::default()
            }),
            spec: Some(pod_spec),
        };
        let configs: Vec<String> = unique(
            s.containers
                .iter()
                .flat_map(|c| c.configs.iter().map(|n| n.to_string())),
        );
        // A Secret the Vault Secrets Operator writes restarts the Rollout on its
        // own (rolloutRestartTargets): Reloader would restart it a second time.
        let secrets: Vec<String> = unique(
            s.containers
                .iter()
                .flat_map(|c| c.secrets.iter().map(|n| n.to_string())),
        )
        .into_iter()
        .filter(|secret| !self.vault_secrets.contains(&secret.as_str()))
        .collect();
        let reload = pod::rollout_reloader_annotations(&configs, &secrets);
        let mut object_labels = labels.clone();
        object_labels.extend(datadog);
        let mut metadata = json!({ "name": s.app, "labels": object_labels });
        if !reload.is_empty() {
            metadata["annotations"] = json!(reload);
        }
        let mut spec = json!({
            "revisionHistoryLimit": 3,
            "selector": { "matchLabels": lummo_core::selector_labels(&s.app) },
            "template": lummo_core::to_value(&template),
            "strategy": self.strategy(analysis),
        });
        if s.scaling.is_none() {
            let replicas = s
                .replicas
                .unwrap_or(if s.topology == Topology::Ha { 2 } else { 1 });
            spec["replicas"] = json!(replicas);
        }
        json!({ "apiVersion": ROLLOUT.api_version, "kind": ROLLOUT.kind, "metadata": metadata, "spec": spec })
    }

    /// The Rollout's strategy. The default canary: 20%, a pause, 50%, a pause;
    /// with an analysis, the two pauses share [`Analysis::needed_seconds`], so a
    /// failing canary is aborted before the last step and a healthy one is
    /// promoted by the controller alone (timeline in the reference docs).
    fn strategy(&self, analysis: Option<&Analysis>) -> Value {
        let mut strategy = self.spec.spec.strategy.clone();
        strategy.shift_remove("analysis");
        if strategy.is_empty() {
            let (first, second) = match analysis {
                Some(analysis) => {
                    let needed = analysis.needed_seconds().max(0) as u64;
                    let first = needed.div_ceil(2);
                    (
                        GoDuration::from_secs(first),
                        GoDuration::from_secs(needed - first),
                    )
                }
                None => (GoDuration::from_secs(60), GoDuration::from_secs(60)),
            };
            strategy.insert(
                "canary".into(),
                json!({ "steps": [
                    { "setWeight": 20 }, { "pause": { "duration": first.as_str() } },
                    { "setWeight": 50 }, { "pause": { "duration": second.as_str() } },
                ]}),
            );
        }
        if analysis.is_some() {
            let canary = strategy.entry("canary").or_insert_with(|| json!({}));
            if canary.is_object() {
                canary["analysis"] = json!({
                    "templates": [{ "templateName": format!("{}-success-rate", self.spec.spec.app) }],
                    "startingStep": ANALYSIS_STARTING_STEP,
                    "args": [
                        { "name": "service-name", "value": self.spec.spec.app },
                        { "name": "namespace", "valueFrom": { "fieldRef": { "fieldPath": "metadata.namespace" } } },
                        { "name": "canary-hash", "valueFrom": { "podTemplateHashValue": "Latest" } },
                    ],
                });
            }
        }
        Value::Object(strategy)
    }

    fn disruption_budget(&self, labels: &BTreeMap<String, String>) -> Value {
        let budget = PodDisruptionBudget {
            metadata: meta(&self.spec.spec.app, labels),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(LabelSelector {
                    match_labels: Some(lummo_core::selector_labels(&self.spec.spec.app)),
                    match_expressions: None,
                }),
                ..Default::default()
            }),
            status: None,
        };
        lummo_core::typed_object(&budget)
    }

    fn autoscaling(
        &self,
        labels: &BTreeMap<String, String>,
        scaling: &Scaling,
        subscriptions: &[String],
        min: i64,
        max: i64,
    ) -> Vec<Value> {
        let app = &self.spec.spec.app;
        let auth = format!("{app}-pubsub");
        let mut triggers = Vec::new();
        for (kind, target) in [("cpu", &scaling.cpu), ("memory", &scaling.memory)] {
            if let Some(target) = target {
                triggers.push(json!({ "type": kind, "metricType": "Utilization", "metadata": { "value": target.target.to_string() } }));
            }
        }
        for (trigger, subscription) in scaling.pubsub_topic.iter().zip(subscriptions) {
            let mut metadata = json!({
                "subscriptionName": subscription,
                "mode": "SubscriptionSize",
                "value": trigger.size.to_string(),
                // An idle subscription has no num_undelivered_messages series in
                // Cloud Monitoring: without this the scaler errors, the HPA never
                // scales down and the ScaledObject is degraded (kedacore/keda#5896);
                // no series means no backlog.
                "valueIfNull": "0",
            });
            if let Some(activation) = trigger.activation_size {
                metadata["activationValue"] = json!(activation.to_string());
            }
            triggers.push(json!({ "type": "gcp-pubsub", "metadata": metadata, "authenticationRef": { "name": auth } }));
        }
        let mut scaled_object = json!({
            "apiVersion": SCALED_OBJECT.api_version,
            "kind": SCALED_OBJECT.kind,
            "metadata": { "name": app, "labels": labels },
            "spec": {
                "scaleTargetRef": { "apiVersion": ROLLOUT.api_version, "kind": ROLLOUT.kind, "name": app },
                "minReplicaCount": min,
                "maxReplicaCount": max,
                "advanced": { "horizontalPodAutoscalerConfig": { "behavior": hpa_behavior() } },
                "triggers": triggers,
            },
        });
        let pubsub_only = scaling.cpu.is_none() && scaling.memory.is_none();
        if pubsub_only && !scaling.pubsub_topic.is_empty() {
            let replicas = scaling.fallback_replicas.unwrap_or(min.max(1));
            scaled_object["spec"]["fallback"] =
                json!({ "failureThreshold": FALLBACK_FAILURES, "replicas": replicas });
        }
        let mut objects = vec![scaled_object];
        if !scaling.pubsub_topic.is_empty() {
            objects.push(json!({
                "apiVersion": TRIGGER_AUTHENTICATION.api_version,
                "kind": TRIGGER_AUTHENTICATION.kind,
                "metadata": { "name": auth, "labels": labels },
                "spec": { "podIdentity": { "provider": "gcp" } },
            }));
        }
        objects
    }

    fn pod_monitor(&self, labels: &BTreeMap<String, String>, port: &str, path: &str) -> Value {
        json!({
            "apiVersion": POD_MONITOR.api_version,
            "kind": POD_MONITOR.kind,
            "metadata": { "name": self.spec.spec.app, "labels": labels },
            "spec": {
                "selector": { "matchLabels": lummo_core::selector_labels(&self.spec.spec.app) },
                // Explicit, so the analysis query's window (its `interval`) holds
                // a known number of scrapes whatever Prometheus' global default.
                "podMetricsEndpoints": [{ "port": port, "path": path, "interval": SCRAPE_INTERVAL }],
                // Argo Rollouts labels each ReplicaSet's pods with this hash; as a
                // series label it tells canary from stable in the analysis query.
                "podTargetLabels": ["rollouts-pod-template-hash"],
            },
        })
    }

    /// The canary's AnalysisTemplate. Argo Rollouts evaluates each measurement
    /// with successCondition and failureCondition (utils/evaluate/evaluate.go):
    /// failure wins, success needs its condition true, and when neither holds the
    /// measurement is Inconclusive, which pauses the Rollout for a person to
    /// promote or abort it (docs/features/analysis.md, "Inconclusive Runs").
    /// Both conditions demand a value, so no data (an empty vector from Prometheus,
    /// no points from Datadog) and no traffic (0/0 = NaN, false in every
    /// comparison) are Inconclusive: never a silent pass, never a rollback of a
    /// canary nobody called. Proven with the real promtool by
    /// scripts/analysis-promtool.py.
    fn analysis_template(&self, labels: &BTreeMap<String, String>, analysis: &Analysis) -> Value {
        let rate = analysis.success_rate;
        let (provider, success, failure) = match (&analysis.prometheus, &analysis.datadog) {
            (Some(p), _) => {
                let query = p.query.clone().unwrap_or_else(|| {
                    prometheus_query(
                        &self.spec.spec.app,
                        analysis.interval.as_str(),
                        analysis.success_rate,
                    )
                });
                (
                    json!({ "prometheus": { "address": p.address, "query": query } }),
                    format!("len(result) == 1 && result[0] >= {rate}"),
                    format!("len(result) == 1 && result[0] < {rate}"),
                )
            }
            (None, Some(d)) => (
                // Checked before rendering: Datadog has no query that fits every app.
                json!({ "datadog": { "apiVersion": "v1", "interval": "5m", "query": d.query.clone().unwrap_or_default() } }),
                format!("result != nil && result >= {rate}"),
                format!("result != nil && result < {rate}"),
            ),
            (None, None) => (json!({}), String::new(), String::new()),
        };
        json!({
            "apiVersion": ANALYSIS_TEMPLATE.api_version,
            "kind": ANALYSIS_TEMPLATE.kind,
            "metadata": { "name": format!("{}-success-rate", self.spec.spec.app), "labels": labels },
            "spec": {
                "args": [{ "name": "service-name" }, { "name": "namespace" }, { "name": "canary-hash" }],
                "metrics": [{
                    "name": "success-rate",
                    "interval": analysis.interval.as_str(),
                    "initialDelay": analysis.initial_delay.as_str(),
                    "failureLimit": analysis.failure_limit,
                    "inconclusiveLimit": analysis.inconclusive_limit(),
                    "successCondition": success,
                    "failureCondition": failure,
                    "provider": provider,
                }],
            },
        })
    }
}

/// The canary's HTTP success rate, from the series the app's PodMonitor scrapes.
/// A PodMonitor target is labelled namespace, pod, container, endpoint and
/// `job: <namespace>/<PodMonitor name>`, plus its podTargetLabels
/// (prometheus-operator pkg/prometheus/promcfg.go); there is no `service` label,
/// which only ServiceMonitor targets get. `rollouts_pod_template_hash` (from
/// podTargetLabels) keeps the canary's pods apart from the stable ones. The
/// errors are taken from the 5xx series `or vector(0)`, so a canary that
/// answers only errors (no non-5xx series at all) still yields a number.
///
/// Argo Rollouts judges each measurement by its value alone
/// (utils/evaluate/evaluate.go), with no idea of how many requests it holds, so
/// the query carries the statistics a ratio of a few requests lacks:
/// - it fails only when the window's 5xx exceed the errors `successRate` allows
///   by more than [`NOISE_SIGMAS`] standard deviations of a Poisson count
///   (`√allowed`): a healthy canary well inside its budget is not aborted because
///   two of its minutes drew a few more errors than average;
/// - it passes only when the window holds at least the requests in which
///   `successRate` allows one error (`requests × (1 − successRate) ≥ 1`, 100 at
///   0.99): with fewer, no error count shows the rate is met, so the vector is
///   empty and the measurement Inconclusive, as for a canary without traffic —
///   a failing canary with a trickle of requests pauses for a person instead of
///   being promoted on minutes that happened to hold no error.
/// The value is the success rate credited with that tolerance, at most 1; the
/// conditions compare it with `successRate` as written. Proven over time by
/// scripts/rollout_model.py and, measurement by measurement, by the real promtool.
fn prometheus_query(app: &str, window: &str, success_rate: f64) -> String {
    let selector = format!(
        "namespace=\"{{{{args.namespace}}}}\",job=\"{{{{args.namespace}}}}/{app}\",rollouts_pod_template_hash=\"{{{{args.canary-hash}}}}\""
    );
    let requests = format!("sum(increase(http_requests_total{{{selector}}}[{window}]))");
    let errors = format!(
        "(sum(increase(http_requests_total{{{selector},code=~\"5..\"}}[{window}])) or vector(0))"
    );
    let allowed = format!("{requests} * (1 - {success_rate})");
    let score =
        format!("clamp_max(1 - ({errors} - {NOISE_SIGMAS} * sqrt({allowed})) / {requests}, 1)");
    format!("({score} < {success_rate}) or ({score} and on() ({allowed} >= 1))")
}

/// Failed reads of a trigger's metric in a row before KEDA uses the fallback
/// replicas (one read per 30s polling interval).
const FALLBACK_FAILURES: i64 = 3;

/// The HPA's scaling behaviour: up as fast as Kubernetes' default (double, or
/// 4 pods, every 15s), down by at most half the pods a minute after 5 minutes of
/// lower recommendations, so a backlog that drains in bursts does not flap the
/// workers (Kubernetes' default drops to the recommendation at once).
fn hpa_behavior() -> Value {
    json!({
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                { "type": "Percent", "value": 100, "periodSeconds": 15 },
                { "type": "Pods", "value": 4, "periodSeconds": 15 },
            ],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "selectPolicy": "Max",
            "policies": [{ "type": "Percent", "value": 50, "periodSeconds": 60 }],
        },
    })
}

fn meta(name: &str, labels: &BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        labels: Some(labels.clone()),
        ..Default::default()
    }
}

/// Spread over nodes (required) and zones (preferred). `nodeTaintsPolicy: Honor`:
/// nodes the pod cannot run on (cordoned and tainted during a node upgrade) do
/// not count as empty domains, which would otherwise keep new pods Pending.
/// `matchLabelKeys: [rollouts-pod-template-hash]`: each ReplicaSet (canary,
/// stable) is spread on its own, so a canary pod is not placed by the stable
/// pods' positions.
fn spread_constraints(app: &str) -> Vec<core::TopologySpreadConstraint> {
    [
        ("kubernetes.io/hostname", "DoNotSchedule"),
        ("topology.kubernetes.io/zone", "ScheduleAnyway"),
    ]
    .map(|(key, when)| core::TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.into(),
        when_unsatisfiable: when.into(),
        label_selector: Some(LabelSelector {
            match_labels: Some(lummo_core::selector_labels(app)),
            match_expressions: None,
        }),
        match_label_keys: Some(vec![POD_TEMPLATE_HASH.into()]),
        node_taints_policy: Some("Honor".into()),
        ..Default::default()
    })
    .to_vec()
}

/// `trafficRouting` is refused rather than passed through half-done: Argo Rollouts'
/// Traefik routing shifts the weights of a TraefikService over canary and stable
/// Services, none of which the functions generate, while the IngressRoute targets the
/// app's Service; and without `dynamicStableScale` the stable pods stay at full size.
const TRAFFIC_ROUTING_REFUSED: &str = "is not supported: Argo Rollouts would weight a TraefikService over canary and stable Services that are not generated, while lummo-networking's IngressRoute sends every request to the app's Service, so no step would shift traffic. Remove `trafficRouting`: the canary then gets its share through replica counts (setWeight: 20 on 5 replicas is 1 canary pod)";
