//! Embeds `schemas/upstream/*.json`, minified into one JSON array.
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/upstream");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("schemas/upstream exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let documents: Vec<serde_json::Value> = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("schema files are readable");
            let mut document: serde_json::Value =
                serde_json::from_str(&text).expect("schema files are JSON");
            if let Some(map) = document.as_object_mut() {
                map.remove("source");
            }
            document
        })
        .collect();
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("upstream-schemas.json");
    std::fs::write(
        out,
        serde_json::to_string(&documents).expect("values serialize"),
    )
    .expect("OUT_DIR is writable");
}
