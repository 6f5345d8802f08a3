//! References between the objects the pipeline generates and the package, checked
//! on the generated output itself (what the functions made of each spec, aliases
//! and defaults included), each reported on the spec that generated the object.

use crate::builtin;
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Severity, Value};
use std::collections::{HashMap, HashSet};

/// The problems of the references of `generated` (the pipeline's fresh output).
pub fn check(list: &ResourceList, generated: &[krm_sdk::Item]) -> Vec<ResultItem> {
    let fresh: Vec<&Value> = generated
        .iter()
        .map(|item| item.value())
        .filter(|o| o.annotation(lummo_core::GENERATED_BY).is_some())
        .collect();
    let available = Available::new(
        list.items
            .iter()
            .map(|item| item.value())
            .filter(|o| o.annotation(lummo_core::GENERATED_BY).is_none())
            .chain(fresh.iter().copied()),
    );
    let specs = list
        .items
        .iter()
        .map(|item| item.value())
        .map(|o| ((o.kind(), o.name()), o))
        .collect();
    let mut references = References {
        available,
        specs,
        problems: Vec::new(),
        seen: HashSet::new(),
    };
    for object in &fresh {
        references.builtin(object);
        references.pod(object);
        match object.kind() {
            "ScaledObject" | "ScaledJob" => references.scaled(object),
            "IngressRoute" => references.ingress_route(object),
            "HTTPRoute" | "GRPCRoute" => references.gateway_route(object),
            _ => {}
        }
    }
    let networking = list.items.iter().map(|item| item.value());
    for spec in networking.filter(|o| {
        o.kind() == "LummoNetworking" && o.annotation(lummo_core::GENERATED_BY).is_none()
    }) {
        references.exposed_metrics(spec);
    }
    references.problems
}

/// What the checks know, and what they found.
struct References<'a> {
    available: Available<'a>,
    /// The package's objects by (kind, name), to find the spec behind a generated
    /// object.
    specs: HashMap<(&'a str, &'a str), &'a Value>,
    problems: Vec<ResultItem>,
    /// (generated-by marker, field, message) of the API server's refusals reported.
    seen: HashSet<(String, String, String)>,
}

