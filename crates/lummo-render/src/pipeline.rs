//! The pipeline of every package in kpt's order (subpackages first), each
//! step's runner (a Lummo function or a catalog function in process, an `exec:`
//! program, a container), and kpt's checks between steps (`AreKRM`, path
//! invariants, default paths, `configPath`).

use crate::commit::*;
use crate::kptfile::{self, Kptfile, Step};
use crate::load::*;
use crate::provenance::Provenance;
use crate::registry::*;
use crate::runtime;
use crate::state::*;
use crate::status::{Failure, Outcome, SaidBy};
use anyhow::{anyhow, bail, Context as _, Result};
use krm_sdk::object::annotations;
use krm_sdk::{GivenBack, Item, ObjectExt, ResourceList, ResultItem, RunnerAnnotations, Value};
use lummo_core::function::Role;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// kpt's annotation for the package a resource belongs to (an absolute path).
pub const PACKAGE_PATH: &str = "internal.config.kubernetes.io/package-path";

/// How one step runs.
pub(crate) enum Runner {
    Native(Function),
    /// A function of the kpt catalog, in process (crates/kpt-catalog).
    Catalog(kpt_catalog::Function),
    Exec(Vec<String>),
    Container(String),
}

pub(crate) fn is_lummo(item: &Value) -> bool {
    item.api_version()
        .split('/')
        .next()
        .is_some_and(|group| group == lummo_core::GROUP)
}

/// Where a render's result goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Staged on disk as subtrees finish; [`Rendered::commit`] puts it in place.
    InPlace,
    /// Kept in [`Rendered::items`] for `-o stdout`, `-o unwrap`, `-o DIR`,
    /// `--check` and manifests.
    Items,
}

/// Whether any package above one has a pipeline (which will see its resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ancestors {
    NoPipeline,
    Pipeline,
}

/// Reads and renders the package at `root` (and its subpackages).
///
/// [`Target::InPlace`]: the result is staged on disk as it renders and [`Rendered::commit`]
/// puts it in place; otherwise `items` holds the whole rendered tree.
pub fn render(root: &Path, settings: Settings, target: Target) -> Result<Rendered> {
    render_with(root, settings, target, Progress::AsParent)
}

/// [`render`] with kpt's progress lines kept in [`Rendered::progress_lines`]
/// instead of printed: a caller rendering many packages at once (`lummo diff`)
/// shows them only for the one that failed.
pub fn render_quietly(root: &Path, settings: Settings, target: Target) -> Result<Rendered> {
    render_with(root, settings, target, Progress::Buffered)
}

fn render_with(
    root: &Path,
    settings: Settings,
    target: Target,
    progress: Progress,
) -> Result<Rendered> {
    let root = open(root)?;
    let mut rendered = Rendered::new(root.clone());
    // The root state is never merged into another: buffered lines stay with it.
    rendered.progress = (progress == Progress::Buffered).then(String::new);
    let threads = settings.threads.unwrap_or_else(krm_sdk::parallel::threads);
    // The root Kptfile's render options (kpt v1.0.0-beta.67 reads them in
    // `Execute`, pkg/lib/kptops/render_executor.go); a Kptfile that does not
    // read fails in `render_package` with its message.
    if let Some(kptfile) = std::fs::read_to_string(root.join("Kptfile"))
        .ok()
        .and_then(|text| kptfile::parse("Kptfile", &text).ok())
    {
        rendered.save_on_failure = kptfile.annotation_is_true(kptfile::SAVE_ON_RENDER_FAILURE);
        rendered.bfs = kptfile.annotation_is_true(kptfile::BFS_RENDERING);
    }
    // A saved failure writes what rendered before the failing step and
    // nothing after it: subtrees render one after the other then, so that no
    // later one is staged already.
    let spare = if rendered.save_on_failure {
        0
    } else {
        threads.saturating_sub(1)
    };
    rendered.spare_threads = Arc::new(AtomicUsize::new(spare));
    rendered.settings = settings;
    if target == Target::InPlace {
        rendered.staging = Some(Staging::default());
    }
    if let Err(error) = render_subtree(&mut rendered, &root, "") {
        rendered.discard();
        if target == Target::InPlace {
            // The newest kpt records the failure in the root Kptfile, the rest
            // of the package untouched.
            let failure = rendered.failure.clone().unwrap_or_else(|| Failure {
                package: String::new(),
                text: error.root_cause().to_string(),
                said_by: SaidBy::Package,
            });
            if let Err(status) =
                crate::status::write(&root, &rendered.steps, &Outcome::Error(&failure))
            {
                return Err(error.context(format!(
                    "the render status could not be written into the Kptfile: {status:#}"
                )));
            }
        }
        return Err(error);
    }
    Ok(rendered)
}

/// Renders the package at `relative`, which no pipeline above it touches, and
/// finishes it unless it failed.
pub(crate) fn render_subtree(rendered: &mut Rendered, root: &Path, relative: &str) -> Result<()> {
    let items = render_package(rendered, root, relative, Ancestors::NoPipeline)?;
    // Also when the render failed: a config the step ran without is often why.
    for warning in crate::output::unused_configs(&items) {
        rendered.finding(relative, "lummo render", warning);
    }
    if !rendered.failed() {
        finish(rendered, root, items)?;
    } else if rendered.saves_failure() && rendered.staging.is_some() {
        // kpt writes what rendered before the failure (in place only: with
        // `-o` a failed render prints nothing).
        check_indexes(&items)?;
        let items = rebase(root, items)?;
        rendered.stage(items)?;
    }
    Ok(())
}

/// Renders the subpackages `subs` of a package without pipeline that no pipeline
/// above touches: each subtree is independent of the others, so they render on
/// the threads the render has spare, each into its own state, merged in path
/// order. The first subtree that fails or errs stops the render as rendering them
/// one after the other would: nothing of the later ones is reported, even when
/// they already ran (their staged files go with the rest when the render fails).
pub(crate) fn render_subtrees(rendered: &mut Rendered, root: &Path, subs: &[String]) -> Result<()> {
    let helpers = rendered.take_threads(subs.len().saturating_sub(1));
    if let Some(staging) = rendered.staging.as_mut() {
        staging.writer.get_or_insert_with(Writer::start);
    }
    let template = rendered.subtree(if helpers > 0 {
        Progress::Buffered
    } else {
        Progress::AsParent
    });
    let mut outcome = Ok(());
    krm_sdk::parallel::ordered(
        subs.len(),
        helpers + 1,
        |index| {
            let mut child = template.subtree(Progress::AsParent);
            let result = render_subtree(&mut child, root, &subs[index]);
            (child, result)
        },
        |(child, result)| {
            rendered.merge(child);
            match result {
                Ok(()) => !rendered.failed(),
                Err(error) => {
                    outcome = Err(error);
                    false
                }
            }
        },
    );
    rendered.spare_threads.fetch_add(helpers, Ordering::AcqRel);
    outcome
}

/// A finished subtree (root-relative after rebasing): checked for staleness, then
/// staged on disk, or kept in `items` for the other outputs.
pub(crate) fn finish(rendered: &mut Rendered, root: &Path, items: Vec<Item>) -> Result<()> {
    // Only kpt's file writer sorts by index: `-o stdout`/`unwrap` print any index.
    if rendered.staging.is_some() {
        check_indexes(&items)?;
    }
    let items = rebase(root, items)?;
    check_staleness(rendered, &items);
    if rendered.failed() {
        return Ok(());
    }
    for warning in rendered.hand_edits.check(&items) {
        rendered.finding("", "lummo render", warning);
    }
    let finished = rendered.tracker.finish(&items);
    rendered.provenance.extend(finished);
    rendered.resources += items.len();
    if rendered.staging.is_some() {
        rendered.stage(items)
    } else {
        rendered.items.extend(items);
        Ok(())
    }
}

