//! `lummo diff BASE [HEAD]`: what a change does to the rendered manifests, per
//! app and object, without a cluster and without touching the working tree.
//!
//! The two sides are git revisions (HEAD: the working tree by default) or two
//! folders. Each side is a list of files; the files that differ decide which kpt
//! packages render: only those, on both sides. A package's files are copied into
//! a temporary folder, in memory where the system has one (a revision's blobs
//! read with one `git cat-file --batch`)
//! and rendered there in process, so the working tree and the index stay as they
//! are, and the objects `lummo render --manifests` would print are compared.
//!
//! The unit that renders (an "app") is a package no pipeline above it touches:
//! a package whose ancestors have no pipeline on either side. Such a package
//! renders alone, without the folders of the units below it (what a package
//! without pipeline holds is rendered as is, so its units are independent, as
//! `lummo render` treats them).
//!
//! Both sides render with provenance (issue 32, `lummo_core::origins`): each
//! changed field of a generated object names the spec fields its record reads
//! that changed, with their lines ([`field_causes`]); objects without a record
//! fall back to the spec's changed fields ([`causes`]).

use anyhow::{anyhow, bail, Context as _, Result};
use krm_sdk::{ObjectExt, Value};
use lummo_core::origins::{changed_paths, covers, pointer, Origin};
use lummo_render::{FieldSource, ObjectProvenance};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What `lummo diff` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A unified diff per object (`git apply`-style headers).
    Unified,
    /// A pull-request comment: a summary table, then one collapsed section per app.
    Markdown,
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// A git revision of the repository around the current folder.
    Revision(String),
    /// The working tree of that repository, untracked files included (ignored ones not).
    WorkingTree,
    /// A folder, outside of git.
    Folder(PathBuf),
}

impl Side {
    fn label(&self) -> String {
        match self {
            Side::Revision(rev) => rev.clone(),
            Side::WorkingTree => "working tree".into(),
            Side::Folder(dir) => dir.display().to_string(),
        }
    }
}

/// Reads `BASE [HEAD]` as the CLI gets them: two folders when both are
/// folders, else git revisions (HEAD defaults to the working tree).
pub fn sides(base: &str, head: Option<&str>) -> (Side, Side) {
    match head {
        Some(head) if Path::new(base).is_dir() && Path::new(head).is_dir() => (
            Side::Folder(PathBuf::from(base)),
            Side::Folder(PathBuf::from(head)),
        ),
        Some(head) => (
            Side::Revision(base.to_string()),
            Side::Revision(head.to_string()),
        ),
        None => (Side::Revision(base.to_string()), Side::WorkingTree),
    }
}

/// How an object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Changed,
    Deleted,
}

/// An object that differs between the sides.
pub struct ObjectChange {
    /// `Kind namespace/name` (`Kind name` without namespace).
    pub object: String,
    pub change: Change,
    /// Its manifest on each side (`None`: absent).
    pub old: Option<String>,
    pub new: Option<String>,
    /// Why a reviewer should look twice, most serious first.
    pub risks: Vec<Risk>,
    /// The spec changes behind it (its `lummo.dev/generated-by` spec's changed
    /// fields, with their lines), or why none.
    pub causes: Vec<String>,
}

/// What makes a change risky, most serious first (the order of the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RiskKind {
    PubSubDeletion,
    Deletion,
    ImmutableField,
    SecurityContext,
    NetworkPolicy,
    ReplicaDrop,
    ServiceType,
}

/// A reason to look twice at a change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Risk {
    pub kind: RiskKind,
    pub message: String,
}

impl ObjectChange {
    /// Its most serious risk, for ordering (`None`: not risky, last).
    fn severity(&self) -> (bool, Option<RiskKind>) {
        let first = self.risks.first().map(|r| r.kind);
        (first.is_none(), first)
    }
}

/// An app (a package that renders on its own) and its changed objects, risky first.
pub struct AppChanges {
    /// Its folder relative to the compared root (`.` for the root).
    pub app: String,
    pub objects: Vec<ObjectChange>,
}

impl AppChanges {
    fn count(&self, change: Change) -> usize {
        self.objects.iter().filter(|o| o.change == change).count()
    }
    fn risky(&self) -> usize {
        self.objects.iter().filter(|o| !o.risks.is_empty()).count()
    }
    fn severity(&self) -> (bool, Option<RiskKind>) {
        self.objects
            .iter()
            .map(ObjectChange::severity)
            .min()
            .unwrap_or((true, None))
    }
}

/// The whole comparison.
pub struct DiffReport {
    pub base: String,
    pub head: String,
    /// Apps with a changed object: risky ones first, then by folder.
    pub apps: Vec<AppChanges>,
    /// Packages rendered (per side) because their inputs changed.
    pub rendered_packages: usize,
}

impl DiffReport {
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
    }
}

