//! The frictions a new user met (issue 33), each pinned: these failed before the fix.
//!
//! Where each line of the issue is proved (the tests of this file unless named):
//! - plugin on `environments/*` ("No Kptfile found"), nothing lost of local-config
//!   specs: `make argocd-plugin` (`scripts/argocd_plugin.py`: both environments,
//!   every example, `tests/argocd-plugin/local-config`), `make environments`;
//! - the documented pipe printing nothing with exit 0:
//!   `manifests_that_come_out_empty_are_an_error`;
//! - exact inputs, `manifest-generate-paths`, the repo-server sending only them:
//!   `make argocd-plugin` (seeded mutations outside `--inputs`, the Applications'
//!   annotations, the narrowed tarball, deploy/argocd over the pinned install);
//! - the README's pipeline example: `tests/readme.rs`;
//! - render's apiVersion/name messages as validate's, all at once:
//!   `render_reports_every_non_krm_input_at_once_with_validates_fix`;
//! - config errors naming the config kind and the `configPath` line:
//!   the golden `expected.stderr` of lummo-pubsub `bad-missing-project-number` and
//!   lummo-networking `bad-vpn-cross-namespace`;
//! - unreferenced config files: `a_config_no_step_references_is_warned_about_with_the_line_to_add`;
//! - `catalog` and the package's own config: `catalog_reads_the_packages_own_backstage_config`;
//! - warnings twice: `a_warning_is_printed_once_not_again_by_lummo_validate`;
//! - no final line on failure: `a_failed_render_ends_with_a_line_saying_nothing_was_written`;
//! - `render -v` counting 0: `verbose_render_in_place_counts_the_resources`;
//! - `warning [lummo-validate] warning:`: `eval_prints_the_severity_once`;
//! - `validate` without a path: `validate_defaults_to_the_current_folder`;
//! - completions of `-o` (`tests/editor.rs`
//!   `bash_completes_render_output_with_its_words_and_folders`) and
//!   `--image-pull-policy`, `--allow-exec`'s help:
//!   `completions_offer_the_pull_policies_and_help_says_what_allow_exec_is_for`;
//! - the pubsub error at `spec.config.maxDeliveryAttempts`: lummo-pubsub's golden
//!   `bad-shared-config-dead-letter`;
//! - a Secret reported under `configs[0]`:
//!   `a_missing_secret_is_reported_at_secrets_not_at_a_configmap_of_the_same_name`;
//! - a conflict between two subpackages:
//!   `a_conflict_between_two_subpackages_names_both_files_and_the_fix`,
//!   `tests/argocd-plugin/subpackage-conflict*`;
//! - the draft `kind: pgbouncer`: `manifests_refuse_the_draft_pgbouncer_kind`;
//! - bad input (no Kptfile nor kustomization, a failing kustomize build, a
//!   missing file a kustomization names, unresolvable functions, empty output):
//!   `tests/argocd-plugin/{no-package,kustomize-fails,missing-resource,unknown-function,empty-package}`.