impl<'a> References<'a> {
    /// The spec behind a generated object: `<function>:<Kind>/[<namespace>/]<name>`.
    fn owner(&self, object: &Value) -> Option<&'a Value> {
        let marker = object.annotation(lummo_core::GENERATED_BY)?;
        let (_, id) = marker.split_once(':')?;
        let (kind, rest) = id.split_once('/')?;
        let name = rest.rsplit('/').next()?;
        self.specs.get(&(kind, name)).copied()
    }

    /// A problem of `object`, reported on its spec at the field that holds
    /// `needle`; once.
    fn report(&mut self, object: &Value, severity: Severity, needle: &str, message: String) {
        self.report_at(object, severity, needle, None, message);
    }

    /// [`report`](Self::report), at the first field holding `needle` whose path
    /// contains `prefer` when there is one: a Secret and a ConfigMap of one name
    /// are each reported at their own list (`secrets[0]`, `configs[0]`).
    fn report_at(
        &mut self,
        object: &Value,
        severity: Severity,
        needle: &str,
        prefer: Option<&str>,
        message: String,
    ) {
        let Some(spec) = self.owner(object) else {
            return;
        };
        let mut item = ResultItem::new(severity, message).for_object(spec);
        let field = spec.get("spec").and_then(|s| {
            let mut all = Vec::new();
            fields_of(s, needle, "spec", &mut all);
            let preferred = prefer.and_then(|p| {
                all.iter()
                    .find(|f| f.to_ascii_lowercase().contains(p))
                    .cloned()
            });
            preferred.or_else(|| all.into_iter().next())
        });
        if let Some(field) = field {
            item = item.field(field);
        }
        if !self.problems.contains(&item) {
            self.problems.push(item);
        }
    }

    /// What the API server would refuse in a generated object is the spec's
    /// problem (a function missed a check): reported on the spec.
    fn builtin(&mut self, object: &Value) {
        if !crate::is_builtin_object(object) {
            return;
        }
        let marker = object
            .annotation(lummo_core::GENERATED_BY)
            .unwrap_or_default();
        for problem in builtin::check(object) {
            let field = problem.field.map(|f| f.path).unwrap_or_default();
            let message = problem.message;
            // Once per spec and problem, not once per generated object.
            let key = (marker.to_string(), field.clone(), message.clone());
            if !self.seen.insert(key) {
                continue;
            }
            self.report(
                object,
                Severity::Error,
                "\u{0}",
                format!(
                    "the {} `{}` generated from this spec would be refused by the API server: {field}: {message}",
                    object.kind(),
                    object.name()
                ),
            );
        }
    }

    /// The ConfigMaps and Secrets a generated pod reads.
    fn pod(&mut self, object: &Value) {
        let Some(spec) = pod_spec(object) else { return };
        for (kind, name) in pod_references(spec) {
            let present = if kind == "Secret" {
                self.available.has_secret(name)
            } else {
                self.available.has(kind, name)
            };
            if !present {
                let prefer = if kind == "Secret" { "secret" } else { "config" };
                self.report_at(
                    object,
                    Severity::Warning,
                    name,
                    Some(prefer),
                    format!(
                        "no {kind} `{name}` in the package (the {} `{}` generated from this spec reads it); it must exist in the cluster",
                        object.kind(),
                        object.name()
                    ),
                );
            }
        }
    }

    /// The Pub/Sub subscriptions a KEDA ScaledObject scales on.
    fn scaled(&mut self, object: &Value) {
        let triggers = object.pointer("/spec/triggers").and_then(Value::as_array);
        for trigger in triggers.into_iter().flatten() {
            if trigger.get("type").and_then(Value::as_str) != Some("gcp-pubsub") {
                continue;
            }
            let Some(full) = trigger
                .pointer("/metadata/subscriptionName")
                .and_then(Value::as_str)
            else {
                continue;
            };
            // `projects/<project>/subscriptions/<name>`: the object is named
            // after `<name>` (lummo-pubsub's kubernetes_name).
            let name = full.rsplit('/').next().unwrap_or(full);
            let object_name = lummo_pubsub::kubernetes_name(name);
            if !self.available.has("PubSubSubscription", &object_name) {
                self.report(
                    object,
                    Severity::Warning,
                    name,
                    format!("no LummoSubscription in the package declares subscription `{name}` (scaled on by the {} `{}`)", object.kind(), object.name()),
                );
            }
        }
    }

    /// The Services and Middlewares of a Traefik IngressRoute's routes.
    fn ingress_route(&mut self, object: &Value) {
        let routes = object.pointer("/spec/routes").and_then(Value::as_array);
        for route in routes.into_iter().flatten() {
            self.backends(object, list_at(route, "services"));
            for middleware in list_at(route, "middlewares") {
                let Some(name) = middleware.get("name").and_then(Value::as_str) else {
                    continue;
                };
                // A Middleware of another namespace (the platform's VPN one)
                // lives with the cluster's Traefik, not in the package.
                let namespace = middleware.get("namespace").and_then(Value::as_str);
                if namespace.is_some_and(|ns| ns != object.namespace()) {
                    continue;
                }
                if !self.available.has("Middleware", name) {
                    self.report(object, Severity::Warning, name, format!("no Middleware `{name}` in the package (used by the IngressRoute `{}`); it must exist in the cluster", object.name()));
                }
            }
        }
    }

    /// The backends of a Gateway API route's rules.
    fn gateway_route(&mut self, object: &Value) {
        let rules = object.pointer("/spec/rules").and_then(Value::as_array);
        for rule in rules.into_iter().flatten() {
            self.backends(object, list_at(rule, "backendRefs"));
        }
    }

    /// The Services among a route's backend references (`kind` defaults to Service).
    fn backends<'v>(&mut self, route: &Value, references: impl Iterator<Item = &'v Value>) {
        for reference in references {
            let kind = reference
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("Service");
            let Some(name) = reference.get("name").and_then(Value::as_str) else {
                continue;
            };
            if kind == "Service" {
                self.backend(route, name, reference.get("port"));
            }
        }
    }

    /// A route's backend: a Service of the package (or generated) with that port.
    fn backend(&mut self, route: &Value, name: &str, port: Option<&Value>) {
        let message = match self.available.get("Service", name) {
            None => format!(
                "no LummoDeployment or Service `{name}` in the package receives this traffic"
            ),
            Some(service) => match port.filter(|p| !service_has_port(service, p)) {
                Some(port) => {
                    format!("the Service `{name}` has no port {port} to route this traffic to")
                }
                None => return,
            },
        };
        self.report(route, Severity::Error, name, message);
    }

    /// A route must not reach the port Prometheus scrapes: the app's PodMonitor
    /// (named like its Service) scraping the container port that the Service port
    /// a LummoNetworking routes to (`http`, or `grpc`) targets would serve the
    /// metrics on the app's domains. Read from the spec, so a route refused for
    /// want of the function's config is still checked.
    fn exposed_metrics(&mut self, networking: &Value) {
        let Some(app) = spec_str(networking, "/spec/app") else {
            return;
        };
        let Some(service) = self.available.get("Service", app) else {
            return;
        };
        let grpc = networking.pointer("/spec/grpc") == Some(&Value::Bool(true));
        let port_name = if grpc { "grpc" } else { "http" };
        let port = Value::from(port_name);
        let Some(target) = target_port(service, &port) else {
            return;
        };
        let Some(monitor) = self.available.get("PodMonitor", app) else {
            return;
        };
        let scraped = list_at(&monitor["spec"], "podMetricsEndpoints").any(|endpoint| {
            endpoint.get("port") == Some(&target) || endpoint.get("targetPort") == Some(&target)
        });
        let Some(spec) = self.owner(monitor).filter(|_| scraped) else {
            return;
        };
        let router = match networking.file_ref() {
            Some(file) => format!("LummoNetworking `{}` ({})", networking.name(), file.path),
            None => format!("LummoNetworking `{}`", networking.name()),
        };
        let target = target
            .as_str()
            .map_or_else(|| target.to_string(), str::to_string);
        let message = format!(
            "the metrics port `{target}` is the port {router} routes to (Service `{app}` port {port_name}): the metrics would be served on the app's domains. Serve them on a port of their own that no route reaches, e.g. add `{{name: metrics, port: 9090}}` to the container's ports and set `monitoring.prometheus.port: metrics`"
        );
        let item = ResultItem::error(message)
            .for_object(spec)
            .field("spec.monitoring.prometheus.port");
        if !self.problems.contains(&item) {
            self.problems.push(item);
        }
    }
}

