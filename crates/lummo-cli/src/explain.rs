//! `lummo explain FILE:LINE` and `lummo explain KIND/NAME FIELD` (issue 32):
//! where a field of the rendered package comes from. The package is rendered in
//! process, nothing written ([`lummo_render::Target::Items`], with
//! [`lummo_render::Provenance::Record`]); the line is mapped to a field path
//! (`krm_sdk::locate::field_at`, the inverse of the line numbers results carry),
//! and the answer is the render's record of that field: the spec field with its
//! file and line, the default or functionConfig key, the later pipeline step
//! that set it, the function's own rule, or that no Lummo function generated the
//! object.

use anyhow::{anyhow, bail, Result};
use krm_sdk::{ObjectExt, Value};
use lummo_core::origins::{pointer, Origin};
use lummo_render::{FieldSource, ObjectProvenance};
use std::path::{Path, PathBuf};

/// What is asked.
#[derive(Debug, PartialEq, Eq)]
pub enum Query {
    /// A line of a rendered file (relative to the current folder).
    Line { file: PathBuf, line: usize },
    /// A field of a rendered object: `Rollout/foobar-api spec.replicas`.
    Field {
        kind: String,
        name: String,
        field: String,
    },
}

/// The query of `lummo explain`'s words.
pub fn parse(target: &str, field: Option<&str>) -> Result<Query> {
    if let Some(field) = field {
        let Some((kind, name)) = target
            .split_once('/')
            .filter(|(k, n)| !k.is_empty() && !n.is_empty())
        else {
            bail!("`{target} {field}`: the object is KIND/NAME (e.g. `lummo explain Rollout/foobar-api spec.replicas`)");
        };
        return Ok(Query::Field {
            kind: kind.to_string(),
            name: name.to_string(),
            field: field.to_string(),
        });
    }
    let Some((file, line)) = target.rsplit_once(':') else {
        bail!("`{target}`: give FILE:LINE (e.g. `lummo explain generated/rollout_foobar-api.yaml:42`) or KIND/NAME FIELD (e.g. `lummo explain Rollout/foobar-api spec.replicas`)");
    };
    let line: usize = line.parse().ok().filter(|l| *l > 0).ok_or_else(|| {
        anyhow!("`{target}`: `{line}` is not a line number (1 or more), e.g. `{file}:42`")
    })?;
    Ok(Query::Line {
        file: PathBuf::from(file),
        line,
    })
}

/// The answer to `query`, rendering `package` (default: for a line, the
/// outermost package above the file; for an object, the current folder).
pub fn explain(query: &Query, package: Option<&Path>) -> Result<String> {
    match query {
        Query::Line { file, line } => {
            let text =
                std::fs::read_to_string(file).map_err(|e| anyhow!("{}: {e}", file.display()))?;
            let root = match package {
                Some(package) => package.to_path_buf(),
                None => outermost_package(file)?,
            };
            let relative = relative_to(file, &root)?;
            let Some((index, field)) = krm_sdk::locate::field_at(&text, *line) else {
                let lines = text.lines().count();
                bail!(
                    "{}:{line}: no field starts on or before this line (the file has {lines} lines; a field's line, e.g. `{}:{}`)",
                    file.display(),
                    file.display(),
                    first_field_line(&text).unwrap_or(1)
                );
            };
            let rendered = render(&root)?;
            let item = rendered
                .items
                .iter()
                .find(|item| item.file_ref().is_some_and(|f| f.path == relative && f.index as usize == index))
                .ok_or_else(|| anyhow!(
                    "{}:{line}: document {index} of {relative} is not among the resources the render of {} gives (a file the render deletes, or one outside the package: --package DIR names the package)",
                    file.display(), root.display()))?;
            let head = format!(
                "{}:{line}: {} {} {field}",
                file.display(),
                item.kind(),
                item.name()
            );
            let on_disk =
                nth_document_value(&text, index).and_then(|v| v.pointer(&pointer(&field)).cloned());
            answer(
                &rendered,
                &root,
                item.value(),
                &relative,
                index as u32,
                &field,
                head,
                on_disk,
            )
        }
        Query::Field { kind, name, field } => {
            let root = package.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let rendered = render(&root)?;
            let matches: Vec<&krm_sdk::Item> = rendered
                .items
                .iter()
                .filter(|i| i.kind().eq_ignore_ascii_case(kind) && i.name() == name)
                .collect();
            let item = match matches.as_slice() {
                [item] => *item,
                [] => {
                    let known: Vec<String> = rendered
                        .items
                        .iter()
                        .filter(|i| i.annotation(lummo_core::GENERATED_BY).is_some())
                        .map(|i| format!("{}/{}", i.kind(), i.name()))
                        .collect();
                    let wanted = format!("{kind}/{name}");
                    let hint =
                        match krm_sdk::decode::suggest(&wanted, known.iter().map(String::as_str)) {
                            Some(close) => format!("did you mean `{close}`?"),
                            None => format!("the generated objects are: {}", shorten(&known)),
                        };
                    bail!(
                        "{wanted}: no such object in the render of {}; {hint}",
                        root.display()
                    );
                }
                many => {
                    let files: Vec<String> = many
                        .iter()
                        .filter_map(|i| i.file_ref().map(|f| format!("{}:{}", f.path, f.index)))
                        .collect();
                    bail!("{kind}/{name}: {} objects have that kind and name ({}); ask by FILE:LINE instead", many.len(), files.join(", "));
                }
            };
            let file = item
                .file_ref()
                .ok_or_else(|| anyhow!("{kind}/{name}: the object has no file"))?;
            let value = item.value();
            if value.pointer(&pointer(field)).is_none() {
                let leaves = lummo_core::origins::leaf_paths(value);
                let hint = match krm_sdk::decode::suggest(field, leaves.iter().map(String::as_str)) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => "fields are paths such as `spec.template.spec.containers[0].image` or `metadata.labels['app.kubernetes.io/name']`".to_string(),
                };
                bail!(
                    "{kind}/{name} ({}): has no field `{field}`; {hint}",
                    shown(&root.join(&file.path))
                );
            }
            let head = format!(
                "{}/{} {field} ({}, document {})",
                item.kind(),
                item.name(),
                shown(&root.join(&file.path)),
                file.index
            );
            answer(
                &rendered, &root, value, &file.path, file.index, field, head, None,
            )
        }
    }
}