mod common;
use common::copy_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lummo(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lummo"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `lummo eval ARGS` with `input` on stdin.
fn eval(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lummo"))
        .arg("eval")
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Writes `files` (name, text) into `dir`.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

const EMPTY_KPTFILE: &str = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n";

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lummo-frictions-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn catalog_reads_the_packages_own_backstage_config() {
    let out = lummo(&root(), &["catalog", "Kptfile.examples/backstage"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("owner: group:payments"),
        "{}",
        text(&out.stdout)
    );
    // A flag still overrides the package's own config.
    let out = lummo(
        &root(),
        &[
            "catalog",
            "Kptfile.examples/backstage",
            "--owner",
            "group:other",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("owner: group:payments"));
    assert!(text(&out.stdout).contains("owner: group:other"));
}

#[test]
fn validate_defaults_to_the_current_folder() {
    let out = lummo(&root().join("Kptfile.examples/workload"), &["validate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("resources checked, no errors"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_failed_render_ends_with_a_line_saying_nothing_was_written() {
    let dir = scratch("failed");
    let package = dir.join("pkg");
    copy_dir(&root().join("Kptfile.examples/workload"), &package);
    let spec = package.join("foobar-api.yaml");
    let before = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        before.replace("kind: LummoDeployment", "kind: LummoDeploymnt"),
    )
    .unwrap();
    let out = lummo(&dir, &["render", "pkg"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last, "pkg: the render failed; nothing was written but the Kptfile's render status",
        "{stderr}"
    );
    // That status, and nothing else: the spec is as it was.
    let kptfile = std::fs::read_to_string(package.join("Kptfile")).unwrap();
    assert!(kptfile.contains("reason: RenderFailed"), "{kptfile}");
    assert_eq!(
        std::fs::read_to_string(&spec).unwrap(),
        before.replace("kind: LummoDeployment", "kind: LummoDeploymnt")
    );
    let out = lummo(&dir, &["render", "pkg", "--manifests"]);
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).ends_with("pkg: the render failed; nothing was printed\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verbose_render_in_place_counts_the_resources() {
    let dir = scratch("verbose");
    copy_dir(&root().join("Kptfile.examples/workload"), &dir.join("pkg"));
    let out = lummo(&dir, &["render", "pkg", "-v"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("rendered "))
        .expect(&stderr);
    let count: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    // The package's files hold more than ten objects (specs, configs, generated).
    assert!(count > 10, "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn manifests_refuse_the_draft_pgbouncer_kind() {
    let dir = scratch("draft");
    std::fs::write(
        dir.join("Kptfile"),
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: draft\npipeline:\n  mutators:\n  - image: ghcr.io/lummo/krm-functions/lummo-pgbouncer:v0.1.0\n",
    )
    .unwrap();
    // The product spec's draft form, as written there.
    std::fs::write(
        dir.join("pgbouncer.yaml"),
        "apiVersion: LummoKRM\nkind: pgbouncer\nmetadata:\n  name: tokko-api-pgbouncer\nspec:\n  app: foobar-api\n  part-of: foobar\n  spec:\n    connectionSecret: tokko-api-postgres-creds\n    config:\n      POOL_SIZE: 100\n",
    )
    .unwrap();
    let out = lummo(&dir, &["render", ".", "--manifests"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "printed manifests Argo CD cannot apply"
    );
    assert!(
        stderr.contains("pgbouncer.yaml: pgbouncer/tokko-api-pgbouncer")
            && stderr.contains("kind: LummoPgBouncer"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_warning_is_printed_once_not_again_by_lummo_validate() {
    let dir = scratch("once");
    let package = dir.join("pkg");
    copy_dir(&root().join("Kptfile.examples/workload"), &package);
    let spec = package.join("foobar-api.yaml");
    let text_before = std::fs::read_to_string(&spec).unwrap();
    let without: String = text_before
        .lines()
        .filter(|l| !l.trim_start().starts_with("environment:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, text_before, "the example lost its environment");
    std::fs::write(&spec, without).unwrap();
    // With lummo-validate, which runs lummo-workload's checks again.
    let kptfile = package.join("Kptfile");
    let mut pipeline = std::fs::read_to_string(&kptfile).unwrap();
    pipeline
        .push_str("  validators:\n  - image: ghcr.io/lummo/krm-functions/lummo-validate:v0.1.0\n");
    std::fs::write(&kptfile, pipeline).unwrap();
    let out = lummo(&dir, &["render", "pkg"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("spec.environment:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with("warning [lummo-workload]"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn eval_prints_the_severity_once() {
    let out = eval(
        &["workload", "validate", "--manifests"],
        b"apiVersion: lummo.dev/v1alpha1\nkind: LummoDeploymnt\nmetadata:\n  name: a\nspec: {}\n",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr.lines().next().unwrap();
    assert!(
        line.starts_with("error [lummo-workload] LummoDeploymnt/a: "),
        "{stderr}"
    );
}

#[test]
fn completions_offer_the_pull_policies_and_help_says_what_allow_exec_is_for() {
    let out = lummo(&root(), &["completions", "bash"]);
    let script = text(&out.stdout);
    let at = script
        .find("--image-pull-policy)")
        .expect("no --image-pull-policy in the completions");
    assert!(
        script[at..]
            .lines()
            .nth(1)
            .unwrap()
            .contains("Always IfNotPresent Never"),
        "{}",
        &script[at..at + 200]
    );
    let help = text(&lummo(&root(), &["render", "--help"]).stdout);
    assert!(!help.contains("that are not Lummo functions"), "{help}");
    assert!(help.contains("every one"), "{help}");
}

#[test]
fn a_missing_secret_is_reported_at_secrets_not_at_a_configmap_of_the_same_name() {
    let dir = scratch("secret");
    std::fs::write(
        dir.join("Kptfile"),
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("deployment.yaml"),
        "apiVersion: lummo.dev/v1alpha1\nkind: LummoDeployment\nmetadata:\n  name: shop\nspec:\n  app: shop\n  part-of: shop\n  containers:\n    image: shop:1.0\n    configs: [shop]\n    secrets: [shop]\n    resources: {requests: {cpu: 100m, memory: 64Mi}}\n",
    )
    .unwrap();
    let out = lummo(&dir, &["validate"]);
    let stderr = text(&out.stderr);
    let secret = stderr
        .lines()
        .find(|l| l.contains("no Secret `shop`"))
        .expect(&stderr);
    assert!(secret.contains("spec.containers.secrets[0]"), "{stderr}");
    let configmap = stderr
        .lines()
        .find(|l| l.contains("no ConfigMap `shop`"))
        .expect(&stderr);
    assert!(configmap.contains("spec.containers.configs[0]"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_config_no_step_references_is_warned_about_with_the_line_to_add() {
    let dir = scratch("unused");
    let package = dir.join("pkg");
    copy_dir(&root().join("Kptfile.examples/tokko-api"), &package);
    let kptfile = package.join("Kptfile");
    let text_before = std::fs::read_to_string(&kptfile).unwrap();
    let without = text_before.replace("    configPath: networking-config.yaml\n", "");
    assert_ne!(without, text_before);
    std::fs::write(&kptfile, without).unwrap();
    let out = lummo(&dir, &["render", "pkg", "-o", "stdout"]);
    let stderr = text(&out.stderr);
    let warning = stderr
        .lines()
        .find(|l| l.contains("no step's functionConfig"))
        .unwrap_or_else(|| panic!("no warning:\n{stderr}"));
    assert!(
        warning.starts_with("warning [lummo render] pkg/networking-config.yaml")
            || warning.contains("networking-config.yaml:"),
        "{warning}"
    );
    assert!(
        warning.contains("give that step `configPath: networking-config.yaml`"),
        "{warning}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn render_reports_every_non_krm_input_at_once_with_validates_fix() {
    let dir = scratch("krm");
    write(
        &dir,
        &[
            ("Kptfile", EMPTY_KPTFILE),
            (
                "a.yaml",
                "kind: LummoDeployment\nmetadata:\n  name: a\nspec: {}\n",
            ),
            (
                "b.yaml",
                "apiVersion: lummo.dev/v1alpha1\nkind: LummoNetworking\nmetadata: {}\nspec: {}\n",
            ),
        ],
    );
    let out = lummo(&dir, &["render", "."]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "a.yaml: resource must have `apiVersion`; it needs `apiVersion: lummo.dev/v1alpha1`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("b.yaml: resource must have `metadata.name`"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two subpackages (`apps/orders`, `apps/billing`), each with a LummoDeployment
/// `api` in `deployment.yaml`; `root_steps` is the root Kptfile's pipeline.
fn two_subpackages_of_one_app(name: &str, root_steps: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(
        dir.join("Kptfile"),
        format!("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: shop\n{root_steps}"),
    )
    .unwrap();
    for sub in ["orders", "billing"] {
        let package = dir.join("apps").join(sub);
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(
            package.join("Kptfile"),
            format!("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: {sub}\npipeline:\n  mutators:\n  - image: ghcr.io/lummo/krm-functions/lummo-workload:v0.1.0\n"),
        )
        .unwrap();
        std::fs::write(
            package.join("deployment.yaml"),
            format!("apiVersion: lummo.dev/v1alpha1\nkind: LummoDeployment\nmetadata:\n  name: api\nspec:\n  part-of: shop\n  app: api\n  containers:\n    image: {sub}:1.0.0\n    resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}\n"),
        )
        .unwrap();
    }
    dir
}

#[test]
fn a_conflict_between_two_subpackages_names_both_files_and_the_fix() {
    // The root pipeline runs lummo-workload over both subpackages' specs.
    let dir = two_subpackages_of_one_app(
        "conflict",
        "pipeline:\n  mutators:\n  - image: ghcr.io/lummo/krm-functions/lummo-workload:v0.1.0\n",
    );
    let out = lummo(&dir, &["render", ".", "--manifests"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    let line = stderr
        .lines()
        .find(|l| l.contains("Rollout `api`"))
        .unwrap_or_else(|| panic!("no conflict for the Rollout:\n{stderr}"));
    assert!(
        line.contains("LummoDeployment/api in apps/orders/deployment.yaml")
            && line.contains("LummoDeployment/api in apps/billing/deployment.yaml"),
        "{line}"
    );
    assert!(
        line.contains("change the name one of the two specs gives it"),
        "{line}"
    );
    // Without a root pipeline nothing renders both: the manifests would hold each
    // object twice, which Argo CD cannot sync.
    let dir = two_subpackages_of_one_app("duplicates", "");
    let out = lummo(&dir, &["render", ".", "--manifests"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "printed manifests Argo CD cannot sync"
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("Rollout `api`"))
        .unwrap_or_else(|| panic!("no duplicate reported:\n{stderr}"));
    assert!(
        line.contains("apps/billing/generated/rollout_api.yaml (generated by LummoDeployment/api)")
            && line.contains(
                "apps/orders/generated/rollout_api.yaml (generated by LummoDeployment/api)"
            )
            && line.contains("change the name one of the specs gives it"),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn manifests_that_come_out_empty_are_an_error() {
    // Argo CD would prune every object of an app whose plugin prints nothing.
    let dir = scratch("empty");
    let local = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n";
    write(&dir, &[("Kptfile", EMPTY_KPTFILE), ("cm.yaml", local)]);
    let out = lummo(&dir, &["render", ".", "--manifests"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("the render produced no manifests"),
        "{stderr}"
    );
    // The documented pipe, after kustomize dropped `lummo init`'s local-config specs.
    let out = eval(&["workload", "validate", "--manifests"], b"");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("produced no manifests")
            && stderr.contains("run `lummo render DIR --manifests`"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
