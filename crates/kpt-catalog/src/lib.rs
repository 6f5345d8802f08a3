//! Functions of the kpt function catalog (kptdev/krm-functions-catalog, formerly
//! GoogleContainerTools/kpt-functions-catalog) in Rust, so a pipeline step that names
//! a catalog image runs in process, without a container.
//!
//! Each module is one function with the catalog's configuration (a ConfigMap's
//! `data`, or the function's typed kind) and semantics; `process` has the shape of
//! every function of this workspace. [`lookup`] maps an image reference to the
//! function and, where old releases behave differently (set-namespace and set-labels
//! before v0.2, set-namespace before v0.3, were kustomize transformers), to the
//! behaviour of that release.

use krm_sdk::{ResourceList, Value};

pub mod apply_replacements;
pub mod apply_setters;
pub mod create_setters;
pub mod enable_gcp_services;
pub mod ensure_name_substring;
pub mod gatekeeper;
pub mod generate_folders;
pub mod js_yaml;
pub mod kubeconform;
pub mod releases;
pub mod remove_local_config_resources;
pub mod search_replace;
pub mod set_annotations;
pub mod set_enforcement_action;
pub mod set_image;
pub mod set_labels;
pub mod set_namespace;
pub mod set_project_id;
pub mod starlark;
pub mod upsert_resource;
pub mod util;

/// A catalog function resolved from an image reference.
#[derive(Debug, Clone)]
pub struct Function {
    /// The catalog name, e.g. `set-namespace`.
    pub name: &'static str,
    /// The tag of the image (`v0.4.1`, `unstable`, `latest` when none was given).
    pub tag: String,
    /// Processes a list as the release named by `tag` does.
    pub process: fn(&mut ResourceList),
    /// The release round-trips every object it is given through JSON, so under
    /// kpt every scalar and collection of its output is in go-yaml's default
    /// style (see [`restyles`]).
    pub restyles: bool,
    /// What the release runs over: its objects, or the ResourceList's text
    /// with kpt's ids in (see [`Over`]).
    pub over: Over,
    /// The SDK the release is built on, where its end of a run shows (see
    /// [`Sdk`]).
    pub sdk: Option<Sdk>,
}

/// What a release is given, as kpt runs its container.
#[derive(Debug, Clone, Copy)]
pub enum Over {
    /// The objects, kpt's ids off: what the release prints back is matched to
    /// what went in by kind, name and namespace (most releases).
    Objects,
    /// The ResourceList's text, ids in: the release reads or prints kpt's ids
    /// (ensure-name-substring takes them off, create-setters reads them, the
    /// Services of enable-gcp-services carry their set's), so kpt matches its
    /// output to its input by them, and callers must too (comments and field
    /// order restored by id after). It runs as [`Function::run`] over the
    /// parsed text.
    Text,
    /// The ResourceList's text, by a program of the release's own that prints
    /// every object afresh (Starlark's interpreter, whose stderr is what the
    /// script printed; the TypeScript SDK's reading and sorting).
    Program(fn(&str) -> krm_sdk::Outcome),
}

/// How a release built on one of kpt-functions-sdk's packages handles the
/// list around what the function itself does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    /// The Go `fn` package (`fn.AsMain`, go/fn/run.go):
    /// - `Run` gives the items back through `ResourceList.ToYAML`, which sorts
    ///   them first (`ResourceList.Sort`: `KubeObjects.Less` compares the
    ///   strings "apiVersion kind namespace name"), so `kpt fn render -o
    ///   stdout` lists a package's Kptfile after its `apps/v1` objects (kpt's
    ///   e2e cases `out-of-place-stdout` and `out-of-place-unwrap` at
    ///   v1.0.0-beta.67);
    /// - a run that fails (`Process` returning false, or an error) exits 1,
    ///   and from kpt-functions-sdk bf46a77c on ("print err to stderr in
    ///   AsMain", May 2022) `AsMain` prints `failed to evaluate function:
    ///   error: function failure` on stderr, which kpt records as the step's
    ///   stderr (e2e cases `no-fnconfig`, `kubeval-failure` at
    ///   v1.0.0-beta.67).
    GoFn {
        /// The release's SDK prints the failure on stderr.
        logs_failure: bool,
    },
    /// The TypeScript `kpt-functions` package (`Configs`, ts/kpt-functions
    /// `types.ts`): the objects read are kept in an array sorted by
    /// `kubernetesKey` ("apiVersion/kind/namespace/name"), one object per key
    /// (`insert`: a later object with the key replaces the earlier one), and
    /// the function walks and returns them in that order (kpt's e2e case
    /// fnresult-fn-failure at beta.56: kubeval's results for the Deployment,
    /// the Custom, then the Kptfile).
    Ts,
}

/// What `fn.AsMain` prints when `Run` ends with `success == false` (`Logf`,
/// no line break).
pub const GO_FN_FAILURE: &str = "failed to evaluate function: error: function failure";

