//! `lummo-backstage`: every app of a package in Backstage's software catalog.
//!
//! Reads the package's Lummo specs (with the generators' own types) and generates
//! Backstage entities, each marked `config.kubernetes.io/local-config` so they never
//! reach a cluster, all in `generated/catalog-info.yaml` beside their spec:
//!
//! - a `Component` (type `service`) per `LummoDeployment` app, with owner, system
//!   (`part-of`, or the functionConfig) and lifecycle, and the annotations Backstage's
//!   plugins read (see [`annotations`]);
//! - a `Resource` per Pub/Sub topic and subscription (`LummoTopic`,
//!   `LummoSubscription`) and per Postgres reached through a `LummoPgBouncer`;
//! - `dependsOn` from a Component to its pgbouncer'd Postgres, the subscriptions its
//!   scaling reads, and, when the package holds exactly one app, every Pub/Sub
//!   resource the package declares (the package is that app's unit of deployment);
//!   `providesApis` and extra `dependsOn` from the functionConfig.
//!
//! It does not model `LummoJob`/`LummoCronJob`-only apps or `LummoNetworking` routes.

pub mod annotations;
pub mod config;
mod provenance;

use config::{AppConfig, Config};
use krm_sdk::{json, FileRef, Generated, ObjectExt, ResourceList, ResultItem, Value};
use lummo_core::descriptor::KindDoc;
use lummo_core::function::{Collector, Function, Output, Role};
use lummo_core::origins::Origins;
use lummo_core::resources::{COMPONENT, RESOURCE};
use lummo_core::Spec;
use lummo_pgbouncer::LummoPgBouncerSpec;
use lummo_pubsub::spec::{LummoSubscriptionSpec, LummoTopicSpec};
use lummo_workload::spec::LummoDeploymentSpec;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Kind of a typed functionConfig (a ConfigMap with the same keys works too).
pub const CONFIG_KIND: &str = "LummoBackstageConfig";
/// The file of a directory's entities: Backstage's conventional name, so a
/// discovery glob such as `**/catalog-info.yaml` finds them.
pub const CATALOG_FILE: &str = "catalog-info.yaml";

/// The function: the package's apps, Pub/Sub resources and Postgres as one
/// catalog, read with the generators' own spec types.
pub struct Backstage;

/// The specs of a package that make its catalog.
pub struct Specs {
    deployments: Vec<Spec<LummoDeploymentSpec>>,
    topics: Vec<Spec<LummoTopicSpec>>,
    subscriptions: Vec<Spec<LummoSubscriptionSpec>>,
    poolers: Vec<Spec<LummoPgBouncerSpec>>,
}

impl Function for Backstage {
    const NAME: &'static str = "lummo-backstage";
    const ABOUT: &'static str = "Turns a package's Lummo specs into Backstage catalog entities (local-config, in\n\
            generated/catalog-info.yaml): a Component per LummoDeployment app with the Kubernetes,\n\
            Argo CD and Datadog annotations, and Resources for its Pub/Sub topics and subscriptions\n\
            and its Postgres behind pgbouncer, linked by dependsOn.";
    const KINDS: &'static [KindDoc] = &[KindDoc {
        kind: CONFIG_KIND,
        about: "functionConfig of lummo-backstage: Backstage owner, system, lifecycle and links of the apps (a ConfigMap with the same keys works too).",
        example: None,
        schema: lummo_core::descriptor::schema_of::<config::Config>,
        function_config: true,
    }];
    const ROLE: Role = Role::LocalGenerator;
    type Config = Config;
    type Specs = Specs;

    fn collect(collector: &mut Collector<'_>) -> Specs {
        Specs {
            deployments: collector.specs(lummo_workload::KIND),
            topics: collector.specs(lummo_pubsub::TOPIC_KIND),
            subscriptions: collector.specs(lummo_pubsub::SUBSCRIPTION_KIND),
            poolers: collector.specs(lummo_pgbouncer::KIND),
        }
    }

    fn render(specs: Specs, config: &Config, package: &ResourceList) -> Output {
        let kptfiles: HashMap<String, String> = package
            .items
            .iter()
            .filter(|item| item.kind() == "Kptfile")
            .filter_map(|item| Some((directory(&item.file_ref()?.path), item.name().to_string())))
            .collect();
        let mut catalog = Catalog {
            config,
            kptfiles,
            problems: Vec::new(),
            origins: Origins::new(),
        };
        let generated = catalog.build(
            &specs.deployments,
            &specs.topics,
            &specs.subscriptions,
            &specs.poolers,
        );
        Output {
            generated,
            problems: catalog.problems,
            origins: catalog.origins.objects,
        }
    }

    fn place(list: &mut ResourceList) {
        place_in_catalog_files(list);
    }
}