/// The render `explain` answers from: in process, into memory, with provenance.
fn render(root: &Path) -> Result<lummo_render::Rendered> {
    let settings = lummo_render::Settings {
        provenance: lummo_render::Provenance::Record,
        ..Default::default()
    };
    let rendered = lummo_render::render_quietly(root, settings, lummo_render::Target::Items)
        .map_err(|e| anyhow!("{}: the package does not render: {e:#}", root.display()))?;
    if rendered.failed() {
        let errors: Vec<String> = rendered
            .findings
            .iter()
            .filter(|f| f.result.is_error())
            .map(|f| format!("  {}", f.result.message))
            .collect();
        bail!(
            "{}: the package does not render (`lummo render` shows every result):\n{}",
            root.display(),
            errors.join("\n")
        );
    }
    Ok(rendered)
}

#[allow(clippy::too_many_arguments)] // one answer: the object, where it is and the field
fn answer(
    rendered: &lummo_render::Rendered,
    root: &Path,
    object: &Value,
    file: &str,
    index: u32,
    field: &str,
    head: String,
    on_disk: Option<Value>,
) -> Result<String> {
    let value = object.pointer(&pointer(field));
    let mut out = format!("{head} = {}\n", show(value));
    if let (Some(disk), Some(now)) = (&on_disk, value) {
        if disk != now {
            out.push_str(&format!("  the file says {}, the render {}: the file is out of date (`lummo render` rewrites it)\n", show(Some(disk)), show(Some(now))));
        }
    }
    let Some(provenance) = rendered.provenance.get(&(file.to_string(), index)) else {
        let by = object.annotation(lummo_core::GENERATED_BY);
        match by {
            Some(by) => out.push_str(&format!("  not generated by this render: it names {by}, which no pipeline step of the package generates now\n")),
            None => out.push_str("  not generated by Lummo: a file of the package, or an object a pipeline step other than a Lummo function made\n"),
        }
        return Ok(out);
    };
    let spec = spec_of(rendered, root, provenance, file);
    out.push_str(&format!(
        "  generated by {} from {}{}\n",
        provenance.function,
        provenance
            .generated_by
            .split_once(':')
            .map_or("", |(_, s)| s),
        spec.as_ref()
            .map(|s| format!(" ({})", s.file))
            .unwrap_or_default()
    ));
    match provenance.source_of(field) {
        FieldSource::Step(step) => out.push_str(&format!("  set by {step}, after {} generated it\n", provenance.function)),
        FieldSource::Rule(function) => out.push_str(&format!("  rule of {function}: no spec field or config key sets it (the function's own choice)\n")),
        FieldSource::Recorded(origin) => {
            for line in describe(origin, spec.as_ref().map(OwnedSpec::borrow), provenance.function) {
                out.push_str(&format!("  {line}\n"));
            }
        }
    }
    Ok(out)
}

/// A spec as written: its file (relative), document index, text and value.
pub struct SpecText<'a> {
    pub file: &'a str,
    pub index: usize,
    pub text: &'a str,
    pub value: &'a Value,
}

struct OwnedSpec {
    file: String,
    index: usize,
    text: String,
    value: Value,
}

impl OwnedSpec {
    fn borrow(&self) -> SpecText<'_> {
        SpecText {
            file: &self.file,
            index: self.index,
            text: &self.text,
            value: &self.value,
        }
    }
}

