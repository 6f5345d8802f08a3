//! README.md's "Use in a pipeline", run as written: every ```yaml block of that
//! section whose first line is `# FILE` is written to my-app/FILE, with the spec of
//! "The spec, as users write it" as my-app/deployment.yaml, and `lummo render
//! my-app` must succeed, with no warning about a file it did not find.

use std::path::Path;
use std::process::Command;

/// The ```yaml blocks of the section of `markdown` headed `heading`.
fn yaml_blocks(markdown: &str, heading: &str) -> Vec<String> {
    let start = markdown
        .find(heading)
        .unwrap_or_else(|| panic!("README lost its section {heading:?}"));
    let section = &markdown[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut blocks = Vec::new();
    let mut rest = section;
    while let Some(open) = rest.find("```yaml\n") {
        let body = &rest[open + "```yaml\n".len()..];
        let close = body.find("\n```").expect("an unclosed ```yaml block");
        blocks.push(body[..close + 1].to_string());
        rest = &body[close + 4..];
    }
    blocks
}

#[test]
fn the_readme_pipeline_example_renders_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let dir = std::env::temp_dir().join(format!("lummo-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let package = dir.join("my-app");
    std::fs::create_dir_all(&package).unwrap();
    let spec = yaml_blocks(&readme, "## The spec, as users write it").remove(0);
    std::fs::write(package.join("deployment.yaml"), spec).unwrap();
    let mut written = Vec::new();
    for block in yaml_blocks(&readme, "## Use in a pipeline") {
        let Some(name) = block.lines().next().and_then(|l| l.strip_prefix("# ")) else {
            continue;
        };
        let name = name
            .split_whitespace()
            .next()
            .unwrap()
            .trim_end_matches(':')
            .to_string();
        std::fs::write(package.join(&name), &block).unwrap();
        written.push(name);
    }
    assert!(
        written.contains(&"Kptfile".to_string()),
        "no `# Kptfile` block: {written:?}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_lummo"))
        .args(["render", "my-app"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "README's pipeline ({written:?}) does not render as written:\n{stderr}"
    );
}
