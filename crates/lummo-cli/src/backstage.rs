//! Backstage: `lummo catalog` (the catalog entities of packages, from the
//! lummo-backstage function) and `lummo backstage-template` (a Software Template,
//! scaffolder.backstage.io/v1beta3, whose skeleton is what `lummo init` writes).
//!
//! The template's skeleton is not written by hand: [`crate::init::scaffold`] runs
//! with marker values, and the markers become Backstage placeholders
//! (`${{ values.name }}`) and Nunjucks loops. Which files exist depends on the
//! features (domains, topics, database), so there is one skeleton folder per
//! combination and one `fetch:template` step for each, run only when its `if:`
//! holds. `tests/backstage_template.rs` renders every skeleton with a model of
//! Nunjucks' subset used here and compares it with `scaffold` byte for byte.

use crate::init::{scaffold, InitParams};
use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};

/// The template's `metadata.name`.
pub const TEMPLATE_NAME: &str = "lummo-app";

/// Marker values given to `scaffold`; none can occur in its own text.
const NAME: &str = "LUMMOxNAMEx";
const PART_OF: &str = "LUMMOxPARTOFx";
const IMAGE: &str = "LUMMOxIMAGEx";
const PORT_NAME: &str = "lummoxportx";
const PORT: u16 = 65432;
const DOMAIN: &str = "LUMMOxDOMAINx";
const TOPIC: &str = "LUMMOxTOPICx";
const DATABASE: &str = "LUMMOxDATABASEx";
const PROJECT: &str = "LUMMOxPROJECTx";

/// Which optional parts a package has; each combination is one skeleton folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub networking: bool,
    pub pubsub: bool,
    pub postgres: bool,
}

impl Variant {
    pub fn all() -> Vec<Variant> {
        let mut all = Vec::new();
        for bits in 0..8u8 {
            all.push(Variant {
                networking: bits & 1 != 0,
                pubsub: bits & 2 != 0,
                postgres: bits & 4 != 0,
            });
        }
        all
    }

    /// The skeleton folder, e.g. `app-networking-postgres`.
    pub fn folder(&self) -> String {
        let mut folder = String::from("app");
        for (on, part) in [
            (self.networking, "-networking"),
            (self.pubsub, "-pubsub"),
            (self.postgres, "-postgres"),
        ] {
            if on {
                folder.push_str(part);
            }
        }
        folder
    }

    /// The step's `if:`. The scaffolder skips a step whose condition renders to
    /// `false`, `""`, `0` or `[]` (Template.v1beta3.schema.json, `steps[].if`);
    /// Nunjucks' `length` filter gives 0 for an empty list, `""` and undefined.
    pub fn condition(&self) -> String {
        let parts: Vec<String> = [
            ("domains", self.networking),
            ("topics", self.pubsub),
            ("database", self.postgres),
        ]
        .iter()
        .map(|(parameter, on)| {
            let test = format!("(parameters.{parameter} | length > 0)");
            if *on {
                test
            } else {
                format!("not {test}")
            }
        })
        .collect();
        format!("${{{{ {} }}}}", parts.join(" and "))
    }
}

/// The template's files, `(path, text)`: `template.yaml` and every skeleton.
pub fn template_files(version: &str) -> Result<Vec<(String, String)>> {
    let mut files = vec![(
        "template.yaml".to_string(),
        krm_sdk::yaml::to_string(&template(version)?),
    )];
    for variant in Variant::all() {
        for (path, text) in skeleton(variant, version)? {
            files.push((format!("skeleton/{}/{path}", variant.folder()), text));
        }
    }
    Ok(files)
}