/// Renders the package at `relative` after its subpackages. When no ancestor has
/// a pipeline ([`Ancestors::NoPipeline`]), a subtree is finished as soon as it is
/// rendered (and, in place, staged on disk), and nothing is returned for it.
pub(crate) fn render_package(
    rendered: &mut Rendered,
    root: &Path,
    relative: &str,
    ancestors: Ancestors,
) -> Result<Vec<Item>> {
    let (kptfile_path, kptfile) = read_kptfile(rendered, root, relative)?;
    if relative.is_empty() && rendered.bfs {
        return render_bfs(rendered, root, kptfile);
    }
    rendered.packages += 1;
    let has_pipeline = kptfile.steps().next().is_some();
    let mut items = Vec::new();
    let subs = subpackages(root, relative)?;
    // kpt reads the Kptfiles of a package's subpackages as it lists them,
    // before it renders any: an unreadable one stops the render before a
    // step runs (fuzz seed s121 case 41).
    for sub in &subs {
        let path = join(sub, "Kptfile");
        let unreadable = std::fs::read_to_string(root.join(&path))
            .map_or(true, |text| kptfile::parse(&path, &text).is_err());
        if unreadable {
            read_kptfile(rendered, root, sub)?;
        }
    }
    if ancestors == Ancestors::NoPipeline && !has_pipeline {
        render_subtrees(rendered, root, &subs)?;
        if rendered.failed() {
            return Ok(items);
        }
    } else {
        for sub in subs {
            let sub_items = render_package(rendered, root, &sub, Ancestors::Pipeline)?;
            if rendered.failed() {
                // kpt's `hydrate` with save-on-render-failure: the root's
                // resources are its own, its subpackages' rendered so far and
                // what the failed one had (`Rendered::saves_failure`).
                if relative.is_empty() && rendered.saves_failure() {
                    items.extend(sub_items);
                    items.extend(read_local(rendered, root, relative)?);
                }
                return Ok(items);
            }
            items.extend(sub_items);
        }
    }
    let local = read_local(rendered, root, relative)?;
    check_pipeline_configs(rendered, relative, &kptfile, &local)?;
    items.extend(local);
    run_pipeline(rendered, root, relative, &kptfile_path, &kptfile, items)
}

/// Reads and checks the Kptfile of the package at `relative`; returns its
/// root-relative path and what it says.
fn read_kptfile(rendered: &mut Rendered, root: &Path, relative: &str) -> Result<(String, Kptfile)> {
    let kptfile_path = join(relative, "Kptfile");
    let text = std::fs::read_to_string(root.join(&kptfile_path))
        .with_context(|| format!("{kptfile_path} can't be read"))?;
    match kptfile::parse(&kptfile_path, &text) {
        Ok(kptfile) => {
            if let Err(error) = check_config_files(&root.join(relative), &kptfile) {
                // The root's is refused before any render (no status is
                // written); a subpackage's while its parent renders.
                if !relative.is_empty() {
                    rendered.failed_with(relative, format!("{error}\n"), SaidBy::Package);
                }
                return Err(error);
            }
            Ok((kptfile_path, kptfile))
        }
        Err(error) => {
            // kpt finds a subpackage's Kptfile unreadable while listing its
            // parent's subpackages; YAML syntax errors keep their words.
            let message = error.to_string();
            if let (false, Some((_, details))) =
                (relative.is_empty(), message.split_once("\n\nDetails:\n"))
            {
                rendered.failed_with(
                    &parent_package(root, relative),
                    format!(
                        "pkg ./{relative}: error reading Kptfile at \"./{relative}\": {details}"
                    ),
                    SaidBy::Subpackages,
                );
            }
            Err(error)
        }
    }
}

/// kpt's `ValidatePipeline`: every `configPath` of the pipeline is one of the
/// package's own documents (`local`).
fn check_pipeline_configs(
    rendered: &mut Rendered,
    relative: &str,
    kptfile: &Kptfile,
    local: &[Item],
) -> Result<()> {
    if let Err(error) = check_config_paths(kptfile, local) {
        // kpt's `ValidatePipeline` error, bare (no `pipeline.run`); its
        // `ValidateError` ends with a line break.
        rendered.failed_with(
            relative,
            format!("{}\n", error.root_cause()),
            SaidBy::Package,
        );
        return Err(error);
    }
    Ok(())
}

