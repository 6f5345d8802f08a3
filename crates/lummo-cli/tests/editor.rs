//! Shell and terminal support as a user meets it: the completion script loaded
//! into the real bash completes commands and flags; colors appear on a terminal
//! unless `NO_COLOR` is set (https://no-color.org).

use std::process::Command;

fn lummo() -> &'static str {
    env!("CARGO_BIN_EXE_lummo")
}

/// What bash's completion function offers for `words` (the last one being typed).
fn bash_complete(words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <('{lummo}' completions bash) || exit 9\n\
         COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}\n\
         _lummo lummo \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        lummo = lummo(),
        words = quoted.join(" "),
        cword = words.len() - 1,
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_and_their_flags() {
    assert_eq!(bash_complete(&["lummo", "in"]), ["init"]);
    let commands = bash_complete(&["lummo", ""]);
    for command in [
        "render",
        "eval",
        "validate",
        "init",
        "completions",
        "schema",
    ] {
        assert!(
            commands.contains(&command.to_string()),
            "{command} in {commands:?}"
        );
    }
    assert_eq!(bash_complete(&["lummo", "init", "--dom"]), ["--domain"]);
    assert_eq!(bash_complete(&["lummo", "eval", "--con"]), ["--config"]);
    assert_eq!(bash_complete(&["lummo", "completions", "fi"]), ["fish"]);
}

/// `render -o` completes `stdout`, `unwrap` and folders, never a file (a file
/// is no output kpt or lummo takes).
#[test]
fn bash_completes_render_output_with_its_words_and_folders() {
    let offered = bash_complete(&["lummo", "render", "-o", ""]);
    assert!(offered.iter().any(|o| o == "stdout"), "{offered:?}");
    assert!(offered.iter().any(|o| o == "unwrap"), "{offered:?}");
    assert!(offered.iter().any(|o| o == "src"), "{offered:?}");
    assert!(!offered.iter().any(|o| o == "Cargo.toml"), "{offered:?}");
    let offered = bash_complete(&["lummo", "render", "--output", "un"]);
    assert_eq!(offered, ["unwrap"]);
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_one_is_refused() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(lummo())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("init"),
            "{shell}"
        );
    }
    let out = Command::new(lummo())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

/// `lummo validate` of a broken package with stderr on a pseudo-terminal (Python's
/// `pty`), with the given NO_COLOR.
fn validate_on_a_terminal(no_color: Option<&str>) -> String {
    let dir = std::env::temp_dir().join(format!(
        "lummo-editor-{}-{}",
        std::process::id(),
        no_color.map_or("unset".to_string(), |v| format!("set{}", v.len()))
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("Kptfile"),
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\n",
    )
    .unwrap();
    // No `app`, no `containers`: lummo-validate reports errors.
    std::fs::write(
        dir.join("app.yaml"),
        "apiVersion: lummo.dev/v1alpha1\nkind: LummoDeployment\nmetadata:\n  name: api\nspec: {}\n",
    )
    .unwrap();
    let driver = r#"
import os, pty, subprocess, sys
primary, secondary = pty.openpty()
proc = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=secondary)
os.close(secondary)
out = b""
while True:
    try:
        chunk = os.read(primary, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
proc.wait(timeout=30)
sys.stdout.write(out.decode())
"#;
    let mut command = Command::new("python3");
    command
        .arg("-c")
        .arg(driver)
        .arg(lummo())
        .arg("validate")
        .arg(&dir);
    command.env_remove("NO_COLOR");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let out = command.output().expect("python3 runs (a CI dependency)");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn colors_on_a_terminal_unless_no_color() {
    let colored = validate_on_a_terminal(None);
    assert!(colored.contains("\x1b[1;31merror"), "{colored:?}");
    let plain = validate_on_a_terminal(Some("1"));
    assert!(plain.contains("error"), "{plain:?}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
    // no-color.org: an empty NO_COLOR does not disable colors.
    assert!(validate_on_a_terminal(Some("")).contains("\x1b[1;31m"));
}
