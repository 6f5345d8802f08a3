//! The render library called directly, as `lummo render` calls it.

use lummo_render::{render, Settings, Target};
use std::path::Path;

fn examples() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Kptfile.examples");
    let mut found: Vec<_> = std::fs::read_dir(&root)
        .expect("Kptfile.examples")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("Kptfile").is_file())
        .collect();
    found.sort();
    assert!(found.len() >= 5, "examples: {found:?}");
    found
}

/// Every example package's committed output is what the library renders: no
/// change to any file (what `lummo render --check` reports).
#[test]
fn committed_examples_are_current() {
    for example in examples() {
        let rendered = render(&example, Settings::default(), Target::Items).unwrap();
        assert!(!rendered.failed(), "{}: failed", example.display());
        let changes: Vec<_> = rendered
            .changes()
            .unwrap()
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert!(
            changes.is_empty(),
            "{}: would change {changes:?}",
            example.display()
        );
    }
}

/// Rendering is deterministic: two renders of one package print the same bytes.
#[test]
fn renders_are_deterministic() {
    for example in examples() {
        let once = render(&example, Settings::default(), Target::Items).unwrap();
        let twice = render(&example, Settings::default(), Target::Items).unwrap();
        assert_eq!(
            once.resource_list(),
            twice.resource_list(),
            "{}",
            example.display()
        );
        assert_eq!(once.unwrapped(), twice.unwrapped(), "{}", example.display());
    }
}

/// An `exec:` step without permission is the typed error callers match on,
/// with kpt's words, and nothing is written.
#[test]
fn exec_without_permission_is_a_typed_error() {
    let dir = std::env::temp_dir().join(format!("lummo-render-exec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let kptfile = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n  - exec: ./fn.sh\n";
    std::fs::write(dir.join("Kptfile"), kptfile).unwrap();
    let error = render(&dir, Settings::default(), Target::InPlace)
        .err()
        .expect("an error");
    assert_eq!(
        error.downcast_ref::<lummo_render::PipelineError>(),
        Some(&lummo_render::PipelineError::NeedsAllowExec)
    );
    assert_eq!(
        error.to_string(),
        "must run with `--allow-exec` option to allow running function binaries"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("Kptfile")).unwrap(),
        kptfile
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A parent pipeline sees a subpackage's objects with paths relative to the
/// subpackage: a result about a spec in `a/` names `a/app.yaml`, where the
/// line and column are found (#33: it named `app.yaml`, no position).
#[test]
fn results_about_a_subpackage_spec_name_its_file_from_the_root() {
    let dir = std::env::temp_dir().join(format!("lummo-render-sub-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(
        dir.join("Kptfile"),
        format!("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: root\npipeline:\n  mutators:\n  - image: ghcr.io/lummo/krm-functions/lummo-workload:{}\n", lummo_render::BUILT_IN_VERSION),
    )
    .unwrap();
    std::fs::write(
        dir.join("a/Kptfile"),
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: a\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("a/app.yaml"),
        "apiVersion: lummo.dev/v1alpha1\nkind: LummoDeployment\nmetadata:\n  name: foobar-api\nspec:\n  app: foobar-api\n  containers:\n    image: foobar:1.0.0\n    ports: [{name: http, port: 80800}]\n    resources: {requests: {cpu: 250m, memory: 256Mi}}\n",
    )
    .unwrap();
    let rendered = render(&dir, Settings::default(), Target::Items).unwrap();
    assert!(rendered.failed());
    let error = rendered
        .findings
        .iter()
        .find(|f| f.result.is_error())
        .expect("an error");
    let file = error.result.file.as_ref().expect("a file");
    assert_eq!(file.path, "a/app.yaml", "{:?}", error.result);
    let field = &error.result.field.as_ref().expect("a field").path;
    assert_eq!(
        rendered.position_of(&file.path, file.index, field),
        Some((9, 26))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
