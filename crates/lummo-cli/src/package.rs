//! Rendering a kpt package in-process, as `kpt fn render` (kpt v1.0.0-beta.56) does.
//!
//! The rules follow kpt's `internal/util/render/executor.go` and `internal/pkg`,
//! and are proven on kpt's own e2e cases (`scripts/kpt-e2e.py`):
//! - A package is a folder with a Kptfile; its resources are its `*.yaml`, `*.yml`
//!   and `Kptfile` files, minus what its `.krmignore` (gitignore syntax) names and
//!   minus subpackages. Subpackages are every folder below holding a Kptfile that
//!   is not inside another subpackage; they render first, in path order.
//! - Every resource must be KRM (`apiVersion`, `kind`, `metadata.name`), except
//!   kustomization files (kpt `IsKRM`).
//! - A pipeline sees paths relative to its own package and the
//!   `internal.config.kubernetes.io/package-path` of each resource; paths are
//!   rebased onto the root at the end, so what a subpackage's spec generates lands
//!   in that subpackage, as with kpt.
//! - A step's `configPath` is read from the resources as they are when the step
//!   runs (earlier steps may have changed it), and must be one document of the
//!   package itself.
//! - Files whose documents are unchanged are left byte for byte; changed files are
//!   written whole in kyaml's block style, each replaced atomically; files whose
//!   resources all went away are deleted, and nothing else is. Nothing is written
//!   unless the whole pipeline of every package succeeded.

use crate::kptfile::{self, Kptfile, Step};
use crate::runtime;
use anyhow::{anyhow, bail, Context as _, Result};
use krm_sdk::object::{annotations, set_file, FileRef};
use krm_sdk::yaml::{parse_documents, Limits};
use krm_sdk::{Item, ObjectExt, ResourceList, ResultItem, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// kpt's annotation for the package a resource belongs to (an absolute path).
pub const PACKAGE_PATH: &str = "internal.config.kubernetes.io/package-path";
/// kyaml's record of a file's sequence indentation (`compact` or `wide`).
const SEQ_INDENT: &str = "internal.config.kubernetes.io/seqindent";
/// The version of the Lummo functions built into this binary, as images are tagged.
pub const BUILT_IN_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// A function the CLI runs in-process.
#[derive(Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    pub process: fn(&mut ResourceList),
}

/// The function of that name, from the one list of every Lummo function.
pub fn function(name: &str) -> Option<Function> {
    lummo_validate::FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(name, process)| Function { name, process })
}

/// Every function's name, for messages.
pub fn function_names() -> String {
    lummo_validate::FUNCTIONS.map(|(name, _)| name).join(", ")
}

/// The function that reads a Lummo kind.
pub fn function_of_kind(kind: &str) -> Option<&'static str> {
    lummo_validate::function_of_kind(kind)
}

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
}

/// How one step runs.
enum Runner {
    Native(Function),
    /// A function of the kpt catalog, in process (crates/kpt-catalog).
    Catalog(kpt_catalog::Function),
    Exec(Vec<String>),
    Container(String),
}

/// A result and the package it came from.
pub struct Finding {
    pub package: String,
    pub function: String,
    pub result: ResultItem,
}

/// One file as read: its text and documents.
struct Source {
    text: String,
    /// The file's permissions when read: its new text keeps them.
    permissions: std::fs::Permissions,
    documents: Vec<Value>,
    /// The text of each document (kyaml's split), read once for the items and
    /// the writing; `None` when the split and the reader disagree.
    pieces: Option<Vec<String>>,
}

/// A package as read from disk, then rendered.
pub struct Rendered {
    root: PathBuf,
    /// Files read as resources, by path relative to the root.
    sources: BTreeMap<String, Source>,
    /// The rendered resources; each keeps the text of its document (comments,
    /// styles) through the functions that leave it or edit it in place.
    pub items: Vec<Item>,
    pub findings: Vec<Finding>,
    /// Error results of external functions that exited 0: kpt goes on (it judges a
    /// function by its exit code), and so does the render.
    tolerated_errors: usize,
    /// (package, function, milliseconds) per step.
    pub timings: Vec<(String, String, f64)>,
    /// Every step that ran, in order, as kpt's `--results-dir` records it.
    pub steps: Vec<StepRecord>,
    /// Which functions ran in which package (root-relative folder, "" for the root).
    ran: BTreeMap<String, BTreeSet<&'static str>>,
    pub packages: usize,
    settings: Settings,
    /// In-place renders stage each finished subtree on disk (see [`Staging`]).
    staging: Option<Staging>,
    /// Source files read since the last staged subtree.
    unstaged_sources: Vec<String>,
    /// Temporary files a killed render left (root-relative): an in-place render
    /// removes them, `--check` lists them.
    leftovers: Vec<String>,
    /// Where each document of each file read starts (1-based lines), for messages.
    starts: BTreeMap<String, Vec<usize>>,
    /// The text of each staged file that a result names, to place the result
    /// on its field (the sources themselves are dropped once staged).
    named_texts: BTreeMap<String, String>,
    /// Generated objects as read and as emitted, to warn of hand edits.
    hand_edits: crate::hand_edits::HandEdits,
    /// Threads no subtree renders on yet, shared by every subtree's state: a
    /// level of independent subtrees takes what is left, so nested levels never
    /// run more than the render's threads at once.
    spare_threads: Arc<AtomicUsize>,
    /// The steps' progress lines (`[RUNNING]`, `[PASS]`...) of a subtree rendered
    /// beside others, printed when it is merged so that they come in the order of
    /// a render one package after the other; `None`: printed as they come.
    progress: Option<String>,
}

/// An in-place render of a monorepo: a subtree no ancestor pipeline will touch is
/// written to temporary files as soon as it is rendered and dropped from memory,
/// so memory follows the largest package with a pipeline, not the tree. The
/// temporary files are renamed over their targets only when every package has
/// rendered; otherwise they are removed and nothing changes.
#[derive(Default)]
struct Staging {
    /// Writes the temporary files while rendering goes on.
    writer: Option<Writer>,
    /// (temporary file, destination), once the writer has finished.
    renames: Vec<(PathBuf, PathBuf)>,
    deletions: Vec<PathBuf>,
    /// Root-relative paths of the files created and updated, for `-v`.
    created: Vec<String>,
    updated: Vec<String>,
}

/// One step as kpt's results file records it (`fnresult.Result`).
pub struct StepRecord {
    /// `image` or `exec`, as the step names its function.
    pub field: &'static str,
    pub reference: String,
    pub exit_code: i32,
    /// What an external function printed on stderr.
    pub stderr: String,
    /// Its results as the function gave them.
    pub results: Vec<ResultItem>,
}

/// One file a render would change: its old text (none when new) and its new
/// text (none when pruned).
pub struct Change {
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// What an in-place render did, file by file.
#[derive(Default)]
pub struct Summary {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub deleted: Vec<String>,
}

impl Rendered {
    fn new(root: PathBuf) -> Self {
        Rendered {
            root,
            sources: BTreeMap::new(),
            items: Vec::new(),
            findings: Vec::new(),
            tolerated_errors: 0,
            timings: Vec::new(),
            steps: Vec::new(),
            ran: BTreeMap::new(),
            packages: 0,
            settings: Settings::default(),
            staging: None,
            unstaged_sources: Vec::new(),
            leftovers: Vec::new(),
            starts: BTreeMap::new(),
            named_texts: BTreeMap::new(),
            hand_edits: Default::default(),
            spare_threads: Arc::default(),
            progress: None,
        }
    }

    /// The empty state of a subtree rendered on its own, to be [`merged`](Self::merge)
    /// back: same package, settings, thread budget and file writer; its progress
    /// lines buffered when `beside_others` or when this state's are.
    fn subtree(&self, beside_others: bool) -> Rendered {
        let mut child = Rendered::new(self.root.clone());
        child.settings = self.settings.clone();
        child.spare_threads = self.spare_threads.clone();
        child.staging = self.staging.as_ref().map(|staging| Staging {
            writer: staging.writer.as_ref().map(Writer::share),
            ..Staging::default()
        });
        child.progress = (beside_others || self.progress.is_some()).then(String::new);
        child
    }

