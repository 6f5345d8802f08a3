//! Every case of tests/bad-inputs through the real binary: exit 1, an error
//! result (or a stderr message when no ResourceList could be read), no panic.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn bad_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bad-inputs");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/bad-inputs exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "only {} bad-input cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let function = std::fs::read_to_string(case.join("function"))
            .expect("function file")
            .trim()
            .to_string();
        let input = std::fs::read(case.join("input.yaml")).expect("input.yaml");
        let mut child = Command::new(env!("CARGO_BIN_EXE_lummo"))
            .args(["eval", &function])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lummo runs");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(&input)
            .expect("stdin accepts the input");
        let output = child.wait_with_output().expect("lummo finishes");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let results = stdout
            .find("\nresults:\n")
            .map(|i| &stdout[i + 1..])
            .unwrap_or("");
        let actual = format!(
            "exit: {}\n--- stderr\n{stderr}--- results\n{results}",
            output.status.code().unwrap_or(-1)
        );
        if output.status.code() != Some(1)
            || stderr.contains("panicked")
            || !(results.contains("severity: error") || stderr.contains("error"))
        {
            failures.push(format!("{name}: must exit 1 with an error, got:\n{actual}"));
        }
        let expected_path = case.join("expected.txt");
        if update {
            std::fs::write(&expected_path, &actual).expect("expected.txt is writable");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{name}/expected.txt differs (UPDATE_GOLDEN=1 rewrites it):\n{}",
                pretty_assertions::StrComparison::new(&expected, &actual)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} bad-input failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Inputs over the 32 MiB limit are refused before parsing, whatever they hold.
#[test]
fn refuses_a_50_mb_input() {
    let mut input =
        String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
    let item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: big}\n  data: {k: \"0123456789012345678901234567890123456789\"}\n";
    while input.len() < 50 << 20 {
        input.push_str(item);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_lummo"))
        .args(["eval", "workload"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lummo runs");
    let mut stdin = child.stdin.take().expect("piped stdin");
    // The function stops reading at the limit; a broken pipe after that is expected.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().expect("lummo finishes");
    let _ = writer.join();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("input is larger than the limit of 33554432 bytes"),
        "{stderr}"
    );
}
