//! `gatekeeper`: audits the package's objects against the Gatekeeper
//! ConstraintTemplates and constraints it holds, as
//! kptdev/krm-functions-catalog `functions/go/gatekeeper` (main.go,
//! validate.go) does at its tags `gatekeeper/v0.1.1` … `gatekeeper/v0.2.1`,
//! with Rego evaluated by Microsoft's regorus interpreter in OPA's v0 syntax
//! (the syntax of every Gatekeeper template of those releases).
//!
//! What the release does, built on OPA's constraint framework and
//! Gatekeeper's `admission.k8s.gatekeeper.sh` target:
//! - every `templates.gatekeeper.sh` `ConstraintTemplate` is a template
//!   (v0.1.x and v0.2.0 decode only `v1beta1`; a `v1alpha1` one is decoded
//!   but ignored; v0.2.1 takes `v1alpha1`, `v1beta1` and `v1`). Its name must
//!   be the lowercase of `spec.crd.spec.names.kind`, it has exactly one target,
//!   `admission.k8s.gatekeeper.sh`, whose `rego` defines `violation`, and
//!   `libs` (packages under `lib`) the rego may import;
//! - every object of the group `constraints.gatekeeper.sh` is a constraint of
//!   the template whose kind it has (`Constraint kind K is not recognized`
//!   otherwise); its `spec.parameters` must fit the template's
//!   `openAPIV3Schema`;
//! - every object but the templates goes into the inventory
//!   (`data.inventory.cluster[<apiVersion>][<kind>][<name>]`, or
//!   `data.inventory.namespace[<namespace>][<apiVersion>][<kind>][<name>]`),
//!   and every object of the inventory is reviewed: `input.review` is
//!   `{"kind": {"group", "version", "kind"}, "name", "object"}` plus
//!   `"namespace"` for a namespaced object, `input.parameters` the
//!   constraint's `spec.parameters` (`{}` when absent), against every
//!   constraint whose `spec.match` selects it (kinds, namespaces,
//!   excludedNamespaces, namespaceSelector, scope, labelSelector, as
//!   Gatekeeper's target library matches them in an audit);
//! - each element of `violation` with a `msg` is one result:
//!   `<msg>\nviolatedConstraint: <constraint name>`, the object's resourceRef
//!   and file, severity `info` for `enforcementAction: dryrun`, `warning` for
//!   `warn`, `error` otherwise. Results are sorted by file path and index,
//!   then severity (error, warning, info), then resourceRef and message. Any
//!   error fails the step.
//!
//! A bad template or constraint stops the release with one error and no
//! resource; lummo's error names the file, the resource and the field path
//! (`spec.targets[0].rego` with the Rego's line and column).
//!
//! Differences: v0.1.1 returned the results unsorted (in the order of OPA's
//! set of responses); lummo sorts them for every release. OPA's rewriting of
//! `data.*` references (only `data.inventory` and `data.lib` are allowed) is
//! not checked: another `data` reference is simply undefined here.

use krm_sdk::{ObjectExt, ResourceList, ResultItem, Severity, Value};
use serde_json::{json, Map};
use std::collections::BTreeMap;

const TARGET: &str = "admission.k8s.gatekeeper.sh";
const CONSTRAINTS: &str = "constraints.gatekeeper.sh";

/// Which ConstraintTemplate versions a release decodes as templates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Release {
    /// v0.1.x and v0.2.0: `v1beta1` only (`v1alpha1` decoded and ignored).
    V0_1,
    /// v0.2.1: every version, through `ToVersionless`.
    V0_2_1,
}

/// v0.2.1 and later.
pub fn process(list: &mut ResourceList) {
    run(list, Release::V0_2_1)
}

/// v0.1.x and v0.2.0.
pub fn process_v0_1(list: &mut ResourceList) {
    run(list, Release::V0_1)
}

fn run(list: &mut ResourceList, release: Release) {
    let objects: Vec<&Value> = list.items.iter().map(|i| i.value()).collect();
    match audit(&objects, release) {
        Ok(results) => list.results.extend(results),
        Err(error) => list.results.push(*error),
    }
}

/// One template, compiled: its constraint kind and its Rego engine.
struct Template {
    engine: regorus::Engine,
    /// `data.<package>.violation`.
    rule: String,
    name: String,
    /// `spec.crd.spec.validation.openAPIV3Schema`, when given.
    schema: Option<Value>,
}