impl Function {
    pub fn run(&self, list: &mut ResourceList) {
        if self.sdk == Some(Sdk::Ts) {
            ts_configs(list);
        }
        (self.process)(list);
        if let Some(Sdk::GoFn { .. }) = self.sdk {
            sort_items(list);
        }
        if self.restyles && !self.over_text() {
            // A release that failed prints what it read (kpt keeps none of it).
            let failed = list.failed();
            for item in &mut list.items {
                // kpt gives a list item its comments back only where its text
                // is the one that went in (kyaml `copier.VisitList` compares
                // `Value`): one JSON respells loses its own.
                let mut respelled = Vec::new();
                respelled_items(item.value(), String::new(), &mut respelled);
                let before = (!respelled.is_empty()).then(|| item.value().clone());
                item.update(json_numbers);
                if before.is_some_and(|before| before != *item.value()) {
                    let cleared: Vec<(String, String)> =
                        respelled.into_iter().map(|p| (p, String::new())).collect();
                    item.set_line_comments(&cleared);
                }
                if !failed {
                    restyle_text(item);
                }
            }
        }
    }

    /// Whether the release runs over the ResourceList's text, kpt's ids in
    /// (see [`Over`]).
    pub fn over_text(&self) -> bool {
        !matches!(self.over, Over::Objects)
    }

    /// What the release's container does to a list: [`Function::run`], then a
    /// restyling release's objects without their texts, as it prints them
    /// afresh from what the JSON round trip left (no comments, its styles;
    /// a release that failed prints what it read). In process they keep their
    /// texts, for the comments kpt gives back from the node that went in (see
    /// [`restyles`]).
    pub fn run_as_container(&self, list: &mut ResourceList) {
        self.run(list);
        if self.restyles && !list.failed() {
            for item in &mut list.items {
                let _: &mut Value = &mut *item;
            }
        }
    }

    /// The release over a ResourceList's text, as its container runs.
    pub fn filter(&self, input: &str) -> krm_sdk::Outcome {
        match self.over {
            Over::Program(program) => program(input),
            Over::Objects | Over::Text => krm_sdk::process_text(
                self.name,
                input,
                &krm_sdk::yaml::Limits::default(),
                |list| self.run_as_container(list),
            ),
        }
    }

    /// What the release prints on stderr after a run over `list`, as its
    /// container would (empty for most).
    pub fn stderr(&self, list: &ResourceList) -> &'static str {
        match self.sdk {
            Some(Sdk::GoFn { logs_failure: true }) if list.failed() => GO_FN_FAILURE,
            _ => "",
        }
    }
}

/// The object's text as kpt's node for it stands after a release that
/// round-trips it through JSON: every node built anew in go-yaml's default
/// styles, the comments and field order copied back (`comments.CopyComments`,
/// `order.SyncOrder`). A later step edits that node, so its styles are the
/// ones that stay: apply-setters reads a quoted value as a string, and a value
/// search-replace puts in takes the restyled node's quotes (fuzz seed i136
/// case 19, i135 case 142).
fn restyle_text(item: &mut krm_sdk::Item) {
    let Some(text) = item.source_text().map(krm_sdk::edit::unindent_item) else {
        return;
    };
    let restyled =
        kyaml_format::format_values_restyled_keeping_values(&[kyaml_format::FileDocument {
            original: kyaml_format::Original::Text(&text),
            value: item.value(),
            seq_indent: kyaml_format::derive_seq_indent(&text),
            restyled: kyaml_format::Restyle::All,
            changed: false,
            set_annotations: &[],
            set_anew: &[],
        }]);
    // A restyled text that does not read back as the value (none is known) is
    // not taken: the object keeps the styles it had, never other data.
    item.replace_text(&restyled, &krm_sdk::yaml::Limits::default());
}

/// Every number of `value` as a kustomize release before v0.2 gives it back
/// (kustomize api v0.7, see [`restyles`]): each object is read into a Kubernetes
/// `unstructured.Unstructured` (YAML to JSON, then apimachinery's
/// `util/json.Unmarshal`, which keeps a number that reads as an `int64` an
/// integer and makes the rest `float64`) and printed again (`AsYAML`: JSON to
/// YAML, go-yaml's `strconv.FormatFloat(f, 'g', -1, 64)` for a float). So `1e3`
/// and `1.0` come back `1000` and `1`, `1.10` `1.1`, `1.5e-7` `1.5e-07`, an
/// integer beyond 64 bits a float (`1.2345678901234567e+19`): the number the user
/// wrote, in Go's spelling (fuzz seed i1 case 4; under kpt, the function's
/// spelling stays, only comments and field order are restored).
fn json_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            let text = n.to_string();
            if let Ok(i) = text.parse::<i64>() {
                *value = Value::from(i);
            } else if let Ok(f) = text.parse::<f64>() {
                // encoding/json writes an integral float without a fraction, which
                // apimachinery then reads as an int64 when it fits.
                *value = if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                    Value::from(f as i64)
                } else {
                    starlark::go_float(f)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(json_numbers),
        Value::Object(map) => map.values_mut().for_each(json_numbers),
        _ => {}
    }
}