/// Compares the rendered manifests of `base` and `head`. `dir` is where the
/// command runs: the git repository (its part below `dir` only) or nothing for
/// two folders.
pub fn diff(
    dir: &Path,
    base: &Side,
    head: &Side,
    settings: &lummo_render::Settings,
) -> Result<DiffReport> {
    let (old, new) = match (base, head) {
        (Side::Folder(a), Side::Folder(b)) => (Tree::folder(a)?, Tree::folder(b)?),
        (Side::Revision(_), Side::Revision(_) | Side::WorkingTree) => {
            let repo = Repo::open(dir)?;
            (repo.tree(base)?, repo.tree(head)?)
        }
        _ => bail!("lummo diff compares two git revisions, a revision and the working tree, or two folders"),
    };
    let changed = changed_files(&old, &new)?;
    let units = Units::new(&old, &new)?;
    let mut apps: BTreeSet<String> = BTreeSet::new();
    for file in &changed {
        if let Some(unit) = units.unit_of(file) {
            apps.insert(unit.to_string());
            // A Kptfile that comes or goes moves files between this unit and the
            // one around it: that one renders too.
            if file_name(file) == "Kptfile" && unit == parent_dir(file) {
                if let Some(outer) = parent_of(unit).and_then(|p| units.unit_of_dir(p)) {
                    apps.insert(outer.to_string());
                }
            }
        }
    }
    let work = TempDir::new()?;
    let apps: Vec<String> = apps.into_iter().collect();
    // One render per side for the apps below the root (each an independent
    // subpackage there, rendered on the render's threads), another for the root
    // app: the per-render costs are paid once, not per app.
    let below: Vec<&str> = apps
        .iter()
        .map(String::as_str)
        .filter(|a| !a.is_empty())
        .collect();
    let root: Vec<&str> = apps
        .iter()
        .map(String::as_str)
        .filter(|a| a.is_empty())
        .collect();
    let mut jobs: Vec<(usize, &Tree, &[&str], PathBuf)> = Vec::new();
    for (side, tree) in [(0, &old), (1, &new)] {
        for (name, group) in [("below", &below), ("root", &root)] {
            if !group.is_empty() {
                jobs.push((
                    side,
                    tree,
                    group.as_slice(),
                    work.path.join(format!("{side}-{name}")),
                ));
            }
        }
    }
    let mut by_app: [BTreeMap<String, SideObjects>; 2] = Default::default();
    for (side, tree, group, folder) in &jobs {
        let objects = render_apps(tree, *side, &units, group, folder, settings)?;
        for (app, objects) in group.iter().zip(objects) {
            by_app[*side].insert(app.to_string(), objects);
        }
    }
    let mut sides: Vec<SideObjects> = Vec::with_capacity(apps.len() * 2);
    for app in &apps {
        for side in &mut by_app {
            sides.push(side.remove(app).unwrap_or_default());
        }
    }
    let mut report = DiffReport {
        base: base.label(),
        head: head.label(),
        apps: Vec::new(),
        rendered_packages: apps.len(),
    };
    for (app, pair) in apps.iter().zip(sides.chunks(2)) {
        let objects = compare(&pair[0], &pair[1]);
        if !objects.is_empty() {
            report.apps.push(AppChanges {
                app: if app.is_empty() {
                    ".".into()
                } else {
                    app.clone()
                },
                objects,
            });
        }
    }
    report.apps.sort_by_key(|a| (a.severity(), a.app.clone()));
    Ok(report)
}

/// Where a file's content is.
#[derive(Clone, PartialEq, Eq)]
enum Source {
    /// A git blob (its object id).
    Blob(String),
    Disk(PathBuf),
}

/// One side's files, by path relative to the compared root ('/'-separated).
struct Tree {
    label: String,
    files: BTreeMap<String, Source>,
    /// The repository whose blobs `Source::Blob` names; `None` for folders.
    repo: Option<PathBuf>,
    /// The compared folder relative to the repository's top (`Repo::prefix`).
    prefix: String,
    kind: TreeKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TreeKind {
    Revision,
    WorkingTree,
    Folder,
}

impl Tree {
    fn folder(root: &Path) -> Result<Tree> {
        if !root.is_dir() {
            bail!("{}: not a folder", root.display());
        }
        let mut files = BTreeMap::new();
        walk(root, "", &mut files)
            .with_context(|| format!("reading the folder {}", root.display()))?;
        Ok(Tree {
            label: root.display().to_string(),
            files,
            repo: None,
            prefix: String::new(),
            kind: TreeKind::Folder,
        })
    }

    fn read(&self, path: &str) -> Result<Vec<u8>> {
        match &self.files[path] {
            Source::Disk(file) => {
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))
            }
            Source::Blob(id) => Ok(read_blobs(
                self.repo.as_deref().unwrap_or(Path::new(".")),
                std::slice::from_ref(id),
            )?
            .remove(0)),
        }
    }

    /// The contents of `paths`, one git process for all the blobs.
    fn read_all(&self, paths: &[&str]) -> Result<Vec<Vec<u8>>> {
        let ids: Vec<String> = paths
            .iter()
            .filter_map(|p| match &self.files[*p] {
                Source::Blob(id) => Some(id.clone()),
                Source::Disk(_) => None,
            })
            .collect();
        let mut blobs = match &self.repo {
            Some(repo) if !ids.is_empty() => read_blobs(repo, &ids)?.into_iter(),
            _ => Vec::new().into_iter(),
        };
        paths
            .iter()
            .map(|p| match &self.files[*p] {
                Source::Blob(_) => blobs.next().ok_or_else(|| anyhow!("git cat-file lost {p}")),
                Source::Disk(_) => self.read(p),
            })
            .collect()
    }
}

/// Every file below `dir`, `.git` folders and symbolic links left out.
fn walk(dir: &Path, prefix: &str, files: &mut BTreeMap<String, Source>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        let relative = join(prefix, &name);
        if kind.is_dir() && name != ".git" {
            walk(&entry.path(), &relative, files)?;
        } else if kind.is_file() {
            files.insert(relative, Source::Disk(entry.path()));
        }
    }
    Ok(())
}

/// The git repository around the current folder, and the part of it compared.
struct Repo {
    top: PathBuf,
    /// The compared folder relative to `top`, with a trailing `/` (empty: all).
    prefix: String,
}

impl Repo {
    fn open(dir: &Path) -> Result<Repo> {
        let top = git(dir, &["rev-parse", "--show-toplevel"]).with_context(|| {
            format!(
                "{} is not in a git repository; to compare two folders, give both: lummo diff OLD_DIR NEW_DIR",
                dir.display()
            )
        })?;
        let prefix = git(dir, &["rev-parse", "--show-prefix"])?;
        Ok(Repo {
            top: PathBuf::from(String::from_utf8_lossy(&top).trim_end_matches('\n')),
            prefix: String::from_utf8_lossy(&prefix)
                .trim_end_matches('\n')
                .to_string(),
        })
    }

