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
use krm_sdk::{FunctionInfo, ObjectExt, ResourceList, ResultItem, Value};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

pub const CONFIG_KIND: &str = "LummoValidateConfig";

pub const INFO: FunctionInfo = FunctionInfo {
    name: "lummo-validate",
    version: env!("CARGO_PKG_VERSION"),
    about: "Validates a package and changes nothing: every Lummo spec with the generator functions'\n\
            own checks, references between specs (apps, ConfigMaps, Secrets, subscriptions), and every\n\
            custom resource strictly against the upstream CRD schemas built into the binary.",
    config: "    A ConfigMap (or kind LummoValidateConfig, same keys under spec):\n      \
             schemaDirs: \"[/crds]\"   more CRD files to validate against (mount them with kpt --mount)",
};

/// A Lummo function: its name and its transform.
pub type Function = (&'static str, fn(&mut ResourceList));

/// The generators whose checks run on Lummo specs.
pub const GENERATORS: [Function; 4] = [
    ("lummo-workload", lummo_workload::process),
    ("lummo-networking", lummo_networking::process),
    ("lummo-pubsub", lummo_pubsub::process),
    ("lummo-pgbouncer", lummo_pgbouncer::process),
];

/// Every Lummo function, for programs that run them all in one process.
pub const FUNCTIONS: [Function; 5] = [
    GENERATORS[0],
    GENERATORS[1],
    GENERATORS[2],
    GENERATORS[3],
    ("lummo-validate", process),
];

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

pub fn process(list: &mut ResourceList) {
    let config: Config = match krm_sdk::function_config(list.function_config.as_ref(), CONFIG_KIND)
    {
        Ok(config) => config.unwrap_or_default(),
        Err(error) => {
            list.results.push(error);
            return;
        }
    };
    let mut results = Vec::new();
    results.extend(generator_results(list));
    results.extend(references(list));
    results.extend(custom_resources(list, &config));
    results.extend(builtin_objects(list));
    list.results.extend(results);
}

/// Runs each generator on a copy and keeps what it reports, except what depends on
/// that generator's own functionConfig, which only the generator's step has.
fn generator_results(list: &ResourceList) -> Vec<ResultItem> {
    let mut results: Vec<ResultItem> = Vec::new();
    // What the generators read: Lummo specs (both spellings of pgbouncer's), and the
    // Services gateway-api routes resolve ports from. Copying the other objects would
    // cost more than it finds (a generated name colliding with a hand-written object
    // is reported by the generator's own step).
    let inputs: Vec<krm_sdk::Item> = list
        .items
        .iter()
        .filter(|item| {
            let api_version = item.api_version();
            lummo_core::looks_like_lummo(item)
                || api_version == "LummoKRM"
                || item.kind() == "Service"
        })
        .cloned()
        .collect();
    for (_, generate) in GENERATORS {
        let mut copy = ResourceList::new(Vec::new());
        copy.items = inputs.clone();
        generate(&mut copy);
        for result in copy.results {
            if !result.tags.contains_key(lummo_core::NEEDS_CONFIG_TAG) && !results.contains(&result)
            {
                results.push(result);
            }
        }
    }
    results
}

fn lummo_specs<'a>(list: &'a ResourceList, kind: &'a str) -> impl Iterator<Item = &'a Value> {
    list.items
        .iter()
        .map(|item| item.value())
        .filter(move |item| item.kind() == kind && item.api_version() == lummo_core::API_VERSION)
}

fn spec_str<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// Containers of a LummoDeployment: one map or a list.
fn containers(object: &Value) -> Vec<&Value> {
    match object.pointer("/spec/containers") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// References between resources of the package.
fn references(list: &ResourceList) -> Vec<ResultItem> {
    let mut results = Vec::new();
    let named = |kind: &str, name: &str| {
        list.items
            .iter()
            .any(|item| item.kind() == kind && item.name() == name)
    };
    let apps: HashSet<&str> = lummo_specs(list, "LummoDeployment")
        .filter_map(|d| spec_str(d, "/spec/app"))
        .collect();
    let pgbouncer_apps: Vec<&Value> = lummo_specs(list, "LummoPgBouncer").collect();

    for networking in lummo_specs(list, "LummoNetworking") {
        let Some(app) = spec_str(networking, "/spec/app") else {
            continue;
        };
        if !apps.contains(app) && !named("Service", app) {
            results.push(
                ResultItem::error(format!(
                    "no LummoDeployment or Service `{app}` in the package receives this traffic"
                ))
                .for_object(networking)
                .field("spec.app"),
            );
        }
    }

    let mut subscriptions: HashSet<String> = HashSet::new();
    for spec in lummo_specs(list, "LummoSubscription") {
        let prefix = spec_str(spec, "/spec/prefix").unwrap_or("");
        let entries = spec
            .pointer("/spec/subscriptions")
            .and_then(Value::as_array);
        for entry in entries.into_iter().flatten() {
            if let Some(name) = entry.get("subscription").and_then(Value::as_str) {
                subscriptions.insert(format!("{prefix}{name}"));
            }
        }
    }

    for deployment in lummo_specs(list, "LummoDeployment") {
        let app = spec_str(deployment, "/spec/app").unwrap_or_default();
        let fronted = pgbouncer_apps
            .iter()
            .find(|p| spec_str(p, "/spec/app") == Some(app));
        for (i, container) in containers(deployment).into_iter().enumerate() {
            for (key, kind) in [("configs", "ConfigMap"), ("secrets", "Secret")] {
                for (j, name) in strings(container.get(key)).into_iter().enumerate() {
                    let from_pgbouncer = fronted.is_some_and(|p| {
                        (kind == "ConfigMap" && name == format!("{app}-db"))
                            || (kind == "Secret"
                                && spec_str(p, "/spec/connectionSecret") == Some(name))
                    });
                    if !named(kind, name) && !from_pgbouncer {
                        results.push(
                            ResultItem::warning(format!(
                                "no {kind} `{name}` in the package; it must exist in the cluster"
                            ))
                            .for_object(deployment)
                            .field(format!("spec.containers[{i}].{key}[{j}]")),
                        );
                    }
                }
            }
        }
        let triggers = deployment
            .pointer("/spec/scaling/pubsubTopic")
            .and_then(Value::as_array);
        for (i, trigger) in triggers.into_iter().flatten().enumerate() {
            let Some(name) = trigger.get("name").and_then(Value::as_str) else {
                continue;
            };
            if !subscriptions.contains(name) {
                results.push(
                    ResultItem::warning(format!(
                        "no LummoSubscription in the package declares subscription `{name}`"
                    ))
                    .for_object(deployment)
                    .field(format!("spec.scaling.pubsubTopic[{i}].name")),
                );
            }
        }
    }

    for pgbouncer in &pgbouncer_apps {
        let Some(secret) = spec_str(pgbouncer, "/spec/connectionSecret") else {
            continue;
        };
        if pgbouncer.pointer("/spec/vault").is_none() && !named("Secret", secret) {
            results.push(
                ResultItem::warning(format!(
                    "no Secret `{secret}` in the package and no `vault` to create it; it must exist in the cluster"
                ))
                .for_object(pgbouncer)
                .field("spec.connectionSecret"),
            );
        }
    }
    results
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
    for item in &list.items {
        let group = item
            .api_version()
            .split_once('/')
            .map(|(g, _)| g)
            .unwrap_or("");
        if group == lummo_core::GROUP || openapi::is_builtin(item.api_version()) {
            continue;
        }
        let Some(errors) = schemas
            .validate(item)
            .or_else(|| embedded_schemas().validate(item))
        else {
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

/// Every object of a built-in kind against the API server's own rules.
fn builtin_objects(list: &ResourceList) -> Vec<ResultItem> {
    let mut results = Vec::new();
    for item in &list.items {
        // `v1` or `<group>/<version>` of Kubernetes; not pgbouncer's draft
        // `apiVersion: LummoKRM`, which its function judges.
        let api_version = item.api_version();
        if !(api_version == "v1" || (api_version.contains('/') && openapi::is_builtin(api_version))) {
            continue;
        }
        for (field, message) in builtin::check(item) {
            results.push(
                ResultItem::error(format!("{message} ({} rules of the API server)", item.kind()))
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
