//! `lummo-workload`: `LummoDeployment` → Argo Rollout, Service, ServiceAccount,
//! PodDisruptionBudget, KEDA ScaledObject (+ TriggerAuthentication), PodMonitor and
//! AnalysisTemplate.
//!
//! [`process`] is the whole function: a pure transform of the ResourceList. It never
//! emits an HPA (KEDA owns scaling) and never edits objects it did not generate.

mod render;
pub mod spec;

use krm_sdk::{FunctionInfo, Generated, Generator, ResourceList};
use spec::LummoDeploymentSpec;

/// The kind this function reads.
pub const KIND: &str = "LummoDeployment";
/// Marks this function's output, so a re-run replaces and prunes it.
pub const GENERATOR: Generator = lummo_core::generator("lummo-workload");

pub const INFO: FunctionInfo = FunctionInfo {
    name: "lummo-workload",
    version: env!("CARGO_PKG_VERSION"),
    about: "Turns every LummoDeployment (lummo.dev/v1alpha1) in the package into an Argo Rollout,\n\
            Service, ServiceAccount, PodDisruptionBudget, KEDA ScaledObject and TriggerAuthentication,\n\
            Prometheus PodMonitor and Argo AnalysisTemplate, with restricted pod security by default.\n\
            Generated files go to generated/ beside each spec; re-running replaces them.",
    config: "    None needed. Under kustomize (KRM exec plugin) the LummoDeployment itself is the\n    functionConfig.\n\n\
             EXAMPLE:\n    apiVersion: lummo.dev/v1alpha1\n    kind: LummoDeployment\n    metadata:\n      name: foobar-api\n    spec:\n      app: foobar-api\n      containers:\n        image: foobar:1.0.0\n        ports: [{name: http, port: 8080}]\n        resources: {requests: {cpu: 250m, memory: 256Mi}}",
};

/// Renders every LummoDeployment of `list`, replacing this function's earlier output.
pub fn process(list: &mut ResourceList) {
    let specs = lummo_core::collect_specs::<LummoDeploymentSpec>(list, KIND);
    let mut outputs = Vec::with_capacity(specs.len());
    for spec in &specs {
        let rendered = render::render(spec);
        list.results.extend(rendered.results);
        outputs.push(Generated::from_spec(&spec.object, rendered.objects));
    }
    GENERATOR.apply(list, outputs);
}
