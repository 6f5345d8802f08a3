//! The pgbouncer's NetworkPolicy and the functionConfig it reads.
//!
//! pgbouncer's pods accept connections only from the app's pods (its Rollout's,
//! `app.kubernetes.io/name: <app>`) and jobs (`lummo.dev/app: <app>`, e.g. its
//! migrations) on the pgbouncer port; with `databaseCidrs` configured they connect
//! only to the database (those addresses, `databasePort`) and to DNS (port 53, UDP
//! and TCP, to any address: the resolver may be kube-dns or a node-local cache
//! on a link-local address). Without `databaseCidrs` their egress stays open.
//! Policies are additive and select by labels (Kubernetes NetworkPolicy API);
//! `scripts/netpol_model.py` proves the flows against a model of it.

use krm_sdk::{json, ResultItem, Value};
use std::collections::BTreeMap;

/// The functionConfig of lummo-pgbouncer: where the database is.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PgBouncerConfig {
    /// The database's addresses (CIDRs, e.g. Cloud SQL's private range
    /// `10.20.0.0/24`): pgbouncer's pods may connect only there (on
    /// `databasePort`) and to DNS. Unset: their egress is not restricted.
    #[serde(default)]
    pub database_cidrs: Vec<String>,
    /// The database's port. Default 5432.
    #[serde(default)]
    pub database_port: Option<u16>,
}

/// Kind of the typed functionConfig (a ConfigMap with the same keys works too).
pub const CONFIG_KIND: &str = "LummoPgBouncerConfig";
const DATABASE_PORT: u16 = 5432;

impl lummo_core::function::FunctionConfig for PgBouncerConfig {
    const KIND: Option<&'static str> = Some(CONFIG_KIND);
    const HELP_NOTES: &'static str =
        "    Under kustomize (KRM exec plugin) the LummoPgBouncer itself is the functionConfig.";

    fn check(&self, source: Option<&Value>) -> Vec<ResultItem> {
        let mut problems = Vec::new();
        for (i, cidr) in self.database_cidrs.iter().enumerate() {
            if let Err(message) = check_cidr(cidr) {
                let error = ResultItem::error(format!("invalid functionConfig: {message}"));
                problems.push(match source {
                    Some(source) => {
                        let root =
                            if source.get("kind").and_then(Value::as_str) == Some("ConfigMap") {
                                "data"
                            } else {
                                "spec"
                            };
                        error
                            .for_object(source)
                            .field(format!("{root}.databaseCidrs[{i}]"))
                    }
                    None => error,
                });
            }
        }
        problems
    }
}

/// An IPv4 or IPv6 CIDR as the API server validates `ipBlock.cidr`: an address,
/// a prefix length in range, and no host bits set.
pub fn check_cidr(cidr: &str) -> Result<(), String> {
    let bad = || {
        format!("`{cidr}` is not a CIDR (e.g. `10.20.0.0/24`: an address, `/`, a prefix length, no host bits)")
    };
    let (address, length) = cidr.split_once('/').ok_or_else(bad)?;
    let address: std::net::IpAddr = address.parse().map_err(|_| bad())?;
    let length: u32 = length.parse().map_err(|_| bad())?;
    let (bits, max) = match address {
        std::net::IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        std::net::IpAddr::V6(a) => (u128::from(a), 128),
    };
    if length > max {
        return Err(bad());
    }
    let host_bits = max - length;
    if host_bits > 0 && bits & ((1u128 << host_bits) - 1) != 0 {
        return Err(bad());
    }
    Ok(())
}

/// The NetworkPolicy of the pgbouncer `name` in front of `app`'s database.
pub fn network_policy(
    name: &str,
    app: &str,
    labels: &BTreeMap<String, String>,
    config: &PgBouncerConfig,
) -> Value {
    let ingress = json!([{
        "from": [
            { "podSelector": { "matchLabels": lummo_core::selector_labels(app) } },
            { "podSelector": { "matchLabels": { lummo_core::APP_LABEL: app } } },
        ],
        "ports": [{ "protocol": "TCP", "port": "pgbouncer" }],
    }]);
    let mut spec = json!({
        "podSelector": { "matchLabels": lummo_core::selector_labels(name) },
        "policyTypes": ["Ingress"],
        "ingress": ingress,
    });
    if !config.database_cidrs.is_empty() {
        let port = config.database_port.unwrap_or(DATABASE_PORT);
        let blocks: Vec<Value> = config
            .database_cidrs
            .iter()
            .map(|cidr| json!({ "ipBlock": { "cidr": cidr } }))
            .collect();
        spec["policyTypes"] = json!(["Ingress", "Egress"]);
        spec["egress"] = json!([
            { "to": blocks, "ports": [{ "protocol": "TCP", "port": port }] },
            { "ports": [{ "protocol": "UDP", "port": 53 }, { "protocol": "TCP", "port": 53 }] },
        ]);
    }
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": { "name": name, "labels": labels },
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_cidrs() {
        for good in ["10.20.0.0/24", "0.0.0.0/0", "10.0.0.1/32", "fd00::/8"] {
            assert!(check_cidr(good).is_ok(), "{good}");
        }
        for bad in [
            "10.20.0.1/24",
            "10.20.0.0",
            "10.20.0.0/33",
            "db.example.com/24",
            "fd00::1/8",
        ] {
            assert!(check_cidr(bad).is_err(), "{bad}");
        }
    }
}

/// The config kind, for the registry (schemas, docs, config kinds).
pub const CONFIG_KIND_DOC: lummo_core::descriptor::KindDoc = lummo_core::descriptor::KindDoc {
    kind: CONFIG_KIND,
    about: "functionConfig of lummo-pgbouncer (a ConfigMap with the same keys works too).",
    example: None,
    schema: lummo_core::descriptor::schema_of::<PgBouncerConfig>,
    function_config: true,
};

/// Adds the NetworkPolicy to what a spec rendered (nothing when it rendered
/// nothing, i.e. failed), with the labels of its other objects.
pub fn push_policy(
    objects: &mut Vec<Value>,
    spec: &lummo_core::Spec<crate::spec::LummoPgBouncerSpec>,
    config: &PgBouncerConfig,
) {
    if objects.is_empty() {
        return;
    }
    let name = spec.name();
    let mut labels = lummo_core::labels(name, spec.spec.part_of.as_deref());
    labels.insert("app.kubernetes.io/component".into(), "pgbouncer".into());
    objects.push(network_policy(
        name,
        spec.spec.app.as_str(),
        &labels,
        config,
    ));
}
