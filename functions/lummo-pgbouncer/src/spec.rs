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
    /// (`POOL_SIZE` is `default_pool_size`): every setting pgbouncer 1.24 documents
    /// for its `[pgbouncer]` section, except those the generated pod decides.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// TLS to PostgreSQL: pgbouncer checks the server's certificate against the CA
    /// in a Secret (`server_tls_sslmode`, `server_tls_ca_file`).
    #[serde(default)]
    pub server_tls: Option<ServerTls>,
    /// The server connections PostgreSQL grants this app, every pgbouncer pod
    /// together (a rolling update runs one pod more): each pod's
    /// `max_db_connections` is derived from it, and a pool that cannot fit is an error.
    #[serde(default)]
    pub max_server_connections: Option<u32>,
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
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerTls {
    /// pgbouncer's `server_tls_sslmode`, default `verify-full`; `verify-ca` and
    /// `verify-full` need `caSecret`.
    #[serde(default = "verify_full")]
    pub sslmode: SslMode,
    /// Secret holding the CA certificate (PEM) that signed PostgreSQL's certificate.
    #[serde(default)]
    pub ca_secret: Option<DnsSubdomain>,
    /// The CA's key in that Secret.
    #[serde(default = "ca_key")]
    pub ca_key: SecretKey,
}

fn verify_full() -> SslMode {
    SslMode::VerifyFull
}

fn ca_key() -> SecretKey {
    SecretKey("ca.crt".into())
}

/// A key of a Secret's `data` (`[-._a-zA-Z0-9]+`, as the API server checks it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct SecretKey(pub String);

impl JsonSchema for SecretKey {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SecretKey".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[-._a-zA-Z0-9]+$", "maxLength": 253 })
    }
}

impl<'de> Deserialize<'de> for SecretKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        let valid = !key.is_empty()
            && key.len() <= 253
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            && key != "."
            && key != "..";
        if valid {
            Ok(SecretKey(key))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{key}` is not a Secret key: letters, digits, `-`, `.` and `_` (e.g. `ca.crt`)"
            )))
        }
    }
}

/// libpq's sslmode values, as pgbouncer takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// The modes that check the server's certificate against a CA.
    pub fn needs_ca(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
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
