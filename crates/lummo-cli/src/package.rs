//! Rendering a kpt package in-process, as `kpt fn render` would.
//!
//! Subpackages (folders with a Kptfile) render first, depth first in name order;
//! a package's pipeline then sees its own resources and its subpackages'. Every
//! pipeline step must be a Lummo function, matched by image name or exec path.
//! Files are written the way kpt writes them: generated files in our block style
//! (which is kyaml's), `---` between documents, kpt's annotations stripped, and
//! Config Connector objects stamped `cnrm.cloud.google.com/blueprint: 'kpt-fn'`.
//! A file whose resources did not change is left untouched, so a package already in
//! kpt's format renders byte for byte as kpt renders it.

use anyhow::{anyhow, bail, Context as _, Result};
use krm_sdk::object::{annotations, set_file, FileRef};
use krm_sdk::yaml::{parse_documents, Limits};
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A function the CLI runs in-process.
#[derive(Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    pub process: fn(&mut ResourceList),
}

/// The function of that name, from the one list of every Lummo function.
pub fn function(name: &str) -> Option<Function> {
    lummo_validate::FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(name, process)| Function { name, process })
}

/// Every function's name, for messages.
pub fn function_names() -> String {
    lummo_validate::FUNCTIONS.map(|(name, _)| name).join(", ")
}

/// A result and the package it came from.
pub struct Finding {
    pub package: String,
    pub function: String,
    pub result: ResultItem,
}

/// A package as read from disk, then rendered.
pub struct Rendered {
    root: PathBuf,
    /// Files read, by path relative to the root: text and documents.
    sources: BTreeMap<String, (String, Vec<Value>)>,
    pub items: Vec<Value>,
    pub findings: Vec<Finding>,
    /// (package, function, milliseconds) per step.
    pub timings: Vec<(String, String, f64)>,
}

impl Rendered {
    fn new(root: PathBuf) -> Self {
        Rendered {
            root,
            sources: BTreeMap::new(),
            items: Vec::new(),
            findings: Vec::new(),
            timings: Vec::new(),
        }
    }

    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.result.is_error())
    }

    /// The 1-based line where document `index` of `path` starts, if known.
    pub fn line_of(&self, path: &str, index: u32) -> Option<usize> {
        let (text, _) = self.sources.get(path)?;
        document_starts(text).get(index as usize).copied()
    }

    /// Every resource meant for a cluster: no local-config, no kpt annotations.
    pub fn manifests(&self) -> String {
        let mut out = String::new();
        for item in self
            .items
            .iter()
            .filter(|i| !i.is_local_config() && i.kind() != "Kptfile")
        {
            if !out.is_empty() {
                out.push_str("---\n");
            }
            out.push_str(&serialize(&clean(item)));
        }
        out
    }

    /// Writes the package's files to `target` (the package itself, or a copy):
    /// changed and new files written, files whose resources all went away removed,
    /// the rest untouched.
    pub fn write(&self, target: &Path) -> Result<usize> {
        if target != self.root {
            copy_tree(&self.root, target)?;
        }
        let mut files: BTreeMap<String, Vec<(u32, Value)>> = BTreeMap::new();
        for item in &self.items {
            let file = item
                .file_ref()
                .ok_or_else(|| anyhow!("{} {} has no path", item.kind(), item.name()))?;
            files
                .entry(file.path)
                .or_default()
                .push((file.index, clean(item)));
        }
        let mut changed: Vec<(String, String)> = Vec::new();
        for (path, mut documents) in files {
            documents.sort_by_key(|(index, _)| *index);
            let values: Vec<Value> = documents.into_iter().map(|(_, v)| v).collect();
            let unchanged = self
                .sources
                .get(&path)
                .is_some_and(|(_, old)| old.iter().map(clean).eq(values.iter().cloned()));
            if !unchanged {
                let text = values
                    .iter()
                    .map(serialize)
                    .collect::<Vec<_>>()
                    .join("---\n");
                changed.push((path, text));
            }
        }
        let mut written = changed.len();
        write_files(target, &changed)?;
        let remaining: std::collections::HashSet<String> = self
            .items
            .iter()
            .filter_map(|i| i.file_ref())
            .map(|f| f.path)
            .collect();
        for path in self.sources.keys().filter(|p| !remaining.contains(*p)) {
            let doomed = target.join(path);
            if doomed.exists() {
                std::fs::remove_file(&doomed).with_context(|| doomed.display().to_string())?;
                written += 1;
            }
        }
        Ok(written)
    }
}

