//! Writing: finished subtrees staged as temporary files beside their targets
//! while the render goes on, renamed in place only when every package rendered,
//! removed on failure or interrupt; `--check`'s list of changes; `-o DIR`.

use crate::load::*;
use crate::output::*;
use crate::state::*;
use anyhow::{anyhow, bail, Context as _, Result};
use krm_sdk::Item;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// An in-place render of a monorepo: a subtree no ancestor pipeline will touch is
/// written to temporary files as soon as it is rendered and dropped from memory,
/// so memory follows the largest package with a pipeline, not the tree. The
/// temporary files are renamed over their targets only when every package has
/// rendered; otherwise they are removed and nothing changes.
#[derive(Default)]
pub(crate) struct Staging {
    /// Writes the temporary files while rendering goes on.
    pub(crate) writer: Option<Writer>,
    /// (temporary file, destination), once the writer has finished.
    pub(crate) renames: Vec<(PathBuf, PathBuf)>,
    pub(crate) deletions: Vec<PathBuf>,
    /// Root-relative paths of the files created and updated, for `-v`.
    pub(crate) created: Vec<String>,
    pub(crate) updated: Vec<String>,
    /// The root Kptfile was staged with the render status of a render that
    /// succeeded (`status::kptfile_with_status`, or as it was where that cannot
    /// read it): once it is in place, `status::write` would find the same text.
    pub(crate) status_staged: bool,
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

/// A file and a symbolic link to it, both in the package, are two files to kpt:
/// it reads the object twice and writes both texts through the link, one after
/// the other in Go's map order (kyaml `LocalPackageWriter`), so when a function
/// changed one copy and not the other, which one stays differs from run to run
/// and the other is lost. lummo refuses that render, writing nothing.
/// Otherwise, whether any of the files is a link.
fn refuse_a_link_written_apart(
    root: &Path,
    files: &[(String, Option<Source>, Vec<Document>)],
    texts: &[String],
) -> Result<bool> {
    let is_link = |path: &str| {
        std::fs::symlink_metadata(root.join(path)).is_ok_and(|m| m.file_type().is_symlink())
    };
    // One `lstat` a file where there is no link; paths resolved only otherwise.
    if !files.iter().any(|(path, _, _)| is_link(path)) {
        return Ok(false);
    }
    let mut written: std::collections::HashMap<PathBuf, (&str, &str)> = Default::default();
    for ((path, _, _), text) in files.iter().zip(texts) {
        let Ok(destination) = std::fs::canonicalize(root.join(path)) else {
            continue;
        };
        let Some((other, other_text)) = written.insert(destination, (path, text)) else {
            continue;
        };
        if other_text != text {
            let (link, target) = if is_link(path) {
                (path.as_str(), other)
            } else {
                (other, path.as_str())
            };
            bail!(
                "{link} is a symbolic link to {target}, and the pipeline left the two copies of its \
                 objects different: kpt would write both texts through the link in random order, \
                 losing one of them\n  suggestion: replace {link} with a copy of {target}, or list \
                 {link} in .krmignore so that only {target} is read"
            );
        }
    }
    Ok(true)
}

impl Rendered {
    /// Stages a rendered subtree whose paths are root-relative: changed and new
    /// files go to temporary files, files whose resources all went away are
    /// marked for deletion; its items and sources are dropped.
    pub(crate) fn stage(&mut self, items: Vec<Item>) -> Result<()> {
        let named: BTreeSet<&str> = self
            .findings
            .iter()
            .filter_map(|f| f.result.file.as_ref().map(|file| file.path.as_str()))
            .collect();
        for path in named {
            if let Some(source) = self.sources.get(path) {
                self.named_texts
                    .insert(path.to_string(), source.text.clone());
            }
        }
        let files: Vec<(String, Option<Source>, Vec<Document>)> = group_files(items)
            .into_iter()
            .map(|(path, documents)| {
                let source = self.sources.remove(&path);
                (path, source, documents)
            })
            .collect();
        let texts = krm_sdk::parallel::map(&files, |(path, source, documents)| {
            let text = file_text(source.as_ref(), documents);
            // The root Kptfile is staged last, when every step has run: it goes
            // with the newest kpt's render status, and is left alone when that
            // is what it says already. A failed render that saves what
            // rendered gets its status after the files are in place (`commit`).
            if path == "Kptfile" && !self.failed() {
                let success = crate::status::Outcome::Success;
                crate::status::kptfile_with_status(&text, &self.steps, &success, &self.root)
                    .unwrap_or(text)
            } else {
                text
            }
        });
        let links = refuse_a_link_written_apart(&self.root, &files, &texts)?;
        let mut staging = self.staging.take().unwrap_or_default();
        staging.status_staged |= !self.failed() && files.iter().any(|(path, ..)| path == "Kptfile");
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
        let mut batch = Vec::with_capacity(changed.len());
        for (path, text, permissions) in changed {
            let mut destination = self.root.join(path);
            // Asked again only when one of the files is a link: a second `lstat`
            // of every new file otherwise.
            if links
                && std::fs::symlink_metadata(&destination).is_ok_and(|m| m.file_type().is_symlink())
            {
                destination = std::fs::canonicalize(&destination).unwrap_or(destination);
            }
            if targets.insert(destination.clone()) {
                batch.push((destination, text, permissions));
            }
        }
        let result = writer.send(batch);
        self.staging = Some(staging);
        result
    }

