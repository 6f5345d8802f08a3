//! `generate-folders`: Config Connector `Folder`s for each `ResourceHierarchy`,
//! as GoogleContainerTools/kpt-functions-catalog
//! `functions/ts/generate-folders/src/generate_folders.ts` does at its only tag,
//! `generate-folders/v0.1.1` (the image `generate-folders:v0.1`), on the
//! kpt-functions TypeScript SDK 0.16.1 (`run.ts`, `types.ts`, `io.ts`,
//! `result.ts`, `metadata.ts`).
//!
//! The SDK reads the whole list into `Configs`, which keeps the objects sorted
//! by `<apiVersion>/<kind>/<namespace>/<name>` (one per key, the last wins), and
//! prints every object afresh with js-yaml ([`crate::js_yaml`]), so the function
//! runs over the ResourceList's text ([`filter`]), as kpt runs its container.
//!
//! - `cft.dev/v1alpha1` hierarchies (first, in list order): a warning to
//!   upgrade, then one Folder per name of each layer (`spec.layers`, names from
//!   `spec.config.<layer>`) under every Folder of the layer above, the top
//!   layer's with the annotation `cnrm.cloud.google.com/organization-id` (the
//!   normalized `spec.organization`), the others `cnrm.cloud.google.com/folder-ref`
//!   (the parent's name); a layer without config is an error result and no
//!   Folder of that hierarchy.
//! - `blueprints.cloud.google.com/v1alpha3`, then `cft.dev/v1alpha2` (with a
//!   warning to upgrade): `spec.parentRef.external` must be set (else an error
//!   result) and `spec.parentRef.kind`, when set, `Organization` or `Folder`;
//!   `spec.config` is a tree of names (a string, or a one-key map to a list of
//!   children or to `{$subtree: <name>}` of `spec.subtrees`; a missing subtree is
//!   an error result). Each node becomes a Folder named by its path joined with
//!   `.` and normalized (lower case, quotes dropped, `_` and space to `-`, then
//!   only `[a-z0-9.-]`), `spec.displayName` the name as written, the
//!   hierarchy's namespace and annotations but kpt's and local-config; v3 refers
//!   to its parent with `organizationRef`/`folderRef` `external` (top level) or
//!   `folderRef.name`, v2 with the annotations above.
//!
//! A function that throws (a field of the wrong type) ends as the SDK's `run`
//! does: exit code 2, nothing printed on stdout, the exception on stderr (its
//! first line: V8's message, without the container's stack).

use crate::js_yaml::{self, Js, Obj};
use krm_sdk::yaml::Limits;
use krm_sdk::{Outcome, ResourceList, ResultItem};

const FOLDER_API_VERSION: &str = "resourcemanager.cnrm.cloud.google.com/v1beta1";
const V1: &str = "cft.dev/v1alpha1";
const V2: &str = "cft.dev/v1alpha2";
const V3: &str = "blueprints.cloud.google.com/v1alpha3";

const PATH: &str = "internal.config.kubernetes.io/path";
const INDEX: &str = "internal.config.kubernetes.io/index";
const ID: &str = "internal.config.kubernetes.io/id";
const LEGACY_PATH: &str = "config.kubernetes.io/path";
const LEGACY_INDEX: &str = "config.kubernetes.io/index";
const LEGACY_ID: &str = "config.k8s.io/id";
const ANNOTATION_PREFIX: &str = "internal.config.kubernetes.io";
/// The SDK's own mark for reconciling kpt's annotations (`run.ts`).
const RESOURCE_ID: &str = "internal.kubernetes.io/annotations-migration-resource-id";

/// What `run` ends with when the function (or the SDK) throws.
type Thrown = String;

/// The function over a ResourceList's text, as its container runs.
pub fn filter(input: &str) -> Outcome {
    match run(input) {
        Ok((stdout, failed)) => Outcome {
            stdout,
            stderr: String::new(),
            exit_code: u8::from(failed),
        },
        Err(thrown) => Outcome {
            stdout: String::new(),
            stderr: format!("{thrown}\n"),
            exit_code: 2,
        },
    }
}

