//! `lummo-workload`: `LummoDeployment` → Argo Rollout, Service, ServiceAccount,
//! PodDisruptionBudget, KEDA ScaledObject (+ TriggerAuthentication), PodMonitor and
//! AnalysisTemplate; `LummoJob` → Job (an Argo CD Sync hook in wave 1, before the
//! app's wave 2);
//! `LummoCronJob` → CronJob. Containers may extend `LummoContainer` templates.
//!
//! [`Workload`] is the whole function: a pure transform of the ResourceList. It never
//! emits an HPA (KEDA owns scaling) and never edits objects it did not generate.

mod containers;
pub mod identity;
pub mod jobs;
pub mod network;
mod provenance;
mod render;
pub mod spec;
pub mod templates;

use jobs::JobKind;
use krm_sdk::{ResourceList, ResultItem, Value};
use lummo_core::descriptor::{schema_of, KindDoc};
use lummo_core::function::{Collector, Function, FunctionConfig, Output};
use lummo_core::Spec;
use spec::{LummoDeploymentSpec, LummoJobSpec};
use std::collections::BTreeMap;
use templates::Templates;

/// The kind this function reads.
pub const KIND: &str = "LummoDeployment";

/// The function: LummoDeployments, then LummoJobs and LummoCronJobs (which must
/// not be named like an app), containers resolved against the LummoContainer
/// templates.
pub struct Workload;

/// The specs of a package, templates merged in.
pub struct Specs {
    deployments: Vec<Spec<LummoDeploymentSpec>>,
    /// Per job kind, the specs and the problems of their decoding: these are
    /// reported after the LummoDeployments' rendering, each kind's decoding
    /// before its rendering, as the function always has.
    jobs: Vec<(JobKind, Vec<Spec<LummoJobSpec>>, Vec<ResultItem>)>,
}

impl Function for Workload {
    const NAME: &'static str = "lummo-workload";
    const ABOUT: &'static str = "Turns every LummoDeployment (lummo.dev/v1alpha1) in the package into an Argo Rollout,\n\
            Service, ServiceAccount, PodDisruptionBudget, KEDA ScaledObject and TriggerAuthentication,\n\
            Prometheus PodMonitor and Argo AnalysisTemplate, with restricted pod security by default;\n\
            every LummoJob into a Job (an ArgoCD Sync hook, run before the app's Rollout) and every\n\
            LummoCronJob into a CronJob. Containers may extend LummoContainer templates.\n\
            Generated files go to generated/ beside each spec; re-running replaces them.";
    const KINDS: &'static [KindDoc] = &[
        KindDoc { kind: "LummoDeployment", about: "A long-running app: Argo Rollout, Service, KEDA scaling, monitoring (lummo-workload).", example: Some("Kptfile.examples/workload/foobar-api.yaml"), schema: schema_of::<spec::LummoDeploymentSpec>, function_config: false },
        KindDoc { kind: "LummoJob", about: "A Job run once per sync, as an Argo CD Sync hook in wave 1, before the app's objects (lummo-workload).", example: Some("Kptfile.examples/tokko-api/migrate.yaml"), schema: schema_of::<spec::LummoJobSpec>, function_config: false },
        KindDoc { kind: "LummoCronJob", about: "A Job on a cron schedule (lummo-workload).", example: None, schema: schema_of::<spec::LummoJobSpec>, function_config: false },
        KindDoc { kind: "LummoContainer", about: "A container template that LummoDeployment, LummoJob and LummoCronJob containers (and other templates) extend (lummo-workload).", example: Some("Kptfile.examples/tokko-api/containers.yaml"), schema: schema_of::<spec::PartialContainer>, function_config: false },
        KindDoc { kind: CONFIG_KIND, about: "functionConfig of lummo-workload (a ConfigMap with the same keys works too).", example: None, schema: schema_of::<WorkloadConfig>, function_config: true },
    ];
    type Config = WorkloadConfig;
    type Specs = Specs;

    fn collect(collector: &mut Collector<'_>) -> Specs {
        let templates = Templates::collect(collector.package, &mut collector.problems);
        let resolve = |object: &_, problems: &mut _| templates.resolve(object, problems);
        let deployments = collector.specs_resolved(KIND, resolve);
        let mut jobs = Vec::new();
        for kind in [JobKind::Job, JobKind::CronJob] {
            let before = collector.problems.len();
            let specs = collector.specs_resolved(kind.kind(), resolve);
            jobs.push((kind, specs, collector.problems.split_off(before)));
        }
        Specs { deployments, jobs }
    }

    fn render(specs: Specs, config: &WorkloadConfig, package: &ResourceList) -> Output {
        let mut output = Output::default();
        let restarted = vault_restarted_secrets(package);
        let pubsub = identity::PubSubUse::of(package);
        for spec in &specs.deployments {
            let app = spec.spec.app.as_str();
            let by_vault: Vec<&str> = restarted
                .iter()
                .filter(|(a, _)| a == app)
                .map(|(_, secret)| secret.as_str())
                .collect();
            let mut rendered = render::render(spec, config, &pubsub, &by_vault);
            rendered.origins = provenance::record(spec, &rendered.objects);
            output.add(&spec.object, rendered);
        }
        let apps: Vec<&str> = specs
            .deployments
            .iter()
            .map(|d| d.spec.app.as_str())
            .collect();
        for (kind, specs, decoding) in specs.jobs {
            output.problems.extend(decoding);
            for spec in &specs {
                let mut rendered = jobs::render(spec, kind, &apps);
                rendered.origins = provenance::record_job(&spec.object, &rendered.objects);
                output.add(&spec.object, rendered);
            }
        }
        output
    }
}

