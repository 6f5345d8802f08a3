//! Writes YAML the way kyaml writes it when `kpt fn render` rewrites a package:
//! `kio.LocalPackageReader` (with `PreserveSeqIndent`) reads each file, split into
//! documents on `\n---` lines, into go-yaml v3 nodes with comments; the
//! `LocalPackageWriter`'s `ByteWriter` encodes them again with indent 2 and each
//! document's sequence indent (`compact` or `wide`).
//!
//! [`format`] gives the bytes kpt writes for a file no function changed;
//! [`format_value`] gives the bytes for a document a function replaced, keeping the
//! comments of the original's keys and items that still exist.

mod emit;
mod node;
mod parse;
mod readback;
mod restore;
mod value;

use emit::{Emitter, Event, EventType, ScalarStyle, Writing};
use node::{Document, Kind, Node, Style};
use std::fmt;

pub use readback::{item_as_read_in_a_list, resource_list_files, unwrap_resource_list};
pub use restore::{
    head_read_back_below_a_lone_dash, head_read_back_below_an_item, held_foot,
    restore_comments_and_order, split_document_foot, split_document_head, split_leading_comments,
    ItemEnd, Restored, TextFrom,
};
pub use value::{
    format_list_item, format_sequence_item, format_value, format_values, format_values_restyled,
    format_values_restyled_keeping_values, holds_folded_scalar, written_text, FileDocument,
    ListItem, Original, Restyle, SequenceItem,
};

/// How block sequences nested in a mapping are indented (kyaml's `seqindent`
/// annotation): `compact` puts `-` under the key, `wide` two columns right of it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SeqIndent {
    Compact,
    Wide,
}

/// Why a text could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The YAML does not parse (1-based line and column).
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A document separator line with content after `---` (kyaml rejects it too).
    Separator { line: usize, text: String },
    /// Input this crate does not reproduce yet; callers keep the text as it is.
    Unsupported(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax {
                line,
                column,
                message,
            } => write!(f, "line {line}, column {column}: {message}"),
            Error::Separator { line, text } => write!(
                f,
                "line {line}: invalid document separator `{text}`: only a comment may follow `---`"
            ),
            Error::Unsupported(what) => write!(f, "not supported: {what}"),
        }
    }
}

impl std::error::Error for Error {}

/// The text `kpt fn render` writes for this file when no function changed it.
/// Documents that are empty or only comments are dropped, as kyaml drops them.
pub fn format(text: &str) -> Result<String, Error> {
    write_as_read(text, Writer::Kpt)
}

/// The text go-yaml writes for what it read of `text`, nothing cleared: where
/// its reader puts each comment, with every value kept (an empty
/// `annotations: {}`, which [`format`] drops as kpt's writer does), without
/// the line breaks of go-yaml's emitter that read back otherwise
/// (`Writing::KeepingNodes`): a text that reads back as go-yaml read `text`
/// (fuzz seed 119 case 461: a file ending in a comment without a line break,
/// which is a foot of the last key, below a `>` value).
pub fn round_trip(text: &str) -> Result<String, Error> {
    write_as_read(text, Writer::GoYaml)
}

/// Who writes what go-yaml read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// kpt's `ByteWriter`: empty annotations cleared first.
    Kpt,
    /// go-yaml's encoder alone, without its line breaks that read back
    /// otherwise.
    GoYaml,
}

fn write_as_read(text: &str, writer: Writer) -> Result<String, Error> {
    let mut docs = Vec::new();
    let mut indents = Vec::new();
    for piece in split_documents(text)? {
        if let Some(mut doc) = parse::parse_document(&piece)? {
            if writer == Writer::Kpt {
                clear_empty_annotations(&mut doc.root);
            }
            indents.push(derive_seq_indent(&piece));
            docs.push(doc);
        }
    }
    let writing = match writer {
        Writer::Kpt => Writing::AsGoYaml,
        Writer::GoYaml => Writing::KeepingNodes,
    };
    Ok(emit_documents_as(&docs, &indents, writing))
}

/// kyaml's `ClearEmptyAnnotations`, run by the ByteWriter after it removes the
/// reader's annotations: an empty (or null) `metadata.annotations` goes away.
pub(crate) fn clear_empty_annotations(root: &mut Node) {
    let Some(metadata) = root
        .children
        .chunks_mut(2)
        .find(|p| p[0].value == "metadata" && p.len() == 2)
        .map(|p| &mut p[1])
    else {
        return;
    };
    if metadata.kind != Kind::Mapping {
        return;
    }
    if let Some(i) = metadata
        .children
        .chunks(2)
        .position(|p| p[0].value == "annotations" && p.get(1).is_some_and(is_empty_field))
    {
        metadata.children.drain(2 * i..2 * i + 2);
    }
}