    fn tree(&self, side: &Side) -> Result<Tree> {
        let mut files = BTreeMap::new();
        let kind = match side {
            Side::Revision(rev) => {
                let commit = format!("{rev}^{{commit}}");
                if git(&self.top, &["rev-parse", "--verify", "--quiet", &commit]).is_err() {
                    bail!(
                        "unknown revision {rev:?}: not a commit of the repository at {}; \
                         `git log --oneline` lists them (to compare folders, give two existing folders)",
                        self.top.display()
                    );
                }
                let listing = git(&self.top, &["ls-tree", "-r", "-z", "--full-tree", &commit])?;
                for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
                    let entry = String::from_utf8_lossy(entry);
                    // "<mode> <type> <id>\t<path>"; symbolic links and submodules left out.
                    let Some((meta, path)) = entry.split_once('\t') else {
                        continue;
                    };
                    let mut meta = meta.split(' ');
                    let (Some(mode), Some("blob"), Some(id)) =
                        (meta.next(), meta.next(), meta.next())
                    else {
                        continue;
                    };
                    if mode == "120000" {
                        continue;
                    }
                    if let Some(relative) = path.strip_prefix(self.prefix.as_str()) {
                        files.insert(relative.to_string(), Source::Blob(id.to_string()));
                    }
                }
                TreeKind::Revision
            }
            Side::WorkingTree => {
                let listing = git(
                    &self.top,
                    &[
                        "ls-files",
                        "-z",
                        "--cached",
                        "--others",
                        "--exclude-standard",
                    ],
                )?;
                for path in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
                    let path = String::from_utf8_lossy(path);
                    let Some(relative) = path.strip_prefix(self.prefix.as_str()) else {
                        continue;
                    };
                    let file = self.top.join(path.as_ref());
                    // Deleted files are still in the index; links are left out as for revisions.
                    if std::fs::symlink_metadata(&file).is_ok_and(|m| m.is_file()) {
                        files.insert(relative.to_string(), Source::Disk(file));
                    }
                }
                TreeKind::WorkingTree
            }
            Side::Folder(_) => unreachable!("folders are not read through git"),
        };
        Ok(Tree {
            label: side.label(),
            files,
            repo: Some(self.top.clone()),
            prefix: self.prefix.clone(),
            kind,
        })
    }

    /// Files of the working tree that differ from `rev` (content, not stat).
    fn changed_in_working_tree(&self, rev: &str) -> Result<BTreeSet<String>> {
        let scope = if self.prefix.is_empty() {
            "."
        } else {
            self.prefix.as_str()
        };
        let mut changed = BTreeSet::new();
        for args in [
            &[
                "diff",
                "--name-only",
                "-z",
                "--no-renames",
                "--no-ext-diff",
                "--no-relative",
                rev,
                "--",
                scope,
            ][..],
            &[
                "ls-files",
                "-z",
                "--others",
                "--exclude-standard",
                "--",
                scope,
            ][..],
        ] {
            for path in git(&self.top, args)?
                .split(|b| *b == 0)
                .filter(|e| !e.is_empty())
            {
                let path = String::from_utf8_lossy(path);
                if let Some(relative) = path.strip_prefix(self.prefix.as_str()) {
                    changed.insert(relative.to_string());
                }
            }
        }
        Ok(changed)
    }
}

/// The files that differ between the sides.
fn changed_files(old: &Tree, new: &Tree) -> Result<BTreeSet<String>> {
    let mut changed: BTreeSet<String> = old
        .files
        .keys()
        .filter(|p| !new.files.contains_key(*p))
        .chain(new.files.keys().filter(|p| !old.files.contains_key(*p)))
        .cloned()
        .collect();
    let both: Vec<&str> = old
        .files
        .keys()
        .filter(|p| new.files.contains_key(*p))
        .map(String::as_str)
        .collect();
    match (old.kind, new.kind) {
        (TreeKind::Revision, TreeKind::Revision) => {
            changed.extend(
                both.iter()
                    .filter(|p| old.files[**p] != new.files[**p])
                    .map(|p| p.to_string()),
            );
        }
        (TreeKind::Revision, TreeKind::WorkingTree) => {
            let repo = Repo {
                top: new.repo.clone().unwrap_or_default(),
                prefix: new.prefix.clone(),
            };
            changed.extend(
                repo.changed_in_working_tree(&old.label)?
                    .into_iter()
                    .filter(|p| old.files.contains_key(p) || new.files.contains_key(p)),
            );
        }
        _ => {
            let compared = krm_sdk::parallel::map(&both, |path| {
                Ok::<_, anyhow::Error>(
                    (old.read(path)? != new.read(path)?).then(|| path.to_string()),
                )
            });
            for result in compared {
                changed.extend(result?);
            }
        }
    }
    Ok(changed)
}

/// The packages that render on their own, from both sides' Kptfiles.
struct Units {
    /// Folders ("" the root) with a Kptfile, per side.
    on_side: [BTreeSet<String>; 2],
    units: BTreeSet<String>,
}

impl Units {
    fn new(old: &Tree, new: &Tree) -> Result<Units> {
        let mut packages = BTreeSet::new();
        let mut on_side: [BTreeSet<String>; 2] = Default::default();
        let mut with_pipeline = BTreeSet::new();
        for (side, tree) in [old, new].into_iter().enumerate() {
            let kptfiles: Vec<&str> = tree
                .files
                .keys()
                .filter(|p| file_name(p) == "Kptfile")
                .map(String::as_str)
                .collect();
            let texts = tree.read_all(&kptfiles)?;
            for (path, text) in kptfiles.iter().zip(texts) {
                let dir = parent_dir(path).to_string();
                if has_pipeline(&String::from_utf8_lossy(&text)) {
                    with_pipeline.insert(dir.clone());
                }
                packages.insert(dir.clone());
                on_side[side].insert(dir);
            }
        }
        // A package is a unit unless a package above it has a pipeline (on
        // either side: then that package renders with everything below it).
        let units = packages
            .iter()
            .filter(|p| !with_pipeline.iter().any(|a| a != *p && is_below(p, a)))
            .cloned()
            .collect();
        Ok(Units { on_side, units })
    }

