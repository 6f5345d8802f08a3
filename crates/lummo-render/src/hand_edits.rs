//! `lummo render` warns before it overwrites a generated file that was edited by
//! hand (issue 17).
//!
//! A generated file on disk is what its function emitted (E) changed by the
//! pipeline's later steps (set-namespace, set-labels, ...) and perhaps by hand.
//! Every generated object records the hash of E (`lummo.dev/generated-hash`,
//! `krm_sdk::generate::content_hash`). When this render emits an object with the
//! same hash, its spec did not change, so the emission now is E itself, and the
//! render also knows what the later steps make of it (the final object F). A field
//! is reported as edited by hand when
//!
//! - the file differs from E there (someone or something changed it), and
//! - F equals E there: no step of this pipeline changes that field, so neither did
//!   the same steps last time, and the render writes E's value back;
//!
//! and the field is not one a catalog transformer owns (names, namespaces, labels,
//! annotations, selectors, images): after a set-* step is removed from the
//! Kptfile, the file still holds what that step wrote and the render puts E's
//! value back, which is no hand edit. Anything else stays silent: a spec change
//! (new hash), files from before the hash was recorded, fields a later step
//! rewrites anyway. Sound rather than complete: removing an apply-replacements or
//! search-replace step that changed other fields of generated objects is the one
//! change that can still warn (once, for the value it puts back).
//!
//! A function alone cannot do this under kpt: it does not see what the steps after
//! it change, so every set-namespace would look like a hand edit.

use krm_sdk::generate::without_location;
use krm_sdk::{Item, ObjectExt, ResultItem, Value};
use lummo_core::GENERATED_HASH;
use std::collections::HashMap;

/// What a render saw of generated objects: as read and as emitted. Both are
/// dropped when their subtree is checked, so memory follows the largest package
/// rendered at once, as the render's own does.
#[derive(Default)]
pub struct HandEdits {
    /// Generated objects read from disk, by root-relative (path, index): their
    /// recorded hash and content.
    read: HashMap<(String, u32), (String, Value)>,
    /// The keys of `read` by recorded hash.
    read_by_hash: HashMap<String, Vec<(String, u32)>>,
    /// Objects a Lummo step of this render generated, by hash: only those a file
    /// read with the same hash differs from (a re-render without edits or later
    /// steps keeps none).
    emitted: HashMap<String, Value>,
}

/// Most fields reported per object; a file rewritten by hand gets one more line.
const MAX_FIELDS: usize = 10;

impl HandEdits {
    /// Remembers the generated objects among `items`, just read from the
    /// package at root-relative `package`.
    pub fn read(&mut self, package: &str, items: &[Item]) {
        for item in items {
            let (Some(hash), Some(file)) = (item.annotation(GENERATED_HASH), item.file_ref())
            else {
                continue;
            };
            let path = if package.is_empty() {
                file.path
            } else {
                format!("{package}/{}", file.path)
            };
            let key = (path, file.index);
            self.read_by_hash
                .entry(hash.to_string())
                .or_default()
                .push(key.clone());
            self.read.insert(
                key,
                (
                    hash.to_string(),
                    without_location(item.value(), GENERATED_HASH),
                ),
            );
        }
    }

    /// Remembers what the step of `function` generated, from its output `items`.
    pub fn emitted(&mut self, function: &'static str, items: &[Item]) {
        let generator = lummo_core::generator(function);
        for item in items {
            let Some(hash) = item.annotation(GENERATED_HASH) else {
                continue;
            };
            let Some(keys) = self.read_by_hash.get(hash) else {
                continue;
            };
            if !generator.owns(item) {
                continue;
            }
            let emitted = without_location(item.value(), GENERATED_HASH);
            let differs = keys.iter().any(|key| {
                self.read
                    .get(key)
                    .is_some_and(|(_, disk)| !same(Some(disk), Some(&emitted)))
            });
            if differs {
                self.emitted.insert(hash.to_string(), emitted);
            }
        }
    }

