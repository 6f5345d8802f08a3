//! `starlark`: runs a Starlark script over the package, as the catalog's
//! function does (kptdev/krm-functions-catalog `functions/go/starlark`, read at
//! the tags `starlark/v0.2.1`, `v0.3.0`, `v0.4.3` and `v0.5.1`), on the
//! `starlark` crate (facebook/starlark-rust) instead of go.starlark.net.
//!
//! What the catalog's function does (`SimpleFilter` in its
//! `third_party/.../kyaml/fn/runtime/starlark/starlark.go`):
//! - the functionConfig is a `StarlarkRun` (`source`, `params`) or a ConfigMap
//!   (`data.source`); its `metadata.name` names the script in error positions;
//! - the items and the functionConfig are wrapped in a ResourceList mapping
//!   (`WrapResources`), read into Go values (`RNode.Map`) and made Starlark
//!   values (qri-io/starlib `util.Marshal`): mappings are dicts, sequences
//!   lists; the script sees it as `ctx.resource_list` and changes it in place;
//! - afterwards `ctx.resource_list["items"]` is turned back into Go values
//!   (`util.Unmarshal`: lists and tuples become sequences, dicts mappings with
//!   string keys; sets, structs and functions are errors) and printed by go-yaml
//!   from Go maps, so every object comes back with its keys sorted and in
//!   go-yaml's default styles; kpt's function runner then copies each input
//!   object's comments and field order back by id (what lummo-render does to
//!   every step over the text, see [`crate::Over`]).
//!
//! Releases: v0.1–v0.3 were kyaml `framework` functions (their config checks
//! and messages, `[error] : <message>` on stderr); v0.4 and later are
//! kpt-functions-sdk functions. Up to v0.2 the dialect is standard Starlark; from
//! v0.3 `load` (the catalog's `encoding/json.star`; `krmfn.star` from v0.4),
//! top-level `if`/`for` and global reassignment are allowed
//! (`resolve.AllowGlobalReassign`, `AllowSet`, `AllowRecursion`).
//!
//! Sandbox (none of this is in the Go function, which may read files and the
//! network through starlib's `http`): no module but those two can be loaded, no
//! file, network, clock or environment is reachable (`ctx.environment` is
//! empty), and a run is bounded in steps ([`MAX_TICKS`]), Starlark heap
//! ([`MAX_HEAP_BYTES`]), call depth and printed text; crossing a bound is an
//! error naming it. Every known difference from go.starlark.net is listed in
//! ARCHITECTURE.md.

use krm_sdk::yaml::Limits;
use krm_sdk::{ObjectExt, Outcome, ResourceList, ResultItem, Value};
use serde_json::Map;
use starlark::codemap::FileSpanRef;
use starlark::environment::{FrozenModule, Globals, GlobalsBuilder, LibraryExtension, Module};
use starlark::eval::{BeforeStmtFunc, BeforeStmtFuncDyn, Evaluator, FileLoader};
use starlark::syntax::{AstModule, Dialect};
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::list::{AllocList, ListRef};
use starlark::values::structs::{AllocStruct, StructRef};
use starlark::values::tuple::TupleRef;
use starlark::values::{Heap, UnpackValue, Value as Star, ValueLike};
use std::cell::RefCell;

/// Steps a script may take: function calls plus loop iterations (starlark-rust's
/// "ticks"). A kpt script touches each object a few times; 20 million is far
/// beyond that and ends an endless loop in about a second.
pub const MAX_TICKS: u64 = 20_000_000;
/// The Starlark heap a script may fill (checked before every statement,
/// [`HeapGuard`]: a run may pass it by what one statement allocates).
pub const MAX_HEAP_BYTES: usize = 256 << 20;
/// Nested calls (recursion from v0.3 on).
const MAX_CALL_DEPTH: usize = 1000;
/// Text a script may `print` (it becomes the step's stderr).
const MAX_PRINTED_BYTES: usize = 1 << 20;