/// Runs the pipeline of the package at `relative` over `items` (its own and
/// those of the subpackages it sees): kpt's `AreKRM` check, then its mutators
/// and validators. On a failed step, the items to save (kpt's `runMutators`
/// gives back the input of the mutator that failed; a failed validator leaves
/// the mutators' output).
fn run_pipeline(
    rendered: &mut Rendered,
    root: &Path,
    relative: &str,
    kptfile_path: &str,
    kptfile: &Kptfile,
    mut items: Vec<Item>,
) -> Result<Vec<Item>> {
    let has_pipeline = kptfile.steps().next().is_some();
    // kpt checks every input of every package, pipeline or not (kpt `AreKRM`).
    // Every such input at once (kpt stops at the first), each with its fix.
    let problems: Vec<(String, String)> = items
        .iter()
        .filter_map(|item| {
            let reason = is_krm(item).err()?;
            let path = item.file_ref().map(|f| f.path).unwrap_or_default();
            Some((
                format!("{path}: {reason}"),
                format!("{path}: {reason}{}", krm_fix(item, reason)),
            ))
        })
        .collect();
    if let Some((first, _)) = problems.first() {
        let kpt = format!("input resource list must contain only KRM resources: {first}");
        // kpt: a package with a pipeline refuses it in its first step's runner
        // (that step's `executionError`), one without in `runPipeline`.
        if let Some(step) = kptfile.steps().next() {
            let stage = if kptfile.mutators.is_empty() {
                Stage::Validators
            } else {
                Stage::Mutators
            };
            rendered
                .steps
                .push(unstarted_step(relative, stage, step, kpt.clone()));
        }
        rendered.failed_with(
            relative,
            kpt,
            if has_pipeline {
                SaidBy::Pipeline
            } else {
                SaidBy::Package
            },
        );
        bail!(
            "input resource list must contain only KRM resources: {}",
            problems
                .iter()
                .map(|(_, lummo)| lummo.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    let at = PackageAt {
        relative,
        kptfile_path,
        package: display_package(relative),
        package_path: package_dir(root, relative).display().to_string(),
        root_path: root.display().to_string(),
    };
    for (stage, steps) in [
        (Stage::Mutators, &kptfile.mutators),
        (Stage::Validators, &kptfile.validators),
    ] {
        for step in steps {
            // What a failed mutator leaves to save: its input (kept only when
            // the package saves failures: a mutator over every item takes them).
            let before =
                (rendered.save_on_failure && stage == Stage::Mutators).then(|| items.clone());
            items = match run_step(rendered, &at, stage, step, items) {
                Ok(StepOutcome::Next(items)) => items,
                Ok(StepOutcome::Failed(items)) => return Ok(before.unwrap_or(items)),
                Err(error) => {
                    rendered.failed_with(
                        relative,
                        error.root_cause().to_string(),
                        SaidBy::Pipeline,
                    );
                    return Err(error);
                }
            };
        }
    }
    Ok(items)
}

/// A package of a breadth-first render: its Kptfile, its resources (its own
/// as read, then as the pipelines above it left them) and its direct
/// subpackages (indices into the render's packages).
struct BfsPackage {
    relative: String,
    kptfile_path: String,
    kptfile: Kptfile,
    /// As kpt's `package-path` annotation says.
    package_path: String,
    items: Vec<Item>,
    children: Vec<usize>,
}

/// kpt v1.0.0-beta.67's breadth-first order (`kpt.dev/bfs-rendering: "true"`;
/// `hydrateBfsOrder` in pkg/lib/kptops/render_executor.go). Every package is
/// found and read first, level by level, subpackages in path order; then each
/// package's pipeline runs, in that order, over its own resources followed by
/// those of every package below it (each subpackage's, then its own
/// subpackages', before the next one's), and what the pipeline returns goes
/// back to the package each resource belongs to (`package-path`; what it adds
/// is its own). A parent thus changes its subpackages before their pipelines
/// run; a subpackage never sees its parent or its siblings. As kpt's
/// `propagateResourcesAcrossNodes`, a package below of which the pipeline
/// returns nothing keeps its resources (a parent cannot delete all of a
/// subpackage's resources). Returns every package's resources, in that order.
fn render_bfs(rendered: &mut Rendered, root: &Path, kptfile: Kptfile) -> Result<Vec<Item>> {
    let mut packages = vec![BfsPackage {
        relative: String::new(),
        kptfile_path: "Kptfile".into(),
        kptfile,
        package_path: package_dir(root, "").display().to_string(),
        items: Vec::new(),
        children: Vec::new(),
    }];
    let mut next = 0;
    while next < packages.len() {
        let relative = packages[next].relative.clone();
        rendered.packages += 1;
        packages[next].items = read_local(rendered, root, &relative)?;
        for sub in subpackages(root, &relative)? {
            let (kptfile_path, kptfile) = read_kptfile(rendered, root, &sub)?;
            let index = packages.len();
            packages[next].children.push(index);
            packages.push(BfsPackage {
                package_path: package_dir(root, &sub).display().to_string(),
                relative: sub,
                kptfile_path,
                kptfile,
                items: Vec::new(),
                children: Vec::new(),
            });
        }
        next += 1;
    }
    for index in 0..packages.len() {
        let mut input = std::mem::take(&mut packages[index].items);
        let own = input.len();
        let mut below: Vec<usize> = packages[index].children.iter().rev().copied().collect();
        while let Some(sub) = below.pop() {
            input.extend(packages[sub].items.iter().cloned());
            below.extend(packages[sub].children.iter().rev());
        }
        let package = &packages[index];
        check_pipeline_configs(rendered, &package.relative, &package.kptfile, &input[..own])?;
        let output = run_pipeline(
            rendered,
            root,
            &package.relative,
            &package.kptfile_path,
            &package.kptfile,
            input,
        )?;
        let failed = rendered.failed();
        if failed && !rendered.saves_failure() {
            return Ok(Vec::new());
        }
        let mut by_package: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        for item in output {
            let package = match item.annotation(PACKAGE_PATH) {
                Some(path) => path.to_string(),
                None => packages[index].package_path.clone(),
            };
            by_package.entry(package).or_default().push(item);
        }
        for (at, package) in packages.iter_mut().enumerate() {
            match by_package.remove(&package.package_path) {
                Some(items) => package.items = items,
                None if at == index => package.items = Vec::new(),
                None => {}
            }
        }
        if failed {
            break;
        }
    }
    Ok(packages.into_iter().flat_map(|p| p.items).collect())
}

/// The package a subpackage at `relative` belongs to: its nearest folder above
/// with a Kptfile ("" for the root).
pub(crate) fn parent_package(root: &Path, relative: &str) -> String {
    let mut folder = Path::new(relative);
    while let Some(parent) = folder.parent() {
        if parent.as_os_str().is_empty() {
            break;
        }
        if root.join(parent).join("Kptfile").is_file() {
            return parent.to_string_lossy().into_owned();
        }
        folder = parent;
    }
    String::new()
}

/// The pipeline stage a step belongs to: a mutator's output replaces the items;
/// a validator's is checked and dropped (kpt keeps the input whatever it returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Mutators,
    Validators,
}

/// The package whose pipeline runs, as its steps see and report it.
pub(crate) struct PackageAt<'a> {
    /// Root-relative folder ("" for the root).
    relative: &'a str,
    kptfile_path: &'a str,
    /// As progress lines and timings name it.
    package: String,
    /// Absolute, as kpt's `package-path` annotation says.
    package_path: String,
    /// The rendered package's, likewise: results name files relative to it.
    root_path: String,
}

/// After a step: the items for the next one, or those to keep when it failed
/// (the render stops and writes nothing).
pub(crate) enum StepOutcome {
    Next(Vec<Item>),
    Failed(Vec<Item>),
}

/// Runs one step of the package's pipeline over `items`: its runner, its
/// functionConfig, kpt's selectors, then what kpt's runner does to a function's
/// output (default paths, `AreKRM`, path invariants, annotation reconciling).
pub(crate) fn run_step(
    rendered: &mut Rendered,
    at: &PackageAt,
    stage: Stage,
    step: &Step,
    mut items: Vec<Item>,
) -> Result<StepOutcome> {
    let runner = step_runner(step, &rendered.settings);
    if let Err(error) = &runner {
        let why = error.root_cause().to_string();
        rendered
            .steps
            .push(unstarted_step(at.relative, stage, step, why));
    }
    let runner = runner.map_err(|e| {
        // kpt says this one bare; scripts match on it.
        if matches!(e.downcast_ref(), Some(PipelineError::NeedsAllowExec)) {
            e
        } else {
            e.context(format!("{}: {}", at.kptfile_path, step.field))
        }
    })?;
    let label = match &runner {
        Runner::Native(function) => function.name.to_string(),
        _ => step.reference().to_string(),
    };
    if let Runner::Catalog(_) = &runner {
        rendered.say(&format!("[RUNNING] \"{label}\"\n"));
    }
    if let Runner::Native(function) = &runner {
        if let Some(warning) = version_warning(step, function.name) {
            rendered.finding(at.relative, function.name, warning);
        }
    }
    let config = step_config(rendered, at, step, &items)?;
    let selective = !step.selectors.is_empty() || !step.excludes.is_empty();
    let chosen = runtime::selected(&items, &step.selectors, &step.excludes);
    // A validator that only reads the package (lummo-validate: its `render`
    // borrows the list, and nothing is applied) gives back what it was given, as
    // it was: it is lent the items rather than copies (thousands of objects in a
    // monorepo), which come back after it. Where kpt's runner would give its
    // copies default paths, it gets copies: the checks below are of those.
    let lent = stage == Stage::Validators
        && !selective
        && matches!(&runner, Runner::Native(f) if f.role == Role::Validator)
        && !items.iter().any(|item| needs_default_paths(item));
    let input = if lent {
        std::mem::take(&mut items)
    } else {
        step_input(&mut items, &chosen, selective, stage)
    };
    // kpt's runner checks a function's input as it checks its output (`do`:
    // AreKRM) before it runs the function: an object an earlier step left
    // outside KRM once kyaml reconciled its path (a kustomization.yaml whose
    // legacy path a function moved) stops this step unrun (fuzz seed s121
    // case 109).
    if let Some((path, reason)) = first_not_krm(&input) {
        let why = format!("input resource list must contain only KRM resources: {path}: {reason}");
        rendered
            .steps
            .push(unstarted_step(at.relative, stage, step, why.clone()));
        bail!(why);
    }
    let mut list = ResourceList::new(Vec::new());
    list.items = input;
    list.function_config = config;
    let start = Instant::now();
    let mut external_exit = None;
    // What an in-process catalog function prints on stderr (kpt-functions-sdk's
    // failure line), which kpt records as its container's.
    let mut catalog_stderr = "";
    let mut origins = Vec::new();
    match &runner {
        Runner::Native(function) => match rendered.settings.provenance {
            Provenance::Record => origins = (function.record)(&mut list),
            Provenance::Skip => (function.process)(&mut list),
        },
        Runner::Catalog(function) if !function.over_text() => {
            // kpt compares what its container printed with what went in, by id
            // (`runtime::kind_change`); here the object of the same kind, name
            // and namespace is the one that went in (the Go SDK sorts them).
            let identity = |v: &Value| {
                let field = |path: &[&str]| {
                    path.iter()
                        .try_fold(v, |v, key| v.get(key))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                (
                    field(&["apiVersion"]),
                    field(&["kind"]),
                    field(&["metadata", "namespace"]),
                    field(&["metadata", "name"]),
                )
            };
            let before: std::collections::HashMap<_, Value> = list
                .items
                .iter()
                .map(|i| (identity(i.value()), i.value().clone()))
                .collect();
            function.run(&mut list);
            if !list.failed() {
                let change = list.items.iter().find_map(|after| {
                    let before = before.get(&identity(after.value()))?;
                    runtime::kind_change(before, after.value())
                });
                if let Some(change) = change {
                    bail!("{label}: {change}");
                }
            }
            catalog_stderr = function.stderr(&list);
            // kpt runs it as a container: a failure is its exit code 1.
            rendered.say(&outcome(
                &label,
                start.elapsed().as_secs_f64(),
                &list.results,
                catalog_stderr,
                list.failed().then_some(1),
            ));
        }
        Runner::Catalog(_) | Runner::Exec(_) | Runner::Container(_) => {
            let exit = match &runner {
                // A catalog function that prints every object afresh (Starlark)
                // runs over the ResourceList's text, as kpt runs its container.
                Runner::Catalog(function) if function.over_text() => {
                    runtime::run_filter(function, &label, stage, &mut list, &lender(rendered, at))?
                }
                _ => {
                    rendered.say(&format!("[RUNNING] \"{label}\"\n"));
                    let command = external_command(&runner, &rendered.settings)?;
                    runtime::run_external(command, &label, stage, &mut list, &lender(rendered, at))?
                }
            };
            rendered.say(&outcome(
                &label,
                start.elapsed().as_secs_f64(),
                &list.results,
                &exit.stderr,
                (exit.code != 0).then_some(exit.code),
            ));
            external_exit = Some(exit);
        }
    }
    record_step(
        rendered,
        at,
        stage,
        step,
        &runner,
        &label,
        &list,
        external_exit.as_ref(),
        start,
    );
    if !catalog_stderr.is_empty() {
        if let Some(record) = rendered.steps.last_mut() {
            record.stderr = catalog_stderr.to_string();
        }
    }
    let failed = match &external_exit {
        Some(exit) => exit.code != 0,
        None => list.failed(),
    };
    if !failed {
        rendered.tolerated_errors += list.results.iter().filter(|r| r.is_error()).count();
    }
    let results = std::mem::take(&mut list.results);
    for mut result in results {
        // A message naming a file by kpt's package path (a generator's conflict
        // between two subpackages) names it as the user sees it: relative to the
        // rendered package, like the result's own file.
        let root = format!("{}/", at.root_path.trim_end_matches('/'));
        if result.message.contains(&root) {
            result.message = result.message.replace(&root, "");
        }
        if let Some(folder) = result_folder(at, &list.items, &result) {
            if let Some(file) = result.file.as_mut() {
                file.path = join(&folder, &file.path);
            }
        }
        rendered.finding(at.relative, &label, result);
    }
    if failed {
        return Ok(StepOutcome::Failed(if items.is_empty() {
            list.items
        } else {
            items
        }));
    }
    // What kpt's function runner does to every function's output. A step that
    // restyles its objects printed every annotation in its own style.
    if matches!(runner, Runner::Catalog(ref f) if f.restyles) {
        for item in &mut list.items {
            item.set_by_runner(RunnerAnnotations::default());
        }
    }
    default_paths(&mut list.items);
    let checked = if stage == Stage::Mutators {
        let output = std::mem::take(&mut list.items);
        mutator_output(rendered, at, &runner, external_exit.as_ref(), output)
    } else {
        // kpt's runner checks a validator's output as a mutator's (`do`): two
        // objects a mutator's legacy annotation put on one path and index fail
        // here, once kyaml reconciled the other spelling (fuzz seed 108 case 64).
        enforce_path_invariants(&list.items)
            .and_then(|()| are_krm(&list.items))
            .map(|()| Vec::new())
    };
    let output = match checked {
        Ok(output) => output,
        Err(error) => {
            // kpt's runner refuses the output before it records the function's
            // result: the status shows the refusal as the step's executionError.
            if let Some(record) = rendered.steps.last_mut() {
                record.execution_error = Some(error.root_cause().to_string());
            }
            return Err(error);
        }
    };
    if stage == Stage::Mutators {
        let recording = rendered.settings.provenance == Provenance::Record;
        if let (true, Runner::Native(function)) = (recording, &runner) {
            rendered.tracker.emitted(function.name, origins, &output);
        }
        items = if selective {
            runtime::merge(items, &chosen, output)
        } else {
            output
        };
        if recording {
            let step = format!("{} {} ({label})", at.kptfile_path, step.field);
            rendered.tracker.step(&step, &items);
        }
    } else if lent {
        items = list.items;
    }
    Ok(StepOutcome::Next(items))
}

/// A step's function as the newest kpt's render status names it: an image
/// without a registry path gets kpt's default one (`ResolveToImage` with
/// `GHCRImagePrefix`: `set-labels:latest` is
/// `ghcr.io/kptdev/krm-functions-catalog/set-labels:latest`); an exec as written.
fn status_reference(step: &Step) -> String {
    if !step.image.is_empty() && !step.image.contains('/') {
        format!("ghcr.io/kptdev/krm-functions-catalog/{}", step.image)
    } else {
        step.reference().to_string()
    }
}

/// The record of a step that never ran (its runner could not start, or kpt's
/// runner refused its input): in the render status with kpt's
/// `executionError`, not in the results file.
fn unstarted_step(package: &str, stage: Stage, step: &Step, why: String) -> StepRecord {
    StepRecord {
        field: if step.exec.is_empty() {
            "image"
        } else {
            "exec"
        },
        reference: step.reference().to_string(),
        exit_code: 1,
        stderr: String::new(),
        results: Vec::new(),
        name: step.name.clone(),
        kptfile_reference: status_reference(step),
        stage,
        package: package.to_string(),
        execution_error: Some(why),
        ran: false,
    }
}

/// The folder, relative to the pipeline's package, of the subpackage whose
/// file a result names. A parent pipeline sees a subpackage's objects with
/// paths relative to that subpackage (kpt's `package-path` says which): the
/// one object of the step's output with the result's file, index, kind and
/// name tells. `None` for the pipeline's own files, and where no object or two
/// alike (in two subpackages) match.
fn result_folder(at: &PackageAt, items: &[Item], result: &ResultItem) -> Option<String> {
    let (file, reference) = (result.file.as_ref()?, result.resource_ref.as_ref()?);
    let mut packages = items
        .iter()
        .filter(|item| {
            item.kind() == reference.kind
                && item.name() == reference.name
                && item
                    .file_ref()
                    .is_some_and(|f| f.path == file.path && f.index == file.index)
        })
        .filter_map(|item| item.annotation(PACKAGE_PATH));
    let package = match (packages.next(), packages.next()) {
        (Some(package), None) => package,
        _ => return None,
    };
    let folder = Path::new(package).strip_prefix(&at.package_path).ok()?;
    let folder = folder.to_string_lossy();
    (!folder.is_empty()).then(|| folder.into_owned())
}

/// What a step gets: a mutator over every item takes them (a failed render
/// writes nothing); a selective one gets copies marked for merging back, and a
/// validator copies, as kpt keeps the input whatever it returns.
fn step_input(items: &mut Vec<Item>, chosen: &[bool], selective: bool, stage: Stage) -> Vec<Item> {
    if selective || stage != Stage::Mutators {
        items
            .iter()
            .zip(chosen)
            .enumerate()
            .filter(|(_, (_, chosen))| **chosen)
            .map(|(i, (item, _))| {
                let mut item = item.clone();
                if selective {
                    item.update(|v| v.set_annotation(runtime::RESOURCE_ID, &i.to_string()));
                }
                item
            })
            .collect()
    } else {
        std::mem::take(items)
    }
}

/// The step's record for `--results-dir`, its timing, and which Lummo
/// function ran in which package (for the staleness check).
#[allow(clippy::too_many_arguments)] // one record of one step: each is a part of it
fn record_step(
    rendered: &mut Rendered,
    at: &PackageAt,
    stage: Stage,
    step: &Step,
    runner: &Runner,
    label: &str,
    list: &ResourceList,
    external_exit: Option<&runtime::Exit>,
    start: Instant,
) {
    rendered.steps.push(StepRecord {
        field: if step.exec.is_empty() {
            "image"
        } else {
            "exec"
        },
        reference: match runner {
            Runner::Container(image) => image.clone(),
            _ => step.reference().to_string(),
        },
        exit_code: external_exit.map_or(i32::from(list.failed()), |e| e.code),
        stderr: match (runner, external_exit) {
            // kpt runs a catalog function in a container, whose stderr its
            // runner reads line by line and joins with line breaks
            // (pkg/fn/runtime/container.go, `filterDockerCLIOutput`, which
            // also drops the container runtime's pull lines): no line break
            // at the end. An `exec:` function's stderr is kept as printed.
            (Runner::Container(_) | Runner::Catalog(_), Some(exit)) => {
                exit.stderr.lines().collect::<Vec<_>>().join("\n")
            }
            (_, exit) => exit.map(|e| e.stderr.clone()).unwrap_or_default(),
        },
        results: list.results.clone(),
        name: step.name.clone(),
        kptfile_reference: status_reference(step),
        stage,
        package: at.relative.to_string(),
        execution_error: None,
        ran: true,
    });
    rendered.timings.push((
        at.package.clone(),
        label.to_string(),
        start.elapsed().as_secs_f64() * 1000.0,
    ));
    if let Runner::Native(function) = runner {
        rendered
            .ran
            .entry(at.relative.to_string())
            .or_default()
            .insert(function.name);
    }
}

/// The text of the document each item was read from ([`runtime::Lend`]): its
/// file by the package it belongs to and its path there, as [`rebase`] puts it.
fn lender<'a>(rendered: &'a Rendered, at: &'a PackageAt) -> impl Fn(&Item) -> Option<&'a str> + 'a {
    let root = Path::new(&at.root_path);
    move |item| {
        let file = item.file_ref()?;
        let folder = package_folder(root, item.annotation(PACKAGE_PATH)?)?;
        let source = rendered
            .sources
            .get(&join(&folder, &kptfile::clean(&file.path)))?;
        Some(source.pieces.as_ref()?.get(file.index as usize)?.as_str())
    }
}

/// What kpt's runner does to a mutator's output before the next step: the
/// passage recorded, the package path of what the function added, path
/// invariants, `AreKRM`, then annotations changed in one spelling reconciled.
fn mutator_output(
    rendered: &mut Rendered,
    at: &PackageAt,
    runner: &Runner,
    external_exit: Option<&runtime::Exit>,
    items: Vec<Item>,
) -> Result<Vec<Item>> {
    if let Runner::Native(function) = runner {
        rendered.hand_edits.emitted(function.name, &items);
    }
    // What kpt's printing of the objects will show of this step.
    let given = match runner {
        Runner::Catalog(f) if f.restyles => GivenBack::Restyled,
        // run over the ResourceList's text, as an exec step
        Runner::Catalog(f) if f.over_text() => GivenBack::Printed,
        Runner::Catalog(_) | Runner::Native(_) => GivenBack::Held,
        Runner::Exec(_) | Runner::Container(_) => GivenBack::Printed,
    };
    let output: Vec<Item> = items
        .into_iter()
        .map(|mut item| {
            item.record_step(given);
            if given == GivenBack::Held {
                runtime::quote_folded_as_copied_back(&mut item);
            }
            // kpt's runner: what a function adds belongs to the package
            // whose pipeline ran it (`setPkgPathAnnotationIfNotExist`).
            if item.annotation(PACKAGE_PATH).is_none() {
                item.update(|v| v.set_annotation(PACKAGE_PATH, &at.package_path));
                item.set_by_runner(RunnerAnnotations {
                    package_path: true,
                    ..item.passage().set_by_runner
                });
            }
            item
        })
        .collect();
    // kpt's runner checks the output as the function left it (`do`:
    // enforcePathInvariants, then AreKRM); kio.Pipeline reconciles the path
    // annotations after. A kustomization whose legacy path alone moved is still
    // one by its internal path here.
    enforce_path_invariants(&output)?;
    are_krm(&output)?;
    match external_exit {
        Some(exit) => runtime::reconcile_annotations(output, &exit.originals),
        None => Ok(output),
    }
}

/// kpt `IsKRM`: apiVersion, kind and metadata.name, except kustomization files.
pub(crate) fn is_krm(item: &Value) -> std::result::Result<(), &'static str> {
    let (file, _) = file_annotations(item);
    let base = file.rsplit('/').next().unwrap_or("");
    let kustomization = matches!(
        base,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    ) || item.api_version().starts_with("kustomize.config.k8s.io")
        || (item.api_version().is_empty() && item.kind() == "Kustomization");
    if kustomization {
        return Ok(());
    }
    if item.api_version().is_empty() {
        return Err("resource must have `apiVersion`");
    }
    if item.kind().is_empty() {
        return Err("resource must have `kind`");
    }
    if item.name().is_empty() {
        return Err("resource must have `metadata.name`");
    }
    Ok(())
}