struct Catalog<'a> {
    config: &'a Config,
    /// Kptfile name by the folder that holds it.
    kptfiles: HashMap<String, String>,
    problems: Vec<ResultItem>,
    /// Where each entity's fields come from ([`provenance`]).
    origins: Origins,
}

/// Owner, system and lifecycle of an entity.
struct Ownership {
    owner: String,
    system: Option<String>,
    lifecycle: String,
}

impl<'a> Catalog<'a> {
    fn build(
        &mut self,
        deployments: &[Spec<LummoDeploymentSpec>],
        topics: &[Spec<LummoTopicSpec>],
        subscriptions: &[Spec<LummoSubscriptionSpec>],
        poolers: &[Spec<LummoPgBouncerSpec>],
    ) -> Vec<Generated> {
        self.check_config_apps(deployments);
        let apps: BTreeSet<&str> = deployments.iter().map(|d| d.spec.app.as_str()).collect();
        // The one app of the package owns what the package declares beside it.
        let only_app = match (apps.len(), deployments.first()) {
            (1, Some(deployment)) => Some(deployment),
            _ => None,
        };
        let mut outputs = Vec::new();
        let mut pubsub_refs = Vec::new();
        for spec in topics {
            let ownership = self.ownership(only_app, spec, None);
            let mut objects = Vec::new();
            for (i, topic) in spec.spec.topics.iter().enumerate() {
                let full = format!("{}{topic}", spec.spec.prefix);
                let field = format!("topics[{i}]");
                let Some(name) = self.entity_name(spec, &field, &full) else {
                    continue;
                };
                pubsub_refs.push(format!("resource:{name}"));
                if let Some(ownership) = &ownership {
                    let object = resource(
                        &name,
                        "pubsub-topic",
                        &format!("Pub/Sub topic `{full}`"),
                        ownership,
                        Vec::new(),
                    );
                    let entry = format!("spec.{field}");
                    provenance::pubsub(&mut self.origins, &object, &entry, &[&entry]);
                    objects.push(object);
                }
            }
            outputs.push(Generated::from_spec(&spec.object, objects));
        }
        for spec in subscriptions {
            let ownership = self.ownership(only_app, spec, None);
            let mut objects = Vec::new();
            for (i, entry) in spec.spec.subscriptions.iter().enumerate() {
                let full = format!("{}{}", spec.spec.prefix, entry.subscription);
                let topic = format!("{}{}", spec.spec.prefix, entry.topic);
                let field = format!("subscriptions[{i}].subscription");
                let Some(name) = self.entity_name(spec, &field, &full) else {
                    continue;
                };
                let topic_field = format!("subscriptions[{i}].topic");
                let Some(topic_name) = self.entity_name(spec, &topic_field, &topic) else {
                    continue;
                };
                pubsub_refs.push(format!("resource:{name}"));
                if let Some(ownership) = &ownership {
                    let about = format!("Pub/Sub subscription `{full}` on topic `{topic}`");
                    let depends = vec![format!("resource:{topic_name}")];
                    let object = resource(&name, "pubsub-subscription", &about, ownership, depends);
                    let entry = format!("spec.subscriptions[{i}]");
                    provenance::pubsub(
                        &mut self.origins,
                        &object,
                        &entry,
                        &[&format!("spec.{field}")],
                    );
                    objects.push(object);
                }
            }
            outputs.push(Generated::from_spec(&spec.object, objects));
        }
        let mut databases: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for spec in poolers {
            let app = deployments.iter().find(|d| d.spec.app == spec.spec.app);
            let ownership = self.ownership(app.or(only_app), spec, spec.spec.part_of.as_deref());
            let name = spec.name();
            databases
                .entry(&spec.spec.app)
                .or_default()
                .push(format!("resource:{name}"));
            let Some(ownership) = ownership else {
                outputs.push(Generated::from_spec(&spec.object, Vec::new()));
                continue;
            };
            // The port clients really use: the app connects to pgbouncer's Service,
            // never to PostgreSQL's own port.
            let about = format!(
                "Postgres of {}, reached through pgbouncer (Service `{name}`, port {})",
                spec.spec.app,
                lummo_pgbouncer::PORT
            );
            let mut object = resource(name, "database", &about, &ownership, Vec::new());
            let selector = annotations::label_selector(&lummo_core::selector_labels(name));
            object.set_annotation(annotations::KUBERNETES_LABEL_SELECTOR, &selector);
            if !spec.object.namespace().is_empty() {
                object.set_annotation(annotations::KUBERNETES_NAMESPACE, spec.object.namespace());
            }
            provenance::database(&mut self.origins, &object);
            outputs.push(Generated::from_spec(&spec.object, vec![object]));
        }
        for spec in deployments {
            let objects = match self.component(spec, only_app.is_some(), &pubsub_refs, &databases) {
                Some(component) => {
                    provenance::component(&mut self.origins, &component);
                    vec![component]
                }
                None => Vec::new(),
            };
            outputs.push(Generated::from_spec(&spec.object, objects));
        }
        outputs
    }