/// The behaviour of a release line of the catalog's function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Release {
    /// v0.1–v0.2: a kyaml framework function, standard Starlark, no `load`.
    V0_2,
    /// v0.3: the same config; `load`, top-level statements, sets, recursion.
    V0_3,
    /// v0.4 and later (`unstable`, `latest`): kpt-functions-sdk, `krmfn.star`.
    V0_4,
}

impl Release {
    pub fn of(version: Option<(u32, u32, u32)>) -> Release {
        match version {
            Some((0, minor, _)) if minor < 3 => Release::V0_2,
            Some((0, 3, _)) => Release::V0_3,
            _ => Release::V0_4,
        }
    }
}

/// v0.2 and earlier, over a ResourceList value.
pub fn process_v0_2(list: &mut ResourceList) {
    run(list, Release::V0_2);
}

/// v0.3, over a ResourceList value.
pub fn process_v0_3(list: &mut ResourceList) {
    run(list, Release::V0_3);
}

/// v0.4 and later, over a ResourceList value.
pub fn process(list: &mut ResourceList) {
    run(list, Release::V0_4);
}

/// v0.2 over a ResourceList's text, as its container runs: see [`filter`].
pub fn filter_v0_2(input: &str) -> Outcome {
    filter(input, Release::V0_2)
}

/// v0.3 over a ResourceList's text.
pub fn filter_v0_3(input: &str) -> Outcome {
    filter(input, Release::V0_3)
}

/// v0.4 and later over a ResourceList's text.
pub fn filter_v0_4(input: &str) -> Outcome {
    filter(input, Release::V0_4)
}

/// The function over a ResourceList's text: the ResourceList it prints, and
/// on stderr what the script printed (`print`) followed by what the release's
/// framework prints when the function fails.
pub fn filter(input: &str, release: Release) -> Outcome {
    let mut printed = String::new();
    let mut outcome = krm_sdk::process_text("starlark", input, &Limits::default(), |list| {
        printed = run(list, release);
    });
    if outcome.exit_code != 0 {
        let failure = match release {
            // kyaml framework's `command.Build` prints the Result (`[error] : <msg>`).
            Release::V0_2 | Release::V0_3 => {
                let list = krm_sdk::ResourceList::parse(&outcome.stdout, &Limits::default());
                let messages: Vec<String> = list
                    .map(|l| l.results)
                    .unwrap_or_default()
                    .iter()
                    .filter(|r| r.is_error())
                    .map(|r| format!("[error] : {}", r.message))
                    .collect();
                messages.join("\n")
            }
            // kpt-functions-sdk's `AsMain`.
            Release::V0_4 => "failed to evaluate function: error: function failure".to_string(),
        };
        printed.push_str(&failure);
    }
    outcome.stderr = printed;
    outcome
}

/// The script's name and source, from the functionConfig as the release reads it.
struct Script {
    name: String,
    source: String,
}

/// `schema.GroupVersionKind.String()`: `group/version, Kind=kind`.
fn gvk(api_version: &str, kind: &str) -> String {
    let (group, version) = crate::util::group_version(api_version);
    format!("{group}/{version}, Kind={kind}")
}

fn must_be_either(fc: &Value) -> String {
    format!(
        "`functionConfig` must be either /v1, Kind=ConfigMap or fn.kpt.dev/v1alpha1, Kind=StarlarkRun, but we got: {}",
        gvk(fc.api_version(), fc.kind())
    )
}

/// A string field of the config; another type is an error naming it.
fn string_field(fc: &Value, path: &[&str]) -> Result<Option<String>, String> {
    let mut node = fc;
    for key in path {
        match node.get(*key) {
            Some(next) => node = next,
            None => return Ok(None),
        }
    }
    match node {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(format!(
            "`{}` must be a string, found {}",
            path.join("."),
            krm_sdk::resource_list::type_name(other)
        )),
    }
}

