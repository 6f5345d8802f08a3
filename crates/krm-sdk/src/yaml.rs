//! YAML reading and writing over `serde_json::Value` (with key order kept).
//!
//! Reading resolves scalars like kyaml and go-yaml v3 do (YAML 1.2 core schema:
//! `on`, `yes`, `no` are strings), rejects duplicate keys, and bounds nesting depth,
//! alias expansion and input size, so hostile input costs an error, not memory.
//! Writing is block style (kyaml's layout) and quotes every string that a YAML 1.1
//! decoder (Kubernetes' `sigs.k8s.io/yaml`) or a 1.2 decoder would read as anything
//! other than that string.

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::fmt;
use std::ops::Range;

/// Bounds applied while reading untrusted YAML or JSON.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences accepted.
    pub max_depth: usize,
    /// Nodes that alias expansion may add to one input, in total.
    pub max_alias_nodes: usize,
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Real manifests nest ~35 levels at worst (CRD schemas of pod templates).
        Limits {
            max_depth: 64,
            max_alias_nodes: 100_000,
            max_bytes: 32 << 20,
        }
    }
}

/// A YAML syntax or limit error, with the 1-based line and column it was found at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return f.write_str(&self.message);
        }
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for YamlError {}

/// Parses every document of a YAML stream. Empty documents are skipped.
pub fn parse_documents(input: &str, limits: &Limits) -> Result<Vec<Value>, YamlError> {
    check_size(input, limits)?;
    match Builder::new(limits).run(input) {
        Ok((documents, _)) => Ok(documents),
        Err(error) => match readable(input) {
            std::borrow::Cow::Owned(text) => Builder::new(limits)
                .run(&text)
                .map(|(documents, _)| documents),
            std::borrow::Cow::Borrowed(_) => Err(error),
        },
    }
}

/// saphyr's words for a quoted scalar's line that is less indented than the
/// block around it.
const QUOTED_INDENT: &str = "invalid indentation in quoted scalar";

/// The text as saphyr reads it when go-yaml would read it differently only in
/// the indentation of quoted scalars' continuation lines: go-yaml reads such a
/// line at any indentation (and writes a line that closes one at column 0),
/// saphyr refuses one less indented than the block around it. A continuation
/// line's leading spaces are no part of the value, so each is indented to the
/// scalar's own column: the same data. Borrowed when there is nothing to do.
pub fn readable(text: &str) -> std::borrow::Cow<'_, str> {
    let mut current = std::borrow::Cow::Borrowed(text);
    // Each round indents one scalar; a bound keeps a hostile input cheap.
    for _ in 0..256 {
        let mut parser = Parser::new_from_str(&current);
        let failure = loop {
            match parser.next_event() {
                None => return current,
                Some(Ok(_)) => {}
                Some(Err(e)) => break e,
            }
        };
        if failure.info() != QUOTED_INDENT {
            return std::borrow::Cow::Borrowed(text);
        }
        match indent_quoted_scalar(&current, failure.marker().index()) {
            Some(fixed) => current = std::borrow::Cow::Owned(fixed),
            None => return std::borrow::Cow::Borrowed(text),
        }
    }
    std::borrow::Cow::Borrowed(text)
}