/// The function over a parsed list: its text through [`filter`], read back.
pub fn process(list: &mut ResourceList) {
    let outcome = filter(&list.write());
    if outcome.exit_code == 2 {
        list.results
            .push(ResultItem::error(outcome.stderr.trim_end().to_string()));
        return;
    }
    match ResourceList::parse(&outcome.stdout, &Limits::default()) {
        Ok(out) => {
            list.items = out.items;
            list.results.extend(out.results);
        }
        Err(e) => list.results.push(ResultItem::error(e.to_string())),
    }
}

/// `Configs`: objects sorted by their key (UTF-16 order, as JavaScript compares
/// strings), one per key.
struct Configs {
    objects: Vec<(Vec<u16>, Js)>,
    results: Vec<Js>,
}

fn kubernetes_key(o: &Js) -> Result<Vec<u16>, Thrown> {
    let metadata = o.prop("metadata")?;
    let namespace = metadata.prop("namespace")?;
    let namespace = if namespace.truthy() {
        namespace.to_js_string()
    } else {
        String::new()
    };
    Ok(format!(
        "{}/{}/{}/{}",
        o.prop("apiVersion")?.to_js_string(),
        o.prop("kind")?.to_js_string(),
        namespace,
        metadata.prop("name")?.to_js_string()
    )
    .encode_utf16()
    .collect())
}

impl Configs {
    fn insert(&mut self, o: Js) -> Result<(), Thrown> {
        let key = kubernetes_key(&o)?;
        match self.objects.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => self.objects[i].1 = o,
            Err(i) => self.objects.insert(i, (key, o)),
        }
        Ok(())
    }
    fn get(&self, api_version: &str) -> Vec<Js> {
        self.objects
            .iter()
            .map(|(_, o)| o)
            .filter(|o| is_hierarchy(o, api_version))
            .cloned()
            .collect()
    }
}

fn is_hierarchy(o: &Js, api_version: &str) -> bool {
    o.truthy()
        && o.prop("apiVersion").ok().as_ref().and_then(Js::as_str) == Some(api_version)
        && o.prop("kind").ok().as_ref().and_then(Js::as_str) == Some("ResourceHierarchy")
}

fn run(input: &str) -> Result<(String, bool), Thrown> {
    let documents = krm_sdk::yaml::parse_documents(input, &Limits::default())
        .map_err(|e| format!("YAMLException: {e}"))?;
    let list = documents
        .first()
        .map_or(Js::Obj(Obj::new()), Js::from_value);
    let items = match list.prop("items")? {
        Js::Undefined => Vec::new(),
        items => items.iter_items()?,
    };
    let mut configs = Configs {
        objects: Vec::new(),
        results: Vec::new(),
    };
    for item in items {
        configs.insert(item)?;
    }
    let originals = preprocess(&mut configs)?;
    generate_folders(&mut configs)?;
    reconcile(&mut configs, &originals)?;

    let failed = configs
        .results
        .iter()
        .any(|r| r.prop("severity").ok() == Some(Js::str("error")));
    let mut output = Obj::new();
    output.set("apiVersion", Js::str("config.kubernetes.io/v1"));
    output.set("kind", Js::str("ResourceList"));
    let mut metadata = Obj::new();
    metadata.set("name", Js::str("output"));
    output.set("metadata", Js::Obj(metadata));
    output.set(
        "items",
        Js::Arr(configs.objects.into_iter().map(|(_, o)| o).collect()),
    );
    if !configs.results.is_empty() {
        output.set("results", Js::Arr(configs.results));
    }
    Ok((js_yaml::dump(&Js::Obj(output)), failed))
}

trait Items {
    fn iter_items(&self) -> Result<Vec<Js>, Thrown>;
}

impl Items for Js {
    /// `items.forEach` inside `insert(...input)`: an array's elements.
    fn iter_items(&self) -> Result<Vec<Js>, Thrown> {
        match self {
            Js::Arr(a) => Ok(a.clone()),
            Js::Null => Ok(Vec::new()),
            other => other.iterate("input"),
        }
    }
}

