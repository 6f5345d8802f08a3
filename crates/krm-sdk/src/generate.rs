//! Adding generated objects to a list: ownership, file placement, replace and prune.
//!
//! A generator regenerates everything from all its specs on every run. Its earlier
//! output is recognised by the ownership annotation and replaced as a whole, so an
//! object whose spec entry disappeared is pruned, and user-written objects are never
//! touched.
//!
//! Each generated object also records, in the caller's hash annotation, the hash of
//! itself as emitted ([`content_hash`]). The annotation survives the pipeline's later
//! steps, so a renderer that sees the same hash emitted again knows the spec did not
//! change and can compare the file it read with that emission (a hand edit).

use crate::object::{annotations, set_file, FileRef, ObjectExt};
use crate::resource_list::{Item, ResourceList};
use crate::result::ResultItem;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// Who generates: the annotation that marks ownership and the function's name.
#[derive(Debug, Clone, Copy)]
pub struct Generator {
    /// Annotation key set on every generated object, e.g. `example.com/generated-by`.
    pub annotation: &'static str,
    /// Annotation key holding each generated object's [`content_hash`], e.g.
    /// `example.com/generated-hash`.
    pub hash_annotation: &'static str,
    /// Function name, the first part of the annotation's value.
    pub function: &'static str,
}

/// The objects one spec produced.
#[derive(Debug, Clone)]
pub struct Generated {
    /// `Kind/name` or `Kind/namespace/name` of the spec.
    pub spec_id: String,
    /// Where the spec lives; generated files go to `generated/` beside it.
    pub spec_file: Option<FileRef>,
    /// kpt's package of the spec: generated objects belong to the same package,
    /// so kpt (which makes paths relative to it) writes them beside the spec.
    pub spec_package: Option<String>,
    pub objects: Vec<Value>,
}

impl Generated {
    pub fn from_spec(spec: &Value, objects: Vec<Value>) -> Self {
        let spec_id = match spec.namespace() {
            "" => format!("{}/{}", spec.kind(), spec.name()),
            ns => format!("{}/{ns}/{}", spec.kind(), spec.name()),
        };
        Generated {
            spec_id,
            spec_file: spec.file_ref(),
            spec_package: spec
                .annotation(annotations::PACKAGE_PATH)
                .map(str::to_string),
            objects,
        }
    }
}

impl Generator {
    /// Whether `object` came from this generator: it carries the ownership
    /// annotation and, when it has a file, sits where generators write (a
    /// `generated/` folder). A user's copy of a generated object kept in a file of
    /// their own is theirs, never replaced or pruned: the annotation alone does
    /// not make an object ours.
    pub fn owns(&self, object: &Value) -> bool {
        let marked = object
            .annotation(self.annotation)
            .and_then(|v| v.strip_prefix(self.function))
            .is_some_and(|rest| rest.starts_with(':'));
        marked
            && object.file_ref().is_none_or(|file| {
                let folder = file.path.rsplit_once('/').map_or("", |(folder, _)| folder);
                folder.rsplit('/').next() == Some("generated")
            })
    }

