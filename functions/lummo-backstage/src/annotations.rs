//! The annotations Backstage's plugins read, and Backstage's name rule.
//!
//! Sources (read with the project's search tool):
//! - Kubernetes: backstage/backstage `plugins/kubernetes/README.md` — the
//!   `backstage.io/kubernetes-label-selector` query "takes precedence over the
//!   annotation/service id", and is passed as `kubectl --selector`;
//!   `backstage.io/kubernetes-namespace` limits the lookup to one namespace.
//! - Argo CD: RoadieHQ `@roadiehq/backstage-plugin-argo-cd` needs `argocd/app-name`
//!   (or `argocd/app-selector`); RoadieHQ/marketing-site
//!   `content/docs/integrations/required-annotations/index.md`.
//! - Datadog: `@roadiehq/backstage-plugin-datadog` reads `datadoghq.com/site` and
//!   `datadoghq.com/dashboard-url` (same page; DataDog/integrations-extras
//!   `backstage/README.md`); Datadog's service catalog sync
//!   (cvent/datadog-backstage-plugins) takes `ddService` from
//!   `datadoghq.com/service-name`, falling back to the entity name.
//! - Names: backstage/backstage `packages/catalog-model/src/validation/
//!   KubernetesValidatorFunctions.ts`, `isValidObjectName`: 1–63 characters matching
//!   `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`.

use std::collections::BTreeMap;

pub const KUBERNETES_LABEL_SELECTOR: &str = "backstage.io/kubernetes-label-selector";
pub const KUBERNETES_NAMESPACE: &str = "backstage.io/kubernetes-namespace";
pub const ARGOCD_APP_NAME: &str = "argocd/app-name";
pub const DATADOG_SERVICE_NAME: &str = "datadoghq.com/service-name";
pub const DATADOG_SITE: &str = "datadoghq.com/site";
pub const DATADOG_DASHBOARD_URL: &str = "datadoghq.com/dashboard-url";

/// An equality-based label selector (`kubectl --selector` syntax) of `labels`.
pub fn label_selector(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Backstage's `KubernetesValidatorFunctions.isValidObjectName`; the error says why.
pub fn check_entity_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err(format!(
            "has {} characters (Backstage allows 1 to 63)",
            name.len()
        ));
    }
    let bytes = name.as_bytes();
    let edge = |b: u8| b.is_ascii_alphanumeric();
    let inner = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    let ok = edge(bytes[0]) && edge(bytes[bytes.len() - 1]) && bytes.iter().all(|&b| inner(b));
    if ok {
        Ok(())
    } else {
        Err("must be letters, digits and `-_.`, starting and ending with a letter or digit".into())
    }
}

/// An entity reference as `spec.owner`, `dependsOn` and the like take it:
/// `[kind:][namespace/]name` (backstage/backstage
/// `packages/catalog-model/src/entity/ref.ts`, `parseEntityRef`), with a valid
/// name and, when given, a valid namespace (a DNS label) and kind.
pub fn check_entity_ref(reference: &str) -> Result<(), String> {
    let (kind, rest) = match reference.split_once(':') {
        Some((kind, rest)) => (Some(kind), rest),
        None => (None, reference),
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, rest),
    };
    if let Some(kind) = kind {
        let ok = kind.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && kind.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!("`{reference}`: the kind `{kind}` must be letters and digits, e.g. `group:payments`"));
        }
    }
    if let Some(namespace) = namespace {
        let ok = !namespace.is_empty()
            && namespace.len() <= 63
            && namespace
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !namespace.starts_with('-')
            && !namespace.ends_with('-');
        if !ok {
            return Err(format!(
                "`{reference}`: the namespace `{namespace}` must be a DNS label"
            ));
        }
    }
    check_entity_name(name).map_err(|why| format!("`{reference}`: the name `{name}` {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_refs_as_backstage_parses_them() {
        for good in [
            "payments",
            "group:payments",
            "group:default/payments",
            "api:foobar-rest",
            "user:jane.doe",
        ] {
            assert_eq!(check_entity_ref(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Payments Team",
            "group:",
            "group:Default/x",
            "gr oup:x",
            "group:a/b/c",
        ] {
            assert!(check_entity_ref(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entity_names_as_backstage_judges_them() {
        for good in ["a", "foobar-api", "A.b_c-9", &"x".repeat(63)] {
            assert_eq!(check_entity_name(good), Ok(()), "{good}");
        }
        for bad in ["", "-a", "a-", "a+b", "a/b", "é", &"x".repeat(64)] {
            assert!(check_entity_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selector_is_sorted_and_comma_separated() {
        let labels = BTreeMap::from([
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
        ]);
        assert_eq!(label_selector(&labels), "a=1,b=2");
    }
}
