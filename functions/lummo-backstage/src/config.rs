//! The functionConfig of lummo-backstage (`LummoBackstageConfig` or a ConfigMap).

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What the specs do not say about an app: who owns it in Backstage, and links.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Backstage `spec.owner` of every entity: an entity ref, e.g. `group:payments`.
    #[serde(default)]
    pub owner: Option<String>,
    /// Backstage `spec.system` when a spec has no `part-of`.
    #[serde(default)]
    pub system: Option<String>,
    /// Backstage `spec.lifecycle` of the Components (`experimental`, `production`, `deprecated`).
    #[serde(default = "production")]
    pub lifecycle: String,
    /// `argocd/app-name`; default: the name of the spec's Kptfile (one Argo CD
    /// Application per package), else the app.
    #[serde(default)]
    pub argocd_app_name: Option<String>,
    /// `datadoghq.com/site`, e.g. `datadoghq.eu`.
    #[serde(default)]
    pub datadog_site: Option<String>,
    /// Per app (by `spec.app`): overrides and links.
    #[serde(default)]
    pub apps: BTreeMap<String, AppConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            owner: None,
            system: None,
            lifecycle: production(),
            argocd_app_name: None,
            datadog_site: None,
            apps: BTreeMap::new(),
        }
    }
}

fn production() -> String {
    "production".into()
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppConfig {
    pub owner: Option<String>,
    pub system: Option<String>,
    pub lifecycle: Option<String>,
    pub description: Option<String>,
    pub argocd_app_name: Option<String>,
    /// `datadoghq.com/dashboard-url`: a public Datadog dashboard.
    pub datadog_dashboard_url: Option<String>,
    /// API entity refs this app provides (`providesApis`), e.g. `api:foobar-rest`.
    #[serde(default)]
    pub provides_apis: Vec<String>,
    /// More entity refs it depends on (`dependsOn`), e.g. `resource:redis`.
    #[serde(default)]
    pub depends_on: Vec<String>,
}
