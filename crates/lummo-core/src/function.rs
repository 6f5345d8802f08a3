//! The one way to write a Lummo function. A function declares its name, the kinds
//! it reads, its config type, how it finds its specs and a pure `render`; [`process`]
//! owns the order every function runs in:
//!
//! 1. check kinds: a mistyped Lummo kind or apiVersion is an error, never a silent
//!    no-op that prunes what the spec generated before ([`crate::check_kinds`]);
//! 2. decode the functionConfig strictly, every problem at once, then the config's
//!    own checks ([`FunctionConfig::check`]);
//! 3. collect the specs ([`Function::collect`] through a [`Collector`], which
//!    decodes each with every problem and keeps the spec decoded without its
//!    offending fields, so the function's checks report too);
//! 4. render, only when the config decoded: what the specs generate and the
//!    problems found ([`Function::render`]);
//! 5. settle: drop the consequences of a covering problem ([`crate::settle`]);
//! 6. apply: replace the function's earlier output (`krm_sdk::Generator::apply`),
//!    which does nothing when any problem is an error; then [`Function::place`].
//!
//! Every problem is a `krm_sdk::ResultItem` (file, field path, message, proposed
//! value; the CLI adds line and column), made through a [`Report`] or a [`Collector`].

use crate::descriptor::{Descriptor, KindDoc};
use crate::origins::{ObjectOrigins, Origins};
use crate::Spec;
use krm_sdk::decode::resolve_schema_ref;
use krm_sdk::generate::Hashes;
use krm_sdk::{FunctionInfo, Generated, Generator, ObjectExt, ResourceList, ResultItem, Value};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// A Lummo function: what it reads and what it makes of it.
pub trait Function: Sized + 'static {
    const NAME: &'static str;
    /// One paragraph for `--help`: what the function reads and what it generates.
    const ABOUT: &'static str;
    /// The kinds it reads: its specs and its typed functionConfig.
    const KINDS: &'static [KindDoc];
    /// Whether it generates objects or only reports.
    const ROLE: Role = Role::Generator;
    type Config: FunctionConfig;
    /// The specs it renders, as [`Function::collect`] finds them.
    type Specs;

    /// Finds and decodes the specs; the order of the calls is the order in which
    /// their problems are reported.
    fn collect(collector: &mut Collector<'_>) -> Self::Specs;

    /// What the specs generate and every problem found: a pure function of the
    /// specs, the config and the package (which it only reads).
    fn render(specs: Self::Specs, config: &Self::Config, package: &ResourceList) -> Output;

    /// Moves or completes the generated objects once they are in the list and no
    /// problem is an error (lummo-backstage puts its entities in one file).
    fn place(_list: &mut ResourceList) {}

    /// `--help` and `--version`; the config's part comes from the config type.
    const INFO: FunctionInfo = FunctionInfo {
        name: Self::NAME,
        // Every crate of the workspace has the workspace's version.
        version: env!("CARGO_PKG_VERSION"),
        about: Self::ABOUT,
        config: <Self::Config as FunctionConfig>::help,
    };

    /// The ownership marker of its generated objects.
    const GENERATOR: Generator = crate::generator(Self::NAME);

    /// This function for the registry (`lummo_validate::DESCRIPTORS`).
    const DESCRIPTOR: Descriptor = Descriptor {
        info: &Self::INFO,
        kinds: Self::KINDS,
        process: process::<Self>,
        generate: generate::<Self>,
        record: process_recording::<Self>,
        role: Self::ROLE,
        stand_in_config: <Self::Config as FunctionConfig>::stand_in,
    };
}

/// What a function does with the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Generates cluster objects from specs, replacing its earlier output;
    /// lummo-validate runs it on a copy of the package for its checks.
    Generator,
    /// Generates local-config objects only, from specs and a config that
    /// lummo-validate does not have (lummo-backstage).
    LocalGenerator,
    /// Changes nothing and reports (lummo-validate). It checks no kinds itself:
    /// it runs the generators, which do.
    Validator,
}

