//! `lummo explain` through the real binary: each case of
//! `testdata/explain/<case>/script.txt` copies packages of `Kptfile.examples`
//! into a temporary folder, edits them, and runs `lummo explain`; everything the
//! runs print (exit status, stdout, stderr) must equal `expected.txt`, and no
//! file may change (explain renders into memory). `UPDATE_GOLDEN=1` rewrites it.
//!
//! Script lines, run in order in the folder:
//! - `copy EXAMPLE [DEST]`: `Kptfile.examples/EXAMPLE` into DEST (default EXAMPLE);
//! - `write PATH` then the file's lines up to `EOF`;
//! - `edit PATH | OLD | NEW`: replaces the one occurrence of OLD (`\n` a line break);
//! - `render DIR`: `lummo render DIR`, which must succeed;
//! - `run ARGS...`: `lummo explain ARGS`, its output appended to what is compared.

mod common;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[test]
fn explain_cases() {
    common::script_cases("explain", 2, run_script);
}

fn run_script(name: &str, script: &str) -> String {
    let work =
        std::env::temp_dir().join(format!("lummo-explain-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let mut out = String::new();
    let mut lines = script.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        if common::file_step(name, &work, line, &mut lines) {
            continue;
        }
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        match command {
            "render" => {
                let output = Command::new(env!("CARGO_BIN_EXE_lummo"))
                    .args(["render", rest])
                    .current_dir(&work)
                    .stdin(Stdio::null())
                    .output()
                    .expect("lummo runs");
                assert!(
                    output.status.success(),
                    "{name}: lummo render {rest}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            "run" => {
                let args = words(rest);
                let before = state(&work);
                let output = Command::new(env!("CARGO_BIN_EXE_lummo"))
                    .arg("explain")
                    .args(&args)
                    .current_dir(&work)
                    .stdin(Stdio::null())
                    .env("NO_COLOR", "1")
                    .output()
                    .expect("lummo runs");
                assert_eq!(before, state(&work), "{name}: lummo explain changed a file");
                let clean = |bytes: &[u8]| {
                    String::from_utf8_lossy(bytes).replace(&work.display().to_string(), "$WORK")
                };
                out.push_str(&format!(
                    "$ lummo explain {rest}\nexit status: {}\n--- stdout\n{}--- stderr\n{}\n",
                    output.status.code().unwrap_or(-1),
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

/// The words of a `run` line: blanks separate them, except inside `"..."`.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Every file below `dir` and its bytes.
fn state(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// `lummo explain` is in `--help` and in the shell completions (both come from
/// the clap definition), with its `--package` option.
#[test]
fn help_and_completions_offer_explain() {
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_lummo"))
            .args(args)
            .output()
            .expect("lummo runs");
        assert!(output.status.success(), "lummo {args:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(run(&["--help"]).contains("explain"));
    let help = run(&["explain", "--help"]);
    assert!(
        help.contains("FILE:LINE") && help.contains("--package <DIR>"),
        "{help}"
    );
    let bash = run(&["completions", "bash"]);
    assert!(
        bash.contains("lummo__explain") || bash.contains("lummo__subcmd__explain"),
        "no explain in the bash completions"
    );
    assert!(
        bash.contains("--package"),
        "no --package in the bash completions"
    );
}
