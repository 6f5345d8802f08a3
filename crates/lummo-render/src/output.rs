//! The rendered items as kpt writes them: files (kyaml's writer, comments and
//! styles of the input kept), `-o stdout`, `-o unwrap`, and plain manifests.

use crate::load::*;
use crate::pipeline::*;
use crate::state::*;
use krm_sdk::yaml::{parse_documents, Limits};
use krm_sdk::{Item, ObjectExt, Value};
use std::collections::{BTreeMap, BTreeSet};

/// How kpt prints the rendered items: `-o stdout` (a ResourceList, compact
/// sequences, the reader's annotations kept) or `-o unwrap` (a YAML stream,
/// each document in its own sequence indent, without the reader's annotations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListForm {
    Stdout,
    Unwrap,
}

impl Rendered {
    /// The rendered package as kpt's `-o stdout` prints it. kpt
    /// (`internal/util/render/executor.go`, `Renderer.Execute`) writes the
    /// resources with a kyaml `ByteWriter` (`KeepReaderAnnotations`, wrapped in a
    /// ResourceList), after its attributor stamped Config Connector objects; the
    /// wrapping encoder is kyaml's `yaml.NewEncoder`, compact sequences throughout.
    /// Each item as [`Rendered::list_item`] says.
    pub fn resource_list(&self) -> String {
        let mut texts = self.resource_lists(&self.printed_items(), |_, _| false);
        texts.pop().unwrap_or_default()
    }

    /// Each item as [`Rendered::list_item`] prints it in `-o stdout`, formatted
    /// on its own: on every core, in order.
    pub(crate) fn printed_items(&self) -> Vec<krm_sdk::ItemText> {
        krm_sdk::parallel::map(&self.items, |item| {
            let item = self.list_item(item, ListForm::Stdout);
            let text = item.body.strip_prefix("- ").unwrap_or(&item.body);
            let text = text.strip_suffix('\n').unwrap_or(text).to_string();
            krm_sdk::ItemText {
                head_above_dash: item.head,
                text,
                foot: item.foot,
            }
        })
    }

    /// The `printed` items (see [`Rendered::printed_items`]) as ResourceLists:
    /// one, or a new one at each item below a held foot where `cut(i, foot)`
    /// says so (`i`: the item below the foot), the foot written below the last
    /// item of its list, as where no item follows.
    pub(crate) fn resource_lists(
        &self,
        printed: &[krm_sdk::ItemText],
        cut: impl Fn(usize, &str) -> bool,
    ) -> Vec<String> {
        const HEADER: &str = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n";
        if printed.is_empty() {
            return vec![format!("{HEADER}items: []\n")];
        }
        let mut texts = Vec::new();
        let mut out = format!("{HEADER}items:\n");
        // The foot of the item above, held by go-yaml's emitter past the next
        // `-` (see `kyaml_format::SequenceItem::foot`).
        let mut held = String::new();
        for (i, item) in printed.iter().enumerate() {
            if !held.is_empty() && cut(i, &held) {
                krm_sdk::resource_list::write_held_foot(&mut out, &mut held);
                texts.push(std::mem::replace(&mut out, format!("{HEADER}items:\n")));
            }
            krm_sdk::resource_list::write_item(&mut out, &mut held, item.clone());
        }
        krm_sdk::resource_list::write_held_foot(&mut out, &mut held);
        texts.push(out);
        texts
    }

