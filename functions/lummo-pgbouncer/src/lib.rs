//! `lummo-pgbouncer`: `LummoPgBouncer` → a pgbouncer Deployment, Service,
//! PodDisruptionBudget and ConfigMap, the app-facing `<app>-db` ConfigMap and, with
//! `vault`, the Vault Secrets Operator resource that materialises the credentials.
//!
//! pgbouncer needs the password in its auth file, and generated files must never hold
//! a secret: an init container renders `pgbouncer.ini` and `userlist.txt` from the
//! ConfigMap's template and the Secret's keys into a memory-backed emptyDir.
//! A Deployment, not a Rollout: a connection pooler has no traffic to canary.

pub mod settings;
pub mod spec;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use krm_sdk::{json, ObjectExt, ResourceList, ResultItem, Value};
use lummo_core::descriptor::{schema_of, KindDoc};
use lummo_core::function::{Collector, Function, Output, Report};
use lummo_core::resources::VAULT_AUTH;
use lummo_core::{names, pod, typed_object, Spec};
pub use spec::LummoPgBouncerSpec;
use spec::{Vault, VaultKind};
use std::collections::BTreeMap;

pub const KIND: &str = "LummoPgBouncer";
/// The product README's first spelling: `apiVersion: LummoKRM`, `kind: pgbouncer`.
pub const LITERAL_KIND: &str = "pgbouncer";
/// A widely used pgbouncer image (Alpine), pinned: pgbouncer 1.24.1, which tracks
/// prepared statements in transaction pooling (1.21+) and shuts down safely on
/// SIGINT. scripts/pgbouncer_real.py runs this version (`PGBOUNCER_VERSION`).
pub const DEFAULT_IMAGE: &str = "edoburu/pgbouncer:v1.24.1-p1";
pub const PORT: i32 = 6432;
/// Where the CA of `serverTls.caSecret` is mounted.
const TLS_DIR: &str = "/etc/pgbouncer-tls";
/// Server connections of the session-mode database `<database>_session` that
/// migrations use (per pod).
const SESSION_POOL: u64 = 2;

/// `(app, Secret)` of every LummoPgBouncer of the package whose database Secret
/// the Vault Secrets Operator writes: on each rotation VSO restarts the app's
/// Rollout itself (`rolloutRestartTargets`, see `vault_secret`), so lummo-workload
/// leaves these Secrets out of the Rollout's Reloader annotations (a second
/// restart per rotation otherwise). Specs that do not decode are left out: their
/// own errors stop the render.
pub fn vault_restarted_secrets(package: &ResourceList) -> Vec<(String, String)> {
    lummo_core::spec_objects(package, KIND)
        .iter()
        .filter_map(|object| {
            let spec: LummoPgBouncerSpec =
                serde_json::from_value(object.get("spec")?.clone()).ok()?;
            spec.vault.as_ref()?;
            let secret = match &spec.connection_secret {
                Some(secret) => secret.to_string(),
                None => default_secret(&spec.app),
            };
            Some((spec.app.to_string(), secret))
        })
        .collect()
}

/// The Secret VSO writes when `connectionSecret` is not given.
fn default_secret(app: &str) -> String {
    format!("{app}-postgres")
}

/// The function: every LummoPgBouncer, in either spelling, rendered on its own.
pub struct PgBouncer;

impl Function for PgBouncer {
    const NAME: &'static str = "lummo-pgbouncer";
    const ABOUT: &'static str = "Turns every LummoPgBouncer (lummo.dev/v1alpha1) into a pgbouncer Deployment, Service\n\
            (port 6432), PodDisruptionBudget and ConfigMap, a ConfigMap `<app>-db` pointing the app\n\
            at pgbouncer, and with `vault` a VaultStaticSecret or VaultDynamicSecret for the\n\
            connection Secret (keys host, port, database, username, password).";
    const KINDS: &'static [KindDoc] = &[KindDoc {
        kind: KIND,
        about:
            "A pgbouncer in front of an app's Postgres, credentials from Vault (lummo-pgbouncer).",
        example: Some("Kptfile.examples/pgbouncer/pgbouncer.yaml"),
        schema: schema_of::<LummoPgBouncerSpec>,
        function_config: false,
    }, network::CONFIG_KIND_DOC];
    type Config = PgBouncerConfig;
    type Specs = Vec<Spec<LummoPgBouncerSpec>>;

    fn collect(collector: &mut Collector<'_>) -> Self::Specs {
        let mut specs = collector.specs(KIND);
        specs.extend(literal_specs(collector));
        specs
    }

    fn render(specs: Self::Specs, config: &PgBouncerConfig, _: &ResourceList) -> Output {
        let mut output = Output::default();
        for spec in &specs {
            let mut renderer = Renderer {
                spec,
                report: Report::new(&spec.object),
            };
            let mut objects = renderer.render();
            network::push_policy(&mut objects, spec, config);
            let origins = provenance::record(spec, &objects);
            output.add(
                &spec.object,
                renderer.report.rendered_with(objects, origins),
            );
        }
        output
    }
}

