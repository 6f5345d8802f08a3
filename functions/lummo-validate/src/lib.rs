//! `lummo-validate`: a kpt validator that changes nothing and reports
//!
//! - every Lummo spec's problems, found by running the generator functions themselves
//!   on a copy of the list (the same checks, from the same code);
//! - references between resources of the package that the functions cannot see one
//!   spec at a time;
//! - every custom resource against the upstream CRD schemas embedded in the binary,
//!   plus CRDs found in the package and in the directories named by `schemaDirs`.

mod builtin;
mod references;

use krm_sdk::generate::Hashes;
use krm_sdk::openapi::{self, SchemaSet};
use krm_sdk::yaml::{parse_documents, Limits};
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Severity, Value};
use lummo_core::descriptor::{Descriptor, KindDoc};
use lummo_core::function::{Collector, Function, FunctionConfig, Output, Role};
use lummo_core::resources::ROLLOUT;
use schemars::JsonSchema;
use serde::Deserialize;
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
        problems.extend(references::check(package, &generated));
        problems.extend(custom_resources(package, config));
        problems.extend(builtin_objects(package));
        drop_superseded_warnings(&mut problems);
        Output {
            generated: Vec::new(),
            problems,
            origins: Vec::new(),
        }
    }
}

impl FunctionConfig for Config {
    const KIND: Option<&'static str> = Some(CONFIG_KIND);
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
    DESCRIPTORS
        .iter()
        .copied()
        .filter(|d| d.role == Role::Generator)
}

/// A Lummo function: its name and its transform.
pub type NamedProcess = (&'static str, fn(&mut ResourceList));

/// [`DESCRIPTORS`] as (name, transform) pairs, for programs that run them all in
/// one process.
pub const FUNCTIONS: [NamedProcess; DESCRIPTORS.len()] = {
    let mut functions: [NamedProcess; DESCRIPTORS.len()] =
        [("", Validate::DESCRIPTOR.process); DESCRIPTORS.len()];
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
    /// More folders of CRD files to validate custom resources against, e.g.
    /// `[/crds]` (mount them with `kpt fn eval --mount`).
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

/// One verdict per field: a generator's warning about an object's field that
/// another check reports as an error goes, since the error knows more (metrics
/// on `http`: lummo-workload guesses from the port's name that a route may
/// reach it, `references.rs` names the LummoNetworking route that does).
fn drop_superseded_warnings(problems: &mut Vec<ResultItem>) {
    let errors: Vec<(Option<krm_sdk::ResourceRef>, String)> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .filter_map(|p| Some((p.resource_ref.clone(), p.field.as_ref()?.path.clone())))
        .collect();
    problems.retain(|p| {
        p.severity != Severity::Warning
            || !p.field.as_ref().is_some_and(|field| {
                errors
                    .iter()
                    .any(|(object, path)| *object == p.resource_ref && *path == field.path)
            })
    });
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
pub(crate) fn is_builtin_object(object: &Value) -> bool {
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
        for mut problem in builtin::check(item) {
            problem.message = format!(
                "{} (the API server's rules for {})",
                problem.message,
                item.kind()
            );
            results.push(problem);
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
