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

impl lummo_core::function::FunctionConfig for Config {
    const KIND: Option<&'static str> = Some(crate::CONFIG_KIND);
    const HELP_NOTES: &'static str =
        "    e.g. apps: '{foobar-api: {providesApis: [foobar-rest], dependsOn: [resource:redis]}}'";

    /// Entity references Backstage would not parse, and empty lifecycles.
    fn check(&self, _: Option<&krm_sdk::Value>) -> Vec<krm_sdk::ResultItem> {
        let mut problems = Vec::new();
        let mut refs: Vec<(String, &str)> = Vec::new();
        let mut lifecycles = vec![("lifecycle".to_string(), self.lifecycle.as_str())];
        for (field, value) in [("owner", &self.owner), ("system", &self.system)] {
            if let Some(value) = value {
                refs.push((field.to_string(), value));
            }
        }
        for (app, config) in &self.apps {
            for (field, value) in [("owner", &config.owner), ("system", &config.system)] {
                if let Some(value) = value {
                    refs.push((format!("apps.{app}.{field}"), value));
                }
            }
            if let Some(lifecycle) = &config.lifecycle {
                lifecycles.push((format!("apps.{app}.lifecycle"), lifecycle));
            }
            for (field, list) in [
                ("providesApis", &config.provides_apis),
                ("dependsOn", &config.depends_on),
            ] {
                for (i, value) in list.iter().enumerate() {
                    refs.push((format!("apps.{app}.{field}[{i}]"), value));
                }
            }
        }
        for (field, value) in refs {
            if let Err(why) = crate::annotations::check_entity_ref(value) {
                problems.push(
                    krm_sdk::ResultItem::error(format!("invalid functionConfig {field}: Backstage cannot parse the entity reference {why}"))
                        .field(field),
                );
            }
        }
        for (field, value) in lifecycles {
            if value.trim().is_empty() {
                problems.push(
                    krm_sdk::ResultItem::error(format!("invalid functionConfig {field}: must not be empty (e.g. production, experimental, deprecated)"))
                        .field(field),
                );
            }
        }
        problems
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
