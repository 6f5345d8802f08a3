//! Formatting a document a function changed: the new data laid out as kyaml
//! writes it, with the comments (and scalar styles) of the original document's
//! keys and items that still exist, as kpt keeps them for fields that survive.

use crate::node::{Document, Kind, Node, Style};
use crate::{emit_documents, parse, SeqIndent};
use serde_json::Value;

/// The text kpt writes for one document whose data is now `value`. `original` is
/// that document's text before the change (one piece of the file between `---`
/// lines), if it had one: comments on keys and items still present are kept, and
/// so is the style of each scalar whose value did not change. New content is
/// written as go-yaml v3 encodes Go values: plain where the text reads back as the
/// same string, double quotes where it would read as another type (`"123"`,
/// `"yes"`), `|` for multi-line strings. `seq_indent` is the document's sequence
/// indent: [`crate::derive_seq_indent`] of the original, `Compact` for new files.
pub fn format_value(original: Option<&str>, value: &Value, seq_indent: SeqIndent) -> String {
    format_values(&[(original, value, seq_indent)])
}

/// Several documents of one file, separated by `---` lines as kyaml writes them.
pub fn format_values(documents: &[(Option<&str>, &Value, SeqIndent)]) -> String {
    let mut docs = Vec::new();
    let mut indents = Vec::new();
    for (original, value, indent) in documents {
        let orig = original.and_then(|t| parse::parse_document(t).ok().flatten());
        let mut root = build(value, orig.as_ref().map(|d| &d.root));
        crate::clear_empty_annotations(&mut root);
        let (head, foot) = orig.map(|d| (d.head, d.foot)).unwrap_or_default();
        docs.push(Document { head, foot, root });
        indents.push(*indent);
    }
    emit_documents(&docs, &indents)
}

/// Which styles of a document's original give way to go-yaml's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restyle {
    /// The original's styles stay (a function kept its text).
    Keep,
    /// The original's styles stay but a folded scalar's, which is
    /// double-quoted: a step held the object in process, and kpt's function
    /// runner copied the comments of what went in onto the function's printing
    /// of it, which kyaml's copier does writing a folded scalar double-quoted
    /// (`comments.copier.VisitScalar`, kpt#766) as an exec step's text shows.
    FoldedQuoted,
    /// Every scalar's and collection's: a function printed the object afresh, or
    /// a step round-tripped it through JSON (kyaml `filtersutil.ApplyToJSON` →
    /// `RNode.UnmarshalJSON`/`FromMap`), which builds every node anew; kpt's
    /// `FunctionFilter` copies the comments and field order back
    /// (`comments.CopyComments`, `order.SyncOrder`), never the styles.
    All,
}

/// Like [`format_values`] for documents a function rewrote without keeping their
/// text: kpt copies the comments of the original back onto a function's output
/// but keeps the styles the function printed, which for a Go function are
/// go-yaml's defaults. So for a document marked [`Restyle::All`], comments come
/// from `original` and every scalar's and collection's style from go-yaml's
/// encoding of the value.
/// A document marked `changed` went through a function's ResourceList, where its
/// head comment sits right above its item: a document head comment and the first
/// key's head comment come back as one block (kpt e2e krm-check-exclude-kustomize).
/// Other documents are formatted as [`format_values`] does.
/// Annotations in `set_annotations` are set as kyaml's `SetAnnotation` sets them
/// (see [`set_annotations_as_kyaml`]).
pub fn format_values_restyled(documents: &[FileDocument]) -> String {
    restyled_documents(documents, crate::Writing::AsGoYaml)
}

/// [`format_values_restyled`] without the one change of data go-yaml's
/// emitter makes: the blank line it writes between a keep block scalar (`|+`)
/// that ends a document and the document's foot comment, which go-yaml reads
/// back as one more empty line of the value (`yaml_emitter_emit_document_end`
/// sets `foot_indent = 0`, and `yaml_emitter_write_indent` breaks the line once
/// more; fuzz seed 98 case 11). The rest is kpt's formatting.
pub fn format_values_restyled_keeping_values(documents: &[FileDocument]) -> String {
    restyled_documents(documents, crate::Writing::KeepingValues)
}