fn script(fc: Option<&Value>, release: Release) -> Result<Script, String> {
    let empty = fc.is_none_or(|fc| fc.as_object().is_none_or(|m| m.is_empty()));
    let name = fc.map(|fc| fc.name().to_string()).filter(|n| !n.is_empty());
    if release == Release::V0_4 {
        // starlark/config.go `Config` (kpt-functions-sdk `IsGroupKind`).
        let Some(fc) = fc.filter(|_| !empty) else {
            return Err("FunctionConfig is missing. Expect `ConfigMap` or `StarlarkRun`".into());
        };
        let group = crate::util::group_version(fc.api_version()).0;
        let source = match (group, fc.kind()) {
            ("", "ConfigMap") => string_field(fc, &["data", "source"])?,
            ("fn.kpt.dev", "StarlarkRun") => string_field(fc, &["source"])?,
            _ => return Err(must_be_either(fc)),
        };
        let source = source
            .filter(|s| !s.is_empty())
            .ok_or("`source` must not be empty")?;
        return Ok(Script {
            name: name.unwrap_or_else(|| "starlark-function-run".into()),
            source,
        });
    }
    // config.go of v0.2/v0.3: `UnmarshalYAML`, then `Default`, then `Validate`.
    let Some(fc) = fc.filter(|_| !empty) else {
        return Err("unknown `functionConfig` kind: ".into());
    };
    let source = match (fc.api_version(), fc.kind()) {
        ("v1", "ConfigMap") => string_field(fc, &["data", "source"])?
            .ok_or("`data.source` must not be empty in `ConfigMap`")?,
        ("fn.kpt.dev/v1alpha1", "StarlarkRun") => string_field(fc, &["source"])?
            .filter(|s| !s.is_empty())
            .ok_or("`source` in `StarlarkRun` must not be empty")?,
        _ => return Err(must_be_either(fc)),
    };
    Ok(Script {
        // (sic) v0.2's default name.
        name: name.unwrap_or_else(|| "stalark-function-run".into()),
        source,
    })
}

/// Runs the release over `list`; returns what the script printed.
fn run(list: &mut ResourceList, release: Release) -> String {
    let script = match script(list.function_config.as_ref(), release) {
        Ok(script) => script,
        Err(message) => {
            list.results.push(ResultItem::error(message));
            return String::new();
        }
    };
    // `WrapResources`: the items and the functionConfig in a ResourceList.
    let mut wrapped = Map::new();
    wrapped.insert("apiVersion".into(), "config.kubernetes.io/v1".into());
    wrapped.insert("kind".into(), "ResourceList".into());
    wrapped.insert(
        "items".into(),
        Value::Array(list.items.iter().map(|i| i.value().clone()).collect()),
    );
    if let Some(fc) = &list.function_config {
        wrapped.insert("functionConfig".into(), fc.clone());
    }
    let printed = RefCell::new(String::new());
    match execute(&script, &Value::Object(wrapped), release, &printed) {
        Ok(items) => list.items = items.into_iter().map(go_yaml_item).collect(),
        Err(message) => list.results.push(ResultItem::error(message)),
    }
    printed.into_inner()
}

/// An object the script left, with the text go-yaml prints for it (the
/// function prints Go maps: keys sorted, scalars quoted only where needed,
/// single quotes first), so the ResourceList it writes reads as the catalog's.
fn go_yaml_item(value: Value) -> krm_sdk::Item {
    let text = kyaml_format::format_value(None, &value, kyaml_format::SeqIndent::Compact);
    krm_sdk::Item::from_document(&text, &value, &Limits::default()).unwrap_or_else(|| value.into())
}

