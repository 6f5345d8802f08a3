//! The app's NetworkPolicy: every connection to its pods is denied (the policy
//! selects them for Ingress) but Prometheus' scrapes of the metrics port, from
//! the pods of `prometheusNamespace` (matched by the label the API server sets on
//! every namespace, `kubernetes.io/metadata.name`). Policies are additive:
//! lummo-networking's `<app>-ingress` opens the routed port to the ingress
//! controller, lummo-pgbouncer's policy lets the app reach its pgbouncer. The
//! app's own connections (egress) are not restricted. `scripts/netpol_model.py`
//! proves the flows against a model of the NetworkPolicy API.

use krm_sdk::{json, Value};
use std::collections::BTreeMap;

/// Default namespace of the Prometheus that scrapes the apps.
pub const PROMETHEUS_NAMESPACE: &str = "monitoring";

pub fn app_policy(
    app: &str,
    labels: &BTreeMap<String, String>,
    metrics_port: Option<&str>,
    prometheus_namespace: &str,
) -> Value {
    let mut spec = json!({
        "podSelector": { "matchLabels": lummo_core::selector_labels(app) },
        "policyTypes": ["Ingress"],
    });
    // No rule at all: the pods are isolated for ingress, nothing is allowed.
    if let Some(port) = metrics_port {
        spec["ingress"] = json!([{
            "from": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": prometheus_namespace } } }],
            "ports": [{ "protocol": "TCP", "port": port }],
        }]);
    }
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": { "name": app, "labels": labels },
        "spec": spec,
    })
}