    /// The deepest unit holding `file`.
    fn unit_of(&self, file: &str) -> Option<&str> {
        self.unit_of_dir(parent_dir(file))
    }

    fn unit_of_dir(&self, dir: &str) -> Option<&str> {
        let mut dir = Some(dir);
        while let Some(d) = dir {
            if let Some(unit) = self.units.get(d) {
                return Some(unit);
            }
            dir = parent_of(d);
        }
        None
    }

    /// Whether `file` belongs to `unit` on `side` (not to a unit below it that
    /// has a Kptfile there).
    fn holds(&self, unit: &str, side: usize, file: &str) -> bool {
        let mut dir = Some(parent_dir(file));
        while let Some(d) = dir {
            if d == unit {
                return true;
            }
            if self.units.contains(d) && self.on_side[side].contains(d) {
                return false;
            }
            dir = parent_of(d);
        }
        false
    }
}

/// Whether a Kptfile's text has pipeline steps (an unreadable one counts as
/// having them, so the package renders as a whole and its error shows).
fn has_pipeline(text: &str) -> bool {
    let Ok(documents) = krm_sdk::yaml::parse_documents(text, &Default::default()) else {
        return true;
    };
    documents.iter().any(|d| {
        ["mutators", "validators"].iter().any(|steps| {
            d.pointer(&format!("/pipeline/{steps}"))
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty())
        })
    })
}

/// The manifests of one side of an app: `Kind namespace/name` → (group, text, value).
type Objects = BTreeMap<(String, String), (String, Value)>;

/// What one side of an app rendered: its manifests and the Lummo specs they
/// came from (`Kind/name` → where the spec is and what it says).
#[derive(Default)]
struct SideObjects {
    objects: Objects,
    specs: BTreeMap<String, SpecSource>,
    /// Where each generated object's fields come from (issue 32), by the keys
    /// of `objects`.
    provenance: BTreeMap<(String, String), ObjectProvenance>,
}

/// A Lummo spec as read: its file (relative to the compared root), document
/// index, the file's text (for line numbers) and its value.
struct SpecSource {
    file: String,
    index: usize,
    text: std::sync::Arc<String>,
    value: Value,
}

/// Copies the files of `apps` (all below the root, or the root alone) of one
/// side into `folder` at their paths, renders them in one render (under a
/// Kptfile without pipeline made here, unless the root is the app: each app
/// then renders as the independent subpackage it is) and returns each app's
/// manifests and specs, in the order of `apps`. An app without a Kptfile on that
/// side has none.
fn render_apps(
    tree: &Tree,
    side: usize,
    units: &Units,
    apps: &[&str],
    folder: &Path,
    settings: &lummo_render::Settings,
) -> Result<Vec<SideObjects>> {
    let mut out: Vec<SideObjects> = apps.iter().map(|_| SideObjects::default()).collect();
    let present: Vec<&str> = apps
        .iter()
        .copied()
        .filter(|app| units.on_side[side].contains(*app))
        .collect();
    if present.is_empty() {
        return Ok(out);
    }
    let paths: Vec<&str> = tree
        .files
        .keys()
        .filter(|p| present.iter().any(|app| units.holds(app, side, p)))
        .map(String::as_str)
        .collect();
    let contents = tree.read_all(&paths)?;
    for (path, content) in paths.iter().zip(contents) {
        let target = folder.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&target, content)?;
    }
    if !present.contains(&"") {
        std::fs::write(
            folder.join("Kptfile"),
            "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: lummo-diff\n  \
             annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
        )?;
    }
    let settings = lummo_render::Settings {
        provenance: lummo_render::Provenance::Record,
        ..settings.clone()
    };
    let rendered = lummo_render::render_quietly(folder, settings, lummo_render::Target::Items)
        .map_err(|error| anyhow!("{}: a package does not render: {error:#}", tree.label))?;
    if rendered.failed() {
        let mut packages: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for finding in rendered.findings.iter().filter(|f| f.result.is_error()) {
            let file = finding
                .result
                .file
                .as_ref()
                .map(|file| format!("{}: ", file.path))
                .unwrap_or_default();
            packages
                .entry(finding.package.as_str())
                .or_default()
                .push(format!("  {file}{}", finding.result.message));
        }
        let text: Vec<String> = packages
            .iter()
            .map(|(package, errors)| {
                format!(
                    "{}: package {package} does not render:\n{}\n(`lummo render {package}` on that side shows every result)",
                    tree.label,
                    errors.join("\n")
                )
            })
            .collect();
        bail!("{}", text.join("\n"));
    }
    // Which app an object or spec belongs to: the deepest app above its file.
    let app_of = |path: &str| -> Option<usize> {
        let dir = parent_dir(path);
        apps.iter()
            .enumerate()
            .filter(|(_, app)| is_below(dir, app))
            .max_by_key(|(_, app)| app.len())
            .map(|(i, _)| i)
    };
    let mut texts: BTreeMap<String, std::sync::Arc<String>> = BTreeMap::new();
    for item in &rendered.items {
        let value = item.value();
        if value.api_version().split('/').next() != Some(lummo_core::GROUP) {
            continue;
        }
        let Some(file) = value.file_ref() else {
            continue;
        };
        let Some(app) = app_of(&file.path) else {
            continue;
        };
        // The inputs as written: a render for items writes nothing to the folder.
        let text = match texts.get(&file.path) {
            Some(text) => text.clone(),
            None => {
                let text = std::sync::Arc::new(
                    std::fs::read_to_string(folder.join(&file.path)).unwrap_or_default(),
                );
                texts.insert(file.path.clone(), text.clone());
                text
            }
        };
        // Keyed as `lummo.dev/generated-by` names the spec (`Kind/namespace/name`
        // in a namespace).
        let key = match value.namespace() {
            "" => format!("{}/{}", value.kind(), value.name()),
            namespace => format!("{}/{namespace}/{}", value.kind(), value.name()),
        };
        out[app].specs.insert(
            key,
            SpecSource {
                file: file.path.clone(),
                index: file.index as usize,
                text,
                value: strip_for_compare(value),
            },
        );
    }
    let configs = lummo_render::function_config_paths(folder)?;
    for item in lummo_render::manifest_items(&rendered.items, &configs) {
        let value = item.value();
        let Some(app) = value.file_ref().and_then(|f| app_of(&f.path)) else {
            continue;
        };
        let group = value.api_version().split_once('/').map_or("", |(g, _)| g);
        let object = match value.namespace() {
            "" => format!("{} {}", value.kind(), value.name()),
            namespace => format!("{} {namespace}/{}", value.kind(), value.name()),
        };
        let text = lummo_render::manifest_text(item);
        let key = (object, group.to_string());
        let provenance = value
            .file_ref()
            .and_then(|f| rendered.provenance.get(&(f.path, f.index)));
        if let Some(provenance) = provenance {
            out[app].provenance.insert(key.clone(), provenance.clone());
        }
        out[app]
            .objects
            .insert(key, (text, strip_for_compare(value)));
    }
    Ok(out)
}