/// The fix for an input [`is_krm`] refuses, in the words `lummo validate` uses for
/// a Lummo spec.
fn krm_fix(item: &Value, reason: &str) -> String {
    let lummo = lummo_core::looks_like_lummo(item) || item.kind().starts_with("Lummo");
    let not_krm = "; or, if the file is no Kubernetes resource, name it in `.krmignore`";
    if reason.contains("apiVersion") {
        if lummo {
            format!("; it needs `apiVersion: {}`", lummo_core::API_VERSION)
        } else {
            format!("; add its `apiVersion` (e.g. `v1`){not_krm}")
        }
    } else if reason.contains("kind") {
        format!("; add its `kind`{not_krm}")
    } else if lummo {
        format!(
            "; {} needs `metadata.name` (a lower-case DNS name, e.g. `foobar-api`)",
            item.kind()
        )
    } else {
        format!("; add `metadata.name`{not_krm}")
    }
}

/// kpt's `enforcePathInvariants` after every function: no path outside the
/// package, no two resources at the same path and index.
pub(crate) fn enforce_path_invariants(items: &[Item]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for item in items {
        let (path, index) = file_annotations(item);
        let path = kptfile::clean(path);
        if path == ".." || path.starts_with("../") {
            bail!(
                "function must not modify resources outside of package: resource has path {}",
                file_annotations(item).0
            );
        }
        let key = (
            item.annotation(PACKAGE_PATH).unwrap_or(""),
            path.clone(),
            index,
        );
        if !seen.insert(key) {
            bail!("resource at path {path:?} and index {index:?} already exists");
        }
    }
    Ok(())
}