type Failure = Box<ResultItem>;

fn fail(object: &Value, field: &str, message: String) -> Failure {
    let mut item = ResultItem::error(message).for_object(object);
    if !field.is_empty() {
        item = item.field(field);
    }
    Box::new(item)
}

/// `<file>: <Kind> <name>`, how an error names the object.
fn describe(object: &Value) -> String {
    let file = object
        .file_ref()
        .map(|f| format!("{}: ", f.path))
        .unwrap_or_default();
    format!("{file}{} {}", object.kind(), object.name())
}

fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(g, _)| g)
}

fn is_template(object: &Value, release: Release) -> bool {
    object.kind() == "ConstraintTemplate"
        && match release {
            Release::V0_1 => object.api_version() == "templates.gatekeeper.sh/v1beta1",
            Release::V0_2_1 => matches!(
                object.api_version(),
                "templates.gatekeeper.sh/v1alpha1"
                    | "templates.gatekeeper.sh/v1beta1"
                    | "templates.gatekeeper.sh/v1"
            ),
        }
}

/// A typed object of the templates group (decoded by the release's scheme, so
/// never data): every ConstraintTemplate version the release's scheme knows.
fn is_typed(object: &Value, release: Release) -> bool {
    is_template(object, release)
        || release == Release::V0_1
            && object.kind() == "ConstraintTemplate"
            && object.api_version() == "templates.gatekeeper.sh/v1alpha1"
}