/// The continuation lines of the quoted scalar whose opening quote is at char
/// `start`, each indented to at least the quote's column.
fn indent_quoted_scalar(text: &str, start: usize) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let quote = *chars.get(start)?;
    if quote != '\'' && quote != '"' {
        return None;
    }
    let line_start = chars[..start]
        .iter()
        .rposition(|c| *c == '\n')
        .map_or(0, |i| i + 1);
    let column = start - line_start;
    let mut out: String = chars[..=start].iter().collect();
    let mut i = start + 1;
    let mut at_line_start = false;
    while i < chars.len() {
        let c = chars[i];
        if at_line_start {
            let spaces = chars[i..].iter().take_while(|c| **c == ' ').count();
            let next = chars.get(i + spaces).copied();
            if next != Some('\n') && spaces < column {
                out.extend(std::iter::repeat(' ').take(column - spaces));
            }
            at_line_start = false;
        }
        out.push(c);
        match c {
            '\n' => at_line_start = true,
            '\'' if quote == '\'' => {
                if chars.get(i + 1) == Some(&'\'') {
                    out.push('\'');
                    i += 1;
                } else {
                    out.extend(&chars[i + 1..]);
                    return Some(out);
                }
            }
            '\\' if quote == '"' => {
                if let Some(next) = chars.get(i + 1) {
                    out.push(*next);
                    i += 1;
                }
            }
            '"' if quote == '"' => {
                out.extend(&chars[i + 1..]);
                return Some(out);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where an entry of a ResourceList's `items` sits in its text (byte ranges).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemSource {
    /// Its text after the `- `, when that text can be copied to the output
    /// verbatim: a block mapping laid out as kpt writes it (`- ` at column 0,
    /// keys at column 2) without anchors or aliases.
    pub text: Option<Range<usize>>,
    /// The comment lines at column 0 right above its `- ` line, blank lines
    /// between them included, with their line breaks: go-yaml reads them as
    /// comments of this entry, not of the entry above, and writes a sequence
    /// entry's head there.
    pub head: Option<Range<usize>>,
    /// The comment lines at column 0 between a `-` alone on its line and the
    /// entry's first key at column 2 (with their line breaks): the foot of the
    /// entry above, which go-yaml's emitter holds past the next `-` (see
    /// `ItemText::foot`), read back by go-yaml as the head of this entry's
    /// first key. `text` then starts at that key.
    pub below_dash: Option<Range<usize>>,
}

/// Like [`parse_documents`], and also returns where each entry of the first
/// document's top-level `items` sequence sits in the text ([`ItemSource`]).
/// The ranges are into the text returned with them: the input, or where saphyr
/// needed it, the input as [`readable`] gives it.
pub fn parse_with_item_sources<'a>(
    input: &'a str,
    limits: &Limits,
) -> Result<(Vec<Value>, Vec<ItemSource>, std::borrow::Cow<'a, str>), YamlError> {
    check_size(input, limits)?;
    let (documents, spans, text) = match Builder::new(limits).run(input) {
        Ok((documents, spans)) => (documents, spans, std::borrow::Cow::Borrowed(input)),
        Err(error) => match readable(input) {
            std::borrow::Cow::Owned(text) => {
                let (documents, spans) = Builder::new(limits).run(&text)?;
                (documents, spans, std::borrow::Cow::Owned(text))
            }
            std::borrow::Cow::Borrowed(_) => return Err(error),
        },
    };
    let ranges = spans.into_byte_ranges(&text);
    Ok((documents, ranges, text))
}

/// Where the entries of the top-level `items` sequence start (char indices).
#[derive(Default)]
struct ItemSpans {
    /// Start, and whether the entry can be copied verbatim.
    starts: Vec<(usize, bool)>,
    /// Where the sequence ends.
    end: usize,
    state: ItemsState,
}

#[derive(Default, PartialEq, Eq)]
enum ItemsState {
    #[default]
    Before,
    Inside,
    Done,
}

impl ItemSpans {
    fn into_byte_ranges(self, input: &str) -> Vec<ItemSource> {
        let mut bounds: Vec<usize> = self.starts.iter().map(|(start, _)| *start).collect();
        bounds.push(self.end);
        if !input.is_ascii() {
            let mut chars = input
                .char_indices()
                .map(|(b, _)| b)
                .chain(std::iter::once(input.len()));
            let mut position = 0;
            let mut byte = chars.next().unwrap_or(0);
            for bound in bounds.iter_mut() {
                while position < *bound {
                    byte = chars.next().unwrap_or(input.len());
                    position += 1;
                }
                *bound = byte;
            }
        }
        // An entry's text starts after its `- ` (so comments before its first key
        // stay with it) and ends at the line break before the next entry's `-` line
        // (or where the sequence ends).
        let dashes: Vec<Option<usize>> = bounds[..self.starts.len()]
            .iter()
            .map(|&start| input.get(..start)?.rfind("\n-").map(|newline| newline + 1))
            .collect();
        // The comment lines at column 0 right above an entry's `-` line are its
        // head: the entry above ends before them.
        let heads: Vec<Option<Range<usize>>> = dashes
            .iter()
            .map(|dash| {
                let dash = (*dash)?;
                let start = column_0_comments_above(input, dash);
                (start < dash).then_some(start..dash)
            })
            .collect();
        (0..self.starts.len())
            .map(|i| {
                let head = heads[i].clone();
                let mut below_dash = None;
                let text = (|| {
                    let mut dash = dashes[i]?;
                    // `-` alone, comment lines at column 0, then the entry's
                    // first line at column 2: the text starts there.
                    if input.get(dash..)?.starts_with("-\n") {
                        let comments = dash + 2;
                        let mut at = comments;
                        while input.get(at..)?.starts_with('#') {
                            at += input[at..].find('\n')? + 1;
                        }
                        if at == comments || !input.get(at..)?.starts_with("  ") {
                            return None;
                        }
                        below_dash = Some(comments..at);
                        dash = at;
                    }
                    let end = match heads.get(i + 1) {
                        Some(Some(head)) => head.start,
                        Some(None) => dashes[i + 1]?,
                        None => bounds[i + 1],
                    };
                    // Only the line break before the next entry goes: trailing
                    // spaces and blank lines may belong to a block scalar (`|`, `|+`).
                    let text = input.get(dash + 1..end)?.strip_prefix(' ')?;
                    let text = text.strip_suffix('\n').unwrap_or(text);
                    let text = text.strip_suffix('\r').unwrap_or(text);
                    (self.starts[i].1 && !text.trim().is_empty())
                        .then(|| dash + 2..dash + 2 + text.len())
                })();
                ItemSource {
                    text,
                    head,
                    below_dash,
                }
            })
            .collect()
    }
}

/// Where the comments at column 0 right above `line` (a line start) begin: the
/// run of such comment lines and blank lines between them that ends there,
/// from its first comment line (blank lines above it may belong to a block
/// scalar of the entry above); `line` itself when there is none. go-yaml gives
/// all of them to the entry below: the lines after the run's first blank line
/// head it, the ones before are a foot that no block end takes, which the
/// parser gives to the entry's first key (`kyaml_format::head_read_back_below_an_item`).
fn column_0_comments_above(input: &str, line: usize) -> usize {
    let mut start = line;
    let mut at = line;
    while at > 0 {
        let above = input[..at - 1].rfind('\n').map_or(0, |newline| newline + 1);
        let text = &input[above..at];
        if text.starts_with('#') {
            start = above;
        } else if !text.trim().is_empty() {
            break;
        }
        at = above;
    }
    start
}

fn check_size(input: &str, limits: &Limits) -> Result<(), YamlError> {
    if input.len() <= limits.max_bytes {
        return Ok(());
    }
    Err(YamlError {
        message: format!(
            "input is {} bytes, more than the limit of {} bytes",
            input.len(),
            limits.max_bytes
        ),
        line: 0,
        column: 0,
    })
}

/// Parses JSON with the same depth bound as YAML.
pub fn parse_json(input: &str, limits: &Limits) -> Result<Value, YamlError> {
    check_size(input, limits)?;
    let value: Value = serde_json::from_str(input).map_err(|e| YamlError {
        message: strip_serde_position(&e.to_string()),
        line: e.line(),
        column: e.column(),
    })?;
    if depth(&value) > limits.max_depth {
        return Err(YamlError {
            message: format!("nesting deeper than {} levels", limits.max_depth),
            line: 0,
            column: 0,
        });
    }
    Ok(value)
}

fn strip_serde_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        nodes: usize,
    },
    Map {
        map: Map<String, Value>,
        key: Option<(String, bool)>,
        /// Keys that came from a merge key, which explicit keys may override.
        merged: Vec<String>,
        anchor: usize,
        nodes: usize,
    },
}