    /// Renames every staged file over its target and deletes pruned files; on a
    /// failed render, removes the temporary files instead, unless the package
    /// asks kpt to save what rendered (`Rendered::saves_failure`): the staged
    /// files are renamed then, and nothing is pruned (kpt's `Execute` prunes
    /// only after a render that succeeded).
    ///
    /// Either way, the newest kpt's render status then goes into the root
    /// Kptfile ([`crate::status`]).
    pub fn commit(&mut self) -> Result<Summary> {
        if self.failed() {
            let in_place = self.staging.is_some();
            let mut summary = Summary::default();
            if in_place && self.saves_failure() {
                summary = self.put_in_place(false)?;
            } else {
                self.discard();
            }
            if in_place {
                // A render lummo fails where no step did (a stale generated
                // file, say) says its first error.
                let error = self.findings.iter().find(|f| f.result.is_error());
                let failure = crate::status::Failure {
                    package: String::new(),
                    text: error.map(|f| f.result.to_string()).unwrap_or_default(),
                    said_by: crate::status::SaidBy::Package,
                };
                let outcome = match self.failed_step() {
                    Some(step) => crate::status::Outcome::StepFailed {
                        package: &step.package,
                        bfs: self.bfs,
                    },
                    None => crate::status::Outcome::Error(&failure),
                };
                let written = crate::status::write(&self.root, &self.steps, &outcome)?;
                // What a saved failure changed, the status included, for `-v`.
                let saved = self.saves_failure();
                if written && saved && !summary.updated.iter().any(|p| p == "Kptfile") {
                    summary.updated.push("Kptfile".into());
                }
            }
            return Ok(summary);
        }
        let status_staged = self.staging.as_ref().is_some_and(|s| s.status_staged);
        let mut summary = self.put_in_place(true)?;
        // The status went with the staged root Kptfile (reading it back and
        // making it again, some 20 ms for a thousand steps, would find the same
        // text); a render whose functions removed its object stages none, and
        // kpt writes the status into the Kptfile on disk then.
        let status_written = !status_staged
            && crate::status::write(&self.root, &self.steps, &crate::status::Outcome::Success)?;
        if status_written && !summary.updated.iter().any(|p| p == "Kptfile") {
            summary.updated.push("Kptfile".into());
        }
        Ok(summary)
    }