/// kyaml's writer sorts the objects of each file by index (`kioutil.SortNodes`)
/// and fails on an index that is no number when it has to compare it with
/// another object's. Called where files are written (in place, `-o DIR`,
/// `--check`): kpt's `-o stdout`/`-o unwrap` print any index.
pub(crate) fn check_indexes(items: &[Item]) -> Result<()> {
    let mut files: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for item in items {
        let (path, index) = file_annotations(item);
        let package = item.annotation(PACKAGE_PATH).unwrap_or("");
        files.entry((package, path)).or_default().push(index);
    }
    for indexes in files.values().filter(|i| i.len() > 1) {
        let differ = indexes.iter().any(|i| i != &indexes[0]);
        if let Some(bad) = indexes
            .iter()
            .find(|i| !i.is_empty() && i.parse::<i64>().is_err())
            .filter(|_| differ)
        {
            bail!(
                "failed to save resources: unable to parse config.kubernetes.io/index {bad} :strconv.Atoi: parsing {bad:?}: invalid syntax"
            );
        }
    }
    Ok(())
}

/// kyaml's `kioutil.GetFileAnnotations`: an object's path and index as written
/// (the new spelling first), empty when absent.
pub(crate) fn file_annotations(item: &Value) -> (&str, &str) {
    let get = |new: &str, legacy: &str| {
        item.annotation(new)
            .or_else(|| item.annotation(legacy))
            .unwrap_or("")
    };
    (
        get(annotations::PATH, annotations::LEGACY_PATH),
        get(annotations::INDEX, annotations::LEGACY_INDEX),
    )
}

