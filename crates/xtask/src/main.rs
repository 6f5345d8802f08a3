//! Repository chores, run through `make`.
//!
//! `xtask generate [--check]` writes the JSON Schema, CRD and reference page of every
//! Lummo kind from the Rust types.
//!
//! `xtask extract-schemas <crd-dir>... <out-dir> [--check]` writes, for every served
//! version of every CRD in the `<crd-dir>`s (`../shared/crds`, and
//! `schemas/upstream-crds` for the upstream CRDs it lacks), its `openAPIV3Schema` with descriptions
//! stripped to `<out-dir>/<group>_<kind>_<version>.json`. With `--check` it writes
//! nothing and fails when the committed copy differs from what it would write.

use krm_sdk::openapi::crd_schemas;
use krm_sdk::yaml::{parse_documents, Limits};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str =
    "usage: xtask extract-schemas <crd-dir>... <out-dir> [--check] | xtask generate [--check]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate"] => generate(false),
        ["generate", "--check"] => generate(true),
        ["extract-schemas", rest @ ..] if rest.len() >= 2 => {
            let (check, rest) = match rest.split_last() {
                Some((&"--check", rest)) => (true, rest),
                _ => (false, rest),
            };
            match rest.split_last() {
                Some((out, crds)) if !crds.is_empty() => {
                    let crds: Vec<&Path> = crds.iter().map(Path::new).collect();
                    extract(&crds, Path::new(out), check)
                }
                _ => Err(USAGE.to_string()),
            }
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Writes (or with `check`, compares) the JSON Schemas, CRDs and reference docs of
/// the Lummo kinds.
fn generate(check: bool) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = lummo_schemas::generated_files();
    let mut stale = Vec::new();
    for (path, text) in &files {
        let target = root.join(path);
        if std::fs::read_to_string(&target).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if check {
            stale.push(path.clone());
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&target, text).map_err(|e| format!("{path}: {e}"))?;
    }
    if !stale.is_empty() {
        return Err(format!(
            "generated files are stale (run `make generate`): {}",
            stale.join(", ")
        ));
    }
    eprintln!(
        "xtask: {} generated files {}",
        files.len(),
        if check { "are current" } else { "written" }
    );
    Ok(())
}

fn extract(crds: &[&Path], out: &Path, check: bool) -> Result<(), String> {
    let mut wanted = BTreeMap::new();
    for dir in crds {
        for (name, text) in schemas_of(dir)? {
            if wanted.insert(name.clone(), text).is_some() {
                return Err(format!("{name}: a CRD in more than one of the folders"));
            }
        }
    }
    if check {
        return compare(out, &wanted);
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (name, text) in &wanted {
        std::fs::write(out.join(name), text).map_err(|e| format!("{name}: {e}"))?;
    }
    for stale in json_files(out)?
        .into_iter()
        .filter(|f| !wanted.contains_key(f))
    {
        std::fs::remove_file(out.join(&stale)).map_err(|e| format!("{stale}: {e}"))?;
    }
    eprintln!("xtask: wrote {} schemas to {}", wanted.len(), out.display());
    Ok(())
}

fn compare(out: &Path, wanted: &BTreeMap<String, String>) -> Result<(), String> {
    let mut stale = Vec::new();
    for (name, text) in wanted {
        if std::fs::read_to_string(out.join(name)).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
    }
    stale.extend(
        json_files(out)?
            .into_iter()
            .filter(|f| !wanted.contains_key(f)),
    );
    if stale.is_empty() {
        eprintln!(
            "xtask: {} schemas in {} are current",
            wanted.len(),
            out.display()
        );
        return Ok(());
    }
    Err(format!(
        "stale schemas (run `make schemas`): {}",
        stale.join(", ")
    ))
}

fn json_files(dir: &Path) -> Result<Vec<String>, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    Ok(entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".json"))
        .collect())
}

/// File name → pretty JSON of every served version's schema.
fn schemas_of(crds: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(crds)
        .map_err(|e| format!("{}: {e}", crds.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    // CRDs are large and deep: these limits are for trusted upstream files only.
    let limits = Limits {
        max_depth: 256,
        max_alias_nodes: 1_000_000,
        max_bytes: 64 << 20,
    };
    let mut out = BTreeMap::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let documents =
            parse_documents(&text, &limits).map_err(|e| format!("{}: {e}", file.display()))?;
        for crd in &documents {
            for schema in crd_schemas(crd) {
                let (group, version) = schema.api_version.split_once('/').unwrap_or_default();
                let document = json!({
                    "apiVersion": schema.api_version,
                    "kind": schema.kind,
                    "source": file.file_name().map(|f| f.to_string_lossy().to_string()),
                    "openAPIV3Schema": schema.schema,
                });
                let mut text = serde_json::to_string_pretty(&document).expect("values serialize");
                text.push('\n');
                out.insert(format!("{group}_{}_{version}.json", schema.kind), text);
            }
        }
    }
    if out.is_empty() {
        return Err(format!("no CRDs found in {}", crds.display()));
    }
    Ok(out)
}