/// The second half of kyaml's `ClearEmptyAnnotations`: `metadata` goes when it is
/// empty or null (`FieldClearer{IfEmpty: true}`). kpt writes so every object a
/// function's ResourceList held, a kustomization.yaml that had no metadata
/// before the reader added the annotations, or a null one; a file no function
/// saw keeps its `metadata:`.
pub(crate) fn clear_empty_metadata(root: &mut Node) {
    let Some(m) = root
        .children
        .chunks(2)
        .position(|p| p[0].value == "metadata" && p.len() == 2)
    else {
        return;
    };
    if is_empty_field(&root.children[2 * m + 1]) {
        root.children.drain(2 * m..2 * m + 2);
    }
}

/// kyaml's `FieldClearer{IfEmpty: true}` test: an empty mapping or a null.
fn is_empty_field(n: &Node) -> bool {
    match n.kind {
        Kind::Mapping => n.children.is_empty(),
        Kind::Scalar => {
            n.style == Style::Plain
                && matches!(n.value.as_str(), "" | "~" | "null" | "Null" | "NULL")
        }
        Kind::Sequence => false,
    }
}

/// kyaml's `splitDocuments`: `\r\n` becomes `\n`, then the text is cut at every
/// `\n---...\n`; each piece but the last gets its `\n` back.
pub fn split_documents(text: &str) -> Result<Vec<String>, Error> {
    let s = text.replace("\r\n", "\n");
    let mut docs = Vec::new();
    if s.is_empty() {
        return Ok(docs);
    }
    let mut prev = 0;
    let mut i = 0;
    // Regex `\n---.*\n`, non-overlapping, leftmost first.
    while let Some(off) = s[i..].find("\n---") {
        let start = i + off;
        let Some(nl) = s[start + 4..].find('\n') else {
            break;
        };
        let end = start + 4 + nl + 1;
        let rest = s[start + 4..end - 1].trim();
        if !rest.is_empty() && !rest.starts_with('#') {
            let line = s[..start + 1].matches('\n').count() + 1;
            return Err(Error::Separator {
                line,
                text: s[start + 1..end - 1].trim().to_string(),
            });
        }
        docs.push(format!("{}\n", &s[prev..start]));
        prev = end;
        i = end;
    }
    docs.push(s[prev..].to_string());
    Ok(docs)
}

/// kyaml's `DeriveSeqIndentStyle`: the first `- ` line whose key line (the line
/// before it, skipping comments) ends with its only `:` decides; `compact` when
/// nothing decides.
pub fn derive_seq_indent(original: &str) -> SeqIndent {
    let lines: Vec<&str> = original.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let Some((prefix, _)) = line.split_once("- ") else {
            continue;
        };
        if !prefix.trim_matches(' ').is_empty() {
            continue;
        }
        let seq_spaces = prefix.len();
        let Some(key_line) = key_line_before(&lines, i) else {
            continue;
        };
        if key_line.is_empty() {
            continue;
        }
        let key_spaces = key_line.len() - key_line.trim_start_matches(' ').len();
        let trimmed = key_line.trim_matches(' ');
        if trimmed.matches(':').count() != 1 || !trimmed.ends_with(':') {
            continue;
        }
        if seq_spaces == key_spaces {
            return SeqIndent::Compact;
        }
        if seq_spaces == key_spaces + 2 {
            return SeqIndent::Wide;
        }
    }
    SeqIndent::Compact
}

fn key_line_before<'a>(lines: &[&'a str], i: usize) -> Option<&'a str> {
    for j in (0..i).rev() {
        let line = lines[j];
        if line.trim_matches(' ').starts_with('#') {
            continue;
        }
        return Some(line.split('#').next().unwrap_or(""));
    }
    None
}

pub(crate) fn emit_documents(docs: &[Document], indents: &[SeqIndent]) -> String {
    emit_documents_as(docs, indents, Writing::AsGoYaml)
}

/// [`emit_documents`] leaving out what `writing` says.
pub(crate) fn emit_documents_as(
    docs: &[Document],
    indents: &[SeqIndent],
    writing: Writing,
) -> String {
    let mut events = vec![Event::new(EventType::StreamStart)];
    for doc in docs {
        let mut start = Event::new(EventType::DocumentStart);
        start.head_comment = doc.head.clone().into_bytes();
        events.push(start);
        encode(&doc.root, "", &mut events);
        let mut end = Event::new(EventType::DocumentEnd);
        end.foot_comment = doc.foot.clone().into_bytes();
        events.push(end);
    }
    events.push(Event::new(EventType::StreamEnd));
    let compact: Vec<bool> = indents.iter().map(|i| *i == SeqIndent::Compact).collect();
    // A block collection's line comment (a flow mapping's `- {a: 1}  # c` that a
    // function printed back in block style, lent back by `CopyComments`) waits in
    // go-yaml's emitter for the next line comment slot; one that none takes in
    // its own document goes to the first key or item instead (ARCHITECTURE.md).
    let held = events.iter().any(|e| {
        matches!(e.typ, EventType::MappingEnd | EventType::SequenceEnd)
            && !e.flow
            && !e.line_comment.is_empty()
    });
    let copy = held.then(|| events.clone());
    let mut emitter = Emitter::new(events);
    emitter.writing = writing;
    emitter.run(&compact);
    if let (Some(mut events), false) = (copy, emitter.dropped.is_empty()) {
        for end in std::mem::take(&mut emitter.dropped) {
            keep_line_comment(&mut events, end);
        }
        emitter = Emitter::new(events);
        emitter.writing = writing;
        emitter.run(&compact);
    }
    String::from_utf8(emitter.out).unwrap_or_default()
}