/// The lines saying where `origin` points: spec fields with their file, line
/// and value (or that they are unset), the default's rule, the config key.
pub fn describe(origin: &Origin, spec: Option<SpecText>, function: &str) -> Vec<String> {
    let at = |field: &str| -> String {
        let Some(spec) = &spec else {
            return field.to_string();
        };
        let value = lummo_core::origins::value_at(spec.value, field);
        let line = krm_sdk::locate::field_position(spec.text, spec.index, field)
            .map(|(line, _)| format!(":{line}"))
            .unwrap_or_default();
        match value {
            Some(value) => format!("{field} in {}{line} ({})", spec.file, show(Some(value))),
            None => format!("{field} (not set; {}{line})", spec.file),
        }
    };
    match origin {
        Origin::Spec { field } => vec![format!("from: {}", at(field))],
        Origin::Default { field, rule } => vec![
            format!("default: {rule}"),
            format!("unless set: {}", at(field)),
        ],
        Origin::Config { field } => vec![format!(
            "functionConfig of {function}: `{field}` (the Kptfile step's configPath)"
        )],
        Origin::Derived { rule, from } => {
            let mut lines = vec![format!("rule: {rule}")];
            lines.extend(from.iter().map(|f| format!("from: {}", at(f))));
            lines
        }
    }
}

/// The spec object a generated object names, as the render read it and as its
/// file says (for lines): same kind and name, the one whose folder holds the
/// generated file deepest.
fn spec_of(
    rendered: &lummo_render::Rendered,
    root: &Path,
    provenance: &ObjectProvenance,
    file: &str,
) -> Option<OwnedSpec> {
    let (_, spec) = provenance.generated_by.split_once(':')?;
    // `Kind/name`, or `Kind/namespace/name`.
    let (kind, rest) = spec.split_once('/')?;
    let (namespace, name) = rest.rsplit_once('/').unwrap_or(("", rest));
    let item = rendered
        .items
        .iter()
        .filter(|i| i.kind() == kind && i.name() == name)
        .filter(|i| namespace.is_empty() || i.namespace() == namespace)
        .filter_map(|i| Some((i, i.file_ref()?)))
        .filter(|(_, f)| {
            let dir = f.path.rsplit_once('/').map_or("", |(d, _)| d);
            dir.is_empty() || file.starts_with(&format!("{dir}/"))
        })
        .max_by_key(|(_, f)| f.path.rsplit_once('/').map_or(0, |(d, _)| d.len()))?;
    let (item, spec_file) = item;
    let text = std::fs::read_to_string(root.join(&spec_file.path)).unwrap_or_default();
    Some(OwnedSpec {
        file: shown(&root.join(&spec_file.path)),
        index: spec_file.index as usize,
        text,
        value: krm_sdk::object::without_kpt_annotations(item.value()),
    })
}

/// The outermost folder with a Kptfile above `file` (a parent package's
/// pipeline runs over its subpackages' objects too).
fn outermost_package(file: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(file)?;
    let mut found = None;
    let mut dir = absolute.parent();
    while let Some(d) = dir {
        if d.join("Kptfile").is_file() {
            found = Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    found.ok_or_else(|| {
        anyhow!(
            "{}: no folder above it has a Kptfile; name the package with --package DIR",
            file.display()
        )
    })
}

/// A path as the user names it: relative to the current folder when below it.
fn shown(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let here = std::env::current_dir().unwrap_or_default();
    let path = absolute.strip_prefix(&here).unwrap_or(&absolute);
    let mut parts: Vec<String> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if parts.last().is_some_and(|p| p != "..") => {
                parts.pop();
            }
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/").replace("//", "/")
}

fn relative_to(file: &Path, root: &Path) -> Result<String> {
    let file = std::path::absolute(file)?;
    let root = std::path::absolute(root)?;
    let relative = file.strip_prefix(&root).map_err(|_| {
        anyhow!(
            "{}: not inside the package {}",
            file.display(),
            root.display()
        )
    })?;
    Ok(relative.to_string_lossy().replace('\\', "/"))
}

fn nth_document_value(text: &str, index: usize) -> Option<Value> {
    let documents = krm_sdk::yaml::parse_documents(text, &krm_sdk::yaml::Limits::default()).ok()?;
    documents.into_iter().filter(|d| !d.is_null()).nth(index)
}

fn first_field_line(text: &str) -> Option<usize> {
    (1..=text.lines().count()).find(|line| krm_sdk::locate::field_at(text, *line).is_some())
}

fn shorten(names: &[String]) -> String {
    if names.len() > 8 {
        format!("{}, ... ({} in all)", names[..8].join(", "), names.len())
    } else if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// A value on one line: scalars as written, the rest as compact JSON, cut short.
pub fn show(value: Option<&Value>) -> String {
    let text = match value {
        None => "(absent)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}
