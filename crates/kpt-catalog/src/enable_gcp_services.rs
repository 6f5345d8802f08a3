//! `enable-gcp-services`: one Config Connector `Service` per service a
//! `ProjectServiceSet` lists, as kptdev/krm-functions-catalog
//! `functions/go/enable-gcp-services` (`main.go`, `gcpservices/`) does at its
//! only tag, `enable-gcp-services/v0.1.0`.
//!
//! Every `blueprints.cloud.google.com/v1alpha1` `ProjectServiceSet` of the list
//! becomes local config (`config.kubernetes.io/local-config: "true"`). For each,
//! in list order: the Services it generated before (annotation
//! `blueprints.cloud.google.com/ownerReference: blueprints.cloud.google.com/ProjectServiceSet/<name>`)
//! are removed, and one `serviceusage.cnrm.cloud.google.com/v1beta1` `Service`
//! named `<set>-<first part of the service>` is added per entry of
//! `spec.services` (after every object of the list), with `spec.resourceID`,
//! `spec.projectRef.external` from `spec.projectID`, the set's namespace and
//! annotations (but kpt's path and index and local-config), the owner
//! annotation, and the path `service_<name>.yaml` in the set's folder.
//! Results: `generated service`, `pruned service` or `recreated service` per
//! Service, sorted by file and then by the text the release compares.
//!
//! The release copies the set's annotations in Go's random map order; kpt then
//! puts them in the set's order, because they include its id annotations
//! (`FunctionFilter.copyCommentsAndSyncOrder` also lends each Service the set's
//! comments). lummo copies them in the set's order and runs the function over
//! the ResourceList's text ([`filter`]) so that kpt's id step happens as well.

use krm_sdk::yaml::Limits;
use krm_sdk::{FileRef, ObjectExt, ResourceList, ResourceRef, ResultItem, Value};

const SET_API_VERSION: &str = "blueprints.cloud.google.com/v1alpha1";
const SET_KIND: &str = "ProjectServiceSet";
const OWNER: &str = "blueprints.cloud.google.com/ownerReference";
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";
/// What a generated Service does not inherit from its set.
const NOT_INHERITED: &[&str] = &[
    "internal.config.kubernetes.io/path",
    "config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "config.kubernetes.io/index",
    LOCAL_CONFIG,
];

pub fn process(list: &mut ResourceList) {
    match generate(&list.items) {
        Ok((items, mut results)) => {
            sort_results(&mut results);
            list.items = items;
            list.results.extend(results);
        }
        Err(message) => list.results.push(ResultItem::error(format!(
            "failed to add services: {message}"
        ))),
    }
}

/// A `ProjectServiceSet` as the release decodes it.
struct ServiceSet {
    name: String,
    namespace: String,
    annotations: Vec<(String, String)>,
    folder: String,
    services: Vec<String>,
    project_id: String,
}

type Key = (String, String, String, String);

fn key(o: &Value) -> Key {
    (
        o.api_version().to_string(),
        o.kind().to_string(),
        o.name().to_string(),
        o.namespace().to_string(),
    )
}

fn generate(items: &[krm_sdk::Item]) -> Result<(Vec<krm_sdk::Item>, Vec<ResultItem>), String> {
    let mut items = items.to_vec();
    let mut sets = Vec::new();
    for item in items.iter_mut() {
        let o = item.value();
        if o.api_version() == SET_API_VERSION && o.kind() == SET_KIND {
            set_local_config(item);
            sets.push(decode(item.value())?);
        }
    }
    let mut generated = Vec::new();
    let mut results = Vec::new();
    for set in &sets {
        if set.services.is_empty() {
            return Err("at least one service must be specified under `spec.services[]`".into());
        }
        let owner = owner(&set.name);
        let mut pruned: Vec<(Key, ResultItem)> = Vec::new();
        items.retain(|item| {
            let o = item.value();
            let managed = o.annotation(OWNER) == Some(owner.as_str());
            if managed {
                pruned.push((key(o), result("pruned service", o)));
            }
            !managed
        });
        let mut made: Vec<(Key, ResultItem)> = Vec::new();
        for service in &set.services {
            let short = service.split('.').next().unwrap_or_default();
            if service.split('.').count() < 3 {
                return Err(format!("invalid service specified: {service}"));
            }
            let object = service_object(set, service, short, &owner);
            made.push((key(&object), result("generated service", &object)));
            generated.push(service_item(object));
        }
        // A Service pruned and generated again is reported once, as recreated.
        for (key, mut result) in pruned {
            if let Some(i) = made.iter().position(|(k, _)| *k == key) {
                let (_, again) = made.remove(i);
                result.message = "recreated service".into();
                result.file = again.file;
            }
            results.push(result);
        }
        results.extend(made.into_iter().map(|(_, r)| r));
    }
    items.extend(generated);
    Ok((items, results))
}

/// Makes the set local config. kyaml's `SetAnnotation` writes the value in
/// single quotes, also over another value; one already `true` keeps its text.
fn set_local_config(item: &mut krm_sdk::Item) {
    if item.value().annotation(LOCAL_CONFIG) == Some("true") {
        return;
    }
    item.update(|o| o.set_annotation(LOCAL_CONFIG, "true"));
    let Some(text) = item.complete_text() else {
        return;
    };
    let written = format!("{LOCAL_CONFIG}: \"true\"");
    if text.matches(&written).count() != 1 {
        return;
    }
    // The text is the object as it sits in its list; `replace_text` takes it at
    // column 0. When a line does not share the indentation, the text stays.
    let text = text.replacen(&written, &format!("{LOCAL_CONFIG}: 'true'"), 1);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines.collect();
    let indent = rest
        .iter()
        .find(|l| !l.trim().is_empty())
        .map_or(0, |l| l.len() - l.trim_start_matches(' ').len());
    let pad = " ".repeat(indent);
    let unindented: Option<Vec<&str>> = rest
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                Some("")
            } else {
                l.strip_prefix(pad.as_str())
            }
        })
        .collect();
    if let Some(rest) = unindented {
        let text = std::iter::once(first)
            .chain(rest)
            .collect::<Vec<_>>()
            .join("\n");
        item.replace_text(&text, &Limits::default());
    }
}

