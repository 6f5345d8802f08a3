//! Embeds the example packages' YAML files, so a reference page (and `lummo docs`)
//! shows the same example from any working directory, and from a binary run far
//! from the repository.
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../..");
    let examples = root.join("Kptfile.examples");
    println!("cargo:rerun-if-changed={}", examples.display());
    let mut files = Vec::new();
    collect(&examples, &mut files);
    files.sort();
    let mut code = String::from("/// (path from the repository root, text) of every example YAML file.\npub static EXAMPLES: &[(&str, &str)] = &[\n");
    for file in files {
        let relative = file
            .strip_prefix(&root)
            .expect("below the root")
            .to_string_lossy()
            .replace('\\', "/");
        println!("cargo:rerun-if-changed={}", file.display());
        code.push_str(&format!(
            "    ({relative:?}, include_str!({:?})),\n",
            file.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("examples.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