/// The skeleton of one variant: `scaffold`'s files with placeholders.
pub fn skeleton(variant: Variant, version: &str) -> Result<Vec<(String, String)>> {
    let params = |project: Option<&str>| InitParams {
        name: NAME.into(),
        part_of: PART_OF.into(),
        image: IMAGE.into(),
        ports: vec![(PORT_NAME.into(), PORT)],
        domains: if variant.networking {
            vec![DOMAIN.into()]
        } else {
            Vec::new()
        },
        topics: if variant.pubsub {
            vec![TOPIC.into()]
        } else {
            Vec::new()
        },
        database: variant.postgres.then(|| DATABASE.into()),
        project_number: project.map(str::to_string),
        version: version.into(),
    };
    let with_project = scaffold(&params(Some(PROJECT)));
    let without_project = scaffold(&params(None));
    let mut files = Vec::new();
    for ((path, with), (other_path, without)) in with_project.iter().zip(&without_project) {
        if path != other_path {
            bail!("lummo init writes other files with and without a project number: {path}, {other_path}");
        }
        let text = if with == without {
            placeholders(with)?
        } else {
            // A file that depends on the project number (pubsub-config.yaml).
            format!(
                "{{% if values.projectNumber %}}{}{{% else %}}{}{{% endif %}}",
                placeholders(with)?,
                placeholders(without)?
            )
        };
        files.push((path.clone(), text));
    }
    Ok(files)
}

/// Marker values → Backstage placeholders and loops over the lists.
fn placeholders(text: &str) -> Result<String> {
    if text.contains("{{") || text.contains("{%") || text.contains("{#") {
        bail!("lummo init wrote Nunjucks syntax, which fetch:template would interpret");
    }
    let loops = [
        (
            format!("    - name: {PORT_NAME}\n      port: {PORT}\n"),
            "{% for port in values.ports %}    - name: ${{ port.name }}\n      port: ${{ port.port }}\n{% endfor %}",
        ),
        (
            format!("  - {DOMAIN}\n"),
            "{% for domain in values.domains %}  - ${{ domain }}\n{% endfor %}",
        ),
        (
            format!("  - {TOPIC}\n"),
            "{% for topic in values.topics %}  - ${{ topic }}\n{% endfor %}",
        ),
    ];
    let mut text = text.to_string();
    for (line, replacement) in &loops {
        text = text.replace(line.as_str(), replacement);
    }
    for (marker, value) in [
        (NAME, "${{ values.name }}"),
        (PART_OF, "${{ values.partOf or values.name }}"),
        (IMAGE, "${{ values.image }}"),
        (DATABASE, "${{ values.database }}"),
        (PROJECT, "${{ values.projectNumber }}"),
    ] {
        text = text.replace(marker, value);
    }
    for marker in [PORT_NAME, DOMAIN, TOPIC] {
        if text.contains(marker) {
            bail!("lummo init wrote `{marker}` where the template expects a list; update crates/lummo-cli/src/backstage.rs");
        }
    }
    Ok(text)
}

/// A property of a Lummo kind's JSON Schema (the one `lummo schema` prints), with
/// `$ref`s into `$defs` followed; e.g. `("LummoDeployment", &["spec", "app"])`.
fn schema_property(kind: &str, path: &[&str]) -> Result<Value> {
    let kinds = lummo_schemas::kinds();
    let found = kinds
        .iter()
        .find(|k| k.kind == kind)
        .with_context(|| format!("no Lummo kind {kind}"))?;
    let root = found.json_schema();
    let mut node = &root;
    for step in path {
        node = resolve(&root, node);
        let next = match *step {
            "[]" => node.get("items"),
            name => node.get("properties").and_then(|p| p.get(name)),
        };
        node = next.with_context(|| format!("{kind} has no {}", path.join(".")))?;
    }
    Ok(resolve(&root, node).clone())
}

/// `{"$ref": "#/$defs/X"}` → the definition; a one-container-or-many `anyOf` →
/// the single form.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let node = match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix("#/")
            .and_then(|pointer| root.pointer(&format!("/{pointer}")))
            .unwrap_or(node),
        None => node,
    };
    match node
        .get("anyOf")
        .or_else(|| node.get("oneOf"))
        .and_then(Value::as_array)
    {
        Some(forms) => forms
            .iter()
            .map(|form| resolve(root, form))
            .find(|form| form.get("type") == Some(&json!("object")))
            .unwrap_or(node),
        None => node,
    }
}