fn restyled_documents(documents: &[FileDocument], writing: crate::Writing) -> String {
    let mut docs = Vec::new();
    let mut indents = Vec::new();
    for document in documents {
        let FileDocument {
            original,
            value,
            seq_indent: indent,
            restyled,
            changed,
            set_annotations,
            set_anew,
        } = document;
        let (mut root, orig) = tree(*original, value, *restyled);
        set_annotations_as_kyaml(
            &mut root,
            orig.as_ref().map(|d| &d.root),
            set_annotations,
            set_anew,
            *restyled,
        );
        crate::clear_empty_annotations(&mut root);
        if *changed {
            crate::clear_empty_metadata(&mut root);
        }
        let (mut head, foot) = orig.map(|d| (d.head, d.foot)).unwrap_or_default();
        if *changed && !head.is_empty() {
            // kyaml's `copyFieldComments` put the document's head comment on the
            // object's node, which go-yaml writes right above its first key: the
            // blank lines that set it apart are gone.
            if let Some(first) = root.children.first_mut() {
                first.head = if first.head.is_empty() {
                    head.clone()
                } else {
                    format!("{head}\n{}", first.head)
                };
                head.clear();
            }
        }
        docs.push(Document { head, foot, root });
        indents.push(*indent);
    }
    crate::emit_documents_as(&docs, &indents, writing)
}

/// One document of a file for [`format_values_restyled`].
#[derive(Debug, Clone, Copy)]
pub struct FileDocument<'a> {
    pub original: Original<'a>,
    pub value: &'a Value,
    pub seq_indent: SeqIndent,
    pub restyled: Restyle,
    /// It went through a function's ResourceList.
    pub changed: bool,
    /// Annotations kpt set after every step (its attributor's).
    pub set_annotations: &'a [&'a str],
    /// Of those, the ones kyaml set on the object since the original's text
    /// was taken (a path the runner gave an object a step added): new nodes,
    /// single-quoted, whatever style the original shows for them.
    pub set_anew: &'a [&'a str],
}

/// The tree kpt writes for `value`, and the original document it took comments
/// (and, unless `restyled`, styles) from. A generated object is the tree kpt
/// read from the function's output, as it is: nothing to merge (unless a later
/// step rebuilt it).
fn tree(original: Original, value: &Value, restyled: Restyle) -> (Node, Option<Document>) {
    let (mut root, orig) = match original {
        Original::Written => (written_tree(value), None),
        Original::None | Original::Text(_) => {
            let orig = match original {
                Original::Text(t) => parse::parse_document(t).ok().flatten(),
                _ => None,
            };
            (build(value, orig.as_ref().map(|d| &d.root)), orig)
        }
    };
    match restyled {
        Restyle::All => restyle(
            &mut root,
            &build(value, None),
            orig.as_ref().map(|d| &d.root),
        ),
        Restyle::FoldedQuoted => quote_folded(&mut root),
        Restyle::Keep => {}
    }
    (root, orig)
}

/// Whether a document holds a folded scalar (`>`), which [`Restyle::FoldedQuoted`]
/// writes double-quoted; false where it does not parse.
pub fn holds_folded_scalar(document: &str) -> bool {
    fn folded(node: &Node) -> bool {
        (node.kind == Kind::Scalar && node.style == Style::Folded)
            || node.children.iter().any(folded)
    }
    matches!(parse::parse_document(document), Ok(Some(doc)) if folded(&doc.root))
}

/// Every folded scalar of a tree double-quoted (see [`Restyle::FoldedQuoted`]).
fn quote_folded(node: &mut Node) {
    if node.kind == Kind::Scalar && node.style == Style::Folded {
        node.style = Style::Double;
    }
    node.children.iter_mut().for_each(quote_folded);
}