fn audit(objects: &[&Value], release: Release) -> Result<Vec<ResultItem>, Failure> {
    // The release reads every object's metadata first (kyaml's
    // GetValidatedMetadata).
    for object in objects {
        for (field, value) in [
            ("apiVersion", object.api_version()),
            ("kind", object.kind()),
            ("metadata.name", object.name()),
        ] {
            if value.is_empty() {
                return Err(fail(
                    object,
                    field,
                    format!("{}: missing `{field}`", describe(object)),
                ));
            }
        }
    }
    let mut templates: BTreeMap<String, Template> = BTreeMap::new();
    for object in objects.iter().filter(|o| is_template(o, release)) {
        let (kind, template) = compile(object)?;
        // A second template of the same kind (and so of the same name) replaces
        // the first, as AddTemplate does.
        templates.insert(kind, template);
    }
    let mut constraints = Vec::new();
    for object in objects
        .iter()
        .filter(|o| group_of(o.api_version()) == CONSTRAINTS)
    {
        let Some(template) = templates.get(object.kind()) else {
            let known: Vec<&str> = templates.keys().map(String::as_str).collect();
            return Err(fail(
                object,
                "kind",
                format!(
                    "{}: Constraint kind {} is not recognized (no ConstraintTemplate in the \
                     package defines it; templates define: {})",
                    describe(object),
                    object.kind(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        check_constraint(object, template)?;
        constraints.push(*object);
    }
    // The inventory: every object but the typed templates, by path; a later
    // object at the same path replaces an earlier one.
    let mut reviewed: BTreeMap<(String, String, String, String), &Value> = BTreeMap::new();
    let mut cluster = Map::new();
    let mut namespaced = Map::new();
    for object in objects.iter().filter(|o| !is_typed(o, release)) {
        let (api_version, kind, name) = (object.api_version(), object.kind(), object.name());
        let ns = object.namespace();
        let root = if ns.is_empty() {
            &mut cluster
        } else {
            namespaced
                .entry(ns.to_string())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("an object")
        };
        insert_path(root, &[api_version, kind, name], (*object).clone());
        reviewed.insert(
            (
                ns.to_string(),
                api_version.to_string(),
                kind.to_string(),
                name.to_string(),
            ),
            object,
        );
    }
    let inventory = json!({"cluster": cluster, "namespace": namespaced});
    let inventory_rego = regorus::Value::from(json!({ "inventory": inventory }));
    let mut engines: BTreeMap<&str, (regorus::Engine, &str)> = BTreeMap::new();
    for (kind, template) in &templates {
        let mut engine = template.engine.clone();
        engine.add_data(inventory_rego.clone()).map_err(|e| {
            Box::new(ResultItem::error(format!(
                "ConstraintTemplate {}: the inventory cannot be given to its Rego: {e}",
                template.name
            )))
        })?;
        engines.insert(kind.as_str(), (engine, template.rule.as_str()));
    }

    let mut results = Vec::new();
    for ((ns, api_version, kind, name), object) in &reviewed {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version.as_str()),
        };
        let mut review = json!({
            "kind": {"group": group, "version": version, "kind": kind},
            "name": name,
            "object": object,
        });
        if !ns.is_empty() {
            review["namespace"] = json!(ns);
        }
        for constraint in &constraints {
            let spec = get_default(constraint, "spec");
            let matcher = get_default(&spec, "match");
            if !matches(&matcher, &review, &inventory) {
                continue;
            }
            let parameters = get_default(&spec, "parameters");
            let (engine, rule) = engines
                .get_mut(constraint.kind())
                .expect("every constraint has its template");
            let input = json!({"review": review, "parameters": parameters});
            for msg in violations(engine, rule, input, constraint, object)? {
                let action = spec
                    .get("enforcementAction")
                    .and_then(Value::as_str)
                    .unwrap_or("deny");
                let severity = match action {
                    "dryrun" => Severity::Info,
                    "warn" => Severity::Warning,
                    _ => Severity::Error,
                };
                let mut item = ResultItem::new(
                    severity,
                    format!("{msg}\nviolatedConstraint: {}", constraint.name()),
                );
                item.resource_ref = Some(object.resource_ref());
                item.file = object.file_ref();
                results.push(item);
            }
        }
    }
    sort(&mut results);
    Ok(results)
}

fn insert_path(root: &mut Map<String, Value>, path: &[&str], value: Value) {
    let mut node = root;
    for key in &path[..path.len() - 1] {
        node = node
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("an object");
    }
    node.insert(path[path.len() - 1].to_string(), value);
}

/// Compiles a template: its constraint kind and engine.
fn compile(object: &Value) -> Result<(String, Template), Failure> {
    let who = describe(object);
    let name = object.name().to_string();
    let kind = object
        .pointer("/spec/crd/spec/names/kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name != kind.to_lowercase() {
        return Err(fail(
            object,
            "spec.crd.spec.names.kind",
            format!(
                "{who}: Template's name {name} is not equal to the lowercase of CRD's Kind: {}",
                kind.to_lowercase()
            ),
        ));
    }
    let targets = object
        .pointer("/spec/targets")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if targets.len() != 1 {
        return Err(fail(
            object,
            "spec.targets",
            format!(
                "{who}: failed to validate targets for template {name}: expected exactly 1 item \
                 in targets, got {}",
                targets.len()
            ),
        ));
    }
    let target = &targets[0];
    let target_name = target.get("target").and_then(Value::as_str).unwrap_or("");
    if target_name != TARGET {
        return Err(fail(
            object,
            "spec.targets[0].target",
            format!(
                "{who}: failed to validate targets for template {name}: target {target_name} \
                 not recognized (the one target is {TARGET})"
            ),
        ));
    }
    let Some(rego) = target.get("rego").and_then(Value::as_str) else {
        return Err(fail(
            object,
            "spec.targets[0].rego",
            format!("{who}: `spec.targets[0].rego` must be a string of Rego"),
        ));
    };
    if let Some(why) = sprintf_hazard(rego) {
        return Err(fail(
            object,
            "spec.targets[0].rego",
            format!("{who}: {why}"),
        ));
    }
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(true);
    // OPA's default: a built-in's error makes its expression undefined.
    engine.set_strict_builtin_errors(false);
    let field = "spec.targets[0].rego";
    let package = engine
        .add_policy(format!("{who} {field}"), rego.to_string())
        .map_err(|e| {
            fail(
                object,
                field,
                format!("{who}: Invalid rego: {}", e.to_string().trim_start()),
            )
        })?;
    let libs = target
        .get("libs")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, lib) in libs.iter().enumerate() {
        let field = format!("spec.targets[0].libs[{i}]");
        let Some(lib) = lib.as_str() else {
            return Err(fail(
                object,
                &field,
                format!("{who}: `{field}` must be a string of Rego"),
            ));
        };
        if let Some(why) = sprintf_hazard(lib) {
            return Err(fail(object, &field, format!("{who}: {why}")));
        }
        engine
            .add_policy(format!("{who} {field}"), lib.to_string())
            .map_err(|e| {
                fail(
                    object,
                    &field,
                    format!("{who}: Invalid rego: {}", e.to_string().trim_start()),
                )
            })?;
    }
    let declares_violation = engine
        .has_declared_rule_rooted_at(&format!("{who} {field}"), "violation")
        .unwrap_or(false);
    if !declares_violation {
        return Err(fail(
            object,
            field,
            format!("{who}: Invalid rego: Missing required rule: violation"),
        ));
    }
    let schema = object
        .pointer("/spec/crd/spec/validation/openAPIV3Schema")
        .filter(|s| s.is_object())
        .cloned();
    Ok((
        kind.to_string(),
        Template {
            engine,
            rule: format!("{package}.violation"),
            name,
            schema,
        },
    ))
}

/// The constraint's `spec.parameters` against the template's schema; unknown
/// fields pass (the constraint CRD's validation does not prune).
fn check_constraint(constraint: &Value, template: &Template) -> Result<(), Failure> {
    if constraint.name().is_empty() {
        return Err(fail(
            constraint,
            "metadata.name",
            format!("{}: Constraint has no name", describe(constraint)),
        ));
    }
    let spec = get_default(constraint, "spec");
    if !spec.is_object() {
        return Err(fail(
            constraint,
            "spec",
            format!("{}: `spec` must be a mapping", describe(constraint)),
        ));
    }
    let parameters = spec.get("parameters").filter(|p| !p.is_null());
    if let Some(why) = parameters.and_then(strings_with_sprintf_hazard) {
        return Err(fail(
            constraint,
            "spec.parameters",
            format!("{}: {why}", describe(constraint)),
        ));
    }
    let Some(schema) = &template.schema else {
        return Ok(());
    };
    let Some(parameters) = parameters else {
        return Ok(());
    };
    let wrapped = json!({"parameters": parameters});
    let schema = json!({"type": "object", "properties": {"parameters": schema}});
    let errors: Vec<_> = krm_sdk::openapi::validate(&schema, &wrapped)
        .into_iter()
        .filter(|e| e.message != "unknown field")
        .collect();
    if let Some(error) = errors.first() {
        let path = format!("spec.{}", error.path);
        return Err(fail(
            constraint,
            &path,
            format!(
                "{}: {path}: {} (the schema of ConstraintTemplate {})",
                describe(constraint),
                error.message,
                template.name
            ),
        ));
    }
    Ok(())
}

/// A `sprintf` width that regorus 0.14.1 cannot read without aborting the process:
/// its `sprintf` takes any Unicode digit (`char::is_numeric`) after `%` and then
/// `to_digit(10).expect(..)`s it (`builtins/strings.rs`), and sums the digits in a
/// `u32`. OPA itself reads such a width as no width. Refused before any
/// evaluation, where the format can stand: the template's Rego and the
/// constraint's parameters (a format built from the audited objects is not seen).
fn sprintf_hazard(text: &str) -> Option<String> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.next_if_eq(&'%').is_some() {
            continue;
        }
        chars.next_if_eq(&'.');
        let mut digits = 0;
        while let Some(d) = chars.next_if(|d| d.is_numeric()) {
            if !d.is_ascii_digit() {
                return Some(format!(
                    "the format width `%{d}` holds a digit other than 0-9, which lummo's Rego \
                     interpreter (regorus) cannot read; write the width with 0-9"
                ));
            }
            digits += 1;
        }
        if digits > 9 {
            return Some(
                "a format width of more than 9 digits is more than lummo's Rego interpreter \
                 (regorus) can read; write a smaller width"
                    .to_string(),
            );
        }
    }
    None
}

