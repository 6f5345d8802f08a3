//! Reads one YAML document (one piece of kyaml's `splitDocuments`) into the
//! `yaml.Node` tree go-yaml v3 builds, comments attached the way its scanner and
//! parser attach them (`scannerc.go` `yaml_parser_scan_comments`, `parserc.go`):
//!
//! * a comment after a value on the same line is that value's line comment; after a
//!   key whose value starts on the next line, the key's;
//! * full-line comments between two tokens form a run, which the scanner splits
//!   (`split_run`): the text so far becomes a foot comment at the first blank line
//!   when it starts right below the token before it, and wherever a line is less
//!   indented than the current block and not at the text's own column; a foot of
//!   that token goes on its key or item, a foot standing on its own on the last
//!   key or item of the block its column closes;
//! * what is left of a run is the head comment of the key or item that follows (a
//!   blank line inside it kept); at the top of a document the part before its last
//!   blank line is the document's head comment, after the last node the
//!   document's foot comment.

use crate::node::{Document, Kind, Node, Style};
use crate::Error;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Where a key or sequence item starts, for attaching comments.
struct Point {
    line: usize,
    col: usize,
    depth: usize,
    path: Vec<usize>,
    /// A sequence item rather than a mapping key.
    item: bool,
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
    match parse_document_of(text) {
        Err(error) => match krm_sdk::yaml::readable(text) {
            // go-yaml's own writing of a quoted scalar that saphyr reads only
            // indented; the comments are where they were.
            std::borrow::Cow::Owned(readable) => parse_document_of(&readable),
            std::borrow::Cow::Borrowed(_) => Err(error),
        },
        ok => ok,
    }
}

/// One loop over the parser's events; its arms share the frame stack, the
/// masked characters, the points and the ends they fill, which is why it is
/// one function of more than 120 lines.
fn parse_document_of(text: &str) -> Result<Option<Document>, Error> {
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
    // The line of an explicit `---` starting the document.
    let mut explicit_start = None;
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
            Event::DocumentStart(explicit) => {
                docs += 1;
                if docs > 1 {
                    break;
                }
                if explicit {
                    explicit_start = Some(span.start.line() - 1);
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
    attach(
        &mut doc,
        comments,
        explicit_start,
        &points,
        &ends,
        &chars,
        &masked,
        &line_starts,
    );
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
                item: false,
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
                item: true,
            });
            return;
        }
    }
    points.push(Point {
        line,
        col,
        depth,
        path: path.to_vec(),
        item: true,
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
    explicit_start: Option<usize>,
    points: &[Point],
    ends: &[(usize, usize, Vec<usize>)],
    chars: &[char],
    masked: &[bool],
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
    // Full-line comments, in runs between two tokens, resolved as go-yaml's scanner
    // splits such a run into foot and head comments.
    let mut comment_line = vec![false; line_starts.len()];
    for c in &full {
        comment_line[c.line] = true;
    }
    let mut comment_col = vec![None; line_starts.len()];
    for c in &comments {
        comment_col[c.line] = Some(c.col);
    }
    let lines = Lines {
        chars,
        line_starts,
        masked,
        comment_line: &comment_line,
        comment_col: &comment_col,
    };
    let mut stack: Vec<usize> = Vec::new(); // indices into points, by depth
    let mut pi = 0;
    let mut ci = 0;
    let mut seen_point = false;
    loop {
        let next_point = points.get(pi);
        let limit = next_point.map_or(line_starts.len(), |p| p.line);
        // Each run of comments before the next point, cut where a line of content
        // that is not a key or item (a value on a line of its own) comes between.
        while ci < full.len() && full[ci].line < limit {
            let first = ci;
            ci += 1;
            while ci < full.len()
                && full[ci].line < limit
                && !(full[ci - 1].line + 1..full[ci].line).any(|l| lines.is_content(l))
            {
                ci += 1;
            }
            let last = full[ci - 1].line;
            let end = (last + 1..limit)
                .find(|&l| lines.is_content(l))
                .map(|l| (l, lines.indent(l)))
                .or_else(|| next_point.map(|p| (p.line, p.col)));
            let run = Run {
                comments: &full[first..ci],
                end,
                following: next_point,
            };
            match explicit_start {
                // With an explicit `---`, go-yaml's parser takes the document's
                // head comment from before it and leaves every comment after it,
                // blank lines and all, to the first node
                // (`yaml_parser_parse_document_start`; the real kpt prints them
                // after `- `, mutated or not).
                Some(start) if !seen_point => {
                    let text = run_text(run.comments, &lines);
                    let slot = match run.following {
                        _ if run.comments[0].line < start => &mut doc.head,
                        Some(p) => &mut node_at(&mut doc.root, &p.path).head,
                        None => &mut doc.root.head,
                    };
                    append(slot, &text, "\n");
                }
                _ => resolve(doc, &run, &stack, points, seen_point, &lines),
            }
        }
        let Some(p) = next_point else { break };
        // Keep, per depth, the latest point: the chain of open keys and items.
        stack.retain(|&i| points[i].depth < p.depth);
        stack.push(pi);
        seen_point = true;
        pi += 1;
    }
}

/// The comments of a run as one comment text, a blank line between two where
/// the source has one or more.
fn run_text(comments: &[&Comment], lines: &Lines) -> String {
    let mut text = String::new();
    for (i, c) in comments.iter().enumerate() {
        if i > 0 {
            text.push('\n');
            if (comments[i - 1].line + 1..c.line).any(|l| lines.is_blank(l)) {
                text.push('\n');
            }
        }
        text.push_str(&c.text);
    }
    text
}

/// The lines of a document: blank, comment or content.
struct Lines<'a> {
    chars: &'a [char],
    line_starts: &'a [usize],
    /// Characters inside quoted and block scalars.
    masked: &'a [bool],
    /// Lines holding a comment that is not a line comment of a node.
    comment_line: &'a [bool],
    /// The column of each line's comment.
    comment_col: &'a [Option<usize>],
}