/// A function's config: a ConfigMap's `data` or the `spec` of its typed kind.
pub trait FunctionConfig: DeserializeOwned + JsonSchema + Default {
    /// The typed kind of the config (a ConfigMap with the same keys works too);
    /// `None` for a function that takes no config.
    const KIND: Option<&'static str>;
    /// Prose after the keys in `--help`: an example, how kustomize passes it.
    const HELP_NOTES: &'static str = "";

    /// The config's part of `--help`: every key of the type with what it takes,
    /// its default and the first sentence of its documentation (the type's JSON
    /// Schema: the same words as the schema and the reference), then
    /// [`HELP_NOTES`](Self::HELP_NOTES).
    fn help() -> String {
        config_help(
            Self::KIND,
            &serde_json::to_value(schemars::schema_for!(Self)).unwrap_or_default(),
            Self::HELP_NOTES,
        )
    }

    /// Checks after decoding: every problem of the decoded config. `source` is the
    /// functionConfig it came from, when there was one.
    fn check(&self, _source: Option<&Value>) -> Vec<ResultItem> {
        Vec::new()
    }

    /// The functionConfig lummo-validate runs the function with, having none of
    /// its own: stand-ins for the settings without which the function would leave
    /// objects out. Names and references never depend on them, and what the
    /// function says about them is tagged `NEEDS_CONFIG_TAG` and dropped.
    fn stand_in() -> Option<Value> {
        None
    }
}

/// What [`Function::render`] returns: the objects of each spec, the problems,
/// and where the objects' fields come from.
#[derive(Debug, Default)]
pub struct Output {
    pub generated: Vec<Generated>,
    pub problems: Vec<ResultItem>,
    pub origins: Vec<ObjectOrigins>,
}

impl Output {
    /// Adds what one spec rendered: its objects, in the spec's namespace, or none
    /// when one of its problems is an error (a spec with a problem generates no
    /// half of its objects).
    pub fn add(&mut self, spec: &Value, rendered: Rendered) {
        let failed = rendered.problems.iter().any(ResultItem::is_error);
        let objects = if failed { Vec::new() } else { rendered.objects };
        if !failed {
            self.origins.extend(rendered.origins.objects);
        }
        self.generated.push(crate::generated(spec, objects));
        self.problems.extend(rendered.problems);
    }
}

/// What one spec rendered to.
#[derive(Debug, Default)]
pub struct Rendered {
    pub objects: Vec<Value>,
    pub problems: Vec<ResultItem>,
    /// Where the objects' fields come from (see [`crate::origins`]).
    pub origins: Origins,
}

/// Problems about one spec object, each at a field under its `spec`.
pub struct Report<'a> {
    object: &'a Value,
    pub problems: Vec<ResultItem>,
}

impl<'a> Report<'a> {
    pub fn new(object: &'a Value) -> Self {
        Report {
            object,
            problems: Vec::new(),
        }
    }

    /// An error at `spec.<field>` (`spec` when `field` is empty).
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(
            ResultItem::error(message)
                .for_object(self.object)
                .field(spec_path(field)),
        );
    }

    pub fn warning(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(
            ResultItem::warning(message)
                .for_object(self.object)
                .field(spec_path(field)),
        );
    }

    /// An error at a path of the object itself (`metadata.name`).
    pub fn error_at(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(
            ResultItem::error(message)
                .for_object(self.object)
                .field(path),
        );
    }

    /// A problem made elsewhere (with a proposed value or a tag).
    pub fn push(&mut self, problem: ResultItem) {
        self.problems.push(problem);
    }

    pub fn failed(&self) -> bool {
        self.problems.iter().any(ResultItem::is_error)
    }

    /// What the spec rendered to: `objects` and the report's problems
    /// ([`Output::add`] keeps no object of a spec with an error).
    pub fn rendered(self, objects: Vec<Value>) -> Rendered {
        Rendered {
            objects,
            problems: self.problems,
            origins: Origins::new(),
        }
    }

    /// [`rendered`](Self::rendered), with the origins recorded for `objects`.
    pub fn rendered_with(self, objects: Vec<Value>, origins: Origins) -> Rendered {
        Rendered {
            objects,
            problems: self.problems,
            origins,
        }
    }
}