/// The items of the list at `key` of `value`, none when there is none.
fn list_at<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The objects a reference may name: the package's own (not generated by an
/// earlier render) and what the pipeline generates now.
struct Available<'a> {
    /// By (kind, name): packages hold thousands of objects and each generated
    /// object makes several references.
    objects: HashMap<(&'a str, &'a str), &'a Value>,
    /// Names of Secrets an operator creates from an object of the package: Vault
    /// Secrets Operator (`spec.destination.name` with `create: true`) and External
    /// Secrets (`spec.target.name`, defaulting to the object's name).
    operator_secrets: HashSet<&'a str>,
}

impl<'a> Available<'a> {
    fn new(objects: impl Iterator<Item = &'a Value>) -> Self {
        let mut objects_by_name = HashMap::new();
        let mut operator_secrets = HashSet::new();
        for o in objects {
            objects_by_name.entry((o.kind(), o.name())).or_insert(o);
            match o.kind() {
                "VaultStaticSecret" | "VaultDynamicSecret" | "VaultPKISecret" => {
                    if o.pointer("/spec/destination/create") == Some(&Value::Bool(true)) {
                        if let Some(name) = spec_str(o, "/spec/destination/name") {
                            operator_secrets.insert(name);
                        }
                    }
                }
                "ExternalSecret" => {
                    operator_secrets.insert(spec_str(o, "/spec/target/name").unwrap_or(o.name()));
                }
                _ => {}
            }
        }
        Available {
            objects: objects_by_name,
            operator_secrets,
        }
    }