struct Builder<'l> {
    limits: &'l Limits,
    stack: Vec<Frame>,
    anchors: Vec<(usize, Value, usize)>,
    alias_nodes: usize,
    documents: Vec<Value>,
    current: Option<Value>,
    items: ItemSpans,
}

fn error_at(span: &Span, message: impl Into<String>) -> YamlError {
    YamlError {
        message: message.into(),
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

impl<'l> Builder<'l> {
    fn new(limits: &'l Limits) -> Self {
        Builder {
            limits,
            stack: Vec::new(),
            anchors: Vec::new(),
            alias_nodes: 0,
            documents: Vec::new(),
            current: None,
            items: ItemSpans::default(),
        }
    }

    /// Notes where entries of the first document's `items` sequence start, and
    /// which of them may be copied verbatim.
    fn track_items(&mut self, event: &Event, span: &Span) {
        let depth = self.stack.len();
        match self.items.state {
            ItemsState::Before => {
                let under_items = depth == 1
                    && self.documents.is_empty()
                    && matches!(self.stack.last(), Some(Frame::Map { key: Some((k, false)), .. }) if k == "items");
                if under_items && matches!(event, Event::SequenceStart(..)) {
                    self.items.state = ItemsState::Inside;
                }
            }
            ItemsState::Inside => {
                if depth == 2 && matches!(event, Event::SequenceEnd) {
                    self.items.end = span.start.index();
                    self.items.state = ItemsState::Done;
                    return;
                }
                if depth == 2 {
                    let verbatim =
                        matches!(event, Event::MappingStart(0, None)) && span.start.col() == 2;
                    self.items.starts.push((span.start.index(), verbatim));
                }
                let anchored = match event {
                    Event::Alias(_) => true,
                    Event::Scalar(_, _, anchor, _)
                    | Event::SequenceStart(anchor, _)
                    | Event::MappingStart(anchor, _) => *anchor != 0,
                    _ => false,
                };
                if anchored {
                    if let Some(last) = self.items.starts.last_mut() {
                        last.1 = false;
                    }
                }
            }
            ItemsState::Done => {}
        }
    }

    fn run(mut self, input: &str) -> Result<(Vec<Value>, ItemSpans), YamlError> {
        let mut parser = Parser::new_from_str(input);
        let mut input_chars: Option<usize> = None;
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| YamlError {
                message: e.info().to_string(),
                line: e.marker().line(),
                column: e.marker().col() + 1,
            })?;
            if self.items.state != ItemsState::Done {
                self.track_items(&event, &span);
            }
            match event {
                Event::StreamStart | Event::Nothing | Event::StreamEnd => {}
                Event::DocumentStart(_) => {
                    self.anchors.clear();
                    self.current = None;
                }
                Event::DocumentEnd => {
                    if let Some(doc) = self.current.take() {
                        if !doc.is_null() {
                            self.documents.push(doc);
                        }
                    }
                }
                Event::Alias(id) => {
                    let Some((_, value, nodes)) =
                        self.anchors.iter().rev().find(|(a, _, _)| *a == id)
                    else {
                        return Err(error_at(&span, "alias to an unknown anchor"));
                    };
                    self.alias_nodes += nodes;
                    if self.alias_nodes > self.limits.max_alias_nodes {
                        return Err(error_at(
                            &span,
                            format!(
                                "aliases expand to more than {} nodes (a YAML alias bomb?)",
                                self.limits.max_alias_nodes
                            ),
                        ));
                    }
                    let value = value.clone();
                    let nodes = *nodes;
                    self.push_value(value, nodes, 0, &span, false)?;
                }
                Event::Scalar(mut text, style, anchor, tag) => {
                    let plain = style == ScalarStyle::Plain;
                    // saphyr ends a block scalar that runs to the end of an input
                    // without a final line break with one anyway; YAML 1.2 (8.1.1.2)
                    // keeps a final line break only when there is one.
                    let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                    if block
                        && text.ends_with('\n')
                        && !input.trim_end_matches([' ', '\t']).ends_with(['\n', '\r'])
                        && span.end.index()
                            >= *input_chars.get_or_insert_with(|| input.chars().count())
                    {
                        text.to_mut().pop();
                    }
                    let value = resolve_scalar(&text, plain, tag.as_deref())
                        .map_err(|m| error_at(&span, m))?;
                    let merge_key = plain && text == "<<";
                    self.push_value(value, 1, anchor, &span, merge_key)?;
                }
                Event::SequenceStart(anchor, _) => {
                    self.open(
                        Frame::Seq {
                            items: Vec::new(),
                            anchor,
                            nodes: 1,
                        },
                        &span,
                    )?;
                }
                Event::MappingStart(anchor, _) => {
                    self.open(
                        Frame::Map {
                            map: Map::new(),
                            key: None,
                            merged: Vec::new(),
                            anchor,
                            nodes: 1,
                        },
                        &span,
                    )?;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (value, anchor, nodes) = match self.stack.pop() {
                        Some(Frame::Seq {
                            items,
                            anchor,
                            nodes,
                        }) => (Value::Array(items), anchor, nodes),
                        Some(Frame::Map {
                            map, anchor, nodes, ..
                        }) => (Value::Object(map), anchor, nodes),
                        None => return Err(error_at(&span, "unbalanced collection end")),
                    };
                    self.push_value(value, nodes, anchor, &span, false)?;
                }
            }
        }
        Ok((self.documents, self.items))
    }

    fn open(&mut self, frame: Frame, span: &Span) -> Result<(), YamlError> {
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            return Err(error_at(span, "mapping keys must be scalars"));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(error_at(
                span,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn push_value(
        &mut self,
        value: Value,
        nodes: usize,
        anchor: usize,
        span: &Span,
        merge_key: bool,
    ) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.push((anchor, value.clone(), nodes));
        }
        match self.stack.last_mut() {
            None => self.current = Some(value),
            Some(Frame::Seq {
                items, nodes: n, ..
            }) => {
                *n += nodes;
                items.push(value);
            }
            Some(Frame::Map {
                map,
                key,
                merged,
                nodes: n,
                ..
            }) => match key.take() {
                None => {
                    let name = match value {
                        Value::String(s) => s,
                        Value::Null => String::from("null"),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => return Err(error_at(span, "mapping keys must be scalars")),
                    };
                    if let Some(i) = merged.iter().position(|k| *k == name) {
                        merged.swap_remove(i);
                    } else if !merge_key && map.contains_key(&name) {
                        return Err(error_at(span, format!("duplicate key `{name}`")));
                    }
                    *key = Some((name, merge_key));
                }
                Some((_, true)) => {
                    *n += nodes;
                    merge_into(map, merged, value).map_err(|m| error_at(span, m))?;
                }
                Some((name, false)) => {
                    *n += nodes;
                    map.insert(name, value);
                }
            },
        }
        Ok(())
    }
}

/// YAML 1.1 merge keys (`<<: *base`), as go-yaml supports them: explicit keys win.
fn merge_into(
    map: &mut Map<String, Value>,
    merged: &mut Vec<String>,
    value: Value,
) -> Result<(), &'static str> {
    match value {
        Value::Object(source) => {
            for (k, v) in source {
                if !map.contains_key(&k) {
                    merged.push(k.clone());
                    map.insert(k, v);
                }
            }
            Ok(())
        }
        Value::Array(sources) => sources.into_iter().try_for_each(|s| match s {
            Value::Object(_) => merge_into(map, merged, s),
            _ => Err("merge key `<<` takes a mapping or a list of mappings"),
        }),
        _ => Err("merge key `<<` takes a mapping or a list of mappings"),
    }
}

