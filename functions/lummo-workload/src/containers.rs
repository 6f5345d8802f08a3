//! Containers of every Lummo workload kind: validation and the pod's containers,
//! with restricted security contexts.

use crate::spec::{self, Container, Probe};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use krm_sdk::Value;
use lummo_core::names::{self, PortName};
use lummo_core::pod;
use lummo_core::port::{PortNumber, PortRef};
use std::collections::BTreeMap;

pub(crate) use lummo_core::function::Report;

/// What the containers of one pod are built from.
pub(crate) struct PodInput<'a> {
    pub app: &'a str,
    pub containers: &'a [Container],
    pub datadog: bool,
    /// Servers get default TCP probes on their first port; jobs do not.
    pub long_running: bool,
}

/// A container port after validation.
pub(crate) struct DeclaredPort {
    pub name: PortName,
    pub port: PortNumber,
}

/// Containers of a pod, validated; and the ports they declare.
pub(crate) fn build(
    report: &mut Report,
    input: &PodInput,
) -> (Vec<core::Container>, Vec<DeclaredPort>) {
    if input.containers.is_empty() {
        report.error("containers", "needs at least one container");
    }
    let mut names_seen: Vec<String> = Vec::new();
    let mut ports: Vec<DeclaredPort> = Vec::new();
    let mut containers = Vec::new();
    for (i, container) in input.containers.iter().enumerate() {
        let field = |f: &str| format!("containers[{i}].{f}");
        let name = match &container.name {
            Some(name) => name.to_string(),
            None if i == 0 => input.app.to_string(),
            None => format!("{}-{i}", input.app),
        };
        // A name the spec gives was checked while decoding; a derived `<app>-<n>`
        // may still be over 63 characters.
        if container.name.is_none() {
            if let Err(message) = names::dns_label(&name) {
                report.error(&field("name"), message);
            }
        }
        if names_seen.contains(&name) {
            report.error(
                &field("name"),
                format!("two containers are named `{name}`; container names must be unique"),
            );
        }
        names_seen.push(name.clone());
        let image = container.image.clone().unwrap_or_default();
        if container.image.is_none() {
            report.error(
                &field("image"),
                "is required (here or in the LummoContainer template)",
            );
        } else {
            check_image(report, &image, &field("image"));
        }
        for (j, port) in container.ports.iter().enumerate() {
            if ports.iter().any(|p| p.name == port.name) {
                report.error(
                    &field(&format!("ports[{j}].name")),
                    format!("port name `{}` is declared twice in the pod", port.name),
                );
            }
            ports.push(DeclaredPort {
                name: port.name.clone(),
                port: port.port,
            });
        }
        let resources = resources(report, container, i);
        let env = env(report, input.datadog, container, i);
        let probes = [
            &container.probes.liveness,
            &container.probes.readiness,
            &container.probes.startup,
        ]
        .map(|p| p.as_ref().map(|p| probe(report, p, container, i)));
        let default_probe = || {
            container
                .ports
                .first()
                .filter(|_| input.long_running)
                .map(|p| tcp_probe(&p.name))
        };
        let liveness = probes[0].clone().flatten().or_else(default_probe);
        let (_, tmp_mount) = pod::tmp_volume();
        containers.push(core::Container {
            name,
            image: Some(image),
            image_pull_policy: Some("IfNotPresent".into()),
            command: non_empty(container.command.clone()),
            args: non_empty(container.args.clone()),
            ports: non_empty(
                container
                    .ports
                    .iter()
                    .map(|p| core::ContainerPort {
                        name: Some(p.name.to_string()),
                        container_port: p.port.into(),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            env_from: non_empty(env_from(container)),
            env,
            resources,
            liveness_probe: liveness.clone(),
            readiness_probe: probes[1].clone().flatten().or_else(default_probe),
            startup_probe: probes[2].clone().flatten().or_else(|| {
                liveness
                    .as_ref()
                    .filter(|_| input.long_running)
                    .map(startup_probe)
            }),
            security_context: Some(pod::container_security_context(
                if container.read_only_root_filesystem {
                    pod::RootFilesystem::ReadOnly
                } else {
                    pod::RootFilesystem::Writable
                },
            )),
            volume_mounts: Some(vec![tmp_mount]),
            ..Default::default()
        });
    }
    (containers, ports)
}

fn check_image(report: &mut Report, image: &str, field: &str) {
    let last = image.rsplit('/').next().unwrap_or(image);
    if image.is_empty() || image.contains(char::is_whitespace) {
        report.error(field, format!("`{image}` is not an image reference"));
    } else if !last.contains(':') && !last.contains('@') {
        report.warning(field, format!("image `{image}` has no tag: pin a version tag or digest so rollouts are reproducible"));
    } else if last.ends_with(":latest") {
        report.warning(field, format!("image `{image}` uses `latest`: pin a version tag or digest so rollouts are reproducible"));
    }
}

fn resources(
    report: &mut Report,
    container: &Container,
    i: usize,
) -> Option<core::ResourceRequirements> {
    let field = format!("containers[{i}].resources");
    let Some(resources) = &container.resources else {
        report.error(&field, "is required: set requests.cpu and requests.memory (KEDA targets and scheduling depend on them), e.g. `resources: {requests: {cpu: 250m, memory: 256Mi}}`");
        return None;
    };
    let Some(requests) = &resources.requests else {
        report.error(
            &format!("{field}.requests"),
            "is required: set cpu and memory",
        );
        return None;
    };
    let mut quantities = |part: &str, q: &spec::Quantities, required: bool| {
        let mut map = BTreeMap::new();
        for (name, value) in [("cpu", &q.cpu), ("memory", &q.memory)] {
            match value {
                Some(value) => {
                    map.insert(name.to_string(), Quantity(value.as_str().to_string()));
                }
                None if required => report.error(&format!("{field}.{part}.{name}"), "is required"),
                None => {}
            }
        }
        map
    };
    let requests = quantities("requests", requests, true);
    let mut limits = quantities("limits", &resources.limits, false);
    if let (None, Some(memory)) = (limits.get("memory"), requests.get("memory")) {
        limits.insert("memory".into(), memory.clone());
    }
    Some(core::ResourceRequirements {
        requests: Some(requests),
        limits: Some(limits),
        claims: None,
    })
}

fn env(
    report: &mut Report,
    datadog: bool,
    container: &Container,
    i: usize,
) -> Option<Vec<core::EnvVar>> {
    let mut env = Vec::new();
    for (name, value) in &container.env {
        let value = match value {
            Value::String(s) => s.clone(),
            // The number's own text (`1.10` stays `1.10`); Kubernetes itself would
            // reject an unquoted number in an env value, so say so.
            Value::Number(_) | Value::Bool(_) => {
                let text = value.to_string();
                report.warning(
                    &format!("containers[{i}].env.{name}"),
                    format!("YAML reads this unquoted value as the {} `{text}`, and Kubernetes wants a string: quote it as you mean it (`{name}: \"...\"`)",
                        if value.is_number() { "number" } else { "boolean" }),
                );
                text
            }
            _ => {
                report.error(
                    &format!("containers[{i}].env.{name}"),
                    "must be a string, number or boolean",
                );
                continue;
            }
        };
        env.push(core::EnvVar {
            name: name.clone(),
            value: Some(value),
            value_from: None,
        });
    }
    if datadog {
        // A variable the spec sets itself wins: a second DD_ENV would be a
        // duplicate entry, and the kubelet keeps the last one silently.
        env.extend(
            datadog_env()
                .into_iter()
                .filter(|dd| !container.env.contains_key(&dd.name)),
        );
    }
    non_empty(env)
}

fn probe(
    report: &mut Report,
    probe: &Probe,
    container: &Container,
    i: usize,
) -> Option<core::Probe> {
    let field = format!("containers[{i}].probes");
    let port = match &probe.port {
        Some(PortRef::Name(name)) if container.ports.iter().any(|p| &p.name == name) => {
            IntOrString::String(name.to_string())
        }
        Some(PortRef::Name(name)) => {
            report.error(
                &field,
                format!("probe port `{name}` is not a declared port of this container"),
            );
            return None;
        }
        Some(PortRef::Number(number)) => IntOrString::Int((*number).into()),
        None => {
            match container.ports.first() {
                Some(p) => IntOrString::String(p.name.to_string()),
                None if probe.command.is_some() => IntOrString::Int(0),
                None => {
                    report.error(&field, "a probe needs a `port` (or `command`) when the container declares no ports");
                    return None;
                }
            }
        }
    };
    let mut result = core::Probe {
        initial_delay_seconds: probe.initial_delay_seconds,
        period_seconds: probe.period_seconds,
        timeout_seconds: probe.timeout_seconds,
        failure_threshold: probe.failure_threshold,
        ..Default::default()
    };
    if let Some(command) = &probe.command {
        result.exec = Some(core::ExecAction {
            command: Some(command.clone()),
        });
    } else if let Some(path) = &probe.path {
        if !path.starts_with('/') {
            report.error(&field, format!("probe path `{path}` must start with `/`"));
        }
        result.http_get = Some(core::HTTPGetAction {
            path: Some(path.clone()),
            port,
            ..Default::default()
        });
    } else {
        result.tcp_socket = Some(core::TCPSocketAction { port, host: None });
    }
    Some(result)
}

pub(crate) fn env_from(container: &Container) -> Vec<core::EnvFromSource> {
    let configs = container.configs.iter().map(|name| core::EnvFromSource {
        config_map_ref: Some(core::ConfigMapEnvSource {
            name: name.to_string(),
            optional: None,
        }),
        ..Default::default()
    });
    let secrets = container.secrets.iter().map(|name| core::EnvFromSource {
        secret_ref: Some(core::SecretEnvSource {
            name: name.to_string(),
            optional: None,
        }),
        ..Default::default()
    });
    configs.chain(secrets).collect()
}

/// Datadog unified service tagging, read from the pod's own labels and host
/// (docs.datadoghq.com/getting_started/tagging/unified_service_tagging: the
/// `tags.datadoghq.com/{env,service,version}` pod labels, exposed to the tracer
/// through the downward API). [`datadog_labels`] sets those labels.
pub(crate) fn datadog_env() -> Vec<core::EnvVar> {
    let field = |name: &str, path: &str| core::EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(core::EnvVarSource {
            field_ref: Some(core::ObjectFieldSelector {
                field_path: path.into(),
                api_version: None,
            }),
            ..Default::default()
        }),
    };
    vec![
        field("DD_ENV", "metadata.labels['tags.datadoghq.com/env']"),
        field(
            "DD_SERVICE",
            "metadata.labels['tags.datadoghq.com/service']",
        ),
        field(
            "DD_VERSION",
            "metadata.labels['tags.datadoghq.com/version']",
        ),
        field("DD_AGENT_HOST", "status.hostIP"),
    ]
}

/// The unified service tagging labels of a workload and its pod template: every
/// kind gets them, so DD_ENV, DD_SERVICE and DD_VERSION are never empty when the
/// spec names its environment.
pub(crate) fn datadog_labels(
    report: &mut Report,
    app: &str,
    environment: Option<&str>,
    image: Option<&str>,
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([("tags.datadoghq.com/service".to_string(), app.to_string())]);
    match environment {
        // A label value (decoded as lummo-core `LabelValue`), but an empty one
        // leaves DD_ENV empty: name it.
        Some("") => report.error(
            "environment",
            "is empty: name the environment (e.g. `environment: prod`) or leave it out",
        ),
        Some(env) => {
            labels.insert("tags.datadoghq.com/env".into(), env.into());
        }
        None => report.warning(
            "environment",
            "with datadog, name the environment (e.g. `environment: prod`, patched in by each overlay): otherwise DD_ENV is empty and traces land in no env",
        ),
    }
    if let Some(version) = image.and_then(image_version) {
        labels.insert("tags.datadoghq.com/version".into(), version);
    }
    labels
}

/// Seconds a server's container has to start before its liveness probe counts.
pub(crate) const STARTUP_SECONDS: i32 = 300;
/// How often the startup probe checks.
const STARTUP_PERIOD_SECONDS: i32 = 5;

/// The default startup probe of a server: the liveness probe's check, every 5
/// seconds for up to [`STARTUP_SECONDS`]. The kubelet runs liveness and
/// readiness only once it passes, so a slow start is not killed by liveness,
/// and liveness keeps its short period and threshold for a hung app.
fn startup_probe(liveness: &core::Probe) -> core::Probe {
    core::Probe {
        exec: liveness.exec.clone(),
        http_get: liveness.http_get.clone(),
        tcp_socket: liveness.tcp_socket.clone(),
        grpc: liveness.grpc.clone(),
        timeout_seconds: liveness.timeout_seconds,
        period_seconds: Some(STARTUP_PERIOD_SECONDS),
        failure_threshold: Some(STARTUP_SECONDS / STARTUP_PERIOD_SECONDS),
        ..Default::default()
    }
}

pub(crate) fn tcp_probe(port: &str) -> core::Probe {
    core::Probe {
        tcp_socket: Some(core::TCPSocketAction {
            port: IntOrString::String(port.into()),
            host: None,
        }),
        ..Default::default()
    }
}

/// The image tag as a label value, when it is a valid one.
pub(crate) fn image_version(image: &str) -> Option<String> {
    let last = image.rsplit('/').next()?;
    let tag = last.split('@').next()?.split_once(':')?.1;
    let valid = !tag.is_empty()
        && tag.len() <= 63
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && tag.as_bytes()[0].is_ascii_alphanumeric();
    valid.then(|| tag.to_string())
}

pub(crate) fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

pub(crate) fn unique(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_image_versions() {
        assert_eq!(
            image_version("gcr.io/x/foobar:1.2.3").as_deref(),
            Some("1.2.3")
        );
        assert_eq!(image_version("localhost:5000/foobar"), None);
        assert_eq!(image_version("foobar@sha256:abc"), None);
    }
}