    /// Takes in a subtree's state, which comes after everything this one holds.
    fn merge(&mut self, child: Rendered) {
        let Rendered {
            root: _,
            sources,
            items,
            findings,
            tolerated_errors,
            timings,
            steps,
            ran,
            packages,
            settings: _,
            staging,
            unstaged_sources,
            leftovers,
            starts,
            named_texts,
            // Emptied when the subtree was checked; a subtree that failed before
            // its check stops the render.
            hand_edits: _,
            spare_threads: _,
            progress,
        } = child;
        if let Some(text) = progress {
            self.say(&text);
        }
        self.sources.extend(sources);
        self.items.extend(items);
        self.findings.extend(findings);
        self.tolerated_errors += tolerated_errors;
        self.timings.extend(timings);
        self.steps.extend(steps);
        self.ran.extend(ran);
        self.packages += packages;
        self.unstaged_sources.extend(unstaged_sources);
        self.leftovers.extend(leftovers);
        self.starts.extend(starts);
        self.named_texts.extend(named_texts);
        if let (Some(mine), Some(theirs)) = (self.staging.as_mut(), staging) {
            // The child's writer is a handle on this one's: its files are there.
            mine.created.extend(theirs.created);
            mine.updated.extend(theirs.updated);
            mine.deletions.extend(theirs.deletions);
        }
    }

    /// Prints a step's progress lines, or keeps them until the subtree is merged.
    fn say(&mut self, text: &str) {
        match &mut self.progress {
            Some(buffer) => buffer.push_str(text),
            None => eprint!("{text}"),
        }
    }

    /// Up to `wanted` threads from the render's spare ones.
    fn take_threads(&self, wanted: usize) -> usize {
        let spare = self
            .spare_threads
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |spare| {
                Some(spare - spare.min(wanted))
            })
            .unwrap_or(0);
        spare.min(wanted)
    }

    pub fn failed(&self) -> bool {
        self.findings.iter().filter(|f| f.result.is_error()).count() > self.tolerated_errors
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
    fn finding(&mut self, package: &str, function: &str, mut result: ResultItem) {
        if let Some(file) = result.file.as_mut() {
            file.path = join(package, &kptfile::clean(&file.path));
        }
        self.findings.push(Finding {
            package: display_package(package),
            function: function.to_string(),
            result,
        });
    }

    /// The rendered package as kpt's `-o stdout` prints it. kpt
    /// (`internal/util/render/executor.go`, `Renderer.Execute`) writes the
    /// resources with a kyaml `ByteWriter` (`KeepReaderAnnotations`, wrapped in a
    /// ResourceList), after its attributor stamped Config Connector objects; the
    /// wrapping encoder is kyaml's `yaml.NewEncoder`, compact sequences throughout.
    /// Each item as [`Rendered::list_item`] says.
    pub fn resource_list(&self) -> String {
        let mut out = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n");
        if self.items.is_empty() {
            out.push_str("items: []\n");
            return out;
        }
        out.push_str("items:\n");
        // Each item is formatted on its own: on every core, joined in order.
        let printed = krm_sdk::parallel::map(&self.items, |item| {
            let (head, body) = self.list_item(item, false);
            head + &body
        });
        out.extend(printed);
        out
    }

    /// kpt's `-o unwrap`: what `-o stdout` prints, read back and written as a YAML
    /// stream (kpt `internal/util/cmdutil/cmdutil.go`, `WriteFnOutput` and
    /// `WriteToOutput`: a kyaml `ByteReader`, then a `ByteWriter` clearing the
    /// reader's index, path and seqindent annotations and empty annotations, each
    /// document with the sequence indent its seqindent annotation named). The
    /// Kptfiles are printed too, and so are the comments: an item's head comment
    /// and its first key's come out as one block at the top of the document.
    /// (kpt's e2e runner checks stdout by `strings.Contains`, which is why its
    /// `out-of-place-unwrap` expects no Kptfile.)
    pub fn unwrapped(&self) -> String {
        let printed = krm_sdk::parallel::map(&self.items, |item| {
            let (head, body) = self.list_item(item, true);
            head + &body
        });
        printed.join("---\n")
    }

    /// One rendered item as kpt prints it from its ResourceList: the comment lines
    /// before it and the object (a document at column 0). With `unwrap`, without
    /// the reader's annotations and in its own sequence indent; else compact.
    ///
    /// Where kpt's node for the object got its comments and styles:
    /// - read from a file and kept by every step (kpt's `FunctionFilter` keeps
    ///   what a function prints, and our functions print what they were given):
    ///   the styles of the file; the annotations kpt's reader added single-quoted
    ///   (kyaml `yaml.AnnotationSetter.Filter`), those the file had in its style;
    /// - round-tripped through JSON by a step ([`kpt_catalog::restyles`]), or
    ///   printed afresh by a function (no text kept): the comments of the file,
    ///   go-yaml's default styles;
    /// - generated by a Lummo function: as our function binaries print it;
    /// - the head comment of its document only once a mutator held it
    ///   (kyaml `comments.CopyComments` in `FunctionFilter`).
    fn list_item(&self, item: &Item, unwrap: bool) -> (String, String) {
        let file = item.file_ref();
        let text = item.source_text().map(unindent_item);
        let piece = match (&text, &file) {
            (None, Some(file)) => self
                .sources
                .get(&file.path)
                .and_then(|s| s.pieces.as_ref())
                .and_then(|p| p.get(file.index as usize)),
            _ => None,
        };
        let written = text.is_none() && item.annotation(lummo_core::GENERATED_BY).is_some();
        let original = match (&text, piece) {
            (Some(text), _) => kyaml_format::Original::Text(text),
            (None, _) if written => kyaml_format::Original::Written,
            (None, Some(piece)) => kyaml_format::Original::Text(piece),
            (None, None) => kyaml_format::Original::None,
        };
        let passage = item.passage();
        let mut value = std::borrow::Cow::Borrowed(item.value());
        // kpt's attributor runs before either writer.
        let mut added_annotations: &[&str] = &[];
        if let Some(attribution) = attribution(item) {
            if item.annotation(BLUEPRINT) != Some(attribution.as_str()) {
                value.to_mut().set_annotation(BLUEPRINT, &attribution);
            }
            added_annotations = &[BLUEPRINT];
        }
        let mut seq_indent = kyaml_format::SeqIndent::Compact;
        if unwrap {
            if item.annotation(SEQ_INDENT) == Some("wide") {
                seq_indent = kyaml_format::SeqIndent::Wide;
            }
            if let Some(map) = value
                .to_mut()
                .pointer_mut("/metadata/annotations")
                .and_then(Value::as_object_mut)
            {
                map.retain(|key, _| !READER_ANNOTATIONS.contains(&key.as_str()));
            }
        }
        let mut reader_annotations: &[&str] = &READER_ANNOTATIONS;
        if unwrap {
            reader_annotations = &[];
        } else if file
            .as_ref()
            .map_or(true, |f| !self.sources.contains_key(&f.path))
        {
            // Not read from a file: the annotations are the function's.
            reader_annotations = &[];
        }
        let list_item = kyaml_format::ListItem {
            original,
            value: &value,
            restyled: restyled(item, written),
            document_head: passage.mutated,
            reader_annotations,
            added_annotations,
        };
        if unwrap {
            kyaml_format::format_list_item(&list_item, seq_indent)
        } else {
            kyaml_format::format_sequence_item(&list_item)
        }
    }

    /// Stages a rendered subtree whose paths are root-relative: changed and new
    /// files go to temporary files, files whose resources all went away are
    /// marked for deletion; its items and sources are dropped.
    fn stage(&mut self, items: Vec<Item>) -> Result<()> {
        let named: BTreeSet<&str> = self
            .findings
            .iter()
            .filter_map(|f| f.result.file.as_ref().map(|file| file.path.as_str()))
            .collect();
        for path in named {
            if let Some(source) = self.sources.get(path) {
                self.named_texts.insert(path.to_string(), source.text.clone());
            }
        }
        let files: Vec<(String, Option<Source>, Vec<Document>)> = group_files(&items)
            .into_iter()
            .map(|(path, documents)| {
                let source = self.sources.remove(&path);
                (path, source, documents)
            })
            .collect();
        drop(items);
        let texts = krm_sdk::parallel::map(&files, |(_, source, documents)| {
            file_text(source.as_ref(), documents)
        });
        let mut staging = self.staging.take().unwrap_or_default();
        let mut changed = Vec::new();
        for ((path, source, _), text) in files.into_iter().zip(texts) {
            match source {
                Some(source) if source.text == text => {}
                Some(source) => {
                    staging.updated.push(path.clone());
                    changed.push((path, text, Some(source.permissions)));
                }
                None => {
                    staging.created.push(path.clone());
                    changed.push((path, text, None));
                }
            }
        }
        for path in std::mem::take(&mut self.unstaged_sources) {
            if self.sources.remove(&path).is_some() {
                staging.deletions.push(self.root.join(&path));
            }
        }
        let writer = staging.writer.get_or_insert_with(Writer::start);
        // kpt writes a file through a symbolic link (the link stays); a file and a
        // link to it are one file, written once.
        let mut targets = BTreeSet::new();
        let result = changed
            .into_iter()
            .try_for_each(|(path, text, permissions)| {
                let mut destination = self.root.join(path);
                if std::fs::symlink_metadata(&destination).is_ok_and(|m| m.file_type().is_symlink()) {
                    destination = std::fs::canonicalize(&destination).unwrap_or(destination);
                }
                if !targets.insert(destination.clone()) {
                    return Ok(());
                }
                writer.send(destination, text, permissions)
            });
        self.staging = Some(staging);
        result
    }

    /// Renames every staged file over its target and deletes pruned files; on a
    /// failed render, removes the temporary files instead.
    pub fn commit(&mut self) -> Result<Summary> {
        if self.failed() {
            self.discard();
            return Ok(Summary::default());
        }
        let mut staging = self.staging.take().unwrap_or_default();
        if let Some(writer) = staging.writer.take() {
            match writer.finish() {
                Ok(renames) => staging.renames = renames,
                Err((error, written)) => {
                    for (temporary, _) in written {
                        let _ = std::fs::remove_file(temporary);
                    }
                    return Err(error);
                }
            }
        }
        // Each rename is atomic on its own; replacing a file is kernel work (ext4
        // allocates the new file's blocks then), done on every core.
        let renamed = krm_sdk::parallel::map(&staging.renames, |(temporary, destination)| {
            std::fs::rename(temporary, destination)
                .with_context(|| destination.display().to_string())
        });
        renamed.into_iter().collect::<Result<Vec<()>>>()?;
        let mut deleted = Vec::new();
        for leftover in &self.leftovers {
            // One this render wrote again under the same name is renamed already.
            match std::fs::remove_file(self.root.join(leftover)) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                result => {
                    result.with_context(|| leftover.clone())?;
                    deleted.push(leftover.clone());
                }
            }
        }
        for doomed in &staging.deletions {
            if doomed.exists() {
                std::fs::remove_file(doomed).with_context(|| doomed.display().to_string())?;
                let relative = doomed.strip_prefix(&self.root).unwrap_or(doomed);
                deleted.push(relative.display().to_string());
            }
        }
        Ok(Summary {
            created: staging.created,
            updated: staging.updated,
            deleted,
        })
    }