fn strip_for_compare(value: &Value) -> Value {
    krm_sdk::object::without_kpt_annotations(value)
}

/// The changed objects of one app, risky ones first.
fn compare(old_side: &SideObjects, new_side: &SideObjects) -> Vec<ObjectChange> {
    let (old, new) = (&old_side.objects, &new_side.objects);
    let keys: BTreeSet<&(String, String)> = old.keys().chain(new.keys()).collect();
    let mut changes = Vec::new();
    for key in keys {
        let (before, after) = (old.get(key), new.get(key));
        let change = match (before, after) {
            (Some(a), Some(b)) if a.0 == b.0 => continue,
            (Some(_), Some(_)) => Change::Changed,
            (Some(_), None) => Change::Deleted,
            (None, Some(_)) => Change::Added,
            (None, None) => continue,
        };
        changes.push(ObjectChange {
            object: key.0.clone(),
            change,
            risks: risks(before.map(|b| &b.1), after.map(|a| &a.1)),
            causes: field_causes(key, old_side, new_side)
                .unwrap_or_else(|| causes(before.or(after).map(|v| &v.1), old_side, new_side)),
            old: before.map(|b| b.0.clone()),
            new: after.map(|a| a.0.clone()),
        });
    }
    // Stable: objects of the same severity stay in key order.
    changes.sort_by_key(ObjectChange::severity);
    changes
}

/// At most this many changed spec fields are named per object.
const MAX_CAUSES: usize = 5;

/// Per changed field of a generated object, where its change comes from (its
/// recorded origin, `lummo_core::origins`): `spec.minReplicaCount 1 → 3:
/// spec.scaling.minreplica in workload/foobar-api.yaml:33`. Fields with the
/// same explanation are one line. For an added or removed object, what makes it
/// exist. `None` when no side recorded the object's provenance (an object no
/// Lummo function generated, or one whose function records none).
fn field_causes(
    key: &(String, String),
    old: &SideObjects,
    new: &SideObjects,
) -> Option<Vec<String>> {
    let provenance = new.provenance.get(key).or(old.provenance.get(key))?;
    let (_, spec_key) = provenance.generated_by.split_once(':')?;
    let (old_spec, new_spec) = (old.specs.get(spec_key), new.specs.get(spec_key));
    let spec_changes = match (old_spec, new_spec) {
        (Some(a), Some(b)) => changed_paths(Some(&a.value), Some(&b.value)),
        _ => Vec::new(),
    };
    let explain = |origin: &Origin| -> String {
        explain_origin(
            origin,
            provenance.function,
            &spec_changes,
            old_spec,
            new_spec,
        )
    };
    let (before, after) = (old.objects.get(key), new.objects.get(key));
    let (Some(before), Some(after)) = (before, after) else {
        let made = match &provenance.origins.made_by {
            Some(origin) => explain(origin),
            None => format!("every {} {} generates", spec_key, provenance.function),
        };
        let what = if after.is_some() { "added" } else { "removed" };
        return Some(vec![format!("object {what}: {made}")]);
    };
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for path in changed_paths(Some(&before.1), Some(&after.1)) {
        if path == format!("metadata.annotations['{}']", lummo_core::GENERATED_HASH) {
            continue; // the hash of what changed: it changes with any field
        }
        let why = match provenance.source_of(&path) {
            FieldSource::Step(step) => format!("set by {step}"),
            FieldSource::Rule(function) => format!("rule of {function}"),
            FieldSource::Recorded(origin) => explain(origin),
        };
        let change = change_of(
            &path,
            before.1.pointer(&pointer(&path)),
            after.1.pointer(&pointer(&path)),
        );
        match groups.iter_mut().find(|(w, _)| *w == why) {
            Some((_, changes)) => changes.push(change),
            None => groups.push((why, vec![change])),
        }
    }
    let mut out: Vec<String> = groups
        .iter()
        .take(MAX_CAUSES)
        .map(|(why, changes)| match changes.len() {
            1 => format!("{}: {why}", changes[0]),
            n => format!("{} (and {} more field(s)): {why}", changes[0], n - 1),
        })
        .collect();
    if groups.len() > MAX_CAUSES {
        out.push(format!("{} more cause(s)", groups.len() - MAX_CAUSES));
    }
    Some(out)
}

