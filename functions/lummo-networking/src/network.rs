//! The NetworkPolicy that lets the ingress controller reach an app's routed port.
//!
//! lummo-workload denies every connection to the app's pods but Prometheus'
//! (its NetworkPolicy `<app>`); policies are additive, so this one, `<app>-ingress`,
//! opens the one port the routes target (`http`, or `grpc`) to the pods of the
//! ingress controller's namespace (`ingressNamespace`, matched by the label the
//! API server sets on every namespace, `kubernetes.io/metadata.name`).
//! `scripts/netpol_model.py` proves the flows against a model of the API.

use krm_sdk::{json, Value};
use std::collections::BTreeMap;

/// The label the API server puts on every namespace, with its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

pub fn ingress_policy(
    app: &str,
    port: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": { "name": format!("{app}-ingress"), "labels": labels },
        "spec": {
            "podSelector": { "matchLabels": lummo_core::selector_labels(app) },
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{ "namespaceSelector": { "matchLabels": { NAMESPACE_NAME_LABEL: namespace } } }],
                "ports": [{ "protocol": "TCP", "port": port }],
            }],
        },
    })
}