/// Resolves a scalar as go-yaml v3 (kyaml, kpt) does: `resolve()` in go-yaml v3's
/// resolve.go. Untagged plain scalars go through the core schema; quoted and block
/// scalars, and any tag other than the core ones (`!`, `!foo`, `!!binary`,
/// `!!timestamp`), are strings; a core tag must fit its text (`!!int abc` is an error).
fn resolve_scalar(text: &str, plain: bool, tag: Option<&Tag>) -> Result<Value, String> {
    let Some(tag) = tag else {
        return Ok(if plain {
            resolve_plain(text)
        } else {
            Value::String(text.to_string())
        });
    };
    let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
    let wanted = if core { tag.suffix.as_str() } else { "" };
    let value = resolve_plain(text);
    let fits = match (wanted, &value) {
        ("str" | "binary" | "timestamp", _) | ("", _) => {
            return Ok(Value::String(text.to_string()));
        }
        ("null", Value::Null) | ("bool", Value::Bool(_)) => true,
        ("int", Value::Number(n)) => n.is_i64() || n.is_u64(),
        // go-yaml turns an int under `!!float` into a float.
        ("float", Value::Number(_)) => true,
        _ => false,
    };
    if !fits {
        return Err(format!("cannot read `{text}` as a !!{wanted}"));
    }
    Ok(value)
}

