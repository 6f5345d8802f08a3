//! Backstage: `lummo backstage-template` and `lummo catalog`.
//!
//! Backstage (a Node.js service) cannot run here, so the scaffolder's part is a
//! small model of what it does, from its source (backstage/backstage,
//! plugins/scaffolder-backend): `fetch:template` renders every skeleton file with
//! Nunjucks configured as `{tags: {variableStart: '${{', variableEnd: '}}'},
//! autoescape: false}` (no trimBlocks/lstripBlocks); a step input that is one
//! `${{ }}` expression keeps its type (`isSingleTemplateString` wraps it in
//! `| dump`); a step runs unless its `if:` renders to false, "", 0, undefined or
//! [] (Template.v1beta3.schema.json). The model covers exactly the Nunjucks the
//! template uses and refuses anything else, so a template change outside it fails.

#[path = "../../../functions/lummo-backstage/tests/common/mod.rs"]
mod schemas;

use lummo_cli::backstage::{parameters, template, template_files};
use lummo_cli::init::{scaffold, InitParams};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");

// ---- the Nunjucks subset -------------------------------------------------

fn lookup<'a>(scope: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = scope.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// JavaScript truthiness (Nunjucks compiles `if` and `or` to JS): [] is true.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(_) => true,
    }
}

/// `path` or `path or path`.
fn expression<'a>(scope: &'a Map<String, Value>, text: &str) -> Option<&'a Value> {
    let mut last = None;
    for operand in text.split(" or ") {
        let operand = operand.trim();
        assert!(
            operand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'),
            "outside the modelled Nunjucks: `{text}`"
        );
        last = lookup(scope, operand);
        if truthy(last) {
            return last;
        }
    }
    last
}

fn output(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Renders `text`; returns the output and the rest after a closing tag in `stop`.
fn render<'t>(
    text: &'t str,
    scope: &Map<String, Value>,
    stop: &[&str],
) -> (String, &'t str, String) {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let variable = rest.find("${{");
        let block = rest.find("{%");
        assert!(
            !rest.contains("{#"),
            "Nunjucks comments are outside the model"
        );
        match (variable, block) {
            (None, None) => {
                out.push_str(rest);
                return (out, "", String::new());
            }
            (Some(v), b) if b.is_none_or(|b| v < b) => {
                out.push_str(&rest[..v]);
                let end = rest[v..].find("}}").expect("closed ${{") + v;
                out.push_str(&output(expression(scope, &rest[v + 3..end])));
                rest = &rest[end + 2..];
            }
            (_, Some(b)) => {
                out.push_str(&rest[..b]);
                let end = rest[b..].find("%}").expect("closed {%") + b;
                let tag = rest[b + 2..end].trim().to_string();
                rest = &rest[end + 2..];
                let word = tag.split_whitespace().next().unwrap_or("");
                if stop.contains(&word) {
                    return (out, rest, word.to_string());
                }
                if let Some(cond) = tag.strip_prefix("if ") {
                    let (yes, after, closer) = render(rest, scope, &["else", "endif"]);
                    let (no, after) = if closer == "else" {
                        let (no, after, closer) = render(after, scope, &["endif"]);
                        assert_eq!(closer, "endif");
                        (no, after)
                    } else {
                        (String::new(), after)
                    };
                    out.push_str(if truthy(expression(scope, cond)) {
                        &yes
                    } else {
                        &no
                    });
                    rest = after;
                } else if let Some(head) = tag.strip_prefix("for ") {
                    let (var, list) = head.split_once(" in ").expect("for x in list");
                    let items = expression(scope, list)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let mut after_loop = None;
                    for item in &items {
                        let mut inner = scope.clone();
                        inner.insert(var.trim().to_string(), item.clone());
                        let (body, after, closer) = render(rest, &inner, &["endfor"]);
                        assert_eq!(closer, "endfor");
                        out.push_str(&body);
                        after_loop = Some(after);
                    }
                    rest = match after_loop {
                        Some(after) => after,
                        None => render(rest, scope, &["endfor"]).1,
                    };
                } else {
                    panic!("outside the modelled Nunjucks: {{% {tag} %}}");
                }
            }
            _ => unreachable!(),
        }
    }
}