pub(crate) fn spec_path(field: &str) -> String {
    if field.is_empty() {
        "spec".into()
    } else {
        format!("spec.{field}")
    }
}

/// Finds and decodes specs in a package, recording every problem in order.
pub struct Collector<'a> {
    pub package: &'a ResourceList,
    pub problems: Vec<ResultItem>,
}

impl<'a> Collector<'a> {
    /// Every spec of `kind`, decoded strictly (see [`crate::decode_spec`]).
    pub fn specs<T: DeserializeOwned + JsonSchema>(&mut self, kind: &str) -> Vec<Spec<T>> {
        self.specs_resolved(kind, |object, _| object.clone())
    }

    /// Every spec of `kind`, each rewritten by `resolve` (which may report) before
    /// it is decoded: lummo-workload merges container templates in.
    pub fn specs_resolved<T: DeserializeOwned + JsonSchema>(
        &mut self,
        kind: &str,
        mut resolve: impl FnMut(&Value, &mut Vec<ResultItem>) -> Value,
    ) -> Vec<Spec<T>> {
        let mut specs = Vec::new();
        for object in crate::spec_objects(self.package, kind) {
            let resolved = resolve(&object, &mut self.problems);
            let (spec, problems) = crate::decode_spec(&resolved, kind);
            self.problems.extend(problems);
            if let Some(spec) = spec {
                specs.push(Spec { object, spec });
            }
        }
        specs
    }
}

/// The `main` of a function's binary.
pub fn main<F: Function>() -> std::process::ExitCode {
    krm_sdk::run(&F::INFO, process::<F>)
}

/// Runs `F` over `list`: see the module's documentation for the order.
pub fn process<F: Function>(list: &mut ResourceList) {
    generate::<F>(list, Hashes::Record);
}

/// [`process`], with or without the content hash of each generated object
/// (lummo-validate runs the generators on a copy and has no use for it).
pub fn generate<F: Function>(list: &mut ResourceList, hashes: Hashes) {
    generate_recording::<F>(list, hashes);
}

/// [`process`], returning where the fields of the generated objects come from
/// (none when nothing was applied: a problem was an error).
pub fn process_recording<F: Function>(list: &mut ResourceList) -> Vec<ObjectOrigins> {
    generate_recording::<F>(list, Hashes::Record)
}

/// [`generate`], returning the origins of what it generated.
pub fn generate_recording<F: Function>(
    list: &mut ResourceList,
    hashes: Hashes,
) -> Vec<ObjectOrigins> {
    if F::ROLE != Role::Validator {
        let kinds = crate::check_kinds(list);
        list.results.extend(kinds);
    }
    let source = config_source::<F>(list).cloned();
    let config = match krm_sdk::function_config::<F::Config>(source.as_ref(), config_kind::<F>()) {
        Ok(config) => {
            let config = config.unwrap_or_default();
            list.results.extend(config.check(source.as_ref()));
            Some(config)
        }
        Err(problems) => {
            list.results.extend(problems);
            None
        }
    };
    let mut collector = Collector {
        package: list,
        problems: Vec::new(),
    };
    let specs = F::collect(&mut collector);
    let mut problems = collector.problems;
    // Not on a config that did not decode: what it would say is no problem of the
    // specs (its decoding problems are errors, so nothing is applied either).
    let output = match &config {
        Some(config) => F::render(specs, config, list),
        None => Output::default(),
    };
    problems.extend(output.problems);
    list.results.extend(problems);
    crate::settle(&mut list.results);
    if F::ROLE == Role::Validator {
        return Vec::new();
    }
    // What the framework sets on every object (`crate::generated`), before the
    // function's own records (which win on the same prefix): the spec's
    // namespace and the ownership annotation naming the spec.
    let mut origins = Origins::new();
    let owner = format!("metadata.annotations['{}']", crate::GENERATED_BY);
    for object in output.generated.iter().flat_map(|g| &g.objects) {
        origins.spec(object, "metadata.namespace", "metadata.namespace");
        origins.derived(
            object,
            &owner,
            "the spec's kind, namespace and name",
            &["metadata.name", "metadata.namespace"],
        );
    }
    origins.extend(Origins {
        objects: output.origins,
    });
    F::GENERATOR.apply(list, output.generated, hashes);
    if list.has_errors() {
        return Vec::new();
    }
    F::place(list);
    origins.objects
}

