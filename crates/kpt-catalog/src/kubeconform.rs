//! `kubeconform` (and `kubeval`): validates each object against its
//! Kubernetes JSON schema, one error result per violation, as the catalog's
//! function does (kptdev/krm-functions-catalog
//! `contrib/functions/go/kubeconform/kubeconform.go`, which runs yannh/kubeconform
//! v0.7.0 over each object and turns the `validationErrors` of its JSON output
//! into results: message `msg`, field `path` with `/` read as `.`, severity
//! error).
//!
//! Config (a ConfigMap's `data`, or the same keys at the top level of any
//! other kind, as `extractConfig` reads them):
//! - `strict`: unknown fields are errors (kubeconform's `-strict`: the
//!   `*-standalone-strict` schemas, `additionalProperties: false`);
//! - `ignore_missing_schemas`, `skip_kinds` (a kind, or `apiVersion/kind`,
//!   comma-separated: kubeconform's `-skip`);
//! - `schema_location`, `additional_schema_locations`: folders of schemas,
//!   tried in order (kubeconform's `-schema-location`: a location not ending
//!   in `json` gets `/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`);
//! - `kubernetes_version` (the key of krm-functions/catalog's kubeconform; the
//!   catalog's passes none, so kubeconform's `master`): the version in that path.
//!
//! Without a location the image reads the schemas it bundles (Kubernetes
//! 1.34, yannh/kubernetes-json-schema's `master`, from
//! `jsonschema/jsonschema-k8s.tar.gz`); lummo embeds Kubernetes 1.34.0's
//! (schemas/kubernetes-v1.34.0.json.zlib, from PyPI kubernetes-validate,
//! scripts/kubeconform_schemas.py). See ARCHITECTURE.md.
//!
//! An object without a schema: kubeconform reports "could not find schema"
//! as an error without `validationErrors`, which the catalog's function turns
//! into no result at all (kpt's e2e case kubeval-failure at v1.0.0-beta.67:
//! its `Custom` passes without `ignore_missing_schemas`). The `kubeval`
//! releases reported it ("Validating arbitrary CRDs is not supported yet",
//! kpt's e2e kubeval-failure at beta.56), so lummo does for `kubeval:*`.

mod gojsonschema;
mod jsonschema;

use jsonschema::{Resolve, Validator};
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Config keys, for the unknown-key suggestion.
const KEYS: &[&str] = &[
    "schema_location",
    "additional_schema_locations",
    "ignore_missing_schemas",
    "skip_kinds",
    "strict",
    "kubernetes_version",
];

/// The schemas embedded: Kubernetes 1.34.0, what the catalog's image bundles
/// as `master` (its README: kubernetes-json-schema at 44df5137, "Kubernetes
/// 1.34.x").
const EMBEDDED_VERSION: &str = "1.34.0";
static EMBEDDED_ZLIB: &[u8] = include_bytes!("../schemas/kubernetes-v1.34.0.json.zlib");

/// `{"version", "$defs", "files": {<file stem>: <schema>}}`, decompressed once.
fn embedded() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = miniz_oxide::inflate::decompress_to_vec_zlib(EMBEDDED_ZLIB)
            .expect("the embedded schemas are zlib (scripts/kubeconform_schemas.py)");
        serde_json::from_slice(&text).expect("the embedded schemas are JSON")
    })
}

/// What differs between the releases lummo maps here.
#[derive(Clone, Copy)]
struct Release {
    /// An object without a schema is an error result unless skipped.
    reports_missing: bool,
    /// The checks and words of kubeval v0.16.1 (xeipuuv/gojsonschema), which
    /// the `kubeval` releases ran (`gojsonschema.rs`), not kubeconform's.
    kubeval: bool,
}

pub fn process(list: &mut ResourceList) {
    run(
        list,
        Release {
            reports_missing: false,
            kubeval: false,
        },
    )
}

/// `kubeval`: the same schemas, checked and worded as kubeval v0.16.1 (which
/// every `kubeval` release's image ran: functions/ts/kubeval) does
/// (`gojsonschema.rs`), a missing schema reported.
pub fn process_kubeval(list: &mut ResourceList) {
    run(
        list,
        Release {
            reports_missing: true,
            kubeval: true,
        },
    )
}