impl Lines<'_> {
    fn text(&self, l: usize) -> &[char] {
        let start = self.line_starts[l];
        let end = self
            .line_starts
            .get(l + 1)
            .map_or(self.chars.len(), |n| n - 1);
        &self.chars[start..end]
    }
    fn is_blank(&self, l: usize) -> bool {
        self.text(l).iter().all(|c| c.is_whitespace())
    }
    fn is_content(&self, l: usize) -> bool {
        !self.comment_line[l] && !self.is_blank(l)
    }
    fn indent(&self, l: usize) -> usize {
        self.text(l).iter().take_while(|c| **c == ' ').count()
    }
}

/// Full-line comments between two tokens.
struct Run<'a> {
    comments: &'a [&'a Comment],
    /// The line and column of the content after them; `None` at the end.
    end: Option<(usize, usize)>,
    /// The next key or item.
    following: Option<&'a Point>,
}

/// A comment `yaml_parser_scan_comments` splits off a run.
enum Piece {
    /// A foot comment, with its first line's column; `after_token` when it belongs
    /// to the token before the run (go-yaml's `token_mark` left at that token),
    /// else to the block the first token at or after its start closes.
    Foot {
        text: String,
        line: usize,
        col: usize,
        after_token: bool,
    },
    /// What is left: the head comment of the token after the run (ending with a
    /// line break when a blank line follows it).
    Head(String),
}