/// The kind a typed config of `F` has; a function without a config refuses any
/// functionConfig that is not one of its specs, naming no kind it does not have.
fn config_kind<F: Function>() -> &'static str {
    <F::Config as FunctionConfig>::KIND.unwrap_or("")
}

/// The functionConfig as `F`'s config: none when it is of a Lummo spec kind
/// (kustomize's KRM plugin mode passes the spec there, see [`crate::spec_objects`];
/// with a wrong apiVersion it is `check_kinds`' error, not a config), or when `F`
/// takes no config.
fn config_source<F: Function>(list: &ResourceList) -> Option<&Value> {
    <F::Config as FunctionConfig>::KIND?;
    let config = list.function_config.as_ref()?;
    (!crate::is_spec_kind(config.kind())).then_some(config)
}

/// `--help`'s config part from a config type's JSON Schema (see
/// [`FunctionConfig::help`]).
pub fn config_help(kind: Option<&str>, schema: &Value, notes: &str) -> String {
    let mut out = match kind {
        Some(kind) => format!("    A ConfigMap (or kind {kind} with the same keys under spec):\n"),
        None => "    A ConfigMap with the keys:\n".to_string(),
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    for (key, own) in properties.into_iter().flatten() {
        // A `$ref`'s siblings (default, description) are the key's own.
        let property = resolve_schema_ref(schema, own);
        let field = |name: &str| own.get(name).or_else(|| property.get(name));
        let mut line = format!("      {key}");
        let takes = takes(schema, property);
        if !takes.is_empty() {
            line.push_str(&format!(" ({takes}"));
            if let Some(default) = field("default").filter(|d| !is_empty_default(d)) {
                let default = match default {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                line.push_str(&format!(", default {default}"));
            }
            line.push(')');
        }
        if let Some(about) = field("description").and_then(Value::as_str) {
            line.push_str(": ");
            line.push_str(&first_sentence(about));
        }
        out.push_str(&line);
        out.push('\n');
    }
    if properties.is_none_or(|p| p.is_empty()) {
        out.push_str("      (none)\n");
    }
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(notes);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// What a key takes, in a few words: its values, or its type.
fn takes(root: &Value, node: &Value) -> String {
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        return values.join(" | ");
    }
    let branches: Vec<&Value> = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten()
        .map(|b| resolve_schema_ref(root, b))
        .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
        .collect();
    if let [only] = branches.as_slice() {
        return takes(root, only);
    }
    let constants: Vec<&str> = branches
        .iter()
        .filter_map(|b| b.get("const").and_then(Value::as_str))
        .collect();
    if !constants.is_empty() && constants.len() == branches.len() {
        return constants.join(" | ");
    }
    let kind = match node.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or(""),
        _ => "",
    };
    match kind {
        "array" => "a list".into(),
        "object" => "a mapping".into(),
        "boolean" => "true | false".into(),
        "integer" => "a whole number".into(),
        "number" => "a number".into(),
        "string" => "text".into(),
        _ => String::new(),
    }
}

fn is_empty_default(default: &Value) -> bool {
    match default {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A doc comment's first sentence, on one line ("e.g." and "i.e." end none).
fn first_sentence(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let end = words
        .iter()
        .position(|w| w.ends_with('.') && !matches!(*w, "e.g." | "i.e." | "(e.g." | "(i.e."))
        .map_or(words.len(), |i| i + 1);
    words[..end].join(" ")
}