pub mod network;
mod provenance;
pub use network::PgBouncerConfig;

/// A whole-number setting, once checked.
fn number(settings: &BTreeMap<&'static str, String>, name: &str) -> Option<u64> {
    settings.get(name).and_then(|value| value.parse().ok())
}

/// Specs in the README's literal form, answered with a warning showing the
/// canonical form.
fn literal_specs(collector: &mut Collector<'_>) -> Vec<Spec<LummoPgBouncerSpec>> {
    let mut specs = Vec::new();
    let results = &mut collector.problems;
    let literal = |item: &&krm_sdk::Item| {
        item.kind() == LITERAL_KIND
            && matches!(item.api_version(), "LummoKRM" | lummo_core::API_VERSION)
    };
    for item in collector.package.items.iter().filter(literal) {
        let object = item.value();
        let outer = object.get("spec").cloned().unwrap_or(json!({}));
        let mut canonical = krm_sdk::Map::new();
        for key in ["app", "part-of"] {
            if let Some(value) = outer.get(key) {
                canonical.insert(key.into(), value.clone());
            }
        }
        canonical.extend(
            outer
                .get("spec")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        );
        let canonical = Value::Object(canonical);
        let suggestion = json!({ "apiVersion": lummo_core::API_VERSION, "kind": KIND, "metadata": { "name": object.name() }, "spec": canonical });
        results.push(
            ResultItem::warning(format!(
                "`apiVersion: {}`, `kind: {LITERAL_KIND}` with a nested spec.spec is the README's draft form; write it as:\n{}",
                object.api_version(),
                krm_sdk::yaml::to_string(&suggestion)
            ))
            .for_object(object)
            .field("kind")
            .proposed_value(json!(KIND)),
        );
        match krm_sdk::from_value::<LummoPgBouncerSpec>(&canonical) {
            Ok(spec) => specs.push(Spec {
                object: object.clone(),
                spec,
            }),
            Err(e) => results.push(e.into_result(object, "spec.spec")),
        }
    }
    specs
}

struct Renderer<'a> {
    spec: &'a Spec<LummoPgBouncerSpec>,
    report: Report<'a>,
}

