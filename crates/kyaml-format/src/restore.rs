//! What kpt does to every object a function prints back: kyaml's
//! `FunctionFilter.copyCommentsAndSyncOrder` (kyaml `fn/runtime/runtimeutil`).
//! The object that went in under the same `config.k8s.io/id` lends its comments
//! (`comments.CopyComments`: only where the function's object has none) and its
//! field order (`order.SyncOrder`: its keys first, in its order, the function's new
//! keys after them); the function's styles stay.

use crate::node::{Document, Kind, Node, Style};
use crate::{emit_documents, parse, SeqIndent};
use krm_sdk::{HeldComment, NodeStep};

/// The function's object `output` (a document at column 0) with the comments and
/// field order of the object that went in, `input`; `None` when either does not
/// read as one document.
/// The annotations in `clear` are taken off the function's object first (kpt
/// clears its id annotations once it has matched the object). `held`: the
/// line comments `input` shows on a later node than the collection they are
/// on, which go back on that collection first (see [`HeldComment`]).
pub fn restore_comments_and_order(
    input: &str,
    input_from: TextFrom,
    output: &str,
    end: ItemEnd,
    clear: &[&str],
    held: &[HeldComment],
) -> Option<Restored> {
    let mut from = parse::parse_document(input).ok()??;
    put_back_held(&mut from.root, held);
    let mut to = match end == ItemEnd::Followed && ends_in_an_indented_comment(output) {
        // In the list, go-yaml reads comment lines the function printed
        // indented below the object's last value as the foot of the key or
        // block they stand under: the list goes on below them. Alone, the text
        // would end there and make them the document's foot (a `>` value's
        // key foot after the emitter's blank line; the real kpt, fed such
        // items by a generator, writes them so).
        true => read_in_a_list_with_head(output)?,
        false => parse::parse_document(output).ok()??,
    };
    remove_annotations(&mut to.root, clear);
    // Both were items of a ResourceList, which have no document of their own,
    // but a foot a blank line sets apart in the input is its node's own: the
    // foot of its document as read from a file, or of its mapping, where
    // `CopyComments` put such a foot the step before (fuzz seed 107 case 25).
    if split_document_foot(input, input_from).is_none() {
        foot_to_last_key(&mut from);
    }
    match end {
        ItemEnd::Followed => foot_to_last_key(&mut to),
        // Below the list's last item, at the end of the text, comment lines a
        // blank line sets apart are the ResourceList document's foot, which
        // kyaml's reader drops with the list (the real kpt, fed such an item by
        // a generator, writes no such comment; fuzz seed 119 case 600, seed
        // 121 case 426).
        ItemEnd::EndOfText => to.foot.clear(),
    }
    // `copyFieldComments(from.Document(), to.Document())`: the input is a document
    // node (its comments are the document's), the output an item of a
    // ResourceList (its comments are the object's own).
    // Kept as the document's head (in its own block): where kpt's writers put
    // the object's head comment, before `- ` in a ResourceList, right above the
    // first key in a file, is the callers' (`document_head`, `changed`).
    if to.head.is_empty() && to.root.head.is_empty() {
        to.head.clone_from(&from.head);
    }
    if to.foot.is_empty() && to.root.foot.is_empty() {
        to.root.foot.clone_from(&from.foot);
    }
    copy_children(&from.root, &mut to.root);
    // kpt's reader set its annotations on every object: one without
    // `metadata` got it last (kyaml `SetAnnotation`), and its node keeps it
    // there from step to step (fuzz seed 121 case 543: a kustomization.yaml).
    let has_metadata = from
        .root
        .children
        .chunks(2)
        .any(|p| p[0].value == "metadata");
    if from.root.kind == Kind::Mapping && !has_metadata {
        from.root
            .children
            .push(Node::scalar("metadata", Style::Plain));
        from.root
            .children
            .push(Node::new(Kind::Mapping, Style::Block, ""));
    }
    sync_order(&from.root, &mut to.root);
    let kept_scalar = ends_with_kept_scalar(&to.root);
    let docs = [to];
    let text = emit_documents(&docs, &[SeqIndent::Compact]);
    let text = match kept_scalar {
        true => read_as_written(text),
        false => text,
    };
    let held = held_in_text(&docs[0].root, &text);
    Some(Restored { text, held })
}

/// An object with the comments and field order kpt's node has after a step
/// ([`restore_comments_and_order`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The object as go-yaml's emitter writes kpt's node.
    pub text: String,
    /// The line comments the text shows on a later node than the collection
    /// kpt's node has them on.
    pub held: Vec<HeldComment>,
}

/// Puts each held line comment back on its collection, where the text shows it
/// on the node `held` says and the collection has none (a step in process may
/// have changed the object since: then the text says what the comment is on).
fn put_back_held(root: &mut Node, held: &[HeldComment]) {
    for h in held {
        if !node_at(root, &h.owner).is_some_and(|n| holds_its_line(n) && n.line.is_empty()) {
            continue;
        }
        let Some(slot) = node_at_mut(root, &h.slot).filter(|n| n.line == h.comment) else {
            continue;
        };
        slot.line.clear();
        if let Some(owner) = node_at_mut(root, &h.owner) {
            owner.line.clone_from(&h.comment);
        }
    }
}

/// A block collection: go-yaml's emitter holds its line comment for the next
/// slot (`emit_documents_as`).
fn holds_its_line(node: &Node) -> bool {
    matches!(node.kind, Kind::Mapping | Kind::Sequence) && node.style == Style::Block
}

/// Where in `node`'s children a step goes.
fn child_index(node: &Node, step: &NodeStep) -> Option<usize> {
    match (node.kind, step) {
        (Kind::Mapping, NodeStep::Key(key) | NodeStep::Value(key)) => {
            let pair = node.children.chunks(2).position(|p| p[0].value == *key)?;
            Some(2 * pair + usize::from(matches!(step, NodeStep::Value(_))))
        }
        (Kind::Sequence, NodeStep::Entry(i)) => Some(*i),
        _ => None,
    }
    .filter(|&i| i < node.children.len())
}