/// `path.Join(group, kind, name)`.
fn owner(name: &str) -> String {
    if name.is_empty() {
        format!("blueprints.cloud.google.com/{SET_KIND}")
    } else {
        format!("blueprints.cloud.google.com/{SET_KIND}/{name}")
    }
}

fn decode(o: &Value) -> Result<ServiceSet, String> {
    let text = |v: &Value| -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Null => Ok(String::new()),
            other => Err(format!(
                "ProjectServiceSet {}: expected a string, found {}",
                o.name(),
                krm_sdk::resource_list::type_name(other)
            )),
        }
    };
    let services = match o.pointer("/spec/services") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.iter().map(text).collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "ProjectServiceSet {}: `spec.services` must be a list of service names, found {}",
                o.name(),
                krm_sdk::resource_list::type_name(other)
            ))
        }
    };
    let annotations = o
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !NOT_INHERITED.contains(&k.as_str()))
                .map(|(k, v)| Ok((k.clone(), text(v)?)))
                .collect::<Result<Vec<_>, String>>()
        })
        .transpose()?
        .unwrap_or_default();
    let path = o
        .annotation("internal.config.kubernetes.io/path")
        .or_else(|| o.annotation("config.kubernetes.io/path"))
        .unwrap_or_default();
    Ok(ServiceSet {
        name: o.name().to_string(),
        namespace: o.namespace().to_string(),
        annotations,
        folder: path.rsplit_once('/').map_or("", |(dir, _)| dir).to_string(),
        services,
        project_id: o
            .pointer("/spec/projectID")
            .map(text)
            .transpose()?
            .unwrap_or_default(),
    })
}

/// The Service the release marshals from its struct, then annotates.
fn service_object(set: &ServiceSet, service: &str, short: &str, owner: &str) -> Value {
    let name = format!("{}-{short}", set.name);
    let mut spec = krm_sdk::json!({"resourceID": service});
    if !set.project_id.is_empty() {
        spec["projectRef"] = krm_sdk::json!({"external": set.project_id});
    }
    let mut object = krm_sdk::json!({
        "apiVersion": "serviceusage.cnrm.cloud.google.com/v1beta1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": spec,
    });
    for (key, value) in &set.annotations {
        object.set_annotation(key, value);
    }
    object.set_annotation(OWNER, owner);
    if !set.namespace.is_empty() {
        object["metadata"]["namespace"] = set.namespace.clone().into();
    }
    // `kioutil.CreatePathAnnotationValue(path.Dir(<set's path>), meta)`.
    let file = format!("service_{}.yaml", name);
    let path = if set.folder.is_empty() {
        file
    } else {
        format!("{}/{file}", set.folder)
    };
    object.set_annotation("internal.config.kubernetes.io/path", &path);
    object
}

/// The Service as the release prints it: go-yaml's default styles for what it
/// marshals from its struct (in the struct's field order), single quotes for the
/// annotations (kyaml's `SetAnnotation` asks for them).
fn service_item(object: Value) -> krm_sdk::Item {
    let quoted: Vec<String> = object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            let value = value.as_str()?;
            // go-yaml writes a value with a line break or a control character
            // double-quoted even when single quotes are asked for.
            // A key that needs quotes keeps go-yaml's default (the original
            // names keys plainly).
            let single = !value.chars().any(char::is_control)
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '_'));
            single.then(|| format!("    {key}: '{}'\n", value.replace('\'', "''")))
        })
        .collect();
    // The annotations' styles come from this original, whose values are those
    // of the object (kyaml_format keeps the style of every unchanged scalar).
    let original = format!("metadata:\n  annotations:\n{}", quoted.concat());
    let text =
        kyaml_format::format_value(Some(&original), &object, kyaml_format::SeqIndent::Compact);
    krm_sdk::Item::from_document(&text, &object, &Limits::default())
        .unwrap_or_else(|| object.into())
}

fn result(message: &str, o: &Value) -> ResultItem {
    let path = o
        .annotation("internal.config.kubernetes.io/path")
        .or_else(|| o.annotation("config.kubernetes.io/path"))
        .unwrap_or_default();
    let mut result = ResultItem::info(message);
    result.resource_ref = Some(ResourceRef {
        api_version: o.api_version().to_string(),
        kind: o.kind().to_string(),
        name: o.name().to_string(),
        namespace: o.namespace().to_string(),
    });
    result.file = Some(FileRef {
        path: path.to_string(),
        index: 0,
    });
    result
}

/// The release's `sortResultItems`: by file path, then by
/// `resource-ref:%s,field:%s,message:%s` of the result (the reference printed as
/// Go prints a pointer to its struct; the field is always nil).
fn sort_results(results: &mut [ResultItem]) {
    let text = |r: &ResultItem| {
        let reference = r.resource_ref.clone().unwrap_or_default();
        format!(
            "resource-ref:&{{{{{} {}}} {{{} {}}}}},field:%!s(*framework.Field=<nil>),message:{}",
            reference.api_version, reference.kind, reference.name, reference.namespace, r.message
        )
    };
    results.sort_by(|a, b| {
        let path = |r: &ResultItem| r.file.as_ref().map(|f| f.path.clone()).unwrap_or_default();
        path(a).cmp(&path(b)).then_with(|| text(a).cmp(&text(b)))
    });
}
