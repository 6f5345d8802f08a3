//! `lummo-validate`: a kpt validator that changes nothing and reports
//!
//! - every Lummo spec's problems, found by running the generator functions themselves
//!   on a copy of the list (the same checks, from the same code);
//! - references between resources of the package that the functions cannot see one
//!   spec at a time;
//! - every custom resource against the upstream CRD schemas embedded in the binary,
//!   plus CRDs found in the package and in the directories named by `schemaDirs`.

mod builtin;

use krm_sdk::openapi::{self, SchemaSet};
use krm_sdk::yaml::{parse_documents, Limits};
use krm_sdk::generate::Hashes;
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};
use lummo_core::descriptor::{Descriptor, KindDoc};
use lummo_core::function::{Collector, Function, FunctionConfig, Output, Role};
use lummo_core::resources::ROLLOUT;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

pub const CONFIG_KIND: &str = "LummoValidateConfig";

/// The function: the generators' checks, references and schemas; it changes nothing.
pub struct Validate;

impl Function for Validate {
    const NAME: &'static str = "lummo-validate";
    const ABOUT: &'static str = "Validates a package and changes nothing: every Lummo spec with the generator functions'\n\
            own checks, references between specs (apps, ConfigMaps, Secrets, subscriptions), and every\n\
            custom resource strictly against the upstream CRD schemas built into the binary.";
    const KINDS: &'static [KindDoc] = &[KindDoc {
        kind: CONFIG_KIND,
        about: "functionConfig of lummo-validate (a ConfigMap with the same keys works too).",
        example: None,
        schema: lummo_core::descriptor::schema_of::<Config>,
        function_config: true,
    }];
    const ROLE: Role = Role::Validator;
    type Config = Config;
    type Specs = ();

    /// The generators find the specs themselves, on a copy of the package.
    fn collect(_: &mut Collector<'_>) {}

    fn render((): (), config: &Config, package: &ResourceList) -> Output {
        let (mut problems, generated) = run_pipeline(package);
        problems.extend(references(package, &generated));
        problems.extend(custom_resources(package, config));
        problems.extend(builtin_objects(package));
        Output {
            generated: Vec::new(),
            problems,
        }
    }
}

impl FunctionConfig for Config {
    const KIND: Option<&'static str> = Some(CONFIG_KIND);
    const HELP: &'static str = "    A ConfigMap (or kind LummoValidateConfig, same keys under spec):\n      \
             schemaDirs: \"[/crds]\"   more CRD files to validate against (mount them with kpt --mount)";
}

/// Every Lummo function, in the order of the pipeline (generators, then the
/// validator). The only list of them: validate, the CLI, schema and documentation
/// generation, tests and fuzzing iterate it.
pub const DESCRIPTORS: &[&Descriptor] = &[
    &lummo_workload::Workload::DESCRIPTOR,
    &lummo_networking::Networking::DESCRIPTOR,
    &lummo_pubsub::PubSub::DESCRIPTOR,
    &lummo_pgbouncer::PgBouncer::DESCRIPTOR,
    &Validate::DESCRIPTOR,
    &lummo_backstage::Backstage::DESCRIPTOR,
];

/// The generators whose checks run on Lummo specs: the functions that generate
/// cluster objects (not lummo-backstage: its entities are local-config, and its
/// checks need its functionConfig, the owner, which validate does not have).
pub fn generators() -> impl Iterator<Item = &'static Descriptor> {
    DESCRIPTORS.iter().copied().filter(|d| d.role == Role::Generator)
}

/// A Lummo function: its name and its transform.
pub type NamedProcess = (&'static str, fn(&mut ResourceList));

/// [`DESCRIPTORS`] as (name, transform) pairs, for programs that run them all in
/// one process.
pub const FUNCTIONS: [NamedProcess; DESCRIPTORS.len()] = {
    let mut functions: [NamedProcess; DESCRIPTORS.len()] = [("", Validate::DESCRIPTOR.process); DESCRIPTORS.len()];
    let mut i = 0;
    while i < DESCRIPTORS.len() {
        functions[i] = (DESCRIPTORS[i].info.name, DESCRIPTORS[i].process);
        i += 1;
    }
    functions
};

/// The function that reads a Lummo kind as a spec.
pub fn function_of_kind(kind: &str) -> Option<&'static str> {
    DESCRIPTORS
        .iter()
        .find(|d| d.reads(kind))
        .map(|d| d.info.name)
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub schema_dirs: Vec<String>,
}