/// Where the comments and styles of a document come from.
#[derive(Debug, Clone, Copy)]
pub enum Original<'a> {
    /// A new document: go-yaml's default styles.
    None,
    /// The document's text before the change.
    Text(&'a str),
    /// The document as `krm_sdk::yaml` writes the value (what a function binary
    /// prints for an object it generated): the same as `Text` of that writing,
    /// without writing and reading it.
    Written,
}

/// kyaml's formatting of `krm_sdk::yaml::to_string(value)` without building and
/// emitting its tree, for the values whose writing already is that formatting:
/// `None` for the rest. go-yaml's emitter differs from our writer in three places,
/// all left to the emitter: a sequence right inside a sequence (`- - x`), a key
/// holding a line break or another control character (`? key`), a control
/// character other than tab and line feed in a string (short escapes such as
/// `\b`); and kyaml drops an empty or null `metadata.annotations`.
/// `tests/written.rs` checks that the text is the formatting for every golden
/// object and every value of the YAML test suite.
pub fn written_text(value: &Value) -> Option<String> {
    let annotations = value.pointer("/metadata/annotations");
    if annotations.is_some_and(|a| a.is_null() || a.as_object().is_some_and(|m| m.is_empty())) {
        return None;
    }
    plain_writing(value, false).then(|| krm_sdk::yaml::to_string(value))
}

fn plain_writing(value: &Value, in_sequence: bool) -> bool {
    let plain_text = |s: &str, key: bool| {
        !s.chars()
            .any(|c| (c.is_control() && (key || !matches!(c, '\n' | '\t'))) || c == '\u{feff}')
    };
    match value {
        Value::Object(map) => map
            .iter()
            .all(|(k, v)| plain_text(k, true) && plain_writing(v, false)),
        Value::Array(items) => !in_sequence && items.iter().all(|v| plain_writing(v, true)),
        Value::String(s) => plain_text(s, false),
        _ => true,
    }
}

/// The writer's collection style: `{}` and `[]` when empty, else block.
fn written_style(empty: bool) -> Style {
    if empty {
        Style::Flow
    } else {
        Style::Block
    }
}

/// The tree read from `krm_sdk::yaml::to_string(value)`: block collections, `{}`
/// and `[]` when empty, each string in the style that writer picks
/// (`string_style`), numbers in its text (`number_text`), no comments.
/// `tests/written.rs` checks it against reading the writer's text.
fn written_tree(value: &Value) -> Node {
    match value {
        Value::Object(map) => {
            let mut node = Node::new(Kind::Mapping, written_style(map.is_empty()), "");
            node.children.reserve(map.len() * 2);
            for (key, value) in map {
                node.children.push(written_string(key, true));
                node.children.push(written_tree(value));
            }
            node
        }
        Value::Array(items) => {
            let mut node = Node::new(Kind::Sequence, written_style(items.is_empty()), "");
            node.children.extend(items.iter().map(written_tree));
            node
        }
        Value::Null => Node::scalar("null", Style::Plain),
        Value::Bool(b) => Node::scalar(if *b { "true" } else { "false" }, Style::Plain),
        Value::Number(n) => Node::scalar(&krm_sdk::yaml::number_text(&n.to_string()), Style::Plain),
        Value::String(s) => written_string(s, false),
    }
}

fn written_string(s: &str, key: bool) -> Node {
    let style = match krm_sdk::yaml::string_style(s, key) {
        krm_sdk::yaml::StringStyle::Plain => Style::Plain,
        krm_sdk::yaml::StringStyle::Literal => Style::Literal,
        krm_sdk::yaml::StringStyle::DoubleQuoted => Style::Double,
    };
    Node::scalar(s, style)
}