/// Evaluates the script over the wrapped ResourceList; the items it leaves.
fn execute(
    script: &Script,
    resource_list: &Value,
    release: Release,
    printed: &RefCell<String>,
) -> Result<Vec<Value>, String> {
    let extended = release >= Release::V0_3;
    let dialect = Dialect {
        enable_load: extended,
        enable_top_level_stmt: extended,
        ..Dialect::Standard
    };
    let ast = AstModule::parse(&script.name, script.source.clone(), &dialect)
        .map_err(|e| error_message(&script.name, &e, release))?;
    let globals = globals(release);
    let loader = Loader { release };
    let printer = Printer { printed };
    Module::with_temp_heap(|module| {
        let heap = module.heap();
        let list = to_starlark(heap, resource_list);
        // `ctx.environment` is the container's environment in the catalog's
        // function; in process it is empty (a render depends on no variable).
        let environment = heap.alloc(AllocDict(Vec::<(&str, &str)>::new()));
        module.set(
            "ctx",
            heap.alloc(AllocStruct([
                ("resource_list", list),
                ("environment", environment),
            ])),
        );
        let mut eval = Evaluator::new(&module);
        eval.set_print_handler(&printer);
        eval.set_loader(&loader);
        let limits = eval
            .set_max_tick_count(MAX_TICKS)
            .and_then(|()| eval.set_max_heap_size(MAX_HEAP_BYTES))
            .and_then(|()| eval.set_max_callstack_size(MAX_CALL_DEPTH));
        limits.map_err(|e| format!("cannot bound the Starlark interpreter: {e}"))?;
        eval.before_stmt_for_dap(BeforeStmtFunc::from_dyn(Box::new(HeapGuard)));
        eval.eval_module(ast, &globals)
            .map_err(|e| error_message(&script.name, &e, release))?;
        // The heap's garbage collector moves values while the script runs and
        // updates only what the module holds: read the list again through
        // `ctx`, never through `list` (a stale pointer once a collection ran).
        let list = module
            .get("ctx")
            .and_then(StructRef::from_value)
            .and_then(|ctx| {
                ctx.iter()
                    .find(|(name, _)| name.as_str() == "resource_list")
                    .map(|(_, value)| value)
            })
            .ok_or("the script replaced `ctx`, which must stay as the function gives it")?;
        items_of(list)
    })
}

/// go.starlark.net's universe: the standard functions, `print`, and from v0.3
/// `set` (`resolve.AllowSet`).
fn globals(release: Release) -> Globals {
    let mut extensions = vec![LibraryExtension::Print];
    if release >= Release::V0_3 {
        extensions.push(LibraryExtension::SetType);
    }
    Globals::extended_by(&extensions)
}

/// The heap bound checked before every statement: starlark-rust checks its own
/// ([`MAX_HEAP_BYTES`]) only every 1,000 steps, and a loop doubling a string
/// (`s = s + s`) reaches gigabytes in 40 steps, where the allocator aborts the
/// whole process (measured: 4.2 GB, SIGABRT). Checked here, a run ends at the
/// first statement after the heap passed the bound, with the bound's error.
/// The hook is starlark-rust's for its debugger (public, doc-hidden): the one
/// whose error ends a run.
struct HeapGuard;

impl<'e> BeforeStmtFuncDyn<'e> for HeapGuard {
    fn call<'v>(
        &mut self,
        _: FileSpanRef,
        _: bool,
        eval: &mut Evaluator<'v, '_, 'e>,
    ) -> starlark::Result<()> {
        if eval.heap().allocated_bytes() > MAX_HEAP_BYTES {
            // starlark-rust's own words, which `error_message` turns into ours.
            return Err(starlark::Error::new_other(anyhow::anyhow!(
                "Heap memory limit of {MAX_HEAP_BYTES} bytes exceeded"
            )));
        }
        Ok(())
    }
}

/// The modules a script may `load` (the catalog's `loadlib.go`): only those
/// that touch no file, network or clock.
struct Loader {
    release: Release,
}

impl FileLoader for Loader {
    fn load(&self, path: &str) -> starlark::Result<FrozenModule> {
        let globals = match path {
            // qri-io/starlib `encoding/json`: `json.encode`, `json.decode`.
            "encoding/json.star" => Globals::extended_by(&[LibraryExtension::Json]),
            "krmfn.star" if self.release >= Release::V0_4 => {
                GlobalsBuilder::new().with_namespace("krmfn", krmfn).build()
            }
            _ => {
                return Err(starlark::Error::new_other(anyhow::anyhow!(
                    "cannot load {path:?}: lummo's in-process Starlark loads only \"encoding/json.star\"{}; \
                     the catalog's other starlib modules (http, time, re, yaml, ...) reach files, the network or the clock, \
                     or are not ported",
                    if self.release >= Release::V0_4 { " and \"krmfn.star\"" } else { "" }
                )))
            }
        };
        FrozenModule::from_globals(&globals).map_err(|e| starlark::Error::new_other(e))
    }
}