fn node_at<'a>(root: &'a Node, path: &[NodeStep]) -> Option<&'a Node> {
    path.iter().try_fold(root, |node, step| {
        Some(&node.children[child_index(node, step)?])
    })
}

fn node_at_mut<'a>(root: &'a mut Node, path: &[NodeStep]) -> Option<&'a mut Node> {
    path.iter().try_fold(root, |node, step| {
        let i = child_index(node, step)?;
        Some(&mut node.children[i])
    })
}

/// The line comments of block collections in `root` that go-yaml's emitter
/// wrote in `text` on a later node: read back, the text has them there.
fn held_in_text(root: &Node, text: &str) -> Vec<HeldComment> {
    fn walk(
        written: &Node,
        read: &Node,
        path: &mut Vec<NodeStep>,
        owners: &mut Vec<(Vec<NodeStep>, String)>,
        slots: &mut Vec<(Vec<NodeStep>, String)>,
    ) {
        if written.line != read.line {
            if holds_its_line(written) && !written.line.is_empty() {
                owners.push((path.clone(), written.line.clone()));
            }
            if !read.line.is_empty() {
                slots.push((path.clone(), read.line.clone()));
            }
        }
        if written.kind != read.kind || written.children.len() != read.children.len() {
            return;
        }
        for (i, (w, r)) in written.children.iter().zip(&read.children).enumerate() {
            let step = match written.kind {
                Kind::Mapping if i % 2 == 0 => NodeStep::Key(w.value.clone()),
                Kind::Mapping => NodeStep::Value(written.children[i - 1].value.clone()),
                _ => NodeStep::Entry(i),
            };
            path.push(step);
            walk(w, r, path, owners, slots);
            path.pop();
        }
    }
    fn holds(node: &Node) -> bool {
        (holds_its_line(node) && !node.line.is_empty()) || node.children.iter().any(holds)
    }
    // Only a block collection with a line comment is held: no parse for the rest.
    if !holds(root) {
        return Vec::new();
    }
    let Some(read) = parse::parse_document(text).ok().flatten() else {
        return Vec::new();
    };
    let (mut owners, mut slots) = (Vec::new(), Vec::new());
    walk(root, &read.root, &mut Vec::new(), &mut owners, &mut slots);
    owners
        .into_iter()
        .filter_map(|(owner, comment)| {
            let at = slots.iter().position(|(_, c)| *c == comment)?;
            let (slot, _) = slots.remove(at);
            Some(HeldComment {
                owner,
                slot,
                comment,
            })
        })
        .collect()
}

/// What follows an item in the ResourceList a function printed, which decides
/// where go-yaml puts the comment lines that end the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemEnd {
    /// Another item, or another key of the ResourceList.
    Followed,
    /// Nothing: the item ends the text.
    EndOfText,
}

/// Whether a text ends in a comment line that is indented (a block scalar's
/// last lines may look so too: read in a list, they are its lines all the
/// same).
fn ends_in_an_indented_comment(text: &str) -> bool {
    text.trim_end()
        .rsplit('\n')
        .next()
        .is_some_and(|line| line.starts_with([' ', '\t']) && line.trim_start().starts_with('#'))
}

/// An object a function printed as go-yaml reads it in its ResourceList
/// ([`crate::readback::read_in_a_list`]), its head comment where the text
/// alone puts it: the document's head and the first key's. A head above the
/// object had kept lummo from reading it in the list, and the foot of its
/// last key came back on its parent too (fuzz seed 129 case 1897: `# hash`
/// below a `|+` value, printed twice).
fn read_in_a_list_with_head(output: &str) -> Option<Document> {
    let mut top = 0;
    for line in output.split_inclusive('\n') {
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            break;
        }
        top += line.len();
    }
    let mut root = crate::readback::read_in_a_list(&output[top..])?;
    if top == 0 {
        return Some(Document {
            head: String::new(),
            foot: String::new(),
            root,
        });
    }
    let parsed = parse::parse_document(output).ok()??;
    root.head = parsed.root.head;
    if let (Some(first), Some(read)) = (root.children.first_mut(), parsed.root.children.first()) {
        first.head.clone_from(&read.head);
    }
    Some(Document {
        head: parsed.head,
        foot: String::new(),
        root,
    })
}

/// Whether the node's last scalar is a block scalar that keeps blank lines.
fn ends_with_kept_scalar(node: &Node) -> bool {
    last_scalar(node).is_some_and(|s| {
        matches!(s.style, Style::Literal | Style::Folded) && s.value.ends_with("\n\n")
    })
}

/// A text go-yaml's emitter wrote that reads back as what it wrote: below a
/// kept block scalar (`|+`) ending the object, the emitter sets a foot comment
/// apart by a blank line, which the scalar reads back into its value (the
/// value would gain a line break: fuzz seed 116 case 269); without it, the
/// comment is still set apart, by the value's own blank lines. For a text
/// whose object ends with a kept block scalar.
fn read_as_written(text: String) -> String {
    let Some((rest, foot)) = split_document_foot(&text, TextFrom::Emitter) else {
        return text;
    };
    match rest.strip_suffix("\n\n\n") {
        Some(value) => format!("{value}\n\n{foot}\n"),
        None => text,
    }
}

/// A comment below an item of a ResourceList at the item's indentation closes
/// the object's mapping, whose foot go-yaml gives to its last key
/// (`parser.mapping`). The item's text unindented reads it as the document's
/// foot, which would print after a blank line: below the whole list in
/// `-o stdout` (fuzz seed 41 case 83), and twice once `CopyComments` lent it.
fn foot_to_last_key(document: &mut Document) {
    if document.root.kind != Kind::Mapping || document.foot.is_empty() {
        return;
    }
    let len = document.root.children.len();
    if let Some(last_key) = len.checked_sub(2).map(|i| &mut document.root.children[i]) {
        if last_key.foot.is_empty() {
            last_key.foot = std::mem::take(&mut document.foot);
        }
    }
}