    /// Replaces this generator's earlier output in `list` with `outputs`.
    ///
    /// Does nothing when `list` already holds an error result (no half-writes), and
    /// adds an error instead of changing anything when a generated object collides
    /// with another object of the same kind, namespace and name.
    pub fn apply(&self, list: &mut ResourceList, outputs: Vec<Generated>, hashes: Hashes) {
        if list.has_errors() {
            return;
        }
        let kept: Vec<usize> = (0..list.items.len())
            .filter(|&i| !self.owns(&list.items[i]))
            .collect();
        // Borrowed identities, and owners described only for a conflict: a package
        // holds dozens of objects and every generator (validate runs them all
        // again) looks at each. An owner is a kept item (`Ok`, its index) or what
        // a spec generates (`Err`, the spec's output).
        let mut errors = Vec::new();
        {
            let mut identities: HashMap<Identity, Result<usize, &Generated>> = HashMap::new();
            for &i in &kept {
                identities.insert(identity(&list.items[i]), Ok(i));
            }
            for output in &outputs {
                for object in &output.objects {
                    if let Some(other) = identities.insert(identity(object), Err(output)) {
                        errors.push(conflict(object, output, other, &list.items));
                    }
                }
            }
        }
        if !errors.is_empty() {
            list.results.extend(errors);
            return;
        }
        let mut used: HashSet<(Option<String>, String, u32)> = HashSet::new();
        let mut items: Vec<Item> = Vec::with_capacity(kept.len() + outputs.len() * 4);
        for (i, item) in std::mem::take(&mut list.items).into_iter().enumerate() {
            if kept.binary_search(&i).is_ok() {
                if let Some(file) = item.file_ref() {
                    let package = item
                        .annotation(annotations::PACKAGE_PATH)
                        .map(str::to_string);
                    used.insert((package, file.path, file.index));
                }
                items.push(item);
            }
        }
        for output in outputs {
            let directory = output
                .spec_file
                .as_ref()
                .and_then(|f| f.path.rsplit_once('/').map(|(dir, _)| format!("{dir}/")))
                .unwrap_or_default();
            for mut object in output.objects {
                let path = format!(
                    "{directory}generated/{}_{}.yaml",
                    object.kind().to_ascii_lowercase(),
                    object.name()
                );
                let mut index = 0;
                while !used.insert((output.spec_package.clone(), path.clone(), index)) {
                    index += 1;
                }
                if let Some(package) = &output.spec_package {
                    object.set_annotation(annotations::PACKAGE_PATH, package);
                }
                object.remove_annotation(annotations::ID);
                object.set_annotation(
                    self.annotation,
                    &format!("{}:{}", self.function, output.spec_id),
                );
                if hashes == Hashes::Record {
                    let hash = content_hash(&object, self.hash_annotation);
                    object.set_annotation(self.hash_annotation, &hash);
                }
                set_file(&mut object, &FileRef { path, index });
                items.push(Item::from(object));
            }
        }
        list.items = items;
    }
}

/// The error for `object`, generated by `output`, whose identity `other` (a kept
/// item's index or another spec's output) already has. It names both owners with
/// their files (a spec of a subpackage by its package path: two subpackages may
/// hold the same file name and spec name) and the fix.
fn conflict(
    object: &Value,
    output: &Generated,
    other: Result<usize, &Generated>,
    items: &[Item],
) -> ResultItem {
    let this = owner(
        &output.spec_id,
        output.spec_package.as_deref(),
        output.spec_file.as_ref(),
    );
    let message = match other {
        Ok(i) => {
            let item = &items[i];
            let place = location(item.annotation(annotations::PACKAGE_PATH), item.file_ref().as_ref());
            format!(
                "{} generated by {this} conflicts with the package's {}{}; rename one of them",
                describe(object),
                describe(item),
                place.map(|p| format!(" in {p}")).unwrap_or_default(),
            )
        }
        Err(first) => format!(
            "{} generated by {this} conflicts with what {} generates: a cluster holds one {} of that \
             name in a namespace; change the name one of the two specs gives it, or give them \
             different namespaces",
            describe(object),
            owner(&first.spec_id, first.spec_package.as_deref(), first.spec_file.as_ref()),
            object.kind(),
        ),
    };
    let mut error = ResultItem::error(message);
    error.file = output.spec_file.clone();
    error
}

/// `spec_id`, with the file it is in when known (`Kind/name in pkg/file.yaml`).
fn owner(spec_id: &str, package: Option<&str>, file: Option<&FileRef>) -> String {
    match location(package, file) {
        Some(place) => format!("{spec_id} in {place}"),
        None => spec_id.to_string(),
    }
}

/// A file as kpt's annotations place it: its package path (absolute in kpt and
/// `lummo render`, which makes it relative to the rendered package) joined with
/// its package-relative path.
fn location(package: Option<&str>, file: Option<&FileRef>) -> Option<String> {
    let file = file?;
    Some(match package {
        Some(package) if !package.is_empty() => {
            format!("{}/{}", package.trim_end_matches('/'), file.path)
        }
        _ => file.path.clone(),
    })
}

/// Whether [`Generator::apply`] records each object's [`content_hash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashes {
    Record,
    /// For a caller that only looks at what is generated (lummo-validate running
    /// the generators again on a copy of the specs): the hash is a tenth of their
    /// work.
    Omit,
}

/// `object` without the annotations that say where it is rather than what it is
/// (kpt's path, index and package annotations, `config.k8s.io/id`) and without
/// the annotation `hash_annotation`; `metadata.annotations` goes when emptied.
pub fn without_location(object: &Value, hash_annotation: &str) -> Value {
    let mut object = object.clone();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(map) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            map.retain(|key, _| !is_location(key, hash_annotation));
            if map.is_empty() {
                metadata.shift_remove("annotations");
            }
        }
    }
    object
}

