//! Properties every function keeps, over generated inputs:
//! - any input text gives a ResourceList (or a stream) back, never a panic, and an
//!   error result exactly when the exit code is 1;
//! - objects a function does not own come out semantically identical (values, key
//!   order, strings that look like booleans or numbers stay strings);
//! - what the YAML writer writes, the reader reads back as the same value.

use krm_sdk::yaml::{parse_documents, to_string, Limits};
use krm_sdk::{process_text, ResourceList, Value};
use proptest::prelude::*;

use lummo_validate::FUNCTIONS;

/// Scalars that trip YAML 1.1/1.2 readers and writers.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("no".to_string()),
        Just("yes".to_string()),
        Just("on".to_string()),
        Just("y".to_string()),
        Just("0x1F".to_string()),
        Just("1e3".to_string()),
        Just("0777".to_string()),
        Just("1:30".to_string()),
        Just("~".to_string()),
        Just("null".to_string()),
        Just("".to_string()),
        Just("- a".to_string()),
        Just("a: b".to_string()),
        Just("#x".to_string()),
        Just("2001-12-14".to_string()),
        Just(".inf".to_string()),
        "[ -~]{0,12}",
        "[a-z]{1,8}\n[a-z ]{0,8}\n?",
        "\\PC{0,6}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        tricky_string().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        (-1e6f64..1e6).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A user object no function owns: a ConfigMap with arbitrary data (and a name
/// the API server accepts, which lummo-validate checks).
fn user_object() -> impl Strategy<Value = Value> {
    ("[a-z]([a-z0-9-]{0,9}[a-z0-9])?", prop::collection::vec((tricky_string(), tricky_string()), 0..6), json_value()).prop_map(
        |(name, data, extra)| {
            let data: krm_sdk::Map<String, Value> = data.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name,
                "annotations": {"config.kubernetes.io/path": format!("{name}.yaml")}}, "data": data, "x-extra": extra})
        },
    )
}

fn reports_error(stdout: &str, stderr: &str) -> bool {
    stdout.contains("severity: error") || stderr.contains(": error:")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn writer_output_reads_back_as_the_same_value(value in json_value()) {
        let document = serde_json::json!({ "v": value });
        let text = to_string(&document);
        let back = parse_documents(&text, &Limits::default()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back[0], &document, "{}", text);
    }

    #[test]
    fn functions_never_panic_and_report_errors_with_exit_1(text in "\\PC{0,300}") {
        for (name, process) in FUNCTIONS {
            let outcome = process_text(name, &text, &Limits::default(), process);
            prop_assert_eq!(outcome.exit_code == 1, reports_error(&outcome.stdout, &outcome.stderr), "{}", name);
            if outcome.exit_code == 1 && !outcome.stdout.is_empty() {
                prop_assert!(ResourceList::parse(&outcome.stdout, &Limits::default()).is_ok(), "{}", outcome.stdout);
            }
        }
    }

    #[test]
    fn arbitrary_specs_never_panic(kind in prop::sample::select(spec_kinds()), spec in json_value()) {
        let object = serde_json::json!({"apiVersion": "lummo.dev/v1alpha1", "kind": kind, "metadata": {"name": "x"}, "spec": spec});
        let input = ResourceList::new(vec![object]).write();
        for (name, process) in FUNCTIONS {
            let outcome = process_text(name, &input, &Limits::default(), process);
            prop_assert_eq!(outcome.exit_code == 1, reports_error(&outcome.stdout, &outcome.stderr), "{}", name);
        }
    }

    #[test]
    fn objects_no_function_owns_come_out_unchanged(objects in prop::collection::vec(user_object(), 1..4)) {
        let input = ResourceList::new(objects.clone()).write();
        for (name, process) in FUNCTIONS {
            let outcome = process_text(name, &input, &Limits::default(), process);
            prop_assert_eq!(outcome.exit_code, 0, "{}: {}", name, outcome.stderr);
            let output = ResourceList::parse(&outcome.stdout, &Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let items: Vec<Value> = output.items.into_iter().map(|i| i.into_value()).collect();
            prop_assert_eq!(&items, &objects, "{}", name);
            prop_assert_eq!(&outcome.stdout, &input, "{} rewrote untouched objects", name);
        }
    }
}

/// Every spec kind of the registry's functions.
fn spec_kinds() -> Vec<&'static str> {
    let kinds = lummo_validate::DESCRIPTORS.iter().flat_map(|d| d.kinds);
    kinds
        .filter(|k| !k.function_config)
        .map(|k| k.kind)
        .collect()
}