/// The JSON pointers of the list items [`json_numbers`] spells otherwise
/// (fuzz seed i131 case 21: `- 1.10  # c` came back `- 1.1`, without `# c`).
fn respelled_items(value: &Value, pointer: String, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, x) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                respelled_items(x, format!("{pointer}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let at = format!("{pointer}/{i}");
                if let Value::Number(_) = x {
                    let mut y = x.clone();
                    json_numbers(&mut y);
                    if y.to_string() != x.to_string() {
                        found.push(at);
                    }
                } else {
                    respelled_items(x, at, found);
                }
            }
        }
        _ => {}
    }
}

/// kpt-functions-sdk's `ResourceList.Sort`. Go's `sort.Sort` is not stable,
/// but sorts up to 12 items by insertion, which is: objects with the same
/// key keep their order here however many there are (a difference only for
/// more than 12 items two of which share apiVersion, kind, namespace and
/// name).
fn sort_items(list: &mut ResourceList) {
    use krm_sdk::ObjectExt;
    list.items.sort_by_cached_key(|item| {
        let o = item.value();
        format!(
            "{} {} {} {}",
            o.api_version(),
            o.kind(),
            o.namespace(),
            o.name()
        )
    });
}

/// The TypeScript SDK's `new Configs(items)`: sorted by `kubernetesKey`, the
/// last object of each key kept.
fn ts_configs(list: &mut ResourceList) {
    use krm_sdk::ObjectExt;
    let key = |item: &krm_sdk::Item| {
        let o = item.value();
        format!(
            "{}/{}/{}/{}",
            o.api_version(),
            o.kind(),
            o.namespace(),
            o.name()
        )
    };
    let mut keyed: Vec<(String, krm_sdk::Item)> = Vec::with_capacity(list.items.len());
    for item in std::mem::take(&mut list.items) {
        let k = key(&item);
        match keyed.binary_search_by(|(other, _)| other.as_str().cmp(&k)) {
            Ok(at) => keyed[at].1 = item,
            Err(at) => keyed.insert(at, (k, item)),
        }
    }
    list.items = keyed.into_iter().map(|(_, item)| item).collect();
}

/// Which releases are built on kpt-functions-sdk: its Go `fn` package (their
/// `main.go` calls `fn.AsMain`), and whether the SDK they pin in `go.mod`
/// prints the failure (kpt-functions-sdk bf46a77c, 2022-05-05, or later).
/// `latest`, `unstable` and other tags that are not versions are the newest
/// release. kubeconform is the catalog's untagged contrib function, whose
/// failure the newest kpt's e2e data records with `fn.AsMain`'s words; lummo
/// knows no source for the `gcr.io/kpt-fn/kubeconform:v0.1.1` image, left as
/// it was. kubeval is TypeScript, on the `kpt-functions` package.
fn sdk(name: &str, v: Option<(u32, u32, u32)>) -> Option<Sdk> {
    let since = |min: (u32, u32, u32)| v.is_none_or(|v| v >= min);
    let logs_from = |min| {
        Some(Sdk::GoFn {
            logs_failure: since(min),
        })
    };
    match name {
        // v0.3.0–v0.4.0 pin the SDK of April–May 2022 (no log), v0.4.1 that
        // of 2022-05-06.
        "set-namespace" if since((0, 3, 0)) => logs_from((0, 4, 1)),
        // v0.2.0 pins the SDK of 2022-10-14.
        "set-labels" if since((0, 2, 0)) => logs_from((0, 2, 0)),
        // v0.1.0 ran the catalog's own copy of the SDK
        // (thirdparty/kyaml/fnsdk, which sorts, never prints), v0.1.1 the SDK
        // of 2022-05-03; later builds (`latest`) that of August 2022.
        "set-image" => logs_from((0, 1, 2)),
        // v0.1.0 pins the SDK of 2022-03-29, v0.1.1 that of 2022-05-06.
        "apply-replacements" => logs_from((0, 1, 1)),
        "kubeconform" if v.is_none() => logs_from((0, 0, 0)),
        // Every release is functions/ts/kubeval on kpt-functions ^0.14.5.
        "kubeval" => Some(Sdk::Ts),
        _ => None,
    }
}

/// The registries kpt and the catalog publish under; a name without a registry is
/// expanded by kpt to the first one.
const PREFIXES: &[&str] = &["gcr.io/kpt-fn/", "ghcr.io/kptdev/krm-functions-catalog/"];

/// Every function this crate implements, by catalog name.
pub const NAMES: &[&str] = &[
    "set-namespace",
    "set-labels",
    "set-annotations",
    "set-image",
    "apply-setters",
    "upsert-resource",
    "remove-local-config-resources",
    "ensure-name-substring",
    "search-replace",
    "apply-replacements",
    "starlark",
    "create-setters",
    "kubeconform",
    "kubeval",
    "set-project-id",
    "enable-gcp-services",
    "set-enforcement-action",
    "gatekeeper",
    "generate-folders",
];