/// The catalog's `krmfn` module (`krmfn/krmfn.go`): matchers over an object.
#[starlark::starlark_module]
fn krmfn(builder: &mut GlobalsBuilder) {
    /// True when the object has that apiVersion and kind.
    fn match_gvk<'v>(
        #[starlark(require = pos)] resource: Star<'v>,
        #[starlark(require = pos)] api_version: &str,
        #[starlark(require = pos)] kind: &str,
    ) -> anyhow::Result<bool> {
        Ok(field(resource, &["apiVersion"]) == api_version && field(resource, &["kind"]) == kind)
    }

    /// True when the object has that name.
    fn match_name<'v>(
        #[starlark(require = pos)] resource: Star<'v>,
        #[starlark(require = pos)] name: &str,
    ) -> anyhow::Result<bool> {
        Ok(field(resource, &["metadata", "name"]) == name)
    }

    /// True when the object is in that namespace.
    fn match_namespace<'v>(
        #[starlark(require = pos)] resource: Star<'v>,
        #[starlark(require = pos)] namespace: &str,
    ) -> anyhow::Result<bool> {
        Ok(field(resource, &["metadata", "namespace"]) == namespace)
    }
}

/// A string at a path of dicts, "" where it is missing.
fn field(value: Star, path: &[&str]) -> String {
    let mut node = value;
    for key in path {
        let Some(dict) = DictRef::from_value(node) else {
            return String::new();
        };
        let Some(next) = dict
            .iter()
            .find(|(k, _)| k.unpack_str() == Some(key))
            .map(|(_, v)| v)
        else {
            return String::new();
        };
        node = next;
    }
    node.unpack_str().unwrap_or("").to_string()
}

/// Collects `print` output (the container's stderr), bounded.
struct Printer<'a> {
    printed: &'a RefCell<String>,
}

impl starlark::PrintHandler for Printer<'_> {
    fn println(&self, text: &str) -> starlark::Result<()> {
        let mut printed = self.printed.borrow_mut();
        if printed.len() + text.len() > MAX_PRINTED_BYTES {
            return Err(starlark::Error::new_other(anyhow::anyhow!(
                "the script printed more than {MAX_PRINTED_BYTES} bytes"
            )));
        }
        printed.push_str(text);
        printed.push('\n');
        Ok(())
    }
}

/// An error as go.starlark.net words its position: `<name>:<line>:<column>: <message>`
/// (lines and columns from 1); `fail()` bare, as go.starlark.net's `EvalError` reads.
fn error_message(name: &str, error: &starlark::Error, release: Release) -> String {
    let message = error.without_diagnostic().to_string();
    let message = message.trim();
    if let starlark::ErrorKind::Fail(_) = error.kind() {
        return message.to_string();
    }
    // The bounds, in words that say what to do (starlark-rust's speak of ticks).
    if message.contains("Execution duration limit") {
        return format!(
            "{name}: the script took more than {MAX_TICKS} steps (function calls and loop \
             iterations), the bound lummo puts on a Starlark run; is a loop endless?"
        );
    }
    if message.contains("Heap memory limit") {
        return format!(
            "{name}: the script's values took more than {} MiB, the bound lummo puts on a \
             Starlark run; does a loop keep growing a list, dict or string?",
            MAX_HEAP_BYTES >> 20
        );
    }
    let message = go_wording(message);
    match error.span() {
        // The go.starlark.net of v0.2/v0.3 (2021) placed the newline token at the
        // start of the next line (kpt beta.56's e2e fn-failure: `httpbin-gen:4:1`);
        // from v0.4 it is where the line ends (kpt beta.67's: `httpbin-gen:3:73`).
        Some(span) if release < Release::V0_4 && message.starts_with("got newline") => {
            let at = span.resolve_span().begin;
            format!("{name}:{}:1: {message}", at.line + 2)
        }
        Some(span) => {
            let at = span.resolve_span().begin;
            format!("{name}:{}:{}: {message}", at.line + 1, at.column + 1)
        }
        None => format!("{name}: {message}"),
    }
}