/// A document's head comment (go-yaml keeps the comment lines above the
/// object that a blank line separates from it on the document node) and the
/// rest of the text, `None` when it has none. kyaml's `RNode.YNode` skips the
/// document node, so kpt's function runner gives a function the object without
/// that comment until a mutator's `CopyComments` made it the object's own; then
/// the ResourceList prints it before the item's `- ` (kpt e2e data; fuzz seed 1
/// case 1).
pub fn split_document_head(document: &str) -> Option<(&str, &str)> {
    // Only a text that begins with a comment has one: no parse for the rest.
    if !document.trim_start().starts_with('#') {
        return None;
    }
    let head = parse::parse_document(document).ok()??.head;
    if head.is_empty() {
        return None;
    }
    // The head ends at the last blank line before the first line of content.
    let mut end = None;
    let mut at = 0;
    for line in document.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            end = Some(at + line.len());
        } else if !trimmed.starts_with('#') {
            break;
        }
        at += line.len();
    }
    let (before, rest) = document.split_at(end?);
    let said = |text: &str| comment_lines(text, str::trim_end);
    // Only where the lines are exactly the parser's head (a `---` or a
    // directive between would make them something else).
    (said(before) == said(&head)).then(|| (before.trim_matches('\n'), rest))
}

/// A foot comment as go-yaml's emitter writes it when it holds it past the
/// end of its node (`krm_sdk::ItemText::foot`): each line at column 0, no
/// final line break.
pub fn held_foot(foot: &str) -> String {
    let lines: Vec<&str> = foot.lines().map(str::trim_start).collect();
    lines.join("\n")
}

/// The comment lines at column 0 a document begins with, with no blank line
/// among them (empty when it begins otherwise), and the rest: the comments
/// above its first key, the head of whichever node go-yaml gives them to.
pub fn split_leading_comments(document: &str) -> (&str, &str) {
    let end = document
        .split_inclusive('\n')
        .take_while(|line| line.starts_with('#'))
        .map(str::len)
        .sum();
    document.split_at(end)
}

/// A document's foot comment, the comment lines it ends with that a blank line
/// sets apart from its object (go-yaml keeps them on the document node), and
/// the text before the blank line; `None` when it has none. As with
/// [`split_document_head`], kpt's function runner gives a function the object
/// without that comment until a mutator's `CopyComments` made it the foot of
/// the object's mapping, which go-yaml's emitter writes after a blank line at
/// column 0, in a ResourceList as in a file (fuzz seed 107 case 25).
pub fn split_document_foot(document: &str, from: TextFrom) -> Option<(&str, &str)> {
    let body = document.trim_end_matches('\n');
    // Only a text whose last lines are comments with a blank line among
    // them may have one: no parse for the rest.
    let mut ends_in_comment = false;
    let mut blank = false;
    for line in body.lines().rev() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            blank = true;
        } else if trimmed.starts_with('#') {
            ends_in_comment = true;
        } else {
            break;
        }
    }
    if !(ends_in_comment && blank) {
        return None;
    }
    let parsed = parse::parse_document(document).ok()??;
    // The foot's lines, blank lines between, and the blank lines above them:
    // as many comment lines as the parser's foot has, since a block scalar's
    // last lines may read as comments too (`|+` ending in `# hash`, then a
    // blank line, then the foot: fuzz seed 114 case 54).
    let wanted = comment_lines(&parsed.foot, str::trim).len();
    let (mut start, mut seen) = (body.len(), 0);
    for line in body.split_inclusive('\n').rev() {
        let trimmed = line.trim();
        if !trimmed.is_empty() && (seen == wanted || !trimmed.starts_with('#')) {
            break;
        }
        seen += usize::from(!trimmed.is_empty());
        start -= line.len();
    }
    let tail = &body[start..];
    // Set apart: the first of them is blank; or right below a foot comment of
    // a key or a block, which go-yaml's scanner ends at the less indented line
    // (a file's `    # hash` then `# beta`: fuzz seed 119 case 600).
    let set_apart = tail.trim_start_matches([' ', '\t']).starts_with('\n');
    let below_a_foot = || {
        body[..start]
            .trim_end_matches('\n')
            .rsplit('\n')
            .next()
            .is_some_and(|line| line.trim_start().starts_with('#'))
    };
    if !set_apart && !below_a_foot() {
        return None;
    }
    let foot = tail.trim_start_matches(|c: char| c.is_whitespace());
    if foot.is_empty() {
        return None;
    }
    // go-yaml's emitter writes a line break after a folded scalar's last line
    // (`yaml_emitter_write_folded_scalar`): a text it wrote, where the object
    // ends with one, has a blank line there that kpt's node does not stand for
    // (fuzz seed i107 case 10, seed s1 case 36), and one more before a
    // document's foot; the first stays with the object. In a file each blank
    // line is the user's (fuzz seed 1 case 241).
    // Not after a value whose last line starts with a blank: the emitter
    // adds none there (fuzz seed 91 case 20). Nor where a foot comment of a
    // key or a block comes between that value and the document's foot: the
    // break is above that comment (fuzz seed 119 case 600).
    if from == TextFrom::Emitter
        && set_apart
        && last_scalar(&parsed.root)
            .is_some_and(|s| s.style == Style::Folded && folded_ends_with_a_break(&s.value))
        && !foot_below_last_scalar(&parsed.root)
    {
        let blank = tail.split_inclusive('\n').next().map_or(0, str::len);
        if !tail[blank..]
            .trim_start_matches([' ', '\t'])
            .starts_with('\n')
        {
            return None;
        }
        start += blank;
    }
    // A kept block scalar (`|+`) ending the object reads the blank lines above
    // the foot into its value (fuzz seed 113 case 732): they stay with the
    // object, which would otherwise lose a line break. Not those below a
    // comment that ends that value's key or block: the scalar ends above it
    // (fuzz seed s141 case 345: a blank line more in the step's input).
    if ends_with_kept_scalar(&parsed.root) && !foot_below_last_scalar(&parsed.root) {
        start = body.len() - foot.len();
        start -= body[..start].len() - body[..start].trim_end_matches([' ', '\t']).len();
    }
    // Each line at whatever indentation the text has it.
    let said = |text: &str| comment_lines(text, str::trim);
    (said(foot) == said(&parsed.foot)).then(|| (&body[..start], foot))
}

