//! `lummo diff` through the real binary against real git repositories made here:
//! each case of `testdata/diff/<case>/script.txt` builds a repository from the
//! packages of `Kptfile.examples`, changes spec fields, commits, and runs
//! `lummo diff`; everything the runs print (exit status, stdout, stderr) must
//! equal `expected.txt`. `UPDATE_GOLDEN=1` rewrites it.
//!
//! Script lines, run in order in the repository:
//! - `copy EXAMPLE [DEST]`: `Kptfile.examples/EXAMPLE` into DEST (default EXAMPLE);
//! - `write PATH` then the file's lines up to `EOF`;
//! - `edit PATH | OLD | NEW`: replaces the one occurrence of OLD (`\n` a line break);
//! - `remove PATH`; `commit`; `snapshot NAME`: the working tree copied to `../NAME`;
//! - `run ARGS...`: `lummo diff ARGS`, its output appended to what is compared;
//!   `run-in DIR ARGS...`: the same in the repository's folder DIR.

mod common;
use common::copy_dir;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn diff_cases() {
    common::script_cases("diff", 5, run_script);
}

/// Runs a case's script in a new repository; what its `run` lines printed.
fn run_script(name: &str, script: &str) -> String {
    let work = std::env::temp_dir().join(format!("lummo-diff-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let repo = work.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let mut out = String::new();
    let mut lines = script.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        if common::file_step(name, &repo, line, &mut lines) {
            continue;
        }
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        match command {
            "remove" => std::fs::remove_file(repo.join(rest)).unwrap(),
            "commit" => {
                git(&repo, &["add", "-A"]);
                git(&repo, &["commit", "-q", "-m", "step"]);
            }
            "snapshot" => copy_dir_except_git(&repo, &work.join(rest)),
            "run" | "run-in" => {
                let mut args: Vec<&str> = rest.split_whitespace().collect();
                let cwd = if command == "run-in" {
                    repo.join(args.remove(0))
                } else {
                    repo.clone()
                };
                let before = state(&repo);
                let output = Command::new(env!("CARGO_BIN_EXE_lummo"))
                    .arg("diff")
                    .args(&args)
                    .current_dir(&cwd)
                    .stdin(Stdio::null())
                    .env("NO_COLOR", "1")
                    .output()
                    .expect("lummo runs");
                assert_eq!(
                    before,
                    state(&repo),
                    "{name}: lummo diff changed the repository"
                );
                let clean = |bytes: &[u8]| {
                    String::from_utf8_lossy(bytes).replace(&work.display().to_string(), "$WORK")
                };
                out.push_str(&format!(
                    "$ {}lummo diff {}\nexit status: {}\n--- stdout\n{}--- stderr\n{}\n",
                    if command == "run-in" {
                        format!("cd {}; ", rest.split(' ').next().unwrap_or(""))
                    } else {
                        String::new()
                    },
                    args.join(" "),
                    output
                        .status
                        .code()
                        .map_or("signal".into(), |c| c.to_string()),
                    clean(&output.stdout),
                    clean(&output.stderr)
                ));
            }
            other => panic!("{name}: unknown script command {other:?}"),
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    out
}

/// The working tree and index as git sees them (what `lummo diff` must leave).
fn state(repo: &Path) -> String {
    let output = Command::new("git")
        .args([
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--ignored",
        ])
        .current_dir(repo)
        .output()
        .expect("git runs");
    let diff = Command::new("git")
        .args(["diff", "--binary", "HEAD"])
        .current_dir(repo)
        .output()
        .expect("git runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&diff.stdout)
    )
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn copy_dir_except_git(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == ".git" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The root Kptfile of the monorepo cases: a package without pipeline.
const ROOT: &str =
    "write Kptfile\napiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: monorepo\n  \
annotations:\n    config.kubernetes.io/local-config: \"true\"\nEOF\n";

/// A package whose spec cannot render (a port out of range).
const BROKEN: &str = "copy workload apps/broken\n\
edit apps/broken/foobar-api.yaml |       port: 8080 |       port: 99999\n";

/// An unchanged package is not rendered, on either side: beside the changed
/// app stands a package that cannot render, unchanged, and the diff prints
/// exactly what it prints in a repository without that package (rendering it
/// would fail the diff: the control below).
#[test]
fn an_unchanged_package_is_not_rendered() {
    let app = "copy pgbouncer apps/pgbouncer\n";
    let change =
        "commit\nedit apps/pgbouncer/pgbouncer.yaml |     POOL_SIZE: 100 |     POOL_SIZE: 20\n\
                  commit\nrun HEAD~1 HEAD\nrun HEAD~1 HEAD --format markdown\n";
    let without = run_script("without-broken", &format!("{ROOT}{app}{change}"));
    let with = run_script("with-broken", &format!("{ROOT}{app}{BROKEN}{change}"));
    assert!(with.contains("exit status: 1\n"), "{with}");
    assert!(
        with.contains("1 package(s) with changed inputs rendered on both sides"),
        "{with}"
    );
    assert_eq!(with, without, "the unchanged package changed the diff");
    // The control: once its inputs change, the broken package renders and fails the diff.
    let control = run_script(
        "broken-changed",
        &format!(
            "{ROOT}{app}{BROKEN}commit\nedit apps/broken/foobar-api.yaml | app: foobar-api | app: foobar-two\n\
             commit\nrun HEAD~1 HEAD\n"
        ),
    );
    assert!(control.contains("exit status: 2\n"), "{control}");
    assert!(control.contains("apps/broken"), "{control}");
}
