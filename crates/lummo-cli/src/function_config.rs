//! Which functionConfig each function gets in `lummo eval`, so that kustomize
//! environments can configure functions: a base holds the configs as ordinary
//! objects, overlays patch them, and each function picks its own out of the stream.
//!
//! The rule, for each function of the chain, first match wins:
//! 1. `--config FUNCTION=FILE` on the command line;
//! 2. the input ResourceList's own `functionConfig` (what kpt or another
//!    orchestrator passed: a function then behaves exactly like its own binary);
//! 3. the one object of the stream annotated `lummo.dev/function-config: FUNCTION`
//!    (any kind the function accepts, e.g. a ConfigMap);
//! 4. the one object of the stream of the function's typed config kind
//!    (`LummoWorkloadConfig`, `LummoNetworkingConfig`, `LummoPubSubConfig`, `LummoValidateConfig`,
//!    `LummoBackstageConfig`) that
//!    carries no such annotation;
//! 5. none: the function's defaults.
//!
//! Two candidates at the same step are an error naming both: which one wins would
//! otherwise depend on the order kustomize emits them in.

use krm_sdk::ObjectExt;
use krm_sdk::Value;

/// Annotation naming the function an object configures (`lummo-networking` or
/// `networking`).
pub const FOR_FUNCTION: &str = "lummo.dev/function-config";

/// The typed functionConfig kind of a function, if it has one (from the registry).
pub fn config_kind(function: &str) -> Option<&'static str> {
    let descriptor = lummo_validate::DESCRIPTORS
        .iter()
        .find(|d| d.name() == function)?;
    let config = descriptor.kinds.iter().find(|k| k.function_config)?;
    Some(config.kind)
}

/// `networking` → `lummo-networking`.
pub fn full_name(function: &str) -> String {
    if function.starts_with("lummo-") {
        function.to_string()
    } else {
        format!("lummo-{function}")
    }
}

/// Whether the object is a functionConfig by the rule above (for any function):
/// `--manifests` leaves such objects out, they are not for the cluster.
pub fn is_function_config(item: &Value) -> bool {
    item.annotation(FOR_FUNCTION).is_some()
        || ["lummo-networking", "lummo-pubsub", "lummo-validate"]
            .iter()
            .any(|f| config_kind(f) == Some(item.kind()))
}

fn describe(item: &Value) -> String {
    let mut text = format!("{}/{}", item.kind(), item.name());
    if let Some(file) = item.file_ref() {
        text.push_str(&format!(" ({})", file.path));
    }
    text
}

/// The stream's config for `function` (steps 3 and 4 of the rule).
pub fn pick<'a>(items: &[&'a Value], function: &str) -> Result<Option<&'a Value>, String> {
    let annotated: Vec<&Value> = items
        .iter()
        .copied()
        .filter(|i| i.annotation(FOR_FUNCTION).map(full_name).as_deref() == Some(function))
        .collect();
    let typed: Vec<&Value> = match config_kind(function) {
        Some(kind) => items
            .iter()
            .copied()
            .filter(|i| i.kind() == kind && i.annotation(FOR_FUNCTION).is_none())
            .collect(),
        None => Vec::new(),
    };
    for (candidates, how) in [
        (annotated, format!("annotated {FOR_FUNCTION}: {function}")),
        (
            typed,
            format!("of kind {}", config_kind(function).unwrap_or_default()),
        ),
    ] {
        match candidates.as_slice() {
            [] => continue,
            [one] => return Ok(Some(one)),
            many => {
                return Err(format!(
                    "{function}: {} objects {how} in the input: {}; keep one (or name one with --config {function}=FILE)",
                    many.len(),
                    many.iter().map(|i| describe(i)).collect::<Vec<_>>().join(", ")
                ))
            }
        }
    }
    Ok(None)
}

/// Objects annotated for a function that does not exist: a typo would otherwise
/// leave a function silently unconfigured.
pub fn unknown_targets(items: &[&Value], known: &[&str]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| {
            let target = item.annotation(FOR_FUNCTION)?;
            let name = full_name(target);
            if known.contains(&name.as_str()) {
                return None;
            }
            let hint = krm_sdk::decode::suggest(&name, known.iter().copied())
                .map(|s| format!(", did you mean `{s}`?"))
                .unwrap_or_default();
            Some(format!(
                "{}: {FOR_FUNCTION}: `{target}` is not a function{hint} (one of {})",
                describe(item),
                known.join(", ")
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Value {
        krm_sdk::yaml::parse_documents(text, &Default::default())
            .unwrap()
            .remove(0)
    }

    #[test]
    fn annotation_beats_kind_and_kind_is_found_alone() {
        let typed = object(
            "apiVersion: lummo.dev/v1alpha1\nkind: LummoNetworkingConfig\nmetadata: {name: a}\n",
        );
        let annotated = object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, annotations: {lummo.dev/function-config: networking}}\n");
        let items = [&typed, &annotated];
        assert_eq!(
            pick(&items, "lummo-networking").unwrap().unwrap().name(),
            "b"
        );
        assert_eq!(
            pick(&items[..1], "lummo-networking")
                .unwrap()
                .unwrap()
                .name(),
            "a"
        );
        assert_eq!(pick(&items, "lummo-pubsub").unwrap(), None);
        assert_eq!(pick(&items, "lummo-workload").unwrap(), None);
    }

    #[test]
    fn two_candidates_are_an_error_naming_both() {
        let a = object(
            "apiVersion: lummo.dev/v1alpha1\nkind: LummoPubSubConfig\nmetadata: {name: a}\n",
        );
        let b = object(
            "apiVersion: lummo.dev/v1alpha1\nkind: LummoPubSubConfig\nmetadata: {name: b}\n",
        );
        let error = pick(&[&a, &b], "lummo-pubsub").unwrap_err();
        assert!(
            error.contains("LummoPubSubConfig/a") && error.contains("LummoPubSubConfig/b"),
            "{error}"
        );
    }

    #[test]
    fn a_misspelt_target_is_reported_with_a_suggestion() {
        let a = object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {lummo.dev/function-config: netwrking}}\n");
        let problems = unknown_targets(&[&a], &["lummo-networking", "lummo-pubsub"]);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("did you mean `lummo-networking`"),
            "{}",
            problems[0]
        );
    }

    /// The table above is the functions' own `CONFIG_KIND`.
    #[test]
    fn config_kinds_are_the_functions_own() {
        assert_eq!(
            config_kind("lummo-networking"),
            Some(lummo_networking::CONFIG_KIND)
        );
        assert_eq!(config_kind("lummo-pubsub"), Some(lummo_pubsub::CONFIG_KIND));
        assert_eq!(
            config_kind("lummo-validate"),
            Some(lummo_validate::CONFIG_KIND)
        );
        assert_eq!(
            config_kind("lummo-backstage"),
            Some(lummo_backstage::CONFIG_KIND)
        );
    }
}