/// The resources meant for a cluster, as a YAML stream: no local-config, no Lummo
/// specs, no Kptfile, no kpt annotations.
pub fn manifests(items: &[Value]) -> String {
    let mut out = String::new();
    let for_cluster = |item: &&Value| {
        !item.is_local_config()
            && item.kind() != "Kptfile"
            && !item
                .api_version()
                .starts_with(&format!("{}/", lummo_core::GROUP))
    };
    for item in items.iter().filter(for_cluster) {
        if !out.is_empty() {
            out.push_str("---\n");
        }
        out.push_str(&serialize(&clean(item)));
    }
    out
}

/// Reads and renders the package at `root` (and its subpackages).
pub fn render(root: &Path) -> Result<Rendered> {
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot open package {}", root.display()))?;
    if !root.join("Kptfile").is_file() {
        bail!("{} is not a kpt package: it has no Kptfile", root.display());
    }
    let mut rendered = Rendered::new(root);
    rendered.items = render_package(&mut rendered, "")?;
    Ok(rendered)
}

/// Reads a package that will not be rendered (for `lummo validate`).
pub fn read(root: &Path) -> Result<Rendered> {
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot open package {}", root.display()))?;
    let mut rendered = Rendered::new(root);
    let mut items = Vec::new();
    read_files(&mut rendered, "", &mut items, true)?;
    rendered.items = items;
    Ok(rendered)
}

fn render_package(rendered: &mut Rendered, relative: &str) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    for sub in subpackages(&rendered.root.join(relative))? {
        items.extend(render_package(rendered, &join(relative, &sub))?);
        if rendered.failed() {
            return Ok(items);
        }
    }
    read_files(rendered, relative, &mut items, false)?;
    let kptfile_path = join(relative, "Kptfile");
    let kptfile = rendered
        .sources
        .get(&kptfile_path)
        .and_then(|(_, docs)| docs.first().cloned())
        .unwrap_or(Value::Null);
    let package = if relative.is_empty() {
        ".".to_string()
    } else {
        relative.to_string()
    };
    for (stage, validator) in [("mutators", false), ("validators", true)] {
        let steps = kptfile
            .pointer(&format!("/pipeline/{stage}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, step) in steps.iter().enumerate() {
            let function = step_function(step)
                .with_context(|| format!("{kptfile_path}: pipeline.{stage}[{i}]"))?;
            let config = step_config(rendered, relative, step)
                .with_context(|| format!("{kptfile_path}: pipeline.{stage}[{i}]"))?;
            let mut list = ResourceList::new(items.clone());
            list.function_config = config;
            let start = Instant::now();
            (function.process)(&mut list);
            rendered.timings.push((
                package.clone(),
                function.name.to_string(),
                start.elapsed().as_secs_f64() * 1000.0,
            ));
            let failed = list.has_errors();
            for result in list.results {
                rendered.findings.push(Finding {
                    package: package.clone(),
                    function: function.name.to_string(),
                    result,
                });
            }
            if failed {
                return Ok(items);
            }
            if !validator {
                items = list.items.into_iter().map(|i| i.into_value()).collect();
            }
        }
    }
    Ok(items)
}

/// The Lummo function a pipeline step names, by image or exec path.
fn step_function(step: &Value) -> Result<Function> {
    let reference = step
        .get("image")
        .or_else(|| step.get("exec"))
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("a step needs `image` or `exec`"))?;
    if step.get("selectors").is_some() || step.get("exclude").is_some() {
        bail!("step `{reference}` uses selectors, which lummo render does not support; use kpt fn render");
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    let name = last.split([':', '@']).next().unwrap_or(last);
    function(name).ok_or_else(|| {
        anyhow!("step `{reference}` is not a Lummo function ({}); render this package with kpt fn render", function_names())
    })
}

/// A step's functionConfig: the document of `configPath`, or `configMap` as a ConfigMap.
fn step_config(rendered: &Rendered, relative: &str, step: &Value) -> Result<Option<Value>> {
    if let Some(path) = step.get("configPath").and_then(Value::as_str) {
        let key = join(relative, path);
        let (_, documents) = rendered
            .sources
            .get(&key)
            .ok_or_else(|| anyhow!("configPath `{path}` is not a file of the package"))?;
        return Ok(documents.first().map(clean));
    }
    if let Some(data) = step.get("configMap") {
        return Ok(Some(
            krm_sdk::json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "function-input" }, "data": data }),
        ));
    }
    Ok(None)
}