// ---- the scaffolder --------------------------------------------------------

/// `${{ (parameters.x | length > 0) and not (...) }}` as Nunjucks evaluates it
/// (`length` of undefined is 0).
fn step_runs(condition: &str, parameters: &Map<String, Value>) -> bool {
    let body = condition
        .strip_prefix("${{")
        .and_then(|c| c.strip_suffix("}}"))
        .expect("${{ }}");
    body.split(" and ").all(|atom| {
        let atom = atom.trim();
        let (negate, atom) = match atom.strip_prefix("not ") {
            Some(rest) => (true, rest),
            None => (false, atom),
        };
        let name = atom
            .strip_prefix("(parameters.")
            .and_then(|a| a.strip_suffix(" | length > 0)"))
            .unwrap_or_else(|| panic!("outside the model: {atom}"));
        let length = match parameters.get(name) {
            Some(Value::String(s)) => s.chars().count(),
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        };
        (length > 0) != negate
    })
}

/// What the form submits: the defaults of every page, overlaid with `given`.
fn submitted(given: Value) -> Map<String, Value> {
    let mut values = Map::new();
    for page in parameters().unwrap().as_array().unwrap() {
        for (key, property) in page["properties"].as_object().unwrap() {
            if let Some(default) = property.get("default") {
                values.insert(key.clone(), default.clone());
            }
        }
    }
    values.extend(given.as_object().unwrap().clone());
    values
}

/// The package Backstage would create from `parameters`: the files of the one
/// fetch:template step that runs, rendered.
fn scaffolded(parameters: &Map<String, Value>) -> Vec<(String, String)> {
    let template = template(VERSION).unwrap();
    let files: BTreeMap<String, String> = template_files(VERSION).unwrap().into_iter().collect();
    let running: Vec<&Value> = template["spec"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "fetch:template")
        .filter(|s| step_runs(s["if"].as_str().unwrap(), parameters))
        .collect();
    assert_eq!(running.len(), 1, "exactly one skeleton for {parameters:?}");
    let input = &running[0]["input"];
    let mut values = Map::new();
    for (key, expr) in input["values"].as_object().unwrap() {
        let name = expr
            .as_str()
            .and_then(|e| e.strip_prefix("${{ parameters."))
            .and_then(|e| e.strip_suffix(" }}"))
            .expect("values are single ${{ parameters.x }} expressions");
        if let Some(value) = parameters.get(name) {
            values.insert(key.clone(), value.clone());
        }
    }
    let mut scope = Map::new();
    scope.insert("values".into(), Value::Object(values));
    let prefix = format!(
        "{}/",
        input["url"].as_str().unwrap().trim_start_matches("./")
    );
    files
        .iter()
        .filter_map(|(path, text)| Some((path.strip_prefix(&prefix)?.to_string(), text)))
        .map(|(path, text)| {
            let (out, rest, closer) = render(text, &scope, &[]);
            assert!(
                rest.is_empty() && closer.is_empty(),
                "{path}: unbalanced tags"
            );
            (path, out)
        })
        .collect()
}

/// The InitParams `lummo init` would get for the same answers.
fn init_params(p: &Map<String, Value>) -> InitParams {
    let text = |k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let list = |k: &str| -> Vec<String> {
        p.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    };
    InitParams {
        name: text("name"),
        part_of: text("partOf"),
        image: text("image"),
        ports: p["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|port| {
                (
                    port["name"].as_str().unwrap().to_string(),
                    port["port"].as_u64().unwrap() as u16,
                )
            })
            .collect(),
        domains: list("domains"),
        topics: list("topics"),
        database: Some(text("database")).filter(|d| !d.is_empty()),
        project_number: Some(text("projectNumber")).filter(|d| !d.is_empty()),
        version: String::new(),
    }
}