/// go-yaml v3 `scannerc.go` `yaml_parser_scan_comments` over one run: comment lines
/// collect into one text (a blank line after a comment kept as an empty line);
/// the text so far becomes a foot comment
///
/// * at the first blank line, when no blank line came between the token and the
///   run and the text starts on the line after the token (not after a `key:` whose
///   value is still to come) or less indented than the current block;
/// * at a line (comment or content) less indented than the current block and not
///   at the text's own column;
/// * at the end of the input, as at a blank line;
///
/// and the rest is the head comment of what follows.
fn split_run(run: &Run, lines: &Lines, next_indent: usize) -> Vec<Piece> {
    let first_line = run.comments[0].line;
    // The token before the run: the last line of content above it, or the
    // comment's own line when a token stands before it there (a `- ` no value
    // follows on that line): go-yaml's foot line is then the line below
    // (`yaml_parser_scan_comments`: "If there's some content in the currently
    // parsed line, then the foot is the line below it").
    let before = if run.comments[0].full_line {
        (0..first_line).rev().find(|&l| lines.is_content(l))
    } else {
        Some(first_line)
    };
    // Whether that token is the `:` of a key whose value starts further down.
    let value_token = before.is_some_and(|l| {
        let text = lines.text(l);
        let cut = lines.comment_col[l].unwrap_or(text.len()).min(text.len());
        let start = lines.line_starts[l];
        text[..cut]
            .iter()
            .rposition(|c| !c.is_whitespace())
            .is_some_and(|i| text[i] == ':' && !lines.masked[start + i])
    });
    let mut split = Splitter {
        next_indent,
        foot_line: before.map(|l| l + 1),
        value_token,
        first_empty: before.is_none_or(|l| l + 1 >= first_line),
        recent_empty: false,
        after_token: true,
        text: String::new(),
        start: (0, 0),
        pieces: Vec::new(),
    };
    let mut comments = run.comments.iter().peekable();
    let last = run.end.map_or(lines.line_starts.len(), |(l, _)| l);
    for l in first_line..last {
        if lines.is_blank(l) {
            split.line_break();
            continue;
        }
        let Some(c) = comments.next_if(|c| c.line == l) else {
            continue;
        };
        split.dedent(c.col);
        if split.text.is_empty() {
            split.start = (l, c.col);
        } else {
            split.text.push('\n');
        }
        split.text.push_str(&c.text);
        split.recent_empty = false;
    }
    match run.end {
        Some((_, col)) => split.dedent(col),
        // The end of the input is a line break to the scanner.
        None => split.line_break(),
    }
    if !split.text.is_empty() {
        split.pieces.push(Piece::Head(split.text));
    }
    split.pieces
}

struct Splitter {
    next_indent: usize,
    foot_line: Option<usize>,
    value_token: bool,
    first_empty: bool,
    recent_empty: bool,
    after_token: bool,
    text: String,
    /// Line and column of the text's first comment.
    start: (usize, usize),
    pieces: Vec<Piece>,
}

impl Splitter {
    fn foot(&mut self) {
        let text = std::mem::take(&mut self.text);
        self.pieces.push(Piece::Foot {
            text: text.trim_end_matches('\n').to_string(),
            line: self.start.0,
            col: self.start.1,
            after_token: self.after_token,
        });
        // Later pieces start where this one ended (go-yaml's `scan_mark`).
        self.after_token = false;
    }

    /// A blank line (or the end of the input).
    fn line_break(&mut self) {
        if !self.recent_empty {
            let dedented = self.start.1 < self.next_indent;
            let on_foot_line = Some(self.start.0) == self.foot_line && !self.value_token;
            if self.first_empty && (on_foot_line || dedented) {
                if !self.text.is_empty() {
                    if dedented {
                        // "If dedented it's unrelated to the prior token."
                        self.after_token = false;
                    }
                    self.foot();
                }
            } else if !self.text.is_empty() {
                self.text.push('\n');
            }
        }
        self.first_empty = false;
        self.recent_empty = true;
    }

    /// A line whose first character is at `col`.
    fn dedent(&mut self, col: usize) {
        if !self.text.is_empty() && col < self.next_indent && col != self.start.1 {
            self.foot();
        }
    }
}