    /// Every file an in-place render would create, change or delete, with both
    /// texts; nothing is written (`lummo render --check`).
    pub fn changes(&self) -> Vec<Change> {
        let files = self.files();
        let mut changes = Vec::new();
        for (path, documents) in &files {
            let source = self.sources.get(path);
            let new = file_text(source, documents);
            if source.is_some_and(|s| s.text == new) {
                continue;
            }
            changes.push(Change {
                path: path.clone(),
                old: source.map(|s| s.text.clone()),
                new: Some(new),
            });
        }
        for (path, source) in &self.sources {
            if !files.contains_key(path) {
                changes.push(Change {
                    path: path.clone(),
                    old: Some(source.text.clone()),
                    new: None,
                });
            }
        }
        for leftover in &self.leftovers {
            changes.push(Change {
                path: leftover.clone(),
                old: Some(String::new()),
                new: None,
            });
        }
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        changes
    }

    /// Removes the staged temporary files: the package stays as it was.
    fn discard(&mut self) {
        if let Some(mut staging) = self.staging.take() {
            if let Some(writer) = staging.writer.take() {
                staging.renames = match writer.finish() {
                    Ok(renames) | Err((_, renames)) => renames,
                };
            }
            for (temporary, _) in &staging.renames {
                let _ = std::fs::remove_file(temporary);
            }
        }
    }

    /// kpt's `-o DIR`: a new folder outside the package with the Kptfiles and
    /// resources of the rendered package, and nothing else.
    pub fn write_to(&self, dir: &Path) -> Result<usize> {
        if dir.exists() {
            bail!(
                "directory {:?} already exists, please delete the directory and retry",
                dir.display().to_string()
            );
        }
        let absolute = absolute(dir)?;
        if absolute == self.root {
            bail!(
                "output directory {} is the package itself; render in place without -o, or choose a new folder",
                dir.display()
            );
        }
        // kpt writes a new folder inside the package too (its e2e case
        // out-of-place-dir); only the resources go there, never the folder itself.
        if absolute.starts_with(&self.root) {
            eprintln!(
                "warning: {} lies inside the package: the next render reads it as part of the package; add it to .krmignore",
                dir.display()
            );
        }
        let files: Vec<(String, String)> = self
            .files()
            .into_iter()
            .map(|(path, documents)| {
                let text = file_text(self.sources.get(&path), &documents);
                (path, without_head_gaps(&text))
            })
            .collect();
        std::fs::create_dir_all(&absolute).with_context(|| dir.display().to_string())?;
        write_files(&absolute, &files)?;
        Ok(files.len())
    }

    /// The rendered documents of every file, in index order.
    fn files(&self) -> BTreeMap<String, Vec<Document>> {
        group_files(&self.items)
    }
}

/// One document of a file to write: its index in the original file, the value
/// as it will be written, and the text whose comments and styles it keeps (as a
/// document at column 0): the text the functions kept, or for an object a
/// Lummo function generated, the text our function binaries print (kpt keeps the
/// styles a function prints, so that is what kpt writes).
pub struct Document {
    /// kyaml's writer indents sequences as the object's seqindent annotation
    /// says (the reader's reading of its document), compact without one.
    seq_indent: kyaml_format::SeqIndent,
    index: u32,
    /// A function's object that came without an index: no document of the file
    /// as read is its original.
    fresh: bool,
    /// It went through a mutator's ResourceList (see [`Passage`](krm_sdk::Passage)).
    mutated: bool,
    value: Value,
    text: Option<String>,
    /// Generated by a Lummo function in process: its text is what the function
    /// binary prints (`krm_sdk::yaml`), taken as the original without printing it.
    written: bool,
    /// Whether its styles are go-yaml's defaults, comments and order kept ([`restyled`]).
    restyled: kyaml_format::Restyle,
}

/// Whether kpt holds an object in go-yaml's default styles (scalars and
/// collections) when it writes it, to a file or a ResourceList: a step
/// round-tripped it through JSON ([`kpt_catalog::restyles`]), or a mutator
/// printed it without keeping its text (`written`: not one we generate, whose
/// text is our binaries' writing). Comments and field order are kpt's
/// (`comments.CopyComments`, `order.SyncOrder`) either way.
fn restyled(item: &Item, written: bool) -> kyaml_format::Restyle {
    let passage = item.passage();
    if passage.restyled || (passage.mutated && !written && item.source_text().is_none()) {
        kyaml_format::Restyle::All
    } else {
        kyaml_format::Restyle::Keep
    }
}

/// The documents of every file, in index order.
fn group_files(items: &[Item]) -> BTreeMap<String, Vec<Document>> {
    // On every core: cleaning copies objects, and reading the text of a changed
    // item makes the edit it still owes (see `Item::source_text`).
    let documents = krm_sdk::parallel::map(items, |item| {
        let (path, index) = file_annotations(item);
        if path.is_empty() {
            return None;
        }
        let index = (!index.is_empty()).then(|| index.parse::<u32>().unwrap_or(0));
        let text = item.source_text().map(unindent_item);
        let written = text.is_none() && item.annotation(lummo_core::GENERATED_BY).is_some();
        let document = Document {
            seq_indent: match item.annotation(SEQ_INDENT) {
                Some("wide") => kyaml_format::SeqIndent::Wide,
                _ => kyaml_format::SeqIndent::Compact,
            },
            index: index.unwrap_or(0),
            fresh: index.is_none(),
            value: clean(item),
            text,
            written,
            mutated: item.passage().mutated,
            restyled: restyled(item, written),
        };
        Some((path.to_string(), document))
    });
    let mut files: BTreeMap<String, Vec<Document>> = BTreeMap::new();
    for (path, document) in documents.into_iter().flatten() {
        files.entry(path).or_default().push(document);
    }
    for documents in files.values_mut() {
        // kyaml's writer (`kioutil.DefaultPathAndIndexAnnotation`): an object
        // without an index gets the file's highest index so far, then the next
        // ones; then a stable sort by index.
        let mut next = documents
            .iter()
            .filter(|d| !d.fresh)
            .map(|d| d.index)
            .max()
            .unwrap_or(0);
        for document in documents.iter_mut().filter(|d| d.fresh) {
            document.index = next;
            next += 1;
        }
        documents.sort_by_key(|d| d.index);
    }
    files
}

