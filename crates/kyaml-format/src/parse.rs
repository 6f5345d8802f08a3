//! Reads one YAML document (one piece of kyaml's `splitDocuments`) into the
//! `yaml.Node` tree go-yaml v3 builds, comments attached the way its scanner and
//! parser attach them (`scannerc.go` `yaml_parser_scan_comments`, `parserc.go`):
//!
//! * a comment after a value on the same line is that value's line comment; after a
//!   key whose value starts on the next line, the key's;
//! * comment lines directly above a key or `-` item are its head comment;
//! * comment lines right after a node, followed by a blank line (or indented deeper
//!   than the next key) are the foot comment of the deepest key or item they are
//!   not indented less than;
//! * at the top of a document, comment blocks followed by a blank line are the
//!   document's head comment, and comments after the last node are foot comments.

use crate::node::{Document, Kind, Node, Style};
use crate::Error;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Where a key or sequence item starts, for attaching comments.
struct Point {
    line: usize,
    col: usize,
    depth: usize,
    path: Vec<usize>,
}

struct Comment {
    line: usize,
    col: usize,
    text: String,
    full_line: bool,
}

struct Frame {
    node: Node,
    /// For mappings: whether the next child is a key.
    expect_key: bool,
}

pub(crate) fn parse_document(text: &str) -> Result<Option<Document>, Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut line_starts = vec![0usize];
    for (i, c) in chars.iter().enumerate() {
        if *c == '\n' {
            line_starts.push(i + 1);
        }
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut masked = vec![false; chars.len() + 1];
    let mut points: Vec<Point> = Vec::new();
    // (line, col, path) where a scalar or flow collection ends: line comments attach there.
    let mut ends: Vec<(usize, usize, Vec<usize>)> = Vec::new();
    let mut docs = 0;
    loop {
        let (event, span): (Event, Span) = match parser.next_event() {
            None => break,
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                return Err(Error::Syntax {
                    line: e.marker().line(),
                    column: e.marker().col() + 1,
                    message: e.info().to_string(),
                })
            }
        };
        let path_of_next = |stack: &Vec<Frame>| -> Vec<usize> {
            // The path the node about to be added will have.
            let mut path: Vec<usize> = Vec::new();
            for f in stack.iter() {
                path.push(f.node.children.len());
            }
            // path[i] is the index inside stack[i]; the root has no index.
            path
        };
        let is_map_start = matches!(event, Event::MappingStart(..));
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 {
                    break;
                }
            }
            Event::DocumentEnd => {
                if root.is_some() {
                    break;
                }
            }
            Event::Alias(_) => return Err(Error::Unsupported("anchors and aliases".into())),
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 {
                    return Err(Error::Unsupported("anchors and aliases".into()));
                }
                let st = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::Single,
                    ScalarStyle::DoubleQuoted => Style::Double,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let mut node = Node::scalar(&value, st);
                node.tag = tag.map(|t| long_tag(&t.handle, &t.suffix));
                let path = path_of_next(&stack);
                // saphyr's span ends are unreliable (they may cover a trailing comment)
                // and a block scalar's span starts at its content: find the extent here.
                let s = span.start.index().min(chars.len());
                let (mut sl, mut sc) = (span.start.line() - 1, span.start.col());
                if matches!(st, Style::Literal | Style::Folded) {
                    if let Some((hl, hc, content_end)) =
                        block_scalar_extent(&chars, &line_starts, sl)
                    {
                        let from = line_starts.get(hl + 1).copied().unwrap_or(chars.len());
                        for m in masked.iter_mut().take(content_end).skip(from) {
                            *m = true;
                        }
                        ends.push((hl, hc + 1, path.clone()));
                        sl = hl;
                        sc = hc;
                    }
                } else {
                    let e = scalar_end(&chars, s, st);
                    if st != Style::Plain {
                        for m in masked.iter_mut().take(e).skip(s) {
                            *m = true;
                        }
                    }
                    let el =
                        line_starts.partition_point(|&ls| ls <= e.saturating_sub(1).max(s)) - 1;
                    ends.push((el, e - line_starts[el], path.clone()));
                }
                let s = line_starts.get(sl).map_or(s, |ls| ls + sc);
                add_point(
                    &mut points,
                    &stack,
                    &chars,
                    &masked,
                    &line_starts,
                    sl,
                    sc,
                    s,
                    &path,
                );
                push_node(&mut stack, &mut root, node);
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if anchor != 0 {
                    return Err(Error::Unsupported("anchors and aliases".into()));
                }
                let is_map = is_map_start;
                let s = span.start.index();
                // saphyr gives a flow collection's start the span of its `[` or `{` and
                // a block collection's an empty one; the character alone is not
                // enough: an indentless block sequence starts at its first item's
                // content, which may itself be a flow collection (`- {a: b}`).
                let flow = span.end.index() > s
                    && chars
                        .get(s)
                        .is_some_and(|c| *c == if is_map { '{' } else { '[' });
                let mut node = Node::new(
                    if is_map {
                        Kind::Mapping
                    } else {
                        Kind::Sequence
                    },
                    if flow { Style::Flow } else { Style::Block },
                    "",
                );
                node.tag = tag.map(|t| long_tag(&t.handle, &t.suffix));
                let path = path_of_next(&stack);
                let (sl, sc) = (span.start.line() - 1, span.start.col());
                add_point(
                    &mut points,
                    &stack,
                    &chars,
                    &masked,
                    &line_starts,
                    sl,
                    sc,
                    s,
                    &path,
                );
                stack.push(Frame {
                    node,
                    expect_key: true,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = stack
                    .pop()
                    .ok_or_else(|| Error::Unsupported("unbalanced events".into()))?;
                if frame.node.style == Style::Flow {
                    let path = path_of_next(&stack);
                    ends.push((span.start.line() - 1, span.start.col() + 1, path));
                }
                push_node(&mut stack, &mut root, frame.node);
            }
        }
    }
    let Some(root) = root else { return Ok(None) };
    // A document that is only `null` or empty is skipped by kyaml (IsMissingOrNull).
    if root.kind == Kind::Scalar
        && root.style == Style::Plain
        && matches!(root.value.as_str(), "" | "~" | "null" | "Null" | "NULL")
        && root.tag.is_none()
    {
        return Ok(None);
    }
    let mut doc = Document {
        head: String::new(),
        foot: String::new(),
        root,
    };
    let comments = scan_comments(&chars, &masked, &line_starts);
    attach(&mut doc, comments, &points, &ends, &chars, &line_starts);
    Ok(Some(doc))
}