/// `(app, Secret)` pairs whose rotation the Vault Secrets Operator answers with
/// a restart of the app's Rollout: a VaultStaticSecret/VaultDynamicSecret of the
/// package listing `argo.Rollout <app>` in `rolloutRestartTargets`, or a
/// LummoPgBouncer with `vault` (whose VaultStaticSecret does, and which may run
/// after this function in the pipeline).
fn vault_restarted_secrets(package: &ResourceList) -> Vec<(String, String)> {
    let mut pairs = lummo_pgbouncer::vault_restarted_secrets(package);
    for item in &package.items {
        let object = item.value();
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let is_vso = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("secrets.hashicorp.com/"));
        if !is_vso || !kind.starts_with("Vault") || !kind.ends_with("Secret") {
            continue;
        }
        let spec = object.get("spec");
        let Some(secret) = spec
            .and_then(|s| s.pointer("/destination/name"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let targets = spec
            .and_then(|s| s.get("rolloutRestartTargets"))
            .and_then(Value::as_array);
        for target in targets.into_iter().flatten() {
            let rollout = target.get("kind").and_then(Value::as_str) == Some("argo.Rollout");
            if let (true, Some(app)) = (rollout, target.get("name").and_then(Value::as_str)) {
                pairs.push((app.to_string(), secret.to_string()));
            }
        }
    }
    pairs
}

/// The functionConfig of lummo-workload: what the apps' specs cannot know, per
/// environment (a kustomize overlay patches it like any object).
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadConfig {
    /// The Google Cloud project (its ID) of the Pub/Sub subscriptions the apps
    /// scale on: KEDA reads `projects/<project>/subscriptions/<name>`.
    #[serde(default)]
    pub project: Option<String>,
    /// The Google service account of each app, `<app>: <name>@<project>.iam.gserviceaccount.com`
    /// (GKE Workload Identity): the app's ServiceAccount acts as it, and it gets
    /// `roles/pubsub.subscriber` on the subscriptions the app consumes or scales
    /// on and `roles/pubsub.publisher` on the topics it publishes. Needed for an
    /// app that uses Pub/Sub.
    #[serde(default)]
    pub google_service_accounts: BTreeMap<String, String>,
    /// The Google service account of the apps not in `googleServiceAccounts`
    /// that use Pub/Sub, `{app}` replaced by the app's name, e.g.
    /// `{app}@foobar-dev.iam.gserviceaccount.com`.
    #[serde(default)]
    pub google_service_account: Option<String>,
    /// The GKE cluster's project: its workload identity pool,
    /// `<clusterProject>.svc.id.goog`, names the apps' ServiceAccounts. Default: `project`.
    #[serde(default)]
    pub cluster_project: Option<String>,
    /// The namespace of the apps whose LummoDeployment names none (e.g. an Argo
    /// CD Application's destination): Workload Identity binds
    /// `<namespace>/<app>`, so an app that uses Pub/Sub needs one or the other.
    #[serde(default)]
    pub namespace: Option<lummo_core::names::DnsLabel>,
    /// The namespace of the Prometheus that scrapes the apps: the app's
    /// NetworkPolicy lets its pods reach the metrics port. Default `monitoring`.
    #[serde(default)]
    pub prometheus_namespace: Option<lummo_core::names::DnsLabel>,
}

/// Kind of the typed functionConfig (a ConfigMap with the same keys works too).
pub const CONFIG_KIND: &str = "LummoWorkloadConfig";

/// The file `lummo init` and the examples keep the config in.
pub const CONFIG_FILE: &str = "workload-config.yaml";

impl WorkloadConfig {
    /// The Google service account of `app`, if configured.
    pub fn google_service_account(&self, app: &str) -> Option<String> {
        self.google_service_accounts.get(app).cloned().or_else(|| {
            self.google_service_account
                .as_ref()
                .map(|t| t.replace("{app}", app))
        })
    }

    /// The error for a setting a spec needs and the config lacks: which key,
    /// in which kind, and the Kptfile line that gives the function its config.
    pub fn missing(key: &str, example: &str) -> String {
        lummo_core::set_in_config("lummo-workload", CONFIG_KIND, key, example)
    }
}

/// A Google Cloud project ID: 6 to 30 lower-case letters, digits and hyphens,
/// starting with a letter, not ending with a hyphen
/// (<https://cloud.google.com/resource-manager/docs/creating-managing-projects#before_you_begin>).
pub fn check_project_id(id: &str) -> Result<(), String> {
    let bytes = id.as_bytes();
    let valid = (6..=30).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes.last().is_some_and(|b| *b != b'-')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!("`{id}` is not a Google Cloud project ID: 6 to 30 lower-case letters, digits and hyphens, starting with a letter (the ID, e.g. `foobar-dev`, not the number)"))
    }
}