/// kpt's check after every function (`AreKRM` of its output).
pub(crate) fn are_krm(items: &[Item]) -> Result<()> {
    match first_not_krm(items) {
        Some((path, reason)) => {
            bail!("output resource list must contain only KRM resources: {path}: {reason}")
        }
        None => Ok(()),
    }
}

/// The path and the reason of the first object kpt's `AreKRM` refuses.
fn first_not_krm(items: &[Item]) -> Option<(&str, &'static str)> {
    items.iter().find_map(|item| {
        let reason = is_krm(item).err()?;
        Some((file_annotations(item).0, reason))
    })
}

/// The legacy and new spellings of the annotations kpt's runner makes agree.
const SPELLINGS: [(&str, &str); 3] = [
    (annotations::LEGACY_PATH, annotations::PATH),
    (annotations::LEGACY_INDEX, annotations::INDEX),
    (annotations::ID, "internal.config.kubernetes.io/id"),
];

fn has_no_path(item: &Value) -> bool {
    item.annotation(annotations::PATH).unwrap_or("").is_empty()
        && item
            .annotation(annotations::LEGACY_PATH)
            .unwrap_or("")
            .is_empty()
}

/// Whether [`default_paths`] changes the object: it has no path, or an
/// annotation in one spelling only.
fn needs_default_paths(item: &Value) -> bool {
    let set = |key: &str| item.annotation(key).is_some_and(|x| !x.is_empty());
    has_no_path(item) || SPELLINGS.iter().any(|(a, b)| set(a) != set(b))
}

/// What kyaml's `FunctionFilter` does to a function's output before kpt sees it
/// (`kioutil.DefaultPathAnnotation` with no function scope): each object's legacy
/// and new path, index and id annotations made to agree (`CopyLegacyAnnotations`),
/// and an object without a path gets `<namespace>/<kind>_<name>.yaml` (no index:
/// the writer gives it one, see [`group_files`]).
pub(crate) fn default_paths(items: &mut [Item]) {
    for item in items.iter_mut() {
        if !needs_default_paths(item) {
            continue;
        }
        let no_path = has_no_path(item);
        item.update(|v| {
            for (legacy, new) in SPELLINGS {
                let new_value = v.annotation(new).unwrap_or("").to_string();
                let legacy_value = v.annotation(legacy).unwrap_or("").to_string();
                if !new_value.is_empty() && legacy_value.is_empty() {
                    v.set_annotation(legacy, &new_value);
                } else if new_value.is_empty() && !legacy_value.is_empty() {
                    v.set_annotation(new, &legacy_value);
                }
            }
            if no_path {
                let file = format!("{}_{}.yaml", v.kind().to_lowercase(), v.name());
                let path = match v.namespace() {
                    "" => file,
                    namespace => format!("{namespace}/{file}"),
                };
                v.set_annotation(annotations::PATH, &path);
                v.set_annotation(annotations::LEGACY_PATH, &path);
            }
        });
        if no_path {
            item.set_by_runner(RunnerAnnotations {
                path: true,
                ..item.passage().set_by_runner
            });
        }
    }
}

/// kpt v1.0.0-beta.67's check of a package's Kptfile when it reads the
/// package, before any pipeline runs (`newPkgNode` calls `KptFile.Validate`,
/// whose `GetValidatedFnConfigFromPath` in api/kptfile/v1/validation.go opens
/// each `configPath`): the file opens, reads as YAML, holds one document, and
/// that document is KRM. `package` is the package's folder.
pub(crate) fn check_config_files(package: &Path, kptfile: &Kptfile) -> Result<()> {
    for step in kptfile.steps().filter(|s| !s.config_path.is_empty()) {
        let path = package.join(&step.config_path);
        let name = &step.config_path;
        let reason = match std::fs::read_to_string(&path) {
            Err(error) => {
                // Go's `*PathError` words.
                let why = match error.kind() {
                    std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                    std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                    _ => error.to_string(),
                };
                format!(
                    "failed to open functionConfig from path {name:?}: open {}: {why}",
                    path.display()
                )
            }
            Ok(text) => {
                match krm_sdk::yaml::parse_documents(&text, &krm_sdk::yaml::Limits::default()) {
                    Err(e) => format!(
                        "failed to read functionConfig {name:?}: yaml: line {}: {}",
                        e.line, e.message
                    ),
                    Ok(documents) if documents.len() > 1 => format!(
                        "functionConfig {name:?} must not contain more than one config, got {}",
                        documents.len()
                    ),
                    Ok(documents) => {
                        let document = documents.into_iter().next().unwrap_or(Value::Null);
                        match is_krm(&document) {
                            Ok(()) => continue,
                            Err(why) => format!("functionConfig {name:?}: {why}"),
                        }
                    }
                }
            }
        };
        return Err(kptfile::invalid(
            &format!("{}.configPath", step.field),
            &step.config_path,
            &reason,
        ));
    }
    Ok(())
}

/// kpt's `ValidatePipeline`: a `configPath` names one KRM document among the
/// package's own resources (not a subpackage's, not a missing file).
pub(crate) fn check_config_paths(kptfile: &Kptfile, local: &[Item]) -> Result<()> {
    for step in kptfile.steps().filter(|s| !s.config_path.is_empty()) {
        let wanted = kptfile::clean(&step.config_path);
        let documents: Vec<&Item> = local
            .iter()
            .filter(|i| {
                i.file_ref()
                    .is_some_and(|f| kptfile::clean(&f.path) == wanted)
            })
            .collect();
        let field = format!("{}.configPath", step.field);
        match documents.as_slice() {
            // kpt v1.0.0-beta.67's words (`makeStepValidationErr` in
            // pkg/lib/pkg/pkg.go); beta.56 said "functionConfig must exist in
            // the current package" (ARCHITECTURE.md, differences from kpt).
            [] => {
                let stage = if step.field.starts_with("pipeline.validators") {
                    "validator"
                } else {
                    "mutator"
                };
                let function = if step.name.is_empty() {
                    image_name(&step.image)
                } else {
                    &step.name
                };
                return Err(kptfile::invalid(
                    &field,
                    &step.config_path,
                    &format!(
                        "functionConfig resource for {stage} {function:?} is missing from path {:?}, \
                         this also occurs if {:?} is part of a subpackage",
                        step.config_path, step.config_path
                    ),
                ));
            }
            [one] => {
                if let Err(reason) = is_krm(one) {
                    bail!("functionConfig {:?}: {reason}", step.config_path);
                }
            }
            more => bail!(
                "functionConfig {:?} must not contain more than one config, got {}",
                step.config_path,
                more.len()
            ),
        }
    }
    Ok(())
}

/// The step's functionConfig: the `configPath` document as the earlier steps left
/// it, else (an earlier step removed it) as read from its file; or `configMap`
/// as a ConfigMap. kpt reads the file when it builds the pipeline's runners
/// (`newFnConfig`), then takes the object from the step's input when it is there
/// (`refreshFnConfig` in pkg/lib/kptops/render_executor.go; fuzz case
/// inproc-configpath-removed-by-earlier-step: remove-local-config-resources
/// before a Starlark step).
pub(crate) fn step_config(
    rendered: &Rendered,
    at: &PackageAt,
    step: &Step,
    items: &[Item],
) -> Result<Option<Value>> {
    if !step.config_path.is_empty() {
        let wanted = kptfile::clean(&step.config_path);
        let found = items.iter().find(|i| {
            i.file_ref()
                .is_some_and(|f| kptfile::clean(&f.path) == wanted)
                && i.annotation(PACKAGE_PATH) == Some(at.package_path.as_str())
        });
        if let Some(config) = found {
            return Ok(Some(strip_kpt_annotations(config)));
        }
        // `check_config_paths` made sure the file holds one object of the package's own.
        let path = join(at.relative, &wanted);
        let read = rendered
            .sources
            .get(&path)
            .and_then(|source| source.documents.first())
            .ok_or_else(|| anyhow!("{path}: the functionConfig of {} was not read", step.field))?;
        return Ok(Some(read.clone()));
    }
    Ok(step.config_map.as_ref().map(|data| {
        krm_sdk::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": { "name": "function-input" },
            "data": data,
        })
    }))
}