/// Both trees come from one value, so they have the same shape.
fn build(value: &Value, orig: Option<&Node>) -> Node {
    match value {
        Value::Object(map) => {
            let orig = orig.filter(|o| o.kind == Kind::Mapping);
            let mut node = Node::new(Kind::Mapping, orig.map_or(Style::Block, |o| o.style), "");
            if let Some(o) = orig {
                copy_comments(&mut node, o);
            }
            for (k, v) in map {
                let pair = orig.and_then(|o| {
                    o.children
                        .chunks(2)
                        .find(|p| p[0].kind == Kind::Scalar && p[0].value == *k)
                });
                let key = match pair {
                    Some(p) => p[0].clone(),
                    None => new_scalar(k),
                };
                let val = build(v, pair.and_then(|p| p.get(1)));
                node.children.push(key);
                node.children.push(val);
            }
            node
        }
        Value::Array(items) => {
            let orig = orig.filter(|o| o.kind == Kind::Sequence);
            let mut node = Node::new(Kind::Sequence, orig.map_or(Style::Block, |o| o.style), "");
            if let Some(o) = orig {
                copy_comments(&mut node, o);
            }
            for (i, item) in items.iter().enumerate() {
                let matched = orig.and_then(|o| match_item(o, items, i));
                node.children.push(build(item, matched));
            }
            node
        }
        scalar => {
            let orig = orig.filter(|o| o.kind == Kind::Scalar);
            if let Some(o) = orig {
                if same_scalar(o, scalar) {
                    return o.clone();
                }
            }
            let mut node = match scalar {
                Value::String(s) => new_scalar(s),
                Value::Null => Node::scalar("null", Style::Plain),
                other => Node::scalar(&other.to_string(), Style::Plain),
            };
            if let Some(o) = orig {
                copy_comments(&mut node, o);
            }
            node
        }
    }
}

fn copy_comments(to: &mut Node, from: &Node) {
    to.head = from.head.clone();
    to.line = from.line.clone();
    to.foot = from.foot.clone();
}

/// The original item for a new one: lists of objects match on `name` (kpt's
/// associative key for most Kubernetes lists), everything else on position.
/// A name is the data, not the text: `name: true` (a bool) is not the item
/// named `'true'` (fuzz seed 110 case 259).
/// Items sharing a name match in order, the n-th of the new list with the n-th of
/// the original: a function that keeps the nodes it does not change (kyaml's
/// filters edit the tree in place) leaves each such item its own styles and
/// comments, which the first original of that name would otherwise lend to all.
fn match_item<'a>(orig: &'a Node, items: &[Value], index: usize) -> Option<&'a Node> {
    fn name_of(v: &Value) -> Option<&str> {
        v.get("name").and_then(Value::as_str)
    }
    if let Some(name) = name_of(&items[index]) {
        let nth = items[..index]
            .iter()
            .filter(|v| name_of(v) == Some(name))
            .count();
        let named = |c: &&Node| {
            c.kind == Kind::Mapping
                && c.children.chunks(2).any(|p| {
                    p[0].value == "name"
                        && p.get(1).is_some_and(|v| {
                            v.kind == Kind::Scalar && same_scalar(v, &Value::String(name.into()))
                        })
                })
        };
        let mut by_name = orig.children.iter().filter(named);
        if let Some(found) = by_name.clone().nth(nth).or_else(|| by_name.next()) {
            return Some(found);
        }
    }
    orig.children.get(index)
}

/// go-yaml v3 `encode.go` `stringv`: plain unless the text would read back as
/// something else; multi-line text is a literal block.
fn new_scalar(s: &str) -> Node {
    let style = if s.contains('\n') {
        Style::Literal
    } else if is_old_bool(s) || is_base60_float(s) || !matches!(resolve_plain(s), Value::String(_))
    {
        Style::Double
    } else {
        Style::Plain
    };
    Node::scalar(s, style)
}

fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.1 sexagesimal floats (`1:20`), which go-yaml quotes.
fn is_base60_float(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut parts = t.split(':');
    let first = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    !rest.is_empty()
        && !first.is_empty()
        && first.chars().all(|c| c.is_ascii_digit() || c == '_')
        && rest.iter().enumerate().all(|(i, p)| {
            let p = if i + 1 == rest.len() {
                p.split('.').next().unwrap_or("")
            } else {
                p
            };
            !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit())
        })
}

