//! The API server's own rules for objects of built-in kinds, which no CRD schema
//! states: names per kind, label and annotation syntax and sizes, container
//! resource quantities and ports (k8s.io/kubernetes pkg/apis/core/validation
//! `ValidateObjectMeta`, `ValidateContainers`, `ValidateResourceRequirements`,
//! `ValidateService`; apimachinery pkg/api/validation `ValidateAnnotations`,
//! pkg/apis/meta/v1/validation `ValidateLabels`).
//!
//! Types (a string where an integer belongs) are left to the schema check of
//! `make k8s-validate`; only values of the right type are judged here.

use krm_sdk::{ObjectExt, ResultItem, Value};
use lummo_core::names;
use lummo_core::quantity::Quantity;

/// An error at a field path of the object being checked.
fn at(path: impl Into<String>, message: impl Into<String>) -> ResultItem {
    ResultItem::error(message).field(path)
}

/// `ValidateAnnotations`: keys and values together at most 256 KiB.
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// The problems of one object of a built-in kind, each at its field.
pub fn check(object: &Value) -> Vec<ResultItem> {
    let mut problems = Vec::new();
    let kind = object.kind();
    match object.pointer("/metadata/name").and_then(Value::as_str) {
        Some(name) => {
            if let Err(message) = names::object_name(kind, name) {
                problems.push(at("metadata.name", message));
            }
        }
        None if object.pointer("/metadata/generateName").is_none() => {
            problems.push(at("metadata.name", "is required"));
        }
        None => {}
    }
    if let Some(namespace) = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
    {
        if let Err(message) = names::dns_label(namespace) {
            problems.push(at("metadata.namespace", message));
        }
    }
    check_metadata_maps(object.get("metadata"), "metadata", &mut problems);
    for (path, spec) in pod_specs(object) {
        check_pod(spec, &path, &mut problems);
    }
    if kind == "Service" && object.api_version() == "v1" {
        check_service(object, &mut problems);
    }
    problems.into_iter().map(|p| p.for_object(object)).collect()
}

/// Labels and annotations of an object's or a pod template's metadata.
fn check_metadata_maps(metadata: Option<&Value>, path: &str, problems: &mut Vec<ResultItem>) {
    let Some(metadata) = metadata else { return };
    if let Some(labels) = metadata.get("labels").and_then(Value::as_object) {
        for (key, value) in labels {
            if let Err(message) = names::qualified_name(key) {
                problems.push(at(format!("{path}.labels"), message));
            }
            if let Some(Err(message)) = value.as_str().map(names::label_value) {
                problems.push(at(format!("{path}.labels.{key}"), message));
            }
        }
    }
    if let Some(annotations) = metadata.get("annotations").and_then(Value::as_object) {
        let mut size = 0;
        for (key, value) in annotations {
            // ValidateAnnotations checks the lower-cased key.
            if let Err(message) = names::qualified_name(&key.to_lowercase()) {
                problems.push(at(format!("{path}.annotations"), message));
            }
            size += key.len() + value.as_str().map_or(0, str::len);
        }
        if size > ANNOTATIONS_MAX_BYTES {
            problems.push(at(
                format!("{path}.annotations"),
                format!("annotations are {size} bytes, more than the API server's limit of {ANNOTATIONS_MAX_BYTES} (256 KiB)"),
            ));
        }
    }
}

/// The pod specs of an object, with their paths.
/// An Argo Rollout's template counts: the Rollout controller copies it into the
/// ReplicaSets it creates, which the API server judges as any other.
fn pod_specs(object: &Value) -> Vec<(String, &Value)> {
    let api_version = object.api_version();
    if !matches!(api_version, "v1" | "apps/v1" | "batch/v1")
        && api_version != lummo_core::resources::ROLLOUT.api_version
    {
        return Vec::new();
    }
    let (pointer, path) = match object.kind() {
        "Pod" => ("/spec", "spec"),
        "Rollout" => ("/spec/template/spec", "spec.template.spec"),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => ("/spec/template/spec", "spec.template.spec"),
        "CronJob" => (
            "/spec/jobTemplate/spec/template/spec",
            "spec.jobTemplate.spec.template.spec",
        ),
        _ => return Vec::new(),
    };
    object
        .pointer(pointer)
        .map(|spec| vec![(path.to_string(), spec)])
        .unwrap_or_default()
}

fn check_pod(spec: &Value, path: &str, problems: &mut Vec<ResultItem>) {
    for key in ["initContainers", "containers"] {
        let containers = spec.get(key).and_then(Value::as_array);
        for (i, container) in containers.into_iter().flatten().enumerate() {
            let container_path = format!("{path}.{key}[{i}]");
            check_resources(container.get("resources"), &container_path, problems);
            let ports = container.get("ports").and_then(Value::as_array);
            for (j, port) in ports.into_iter().flatten().enumerate() {
                let port_path = format!("{container_path}.ports[{j}]");
                if let Some(number) = port.get("containerPort").and_then(Value::as_i64) {
                    check_port_number(number, &format!("{port_path}.containerPort"), problems);
                }
                if let Some(number) = port.get("hostPort").and_then(Value::as_i64) {
                    if number != 0 {
                        check_port_number(number, &format!("{port_path}.hostPort"), problems);
                    }
                }
                if let Some(Err(message)) = port
                    .get("name")
                    .and_then(Value::as_str)
                    .map(names::port_name)
                {
                    problems.push(at(format!("{port_path}.name"), message));
                }
            }
        }
    }
}

