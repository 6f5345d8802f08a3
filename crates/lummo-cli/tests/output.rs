//! `lummo render -o stdout` and `-o unwrap` on the packages of `tests/output/`:
//! each must print exactly what the real kpt printed for it (`stdout.yaml`,
//! `unwrap.yaml`; see `tests/output/README.md`). `UPDATE_GOLDEN=1` rewrites them.

mod common;
use common::copy_dir;
use std::path::Path;
use std::process::Command;

#[test]
fn stdout_and_unwrap_print_what_kpt_prints() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/output");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut names: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("package").is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert!(names.len() >= 3, "cases in {}", cases.display());
    let mut failures = Vec::new();
    for name in &names {
        for mode in ["stdout", "unwrap"] {
            // A copy: the folder's name is the package's display name.
            let work = std::env::temp_dir()
                .join(format!("lummo-output-{}-{name}-{mode}", std::process::id()));
            let _ = std::fs::remove_dir_all(&work);
            copy_dir(&cases.join(name).join("package"), &work.join(name));
            let out = Command::new(env!("CARGO_BIN_EXE_lummo"))
                .args(["render", name.as_str(), "-o", mode])
                .current_dir(&work)
                .output()
                .expect("lummo runs");
            let _ = std::fs::remove_dir_all(&work);
            assert!(
                out.status.success(),
                "{name} -o {mode}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let actual = String::from_utf8(out.stdout).unwrap();
            let golden = cases.join(name).join(format!("{mode}.yaml"));
            if update {
                std::fs::write(&golden, &actual).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&golden).unwrap();
            if actual != expected {
                failures.push(format!(
                    "{name} -o {mode} differs from {} (kpt's output):\n{}",
                    golden.display(),
                    similar::TextDiff::from_lines(&expected, &actual)
                        .unified_diff()
                        .header("kpt", "lummo")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