/// The description of a property, on one line.
fn description(kind: &str, path: &[&str]) -> Result<String> {
    let property = schema_property(kind, path)?;
    let text = property
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The JSON type of a property for the form: react-jsonschema-form renders one
/// type per field, so `["string", "null"]` (an optional field) becomes `string`.
fn form_type(kind: &str, path: &[&str]) -> Result<String> {
    let property = schema_property(kind, path)?;
    let kind_of = |t: &Value| t.as_str().map(str::to_string);
    let found = match property.get("type") {
        Some(Value::Array(types)) => types.iter().filter(|t| *t != "null").find_map(kind_of),
        Some(t) => kind_of(t),
        None => None,
    };
    found.with_context(|| format!("{kind} {}: no type", path.join(".")))
}

// The form's patterns are what `lummo init` accepts, narrowed to values that
// `scaffold` writes as plain YAML scalars: the skeleton substitutes them as they
// are, while `scaffold` would quote e.g. `*.example.com` or an all-digit value
// (tests/backstage.rs proves the skeleton equals scaffold's output).
/// A DNS-1035 label (starts with a letter): names, systems, topics, Secrets.
const DNS_LABEL: &str = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
/// The same, or empty (an optional field the form submits as `""`).
const OPTIONAL_DNS_LABEL: &str = "^([a-z]([-a-z0-9]*[a-z0-9])?)?$";
/// A DNS name whose last label starts with a letter; no wildcard (scaffold quotes
/// `*`: add wildcard domains to networking.yaml afterwards).
const DNS_NAME: &str = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]([-a-z0-9]*[a-z0-9])?$";
/// An image with a tag or a digest.
const IMAGE_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._/:-]*(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]+)$";

/// The form: one page about the app, one about what it uses, one for the
/// repository. Only keywords react-jsonschema-form renders: `type`, `title`,
/// `description`, `default`, `enum`, `pattern`, `minLength`, `maxLength`,
/// `minimum`, `maximum`, `items`, `minItems`, `uniqueItems`, `required`,
/// `properties`, plus Backstage's `ui:` hints.
pub fn parameters() -> Result<Value> {
    let string = |kind: &str, path: &[&str], title: &str, extra: Value| -> Result<Value> {
        let mut field = json!({
            "title": title,
            "type": form_type(kind, path)?,
            "description": description(kind, path)?,
        });
        merge(&mut field, extra);
        Ok(field)
    };
    let app = json!({
        "title": "App",
        "required": ["name", "image"],
        "properties": {
            "name": string("LummoDeployment", &["spec", "app"], "Name",
                json!({"pattern": DNS_LABEL, "maxLength": 63, "ui:autofocus": true}))?,
            "partOf": string("LummoDeployment", &["spec", "part-of"], "Part of",
                json!({"pattern": OPTIONAL_DNS_LABEL, "maxLength": 63, "default": "",
                       "ui:help": "Empty: the app's name."}))?,
            "image": string("LummoDeployment", &["spec", "containers", "image"], "Image",
                json!({"pattern": IMAGE_PATTERN, "ui:help": "With its tag, e.g. gcr.io/lummo/shop:1.0.0."}))?,
            "ports": {
                "title": "Ports",
                "type": "array",
                "description": description("LummoDeployment", &["spec", "containers", "ports"])
                    .map(|d| if d.is_empty() { "Named container ports.".to_string() } else { d })?,
                "minItems": 1,
                "default": [{"name": "http", "port": 8080}],
                "items": {
                    "type": "object",
                    "required": ["name", "port"],
                    "properties": {
                        "name": string("LummoDeployment", &["spec", "containers", "ports", "[]", "name"], "Name",
                            json!({"pattern": DNS_LABEL, "maxLength": 15}))?,
                        "port": {
                            "title": "Port",
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 65535,
                        },
                    },
                },
            },
        },
    });
    let uses = json!({
        "title": "What it uses",
        "properties": {
            "domains": {
                "title": "Public domains",
                "type": "array",
                "description": description("LummoNetworking", &["spec", "domains"])?,
                "uniqueItems": true,
                "items": {"type": "string", "pattern": DNS_NAME},
                "default": [],
            },
            "topics": {
                "title": "Pub/Sub topics",
                "type": "array",
                "description": description("LummoTopic", &["spec", "topics"])?,
                "uniqueItems": true,
                "items": {"type": "string", "pattern": DNS_LABEL, "maxLength": 63},
                "default": [],
            },
            "projectNumber": string("LummoPubSubConfig", &["spec", "projectNumber"], "GCP project number",
                json!({"pattern": "^[0-9]*$", "default": "",
                       "ui:help": "Needed for dead letters: the Pub/Sub service agent's grants."}))?,
            "database": string("LummoPgBouncer", &["spec", "connectionSecret"], "Postgres connection Secret",
                json!({"pattern": OPTIONAL_DNS_LABEL, "maxLength": 63, "default": "",
                       "ui:help": "Empty: no Postgres. Set: the app reaches it through pgbouncer."}))?,
        },
    });
    let repository = json!({
        "title": "Repository",
        "required": ["repoUrl", "path"],
        "properties": {
            "repoUrl": {
                "title": "Repository",
                "type": "string",
                "ui:field": "RepoUrlPicker",
                "ui:options": {"allowedHosts": ["github.com"]},
            },
            "path": {
                "title": "Folder",
                "type": "string",
                "description": "The new package goes to <folder>/<name> of the repository.",
                "default": "apps",
            },
        },
    });
    Ok(json!([app, uses, repository]))
}

fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}

/// The Software Template.
pub fn template(version: &str) -> Result<Value> {
    let values: Map<String, Value> = [
        "name",
        "partOf",
        "image",
        "ports",
        "domains",
        "topics",
        "database",
        "projectNumber",
    ]
    .iter()
    .map(|key| {
        (
            key.to_string(),
            json!(format!("${{{{ parameters.{key} }}}}")),
        )
    })
    .collect();
    let mut steps: Vec<Value> = Variant::all()
        .iter()
        .map(|variant| {
            json!({
                "id": format!("fetch-{}", variant.folder()),
                "name": format!("Scaffold ({})", variant.folder()),
                "if": variant.condition(),
                "action": "fetch:template",
                "input": {
                    "url": format!("./skeleton/{}", variant.folder()),
                    "targetPath": "./${{ parameters.path }}/${{ parameters.name }}",
                    "values": values,
                },
            })
        })
        .collect();
    steps.push(json!({
        "id": "publish",
        "name": "Open a pull request",
        "action": "publish:github:pull-request",
        "input": {
            "repoUrl": "${{ parameters.repoUrl }}",
            "branchName": "lummo-init-${{ parameters.name }}",
            "title": "New app ${{ parameters.name }} (lummo init)",
            "description": "Scaffolded by the Backstage template `lummo-app`: the files `lummo init` writes. CI renders and validates the package.",
        },
    }));
    Ok(json!({
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {
            "name": TEMPLATE_NAME,
            "title": "Lummo app",
            "description": format!("A kpt package of Lummo specs for a new app, exactly as `lummo init` (v{version}) scaffolds it: workload, and on demand networking, Pub/Sub and Postgres through pgbouncer."),
            "tags": ["lummo", "kpt"],
        },
        "spec": {
            "owner": "group:platform",
            "type": "service",
            "parameters": parameters()?,
            "steps": steps,
            "output": {
                "links": [{"title": "Pull request", "url": "${{ steps['publish'].output.remoteUrl }}"}],
            },
        },
    }))
}

