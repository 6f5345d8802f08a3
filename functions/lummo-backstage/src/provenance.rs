//! Where each field of the Backstage entities comes from (issue 32,
//! `lummo_core::origins`): the entities are local-config, never in a manifest,
//! but `lummo explain generated/catalog-info.yaml:LINE` and `lummo diff` answer
//! from these records like from any generated object's. Owner, lifecycle and
//! the config's other keys are the functionConfig's; a field that reads another
//! spec of the package too (a Component's `dependsOn`, a Resource's system from
//! the package's one app) names this spec's fields it reads, the others
//! changing is "another spec changed".

use crate::annotations;
use krm_sdk::Value;
use lummo_core::origins::{child, derived, spec, Origins};

/// As paths are written: `argocd/app-name` has no dot and takes no brackets.
fn annotation(key: &str) -> String {
    child("metadata.annotations", key)
}

/// Where Backstage finds an entity's pods: by the selector labels of `name`
/// (`rule`) in the spec's namespace.
fn kubernetes(o: &mut Origins, object: &Value, rule: &str, name: &str) {
    o.derived(
        object,
        &annotation(annotations::KUBERNETES_LABEL_SELECTOR),
        rule,
        &[name],
    );
    o.record(
        object,
        &annotation(annotations::KUBERNETES_NAMESPACE),
        spec("metadata.namespace"),
    );
}

/// What every entity has: its owner, lifecycle and system.
fn ownership(o: &mut Origins, object: &Value, system_from: &[&str]) {
    o.config(object, "spec.owner", "owner");
    o.config(object, "spec.lifecycle", "lifecycle");
    o.derived(
        object,
        "spec.system",
        "the config's system for the app, else the app's part-of, else the config's system",
        system_from,
    );
}

/// The Component of a LummoDeployment.
pub fn component(o: &mut Origins, object: &Value) {
    o.spec(object, "metadata.name", "spec.app");
    o.derived(
        object,
        "metadata.description",
        "the config's description, else the app and the spec's name",
        &["spec.app", "metadata.name"],
    );
    kubernetes(o, object, "the app's selector labels", "spec.app");
    o.derived(
        object,
        &annotation(annotations::ARGOCD_APP_NAME),
        "the config's argocdAppName, else the package's Kptfile name, else the app",
        &["spec.app"],
    );
    for key in [
        annotations::DATADOG_SERVICE_NAME,
        annotations::DATADOG_SITE,
        annotations::DATADOG_DASHBOARD_URL,
    ] {
        o.derived(
            object,
            &annotation(key),
            "with monitoring.datadog: the app as Datadog service, the config's site and dashboard",
            &["spec.monitoring.datadog", "spec.app"],
        );
    }
    ownership(o, object, &["spec.app", "spec.part-of"]);
    o.derived(
        object,
        "spec.dependsOn",
        "the package's Pub/Sub resources, the scaling's topics, the app's databases and the config's dependsOn",
        &["spec.scaling.pubsubTopic", "spec.app"],
    );
    o.config(object, "spec.providesApis", "apps.<app>.providesApis");
}

/// A Resource of a LummoTopic's topic or a LummoSubscription's subscription
/// (`entry`: `spec.topics[i]` or `spec.subscriptions[i]`).
pub fn pubsub(o: &mut Origins, object: &Value, entry: &str, naming: &[&str]) {
    let named: Vec<&str> = ["spec.prefix"]
        .into_iter()
        .chain(naming.iter().copied())
        .collect();
    o.exists(object, derived("one Resource per entry", &[entry]));
    o.derived(
        object,
        "metadata.name",
        "the Kubernetes name of the Pub/Sub name (prefix + entry)",
        &named,
    );
    o.derived(
        object,
        "metadata.description",
        "the Pub/Sub name and its topic",
        &["spec.prefix", entry],
    );
    // The owner, system and lifecycle of the package's one app: another spec's.
    ownership(o, object, &[]);
    o.derived(
        object,
        "spec.dependsOn",
        "the subscription's topic",
        &["spec.prefix", &format!("{entry}.topic")],
    );
}

/// The database Resource of a LummoPgBouncer.
pub fn database(o: &mut Origins, object: &Value) {
    o.spec(object, "metadata.name", "metadata.name");
    o.derived(
        object,
        "metadata.description",
        "the app's Postgres through the pgbouncer Service",
        &["spec.app", "metadata.name"],
    );
    kubernetes(o, object, "the pooler's selector labels", "metadata.name");
    ownership(o, object, &["spec.app", "spec.part-of"]);
}