/// Whether an original scalar node holds the same data as `value`.
fn same_scalar(node: &Node, value: &Value) -> bool {
    if node.tag.is_some() {
        return false;
    }
    let data = match node.style {
        Style::Plain => resolve_plain(&node.value),
        _ => Value::String(node.value.clone()),
    };
    match (&data, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => data == *value,
    }
}

/// A plain scalar's data as go-yaml v3 resolves it (`resolve.go`), which is how
/// krm-sdk's reader reads the value a function gets: integers as Go's
/// `strconv.ParseInt(s, 0, 64)` reads them, so `0755` is octal 493 (YAML 1.1
/// octals are still decoded by v3), `0x1F`, `0o17`, `0b11`, `1_000` too. The
/// infinities and NaN, floats to go-yaml but strings to krm-sdk (JSON has no
/// such number), are marked so that they match neither a string nor a number.
fn resolve_plain(s: &str) -> Value {
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => Value::String(format!("\u{0}float:{s}")),
        _ => krm_sdk::yaml::plain_scalar_value(s),
    }
}

/// How kpt got one object it prints in a ResourceList (`kpt fn render -o stdout`)
/// or as a document of `-o unwrap`: where its comments and styles come from.
#[derive(Debug, Clone, Copy)]
pub struct ListItem<'a> {
    /// The object's text (comments, styles) as kpt holds it, see [`Original`].
    pub original: Original<'a>,
    pub value: &'a Value,
    /// Whether the object comes back in go-yaml's default styles (see [`Restyle`]).
    pub restyled: Restyle,
    /// The object went through a mutator: kyaml's `comments.CopyComments` copied
    /// the head comment of its document (kept on the document node by the reader)
    /// onto the object's node, where a ResourceList prints it before `- `. An object
    /// no function saw prints without it (kyaml `RNode.YNode` skips the document).
    pub document_head: bool,
    /// Annotations kpt's reader set (`kio.LocalPackageReader`, kyaml
    /// `yaml.AnnotationSetter.Filter`: `SingleQuotedStyle`): those the original
    /// lacks are single-quoted, those it has keep its style (kyaml
    /// `FieldSetter.Filter` keeps an existing node's style).
    pub reader_annotations: &'a [&'a str],
    /// Annotations kpt set after every step (its attributor's): single-quoted
    /// whatever the steps did, as `AnnotationSetter.Filter` sets them.
    pub added_annotations: &'a [&'a str],
    /// Those of `added_annotations` kpt's node lacked when they were set (the
    /// path its runner gives an object a function added without one), though
    /// the original text has them: single-quoted too.
    pub set_anew: &'a [&'a str],
}

/// One object as kpt prints it from a ResourceList: `head` holds the comment
/// lines that go before the item (before `- `, or at the top of an unwrapped
/// document), `body` the object as a document at column 0, comments of its first
/// key included, with `seq_indent`.
pub fn format_list_item(item: &ListItem, seq_indent: SeqIndent) -> (String, String) {
    let (head, doc) = list_item_document(item);
    (head, emit_documents(&[doc], &[seq_indent]))
}

/// One object as an item of a ResourceList's `items` ([`format_sequence_item`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceItem {
    /// The comment lines before the item's `- `.
    pub head: String,
    /// The item, `- ` and all, with its final line break.
    pub body: String,
    /// The comment lines (at column 0, no final line break) that close the
    /// object's mapping, which go-yaml's emitter holds until the next event:
    /// written below the next item's `-`, alone on its line, or after a blank
    /// line when no item follows (as `krm_sdk::ItemText::foot`). Empty when
    /// none: the foot of the object's document is the document node's, which
    /// kpt does not print until a mutator's `CopyComments` made it the
    /// mapping's ([`ListItem::document_head`]).
    pub foot: String,
}