/// The hash a generator records of an object it emits: `sha256:` and the first 16
/// hex digits of the SHA-256 of its canonical JSON (keys sorted, no whitespace, numbers as
/// their text) without location annotations ([`without_location`]). A fixed
/// algorithm over a canonical text, so it is the same for the same object on any
/// platform, release or key order (std's hashers promise none of that).
pub fn content_hash(object: &Value, hash_annotation: &str) -> String {
    // Written straight from the object (no copy without the location annotations,
    // no string per key): every generated object is hashed, twice when validate
    // re-runs the functions.
    let mut text = Vec::with_capacity(4096);
    canonical(object, &mut text, Level::Root, hash_annotation);
    let digest = Sha256::digest(&text);
    // The prefix names the algorithm and keeps the value a plain string in YAML
    // (bare hex digits can read as a number).
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Where [`canonical`] is: the location annotations live at
/// `metadata.annotations` of the root.
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    Metadata,
    Annotations,
    Other,
}

fn is_location(key: &str, hash_annotation: &str) -> bool {
    key == hash_annotation || crate::object::is_kpt_annotation(key)
}

/// The canonical JSON of [`without_location`]`(value)`.
fn canonical(value: &Value, out: &mut Vec<u8>, level: Level, hash_annotation: &str) {
    match value {
        Value::Object(map) => {
            // Pairs, not keys: looking each key up again (a SipHash) cost more
            // than the rest of the hash.
            let mut entries: Vec<(&String, &Value)> = map
                .iter()
                .filter(|(key, child)| match level {
                    Level::Annotations => !is_location(key, hash_annotation),
                    // An annotations mapping left empty goes (as `without_location`).
                    Level::Metadata if key.as_str() == "annotations" => child
                        .as_object()
                        .is_none_or(|a| a.keys().any(|k| !is_location(k, hash_annotation))),
                    _ => true,
                })
                .collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, child)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut *out, key.as_str());
                out.push(b':');
                let inner = match (level, key.as_str()) {
                    (Level::Root, "metadata") => Level::Metadata,
                    (Level::Metadata, "annotations") => Level::Annotations,
                    _ => Level::Other,
                };
                canonical(child, out, inner, hash_annotation);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out, Level::Other, hash_annotation);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

/// Group, kind, namespace and name: what the API server keeps one object of.
type Identity<'a> = (&'a str, &'a str, &'a str, &'a str);

fn identity(object: &Value) -> Identity<'_> {
    let group = object.api_version().rsplit_once('/').map_or("", |(g, _)| g);
    (group, object.kind(), object.namespace(), object.name())
}