    /// Warnings for the finished (root-relative) `items` whose file, as read,
    /// was edited by hand. `items` is a whole finished subtree: everything read
    /// and emitted so far belongs to it or to one checked before, so all is
    /// forgotten afterwards.
    pub fn check(&mut self, items: &[Item]) -> Vec<ResultItem> {
        let mut warnings = Vec::new();
        for item in items {
            let (Some(hash), Some(file)) = (item.annotation(GENERATED_HASH), item.file_ref())
            else {
                continue;
            };
            let Some((read_hash, on_disk)) = self.read.remove(&(file.path, file.index)) else {
                continue;
            };
            let Some(emitted) = self.emitted.get(hash).filter(|_| read_hash == hash) else {
                continue;
            };
            let last = without_location(item.value(), GENERATED_HASH);
            let mut edits = Vec::new();
            compare(
                &mut Vec::new(),
                Some(&on_disk),
                Some(emitted),
                Some(&last),
                &mut edits,
            );
            if edits.is_empty() {
                continue;
            }
            let spec = spec_of(item, items);
            let total = edits.len();
            for edit in edits.into_iter().take(MAX_FIELDS) {
                let mut warning = ResultItem::warning(edit.message(&spec))
                    .for_object(item.value())
                    .field(edit.path);
                if let Some(value) = edit.on_disk {
                    warning = warning.current_value(value);
                }
                if let Some(value) = edit.generated {
                    warning = warning.proposed_value(value);
                }
                warnings.push(warning);
            }
            if total > MAX_FIELDS {
                warnings.push(
                    ResultItem::warning(format!(
                        "{} more fields were edited by hand and are overwritten too; {}",
                        total - MAX_FIELDS,
                        fix(&spec)
                    ))
                    .for_object(item.value()),
                );
            }
        }
        *self = HandEdits::default();
        warnings
    }
}

/// One field edited by hand.
struct Edit {
    path: String,
    on_disk: Option<Value>,
    generated: Option<Value>,
}

impl Edit {
    fn message(&self, spec: &str) -> String {
        let what = match (&self.on_disk, &self.generated) {
            (Some(Value::String(old)), Some(Value::String(new)))
                if old.contains('\n') || new.contains('\n') =>
            {
                // A multi-line text (a config file): its first differing line.
                let (n, (old_line, new_line)) = old
                    .split('\n')
                    .map(Some)
                    .chain(std::iter::repeat(None))
                    .zip(new.split('\n').map(Some).chain(std::iter::repeat(None)))
                    .enumerate()
                    .find(|(_, (a, b))| a != b)
                    .unwrap_or((0, (None, None)));
                let line = |l: Option<&str>| l.map_or("nothing".to_string(), |l| show(&Value::from(l)));
                format!(
                    "edited by hand: line {} of the file's text is {}, its spec generates {}, and this render writes that back",
                    n + 1,
                    line(old_line),
                    line(new_line)
                )
            }
            (Some(old), Some(new)) => format!(
                "edited by hand: the file has {}, its spec generates {}, and this render writes that back",
                show(old),
                show(new)
            ),
            (Some(old), None) => format!(
                "added by hand ({}); its spec does not generate it, so this render removes it",
                show(old)
            ),
            (None, Some(new)) => format!(
                "removed by hand; its spec generates {}, so this render puts it back",
                show(new)
            ),
            (None, None) => String::new(),
        };
        format!("{what}; {}", fix(spec))
    }
}

fn fix(spec: &str) -> String {
    format!("generated files are rewritten on every render: change the spec {spec} instead")
}

/// `Kind/name in file` of the spec that generated `item`, from its ownership
/// annotation (`<function>:<Kind>/<name>` or `<function>:<Kind>/<namespace>/<name>`)
/// and the folder generated files go to (`<spec folder>/generated/`).
fn spec_of(item: &Item, items: &[Item]) -> String {
    let id = item
        .annotation(lummo_core::GENERATED_BY)
        .and_then(|owner| owner.split_once(':'))
        .map_or("", |(_, id)| id);
    let mut parts = id.split('/');
    let kind = parts.next().unwrap_or("");
    let name = parts.next_back().unwrap_or("");
    let folder = |path: &str| path.rsplit_once('/').map_or("", |(dir, _)| dir).to_string();
    let spec_folder = item
        .file_ref()
        .map(|file| folder(&folder(&file.path)))
        .unwrap_or_default();
    let file = items
        .iter()
        .filter(|spec| spec.kind() == kind && spec.name() == name)
        .filter_map(|spec| spec.file_ref())
        .find(|file| folder(&file.path) == spec_folder);
    match file {
        Some(file) => format!("{id} in {}", file.path),
        None => id.to_string(),
    }
}

/// A short rendering of a value for a message.
fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

enum Segment {
    Key(String),
    Index(usize),
}

/// Collects the fields where `disk` differs from `emitted` while `last` (the
/// render's final object) equals `emitted`.
fn compare(
    path: &mut Vec<Segment>,
    disk: Option<&Value>,
    emitted: Option<&Value>,
    last: Option<&Value>,
    edits: &mut Vec<Edit>,
) {
    if same(disk, emitted) || owned_by_transformers(path) {
        return;
    }
    match (disk, emitted, last) {
        (Some(Value::Object(d)), Some(Value::Object(e)), Some(Value::Object(l))) => {
            let mut keys: Vec<&String> = e.keys().collect();
            keys.extend(d.keys().filter(|k| !e.contains_key(*k)));
            for key in keys {
                path.push(Segment::Key(key.clone()));
                compare(path, d.get(key), e.get(key), l.get(key), edits);
                path.pop();
            }
        }
        (Some(Value::Array(d)), Some(Value::Array(e)), Some(Value::Array(l)))
            if d.len() == e.len() && e.len() == l.len() =>
        {
            for i in 0..e.len() {
                path.push(Segment::Index(i));
                compare(path, d.get(i), e.get(i), l.get(i), edits);
                path.pop();
            }
        }
        _ if same(last, emitted) => edits.push(Edit {
            path: display(path),
            on_disk: disk.filter(|v| !v.is_null()).cloned(),
            generated: emitted.filter(|v| !v.is_null()).cloned(),
        }),
        // A step after the generator changes this field: its value is theirs.
        _ => {}
    }
}