/// `path old → new`; of a text of several lines (a config file), its first
/// differing line.
fn change_of(path: &str, old: Option<&Value>, new: Option<&Value>) -> String {
    if let (Some(Value::String(a)), Some(Value::String(b))) = (old, new) {
        if a.contains('\n') || b.contains('\n') {
            let (a_lines, b_lines): (Vec<&str>, Vec<&str>) =
                (a.lines().collect(), b.lines().collect());
            let n = (0..a_lines.len().max(b_lines.len()))
                .find(|i| a_lines.get(*i) != b_lines.get(*i))
                .unwrap_or(0);
            let line = |l: Option<&&str>| {
                l.map_or("(none)".to_string(), |l| brief(Some(&Value::from(*l))))
            };
            return format!(
                "{path} line {}: {} → {}",
                n + 1,
                line(a_lines.get(n)),
                line(b_lines.get(n))
            );
        }
    }
    format!("{path} {} → {}", one_line(old), one_line(new))
}

/// [`brief`] on one line: a text of several lines is quoted with its line
/// breaks escaped (a `# from:` line must stay one line).
fn one_line(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) if text.contains('\n') => brief(Some(&Value::String(
            serde_json::to_string(text).unwrap_or_default(),
        ))),
        other => brief(other),
    }
}

/// An origin in a diff's words: the spec fields it reads that changed, with
/// their file and line (on the side that has them), or why none did.
fn explain_origin(
    origin: &Origin,
    function: &str,
    spec_changes: &[String],
    old: Option<&SpecSource>,
    new: Option<&SpecSource>,
) -> String {
    let at = |field: &str| -> String {
        let has = |s: &&SpecSource| lummo_core::origins::value_at(&s.value, field).is_some();
        let source = match new.filter(has) {
            Some(source) => Some(source),
            None => old.filter(has).or(new),
        };
        match source {
            Some(source) => {
                let line = krm_sdk::locate::field_position(&source.text, source.index, field)
                    .map(|(line, _)| format!(":{line}"))
                    .unwrap_or_default();
                format!("{field} in {}{line}", source.file)
            }
            None => field.to_string(),
        }
    };
    // A spec may write a list of one as a mapping: its changes' paths lack the
    // `[0]` the records have.
    let canonical = |field: &str| -> Vec<String> {
        [old, new]
            .iter()
            .flatten()
            .map(|s| lummo_core::origins::canonical(&s.value, field))
            .collect()
    };
    let changed: Vec<&str> = origin
        .spec_fields()
        .into_iter()
        .filter(|field| {
            canonical(field).iter().any(|field| {
                spec_changes
                    .iter()
                    .any(|c| covers(field, c) || covers(c, field))
            })
        })
        .collect();
    let rule = match origin {
        Origin::Config { field } => return format!("`{field}` of {function}'s functionConfig"),
        Origin::Default { rule, .. } | Origin::Derived { rule, .. } => Some(rule),
        Origin::Spec { .. } => None,
    };
    if changed.is_empty() {
        let fields: Vec<String> = origin.spec_fields().iter().map(|f| at(f)).collect();
        return format!(
            "{}{} unchanged: a function config, another spec or the functions changed",
            rule.map(|r| format!("{r}; ")).unwrap_or_default(),
            fields.join(", ")
        );
    }
    let fields: Vec<String> = changed.iter().map(|f| at(f)).collect();
    match rule {
        Some(rule) => format!("{} ({rule})", fields.join(", ")),
        None => fields.join(", "),
    }
}

/// The spec behind a generated object (`lummo.dev/generated-by`) and what
/// changed in it, for an object no record covers (object level: which spec fields
/// changed, not yet which rule made which output field).
fn causes(object: Option<&Value>, old: &SideObjects, new: &SideObjects) -> Vec<String> {
    let Some(spec) = object
        .and_then(|o| o.annotation(lummo_core::GENERATED_BY))
        .and_then(|by| by.split_once(':'))
        .map(|(_, spec)| spec.to_string())
    else {
        return Vec::new();
    };
    match (old.specs.get(&spec), new.specs.get(&spec)) {
        (None, None) => Vec::new(),
        (None, Some(s)) => vec![format!("{spec} added in {}", s.file)],
        (Some(s), None) => vec![format!("{spec} removed from {}", s.file)],
        (Some(a), Some(b)) => {
            let mut fields = changed_paths(Some(&a.value), Some(&b.value));
            fields.retain(|f| !f.starts_with("metadata.annotations"));
            if fields.is_empty() {
                return vec![format!(
                    "{spec} ({}) is unchanged: a function config, another spec or the functions changed",
                    b.file
                )];
            }
            let mut out: Vec<String> = fields
                .iter()
                .take(MAX_CAUSES)
                .map(|field| {
                    // The line on the side that has the field (the old one for a removed field).
                    let source = match b.value.pointer(&pointer(field)) {
                        Some(_) => b,
                        None => a,
                    };
                    let line = krm_sdk::locate::field_position(&source.text, source.index, field)
                        .map(|(line, _)| format!(":{line}"))
                        .unwrap_or_default();
                    format!(
                        "{spec} {field}: {} → {} ({}{line})",
                        brief(a.value.pointer(&pointer(field))),
                        brief(b.value.pointer(&pointer(field))),
                        source.file
                    )
                })
                .collect();
            if fields.len() > MAX_CAUSES {
                out.push(format!(
                    "{spec}: {} more changed field(s)",
                    fields.len() - MAX_CAUSES
                ));
            }
            out
        }
    }
}