/// A pipeline error a caller tells apart from the others (which are `anyhow`
/// errors with their file and step as context).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineError {
    /// An `exec:` step in a render without `--allow-exec`: kpt's words, bare.
    NeedsAllowExec,
}

impl std::fmt::Display for PipelineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PipelineError::NeedsAllowExec => f.write_str(
                "must run with `--allow-exec` option to allow running function binaries",
            ),
        }
    }
}

impl std::error::Error for PipelineError {}

/// How a step runs: a Lummo function named by image or by exec path runs
/// in-process; another `exec:` runs as a program (with `--allow-exec`, as kpt
/// requires), another image in Docker.
pub(crate) fn step_runner(step: &Step, settings: &Settings) -> Result<Runner> {
    if !step.exec.is_empty() {
        if !settings.allow_exec {
            return Err(PipelineError::NeedsAllowExec.into());
        }
        let words = runtime::split_words(&step.exec)?;
        if let [only] = words.as_slice() {
            if let Some(function) = function(image_name(only)) {
                return Ok(Runner::Native(function));
            }
        }
        if words.is_empty() {
            bail!("`exec:` is empty");
        }
        return Ok(Runner::Exec(words));
    }
    if let Some(function) = function(image_name(&step.image)) {
        return Ok(Runner::Native(function));
    }
    if let Some(function) = kpt_catalog::lookup(&step.image) {
        return Ok(Runner::Catalog(function));
    }
    // kpt expands a short name to the catalog's registry.
    let image = if step.image.contains('/') {
        step.image.clone()
    } else {
        format!("gcr.io/kpt-fn/{}", step.image)
    };
    // Any other image (kubeconform, a team's own) runs in Docker when
    // Docker has it or can pull it; otherwise say so before `docker run` prints
    // a registry error that names neither the step nor what else would do.
    let pull = settings.pull.as_deref().unwrap_or("missing");
    if let Err(reason) = runtime::docker_provides(&image, pull) {
        bail!("{}", not_in_process(&step.image, reason));
    }
    Ok(Runner::Container(image))
}

/// The sentence for an image lummo does not run in process and Docker cannot
/// provide: the image, that lummo has no in-process version of it, why Docker
/// cannot help, and the ways out. Callers prefix the Kptfile and the step.
fn not_in_process(image: &str, reason: &str) -> String {
    let (what, pin) = match kpt_catalog::unsupported(image) {
        // Scripts (real_packages.py) read the function's name from these words.
        Some(catalog) => (
            catalog,
            format!(
                "pin a catalog function lummo runs in process ({}), ",
                kpt_catalog::NAMES.join(", ")
            ),
        ),
        None => (
            "lummo has no in-process version of it".to_string(),
            String::new(),
        ),
    };
    format!(
        "image `{image}` cannot run: {what}, and Docker cannot provide the image ({reason}); \
         {pin}make the step an `exec:` step running the function's program (with --allow-exec), \
         or render with `kpt fn render`"
    )
}

/// The program an `exec:` or container step runs.
pub(crate) fn external_command(
    runner: &Runner,
    settings: &Settings,
) -> Result<std::process::Command> {
    match runner {
        Runner::Exec(words) => {
            // As kpt: the program runs in the caller's working directory.
            let mut command = std::process::Command::new(&words[0]);
            command.args(&words[1..]);
            Ok(command)
        }
        Runner::Container(image) => runtime::docker_command(
            image,
            settings.pull.as_deref().unwrap_or("missing"),
            settings.allow_network,
        ),
        Runner::Native(_) | Runner::Catalog(_) => bail!("an in-process step has no program"),
    }
}

/// A step's outcome as the newest kpt prints it (`FunctionRunner.Filter` in
/// `pkg/fn/runtime/runner.go`, kpt v1.0.0-beta.67 and later): `[PASS]`/`[FAIL]`,
/// then the function's results under `[Results]:` (`printFnResult`, one
/// `ResultItem.String` a line), then its whole stderr under `Stderr:`
/// (`printFnStderr`: every line trimmed, none quoted or cut), and after a
/// failure its exit code (`printFnExecErr`). kpt v1.0.0-beta.56 printed the
/// results under `Results:` and the stderr quoted and cut to four lines
/// (ARCHITECTURE.md, deliberate differences).
pub(crate) fn outcome(
    label: &str,
    seconds: f64,
    results: &[ResultItem],
    stderr: &str,
    exit_code: Option<i32>,
) -> String {
    let failed = exit_code.is_some();
    let mut text = format!(
        "[{}] \"{label}\" in {}s\n",
        if failed { "FAIL" } else { "PASS" },
        seconds.round()
    );
    // runneroptions.SingleLineFormatter: each line on one line, trimmed.
    let mut block = |title: &str, lines: &mut dyn Iterator<Item = String>| {
        text.push_str(&format!("  {title}:\n"));
        for line in lines {
            text.push_str(&format!("    {}\n", line.replace('\n', " ").trim()));
        }
    };
    if !results.is_empty() {
        block("[Results]", &mut results.iter().map(result_line));
    }
    if !stderr.is_empty() {
        // Split on "\n": a final newline gives one more (empty) line.
        block("Stderr", &mut stderr.split('\n').map(str::to_string));
    }
    if let Some(code) = exit_code {
        text.push_str(&format!("  Exit code: {code}\n"));
    }
    text
}

/// A result as kpt prints it (`ResultItem.String` in `api/fnresult/v1`):
/// `[severity] apiVersion/kind/namespace/name field.path: message`, the parts
/// it lacks left out, no severity printed as info.
fn result_line(result: &ResultItem) -> String {
    let severity = match result.severity {
        krm_sdk::Severity::Error => "error",
        krm_sdk::Severity::Warning => "warning",
        krm_sdk::Severity::Info | krm_sdk::Severity::Unset => "info",
    };
    let mut line = format!("[{severity}]");
    if let Some(reference) = &result.resource_ref {
        let parts: Vec<&str> = [
            reference.api_version.as_str(),
            reference.kind.as_str(),
            reference.namespace.as_str(),
            reference.name.as_str(),
        ]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect();
        if !parts.is_empty() {
            line.push(' ');
            line.push_str(&parts.join("/"));
        }
    }
    if let Some(field) = &result.field {
        line.push(' ');
        line.push_str(&field.path);
    }
    line.push_str(": ");
    line.push_str(&result.message);
    line
}

/// `ghcr.io/lummo/krm-functions/lummo-workload:v0.1.0` → `lummo-workload`.
pub(crate) fn image_name(reference: &str) -> &str {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    last.split([':', '@']).next().unwrap_or(last)
}

/// A step pinned to another version than the one built in runs the built-in one:
/// say so, naming both.
pub(crate) fn version_warning(step: &Step, name: &str) -> Option<ResultItem> {
    let tag = step.image.rsplit('/').next()?.split_once(':')?.1;
    (tag != BUILT_IN_VERSION).then(|| {
        ResultItem::warning(format!(
            "{}: `{}` asks for {name} {tag}, but lummo render runs its built-in {name} {BUILT_IN_VERSION}; \
             pin {BUILT_IN_VERSION} in the Kptfile, or render with kpt fn render to run {tag}",
            step.field, step.image
        ))
    })
}

