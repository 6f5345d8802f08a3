//! `lummo render` through the real binary, on packages built in a temporary
//! folder: kpt's output modes, its package rules, and the safety rules that keep
//! a render from losing or silently keeping what a user wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SPEC: &str = "apiVersion: lummo.dev/v1alpha1
kind: LummoDeployment
metadata:
  name: api
  annotations:
    config.kubernetes.io/local-config: \"true\"
spec:
  part-of: shop
  app: api
  containers:
    image: api:1.0.0
    ports:
    - name: http
      port: 8080
    resources:
      requests: {cpu: 100m, memory: 64Mi}
";

fn kptfile(steps: &[&str]) -> String {
    let mut text = String::from("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\n");
    if !steps.is_empty() {
        text.push_str("pipeline:\n  mutators:\n");
        for step in steps {
            text.push_str(&format!("  - image: {step}\n"));
        }
    }
    text
}

const WORKLOAD: &str = "ghcr.io/lummo/krm-functions/lummo-workload:v0.1.0";

/// A fresh folder holding `files` (path, text).
fn package(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lummo-render-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
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

/// Every file below `dir` with its bytes, for before/after comparisons.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                files.push((entry.path(), std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// A snapshot without the newest kpt's render status in the root Kptfile of
/// `dir` (a failed in-place render writes it, and nothing else; none when the
/// root Kptfile itself is refused), after checking that a status there says
/// the render failed.
fn failed_render_snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let kptfile = dir.join("Kptfile");
    snapshot(dir)
        .into_iter()
        .map(|(path, bytes)| {
            if path != kptfile {
                return (path, bytes);
            }
            let text = String::from_utf8(bytes).unwrap();
            assert!(
                !text.contains("status:") || text.contains("reason: RenderFailed"),
                "{text}"
            );
            let text = lummo_render::status::without_status(&text);
            (path, text.into_bytes())
        })
        .collect()
}

#[test]
fn output_into_the_package_itself_is_refused_and_loses_nothing() {
    let pkg = package(
        "self",
        &[
            ("Kptfile", &kptfile(&[WORKLOAD])),
            ("app.yaml", SPEC),
            (".git/HEAD", "ref: x\n"),
        ],
    );
    let before = snapshot(&pkg);
    let out = lummo(&["render", ".", "-o", "."], &pkg);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(snapshot(&pkg), before, "nothing written or truncated");
}

#[test]
fn output_folder_inside_the_package_gets_the_resources_once() {
    // kpt allows a new folder inside the package (its e2e case out-of-place-dir);
    // the old `lummo render -o sub` copied the package into itself until the
    // file-name limit.
    let pkg = package(
        "inside",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", SPEC)],
    );
    let out = lummo(&["render", ".", "-o", "sub/../sub"], &pkg);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("inside the package"),
        "{}",
        stderr(&out)
    );
    assert!(pkg.join("sub/app.yaml").is_file());
    assert!(pkg.join("sub/generated/rollout_api.yaml").is_file());
    assert!(!pkg.join("sub/sub").exists(), "no copy of the copy");
    let out = lummo(&["render", ".", "-o", "."], &pkg);
    assert_eq!(out.status.code(), Some(1), "the package itself is refused");
}

#[test]
fn output_folder_gets_only_the_rendered_package() {
    let pkg = package(
        "outdir",
        &[
            ("Kptfile", &kptfile(&[WORKLOAD])),
            ("app.yaml", SPEC),
            ("README.md", "# app\n"),
            (".git/HEAD", "x\n"),
        ],
    );
    let out_dir = pkg.with_extension("out");
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = lummo(&["render", ".", "-o", out_dir.to_str().unwrap()], &pkg);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out_dir.join("Kptfile").is_file() && out_dir.join("app.yaml").is_file());
    assert!(out_dir.join("generated/rollout_api.yaml").is_file());
    assert!(!out_dir.join("README.md").exists() && !out_dir.join(".git").exists());
    assert!(
        !pkg.join("generated").exists(),
        "the package itself is untouched"
    );
}

#[test]
fn stdout_is_a_resource_list_and_unwrap_a_stream() {
    let pkg = package(
        "stdout",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", SPEC)],
    );
    let out = lummo(&["render", ".", "-o", "stdout"], &pkg);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"),
        "{text}"
    );
    assert!(
        text.contains("config.kubernetes.io/path: generated/rollout_api.yaml"),
        "{text}"
    );
    let out = lummo(&["render", ".", "-o", "unwrap"], &pkg);
    let text = String::from_utf8_lossy(&out.stdout);
    // kpt's unwrap prints the Kptfile too (tests/output has the details).
    assert!(
        !text.contains("ResourceList")
            && text.starts_with("apiVersion: kpt.dev/v1\nkind: Kptfile\n"),
        "{text}"
    );
    assert!(
        text.contains("kind: Rollout") && !text.contains("config.kubernetes.io/path"),
        "{text}"
    );
    assert!(
        !pkg.join("generated").exists(),
        "-o writes nothing into the package"
    );
    let out = lummo(&["render", ".", "--manifests"], &pkg);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kind: Rollout") && !text.contains("kind: LummoDeployment"),
        "{text}"
    );
}

#[test]
fn manifests_leave_out_specs_and_configs_by_kind_and_reference() {
    let unmarked = SPEC.replace(
        "  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
        "",
    );
    let kptfile = format!(
        "{}    configPath: workload-config.yaml\n",
        kptfile(&[WORKLOAD])
    );
    let config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: workload-config\ndata: {}\n";
    let pkg = package(
        "manifests",
        &[
            ("Kptfile", &kptfile),
            ("app.yaml", &unmarked),
            ("workload-config.yaml", config),
        ],
    );
    let out = lummo(&["render", ".", "--manifests"], &pkg);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("kind: LummoDeployment") && !text.contains("name: workload-config"),
        "{text}"
    );
    assert!(
        !text.contains("kind: Kptfile") && text.contains("kind: Rollout"),
        "{text}"
    );
    let warnings = stderr(&out);
    assert!(
        warnings.contains("app.yaml: LummoDeployment api is a Lummo spec"),
        "{warnings}"
    );
    assert!(
        warnings.contains("workload-config.yaml: ConfigMap workload-config is the functionConfig"),
        "{warnings}"
    );
}