    /// A `apps.<name>` entry of the config that names no app is a typo.
    fn check_config_apps(&mut self, deployments: &[Spec<LummoDeploymentSpec>]) {
        let apps: Vec<&str> = deployments.iter().map(|d| d.spec.app.as_str()).collect();
        for name in self.config.apps.keys() {
            if apps.contains(&name.as_str()) {
                continue;
            }
            let hint = match krm_sdk::decode::suggest(name, apps.iter().copied()) {
                Some(best) => format!("; did you mean `{best}`?"),
                None if apps.is_empty() => "; the package has no LummoDeployment".to_string(),
                None => format!("; the apps are {}", apps.join(", ")),
            };
            self.problems.push(
                ResultItem::error(format!(
                    "functionConfig apps.{name}: no LummoDeployment has `app: {name}`{hint}"
                ))
                .field(format!("apps.{name}")),
            );
        }
    }

    fn app_config(&self, app: &str) -> AppConfig {
        self.config.apps.get(app).cloned().unwrap_or_default()
    }

    /// Owner, system and lifecycle of what `spec` generates, from its app (if any)
    /// and the config; an error (and `None`) without an owner.
    fn ownership<T>(
        &mut self,
        app: Option<&Spec<LummoDeploymentSpec>>,
        spec: &Spec<T>,
        part_of: Option<&str>,
    ) -> Option<Ownership> {
        let app_name = app.map(|a| a.spec.app.as_str());
        let app_config = app_name.map(|a| self.app_config(a)).unwrap_or_default();
        let owner = app_config
            .owner
            .clone()
            .or_else(|| self.config.owner.clone());
        let Some(owner) = owner else {
            let scope = app_name
                .map(|a| format!(" or `apps.{a}.owner`"))
                .unwrap_or_default();
            self.problems.push(
                spec.error("", format!(
                    "Backstage needs an owner for every entity: set `owner`{scope} in lummo-backstage's functionConfig (kind {CONFIG_KIND}, `spec: {{owner: group:<team>}}`); in a Kptfile give the lummo-backstage step `configPath: backstage-config.yaml`; or `lummo catalog --owner group:<team>`"
                ))
                .tag(lummo_core::NEEDS_CONFIG_TAG, "owner"),
            );
            return None;
        };
        let system = app_config
            .system
            .clone()
            .or_else(|| app.and_then(|a| a.spec.part_of.clone().map(String::from)))
            .or_else(|| part_of.map(str::to_string))
            .or_else(|| self.config.system.clone());
        let lifecycle = app_config
            .lifecycle
            .clone()
            .unwrap_or_else(|| self.config.lifecycle.clone());
        Some(Ownership {
            owner,
            system,
            lifecycle,
        })
    }

    /// The Backstage name of a Pub/Sub resource: the Kubernetes name lummo-pubsub
    /// gives its object (lower case, `-` for `_~+%`), which must also pass
    /// Backstage's `isValidObjectName` (at most 63 characters).
    fn entity_name<T>(&mut self, spec: &Spec<T>, field: &str, pubsub: &str) -> Option<String> {
        let name = lummo_pubsub::kubernetes_name(pubsub);
        match annotations::check_entity_name(&name) {
            Ok(()) => Some(name),
            Err(message) => {
                self.problems.push(spec.error(field, format!(
                    "`{pubsub}` becomes the Backstage entity name `{name}`, which {message}; shorten the name or its prefix"
                )));
                None
            }
        }
    }