/// Whether the form (each page a JSON Schema, as react-jsonschema-form validates
/// it) accepts `values`.
fn form_accepts(values: &Map<String, Value>) -> Result<(), String> {
    for page in parameters().unwrap().as_array().unwrap() {
        let mut schema = page.clone();
        schema["type"] = json!("object");
        let validator = jsonschema::validator_for(&strip_ui(&schema)).map_err(|e| e.to_string())?;
        let instance = Value::Object(values.clone());
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| e.to_string())
            .collect();
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
    }
    Ok(())
}

fn strip_ui(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with("ui:"))
                .map(|(k, v)| (k.clone(), strip_ui(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_ui).collect()),
        other => other.clone(),
    }
}

fn samples() -> Vec<Value> {
    vec![
        json!({"name": "shop", "image": "gcr.io/lummo/shop:1.0.0", "repoUrl": "github.com?owner=lummo&repo=apps"}),
        json!({"name": "orders", "partOf": "commerce", "image": "gcr.io/lummo/orders:2.1",
               "ports": [{"name": "http", "port": 8080}, {"name": "grpc", "port": 9090}],
               "domains": ["orders.example.com", "api.orders.example.com"], "repoUrl": "github.com?owner=lummo&repo=apps"}),
        json!({"name": "billing", "image": "gcr.io/lummo/billing@sha256:0123", "topics": ["invoices", "refunds"],
               "projectNumber": "123456789012", "database": "billing-postgres", "repoUrl": "github.com?owner=lummo&repo=apps"}),
        json!({"name": "ledger", "image": "ledger:3", "topics": ["entries"], "domains": ["ledger.example.com"],
               "database": "ledger-db", "repoUrl": "github.com?owner=lummo&repo=apps"}),
    ]
}

// ---- tests -------------------------------------------------------------------

#[test]
fn template_validates_against_backstages_schema() {
    let template = template(VERSION).unwrap();
    assert_eq!(
        schemas::Schemas::load().problems(&template),
        Vec::<String>::new()
    );
    // What the command writes is that template.
    let files = template_files(VERSION).unwrap();
    let written = krm_sdk::yaml::parse_documents(&files[0].1, &Default::default()).unwrap();
    assert_eq!(written, vec![template]);
}

/// react-jsonschema-form renders these keywords; `anyOf`, `$ref`, `type` lists,
/// `additionalProperties`... of our schemas must not leak into the form.
#[test]
fn form_uses_only_what_react_jsonschema_form_renders() {
    const ALLOWED: [&str; 16] = [
        "title",
        "description",
        "type",
        "default",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "items",
        "minItems",
        "uniqueItems",
        "required",
        "properties",
        "const",
    ];
    fn walk(value: &Value, path: &str, in_properties: bool, bad: &mut Vec<String>) {
        if let Value::Object(map) = value {
            for (key, child) in map {
                if !in_properties && !key.starts_with("ui:") && !ALLOWED.contains(&key.as_str()) {
                    bad.push(format!("{path}.{key}"));
                }
                if !in_properties && key == "type" && !child.is_string() {
                    bad.push(format!("{path}.type is not one type"));
                }
                let nested = !in_properties && key == "properties";
                if !key.starts_with("ui:") && key != "default" {
                    walk(child, &format!("{path}.{key}"), nested, bad);
                }
            }
        }
    }
    let mut bad = Vec::new();
    for (i, page) in parameters().unwrap().as_array().unwrap().iter().enumerate() {
        walk(page, &format!("parameters[{i}]"), false, &mut bad);
    }
    assert_eq!(bad, Vec::<String>::new());
}