#[test]
fn non_krm_and_ignored_files_are_kept() {
    let kustomization =
        "# Header comment\n\n# kustomization.yaml contents\nresources:\n- app.yaml\n";
    let pkg = package(
        "nonkrm",
        &[
            ("Kptfile", &kptfile(&[WORKLOAD])),
            ("app.yaml", SPEC),
            ("kustomization.yaml", kustomization),
            (".krmignore", "notes/\n"),
            ("notes/scratch.yaml", "just: some text\n"),
        ],
    );
    let out = lummo(&["render", "."], &pkg);
    assert!(out.status.success(), "{}", stderr(&out));
    // As the real kpt writes it: a document that went through a mutator has its
    // head comment right above its first key (kyaml `copyFieldComments`).
    assert_eq!(
        std::fs::read_to_string(pkg.join("kustomization.yaml")).unwrap(),
        "# Header comment\n# kustomization.yaml contents\nresources:\n- app.yaml\n"
    );
    assert_eq!(
        std::fs::read_to_string(pkg.join("notes/scratch.yaml")).unwrap(),
        "just: some text\n"
    );
}

#[test]
fn non_krm_files_are_refused_as_kpt_refuses_them() {
    let pkg = package(
        "notkrm",
        &[
            ("Kptfile", &kptfile(&[WORKLOAD])),
            ("app.yaml", SPEC),
            ("values.yaml", "replicas: 3\n"),
        ],
    );
    let out = lummo(&["render", "."], &pkg);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("input resource list must contain only KRM resources: values.yaml: resource must have `apiVersion`"),
        "{}",
        stderr(&out)
    );
    assert!(!pkg.join("generated").exists(), "nothing written on error");
}

#[test]
fn a_subpackage_spec_generates_into_its_own_package() {
    let sub = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: api\n";
    let pkg = package(
        "nested",
        &[
            ("Kptfile", &kptfile(&[WORKLOAD])),
            ("apps/api/Kptfile", sub),
            ("apps/api/app.yaml", SPEC),
        ],
    );
    let out = lummo(&["render", "."], &pkg);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(pkg.join("apps/api/generated/rollout_api.yaml").is_file());
    assert!(!pkg.join("generated").exists());
}

#[test]
fn a_spec_without_its_function_is_an_error() {
    let pkg = package("nostep", &[("Kptfile", &kptfile(&[])), ("app.yaml", SPEC)]);
    let out = lummo(&["render", "."], &pkg);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no pipeline step runs lummo-workload"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn generated_files_of_a_removed_step_are_an_error() {
    let pkg = package(
        "removed",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", SPEC)],
    );
    assert!(lummo(&["render", "."], &pkg).status.success());
    // The user removes the step and the spec: the generated files would stay deployed.
    std::fs::write(pkg.join("Kptfile"), kptfile(&[])).unwrap();
    std::fs::remove_file(pkg.join("app.yaml")).unwrap();
    let before = snapshot(&pkg);
    let out = lummo(&["render", "."], &pkg);
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(
        message.contains("generated/rollout_api.yaml")
            && message.contains("add lummo-workload back"),
        "{message}"
    );
    assert_eq!(failed_render_snapshot(&pkg), before);
}

#[test]
fn another_version_tag_is_a_warning_naming_both() {
    let pkg = package(
        "version",
        &[
            (
                "Kptfile",
                &kptfile(&["ghcr.io/lummo/krm-functions/lummo-workload:v0.2.0"]),
            ),
            ("app.yaml", SPEC),
        ],
    );
    let out = lummo(&["render", "."], &pkg);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("v0.2.0") && stderr(&out).contains("built-in lummo-workload v0.1.0"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lummo"))
        .arg("docs")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn check_fails_on_a_stale_package_and_passes_after_render() {
    let pkg = package(
        "check",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", SPEC)],
    );
    let before = snapshot(&pkg);
    let out = lummo(&["render", ".", "--check"], &pkg);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+++ b/generated/rollout_api.yaml") && diff.contains("+kind: Rollout"),
        "{diff}"
    );
    assert_eq!(snapshot(&pkg), before, "--check writes nothing");
    let out = lummo(&["-v", "render", "."], &pkg);
    assert!(
        stderr(&out).contains("created generated/rollout_api.yaml"),
        "{}",
        stderr(&out)
    );
    let out = lummo(&["render", ".", "--check"], &pkg);
    assert!(out.status.success(), "{}", stderr(&out));
    // A hand edit of generated output makes the package stale again.
    let rollout = pkg.join("generated/rollout_api.yaml");
    let text = std::fs::read_to_string(&rollout)
        .unwrap()
        .replace("api:1.0.0", "api:6.6.6");
    std::fs::write(&rollout, text).unwrap();
    let out = lummo(&["render", ".", "--check"], &pkg);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("-      - image: api:6.6.6"));
}

