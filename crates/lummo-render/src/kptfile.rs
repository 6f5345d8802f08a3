//! Reading and validating a Kptfile exactly as kpt v1 does, with kpt's messages.
//!
//! kpt decodes the Kptfile with go-yaml's `KnownFields(true)` into its `v1.KptFile`
//! type after checking `apiVersion`/`kind` (kpt `internal/pkg/pkg.go`:
//! `DecodeKptfile`, `CheckKptfileVersion`), then validates the pipeline
//! (`pkg/api/kptfile/v1/validation.go`: `Function.validate`,
//! `validateFnConfigPathSyntax`, `ValidateFunctionImageURL`). The e2e cases of
//! `../shared/kpt-e2e` (basicpipeline-v1alpha1, kptfile-unknown-fields,
//! invalid-configmap-fnconfig, multiple-fnconfig, fnconfig-not-relative,
//! fnconfig-outside-package) hold the messages this module reproduces.

use anyhow::{anyhow, bail, Result};
use krm_sdk::Value;

/// One pipeline step, as kpt's `v1.Function`.
#[derive(Debug, Clone, Default)]
pub struct Step {
    /// kpt's `name:` of the step, which its render status records.
    pub name: String,
    pub image: String,
    pub exec: String,
    pub config_path: String,
    pub config_map: Option<krm_sdk::Map<String, Value>>,
    pub selectors: Vec<Value>,
    pub excludes: Vec<Value>,
    /// `pipeline.mutators[0]` and the like, for messages.
    pub field: String,
}

impl Step {
    /// The image or exec path, as kpt names a step in its output.
    pub fn reference(&self) -> &str {
        if self.image.is_empty() {
            &self.exec
        } else {
            &self.image
        }
    }
}

/// The parts of a Kptfile that rendering uses.
#[derive(Debug, Clone, Default)]
pub struct Kptfile {
    pub mutators: Vec<Step>,
    pub validators: Vec<Step>,
    /// `metadata.annotations`: the newest kpt reads its render options there
    /// (`kpt.dev/bfs-rendering`, `kpt.dev/save-on-render-failure`).
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// The newest kpt's annotation asking for the breadth-first render order.
pub const BFS_RENDERING: &str = "kpt.dev/bfs-rendering";
/// The newest kpt's annotation asking to write what rendered when a step fails.
pub const SAVE_ON_RENDER_FAILURE: &str = "kpt.dev/save-on-render-failure";

impl Kptfile {
    /// Whether an annotation says `true` as kpt's `ToCondition` reads it (any case).
    pub fn annotation_is_true(&self, key: &str) -> bool {
        self.annotations
            .get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

impl Kptfile {
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.mutators.iter().chain(&self.validators)
    }
}

/// The fields kpt's Go types accept, type by type (`KnownFields(true)` rejects any other).
fn fields_of(ty: &str) -> &'static [(&'static str, &'static str)] {
    match ty {
        "v1.KptFile" => &[
            ("apiVersion", "string"),
            ("kind", "string"),
            ("metadata", "yaml.ObjectMeta"),
            ("upstream", "v1.Upstream"),
            ("upstreamLock", "v1.UpstreamLock"),
            ("info", "v1.PackageInfo"),
            ("pipeline", "v1.Pipeline"),
            ("inventory", "v1.Inventory"),
            ("status", "v1.Status"),
        ],
        "yaml.ObjectMeta" => &[
            ("name", "string"),
            ("namespace", "string"),
            ("labels", "map"),
            ("annotations", "map"),
        ],
        "v1.Upstream" => &[
            ("type", "string"),
            ("git", "v1.Git"),
            ("updateStrategy", "string"),
        ],
        "v1.Git" => &[
            ("repo", "string"),
            ("directory", "string"),
            ("ref", "string"),
        ],
        "v1.UpstreamLock" => &[("type", "string"), ("git", "v1.GitLock")],
        "v1.GitLock" => &[
            ("repo", "string"),
            ("directory", "string"),
            ("ref", "string"),
            ("commit", "string"),
        ],
        "v1.PackageInfo" => &[
            ("site", "string"),
            ("emails", "list"),
            ("license", "string"),
            ("licenseFile", "string"),
            ("description", "string"),
            ("keywords", "list"),
            ("man", "string"),
            ("readinessGates", "list"),
        ],
        "v1.Pipeline" => &[
            ("mutators", "[]v1.Function"),
            ("validators", "[]v1.Function"),
        ],
        "v1.Function" => &[
            ("name", "string"),
            ("image", "string"),
            // The newest kpt's semver range for the image's tag (see `resolve_tag`).
            ("tag", "string"),
            ("exec", "string"),
            ("configPath", "string"),
            ("configMap", "map[string]string"),
            ("selectors", "[]v1.Selector"),
            ("exclude", "[]v1.Selector"),
        ],
        "v1.Selector" => &[
            ("apiVersion", "string"),
            ("kind", "string"),
            ("name", "string"),
            ("namespace", "string"),
            ("labels", "map"),
            ("annotations", "map"),
        ],
        "v1.Inventory" => &[
            ("namespace", "string"),
            ("name", "string"),
            ("inventoryID", "string"),
            ("labels", "map"),
            ("annotations", "map"),
        ],
        // The newest kpt's render status (kpt v1.0.0-beta.67, `api/kptfile/v1`);
        // kpt v1.0.0-beta.56 knows `conditions` only and refuses a Kptfile
        // with `renderStatus`.
        "v1.Status" => &[("conditions", "list"), ("renderStatus", "v1.RenderStatus")],
        "v1.RenderStatus" => &[
            ("mutationSteps", "list"),
            ("validationSteps", "list"),
            ("errorSummary", "string"),
        ],
        _ => &[],
    }
}

/// go-yaml's name of a node's tag, for "cannot unmarshal !!seq into string".
fn yaml_tag(value: &Value) -> &'static str {
    match value {
        Value::Null => "!!null",
        Value::Bool(_) => "!!bool",
        Value::Number(n) if n.is_f64() => "!!float",
        Value::Number(_) => "!!int",
        Value::String(_) => "!!str",
        Value::Array(_) => "!!seq",
        Value::Object(_) => "!!map",
    }
}