/// A path made absolute against the working directory, `..` resolved through the
/// parent that exists (the folder itself does not exist yet).
fn absolute(path: &Path) -> Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut existing = joined.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        rest.push(existing.file_name().map(|n| n.to_os_string()));
        if !existing.pop() {
            break;
        }
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    for part in rest.into_iter().rev() {
        match part {
            Some(name) => resolved.push(name),
            None => {
                resolved.pop();
            }
        }
    }
    Ok(resolved)
}

/// The text of a file as kpt writes it: every document through kyaml's formatter
/// (comments of the original kept where its fields survive), so that `kpt fn
/// render` after `lummo render` changes nothing. `documents` are (index in the
/// original file, cleaned value). Where the formatter cannot read the original
/// (anchors, a construct saphyr rejects), an unchanged file stays as it is and a
/// changed one is written in our block style.
fn file_text(source: Option<&Source>, documents: &[Document]) -> String {
    // A new file of one generated object: most often its writing is already
    // kyaml's formatting (`kyaml_format::written_text`).
    if let (None, [document]) = (source, documents) {
        if let Some(text) = document
            .written
            .then(|| kyaml_format::written_text(&document.value))
            .flatten()
        {
            return attribution_quoted(text);
        }
    }
    // The documents as read, as kpt would write them back unchanged.
    let before: Vec<std::borrow::Cow<Value>> = source
        .map(|s| s.documents.iter().map(clean_borrowed).collect())
        .unwrap_or_default();
    let unchanged = source.is_some()
        && before.len() == documents.len()
        && before
            .iter()
            .zip(documents)
            .all(|(old, d)| **old == d.value);
    let pieces = match source {
        Some(source) => source.pieces.clone(),
        None => Some(Vec::new()),
    };
    let formatted = pieces.and_then(|pieces| {
        // The text a function kept (its edits, comments and styles) is the
        // original of a document; else the file's own piece.
        let originals: Vec<Option<String>> = documents
            .iter()
            .map(|d| {
                d.text
                    .clone()
                    .or_else(|| (!d.fresh).then(|| pieces.get(d.index as usize).cloned())?)
            })
            .collect();
        // A document a function changed without keeping its text (it printed it
        // afresh) keeps the comments of the original but not its styles, as kpt.
        let entries: Vec<kyaml_format::FileDocument> = documents
            .iter()
            .zip(&originals)
            .map(|(d, original)| {
                let indent = d.seq_indent;
                // kpt's head comment of a document that went through a function
                // comes back on the object (see `format_values_restyled`).
                let changed = d.mutated;
                let original = match original {
                    _ if d.written => kyaml_format::Original::Written,
                    Some(text) => kyaml_format::Original::Text(text),
                    None => kyaml_format::Original::None,
                };
                kyaml_format::FileDocument {
                    original,
                    value: &d.value,
                    seq_indent: indent,
                    restyled: d.restyled,
                    changed,
                    set_annotations: if attributable(&d.value) { &[BLUEPRINT] } else { &[] },
                }
            })
            .collect();
        let text = kyaml_format::format_values_restyled(&entries);
        // The formatter must never change what the file says; a file it gives
        // back byte for byte with the same documents says the same already.
        if unchanged && source.is_some_and(|s| s.text == text) {
            return Some(text);
        }
        // Objects formatted from their value alone read back as that value
        // (proven for every generated golden object and each choice of the
        // writer: crates/kyaml-format/tests/written.rs); a new file of them
        // needs no reading back, the commonest file of a render.
        if source.is_none() && documents.iter().all(|d| d.written) {
            return Some(text);
        }
        let same = parse_documents(&text, &Limits::default())
            .is_ok_and(|read| read.iter().eq(documents.iter().map(|d| &d.value)));
        same.then_some(text)
    });
    match (formatted, source) {
        (Some(text), _) => text,
        (None, Some(source)) if unchanged => source.text.clone(),
        (None, _) => documents
            .iter()
            .map(|d| serialize(&d.value))
            .collect::<Vec<_>>()
            .join("---\n"),
    }
}

/// kpt's `-o DIR` writes the files back from a ResourceList, where a document's
/// head comment sits right above its item: the blank lines between a head
/// comment and the content are gone (kpt e2e out-of-place-dir).
fn without_head_gaps(text: &str) -> String {
    let Ok(documents) = kyaml_format::split_documents(text) else {
        return text.to_string();
    };
    let mut out = Vec::new();
    for document in documents {
        let mut content = false;
        let mut kept = String::new();
        for line in document.split_inclusive('\n') {
            if !content && line.trim().is_empty() {
                continue;
            }
            if !line.starts_with('#') {
                content = true;
            }
            kept.push_str(line);
        }
        out.push(kept);
    }
    out.join("---\n")
}

/// An item's text in a ResourceList (after `- `, the rest indented by two) as
/// a document at column 0.
pub(crate) fn unindent_item(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(line.strip_prefix("  ").unwrap_or(line));
        } else {
            out.push_str(line);
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The annotations kpt's reader sets on what it reads (kyaml `kioutil`:
/// `LegacyIndexAnnotation`, `LegacyPathAnnotation`, `IndexAnnotation`,
/// `PathAnnotation`, `SeqIndentAnnotation`); `-o unwrap` clears them all.
const READER_ANNOTATIONS: [&str; 5] = [
    "config.kubernetes.io/index",
    "config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/path",
    SEQ_INDENT,
];

/// The original text of each document, by index as `parse_documents` counts
/// them (kyaml's split, minus pieces that hold no document), or `None` when the
/// split does not give the same documents; and for each document an item that
/// keeps its text, where the text reads back the same as an item.
fn document_texts(
    text: &str,
    documents: &[Value],
    limits: &Limits,
) -> (Option<Vec<String>>, Vec<Option<Item>>) {
    let Ok(split) = kyaml_format::split_documents(text) else {
        return (None, Vec::new());
    };
    let mut pieces = Vec::with_capacity(documents.len());
    let mut items = Vec::with_capacity(documents.len());
    for piece in split {
        // The common case costs one parse: the piece as an item is the document.
        if let Some(item) = documents
            .get(pieces.len())
            .and_then(|document| Item::from_document(&piece, document, limits))
        {
            pieces.push(piece);
            items.push(Some(item));
            continue;
        }
        match parse_documents(&piece, limits) {
            Ok(read) if read.is_empty() => {}
            Ok(read) if read.len() == 1 && documents.get(pieces.len()) == read.first() => {
                pieces.push(piece);
                items.push(None);
            }
            _ => return (None, items),
        }
    }
    if pieces.len() != documents.len() {
        return (None, items);
    }
    (Some(pieces), items)
}

fn display_package(relative: &str) -> String {
    if relative.is_empty() {
        ".".into()
    } else {
        relative.into()
    }
}

/// Objects a cluster never gets from kpt: Kptfiles (kpt.dev).
fn is_kpt_meta(item: &Value) -> bool {
    item.api_version().starts_with("kpt.dev/") || item.kind() == "Kptfile"
}

fn stream<'a>(items: impl Iterator<Item = &'a Value>) -> String {
    let mut out = String::new();
    for item in items {
        if !out.is_empty() {
            out.push_str("---\n");
        }
        out.push_str(&serialize(&strip_kpt_annotations(item)));
    }
    out
}

/// The resources meant for a cluster, as a YAML stream (what ArgoCD applies):
/// no Kptfile, no Lummo spec, no functionConfig named by a step, nothing
/// local-config, no kpt annotations.
pub fn manifests(items: &[Item], function_configs: &BTreeSet<String>) -> String {
    stream(items.iter().map(|i| i.value()).filter(|item| {
        !item.is_local_config()
            && !is_kpt_meta(item)
            && !is_lummo(item)
            && !item
                .file_ref()
                .is_some_and(|f| function_configs.contains(&f.path))
    }))
}

/// Lummo specs and functionConfigs that `manifests` leaves out by kind or by
/// reference although they lack the local-config annotation: other tools
/// (`kpt live apply`, a plain `kubectl apply -f`) would send them to the cluster.
pub fn unmarked_local_config(items: &[Item], function_configs: &BTreeSet<String>) -> Vec<String> {
    items
        .iter()
        .filter(|item| !item.is_local_config())
        .filter_map(|item| {
            let path = item.file_ref().map(|f| f.path).unwrap_or_default();
            let what = if is_lummo(item) {
                "a Lummo spec"
            } else if function_configs.contains(&path) {
                "the functionConfig of a pipeline step"
            } else {
                return None;
            };
            Some(format!(
                "{path}: {} {} is {what}, left out of the manifests, but it lacks \
                 `config.kubernetes.io/local-config: \"true\"`; add that annotation so that \
                 kpt and kubectl leave it out too",
                item.kind(),
                item.name()
            ))
        })
        .collect()
}

