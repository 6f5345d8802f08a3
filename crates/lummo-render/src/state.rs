//! What a render carries from step to step and package to package
//! ([`Rendered`]), the settings it runs with and what it reports.

use crate::commit::*;
use crate::kptfile;
use crate::load::*;
use crate::status::SaidBy;
use krm_sdk::{Item, ResultItem};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// kpt's permissions and runtime options for steps that are not run in-process.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub allow_exec: bool,
    pub allow_network: bool,
    /// Docker's `--pull`: `always`, `missing` or `never` (kpt's Always,
    /// IfNotPresent, Never); default `missing`.
    pub pull: Option<String>,
    /// How many subpackages no pipeline above them touches render at once
    /// (`LUMMO_THREADS`); default [`krm_sdk::parallel::threads`].
    pub threads: Option<usize>,
    /// Whether the render keeps where generated fields come from
    /// ([`Rendered::provenance`]).
    pub provenance: crate::provenance::Provenance,
}

/// A result and the package it came from.
pub struct Finding {
    pub package: String,
    pub function: String,
    pub result: ResultItem,
}

/// A package as read from disk, then rendered.
pub struct Rendered {
    pub(crate) root: PathBuf,
    /// Files read as resources, by path relative to the root.
    pub(crate) sources: BTreeMap<String, Source>,
    /// The rendered resources; each keeps the text of its document (comments,
    /// styles) through the functions that leave it or edit it in place.
    pub items: Vec<Item>,
    pub findings: Vec<Finding>,
    /// Error results of external functions that exited 0: kpt goes on (it judges a
    /// function by its exit code), and so does the render.
    pub(crate) tolerated_errors: usize,
    /// What stopped the render, in kpt's words, for the render status (the
    /// first error; a failing step's results are in `findings`).
    pub(crate) failure: Option<crate::status::Failure>,
    /// (package, function, milliseconds) per step.
    pub timings: Vec<(String, String, f64)>,
    /// Every step that ran, in order, as kpt's `--results-dir` records it.
    pub steps: Vec<StepRecord>,
    /// Which functions ran in which package (root-relative folder, "" for the root).
    pub(crate) ran: BTreeMap<String, BTreeSet<&'static str>>,
    pub packages: usize,
    /// How many resources the render finished with (an in-place render stages
    /// them and keeps no `items`, so this is the count to report).
    pub resources: usize,
    pub(crate) settings: Settings,
    /// In-place renders stage each finished subtree on disk (see [`Staging`]).
    pub(crate) staging: Option<Staging>,
    /// Source files read since the last staged subtree.
    pub(crate) unstaged_sources: Vec<String>,
    /// Temporary files a killed render left (root-relative): an in-place render
    /// removes them, `--check` lists them.
    pub(crate) leftovers: Vec<String>,
    /// Where each document of each file read starts (1-based lines), for messages.
    pub(crate) starts: BTreeMap<String, Vec<usize>>,
    /// The text of each staged file that a result names, to place the result
    /// on its field (the sources themselves are dropped once staged).
    pub(crate) named_texts: BTreeMap<String, String>,
    /// Generated objects as read and as emitted, to warn of hand edits.
    pub(crate) hand_edits: crate::hand_edits::HandEdits,
    /// Where the fields of each finished generated object come from, by
    /// root-relative (file, index); kept only with `Provenance::Record`.
    pub provenance: BTreeMap<(String, u32), crate::provenance::ObjectProvenance>,
    /// The generated objects of the subtree being rendered, followed.
    pub(crate) tracker: crate::provenance::Tracker,
    /// Threads no subtree renders on yet, shared by every subtree's state: a
    /// level of independent subtrees takes what is left, so nested levels never
    /// run more than the render's threads at once.
    pub(crate) spare_threads: Arc<AtomicUsize>,
    /// The steps' progress lines (`[RUNNING]`, `[PASS]`...) of a subtree rendered
    /// beside others, printed when it is merged so that they come in the order of
    /// a render one package after the other; `None`: printed as they come.
    pub(crate) progress: Option<String>,
    /// The root Kptfile's `kpt.dev/save-on-render-failure: "true"`: a failed
    /// render writes what kpt v1.0.0-beta.67 writes then ([`Rendered::saves_failure`]).
    pub(crate) save_on_failure: bool,
    /// The root Kptfile's `kpt.dev/bfs-rendering: "true"`: packages render top
    /// down, in breadth-first order (`pipeline::render_bfs`).
    pub(crate) bfs: bool,
}