/// The catalog name and tag of an image reference, when it names the catalog:
/// `gcr.io/kpt-fn/<name>:<tag>`, `ghcr.io/kptdev/krm-functions-catalog/<name>:<tag>`
/// or `<name>:<tag>` (which kpt expands to gcr.io/kpt-fn). A digest is ignored.
pub fn parse_image(image: &str) -> Option<(&str, &str)> {
    let image = image.split('@').next().unwrap_or(image);
    let rest = PREFIXES
        .iter()
        .find_map(|p| image.strip_prefix(p))
        .or_else(|| (!image.contains('/')).then_some(image))?;
    if rest.contains('/') || rest.is_empty() {
        return None;
    }
    Some(match rest.split_once(':') {
        Some((name, tag)) => (name, tag),
        None => (rest, "latest"),
    })
}

/// A release version `vX.Y.Z`; `None` for `unstable`, `latest` and the like,
/// which mean the newest behaviour. A floating tag (`vX.Y`, `vX`: the catalog
/// moves it to each release of its line, `gcr.io/kpt-fn/set-labels:v0.1` is
/// v0.1.5) reads as the newest release of its line: its missing parts as
/// `u32::MAX`.
pub fn version(tag: &str) -> Option<(u32, u32, u32)> {
    let mut parts = tag.strip_prefix('v')?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(u32::MAX), |p| p.parse().ok())?;
    let patch = match (minor, parts.next()) {
        (u32::MAX, _) | (_, None) => u32::MAX,
        (_, Some(p)) => p.split('-').next()?.parse().ok()?,
    };
    Some((major, minor, patch))
}

/// The catalog function an image names, with the behaviour of its tag.
pub fn lookup(image: &str) -> Option<Function> {
    let (name, tag) = parse_image(image)?;
    let v = version(tag);
    let before = |major: u32, minor: u32| v.is_some_and(|(a, b, _)| (a, b) < (major, minor));
    let (name, process): (&'static str, fn(&mut ResourceList)) = match name {
        // v0.1 and v0.2 were kustomize's namespace transformer (set-namespace/v0.2.0
        // still has namespace_transformer.go, `IncludeLocalConfigs = true`); v0.3
        // and later are the rewrite (transformer/namespace.go).
        "set-namespace" if before(0, 3) => ("set-namespace", set_namespace::process_v0_1),
        "set-namespace" if tag == "unstable" => ("set-namespace", set_namespace::process_unstable),
        "set-namespace" => ("set-namespace", set_namespace::process),
        // v0.1 was kustomize's commonLabels transformer (creates selectors and templates).
        "set-labels" if before(0, 2) && !v.is_some_and(|v| v >= (0, 1, 5)) => {
            ("set-labels", set_labels::process_v0_1)
        }
        // v0.1.5 also takes `SetLabels` configs.
        "set-labels" if before(0, 2) => ("set-labels", set_labels::process_v0_1_5),
        "set-labels" => ("set-labels", set_labels::process),
        // v0.1.3 round-tripped objects through a kustomize resmap (styles lost),
        // v0.1.4 edits the nodes in place: `restyles` tells them apart.
        "set-annotations" if before(0, 2) => ("set-annotations", set_annotations::process_v0_1),
        "set-annotations" => ("set-annotations", set_annotations::process),
        "set-image" => ("set-image", set_image::process),
        "apply-setters" => ("apply-setters", apply_setters::process),
        // It takes kpt's ids off every object, so kpt cannot match what it
        // prints to what went in: no comments restored, a document's head or
        // foot the function never saw lost (fuzz seed i110 case 97). It runs
        // over the ResourceList's text, as kpt runs its container.
        "ensure-name-substring" => {
            return Some(Function {
                name: "ensure-name-substring",
                tag: tag.to_string(),
                process: ensure_name_substring::process,
                restyles: false,
                over: Over::Text,
                sdk: None,
            })
        }
        // v0.1.0/v0.1.1 were built on kustomize api v0.10.1.
        "apply-replacements" if v.is_some_and(|v| v < (0, 1, 2)) => {
            ("apply-replacements", apply_replacements::process_v0_1)
        }
        "apply-replacements" => ("apply-replacements", apply_replacements::process),
        "search-replace" => ("search-replace", search_replace::process),
        // It reads every field of every object, kpt's id annotations
        // included: a setter whose value is an object's id marks that
        // annotation too, and says so in its results (fuzz seed i110 case 71).
        // It runs over the ResourceList's text, ids in, as kpt runs it.
        "create-setters" => {
            return Some(Function {
                name: "create-setters",
                tag: tag.to_string(),
                process: create_setters::process,
                restyles: false,
                over: Over::Text,
                sdk: None,
            })
        }
        "kubeconform" => ("kubeconform", kubeconform::process),
        // The catalog documents kubeval's config as kubeconform's; every
        // release's image ran instrumenta/kubeval v0.16.1 (gojsonschema),
        // whose checks and words `process_kubeval` gives.
        "kubeval" => ("kubeval", kubeconform::process_kubeval),
        // v0.1.0 adds apply-setters v0.1 to a Kptfile without it, v0.2.0 v0.2;
        // a Kptfile printed afresh gets its comments back by kpt's ids.
        "set-project-id" => {
            let process: fn(&mut ResourceList) = if before(0, 2) {
                set_project_id::process_v0_1
            } else {
                set_project_id::process
            };
            return Some(Function {
                name: "set-project-id",
                tag: tag.to_string(),
                process,
                restyles: false,
                over: Over::Text,
                sdk: None,
            });
        }
        "set-enforcement-action" => ("set-enforcement-action", set_enforcement_action::process),
        // v0.2.1 decodes every ConstraintTemplate version; before it only v1beta1
        // (`v0.2` is the newest v0.2 release, v0.2.1).
        "gatekeeper" if before(0, 2) || tag == "v0.2.0" => ("gatekeeper", gatekeeper::process_v0_1),
        "gatekeeper" => ("gatekeeper", gatekeeper::process),
        // The Services it adds carry their set's id annotations: it runs over the
        // ResourceList's text so that kpt's id step lends them the set's comments.
        "enable-gcp-services" => {
            return Some(Function {
                name: "enable-gcp-services",
                tag: tag.to_string(),
                process: enable_gcp_services::process,
                restyles: false,
                over: Over::Text,
                sdk: None,
            })
        }
        // TypeScript on the kpt-functions SDK, which prints every object of the
        // list afresh with js-yaml: it runs over the ResourceList's text.
        "generate-folders" => {
            return Some(Function {
                name: "generate-folders",
                tag: tag.to_string(),
                process: generate_folders::process,
                restyles: false,
                over: Over::Program(generate_folders::filter),
                // The TypeScript SDK's sorting is the filter's own.
                sdk: None,
            });
        }
        "upsert-resource" => ("upsert-resource", upsert_resource::process),
        "remove-local-config-resources" => (
            "remove-local-config-resources",
            remove_local_config_resources::process,
        ),
        "starlark" => {
            let (process, filter): (fn(&mut ResourceList), fn(&str) -> krm_sdk::Outcome) =
                match crate::starlark::Release::of(v) {
                    crate::starlark::Release::V0_2 => {
                        (crate::starlark::process_v0_2, crate::starlark::filter_v0_2)
                    }
                    crate::starlark::Release::V0_3 => {
                        (crate::starlark::process_v0_3, crate::starlark::filter_v0_3)
                    }
                    crate::starlark::Release::V0_4 => {
                        (crate::starlark::process, crate::starlark::filter_v0_4)
                    }
                };
            return Some(Function {
                name: "starlark",
                tag: tag.to_string(),
                process,
                restyles: restyles("starlark", v),
                over: Over::Program(filter),
                // The whole list goes through its filter (its own output).
                sdk: None,
            });
        }
        _ => return None,
    };
    Some(Function {
        name,
        tag: tag.to_string(),
        process,
        restyles: restyles(name, v),
        over: Over::Objects,
        sdk: sdk(name, v),
    })
}