/// The 1-based line of the first `key:` at or after `from` in `text`.
fn line_of_key(text: &str, key: &str, from: usize) -> usize {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, line)| {
            let t = line.trim_start().trim_start_matches("- ");
            t.starts_with(key) && t[key.len()..].trim_start().starts_with(':')
        })
        .map(|(i, _)| i + 1)
        .unwrap_or(1)
}

/// Walks `value` against kpt's types, collecting go-yaml's unmarshal errors.
fn check_known_fields(value: &Value, ty: &str, text: &str, errors: &mut Vec<String>) {
    if let Some(element) = ty.strip_prefix("[]") {
        if let Value::Array(items) = value {
            for item in items {
                check_known_fields(item, element, text, errors);
            }
        } else if !value.is_null() {
            errors.push(format!(
                "line {}: cannot unmarshal {} into []{element}",
                1,
                yaml_tag(value)
            ));
        }
        return;
    }
    match ty {
        "string" | "map" | "list" => {}
        "map[string]string" => {
            if let Value::Object(map) = value {
                for (key, v) in map {
                    if matches!(v, Value::Array(_) | Value::Object(_)) {
                        let line = line_of_key(text, key, 1) + 1;
                        errors.push(format!(
                            "line {line}: cannot unmarshal {} into string",
                            yaml_tag(v)
                        ));
                    }
                }
            }
        }
        _ => {
            let Value::Object(map) = value else { return };
            let known = fields_of(ty);
            for (key, v) in map {
                match known.iter().find(|(name, _)| name == key) {
                    Some((_, field_type)) => check_known_fields(v, field_type, text, errors),
                    None => errors.push(format!(
                        "line {}: field {key} not found in type {ty}",
                        line_of_key(text, key, 1)
                    )),
                }
            }
        }
    }
}