fn is_lummo(item: &Value) -> bool {
    item.api_version()
        .split('/')
        .next()
        .is_some_and(|group| group == lummo_core::GROUP)
}

/// Reads and renders the package at `root` (and its subpackages).
///
/// With `in_place`, the result is staged on disk as it renders and [`Rendered::commit`]
/// puts it in place; otherwise `items` holds the whole rendered tree.
pub fn render(root: &Path, settings: Settings, in_place: bool) -> Result<Rendered> {
    let root = open(root)?;
    let mut rendered = Rendered::new(root.clone());
    let threads = settings.threads.unwrap_or_else(krm_sdk::parallel::threads);
    rendered.spare_threads = Arc::new(AtomicUsize::new(threads.saturating_sub(1)));
    rendered.settings = settings;
    if in_place {
        rendered.staging = Some(Staging::default());
    }
    if let Err(error) = render_subtree(&mut rendered, &root, "") {
        rendered.discard();
        return Err(error);
    }
    Ok(rendered)
}

/// Renders the package at `relative`, which no pipeline above it touches, and
/// finishes it unless it failed.
fn render_subtree(rendered: &mut Rendered, root: &Path, relative: &str) -> Result<()> {
    let items = render_package(rendered, root, relative, true)?;
    if !rendered.failed() {
        finish(rendered, root, items)?;
    }
    Ok(())
}