/// A LummoTopic with these topics, as a package item.
fn topics_spec(topics: &[String]) -> Value {
    serde_json::json!({"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoTopic",
        "metadata": {"name": "topics", "annotations": {"config.kubernetes.io/path": "topics.yaml"}},
        "spec": {"prefix": "dev-", "topics": topics}})
}

fn render(items: Vec<Value>) -> Vec<Value> {
    let input = ResourceList::new(items).write();
    let outcome = process_text(
        "lummo-pubsub",
        &input,
        &Limits::default(),
        lummo_core::function::process::<lummo_pubsub::PubSub>,
    );
    assert_eq!(outcome.exit_code, 0, "{}", outcome.stderr);
    let list = ResourceList::parse(&outcome.stdout, &Limits::default()).expect("output parses");
    list.items.into_iter().map(|i| i.into_value()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Removing spec entries from a rendered package and rendering again gives what
    /// rendering the smaller spec from scratch gives: exactly the removed entries'
    /// objects are pruned, user objects stay.
    #[test]
    fn removing_spec_entries_prunes_exactly_their_objects(
        topics in prop::collection::btree_set("[a-z]{3,8}", 1..6),
        keep in prop::collection::vec(any::<bool>(), 6),
        user in user_object(),
    ) {
        let topics: Vec<String> = topics.into_iter().collect();
        let kept: Vec<String> = topics.iter().zip(&keep).filter(|(_, k)| **k).map(|(t, _)| t.clone()).collect();
        let rendered = render(vec![topics_spec(&topics), user.clone()]);
        let mut edited = rendered.clone();
        edited[0] = topics_spec(&kept);
        let again = render(edited);
        let scratch = render(vec![topics_spec(&kept), user.clone()]);
        prop_assert_eq!(&again, &scratch);
        prop_assert_eq!(&again[1], &user);
        prop_assert_eq!(again.len(), 2 + kept.len());
    }
}

/// A spec no function reads must not be a silent no-op (its generated objects would be
/// pruned with exit 0): every function reports it, with a did-you-mean.
#[test]
fn every_function_reports_an_unknown_lummo_kind() {
    let generated = serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web",
        "annotations": {"lummo.dev/generated-by": "lummo-workload:LummoDeployment/web",
            "config.kubernetes.io/path": "generated/service_web.yaml"}}});
    for (api_version, kind, expected) in [
        (
            "lummo.dev/v1alpha1",
            "LummoDeploymnet",
            "did you mean `LummoDeployment`?",
        ),
        (
            "lummo.dev/v1alpha1",
            "lummodeployment",
            "did you mean `LummoDeployment`?",
        ),
        ("", "LummoDeploymnet", "did you mean `LummoDeployment`?"),
        (
            "apps/v1",
            "LumoNetworking",
            "did you mean `LummoNetworking`?",
        ),
        (
            "lummo.dev/v1alpha1",
            "LummoThing",
            "the Lummo kinds are LummoDeployment,",
        ),
        (
            "lummo.dev/v1alpha2",
            "LummoDeployment",
            "needs `apiVersion: lummo.dev/v1alpha1`, found `lummo.dev/v1alpha2`",
        ),
        (
            "",
            "LummoTopic",
            "needs `apiVersion: lummo.dev/v1alpha1`, found no apiVersion",
        ),
    ] {
        let mut spec =
            serde_json::json!({"kind": kind, "metadata": {"name": "web"}, "spec": {"app": "web"}});
        if !api_version.is_empty() {
            spec["apiVersion"] = Value::String(api_version.into());
        }
        let input = ResourceList::new(vec![spec, generated.clone()]).write();
        for (name, process) in FUNCTIONS {
            let outcome = process_text(name, &input, &Limits::default(), process);
            assert_eq!(
                outcome.exit_code, 1,
                "{name} on {api_version} {kind}: {}",
                outcome.stdout
            );
            assert!(
                outcome.stderr.contains(expected),
                "{name} on {api_version} {kind}: {}",
                outcome.stderr
            );
            assert!(
                outcome.stdout.contains("service_web.yaml"),
                "{name} pruned on {kind}"
            );
        }
    }
}

/// Kubernetes kinds and the README's draft pgbouncer form are not Lummo typos.
#[test]
fn ordinary_kinds_are_not_lummo_typos() {
    let objects = vec![
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}),
        serde_json::json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "a"}}),
        serde_json::json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "a"}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}}),
    ];
    let input = ResourceList::new(objects).write();
    for (name, process) in FUNCTIONS {
        let outcome = process_text(name, &input, &Limits::default(), process);
        assert_eq!(outcome.exit_code, 0, "{name}: {}", outcome.stderr);
    }
}