/// [`format_list_item`] as an item of the ResourceList's `items`, `- ` and all,
/// written by the emitter inside the sequence (compact, as kyaml's encoder
/// writes a ResourceList): where a comment or a quoted scalar's continuation
/// goes depends on the sequence around the object, as in go-yaml.
pub fn format_sequence_item(item: &ListItem) -> SequenceItem {
    let (head, doc) = list_item_document(item);
    let foot = match item.document_head {
        true => crate::held_foot(&doc.foot),
        false => String::new(),
    };
    let mut sequence = Node::new(Kind::Sequence, Style::Block, "");
    sequence.children.push(doc.root);
    let doc = Document {
        head: String::new(),
        foot: String::new(),
        root: sequence,
    };
    SequenceItem {
        head,
        body: emit_documents(&[doc], &[SeqIndent::Compact]),
        foot,
    }
}

/// The comment lines before the item, and the object as a document.
fn list_item_document(item: &ListItem) -> (String, Document) {
    let (mut root, orig) = tree(item.original, item.value, item.restyled);
    if item.restyled != Restyle::All && !matches!(item.original, Original::Written) {
        quote_new_annotations(
            &mut root,
            orig.as_ref().map(|d| &d.root),
            item.reader_annotations,
        );
    }
    set_annotations_as_kyaml(
        &mut root,
        orig.as_ref().map(|d| &d.root),
        item.added_annotations,
        item.set_anew,
        item.restyled,
    );
    crate::clear_empty_annotations(&mut root);
    if item.document_head {
        crate::clear_empty_metadata(&mut root);
    }
    let head = match &orig {
        // Blank lines between its comment blocks stay (fuzz seed 1 case 1).
        Some(d) if item.document_head && !d.head.trim().is_empty() => {
            format!("{}\n", d.head.trim_matches('\n'))
        }
        _ => String::new(),
    };
    let foot = orig.map(|d| d.foot).unwrap_or_default();
    let doc = Document {
        head: String::new(),
        foot,
        root,
    };
    (head, doc)
}

/// Every style of `to` (scalars and collections) set to that of `from`, the
/// same value built afresh: what go-yaml gives a value decoded from JSON. A
/// scalar's spelling goes too (`~` comes back `null`, `True` `true`): JSON keeps
/// the data, not the text.
///
/// `before` is the original the comments came from: kpt gives a sequence's
/// item its comments back only where the item's text is the one the step
/// took (kyaml's `copier.VisitList` compares `Value`), so an item JSON
/// respells (`1.10` as `1.1`) loses them; a mapping's value keeps its own
/// (`VisitScalar` copies them whatever the text): fuzz seed i131 case 21.
fn restyle(to: &mut Node, from: &Node, before: Option<&Node>) {
    to.style = from.style;
    if to.kind == Kind::Scalar && from.kind == Kind::Scalar {
        to.value.clone_from(&from.value);
        to.tag.clone_from(&from.tag);
    }
    let before = before.filter(|b| b.kind == to.kind);
    match to.kind {
        Kind::Mapping => {
            for (pair, f) in to.children.chunks_mut(2).zip(from.children.chunks(2)) {
                // the value's original, found by its key
                let b = before
                    .and_then(|b| b.children.chunks(2).find(|p| p[0].value == pair[0].value))
                    .and_then(|p| p.get(1));
                for (at, (t, f)) in pair.iter_mut().zip(f).enumerate() {
                    restyle(t, f, b.filter(|_| at == 1));
                }
            }
        }
        _ => {
            for (i, (t, f)) in to.children.iter_mut().zip(&from.children).enumerate() {
                let b = before.and_then(|b| b.children.get(i));
                if b.is_some_and(|b| b.kind == Kind::Scalar && b.value != f.value) {
                    t.line.clear();
                    t.head.clear();
                    t.foot.clear();
                }
                restyle(t, f, b);
            }
        }
    }
}

/// The mapping `metadata.annotations` of an object node, if any.
pub(crate) fn annotations_of(root: &Node) -> Option<&Node> {
    let metadata = root
        .children
        .chunks(2)
        .find(|p| p.len() == 2 && p[0].value == "metadata" && p[1].kind == Kind::Mapping)?;
    metadata[1]
        .children
        .chunks(2)
        .find(|p| p.len() == 2 && p[0].value == "annotations" && p[1].kind == Kind::Mapping)
        .map(|p| &p[1])
}