#[test]
fn results_dir_gets_a_function_result_list() {
    let bad = SPEC.replace("image: api:1.0.0", "image: ''");
    let pkg = package(
        "results",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", &bad)],
    );
    let results = pkg.with_extension("results");
    let _ = std::fs::remove_dir_all(&results);
    let out = lummo(
        &["render", ".", "--results-dir", results.to_str().unwrap()],
        &pkg,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = std::fs::read_to_string(results.join("results.yaml")).unwrap();
    assert!(
        text.starts_with("apiVersion: kpt.dev/v1\nkind: FunctionResultList\n"),
        "{text}"
    );
    assert!(
        text.contains("exitCode: 1") && text.contains(&format!("  - image: {WORKLOAD}\n")),
        "{text}"
    );
    assert!(text.contains("severity: error"), "{text}");
}

/// Issue 27 point 9: an `exec:` step is recorded as `exec:`, with its stderr and
/// its exit code, in kpt's layout (sequences indented under their key).
#[test]
fn results_dir_records_exec_steps_as_kpt_does() {
    let kptfile = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\npipeline:\n  mutators:\n  - exec: sh -c 'cat; echo said >&2'\n";
    let pkg = package(
        "results-exec",
        &[
            ("Kptfile", kptfile),
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
            ),
        ],
    );
    let results = pkg.with_extension("results");
    let _ = std::fs::remove_dir_all(&results);
    let out = lummo(
        &[
            "render",
            ".",
            "--allow-exec",
            "--results-dir",
            results.to_str().unwrap(),
        ],
        &pkg,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(results.join("results.yaml")).unwrap();
    assert_eq!(
        text,
        "apiVersion: kpt.dev/v1\nkind: FunctionResultList\nmetadata:\n  name: fnresults\nexitCode: 0\nitems:\n  - exec: sh -c 'cat; echo said >&2'\n    stderr: |\n      said\n    exitCode: 0\n"
    );
}

/// create-setters reads every field, kpt's id annotations included: under kpt,
/// a setter whose value is an object's id marks that annotation and says so
/// (kpt v1.0.0-beta.56 running the kpt-catalog binary as an exec step gave
/// these results; fuzz seed i110 case 71). And a package without a step gets
/// a FunctionResultList without `items` (kpt's `omitempty`).
#[test]
fn create_setters_sees_kpts_ids_and_no_step_means_no_items() {
    let kptfile = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\npipeline:\n  mutators:\n    - image: gcr.io/kpt-fn/create-setters:v0.1.0\n      configMap:\n        n: \"1\"\n";
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n";
    for (name, kptfile) in [
        ("results-create-setters", kptfile),
        (
            "results-no-step",
            "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n",
        ),
    ] {
        let pkg = package(name, &[("Kptfile", kptfile), ("cm.yaml", cm)]);
        let results = pkg.with_extension("results");
        let _ = std::fs::remove_dir_all(&results);
        let out = lummo(
            &["render", ".", "--results-dir", results.to_str().unwrap()],
            &pkg,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(results.join("results.yaml")).unwrap();
        if name == "results-no-step" {
            assert_eq!(
                text,
                "apiVersion: kpt.dev/v1\nkind: FunctionResultList\nmetadata:\n  name: fnresults\nexitCode: 0\n"
            );
            continue;
        }
        for (path, file) in [
            ("metadata.annotations.internal.config.kubernetes.io/id", "Kptfile"),
            ("metadata.annotations.config.k8s.io/id", "Kptfile"),
            (
                "metadata.annotations.internal.config.kubernetes.io/annotations-migration-resource-id",
                "cm.yaml",
            ),
        ] {
            let said = format!("'Added line comment \"kpt-set: ${{n}}\" for field with value \"1\"'\n        severity: info\n        field:\n          path: {path}\n        file:\n          path: {file}\n");
            assert!(text.contains(&said), "{said}\n{text}");
        }
    }
}

/// A file and a symbolic link to it are two files to kpt, both written through the
/// link in Go's map order: when a step leaves the two copies different, which one
/// stays is chance under kpt (fuzz seed 103 case 3). lummo refuses, writing
/// nothing; copies a step left alike are written once and the link stays.
#[test]
fn a_link_whose_copy_a_step_changed_apart_is_refused() {
    let kptfile = |step: &str| {
        format!("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\npipeline:\n  mutators:\n  - exec: \"{step}\"\n")
    };
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: one # kept\n";
    for (name, step, refused) in [
        ("link-alike", "cat".to_string(), false),
        (
            "link-apart",
            "sed '0,/o[n]e # kept/s//two # kept/'".to_string(),
            true,
        ),
    ] {
        let pkg = package(name, &[("Kptfile", &kptfile(&step)), ("cm.yaml", cm)]);
        std::os::unix::fs::symlink("cm.yaml", pkg.join("link.yaml")).unwrap();
        let before = snapshot(&pkg);
        let out = lummo(&["render", ".", "--allow-exec"], &pkg);
        assert!(std::fs::symlink_metadata(pkg.join("link.yaml"))
            .unwrap()
            .file_type()
            .is_symlink());
        if refused {
            assert!(!out.status.success());
            let said = stderr(&out);
            assert!(
                said.contains("link.yaml is a symbolic link to cm.yaml"),
                "{said}"
            );
            assert!(
                said.contains("suggestion: replace link.yaml with a copy of cm.yaml"),
                "{said}"
            );
            assert_eq!(failed_render_snapshot(&pkg), before, "nothing is written");
        } else {
            assert!(out.status.success(), "{}", stderr(&out));
            assert_eq!(std::fs::read_to_string(pkg.join("cm.yaml")).unwrap(), cm);
        }
    }
}

/// Issue 27 point 10: an in-place render places a warning on its field, as
/// `-o stdout` does, not at the start of the document.
#[test]
fn in_place_warnings_name_the_line_and_column_of_their_field() {
    let spec = SPEC.replace("image: api:1.0.0", "image: api:latest");
    let pkg = package(
        "warning-position",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", &spec)],
    );
    let printed = lummo(&["render", ".", "-o", "stdout"], &pkg);
    let in_place = lummo(&["render", "."], &pkg);
    assert!(in_place.status.success(), "{}", stderr(&in_place));
    let wanted = "app.yaml:11:5: LummoDeployment/api: spec.containers[0].image:";
    assert!(stderr(&printed).contains(wanted), "{}", stderr(&printed));
    assert!(stderr(&in_place).contains(wanted), "{}", stderr(&in_place));
}

#[test]
fn a_copy_of_generated_output_in_a_users_file_is_never_deleted() {
    let pkg = package(
        "copy",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", SPEC)],
    );
    assert!(lummo(&["render", "."], &pkg).status.success());
    // The user copies a generated file into one of their own, annotation and all.
    let copy = std::fs::read_to_string(pkg.join("generated/serviceaccount_api.yaml")).unwrap();
    std::fs::write(pkg.join("my-serviceaccount.yaml"), &copy).unwrap();
    let out = lummo(&["render", "."], &pkg);
    // The copy now collides with what the spec generates: an error to resolve,
    // and the user's file is still there, unchanged.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("conflicts with"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(pkg.join("my-serviceaccount.yaml")).unwrap(),
        copy
    );
}

#[test]
fn docs_are_the_same_from_any_working_directory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let here = lummo(&["docs"], &root);
    let elsewhere = lummo(&["docs"], &std::env::temp_dir());
    assert!(here.status.success() && elsewhere.status.success());
    assert_eq!(here.stdout, elsewhere.stdout);
    assert!(String::from_utf8_lossy(&elsewhere.stdout).contains("## Example"));
}

