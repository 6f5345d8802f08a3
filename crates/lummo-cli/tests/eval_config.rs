//! `lummo eval` configuring functions, as an environment pipeline runs it:
//! `kubectl kustomize env | lummo eval ... --manifests`. A subscription with a dead
//! letter needs lummo-pubsub's `projectNumber`; before `--config` and the stream
//! rule there was no way to give it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const SUBSCRIPTION: &str = "apiVersion: lummo.dev/v1alpha1
kind: LummoTopic
metadata:
  name: topics
spec:
  topics: [orders]
---
apiVersion: lummo.dev/v1alpha1
kind: LummoSubscription
metadata:
  name: subscriptions
spec:
  config:
    maxDeliveryAttempts: 5
  subscriptions:
  - topic: orders
    subscription: orders-foobar
";

const TYPED: &str = "apiVersion: lummo.dev/v1alpha1
kind: LummoPubSubConfig
metadata:
  name: pubsub-config
spec:
  projectNumber: \"111111111111\"
";

const ANNOTATED: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: pubsub-settings
  annotations:
    lummo.dev/function-config: pubsub
data:
  projectNumber: \"222222222222\"
";

fn eval(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lummo"))
        .arg("eval")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lummo runs");
    // lummo may refuse its flags and exit before reading stdin: a broken pipe
    // here is that refusal, which the caller checks, not a failure to write.
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    if let Err(error) = written {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn file(name: &str, content: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("lummo-eval-{}-{name}", std::process::id()));
    std::fs::write(&path, content).unwrap();
    path
}

fn stream(parts: &[&str]) -> String {
    parts.join("---\n")
}

#[test]
fn without_a_config_the_dead_letter_fails_naming_project_number() {
    let out = eval(&["workload", "pubsub", "--manifests"], SUBSCRIPTION);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("projectNumber"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn config_flag_configures_its_function() {
    let config = file(
        "cm.yaml",
        &ANNOTATED
            .replace("    lummo.dev/function-config: pubsub\n", "")
            .replace("  annotations:\n", ""),
    );
    let arg = format!("pubsub={}", config.display());
    let out = eval(
        &["workload", "pubsub", "--manifests", "--config", &arg],
        SUBSCRIPTION,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("service-222222222222@gcp-sa-pubsub"));
}

#[test]
fn the_typed_config_in_the_stream_is_picked_and_left_out_of_the_manifests() {
    let out = eval(&["pubsub", "--manifests"], &stream(&[SUBSCRIPTION, TYPED]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifests = text(&out.stdout);
    assert!(
        manifests.contains("service-111111111111@gcp-sa-pubsub"),
        "{manifests}"
    );
    assert!(!manifests.contains("LummoPubSubConfig"), "{manifests}");
}

#[test]
fn an_annotated_config_map_beats_the_typed_one_and_is_left_out_too() {
    let out = eval(
        &["workload", "pubsub", "--manifests"],
        &stream(&[SUBSCRIPTION, TYPED, ANNOTATED]),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifests = text(&out.stdout);
    assert!(
        manifests.contains("service-222222222222@gcp-sa-pubsub"),
        "{manifests}"
    );
    assert!(!manifests.contains("pubsub-settings"), "{manifests}");
}

#[test]
fn the_config_flag_beats_the_stream() {
    let config = file("typed.yaml", &TYPED.replace("111111111111", "333333333333"));
    let arg = format!("lummo-pubsub={}", config.display());
    let out = eval(
        &["pubsub", "--config", &arg],
        &stream(&[SUBSCRIPTION, TYPED]),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let output = text(&out.stdout);
    assert!(
        output.contains("service-333333333333@gcp-sa-pubsub"),
        "{output}"
    );
    // Without --manifests nothing the user wrote is dropped: the stream's config stays.
    assert!(output.contains("kind: LummoPubSubConfig"), "{output}");
}

#[test]
fn two_configs_for_one_function_are_an_error_naming_both() {
    let second = TYPED.replace("name: pubsub-config", "name: other");
    let out = eval(
        &["pubsub", "--manifests"],
        &stream(&[SUBSCRIPTION, TYPED, &second]),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("LummoPubSubConfig/pubsub-config") && err.contains("LummoPubSubConfig/other"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_misspelt_function_in_the_annotation_is_an_error_with_a_suggestion() {
    let typo = ANNOTATED.replace("function-config: pubsub", "function-config: pubsb");
    let out = eval(&["pubsub", "--manifests"], &stream(&[SUBSCRIPTION, &typo]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("did you mean `lummo-pubsub`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_config_flags_are_refused_before_reading_stdin() {
    let config = file("ok.yaml", TYPED);
    for (arg, wanted) in [
        ("pubsub".to_string(), "expected FUNCTION=FILE"),
        (
            format!("networking={}", config.display()),
            "not among the functions",
        ),
        ("pubsub=/nonexistent/x.yaml".to_string(), "cannot read"),
        (
            format!(
                "pubsub={}",
                file("two.yaml", &stream(&[TYPED, TYPED])).display()
            ),
            "exactly one object",
        ),
    ] {
        let out = eval(&["pubsub", "--config", &arg], SUBSCRIPTION);
        assert_eq!(out.status.code(), Some(1), "{arg}");
        assert!(
            text(&out.stderr).contains(wanted),
            "{arg}: {}",
            text(&out.stderr)
        );
    }
}

/// A ResourceList's own functionConfig (what kpt passes) wins over the stream: one
/// function under `lummo eval` stays exactly its own binary.
#[test]
fn the_resource_lists_function_config_wins_over_the_stream() {
    let mut items = String::new();
    for doc in stream(&[SUBSCRIPTION, TYPED]).split("---\n") {
        items.push_str("- ");
        items.push_str(&doc.trim_end().replace('\n', "\n  "));
        items.push('\n');
    }
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: fc}}\n  data: {{projectNumber: \"444444444444\"}}\n"
    );
    let out = eval(&["pubsub"], &list);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("service-444444444444@gcp-sa-pubsub"),
        "{}",
        text(&out.stdout)
    );
}