    /// The `printed` items' ResourceList cut where an object's document foot,
    /// held past the next `-`, goes above an item of another file, and the
    /// file the object is in had the foot's lines but holds fewer of them as
    /// kpt's `-o DIR` writes it (`read`, by path): read back, the foot stays
    /// below its own object (see `commit::files_read_back`).
    /// Not below an object that ends with a keep block scalar's blank lines
    /// (`|+`): go-yaml reads a foot written below the last item after a blank
    /// line into that value, which would grow (fuzz seed 143 case 478); kpt's
    /// writing stays, the foot above the next item.
    pub(crate) fn resource_lists_for_files(
        &self,
        printed: &[krm_sdk::ItemText],
        read: &BTreeMap<String, String>,
    ) -> Vec<String> {
        let path = |item: &Item| item.file_ref().map(|file| file.path);
        let count =
            |text: &str, line: &str| text.lines().filter(|l| l.trim() == line.trim()).count();
        self.resource_lists(printed, |i, held| {
            let (above, item) = (&self.items[i - 1], &self.items[i]);
            if printed[i - 1].text.ends_with('\n') {
                return false;
            }
            let Some(file) = path(above).filter(|file| Some(file) != path(item).as_ref()) else {
                return false;
            };
            let had = self.sources.get(&file).map_or("", |s| s.text.as_str());
            let read = read.get(&file).map_or("", String::as_str);
            held.lines().all(|line| count(had, line) > 0)
                && held
                    .lines()
                    .any(|line| count(read, line) < count(had, line))
        })
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
        // kpt reads its `-o stdout` text back; so does lummo, where the reader
        // takes that text (it reads every text lummo prints but some anchors
        // and tags, which the item-by-item writing below keeps as they are).
        if let Ok(text) = kyaml_format::unwrap_resource_list(&self.resource_list()) {
            return text;
        }
        let printed = krm_sdk::parallel::map(&self.items, |item| {
            let item = self.list_item(item, ListForm::Unwrap);
            item.head + &item.body
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
    pub(crate) fn list_item(&self, item: &Item, form: ListForm) -> kyaml_format::SequenceItem {
        let unwrap = form == ListForm::Unwrap;
        let file = item.file_ref();
        let mut text = document_text(item);
        // The comment lines right above the first key that are the head of
        // the object's node go before the item's `- `, as a document's head
        // does once a mutator held it (fuzz seed i110 case 23: a head a
        // function printed there, its object without kpt's ids).
        if item.passage().head_on_object && !unwrap {
            text = text.map(|t| head_set_apart(&t).unwrap_or(t));
        }
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
        let mut added_annotations: Vec<&str> = Vec::new();
        if let Some(attribution) = attribution(item) {
            if item.annotation(BLUEPRINT) != Some(attribution.as_str()) {
                value.to_mut().set_annotation(BLUEPRINT, &attribution);
            }
            added_annotations.push(BLUEPRINT);
        }
        // The path kpt's runner gave an object a function added without one,
        // after the last step that printed it (fuzz seed i133 case 397: a
        // Starlark step's new object, `-o stdout` right after it).
        let set_anew: &[&str] = match passage.set_by_runner.path {
            true => &[
                krm_sdk::annotations::PATH,
                krm_sdk::annotations::LEGACY_PATH,
            ],
            false => &[],
        };
        added_annotations.extend(set_anew);
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
            .is_none_or(|f| !self.sources.contains_key(&f.path))
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
            added_annotations: &added_annotations,
            set_anew,
        };
        if unwrap {
            let (head, body) = kyaml_format::format_list_item(&list_item, seq_indent);
            kyaml_format::SequenceItem {
                head,
                body,
                foot: String::new(),
            }
        } else {
            kyaml_format::format_sequence_item(&list_item)
        }
    }

    /// The rendered documents of every file, in index order.
    pub(crate) fn files(&self) -> BTreeMap<String, Vec<Document>> {
        group_files(self.items.clone())
    }
}

/// A document whose comment lines above its first key are set apart from it
/// by a blank line (a document's head to `kyaml_format::split_document_head`);
/// `None` when it has no such lines, or they already are.
fn head_set_apart(document: &str) -> Option<String> {
    let (head, rest) = kyaml_format::split_leading_comments(document);
    (!head.is_empty() && !rest.starts_with('\n') && !rest.is_empty())
        .then(|| format!("{head}\n{rest}"))
}

/// One document of a file to write: its index in the original file, the value
/// as it will be written, and the text whose comments and styles it keeps (as a
/// document at column 0): the text the functions kept, or for an object a
/// Lummo function generated, the text our function binaries print (kpt keeps the
/// styles a function prints, so that is what kpt writes).
pub struct Document {
    /// kyaml's writer indents sequences as the object's seqindent annotation
    /// says (the reader's reading of its document), compact without one.
    pub(crate) seq_indent: kyaml_format::SeqIndent,
    pub(crate) index: u32,
    /// A function's object that came without an index: no document of the file
    /// as read is its original.
    pub(crate) fresh: bool,
    /// It went through a mutator's ResourceList (see [`Passage`](krm_sdk::Passage)).
    pub(crate) mutated: bool,
    pub(crate) value: Value,
    pub(crate) text: Option<String>,
    /// Generated by a Lummo function in process: its text is what the function
    /// binary prints (`krm_sdk::yaml`), taken as the original without printing it.
    pub(crate) written: bool,
    /// Whether its styles are go-yaml's defaults, comments and order kept ([`restyled`]).
    pub(crate) restyled: kyaml_format::Restyle,
}

/// Whether kpt holds an object in go-yaml's default styles (scalars and
/// collections) when it writes it, to a file or a ResourceList: a step
/// round-tripped it through JSON ([`kpt_catalog::restyles`]), or a mutator
/// printed it without keeping its text (`written`: not one we generate, whose
/// text is our binaries' writing). Comments and field order are kpt's
/// (`comments.CopyComments`, `order.SyncOrder`) either way.
pub(crate) fn restyled(item: &Item, written: bool) -> kyaml_format::Restyle {
    let passage = item.passage();
    if passage.restyled || (passage.mutated && !written && item.source_text().is_none()) {
        kyaml_format::Restyle::All
    } else if passage.held {
        kyaml_format::Restyle::FoldedQuoted
    } else {
        kyaml_format::Restyle::Keep
    }
}

/// The documents of every file, in index order; the items are given up, each
/// object cleaned in place rather than copied.
pub(crate) fn group_files(items: Vec<Item>) -> BTreeMap<String, Vec<Document>> {
    // On every core: reading the text of a changed item makes the edit it still
    // owes (see `Item::source_text`).
    let texts = krm_sdk::parallel::map(&items, |item| {
        item.source_text().map(|text| {
            let text = unindent_item(text);
            // The `---` decides where go-yaml puts the comments before the first key.
            if item.explicit_start() {
                format!("---\n{text}")
            } else {
                text
            }
        })
    });
    let mut files: BTreeMap<String, Vec<Document>> = BTreeMap::new();
    for (item, text) in items.into_iter().zip(texts) {
        let (path, index) = file_annotations(&item);
        if path.is_empty() {
            continue;
        }
        let path = path.to_string();
        let index = (!index.is_empty()).then(|| index.parse::<u32>().unwrap_or(0));
        let written = text.is_none() && item.annotation(lummo_core::GENERATED_BY).is_some();
        let document = Document {
            seq_indent: match item.annotation(SEQ_INDENT) {
                Some("wide") => kyaml_format::SeqIndent::Wide,
                _ => kyaml_format::SeqIndent::Compact,
            },
            index: index.unwrap_or(0),
            fresh: index.is_none(),
            text,
            written,
            mutated: item.passage().mutated,
            restyled: restyled(&item, written),
            value: cleaned(item.into_value()),
        };
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

/// The text of a file as kpt writes it: every document through kyaml's formatter
/// (comments of the original kept where its fields survive), so that `kpt fn
/// render` after `lummo render` changes nothing. `documents` are (index in the
/// original file, cleaned value). Where the formatter cannot read the original
/// (anchors, a construct saphyr rejects), an unchanged file stays as it is and a
/// changed one is written in our block style.
pub(crate) fn file_text(source: Option<&Source>, documents: &[Document]) -> String {
    // A new file of one generated object: most often its writing is already
    // kyaml's formatting (`kyaml_format::written_text`), unless a step
    // restyled it (fuzz seed i139 case 1939: set-labels v0.1.5 after
    // lummo-workload, `"1.4.2"` written plain).
    if let (None, [document]) = (source, documents) {
        if let Some(text) = (document.written && document.restyled != kyaml_format::Restyle::All)
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
                    set_annotations: if attributable(&d.value) {
                        &[BLUEPRINT]
                    } else {
                        &[]
                    },
                    set_anew: &[],
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
        let same = |text: &str| {
            parse_documents(text, &Limits::default())
                .is_ok_and(|read| read.iter().eq(documents.iter().map(|d| &d.value)))
        };
        if same(&text) {
            return Some(text);
        }
        // Where go-yaml's writing alone grows a keep block scalar (`|+`), kpt's
        // formatting without that change (fuzz seed 98 case 11).
        let text = kyaml_format::format_values_restyled_keeping_values(&entries);
        same(&text).then_some(text)
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
pub(crate) fn without_head_gaps(text: &str) -> String {
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

/// An item's text as the document it was read from (keys at column 0), with
/// the explicit `---` that decides where go-yaml puts the comments before the
/// first key: on that key, not on the document.
pub(crate) fn document_text(item: &Item) -> Option<String> {
    let text = unindent_item(item.source_text()?);
    Some(if item.explicit_start() {
        format!("---\n{text}")
    } else {
        text
    })
}

pub(crate) use krm_sdk::edit::unindent_item;

pub(crate) fn stream<'a>(items: impl Iterator<Item = &'a Value>) -> String {
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
    stream(manifest_items(items, function_configs).map(Item::value))
}

/// The items [`manifests`] prints, one by one (`lummo diff` compares them object
/// by object).
pub fn manifest_items<'a>(
    items: &'a [Item],
    function_configs: &'a BTreeSet<String>,
) -> impl Iterator<Item = &'a Item> + 'a {
    items.iter().filter(|i| {
        let item = i.value();
        !item.is_local_config()
            && !is_kpt_meta(item)
            && !is_lummo(item)
            && !item
                .file_ref()
                .is_some_and(|f| function_configs.contains(&f.path))
    })
}

/// One manifest as [`manifests`] prints it: no kpt annotations.
pub fn manifest_text(item: &Item) -> String {
    serialize(&strip_kpt_annotations(item.value()))
}

/// Objects `manifests` must not print: the product README's draft form
/// (`apiVersion: LummoKRM`, `kind: pgbouncer`), which the functions read with a
/// warning but no cluster can apply, so an Argo CD sync would fail on it. Each as
/// an error naming the file, the object and the form to write instead.
pub fn refused_in_manifests(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.value())
        .filter(|item| {
            lummo_core::DRAFT_KINDS.contains(&item.kind()) && !item.api_version().contains('/')
        })
        .map(|item| {
            let path = item
                .file_ref()
                .map(|f| format!("{}: ", f.path))
                .unwrap_or_default();
            format!(
                "{path}{}/{}: `apiVersion: {}`, `kind: {}` is the README's draft form: no cluster \
                 has that API, so Argo CD could not apply it; write it as \
                 `apiVersion: {}`, `kind: LummoPgBouncer` (the warning above shows the whole spec)",
                item.kind(),
                item.name(),
                item.api_version(),
                item.kind(),
                lummo_core::API_VERSION
            )
        })
        .collect()
}

/// Objects [`manifests`] would print twice: the same group, kind, namespace and
/// name in two files, e.g. what two subpackages' specs of one name generate when
/// no pipeline above them runs their function (which would refuse the conflict).
/// Argo CD keeps one object per identity, so the app would not sync as written.
/// One error per identity naming every file, the spec each was generated by, and
/// the fix.
pub fn duplicate_manifests(items: &[Item], function_configs: &BTreeSet<String>) -> Vec<String> {
    let mut seen: BTreeMap<(String, String, String, String), Vec<&Value>> = BTreeMap::new();
    for item in manifest_items(items, function_configs).map(Item::value) {
        let group = item.api_version().rsplit_once('/').map_or("", |(g, _)| g);
        let key = (
            group.to_string(),
            item.kind().to_string(),
            item.namespace().to_string(),
            item.name().to_string(),
        );
        seen.entry(key).or_default().push(item);
    }
    seen.into_iter()
        .filter(|(_, holders)| holders.len() > 1)
        .map(|((_, kind, namespace, name), holders)| {
            let places: Vec<String> = holders
                .iter()
                .map(|item| {
                    let file = item
                        .file_ref()
                        .map_or_else(|| "the input".to_string(), |f| f.path);
                    match item
                        .annotation(lummo_core::GENERATED_BY)
                        .and_then(|by| by.split_once(':'))
                    {
                        Some((_, spec)) => format!("{file} (generated by {spec})"),
                        None => file,
                    }
                })
                .collect();
            let namespace = match namespace.as_str() {
                "" => String::new(),
                ns => format!(" in namespace {ns}"),
            };
            format!(
                "{kind} `{name}`{namespace} is printed {} times, from {}: a cluster (and Argo CD) \
                 holds one; change the name one of the specs gives it, give them different \
                 namespaces, or render them as separate apps",
                holders.len(),
                places.join(" and "),
            )
        })
        .collect()
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

/// [`cleaned`] without a copy when there is nothing to clean (most documents
/// read from files).
pub(crate) fn clean_borrowed(item: &Value) -> std::borrow::Cow<'_, Value> {
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
    std::borrow::Cow::Owned(cleaned(item.clone()))
}

/// An item as kpt writes it: its own annotations only, and Config Connector
/// objects stamped with kpt's attribution.
pub(crate) fn cleaned(mut item: Value) -> Value {
    // kpt's attributor runs while the reader's annotations are still on the
    // object: its annotation joins that map, where the reader put it (after the
    // fields the file had), not after fields the steps added since.
    if let Some(attribution) = attribution(&item) {
        item.set_annotation(BLUEPRINT, &attribution);
    }
    remove_kpt_annotations(&mut item);
    item
}

pub(crate) const BLUEPRINT: &str = "cnrm.cloud.google.com/blueprint";

/// Whether kpt's attributor (`internal/util/attribution`, `Attributor.Filter`)
/// stamps the object: an apiVersion with `.cnrm.` in it and a non-empty
/// `metadata`.
pub(crate) fn attributable(item: &Value) -> bool {
    item.api_version().contains(".cnrm.")
        && item
            .get("metadata")
            .is_some_and(|m| m.as_object().is_some_and(|m| !m.is_empty()))
}

/// The attribution kpt's attributor sets on the object, if it stamps it
/// (`recordAction` with the command group `fn`): `kpt-fn` alone, appended to a
/// value without `kpt-`, or merged into each part that names kpt (`kpt-pkg` becomes
/// `kpt-pkg-fn`; any part with `kpt` in it becomes such a part).
pub(crate) fn attribution(item: &Value) -> Option<String> {
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
pub(crate) fn serialize(item: &Value) -> String {
    attribution_quoted(krm_sdk::yaml::to_string(item))
}

/// kpt's attributor writes its annotation single-quoted.
pub(crate) fn attribution_quoted(text: String) -> String {
    text.replace(
        &format!("    {BLUEPRINT}: kpt-fn\n"),
        &format!("    {BLUEPRINT}: 'kpt-fn'\n"),
    )
}

/// Warnings for a config of a Lummo function that a step of the same package runs
/// without: the step has no `configPath`, and the package holds an object of the
/// function's config kind, which it would otherwise ignore without a word. Each
/// names the file and the Kptfile line to add.
pub fn unused_configs(items: &[Item]) -> Vec<krm_sdk::ResultItem> {
    let dir_of = |path: &str| path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let mut warnings = Vec::new();
    for kptfile in items
        .iter()
        .map(|i| i.value())
        .filter(|v| is_kpt_meta(v) && v.kind() == "Kptfile")
    {
        let Some(file) = kptfile.file_ref() else {
            continue;
        };
        let dir = dir_of(&file.path);
        let steps = ["mutators", "validators"].into_iter().flat_map(|list| {
            kptfile
                .pointer(&format!("/pipeline/{list}"))
                .and_then(krm_sdk::Value::as_array)
                .into_iter()
                .flatten()
        });
        for step in steps {
            if step.get("configPath").is_some() || step.get("configMap").is_some() {
                continue;
            }
            let reference = ["image", "exec"]
                .iter()
                .find_map(|k| step.get(*k).and_then(krm_sdk::Value::as_str))
                .unwrap_or_default();
            let base = reference.rsplit('/').next().unwrap_or_default();
            let name = base.split(':').next().unwrap_or_default();
            let Some(descriptor) = lummo_validate::DESCRIPTORS
                .iter()
                .find(|d| d.name() == name)
            else {
                continue;
            };
            let Some(kind) = descriptor
                .kinds
                .iter()
                .find(|k| k.function_config)
                .map(|k| k.kind)
            else {
                continue;
            };
            // Its config kind; or a ConfigMap annotated for it, or in the file
            // `lummo init` names its config (`networking-config.yaml`).
            let short = name.trim_start_matches("lummo-");
            let conventional = format!("{short}-config.yaml");
            let is_config = |v: &krm_sdk::Value, path: &str| {
                v.kind() == kind
                    || v.annotation("lummo.dev/function-config")
                        .is_some_and(|f| f == name || f == short)
                    || (v.kind() == "ConfigMap"
                        && path.rsplit('/').next() == Some(conventional.as_str()))
            };
            for config in items.iter().map(|i| i.value()) {
                let Some(config_file) = config.file_ref() else {
                    continue;
                };
                if dir_of(&config_file.path) != dir || !is_config(config, &config_file.path) {
                    continue;
                }
                let relative = config_file
                    .path
                    .strip_prefix(&format!("{dir}/"))
                    .unwrap_or(&config_file.path);
                warnings.push(
                    krm_sdk::ResultItem::warning(format!(
                        "no step's functionConfig: the {name} step of {} runs without it; \
                         give that step `configPath: {relative}`",
                        file.path
                    ))
                    .for_object(config),
                );
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::unindent_item;

    /// An item's text leaves out its final line break: one that ends with a
    /// line break ends with a blank line, which a kept block scalar holds.
    #[test]
    fn an_items_text_gets_its_final_line_break_back() {
        assert_eq!(unindent_item("a: 1\n  b: 2"), "a: 1\nb: 2\n");
        assert_eq!(
            unindent_item("key0: |+\n    line one\n"),
            "key0: |+\n  line one\n\n"
        );
    }
}
