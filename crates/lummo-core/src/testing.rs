//! Golden tests for Lummo functions: the krm-sdk kit plus the checks every
//! generated object must pass (upstream schema, restricted pod security).

use crate::GENERATED_BY;
use krm_sdk::openapi::SchemaSet;
use krm_sdk::{ObjectExt, ResourceList, Value};
use std::path::Path;

/// The project's copy of upstream CRD schemas (`schemas/upstream`).
pub fn upstream_schemas() -> SchemaSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/upstream");
    SchemaSet::load_dir(&dir).expect("schemas/upstream is readable")
}

/// Runs `F` over `<crate>/testdata/*` (see [`check_function_golden`]).
pub fn check_golden<F: crate::function::Function>(manifest_dir: &str) {
    check_function_golden(manifest_dir, F::NAME, crate::function::process::<F>);
}

/// Runs `<crate>/testdata/*` and checks every generated object strictly.
pub fn check_function_golden(manifest_dir: &str, name: &str, process: impl Fn(&mut ResourceList)) {
    let schemas = upstream_schemas();
    let dir = Path::new(manifest_dir).join("testdata");
    // Internal tags (`settle`'s) never reach the output.
    let process = |list: &mut ResourceList| {
        process(list);
        for result in &list.results {
            let internal = result.tags.keys().find(|tag| tag.starts_with("internal."));
            assert!(
                internal.is_none(),
                "{name}: result with tag {internal:?}: {}",
                result.message
            );
        }
    };
    krm_sdk::testing::check_golden_dir(&dir, name, process, |item| {
        if item.annotation(GENERATED_BY).is_none() {
            return Vec::new();
        }
        let mut problems = schemas.validate_strict(item);
        problems.extend(restricted_pod_problems(item));
        problems
    });
}

/// Pod Security Standards "restricted" checks on an object's pod template, if any.
pub fn restricted_pod_problems(object: &Value) -> Vec<String> {
    let pod = match object.kind() {
        "Pod" => object.get("spec"),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => object.pointer("/spec/template/spec"),
    };
    let Some(pod) = pod else { return Vec::new() };
    let mut problems = Vec::new();
    let pod_context = pod.get("securityContext");
    let pod_flag = |name: &str| pod_context.and_then(|c| c.get(name));
    for flag in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod.get(flag) == Some(&Value::Bool(true)) {
            problems.push(format!("pod sets {flag}"));
        }
    }
    for volume in pod
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if volume.get("hostPath").is_some() {
            problems.push("pod mounts a hostPath volume".into());
        }
    }
    let containers = ["initContainers", "containers"].iter().flat_map(|key| {
        pod.get(*key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    });
    for container in containers {
        let name = container.get("name").and_then(Value::as_str).unwrap_or("?");
        let context = container.get("securityContext");
        let get = |field: &str| context.and_then(|c| c.get(field));
        if get("allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
            problems.push(format!(
                "container {name}: allowPrivilegeEscalation must be false"
            ));
        }
        if get("privileged") == Some(&Value::Bool(true)) {
            problems.push(format!("container {name}: privileged"));
        }
        if get("runAsNonRoot") != Some(&Value::Bool(true))
            && pod_flag("runAsNonRoot") != Some(&Value::Bool(true))
        {
            problems.push(format!("container {name}: runAsNonRoot must be true"));
        }
        let seccomp = get("seccompProfile").or_else(|| pod_flag("seccompProfile"));
        let seccomp_type = seccomp.and_then(|s| s.get("type")).and_then(Value::as_str);
        if !matches!(seccomp_type, Some("RuntimeDefault" | "Localhost")) {
            problems.push(format!(
                "container {name}: seccompProfile must be RuntimeDefault or Localhost"
            ));
        }
        let drop = get("capabilities")
            .and_then(|c| c.get("drop"))
            .and_then(Value::as_array);
        if !drop.is_some_and(|d| d.iter().any(|c| c == "ALL")) {
            problems.push(format!("container {name}: capabilities must drop ALL"));
        }
        let added = get("capabilities")
            .and_then(|c| c.get("add"))
            .and_then(Value::as_array);
        if added.is_some_and(|a| a.iter().any(|c| c != "NET_BIND_SERVICE")) {
            problems.push(format!("container {name}: may only add NET_BIND_SERVICE"));
        }
    }
    problems
}