/// starlark-rust's words for what go.starlark.net says in its own (the cases
/// kpt's e2e data and common mistakes show); other messages stay starlark-rust's.
fn go_wording(message: &str) -> String {
    let message = message
        .strip_prefix("Parse error: ")
        .or_else(|| message.strip_prefix("error: "))
        .unwrap_or(message);
    if let Some(rest) = message.strip_prefix("unexpected new line") {
        if rest.contains("expected") || rest.is_empty() || rest.contains("here") {
            return "got newline, want primary expression".into();
        }
    }
    message.to_string()
}

/// A Go value as qri-io/starlib `util.Marshal` makes it a Starlark value.
fn to_starlark<'v>(heap: Heap<'v>, value: &Value) -> Star<'v> {
    match value {
        Value::Null => Star::new_none(),
        Value::Bool(b) => Star::new_bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                heap.alloc(i)
            } else if let Some(u) = n.as_u64() {
                heap.alloc(u)
            } else {
                heap.alloc(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => heap.alloc(s.as_str()),
        Value::Array(items) => {
            let items: Vec<Star<'v>> = items.iter().map(|v| to_starlark(heap, v)).collect();
            heap.alloc(AllocList(items))
        }
        Value::Object(map) => {
            let entries: Vec<(Star<'v>, Star<'v>)> = map
                .iter()
                .map(|(k, v)| (heap.alloc(k.as_str()), to_starlark(heap, v)))
                .collect();
            heap.alloc(AllocDict(entries))
        }
    }
}

/// `UnwrapResources`: the items the script left, each a mapping (kpt-functions-sdk
/// parses each into an object; anything else is no KRM object).
fn items_of(list: Star) -> Result<Vec<Value>, String> {
    let dict = DictRef::from_value(list)
        .ok_or("the script replaced `ctx.resource_list`, which must stay a dict")?;
    let items = dict
        .iter()
        .find(|(k, _)| k.unpack_str() == Some("items"))
        .map(|(_, v)| v);
    let Some(items) = items else {
        return Ok(Vec::new());
    };
    if items.is_none() {
        return Ok(Vec::new());
    }
    let elements: Vec<Star> = if let Some(list) = ListRef::from_value(items) {
        list.iter().collect()
    } else if let Some(tuple) = TupleRef::from_value(items) {
        tuple.iter().collect()
    } else {
        return Err(format!(
            "ctx.resource_list[\"items\"] must be a list of objects, but the script left a {}",
            items.get_type()
        ));
    };
    elements
        .into_iter()
        .enumerate()
        .map(|(i, element)| {
            let path = format!("ctx.resource_list[\"items\"][{i}]");
            let mut value = from_starlark(element, &path)?;
            kpt_annotations_as_text(&mut value);
            if !value.is_object() {
                return Err(format!(
                    "{path} must be a KRM object (a dict with apiVersion, kind and metadata.name), \
                     but the script left {}: {}",
                    krm_sdk::resource_list::type_name(&value),
                    element.to_repr()
                ));
            }
            Ok(value)
        })
        .collect()
}

/// kpt's own annotations (path, index, id) that a script set to a number or a
/// boolean, as their text: kpt reads an annotation as its node's text whatever
/// its tag (kyaml `GetAnnotations`), so `"internal.config.kubernetes.io/index": 0`
/// is index "0" to kpt's path checks (kpt e2e `no-resources`,
/// `path-index-duplicate`); these annotations never reach a file.
fn kpt_annotations_as_text(object: &mut Value) {
    let Some(annotations) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (key, value) in annotations.iter_mut() {
        if krm_sdk::object::is_kpt_annotation(key)
            && matches!(value, Value::Number(_) | Value::Bool(_))
        {
            *value = Value::String(value.to_string());
        }
    }
}