/// The key a foot comment at `line`, `col` goes to when the run ends the input and
/// no line break follows its last line, if that is not the key the rest of
/// `resolve` would find. go-yaml's scanner then closes before the run only the
/// blocks indented deeper than the end of that last line (`yaml_parser_fetch_next_token`
/// unrolls to the column where scanning stopped); `yaml_parser_fetch_stream_end`
/// closes the rest after the run, each at the first comment of its own column
/// (`yaml_parser_unroll_indent`). So a foot inside a still open block goes to its
/// last key: kpt writes `# c` of `a:\n  b: 1\n# c` with no final line break at `b`'s
/// column (fuzz seed 71 case 78).
fn open_at_unterminated_end<'a>(
    run: &Run,
    stack: &[usize],
    points: &'a [Point],
    lines: &Lines,
    line: usize,
    col: usize,
) -> Option<&'a Point> {
    let last_line = lines.line_starts.len() - 1;
    let unterminated = run.end.is_none()
        && run.following.is_none()
        && lines.chars.last().is_some_and(|c| *c != '\n')
        && run.comments.last().is_some_and(|c| c.line == last_line);
    if !unterminated {
        return None;
    }
    let stopped_at = lines.text(last_line).len();
    let closed_by_a_comment = |indent: usize| {
        run.comments
            .iter()
            .any(|c| c.col == indent && c.line <= line)
    };
    let open = || {
        stack
            .iter()
            .rev()
            .map(|&i| &points[i])
            .filter(|p| p.col <= stopped_at && !closed_by_a_comment(p.col))
    };
    // Only a mapping's foot is known to go to its last key this way (kpt writes
    // the foot of a list of scalars at the comment's own column).
    open().next().filter(|p| !p.item && p.col > col)
}

