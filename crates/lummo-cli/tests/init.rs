//! `lummo init` through the real binary, as a user runs it: with flags (stdin not
//! a terminal), with prompts (a pseudo-terminal), and on a folder that already
//! holds files. What it writes must render and validate as is.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lummo-init-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn lummo(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lummo"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("lummo runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                let path = entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .display()
                    .to_string();
                found.push((path, std::fs::read_to_string(entry.path()).unwrap()));
            }
        }
    }
    found.sort();
    found
}

const EVERYTHING: &[&str] = &[
    "init",
    "app",
    "--name",
    "shop-api",
    "--part-of",
    "shop",
    "--image",
    "gcr.io/lummo/shop:1.0.0",
    "--port",
    "http=8080",
    "--port",
    "metrics=9100",
    "--domain",
    "api.shop.example.com",
    "--topic",
    "orders,payments",
    "--database",
    "shop-postgres",
    "--project-number",
    "123456789012",
];

#[test]
fn scaffold_renders_and_validates_as_is_and_render_keeps_the_specs() {
    let dir = workdir("everything");
    let out = lummo(EVERYTHING, &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let pkg = dir.join("app");
    let scaffolded = files(&pkg);
    let names: Vec<&str> = scaffolded.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "Kptfile",
            "deployment.yaml",
            "networking-config.yaml",
            "networking.yaml",
            "pgbouncer.yaml",
            "pubsub-config.yaml",
            "pubsub.yaml"
        ]
    );

    let out = lummo(&["render", "app"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
    let rendered = files(&pkg);
    for wanted in [
        "generated/rollout_shop-api.yaml",
        "generated/ingressroute_shop-api.yaml",
        "generated/pubsubtopic_orders.yaml",
        "generated/pubsubtopic_payments.yaml",
        "generated/deployment_shop-api-pgbouncer.yaml",
    ] {
        assert!(
            rendered.iter().any(|(p, _)| p == wanted),
            "{wanted} not rendered"
        );
    }
    // The render rewrote none of the scaffolded files: they are already in kpt's
    // format (the Kptfile only gained the newest kpt's render status).
    for (path, text) in &scaffolded {
        let mut now = rendered.iter().find(|(p, _)| p == path).unwrap().1.clone();
        if path == "Kptfile" {
            assert!(now.contains("reason: RenderSuccess"), "{now}");
            now = lummo_render::status::without_status(&now);
        }
        assert_eq!(&now, text, "render changed {path}");
    }
    let out = lummo(&["validate", "app"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no errors"), "{}", stderr(&out));
    // Idempotent: a second render changes nothing.
    let out = lummo(&["render", "app"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(files(&pkg), rendered);
}

#[test]
fn each_spec_names_the_published_schema_of_its_kind() {
    let dir = workdir("modeline");
    assert!(lummo(EVERYTHING, &dir).status.success());
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/lummo");
    for (path, text) in files(&dir.join("app")) {
        if path == "Kptfile" {
            continue;
        }
        let first = text.lines().next().unwrap();
        let url = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{path}: no modeline: {first}"));
        let file = url.rsplit('/').next().unwrap();
        let kind = text.lines().find_map(|l| l.strip_prefix("kind: ")).unwrap();
        assert_eq!(file, format!("{kind}.json"), "{path}");
        assert!(
            schemas.join(file).is_file(),
            "{path}: {file} is not published"
        );
    }
}

#[test]
fn without_a_terminal_missing_flags_are_named_and_nothing_is_written() {
    let dir = workdir("missing");
    let out = lummo(&["init", "app", "--domain", "api.shop.example.com"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("--name is required"), "{err}");
    assert!(err.contains("--image is required"), "{err}");
    assert!(err.contains("does not prompt"), "{err}");
    assert!(!dir.join("app").exists(), "nothing created");
}

#[test]
fn bad_values_are_refused_with_the_flag_and_the_rule() {
    let dir = workdir("bad");
    let out = lummo(
        &[
            "init",
            "app",
            "--name",
            "Shop_API",
            "--image",
            "shop:1",
            "--port",
            "http=0",
            "--domain",
            "localhost",
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("--name `Shop_API`: only lowercase"), "{err}");
    assert!(err.contains("--port `http=0`"), "{err}");
    assert!(err.contains("--domain `localhost`"), "{err}");
    let out = lummo(
        &[
            "init", "app", "--name", "a", "--image", "b", "--port", "web=x",
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("expected NAME=PORT"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("app").exists());
}

#[test]
fn existing_files_are_never_overwritten_nor_half_a_package_written() {
    let dir = workdir("existing");
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(dir.join("app/deployment.yaml"), "# mine\n").unwrap();
    let out = lummo(EVERYTHING, &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("deployment.yaml"), "{}", stderr(&out));
    assert_eq!(
        files(&dir.join("app")),
        [("deployment.yaml".to_string(), "# mine\n".to_string())]
    );
}

/// On a terminal the command asks for what the flags left out. A pseudo-terminal
/// from Python's `pty` (python3 is a CI dependency already) stands in for the user.
#[test]
fn on_a_terminal_it_prompts_for_what_is_missing() {
    let dir = workdir("prompts");
    let driver = r#"
import os, pty, subprocess, sys
primary, secondary = pty.openpty()
proc = subprocess.Popen(sys.argv[1:], stdin=secondary, stdout=secondary, stderr=secondary)
os.close(secondary)
# App name (default: the folder), part-of, image, ports, domains, topics, database:
# each answer is typed when its prompt shows, as a person would.
answers = [b"", b"", b"gcr.io/lummo/shop:2.0.0", b"", b"api.shop.example.com", b"", b""]
out = b""
asked = 0
while True:
    try:
        chunk = os.read(primary, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    while asked < len(answers) and out.count(b": ") > asked:
        os.write(primary, answers[asked] + b"\n")
        asked += 1
sys.stdout.write(out.decode())
sys.exit(proc.wait(timeout=30))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(driver)
        .arg(env!("CARGO_BIN_EXE_lummo"))
        .args(["init", "shop-api"])
        .current_dir(&dir)
        .output()
        .expect("python3 runs (a CI dependency)");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{transcript}{}", stderr(&out));
    assert!(transcript.contains("App name [shop-api]"), "{transcript}");
    assert!(transcript.contains("Container image"), "{transcript}");
    let pkg = dir.join("shop-api");
    let deployment = std::fs::read_to_string(pkg.join("deployment.yaml")).unwrap();
    assert!(deployment.contains("name: shop-api"), "{deployment}");
    assert!(deployment.contains("part-of: shop-api"), "{deployment}");
    assert!(
        deployment.contains("image: gcr.io/lummo/shop:2.0.0"),
        "{deployment}"
    );
    assert!(pkg.join("networking.yaml").is_file());
    assert!(!pkg.join("pubsub.yaml").exists());
    let out = lummo(&["render", "shop-api"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
}