/// A Starlark value as qri-io/starlib `util.Unmarshal` and go-yaml print it:
/// dict keys sorted (go-yaml sorts a Go map's keys), floats as Go's
/// `strconv.FormatFloat(f, 'g', -1, 64)`.
fn from_starlark(value: Star, path: &str) -> Result<Value, String> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Some(b) = value.unpack_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(s) = value.unpack_str() {
        return Ok(Value::String(s.to_string()));
    }
    match value.get_type() {
        "int" => {
            if let Ok(Some(i)) = i64::unpack_value(value) {
                return Ok(Value::from(i));
            }
            // go-yaml prints a big.Int's digits; starlib refuses ints beyond
            // int64 ("couldn't parse int"), so this is an error as there.
            return Err(format!(
                "{path}: the integer {} does not fit in 64 bits",
                value.to_repr()
            ));
        }
        "float" => {
            let f = value
                .downcast_ref::<starlark::values::float::StarlarkFloat>()
                .map_or(f64::NAN, |f| f.0);
            return Ok(go_float(f));
        }
        _ => {}
    }
    if let Some(list) = ListRef::from_value(value) {
        return list
            .iter()
            .enumerate()
            .map(|(i, v)| from_starlark(v, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if let Some(tuple) = TupleRef::from_value(value) {
        return tuple
            .iter()
            .enumerate()
            .map(|(i, v)| from_starlark(v, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if let Some(dict) = DictRef::from_value(value) {
        let mut entries = Vec::with_capacity(dict.len());
        for (key, v) in dict.iter() {
            let Some(key) = key.unpack_str() else {
                return Err(format!(
                    "{path}: a dict key must be a string, found {} {}",
                    key.get_type(),
                    key.to_repr()
                ));
            };
            let v = from_starlark(v, &format!("{path}[{key:?}]"))?;
            entries.push((key.to_string(), v));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        return Ok(Value::Object(entries.into_iter().collect()));
    }
    Err(format!(
        "{path}: unrecognized starlark type: {} (only None, bool, int, float, string, list, tuple and dict become YAML)",
        value.get_type()
    ))
}

/// A float as Go's `strconv.FormatFloat(f, 'g', -1, 64)` writes it (what go-yaml
/// prints): the shortest digits; an exponent (`1e+06`, `1e-05`) when it is below
/// -4 or 6 and above (`%g` decides with precision 6 for the shortest form).
pub(crate) fn go_float(f: f64) -> Value {
    if !f.is_finite() {
        // go-yaml: `.inf`, `-.inf`, `.nan` — YAML floats no JSON number holds.
        let text = if f.is_nan() {
            ".nan"
        } else if f > 0.0 {
            ".inf"
        } else {
            "-.inf"
        };
        return Value::String(text.into());
    }
    // `{:e}` gives the shortest round-trip digits: `1.5e0`, `1e6`, `-2.5e-7`.
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let text = if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        format!("{f}")
    };
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Enough objects and garbage that the heap's collector runs while the
    /// script does; the list must be read back through `ctx` (it was read
    /// through a pointer the collector had moved: a crash in release builds).
    #[test]
    fn survives_garbage_collection() {
        let items: Vec<Value> = (0..3000)
            .map(|i| {
                krm_sdk::json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("cm-{i}")}, "data": {"n": i.to_string()}})
            })
            .collect();
        let mut list = ResourceList::new(items);
        list.function_config = Some(krm_sdk::json!({
            "apiVersion": "fn.kpt.dev/v1alpha1", "kind": "StarlarkRun",
            "metadata": {"name": "churn"},
            "source": "for r in ctx.resource_list[\"items\"]:\n  junk = [str(i) * 20 for i in range(50)]\n  r[\"data\"][\"seen\"] = r[\"metadata\"][\"name\"] + \"!\"\n",
        }));
        process(&mut list);
        assert!(list.results.is_empty(), "{:?}", list.results);
        assert_eq!(list.items.len(), 3000);
        for (i, item) in list.items.iter().enumerate() {
            assert_eq!(item.value()["data"]["seen"], format!("cm-{i}!"));
        }
    }

    #[test]
    fn floats_print_as_go_does() {
        for (f, text) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (-2.5e-7, "-2.5e-07"),
            (1e21, "1e+21"),
            (123456789.0, "1.23456789e+08"),
        ] {
            assert_eq!(go_float(f).to_string(), text, "{f}");
        }
    }
}