/// Parses and validates the Kptfile at `path` (for messages) from its text.
pub fn parse(path: &str, text: &str) -> Result<Kptfile> {
    let documents = krm_sdk::yaml::parse_documents(text, &krm_sdk::yaml::Limits::default())
        .map_err(|e| {
            anyhow!(
                "{path} can't be read.\n\nDetails:\nyaml: line {}: {}",
                e.line,
                e.message
            )
        })?;
    let value = documents.into_iter().next().unwrap_or(Value::Null);
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    if group == "kpt.dev" && kind == "Kptfile" && matches!(version, "v1alpha1" | "v1alpha2") {
        bail!(
            "{path} has an old version (\"{version}\") of the Kptfile schema.\n\
             Please update the package to the latest format by following \
             https://kpt.dev/installation/migration."
        );
    }
    if !(group == "kpt.dev" && kind == "Kptfile" && version == "v1") {
        bail!(
            "{path} can't be read: unknown resource type \"{}, Kind={kind}\" found in Kptfile; \
             a Kptfile is `apiVersion: kpt.dev/v1` and `kind: Kptfile`",
            if api_version.is_empty() {
                "/"
            } else {
                api_version
            }
        );
    }
    let mut errors = Vec::new();
    check_known_fields(&value, "v1.KptFile", text, &mut errors);
    if !errors.is_empty() {
        bail!(
            "{path} can't be read.\n\nDetails:\nyaml: unmarshal errors:\n  {}",
            errors.join("\n  ")
        );
    }
    let mut kptfile = Kptfile::default();
    if let Some(annotations) = value
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (key, v) in annotations {
            if let Some(v) = v.as_str() {
                kptfile.annotations.insert(key.clone(), v.to_string());
            }
        }
    }
    for (stage, out) in [
        ("mutators", &mut kptfile.mutators),
        ("validators", &mut kptfile.validators),
    ] {
        let steps = value
            .pointer(&format!("/pipeline/{stage}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, step) in steps.iter().enumerate() {
            let text_of = |key: &str| {
                step.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let mut step = Step {
                name: text_of("name"),
                image: text_of("image"),
                exec: text_of("exec"),
                config_path: text_of("configPath"),
                config_map: step.get("configMap").and_then(Value::as_object).cloned(),
                selectors: list_of(step, "selectors"),
                excludes: list_of(step, "exclude"),
                field: format!("pipeline.{stage}[{i}]"),
            };
            validate_step(&step)?;
            resolve_tag(&mut step, &text_of("tag"))?;
            out.push(step);
        }
    }
    Ok(kptfile)
}

fn list_of(step: &Value, key: &str) -> Vec<Value> {
    step.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// kpt's `ValidateError`, printed as kpt prints it.
pub fn invalid(field: &str, value: &str, reason: &str) -> anyhow::Error {
    let value = if value.is_empty() {
        String::new()
    } else {
        format!("Value: {value:?}\n")
    };
    anyhow!("Kptfile is invalid:\nField: `{field}`\n{value}Reason: {reason}")
}

/// The newest kpt's `tag:` field: a semver range that kpt resolves against the
/// image's tags in its registry. lummo resolves it against the releases it knows
/// of the catalog function (`kpt_catalog::releases`) and gives the step the image
/// with the newest match, as kpt's render status names it
/// (`.../set-namespace:v0.4.3`).
fn resolve_tag(step: &mut Step, range: &str) -> Result<()> {
    if range.is_empty() {
        return Ok(());
    }
    let field = format!("{}.tag", step.field);
    if step.image.is_empty() {
        return Err(invalid(
            &field,
            range,
            "`tag` is for an `image` step; an `exec` step has no tag",
        ));
    }
    let last = step.image.rsplit('/').next().unwrap_or(&step.image);
    if last.contains([':', '@']) {
        return Err(invalid(
            &field,
            range,
            &format!(
                "the image `{}` already has a tag or digest; remove it from the image or remove `tag`",
                step.image
            ),
        ));
    }
    let name = kpt_catalog::parse_image(&step.image).map_or(last, |(name, _)| name);
    let tag =
        kpt_catalog::releases::resolve(name, range).map_err(|why| invalid(&field, range, &why))?;
    step.image = format!("{}:{tag}", step.image);
    Ok(())
}

fn validate_step(step: &Step) -> Result<()> {
    if step.image.is_empty() && step.exec.is_empty() {
        return Err(invalid(
            &step.field,
            "",
            "must specify a functon (`image` or `exec`) to execute",
        ));
    }
    if !step.image.is_empty() && !step.exec.is_empty() {
        return Err(invalid(
            &step.field,
            "",
            "must not specify both `image` and `exec` at the same time",
        ));
    }
    if step.config_map.as_ref().is_some_and(|m| !m.is_empty()) && !step.config_path.is_empty() {
        return Err(invalid(
            &step.field,
            "",
            "functionConfig must not specify both `configMap` and `configPath` at the same time",
        ));
    }
    if !step.config_path.is_empty() {
        if let Err(reason) = config_path_syntax(&step.config_path) {
            return Err(invalid(
                &format!("{}.configPath", step.field),
                &step.config_path,
                reason,
            ));
        }
    }
    Ok(())
}

/// kpt's `validateFnConfigPathSyntax`: relative, inside the package.
fn config_path_syntax(path: &str) -> std::result::Result<(), &'static str> {
    if path.trim().is_empty() {
        return Err("path must not be empty");
    }
    if path.starts_with('/') {
        return Err("path must be relative");
    }
    if clean(path).contains("..") {
        return Err("path must not be outside the package");
    }
    Ok(())
}

/// `filepath.Clean` for slash-separated relative paths.
pub fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\n";

    #[test]
    fn unknown_field_names_line_and_type() {
        let text = format!(
            "{HEAD}pipeline:\n  mutators:\n    - image: set-labels:v0.1\n      targetResources:\n        - kind: Deployment\n"
        );
        let error = parse("Kptfile", &text).unwrap_err().to_string();
        assert!(
            error.contains("line 8: field targetResources not found in type v1.Function"),
            "{error}"
        );
    }

    #[test]
    fn inline_config_is_not_a_kpt_field() {
        let text = format!(
            "{HEAD}pipeline:\n  mutators:\n    - image: a:v1\n      config:\n        x: y\n"
        );
        let error = parse("Kptfile", &text).unwrap_err().to_string();
        assert!(
            error.contains("field config not found in type v1.Function"),
            "{error}"
        );
    }

    #[test]
    fn config_map_values_are_strings() {
        let text = format!(
            "{HEAD}pipeline:\n  mutators:\n    - image: a:v1\n      configMap:\n        envs:\n         - dev\n"
        );
        let error = parse("Kptfile", &text).unwrap_err().to_string();
        assert!(
            error.contains("line 10: cannot unmarshal !!seq into string"),
            "{error}"
        );
    }

    #[test]
    fn old_versions_are_refused() {
        let error = parse("Kptfile", "apiVersion: kpt.dev/v1alpha2\nkind: Kptfile\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("has an old version (\"v1alpha2\") of the Kptfile schema"));
    }

    #[test]
    fn config_paths_stay_inside() {
        for (path, reason) in [
            ("/etc/x.yaml", "path must be relative"),
            (
                "some/../../home/.kube/config",
                "path must not be outside the package",
            ),
        ] {
            let text = format!(
                "{HEAD}pipeline:\n  mutators:\n    - image: a:v1\n      configPath: {path}\n"
            );
            let error = parse("Kptfile", &text).unwrap_err().to_string();
            assert!(error.contains(reason), "{error}");
        }
        let both = format!("{HEAD}pipeline:\n  mutators:\n    - image: a:v1\n      configPath: c.yaml\n      configMap:\n        a: b\n");
        assert!(parse("Kptfile", &both)
            .unwrap_err()
            .to_string()
            .contains("must not specify both"));
    }

    #[test]
    fn clean_paths() {
        assert_eq!(clean("./a//b/../c.yaml"), "a/c.yaml");
        assert_eq!(clean("../x"), "../x");
        assert_eq!(clean("a/../.."), "..");
    }
}