/// Safety after a render: a Lummo spec no pipeline step reads, and files generated
/// by a function that is no longer in the pipeline, would silently stay as they are
/// (still deployed); both are errors.
pub(crate) fn check_staleness(rendered: &mut Rendered, items: &[Item]) {
    let ran_for = |rendered: &Rendered, path: &str, function: &str| {
        let mut folder = path
            .rsplit_once('/')
            .map(|(d, _)| d)
            .unwrap_or("")
            .to_string();
        loop {
            if rendered
                .ran
                .get(&folder)
                .is_some_and(|f| f.contains(function))
            {
                return true;
            }
            if folder.is_empty() {
                return false;
            }
            folder = folder
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default();
        }
    };
    let mut stale: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for item in items {
        let path = item.file_ref().map(|f| f.path).unwrap_or_default();
        if is_lummo(item) {
            if let Some(function) = function_of_kind(item.kind()) {
                if !ran_for(rendered, &path, function) {
                    problems.push(
                        ResultItem::error(format!(
                            "no pipeline step runs {function}, so this {} generates nothing; \
                             add `- image: ghcr.io/lummo/krm-functions/{function}:{BUILT_IN_VERSION}` \
                             to the mutators of the Kptfile of its package",
                            item.kind()
                        ))
                        .for_object(item),
                    );
                }
            }
        }
        if let Some(owner) = item.annotation(lummo_core::GENERATED_BY) {
            let function = owner.split(':').next().unwrap_or("");
            if let Some(&(known, _)) = lummo_validate::FUNCTIONS
                .iter()
                .find(|(n, _)| *n == function)
            {
                // A user's copy of generated output is theirs, not stale output.
                if lummo_core::generator(known).owns(item) && !ran_for(rendered, &path, known) {
                    stale.entry(known).or_default().insert(path);
                }
            }
        }
    }
    for (function, files) in stale {
        let files: Vec<String> = files.into_iter().collect();
        problems.push(ResultItem::error(format!(
            "{} generated by {function}, which no pipeline runs any more, would stay as they are \
             (and stay deployed): add {function} back to the Kptfile's pipeline, or delete {}",
            files.join(", "),
            if files.len() == 1 {
                "that file"
            } else {
                "those files"
            },
        )));
    }
    for problem in problems {
        rendered.finding("", "lummo render", problem);
    }
}

/// The folder of a package (kpt's absolute `package-path`) relative to the
/// rendered root; `None` outside it.
fn package_folder(root: &Path, package: &str) -> Option<String> {
    let folder = Path::new(package).strip_prefix(root).ok()?;
    Some(folder.to_string_lossy().into_owned())
}

/// kpt's `adjustRelPath` (internal/util/render/executor.go): every path becomes
/// relative to the root package, in both spellings; the index annotations stay
/// as they are, each spelling apart: an object a function added without an
/// index prints without one (the file writer numbers it), an index kpt cannot
/// parse is printed as the function wrote it (only kpt's file writer reads it,
/// `check_indexes`), and one kyaml's `checkAnnotationsAltered` emptied in the
/// legacy spelling alone stays there alone (fuzz seed 98 case 46).
pub(crate) fn rebase(root: &Path, items: Vec<Item>) -> Result<Vec<Item>> {
    items
        .into_iter()
        .map(|mut item| {
            let package = item.annotation(PACKAGE_PATH).unwrap_or("");
            let mut path = None;
            if let Some(file) = item.file_ref() {
                let prefix = package_folder(root, package).ok_or_else(|| {
                    anyhow!(
                        "{} {} belongs to {package}, outside the package {}",
                        item.kind(),
                        item.name(),
                        root.display()
                    )
                })?;
                path = Some(join(&prefix, &kptfile::clean(&file.path)));
            }
            item.update(|v| {
                if let Some(path) = &path {
                    v.set_annotation(annotations::PATH, path);
                    v.set_annotation(annotations::LEGACY_PATH, path);
                }
                v.remove_annotation(PACKAGE_PATH);
                drop_empty_annotations(v);
            });
            Ok(item)
        })
        .collect()
}

/// Removes `metadata.annotations` when kpt's annotations were all it held, and
/// `metadata` when nothing is left (a non-KRM document such as a kustomization
/// never had one: it must come back as the user wrote it).
pub(crate) fn drop_empty_annotations(item: &mut Value) {
    let Some(object) = item.as_object_mut() else {
        return;
    };
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if metadata
        .get("annotations")
        .and_then(Value::as_object)
        .is_some_and(|m| m.is_empty())
    {
        metadata.shift_remove("annotations");
    }
    if metadata.is_empty() {
        object.shift_remove("metadata");
    }
}

/// An item without the annotations kpt adds while it renders.
pub(crate) fn strip_kpt_annotations(item: &Value) -> Value {
    let mut item = item.clone();
    remove_kpt_annotations(&mut item);
    item
}

/// kpt's own annotations taken off, and the annotations map if that empties it.
pub(crate) fn remove_kpt_annotations(item: &mut Value) {
    if let Some(map) = item
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        map.retain(|key, _| !krm_sdk::object::is_kpt_annotation(key));
    }
    drop_empty_annotations(item);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kpt's e2e data after v1.0.0-beta.67 (`fn-render/no-fnconfig`,
    /// `exec-function-stderr`): results under `[Results]:`, the whole stderr
    /// unquoted, the exit code after a failure.
    #[test]
    fn outcomes_are_printed_as_the_newest_kpt_prints_them() {
        let results = [
            ResultItem::info("`FunctionConfig` is not given"),
            ResultItem::unset("Mutated field value to \"4\"").field("spec.replicas"),
            ResultItem::error("bad\nvalue").for_object(&krm_sdk::json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}
            })),
        ];
        let stderr = (0..6)
            .map(|i| format!("Hello world {i}!\n"))
            .collect::<String>();
        assert_eq!(
            outcome("fn", 0.2, &results, &stderr, Some(1)),
            "[FAIL] \"fn\" in 0s\n  [Results]:\n    [info]: `FunctionConfig` is not given\n    \
             [info] spec.replicas: Mutated field value to \"4\"\n    \
             [error] apps/v1/Deployment/web: bad value\n  Stderr:\n    Hello world 0!\n    \
             Hello world 1!\n    Hello world 2!\n    Hello world 3!\n    Hello world 4!\n    \
             Hello world 5!\n    \n  Exit code: 1\n"
        );
        assert_eq!(outcome("fn", 0.0, &[], "", None), "[PASS] \"fn\" in 0s\n");
    }

    /// kpt's `adjustRelPath` sets the two path annotations and nothing else:
    /// a subpackage's function that deleted both spellings of path and index
    /// leaves the legacy index empty alone (kyaml's `checkAnnotationsAltered`),
    /// and `-o stdout` prints no internal index (fuzz seed 98 case 46).
    #[test]
    fn rebasing_a_subpackage_object_sets_its_paths_only() {
        let root = std::env::temp_dir();
        let package = root.join("sub1").join("sub2");
        let items = ResourceList::new(vec![
            krm_sdk::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "x", "annotations": {
                "internal.config.kubernetes.io/path": "configmap_x.yaml",
                "config.kubernetes.io/path": "configmap_x.yaml",
                "config.kubernetes.io/index": "",
                PACKAGE_PATH: package.to_string_lossy(),
            }}}),
            krm_sdk::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "y", "annotations": {
                "internal.config.kubernetes.io/path": "y.yaml",
                "internal.config.kubernetes.io/index": "01",
                PACKAGE_PATH: package.to_string_lossy(),
            }}}),
        ])
        .items;
        let rebased = rebase(&root, items).unwrap();
        assert_eq!(
            rebased[0].value()["metadata"]["annotations"],
            krm_sdk::json!({
                "internal.config.kubernetes.io/path": "sub1/sub2/configmap_x.yaml",
                "config.kubernetes.io/path": "sub1/sub2/configmap_x.yaml",
                "config.kubernetes.io/index": "",
            })
        );
        assert_eq!(
            rebased[1].value()["metadata"]["annotations"],
            krm_sdk::json!({
                "internal.config.kubernetes.io/path": "sub1/sub2/y.yaml",
                "internal.config.kubernetes.io/index": "01",
                "config.kubernetes.io/path": "sub1/sub2/y.yaml",
            })
        );
    }

    #[test]
    fn image_names() {
        assert_eq!(
            image_name("ghcr.io/lummo/krm-functions/lummo-workload:v0.1.0"),
            "lummo-workload"
        );
        assert_eq!(image_name("lummo-pubsub@sha256:abc"), "lummo-pubsub");
    }
}