fn run(list: &mut ResourceList, release: Release) {
    let config = match Config::read(list.function_config.as_ref()) {
        Ok(config) => config,
        Err(error) => return list.results.push(error),
    };
    let mut store = Store::default();
    let mut results = Vec::new();
    for item in &list.items {
        let object = item.value();
        let (kind, api_version) = (object.kind(), object.api_version());
        // kubeconform: an object without kind or apiVersion is an error
        // without validationErrors, which the catalog's function drops.
        if kind.is_empty() || api_version.is_empty() {
            continue;
        }
        if config
            .skip_kinds
            .iter()
            .any(|k| *k == kind || *k == format!("{api_version}/{kind}"))
        {
            continue;
        }
        let found = match store.find(&config, kind, api_version) {
            Ok(found) => found,
            Err(message) => {
                results.push(ResultItem::error(message).for_object(object));
                continue;
            }
        };
        let Some((doc, schema)) = found else {
            if release.reports_missing && !config.ignore_missing {
                results.push(missing(&config, kind, api_version).for_object(object));
            }
            continue;
        };
        // The embedded schemas are the strict ones; a folder's are the
        // variant `{{ .StrictSuffix }}` picked.
        let closed = config.strict || doc != EMBEDDED;
        if release.kubeval {
            let walker = gojsonschema::Walker {
                resolver: &store,
                closed,
            };
            for failure in walker.failures(doc, store.schema(doc, schema), object) {
                // functions/ts/kubeval `runKubeval`: kubeval's line split at
                // its first `:`, the field path before it.
                let (path, message) = failure.split();
                results.push(ResultItem::error(message).for_object(object).field(path));
            }
            continue;
        }
        let validator = Validator {
            resolver: &store,
            closed,
        };
        for failure in validator.failures(doc, store.schema(doc, schema), object) {
            let field = failure.path.replace('/', ".");
            let field = field.trim_start_matches('.');
            let result = ResultItem::error(failure.message).for_object(object);
            results.push(if field.is_empty() {
                result
            } else {
                result.field(field)
            });
        }
    }
    list.results.extend(results);
}

/// kubeval v0.1.1's words for an object without a schema (kpt's e2e case
/// kubeval-failure at v1.0.0-beta.56): the path kubeconform tried in the image.
fn missing(config: &Config, kind: &str, api_version: &str) -> ResultItem {
    let tried = match config.locations.first() {
        Some(template) => render(template, kind, api_version, config).unwrap_or_default(),
        None => format!(
            "/tmp/master-standalone{}/{}.json",
            if config.strict { "-strict" } else { "" },
            file_stem(kind, api_version)
        ),
    };
    let path = tried.strip_prefix("file://").unwrap_or(&tried);
    ResultItem::error(format!(
        "Validating arbitrary CRDs is not supported yet. You can skip them by setting \
         ignore_missing_schemas or skip_kinds in the function config:\n\
         ERR  - stdin: Failed initializing schema file://{path}: open {path}: no such file or directory\n"
    ))
}

/// kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}` (`pkg/registry/registry.go`,
/// `schemaPath`): `deployment-apps-v1`, `service-v1`, `custom-custom-v1`.
fn file_stem(kind: &str, api_version: &str) -> String {
    format!("{}{}", kind.to_lowercase(), kind_suffix(api_version))
}

fn kind_suffix(api_version: &str) -> String {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, Some(v)),
        None => (api_version, None),
    };
    let first = group.split('.').next().unwrap_or_default().to_lowercase();
    match version {
        Some(v) => format!("-{first}-{}", v.to_lowercase()),
        None => format!("-{first}"),
    }
}

const TEMPLATE_FIELDS: &[&str] = &[
    "NormalizedKubernetesVersion",
    "StrictSuffix",
    "ResourceKind",
    "ResourceAPIVersion",
    "Group",
    "KindSuffix",
];

