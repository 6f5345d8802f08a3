//! Helpers shared by the CLI's test binaries.

use std::path::Path;

/// Copies a folder recursively (files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs every case folder of `testdata/<folder>` (a `script.txt` each, at least
/// `at_least` of them) through `run(name, script)` and compares what it printed
/// with the case's `expected.txt`; `UPDATE_GOLDEN=1` rewrites those instead.
// Not every test binary that shares this module runs script cases.
#[allow(dead_code)]
pub fn script_cases(folder: &str, at_least: usize, run: impl Fn(&str, &str) -> String) {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let cases = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(folder);
    let mut names: Vec<String> = std::fs::read_dir(&cases)
        .unwrap_or_else(|e| panic!("{}: {e}", cases.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= at_least, "the {folder} cases went missing");
    let mut failures = Vec::new();
    for name in &names {
        let dir = cases.join(name);
        let script = std::fs::read_to_string(dir.join("script.txt")).expect("script.txt");
        let actual = run(name, &script);
        let expected_path = dir.join("expected.txt");
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{name}/expected.txt differs (UPDATE_GOLDEN=1 rewrites it):\n{}",
                similar::TextDiff::from_lines(&expected, &actual)
                    .unified_diff()
                    .header("expected", "actual")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