/// Folders under `dir` holding their own Kptfile, in name order.
fn subpackages(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if entry.file_type()?.is_dir()
            && !name.starts_with('.')
            && entry.path().join("Kptfile").is_file()
        {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Reads the package's own YAML files (not its subpackages'), in path order, as
/// items annotated with their path and index like kpt does.
fn read_files(
    rendered: &mut Rendered,
    relative: &str,
    items: &mut Vec<Value>,
    with_subpackages: bool,
) -> Result<()> {
    let base = rendered.root.join(relative);
    let mut files = Vec::new();
    collect_files(&base, "", &mut files, with_subpackages)?;
    files.sort();
    let limits = Limits::default();
    for file in files {
        let path = join(relative, &file);
        let text = std::fs::read_to_string(base.join(&file)).with_context(|| path.clone())?;
        let documents = parse_documents(&text, &limits)
            .map_err(|e| anyhow!("{path}:{}:{}: {}", e.line, e.column, e.message))?;
        for (index, document) in documents.iter().enumerate() {
            if !document.is_object() {
                bail!("{path}: document {} is not a mapping", index + 1);
            }
            let mut item = document.clone();
            set_file(
                &mut item,
                &FileRef {
                    path: path.clone(),
                    index: index as u32,
                },
            );
            items.push(item);
        }
        rendered.sources.insert(path, (text, documents));
    }
    Ok(())
}

fn collect_files(
    base: &Path,
    relative: &str,
    out: &mut Vec<String>,
    with_subpackages: bool,
) -> Result<()> {
    let dir = base.join(relative);
    for entry in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        let path = join(relative, &name);
        if name.starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            if with_subpackages || !entry.path().join("Kptfile").is_file() {
                collect_files(base, &path, out, with_subpackages)?;
            }
        } else if name == "Kptfile" || name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
    Ok(())
}

fn join(relative: &str, name: &str) -> String {
    if relative.is_empty() {
        name.to_string()
    } else {
        format!("{relative}/{name}")
    }
}

/// An item as kpt writes it: its own annotations only, and Config Connector
/// objects stamped with kpt's attribution.
fn clean(item: &Value) -> Value {
    let mut item = item.clone();
    let mut drop_annotations = false;
    if let Some(map) = item
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        map.retain(|key, _| {
            !(key == annotations::LEGACY_PATH
                || key == annotations::LEGACY_INDEX
                || key == annotations::ID
                || key.starts_with("internal.config.kubernetes.io/"))
        });
        drop_annotations = map.is_empty();
    }
    if drop_annotations {
        if let Some(metadata) = item.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.shift_remove("annotations");
        }
    }
    let group = item.api_version().split('/').next().unwrap_or("");
    if group.ends_with("cnrm.cloud.google.com") && item.annotation(BLUEPRINT).is_none() {
        item.set_annotation(BLUEPRINT, "kpt-fn");
    }
    item
}

const BLUEPRINT: &str = "cnrm.cloud.google.com/blueprint";

/// One document in our block style, with kpt's quoting of its attribution.
fn serialize(item: &Value) -> String {
    krm_sdk::yaml::to_string(item).replace(
        &format!("    {BLUEPRINT}: kpt-fn\n"),
        &format!("    {BLUEPRINT}: 'kpt-fn'\n"),
    )
}

/// The line (1-based) where each document of a YAML file starts.
fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    for (i, line) in text.lines().enumerate() {
        if (line == "---" || line.starts_with("--- ")) && i > 0 {
            starts.push(i + 2);
        }
    }
    starts
}

/// Creating thousands of files is the file system's work, not ours: two writers
/// (this machine's two cores) halve it for a monorepo.
fn write_files(target: &Path, files: &[(String, String)]) -> Result<()> {
    let write = |chunk: &[(String, String)]| -> Result<()> {
        for (path, text) in chunk {
            let destination = target.join(path);
            if let Some(parent) = destination.parent() {
                std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
            }
            std::fs::write(&destination, text)
                .with_context(|| destination.display().to_string())?;
        }
        Ok(())
    };
    if files.len() < 64 {
        return write(files);
    }
    let (first, second) = files.split_at(files.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| write(second));
        let mine = write(first);
        other
            .join()
            .unwrap_or_else(|_| Err(anyhow!("a file writer stopped")))?;
        mine
    })
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| to.display().to_string())?;
    for entry in std::fs::read_dir(from).with_context(|| from.display().to_string())? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| target.display().to_string())?;
        }
    }
    Ok(())
}