/// A location's path for one object (Go's text/template over the fields
/// `schemaPath` gives it); `Err` names a field it does not know.
fn render(
    template: &str,
    kind: &str,
    api_version: &str,
    config: &Config,
) -> Result<String, String> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let group = if api_version.contains('/') {
        group
    } else {
        api_version
    };
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            return Err(format!("`{template}` has `{{{{` without `}}}}`"));
        };
        let field = rest[start + 2..start + end].trim();
        out.push_str(&match field.strip_prefix('.').unwrap_or("") {
            "NormalizedKubernetesVersion" if config.version == "master" => "master".into(),
            "NormalizedKubernetesVersion" => format!("v{}", config.version),
            "StrictSuffix" => if config.strict { "-strict" } else { "" }.into(),
            "ResourceKind" => kind.to_lowercase(),
            "ResourceAPIVersion" => version.into(),
            "Group" => group.into(),
            "KindSuffix" => kind_suffix(api_version),
            _ => {
                return Err(format!(
                    "`{template}` uses `{{{{ {field} }}}}`; a location can use {}",
                    TEMPLATE_FIELDS
                        .iter()
                        .map(|f| format!("{{{{ .{f} }}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        });
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

struct Config {
    /// Path templates, `file://` kept (stripped when read); empty: the
    /// embedded schemas.
    locations: Vec<String>,
    ignore_missing: bool,
    skip_kinds: Vec<String>,
    strict: bool,
    /// Without the leading `v`, or `master`.
    version: String,
}

impl Config {
    fn read(fc: Option<&Value>) -> Result<Config, ResultItem> {
        let empty = serde_json::Map::new();
        let (fields, prefix) = match fc {
            Some(fc) if fc.kind() == "ConfigMap" => (
                fc.get("data").and_then(Value::as_object).unwrap_or(&empty),
                "data.",
            ),
            Some(fc) => (fc.as_object().unwrap_or(&empty), ""),
            None => (&empty, ""),
        };
        let fc_ref = fc.cloned().unwrap_or(Value::Null);
        let error = |key: &str, message: String| {
            let item = ResultItem::error(message).field(format!("{prefix}{key}"));
            if fc_ref.is_object() {
                item.for_object(&fc_ref)
            } else {
                item
            }
        };
        for key in fields.keys() {
            if prefix.is_empty() && ["apiVersion", "kind", "metadata"].contains(&key.as_str()) {
                continue;
            }
            if !KEYS.contains(&key.as_str()) {
                let hint = krm_sdk::decode::suggest(key, KEYS.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("known keys: {}", KEYS.join(", ")));
                return Err(error(
                    key,
                    format!("unknown key `{prefix}{key}` in the kubeconform config; {hint}"),
                ));
            }
        }
        let text = |key: &str| -> Result<String, ResultItem> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.trim().to_string()),
                Some(Value::Bool(b)) => Ok(b.to_string()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(other) => Err(error(
                    key,
                    format!(
                        "`{prefix}{key}` must be a string, found {}; a list is written comma-separated, e.g. `skip_kinds: \"Custom,Other\"`",
                        krm_sdk::resource_list::type_name(other)
                    ),
                )),
            }
        };
        let list = |key: &str| -> Result<Vec<String>, ResultItem> {
            Ok(text(key)?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect())
        };
        // `extractConfig`'s getBool reads "true" (any case) and "1" as true;
        // anything but those and false/0 is refused here rather than read as false.
        let flag = |key: &str| -> Result<bool, ResultItem> {
            let value = text(key)?;
            match value.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" | "" => Ok(false),
                _ => Err(error(
                    key,
                    format!("`{prefix}{key}` is `{value}`; write \"true\" or \"false\""),
                )),
            }
        };
        let mut given = Vec::new();
        let primary = text("schema_location")?;
        if !primary.is_empty() {
            given.push(("schema_location", primary));
        }
        for value in list("additional_schema_locations")? {
            given.push(("additional_schema_locations", value));
        }
        let mut locations = Vec::new();
        for (key, value) in given {
            if value.starts_with("http://") || value.starts_with("https://") {
                return Err(error(key, format!(
                    "`{prefix}{key}` is `{value}`: lummo reads schemas from folders only (a render fetches nothing); \
                     download them and give the folder, e.g. `file:///abs/path/to/schemas` or `/abs/path/to/schemas`"
                )));
            }
            // kubeconform: a location that is not a whole file path gets
            // its fork of kubernetes-json-schema's layout.
            let template = if value.ends_with("json") {
                value
            } else {
                format!(
                    "{}/{{{{ .NormalizedKubernetesVersion }}}}-standalone{{{{ .StrictSuffix }}}}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
                    value.trim_end_matches('/')
                )
            };
            locations.push(template);
        }
        let version = match text("kubernetes_version")?.as_str() {
            "" => "master".to_string(),
            v => v.to_string(),
        };
        let config = Config {
            locations,
            ignore_missing: flag("ignore_missing_schemas")?,
            skip_kinds: list("skip_kinds")?,
            strict: flag("strict")?,
            version,
        };
        for template in &config.locations {
            render(template, "Deployment", "v1", &config)
                .map_err(|why| error("schema_location", why))?;
        }
        if config.locations.is_empty()
            && !matches!(config.version.as_str(), "master" | EMBEDDED_VERSION)
        {
            return Err(error(
                "kubernetes_version",
                format!(
                    "kubernetes_version `{v}`: lummo carries Kubernetes {EMBEDDED_VERSION}'s schemas only (the catalog image's `master`); \
                     give `schema_location` a folder of {v}'s schemas in kubeconform's layout \
                     (<folder>/v{v}-standalone-strict/deployment-apps-v1.json, e.g. from yannh/kubernetes-json-schema \
                     or PyPI kubernetes-validate), or remove kubernetes_version",
                    v = config.version
                ),
            ));
        }
        Ok(config)
    }
}

/// The document id of the embedded schemas; folder files follow.
const EMBEDDED: usize = 0;

/// Schema documents read so far: the embedded one, and files of folders with
/// the files their `$ref`s name.
#[derive(Default)]
struct Store {
    files: Vec<(PathBuf, Value)>,
    by_path: HashMap<PathBuf, usize>,
}

impl Store {
    /// The schema of `kind`/`apiVersion`: `(document, pointer)`; `None` when
    /// no location has one.
    fn find(
        &mut self,
        config: &Config,
        kind: &str,
        api_version: &str,
    ) -> Result<Option<(usize, String)>, String> {
        if config.locations.is_empty() {
            let stem = file_stem(kind, api_version);
            return Ok(embedded()["files"].get(&stem).map(|_| {
                (
                    EMBEDDED,
                    format!("/files/{}", stem.replace('~', "~0").replace('/', "~1")),
                )
            }));
        }
        for template in &config.locations {
            let rendered = render(template, kind, api_version, config)?;
            let path = PathBuf::from(rendered.strip_prefix("file://").unwrap_or(&rendered));
            if !path.is_file() {
                continue;
            }
            return self.load(&path).map(|doc| Some((doc, String::new())));
        }
        Ok(None)
    }

    fn schema(&self, doc: usize, pointer: String) -> &Value {
        self.doc(doc).pointer(&pointer).unwrap_or(&Value::Null)
    }

    fn doc(&self, doc: usize) -> &Value {
        match doc {
            EMBEDDED => embedded(),
            n => &self.files[n - 1].1,
        }
    }

    /// Reads a schema file and, transitively, the files its `$ref`s name
    /// (kubernetes-validate's `_definitions.json`), relative to its folder.
    fn load(&mut self, path: &Path) -> Result<usize, String> {
        if let Some(&doc) = self.by_path.get(path) {
            return Ok(doc);
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read schema {}: {e}", path.display()))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| format!("schema {} is not JSON: {e}", path.display()))?;
        let mut refs = Vec::new();
        collect_refs(&value, &mut refs);
        self.files.push((path.to_path_buf(), value));
        let doc = self.files.len();
        self.by_path.insert(path.to_path_buf(), doc);
        for file in refs {
            let target = sibling(path, &file);
            if target.is_file() {
                self.load(&target)?;
            }
        }
        Ok(doc)
    }
}

/// The file a `$ref` names, read in the referring file's folder: kubeconform's
/// layouts refer to `_definitions.json` beside the schema (kubernetes-validate
/// by an absolute `/api/_definitions.json` under its `$id`).
fn sibling(path: &Path, file: &str) -> PathBuf {
    let name = file.rsplit('/').next().unwrap_or(file);
    path.with_file_name(name)
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(r)) => {
                        let file = r.split('#').next().unwrap_or_default();
                        if !file.is_empty() && !out.iter().any(|f| f == file) {
                            out.push(file.to_string());
                        }
                    }
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

impl Resolve for Store {
    fn resolve<'a>(&'a self, doc: usize, reference: &str) -> Option<(usize, &'a Value)> {
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let target = if file.is_empty() {
            doc
        } else {
            let (path, _) = self.files.get(doc.checked_sub(1)?)?;
            *self.by_path.get(&sibling(path, file))?
        };
        Some((target, self.doc(target).pointer(pointer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_of_kubeconform() {
        assert_eq!(file_stem("Deployment", "apps/v1"), "deployment-apps-v1");
        assert_eq!(file_stem("Service", "v1"), "service-v1");
        assert_eq!(
            file_stem("Ingress", "networking.k8s.io/v1"),
            "ingress-networking-v1"
        );
        let config = Config::read(None).unwrap();
        assert_eq!(
            render("/s/{{.Group}}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}{{ .StrictSuffix }}-{{ .NormalizedKubernetesVersion }}.json", "Gateway", "gateway.networking.k8s.io/v1", &config),
            Ok("/s/gateway.networking.k8s.io/gateway_v1-master.json".into())
        );
        assert!(render("/s/{{ .Kind }}.json", "A", "v1", &config)
            .unwrap_err()
            .contains("{{ .ResourceKind }}"));
    }

    #[test]
    fn every_embedded_file_resolves() {
        let store = Store::default();
        let files = embedded()["files"].as_object().unwrap();
        assert!(files.len() > 700, "{}", files.len());
        assert!(files.contains_key("deployment-apps-v1"));
        let mut refs = Vec::new();
        collect_refs(embedded(), &mut refs);
        assert_eq!(
            refs,
            Vec::<String>::new(),
            "every $ref of the embedded schemas is local"
        );
        fn walk(store: &Store, v: &Value) {
            match v {
                Value::Object(m) => m.iter().for_each(|(k, c)| match (k.as_str(), c) {
                    ("$ref", Value::String(r)) => {
                        assert!(store.resolve(EMBEDDED, r).is_some(), "{r}")
                    }
                    _ => walk(store, c),
                }),
                Value::Array(a) => a.iter().for_each(|c| walk(store, c)),
                _ => {}
            }
        }
        walk(&store, embedded());
    }
}