fn long_tag(handle: &str, suffix: &str) -> String {
    match handle {
        "!!" => format!("tag:yaml.org,2002:{suffix}"),
        _ => format!("{handle}{suffix}"),
    }
}

/// Where a quoted or plain scalar starting at `s` ends (exclusive char index).
fn scalar_end(chars: &[char], s: usize, style: Style) -> usize {
    let mut i = s;
    match style {
        Style::Double => {
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 2,
                    '"' => return i + 1,
                    _ => i += 1,
                }
            }
            chars.len()
        }
        Style::Single => {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    return i + 1;
                }
                i += 1;
            }
            chars.len()
        }
        _ => {
            // Plain: to the end of the line, a ` #`, or a flow indicator / `: `.
            while i < chars.len() {
                let c = chars[i];
                if c == '\n' || (c == '#' && i > s && chars[i - 1] == ' ') {
                    break;
                }
                if matches!(c, ',' | ']' | '}')
                    || (c == ':' && chars.get(i + 1).is_none_or(|n| n.is_whitespace()))
                {
                    break;
                }
                i += 1;
            }
            while i > s && chars[i - 1] == ' ' {
                i -= 1;
            }
            i
        }
    }
}

/// A block scalar whose content (per saphyr) starts on line `content_line`:
/// the header line, the column of its `|` or `>`, and where the content ends.
fn block_scalar_extent(
    chars: &[char],
    line_starts: &[usize],
    content_line: usize,
) -> Option<(usize, usize, usize)> {
    let line_text = |l: usize| -> &[char] {
        let start = line_starts[l];
        let end = line_starts.get(l + 1).map_or(chars.len(), |n| n - 1);
        &chars[start..end]
    };
    let indent_of = |t: &[char]| t.iter().take_while(|c| **c == ' ').count();
    let is_blank = |t: &[char]| t.iter().all(|c| c.is_whitespace());
    // The header: the nearest line at or before the content line with a `|` or `>`
    // indicator followed by hints, then a space, a comment or the line end.
    let mut header = None;
    for l in (0..=content_line.min(line_starts.len() - 1)).rev() {
        let t = line_text(l);
        let found = (0..t.len()).rev().find(|&i| {
            (t[i] == '|' || t[i] == '>')
                && (i == 0 || t[i - 1] == ' ')
                && t[i + 1..]
                    .iter()
                    .take_while(|c| !c.is_whitespace())
                    .all(|c| matches!(c, '-' | '+' | '0'..='9'))
                && t[i + 1..]
                    .iter()
                    .skip_while(|c| !c.is_whitespace())
                    .collect::<String>()
                    .trim_start()
                    .chars()
                    .next()
                    .is_none_or(|c| c == '#')
        });
        if let Some(col) = found {
            if l < content_line
                || t[..col].iter().collect::<String>().contains(':')
                || t[..col].contains(&'-')
            {
                header = Some((l, col));
                break;
            }
        }
    }
    let (hl, hc) = header?;
    let header_indent = indent_of(line_text(hl));
    let mut content_indent = None;
    let mut end = line_starts.get(hl + 1).copied().unwrap_or(chars.len());
    for l in hl + 1..line_starts.len() {
        let t = line_text(l);
        if is_blank(t) {
            continue;
        }
        let ind = indent_of(t);
        let ci = *content_indent.get_or_insert(ind);
        if ind < ci || ind <= header_indent {
            break;
        }
        end = line_starts.get(l + 1).map_or(chars.len(), |n| n - 1);
    }
    Some((hl, hc, end))
}