impl FunctionConfig for WorkloadConfig {
    const KIND: Option<&'static str> = Some(CONFIG_KIND);
    const HELP_NOTES: &'static str = "    Under kustomize (KRM exec plugin) the LummoDeployment itself is the functionConfig.\n\n\
             EXAMPLE:\n    apiVersion: lummo.dev/v1alpha1\n    kind: LummoDeployment\n    metadata:\n      name: foobar-api\n    spec:\n      app: foobar-api\n      containers:\n        image: foobar:1.0.0\n        ports: [{name: http, port: 8080}]\n        resources: {requests: {cpu: 250m, memory: 256Mi}}";

    fn check(&self, source: Option<&Value>) -> Vec<ResultItem> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: String| {
            let error = ResultItem::error(format!("invalid functionConfig: {message}"));
            problems.push(match source {
                Some(source) => {
                    let root = if source.get("kind").and_then(Value::as_str) == Some("ConfigMap") {
                        "data"
                    } else {
                        "spec"
                    };
                    error.for_object(source).field(format!("{root}.{field}"))
                }
                None => error,
            });
        };
        for (field, project) in [
            ("project", &self.project),
            ("clusterProject", &self.cluster_project),
        ] {
            if let Some(Err(message)) = project.as_deref().map(check_project_id) {
                problem(field, message);
            }
        }
        for (app, email) in &self.google_service_accounts {
            if let Err(message) = identity::gsa_project(email) {
                problem(&format!("googleServiceAccounts.{app}"), message);
            }
        }
        if let Some(template) = &self.google_service_account {
            // Checked with a 6-letter app; a longer app name is checked per app.
            if let Err(message) = identity::gsa_project(&template.replace("{app}", "appapp")) {
                problem(
                    "googleServiceAccount",
                    format!("{message} (`{{app}}` is replaced by the app's name)"),
                );
            }
        }
        problems
    }

    /// Names and references never depend on the project or the Google service
    /// account; without them an app that uses Pub/Sub would generate nothing.
    fn stand_in() -> Option<Value> {
        Some(krm_sdk::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "lummo-validate-stand-in"},
            "data": {"project": "stand-in-project", "namespace": "stand-in",
                // One account for every app: valid whatever the app's name.
                "googleServiceAccount": "stand-in@stand-in-project.iam.gserviceaccount.com"}}))
    }
}