/// A value in a line: scalars as written, the rest as compact JSON, cut short.
fn brief(value: Option<&Value>) -> String {
    let text = show(value);
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

/// Fields an update cannot change (the apply fails), per kind.
const IMMUTABLE: &[(&str, &[&str])] = &[
    ("Deployment", &["/spec/selector"]),
    ("ReplicaSet", &["/spec/selector"]),
    ("DaemonSet", &["/spec/selector"]),
    (
        "StatefulSet",
        &[
            "/spec/selector",
            "/spec/serviceName",
            "/spec/volumeClaimTemplates",
            "/spec/podManagementPolicy",
        ],
    ),
    ("Rollout", &["/spec/selector"]),
    (
        "Job",
        &["/spec/selector", "/spec/template", "/spec/completionMode"],
    ),
    ("Service", &["/spec/clusterIP", "/spec/clusterIPs"]),
    (
        "PersistentVolumeClaim",
        &[
            "/spec/storageClassName",
            "/spec/accessModes",
            "/spec/volumeName",
        ],
    ),
    ("PubSubSubscription", &["/spec/topicRef"]),
    ("PubSubTopic", &["/spec/resourceID"]),
];

/// Replica counts whose drop a reviewer should see.
const REPLICAS: &[(&str, &str)] = &[
    ("Deployment", "/spec/replicas"),
    ("StatefulSet", "/spec/replicas"),
    ("Rollout", "/spec/replicas"),
    ("ScaledObject", "/spec/minReplicaCount"),
    ("ScaledObject", "/spec/maxReplicaCount"),
    ("HorizontalPodAutoscaler", "/spec/minReplicas"),
    ("HorizontalPodAutoscaler", "/spec/maxReplicas"),
];

/// Why a change is risky; empty when it is not.
pub fn risks(old: Option<&Value>, new: Option<&Value>) -> Vec<Risk> {
    let mut risks: Vec<Risk> = Vec::new();
    let mut add = |kind: RiskKind, message: String| risks.push(Risk { kind, message });
    let kind = old
        .or(new)
        .map(|v| v.kind().to_string())
        .unwrap_or_default();
    match (old, new) {
        (Some(_), None) => match kind.as_str() {
            "PubSubTopic" => add(
                RiskKind::PubSubDeletion,
                "Pub/Sub topic deleted: its messages and subscriptions go with it".into(),
            ),
            "PubSubSubscription" => add(
                RiskKind::PubSubDeletion,
                "Pub/Sub subscription deleted: its undelivered messages are lost".into(),
            ),
            _ => add(
                RiskKind::Deletion,
                "deleted from the cluster (Argo CD prunes it)".into(),
            ),
        },
        (Some(old), Some(new)) => {
            for (k, fields) in IMMUTABLE {
                if *k != kind {
                    continue;
                }
                for field in *fields {
                    if old.pointer(field) != new.pointer(field) {
                        add(RiskKind::ImmutableField, format!(
                            "{} changed: immutable, the update is refused (the object must be replaced)",
                            field.trim_start_matches('/').replace('/', ".")
                        ));
                    }
                }
            }
            if kind == "Service" && old.pointer("/spec/type") != new.pointer("/spec/type") {
                add(
                    RiskKind::ServiceType,
                    format!(
                        "spec.type {} → {}: how the Service is reached changes",
                        show(old.pointer("/spec/type")),
                        show(new.pointer("/spec/type"))
                    ),
                );
            }
            for (k, field) in REPLICAS {
                if *k != kind {
                    continue;
                }
                let (a, b) = (
                    old.pointer(field).and_then(Value::as_i64),
                    new.pointer(field).and_then(Value::as_i64),
                );
                if let (Some(a), Some(b)) = (a, b) {
                    if b < a {
                        add(
                            RiskKind::ReplicaDrop,
                            format!(
                                "{} drops {a} → {b}",
                                field.trim_start_matches('/').replace('/', ".")
                            ),
                        );
                    }
                }
            }
            let mut paths = Vec::new();
            security_contexts(old, new, "", &mut paths);
            for path in paths {
                add(RiskKind::SecurityContext, format!("{path} changed"));
            }
        }
        _ => {}
    }
    if kind == "NetworkPolicy" {
        add(
            RiskKind::NetworkPolicy,
            match (old, new) {
                (None, _) => "NetworkPolicy added: traffic it does not allow is cut",
                (_, None) => {
                    "NetworkPolicy removed: what it allowed may be cut, or all traffic allowed"
                }
                _ => "NetworkPolicy changed: who may reach the pods changes",
            }
            .into(),
        );
    }
    risks.sort();
    risks
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "(unset)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The paths of every `securityContext` that differs between `old` and `new`.
fn security_contexts(old: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (a.get(key), b.get(key)) {
                    (x, y) if key == "securityContext" && x != y => out.push(here),
                    (Some(x), Some(y)) => security_contexts(x, y, &here, out),
                    _ => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                security_contexts(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

impl DiffReport {
    /// One unified diff per changed object, headed by its risks as `#` lines.
    pub fn unified(&self) -> String {
        let mut out = String::new();
        for app in &self.apps {
            for object in &app.objects {
                let path = format!("{}/{}", app.app, object.object.replace(' ', "/"));
                for risk in &object.risks {
                    out.push_str(&format!(
                        "# risky: {} {}: {}\n",
                        app.app, object.object, risk.message
                    ));
                }
                for cause in &object.causes {
                    out.push_str(&format!("# from: {cause}\n"));
                }
                out.push_str(&object_diff(object, &path));
            }
        }
        out
    }

    /// A pull-request comment: a summary table, then one collapsed section per app.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "### `lummo diff` {} → {}\n\n",
            code(&self.base),
            code(&self.head)
        );
        if self.apps.is_empty() {
            out.push_str("No change in the rendered manifests.\n");
            return out;
        }
        let total = |c| self.apps.iter().map(|a| a.count(c)).sum::<usize>();
        let risky: usize = self.apps.iter().map(AppChanges::risky).sum();
        out.push_str(&format!(
            "{} app(s) change: {} object(s) added, {} changed, {} deleted; {} risky.\n\n",
            self.apps.len(),
            total(Change::Added),
            total(Change::Changed),
            total(Change::Deleted),
            risky
        ));
        out.push_str("| App | Added | Changed | Deleted | Risky |\n|---|--:|--:|--:|--:|\n");
        for app in &self.apps {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                code(&app.app),
                app.count(Change::Added),
                app.count(Change::Changed),
                app.count(Change::Deleted),
                match app.risky() {
                    0 => "0".to_string(),
                    n => format!("⚠️ {n}"),
                }
            ));
        }
        for app in &self.apps {
            out.push_str(&format!(
                "\n<details><summary>{}{}: {} added, {} changed, {} deleted</summary>\n\n",
                if app.risky() > 0 { "⚠️ " } else { "" },
                html_code(&app.app),
                app.count(Change::Added),
                app.count(Change::Changed),
                app.count(Change::Deleted)
            ));
            let risky: Vec<&ObjectChange> =
                app.objects.iter().filter(|o| !o.risks.is_empty()).collect();
            if !risky.is_empty() {
                out.push_str("**Risky changes**\n\n");
                for object in risky {
                    for risk in &object.risks {
                        out.push_str(&format!(
                            "- ⚠️ {}: {}\n",
                            code(&object.object),
                            risk.message
                        ));
                    }
                }
                out.push('\n');
            }
            for object in &app.objects {
                let path = format!("{}/{}", app.app, object.object.replace(' ', "/"));
                let diff = object_diff(object, &path);
                let fence = "`".repeat(longest_backticks(&diff).max(2) + 1);
                out.push_str(&format!(
                    "{} ({})\n\n",
                    code(&object.object),
                    match object.change {
                        Change::Added => "added",
                        Change::Changed => "changed",
                        Change::Deleted => "deleted",
                    }
                ));
                for cause in &object.causes {
                    out.push_str(&format!("- from {}\n", code(cause)));
                }
                if !object.causes.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("{fence}diff\n{diff}{fence}\n\n"));
            }
            out.push_str("</details>\n");
        }
        out
    }
}

