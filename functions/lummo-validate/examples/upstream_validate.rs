//! Runs lummo-validate over every file of `../shared/upstream-manifests` (real
//! objects from the upstream projects whose CRDs we embed) and compares each error
//! and warning it reports with the committed expectations file, where every line
//! names a problem that is real upstream and says why.
//!
//! Usage: upstream_validate <upstream-manifests dir> <expectations file> [--update]
//!
//! A file passes when it reports exactly its expected lines. `--update` rewrites
//! the expectations with the findings (reasons of lines kept are kept; new lines
//! get `TODO`, which fails the run until a person writes the reason).

use krm_sdk::yaml::{parse_documents, Limits};
use krm_sdk::{ResourceList, Severity};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
}

/// What lummo-validate reports for one file: `<file> <Kind>/<name> <field>: <message>`.
fn findings(root: &Path, path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let documents = parse_documents(&text, &Limits::default()).map_err(|e| e.to_string())?;
    let mut list = ResourceList::new(documents.into_iter().filter(|d| !d.is_null()).collect());
    lummo_core::function::process::<lummo_validate::Validate>(&mut list);
    let relative = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let mut lines: Vec<String> = list
        .results
        .iter()
        .filter(|r| matches!(r.severity, Severity::Error | Severity::Warning))
        .map(|r| {
            let object = r
                .resource_ref
                .as_ref()
                .map(|o| format!("{}/{}", o.kind, o.name))
                .unwrap_or_else(|| "-".into());
            let field = r.field.as_ref().map(|f| f.path.as_str()).unwrap_or("-");
            let severity = if r.is_error() { "error" } else { "warning" };
            format!(
                "{relative} {object} {field}: {severity}: {}",
                r.message.replace('\n', " ")
            )
        })
        .collect();
    lines.sort();
    lines.dedup();
    Ok(lines)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(expected_path)) = (args.first(), args.get(1)) else {
        eprintln!(
            "usage: upstream_validate <upstream-manifests dir> <expectations file> [--update]"
        );
        return ExitCode::from(2);
    };
    let update = args.iter().any(|a| a == "--update");
    let root = Path::new(dir);
    let expectations_text = std::fs::read_to_string(expected_path).unwrap_or_default();
    // line -> reason
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    let mut header = Vec::new();
    for line in expectations_text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            if expected.is_empty() {
                header.push(line.to_string());
            }
            continue;
        }
        match line.split_once(" -- ") {
            Some((finding, reason)) => {
                expected.insert(finding.to_string(), reason.trim().to_string());
            }
            None => {
                expected.insert(line.to_string(), String::new());
            }
        }
    }
    let mut paths = Vec::new();
    files(root, &mut paths);
    let (mut passed, mut failed) = (0, 0);
    let mut found_all: BTreeSet<String> = BTreeSet::new();
    for path in &paths {
        let relative = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let found = match findings(root, path) {
            Ok(found) => found,
            Err(e) => vec![format!("{relative} - -: error: unreadable: {e}")],
        };
        let prefix = format!("{relative} ");
        let wanted: BTreeSet<&String> =
            expected.keys().filter(|k| k.starts_with(&prefix)).collect();
        let got: BTreeSet<&String> = found.iter().collect();
        let mut ok = wanted == got;
        for line in &found {
            if expected
                .get(line)
                .is_some_and(|r| r.is_empty() || r == "TODO")
            {
                eprintln!("no reason given: {line}");
                ok = false;
            }
        }
        if ok {
            passed += 1;
        } else {
            failed += 1;
            for line in got.difference(&wanted) {
                eprintln!("unexpected: {line}");
            }
            for line in wanted.difference(&got) {
                eprintln!("not reported: {line}");
            }
        }
        found_all.extend(found);
    }
    if update {
        let mut text = header.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        for line in &found_all {
            let reason = expected.get(line).cloned().unwrap_or_else(|| "TODO".into());
            text.push_str(&format!("{line} -- {reason}\n"));
        }
        if let Err(e) = std::fs::write(expected_path, text) {
            eprintln!("{expected_path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    // A CEL rule the interpreter could not run checks nothing: each one is a gap
    // to close (a Kubernetes CEL library function to add), reported here.
    let mut unevaluated = krm_sdk::openapi::cel::unevaluated();
    unevaluated.sort();
    unevaluated.dedup();
    for rule in &unevaluated {
        eprintln!("CEL rule not evaluated: {rule}");
    }
    if !unevaluated.is_empty() {
        failed += 1;
    }
    println!("upstream-validate: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