/// Equal as data: numbers by value (a file may spell `1e3` as `1.0e+3`), a null
/// as an absent field.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a.filter(|v| !v.is_null()), b.filter(|v| !v.is_null())) {
        (None, None) => true,
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            x == y || x.as_f64().is_some_and(|x| y.as_f64() == Some(x))
        }
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            x.len() == y.len() && x.iter().all(|(k, v)| same(Some(v), y.get(k)))
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(Some(a), Some(b)))
        }
        (a, b) => a == b,
    }
}

/// Fields the catalog's set-namespace, set-labels, set-annotations, set-image and
/// ensure-name-substring change (their kustomize field specs): object names and
/// namespaces, labels and annotations (also of templates), selectors, images and
/// namespace references.
fn owned_by_transformers(path: &[Segment]) -> bool {
    let key = |i: usize| match path.get(i) {
        Some(Segment::Key(k)) => k.as_str(),
        _ => "",
    };
    if matches!((key(0), key(1)), ("metadata", "name" | "namespace")) {
        return true;
    }
    for i in 0..path.len() {
        match key(i) {
            "metadata" if matches!(key(i + 1), "labels" | "annotations") => return true,
            "selector" => return true,
            _ => {}
        }
    }
    matches!(key(path.len().wrapping_sub(1)), "namespace" | "image")
}

/// `spec.containers[0].env[1].value`; a key with a dot or slash as `["a.b"]`.
fn display(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Key(k) if k.contains(['.', '/', '[', ']']) || k.is_empty() => {
                out.push_str(&format!("[{}]", Value::String(k.clone())));
            }
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edits(disk: Value, emitted: Value, last: Value) -> Vec<String> {
        let mut found = Vec::new();
        compare(
            &mut Vec::new(),
            Some(&disk),
            Some(&emitted),
            Some(&last),
            &mut found,
        );
        found.into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn a_field_no_step_changes_is_a_hand_edit() {
        let emitted = json!({"spec": {"replicas": 2, "env": [{"name": "A", "value": "1"}]}});
        let disk = json!({"spec": {"replicas": 5, "env": [{"name": "A", "value": "2"}]}});
        assert_eq!(
            edits(disk, emitted.clone(), emitted),
            ["spec.replicas", "spec.env[0].value"]
        );
    }

    #[test]
    fn a_field_a_later_step_changes_is_theirs() {
        let emitted = json!({"spec": {"replicas": 2}, "data": {"k": "v"}});
        let last = json!({"spec": {"replicas": 3}, "data": {"k": "v"}});
        let disk = json!({"spec": {"replicas": 3}, "data": {"k": "v"}});
        assert!(edits(disk, emitted, last).is_empty());
    }

    #[test]
    fn transformer_fields_and_number_spellings_are_not_edits() {
        let emitted = json!({"metadata": {"name": "a", "labels": {"x": "1"}},
            "spec": {"selector": {"app": "a"}, "n": 1000, "image": "a:1"}});
        let disk = json!({"metadata": {"name": "a-dev", "namespace": "dev",
            "labels": {"x": "1", "env": "dev"}},
            "spec": {"selector": {"app": "a", "env": "dev"}, "n": 1.0e3, "image": "a:2"}});
        assert!(edits(disk, emitted.clone(), emitted).is_empty());
    }

    #[test]
    fn a_multi_line_text_names_its_first_differing_line() {
        let edit = Edit {
            path: "data.conf".into(),
            on_disk: Some(json!("a\nport = 7000\n")),
            generated: Some(json!("a\nport = 6432\n")),
        };
        assert!(edit
            .message("S/s")
            .starts_with("edited by hand: line 2 of the file's text is \"port = 7000\", its spec generates \"port = 6432\""));
    }

    #[test]
    fn paths_read_as_the_rest_of_the_project_writes_them() {
        let emitted = json!({"data": {"app.conf": "a"}});
        let disk = json!({"data": {"app.conf": "b"}, "extra": true});
        assert_eq!(
            edits(disk, emitted.clone(), emitted),
            ["data[\"app.conf\"]", "extra"]
        );
    }
}