/// Writes the template into `dir`, which must not exist (never a user's file lost).
pub fn write_template(dir: &std::path::Path, version: &str) -> Result<usize> {
    if dir.exists() {
        bail!(
            "{} already exists; lummo backstage-template writes a new folder (delete it or choose another)",
            dir.display()
        );
    }
    let files = template_files(version)?;
    // Write into a sibling temporary folder and rename it: never half a template.
    let staging = dir.with_extension("lummo-tmp");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    for (path, text) in &files {
        let file = staging.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    }
    std::fs::rename(&staging, dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(files.len())
}

/// Options of `lummo catalog` that become lummo-backstage's functionConfig.
#[derive(Debug, Default)]
pub struct CatalogOptions {
    pub owner: Option<String>,
    pub system: Option<String>,
    pub lifecycle: Option<String>,
    /// A LummoBackstageConfig or ConfigMap file; flags override its keys.
    pub config: Option<std::path::PathBuf>,
}

/// The functionConfig of lummo-backstage from the options.
pub fn catalog_config(options: &CatalogOptions) -> Result<Value> {
    catalog_config_for(options, None)
}

/// The functionConfig of lummo-backstage for one package: `--config`, else the
/// package's own (`own`: what its pipeline gives lummo-backstage), else empty;
/// the flags override its keys.
pub fn catalog_config_for(options: &CatalogOptions, own: Option<Value>) -> Result<Value> {
    let mut config = match &options.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let mut documents = krm_sdk::yaml::parse_documents(&text, &Default::default())
                .with_context(|| format!("{}", path.display()))?;
            if documents.len() != 1 {
                bail!(
                    "{}: expected one LummoBackstageConfig or ConfigMap, found {} documents",
                    path.display(),
                    documents.len()
                );
            }
            documents.remove(0)
        }
        None => own.unwrap_or_else(|| {
            json!({
                "apiVersion": lummo_core::API_VERSION,
                "kind": lummo_backstage::CONFIG_KIND,
                "metadata": {"name": "lummo-catalog"},
                "spec": {},
            })
        }),
    };
    let section = if config.get("kind") == Some(&json!("ConfigMap")) {
        "data"
    } else {
        "spec"
    };
    for (key, value) in [
        ("owner", &options.owner),
        ("system", &options.system),
        ("lifecycle", &options.lifecycle),
    ] {
        if let Some(value) = value {
            if !config.get(section).is_some_and(Value::is_object) {
                config[section] = json!({});
            }
            config[section][key] = json!(value);
        }
    }
    Ok(config)
}

/// The catalog entities of `items` (a package's resources), as a YAML stream, with
/// kpt's bookkeeping annotations removed, and the ownership annotation too: a file
/// written outside a pipeline must not look like a step's output to `lummo render`
/// (which would call it stale); errors are the function's results.
pub fn catalog(
    items: Vec<Value>,
    config: Value,
) -> std::result::Result<String, Vec<krm_sdk::ResultItem>> {
    let mut list = krm_sdk::ResourceList::new(items);
    list.function_config = Some(config);
    lummo_core::function::process::<lummo_backstage::Backstage>(&mut list);
    if list.has_errors() {
        return Err(list.results);
    }
    let mut documents = Vec::new();
    for item in list.items {
        if !<lummo_backstage::Backstage as lummo_core::function::Function>::GENERATOR.owns(&item) {
            continue;
        }
        let mut entity = item.into_value();
        if let Some(annotations) = entity
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            annotations.retain(|key, _| {
                !key.starts_with("internal.config.kubernetes.io/")
                    && !matches!(
                        key.as_str(),
                        "config.kubernetes.io/path"
                            | "config.kubernetes.io/index"
                            | lummo_core::GENERATED_BY
                    )
            });
        }
        documents.push(krm_sdk::yaml::to_string(&entity));
    }
    Ok(documents.join("---\n"))
}