/// A validator's output is not the package (kpt keeps its input whatever it
/// returns): rendering with one changes and deletes nothing the mutators made.
#[test]
fn a_validator_step_keeps_every_resource() {
    let kptfile = format!(
        "{}  validators:\n  - image: ghcr.io/lummo/krm-functions/lummo-validate:v0.1.0\n",
        kptfile(&[WORKLOAD])
    );
    let dir = package("validator", &[("Kptfile", &kptfile), ("app.yaml", SPEC)]);
    let output = lummo(&["render", "."], &dir);
    assert!(output.status.success(), "{}", stderr(&output));
    let first = snapshot(&dir);
    assert!(
        first.iter().any(|(p, _)| p.ends_with("app.yaml")),
        "{first:?}"
    );
    assert!(
        first
            .iter()
            .any(|(p, _)| p.to_string_lossy().contains("generated/")),
        "{first:?}"
    );
    let again = lummo(&["render", "."], &dir);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        !stderr(&again).contains("pruned:") || stderr(&again).contains("0 pruned"),
        "{}",
        stderr(&again)
    );
    assert_eq!(snapshot(&dir), first);
}

/// `render` and `validate` point at the line and column of the offending field, not
/// at the start of its document; a single container written as a mapping is
/// `containers[0]`, and every problem of the spec is listed.
#[test]
fn problems_point_at_the_field_and_are_all_listed() {
    let spec = "apiVersion: v1
kind: ConfigMap
metadata: {name: other}
---
apiVersion: lummo.dev/v1alpha1
kind: LummoDeployment
metadata:
  name: api
spec:
  app: api
  replicas: many
  containers:
    image: api:1.0.0
    ports:
    - {name: http, prot: 8080}
    resources:
      requests: {cpu: 100m, memory: 64Mi}
";
    let dir = package(
        "field-positions",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", spec)],
    );
    for command in ["render", "validate"] {
        let out = lummo(&[command, "."], &dir);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let text = stderr(&out);
        assert!(
            text.contains("app.yaml:11:3: LummoDeployment/api: spec.replicas: expected a whole number (0 to 4294967295), found the string \"many\""),
            "{command}: {text}"
        );
        assert!(
            text.contains("app.yaml:15:20: LummoDeployment/api: spec.containers[0].ports[0].prot: unknown field `prot`"),
            "{command}: {text}"
        );
    }
}