    /// Renames every staged file over its target, then deletes the files a
    /// killed render left and, with `prune`, the files whose resources all
    /// went away.
    fn put_in_place(&mut self, prune: bool) -> Result<Summary> {
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
        for doomed in staging.deletions.iter().filter(|_| prune) {
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
    pub fn changes(&self) -> Result<Vec<Change>> {
        crate::pipeline::check_indexes(&self.items)?;
        let files = self.files();
        let mut changes = Vec::new();
        for (path, documents) in &files {
            let source = self.sources.get(path);
            let mut new = file_text(source, documents);
            if path == "Kptfile" {
                // What an in-place render writes, but the render status is no
                // reason to call a package stale: it records the last render.
                let success = crate::status::Outcome::Success;
                if let Some(with_status) =
                    crate::status::kptfile_with_status(&new, &self.steps, &success, &self.root)
                {
                    new = with_status;
                }
                let without = crate::status::without_status;
                if source.is_some_and(|s| without(&s.text) == without(&new)) {
                    continue;
                }
            }
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
        Ok(changes)
    }

    /// Removes the staged temporary files: the package stays as it was.
    pub(crate) fn discard(&mut self) {
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
        crate::pipeline::check_indexes(&self.items)?;
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
        let files = match self.files_read_back() {
            Ok(files) => files,
            Err(_) => self.files_as_printed(),
        };
        std::fs::create_dir_all(&absolute).with_context(|| dir.display().to_string())?;
        write_files(&absolute, &files)?;
        Ok(files.len())
    }

    /// The folder's files as kpt writes them from its `-o stdout` text read back
    /// (see `unwrapped`), one file per path. Where go-yaml reads a document's
    /// foot back as the head of the next item, of another file, kpt moves the
    /// user's comment out of the file they wrote it in (unless a copy kept it
    /// there); lummo reads those two files from the text cut at that item
    /// ([`Rendered::resource_lists_for_files`]), where the foot stays below its
    /// own object (ARCHITECTURE.md, deliberate differences; fuzz seed i133 case
    /// 287, where kpt's own copy from an exec step kept it in the user's file
    /// too). A file whose whole-line comments the cut does not change is kpt's
    /// (a foot go-yaml gives back to its own object: fuzz seed 1 case 61).
    fn files_read_back(&self) -> std::result::Result<Vec<(String, String)>, kyaml_format::Error> {
        // The items formatted once, for both readings.
        let printed = self.printed_items();
        let files =
            kyaml_format::resource_list_files(&self.resource_lists(&printed, |_, _| false))?;
        let read: BTreeMap<String, String> = files.iter().cloned().collect();
        let lists = self.resource_lists_for_files(&printed, &read);
        if lists.len() == 1 {
            return Ok(files);
        }
        let mut cut: BTreeMap<String, String> = kyaml_format::resource_list_files(&lists)?
            .into_iter()
            .collect();
        fn comments(text: &str) -> Vec<&str> {
            let mut lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with('#'))
                .collect();
            lines.sort_unstable();
            lines
        }
        Ok(files
            .into_iter()
            .map(|(path, text)| match cut.remove(&path) {
                Some(kept) if comments(&kept) != comments(&text) => (path, kept),
                _ => (path, text),
            })
            .collect())
    }

    /// The folder's files where the reader cannot take the printed text: each
    /// file's documents as written in place, without the blank lines a head
    /// comment loses above its item in a ResourceList.
    fn files_as_printed(&self) -> Vec<(String, String)> {
        self.files()
            .into_iter()
            .map(|(path, documents)| {
                let text = file_text(self.sources.get(&path), &documents);
                (path, without_head_gaps(&text))
            })
            .collect()
    }
}

/// A path made absolute against the working directory, `..` resolved through the
/// parent that exists (the folder itself does not exist yet).
pub(crate) fn absolute(path: &Path) -> Result<PathBuf> {
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

/// (temporary file, destination) of each file the writer wrote.
pub(crate) type Renames = Vec<(PathBuf, PathBuf)>;

/// Two threads that write temporary files beside their destinations (same file
/// system, so the later rename is atomic: an interrupted run leaves the old file
/// or the new one, never half of one). Creating thousands of files is the file
/// system's work, most of a monorepo render's time: it overlaps with rendering.
pub(crate) struct Writer {
    /// The files of one staged subtree at a time: a message per file would wake
    /// a writer per file.
    pub(crate) sender: Option<std::sync::mpsc::Sender<Vec<Staged>>>,
    pub(crate) workers: Vec<std::thread::JoinHandle<(Renames, Option<anyhow::Error>)>>,
}

impl Writer {
    pub(crate) fn start() -> Writer {
        let (sender, receiver) = std::sync::mpsc::channel::<Vec<Staged>>();
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
                        let Ok(batch) = next else {
                            break;
                        };
                        for (destination, text, permissions) in batch {
                            match write_temporary(&destination, &text, permissions, &mut folders) {
                                Ok(temporary) => renames.push((temporary, destination)),
                                Err(error) => return (renames, Some(error)),
                            }
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
    pub(crate) fn share(&self) -> Writer {
        Writer {
            sender: self.sender.clone(),
            workers: Vec::new(),
        }
    }

    pub(crate) fn send(&self, files: Vec<Staged>) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        self.sender
            .as_ref()
            .and_then(|s| s.send(files).ok())
            .ok_or_else(|| anyhow!("the file writers stopped"))
    }

    /// Waits for the writers: every (temporary, destination), or the first error
    /// with what was written.
    pub(crate) fn finish(mut self) -> std::result::Result<Renames, (anyhow::Error, Renames)> {
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
pub(crate) type Staged = (PathBuf, String, Option<std::fs::Permissions>);

/// Writes `text` to a temporary file beside `destination`, with the permissions
/// of the file it replaces (`permissions`, as read; else asked of the disk).
/// `folders` are those this thread made or found already: a monorepo's files
/// are mostly in a few folders per package, and asking for each costs two system
/// calls per file.
pub(crate) fn write_temporary(
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
pub(crate) const TEMPORARY_SUFFIX: &str = ".lummo-tmp";

pub(crate) fn temporary_name(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    destination.with_file_name(format!(".{name}{TEMPORARY_SUFFIX}"))
}

/// The temporary files on disk, and whether the process is stopping: a file is
/// created only while this lock is held and the process is not stopping, so the
/// interrupt handler ([`remove_temporaries`]) finds every one of them.
pub(crate) static TEMPORARIES: std::sync::Mutex<(bool, Vec<PathBuf>)> =
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

pub(crate) fn write_temporary_file(
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
pub(crate) fn write_files(target: &Path, files: &[(String, String)]) -> Result<()> {
    for (path, text) in files {
        let destination = target.join(path);
        if let Some(parent) = destination.parent() {
            std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
        }
        std::fs::write(&destination, text).with_context(|| destination.display().to_string())?;
    }
    Ok(())
}