/// [`sprintf_hazard`] over every string of a value.
fn strings_with_sprintf_hazard(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => sprintf_hazard(s),
        Value::Array(items) => items.iter().find_map(strings_with_sprintf_hazard),
        Value::Object(map) => map.values().find_map(strings_with_sprintf_hazard),
        _ => None,
    }
}

/// The `msg` of every element of the template's `violation` for one review.
fn violations(
    engine: &mut regorus::Engine,
    rule: &str,
    input: Value,
    constraint: &Value,
    object: &Value,
) -> Result<Vec<String>, Failure> {
    engine.set_input(regorus::Value::from(input));
    let value = engine.eval_rule(rule.to_string()).map_err(|e| {
        fail(
            constraint,
            "",
            format!(
                "{}: evaluating the violation rule of {} for {} failed: {e}",
                describe(constraint),
                constraint.kind(),
                describe(object)
            ),
        )
    })?;
    let mut messages = Vec::new();
    let regorus::Value::Set(set) = value else {
        return Ok(messages);
    };
    for element in set.iter() {
        // An element without a `msg` is not a violation (the audit rule's
        // `r.msg` is undefined).
        let Ok(map) = element.as_object() else {
            continue;
        };
        let Some(msg) = map.get(&regorus::Value::from("msg")) else {
            continue;
        };
        match msg {
            regorus::Value::String(s) => messages.push(s.to_string()),
            other => {
                return Err(fail(
                    constraint,
                    "",
                    format!(
                        "{}: the violation rule of {} gave a `msg` that is not a string for {}: {}",
                        describe(constraint),
                        constraint.kind(),
                        describe(object),
                        other.to_json_str().unwrap_or_default()
                    ),
                ))
            }
        }
    }
    Ok(messages)
}