/// Hand edits of generated files (issue 17): each generated object records the
/// hash of what its function emitted, so a render whose spec emits the same again
/// knows that a field differing in the file, which no later step changes, was
/// edited by hand.
fn hand_edit(pkg: &Path, file: &str, from: &str, to: &str) {
    let path = pkg.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has {from:?}:\n{text}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn render_ok(pkg: &Path) -> String {
    let out = lummo(&["render", "."], pkg);
    assert!(out.status.success(), "{}", stderr(&out));
    stderr(&out)
}

#[test]
fn a_hand_edited_generated_file_is_a_warning_and_is_overwritten() {
    let pkg = package(
        "hand-edit",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", SPEC)],
    );
    render_ok(&pkg);
    let rendered = snapshot(&pkg);
    hand_edit(
        &pkg,
        "generated/rollout_api.yaml",
        "replicas: 1",
        "replicas: 3",
    );
    hand_edit(&pkg, "generated/rollout_api.yaml", "cpu: 100m", "cpu: 250m");
    let err = render_ok(&pkg);
    assert!(
        err.contains(
            "warning [lummo render] generated/rollout_api.yaml:90:3: Rollout/api: spec.replicas: \
             edited by hand: the file has 3, its spec generates 1, and this render writes that back; \
             generated files are rewritten on every render: change the spec LummoDeployment/api \
             in app.yaml instead"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "Rollout/api: spec.template.spec.containers[0].resources.requests.cpu: edited by hand: \
             the file has \"250m\", its spec generates \"100m\""
        ),
        "{err}"
    );
    assert_eq!(err.matches("edited by hand").count(), 2, "{err}");
    assert_eq!(snapshot(&pkg), rendered, "the generated content is back");
    assert!(
        !render_ok(&pkg).contains("by hand"),
        "warned once, not on the next render"
    );
}

#[test]
fn a_re_render_or_a_spec_change_is_no_hand_edit() {
    let pkg = package(
        "hand-edit-spec",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", SPEC)],
    );
    render_ok(&pkg);
    assert!(!render_ok(&pkg).contains("by hand"));
    // The spec changes what it emits: the new hash says the file is simply old.
    hand_edit(&pkg, "app.yaml", "port: 8080", "port: 9090");
    let err = render_ok(&pkg);
    assert!(!err.contains("by hand"), "{err}");
    let rollout = std::fs::read_to_string(pkg.join("generated/rollout_api.yaml")).unwrap();
    assert!(rollout.contains("containerPort: 9090"), "{rollout}");
}

#[test]
fn later_catalog_steps_are_no_hand_edits() {
    let kptfile = format!(
        "{}  - image: gcr.io/kpt-fn/set-namespace:v0.4.1\n    configMap:\n      namespace: shop-dev\n\
         \x20 - image: gcr.io/kpt-fn/set-labels:v0.2.0\n    configMap:\n      env: dev\n\
         \x20 - image: gcr.io/kpt-fn/apply-replacements:v0.1.1\n    configPath: replacements.yaml\n",
        kptfile(&[WORKLOAD])
    );
    // apply-replacements may change any field: here the pull policy, on every render.
    let replacements = "apiVersion: fn.kpt.dev/v1alpha1
kind: ApplyReplacements
metadata:
  name: policy
  annotations:
    config.kubernetes.io/local-config: \"true\"
replacements:
- source:
    kind: ConfigMap
    name: settings
    fieldPath: data.policy
  targets:
  - select:
      kind: Rollout
    fieldPaths:
    - spec.template.spec.containers.[name=api].imagePullPolicy
";
    let settings = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    config.kubernetes.io/local-config: \"true\"
data:
  policy: Always
";
    // set-namespace v0.4 renames the namespace the objects have (their origin).
    let spec = SPEC.replacen("  name: api\n", "  name: api\n  namespace: shop\n", 1);
    let pkg = package(
        "hand-edit-steps",
        &[
            ("Kptfile", &kptfile),
            ("app.yaml", &spec),
            ("replacements.yaml", replacements),
            ("settings.yaml", settings),
        ],
    );
    render_ok(&pkg);
    let rollout = std::fs::read_to_string(pkg.join("generated/rollout_api.yaml")).unwrap();
    for set in ["namespace: shop-dev", "env: dev", "imagePullPolicy: Always"] {
        assert!(rollout.contains(set), "{set}:\n{rollout}");
    }
    let err = render_ok(&pkg);
    assert!(!err.contains("by hand"), "{err}");
    // Fields later steps write are theirs, edited or not; replicas is nobody's.
    hand_edit(
        &pkg,
        "generated/rollout_api.yaml",
        "namespace: shop-dev",
        "namespace: other",
    );
    hand_edit(
        &pkg,
        "generated/rollout_api.yaml",
        "imagePullPolicy: Always",
        "imagePullPolicy: Never",
    );
    hand_edit(
        &pkg,
        "generated/rollout_api.yaml",
        "replicas: 1",
        "replicas: 2",
    );
    let err = render_ok(&pkg);
    assert_eq!(err.matches("edited by hand").count(), 1, "{err}");
    assert!(
        err.contains("Rollout/api: spec.replicas: edited by hand"),
        "{err}"
    );
}

#[test]
fn a_hand_edit_in_a_subpackage_names_its_own_spec() {
    // Two packages with the same spec: the warning names the edited one's.
    let pkg = package(
        "hand-edit-sub",
        &[
            ("Kptfile", &kptfile(&[])),
            ("a/Kptfile", &kptfile(&[WORKLOAD])),
            ("a/app.yaml", SPEC),
            ("b/Kptfile", &kptfile(&[WORKLOAD])),
            ("b/app.yaml", SPEC),
        ],
    );
    render_ok(&pkg);
    hand_edit(
        &pkg,
        "b/generated/rollout_api.yaml",
        "replicas: 1",
        "replicas: 4",
    );
    let err = render_ok(&pkg);
    assert_eq!(err.matches("edited by hand").count(), 1, "{err}");
    assert!(
        err.contains("b/generated/rollout_api.yaml:90:3: Rollout/api: spec.replicas: edited by hand: the file has 4"),
        "{err}"
    );
    assert!(
        err.contains("change the spec LummoDeployment/api in b/app.yaml instead"),
        "{err}"
    );
}

/// Monorepos: the subpackages that no pipeline above them touches render side by
/// side (`LUMMO_THREADS`). Each case is a root without pipeline holding one
/// subpackage per entry, rendered in two identical copies, one with one thread
/// and one with several (more than the machine may have, so that packages finish
/// out of order); files, stdout, stderr, results and exit code must be the same
/// byte for byte, and a failed render must leave the tree as it was.
#[derive(Clone, Copy)]
enum Sub {
    /// The spec and lummo-workload.
    Plain,
    /// lummo-workload pinned to another version: a warning.
    Pinned,
    /// A catalog step after lummo-workload: `[RUNNING]`/`[PASS]` lines.
    Catalog,
    /// An `exec:` step that prints to stderr: its `Stderr:` lines.
    Exec,
    /// Rendered once, then a generated file edited: a hand-edit warning.
    HandEdited,
    /// A package without pipeline holding three subpackages: a nested level.
    Nested,
    /// A spec and no pipeline: the staleness error, when the subtree is finished.
    Stale,
    /// A spec lummo-workload rejects: a failed step.
    Invalid,
    /// A document without `kind`: an error that ends the render.
    NotKrm,
}

fn sub_files(dir: &str, sub: Sub, files: &mut Vec<(String, String)>) {
    let mut add = |path: &str, text: String| files.push((format!("{dir}/{path}"), text));
    match sub {
        Sub::Plain | Sub::HandEdited => {
            add("Kptfile", kptfile(&[WORKLOAD]));
            add("app.yaml", SPEC.into());
        }
        Sub::Pinned => {
            add(
                "Kptfile",
                kptfile(&["ghcr.io/lummo/krm-functions/lummo-workload:v0.2.0"]),
            );
            add("app.yaml", SPEC.into());
        }
        Sub::Catalog => {
            add(
                "Kptfile",
                format!(
                    "{}  - image: gcr.io/kpt-fn/set-labels:v0.2.0\n    configMap:\n      env: {dir}\n",
                    kptfile(&[WORKLOAD])
                ),
            );
            add("app.yaml", SPEC.into());
        }
        Sub::Exec => {
            add(
                "Kptfile",
                format!(
                    "{}  - exec: sh -c 'cat; echo from {dir} >&2'\n",
                    kptfile(&[WORKLOAD])
                ),
            );
            add("app.yaml", SPEC.into());
        }
        Sub::Nested => {
            add("Kptfile", kptfile(&[]));
            for (name, sub) in [("x", Sub::Plain), ("y", Sub::Pinned), ("z", Sub::Catalog)] {
                sub_files(&format!("{dir}/{name}"), sub, files);
            }
        }
        Sub::Stale => {
            add("Kptfile", kptfile(&[]));
            add("app.yaml", SPEC.into());
        }
        Sub::Invalid => {
            add("Kptfile", kptfile(&[WORKLOAD]));
            add("app.yaml", SPEC.replace("port: 8080", "port: 99999"));
        }
        Sub::NotKrm => {
            add("Kptfile", kptfile(&[WORKLOAD]));
            add("app.yaml", SPEC.into());
            // The message names the file, relative to its package.
            add(
                &format!("notes-{dir}.yaml"),
                "apiVersion: v1\nmetadata:\n  name: notes\n".into(),
            );
        }
    }
}

/// The monorepo of `subs` (subpackages p00, p01, ...) in a fresh folder.
fn monorepo(name: &str, subs: &[Sub]) -> PathBuf {
    let mut files = vec![("Kptfile".to_string(), kptfile(&[]))];
    for (i, sub) in subs.iter().enumerate() {
        sub_files(&format!("p{i:02}"), *sub, &mut files);
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let dir = package(name, &files);
    for (i, sub) in subs.iter().enumerate() {
        if let Sub::HandEdited = sub {
            let pkg = dir.join(format!("p{i:02}"));
            render_ok(&pkg);
            hand_edit(
                &pkg,
                "generated/rollout_api.yaml",
                "replicas: 1",
                "replicas: 3",
            );
        }
    }
    dir
}

/// What a user sees of one render: exit code, stdout, stderr (the seconds a step
/// took left out), results.yaml and every file of the package afterwards.
#[derive(Debug, PartialEq)]
struct Seen {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    results: Option<String>,
    files: Vec<(PathBuf, Vec<u8>)>,
}

/// The package's files before and what a render with `threads` showed.
fn render_with_threads(
    name: &str,
    subs: &[Sub],
    args: &[&str],
    threads: &str,
) -> (Vec<(PathBuf, Vec<u8>)>, Seen) {
    let pkg = monorepo(&format!("{name}-{threads}"), subs);
    let before = relative_snapshot(&pkg);
    let results = pkg.with_extension("results");
    let _ = std::fs::remove_dir_all(&results);
    let out = Command::new(env!("CARGO_BIN_EXE_lummo"))
        .args(args)
        .args(["--allow-exec", "--results-dir"])
        .arg(&results)
        .current_dir(&pkg)
        .env("LUMMO_THREADS", threads)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("lummo runs");
    let seen = Seen {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: without_seconds(&stderr(&out)),
        results: std::fs::read_to_string(results.join("results.yaml")).ok(),
        files: relative_snapshot(&pkg),
    };
    (before, seen)
}

/// [`snapshot`] with paths relative to `dir`.
fn relative_snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    snapshot(dir)
        .into_iter()
        .map(|(path, bytes)| (path.strip_prefix(dir).unwrap().to_path_buf(), bytes))
        .collect()
}

/// `[PASS] "step" in 0s` with the seconds left out: how long a step took is no
/// part of the order of the output.
fn without_seconds(text: &str) -> String {
    text.lines()
        .map(|line| match line.rsplit_once("\" in ") {
            Some((head, tail))
                if tail.ends_with('s') && tail[..tail.len() - 1].parse::<u64>().is_ok() =>
            {
                format!("{head}\" in _s")
            }
            _ => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect()
}

/// A monorepo, how it is rendered, and what one thread and several must both show.
struct Case {
    name: &'static str,
    subs: &'static [Sub],
    args: &'static [&'static str],
    code: i32,
    /// In stderr or stdout.
    present: &'static [&'static str],
    /// Not in stderr.
    absent: &'static [&'static str],
}