/// Whether go-yaml's emitter writes a line break of its own after a folded
/// scalar's last line (`yaml_emitter_write_folded_scalar`: at the value's
/// final line break, when that line does not start with a blank and, looking
/// from the value's start, the value does not either).
fn folded_ends_with_a_break(value: &str) -> bool {
    let Some(body) = value.strip_suffix('\n') else {
        return false;
    };
    let last = body.rsplit('\n').next().unwrap_or(body);
    let starts_blank = |t: &str| t.is_empty() || t.starts_with([' ', '\t']);
    !starts_blank(last) && !starts_blank(value.trim_start_matches(['\n', '\r']))
}

/// The non-blank lines of a comment, each as `line` leaves it.
fn comment_lines(text: &str, line: fn(&str) -> &str) -> Vec<String> {
    text.lines()
        .map(line)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Who wrote a text: its blank lines are the user's, or go-yaml's emitter
/// may have added one (see [`split_document_foot`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFrom {
    /// A document of a file, as read.
    File,
    /// go-yaml's emitter (kpt's, a function's, ours standing for them).
    Emitter,
}

/// Whether a node on the way to the last scalar of a tree, or the key of a
/// mapping's last pair (where go-yaml keeps a pair's foot), has a foot comment,
/// which go-yaml's emitter writes below that scalar.
fn foot_below_last_scalar(node: &Node) -> bool {
    let key_foot = node.kind == Kind::Mapping
        && node
            .children
            .len()
            .checked_sub(2)
            .is_some_and(|key| !node.children[key].foot.is_empty());
    !node.foot.is_empty() || key_foot || node.children.last().is_some_and(foot_below_last_scalar)
}

/// The last scalar of a tree in document order.
fn last_scalar(node: &Node) -> Option<&Node> {
    match node.kind {
        Kind::Scalar => Some(node),
        _ => node.children.last().and_then(last_scalar),
    }
}

/// The document as go-yaml v3 reads its object back from a ResourceList where
/// the object's head comment stands before the item's `- ` right below the
/// item before it (as kpt's emitter prints an object whose head a mutator's
/// `CopyComments` made its own), when a blank line is inside that head:
/// `yaml_parser_scan_comments` (`scannerc.go`) ends the run at its first blank
/// line as a foot (it starts right below the prior token, at a lesser column
/// than the block open there), which no BLOCK-END takes (`parserc.go`
/// `yaml_parser_unfold_comments` leaves comments after a BLOCK-END's mark for
/// the next token) and the parser gives to the object's first key; the rest
/// stays the object's head. So the first key's foot holds the head's upper
/// part, which go-yaml's emitter writes below the key's value, and the lower
/// part goes right above the object (fuzz seed 98 case 5, where the first key
/// is the last: the license went to the end of the file; fuzz case
/// stdin-license-after-first-key). `None` when the document's head (see
/// [`split_document_head`]) has no blank line inside.
pub fn head_read_back_below_an_item(document: &str) -> Option<String> {
    let mut doc = parse::parse_document(document).ok()??;
    let (foot, rest) = doc.head.split_once("\n\n")?;
    let (foot, rest) = (foot.to_string(), rest.trim_start_matches('\n').to_string());
    match doc.root.children.first_mut() {
        // The rest is the object's head, which go-yaml's emitter writes
        // above the item's `- `; the first key's own head stays the key's,
        // after the dash (fuzz seed 129 case 5687): the two stay apart.
        Some(key) if !key.head.is_empty() => {
            doc.head = rest;
            with_first_key_foot(doc, foot)
        }
        _ => head_split_at_the_first_key(doc, foot, rest),
    }
}

