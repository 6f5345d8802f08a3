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
/// with kpt's words, and nothing is written but the newest kpt's render status
/// (as kpt v1.0.0-beta.67 writes it in its e2e case exec-without-permissions).
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
        format!(
            "{kptfile}{}",
            r#"status:
  conditions:
    - type: Rendered
      status: "False"
      reason: RenderFailed
      message: |-
        pkg.render: pkg .:
        	pipeline.run: must run with `--allow-exec` option to allow running function binaries
  renderStatus:
    mutationSteps:
      - exec: ./fn.sh
        executionError: must run with `--allow-exec` option to allow running function binaries
        exitCode: 1
    errorSummary: './fn.sh: must run with `--allow-exec` option to allow running function binaries'
"#
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An in-place render writes the newest kpt's render status after the files,
/// keeps the Kptfile's comments (kpt would drop them), and a second render
/// changes nothing; a render for `-o` or `--check` writes none.
#[test]
fn the_render_status_is_written_in_place_only_and_once() {
    let dir = std::env::temp_dir().join(format!("lummo-render-status-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let kptfile = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app # the app\npipeline:\n  mutators:\n  - name: labels\n    image: ghcr.io/kptdev/krm-functions-catalog/set-labels:latest\n    configMap:\n      tier: backend\n";
    std::fs::write(dir.join("Kptfile"), kptfile).unwrap();
    std::fs::write(
        dir.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    )
    .unwrap();
    // For `-o` (the items): nothing written.
    render(&dir, Settings::default(), Target::Items).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("Kptfile")).unwrap(),
        kptfile
    );
    let mut rendered = render(&dir, Settings::default(), Target::InPlace).unwrap();
    rendered.commit().unwrap();
    let once = std::fs::read_to_string(dir.join("Kptfile")).unwrap();
    assert!(
        once.starts_with("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app # the app\n  labels:\n    tier: backend\n"),
        "{once}"
    );
    assert!(
        once.ends_with("status:\n  conditions:\n    - type: Rendered\n      status: \"True\"\n      reason: RenderSuccess\n  renderStatus:\n    mutationSteps:\n      - name: labels\n        image: ghcr.io/kptdev/krm-functions-catalog/set-labels:latest\n        exitCode: 0\n        results:\n          - message: set 2 labels in total\n            severity: info\n"),
        "{once}"
    );
    let mut rendered = render(&dir, Settings::default(), Target::InPlace).unwrap();
    let summary = rendered.commit().unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("Kptfile")).unwrap(), once);
    assert!(summary.updated.is_empty(), "{:?}", summary.updated);
    // --check: the status is no change.
    let rendered = render(&dir, Settings::default(), Target::Items).unwrap();
    assert!(rendered.changes().unwrap().is_empty());
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

/// `kpt.dev/bfs-rendering: "true"`: kpt v1.0.0-beta.67's breadth-first order
/// (`hydrateBfsOrder`): the root's pipeline runs first over every package, then
/// each subpackage's, level by level, over itself and what is below it. The
/// default order (subpackages first) leaves the root's label on every object;
/// this one leaves each package's own.
#[test]
fn bfs_rendering_runs_parents_first_level_by_level() {
    let dir = std::env::temp_dir().join(format!("lummo-render-bfs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let kptfile = |name: &str, annotations: &str, label: Option<&str>| {
        let pipeline = label.map_or(String::new(), |label| {
            format!("pipeline:\n  mutators:\n  - image: ghcr.io/kptdev/krm-functions-catalog/set-labels:latest\n    configMap:\n      pkg: {label}\n")
        });
        format!("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: {name}\n{annotations}{pipeline}")
    };
    let packages = [
        (
            "",
            kptfile(
                "root",
                "  annotations:\n    kpt.dev/bfs-rendering: \"true\"\n",
                Some("root"),
            ),
        ),
        ("a", kptfile("a", "", Some("a"))),
        ("a/c", kptfile("c", "", Some("c"))),
        ("b", kptfile("b", "", None)),
    ];
    for (folder, kptfile) in &packages {
        let at = dir.join(folder);
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(at.join("Kptfile"), kptfile).unwrap();
        std::fs::write(
            at.join("cm.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{}\n",
                folder.replace('/', "-")
            ),
        )
        .unwrap();
    }
    let mut rendered = render(&dir, Settings::default(), Target::InPlace).unwrap();
    assert!(!rendered.failed());
    let order: Vec<&str> = rendered.steps.iter().map(|s| s.package.as_str()).collect();
    assert_eq!(order, ["", "a", "a/c"]);
    rendered.commit().unwrap();
    for (folder, label) in [("", "root"), ("a", "a"), ("a/c", "c"), ("b", "root")] {
        let text = std::fs::read_to_string(dir.join(folder).join("cm.yaml")).unwrap();
        assert!(
            text.contains(&format!("  labels:\n    pkg: {label}\n")),
            "{folder}: {text}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `kpt.dev/save-on-render-failure: "true"` writes what rendered only when the
/// failing package is the root or a direct subpackage of it: kpt's `hydrate`
/// hands a failed package's resources to its parent, which hands none to its
/// own (kpt v1.0.0-beta.67, pkg/lib/kptops/render_executor.go). A step failing
/// two levels down leaves every file as it was, but the root's status.
#[test]
fn save_on_render_failure_saves_nothing_from_two_levels_down() {
    let dir = std::env::temp_dir().join(format!("lummo-render-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let failing = "pipeline:\n  mutators:\n  - image: ghcr.io/kptdev/krm-functions-catalog/set-labels:latest\n    configMap:\n      pkg: b\n  - image: ghcr.io/kptdev/krm-functions-catalog/starlark:latest\n    configPath: fail.yaml\n";
    let packages = [
        (
            "",
            "  annotations:\n    kpt.dev/save-on-render-failure: \"true\"\n",
            "",
        ),
        ("a", "", ""),
        ("a/b", "", failing),
    ];
    for (folder, annotations, pipeline) in packages {
        let at = dir.join(folder);
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(
            at.join("Kptfile"),
            format!("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n{annotations}{pipeline}"),
        )
        .unwrap();
        std::fs::write(
            at.join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("a/b/fail.yaml"),
        "apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: fail\nsource: |\n  fail(\"on purpose\")\n",
    )
    .unwrap();
    let mut rendered = render(&dir, Settings::default(), Target::InPlace).unwrap();
    assert!(rendered.failed());
    rendered.commit().unwrap();
    let cm = std::fs::read_to_string(dir.join("a/b/cm.yaml")).unwrap();
    assert_eq!(
        cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
    );
    let kptfile = std::fs::read_to_string(dir.join("Kptfile")).unwrap();
    assert!(kptfile.contains("reason: RenderFailed"), "{kptfile}");
    // One level up, the same failure saves the set-labels step's work.
    std::fs::rename(dir.join("a/b"), dir.join("b")).unwrap();
    let mut rendered = render(&dir, Settings::default(), Target::InPlace).unwrap();
    assert!(rendered.failed());
    rendered.commit().unwrap();
    let cm = std::fs::read_to_string(dir.join("b/cm.yaml")).unwrap();
    assert!(cm.contains("  labels:\n    pkg: b\n"), "{cm}");
    std::fs::remove_dir_all(&dir).unwrap();
}