#[test]
fn monorepos_render_the_same_on_one_thread_and_on_several() {
    use Sub::*;
    const SIDE_BY_SIDE: &[Sub] = &[
        Plain, Pinned, Catalog, Exec, HandEdited, Nested, Plain, Pinned, Catalog, Exec, Nested,
        Plain,
    ];
    let cases = [
        Case {
            name: "in-place",
            subs: SIDE_BY_SIDE,
            args: &["render", "."],
            code: 0,
            present: &[
                "warning [lummo-workload in p01] ",
                "warning [lummo-workload in p05/y] ",
                "warning [lummo render] p04/generated/rollout_api.yaml:90:3: Rollout/api: spec.replicas: edited by hand",
                "[RUNNING] \"gcr.io/kpt-fn/set-labels:v0.2.0\"\n[PASS]",
                "  Stderr:\n    from p03\n",
                "Successfully executed 22 function(s) in 19 package(s)",
            ],
            absent: &[],
        },
        Case {
            name: "stdout",
            subs: SIDE_BY_SIDE,
            args: &["render", ".", "-o", "stdout"],
            code: 0,
            present: &["from p09", "path: p10/z/generated/rollout_api.yaml"],
            absent: &[],
        },
        Case {
            name: "check",
            subs: SIDE_BY_SIDE,
            args: &["render", ".", "--check"],
            code: 1,
            present: &["file(s) would change"],
            absent: &[],
        },
        Case {
            // Two subpackages leave threads to spare for the levels below them.
            name: "nested",
            subs: &[Nested, Nested],
            args: &["render", "."],
            code: 0,
            present: &["in p00/y]", "in p01/y]", "Successfully executed 8 function(s) in 9 package(s)"],
            absent: &[],
        },
        Case {
            // The staleness check of p03 fails: nothing of p04 on is reported,
            // although it may have rendered already.
            name: "stale",
            subs: &[Plain, Catalog, Pinned, Stale, Pinned, Catalog, Exec, Plain],
            args: &["render", "."],
            code: 1,
            present: &[
                "in p02]",
                "error [lummo render] p03/app.yaml:1: LummoDeployment/api: no pipeline step runs lummo-workload",
            ],
            absent: &["in p04]", "from p06", "Successfully"],
        },
        Case {
            name: "failed-step",
            subs: &[Plain, Exec, Nested, Invalid, Pinned, Catalog, Exec, Plain],
            args: &["render", "."],
            code: 1,
            present: &["from p01", "in p02/y]", "error [lummo-workload in p03] "],
            absent: &["in p04]", "from p06", "Successfully"],
        },
        Case {
            // Two errors: the first in path order is the one reported.
            name: "error",
            subs: &[Plain, Catalog, Pinned, NotKrm, Exec, NotKrm, Plain],
            args: &["render", "."],
            code: 1,
            present: &["Error: input resource list must contain only KRM resources: notes-p03.yaml"],
            absent: &["notes-p05.yaml", "from p04"],
        },
    ];
    for case in cases {
        let name = case.name;
        let (one_before, one) =
            render_with_threads(&format!("mono-{name}"), case.subs, case.args, "1");
        let (several_before, several) =
            render_with_threads(&format!("mono-{name}"), case.subs, case.args, "5");
        assert_eq!(one.code, Some(case.code), "{name}: {}", one.stderr);
        for text in case.present {
            assert!(
                one.stderr.contains(text) || one.stdout.contains(text),
                "{name}: {text:?} in\n{}",
                one.stderr
            );
        }
        for text in case.absent {
            assert!(
                !one.stderr.contains(text),
                "{name}: no {text:?} in\n{}",
                one.stderr
            );
        }
        assert_eq!(one.stderr, several.stderr, "{name}: stderr");
        assert_eq!(one.stdout, several.stdout, "{name}: stdout");
        assert_eq!(one.results, several.results, "{name}: results");
        assert!(one.files == several.files, "{name}: files");
        if case.args.len() > 2 {
            // -o and --check write nothing, temporary files included.
            assert!(one.files == one_before, "{name}: the package is unchanged");
            assert!(
                several.files == several_before,
                "{name}: the package is unchanged"
            );
        } else if case.code != 0 {
            // A failed render writes nothing but the root Kptfile's render status.
            for (files, before) in [(&one.files, &one_before), (&several.files, &several_before)] {
                let without: Vec<_> = files
                    .iter()
                    .map(|(path, bytes)| {
                        if path.as_os_str() != "Kptfile" {
                            return (path.clone(), bytes.clone());
                        }
                        let text = String::from_utf8(bytes.clone()).unwrap();
                        assert!(text.contains("reason: RenderFailed"), "{name}: {text}");
                        let text = lummo_render::status::without_status(&text);
                        (path.clone(), text.into_bytes())
                    })
                    .collect();
                assert!(&without == before, "{name}: the package is unchanged");
            }
        }
    }
}