/// The document as go-yaml v3 reads its object back from a ResourceList where
/// the item's `-` stands alone on its line and comment lines at column 0
/// follow it (a foot go-yaml's emitter held past the dash), then the object's
/// head (krm-sdk's `Item::read_below_a_lone_dash`). `document` is the item's
/// text at column 0, starting with the lines below the dash; `above_dash` the
/// comment lines printed above the dash, and whether another item comes
/// before (`below_an_item`).
///
/// Below the dash, `yaml_parser_scan_comments` ends the run at its first blank
/// line as a foot of the `-` token (it starts on the line below it), which
/// waits, as a block mapping's start takes no comments (`parserc.go`
/// `yaml_parser_parse_node`), for the first key; the rest is that key's head.
/// So the first key's foot holds the lines above the first blank line, which
/// go-yaml's emitter writes below the key's value (fuzz seed 129 case 917: the
/// real kpt wrote a Kptfile's held foot and the next object's head there).
/// Above the dash, below another item, the lines before the first blank line
/// go to that foot too and the rest is the object's head (as
/// [`head_read_back_below_an_item`]); above the first item, all of them are.
/// The object's head is set apart as the document's head, the first key's own
/// head (the lines below the dash) after it (fuzz seed 139 case 3675: kpt
/// printed `# h` above the dash and the key's `# a` below it).
/// `None` when the text reads so already.
pub fn head_read_back_below_a_lone_dash(
    above_dash: Option<&str>,
    below_an_item: bool,
    document: &str,
) -> Option<String> {
    let mut doc = parse::parse_document(document).ok()??;
    let above = above_dash
        .map(|above| above.trim_matches('\n'))
        .filter(|above| !above.is_empty());
    if doc.head.is_empty() && above.is_none() {
        return None;
    }
    let key_head = match doc.root.children.first_mut() {
        Some(key) => std::mem::take(&mut key.head),
        None => String::new(),
    };
    // The lines below the dash: the document's head to the text alone, the
    // first key's after it.
    let (below_foot, below_head) = match doc.head.is_empty() {
        true => (String::new(), key_head),
        false => {
            let mut run = std::mem::take(&mut doc.head);
            if !key_head.is_empty() {
                run = format!("{run}\n\n{key_head}");
            }
            let (foot, rest) = run.split_once("\n\n").unwrap_or((&run, ""));
            (foot.to_string(), rest.trim_start_matches('\n').to_string())
        }
    };
    let (above_foot, object_head) = match above {
        Some(above) if below_an_item => above
            .split_once("\n\n")
            .map_or(("", above), |(foot, head)| {
                (foot, head.trim_start_matches('\n'))
            }),
        Some(above) => ("", above),
        None => ("", ""),
    };
    let foot: Vec<&str> = [above_foot, below_foot.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect();
    if let Some(key) = doc.root.children.first_mut() {
        key.head = below_head;
    }
    doc.head = object_head.to_string();
    match foot.is_empty() {
        true => (doc.root.kind == Kind::Mapping && !doc.root.children.is_empty())
            .then(|| emit_documents(&[doc], &[SeqIndent::Compact])),
        false => with_first_key_foot(doc, foot.join("\n")),
    }
}

/// `foot` on the object's first key, `rest` its head, the document's head gone.
fn head_split_at_the_first_key(mut doc: Document, foot: String, rest: String) -> Option<String> {
    if let Some(key) = doc.root.children.first_mut() {
        key.head = match key.head.is_empty() {
            true => rest,
            false => format!("{rest}\n{}", key.head),
        };
    }
    doc.head.clear();
    with_first_key_foot(doc, foot)
}

/// The document with `foot` on its object's first key.
fn with_first_key_foot(mut doc: Document, foot: String) -> Option<String> {
    if doc.root.kind != Kind::Mapping || doc.root.children.is_empty() {
        return None;
    }
    let key = &mut doc.root.children[0];
    // A foot of its value stays on the value in go-yaml (`parser.mapping`
    // moves it to the key only when the key has none), and is written first,
    // each foot followed by a blank line.
    key.foot = match key.foot.is_empty() {
        true => foot,
        false => format!("{}\n\n{foot}", key.foot),
    };
    Some(emit_documents(&[doc], &[SeqIndent::Compact]))
}

/// `metadata.annotations` without the keys in `clear`, and without the mapping
/// when that empties it (kyaml `ClearAnnotation`).
pub(crate) fn remove_annotations(root: &mut Node, clear: &[&str]) {
    let Some(metadata) = root.mapping_field_mut("metadata") else {
        return;
    };
    let Some(i) = metadata.mapping_field("annotations") else {
        return;
    };
    let annotations = &mut metadata.children[2 * i + 1];
    let mut kept = Vec::with_capacity(annotations.children.len());
    for pair in annotations.children.chunks(2) {
        if !clear.contains(&pair[0].value.as_str()) {
            kept.extend(pair.iter().cloned());
        }
    }
    annotations.children = kept;
    if annotations.children.is_empty() {
        metadata.children.drain(2 * i..2 * i + 2);
    }
}

/// `copyFieldComments`: each comment `to` lacks, from `from`.
fn fill(to: &mut Node, from: &Node) {
    if to.line.is_empty() {
        to.line.clone_from(&from.line);
    }
    if to.head.is_empty() {
        to.head.clone_from(&from.head);
    }
    if to.foot.is_empty() {
        to.foot.clone_from(&from.foot);
    }
}

/// kyaml's `walk.Walker` with the `copier` visitor below a node already visited:
/// mappings field by field (keys as scalars), sequences item by item where the
/// items say the same (`VisitList`: equal scalar text, or both collections).
fn copy_children(from: &Node, to: &mut Node) {
    match (from.kind, to.kind) {
        (Kind::Mapping, Kind::Mapping) => {
            for pair in from.children.chunks(2) {
                let [key, value] = pair else { continue };
                let Some(i) = to
                    .children
                    .chunks(2)
                    .position(|p| p[0].kind == Kind::Scalar && p[0].value == key.value)
                else {
                    continue;
                };
                visit(key, &mut to.children[2 * i]);
                if let Some(to_value) = to.children.get_mut(2 * i + 1) {
                    visit(value, to_value);
                }
            }
        }
        (Kind::Sequence, Kind::Sequence) => {
            for (from_item, to_item) in from.children.iter().zip(to.children.iter_mut()) {
                if from_item.value == to_item.value {
                    // `CopyComments` of the two items, recursively.
                    fill(to_item, from_item);
                    visit(from_item, to_item);
                }
            }
        }
        _ => {}
    }
}

/// One node of the walk: `VisitMap`, `VisitList` or `VisitScalar`.
fn visit(from: &Node, to: &mut Node) {
    if from.kind != to.kind {
        return;
    }
    if to.kind == Kind::Scalar && to.style == Style::Folded {
        // kyaml's copier writes folded scalars double-quoted (kpt#766).
        to.style = Style::Double;
    }
    fill(to, from);
    copy_children(from, to);
}

/// `order.SyncOrder`: the keys of every mapping of `to` in the order of the same
/// mapping of `from`, keys `from` lacks after them; sequences item by item.
fn sync_order(from: &Node, to: &mut Node) {
    match (from.kind, to.kind) {
        (Kind::Mapping, Kind::Mapping) => {
            let pairs: Vec<[Node; 2]> = to
                .children
                .chunks(2)
                .filter_map(|p| match p {
                    [k, v] => Some([k.clone(), v.clone()]),
                    _ => None,
                })
                .collect();
            let from_keys: Vec<&str> = from
                .children
                .chunks(2)
                .map(|p| p[0].value.as_str())
                .collect();
            let mut taken = vec![false; pairs.len()];
            let mut ordered = Vec::with_capacity(to.children.len());
            for key in &from_keys {
                if let Some(i) = pairs.iter().position(|p| p[0].value == *key) {
                    if !taken[i] {
                        taken[i] = true;
                        ordered.extend(pairs[i].iter().cloned());
                    }
                }
            }
            for (i, pair) in pairs.iter().enumerate() {
                if !taken[i] {
                    ordered.extend(pair.iter().cloned());
                }
            }
            to.children = ordered;
            for pair in from.children.chunks(2) {
                let [key, value] = pair else { continue };
                if let Some(i) = to.children.chunks(2).position(|p| p[0].value == key.value) {
                    if let Some(to_value) = to.children.get_mut(2 * i + 1) {
                        sync_order(value, to_value);
                    }
                }
            }
        }
        (Kind::Sequence, Kind::Sequence) => {
            for (f, t) in from.children.iter().zip(to.children.iter_mut()) {
                sync_order(f, t);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_head_is_the_comments_a_blank_line_separates_from_the_object() {
        let cases = [
            ("# license\napiVersion: v1\n", None),
            (
                "# license\n\napiVersion: v1\n",
                Some(("# license", "apiVersion: v1\n")),
            ),
            (
                "# one\n\n# two\napiVersion: v1\n",
                Some(("# one", "# two\napiVersion: v1\n")),
            ),
            (
                "# a\n# b\n\n# c\n\napiVersion: v1\nkind: A\n",
                Some(("# a\n# b\n\n# c", "apiVersion: v1\nkind: A\n")),
            ),
            ("apiVersion: v1\n\n# foot\n", None),
        ];
        for (text, expected) in cases {
            assert_eq!(split_document_head(text), expected, "{text:?}");
        }
    }

    /// go-yaml reads a head with a blank line inside, printed before an item's
    /// `- ` below another item, as the first key's foot and the object's head
    /// (fuzz seed 98 case 5; the real go-yaml v3.0.1 and kpt agree).
    #[test]
    fn a_head_read_back_below_an_item_splits_at_its_first_blank_line() {
        assert_eq!(
            head_read_back_below_an_item("# a\n# b\n\n# c\n\nresources: x\n").as_deref(),
            Some("# c\nresources: x\n# a\n# b\n")
        );
        assert_eq!(
            head_read_back_below_an_item(
                "# a\n\n# b\n\n# c\n\n# k\napiVersion: v1\nkind: A\nmetadata:\n  name: x\n"
            )
            .as_deref(),
            // the first key's own head stays apart from the object's, which
            // kpt prints above the item's `- ` and the key's after it (fuzz
            // seed 129 case 5687)
            Some("# b\n\n# c\n\n# k\napiVersion: v1\n# a\n\nkind: A\nmetadata:\n  name: x\n")
        );
        assert_eq!(
            head_read_back_below_an_item("# a\n\nmetadata:\n  name: x\nkind: A\n"),
            None
        );
        assert_eq!(
            head_read_back_below_an_item("# a\n\n# b\n\nmetadata:\n  name: x\nkind: A\n")
                .as_deref(),
            Some("# b\nmetadata:\n  name: x\n# a\n\nkind: A\n")
        );
    }

    /// A function printed the object back with its foot below a blank line at
    /// the item's indentation: that is the object's foot, not a document's
    /// (fuzz seed 41 case 83: it went below the whole list in `-o stdout`).
    #[test]
    fn a_foot_below_the_printed_item_stays_the_objects() {
        let input = "kind: ConfigMap\ndata:\n  key0: >\n    key: value\n\n# alpha\n";
        let output = "kind: ConfigMap\ndata:\n  key0: >\n    key: value\n\n# alpha\n";
        let restored = restore(input, TextFrom::Emitter, output, &[]).text;
        let document = parse::parse_document(&restored).unwrap().unwrap();
        assert_eq!(document.foot, "", "{restored:?}");
        assert_eq!(restored.matches("# alpha").count(), 1, "{restored:?}");
    }

    /// A flow mapping's line comment (`- {a: 1}  # c`) lent back to the block
    /// mapping a function printed: go-yaml's emitter holds it for the next line
    /// comment slot, which is the next item's `- ` when one follows (kpt does so
    /// too), else the next object's or none: then it stays on the mapping's
    /// first entry (ARCHITECTURE.md; fuzz seed 71 case 39).
    #[test]
    fn a_block_mapping_keeps_the_line_comment_of_its_flow_form() {
        let cases = [
            // the last item: kpt drops it (or writes it into the next object)
            (
                "ports:\n- {name: a, port: 1}  # c1\n",
                "ports:\n- name: a\n  port: 1\n",
                "ports:\n- name: a # c1\n  port: 1\n",
            ),
            // an item follows: written after its dash, as kpt writes it
            (
                "ports:\n- {name: a}  # c1\n- {name: b}\n",
                "ports:\n- name: a\n- name: b\n",
                "ports:\n- name: a\n- # c1\n  name: b\n",
            ),
            // a key follows in the object: on its line, as kpt writes it
            (
                "spec:\n  ports:\n  - {name: a}  # c3\n  other: x\n",
                "spec:\n  ports:\n  - name: a\n  other: x\n",
                "spec:\n  ports:\n  - name: a\n  other: x # c3\n",
            ),
            // the first key holds a block collection: after the key
            (
                "ports:\n- {ids: [1]}  # c1\n",
                "ports:\n- ids:\n  - 1\n",
                "ports:\n- ids: # c1\n  - 1\n",
            ),
            // the first value has a line comment already: the first key's head
            (
                "ports:\n- {name: a}  # c1\n",
                "ports:\n- name: a # own\n",
                "ports:\n- # c1\n  name: a # own\n",
            ),
        ];
        for (input, output, expected) in cases {
            let restored = restore(input, TextFrom::File, output, &[]).text;
            assert_eq!(restored, expected, "{input:?}");
        }
    }

    /// The held line comment of a flow mapping printed back in block style
    /// (`mode: 493 # c`) is the mapping's to kpt's node: a step that gives
    /// `mode` a comment of its own leaves it to go to the next slot, as kpt
    /// writes it (fuzz seed i142 case 170).
    #[test]
    fn a_held_line_comment_stays_its_collections() {
        let file = "spec:\n  subs:\n  - {a: 1}  # c\n  mode: 493\n  script: x\n";
        let printed = "spec:\n  subs:\n  - a: 1\n  mode: 493\n  script: x\n";
        let first = restore(file, TextFrom::File, printed, &[]);
        assert_eq!(
            first.text,
            "spec:\n  subs:\n  - a: 1\n  mode: 493 # c\n  script: x\n"
        );
        let value = |key: &str| NodeStep::Value(key.to_string());
        assert_eq!(
            first.held,
            [HeldComment {
                owner: vec![value("spec"), value("subs"), NodeStep::Entry(0)],
                slot: vec![value("spec"), value("mode")],
                comment: "# c".to_string(),
            }]
        );
        let setter = "spec:\n  subs:\n  - a: 1\n  mode: 493 # kpt-set: ${m}\n  script: x\n";
        let next =
            |held: &[HeldComment]| restore(&first.text, TextFrom::Emitter, setter, held).text;
        assert_eq!(
            next(&first.held),
            "spec:\n  subs:\n  - a: 1\n  mode: 493 # kpt-set: ${m}\n  script: x # c\n"
        );
        // Without the record, the text says the comment is `mode`'s.
        assert_eq!(next(&[]), setter);
    }

    /// A function that prints its input back gives the node that showed a
    /// held comment that comment as its own: kpt's node then has it twice, and
    /// go-yaml writes it once, the held one overwritten by the same words (fuzz
    /// seed 1 case 84); so does lummo, where it had kept a comment go-yaml
    /// would drop on the collection's first entry.
    #[test]
    fn a_held_line_comment_printed_back_is_written_once() {
        let value = |key: &str| NodeStep::Value(key.to_string());
        let ports = || vec![value("ports")];
        let entry = |i| [ports(), vec![NodeStep::Entry(i)]].concat();
        let cases = [
            // held for the next item's slot
            ("ports:\n- a: 1\n- 1e3 # c\n", entry(0), entry(1)),
            // none follows: kept on the first entry
            (
                "ports:\n- a: 1 # c\n",
                entry(0),
                [entry(0), vec![value("a")]].concat(),
            ),
        ];
        for (text, owner, slot) in cases {
            let held = [HeldComment {
                owner,
                slot,
                comment: "# c".to_string(),
            }];
            let restored = restore(text, TextFrom::Emitter, text, &held);
            assert_eq!(restored.text, text);
        }
    }

    /// go-yaml's document foot: comment lines a blank line sets apart at the
    /// end; not one right below the last value, not a folded scalar's last
    /// line break (the emitter's), not the lines of a kept block scalar.
    #[test]
    fn a_document_foot_is_set_apart_by_a_blank_line() {
        let split = |t| split_document_foot(t, TextFrom::Emitter);
        assert_eq!(
            split("a: 1\nb:\n  c: |-\n    v\n\n# x\n# y\n"),
            Some(("a: 1\nb:\n  c: |-\n    v\n", "# x\n# y"))
        );
        assert_eq!(split("a: 1\nb:\n  c: v\n# x\n"), None);
        // a keep scalar's blank lines are its own, not those below the foot
        // of its key (fuzz seed s141 case 345)
        assert_eq!(
            split("b:\n  c: |+\n    v\n\n  # h\n\n# x\n"),
            Some(("b:\n  c: |+\n    v\n\n  # h\n", "# x"))
        );
        assert_eq!(split("a: 1\nb: >\n  v\n\n# x\n"), None);
        assert_eq!(
            split("a: 1\nb: >\n  v\n\n\n# x\n"),
            Some(("a: 1\nb: >\n  v\n\n", "# x"))
        );
        // no line break of the emitter's after a last line that starts with
        // a blank (fuzz seed 91 case 20)
        assert_eq!(
            split("a: 1\nb: >\n  v\n    w\n\n# x\n"),
            Some(("a: 1\nb: >\n  v\n    w\n", "# x"))
        );
        assert_eq!(split("a: 1\nb: |+\n  v\n\n  # x\n"), None);
        // the emitter's line break is above the key's foot, not the
        // document's (fuzz seed 119 case 600)
        assert_eq!(
            split("a: 1\nb:\n  c: >\n    v\n\n  # k\n\n# x\n"),
            Some(("a: 1\nb:\n  c: >\n    v\n\n  # k\n", "# x"))
        );
        // right below a key's foot, which go-yaml's scanner ends at the less
        // indented line (fuzz seed 119 case 600)
        assert_eq!(
            split_document_foot(
                "a: 1\nb:\n  c: >\n      v\n\n    # k\n# x\n",
                TextFrom::File
            ),
            Some(("a: 1\nb:\n  c: >\n      v\n\n    # k\n", "# x"))
        );
        // the blank line is the kept scalar's
        assert_eq!(
            split_document_foot("a: 1\nb: |+\n  v\n\n# x\n", TextFrom::File),
            Some(("a: 1\nb: |+\n  v\n\n", "# x"))
        );
        assert_eq!(
            split_document_foot("a: 1\nb: >\n  v\n\n# x\n", TextFrom::File),
            Some(("a: 1\nb: >\n  v\n", "# x"))
        );
        // a kept scalar whose last line reads as a comment (fuzz seed 114
        // case 54): the foot is the parser's two lines, not three
        assert_eq!(
            split_document_foot("a: 1\nb: |+\n  # v\n\n# x\n# y\n", TextFrom::File),
            Some(("a: 1\nb: |+\n  # v\n\n", "# x\n# y"))
        );
    }

    /// A function printed a key's foot back below a `>` value, after the
    /// emitter's blank line: in the list it stays that key's, not the
    /// document's, so `CopyComments` adds no second copy (fuzz seed 119 case
    /// 600: the real kpt writes `  # hash`, a blank line, `# beta`).
    #[test]
    fn an_indented_foot_printed_last_stays_the_keys() {
        let input = "a: 1\nspec:\n  script: >\n      v\n\n    # hash\n# beta\n";
        let output = "a: 1\nspec:\n  script: >\n    v\n\n  # hash\n";
        // below the last item, at the end of the text, the ResourceList's
        // foot, which kyaml drops: `CopyComments` lends the key's back
        for end in [ItemEnd::Followed, ItemEnd::EndOfText] {
            assert_eq!(
                restored(input, output, end).as_deref(),
                Some("a: 1\nspec:\n  script: \"v\\n\"\n  # hash\n\n# beta\n")
            );
        }
        // an item's foot set apart below the list's last item is dropped
        // with the ResourceList's foot; the input's comes back
        let input = "a: 1\nspec:\n  c: 1\n";
        let output = "a: 1\nspec:\n  c: 1\n\n  # printed\n";
        assert_eq!(
            restored(input, output, ItemEnd::EndOfText).as_deref(),
            Some("a: 1\nspec:\n  c: 1\n")
        );
    }

    /// A keep block scalar ending the object over lines that look like
    /// comments (`# hash`) keeps its blank line when another item follows
    /// (fuzz seed 127 case 1958: read in the list without it, `|+` came back
    /// `|`, the value a line break short).
    #[test]
    fn a_keep_scalar_over_comment_like_lines_keeps_its_blank_line() {
        let input = "kind: A\ndata:\n  key2: |+\n    # hash\n\n";
        for end in [ItemEnd::Followed, ItemEnd::EndOfText] {
            assert_eq!(restored(input, input, end).as_deref(), Some(input));
        }
    }

    /// A key's foot below a kept block scalar ending an object with a head
    /// comment, then the document's foot: each once (fuzz seed 129 case 1897;
    /// the real kpt prints `# hash` at the key's column, `# team` held below
    /// the next item's dash).
    #[test]
    fn a_keys_foot_below_a_kept_scalar_is_read_once_below_a_head() {
        let input =
            "# head\nkind: A\ndata:\n  key3: |+\n      v\n\n    # hash\n    # hash\n# team\n";
        let output = "# head\nkind: A\ndata:\n  key3: |+\n    v\n\n  # hash\n  # hash\n";
        let restored = restored(input, output, ItemEnd::Followed).unwrap();
        assert_eq!(restored.matches("# hash").count(), 2, "{restored}");
        assert!(restored.starts_with(output), "{restored}");
    }

    /// Below a `-` alone on its line, the comment lines up to the first blank
    /// line are the first key's foot, the rest its head (fuzz seed 129 case
    /// 917: the real kpt wrote `# a`, `# b` below `apiVersion`'s value).
    #[test]
    fn comments_below_a_lone_dash_end_at_the_first_blank_line_as_a_foot() {
        let document = "# a\n# b\n\n# h\napiVersion: v1\nkind: W\n";
        assert_eq!(
            head_read_back_below_a_lone_dash(None, true, document).as_deref(),
            Some("# h\napiVersion: v1\n# a\n# b\n\nkind: W\n")
        );
        assert_eq!(
            head_read_back_below_a_lone_dash(None, true, "# a\n\napiVersion: v1\n").as_deref(),
            Some("apiVersion: v1\n# a\n")
        );
        // no blank line: all of it is the key's head, as the text says
        assert_eq!(
            head_read_back_below_a_lone_dash(None, true, "# a\napiVersion: v1\n"),
            None
        );
        // Above the dash below another item: the lines before the first blank
        // line join the foot, the rest are the object's head, the lines below
        // the dash stay the key's (fuzz seed 139 case 3675).
        assert_eq!(
            head_read_back_below_a_lone_dash(
                Some("# o\n\n# h\n"),
                true,
                "# a\n\n# b\napiVersion: v1\nkind: W\n"
            )
            .as_deref(),
            Some("# h\n\n# b\napiVersion: v1\n# o\n# a\n\nkind: W\n")
        );
        assert_eq!(
            head_read_back_below_a_lone_dash(Some("# h\n"), true, "# a\napiVersion: v1\n")
                .as_deref(),
            Some("# h\n\n# a\napiVersion: v1\n")
        );
        // above the first item, all of the lines are the object's head
        assert_eq!(
            head_read_back_below_a_lone_dash(Some("# o\n\n# h\n"), false, "# a\napiVersion: v1\n")
                .as_deref(),
            Some("# o\n\n# h\n\n# a\napiVersion: v1\n")
        );
    }

    /// [`restore_comments_and_order`] of an item another one follows.
    fn restore(input: &str, from: TextFrom, output: &str, held: &[HeldComment]) -> Restored {
        restore_comments_and_order(input, from, output, ItemEnd::Followed, &[], held).unwrap()
    }

    /// What kpt makes of `output` printed for the file's `input`.
    fn restored(input: &str, output: &str, end: ItemEnd) -> Option<String> {
        restore_comments_and_order(input, TextFrom::File, output, end, &[], &[]).map(|r| r.text)
    }

    /// kpt's reader gave an object without `metadata` its annotations there,
    /// last: the function's `metadata` keeps that place (fuzz seed 121 case
    /// 543).
    #[test]
    fn metadata_the_reader_added_keeps_its_place() {
        let input = "resources: x\n";
        let output = "data:\n  k: q\nmetadata:\n  namespace: p\nresources: x\n";
        assert_eq!(
            restored(input, output, ItemEnd::Followed).as_deref(),
            Some("resources: x\nmetadata:\n  namespace: p\ndata:\n  k: q\n")
        );
    }

    #[test]
    /// As the real kpt writes it (a foot comment before a new key keeps a blank line).
    fn comments_and_order_come_back() {
        let input = "# head\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm # line\ndata:\n  z: \"1\"\n  a: 'x'\n  # foot\n";
        let output = "apiVersion: v1\ndata:\n  a: x\n  new: y\n  z: '1'\nkind: ConfigMap\nmetadata:\n  name: cm\n";
        let restored = restore(input, TextFrom::File, output, &[]).text;
        assert_eq!(
            restored,
            "# head\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm # line\ndata:\n  z: '1'\n  a: x\n  # foot\n\n  new: y\n"
        );
    }
}