/// Whether a release of a catalog function gives back every object it is given
/// restyled: the one place that decides it. The releases built on kustomize's
/// filters through kyaml's `filtersutil.ApplyToJSON` (kustomize kyaml
/// `filtersutil/filtersutil.go`) marshal each object to JSON and read it back
/// (`RNode.UnmarshalJSON`: `yaml.FromMap`), which builds new nodes in go-yaml's
/// default styles (quotes only where needed, block collections, keys sorted).
/// kpt's `FunctionFilter` (kyaml `fn/runtime/runtimeutil/runtimeutil.go`) then
/// copies the comments (`comments.CopyComments`) and the field order
/// (`order.SyncOrder`) of each input object back, never its styles: kpt's e2e
/// cases `out-of-place-stdout` and `out-of-place-fnchain-stdout` print the
/// reader's annotations `"0"` and `Kptfile` where a style-keeping step leaves
/// kpt's `'0'` and `'Kptfile'`.
///
/// Which releases (kptdev/krm-functions-catalog, tags `<fn>/vX.Y.Z`):
/// - set-labels v0.1.3-v0.1.5, set-namespace v0.1.0-v0.2.0: their
///   `Transform` calls `filtersutil.ApplyToJSON(labels.Filter{..}, r)` (resp.
///   `namespace.Filter`). v0.1.5, set-namespace v0.1.4 and v0.2.0 moved to
///   kustomize api v0.8.11-0.20210614195535 (go.mod), whose `resource.Resource`
///   embeds a `kyaml.RNode`, but `ApplyToJSON` still goes through
///   `RNode.MarshalJSON`/`UnmarshalJSON` (kyaml v0.10.21), and
///   `ToRNodeSlice` hands back the rebuilt nodes: restyled. kpt's e2e case
///   `fn-render/save-on-render-failure/bfs-deep-nested-middle-fails` (kpt
///   before 42fc54a5, ghcr.io/.../set-labels:v0.1.5) records the Kptfile's
///   `level: "root"` becoming `level: root`.
/// - set-annotations v0.1.3 (kustomize api v0.7.2): `r.ApplyFilter`, which for
///   a kunstruct-backed resource (`NewKunstructuredFactoryImpl`) is
///   `filtersutil.ApplyToJSON` (api `resource/resource.go`): restyled.
/// - set-annotations v0.1.4 (api v0.8.11-0.20210614195535): `r.ApplyFilter`
///   runs the filter on the resource's own `RNode` (`f.Filter([]*RNode{&r.RNode})`)
///   and `ToRNodeSlice` copies the nodes (`RNode.Copy`): styles kept.
/// - Later releases (kpt-functions-sdk `fn`) and the other functions edit the
///   objects' nodes in place and keep every style.
///
/// The starlark function, every release, turns the objects into Go values and
/// prints them back from Go maps (`starlark::from_starlark`): restyled too.
/// A floating tag `vX.Y` is the newest release of its line, as [`lookup`]
/// reads it ([`version`]).
pub fn restyles(name: &str, version: Option<(u32, u32, u32)>) -> bool {
    let before = |v: (u32, u32, u32)| version.is_some_and(|version| version < v);
    name == "starlark"
        || before((0, 2, 0)) && name == "set-labels"
        || before((0, 1, 4)) && name == "set-annotations"
        || before((0, 3, 0)) && name == "set-namespace"
}