/// The value of an untagged plain scalar as this reader (and go-yaml v3) reads it;
/// see [`resolve_plain`]. kyaml-format compares an original's nodes with a
/// function's output through it, so both sides must read `0755` alike.
pub fn plain_scalar_value(text: &str) -> Value {
    resolve_plain(text)
}

/// An untagged plain scalar under go-yaml v3's rules: the null and boolean words,
/// then integers as Go's `strconv.ParseInt(s, 0, 64)` reads them after removing `_`
/// (so `0644` is octal 420, as in YAML 1.1, and `0x1F`, `0o17`, `0b11` work), then
/// floats matching `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`. `.inf` and
/// `.nan` have no JSON value and stay strings.
///
/// A number keeps the exact text the user wrote when that text is a JSON number
/// (`1.10`, `1e3`, `0.000001`, integers beyond 64 bits): writing it re-emits that
/// text, not a rounded or reformatted one. Other spellings (`0644`, `0x1F`, `+1`,
/// `.5`, `1_000`) become the decimal of the same value.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    match text.as_bytes()[0] {
        b'0'..=b'9' | b'-' | b'+' => {}
        b'.' => {
            // go-yaml: `strconv.ParseFloat(in, 64)` on the text as written.
            return go_float(text)
                .and_then(|_| float_number(text))
                .map_or_else(|| Value::String(text.to_string()), Value::Number);
        }
        _ => return Value::String(text.to_string()),
    }
    // A timestamp (`2001-12-14`) is neither an int nor a float below, so it stays
    // the string kyaml keeps.
    let plain = text.replace('_', "");
    if let Some(number) = go_int(&plain) {
        // The exact text when it is a JSON integer with the same value.
        if let Some(exact) = exact_number(text) {
            let wide = |n: &Number| n.to_string().parse::<i128>().ok();
            if wide(&exact) == wide(&number) {
                return Value::Number(exact);
            }
        }
        return Value::Number(number);
    }
    if is_core_float(plain.trim_start_matches(['-', '+'])) {
        if let Some(number) = go_float(&plain).and_then(|_| float_number_or(&plain, text)) {
            return Value::Number(number);
        }
    }
    Value::String(text.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`: an optional sign
/// (ParseUint takes none), then `0x`/`0o`/`0b` or a leading `0` for octal.
fn go_int(s: &str) -> Option<Number> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let bytes = unsigned.as_bytes();
    let (radix, digits) = match bytes {
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'x') => (16, &unsigned[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'o') => (8, &unsigned[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'b') => (2, &unsigned[2..]),
        [b'0'] => return Some(Number::from(0)),
        [b'0', ..] => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        // i64::MIN's magnitude is one more than i64::MAX.
        let value = 0i64.checked_sub_unsigned(magnitude)?;
        return Some(Number::from(value));
    }
    if s.starts_with('+') && magnitude > i64::MAX as u64 {
        return None; // ParseInt overflows and ParseUint refuses the sign.
    }
    Some(Number::from(magnitude))
}

/// Go's `strconv.ParseFloat(s, 64)` over the decimal forms YAML lets through: a
/// finite value, or `None` when the text overflows (go-yaml then keeps a string).
fn go_float(s: &str) -> Option<f64> {
    let body = s.trim_start_matches(['-', '+']);
    if !is_core_float(body) || s.len() - body.len() > 1 {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A float with the user's text when that is a JSON number, otherwise the
/// shortest decimal of its value.
fn float_number(text: &str) -> Option<Number> {
    float_number_or(text, text)
}

fn float_number_or(plain: &str, text: &str) -> Option<Number> {
    if let Some(exact) = exact_number(text) {
        return Some(exact);
    }
    Number::from_f64(plain.parse::<f64>().ok()?)
}

/// `text` itself as a number, when it is JSON number syntax (so JSON output stays
/// valid). serde_json's parser would normalise `1E3` to `1e+3`, hence the unchecked
/// constructor (serde_json's `arbitrary_precision` representation is that text).
fn exact_number(text: &str) -> Option<Number> {
    serde_json::from_str::<Number>(text).ok()?;
    Some(Number::from_string_unchecked(text.to_string()))
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_core_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// Writes `value` as one block-style YAML document (no `---`).
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_document(&mut out, value);
    out
}

/// Appends `value` as one block-style YAML document (no `---`).
pub fn write_document(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_seq(out, items, 0),
        scalar => {
            // A block scalar's lines indented: YAML 1.1 readers (PyYAML) take a line
            // at column 0 for a new document's content.
            write_scalar(out, scalar, 2);
            out.push('\n');
        }
    }
}

/// Appends the entries of a top-level sequence (`- ...` lines at column 0).
pub fn write_seq_items(out: &mut String, items: &[Value]) {
    write_seq(out, items, 0);
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Longest key written as an implicit (`key: value`) key: YAML limits implicit keys
/// to 1024 characters, quotes included, so longer ones are explicit (`? key`).
const MAX_IMPLICIT_KEY: usize = 1000;

fn write_map(out: &mut String, map: &Map<String, Value>, level: usize, inline_first: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline_first {
            indent(out, level);
        }
        if key.chars().count() > MAX_IMPLICIT_KEY {
            out.push_str("? ");
            write_double_quoted(out, key);
            out.push('\n');
            indent(out, level);
        } else {
            write_str(out, key, level, true);
        }
        out.push(':');
        write_child(out, value, level, true);
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        write_child(out, item, level, false);
    }
}

/// Writes what follows `key:` or `-`, ending with a newline.
fn write_child(out: &mut String, value: &Value, level: usize, in_map: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            if in_map {
                out.push('\n');
                write_map(out, map, level + 2, false);
            } else {
                out.push(' ');
                write_map(out, map, level + 2, true);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            // kyaml style: a sequence under a key sits at the key's indentation.
            write_seq(out, items, if in_map { level } else { level + 2 });
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, level + 2);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, &n.to_string()),
        Value::String(s) => write_str(out, s, level, false),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// A number's text (the user's own, see [`resolve_plain`]) when YAML 1.1 reads it as
/// that number too; otherwise the same value in a form it does: YAML 1.1 floats need
/// a `.` and a signed exponent (`1e3` and `1e-6` are strings to PyYAML), so `1e3` is
/// written `1.0e+3`. Integers of any size are written digit for digit.
fn write_number(out: &mut String, text: &str) {
    out.push_str(&number_text(text));
}

/// The text [`write_document`] writes for a number read from `text`.
pub fn number_text(text: &str) -> std::borrow::Cow<'_, str> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some((&text[i..i + 1], &text[i + 1..]))),
        None => (text, None),
    };
    let Some((e, exponent)) = exponent else {
        return std::borrow::Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 3);
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push_str(e);
    if !exponent.starts_with(['+', '-']) {
        out.push('+');
    }
    out.push_str(exponent);
    std::borrow::Cow::Owned(out)
}

/// How [`write_document`] writes a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringStyle {
    Plain,
    /// `|` or `|-`.
    Literal,
    DoubleQuoted,
}

/// The style [`write_document`] writes `s` in, as a mapping key or as a value.
pub fn string_style(s: &str, key: bool) -> StringStyle {
    if key && s.chars().count() > MAX_IMPLICIT_KEY {
        StringStyle::DoubleQuoted
    } else if is_plain_safe(s) {
        StringStyle::Plain
    } else if !key && literal_block_fits(s) {
        StringStyle::Literal
    } else {
        StringStyle::DoubleQuoted
    }
}

fn write_str(out: &mut String, s: &str, level: usize, key: bool) {
    let style = string_style(s, key);
    if style == StringStyle::Plain {
        out.push_str(s);
    } else if style == StringStyle::Literal {
        out.push('|');
        if !s.ends_with('\n') {
            out.push('-');
        }
        for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
            out.push('\n');
            if !line.is_empty() {
                indent(out, level);
                out.push_str(line);
            }
        }
    } else {
        write_double_quoted(out, s);
    }
}

/// Whether `s` can be written as a plain scalar and read back, by YAML 1.1 and 1.2
/// decoders alike, as this same string.
pub fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    let last = bytes[bytes.len() - 1];
    if is_ambiguous_word(s) {
        return false;
    }
    match first {
        b'-' | b'?' | b':' => {
            if bytes.len() == 1 || matches!(bytes[1], b' ' | b'0'..=b'9' | b'.') {
                return false;
            }
        }
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' | b' ' | b'=' | b'<' => return false,
        b'0'..=b'9' | b'+' | b'.' => {
            if looks_numeric(s) {
                return false;
            }
        }
        _ => {}
    }
    if last == b' ' || last == b':' {
        return false;
    }
    // `--- a` or `... a` at column 0 would be a document marker.
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let mut previous = 0u8;
    for ch in s.chars() {
        let c = ch as u32;
        if needs_escape(ch) {
            return false;
        }
        if (ch == ' ' && previous == b':') || (ch == '#' && previous == b' ') {
            return false;
        }
        previous = if c < 0x80 { c as u8 } else { 0 };
    }
    true
}

/// Words that YAML 1.1 (Kubernetes' decoder) or 1.2 read as null, booleans or floats.
fn is_ambiguous_word(s: &str) -> bool {
    if s.len() > 5 {
        return false;
    }
    matches!(
        s,
        "~" | "null"
            | "Null"
            | "NULL"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
            | ".nan"
            | ".NaN"
            | ".NAN"
    )
}

/// Numbers of either YAML version (ints in any base, `1_000`, sexagesimal `1:30`,
/// floats) and timestamps (`2001-12-14`): anything of those characters starting
/// like a number is quoted.
fn looks_numeric(s: &str) -> bool {
    let body = s.trim_start_matches(['+', '-']);
    let starts_like_number = match body.as_bytes() {
        [d, ..] if d.is_ascii_digit() => true,
        [b'.', d, ..] if d.is_ascii_digit() => true,
        _ => false,
    };
    starts_like_number
        && body.bytes().all(|b| {
            b.is_ascii_hexdigit()
                || matches!(
                    b,
                    b'_' | b'.' | b':' | b'+' | b'-' | b'x' | b'X' | b'o' | b'O'
                )
                || matches!(b, b'T' | b't' | b'Z' | b'z' | b' ')
        })
}

fn literal_block_fits(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && !s.ends_with("\n\n")
        && !s.contains(" \n")
        && !s.ends_with(' ')
        && s.chars()
            .all(|ch| ch == '\n' || ch == '\t' || !needs_escape(ch))
}

/// Characters a YAML reader would not give back from a plain or block scalar:
/// controls (C0, DEL, C1 including NEL U+0085), the BOM, the line and paragraph
/// separators U+2028/U+2029 (libyaml and go-yaml take them for line breaks), and
/// the non-characters U+FFFE/U+FFFF (not allowed in a YAML stream at all).
fn needs_escape(ch: char) -> bool {
    let c = ch as u32;
    c < 0x20
        || (0x7f..=0x9f).contains(&c)
        || matches!(c, 0xfeff | 0x2028 | 0x2029 | 0xfffe | 0xffff)
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if needs_escape(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> Result<Vec<Value>, YamlError> {
        parse_documents(s, &Limits::default())
    }

    #[test]
    fn resolves_core_schema_scalars() {
        let docs = parse(
            "a: on\nb: yes\nc: no\nd: true\ne: 10\nf: 1.5\ng: ~\nh: '10'\ni: 0x1f\nj: 100m\nk: 1e3\nl: !!str 12\n",
        )
        .unwrap();
        let mut doc = docs[0].clone();
        assert_eq!(doc["k"].to_string(), "1e3");
        doc["k"] = json!(1000);
        assert_eq!(
            doc,
            json!({"a":"on","b":"yes","c":"no","d":true,"e":10,"f":1.5,"g":null,"h":"10","i":31,"j":"100m","k":1000,"l":"12"})
        );
    }

    /// go-yaml v3's `resolve()` (resolve.go) and its decode_test.go cases: the value,
    /// and the text a number keeps for writing.
    #[test]
    fn resolves_plain_scalars_as_go_yaml_v3() {
        for (text, expected) in [
            ("0644", "420"),
            ("0400", "256"),
            ("0o17", "15"),
            ("-0o17", "-15"),
            ("0x1F", "31"),
            ("-0x1f", "-31"),
            ("0b101", "5"),
            ("-0b101", "-5"),
            ("+12", "12"),
            ("1_000", "1000"),
            ("0", "0"),
            ("-0", "-0"),
            ("09", "9.0"),
            ("1.10", "1.10"),
            ("1e3", "1e3"),
            ("1E3", "1E3"),
            ("0.000001", "0.000001"),
            (".5", "0.5"),
            ("-.5", "-0.5"),
            ("1.", "1.0"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            ("18446744073709551615", "18446744073709551615"),
            ("-9223372036854775808", "-9223372036854775808"),
        ] {
            let value = &parse(&format!("v: {text}\n")).unwrap()[0]["v"];
            assert!(value.is_number(), "{text} is a number: {value:?}");
            assert_eq!(value.to_string(), expected, "{text}");
            let mut map = Map::new();
            map.insert("v".into(), value.clone());
            // Written as YAML 1.1 reads it too (`1e3` → `1.0e+3`), digits kept.
            let written = match expected {
                "1e3" => "1.0e+3",
                "1E3" => "1.0E+3",
                other => other,
            };
            assert_eq!(to_string(&Value::Object(map)), format!("v: {written}\n"));
        }
        for text in [
            "1e400",
            ".inf",
            "-.Inf",
            ".nan",
            "0x",
            "1:30",
            "2001-12-14",
            "1_",
            "._5",
            "+",
            ".",
            "0b2",
            "0o8",
            "1__0x",
            "yes",
            "on",
            "y",
        ] {
            let value = &parse(&format!("v: {text}\n")).unwrap()[0]["v"];
            if text == "1_" {
                // `1_` without its underscore is 1 (go-yaml removes every `_`).
                assert_eq!(value.to_string(), "1");
                continue;
            }
            assert_eq!(value, &json!(text), "{text}");
        }
        let docs = parse(
            "a: ! 12\nb: !foo 12\nc: !!int \"12\"\nd: !!float 1\ne: !!binary aGk=\nf: !!null ''\n",
        )
        .unwrap();
        assert_eq!(
            docs[0],
            json!({"a": "12", "b": "12", "c": 12, "d": 1, "e": "aGk=", "f": null})
        );
        assert!(parse("a: !!int abc\n").is_err());
        assert!(parse("a: !!bool 1\n").is_err());
    }

    #[test]
    fn quotes_every_ambiguous_scalar() {
        for s in [
            "on",
            "yes",
            "no",
            "y",
            "N",
            "Off",
            "true",
            "null",
            "~",
            "10",
            "1.5",
            "0x1f",
            "1_000",
            "1:30",
            "2001-12-14",
            "1e3",
            ".inf",
            "",
            " a",
            "a ",
            "a: b",
            "a #b",
            "- a",
            "-1",
            "@x",
            "*x",
            "&x",
            "!x",
            "|",
            ">",
            "'a'",
            "\"a\"",
            "#x",
            "a:",
            "<<",
            "=",
            "\u{7f}",
            "0o17",
            "+1",
            ".5",
        ] {
            let text = to_string(&json!({ "k": s }));
            let back = parse(&text).unwrap();
            assert_eq!(back[0], json!({ "k": s }), "{text}");
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
        }
        for s in [
            "abc",
            "100m",
            "nginx:1.27",
            "a-b",
            "-abc",
            "deadbeef",
            "a b",
            "http://x/y",
            "é",
        ] {
            assert!(is_plain_safe(s), "{s:?} may be plain");
        }
    }

    #[test]
    fn round_trips_nested_layout() {
        let value = json!({
            "apiVersion": "v1",
            "items": [{"a": 1, "b": [1, [2, 3], {}], "c": {"d": []}}, "x"],
            "text": "line 1\nline 2\n",
            "strip": "no newline\nat end",
            "key with: colon": "v",
        });
        let text = to_string(&value);
        assert_eq!(
            text,
            "apiVersion: v1\nitems:\n- a: 1\n  b:\n  - 1\n  -\n    - 2\n    - 3\n  - {}\n  c:\n    d: []\n- x\ntext: |\n  line 1\n  line 2\nstrip: |-\n  no newline\n  at end\n\"key with: colon\": v\n"
        );
        assert_eq!(parse(&text).unwrap()[0], value);
    }

    #[test]
    fn rejects_duplicate_keys_with_position() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.to_string(), "line 3, column 1: duplicate key `a`");
    }

    #[test]
    fn bounds_alias_expansion() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            doc.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse(&doc).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err}");
    }

    #[test]
    fn bounds_depth() {
        let doc = format!("{}x{}", "[".repeat(100), "]".repeat(100));
        let err = parse(&doc).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1, column 65: nesting deeper than 64 levels"
        );
        let json = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_json(&json, &Limits::default()).is_err());
    }

    #[test]
    fn merges_merge_keys() {
        let docs = parse("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n").unwrap();
        assert_eq!(docs[0]["d"], json!({"y": 3, "x": 1}));
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line >= 1 && err.column >= 1, "{err}");
    }
}

#[cfg(test)]
mod eof_tests {
    use super::*;

    /// YAML 1.2 §8.1.1.2: clip keeps the final line break only when there is one.
    #[test]
    fn block_scalar_at_eof_without_newline_gains_none() {
        let docs = parse_documents("x: |\n  text", &Limits::default()).unwrap();
        assert_eq!(docs[0]["x"], "text");
        let docs = parse_documents("x: >\n  a\n  b", &Limits::default()).unwrap();
        assert_eq!(docs[0]["x"], "a b");
    }
}