/// The line comment of the collection that ends at `events[end]` moved onto its
/// first entry, where the emitter writes it at once: the first value's line
/// comment when that is a scalar without one (`- a: 1 # c`), the first key's
/// when a block collection follows it (`- a: # c`), else a head comment of the
/// first key or item.
fn keep_line_comment(events: &mut [Event], end: usize) {
    let mut depth = 0usize;
    let mut start = None;
    for i in (0..end).rev() {
        match events[i].typ {
            EventType::MappingEnd | EventType::SequenceEnd => depth += 1,
            EventType::MappingStart | EventType::SequenceStart if depth == 0 => {
                start = Some(i);
                break;
            }
            EventType::MappingStart | EventType::SequenceStart => depth -= 1,
            _ => {}
        }
    }
    let Some(first) = start.map(|s| s + 1).filter(|&f| f < end) else {
        return;
    };
    // A collection that shows the same words on one of its entries already
    // loses nothing: the place lummo gave the comment the step before, which a
    // function printed back (fuzz seed 1 case 84).
    let comment = std::mem::take(&mut events[end].line_comment);
    if events[first..end].iter().any(|e| e.line_comment == comment) {
        return;
    }
    let scalar_without_line = |e: &Event| e.typ == EventType::Scalar && e.line_comment.is_empty();
    if events[end].typ == EventType::MappingEnd && scalar_without_line(&events[first]) {
        let value = &events[first + 1];
        if scalar_without_line(value) {
            events[first + 1].line_comment = comment;
            return;
        }
        if matches!(
            value.typ,
            EventType::MappingStart | EventType::SequenceStart
        ) && !value.flow
        {
            events[first].line_comment = comment;
            return;
        }
    } else if events[end].typ == EventType::SequenceEnd && scalar_without_line(&events[first]) {
        events[first].line_comment = comment;
        return;
    }
    let head = &mut events[first].head_comment;
    if head.is_empty() {
        *head = comment;
    } else {
        let mut joined = comment;
        joined.push(b'\n');
        joined.append(head);
        *head = joined;
    }
}

/// encode.go `(*encoder).node`: a node to events; a key's foot comment travels as
/// the next key's (or the mapping end's) tail comment.
fn encode(node: &Node, tail: &str, out: &mut Vec<Event>) {
    let tag = node.tag.clone().unwrap_or_default();
    match node.kind {
        Kind::Mapping | Kind::Sequence => {
            let is_map = node.kind == Kind::Mapping;
            let mut ev = Event::new(if is_map {
                EventType::MappingStart
            } else {
                EventType::SequenceStart
            });
            ev.anchor = node.anchor.clone().into_bytes();
            ev.tag = tag.clone().into_bytes();
            ev.implicit = tag.is_empty();
            ev.flow = node.style == Style::Flow;
            ev.head_comment = node.head.clone().into_bytes();
            if is_map {
                ev.tail_comment = tail.as_bytes().to_vec();
            }
            out.push(ev);
            let mut tail = String::new();
            if is_map {
                for pair in node.children.chunks(2) {
                    let mut key = pair[0].clone();
                    let foot = std::mem::take(&mut key.foot);
                    encode(&key, &tail, out);
                    tail = foot;
                    if let Some(v) = pair.get(1) {
                        encode(v, "", out);
                    }
                }
            } else {
                for item in &node.children {
                    encode(item, "", out);
                }
            }
            let mut end = Event::new(if is_map {
                EventType::MappingEnd
            } else {
                EventType::SequenceEnd
            });
            if is_map {
                end.tail_comment = tail.into_bytes();
            }
            end.line_comment = node.line.clone().into_bytes();
            end.foot_comment = node.foot.clone().into_bytes();
            end.flow = node.style == Style::Flow;
            out.push(end);
        }
        Kind::Scalar => {
            let style = match node.style {
                Style::Double => ScalarStyle::Double,
                Style::Single => ScalarStyle::Single,
                Style::Literal => ScalarStyle::Literal,
                Style::Folded => ScalarStyle::Folded,
                _ if node.value.contains('\n') => ScalarStyle::Literal,
                _ => ScalarStyle::Plain,
            };
            let mut ev = Event::new(EventType::Scalar);
            ev.anchor = node.anchor.clone().into_bytes();
            ev.tag = tag.clone().into_bytes();
            ev.implicit = tag.is_empty();
            ev.quoted_implicit = tag.is_empty();
            ev.value = node.value.clone().into_bytes();
            ev.scalar_style = style;
            ev.head_comment = node.head.clone().into_bytes();
            ev.line_comment = node.line.clone().into_bytes();
            ev.foot_comment = node.foot.clone().into_bytes();
            ev.tail_comment = tail.as_bytes().to_vec();
            out.push(ev);
        }
    }
}
