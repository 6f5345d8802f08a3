//! A package from disk: its Kptfile, its resource files (`*.yaml`, `*.yml`,
//! `Kptfile`, minus `.krmignore` and subpackages), its subpackages, and the text
//! of each document, read once for the items and the writing.

use crate::commit::*;
use crate::kptfile;
use crate::pipeline::*;
use crate::state::*;
use anyhow::{anyhow, bail, Context as _, Result};
use krm_sdk::object::annotations;
use krm_sdk::yaml::{parse_documents, Limits};
use krm_sdk::{Item, ObjectExt, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// kyaml's record of a file's sequence indentation (`compact` or `wide`).
pub(crate) const SEQ_INDENT: &str = "internal.config.kubernetes.io/seqindent";

/// One file as read: its text and documents.
pub(crate) struct Source {
    pub(crate) text: String,
    /// The file's permissions when read: its new text keeps them.
    pub(crate) permissions: std::fs::Permissions,
    pub(crate) documents: Vec<Value>,
    /// The text of each document (kyaml's split), read once for the items and
    /// the writing; `None` when the split and the reader disagree.
    pub(crate) pieces: Option<Vec<String>>,
}

/// The annotations kpt's reader sets on what it reads (kyaml `kioutil`:
/// `LegacyIndexAnnotation`, `LegacyPathAnnotation`, `IndexAnnotation`,
/// `PathAnnotation`, `SeqIndentAnnotation`); `-o unwrap` clears them all.
pub(crate) const READER_ANNOTATIONS: [&str; 5] = [
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
pub(crate) fn document_texts(
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
        let piece = terminated(piece);
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

/// A file's last document as go-yaml reads it when no line break ends the
/// file after a comment: the scanner closes then only the blocks indented deeper
/// than where the last line ends, so the comment is the foot of a key further in
/// than where it stands (`kyaml_format::format` knows the rule). An item's text
/// always ends with a line break, so such a document is written out as kpt
/// would write it before it becomes an item's text, where that puts a comment
/// elsewhere than a line break would; every other piece is kept.
fn terminated(piece: String) -> String {
    let ends_in_a_comment = !piece.ends_with('\n')
        && piece
            .rsplit('\n')
            .next()
            .is_some_and(|last| last.trim_start().starts_with('#'));
    if !ends_in_a_comment {
        return piece;
    }
    // go-yaml's reading alone: kpt's writer would also drop an empty
    // `annotations: {}`, and the text would no longer be the document (fuzz
    // seed 104 case 2943: the object then went to functions without its text).
    // The text must read back as go-yaml read the piece, comments included:
    // kpt writes both the same (fuzz seed 119 case 461).
    match (
        kyaml_format::round_trip(&piece),
        kyaml_format::round_trip(&format!("{piece}\n")),
    ) {
        (Ok(text), Ok(with_break))
            if !text.is_empty()
                && text != with_break
                && kyaml_format::format(&text) == kyaml_format::format(&piece) =>
        {
            // go-yaml writes no `---`, which decides where the comments above
            // the first key go (fuzz seed 122 case 197: on that key).
            match piece.starts_with("---\n") {
                true => format!("---\n{text}"),
                false => text,
            }
        }
        _ => piece,
    }
}

pub(crate) fn display_package(relative: &str) -> String {
    if relative.is_empty() {
        ".".into()
    } else {
        relative.into()
    }
}

/// Objects a cluster never gets from kpt: Kptfiles (kpt.dev).
pub(crate) fn is_kpt_meta(item: &Value) -> bool {
    item.api_version().starts_with("kpt.dev/") || item.kind() == "Kptfile"
}

/// The package folder, which must hold a Kptfile (kpt: "No Kptfile found at").
pub(crate) fn open(root: &Path) -> Result<PathBuf> {
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

pub(crate) fn read_tree(
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

/// Folders below `relative` holding a Kptfile that are not inside another
/// subpackage (kpt `DirectSubpackages`), in path order; `.git` is never searched.
pub(crate) fn subpackages(root: &Path, relative: &str) -> Result<Vec<String>> {
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
pub(crate) fn read_local(
    rendered: &mut Rendered,
    root: &Path,
    relative: &str,
) -> Result<Vec<Item>> {
    let base = root.join(relative);
    let ignore = krmignore(&base)?;
    let mut files = Vec::new();
    let mut leftovers = Vec::new();
    collect_files(&base, "", &ignore, &mut files, &mut leftovers)?;
    rendered
        .leftovers
        .extend(leftovers.iter().map(|file| join(relative, file)));
    sort_as_walked(&mut files);
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
                v.set_annotation(annotations::LEGACY_PATH, file);
                v.set_annotation(annotations::INDEX, &index);
                v.set_annotation(PACKAGE_PATH, &package_path);
                v.set_annotation(annotations::PATH, file);
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
pub(crate) fn krmignore(base: &Path) -> Result<ignore::gitignore::Gitignore> {
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

pub(crate) fn collect_files(
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

/// Puts relative file paths in the order kyaml's `LocalPackageReader` reads them:
/// `filepath.Walk` lists each folder's entries by name and enters a folder where
/// its name falls, so `config/in-folder.yaml` comes before `config.yaml` (the
/// paths as whole strings would sort the other way: `.` is below `/`).
fn sort_as_walked(files: &mut [String]) {
    files.sort_by(|a, b| a.split('/').cmp(b.split('/')));
}

/// The folder of the package at `relative` (the root itself for ""), as kpt
/// names it in `internal.config.kubernetes.io/package-path`: no trailing `/`.
pub(crate) fn package_dir(root: &Path, relative: &str) -> PathBuf {
    if relative.is_empty() {
        root.to_path_buf()
    } else {
        root.join(relative)
    }
}

pub(crate) fn join(relative: &str, name: &str) -> String {
    if relative.is_empty() {
        name.to_string()
    } else {
        format!("{relative}/{name}")
    }
}

/// The line (1-based) where each document of a YAML file starts.
pub(crate) fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    for (i, line) in text.lines().enumerate() {
        if (line == "---" || line.starts_with("--- ")) && i > 0 {
            starts.push(i + 2);
        }
    }
    starts
}

/// A file's text and permissions, with the system calls of `fs::read_to_string`.
pub(crate) fn read_text(path: &Path) -> std::io::Result<(String, std::fs::Permissions)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    let mut text = String::with_capacity(metadata.len() as usize);
    file.read_to_string(&mut text)?;
    Ok((text, metadata.permissions()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz seed i134 case 0: a file `config.yaml` beside a folder `config/`.
    /// kpt reads the folder's files first, so a step that picks an item by its
    /// place (and every ResourceList) saw another order under lummo. A folder
    /// comes before every name it begins (`config` < `config-b.yaml`).
    #[test]
    fn files_are_read_in_filepath_walk_order() {
        let mut files = [
            "config.yaml",
            "config/in-folder.yaml",
            "a.yaml",
            "config-b.yaml",
            "Kptfile",
        ]
        .map(String::from);
        sort_as_walked(&mut files);
        assert_eq!(
            files,
            [
                "Kptfile",
                "a.yaml",
                "config/in-folder.yaml",
                "config-b.yaml",
                "config.yaml"
            ]
        );
    }

    /// Fuzz seed 104 case 2943: a file ending in a comment without a line
    /// break, whose last object has `annotations: {}`. Its text was written as
    /// kpt's writer would (dropping the empty annotations) and so no longer was
    /// the object: it went to every function without comments or styles.
    #[test]
    fn a_last_document_ending_in_a_comment_keeps_its_text_with_empty_annotations() {
        let limits = Limits::default();
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n  annotations: {}\ndata:\n  setting: 'on'\n# do not edit";
        let documents = parse_documents(text, &limits).unwrap();
        let (pieces, items) = document_texts(text, &documents, &limits);
        assert!(pieces.is_some());
        let item = items[0].as_ref().expect("the object keeps its text");
        // go-yaml reads the comment as the foot of `setting` (no line break
        // closes the `data` block), as kpt then writes it.
        assert_eq!(
            item.source_text(),
            Some("apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: y\n    annotations: {}\n  data:\n    setting: 'on'\n    # do not edit")
        );
    }
}