/// Renders the subpackages `subs` of a package without pipeline that no pipeline
/// above touches: each subtree is independent of the others, so they render on
/// the threads the render has spare, each into its own state, merged in path
/// order. The first subtree that fails or errs stops the render as rendering them
/// one after the other would: nothing of the later ones is reported, even when
/// they already ran (their staged files go with the rest when the render fails).
fn render_subtrees(rendered: &mut Rendered, root: &Path, subs: &[String]) -> Result<()> {
    let helpers = rendered.take_threads(subs.len().saturating_sub(1));
    if let Some(staging) = rendered.staging.as_mut() {
        staging.writer.get_or_insert_with(Writer::start);
    }
    let template = rendered.subtree(helpers > 0);
    let mut outcome = Ok(());
    krm_sdk::parallel::ordered(
        subs.len(),
        helpers + 1,
        |index| {
            let mut child = template.subtree(false);
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
fn finish(rendered: &mut Rendered, root: &Path, items: Vec<Item>) -> Result<()> {
    check_indexes(&items)?;
    let items = rebase(root, items)?;
    check_staleness(rendered, &items);
    if rendered.failed() {
        return Ok(());
    }
    for warning in rendered.hand_edits.check(&items) {
        rendered.finding("", "lummo render", warning);
    }
    if rendered.staging.is_some() {
        rendered.stage(items)
    } else {
        rendered.items.extend(items);
        Ok(())
    }
}

/// The package folder, which must hold a Kptfile (kpt: "No Kptfile found at").
fn open(root: &Path) -> Result<PathBuf> {
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot open package {}", root.display()))?;
    if !root.join("Kptfile").is_file() {
        bail!(
            "No Kptfile found at {:?}: a kpt package is a folder with a Kptfile (`kpt pkg init` or `lummo init` makes one)",
            root.display().to_string()
        );
    }
    Ok(root)
}

/// Reads a package that will not be rendered (for `lummo validate`): every
/// resource of the package and its subpackages, with root-relative paths.
pub fn read(root: &Path) -> Result<Rendered> {
    let root = open(root)?;
    let mut rendered = Rendered::new(root.clone());
    let mut items = Vec::new();
    read_tree(&mut rendered, &root, "", &mut items)?;
    rendered.items = rebase(&root, items)?;
    Ok(rendered)
}

fn read_tree(
    rendered: &mut Rendered,
    root: &Path,
    relative: &str,
    items: &mut Vec<Item>,
) -> Result<()> {
    for sub in subpackages(root, relative)? {
        read_tree(rendered, root, &sub, items)?;
    }
    items.extend(read_local(rendered, root, relative)?);
    Ok(())
}

/// Every path of the functionConfigs that some pipeline of the package names.
pub fn function_config_paths(root: &Path) -> Result<BTreeSet<String>> {
    let root = open(root)?;
    let mut paths = BTreeSet::new();
    let mut pending = vec![String::new()];
    while let Some(relative) = pending.pop() {
        let kptfile_path = join(&relative, "Kptfile");
        let text = std::fs::read_to_string(root.join(&kptfile_path))
            .with_context(|| kptfile_path.clone())?;
        let kptfile = kptfile::parse(&kptfile_path, &text)?;
        for step in kptfile.steps().filter(|s| !s.config_path.is_empty()) {
            paths.insert(join(&relative, &kptfile::clean(&step.config_path)));
        }
        pending.extend(subpackages(&root, &relative)?);
    }
    Ok(paths)
}

/// Renders the package at `relative` after its subpackages. `alone` says that no
/// ancestor has a pipeline: then a subtree is finished as soon as it is rendered
/// (and, in place, staged on disk), and nothing is returned for it.
fn render_package(
    rendered: &mut Rendered,
    root: &Path,
    relative: &str,
    alone: bool,
) -> Result<Vec<Item>> {
    let kptfile_path = join(relative, "Kptfile");
    let text = std::fs::read_to_string(root.join(&kptfile_path))
        .with_context(|| format!("{kptfile_path} can't be read"))?;
    let kptfile = kptfile::parse(&kptfile_path, &text)?;
    rendered.packages += 1;
    let has_pipeline = kptfile.steps().next().is_some();
    let mut items = Vec::new();
    let subs = subpackages(root, relative)?;
    if alone && !has_pipeline {
        render_subtrees(rendered, root, &subs)?;
        if rendered.failed() {
            return Ok(items);
        }
    } else {
        for sub in subs {
            let sub_items = render_package(rendered, root, &sub, false)?;
            if rendered.failed() {
                return Ok(items);
            }
            items.extend(sub_items);
        }
    }
    let local = read_local(rendered, root, relative)?;
    check_config_paths(&kptfile, &local)?;
    items.extend(local);
    // kpt checks every input of every package, pipeline or not (kpt `AreKRM`).
    for item in &items {
        if let Err(reason) = is_krm(item) {
            let path = item.file_ref().map(|f| f.path).unwrap_or_default();
            bail!("input resource list must contain only KRM resources: {path}: {reason}");
        }
    }
    let package = display_package(relative);
    for (stage, steps) in [
        ("mutators", &kptfile.mutators),
        ("validators", &kptfile.validators),
    ] {
        for step in steps {
            let runner = step_runner(step, &rendered.settings).map_err(|e| {
                // kpt says this one bare; scripts match on it.
                if e.to_string() == NEEDS_ALLOW_EXEC {
                    e
                } else {
                    e.context(format!("{kptfile_path}: {}", step.field))
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
                    rendered.finding(relative, function.name, warning);
                }
            }
            let package_path = package_dir(root, relative).display().to_string();
            let config = step_config(&package_path, step, &items)?;
            let selective = !step.selectors.is_empty() || !step.excludes.is_empty();
            let chosen = runtime::selected(&items, &step.selectors, &step.excludes);
            // A mutator over every item takes them (a failed render writes
            // nothing); a selective one gets copies marked for merging back, and a
            // validator copies, as kpt keeps the input whatever it returns.
            let input: Vec<Item> = if selective || stage != "mutators" {
                items
                    .iter()
                    .zip(&chosen)
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
                std::mem::take(&mut items)
            };
            let mut list = ResourceList::new(Vec::new());
            list.items = input;
            list.function_config = config;
            let start = Instant::now();
            let mut external_exit = None;
            match &runner {
                Runner::Native(function) => (function.process)(&mut list),
                Runner::Catalog(function) => {
                    function.run(&mut list);
                    rendered.say(&outcome(
                        &label,
                        list.has_errors(),
                        start.elapsed().as_secs_f64(),
                        "",
                    ));
                }
                Runner::Exec(_) | Runner::Container(_) => {
                    rendered.say(&format!("[RUNNING] \"{label}\"\n"));
                    let command = external_command(&runner, &rendered.settings)?;
                    let exit = runtime::run_external(command, &label, &mut list)?;
                    rendered.say(&outcome(
                        &label,
                        exit.code != 0,
                        start.elapsed().as_secs_f64(),
                        &exit.stderr,
                    ));
                    external_exit = Some(exit);
                }
            }
            rendered.steps.push(StepRecord {
                field: if step.exec.is_empty() { "image" } else { "exec" },
                reference: match &runner {
                    Runner::Container(image) => image.clone(),
                    _ => step.reference().to_string(),
                },
                exit_code: external_exit
                    .as_ref()
                    .map_or(i32::from(list.has_errors()), |e| e.code),
                stderr: external_exit
                    .as_ref()
                    .map(|e| e.stderr.clone())
                    .unwrap_or_default(),
                results: list.results.clone(),
            });
            rendered.timings.push((
                package.clone(),
                label.clone(),
                start.elapsed().as_secs_f64() * 1000.0,
            ));
            if let Runner::Native(function) = &runner {
                rendered
                    .ran
                    .entry(relative.to_string())
                    .or_default()
                    .insert(function.name);
            }
            let failed = match &external_exit {
                Some(exit) => exit.code != 0,
                None => list.has_errors(),
            };
            if !failed {
                rendered.tolerated_errors += list.results.iter().filter(|r| r.is_error()).count();
            }
            for result in list.results {
                rendered.finding(relative, &label, result);
            }
            if failed {
                return Ok(if items.is_empty() { list.items } else { items });
            }
            // What kpt's function runner does to every function's output.
            default_paths(&mut list.items);
            if stage != "mutators" {
                are_krm(&list.items)?;
            }
            if stage == "mutators" {
                if let Runner::Native(function) = &runner {
                    rendered.hand_edits.emitted(function.name, &list.items);
                }
                // What kpt's printing of the objects will show of this step.
                let restyles = matches!(&runner, Runner::Catalog(f) if f.restyles);
                let output: Vec<Item> = list
                    .items
                    .into_iter()
                    .map(|mut item| {
                        item.record_step(restyles);
                        // kpt's runner: what a function adds belongs to the package
                        // whose pipeline ran it (`setPkgPathAnnotationIfNotExist`).
                        if item.annotation(PACKAGE_PATH).is_none() {
                            item.update(|v| v.set_annotation(PACKAGE_PATH, &package_path));
                        }
                        item
                    })
                    .collect();
                enforce_path_invariants(&output)?;
                let output = match &external_exit {
                    Some(exit) => runtime::reconcile_annotations(output, &exit.originals)?,
                    None => output,
                };
                are_krm(&output)?;
                items = if selective {
                    runtime::merge(items, &chosen, output)
                } else {
                    output
                };
            }
        }
    }
    Ok(items)
}

/// kpt `IsKRM`: apiVersion, kind and metadata.name, except kustomization files.
fn is_krm(item: &Value) -> std::result::Result<(), &'static str> {
    let file = item.file_ref().map(|f| f.path).unwrap_or_default();
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

/// kpt's `enforcePathInvariants` after every function: no path outside the
/// package, no two resources at the same path and index.
fn enforce_path_invariants(items: &[Item]) -> Result<()> {
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
/// another object's.
fn check_indexes(items: &[Item]) -> Result<()> {
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
fn file_annotations(item: &Value) -> (&str, &str) {
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
fn are_krm(items: &[Item]) -> Result<()> {
    for item in items {
        if let Err(reason) = is_krm(item) {
            bail!(
                "output resource list must contain only KRM resources: {}: {reason}",
                file_annotations(item).0
            );
        }
    }
    Ok(())
}

/// What kyaml's `FunctionFilter` does to a function's output before kpt sees it
/// (`kioutil.DefaultPathAnnotation` with no function scope): each object's legacy
/// and new path, index and id annotations made to agree (`CopyLegacyAnnotations`),
/// and an object without a path gets `<namespace>/<kind>_<name>.yaml` (no index:
/// the writer gives it one, see [`group_files`]).
fn default_paths(items: &mut [Item]) {
    for item in items.iter_mut() {
        let needs = |v: &Value, a: &str, b: &str| {
            v.annotation(a).is_some_and(|x| !x.is_empty())
                != v.annotation(b).is_some_and(|x| !x.is_empty())
        };
        let pairs = [
            (annotations::LEGACY_PATH, annotations::PATH),
            (annotations::LEGACY_INDEX, annotations::INDEX),
            (annotations::ID, "internal.config.kubernetes.io/id"),
        ];
        let no_path = item.annotation(annotations::PATH).unwrap_or("").is_empty()
            && item.annotation(annotations::LEGACY_PATH).unwrap_or("").is_empty();
        if !no_path && !pairs.iter().any(|(a, b)| needs(item, a, b)) {
            continue;
        }
        item.update(|v| {
            for (legacy, new) in pairs {
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
    }
}

/// kpt's `ValidatePipeline`: a `configPath` names one KRM document among the
/// package's own resources (not a subpackage's, not a missing file).
fn check_config_paths(kptfile: &Kptfile, local: &[Item]) -> Result<()> {
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
            [] => {
                return Err(kptfile::invalid(
                    &field,
                    &step.config_path,
                    "functionConfig must exist in the current package",
                ))
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
/// it (kpt reads it when the step runs), or `configMap` as a ConfigMap.
fn step_config(package_path: &str, step: &Step, items: &[Item]) -> Result<Option<Value>> {
    if !step.config_path.is_empty() {
        let wanted = kptfile::clean(&step.config_path);
        let found = items.iter().find(|i| {
            i.file_ref()
                .is_some_and(|f| kptfile::clean(&f.path) == wanted)
                && i.annotation(PACKAGE_PATH) == Some(package_path)
        });
        return match found {
            Some(config) => Ok(Some(strip_kpt_annotations(config))),
            None => Err(kptfile::invalid(
                &format!("{}.configPath", step.field),
                &step.config_path,
                "functionConfig must exist in the current package (an earlier step removed it)",
            )),
        };
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

/// kpt's words when an `exec:` step meets a render without `--allow-exec`.
pub const NEEDS_ALLOW_EXEC: &str =
    "must run with `--allow-exec` option to allow running function binaries";

/// How a step runs: a Lummo function named by image or by exec path runs
/// in-process; another `exec:` runs as a program (with `--allow-exec`, as kpt
/// requires), another image in Docker.
fn step_runner(step: &Step, settings: &Settings) -> Result<Runner> {
    if !step.exec.is_empty() {
        if !settings.allow_exec {
            return Err(anyhow!(NEEDS_ALLOW_EXEC));
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
    // A catalog function we do not have (Starlark, kubeval...) runs in Docker when
    // it is there; without Docker, say what else would do.
    if let Some(message) = kpt_catalog::unsupported(&step.image) {
        if !runtime::docker_available() {
            bail!("{message}");
        }
    }
    // kpt expands a short name to the catalog's registry.
    let image = if step.image.contains('/') {
        step.image.clone()
    } else {
        format!("gcr.io/kpt-fn/{}", step.image)
    };
    Ok(Runner::Container(image))
}

/// The program an `exec:` or container step runs.
fn external_command(runner: &Runner, settings: &Settings) -> Result<std::process::Command> {
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

/// A program's outcome as kpt prints it (`printer.go`): `[PASS]`/`[FAIL]` and
/// its stderr, quoted, cut to four lines unless `--truncate-output=false`.
fn outcome(label: &str, failed: bool, seconds: f64, stderr: &str) -> String {
    use std::fmt::Write as _;
    let mut text = format!(
        "[{}] \"{label}\" in {}s\n",
        if failed { "FAIL" } else { "PASS" },
        seconds.round()
    );
    if stderr.is_empty() {
        return text;
    }
    // kpt splits on "\n", so a final newline counts as one more (empty) line.
    let lines: Vec<&str> = stderr.split('\n').collect();
    text.push_str("  Stderr:\n");
    for line in lines.iter().take(4) {
        let _ = writeln!(text, "    {line:?}");
    }
    if lines.len() > 4 {
        let _ = writeln!(
            text,
            "    ...({} line(s) truncated, use '--truncate-output=false' to disable)",
            lines.len() - 4
        );
    }
    text
}

/// `ghcr.io/lummo/krm-functions/lummo-workload:v0.1.0` → `lummo-workload`.
fn image_name(reference: &str) -> &str {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    last.split([':', '@']).next().unwrap_or(last)
}

/// A step pinned to another version than the one built in runs the built-in one:
/// say so, naming both.
fn version_warning(step: &Step, name: &str) -> Option<ResultItem> {
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
fn check_staleness(rendered: &mut Rendered, items: &[Item]) {
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

/// Folders below `relative` holding a Kptfile that are not inside another
/// subpackage (kpt `DirectSubpackages`), in path order; `.git` is never searched.
fn subpackages(root: &Path, relative: &str) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![relative.to_string()];
    while let Some(dir) = pending.pop() {
        let absolute = root.join(&dir);
        for entry in std::fs::read_dir(&absolute).with_context(|| absolute.display().to_string())? {
            let entry = entry?;
            if !entry.file_type()?.is_dir() || entry.file_name() == ".git" {
                continue;
            }
            let path = join(&dir, &entry.file_name().to_string_lossy());
            if entry.path().join("Kptfile").is_file() {
                found.push(path);
            } else {
                pending.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The package's own resources (not its subpackages'), in path order, annotated
/// with their path relative to the package, index and package path as kpt does.
fn read_local(rendered: &mut Rendered, root: &Path, relative: &str) -> Result<Vec<Item>> {
    let base = root.join(relative);
    let ignore = krmignore(&base)?;
    let mut files = Vec::new();
    let mut leftovers = Vec::new();
    collect_files(&base, "", &ignore, &mut files, &mut leftovers)?;
    rendered
        .leftovers
        .extend(leftovers.iter().map(|file| join(relative, file)));
    files.sort();
    let limits = Limits::default();
    let package_path = package_dir(root, relative).display().to_string();
    let mut items = Vec::new();
    // Read and parse the files on every core, then annotate in order.
    let read = krm_sdk::parallel::map(&files, |file| -> Result<_> {
        let path = join(relative, file);
        let (text, permissions) = read_text(&base.join(file)).with_context(|| path.clone())?;
        let documents = parse_documents(&text, &limits)
            .map_err(|e| anyhow!("{path}:{}:{}: {}", e.line, e.column, e.message))?;
        // Each item keeps its document's text (comments, `# kpt-set:` markers,
        // styles) for the functions that read or keep it, as under kpt.
        let (pieces, texts) = document_texts(&text, &documents, &limits);
        Ok((path, text, permissions, documents, pieces, texts))
    });
    for (file, read) in files.iter().zip(read) {
        let (path, text, permissions, documents, pieces, mut texts) = read?;
        // A file without a document (empty, only comments, only `---`) gives kpt
        // no resource: it is neither rewritten nor pruned.
        if documents.is_empty() {
            continue;
        }
        for (index, document) in documents.iter().enumerate() {
            if !document.is_object() {
                bail!("{path}: document {} is not a mapping", index + 1);
            }
            let mut item = texts
                .get_mut(index)
                .and_then(Option::take)
                .unwrap_or_else(|| Item::from(document.clone()));
            // kyaml derives the sequence indentation of each document
            // (`ByteReader.decode`, `DeriveSeqIndentStyle` of the document's text).
            let indent = match kyaml_format::derive_seq_indent(
                pieces
                    .as_ref()
                    .and_then(|p| p.get(index))
                    .map_or(text.as_str(), String::as_str),
            ) {
                kyaml_format::SeqIndent::Compact => "compact",
                kyaml_format::SeqIndent::Wide => "wide",
            };
            item.update(|v| {
                // kyaml's reader annotations, in the order kpt prints them.
                let index = index.to_string();
                // (kpt's loader sets the package path among them in key order.)
                v.set_annotation(annotations::LEGACY_INDEX, &index);
                v.set_annotation(annotations::LEGACY_PATH, &file);
                v.set_annotation(annotations::INDEX, &index);
                v.set_annotation(PACKAGE_PATH, &package_path);
                v.set_annotation(annotations::PATH, &file);
                v.set_annotation(SEQ_INDENT, indent);
            });
            items.push(item);
        }
        rendered.unstaged_sources.push(path.clone());
        rendered.starts.insert(path.clone(), document_starts(&text));
        rendered.sources.insert(
            path,
            Source {
                text,
                permissions,
                documents,
                pieces,
            },
        );
    }
    rendered.hand_edits.read(relative, &items);
    Ok(items)
}

/// The package's `.krmignore` (gitignore syntax), as kyaml's LocalPackageReader reads it.
fn krmignore(base: &Path) -> Result<ignore::gitignore::Gitignore> {
    let mut builder = ignore::gitignore::GitignoreBuilder::new(base);
    let file = base.join(".krmignore");
    if file.is_file() {
        if let Some(error) = builder.add(&file) {
            bail!("{}: {error}", file.display());
        }
    }
    builder
        .build()
        .with_context(|| format!("{}", file.display()))
}

fn collect_files(
    base: &Path,
    relative: &str,
    ignore: &ignore::gitignore::Gitignore,
    out: &mut Vec<String>,
    leftovers: &mut Vec<String>,
) -> Result<()> {
    let dir = base.join(relative);
    for entry in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        let path = join(relative, &name);
        let is_dir = entry.file_type()?.is_dir();
        if name == ".git" || ignore.matched(base.join(&path), is_dir).is_ignore() {
            continue;
        }
        if is_dir {
            if !entry.path().join("Kptfile").is_file() {
                collect_files(base, &path, ignore, out, leftovers)?;
            }
        } else if name == "Kptfile" || name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        } else if name.starts_with('.') && name.ends_with(TEMPORARY_SUFFIX) {
            leftovers.push(path);
        }
    }
    Ok(())
}

/// kpt's `adjustRelPath`: every path becomes relative to the root package.
fn rebase(root: &Path, items: Vec<Item>) -> Result<Vec<Item>> {
    items
        .into_iter()
        .map(|mut item| {
            let package = item.annotation(PACKAGE_PATH).unwrap_or("").to_string();
            let mut path = None;
            if let Some(file) = item.file_ref() {
                let prefix = Path::new(&package)
                    .strip_prefix(root)
                    .map_err(|_| {
                        anyhow!(
                            "{} {} belongs to {package}, outside the package {}",
                            item.kind(),
                            item.name(),
                            root.display()
                        )
                    })?
                    .to_string_lossy()
                    .to_string();
                path = Some(FileRef {
                    path: join(&prefix, &kptfile::clean(&file.path)),
                    index: file.index,
                });
            }
            item.update(|v| {
                if let Some(file) = &path {
                    set_file(v, file);
                }
                v.remove_annotation(PACKAGE_PATH);
                drop_empty_annotations(v);
            });
            Ok(item)
        })
        .collect()
}

/// The folder of the package at `relative` (the root itself for ""), as kpt
/// names it in `internal.config.kubernetes.io/package-path`: no trailing `/`.
fn package_dir(root: &Path, relative: &str) -> PathBuf {
    if relative.is_empty() {
        root.to_path_buf()
    } else {
        root.join(relative)
    }
}

fn join(relative: &str, name: &str) -> String {
    if relative.is_empty() {
        name.to_string()
    } else {
        format!("{relative}/{name}")
    }
}

/// Removes `metadata.annotations` when kpt's annotations were all it held, and
/// `metadata` when nothing is left (a non-KRM document such as a kustomization
/// never had one: it must come back as the user wrote it).
fn drop_empty_annotations(item: &mut Value) {
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
fn strip_kpt_annotations(item: &Value) -> Value {
    let mut item = item.clone();
    remove_kpt_annotations(&mut item);
    item
}

/// kpt's own annotations taken off, and the annotations map if that empties it.
fn remove_kpt_annotations(item: &mut Value) {
    if let Some(map) = item
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        map.retain(|key, _| !krm_sdk::object::is_kpt_annotation(key));
    }
    drop_empty_annotations(item);
}

/// An item as kpt writes it: its own annotations only, and Config Connector
/// objects stamped with kpt's attribution.
fn clean(item: &Value) -> Value {
    clean_borrowed(item).into_owned()
}

/// [`clean`] without a copy when there is nothing to clean (most documents read
/// from files).
fn clean_borrowed(item: &Value) -> std::borrow::Cow<'_, Value> {
    let attributed = attribution(item).is_none_or(|a| item.annotation(BLUEPRINT) == Some(&a));
    let metadata = item.get("metadata").and_then(Value::as_object);
    let empties = metadata.is_some_and(|m| {
        m.is_empty()
            || m.get("annotations")
                .and_then(Value::as_object)
                .is_some_and(|a| a.is_empty())
    });
    if attributed && !empties && !krm_sdk::object::has_kpt_annotations(item) {
        return std::borrow::Cow::Borrowed(item);
    }
    std::borrow::Cow::Owned(clean_owned(item))
}

fn clean_owned(item: &Value) -> Value {
    let mut item = item.clone();
    // kpt's attributor runs while the reader's annotations are still on the
    // object: its annotation joins that map, where the reader put it (after the
    // fields the file had), not after fields the steps added since.
    if let Some(attribution) = attribution(&item) {
        item.set_annotation(BLUEPRINT, &attribution);
    }
    remove_kpt_annotations(&mut item);
    item
}

const BLUEPRINT: &str = "cnrm.cloud.google.com/blueprint";

/// Whether kpt's attributor (`internal/util/attribution`, `Attributor.Filter`)
/// stamps the object: an apiVersion with `.cnrm.` in it and a non-empty
/// `metadata`.
fn attributable(item: &Value) -> bool {
    item.api_version().contains(".cnrm.")
        && item
            .get("metadata")
            .is_some_and(|m| m.as_object().is_some_and(|m| !m.is_empty()))
}

/// The attribution kpt's attributor sets on the object, if it stamps it
/// (`recordAction` with the command group `fn`): `kpt-fn` alone, appended to a
/// value without `kpt-`, or merged into each part that names kpt (`kpt-pkg` becomes
/// `kpt-pkg-fn`; any part with `kpt` in it becomes such a part).
fn attribution(item: &Value) -> Option<String> {
    if !attributable(item) {
        return None;
    }
    let current = item.annotation(BLUEPRINT).unwrap_or("");
    if current.is_empty() {
        return Some("kpt-fn".into());
    }
    if !current.contains("kpt-") {
        return Some(format!("{current},kpt-fn"));
    }
    let parts: Vec<String> = current
        .split(',')
        .map(|part| {
            if !part.contains("kpt") {
                return part.to_string();
            }
            let mut merged = vec!["kpt"];
            if part.contains("pkg") {
                merged.push("pkg");
            }
            merged.push("fn");
            if part.contains("live") {
                merged.push("live");
            }
            merged.join("-")
        })
        .collect();
    Some(parts.join(","))
}

/// One document in our block style, with kpt's quoting of its attribution.
fn serialize(item: &Value) -> String {
    attribution_quoted(krm_sdk::yaml::to_string(item))
}

/// kpt's attributor writes its annotation single-quoted.
fn attribution_quoted(text: String) -> String {
    text.replace(
        &format!("    {BLUEPRINT}: kpt-fn\n"),
        &format!("    {BLUEPRINT}: 'kpt-fn'\n"),
    )
}

/// The line (1-based) where each document of a YAML file starts.
fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    for (i, line) in text.lines().enumerate() {
        if (line == "---" || line.starts_with("--- ")) && i > 0 {
            starts.push(i + 2);
        }
    }
    starts
}

/// Two threads that write temporary files beside their destinations (same file
/// system, so the later rename is atomic: an interrupted run leaves the old file
/// or the new one, never half of one). Creating thousands of files is the file
/// system's work, most of a monorepo render's time: it overlaps with rendering.
struct Writer {
    sender: Option<std::sync::mpsc::Sender<Staged>>,
    workers: Vec<std::thread::JoinHandle<(Vec<(PathBuf, PathBuf)>, Option<anyhow::Error>)>>,
}

impl Writer {
    fn start() -> Writer {
        let (sender, receiver) = std::sync::mpsc::channel::<Staged>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        let workers = (0..2)
            .map(|_| {
                let receiver = receiver.clone();
                std::thread::spawn(move || {
                    let mut renames = Vec::new();
                    let mut folders = std::collections::HashSet::new();
                    loop {
                        let next = match receiver.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => break,
                        };
                        let Ok((destination, text, permissions)) = next else {
                            break;
                        };
                        match write_temporary(&destination, &text, permissions, &mut folders) {
                            Ok(temporary) => renames.push((temporary, destination)),
                            Err(error) => return (renames, Some(error)),
                        }
                    }
                    (renames, None)
                })
            })
            .collect();
        Writer {
            sender: Some(sender),
            workers,
        }
    }

    /// Another sender to the same writing threads, for a subtree rendered on
    /// another thread; the files it sends are this writer's to finish.
    fn share(&self) -> Writer {
        Writer {
            sender: self.sender.clone(),
            workers: Vec::new(),
        }
    }

    fn send(
        &self,
        destination: PathBuf,
        text: String,
        permissions: Option<std::fs::Permissions>,
    ) -> Result<()> {
        self.sender
            .as_ref()
            .and_then(|s| s.send((destination, text, permissions)).ok())
            .ok_or_else(|| anyhow!("the file writers stopped"))
    }

    /// Waits for the writers: every (temporary, destination), or the first error
    /// with what was written.
    fn finish(
        mut self,
    ) -> std::result::Result<Vec<(PathBuf, PathBuf)>, (anyhow::Error, Vec<(PathBuf, PathBuf)>)>
    {
        drop(self.sender.take());
        let mut renames = Vec::new();
        let mut failure = None;
        for worker in self.workers.drain(..) {
            match worker.join() {
                Ok((written, error)) => {
                    renames.extend(written);
                    failure = failure.or(error);
                }
                Err(_) => failure = failure.or(Some(anyhow!("a file writer stopped"))),
            }
        }
        match failure {
            None => Ok(renames),
            Some(error) => Err((error, renames)),
        }
    }
}

/// A file to stage: its destination, text, and the permissions of the file it
/// replaces when that was read.
type Staged = (PathBuf, String, Option<std::fs::Permissions>);

/// A file's text and permissions, with the system calls of `fs::read_to_string`.
fn read_text(path: &Path) -> std::io::Result<(String, std::fs::Permissions)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    let mut text = String::with_capacity(metadata.len() as usize);
    file.read_to_string(&mut text)?;
    Ok((text, metadata.permissions()))
}

/// Writes `text` to a temporary file beside `destination`, with the permissions
/// of the file it replaces (`permissions`, as read; else asked of the disk).
/// `folders` are those this thread made or found already: a monorepo's files
/// are mostly in a few folders per package, and asking for each costs two system
/// calls per file.
fn write_temporary(
    destination: &Path,
    text: &str,
    permissions: Option<std::fs::Permissions>,
    folders: &mut std::collections::HashSet<PathBuf>,
) -> Result<PathBuf> {
    write_temporary_file(destination, text, permissions, folders)
        .with_context(|| temporary_name(destination).display().to_string())
}

/// The suffix of every temporary file a render writes (`.NAME.lummo-tmp` beside
/// NAME); one left behind by a killed render is removed by the next one.
const TEMPORARY_SUFFIX: &str = ".lummo-tmp";

fn temporary_name(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    destination.with_file_name(format!(".{name}{TEMPORARY_SUFFIX}"))
}

/// The temporary files on disk, and whether the process is stopping: a file is
/// created only while this lock is held and the process is not stopping, so the
/// interrupt handler ([`remove_temporaries`]) finds every one of them.
static TEMPORARIES: std::sync::Mutex<(bool, Vec<PathBuf>)> =
    std::sync::Mutex::new((false, Vec::new()));

/// For SIGINT and SIGTERM: removes every temporary file and keeps any more from
/// being created; the caller exits. A replaced file holds its old text or its
/// new one (each rename is atomic), never half of one.
pub fn remove_temporaries() {
    let mut guard = TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner());
    guard.0 = true;
    for path in guard.1.drain(..) {
        let _ = std::fs::remove_file(path);
    }
    // The lock stays held: a writer waiting for it never creates another file.
    std::mem::forget(guard);
}

/// Removes the temporary files on SIGINT and SIGTERM, then exits as a shell
/// reports a signal (128 + its number).
pub fn clean_up_on_interrupt() -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            remove_temporaries();
            eprintln!(
                "interrupted: temporary files removed; each file holds its old text, or its new one if it was already replaced"
            );
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

fn write_temporary_file(
    destination: &Path,
    text: &str,
    permissions: Option<std::fs::Permissions>,
    folders: &mut std::collections::HashSet<PathBuf>,
) -> Result<PathBuf> {
    use std::io::Write;
    if let Some(parent) = destination.parent() {
        if !folders.contains(parent) {
            std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
            folders.insert(parent.to_path_buf());
        }
    }
    let temporary = temporary_name(destination);
    let permissions =
        permissions.or_else(|| std::fs::metadata(destination).ok().map(|m| m.permissions()));
    let mut file = {
        let mut guard = TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner());
        if guard.0 {
            bail!("interrupted");
        }
        let file = std::fs::File::create(&temporary)?;
        guard.1.push(temporary.clone());
        file
    };
    file.write_all(text.as_bytes())?;
    // On the open file: no second walk of the path.
    // A file system without modes refuses; the file is written all the same.
    if let Some(permissions) = permissions {
        let _ = file.set_permissions(permissions);
    }
    Ok(temporary)
}

/// Writes whole files into a new folder (nothing there to protect).
fn write_files(target: &Path, files: &[(String, String)]) -> Result<()> {
    for (path, text) in files {
        let destination = target.join(path);
        if let Some(parent) = destination.parent() {
            std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
        }
        std::fs::write(&destination, text).with_context(|| destination.display().to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names() {
        assert_eq!(
            image_name("ghcr.io/lummo/krm-functions/lummo-workload:v0.1.0"),
            "lummo-workload"
        );
        assert_eq!(image_name("lummo-pubsub@sha256:abc"), "lummo-pubsub");
    }
}