#[test]
fn form_fields_carry_our_schemas_descriptions() {
    let form = parameters().unwrap();
    let schema = |kind: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(format!(
                "{}/../../schemas/lummo/{kind}.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap()
    };
    let flat = |s: &Value| {
        s.as_str()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        form[0]["properties"]["name"]["description"],
        flat(&schema("LummoDeployment")["properties"]["spec"]["properties"]["app"]["description"])
    );
    assert_eq!(
        form[1]["properties"]["domains"]["description"],
        flat(
            &schema("LummoNetworking")["properties"]["spec"]["properties"]["domains"]
                ["description"]
        )
    );
    assert_eq!(
        form[1]["properties"]["topics"]["description"],
        flat(&schema("LummoTopic")["properties"]["spec"]["properties"]["topics"]["description"])
    );
    assert_eq!(
        form[1]["properties"]["database"]["description"],
        flat(
            &schema("LummoPgBouncer")["properties"]["spec"]["properties"]["connectionSecret"]
                ["description"]
        )
    );
    assert_eq!(
        form[0]["required"],
        json!(["name", "image"]),
        "what lummo init requires"
    );
}

/// Every skeleton, rendered as Backstage renders it, is byte for byte what
/// `lummo init` writes for the same answers.
#[test]
fn skeletons_render_to_what_lummo_init_writes() {
    let mut variants = std::collections::BTreeSet::new();
    let mut cases: Vec<Value> = samples();
    // Every combination of the optional parts, so each of the 8 skeletons is used.
    for bits in 0..8u8 {
        let mut case = json!({"name": format!("app{bits}"), "image": "img:1", "repoUrl": "github.com?owner=o&repo=r"});
        if bits & 1 != 0 {
            case["domains"] = json!(["a.example.com"]);
        }
        if bits & 2 != 0 {
            case["topics"] = json!(["t"]);
        }
        if bits & 4 != 0 {
            case["database"] = json!("db");
        }
        cases.push(case);
    }
    for case in cases {
        let parameters = submitted(case.clone());
        form_accepts(&parameters).unwrap_or_else(|e| panic!("form refuses {case}: {e}"));
        let params = init_params(&parameters);
        assert_eq!(params.check(), Vec::<String>::new(), "{case}");
        let expected = scaffold(&params);
        let mut actual = scaffolded(&parameters);
        actual.sort();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        pretty_assertions::assert_eq!(actual, expected_sorted, "{case}");
        variants.insert(format!(
            "{}{}{}",
            !params.domains.is_empty(),
            !params.topics.is_empty(),
            params.database.is_some()
        ));
    }
    assert_eq!(variants.len(), 8);
}

/// What the form refuses, `lummo init` refuses too (and so never half-scaffolds).
#[test]
fn form_refuses_what_lummo_init_refuses() {
    for bad in [
        json!({"name": "Shop", "image": "x:1"}),
        json!({"name": "shop-", "image": "x:1"}),
        json!({"name": "shop", "image": "x 1"}),
        json!({"name": "shop", "image": "x:1", "topics": ["Bad_Topic"]}),
        json!({"name": "shop", "image": "x:1", "domains": ["nodot"]}),
        json!({"name": "shop", "image": "x:1", "projectNumber": "my-project"}),
        json!({"name": "shop", "image": "x:1", "ports": [{"name": "averyveryverylongname", "port": 80}]}),
    ] {
        let mut parameters = submitted(bad.clone());
        parameters.insert("repoUrl".into(), json!("github.com?owner=o&repo=r"));
        assert!(form_accepts(&parameters).is_err(), "form accepts {bad}");
        assert!(
            !init_params(&parameters).check().is_empty(),
            "lummo init accepts {bad}"
        );
    }
}

/// `lummo init` quotes these in YAML; the skeleton substitutes values as they are,
/// so the form keeps them out rather than write `- *.example.com` (a YAML alias).
#[test]
fn form_refuses_values_scaffold_would_quote() {
    for odd in [
        json!({"name": "shop", "image": "x:1", "domains": ["*.example.com"]}),
        json!({"name": "shop", "image": "x:1", "domains": ["1.2"]}),
        json!({"name": "shop", "image": "true"}),
    ] {
        let mut parameters = submitted(odd.clone());
        parameters.insert("repoUrl".into(), json!("github.com?owner=o&repo=r"));
        assert!(form_accepts(&parameters).is_err(), "form accepts {odd}");
    }
}

/// The package Backstage creates renders and validates as it is.
#[test]
fn scaffolded_packages_render_and_validate() {
    let lummo = env!("CARGO_BIN_EXE_lummo");
    let root = std::env::temp_dir().join(format!("lummo-backstage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (i, case) in samples().into_iter().enumerate() {
        let dir = root.join(i.to_string());
        for (path, text) in scaffolded(&submitted(case.clone())) {
            std::fs::create_dir_all(dir.join(&path).parent().unwrap()).unwrap();
            std::fs::write(dir.join(&path), text).unwrap();
        }
        for args in [vec!["render"], vec!["validate"]] {
            let out = Command::new(lummo).args(&args).arg(&dir).output().unwrap();
            assert!(
                out.status.success(),
                "lummo {args:?} on {case}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            dir.join("generated").is_dir(),
            "render wrote the generated objects"
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}

// ---- lummo catalog -----------------------------------------------------------

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn catalog(args: &[&str]) -> (bool, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lummo"))
        .current_dir(repo())
        .arg("catalog")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let documents = krm_sdk::yaml::parse_documents(&text, &Default::default()).unwrap();
    (
        out.status.success(),
        documents,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn selector_matches(selector: &str, labels: &Value) -> bool {
    selector.split(',').all(|term| {
        let (key, value) = term.split_once('=').expect("equality-based selector");
        labels.get(key).and_then(Value::as_str) == Some(value)
    })
}

/// Every example's entities validate, and the annotations point at what the
/// package really deploys: the selector finds the app's Rollout and pods (as
/// `kubectl --selector` would), the Argo CD app name is deploy/argocd's
/// Application of that package, the Datadog service is the pods' DD service.
#[test]
fn catalog_of_the_examples_validates_and_points_at_the_deployed_objects() {
    let schemas = schemas::Schemas::load();
    let packages = [
        "Kptfile.examples/tokko-api",
        "Kptfile.examples/workload",
        "Kptfile.examples/pubsub",
        "Kptfile.examples/pgbouncer",
    ];
    let mut args = packages.to_vec();
    args.extend(["--owner", "group:platform"]);
    let (ok, entities, stderr) = catalog(&args);
    assert!(ok, "{stderr}");
    assert!(entities.len() >= 6, "{entities:?}");
    for entity in &entities {
        assert_eq!(schemas.problems(entity), Vec::<String>::new(), "{entity}");
        assert_eq!(
            entity["metadata"]["annotations"]["config.kubernetes.io/local-config"],
            "true"
        );
    }
    let rendered: Vec<Value> = packages
        .iter()
        .flat_map(|p| std::fs::read_dir(repo().join(p).join("generated")).unwrap())
        .flat_map(|f| {
            krm_sdk::yaml::parse_documents(
                &std::fs::read_to_string(f.unwrap().path()).unwrap(),
                &Default::default(),
            )
            .unwrap()
        })
        .collect();
    let application: Value = krm_sdk::yaml::parse_documents(
        &std::fs::read_to_string(repo().join("deploy/argocd/application.yaml")).unwrap(),
        &Default::default(),
    )
    .unwrap()
    .remove(0);
    let components: Vec<&Value> = entities
        .iter()
        .filter(|e| e["kind"] == "Component")
        .collect();
    assert_eq!(
        components.len(),
        2,
        "foobar-api of tokko-api and of workload"
    );
    for component in components {
        let notes = &component["metadata"]["annotations"];
        let selector = notes["backstage.io/kubernetes-label-selector"]
            .as_str()
            .unwrap();
        let rollout = rendered
            .iter()
            .find(|o| {
                o["kind"] == "Rollout" && selector_matches(selector, &o["metadata"]["labels"])
            })
            .unwrap_or_else(|| panic!("{selector} finds no Rollout"));
        assert!(
            selector_matches(selector, &rollout["spec"]["template"]["metadata"]["labels"]),
            "and its pods"
        );
        let service =
            rollout["spec"]["template"]["metadata"]["labels"]["tags.datadoghq.com/service"].clone();
        assert_eq!(notes["datadoghq.com/service-name"], service);
    }
    let tokko = entities.iter().find(|e| {
        e["kind"] == "Component"
            && e["metadata"]["annotations"]["argocd/app-name"] == application["metadata"]["name"]
    });
    assert!(
        tokko.is_some(),
        "deploy/argocd's Application `{}` is named",
        application["metadata"]["name"]
    );
    let database = entities
        .iter()
        .find(|e| e["spec"]["type"] == "database")
        .unwrap();
    let selector = database["metadata"]["annotations"]["backstage.io/kubernetes-label-selector"]
        .as_str()
        .unwrap();
    assert!(
        rendered.iter().any(|o| o["kind"] == "Deployment"
            && selector_matches(selector, &o["spec"]["template"]["metadata"]["labels"])),
        "pgbouncer's pods"
    );
    // Deterministic.
    assert_eq!(catalog(&args).1, entities);
}

#[test]
fn catalog_without_an_owner_fails_naming_the_fix() {
    let (ok, entities, stderr) = catalog(&["Kptfile.examples/workload"]);
    assert!(!ok && entities.is_empty());
    assert!(stderr.contains("--owner"), "{stderr}");
}

/// In a Kptfile pipeline: `generated/catalog-info.yaml` beside the specs, never in
/// what a cluster gets, and rendering again changes nothing.
#[test]
fn pipeline_step_writes_catalog_info_and_keeps_it_off_the_cluster() {
    let lummo = env!("CARGO_BIN_EXE_lummo");
    let dir = std::env::temp_dir().join(format!("lummo-backstage-pipeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let source = repo().join("Kptfile.examples/tokko-api");
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
    let kptfile = std::fs::read_to_string(dir.join("Kptfile")).unwrap().replace(
        "  validators:\n",
        &format!("  - image: ghcr.io/lummo/krm-functions/lummo-backstage:v{VERSION}\n    configPath: backstage-config.yaml\n  validators:\n"),
    );
    std::fs::write(dir.join("Kptfile"), kptfile).unwrap();
    std::fs::write(
        dir.join("backstage-config.yaml"),
        "apiVersion: lummo.dev/v1alpha1\nkind: LummoBackstageConfig\nmetadata:\n  name: backstage-config\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\nspec:\n  owner: group:payments\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(lummo).args(args).arg(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "lummo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["render"]);
    let catalog = std::fs::read_to_string(dir.join("generated/catalog-info.yaml")).unwrap();
    let entities = krm_sdk::yaml::parse_documents(&catalog, &Default::default()).unwrap();
    let kinds: Vec<&str> = entities
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Resource", "Resource", "Resource", "Component"]);
    let schemas = schemas::Schemas::load();
    for entity in &entities {
        assert_eq!(schemas.problems(entity), Vec::<String>::new());
    }
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = walk(&dir);
    run(&["render"]);
    assert!(before == walk(&dir), "a second render changed files");
    let manifests = run(&["render", "--manifests"]);
    assert!(
        !manifests.contains("backstage.io/"),
        "an entity reached the manifests"
    );
    run(&["validate"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn walk(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

/// `-o DIR`: DIR/<package>/catalog-info.yaml, the printed entities; never into an
/// existing folder.
#[test]
fn catalog_output_folder_has_one_file_per_package() {
    let dir = std::env::temp_dir().join(format!("lummo-catalog-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out_dir = dir.to_str().unwrap();
    let args = [
        "Kptfile.examples/tokko-api",
        "Kptfile.examples/pubsub",
        "--owner",
        "group:platform",
    ];
    let (ok, _, stderr) = catalog(&[&args[..], &["-o", out_dir]].concat());
    assert!(ok, "{stderr}");
    let (_, printed, _) = catalog(&args);
    let mut written = Vec::new();
    for package in ["tokko-api", "pubsub"] {
        let text = std::fs::read_to_string(dir.join(package).join("catalog-info.yaml")).unwrap();
        written.extend(krm_sdk::yaml::parse_documents(&text, &Default::default()).unwrap());
    }
    assert_eq!(written, printed);
    let (ok, _, stderr) = catalog(&[&args[..], &["-o", out_dir]].concat());
    assert!(!ok && stderr.contains("already exists"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