/// Puts the pieces of one run where go-yaml's parser and decoder put them: a foot
/// of the token before the run on that token's key or item (a value's foot moves
/// to its key, `decode.go` `mapping`); a foot standing on its own on the block its
/// column closes, which the decoder gives to that block's last key or item
/// (`yaml_parser_unroll_indent` moves each BLOCK-END to the comment at the
/// block's column); the head on the key or item that follows, at the top of the
/// document split at its last blank line into the document's head and the first
/// node's (`parserc.go` `yaml_parser_parse_document_start`), and after the last
/// node the document's foot (`yaml_parser_parse_document_end`).
fn resolve(
    doc: &mut Document,
    run: &Run,
    stack: &[usize],
    points: &[Point],
    seen_point: bool,
    lines: &Lines,
) {
    let next_indent = stack.last().map_or(0, |&i| points[i].col);
    let mut foot_above: Option<usize> = None;
    for piece in split_run(run, lines, next_indent) {
        match piece {
            Piece::Foot {
                text,
                line,
                col,
                after_token,
            } => {
                // The run's foot right above this one is of its column.
                let same_above = foot_above.replace(col) == Some(col);
                if let Some(p) = open_at_unterminated_end(run, stack, points, lines, line, col) {
                    append(&mut node_at(&mut doc.root, &p.path).foot, &text, "\n");
                    continue;
                }
                // A foot at the column of the list item that follows, which
                // no block closes, waits for go-yaml's next event: the item's
                // first key, which keeps it (`parser.mapping`; the real kpt
                // reading a ResourceList back, fuzz seed 1 case 1).
                let next_item = run.following.filter(|p| {
                    !after_token
                        && p.item
                        && p.col == col
                        && run.end.is_some_and(|(line, _)| line == p.line)
                });
                if let Some(p) = next_item {
                    let item = node_at(&mut doc.root, &p.path);
                    let first = match item.kind {
                        Kind::Mapping if !item.children.is_empty() => &mut item.children[0],
                        _ => item,
                    };
                    append(&mut first.foot, &text, "\n");
                    continue;
                }
                // A foot of a `-` alone on its line waits, as a head does, for
                // go-yaml's next scalar event: a block mapping's start takes no
                // comments (`parserc.go` `yaml_parser_parse_node`), so the
                // item's first key keeps it, and kpt writes it below that
                // key's value (fuzz seed 1 case 291).
                let first_key = stack
                    .last()
                    .map(|&i| &points[i])
                    .filter(|item| after_token && item.item)
                    .filter(|item| {
                        let mut said = lines.text(item.line).iter().filter(|c| !c.is_whitespace());
                        said.next() == Some(&'-') && said.next().is_none()
                    })
                    .and_then(|item| {
                        run.following
                            .filter(|f| !f.item && f.depth == item.depth + 1)
                    });
                if let Some(key) = first_key {
                    append(&mut node_at(&mut doc.root, &key.path).foot, &text, "\n");
                    continue;
                }
                let open = || stack.iter().rev().map(|&i| &points[i]);
                let target = if after_token {
                    stack.last().map(|&i| &points[i])
                } else if run.end.is_some_and(|(_, next)| next < col)
                    && open().any(|p| p.col == col)
                {
                    // The block at the comment's column ends there: the parser
                    // puts the foot on that block, which the decoder moves to the
                    // key owning it, past the items of a list (kpt writes `# c` of
                    // `a:\n  b: 1\n\n  # c\nd:` at `a`'s column).
                    // But where that block is a list item's mapping, only the
                    // mapping ends: go-yaml's `parser.mapping` gives its foot
                    // to the mapping's last key (kpt writes `  # c` of
                    // `- a:\n    b: 1\n  # c\n- d: 1` at `a`'s column, fuzz
                    // seed 107 case 140; and `  # c` of
                    // `- a:\n    b: 1\n    # d\n  # c\nk: 1`, an object a
                    // function printed without ids, fuzz seed i125 case 110:
                    // given to `items`, it was lost). A foot of that column
                    // right below another of it goes past the list unless the
                    // list's next item follows (the real kpt keeps `# c3` and
                    // drops `# c4` of `- a:\n    b: 1\n  # c3\n\n  # c4\nk: 1`;
                    // `comment_closing_a_block_goes_to_its_key`).
                    let next_item = |owner: &Point| {
                        run.following
                            .is_some_and(|f| f.item && f.col == owner.col && owner.item)
                    };
                    match open().find(|p| p.col < col) {
                        Some(owner) if next_item(owner) || (owner.item && !same_above) => {
                            open().find(|p| p.col == col)
                        }
                        _ => None,
                    }
                    .or_else(|| open().find(|p| p.col < col && !p.item))
                    .or_else(|| open().find(|p| p.col == col))
                } else {
                    // A list's foot goes on its key too, not on its last item.
                    open()
                        .find(|p| p.col <= col && !p.item)
                        .or_else(|| open().find(|p| p.col <= col))
                };
                match target {
                    Some(p) => append(&mut node_at(&mut doc.root, &p.path).foot, &text, "\n"),
                    None => append(&mut doc.foot, &text, "\n"),
                }
            }
            Piece::Head(text) => {
                let mut text = text.as_str();
                if !seen_point {
                    // The part before the last blank line is the document's.
                    let split = match text.strip_suffix('\n') {
                        Some(all) => Some((all, "")),
                        None => text.rfind("\n\n").map(|i| (&text[..i], &text[i + 2..])),
                    };
                    if let Some((head, rest)) = split {
                        append(&mut doc.head, head.trim_end_matches('\n'), "\n\n");
                        text = rest;
                    }
                }
                let text = text.trim_end_matches('\n');
                if text.is_empty() {
                    continue;
                }
                let slot = match (run.end, run.following) {
                    (None, _) if seen_point => &mut doc.foot,
                    (_, Some(p)) => &mut node_at(&mut doc.root, &p.path).head,
                    (_, None) if !seen_point => &mut doc.root.head,
                    _ => &mut doc.foot,
                };
                append(slot, text, "\n");
            }
        }
    }
}
