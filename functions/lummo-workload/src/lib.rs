//! `lummo-workload`: `LummoDeployment` → Argo Rollout, Service, ServiceAccount,
//! PodDisruptionBudget, KEDA ScaledObject (+ TriggerAuthentication), PodMonitor and
//! AnalysisTemplate; `LummoJob` → Job (an Argo CD Sync hook in wave 1, before the
//! app's wave 2);
//! `LummoCronJob` → CronJob. Containers may extend `LummoContainer` templates.
//!
//! [`process`] is the whole function: a pure transform of the ResourceList. It never
//! emits an HPA (KEDA owns scaling) and never edits objects it did not generate.

mod containers;
pub mod jobs;
mod render;
pub mod spec;
pub mod templates;

use krm_sdk::{FunctionInfo, Generator, ResourceList, ResultItem};
use lummo_core::descriptor::{schema_of, KindDoc};
use lummo_core::Spec;
use serde::de::DeserializeOwned;
use spec::{LummoDeploymentSpec, LummoJobSpec};
use templates::Templates;

/// The kind this function reads.
pub const KIND: &str = "LummoDeployment";
/// Marks this function's output, so a re-run replaces and prunes it.
pub const GENERATOR: Generator = lummo_core::generator("lummo-workload");

pub const INFO: FunctionInfo = FunctionInfo {
    name: "lummo-workload",
    version: env!("CARGO_PKG_VERSION"),
    about: "Turns every LummoDeployment (lummo.dev/v1alpha1) in the package into an Argo Rollout,\n\
            Service, ServiceAccount, PodDisruptionBudget, KEDA ScaledObject and TriggerAuthentication,\n\
            Prometheus PodMonitor and Argo AnalysisTemplate, with restricted pod security by default;\n\
            every LummoJob into a Job (an ArgoCD Sync hook, run before the app's Rollout) and every\n\
            LummoCronJob into a CronJob. Containers may extend LummoContainer templates.\n\
            Generated files go to generated/ beside each spec; re-running replaces them.",
    config: "    None needed. Under kustomize (KRM exec plugin) the LummoDeployment itself is the\n    functionConfig.\n\n\
             EXAMPLE:\n    apiVersion: lummo.dev/v1alpha1\n    kind: LummoDeployment\n    metadata:\n      name: foobar-api\n    spec:\n      app: foobar-api\n      containers:\n        image: foobar:1.0.0\n        ports: [{name: http, port: 8080}]\n        resources: {requests: {cpu: 250m, memory: 256Mi}}",
};

/// This function, for the programs that run or document every Lummo function.
pub const DESCRIPTOR: lummo_core::descriptor::Descriptor = lummo_core::descriptor::Descriptor {
    info: &INFO,
    kinds: &[
        KindDoc { kind: "LummoDeployment", about: "A long-running app: Argo Rollout, Service, KEDA scaling, monitoring (lummo-workload).", example: Some("Kptfile.examples/workload/foobar-api.yaml"), schema: schema_of::<spec::LummoDeploymentSpec>, function_config: false },
        KindDoc { kind: "LummoJob", about: "A Job run once per sync, as an Argo CD Sync hook in wave 1, before the app's objects (lummo-workload).", example: Some("Kptfile.examples/tokko-api/migrate.yaml"), schema: schema_of::<spec::LummoJobSpec>, function_config: false },
        KindDoc { kind: "LummoCronJob", about: "A Job on a cron schedule (lummo-workload).", example: None, schema: schema_of::<spec::LummoJobSpec>, function_config: false },
        KindDoc { kind: "LummoContainer", about: "A container template that LummoDeployment, LummoJob and LummoCronJob containers (and other templates) extend (lummo-workload).", example: Some("Kptfile.examples/tokko-api/containers.yaml"), schema: schema_of::<spec::PartialContainer>, function_config: false },
    ],
    process,
};

/// Renders every LummoDeployment, LummoJob and LummoCronJob of `list` (containers
/// resolved against the LummoContainer templates), replacing this function's
/// earlier output.
pub fn process(list: &mut ResourceList) {
    let mut results = lummo_core::check_kinds(list);
    let templates = Templates::collect(list, &mut results);
    let mut outputs = Vec::new();
    let deployments = specs::<LummoDeploymentSpec>(list, KIND, &templates, &mut results);
    let apps: Vec<&str> = deployments.iter().map(|d| d.spec.app.as_str()).collect();
    for spec in &deployments {
        let rendered = render::render(spec);
        results.extend(rendered.results);
        outputs.push(lummo_core::generated(&spec.object, rendered.objects));
    }
    for (kind, cron) in [(jobs::JOB_KIND, false), (jobs::CRON_JOB_KIND, true)] {
        for spec in specs::<LummoJobSpec>(list, kind, &templates, &mut results) {
            let (objects, found) = jobs::render(&spec, cron, &apps);
            results.extend(found);
            outputs.push(lummo_core::generated(&spec.object, objects));
        }
    }
    lummo_core::settle(&mut results);
    list.results.extend(results);
    GENERATOR.apply(list, outputs);
}

/// Specs of `kind` with their containers' templates merged in, decoded strictly.
fn specs<T: DeserializeOwned + schemars::JsonSchema>(
    list: &ResourceList,
    kind: &str,
    templates: &Templates,
    results: &mut Vec<ResultItem>,
) -> Vec<Spec<T>> {
    let mut specs = Vec::new();
    for object in lummo_core::spec_objects(list, kind) {
        let resolved = templates.resolve(&object, results);
        let (spec, problems) = lummo_core::decode_spec(&resolved, kind);
        results.extend(problems);
        if let Some(spec) = spec {
            specs.push(Spec { object, spec });
        }
    }
    specs
}