/// Which catalog function an image names that lummo does not run in process,
/// for the error of a step that cannot run (`catalog function `x` is not built
/// in`); `None` when [`lookup`] finds it or the image is not the catalog's.
pub fn unsupported(image: &str) -> Option<String> {
    let (name, _) = parse_image(image)?;
    if lookup(image).is_some() {
        return None;
    }
    Some(format!(
        "catalog function `{name}` is not built in (lummo has no in-process version of it)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz seed i131 case 21: a release that round-trips its objects through
    /// JSON gives `- 1.10  # c` back as `- 1.1`, and kpt gives the list item
    /// its comment back only where its text is the same; a mapping's value
    /// respelled so keeps its own.
    #[test]
    fn a_list_item_json_respells_loses_its_line_comment() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nspec:\n  l:\n  - 1.10  # respelled\n  - 2  # same\n  - a: 1.10  # in a mapping\n  v: 1.10  # on a key\n";
        let value = krm_sdk::yaml::parse_documents(text, &krm_sdk::yaml::Limits::default())
            .unwrap()
            .remove(0);
        let item =
            krm_sdk::Item::from_document(text, &value, &krm_sdk::yaml::Limits::default()).unwrap();
        let mut list = ResourceList::parse(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n  data:\n    namespace: b\n",
            &krm_sdk::yaml::Limits::default(),
        )
        .unwrap();
        list.items.push(item);
        lookup("gcr.io/kpt-fn/set-namespace:v0.2.0")
            .unwrap()
            .run(&mut list);
        let text = list.items[0].source_text().unwrap().to_string();
        assert!(
            // (the text of a ResourceList's item: indented by two, restyled
            // as go-yaml writes a node: one space before a line comment)
            text.contains("    l:\n    - 1.1\n    - 2 # same\n    - a: 1.1 # in a mapping\n"),
            "{text}"
        );
        assert!(text.contains("    v: 1.1 # on a key"), "{text}");
    }

    /// Fuzz seed i136 case 19: after a release that restyles, kpt's node for
    /// `'kpt'` is plain, so apply-setters v0.2.1 reads it as not quoted and
    /// gives the value `5` the type its text reads as (a number), as kpt
    /// writes it; the text the release kept said the field was quoted.
    #[test]
    fn a_setter_reads_the_styles_a_restyling_release_left() {
        let mut list = ResourceList::parse(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: # kept\n    name: a\n    annotations:\n      tier: 'kpt' # kpt-set: ${tier}\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n  data:\n    team: shop\n",
            &krm_sdk::yaml::Limits::default(),
        )
        .unwrap();
        lookup("gcr.io/kpt-fn/set-annotations:v0.1.3")
            .unwrap()
            .run(&mut list);
        let text = list.items[0].source_text().unwrap().to_string();
        assert!(text.contains("metadata: # kept\n"), "{text}");
        assert!(text.contains("tier: kpt # kpt-set: ${tier}\n"), "{text}");
        list.function_config = Some(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "setters"},
            "data": {"tier": "5"}
        }));
        lookup("gcr.io/kpt-fn/apply-setters:v0.2.1")
            .unwrap()
            .run(&mut list);
        assert_eq!(
            list.items[0].value()["metadata"]["annotations"]["tier"],
            serde_json::json!(5)
        );
    }

    /// Fuzz seed i1 case 4: set-annotations v0.1.3 in process gave back `1e3`
    /// where the release (and the same binary under kpt) gives `1000`.
    #[test]
    fn the_kustomize_releases_give_numbers_back_in_gos_spelling() {
        let function = lookup("gcr.io/kpt-fn/set-annotations:v0.1.3").unwrap();
        let mut list = ResourceList::parse(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  spec:\n    a: 1e3\n    b: 1.10\n    c: 0755\n    d: 1.0\n    e: -0\n    f: 1.5e-7\n    g: 12345678901234567890\n    h: 1000000\n    i: 1e21\n    j: '1e3'\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n  data:\n    team: shop\n",
            &krm_sdk::yaml::Limits::default(),
        )
        .unwrap();
        function.run(&mut list);
        let spec = list.items[0].value()["spec"].clone();
        let texts: Vec<String> = spec
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(
            texts,
            [
                "1000",
                "1.1",
                "493",
                "1",
                "0",
                "1.5e-07",
                "1.2345678901234567e+19",
                "1000000",
                "1e+21",
                "\"1e3\""
            ]
        );
        // A release that edits the nodes in place keeps the user's spelling:
        // v0.1.4 too (kustomize api v0.8.11's `Resource.ApplyFilter`).
        for image in [
            "gcr.io/kpt-fn/set-annotations:v0.2.0",
            "gcr.io/kpt-fn/set-annotations:v0.1.4",
        ] {
            let function = lookup(image).unwrap();
            let mut list = ResourceList::new(vec![krm_sdk::json!({"kind": "A", "n": 1})]);
            list.items[0].update(|v| v["n"] = serde_json::from_str("1e3").unwrap());
            let before = list.items[0].value()["n"].to_string();
            function.run(&mut list);
            assert_eq!(list.items[0].value()["n"].to_string(), before, "{image}");
            assert_ne!(before, "1000");
        }
    }

    #[test]
    fn only_the_kustomize_releases_restyle() {
        for image in [
            "gcr.io/kpt-fn/set-namespace:v0.1.3",
            "set-labels:v0.1.4",
            "gcr.io/kpt-fn/set-annotations:v0.1.3",
            // the newest v0.1 release, v0.1.5
            "gcr.io/kpt-fn/set-labels:v0.1",
            // Still `filtersutil.ApplyToJSON` on kustomize api v0.8.11 (fuzz
            // seed i98 case 40, set-labels-v0.1.5-ghcr-restyles-kptfile).
            "ghcr.io/kptdev/krm-functions-catalog/set-labels:v0.1.5",
            "gcr.io/kpt-fn/set-namespace:v0.1.4",
            "ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.2.0",
        ] {
            assert!(lookup(image).unwrap().restyles, "{image}");
        }
        for image in [
            "gcr.io/kpt-fn/set-namespace:v0.3.0",
            "gcr.io/kpt-fn/set-labels:v0.2.0",
            "gcr.io/kpt-fn/set-annotations:v0.1.4",
            // a floating tag is the newest release of its line: v0.1.4
            "gcr.io/kpt-fn/set-annotations:v0.1",
            "ghcr.io/kptdev/krm-functions-catalog/set-annotations:v0.1.4",
            "gcr.io/kpt-fn/set-namespace:latest",
            "gcr.io/kpt-fn/apply-setters:v0.1.1",
            "gcr.io/kpt-fn/set-image:v0.1.1",
        ] {
            assert!(!lookup(image).unwrap().restyles, "{image}");
        }
    }

    #[test]
    fn resolves_every_spelling_of_an_image() {
        for image in [
            "gcr.io/kpt-fn/set-namespace:v0.4.1",
            "ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.4.1",
            "set-namespace:v0.4.1",
            // The newest kpt's tag with a digest: the tag names the release.
            "ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.4.1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            let f = lookup(image).unwrap();
            assert_eq!((f.name, f.tag.as_str()), ("set-namespace", "v0.4.1"));
            assert_eq!(
                kptfile_namespace(&f),
                None,
                "v0.4 leaves local config alone"
            );
        }
        let old = lookup("set-namespace:v0.1.3").unwrap();
        assert_eq!(
            kptfile_namespace(&old).as_deref(),
            Some("prod"),
            "v0.1 sets it on the Kptfile"
        );
        assert_eq!(lookup("gcr.io/kpt-fn/set-labels").unwrap().tag, "latest");
        assert!(lookup("gcr.io/other/set-namespace:v0.1").is_none());
        assert!(lookup("gcr.io/kpt-fn/not-exist:v0.1").is_none());
        assert_eq!(unsupported("gcr.io/kpt-fn/starlark:v0.4"), None);
        assert_eq!(unsupported("gcr.io/kpt-fn/kubeconform:v0.1"), None);
        assert_eq!(unsupported("gcr.io/kpt-fn/gatekeeper:v0.2"), None);
        assert_eq!(unsupported("gcr.io/kpt-fn/generate-folders:v0.1"), None);
        assert!(unsupported("ghcr.io/kptdev/krm-functions-catalog/no-op")
            .unwrap()
            .contains("`no-op` is not built in"));
        assert_eq!(
            unsupported("nginx:1.2").as_deref(),
            Some(
                "catalog function `nginx` is not built in (lummo has no in-process version of it)"
            )
        );
        assert_eq!(unsupported("gcr.io/other/nginx:1.2"), None);
    }

    /// The namespace the function gives a Kptfile (which is local config).
    fn kptfile_namespace(f: &Function) -> Option<String> {
        let mut list = ResourceList::new(vec![krm_sdk::json!({
            "apiVersion": "kpt.dev/v1", "kind": "Kptfile",
            "metadata": {"name": "app", "annotations": {"config.kubernetes.io/local-config": "true"}}
        })]);
        list.function_config = Some(
            krm_sdk::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"namespace": "prod"}}),
        );
        f.run(&mut list);
        list.items[0]
            .pointer("/metadata/namespace")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// kpt's e2e cases out-of-place-stdout (beta.67: the Kptfile last) and
    /// no-fnconfig (beta.67: set-labels fails with an info and the SDK's line).
    #[test]
    fn releases_on_the_go_sdk_sort_and_fail_as_it_does() {
        let objects = || {
            vec![
                krm_sdk::json!({"apiVersion": "kpt.dev/v1", "kind": "Kptfile", "metadata": {"name": "app"}}),
                krm_sdk::json!({"apiVersion": "custom.io/v1", "kind": "Custom", "metadata": {"name": "custom"}}),
                krm_sdk::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "b"}}),
                krm_sdk::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "x"}}),
            ]
        };
        let names = |image: &str| {
            let mut list = ResourceList::new(objects());
            list.function_config = Some(krm_sdk::json!({
                "apiVersion": "v1", "kind": "ConfigMap", "data": {"namespace": "x"}
            }));
            lookup(image).unwrap().run(&mut list);
            list.items
                .iter()
                .map(|i| krm_sdk::ObjectExt::name(i.value()).to_string())
                .collect::<Vec<_>>()
        };
        // Both Deployments in namespace x now: "apps/v1 Deployment x a" first.
        assert_eq!(
            names("ghcr.io/kptdev/krm-functions-catalog/set-namespace:latest"),
            ["a", "b", "custom", "app"]
        );
        assert_eq!(
            names("gcr.io/kpt-fn/set-namespace:v0.3.0"),
            ["a", "b", "custom", "app"]
        );
        // v0.2 was kustomize's transformer: the order kept.
        assert_eq!(
            names("gcr.io/kpt-fn/set-namespace:v0.2.0"),
            ["app", "custom", "b", "a"]
        );

        let latest = lookup("ghcr.io/kptdev/krm-functions-catalog/set-labels:latest").unwrap();
        let mut list = ResourceList::new(objects());
        latest.run(&mut list);
        assert!(list.failed() && !list.has_errors());
        assert_eq!(
            list.results,
            [krm_sdk::ResultItem::info("`FunctionConfig` is not given")]
        );
        assert_eq!(
            latest.stderr(&list),
            "failed to evaluate function: error: function failure"
        );
        // Nothing but local config: "no input resources", a success.
        let mut list = ResourceList::new(vec![krm_sdk::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {"config.kubernetes.io/local-config": "true"}}
        })]);
        latest.run(&mut list);
        assert!(!list.failed());
        assert_eq!(list.results.len(), 2);
        assert_eq!(latest.stderr(&list), "");

        // Before the SDK printed its failure (May 2022), and kustomize's releases.
        for image in [
            "gcr.io/kpt-fn/set-namespace:v0.4.0",
            "gcr.io/kpt-fn/set-namespace:v0.2.0",
        ] {
            let f = lookup(image).unwrap();
            let mut list = ResourceList::new(objects());
            f.run(&mut list);
            assert!(list.failed(), "{image}: no namespace given");
            assert_eq!(f.stderr(&list), "", "{image}");
        }
        let f = lookup("gcr.io/kpt-fn/set-namespace:v0.4.1").unwrap();
        let mut list = ResourceList::new(objects());
        f.run(&mut list);
        assert_eq!(f.stderr(&list), GO_FN_FAILURE);
    }

    /// kpt-functions (TypeScript) `Configs`: sorted by key, one per key.
    #[test]
    fn kubeval_walks_the_objects_as_the_typescript_sdk_keeps_them() {
        let mut list = ResourceList::new(vec![
            krm_sdk::json!({"apiVersion": "kpt.dev/v1", "kind": "Kptfile", "metadata": {"name": "app"}}),
            krm_sdk::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"n": "1"}}),
            krm_sdk::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": "3"}}),
            krm_sdk::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"n": "2"}}),
        ]);
        list.function_config = Some(krm_sdk::json!({
            "apiVersion": "v1", "kind": "ConfigMap", "data": {"ignore_missing_schemas": "true"}
        }));
        lookup("gcr.io/kpt-fn/kubeval:v0.1.1")
            .unwrap()
            .run(&mut list);
        let kinds: Vec<String> = list
            .items
            .iter()
            .map(|i| format!("{}", krm_sdk::ObjectExt::kind(i.value())))
            .collect();
        assert_eq!(kinds, ["Deployment", "Kptfile", "ConfigMap"]);
        assert_eq!(list.items[2].value()["data"]["n"], "2");
        let messages: Vec<&str> = list.results.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "selector is required",
                "template is required",
                "Invalid type. Expected: [integer,null], given: string"
            ]
        );
    }

    #[test]
    fn reads_versions() {
        assert_eq!(version("v0.1.3"), Some((0, 1, 3)));
        assert_eq!(version("v0.1"), Some((0, 1, u32::MAX)));
        assert_eq!(version("v1"), Some((1, u32::MAX, u32::MAX)));
        assert_eq!(version("unstable"), None);
    }
}