// ---- the SDK's annotation bookkeeping (run.ts) ----

fn annotations_mut(o: &mut Js) -> Option<&mut Obj> {
    match o {
        Js::Obj(o) => match o.get_mut("metadata") {
            Some(Js::Obj(m)) => match m.get_mut("annotations") {
                Some(Js::Obj(a)) => Some(a),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

fn annotation(o: &Js, key: &str) -> Js {
    o.prop("metadata")
        .and_then(|m| m.prop("annotations"))
        .map(|a| {
            if a.truthy() {
                a.prop(key).unwrap_or(Js::Undefined)
            } else {
                Js::Undefined
            }
        })
        .unwrap_or(Js::Undefined)
}

/// `addAnnotation`: `metadata.annotations = Object.assign(annotations || {}, {key: value})`.
fn add_annotation(o: &mut Js, key: &str, value: Js) -> Result<(), Thrown> {
    let Js::Obj(obj) = o else {
        return Err(format!(
            "TypeError: Cannot set properties of {} (setting 'annotations')",
            o.to_js_string()
        ));
    };
    let Some(Js::Obj(metadata)) = obj.get_mut("metadata") else {
        return Err(
            "TypeError: Cannot read properties of undefined (reading 'annotations')".into(),
        );
    };
    let mut annotations = match metadata.get("annotations") {
        Some(Js::Obj(a)) => a.clone(),
        _ => Obj::new(),
    };
    annotations.set(key, value);
    metadata.set("annotations", Js::Obj(annotations));
    Ok(())
}

/// `removeAnnotation`: deletes a truthy value, then an empty `annotations`.
fn remove_annotation(o: &mut Js, key: &str) {
    if let Some(a) = annotations_mut(o) {
        if a.get(key).is_some_and(Js::truthy) {
            a.remove(key);
        }
        if a.is_empty() {
            if let Js::Obj(obj) = o {
                if let Some(Js::Obj(m)) = obj.get_mut("metadata") {
                    m.remove("annotations");
                }
            }
        }
    }
}

fn internal_annotations(o: &Js) -> Obj {
    let mut m = Obj::new();
    if let Ok(Js::Obj(a)) = o.prop("metadata").and_then(|m| m.prop("annotations")) {
        for (k, v) in a.entries() {
            if k.starts_with(ANNOTATION_PREFIX)
                || [LEGACY_PATH, LEGACY_INDEX, LEGACY_ID].contains(&k)
            {
                m.set(k, v.clone());
            }
        }
    }
    m
}

const VALUE_MISMATCH: &str = "Error: the legacy and internal annotation values mismatch";
const FORMAT_MISMATCH: &str = "Error: the legacy and internal annotation formats mismatch";

fn check_mismatch(o: &Js) -> Result<(), Thrown> {
    for (new, legacy) in [(PATH, LEGACY_PATH), (INDEX, LEGACY_INDEX), (ID, LEGACY_ID)] {
        let (a, b) = (annotation(o, new), annotation(o, legacy));
        if a.truthy() && b.truthy() && a != b {
            return Err(VALUE_MISMATCH.into());
        }
    }
    Ok(())
}

/// `preprocessResourceForInternalAnnotationsMigration`.
fn preprocess(configs: &mut Configs) -> Result<Vec<Obj>, Thrown> {
    let mut originals = Vec::new();
    for (id, (_, o)) in configs.objects.iter_mut().enumerate() {
        add_annotation(o, RESOURCE_ID, Js::Str(id.to_string()))?;
        originals.push(internal_annotations(o));
        check_mismatch(o)?;
    }
    Ok(originals)
}

fn get(m: &Obj, key: &str) -> Js {
    m.get(key).cloned().unwrap_or(Js::Undefined)
}

/// `determineAnnotationFormat`: whether to keep the internal and the legacy
/// spellings.
fn annotation_format(originals: &[Obj]) -> Result<(bool, bool), Thrown> {
    if originals.is_empty() {
        return Ok((true, true));
    }
    let (mut internal, mut legacy): (Option<bool>, Option<bool>) = (None, None);
    for a in originals {
        let found = [PATH, INDEX, ID, LEGACY_PATH, LEGACY_INDEX, LEGACY_ID]
            .iter()
            .any(|k| get(a, k).truthy());
        if !found {
            continue;
        }
        let one_of = [PATH, INDEX, ID].iter().any(|k| a.get(k).is_some());
        if internal != Some(true) {
            internal = Some(one_of);
        }
        if (one_of && internal != Some(true)) || (!one_of && internal == Some(true)) {
            return Err(FORMAT_MISMATCH.into());
        }
        let one_of_legacy = [LEGACY_PATH, LEGACY_INDEX, LEGACY_ID]
            .iter()
            .any(|k| a.get(k).is_some());
        if legacy != Some(true) {
            legacy = Some(one_of_legacy);
        }
        if (one_of_legacy && legacy != Some(true)) || (!one_of_legacy && legacy == Some(true)) {
            return Err(FORMAT_MISMATCH.into());
        }
    }
    Ok(match (internal, legacy) {
        (Some(i), Some(l)) => (i, l),
        _ => (true, true),
    })
}

/// `reconcileAnnotations`.
fn reconcile(configs: &mut Configs, originals: &[Obj]) -> Result<(), Thrown> {
    let (use_internal, use_legacy) = annotation_format(originals)?;
    for (_, o) in configs.objects.iter_mut() {
        for (new, legacy) in [(PATH, LEGACY_PATH), (INDEX, LEGACY_INDEX), (ID, LEGACY_ID)] {
            let (a, b) = (annotation(o, new), annotation(o, legacy));
            if !a.truthy() && b.truthy() {
                add_annotation(o, new, b)?;
            } else if !b.truthy() && a.truthy() {
                add_annotation(o, legacy, a)?;
            }
        }
        check_altered(o, originals)?;
        if !use_internal {
            for k in [PATH, INDEX, ID] {
                remove_annotation(o, k);
            }
        }
        if !use_legacy {
            for k in [LEGACY_PATH, LEGACY_INDEX, LEGACY_ID] {
                remove_annotation(o, k);
            }
        }
        check_mismatch(o)?;
        remove_annotation(o, RESOURCE_ID);
    }
    Ok(())
}

/// `checkAnnotationsAltered`: a path or index the function changed in one
/// spelling is copied to the other.
fn check_altered(o: &mut Js, originals: &[Obj]) -> Result<(), Thrown> {
    let rid = annotation(o, RESOURCE_ID);
    if !rid.truthy() {
        return Ok(());
    }
    // `idToAnnos.get(rid)`: a Map keyed by the id strings.
    let Some(original) = rid
        .as_str()
        .and_then(|r| r.parse::<usize>().ok().filter(|n| n.to_string() == r))
        .and_then(|n| originals.get(n))
    else {
        return Ok(());
    };
    for (new, legacy) in [(PATH, LEGACY_PATH), (INDEX, LEGACY_INDEX)] {
        let (a, b) = (annotation(o, new), annotation(o, legacy));
        let mut before = get(original, new);
        if !before.truthy() {
            before = get(original, legacy);
        }
        if !before.truthy() {
            continue;
        }
        if a.truthy() && b.truthy() && before != a && before != b && a != b {
            return Err(VALUE_MISMATCH.into());
        } else if a.truthy() && before != a {
            add_annotation(o, legacy, a)?;
        } else if b.truthy() && before != b {
            add_annotation(o, new, b)?;
        }
    }
    Ok(())
}

// ---- generate_folders.ts ----

#[derive(Clone)]
struct Node {
    name: Js,
    kind: Option<String>,
    children: Vec<Node>,
}

fn generate_folders(configs: &mut Configs) -> Result<(), Thrown> {
    for hierarchy in configs.get(V1) {
        configs.results.push(old_hierarchy_warning(&hierarchy)?);
        let spec = hierarchy.prop("spec")?;
        let layers = spec.prop("layers")?;
        let mut root = Node {
            name: Js::Str(spec.prop("organization")?.to_js_string()),
            kind: Some("Organization".into()),
            children: Vec::new(),
        };
        let mut generated = Vec::new();
        match v1_tree(&mut root, &layers, 0, &hierarchy, &[], &mut generated)? {
            Some(error) => configs.results.push(error),
            // `insertConfigs`: the tree in preorder, which `v1_tree` kept.
            None => {
                for config in generated {
                    configs.insert(config)?;
                }
            }
        }
    }
    let mut hierarchies = configs.get(V3);
    hierarchies.extend(configs.get(V2));
    for hierarchy in hierarchies {
        let v3 = is_hierarchy(&hierarchy, V3);
        if !v3 {
            configs.results.push(old_hierarchy_warning(&hierarchy)?);
        }
        let parent_ref = hierarchy.prop("spec")?.prop("parentRef")?;
        if parent_ref == Js::Undefined || parent_ref.prop("external")? == Js::Undefined {
            let name = hierarchy.prop("metadata")?.prop("name")?.to_js_string();
            configs.results.push(object_result(
                &format!("ResourceHierarchy {name} has an undefined parentRef"),
                &hierarchy,
                "error",
            )?);
            continue;
        }
        let kind = parent_ref.prop("kind")?;
        if kind != Js::Undefined && kind != Js::str("Organization") && kind != Js::str("Folder") {
            let name = hierarchy.prop("metadata")?.prop("name")?.to_js_string();
            configs.results.push(object_result(
                &format!("ResourceHierarchy {name} has an unsupported parentRef kind"),
                &hierarchy,
                "error",
            )?);
            continue;
        }
        match hierarchy_tree(&hierarchy, v3) {
            Ok(folders) => {
                for folder in folders {
                    configs.insert(folder)?;
                }
            }
            Err(Failure::MissingSubtree(subtree)) => {
                let name = hierarchy.prop("metadata")?.prop("name")?.to_js_string();
                configs.results.push(object_result(
                    &format!(
                        "ResourceHierarchy {name} references non-existent subtree \"{subtree}\""
                    ),
                    &hierarchy,
                    "error",
                )?);
            }
            Err(Failure::Thrown(thrown)) => return Err(thrown),
        }
    }
    Ok(())
}

enum Failure {
    /// `MissingSubteeError`, caught per hierarchy.
    MissingSubtree(String),
    Thrown(Thrown),
}

impl From<Thrown> for Failure {
    fn from(t: Thrown) -> Failure {
        Failure::Thrown(t)
    }
}

/// `kubernetesObjectResult(message, object, undefined, severity)`.
fn object_result(message: &str, o: &Js, severity: &str) -> Result<Js, Thrown> {
    let mut path = annotation(o, PATH);
    if !path.truthy() {
        path = annotation(o, LEGACY_PATH);
    }
    let number = |v: Js| -> Js {
        let n = match &v {
            Js::Undefined => f64::NAN,
            Js::Null => 0.0,
            Js::Bool(b) => f64::from(u8::from(*b)),
            Js::Num(n) => *n,
            Js::Str(s) => js_number(s),
            _ => f64::NAN,
        };
        if n != 0.0 && !n.is_nan() {
            Js::Num(n)
        } else {
            Js::Undefined
        }
    };
    let mut index = number(annotation(o, INDEX));
    if !index.truthy() {
        index = number(annotation(o, LEGACY_INDEX));
    }
    let metadata = o.prop("metadata")?;
    let namespace = metadata.prop("namespace")?;
    let mut resource_ref = Obj::new();
    resource_ref.set("apiVersion", o.prop("apiVersion")?);
    resource_ref.set("kind", o.prop("kind")?);
    resource_ref.set(
        "namespace",
        if namespace.truthy() {
            namespace
        } else {
            Js::str("")
        },
    );
    resource_ref.set("name", metadata.prop("name")?);
    let mut file = Obj::new();
    file.set("path", path);
    file.set("index", index);
    let mut result = Obj::new();
    result.set("message", Js::str(message));
    result.set("severity", Js::str(severity));
    result.set("tags", Js::Undefined);
    result.set("resourceRef", Js::Obj(resource_ref));
    result.set("file", Js::Obj(file));
    result.set("field", Js::Undefined);
    Ok(Js::Obj(result))
}

/// `Number(string)`: blank is 0, otherwise a decimal (or `0x`/`0o`/`0b`) literal
/// with surrounding whitespace, or NaN.
fn js_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = t.strip_prefix(prefix) {
            return u128::from_str_radix(digits, radix).map_or(f64::NAN, |n| n as f64);
        }
    }
    match t.trim_start_matches(['+', '-']) {
        "Infinity" => {
            return if t.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        u if u.is_empty()
            || !u.bytes().all(|b| {
                b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E' || b == b'+' || b == b'-'
            }) =>
        {
            return f64::NAN
        }
        _ => {}
    }
    t.parse().unwrap_or(f64::NAN)
}

fn old_hierarchy_warning(h: &Js) -> Result<Js, Thrown> {
    let name = h.prop("metadata")?.prop("name")?.to_js_string();
    object_result(
        &format!("ResourceHierarchy {name} references an older Resource Hierarchy GroupVersion. Latest GroupVersion is blueprints.cloud.google.com/v1alpha3."),
        h,
        "warn",
    )
}

/// `filterNonInheritableAnnotations`.
fn inheritable(annotations: &Js) -> Obj {
    let mut copy = match annotations {
        Js::Obj(o) => o.clone(),
        _ => Obj::new(),
    };
    for key in [
        "config.kubernetes.io/local-config",
        "config.k8s.io/function",
        ID,
        LEGACY_ID,
        PATH,
        LEGACY_PATH,
        INDEX,
        LEGACY_INDEX,
    ] {
        copy.remove(key);
    }
    copy
}

/// `generateHierarchyTree` (v2 and v3): the Folders of the tree, in the order
/// `generateConfigs` inserts them.
fn hierarchy_tree(hierarchy: &Js, native_ref: bool) -> Result<Vec<Js>, Failure> {
    let spec = hierarchy.prop("spec")?;
    let parent_ref = spec.prop("parentRef")?;
    let kind = match parent_ref.prop("kind")? {
        Js::Undefined | Js::Null => "Organization".to_string(),
        k => k.to_js_string(),
    };
    let mut root = Node {
        name: Js::Str(parent_ref.prop("external")?.to_js_string()),
        kind: Some(kind),
        children: Vec::new(),
    };
    let metadata = hierarchy.prop("metadata")?;
    let namespace = metadata.prop("namespace")?;
    let annotations = metadata.prop("annotations")?;
    let annotations = inheritable(if annotations.truthy() {
        &annotations
    } else {
        &Js::Undefined
    });

    let mut subtrees: Vec<(String, Node)> = Vec::new();
    let declared = spec.prop("subtrees")?;
    if declared != Js::Undefined {
        // `for (const name in subtrees)`: own keys, then none inherited.
        let names = match &declared {
            Js::Null => Vec::new(),
            other => other.keys(),
        };
        for name in names {
            let mut node = Node {
                name: Js::Str(name.clone()),
                kind: Some("Subtree".into()),
                children: Vec::new(),
            };
            let children = declared.prop(&name)?;
            generate_tree(&mut node, &children, &subtrees)?;
            match subtrees.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 = node,
                None => subtrees.push((name, node)),
            }
        }
    }
    generate_tree(&mut root, &spec.prop("config")?, &subtrees)?;

    let mut folders = Vec::new();
    generate_configs(
        &root,
        &mut Vec::new(),
        &annotations,
        &namespace,
        native_ref,
        &mut folders,
    )?;
    Ok(folders)
}

fn generate_configs(
    node: &Node,
    path: &mut Vec<Js>,
    annotations: &Obj,
    namespace: &Js,
    native_ref: bool,
    out: &mut Vec<Js>,
) -> Result<(), Thrown> {
    for child in &node.children {
        out.push(manifest(
            &child.name,
            path,
            node,
            annotations,
            namespace,
            native_ref,
        )?);
        path.push(child.name.clone());
        generate_configs(child, path, annotations, namespace, native_ref, out)?;
        path.pop();
    }
    Ok(())
}

/// `generateTree`: each child of the list attached to `root`.
fn generate_tree(
    root: &mut Node,
    children: &Js,
    subtrees: &[(String, Node)],
) -> Result<(), Failure> {
    for child in children.iterate("children")? {
        add_child(root, &child, subtrees)?;
    }
    Ok(())
}

/// `addChild`: a string is a leaf; a map's first key a node whose children are
/// its list or the `$subtree` it names; anything else is skipped.
fn add_child(parent: &mut Node, child: &Js, subtrees: &[(String, Node)]) -> Result<(), Failure> {
    match child {
        Js::Null => Ok(()),
        Js::Str(s) => {
            parent.children.push(Node {
                name: Js::Str(s.clone()),
                kind: None,
                children: Vec::new(),
            });
            Ok(())
        }
        Js::Obj(_) | Js::Arr(_) => {
            let name = child.keys().into_iter().next();
            let mut node = Node {
                name: name.clone().map_or(Js::Undefined, Js::Str),
                kind: None,
                children: Vec::new(),
            };
            let children = child.prop(name.as_deref().unwrap_or("undefined"))?;
            match &children {
                Js::Arr(_) => generate_tree(&mut node, &children, subtrees)?,
                Js::Obj(_) | Js::Null => {
                    let subtree = children.prop("$subtree")?;
                    let key = subtree.to_js_string();
                    match subtrees.iter().find(|(n, _)| *n == key) {
                        Some((_, s)) => node.children = s.children.clone(),
                        None => {
                            return Err(Failure::MissingSubtree(match subtree {
                                Js::Undefined => String::new(),
                                s => s.to_js_string(),
                            }))
                        }
                    }
                }
                _ => {}
            }
            parent.children.push(node);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `generateV1HierarchyTree`: the Folders in preorder, or the error result of
/// the first layer without config.
fn v1_tree(
    node: &mut Node,
    layers: &Js,
    layer_index: usize,
    hierarchy: &Js,
    path: &[Js],
    out: &mut Vec<Js>,
) -> Result<Option<Js>, Thrown> {
    // `layerIndex >= layers.length`, with JavaScript's conversions.
    let length = match layers.prop("length")? {
        Js::Num(n) => n,
        Js::Null => 0.0,
        Js::Bool(b) => f64::from(u8::from(b)),
        Js::Str(s) => js_number(&s),
        _ => f64::NAN,
    };
    if layer_index as f64 >= length {
        return Ok(None);
    }
    let layer = layers.prop(&layer_index.to_string())?;
    let layer_name = layer.to_js_string();
    let folders = hierarchy.prop("spec")?.prop("config")?.prop(&layer_name)?;
    if folders == Js::Undefined {
        let mut result = Obj::new();
        result.set("severity", Js::str("error"));
        result.set(
            "message",
            Js::Str(format!(
                "Layer \"{layer_name}\" has no corresponding entry config entry. Either\n      add to spec.config.{layer_name} or remove it from spec.layers\n      "
            )),
        );
        return Ok(Some(Js::Obj(result)));
    }
    let namespace = hierarchy.prop("metadata")?.prop("namespace")?;
    for folder in folders.iterate("folders")? {
        let config = manifest(&folder, path, node, &Obj::new(), &namespace, false)?;
        let mut child = Node {
            name: folder.clone(),
            kind: None,
            children: Vec::new(),
        };
        let mut below = Vec::new();
        let mut child_path = path.to_vec();
        child_path.push(folder.clone());
        if let Some(error) = v1_tree(
            &mut child,
            layers,
            layer_index + 1,
            hierarchy,
            &child_path,
            &mut below,
        )? {
            return Ok(Some(error));
        }
        out.push(config);
        out.extend(below);
        node.children.push(child);
    }
    Ok(None)
}

/// `generateManifest`.
fn manifest(
    name: &Js,
    path: &[Js],
    parent: &Node,
    annotations: &Obj,
    namespace: &Js,
    native_ref: bool,
) -> Result<Js, Thrown> {
    let joined = js_yaml::join(path, ".");
    let parent_name = if joined.is_empty() {
        parent.name.clone()
    } else {
        Js::Str(joined)
    };
    let organization = parent.kind.as_deref() == Some("Organization");
    let mut reference = Obj::new();
    let mut annotation_ref = Obj::new();
    if native_ref {
        if path.is_empty() {
            let mut external = Obj::new();
            external.set("external", parent_name.clone());
            let field = if organization {
                "organizationRef"
            } else {
                "folderRef"
            };
            reference.set(field, Js::Obj(external));
        } else {
            let mut named = Obj::new();
            named.set("name", Js::Str(normalize(&parent_name)?));
            reference.set("folderRef", Js::Obj(named));
        }
    } else {
        let key = if organization {
            "cnrm.cloud.google.com/organization-id"
        } else {
            "cnrm.cloud.google.com/folder-ref"
        };
        annotation_ref.set(key, Js::Str(normalize(&parent_name)?));
    }
    let mut full_path = path.to_vec();
    full_path.push(name.clone());
    let mut metadata = Obj::new();
    metadata.set(
        "name",
        Js::Str(normalize(&Js::Str(js_yaml::join(&full_path, ".")))?),
    );
    if !annotations.is_empty() || !annotation_ref.is_empty() {
        let mut combined = annotations.clone();
        combined.spread(&annotation_ref);
        metadata.set("annotations", Js::Obj(combined));
    }
    if *namespace != Js::Undefined {
        metadata.set("namespace", namespace.clone());
    }
    let mut spec = Obj::new();
    spec.set("displayName", name.clone());
    spec.spread(&reference);
    let mut config = Obj::new();
    config.set("apiVersion", Js::str(FOLDER_API_VERSION));
    config.set("kind", Js::str("Folder"));
    config.set("metadata", Js::Obj(metadata));
    config.set("spec", Js::Obj(spec));
    Ok(Js::Obj(config))
}

/// `normalize`: a Kubernetes name from a folder's path.
fn normalize(name: &Js) -> Result<String, Thrown> {
    let name = match name {
        Js::Str(s) => s,
        Js::Undefined | Js::Null => {
            return Err(format!(
                "TypeError: Cannot read properties of {} (reading 'toLowerCase')",
                name.to_js_string()
            ))
        }
        _ => return Err("TypeError: name.toLowerCase is not a function".into()),
    };
    Ok(name
        .to_lowercase()
        .chars()
        .filter(|c| *c != '\'' && *c != '"')
        .map(|c| if c == '_' || c == ' ' { '-' } else { c })
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | ' '))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_as_the_release_does() {
        assert_eq!(normalize(&Js::str("Team \"One\"")).unwrap(), "team-one");
        assert_eq!(normalize(&Js::str("Dev.Team_2")).unwrap(), "dev.team-2");
        assert_eq!(normalize(&Js::str("Ünïcode & co")).unwrap(), "ncode--co");
    }

    /// The SDK's `warn` results read back as warnings (lummo render refused
    /// the whole list before: "unknown variant `warn`").
    #[test]
    fn warn_results_read_back() {
        let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: cft.dev/v1alpha2\n  kind: ResourceHierarchy\n  metadata:\n    name: old\n  spec:\n    parentRef:\n      external: '1'\n    config: [a]\n";
        let outcome = filter(input);
        assert_eq!(outcome.exit_code, 0, "{}", outcome.stderr);
        assert!(outcome.stdout.contains("severity: warn\n"));
        let list = ResourceList::parse(&outcome.stdout, &Limits::default()).unwrap();
        assert_eq!(list.items.len(), 2);
        assert_eq!(list.results.len(), 1);
        assert_eq!(list.results[0].severity, krm_sdk::Severity::Warning);
    }

    #[test]
    fn numbers_read_as_javascript_does() {
        assert_eq!(js_number("3"), 3.0);
        assert_eq!(js_number(""), 0.0);
        assert!(js_number("x").is_nan());
        assert_eq!(js_number("0x10"), 16.0);
    }
}
