//! Golden tests: a function runs over every `testdata/<case>/` and its output is
//! compared, as text, with the checked-in expectation. `UPDATE_GOLDEN=1` rewrites
//! the expectations instead (review the diff before committing).
//!
//! A case holds `input.yaml` (a ResourceList or a plain stream), optionally
//! `config.yaml` (set as the functionConfig), and the expectations `expected.yaml`
//! (stdout: items and results) and, when the run printed any, `expected.stderr`.
//! Every case also checks that a successful run is idempotent (running the function
//! on its own output, results dropped, gives the same output) and that each output item passes `check_item`.

use crate::resource_list::ResourceList;
use crate::run::{process_text, Outcome};
use crate::yaml::{self, Limits};
use serde_json::Value;
use std::fs;
use std::path::Path;

/// Runs every case under `dir`; panics with all failures and readable diffs.
pub fn check_golden_dir(
    dir: &Path,
    name: &str,
    process: impl Fn(&mut ResourceList),
    check_item: impl Fn(&Value) -> Vec<String>,
) {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut cases: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("input.yaml").is_file())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under {}", dir.display());
    let mut failures = Vec::new();
    for case in &cases {
        let label = case
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let outcome = run_case(case, name, &process);
        for (file, actual) in [
            ("expected.yaml", &outcome.stdout),
            ("expected.stderr", &outcome.stderr),
        ] {
            let path = case.join(file);
            if update {
                if actual.is_empty() {
                    let _ = fs::remove_file(&path);
                } else {
                    fs::write(&path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                }
                continue;
            }
            let expected = fs::read_to_string(&path).unwrap_or_default();
            if &expected != actual {
                failures.push(format!(
                    "{label}/{file} differs (UPDATE_GOLDEN=1 rewrites it):\n{}",
                    pretty_assertions::StrComparison::new(&expected, actual)
                ));
            }
        }
        if outcome.exit_code == 0 && !outcome.stdout.is_empty() {
            // kpt hands a function the package's items, never earlier results.
            let again = process_text(name, &outcome.stdout, &Limits::default(), |list| {
                list.results.clear();
                process(list)
            });
            if again.stdout != outcome.stdout {
                failures.push(format!(
                    "{label}: running the function on its own output changed it:\n{}",
                    pretty_assertions::StrComparison::new(&outcome.stdout, &again.stdout)
                ));
            }
            for item in output_items(&outcome.stdout) {
                for problem in check_item(&item) {
                    failures.push(format!(
                        "{label}: {} `{}`: {problem}",
                        kind(&item),
                        name_of(&item)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn run_case(case: &Path, name: &str, process: &impl Fn(&mut ResourceList)) -> Outcome {
    let input = fs::read_to_string(case.join("input.yaml")).expect("input.yaml is readable");
    let config = fs::read_to_string(case.join("config.yaml")).ok();
    let Some(config) = config else {
        return process_text(name, &input, &Limits::default(), process);
    };
    let config = yaml::parse_documents(&config, &Limits::default())
        .expect("config.yaml is valid YAML")
        .into_iter()
        .next();
    process_text(name, &input, &Limits::default(), |list| {
        list.function_config = config;
        process(list)
    })
}

fn output_items(stdout: &str) -> Vec<Value> {
    ResourceList::parse(stdout, &Limits::default())
        .map(|l| l.items.into_iter().map(|i| i.into_value()).collect())
        .unwrap_or_default()
}

fn kind(item: &Value) -> &str {
    item.get("kind").and_then(Value::as_str).unwrap_or("?")
}

fn name_of(item: &Value) -> &str {
    item.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?")
}