fn push_node(stack: &mut [Frame], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        Some(f) => {
            if f.node.kind == Kind::Mapping {
                f.expect_key = !f.expect_key;
            }
            f.node.children.push(node);
        }
        None => *root = Some(node),
    }
}

/// Records a key of a block mapping or an item of a block sequence.
#[allow(clippy::too_many_arguments)]
fn add_point(
    points: &mut Vec<Point>,
    stack: &[Frame],
    chars: &[char],
    masked: &[bool],
    line_starts: &[usize],
    line: usize,
    col: usize,
    index: usize,
    path: &[usize],
) {
    let Some(parent) = stack.last() else { return };
    if parent.node.style == Style::Flow {
        return;
    }
    let depth = stack.len();
    if parent.node.kind == Kind::Mapping {
        if parent.expect_key {
            points.push(Point {
                line,
                col,
                depth,
                path: path.to_vec(),
            });
        }
        return;
    }
    // A sequence item: attach to its `-`, the nearest one before the item.
    let mut i = index;
    while i > 0 {
        i -= 1;
        if chars[i] == '-' && !masked[i] {
            let l = line_starts.partition_point(|&s| s <= i) - 1;
            points.push(Point {
                line: l,
                col: i - line_starts[l],
                depth,
                path: path.to_vec(),
            });
            return;
        }
    }
    points.push(Point {
        line,
        col,
        depth,
        path: path.to_vec(),
    });
}

fn scan_comments(chars: &[char], masked: &[bool], line_starts: &[usize]) -> Vec<Comment> {
    let mut out = Vec::new();
    for (l, &start) in line_starts.iter().enumerate() {
        let end = line_starts.get(l + 1).map_or(chars.len(), |n| n - 1);
        let mut only_space = true;
        let mut prev_blank = true;
        for i in start..end {
            let c = chars[i];
            if masked[i] {
                only_space = false;
                prev_blank = false;
                continue;
            }
            if c == '#' && prev_blank {
                // go-yaml's scanner reads a comment up to the line break, trailing
                // spaces and tabs included (scannerc.go `yaml_parser_scan_comments`,
                // `yaml_parser_scan_line_comment`: `read` until `is_breakz`); a `\r`
                // is a line break there, not part of the text.
                let mut text: String = chars[i..end].iter().collect();
                let trimmed = text.trim_end_matches('\r').len();
                text.truncate(trimmed);
                out.push(Comment {
                    line: l,
                    col: i - start,
                    text,
                    full_line: only_space,
                });
                break;
            }
            prev_blank = c == ' ' || c == '\t';
            if !prev_blank {
                only_space = false;
            }
        }
    }
    out
}

fn is_blank_line(chars: &[char], line_starts: &[usize], l: usize) -> bool {
    let Some(&start) = line_starts.get(l) else {
        return true;
    };
    let end = line_starts.get(l + 1).map_or(chars.len(), |n| n - 1);
    chars[start..end].iter().all(|c| c.is_whitespace())
}

fn node_at<'a>(root: &'a mut Node, path: &[usize]) -> &'a mut Node {
    let mut n = root;
    for &i in path {
        n = &mut n.children[i];
    }
    n
}

