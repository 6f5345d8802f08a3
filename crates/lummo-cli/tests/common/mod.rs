//! Helpers shared by the CLI's test binaries.

use std::path::{Path, PathBuf};

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

/// `Kptfile.examples`, where the script cases copy their packages from.
// Not every test binary that shares this module runs script cases.
#[allow(dead_code)]
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Kptfile.examples")
}

/// Runs the script lines that build the files of a case in `dir` — `copy
/// EXAMPLE [DEST]`, `write PATH` (the lines up to `EOF` from `lines`), `edit
/// PATH | OLD | NEW` (the one occurrence of OLD; `\n` a line break; an empty
/// NEW when the line ends in ` |`), blank lines and `#` comments — and says
/// whether `command` was one of them (the caller runs the others).
#[allow(dead_code)]
pub fn file_step<'a>(
    name: &str,
    dir: &Path,
    line: &str,
    lines: &mut impl Iterator<Item = &'a str>,
) -> bool {
    let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
    match command {
        "" => {}
        c if c.starts_with('#') => {}
        "copy" => {
            let mut words = rest.split_whitespace();
            let example = words.next().expect("copy EXAMPLE");
            let dest = words.next().unwrap_or(example);
            copy_dir(&examples().join(example), &dir.join(dest));
        }
        "write" => {
            let mut text = String::new();
            for line in lines.by_ref() {
                if line == "EOF" {
                    break;
                }
                text.push_str(line);
                text.push('\n');
            }
            let file = dir.join(rest);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        "edit" => {
            // An empty NEW: the line ends in ` |` (trailing blanks are trimmed).
            let rest = if rest.ends_with(" |") {
                format!("{rest} ")
            } else {
                rest.to_string()
            };
            let parts: Vec<&str> = rest.split(" | ").collect();
            let [path, old, new] = parts[..] else {
                panic!("{name}: edit PATH | OLD | NEW, got {line:?}")
            };
            let file = dir.join(path);
            let text = std::fs::read_to_string(&file).unwrap();
            let (old, new) = (old.replace("\\n", "\n"), new.replace("\\n", "\n"));
            assert_eq!(
                text.matches(&old).count(),
                1,
                "{name}: {old:?} once in {path}"
            );
            std::fs::write(&file, text.replace(&old, &new)).unwrap();
        }
        _ => return false,
    }
    true
}