/// The upstream schemas, minified from `schemas/upstream` at build time.
const EMBEDDED: &str = include_str!(concat!(env!("OUT_DIR"), "/upstream-schemas.json"));

/// The embedded schemas, parsed once per process (the CLI validates many packages).
pub fn embedded_schemas() -> &'static SchemaSet {
    static SCHEMAS: std::sync::OnceLock<SchemaSet> = std::sync::OnceLock::new();
    SCHEMAS.get_or_init(parse_embedded)
}

fn parse_embedded() -> SchemaSet {
    let mut set = SchemaSet::default();
    let documents: Vec<Value> =
        serde_json::from_str(EMBEDDED).expect("build.rs writes a JSON array");
    for document in documents {
        if let Some(schema) = document.get("openAPIV3Schema") {
            set.insert(document.api_version(), document.kind(), schema.clone());
        }
    }
    set
}

/// Runs the pipeline's generators, in order, on a copy of the specs and keeps what
/// they report, except what depends on a generator's own functionConfig, which only
/// the generator's step has. Returns the results and the generated objects.
fn run_pipeline(list: &ResourceList) -> (Vec<ResultItem>, Vec<krm_sdk::Item>) {
    let mut results: Vec<ResultItem> = Vec::new();
    // What the generators read: Lummo specs (both spellings of pgbouncer's), and the
    // Services gateway-api routes resolve ports from. Copying the other objects would
    // cost more than it finds (a generated name colliding with a hand-written object
    // is reported by the generator's own step). Objects generated by an earlier
    // render are left out: the generators make them afresh, and a stale copy must
    // never satisfy a reference.
    let inputs: Vec<krm_sdk::Item> = list
        .items
        .iter()
        .filter(|item| {
            item.annotation(lummo_core::GENERATED_BY).is_none()
                && (lummo_core::looks_like_lummo(item)
                    || item.api_version() == "LummoKRM"
                    || item.kind() == "Service")
        })
        .cloned()
        .collect();
    // Each generator sees the specs and the Services generated before it (what
    // gateway-api routes resolve ports from), not the whole growing list: the
    // other generated objects are none of its business and would only cost time.
    let mut generated: Vec<krm_sdk::Item> = Vec::new();
    for generator in generators() {
        let mut copy = ResourceList::new(Vec::new());
        copy.items = inputs.clone();
        copy.items
            .extend(generated.iter().filter(|i| i.kind() == "Service").cloned());
        copy.function_config = (generator.stand_in_config)();
        (generator.generate)(&mut copy, Hashes::Omit);
        for result in copy.results {
            if !result.tags.contains_key(lummo_core::NEEDS_CONFIG_TAG) && !results.contains(&result)
            {
                results.push(result);
            }
        }
        let own = format!("{}:", generator.name());
        generated.extend(copy.items.into_iter().filter(|item| {
            item.annotation(lummo_core::GENERATED_BY)
                .is_some_and(|marker| marker.starts_with(&own))
        }));
    }
    (results, generated)
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
fn field_of(value: &Value, needle: &str, path: &str) -> Option<String> {
    match value {
        Value::String(s) if s == needle => Some(path.to_string()),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let child = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            field_of(v, needle, &child)
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| field_of(v, needle, &format!("{path}[{i}]"))),
        _ => None,
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
    let required = |r: &Value| r.get("optional") != Some(&Value::Bool(true));
    for key in ["initContainers", "containers"] {
        for container in spec
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for source in container
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                    if let Some(r) = source.get(field).filter(|r| required(r)) {
                        if let Some(name) = r.get("name").and_then(Value::as_str) {
                            found.push((kind, name));
                        }
                    }
                }
            }
            for env in container
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for (field, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")]
                {
                    if let Some(r) = env
                        .pointer(&format!("/valueFrom/{field}"))
                        .filter(|r| required(r))
                    {
                        if let Some(name) = r.get("name").and_then(Value::as_str) {
                            found.push((kind, name));
                        }
                    }
                }
            }
        }
    }
    for volume in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(r) = volume.get("secret").filter(|r| required(r)) {
            if let Some(name) = r.get("secretName").and_then(Value::as_str) {
                found.push(("Secret", name));
            }
        }
        if let Some(r) = volume.get("configMap").filter(|r| required(r)) {
            if let Some(name) = r.get("name").and_then(Value::as_str) {
                found.push(("ConfigMap", name));
            }
        }
    }
    found
}

/// Whether a Service declares a port by number or by name.
fn service_has_port(service: &Value, port: &Value) -> bool {
    let ports = service.pointer("/spec/ports").and_then(Value::as_array);
    ports.into_iter().flatten().any(|p| match port {
        Value::String(name) => p.get("name").and_then(Value::as_str) == Some(name.as_str()),
        number => p.get("port").and_then(Value::as_i64) == number.as_i64(),
    })
}

