//! Where each field of a LummoPgBouncer's objects comes from (issue 32,
//! `lummo_core::origins`): one block per generated kind, computed from the spec
//! and the emitted objects. Constant fields (ports, probes, security contexts,
//! the rolling-update strategy) have no record: they answer "rule of
//! lummo-pgbouncer".

use crate::spec::LummoPgBouncerSpec;
use crate::{DEFAULT_IMAGE, LITERAL_KIND};
use krm_sdk::{ObjectExt, Value};
use lummo_core::origins::{derived, spec, Origins};
use lummo_core::Spec;

/// The records of `objects`, all generated from `pooler`.
pub fn record(pooler: &Spec<LummoPgBouncerSpec>, objects: &[Value]) -> Origins {
    let mut origins = Origins::new();
    let name = pooler.name();
    // The README's literal form nests the settings under spec.spec (app and
    // part-of stay under spec): records name the fields where they are written.
    let literal = pooler.object.kind() == LITERAL_KIND;
    let f = |field: &str| -> String {
        match field.strip_prefix("spec.") {
            Some(rest) if literal && !rest.starts_with("app") && !rest.starts_with("part-of") => {
                format!("spec.spec.{rest}")
            }
            _ => field.to_string(),
        }
    };
    let fs = |fields: &[&str]| -> Vec<String> { fields.iter().map(|x| f(x)).collect() };
    let labels = fs(&["metadata.name", "spec.part-of"]);
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    for object in objects {
        let o = &mut origins;
        let rule = |o: &mut Origins, at: &str, rule: &str, from: &[&str]| {
            let from = fs(from);
            let from: Vec<&str> = from.iter().map(String::as_str).collect();
            o.derived(object, at, rule, &from);
        };
        let app_config = object.kind() == "ConfigMap" && object.name() != name;
        let own_name = if app_config {
            derived("<app>-db", &[&f("spec.app")])
        } else {
            spec("metadata.name")
        };
        o.metadata(object, own_name, derived("the pooler's labels", &labels));
        match object.kind() {
            "ConfigMap" if app_config => rule(
                o,
                "data",
                "the pooler's Service address (namespaced) and the database's name",
                &["metadata.name", "metadata.namespace", "spec.database.name"],
            ),
            "ConfigMap" => rule(
                o,
                "data['pgbouncer.ini']",
                "the databases of `database`, the settings of `config` and `serverTls`, max_db_connections from maxServerConnections and replicas, with their defaults",
                &[
                    "spec.database",
                    "spec.config",
                    "spec.serverTls",
                    "spec.maxServerConnections",
                    "spec.replicas",
                ],
            ),
            "Deployment" => deployment(o, object, pooler, &labels, &rule, &f),
            "Service" => rule(o, "spec.selector", "the pooler's pods", &["metadata.name"]),
            "PodDisruptionBudget" => {
                o.exists(object, derived("more than one replica", &[&f("spec.replicas")]));
                rule(o, "spec.selector", "the pooler's pods", &["metadata.name"]);
            }
            "NetworkPolicy" => {
                rule(o, "spec.podSelector", "the pooler's pods", &["metadata.name"]);
                rule(o, "spec.ingress", "the app's pods to port pgbouncer", &["spec.app"]);
                o.config(object, "spec.policyTypes", "databaseCidrs");
                o.config(object, "spec.egress", "databaseCidrs");
                o.config(object, "spec.egress[0].ports[0].port", "databasePort");
            }
            "ServiceAccount" => o.exists(object, spec(&f("spec.vault.role"))),
            "VaultAuth" => {
                o.exists(object, spec(&f("spec.vault.role")));
                o.spec(object, "spec.kubernetes.role", &f("spec.vault.role"));
                rule(
                    o,
                    "spec.kubernetes.serviceAccount",
                    "the pooler's ServiceAccount",
                    &["metadata.name"],
                );
            }
            "VaultStaticSecret" | "VaultDynamicSecret" => {
                o.exists(object, spec(&f("spec.vault")));
                rule(
                    o,
                    "spec",
                    "the connection Secret from Vault",
                    &["spec.vault", "spec.database"],
                );
                for at in ["spec.mount", "spec.path"] {
                    rule(
                        o,
                        at,
                        "vault.path split at its mount, or vault.mount",
                        &["spec.vault.path", "spec.vault.mount"],
                    );
                }
                rule(
                    o,
                    "spec.vaultAuthRef",
                    "the generated VaultAuth (vault.role) or vault.authRef",
                    &["spec.vault.role", "spec.vault.authRef", "metadata.name"],
                );
                rule(
                    o,
                    "spec.destination.name",
                    "connectionSecret, else <app>-postgres",
                    &["spec.connectionSecret", "spec.app"],
                );
                rule(
                    o,
                    "spec.rolloutRestartTargets",
                    "the pooler's Deployment and the app's Rollout",
                    &["metadata.name", "spec.app"],
                );
                rule(
                    o,
                    "spec.destination.transformation",
                    "the Secret's keys from `database` and the credentials",
                    &["spec.database"],
                );
            }
            _ => {}
        }
    }
    origins
}

type Rule<'a> = dyn Fn(&mut Origins, &str, &str, &[&str]) + 'a;

fn deployment(
    o: &mut Origins,
    object: &Value,
    pooler: &Spec<LummoPgBouncerSpec>,
    labels: &[&str],
    rule: &Rule<'_>,
    f: &dyn Fn(&str) -> String,
) {
    let secret = ["spec.connectionSecret", "spec.vault", "spec.app"];
    rule(
        o,
        "metadata.annotations",
        "Reloader: the ConfigMap, and the connection Secret without vault",
        &["metadata.name", secret[0], secret[1], secret[2]],
    );
    o.spec_or_default(
        object,
        "spec.replicas",
        &pooler.object,
        &f("spec.replicas"),
        "2 replicas when unset",
    );
    rule(o, "spec.selector", "the pooler's pods", &["metadata.name"]);
    o.derived(
        object,
        "spec.template.metadata.labels",
        "the pooler's labels",
        labels,
    );
    let pod = "spec.template.spec";
    rule(
        o,
        &format!("{pod}.initContainers"),
        "renders pgbouncer.ini and the auth file from the connection Secret",
        &[
            "spec.image",
            secret[0],
            secret[1],
            secret[2],
            "spec.database",
            "spec.resources",
        ],
    );
    let container = format!("{pod}.containers[0]");
    o.spec_or_default(
        object,
        &format!("{container}.image"),
        &pooler.object,
        &f("spec.image"),
        &format!("{DEFAULT_IMAGE} when unset"),
    );
    rule(
        o,
        &format!("{container}.resources"),
        "the defaults (50m, 64Mi; 128Mi limit), overridden by resources",
        &["spec.resources"],
    );
    rule(
        o,
        &format!("{container}.volumeMounts"),
        "the runtime and /tmp mounts, the CA with serverTls.caSecret",
        &["spec.serverTls"],
    );
    rule(
        o,
        &format!("{pod}.volumes"),
        "the ConfigMap, memory folders and the CA Secret of serverTls",
        &["metadata.name", "spec.serverTls"],
    );
    rule(
        o,
        &format!("{pod}.serviceAccountName"),
        "the generated ServiceAccount with vault.role",
        &["spec.vault.role", "metadata.name"],
    );
    rule(
        o,
        &format!("{pod}.topologySpreadConstraints[0].labelSelector"),
        "the pooler's pods",
        &["metadata.name"],
    );
}
