//! docs/tutorial.md, run as a reader would: every ```sh block in order, with bash,
//! in one fresh folder, the built `lummo` first on PATH; a ```text block right after
//! one is that block's exact output (stdout and stderr). Then the Application it
//! writes is checked against deploy/argocd's plugin.

use std::path::Path;
use std::process::Command;

struct Block {
    line: usize,
    script: String,
    expected: Option<String>,
}

/// The fenced blocks of `markdown`: ```sh ones, each with the ```text block that
/// follows it (only blank lines between).
fn blocks(markdown: &str) -> Vec<Block> {
    let mut found: Vec<Block> = Vec::new();
    let mut lines = markdown.lines().enumerate();
    let mut since_sh = None::<bool>; // Some(true): only blank lines since the last sh block
    while let Some((n, line)) = lines.next() {
        let fence = line.trim_end();
        if let Some(lang) = fence.strip_prefix("```") {
            let mut body = String::new();
            for (_, inner) in lines.by_ref() {
                if inner.trim_end() == "```" {
                    break;
                }
                body.push_str(inner);
                body.push('\n');
            }
            match lang {
                "sh" => {
                    found.push(Block {
                        line: n + 1,
                        script: body,
                        expected: None,
                    });
                    since_sh = Some(true);
                    continue;
                }
                "text" if since_sh == Some(true) => {
                    found.last_mut().unwrap().expected = Some(body);
                }
                _ => {}
            }
            since_sh = None;
        } else if !line.trim().is_empty() {
            since_sh = None;
        }
    }
    found
}

#[test]
fn every_command_of_the_tutorial_runs_and_prints_what_it_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let markdown = std::fs::read_to_string(root.join("docs/tutorial.md")).unwrap();
    let blocks = blocks(&markdown);
    assert!(blocks.len() >= 6, "the tutorial lost its commands");
    let dir = std::env::temp_dir().join(format!("lummo-tutorial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_lummo")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for block in &blocks {
        let out = Command::new("bash")
            .arg("-c")
            // The output of both streams in order, as a terminal shows it.
            .arg(format!("set -euo pipefail\nexec 2>&1\n{}", block.script))
            .current_dir(&dir)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .expect("bash runs");
        let output = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "docs/tutorial.md:{}: exit {:?}\n{}\n{output}",
            block.line,
            out.status.code(),
            block.script
        );
        if let Some(expected) = &block.expected {
            assert_eq!(
                &output, expected,
                "docs/tutorial.md:{}: output differs",
                block.line
            );
        }
    }

    // The Application: Argo CD names a versioned sidecar plugin `<name>-<version>`
    // (argo-cd docs, operator-manual/config-management-plugins: "If specified, use
    // <name>-<version> in Application spec"), and its path is the package.
    let application = std::fs::read_to_string(dir.join("application.yaml")).unwrap();
    let plugin = std::fs::read_to_string(root.join("deploy/argocd/plugin.yaml")).unwrap();
    let field = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {key} in\n{text}"))
    };
    let plugin_name = format!("{}-{}", field(&plugin, "name:"), field(&plugin, "version:"));
    let app_spec = application
        .split("plugin:")
        .nth(1)
        .expect("the Application names a plugin");
    assert_eq!(field(app_spec, "name:"), plugin_name);
    let package = field(&application, "path:");
    assert!(
        dir.join(&package).join("Kptfile").is_file(),
        "path {package} is not the package"
    );
    // Discovery is `lummo render . --inputs` (the image has no shell): it claims the
    // package (exit 0, something printed), as Argo CD's `discover.find.command`.
    assert!(
        plugin.contains("command: [/usr/local/bin/function, render, ., --inputs]"),
        "the plugin discovers packages with `render . --inputs`"
    );
    let found = Command::new(env!("CARGO_BIN_EXE_lummo"))
        .args(["render", ".", "--inputs"])
        .current_dir(dir.join(&package))
        .output()
        .unwrap();
    assert!(
        found.status.success()
            && String::from_utf8_lossy(&found.stdout)
                .lines()
                .any(|l| l == "Kptfile"),
        "discovery does not claim the package: {}",
        String::from_utf8_lossy(&found.stderr)
    );
}

#[test]
fn blocks_pair_commands_with_the_output_right_after_them() {
    let markdown =
        "x\n```sh\na\n```\n\n```text\nA\n```\n```sh\nb\n```\nprose\n```text\nnot b's\n```\n";
    let found = blocks(markdown);
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].script.as_str(), found[0].expected.as_deref()),
        ("a\n", Some("A\n"))
    );
    assert_eq!(
        (found[1].script.as_str(), found[1].expected.as_deref()),
        ("b\n", None)
    );
}