/// `ValidateResourceRequirements`: every quantity parses and is not negative, and
/// no request exceeds its limit.
fn check_resources(resources: Option<&Value>, path: &str, problems: &mut Vec<ResultItem>) {
    let Some(resources) = resources else { return };
    let mut parsed = |part: &str| {
        let mut found = Vec::new();
        let map = resources.get(part).and_then(Value::as_object);
        for (name, value) in map.into_iter().flatten() {
            match Quantity::from_value(value) {
                Ok(quantity) => found.push((name.clone(), quantity)),
                Err(message) => {
                    problems.push(at(format!("{path}.resources.{part}.{name}"), message))
                }
            }
        }
        found
    };
    let requests = parsed("requests");
    let limits = parsed("limits");
    for (name, request) in &requests {
        if let Some((_, limit)) = limits.iter().find(|(n, _)| n == name) {
            if request.value() > limit.value() {
                problems.push(at(
                    format!("{path}.resources.requests.{name}"),
                    format!(
                        "`{}` must be less than or equal to the {name} limit `{}`",
                        request.as_str(),
                        limit.as_str()
                    ),
                ));
            }
        }
    }
}

fn check_port_number(number: i64, path: &str, problems: &mut Vec<ResultItem>) {
    if !(1..=65535).contains(&number) {
        problems.push(at(
            path.to_string(),
            format!("{number} is not a port number: it must be between 1 and 65535"),
        ));
    }
}

/// `ValidateService`'s port rules: numbers in range, a `targetPort` that is a
/// number in range or a port name, and names (DNS-1123 labels, unique) on every
/// port when there is more than one.
fn check_service(service: &Value, problems: &mut Vec<ResultItem>) {
    let ports = service.pointer("/spec/ports").and_then(Value::as_array);
    let ports: Vec<&Value> = ports.into_iter().flatten().collect();
    let mut seen: Vec<&str> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let path = format!("spec.ports[{i}]");
        if let Some(number) = port.get("port").and_then(Value::as_i64) {
            check_port_number(number, &format!("{path}.port"), problems);
        }
        match port.get("targetPort") {
            Some(Value::Number(n)) => {
                if let Some(number) = n.as_i64() {
                    check_port_number(number, &format!("{path}.targetPort"), problems);
                }
            }
            Some(Value::String(name)) => {
                if let Err(message) = names::port_name(name) {
                    problems.push(at(format!("{path}.targetPort"), message));
                }
            }
            _ => {}
        }
        match port.get("name").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => {
                if let Err(message) = names::dns_label(name) {
                    problems.push(at(format!("{path}.name"), message));
                }
                if seen.contains(&name) {
                    problems.push(at(
                        format!("{path}.name"),
                        format!("`{name}` is used by another port"),
                    ));
                }
                seen.push(name);
            }
            _ if ports.len() > 1 => problems.push(at(
                format!("{path}.name"),
                "is required when a Service has more than one port",
            )),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use krm_sdk::json;

    fn fields(object: krm_sdk::Value) -> Vec<String> {
        check(&object)
            .into_iter()
            .map(|p| {
                format!(
                    "{}: {}",
                    p.field.expect("every problem has a field").path,
                    p.message
                )
            })
            .collect()
    }

    #[test]
    fn judges_built_in_objects_as_the_api_server() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "labels": {"app.kubernetes.io/name": "api", "bad key!": "x", "v": "-bad"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c",
                "resources": {"requests": {"cpu": -1, "memory": "lots"}, "limits": {"cpu": "1"}},
                "ports": [{"containerPort": 70000, "name": "http"}]}]}}}});
        let found = fields(deployment);
        assert_eq!(found.len(), 5, "{found:#?}");
        assert!(found[0].starts_with("metadata.labels: key `bad key!`"));
        assert!(found[1].starts_with("metadata.labels.v: `-bad`"));
        assert!(found[2].starts_with("spec.template.spec.containers[0].resources.requests.cpu: `-1` must be greater than or equal to 0"));
        assert!(found[3].starts_with("spec.template.spec.containers[0].resources.requests.memory: `lots` is not a Kubernetes quantity"));
        assert!(
            found[4].starts_with("spec.template.spec.containers[0].ports[0].containerPort: 70000")
        );

        let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "9lives"},
            "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 0, "name": "b"}]}});
        let found = fields(service);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].contains("DNS-1035"));
        assert!(found[1].starts_with("spec.ports[0].name: is required"));
        assert!(found[2].starts_with("spec.ports[1].port: 0"));

        let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "a".repeat(53)}});
        assert!(fields(cron)[0].contains("more than 52"));
        let clean = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a.b",
            "annotations": {"Example.com/Note": "x"}}});
        assert_eq!(fields(clean), Vec::<String>::new());
    }
}