/// One step as kpt's results file records it (`fnresult.Result`), and as the
/// newest kpt's render status records it (`PipelineStepResult`, [`crate::status`]).
pub struct StepRecord {
    /// `image` or `exec`, as the step names its function.
    pub field: &'static str,
    pub reference: String,
    pub exit_code: i32,
    /// What an external function printed on stderr.
    pub stderr: String,
    /// Its results as the function gave them.
    pub results: Vec<ResultItem>,
    /// The step's `name:` in the Kptfile ("" when it has none).
    pub name: String,
    /// The image (a `tag:` range resolved, kpt's default registry path added to
    /// a bare name) or exec as the newest kpt's render status records the step;
    /// `reference` is what ran.
    pub kptfile_reference: String,
    pub stage: crate::pipeline::Stage,
    /// Root-relative folder of the package whose pipeline ran the step.
    pub package: String,
    /// Why the step could not start, or why kpt's runner refused its output
    /// (kpt's `executionError`: the status then shows exit code 1 and no results).
    pub execution_error: Option<String>,
    /// Whether the function ran: a step that could not start is in the render
    /// status only, not in the results file (kpt records only what ran).
    pub ran: bool,
}

/// Where a subtree's progress lines go: kept until it is merged (it renders
/// beside others), or as its parent's go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    Buffered,
    AsParent,
}

impl Rendered {
    pub(crate) fn new(root: PathBuf) -> Self {
        Rendered {
            root,
            sources: BTreeMap::new(),
            items: Vec::new(),
            findings: Vec::new(),
            tolerated_errors: 0,
            failure: None,
            timings: Vec::new(),
            steps: Vec::new(),
            ran: BTreeMap::new(),
            packages: 0,
            resources: 0,
            settings: Settings::default(),
            staging: None,
            unstaged_sources: Vec::new(),
            leftovers: Vec::new(),
            starts: BTreeMap::new(),
            named_texts: BTreeMap::new(),
            hand_edits: Default::default(),
            provenance: BTreeMap::new(),
            tracker: Default::default(),
            spare_threads: Arc::default(),
            progress: None,
            save_on_failure: false,
            bfs: false,
        }
    }

    /// The empty state of a subtree rendered on its own, to be [`merged`](Self::merge)
    /// back: same package, settings, thread budget and file writer; its progress
    /// lines buffered when it renders beside others or when this state's are.
    pub(crate) fn subtree(&self, progress: Progress) -> Rendered {
        let mut child = Rendered::new(self.root.clone());
        child.settings = self.settings.clone();
        child.save_on_failure = self.save_on_failure;
        child.bfs = self.bfs;
        child.spare_threads = self.spare_threads.clone();
        child.staging = self.staging.as_ref().map(|staging| Staging {
            writer: staging.writer.as_ref().map(Writer::share),
            ..Staging::default()
        });
        child.progress =
            (progress == Progress::Buffered || self.progress.is_some()).then(String::new);
        child
    }

    /// Takes in a subtree's state, which comes after everything this one holds.
    pub(crate) fn merge(&mut self, child: Rendered) {
        let Rendered {
            root: _,
            sources,
            items,
            findings,
            tolerated_errors,
            failure,
            timings,
            steps,
            ran,
            packages,
            resources,
            settings: _,
            staging,
            unstaged_sources,
            leftovers,
            starts,
            named_texts,
            // Emptied when the subtree was checked; a subtree that failed before
            // its check stops the render.
            hand_edits: _,
            provenance,
            // Emptied when the subtree finished, as `hand_edits`.
            tracker: _,
            spare_threads: _,
            progress,
            save_on_failure: _,
            bfs: _,
        } = child;
        if let Some(text) = progress {
            self.say(&text);
        }
        self.sources.extend(sources);
        self.items.extend(items);
        self.findings.extend(findings);
        self.tolerated_errors += tolerated_errors;
        if self.failure.is_none() {
            self.failure = failure;
        }
        self.timings.extend(timings);
        self.steps.extend(steps);
        self.ran.extend(ran);
        self.packages += packages;
        self.resources += resources;
        self.unstaged_sources.extend(unstaged_sources);
        self.leftovers.extend(leftovers);
        self.starts.extend(starts);
        self.named_texts.extend(named_texts);
        self.provenance.extend(provenance);
        if let (Some(mine), Some(theirs)) = (self.staging.as_mut(), staging) {
            // The child's writer is a handle on this one's: its files are there.
            mine.created.extend(theirs.created);
            mine.updated.extend(theirs.updated);
            mine.deletions.extend(theirs.deletions);
        }
    }