#[test]
fn a_thread_count_that_is_no_number_is_refused() {
    let pkg = package(
        "threads",
        &[("Kptfile", &kptfile(&[WORKLOAD])), ("app.yaml", SPEC)],
    );
    let before = snapshot(&pkg);
    for value in ["0", "two", " "] {
        let out = Command::new(env!("CARGO_BIN_EXE_lummo"))
            .args(["render", "."])
            .current_dir(&pkg)
            .env("LUMMO_THREADS", value)
            .output()
            .expect("lummo runs");
        assert_eq!(out.status.code(), Some(1), "{value:?}");
        assert!(
            stderr(&out).contains(&format!(
                "LUMMO_THREADS={value}: must be a whole number of threads, at least 1"
            )),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(snapshot(&pkg), before);
    // Empty is unset.
    let out = Command::new(env!("CARGO_BIN_EXE_lummo"))
        .args(["render", "."])
        .current_dir(&pkg)
        .env("LUMMO_THREADS", "")
        .output()
        .expect("lummo runs");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_rewritten_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let kptfile = format!(
        "{}  - image: gcr.io/kpt-fn/set-labels:v0.2.0\n    configMap:\n      team: shop\n",
        kptfile(&[WORKLOAD])
    );
    let config =
        |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    let (open, private) = (config("open"), config("private"));
    let pkg = package(
        "permissions",
        &[
            ("Kptfile", &kptfile),
            ("app.yaml", SPEC),
            ("open.yaml", &open),
            ("private.yaml", &private),
        ],
    );
    let mode = |path: &str| {
        std::fs::metadata(pkg.join(path))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    // What the process's umask gives any new file.
    let fresh = pkg.join("probe");
    std::fs::write(&fresh, "").unwrap();
    let default = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o7777;
    std::fs::remove_file(&fresh).unwrap();
    // Modes a new file does not get: the rewrite must keep them.
    for (path, wanted) in [("open.yaml", 0o666), ("private.yaml", 0o600)] {
        assert_ne!(wanted, default);
        std::fs::set_permissions(pkg.join(path), std::fs::Permissions::from_mode(wanted)).unwrap();
    }
    let out = lummo(&["render", "."], &pkg);
    assert!(out.status.success(), "{}", stderr(&out));
    for (path, wanted) in [("open.yaml", 0o666), ("private.yaml", 0o600)] {
        let text = std::fs::read_to_string(pkg.join(path)).unwrap();
        assert!(
            text.contains("team: shop"),
            "{path} was not rewritten: {text}"
        );
        assert_eq!(mode(path), wanted, "{path}");
    }
    assert_eq!(mode("generated/rollout_api.yaml"), default);
}

/// A step whose image lummo does not run in process and Docker cannot provide
/// stops the render with one sentence naming the Kptfile, the step, the image,
/// and the ways out, not Docker's registry error; nothing is written
/// (tests/not-in-process).
#[test]
fn not_in_process_images_name_the_step_and_the_ways_out() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/not-in-process");
    let docker = Command::new("docker")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let reason = if docker {
        "the image is not among Docker's local images and the pull policy is Never"
    } else {
        "Docker is not available here"
    };
    let mut seen = 0;
    for (name, case, pkg) in case_packages(&cases, "not-in-process") {
        seen += 1;
        let before = snapshot(&pkg);
        let out = lummo(&["render", ".", "--image-pull-policy", "never"], &pkg);
        let expected = std::fs::read_to_string(case.join("expected-stderr.txt"))
            .unwrap()
            .replace("REASON", reason);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert_eq!(without_seconds(&stderr(&out)), expected, "{name}");
        assert_eq!(
            failed_render_snapshot(&pkg),
            before,
            "{name}: a file changed"
        );
    }
    assert!(seen >= 2, "cases in {}", cases.display());
}

/// A Starlark step one statement of which asks for more memory than the child
/// process a Starlark step runs in may have (RLIMIT_AS) stops the render with
/// an error naming the step and the bound, quickly, and nothing but the
/// Kptfile's render status is written (tests/starlark-bounds).
#[test]
fn starlark_bounds_stop_a_huge_allocation() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/starlark-bounds");
    let mut seen = 0;
    for (name, case, pkg) in case_packages(&cases, "starlark-bounds") {
        seen += 1;
        let before = snapshot(&pkg);
        let start = std::time::Instant::now();
        let out = lummo(&["render", "."], &pkg);
        let took = start.elapsed();
        let expected = std::fs::read_to_string(case.join("expected-stderr.txt")).unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert_eq!(without_seconds(&stderr(&out)), expected, "{name}");
        assert!(took.as_secs() < 30, "{name}: took {took:?}");
        assert_eq!(
            failed_render_snapshot(&pkg),
            before,
            "{name}: a file changed"
        );
    }
    assert!(seen >= 1, "cases in {}", cases.display());
}

/// Each case folder (one with a Kptfile) of `cases`: its name, the folder, and
/// a package made of its files, named `<prefix>-<name>`.
fn case_packages(cases: &Path, prefix: &str) -> Vec<(String, PathBuf, PathBuf)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(cases).unwrap().flatten() {
        let case = entry.path();
        if case.join("Kptfile").is_file() {
            let name = case.file_name().unwrap().to_string_lossy().to_string();
            let pkg = case_package(&case, &format!("{prefix}-{name}"));
            found.push((name, case, pkg));
        }
    }
    found
}