impl Renderer<'_> {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.report.error(field, message);
    }

    fn render(&mut self) -> Vec<Value> {
        let s = &self.spec.spec;
        let name = self.spec.name().to_string();
        // The app (checked while decoding) prefixes `<app>-db`; the name names a Service.
        if let Err(message) = names::dns1035_label(&name) {
            let message = format!("{message}; it names the pgbouncer Service");
            let error = ResultItem::error(message)
                .for_object(&self.spec.object)
                .field("metadata.name");
            self.report.push(error);
        }
        if name == s.app.as_str() {
            // pgbouncer's pods are labelled `app.kubernetes.io/name: <name>`: the
            // app's Service, PDB and PodMonitor would select them.
            self.error(
                "app",
                format!("the LummoPgBouncer is named like its app `{name}`, so the app's Service and PodDisruptionBudget would select pgbouncer's pods: name it e.g. `{name}-pgbouncer`"),
            );
        }
        if s.replicas < 1 {
            self.error(
                "replicas",
                format!("must be at least 1, found {}", s.replicas),
            );
        }
        if let Some(database) = &s.database {
            if database.name.is_none() {
                self.error("database.name", format!("needs the database's name (e.g. `name: {}`): the app connects to it, and migrations to `<name>_session`, its session-pooling twin", s.app));
            }
        }
        let settings = self.settings();
        let secret = self.connection_secret();
        self.check_vault();
        let resources = self.resources();
        if self.report.failed() {
            return Vec::new();
        }
        let Some(secret) = secret else {
            return Vec::new();
        };
        let mut labels = lummo_core::labels(&name, s.part_of.as_deref());
        labels.insert("app.kubernetes.io/component".into(), "pgbouncer".into());
        let mut objects = vec![
            self.config_map(&name, &labels, &settings),
            self.deployment(&name, &labels, &secret, resources),
            self.service(&name, &labels),
        ];
        if s.replicas > 1 {
            objects.push(self.disruption_budget(&name, &labels));
        }
        objects.push(self.app_config(&name, &labels));
        if let Some(vault) = &s.vault {
            objects.extend(self.vault_objects(vault, &name, &labels, &secret));
        }
        objects
    }

    /// `config` validated and keyed by pgbouncer.ini names, in a stable order, with
    /// the defaults this pod needs.
    fn settings(&mut self) -> BTreeMap<&'static str, String> {
        // What the edoburu/pgbouncer entrypoint would set had we let it write the
        // ini: JDBC (and asyncpg) send `extra_float_digits` at startup, which
        // pgbouncer refuses ("unsupported startup parameter") unless ignored.
        let mut settings = BTreeMap::from([
            ("pool_mode", "transaction".to_string()),
            (
                "ignore_startup_parameters",
                "extra_float_digits".to_string(),
            ),
        ]);
        let config = self.spec.spec.config.clone();
        let mut given = BTreeMap::new();
        for (key, value) in &config {
            let field = format!("config.{key}");
            match settings::check(key, value) {
                Ok((name, text)) => {
                    settings.insert(name, text);
                    given.insert(name, field);
                }
                Err(message) => self.error(&field, message),
            }
        }
        // Drivers that prepare statements (JDBC, asyncpg, pgx, psycopg 3) get
        // "prepared statement ... does not exist" through a transaction pool unless
        // pgbouncer tracks them (1.21+; 0 turns it off). 200 is 1.24's default,
        // written out so an older image pinned in `image` behaves the same.
        if settings["pool_mode"] != "session" {
            settings
                .entry("max_prepared_statements")
                .or_insert_with(|| "200".to_string());
        }
        self.server_tls(&mut settings, &given);
        // Rotation without refusal: with `auth_query` pgbouncer asks PostgreSQL for
        // the password of whoever logs in, so every credential PostgreSQL still
        // accepts works, the previous lease of dynamic Vault credentials included,
        // while the app's pods restart a few at a time onto the new one (the auth
        // file alone holds only the current pair). The lookup runs as the current
        // Secret's user, which the init container writes in.
        if settings.contains_key("auth_query") {
            settings
                .entry("auth_user")
                .or_insert_with(|| "${DB_USER}".to_string());
        }
        // pgbouncer's default max_client_conn is 100 (pgbouncer.org/config.html):
        // with a pool of 100 every client beyond it is refused, though the point of
        // a pooler is many clients over few server connections.
        let pool = number(&settings, "default_pool_size").unwrap_or(20);
        let clients = settings
            .entry("max_client_conn")
            .or_insert_with(|| (pool * 10).max(1000).to_string())
            .parse::<u64>()
            .unwrap_or_default();
        if clients < pool {
            self.error(
                "config.max_client_conn",
                format!("max_client_conn ({clients}) is below the pool size ({pool}): pgbouncer refuses clients beyond it, so the pool never fills; raise it (e.g. {})", pool * 10),
            );
        }
        self.server_connections(&mut settings, &given, pool);
        settings
    }

    /// `max_db_connections`: what one pod may open on PostgreSQL for the app's
    /// database. Without it every pod opens its whole pool (and reserve) on its
    /// own, so replicas × pool grows unnoticed past PostgreSQL's `max_connections`.
    fn server_connections(
        &mut self,
        settings: &mut BTreeMap<&'static str, String>,
        given: &BTreeMap<&'static str, String>,
        pool: u64,
    ) {
        let s = &self.spec.spec;
        // A rolling update starts one pod before it stops one (maxSurge 1).
        let pods = u64::try_from(s.replicas.max(1)).unwrap_or(1) + 1;
        let reserve = number(settings, "reserve_pool_size").unwrap_or(0);
        let per_pod = match (s.max_server_connections, given.get("max_db_connections")) {
            (Some(budget), None) => {
                let share = u64::from(budget) / pods;
                let migrations = SESSION_POOL;
                if share <= migrations {
                    self.error(
                        "maxServerConnections",
                        format!("{budget} server connections shared by {pods} pgbouncer pods (replicas + 1 during a rolling update) leave {share} per pod, and each needs more than {migrations} (the migration pool): raise it to at least {} or lower `replicas`", pods * (migrations + 1)),
                    );
                    return;
                }
                share - migrations
            }
            (budget, Some(field)) => {
                let per_pod = number(settings, "max_db_connections").unwrap_or(0);
                if let Some(budget) = budget {
                    let total = pods * (per_pod + SESSION_POOL);
                    if per_pod == 0 || total > u64::from(budget) {
                        let field = field.clone();
                        self.error(
                            &field,
                            format!("{pods} pgbouncer pods (replicas + 1 during a rolling update) × ({per_pod} + {SESSION_POOL} for migrations) server connections exceed maxServerConnections ({budget}): remove it to have it derived ({} per pod)", u64::from(budget) / pods - SESSION_POOL.min(u64::from(budget) / pods)),
                        );
                    }
                }
                return;
            }
            (None, None) => pool + reserve,
        };
        settings.insert("max_db_connections", per_pod.to_string());
    }

    /// TLS to PostgreSQL: the mode from `serverTls` (or `config`), the CA from a
    /// mounted Secret; a mode that checks certificates without a CA is an error
    /// (pgbouncer would fail every server login at run time instead).
    fn server_tls(
        &mut self,
        settings: &mut BTreeMap<&'static str, String>,
        given: &BTreeMap<&'static str, String>,
    ) {
        let tls = self.spec.spec.server_tls.clone();
        if let (Some(_), Some(field)) = (&tls, given.get("server_tls_sslmode")) {
            let field = field.clone();
            self.error(
                &field,
                "the TLS mode to PostgreSQL is set twice: keep `serverTls.sslmode` and remove this",
            );
        }
        match tls {
            Some(tls) => {
                settings.insert("server_tls_sslmode", tls.sslmode.as_str().to_string());
                match (tls.sslmode.needs_ca(), &tls.ca_secret) {
                    (_, Some(_)) => {
                        settings.insert("server_tls_ca_file", format!("{TLS_DIR}/ca.crt"));
                    }
                    (true, None) => self.error(
                        "serverTls.caSecret",
                        format!("sslmode `{}` checks PostgreSQL's certificate against a CA: name the Secret holding it (e.g. `caSecret: postgres-ca`, key `{}`), or use `sslmode: require` (encrypted, unchecked)", tls.sslmode.as_str(), tls.ca_key.0),
                    ),
                    (false, None) => {}
                }
            }
            None => {
                if let Some(mode) = settings.get("server_tls_sslmode").cloned() {
                    if matches!(mode.as_str(), "verify-ca" | "verify-full") {
                        let field = given["server_tls_sslmode"].clone();
                        self.error(
                            &field,
                            format!("`{mode}` checks PostgreSQL's certificate against a CA, and none is mounted: write `serverTls: {{sslmode: {mode}, caSecret: <Secret with ca.crt>}}` instead"),
                        );
                    }
                }
            }
        }
    }
    fn connection_secret(&mut self) -> Option<String> {
        let s = &self.spec.spec;
        match (&s.connection_secret, &s.vault) {
            // A Secret name is a DNS-1123 subdomain (checked while decoding).
            (Some(secret), _) => Some(secret.to_string()),
            (None, Some(_)) => Some(default_secret(&s.app)),
            (None, None) => {
                self.error("connectionSecret", "needs the name of the Secret with the Postgres connection (keys host, port, database, username, password), or `vault` to create it");
                None
            }
        }
    }

    fn check_vault(&mut self) {
        let Some(vault) = self.spec.spec.vault.clone() else {
            return;
        };
        if vault.kind.is_none() {
            self.error("vault.type", format!(
                "vault path `{}` needs its secret type: `static` (KV v2 holding host, port, database, username, password) or `dynamic` (database secrets engine credentials)",
                vault.path
            ));
        }
        if split_mount(&vault).is_none() {
            self.error(
                "vault.path",
                format!(
                    "`{}` needs a mount and a path (`<mount>/<path>`), or set `mount`",
                    vault.path
                ),
            );
        }
        if vault.kind == Some(VaultKind::Dynamic) && self.spec.spec.database.is_none() {
            self.error("database", "dynamic Vault credentials carry only a username and password: set `database: {host, port, name}`");
        }
        if vault.role.is_some() && vault.auth_ref.is_some() {
            self.error(
                "vault.role",
                "set either `role` (a VaultAuth is generated) or `authRef` (an existing VaultAuth)",
            );
        }
    }

    /// The container's resources: the defaults, overridden by what the spec gives
    /// (quantities checked while decoding).
    fn resources(&self) -> core::ResourceRequirements {
        let quantities = |defaults: &[(&str, &str)], given: Option<&spec::Quantities>| {
            let mut map: BTreeMap<String, Quantity> = defaults
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect();
            if let Some(given) = given {
                for (key, value) in [("cpu", &given.cpu), ("memory", &given.memory)] {
                    if let Some(value) = value {
                        map.insert(key.to_string(), Quantity(value.as_str().to_string()));
                    }
                }
            }
            map
        };
        let given = self.spec.spec.resources.as_ref();
        core::ResourceRequirements {
            requests: Some(quantities(
                &[("cpu", "50m"), ("memory", "64Mi")],
                given.and_then(|r| r.requests.as_ref()),
            )),
            limits: Some(quantities(
                &[("memory", "128Mi")],
                given.and_then(|r| r.limits.as_ref()),
            )),
            claims: None,
        }
    }

    fn config_map(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        settings: &BTreeMap<&'static str, String>,
    ) -> Value {
        let database = self.spec.spec.database.as_ref();
        let mut ini = String::from("[databases]\n");
        let target = match database {
            Some(db) => format!("host={} port={}", db.host, db.port),
            None => "host=${DB_HOST} port=${DB_PORT}".to_string(),
        };
        // Migrations and every tool that holds a session advisory lock (Flyway,
        // Liquibase, golang-migrate, Rails) connect to `<database>_session`: the same
        // database in session pooling, so the lock and its unlock reach one server
        // connection. Through the transaction pool they would land on different
        // ones and leave the lock held.
        let session =
            format!("pool_mode=session pool_size={SESSION_POOL} max_db_connections={SESSION_POOL}");
        match database.and_then(|d| d.name.as_ref()) {
            Some(db_name) => {
                ini.push_str(&format!("{db_name} = {target} dbname={db_name}\n"));
                ini.push_str(&format!(
                    "{db_name}_session = {target} dbname={db_name} {session}\n"
                ));
            }
            // The init container names it from the Secret's `database` key.
            None if database.is_none() => {
                ini.push_str(&format!("* = {target}\n"));
                ini.push_str(&format!(
                    "${{DB_NAME}}_session = {target} dbname=${{DB_NAME}} {session}\n"
                ));
            }
            // Checked in `check_vault`: a `database` without its name has no
            // session-mode database to offer.
            None => ini.push_str(&format!("* = {target}\n")),
        }
        ini.push_str(&format!(
            "\n[pgbouncer]\nlisten_addr = 0.0.0.0\nlisten_port = {PORT}\nunix_socket_dir =\nauth_type = scram-sha-256\nauth_file = /etc/pgbouncer/userlist.txt\n"
        ));
        for (key, value) in settings {
            ini.push_str(&format!("{key} = {value}\n"));
        }
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": { "name": name, "labels": labels },
            "data": { "pgbouncer.ini": ini },
        })
    }

    fn deployment(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        secret: &str,
        resources: core::ResourceRequirements,
    ) -> Value {
        let s = &self.spec.spec;
        let selector = lummo_core::selector_labels(name);
        let pod_spec = self.pod_spec(name, secret, resources);
        // With `vault`, the Vault Secrets Operator restarts pgbouncer on rotation
        // (rolloutRestartTargets); Reloader watching the same Secret would restart
        // it a second time.
        let watched: Vec<String> = if s.vault.is_some() {
            Vec::new()
        } else {
            vec![secret.to_string()]
        };
        let annotations = pod::reloader_annotations(&[name.to_string()], &watched);
        let deployment = Deployment {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(labels.clone()),
                annotations: Some(annotations),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(s.replicas),
                revision_history_limit: Some(3),
                // A new pod is ready before an old one drains: clients always find
                // a pgbouncer (maxServerConnections counts this extra pod).
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(IntOrString::Int(1)),
                        max_unavailable: Some(IntOrString::Int(0)),
                    }),
                }),
                selector: LabelSelector {
                    match_labels: Some(selector),
                    match_expressions: None,
                },
                template: core::PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels.clone()),
                        ..Default::default()
                    }),
                    spec: Some(pod_spec),
                },
                ..Default::default()
            }),
            status: None,
        };
        typed_object(&deployment)
    }

    /// pgbouncer's pod: the config rendered by an init container into memory,
    /// spread across nodes.
    fn pod_spec(
        &self,
        name: &str,
        secret: &str,
        resources: core::ResourceRequirements,
    ) -> core::PodSpec {
        let s = &self.spec.spec;
        let image = s.image.clone().unwrap_or_else(|| DEFAULT_IMAGE.into());
        let render = render_container(&image, secret, s.database.as_ref(), resources.clone());
        let security = render.security_context.clone();
        let probe = |initial: i32| core::Probe {
            tcp_socket: Some(core::TCPSocketAction {
                port: IntOrString::String("pgbouncer".into()),
                host: None,
            }),
            initial_delay_seconds: Some(initial),
            period_seconds: Some(10),
            ..Default::default()
        };
        let (tmp, tmp_mount) = pod::tmp_volume();
        let mut mounts = vec![read_only_mount("runtime", "/etc/pgbouncer"), tmp_mount];
        let ca_secret = s
            .server_tls
            .as_ref()
            .and_then(|tls| Some((tls.ca_secret.as_ref()?, &tls.ca_key)));
        if ca_secret.is_some() {
            mounts.push(read_only_mount("server-ca", TLS_DIR));
        }
        let pgbouncer = core::Container {
            name: "pgbouncer".into(),
            image: Some(image),
            image_pull_policy: Some("IfNotPresent".into()),
            command: Some(vec![
                "pgbouncer".into(),
                "/etc/pgbouncer/pgbouncer.ini".into(),
            ]),
            ports: Some(vec![core::ContainerPort {
                name: Some("pgbouncer".into()),
                container_port: PORT,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            resources: Some(resources),
            readiness_probe: Some(probe(2)),
            liveness_probe: Some(probe(10)),
            security_context: security,
            volume_mounts: Some(mounts),
            lifecycle: Some(core::Lifecycle {
                pre_stop: Some(core::LifecycleHandler {
                    exec: Some(core::ExecAction {
                        command: Some(vec!["/bin/sh".into(), "-c".into(), PRE_STOP.into()]),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let memory_dir = |volume: &str| core::Volume {
            name: volume.into(),
            empty_dir: Some(core::EmptyDirVolumeSource {
                medium: Some("Memory".into()),
                size_limit: Some(Quantity("1Mi".into())),
            }),
            ..Default::default()
        };
        let template_volume = core::Volume {
            name: "template".into(),
            config_map: Some(core::ConfigMapVolumeSource {
                name: name.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let selector = lummo_core::selector_labels(name);
        let service_account = s
            .vault
            .as_ref()
            .and_then(|v| v.role.as_ref())
            .map(|_| name.to_string());
        let mut volumes = vec![template_volume, memory_dir("runtime"), tmp];
        if let Some((secret, key)) = ca_secret {
            volumes.push(core::Volume {
                name: "server-ca".into(),
                secret: Some(core::SecretVolumeSource {
                    secret_name: Some(secret.to_string()),
                    items: Some(vec![core::KeyToPath {
                        key: key.0.clone(),
                        path: "ca.crt".into(),
                        mode: None,
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        core::PodSpec {
            automount_service_account_token: Some(false),
            termination_grace_period_seconds: Some(TERMINATION_GRACE_SECONDS),
            service_account_name: service_account,
            enable_service_links: Some(false),
            security_context: Some(pod::pod_security_context()),
            init_containers: Some(vec![render]),
            containers: vec![pgbouncer],
            volumes: Some(volumes),
            topology_spread_constraints: Some(vec![core::TopologySpreadConstraint {
                max_skew: 1,
                topology_key: "kubernetes.io/hostname".into(),
                when_unsatisfiable: "DoNotSchedule".into(),
                label_selector: Some(LabelSelector {
                    match_labels: Some(selector),
                    match_expressions: None,
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    fn service(&self, name: &str, labels: &BTreeMap<String, String>) -> Value {
        let service = core::Service {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(labels.clone()),
                ..Default::default()
            },
            spec: Some(core::ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(lummo_core::selector_labels(name)),
                ports: Some(vec![core::ServicePort {
                    name: Some("pgbouncer".into()),
                    port: PORT,
                    target_port: Some(IntOrString::String("pgbouncer".into())),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            status: None,
        };
        typed_object(&service)
    }

    fn disruption_budget(&self, name: &str, labels: &BTreeMap<String, String>) -> Value {
        let budget = PodDisruptionBudget {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(labels.clone()),
                ..Default::default()
            },
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(LabelSelector {
                    match_labels: Some(lummo_core::selector_labels(name)),
                    match_expressions: None,
                }),
                ..Default::default()
            }),
            status: None,
        };
        typed_object(&budget)
    }

    /// What the app lists in `configs` to connect through pgbouncer; credentials
    /// stay in the connection Secret, which the app lists in `secrets`.
    fn app_config(&self, name: &str, labels: &BTreeMap<String, String>) -> Value {
        let host = match self.spec.object.namespace() {
            "" => name.to_string(),
            namespace => format!("{name}.{namespace}.svc.cluster.local"),
        };
        let mut data = json!({ "DB_HOST": host, "DB_PORT": PORT.to_string(), "PGHOST": host, "PGPORT": PORT.to_string() });
        if let Some(db_name) = self
            .spec
            .spec
            .database
            .as_ref()
            .and_then(|d| d.name.as_ref())
        {
            data["DB_NAME"] = json!(db_name);
            data["PGDATABASE"] = json!(db_name);
            // Session pooling, for migrations and session advisory locks.
            data["DB_SESSION_NAME"] = json!(format!("{db_name}_session"));
        }
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": { "name": format!("{}-db", self.spec.spec.app), "labels": labels },
            "data": data,
        })
    }

    fn vault_objects(
        &self,
        vault: &Vault,
        name: &str,
        labels: &BTreeMap<String, String>,
        secret: &str,
    ) -> Vec<Value> {
        let (mount, path) = split_mount(vault).expect("checked before rendering");
        let mut objects = Vec::new();
        let auth = match (&vault.role, &vault.auth_ref) {
            (Some(role), _) => {
                let account = core::ServiceAccount {
                    metadata: ObjectMeta {
                        name: Some(name.into()),
                        labels: Some(labels.clone()),
                        ..Default::default()
                    },
                    automount_service_account_token: Some(false),
                    ..Default::default()
                };
                objects.push(typed_object(&account));
                objects.push(json!({
                    "apiVersion": VAULT_AUTH.api_version,
                    "kind": VAULT_AUTH.kind,
                    "metadata": { "name": name, "labels": labels },
                    "spec": { "method": "kubernetes", "mount": "kubernetes", "kubernetes": { "role": role, "serviceAccount": name } },
                }));
                Some(name.to_string())
            }
            (None, Some(reference)) => Some(reference.clone()),
            (None, None) => None,
        };
        let mut destination = json!({ "name": secret, "create": true, "overwrite": true });
        // Rotation: pgbouncer's auth file and the app's DB_USER/DB_PASSWORD come
        // from this one Secret (the app authenticates to pgbouncer with the
        // database credentials, which pgbouncer passes on to Postgres). Both must
        // restart when it changes, or the app keeps presenting the old password
        // and is locked out. VSO restarts each target with a rollout restart
        // (VaultStaticSecret spec.rolloutRestartTargets; `argo.Rollout` for the
        // app's Rollout).
        let restart = json!([
            { "kind": "Deployment", "name": name },
            { "kind": "argo.Rollout", "name": self.spec.spec.app },
        ]);
        let mut body = match vault.kind {
            Some(VaultKind::Dynamic) => {
                let database = self
                    .spec
                    .spec
                    .database
                    .as_ref()
                    .expect("checked before rendering");
                let mut templates = json!({
                    "host": { "text": database.host },
                    "port": { "text": database.port.to_string() },
                    "username": { "text": "{{ get .Secrets \"username\" }}" },
                    "password": { "text": "{{ get .Secrets \"password\" }}" },
                });
                if let Some(db_name) = &database.name {
                    templates["database"] = json!({ "text": db_name });
                }
                destination["transformation"] = json!({ "templates": templates });
                json!({ "mount": mount, "path": path, "destination": destination, "rolloutRestartTargets": restart })
            }
            _ => json!({
                "type": "kv-v2",
                "mount": mount,
                "path": path,
                "refreshAfter": "1h",
                "destination": destination,
                "rolloutRestartTargets": restart,
            }),
        };
        if let Some(auth) = auth {
            body["vaultAuthRef"] = json!(auth);
        }
        let kind = if vault.kind == Some(VaultKind::Dynamic) {
            "VaultDynamicSecret"
        } else {
            "VaultStaticSecret"
        };
        objects.push(json!({
            "apiVersion": lummo_core::resources::VSO,
            "kind": kind,
            "metadata": { "name": name, "labels": labels },
            "spec": body,
        }));
        objects
    }
}

/// pgbouncer's stop: first the endpoints controller and kube-proxy take the pod out
/// of the Service (new connections go to the other pods), then SIGINT, pgbouncer's
/// safe shutdown (`SHUTDOWN WAIT_FOR_SERVERS`: no new connections, every
/// transaction in flight completes, then exit), and the hook waits for the exit.
/// Kubernetes' own SIGTERM would be `WAIT_FOR_CLIENTS` (pgbouncer 1.23+), which a
/// pooled client never satisfies, so it ended in SIGKILL at the grace period with
/// transactions cut. pgbouncer is the container's PID 1 (`command` replaces the
/// image's entrypoint).
const PRE_STOP: &str = "sleep 5; kill -INT 1; while kill -0 1 2>/dev/null; do sleep 1; done";
/// The preStop's 5 s, then up to 55 s for the longest transaction to finish.
const TERMINATION_GRACE_SECONDS: i64 = 60;

/// Runs in the init container: the ini from its template, and the auth file.
/// Values go into sed replacements escaped (`|`, `&`, `\\` are sed's own).
const RENDER_SCRIPT: &str = r#"set -eu
escape() { printf '%s' "$1" | sed 's/[|&\\]/\\&/g'; }
sed -e "s|\${DB_HOST}|$(escape "${DB_HOST:-}")|g" -e "s|\${DB_PORT}|$(escape "${DB_PORT:-}")|g" \
  -e "s|\${DB_NAME}|$(escape "${DB_NAME:-}")|g" -e "s|\${DB_USER}|$(escape "$DB_USER")|g" \
  /config/pgbouncer.ini > /etc/pgbouncer/pgbouncer.ini
user=$(printf '%s' "$DB_USER" | sed 's/"/""/g')
password=$(printf '%s' "$DB_PASSWORD" | sed 's/"/""/g')
printf '"%s" "%s"\n' "$user" "$password" > /etc/pgbouncer/userlist.txt
"#;

/// `mount` and `path` for the Vault Secrets Operator.
fn split_mount(vault: &Vault) -> Option<(String, String)> {
    let path = vault.path.trim_matches('/');
    match &vault.mount {
        Some(mount) if !path.is_empty() => {
            Some((mount.trim_matches('/').to_string(), path.to_string()))
        }
        Some(_) => None,
        None => path
            .split_once('/')
            .filter(|(m, p)| !m.is_empty() && !p.is_empty())
            .map(|(m, p)| (m.to_string(), p.to_string())),
    }
}

fn read_only_mount(volume: &str, path: &str) -> core::VolumeMount {
    core::VolumeMount {
        name: volume.into(),
        mount_path: path.into(),
        read_only: Some(true),
        ..Default::default()
    }
}

/// The init container that renders pgbouncer's config and auth file from the
/// ConfigMap's template and the Secret's keys (its host and port too, unless the
/// spec gives the `database`) into the memory-backed `runtime` volume.
fn render_container(
    image: &str,
    secret: &str,
    database: Option<&spec::Database>,
    resources: core::ResourceRequirements,
) -> core::Container {
    let secret_env = |env: &str, key: &str| core::EnvVar {
        name: env.into(),
        value: None,
        value_from: Some(core::EnvVarSource {
            secret_key_ref: Some(core::SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: None,
            }),
            ..Default::default()
        }),
    };
    let mut env = vec![
        secret_env("DB_USER", "username"),
        secret_env("DB_PASSWORD", "password"),
    ];
    if database.is_none() {
        env.insert(0, secret_env("DB_HOST", "host"));
        env.insert(1, secret_env("DB_PORT", "port"));
        // The session-mode database for migrations is named after it.
        env.insert(2, secret_env("DB_NAME", "database"));
    }
    let security = Some(pod::container_security_context(
        pod::RootFilesystem::ReadOnly,
    ));
    // pgbouncer's auth file holds the password: render it at start, in memory.
    core::Container {
        name: "render-config".into(),
        image: Some(image.into()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into(), RENDER_SCRIPT.into()]),
        env: Some(env),
        resources: Some(resources),
        security_context: security.clone(),
        volume_mounts: Some(vec![
            read_only_mount("template", "/config"),
            // Where it writes the rendered files.
            core::VolumeMount {
                read_only: Some(false),
                ..read_only_mount("runtime", "/etc/pgbouncer")
            },
        ]),
        ..Default::default()
    }
}