fn describe(object: &Value) -> String {
    format!("{} `{}`", object.kind(), object.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GEN: Generator = Generator {
        annotation: "example.com/generated-by",
        hash_annotation: "example.com/generated-hash",
        function: "fn",
    };

    #[test]
    fn the_recorded_hash_is_of_the_content_only() {
        let mut list = ResourceList::new(vec![spec("a")]);
        GEN.apply(
            &mut list,
            vec![Generated::from_spec(&spec("a"), vec![cm("a-1")])],
            Hashes::Record,
        );
        let object = list.items[1].value();
        let hash = object.annotation("example.com/generated-hash").unwrap();
        assert_eq!(hash, content_hash(object, "example.com/generated-hash"));
        // Pinned (Python: sha256 of json.dumps(sort_keys=True, separators=(",", ":"),
        // ensure_ascii=False)): the same on every platform and release (a change here changes
        // every generated file).
        assert_eq!(hash, "sha256:ad3f95d33dc65133");
        // Key order and location annotations do not count; content does.
        let reordered = json!({"metadata": {"annotations": {
            "config.kubernetes.io/path": "elsewhere.yaml",
            "example.com/generated-by": "fn:Spec/a"}, "name": "a-1"},
            "kind": "ConfigMap", "apiVersion": "v1"});
        assert_eq!(content_hash(&reordered, "example.com/generated-hash"), hash);
        let mut changed = reordered.clone();
        changed["data"] = json!({"k": "v"});
        assert_ne!(content_hash(&changed, "example.com/generated-hash"), hash);
    }

    /// The hash is streamed from the object; it must be the hash of the canonical
    /// JSON of the object without its location annotations, whatever they hold.
    #[test]
    fn the_streamed_hash_is_the_hash_of_the_object_without_its_location() {
        let by_copy = |object: &Value| {
            let stripped = without_location(object, "h");
            let text = serde_json::to_string(&sort(&stripped)).unwrap();
            let hex: String = Sha256::digest(text.as_bytes())[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("sha256:{hex}")
        };
        fn sort(value: &Value) -> Value {
            match value {
                Value::Object(map) => {
                    let mut keys: Vec<_> = map.keys().collect();
                    keys.sort();
                    Value::Object(
                        keys.into_iter()
                            .map(|k| (k.clone(), sort(&map[k])))
                            .collect(),
                    )
                }
                Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
                other => other.clone(),
            }
        }
        for object in [
            json!({"kind": "A", "metadata": {"name": "a", "annotations": {"h": "x", "config.k8s.io/id": "1"}}}),
            json!({"kind": "A", "metadata": {"name": "a", "annotations": {}}}),
            json!({"kind": "A", "metadata": {"name": "a", "annotations": {"z": "1", "internal.config.kubernetes.io/path": "p", "a\"q": [1, {"b": null}]}}}),
            json!({"kind": "A", "metadata": {"annotations": "not a map"}, "spec": {"annotations": {"h": "kept"}}}),
            json!({"kind": "A", "metadata": "scalar", "data": {"é": "ü\n", "n": 1.5}}),
        ] {
            assert_eq!(content_hash(&object, "h"), by_copy(&object), "{object}");
        }
    }

    fn spec(name: &str) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Spec", "metadata": {"name": name,
            "annotations": {"config.kubernetes.io/path": "app/spec.yaml"}}})
    }

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    }

    #[test]
    fn replaces_and_prunes_only_its_own_objects() {
        let user = cm("user");
        let mut list = ResourceList::new(vec![spec("a"), user.clone()]);
        GEN.apply(
            &mut list,
            vec![Generated::from_spec(&spec("a"), vec![cm("a-1"), cm("a-2")])],
            Hashes::Record,
        );
        assert_eq!(list.items.len(), 4);
        assert_eq!(
            list.items[2].annotation("config.kubernetes.io/path"),
            Some("app/generated/configmap_a-1.yaml")
        );
        assert_eq!(
            list.items[2].annotation("example.com/generated-by"),
            Some("fn:Spec/a")
        );
        let once = list.items.clone();
        GEN.apply(
            &mut list,
            vec![Generated::from_spec(&spec("a"), vec![cm("a-1"), cm("a-2")])],
            Hashes::Record,
        );
        assert_eq!(list.items, once, "re-running changes nothing");
        GEN.apply(
            &mut list,
            vec![Generated::from_spec(&spec("a"), vec![cm("a-1")])],
            Hashes::Record,
        );
        assert_eq!(list.items.len(), 3, "a-2 is pruned");
        GEN.apply(&mut list, vec![], Hashes::Record);
        assert_eq!(list.items, vec![Item::from(spec("a")), Item::from(user)]);
    }

    #[test]
    fn generated_objects_belong_to_the_package_of_their_spec() {
        let mut spec = spec("a");
        spec.set_annotation(annotations::PACKAGE_PATH, "/pkg/sub");
        let mut list = ResourceList::new(vec![spec.clone()]);
        GEN.apply(
            &mut list,
            vec![Generated::from_spec(&spec, vec![cm("a-1")])],
            Hashes::Record,
        );
        assert_eq!(
            list.items[1].annotation(annotations::PACKAGE_PATH),
            Some("/pkg/sub")
        );
    }

    #[test]
    fn a_users_copy_of_generated_output_is_theirs() {
        // Copied from generated output into a file of the user's: kept, and the
        // regenerated object with the same name is a collision to resolve, not a
        // silent deletion.
        let mut copy = cm("a-1");
        copy.set_annotation("example.com/generated-by", "fn:Spec/a");
        copy.set_annotation("config.kubernetes.io/path", "app/my-config.yaml");
        let mut list = ResourceList::new(vec![spec("a"), copy.clone()]);
        GEN.apply(
            &mut list,
            vec![Generated::from_spec(&spec("a"), vec![cm("a-2")])],
            Hashes::Record,
        );
        assert!(
            list.items.iter().any(|i| i.value() == &copy),
            "the copy is kept"
        );
        assert!(!GEN.owns(&copy));
        let mut ours = copy.clone();
        ours.set_annotation(
            "config.kubernetes.io/path",
            "app/generated/configmap_a-1.yaml",
        );
        assert!(GEN.owns(&ours));
    }

    #[test]
    fn records_the_content_hash_unless_asked_not_to() {
        let hashed = |list: &ResourceList| {
            list.items
                .iter()
                .filter(|i| i.annotation(GEN.hash_annotation).is_some())
                .count()
        };
        let mut list = ResourceList::new(vec![spec("a")]);
        let outputs = || vec![Generated::from_spec(&spec("a"), vec![cm("x")])];
        GEN.apply(&mut list, outputs(), Hashes::Omit);
        assert_eq!((list.items.len(), hashed(&list)), (2, 0));
        GEN.apply(&mut list, outputs(), Hashes::Record);
        assert_eq!((list.items.len(), hashed(&list)), (2, 1));
    }

    #[test]
    fn refuses_to_clobber_user_objects() {
        let mut list = ResourceList::new(vec![spec("a"), cm("taken")]);
        GEN.apply(
            &mut list,
            vec![Generated::from_spec(&spec("a"), vec![cm("taken")])],
            Hashes::Record,
        );
        assert_eq!(list.items.len(), 2);
        assert_eq!(
            list.results[0].message,
            "ConfigMap `taken` generated by Spec/a in app/spec.yaml conflicts with the package's ConfigMap `taken`; rename one of them"
        );
        // Two specs generating the same object.
        let mut list = ResourceList::new(vec![spec("a"), spec("b")]);
        GEN.apply(
            &mut list,
            vec![
                Generated::from_spec(&spec("a"), vec![cm("same")]),
                Generated::from_spec(&spec("b"), vec![cm("same")]),
            ],
            Hashes::Record,
        );
        assert_eq!(list.items.len(), 2);
        assert_eq!(
            list.results[0].message,
            "ConfigMap `same` generated by Spec/b in app/spec.yaml conflicts with what Spec/a in \
             app/spec.yaml generates: a cluster \
             holds one ConfigMap of that name in a namespace; change the name one of the two specs \
             gives it, or give them different namespaces"
        );
    }

    #[test]
    fn a_conflict_between_two_subpackages_names_both_files() {
        // The same spec, in the same file name, of two subpackages: the ids alone
        // are the same, the files tell them apart.
        let placed = |package: &str| {
            let mut s = spec("api");
            s.set_annotation(annotations::PACKAGE_PATH, package);
            s.set_annotation(annotations::PATH, "deployment.yaml");
            s
        };
        let (orders, billing) = (placed("/repo/apps/orders"), placed("/repo/apps/billing"));
        let mut list = ResourceList::new(vec![orders.clone(), billing.clone()]);
        GEN.apply(
            &mut list,
            vec![
                Generated::from_spec(&orders, vec![cm("api")]),
                Generated::from_spec(&billing, vec![cm("api")]),
            ],
            Hashes::Record,
        );
        assert_eq!(list.items.len(), 2);
        assert_eq!(
            list.results[0].message,
            "ConfigMap `api` generated by Spec/api in /repo/apps/billing/deployment.yaml conflicts \
             with what Spec/api in /repo/apps/orders/deployment.yaml generates: a cluster holds one \
             ConfigMap of that name in a namespace; change the name one of the two specs gives it, \
             or give them different namespaces"
        );
        // A user's object elsewhere: named with its file too.
        let mut taken = cm("api");
        taken.set_annotation(annotations::PACKAGE_PATH, "/repo/apps/billing");
        taken.set_annotation(annotations::PATH, "configmap.yaml");
        let mut list = ResourceList::new(vec![orders.clone(), taken]);
        GEN.apply(
            &mut list,
            vec![Generated::from_spec(&orders, vec![cm("api")])],
            Hashes::Record,
        );
        assert_eq!(
            list.results[0].message,
            "ConfigMap `api` generated by Spec/api in /repo/apps/orders/deployment.yaml conflicts \
             with the package's ConfigMap `api` in /repo/apps/billing/configmap.yaml; rename one of them"
        );
    }
}