    fn has(&self, kind: &str, name: &str) -> bool {
        self.objects.contains_key(&(kind, name))
    }

    fn get(&self, kind: &str, name: &str) -> Option<&'a Value> {
        self.objects.get(&(kind, name)).copied()
    }

    /// A Secret in the package, or one an operator creates from an object in it.
    fn has_secret(&self, name: &str) -> bool {
        self.has("Secret", name) || self.operator_secrets.contains(name)
    }
}

fn spec_str<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// Where in a spec a value is written: the first field path holding exactly
/// `needle`, to point a reference problem at what the user wrote.
/// Every field of `value` whose string is `needle`, in document order.
fn fields_of(value: &Value, needle: &str, path: &str, found: &mut Vec<String>) {
    match value {
        Value::String(s) if s == needle => found.push(path.to_string()),
        Value::Object(map) => {
            for (k, v) in map {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                fields_of(v, needle, &child, found);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                fields_of(v, needle, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// The pod spec of a generated workload.
fn pod_spec(object: &Value) -> Option<&Value> {
    match object.kind() {
        "Deployment" | "Rollout" | "Job" | "StatefulSet" | "DaemonSet" => {
            object.pointer("/spec/template/spec")
        }
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// The ConfigMaps and Secrets a pod spec reads (not those marked `optional`).
fn pod_references(spec: &Value) -> Vec<(&'static str, &str)> {
    let mut found = Vec::new();
    let containers = ["initContainers", "containers"].into_iter();
    for container in containers.flat_map(|key| list_at(spec, key)) {
        for source in list_at(container, "envFrom") {
            for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                found.extend(required_name(source.get(field), "name").map(|name| (kind, name)));
            }
        }
        for env in list_at(container, "env") {
            for (field, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
                let reference = env.pointer(&format!("/valueFrom/{field}"));
                found.extend(required_name(reference, "name").map(|name| (kind, name)));
            }
        }
    }
    for volume in list_at(spec, "volumes") {
        found
            .extend(required_name(volume.get("secret"), "secretName").map(|name| ("Secret", name)));
        found
            .extend(required_name(volume.get("configMap"), "name").map(|name| ("ConfigMap", name)));
    }
    found
}

/// The name at `field` of a reference, unless it is marked `optional`.
fn required_name<'v>(reference: Option<&'v Value>, field: &str) -> Option<&'v str> {
    let reference = reference.filter(|r| r.get("optional") != Some(&Value::Bool(true)))?;
    reference.get(field).and_then(Value::as_str)
}

/// Whether a Service declares a port by number or by name.
fn service_has_port(service: &Value, port: &Value) -> bool {
    let ports = service.pointer("/spec/ports").and_then(Value::as_array);
    ports.into_iter().flatten().any(|p| match port {
        Value::String(name) => p.get("name").and_then(Value::as_str) == Some(name.as_str()),
        number => p.get("port").and_then(Value::as_i64) == number.as_i64(),
    })
}

/// The container port (name or number) a Service port, given by name or number,
/// targets: `targetPort`, else the port's own number.
fn target_port(service: &Value, port: &Value) -> Option<Value> {
    let entry = list_at(&service["spec"], "ports").find(|p| {
        p.get("name") == Some(port) || p.get("port").and_then(Value::as_i64) == port.as_i64()
    })?;
    entry
        .get("targetPort")
        .or_else(|| entry.get("port"))
        .cloned()
}