/// The annotations named by `keys` as kyaml's `SetAnnotation` leaves them
/// (`AnnotationSetter` makes a single-quoted node, `FieldSetter` puts it in place
/// of an existing value, in that value's style): one the original lacks comes out
/// single-quoted; one it had keeps the style its node had then (go-yaml's default
/// for the old value when the object was `restyled`) and loses its comments, the
/// old node's, which went with it.
fn set_annotations_as_kyaml(
    root: &mut Node,
    orig: Option<&Node>,
    keys: &[&str],
    set_anew: &[&str],
    restyled: Restyle,
) {
    if keys.is_empty() {
        return;
    }
    // `AnnotationSetter` first drops an empty `annotations` field
    // (`ClearEmptyAnnotations`), then `addMetadataNode` adds a new block
    // mapping at the end of `metadata`: `annotations: {}` goes to the function
    // as a block mapping below the other fields (fuzz seed 104 case 2943).
    if orig
        .and_then(annotations_of)
        .is_some_and(|a| a.children.is_empty())
    {
        annotations_anew(root);
    }
    let old: Vec<Node> = orig
        .and_then(annotations_of)
        .map(|a| {
            a.children
                .chunks(2)
                .filter(|p| p.len() == 2 && keys.contains(&p[0].value.as_str()))
                .flat_map(|p| p.iter().cloned())
                .collect()
        })
        .unwrap_or_default();
    let Some(annotations) = annotations_of_mut(root) else {
        return;
    };
    for pair in annotations.children.chunks_mut(2) {
        let [key, value] = pair else { continue };
        if value.kind != Kind::Scalar || !keys.contains(&key.value.as_str()) {
            continue;
        }
        let before = old
            .chunks(2)
            .find(|p| p[0].value == key.value && !set_anew.contains(&key.value.as_str()))
            .map(|p| &p[1]);
        value.style = match before {
            None => Style::Single,
            Some(node) if restyled == Restyle::All && node.kind == Kind::Scalar => {
                new_scalar(&node.value).style
            }
            Some(node) => node.style,
        };
        value.head.clear();
        value.line.clear();
        value.foot.clear();
    }
}

/// `metadata.annotations` of an object node as a new field: a block mapping,
/// the last of `metadata`, without the comments of the field it replaces.
fn annotations_anew(root: &mut Node) {
    let Some(metadata) = root.mapping_field_mut("metadata") else {
        return;
    };
    let Some(i) = metadata.mapping_field("annotations") else {
        return;
    };
    let mut pair: Vec<Node> = metadata.children.drain(2 * i..2 * i + 2).collect();
    for node in &mut pair {
        node.head.clear();
        node.line.clear();
        node.foot.clear();
    }
    pair[1].style = Style::Block;
    metadata.children.extend(pair);
}

/// The mapping `metadata.annotations` of an object node, to change.
pub(crate) fn annotations_of_mut(root: &mut Node) -> Option<&mut Node> {
    root.mapping_field_mut("metadata")?
        .mapping_field_mut("annotations")
}

/// Single-quotes the annotations named by `keys` that `orig` lacks.
fn quote_new_annotations(root: &mut Node, orig: Option<&Node>, keys: &[&str]) {
    let had: Vec<String> = orig
        .and_then(annotations_of)
        .map(|a| a.children.chunks(2).map(|p| p[0].value.clone()).collect())
        .unwrap_or_default();
    let Some(annotations) = annotations_of_mut(root) else {
        return;
    };
    for pair in annotations.children.chunks_mut(2) {
        if pair.len() == 2
            && pair[1].kind == Kind::Scalar
            && keys.contains(&pair[0].value.as_str())
            && !had.contains(&pair[0].value)
        {
            pair[1].style = Style::Single;
        }
    }
}
