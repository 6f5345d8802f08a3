//! The `LummoPgBouncer` kind.

use lummo_core::names::{AppName, DnsSubdomain, LabelValue};
use lummo_core::port::PortNumber;
use lummo_core::quantity::ResourceQuantity;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A pgbouncer in front of an app's Postgres database.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LummoPgBouncerSpec {
    /// The app that connects through this pgbouncer; its connection settings go
    /// to the ConfigMap `<app>-db`.
    pub app: AppName,
    #[serde(default, rename = "part-of", alias = "partOf")]
    /// `app.kubernetes.io/part-of`: the system this pgbouncer belongs to.
    pub part_of: Option<LabelValue>,
    /// Secret with the Postgres connection: keys `host`, `port`, `database`,
    /// `username`, `password`. Default with `vault`: `<app>-postgres`.
    #[serde(default)]
    pub connection_secret: Option<DnsSubdomain>,
    /// pgbouncer settings, by pgbouncer.ini name or its upper-case form
    /// (`POOL_SIZE` is `default_pool_size`).
    #[serde(default)]
    pub config: Map<String, Value>,
    #[serde(default = "two")]
    pub replicas: i32,
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Default: [`crate::DEFAULT_IMAGE`].
    #[serde(default)]
    pub image: Option<String>,
    /// Materialise the connection Secret from Vault.
    #[serde(default)]
    pub vault: Option<Vault>,
    /// Non-secret connection parameters; needed with dynamic Vault credentials,
    /// which carry only a username and password.
    #[serde(default)]
    pub database: Option<Database>,
}

fn two() -> i32 {
    2
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub requests: Option<Quantities>,
    pub limits: Option<Quantities>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantities {
    pub cpu: Option<ResourceQuantity>,
    pub memory: Option<ResourceQuantity>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vault {
    /// e.g. `infra/postgres/tokko-api-postgres/creds`: the first segment is the
    /// secrets engine mount unless `mount` is set.
    pub path: String,
    #[serde(default)]
    pub mount: Option<String>,
    /// `static` (KV v2, all five keys) or `dynamic` (database engine credentials).
    #[serde(rename = "type")]
    pub kind: Option<VaultKind>,
    /// Vault Kubernetes-auth role: a VaultAuth and ServiceAccount are generated.
    #[serde(default)]
    pub role: Option<String>,
    /// An existing VaultAuth to use instead.
    #[serde(default)]
    pub auth_ref: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VaultKind {
    Static,
    Dynamic,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub host: String,
    #[serde(default = "postgres_port")]
    pub port: PortNumber,
    pub name: Option<String>,
}

fn postgres_port() -> PortNumber {
    PortNumber::new(5432).expect("5432 is a port number")
}
