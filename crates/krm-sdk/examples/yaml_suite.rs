//! The YAML test suite (yaml/yaml-test-suite, `../shared/yaml-test-suite`) against
//! our reader and writer.
//!
//! - Reader: every valid test's `in.yaml` reads to the documents of its `in.json`;
//!   every test with an `error` file is rejected.
//! - Writer: every `in.json` value written by our emitter is appended, with the
//!   value, to a JSON-lines file that `scripts/yaml_writer_roundtrip.py` reads back
//!   with PyYAML (YAML 1.1) and ruamel.yaml (1.2).
//!
//! Known failures are listed, with their reason, in
//! `crates/krm-sdk/tests/yaml-test-suite.expected`; a listed test that passes is a
//! failure too (the list must stay honest).
//!
//! `cargo run --example yaml_suite -- <suite dir> <expected file> <writer cases.jsonl>`

use krm_sdk::yaml::{parse_documents, to_string, Limits};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [suite, expected, cases] = &args[..] else {
        eprintln!("usage: yaml_suite <suite dir> <expected failures file> <writer cases.jsonl>");
        return std::process::ExitCode::from(2);
    };
    let expected: BTreeMap<String, String> = std::fs::read_to_string(expected)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once(' ').unwrap_or((l, ""));
            (id.to_string(), reason.trim().to_string())
        })
        .collect();
    let mut tests = Vec::new();
    collect(Path::new(suite), &mut tests);
    tests.sort();
    let (mut passed, mut failed) = (0, 0);
    let mut writer_cases = String::new();
    for dir in &tests {
        let id = dir
            .strip_prefix(suite)
            .unwrap_or(dir)
            .to_string_lossy()
            .trim_start_matches('/')
            .to_string();
        let outcome = run_case(dir, &mut writer_cases);
        let listed = expected.contains_key(&id);
        match (outcome, listed) {
            (Ok(()), false) | (Err(_), true) => passed += 1,
            (Ok(()), true) => {
                failed += 1;
                println!("{id}: passes now; remove it from the expected failures");
            }
            (Err(why), false) => {
                failed += 1;
                println!("{id}: {why}");
            }
        }
    }
    for (i, value) in writer_edge_values().iter().enumerate() {
        let line = serde_json::json!({"id": format!("writer-edge-{i}"), "yaml": to_string(value), "json": value.to_string()});
        writer_cases.push_str(&line.to_string());
        writer_cases.push('\n');
    }
    if let Err(e) = std::fs::write(cases, writer_cases) {
        eprintln!("cannot write {cases}: {e}");
        return std::process::ExitCode::from(2);
    }
    println!("yaml-test-suite: {passed} passed, {failed} failed");
    std::process::ExitCode::from(u8::from(failed > 0))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("in.yaml").is_file() {
        out.push(dir.to_path_buf());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        }
    }
}

fn run_case(dir: &Path, writer_cases: &mut String) -> Result<(), String> {
    let input = std::fs::read_to_string(dir.join("in.yaml")).map_err(|e| e.to_string())?;
    let parsed = parse_documents(&input, &Limits::default());
    if dir.join("error").exists() {
        return match parsed {
            Err(_) => Ok(()),
            Ok(docs) => Err(format!("must be rejected, read {docs:?}")),
        };
    }
    let documents = parsed.map_err(|e| format!("rejected: {e}"))?;
    let Ok(json) = std::fs::read_to_string(dir.join("in.json")) else {
        return Ok(()); // Valid, but with no JSON form (e.g. complex keys): reading suffices.
    };
    let expected: Vec<Value> = serde_json::Deserializer::from_str(&json)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("in.json: {e}"))?;
    // KRM streams have no use for empty documents: the reader skips them.
    let expected: Vec<Value> = expected.into_iter().filter(|v| !v.is_null()).collect();
    if documents.len() != expected.len()
        || !documents.iter().zip(&expected).all(|(a, b)| same(a, b))
    {
        return Err(format!("read {documents:?}, expected {expected:?}"));
    }
    for value in &expected {
        let line = serde_json::json!({"id": dir.to_string_lossy(), "yaml": to_string(value), "json": value.to_string()});
        writer_cases.push_str(&line.to_string());
        writer_cases.push('\n');
    }
    Ok(())
}

/// Values other readers misread when written carelessly (issue 17, point 5).
fn writer_edge_values() -> Vec<Value> {
    let number = |text: &str| Value::Number(serde_json::Number::from_string_unchecked(text.into()));
    let long_key = "k".repeat(1100);
    let mut long = serde_json::Map::new();
    long.insert(long_key.clone(), serde_json::json!("v"));
    long.insert(format!("{long_key}2"), serde_json::json!({"a": [1, 2]}));
    long.insert(format!("{long_key}3"), serde_json::json!(["x"]));
    vec![
        serde_json::json!({"a": "x\u{2028}", "b": "x\u{2029}y", "c": "x\u{85}", "d": "line\u{2028}\nnext\n"}),
        serde_json::json!({"a": "\u{fffe}", "b": "a\u{ffff}b"}),
        serde_json::json!({"--- a": 1, "... b": 2, "---": "--- x", "...": "... y"}),
        Value::Object(long),
        serde_json::json!({"f": number("1e-6"), "g": number("1e+16"), "h": number("1E3"), "i": number("-2.5e-3"),
            "big": number("123456789012345678901234567890"), "neg": number("-123456789012345678901234567890"),
            "exact": number("1.10"), "small": number("0.000001")}),
        serde_json::json!("top\nlevel\n"),
    ]
}

/// Equal values, numbers by value (`1e3` is `1000.0`; in.json's text may differ).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let wide = |n: &serde_json::Number| n.to_string().parse::<i128>().ok();
            match (wide(x), wide(y)) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