    /// Records, for the render status, the first error that stops the render:
    /// in kpt's words, with the package it stopped in and which of kpt's
    /// operations says it.
    pub(crate) fn failed_with(&mut self, package: &str, text: String, said_by: SaidBy) {
        self.failure.get_or_insert(crate::status::Failure {
            package: package.to_string(),
            text,
            said_by,
        });
    }

    /// Prints a step's progress lines, or keeps them until the subtree is merged.
    pub(crate) fn say(&mut self, text: &str) {
        match &mut self.progress {
            Some(buffer) => buffer.push_str(text),
            None => eprint!("{text}"),
        }
    }

    /// Up to `wanted` threads from the render's spare ones.
    pub(crate) fn take_threads(&self, wanted: usize) -> usize {
        let spare = self
            .spare_threads
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |spare| {
                Some(spare - spare.min(wanted))
            })
            .unwrap_or(0);
        spare.min(wanted)
    }

    /// kpt's progress lines of a render made by [`crate::render_quietly`].
    pub fn progress_lines(&self) -> &str {
        self.progress.as_deref().unwrap_or("")
    }

    /// An error result no step tolerated, or a step that exited non-zero
    /// (a function built on kpt-functions-sdk fails with infos only:
    /// `krm_sdk::ResourceList::unsuccessful`).
    pub fn failed(&self) -> bool {
        self.findings.iter().filter(|f| f.result.is_error()).count() > self.tolerated_errors
            || self.steps.iter().any(|s| s.exit_code != 0)
    }

    /// The last step that failed (non-zero exit, or could not start).
    pub(crate) fn failed_step(&self) -> Option<&StepRecord> {
        self.steps
            .iter()
            .rev()
            .find(|s| s.exit_code != 0 || s.execution_error.is_some())
    }

    /// Whether this failed render writes what it rendered, as kpt
    /// v1.0.0-beta.67 does with `kpt.dev/save-on-render-failure: "true"`
    /// (`pkg/lib/kptops/render_executor.go`, `Execute` and `hydrate`): kpt
    /// writes its root package's resources, which a failed step sets only in
    /// the root itself or in a direct subpackage of the root. `hydrate` gives
    /// the resources of a package that failed to its parent, which returns
    /// none to its own parent: a step failing deeper down leaves the root's
    /// resources unset, and nothing but the render status is written. The
    /// breadth-first order (`hydrateBfsOrder`) gathers every package's
    /// resources on any failure.
    pub(crate) fn saves_failure(&self) -> bool {
        self.save_on_failure
            && self.failed_step().is_some_and(|step| {
                self.bfs
                    || step.package.is_empty()
                    || crate::pipeline::parent_package(&self.root, &step.package).is_empty()
            })
    }

    pub fn functions_run(&self) -> usize {
        self.timings.len()
    }

    /// The 1-based line where document `index` of `path` starts, if known.
    pub fn line_of(&self, path: &str, index: u32) -> Option<usize> {
        self.starts.get(path)?.get(index as usize).copied()
    }

    /// The 1-based line and column of `field` (a result's field path) in document
    /// `index` of `path`: the file is read again only for a result being reported.
    pub fn position_of(&self, path: &str, index: u32, field: &str) -> Option<(usize, usize)> {
        let text = match self.sources.get(path) {
            Some(source) => &source.text,
            None => self.named_texts.get(path)?,
        };
        krm_sdk::locate::field_position(text, index as usize, field)
    }

    /// A result of a step of the package at `package`; its file path, relative to
    /// that package as the function saw it, becomes root-relative.
    pub(crate) fn finding(&mut self, package: &str, function: &str, mut result: ResultItem) {
        if let Some(file) = result.file.as_mut() {
            file.path = join(package, &kptfile::clean(&file.path));
        }
        self.findings.push(Finding {
            package: display_package(package),
            function: function.to_string(),
            result,
        });
    }
}