/// References between the objects the pipeline generates and the package, checked
/// on the generated output itself (what the functions made of each spec, aliases
/// and defaults included), each reported on the spec that generated the object.
fn references(list: &ResourceList, generated: &[krm_sdk::Item]) -> Vec<ResultItem> {
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
    let specs: HashMap<(&str, &str), &Value> = list
        .items
        .iter()
        .map(|item| item.value())
        .map(|o| ((o.kind(), o.name()), o))
        .collect();
    // The spec behind a generated object: `<function>:<Kind>/[<namespace>/]<name>`.
    let owner = |object: &Value| -> Option<&Value> {
        let marker = object.annotation(lummo_core::GENERATED_BY)?;
        let (_, id) = marker.split_once(':')?;
        let (kind, rest) = id.split_once('/')?;
        let name = rest.rsplit('/').next()?;
        specs.get(&(kind, name)).copied()
    };
    let mut results: Vec<ResultItem> = Vec::new();
    let mut seen: HashSet<(String, String, String)> = HashSet::new();
    let marker_of = |object: &Value| {
        object
            .annotation(lummo_core::GENERATED_BY)
            .unwrap_or_default()
            .to_string()
    };
    let mut report = |object: &Value, error: bool, needle: &str, message: String| {
        let Some(spec) = owner(object) else { return };
        let item = if error {
            ResultItem::error(message)
        } else {
            ResultItem::warning(message)
        };
        let mut item = item.for_object(spec);
        if let Some(field) = spec.get("spec").and_then(|s| field_of(s, needle, "spec")) {
            item = item.field(field);
        }
        if !results.contains(&item) {
            results.push(item);
        }
    };
    for object in &fresh {
        // What the API server would refuse in a generated object is the spec's
        // problem (a function missed a check): reported on the spec.
        if is_builtin_object(object) {
            for (field, message) in builtin::check(object) {
                // Once per spec and problem, not once per generated object.
                let key = (marker_of(object), field.clone(), message.clone());
                if !seen.insert(key) {
                    continue;
                }
                report(
                    object,
                    true,
                    "\u{0}",
                    format!(
                        "the {} `{}` generated from this spec would be refused by the API server: {field}: {message}",
                        object.kind(),
                        object.name()
                    ),
                );
            }
        }
        if let Some(spec) = pod_spec(object) {
            for (kind, name) in pod_references(spec) {
                let present = if kind == "Secret" {
                    available.has_secret(name)
                } else {
                    available.has(kind, name)
                };
                if !present {
                    report(
                        object,
                        false,
                        name,
                        format!(
                            "no {kind} `{name}` in the package (the {} `{}` generated from this spec reads it); it must exist in the cluster",
                            object.kind(),
                            object.name()
                        ),
                    );
                }
            }
        }
        match object.kind() {
            "ScaledObject" | "ScaledJob" => {
                let triggers = object.pointer("/spec/triggers").and_then(Value::as_array);
                for trigger in triggers.into_iter().flatten() {
                    if trigger.get("type").and_then(Value::as_str) != Some("gcp-pubsub") {
                        continue;
                    }
                    let Some(name) = trigger
                        .pointer("/metadata/subscriptionName")
                        .and_then(Value::as_str)
                    else {
                        continue;
                    };
                    if !available.has("PubSubSubscription", name) {
                        report(
                            object,
                            false,
                            name,
                            format!("no LummoSubscription in the package declares subscription `{name}` (scaled on by the {} `{}`)", object.kind(), object.name()),
                        );
                    }
                }
            }
            "IngressRoute" => {
                let routes = object.pointer("/spec/routes").and_then(Value::as_array);
                for route in routes.into_iter().flatten() {
                    for service in route
                        .get("services")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let kind = service
                            .get("kind")
                            .and_then(Value::as_str)
                            .unwrap_or("Service");
                        let Some(name) = service.get("name").and_then(Value::as_str) else {
                            continue;
                        };
                        if kind != "Service" {
                            continue;
                        }
                        check_backend(&available, object, name, service.get("port"), &mut report);
                    }
                    for middleware in route
                        .get("middlewares")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let Some(name) = middleware.get("name").and_then(Value::as_str) else {
                            continue;
                        };
                        // A Middleware of another namespace (the platform's VPN one)
                        // lives with the cluster's Traefik, not in the package.
                        let namespace = middleware.get("namespace").and_then(Value::as_str);
                        if namespace.is_some_and(|ns| ns != object.namespace()) {
                            continue;
                        }
                        if !available.has("Middleware", name) {
                            report(object, false, name, format!("no Middleware `{name}` in the package (used by the IngressRoute `{}`); it must exist in the cluster", object.name()));
                        }
                    }
                }
            }
            "HTTPRoute" | "GRPCRoute" => {
                let rules = object.pointer("/spec/rules").and_then(Value::as_array);
                for rule in rules.into_iter().flatten() {
                    for backend in rule
                        .get("backendRefs")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let kind = backend
                            .get("kind")
                            .and_then(Value::as_str)
                            .unwrap_or("Service");
                        let Some(name) = backend.get("name").and_then(Value::as_str) else {
                            continue;
                        };
                        if kind == "Service" {
                            check_backend(
                                &available,
                                object,
                                name,
                                backend.get("port"),
                                &mut report,
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
    results
}

/// A route's backend: a Service of the package (or generated) with that port.
fn check_backend(
    available: &Available,
    route: &Value,
    name: &str,
    port: Option<&Value>,
    report: &mut impl FnMut(&Value, bool, &str, String),
) {
    match available.get("Service", name) {
        None => report(
            route,
            true,
            name,
            format!("no LummoDeployment or Service `{name}` in the package receives this traffic"),
        ),
        Some(service) => {
            if let Some(port) = port.filter(|p| !service_has_port(service, p)) {
                report(
                    route,
                    true,
                    name,
                    format!("the Service `{name}` has no port {port} to route this traffic to"),
                );
            }
        }
    }
}

/// Every custom resource against the schemas: embedded, from the package's own
/// CRDs, and from `schemaDirs`.
fn custom_resources(list: &ResourceList, config: &Config) -> Vec<ResultItem> {
    let mut results = Vec::new();
    let mut schemas = SchemaSet::default();
    for item in &list.items {
        schemas.add_crd(item);
    }
    for dir in &config.schema_dirs {
        if let Err(message) = load_crds(&mut schemas, Path::new(dir)) {
            results.push(ResultItem::error(format!("schemaDirs: {message}")));
        }
    }
    let custom: Vec<&Value> = list
        .items
        .iter()
        .map(|item| item.value())
        .filter(|item| {
            let group = item
                .api_version()
                .split_once('/')
                .map(|(g, _)| g)
                .unwrap_or("");
            group != lummo_core::GROUP && !openapi::is_builtin(item.api_version())
        })
        .collect();
    // Each object is checked on its own (schemas, patterns, CEL): on every core.
    let checked = krm_sdk::parallel::map(&custom, |item| {
        schemas
            .validate(item)
            .or_else(|| embedded_schemas().validate(item))
    });
    for (item, errors) in custom.into_iter().zip(checked) {
        let Some(errors) = errors else {
            continue;
        };
        for error in errors {
            results.push(
                ResultItem::error(format!(
                    "{} (schema of {} {})",
                    error.message,
                    item.api_version(),
                    item.kind()
                ))
                .for_object(item)
                .field(error.path),
            );
        }
    }
    results
}

/// `v1` or `<group>/<version>` of Kubernetes; not pgbouncer's draft
/// `apiVersion: LummoKRM`, which its function judges.
/// An Argo Rollout counts for its pod template, which the Rollout controller
/// copies into ReplicaSets.
fn is_builtin_object(object: &Value) -> bool {
    let api_version = object.api_version();
    api_version == "v1"
        || (api_version.contains('/') && openapi::is_builtin(api_version))
        || (api_version == ROLLOUT.api_version && object.kind() == ROLLOUT.kind)
}

/// Every object of a built-in kind against the API server's own rules.
fn builtin_objects(list: &ResourceList) -> Vec<ResultItem> {
    let mut results = Vec::new();
    for item in &list.items {
        if !is_builtin_object(item) {
            continue;
        }
        for (field, message) in builtin::check(item) {
            results.push(
                ResultItem::error(format!(
                    "{message} (the API server's rules for {})",
                    item.kind()
                ))
                .for_object(item)
                .field(field),
            );
        }
    }
    results
}

fn load_crds(schemas: &mut SchemaSet, dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let limits = Limits {
        max_depth: 256,
        ..Limits::default()
    };
    for path in paths.iter().filter(|p| {
        p.extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
    }) {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for document in
            parse_documents(&text, &limits).map_err(|e| format!("{}: {e}", path.display()))?
        {
            schemas.add_crd(&document);
        }
    }
    Ok(())
}