/// A package made of a test case folder's files (its `expected*` files left out).
fn case_package(case: &Path, name: &str) -> PathBuf {
    let mut files = Vec::new();
    for file in std::fs::read_dir(case).unwrap().flatten() {
        let file_name = file.file_name().to_string_lossy().to_string();
        if file.path().is_file() && file_name != "expected-stderr.txt" {
            files.push((file_name, std::fs::read_to_string(file.path()).unwrap()));
        }
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    package(name, &files)
}

/// The newest kpt's `tag:` semver ranges resolve to the newest release lummo
/// knows, or the render is refused naming the field and the known releases
/// (tests/tag-ranges).
#[test]
fn tag_ranges_resolve_or_name_the_known_releases() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tag-ranges");
    let mut seen = 0;
    for (name, case, pkg) in case_packages(&cases, "tag-ranges") {
        seen += 1;
        let before = snapshot(&pkg);
        let out = lummo(&["render", "."], &pkg);
        if let Ok(expected) = std::fs::read_to_string(case.join("expected-stderr.txt")) {
            assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
            assert_eq!(stderr(&out), expected, "{name}");
            assert_eq!(
                failed_render_snapshot(&pkg),
                before,
                "{name}: a file changed"
            );
            continue;
        }
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let mut compared = 0;
        for file in std::fs::read_dir(case.join("expected")).unwrap().flatten() {
            let mut rendered = std::fs::read_to_string(pkg.join(file.file_name())).unwrap();
            if file.file_name() == "Kptfile" {
                // The render status names each step by its resolved image (the
                // lines of `status-images.txt`); the rest of the status (the
                // functions' results) is kpt-e2e-beta67's to prove.
                let images = std::fs::read_to_string(case.join("status-images.txt")).unwrap();
                let (_, status) = rendered.split_once("\nstatus:\n").unwrap();
                for line in images.lines() {
                    assert!(status.contains(line), "{name}: {line:?} in\n{status}");
                }
                rendered = lummo_render::status::without_status(&rendered);
            }
            let expected = std::fs::read_to_string(file.path()).unwrap();
            assert_eq!(rendered, expected, "{name}: {:?}", file.file_name());
            compared += 1;
        }
        assert!(compared > 0, "{name}: no expected files");
    }
    assert!(seen >= 3, "cases in {}", cases.display());
}