/// A field that is absent or null reads as `{}` (Gatekeeper's `get_default`).
fn get_default(object: &Value, field: &str) -> Value {
    match object.get(field) {
        None | Some(Value::Null) => json!({}),
        Some(v) => v.clone(),
    }
}

fn has(object: &Value, field: &str) -> bool {
    object.get(field).is_some()
}

fn strings(value: Option<&Value>) -> Vec<&Value> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Whether a constraint's `spec.match` selects a review, as Gatekeeper's
/// target library (pkg/target/regolib/src.rego at v3.4.0) does in an audit.
fn matches(matcher: &Value, review: &Value, inventory: &Value) -> bool {
    let kind = &review["kind"];
    let namespace = review
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let is_namespace = kind["group"] == "" && kind["kind"] == "Namespace";
    // A cluster-scoped object (but a Namespace) passes every namespace rule.
    let cluster_scoped = !is_namespace && namespace.is_empty();
    let ns_name = if is_namespace {
        review.pointer("/object/metadata/name").cloned()
    } else {
        Some(json!(namespace))
    };
    let contains = |list: Option<&Value>, wanted: &Value| strings(list).contains(&wanted);

    // kinds
    let default_kinds = json!([{"apiGroups": ["*"], "kinds": ["*"]}]);
    let kinds = match matcher.get("kinds") {
        None | Some(Value::Null) => &default_kinds,
        Some(k) => k,
    };
    let kind_ok = strings(Some(kinds)).iter().any(|selector| {
        let groups = selector.get("apiGroups");
        let names = selector.get("kinds");
        (contains(groups, &json!("*")) || contains(groups, &kind["group"]))
            && (contains(names, &json!("*")) || contains(names, &kind["kind"]))
    });
    if !kind_ok {
        return false;
    }
    // namespaces, excludedNamespaces
    for (field, wanted) in [("namespaces", true), ("excludedNamespaces", false)] {
        if !has(matcher, field) || cluster_scoped {
            continue;
        }
        let Some(ns) = &ns_name else { return false };
        if contains(matcher.get(field), ns) != wanted {
            return false;
        }
    }
    // namespaceSelector
    if has(matcher, "namespaceSelector") && !cluster_scoped {
        let selector = get_default(matcher, "namespaceSelector");
        let labels = if is_namespace {
            review
                .pointer("/object/metadata/labels")
                .cloned()
                .unwrap_or(json!({}))
        } else {
            match inventory
                .pointer("/cluster/v1/Namespace")
                .and_then(|n| n.get(namespace))
            {
                Some(ns) => ns
                    .pointer("/metadata/labels")
                    .filter(|l| !l.is_null())
                    .cloned()
                    .unwrap_or(json!({})),
                // A Namespace the package does not hold cannot be selected.
                None => return false,
            }
        };
        if !selects(&selector, &labels) {
            return false;
        }
    }
    // scope
    if has(matcher, "scope") {
        let ok = match matcher.get("scope").and_then(Value::as_str) {
            Some("*") => true,
            Some("Namespaced") => !namespace.is_empty(),
            Some("Cluster") => namespace.is_empty(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    // labelSelector
    let labels = review
        .pointer("/object/metadata/labels")
        .filter(|l| !l.is_null())
        .cloned()
        .unwrap_or(json!({}));
    selects(&get_default(matcher, "labelSelector"), &labels)
}

/// A Kubernetes label selector (`matchLabels`, `matchExpressions`) over labels.
fn selects(selector: &Value, labels: &Value) -> bool {
    let match_labels = get_default(selector, "matchLabels");
    if let Some(wanted) = match_labels.as_object() {
        if wanted.iter().any(|(k, v)| labels.get(k) != Some(v)) {
            return false;
        }
    }
    let expressions = match selector.get("matchExpressions") {
        None | Some(Value::Null) => json!([]),
        Some(e) => e.clone(),
    };
    !strings(Some(&expressions)).iter().any(|e| {
        let Some(key) = e.get("key").and_then(Value::as_str) else {
            return false;
        };
        let values = strings(e.get("values"));
        let value = labels.get(key);
        match e.get("operator").and_then(Value::as_str) {
            Some("In") => {
                value.is_none() || !values.is_empty() && !values.contains(&value.unwrap())
            }
            Some("NotIn") => value.is_some_and(|v| !values.is_empty() && values.contains(&v)),
            Some("Exists") => value.is_none(),
            Some("DoesNotExist") => value.is_some(),
            _ => false,
        }
    })
}

/// The release's order: file path, index, severity (error, warning, info),
/// then `resource-ref:<ref>,field:<field>,message:<message>` as Go prints it.
fn sort(results: &mut [ResultItem]) {
    let rank = |s: Severity| match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
        _ => 3,
    };
    let text = |r: &ResultItem| {
        let rr = r.resource_ref.clone().unwrap_or_default();
        format!(
            "resource-ref:{{{{{} {}}} {{{} {}}}}},field:{{ <nil> <nil>}},message:{}",
            rr.api_version, rr.kind, rr.name, rr.namespace, r.message
        )
    };
    results.sort_by(|a, b| {
        let file = |r: &ResultItem| {
            r.file
                .as_ref()
                .map(|f| (f.path.clone(), f.index))
                .unwrap_or_default()
        };
        file(a)
            .cmp(&file(b))
            .then(rank(a.severity).cmp(&rank(b.severity)))
            .then_with(|| text(a).cmp(&text(b)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(yaml: &str) -> ResourceList {
        ResourceList::new(
            krm_sdk::yaml::parse_documents(yaml, &krm_sdk::yaml::Limits::default()).unwrap(),
        )
    }

    const TEMPLATE: &str = r#"
apiVersion: templates.gatekeeper.sh/v1beta1
kind: ConstraintTemplate
metadata:
  name: needlabel
spec:
  crd:
    spec:
      names:
        kind: NeedLabel
      validation:
        openAPIV3Schema:
          properties:
            label:
              type: string
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package needlabel
      violation[{"msg": msg}] {
        not input.review.object.metadata.labels[input.parameters.label]
        msg := sprintf("%v %v has no label %v", [input.review.kind.kind, input.review.name, input.parameters.label])
      }
"#;

    fn run_on(yaml: &str, process: fn(&mut ResourceList)) -> Vec<ResultItem> {
        let mut l = list(yaml);
        process(&mut l);
        l.results
    }

    #[test]
    fn matches_by_namespace_label_and_scope() {
        let yaml = format!(
            "{TEMPLATE}---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: NeedLabel
metadata: {{name: team}}
spec:
  match:
    kinds: [{{apiGroups: [''], kinds: [ConfigMap]}}]
    namespaces: [prod]
    labelSelector:
      matchExpressions: [{{key: skip, operator: DoesNotExist}}]
  parameters: {{label: team}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: a, namespace: prod}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: b, namespace: dev}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: c, namespace: prod, labels: {{skip: 'yes'}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: d, namespace: prod, labels: {{team: x}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: e, namespace: prod}}
"
        );
        let results = run_on(&yaml, process);
        let messages: Vec<_> = results.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(
            messages,
            ["ConfigMap a has no label team\nviolatedConstraint: team"]
        );
        assert_eq!(results[0].severity, Severity::Error);
    }

    #[test]
    fn namespace_selector_needs_the_namespace_in_the_package() {
        let constraint = "---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: NeedLabel
metadata: {name: team}
spec:
  enforcementAction: warn
  match:
    kinds: [{apiGroups: [''], kinds: [ConfigMap]}]
    namespaceSelector: {matchLabels: {env: prod}}
  parameters: {label: team}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: prod}
";
        let without = format!("{TEMPLATE}{constraint}");
        assert!(run_on(&without, process).is_empty());
        let with = format!(
            "{without}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: prod, labels: {{env: prod}}}}\n"
        );
        let results = run_on(&with, process);
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].severity, Severity::Warning);
    }

    /// regorus 0.14.1's `sprintf` aborts the process on a width of Unicode
    /// digits other than 0-9: refused with the field instead.
    #[test]
    fn a_format_width_regorus_cannot_read_is_refused_not_run() {
        let yaml = TEMPLATE.replace("%v %v has", "%\u{00b2}v %v has");
        assert!(yaml.contains('\u{00b2}'));
        let results = run_on(&yaml, process);
        assert_eq!(results.len(), 1, "{results:?}");
        assert!(results[0].is_error());
        assert_eq!(
            results[0].field.as_ref().unwrap().path,
            "spec.targets[0].rego"
        );
        assert!(
            results[0].message.contains("digit other than 0-9"),
            "{}",
            results[0].message
        );
        assert_eq!(sprintf_hazard("%5v %.2f %%٣ %v"), None);
        assert!(sprintf_hazard("%٣v").is_some());
        assert!(sprintf_hazard("%12345678901v").is_some());
    }

    #[test]
    fn broken_rego_names_file_resource_and_field() {
        let yaml = TEMPLATE.replace("not input", "not input[").replace(
            "metadata:\n  name: needlabel\n",
            "metadata:\n  name: needlabel\n  annotations: {config.kubernetes.io/path: policy.yaml}\n",
        );
        let results = run_on(&yaml, process);
        assert_eq!(results.len(), 1, "{results:?}");
        let r = &results[0];
        assert!(r.is_error());
        assert_eq!(r.field.as_ref().unwrap().path, "spec.targets[0].rego");
        assert_eq!(r.file.as_ref().unwrap().path, "policy.yaml");
        assert_eq!(r.resource_ref.as_ref().unwrap().name, "needlabel");
        assert!(
            r.message
                .contains("policy.yaml: ConstraintTemplate needlabel"),
            "{}",
            r.message
        );
    }

    #[test]
    fn unknown_constraint_kind_is_an_error_naming_the_kind() {
        let yaml = format!(
            "{TEMPLATE}---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: NeedLabels
metadata:
  name: team
  annotations: {{config.kubernetes.io/path: c.yaml}}
spec: {{}}
"
        );
        let results = run_on(&yaml, process);
        assert_eq!(results.len(), 1);
        let r = &results[0];
        assert_eq!(r.field.as_ref().unwrap().path, "kind");
        assert_eq!(r.file.as_ref().unwrap().path, "c.yaml");
        assert!(
            r.message
                .contains("c.yaml: NeedLabels team: Constraint kind NeedLabels is not recognized"),
            "{}",
            r.message
        );
        assert!(r.message.contains("templates define: NeedLabel"));
    }

    #[test]
    fn parameters_are_checked_against_the_template_schema() {
        let yaml = format!(
            "{TEMPLATE}---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: NeedLabel
metadata: {{name: team}}
spec:
  parameters: {{label: [a]}}
"
        );
        let results = run_on(&yaml, process);
        assert_eq!(results.len(), 1);
        assert_eq!(
            results[0].field.as_ref().unwrap().path,
            "spec.parameters.label"
        );
    }

    #[test]
    fn template_without_violation_or_with_a_wrong_name() {
        let no_rule = TEMPLATE.replace("violation[", "deny[");
        let r = &run_on(&no_rule, process)[0];
        assert!(
            r.message.ends_with("Missing required rule: violation"),
            "{}",
            r.message
        );
        let wrong = TEMPLATE.replace("kind: NeedLabel", "kind: NeedLabels");
        let r = &run_on(&wrong, process)[0];
        assert_eq!(r.field.as_ref().unwrap().path, "spec.crd.spec.names.kind");
    }

    #[test]
    fn v1_templates_only_from_v0_2_1() {
        let yaml = format!(
            "{}---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: NeedLabel
metadata: {{name: team}}
spec: {{parameters: {{label: team}}, match: {{kinds: [{{apiGroups: [''], kinds: [ConfigMap]}}]}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: a}}
",
            TEMPLATE.replace("v1beta1", "v1")
        );
        assert_eq!(run_on(&yaml, process).len(), 1);
        let old = run_on(&yaml, process_v0_1);
        assert!(old[0].message.contains("is not recognized"), "{old:?}");
    }
}