fn append(slot: &mut String, text: &str, sep: &str) {
    if !slot.is_empty() {
        slot.push_str(sep);
    }
    slot.push_str(text);
}

fn attach(
    doc: &mut Document,
    comments: Vec<Comment>,
    points: &[Point],
    ends: &[(usize, usize, Vec<usize>)],
    chars: &[char],
    line_starts: &[usize],
) {
    // Line comments.
    let mut full: Vec<&Comment> = Vec::new();
    for c in &comments {
        if c.full_line {
            full.push(c);
            continue;
        }
        let target = ends
            .iter()
            .filter(|(l, col, _)| *l == c.line && *col <= c.col)
            .max_by_key(|(_, col, _)| *col);
        match target {
            Some((_, _, path)) => {
                let n = node_at(&mut doc.root, path);
                append(&mut n.line, &c.text, " ");
            }
            None => full.push(c),
        }
    }
    // Full-line comments, grouped by the key or item that follows them.
    let mut stack: Vec<usize> = Vec::new(); // indices into points, by depth
    let mut pi = 0;
    let mut ci = 0;
    let mut seen_point = false;
    loop {
        let next_point = points.get(pi);
        // Comments before the next point.
        let mut pending: Vec<&Comment> = Vec::new();
        while ci < full.len() && next_point.is_none_or(|p| full[ci].line < p.line) {
            pending.push(full[ci]);
            ci += 1;
        }
        if !pending.is_empty() {
            resolve(
                doc,
                &pending,
                next_point,
                &stack,
                points,
                seen_point,
                chars,
                line_starts,
            );
        }
        let Some(p) = next_point else { break };
        // Keep, per depth, the latest point: the chain of open keys and items.
        stack.retain(|&i| points[i].depth < p.depth);
        stack.push(pi);
        seen_point = true;
        pi += 1;
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve(
    doc: &mut Document,
    pending: &[&Comment],
    next: Option<&Point>,
    stack: &[usize],
    points: &[Point],
    seen_point: bool,
    chars: &[char],
    line_starts: &[usize],
) {
    // Split into groups separated by blank lines.
    let mut groups: Vec<(Vec<&Comment>, bool, bool)> = Vec::new(); // (lines, blank before, blank after)
    for c in pending {
        let blank_before = c.line == 0 || is_blank_line(chars, line_starts, c.line - 1);
        let continues = groups
            .last()
            .and_then(|g| g.0.last())
            .is_some_and(|last| last.line + 1 == c.line);
        if continues {
            groups.last_mut().unwrap().0.push(c);
        } else {
            groups.push((vec![c], blank_before, false));
        }
    }
    for g in groups.iter_mut() {
        let last = g.0.last().unwrap().line;
        g.2 = is_blank_line(chars, line_starts, last + 1) && line_starts.get(last + 1).is_some();
    }
    let foot_target = |col: usize| -> Option<&Point> {
        stack
            .iter()
            .rev()
            .map(|&i| &points[i])
            .find(|p| p.col <= col)
    };
    let mut head = String::new();
    let mut doc_head = String::new();
    for (gi, (lines, blank_before, blank_after)) in groups.iter().enumerate() {
        let text = lines
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let col = lines[0].col;
        let as_foot = match next {
            None => true,
            Some(p) => seen_point && (col > p.col || (gi == 0 && !blank_before && *blank_after)),
        };
        // After the last node, when that node is a top-level key (nothing nested to close),
        // a comment belongs to the document (written after a blank line); otherwise it is
        // the foot of the key or item at its indentation.
        let last_col = stack.last().map(|&i| points[i].col);
        if next.is_none() && last_col.is_none_or(|c| c == 0) {
            append(&mut doc.foot, &text, "\n");
            continue;
        }
        if as_foot {
            match foot_target(col) {
                Some(p) => {
                    let node = node_at(&mut doc.root, &p.path);
                    append(&mut node.foot, &text, "\n");
                }
                None => append(&mut doc.foot, &text, "\n"),
            }
            continue;
        }
        if !seen_point && *blank_after {
            append(&mut doc_head, &text, "\n\n");
            continue;
        }
        append(&mut head, &text, "\n\n");
    }
    if !doc_head.is_empty() {
        append(&mut doc.head, &doc_head, "\n\n");
    }
    if let (Some(p), false) = (next, head.is_empty()) {
        let node = node_at(&mut doc.root, &p.path);
        append(&mut node.head, &head, "\n");
    }
}
