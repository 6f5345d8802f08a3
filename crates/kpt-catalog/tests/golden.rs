//! Golden cases for what the catalog's examples do not cover: bad config, old
//! releases, matchers. `testdata/<name>_<tag>/<case>/` runs the function that
//! `lookup("<name>:<tag>")` gives (so the folder names the release it pins); a
//! case is `input.yaml`, `config.yaml` (the functionConfig) and the expected
//! `expected.yaml` / `expected.stderr` (`UPDATE_GOLDEN=1` rewrites them).
//!
//! krm-sdk's golden kit also demands that a second run gives the same results;
//! the catalog's functions report what they changed, so a second run reports
//! other infos. Here a second run must leave the items as they are.

use krm_sdk::yaml::{self, Limits};
use krm_sdk::{process_text, ResourceList};
use std::fs;
use std::path::Path;

fn run(
    function: &kpt_catalog::Function,
    input: &str,
    config: Option<krm_sdk::Value>,
) -> krm_sdk::Outcome {
    if function.over_text() {
        // A function over the text (Starlark: its stderr is what the script printed).
        let Some(config) = config else {
            return function.filter(input);
        };
        let mut list = ResourceList::parse(input, &Limits::default()).expect("input.yaml");
        list.function_config = Some(config);
        return function.filter(&list.write());
    }
    process_text(
        function.name,
        input,
        &Limits::default(),
        |list: &mut ResourceList| {
            if config.is_some() {
                list.function_config = config.clone();
            }
            function.run_as_container(list)
        },
    )
}

fn items(stdout: &str) -> Vec<krm_sdk::Value> {
    ResourceList::parse(stdout, &Limits::default())
        .map(|l| l.items.into_iter().map(|i| i.into_value()).collect())
        .unwrap_or_default()
}

#[test]
fn golden() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .expect("testdata exists")
        .flat_map(|e| fs::read_dir(e.expect("readable").path()).expect("a folder per release"))
        .map(|e| e.expect("readable").path())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let folder = case
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let label = format!("{folder}/{}", case.file_name().unwrap().to_string_lossy());
        let image = folder.replacen('_', ":", 1);
        let function = kpt_catalog::lookup(&image)
            .unwrap_or_else(|| panic!("{label}: `{image}` is not a catalog function"));
        let input = fs::read_to_string(case.join("input.yaml")).expect("input.yaml");
        let config = fs::read_to_string(case.join("config.yaml")).ok().map(|c| {
            yaml::parse_documents(&c, &Limits::default())
                .expect("config.yaml is YAML")
                .remove(0)
        });
        let outcome = run(&function, &input, config.clone());
        for (file, actual) in [
            ("expected.yaml", &outcome.stdout),
            ("expected.stderr", &outcome.stderr),
        ] {
            let path = case.join(file);
            if update {
                if actual.is_empty() {
                    let _ = fs::remove_file(&path);
                } else {
                    fs::write(&path, actual).expect("writable");
                }
                continue;
            }
            let expected = fs::read_to_string(&path).unwrap_or_default();
            if &expected != actual {
                failures.push(format!(
                    "{label}/{file} differs:\n--- expected\n{expected}\n--- actual\n{actual}"
                ));
            }
        }
        if outcome.exit_code == 0 {
            let again = run(&function, &outcome.stdout, config);
            if items(&again.stdout) != items(&outcome.stdout) {
                failures.push(format!(
                    "{label}: a second run changed the items:\n{}",
                    again.stdout
                ));
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