fn object_diff(object: &ObjectChange, path: &str) -> String {
    let old = object.old.as_deref().unwrap_or("");
    let new = object.new.as_deref().unwrap_or("");
    let from = if object.old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".into()
    };
    let to = if object.new.is_some() {
        format!("b/{path}")
    } else {
        "/dev/null".into()
    };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&from, &to)
        .to_string()
}

/// Inline code whose text may hold backticks.
fn code(text: &str) -> String {
    let fence = "`".repeat(longest_backticks(text) + 1);
    format!("{fence}{text}{fence}")
}

/// `<code>` for HTML (a `<summary>` does not render Markdown on every host).
fn html_code(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<code>{escaped}</code>")
}

fn longest_backticks(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The folder of a file ("" at the root).
fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The folder above `dir`; `None` above the root.
fn parent_of(dir: &str) -> Option<&str> {
    (!dir.is_empty()).then(|| parent_dir(dir))
}

/// Whether folder `dir` is `above` or below it.
fn is_below(dir: &str, above: &str) -> bool {
    above.is_empty() || dir == above || dir.starts_with(&format!("{above}/"))
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Runs git in `dir`; its stderr becomes the error.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running git (is it installed?)")?;
    if !output.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output.stdout)
}

/// The contents of blobs, in the order asked, from one `git cat-file --batch`.
fn read_blobs(repo: &Path, ids: &[String]) -> Result<Vec<Vec<u8>>> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running git cat-file")?;
    let mut stdin = child.stdin.take().expect("piped");
    let request: String = ids.iter().map(|id| format!("{id}\n")).collect();
    // Written beside the reading: git answers while it reads, and both pipes are bounded.
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut blobs = Vec::with_capacity(ids.len());
    for id in ids {
        let mut header = String::new();
        stdout.read_line(&mut header)?;
        let size: usize = header
            .split(' ')
            .nth(2)
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| anyhow!("git cat-file: no blob {id} ({})", header.trim()))?;
        let mut blob = vec![0; size + 1];
        stdout.read_exact(&mut blob)?;
        blob.pop();
        blobs.push(blob);
    }
    drop(stdout);
    writer
        .join()
        .map_err(|_| anyhow!("git cat-file: the writer thread panicked"))??;
    child.wait()?;
    Ok(blobs)
}

/// A temporary folder, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// In memory (`/dev/shm`, a tmpfs) where the system has one, else in the
    /// temporary folder: the changed packages are written there and read back
    /// by the render, and on a disk the files' creation and removal took more
    /// than half of a 200-app diff (72 s against 33 s under load, see
    /// BENCHMARKS.md); in memory they cost little beside the render.
    fn new() -> Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("lummo-diff-{}-{nanos}", std::process::id());
        let memory = Path::new("/dev/shm").join(&name);
        if std::fs::create_dir(&memory).is_ok() {
            return Ok(TempDir { path: memory });
        }
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("creating the temporary folder {}", path.display()))?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `lummo diff` as a command: prints the report on stdout and a summary on
/// stderr. Exit status for CI: 0 no change, 1 changes found, 2 error (bad
/// revision, a package that does not render...), so a script tells them apart.
pub fn command(base: &str, head: Option<&str>, format: Format) -> std::process::ExitCode {
    use std::process::ExitCode;
    let (old, new) = sides(base, head);
    let settings = lummo_render::Settings::default();
    let here = PathBuf::from(".");
    match diff(&here, &old, &new, &settings) {
        Err(error) => {
            eprintln!("Error: {error:#}");
            ExitCode::from(2)
        }
        Ok(report) => {
            let text = match format {
                Format::Unified => report.unified(),
                Format::Markdown => report.markdown(),
            };
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(2);
            }
            let objects: usize = report.apps.iter().map(|a| a.objects.len()).sum();
            eprintln!(
                "{} → {}: {} package(s) with changed inputs rendered on both sides; {} object(s) of {} app(s) change",
                report.base,
                report.head,
                report.rendered_packages,
                objects,
                report.apps.len()
            );
            if report.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}