    fn component(
        &mut self,
        spec: &Spec<LummoDeploymentSpec>,
        owns_package: bool,
        pubsub_refs: &[String],
        databases: &BTreeMap<&str, Vec<String>>,
    ) -> Option<Value> {
        let app = spec.spec.app.as_str();
        if let Err(message) = annotations::check_entity_name(app) {
            self.problems.push(spec.error(
                "app",
                format!("`{app}` cannot name a Backstage Component: it {message}"),
            ));
            return None;
        }
        let ownership = self.ownership(Some(spec), spec, None)?;
        let app_config = self.app_config(app);
        let mut depends: BTreeSet<String> = BTreeSet::new();
        if owns_package {
            depends.extend(pubsub_refs.iter().cloned());
        }
        for trigger in spec.spec.scaling.iter().flat_map(|s| &s.pubsub_topic) {
            depends.insert(format!(
                "resource:{}",
                lummo_pubsub::kubernetes_name(&trigger.name)
            ));
        }
        depends.extend(databases.get(app).into_iter().flatten().cloned());
        depends.extend(app_config.depends_on.iter().cloned());
        let provides: BTreeSet<String> = app_config.provides_apis.iter().cloned().collect();

        let mut notes = BTreeMap::new();
        let selector = annotations::label_selector(&lummo_core::selector_labels(app));
        notes.insert(annotations::KUBERNETES_LABEL_SELECTOR, selector);
        if !spec.object.namespace().is_empty() {
            notes.insert(
                annotations::KUBERNETES_NAMESPACE,
                spec.object.namespace().to_string(),
            );
        }
        let argocd = app_config
            .argocd_app_name
            .clone()
            .or_else(|| self.config.argocd_app_name.clone())
            .or_else(|| self.kptfile_of(&spec.object))
            .unwrap_or_else(|| app.to_string());
        notes.insert(annotations::ARGOCD_APP_NAME, argocd);
        if spec.spec.monitoring.datadog {
            // lummo-workload sets DD_SERVICE (tags.datadoghq.com/service) to the app.
            notes.insert(annotations::DATADOG_SERVICE_NAME, app.to_string());
            if let Some(site) = &self.config.datadog_site {
                notes.insert(annotations::DATADOG_SITE, site.clone());
            }
            if let Some(url) = &app_config.datadog_dashboard_url {
                notes.insert(annotations::DATADOG_DASHBOARD_URL, url.clone());
            }
        }
        let description = app_config.description.clone().unwrap_or_else(|| {
            format!(
                "{app}, deployed from the Lummo specs of LummoDeployment `{}`",
                spec.name()
            )
        });
        let mut component = json!({
            "apiVersion": COMPONENT.api_version,
            "kind": COMPONENT.kind,
            "metadata": {
                "name": app,
                "description": description,
                "annotations": {},
                "tags": ["lummo"],
            },
            "spec": {
                "type": "service",
                "lifecycle": ownership.lifecycle,
                "owner": ownership.owner,
            },
        });
        if let Some(system) = ownership.system {
            component["spec"]["system"] = Value::String(system);
        }
        if !depends.is_empty() {
            component["spec"]["dependsOn"] = json!(depends);
        }
        if !provides.is_empty() {
            component["spec"]["providesApis"] = json!(provides);
        }
        krm_sdk::object::set_local_config(&mut component);
        for (key, value) in notes {
            component.set_annotation(key, &value);
        }
        Some(component)
    }

    /// The name of the Kptfile of `spec`'s folder or the nearest folder above: our
    /// Argo CD Applications deploy one package each (deploy/argocd/application.yaml).
    fn kptfile_of(&self, spec: &Value) -> Option<String> {
        let mut dir = directory(&spec.file_ref()?.path);
        loop {
            if let Some(name) = self.kptfiles.get(&dir) {
                return Some(name.clone());
            }
            if dir.is_empty() {
                return None;
            }
            dir = directory(dir.trim_end_matches('/'));
        }
    }
}

/// A Backstage `Resource`.
fn resource(
    name: &str,
    kind: &str,
    about: &str,
    ownership: &Ownership,
    depends: Vec<String>,
) -> Value {
    let mut object = json!({
        "apiVersion": RESOURCE.api_version,
        "kind": RESOURCE.kind,
        "metadata": { "name": name, "description": about, "tags": ["lummo"] },
        "spec": { "type": kind, "owner": ownership.owner },
    });
    if let Some(system) = &ownership.system {
        object["spec"]["system"] = Value::String(system.clone());
    }
    if !depends.is_empty() {
        object["spec"]["dependsOn"] = json!(depends);
    }
    krm_sdk::object::set_local_config(&mut object);
    object
}

/// `a/b/c.yaml` → `a/b/`; `c.yaml` → ``.
fn directory(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(dir, _)| format!("{dir}/"))
        .unwrap_or_default()
}

/// Moves every entity from `generated/<kind>_<name>.yaml` into its folder's
/// `generated/catalog-info.yaml`, in list order: one file per folder that Backstage
/// reads as a multi-document catalog file.
fn place_in_catalog_files(list: &mut ResourceList) {
    let mut next: HashMap<(Option<String>, String), u32> = HashMap::new();
    for item in list
        .items
        .iter_mut()
        .filter(|item| Backstage::GENERATOR.owns(item))
    {
        let Some(file) = item.file_ref() else {
            continue;
        };
        let folder = directory(&file.path);
        let path = format!("{folder}{CATALOG_FILE}");
        let package = item
            .annotation(krm_sdk::annotations::PACKAGE_PATH)
            .map(str::to_string);
        let index = next.entry((package, path.clone())).or_insert(0);
        krm_sdk::object::set_file(
            item,
            &FileRef {
                path,
                index: *index,
            },
        );
        *index += 1;
    }
}
