//! Bad or unusual input is an error or a formatted text, never a panic; whatever
//! `format` returns is a fixed point. Runs over ../shared/yaml-test-suite when it
//! is there (CI has it), and over a few hostile snippets always.
use std::path::Path;

fn check(text: &str) -> Result<(), String> {
    match std::panic::catch_unwind(|| kyaml_format::format(text)) {
        Err(_) => Err("panicked".into()),
        Ok(Err(_)) => Ok(()),
        Ok(Ok(out)) => match std::panic::catch_unwind(|| kyaml_format::format(&out)) {
            Err(_) => Err("panicked on its own output".into()),
            Ok(_) => Ok(()),
        },
    }
}

#[test]
fn snippets_never_panic() {
    for text in [
        "",
        "---",
        "--- x",
        "a: [",
        "\"",
        "a: |\n",
        "- |\n  x\n- >\n",
        "a: &x 1\nb: *x\n",
        "? a\n: b\n",
        "a: b\n--- junk\nc: d\n",
        "# only\n# comments\n",
        "\t",
        "a:\n  - b\n  -\n",
        "{a: 1, b: [2, {c: 3}]} # c\n",
        "a: \"\\u00e9 \\U0001F600\"\n",
        "- # c\n  a: 1\n",
    ] {
        check(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    }
    assert!(matches!(
        kyaml_format::format("a: 1\n--- junk\nb: 2\n"),
        Err(kyaml_format::Error::Separator { .. })
    ));
    assert!(matches!(
        kyaml_format::format("a: &x 1\nb: *x\n"),
        Err(kyaml_format::Error::Unsupported(_))
    ));
}

#[test]
fn yaml_test_suite_never_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/yaml-test-suite");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("{} absent", dir.display());
        return;
    };
    let mut files = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.join("in.yaml").is_file() {
            files.push(p.join("in.yaml"));
        }
        for sub in std::fs::read_dir(&p).into_iter().flatten().flatten() {
            if sub.path().join("in.yaml").is_file() {
                files.push(sub.path().join("in.yaml"));
            }
        }
    }
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        if let Err(e) = check(&text) {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
