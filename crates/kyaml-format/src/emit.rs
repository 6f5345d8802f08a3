//! A port of go-yaml v3's emitter (`emitterc.go`, the copy vendored by kyaml as
//! `sigs.k8s.io/yaml/goyaml.v3`, which adds the compact sequence indent) driven by
//! the events `encode.go` produces for a `yaml.Node` tree. Only what kyaml's
//! Encoder uses is kept: indent 2, unicode on, unlimited width (go-yaml v3 never
//! folds lines), no canonical mode, no directives.
//!
//! The functions keep upstream's names (`yaml_emitter_*` without the prefix) so a
//! reader can put the two side by side; quirks are kept on purpose, e.g. the
//! folded-scalar writer's extra line break (it tests `value[k]` from `k = 0`).
#![allow(clippy::collapsible_match)]

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ScalarStyle {
    Any,
    Plain,
    Single,
    Double,
    Literal,
    Folded,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum EventType {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Scalar,
    SequenceStart,
    SequenceEnd,
    MappingStart,
    MappingEnd,
}

#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub typ: EventType,
    pub anchor: Vec<u8>,
    pub tag: Vec<u8>,
    pub value: Vec<u8>,
    pub implicit: bool,
    pub quoted_implicit: bool,
    pub scalar_style: ScalarStyle,
    /// Flow style for sequences and mappings.
    pub flow: bool,
    pub head_comment: Vec<u8>,
    pub line_comment: Vec<u8>,
    pub foot_comment: Vec<u8>,
    pub tail_comment: Vec<u8>,
}

impl Event {
    pub fn new(typ: EventType) -> Event {
        Event {
            typ,
            anchor: Vec::new(),
            tag: Vec::new(),
            value: Vec::new(),
            implicit: true,
            quoted_implicit: true,
            scalar_style: ScalarStyle::Any,
            flow: false,
            head_comment: Vec::new(),
            line_comment: Vec::new(),
            foot_comment: Vec::new(),
            tail_comment: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    StreamStart,
    FirstDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    FlowSequenceFirstItem,
    FlowSequenceTrailItem,
    FlowSequenceItem,
    FlowMappingFirstKey,
    FlowMappingTrailKey,
    FlowMappingKey,
    FlowMappingSimpleValue,
    FlowMappingValue,
    BlockSequenceFirstItem,
    BlockSequenceItem,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingSimpleValue,
    BlockMappingValue,
    End,
}

#[derive(Default)]
struct ScalarData {
    value: Vec<u8>,
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
    style: Option<ScalarStyle>,
}

/// What go-yaml's emitter may change of what it writes, read back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Writing {
    /// Every byte as go-yaml writes it.
    AsGoYaml,
    /// Without the two line breaks go-yaml writes that read back as more of a
    /// value, which then grows at every render: the blank line it sets a
    /// document's foot comment apart with when a keep block scalar (`|+`,
    /// `>+`) ends right above it, and the one `yaml_emitter_write_folded_scalar`
    /// adds before a more-indented line of a folded scalar (`>`: it looks for
    /// the next line from the value's start, not from the break).
    KeepingValues,
    /// Also without the line break that function adds after a folded scalar's
    /// last line: a comment below it would read back set apart by a blank
    /// line, on the document rather than on the key (fuzz seed 119 case 461).
    KeepingNodes,
}

pub(crate) struct Emitter {
    pub out: Vec<u8>,
    pub compact_sequence_indent: bool,
    /// Which of go-yaml's line breaks that change what the text says to leave out.
    pub writing: Writing,
    /// The last block scalar's chomping indicator is `+`.
    keep_chomp: bool,
    /// Nothing was written since a keep block scalar's text.
    after_keep_scalar: bool,
    best_indent: i64,
    best_width: i64,
    states: Vec<State>,
    state: State,
    events: Vec<Event>,
    events_head: usize,
    indents: Vec<i64>,
    indent: i64,
    flow_level: i64,
    root_context: bool,
    sequence_context: bool,
    mapping_context: bool,
    simple_key_context: bool,
    line: i64,
    column: i64,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    space_above: bool,
    foot_indent: i64,
    anchor: Option<(Vec<u8>, bool)>,
    tag_handle: Vec<u8>,
    tag_suffix: Vec<u8>,
    scalar: ScalarData,
    head_comment: Vec<u8>,
    line_comment: Vec<u8>,
    foot_comment: Vec<u8>,
    tail_comment: Vec<u8>,
    key_line_comment: Vec<u8>,
    /// The collection end event whose line comment `line_comment` holds, while
    /// it waits to be written (go-yaml writes a block collection's line comment
    /// at the next `process_line_comment`, wherever that is).
    held: Option<usize>,
    /// The same for `key_line_comment`.
    key_held: Option<usize>,
    /// Collection end events whose line comment go-yaml would not write in their
    /// own document: overwritten by another line comment, or still waiting at
    /// the document's end (kpt's one encoder then writes it into the next
    /// object, or drops it at the end of the stream).
    pub dropped: Vec<usize>,
}

fn width(b: u8) -> usize {
    if b & 0x80 == 0x00 {
        1
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        3
    } else if b & 0xF8 == 0xF0 {
        4
    } else {
        0
    }
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}
fn is_space(b: &[u8], i: usize) -> bool {
    at(b, i) == b' '
}
fn is_blank(b: &[u8], i: usize) -> bool {
    at(b, i) == b' ' || at(b, i) == b'\t'
}
fn is_break(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    c == b'\r'
        || c == b'\n'
        || (c == 0xC2 && at(b, i + 1) == 0x85)
        || (c == 0xE2 && at(b, i + 1) == 0x80 && at(b, i + 2) == 0xA8)
        || (c == 0xE2 && at(b, i + 1) == 0x80 && at(b, i + 2) == 0xA9)
}
fn is_z(b: &[u8], i: usize) -> bool {
    at(b, i) == 0
}
fn is_blankz(b: &[u8], i: usize) -> bool {
    is_blank(b, i) || is_break(b, i) || is_z(b, i)
}
fn is_bom(b: &[u8], i: usize) -> bool {
    at(b, i) == 0xEF && at(b, i + 1) == 0xBB && at(b, i + 2) == 0xBF
}
fn is_printable(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    let c1 = at(b, i + 1);
    let c2 = at(b, i + 2);
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (c == 0xC2 && c1 >= 0xA0)
        || (c > 0xC2 && c < 0xED)
        || (c == 0xED && c1 < 0xA0)
        || c == 0xEE
        || (c == 0xEF && !(c1 == 0xBB && c2 == 0xBF) && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)))
}

impl Emitter {
    pub fn new(events: Vec<Event>) -> Emitter {
        Emitter {
            out: Vec::new(),
            compact_sequence_indent: true,
            writing: Writing::AsGoYaml,
            keep_chomp: false,
            after_keep_scalar: false,
            best_indent: 2,
            best_width: i64::from(i32::MAX),
            states: Vec::new(),
            state: State::StreamStart,
            events,
            events_head: 0,
            indents: Vec::new(),
            indent: -1,
            flow_level: 0,
            root_context: false,
            sequence_context: false,
            mapping_context: false,
            simple_key_context: false,
            line: 0,
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: false,
            space_above: true,
            foot_indent: -1,
            anchor: None,
            tag_handle: Vec::new(),
            tag_suffix: Vec::new(),
            scalar: ScalarData::default(),
            head_comment: Vec::new(),
            line_comment: Vec::new(),
            foot_comment: Vec::new(),
            tail_comment: Vec::new(),
            key_line_comment: Vec::new(),
            held: None,
            key_held: None,
            dropped: Vec::new(),
        }
    }

    /// Emits every event. `seq_indent(doc)` is consulted at each document start
    /// (kyaml's ByteWriter switches the encoder's indent per document).
    pub fn run(&mut self, compact_per_doc: &[bool]) {
        let mut doc = 0;
        while self.events_head < self.events.len() {
            // The event is moved out, not copied (its strings are most of the
            // emitter's allocations); what stays is its type, the one thing the
            // look-ahead (`check_empty`, `check_simple_key`) reads of it.
            let typ = self.events[self.events_head].typ;
            let ev = std::mem::replace(&mut self.events[self.events_head], Event::new(typ));
            if ev.typ == EventType::DocumentStart {
                self.compact_sequence_indent = compact_per_doc.get(doc).copied().unwrap_or(true);
                doc += 1;
            }
            self.analyze_event(&ev);
            self.state_machine(&ev);
            self.events_head += 1;
        }
    }

    fn put(&mut self, c: u8) {
        self.out.push(c);
        self.column += 1;
    }
    fn put_break(&mut self) {
        self.out.push(b'\n');
        if self.column == 0 {
            self.space_above = true;
        }
        self.column = 0;
        self.line += 1;
        self.indention = true;
    }
    fn write(&mut self, s: &[u8], i: &mut usize) {
        let w = width(s[*i]).max(1);
        let end = (*i + w).min(s.len());
        self.out.extend_from_slice(&s[*i..end]);
        self.column += 1;
        *i = end;
    }
    fn write_all(&mut self, s: &[u8]) {
        let mut i = 0;
        while i < s.len() {
            self.write(s, &mut i);
        }
    }
    fn write_break(&mut self, s: &[u8], i: &mut usize) {
        if s[*i] == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write(s, i);
            if self.column == 0 {
                self.space_above = true;
            }
            self.column = 0;
            self.line += 1;
            self.indention = true;
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool, compact_seq: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            if self.states.last() == Some(&State::BlockSequenceItem) {
                self.indent += 2;
            } else {
                self.indent =
                    self.best_indent * ((self.indent + self.best_indent) / self.best_indent);
            }
            if compact_seq {
                self.indent -= 2;
            }
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }
    fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(State::End);
    }

    fn state_machine(&mut self, ev: &Event) {
        match self.state {
            State::StreamStart => self.emit_stream_start(),
            State::FirstDocumentStart => self.emit_document_start(ev, true),
            State::DocumentStart => self.emit_document_start(ev, false),
            State::DocumentContent => self.emit_document_content(ev),
            State::DocumentEnd => self.emit_document_end(ev),
            State::FlowSequenceFirstItem => self.emit_flow_sequence_item(ev, true, false),
            State::FlowSequenceTrailItem => self.emit_flow_sequence_item(ev, false, true),
            State::FlowSequenceItem => self.emit_flow_sequence_item(ev, false, false),
            State::FlowMappingFirstKey => self.emit_flow_mapping_key(ev, true, false),
            State::FlowMappingTrailKey => self.emit_flow_mapping_key(ev, false, true),
            State::FlowMappingKey => self.emit_flow_mapping_key(ev, false, false),
            State::FlowMappingSimpleValue => self.emit_flow_mapping_value(ev, true),
            State::FlowMappingValue => self.emit_flow_mapping_value(ev, false),
            State::BlockSequenceFirstItem => self.emit_block_sequence_item(ev, true),
            State::BlockSequenceItem => self.emit_block_sequence_item(ev, false),
            State::BlockMappingFirstKey => self.emit_block_mapping_key(ev, true),
            State::BlockMappingKey => self.emit_block_mapping_key(ev, false),
            State::BlockMappingSimpleValue => self.emit_block_mapping_value(ev, true),
            State::BlockMappingValue => self.emit_block_mapping_value(ev, false),
            State::End => {}
        }
    }

    fn emit_stream_start(&mut self) {
        self.indent = -1;
        self.line = 0;
        self.column = 0;
        self.whitespace = true;
        self.indention = true;
        self.space_above = true;
        self.foot_indent = -1;
        self.state = State::FirstDocumentStart;
    }

    fn emit_document_start(&mut self, ev: &Event, first: bool) {
        if ev.typ == EventType::DocumentStart {
            let implicit = ev.implicit && first;
            if !implicit {
                self.write_indent();
                self.write_indicator(b"---", true, false, false);
                self.write_indent();
            }
            if !self.head_comment.is_empty() {
                self.process_head_comment();
                self.put_break();
            }
            self.state = State::DocumentContent;
            return;
        }
        if ev.typ == EventType::StreamEnd {
            if self.open_ended {
                self.write_indicator(b"...", true, false, false);
                self.write_indent();
            }
            self.state = State::End;
        }
    }

    fn emit_document_content(&mut self, ev: &Event) {
        self.states.push(State::DocumentEnd);
        self.process_head_comment();
        self.emit_node(ev, true, false, false, false);
        self.process_line_comment(false);
        self.process_foot_comment();
    }

    fn emit_document_end(&mut self, ev: &Event) {
        if !self.line_comment.is_empty() {
            self.dropped.extend(self.held);
        }
        if !self.key_line_comment.is_empty() {
            self.dropped.extend(self.key_held);
        }
        if !(self.writing != Writing::AsGoYaml && self.after_keep_scalar) {
            self.foot_indent = 0;
        }
        self.process_foot_comment();
        self.foot_indent = -1;
        self.write_indent();
        if !ev.implicit {
            self.write_indicator(b"...", true, false, false);
            self.write_indent();
        }
        self.state = State::DocumentStart;
    }

    fn emit_flow_sequence_item(&mut self, ev: &Event, first: bool, trail: bool) {
        if first {
            self.write_indicator(b"[", true, true, false);
            self.increase_indent(true, false, false);
            self.flow_level += 1;
        }
        if ev.typ == EventType::SequenceEnd {
            self.flow_level -= 1;
            self.pop_indent();
            if self.column == 0 {
                self.write_indent();
            }
            self.write_indicator(b"]", false, false, false);
            self.process_line_comment(false);
            self.process_foot_comment();
            self.pop_state();
            return;
        }
        if !first && !trail {
            self.write_indicator(b",", false, false, false);
        }
        self.process_head_comment();
        if self.column == 0 {
            self.write_indent();
        }
        if self.column > self.best_width {
            self.write_indent();
        }
        if self.pending_comments() {
            self.states.push(State::FlowSequenceTrailItem);
        } else {
            self.states.push(State::FlowSequenceItem);
        }
        self.emit_node(ev, false, true, false, false);
        if self.pending_comments() {
            self.write_indicator(b",", false, false, false);
        }
        self.process_line_comment(false);
        self.process_foot_comment();
    }

    fn pending_comments(&self) -> bool {
        !self.line_comment.is_empty()
            || !self.foot_comment.is_empty()
            || !self.tail_comment.is_empty()
    }

    fn emit_flow_mapping_key(&mut self, ev: &Event, first: bool, trail: bool) {
        if first {
            self.write_indicator(b"{", true, true, false);
            self.increase_indent(true, false, false);
            self.flow_level += 1;
        }
        if ev.typ == EventType::MappingEnd {
            if (!self.head_comment.is_empty()
                || !self.foot_comment.is_empty()
                || !self.tail_comment.is_empty())
                && !first
                && !trail
            {
                self.write_indicator(b",", false, false, false);
            }
            self.process_head_comment();
            self.flow_level -= 1;
            self.pop_indent();
            self.write_indicator(b"}", false, false, false);
            self.process_line_comment(false);
            self.process_foot_comment();
            self.pop_state();
            return;
        }
        if !first && !trail {
            self.write_indicator(b",", false, false, false);
        }
        self.process_head_comment();
        if self.column == 0 {
            self.write_indent();
        }
        if self.column > self.best_width {
            self.write_indent();
        }
        if self.check_simple_key() {
            self.states.push(State::FlowMappingSimpleValue);
            self.emit_node(ev, false, false, true, true);
            return;
        }
        self.write_indicator(b"?", true, false, false);
        self.states.push(State::FlowMappingValue);
        self.emit_node(ev, false, false, true, false);
    }

    fn emit_flow_mapping_value(&mut self, ev: &Event, simple: bool) {
        if simple {
            self.write_indicator(b":", false, false, false);
        } else {
            if self.column > self.best_width {
                self.write_indent();
            }
            self.write_indicator(b":", true, false, false);
        }
        if self.pending_comments() {
            self.states.push(State::FlowMappingTrailKey);
        } else {
            self.states.push(State::FlowMappingKey);
        }
        self.emit_node(ev, false, false, true, false);
        if self.pending_comments() {
            self.write_indicator(b",", false, false, false);
        }
        self.process_line_comment(false);
        self.process_foot_comment();
    }

    fn emit_block_sequence_item(&mut self, ev: &Event, first: bool) {
        if first {
            let seq = self.mapping_context
                && (self.column == 0 || !self.indention)
                && self.compact_sequence_indent;
            self.increase_indent(false, false, seq);
        }
        if ev.typ == EventType::SequenceEnd {
            self.pop_indent();
            self.pop_state();
            return;
        }
        self.process_head_comment();
        self.write_indent();
        self.write_indicator(b"-", true, false, true);
        self.states.push(State::BlockSequenceItem);
        self.emit_node(ev, false, true, false, false);
        self.process_line_comment(false);
        self.process_foot_comment();
    }

    fn emit_block_mapping_key(&mut self, ev: &Event, first: bool) {
        if first {
            self.increase_indent(false, false, false);
        }
        self.process_head_comment();
        if ev.typ == EventType::MappingEnd {
            self.pop_indent();
            self.pop_state();
            return;
        }
        self.write_indent();
        if !self.line_comment.is_empty() {
            if !self.key_line_comment.is_empty() && self.key_line_comment != self.line_comment {
                self.dropped.extend(self.key_held);
            }
            self.key_line_comment = std::mem::take(&mut self.line_comment);
            self.key_held = self.held.take();
        }
        if self.check_simple_key() {
            self.states.push(State::BlockMappingSimpleValue);
            self.emit_node(ev, false, false, true, true);
            return;
        }
        self.write_indicator(b"?", true, false, true);
        self.states.push(State::BlockMappingValue);
        self.emit_node(ev, false, false, true, false);
    }

    fn emit_block_mapping_value(&mut self, ev: &Event, simple: bool) {
        if simple {
            self.write_indicator(b":", false, false, false);
        } else {
            self.write_indent();
            self.write_indicator(b":", true, false, true);
        }
        if !self.key_line_comment.is_empty() {
            if ev.typ == EventType::Scalar {
                if self.line_comment.is_empty() {
                    self.line_comment = std::mem::take(&mut self.key_line_comment);
                    self.held = self.key_held.take();
                }
            } else if !ev.flow
                && (ev.typ == EventType::MappingStart || ev.typ == EventType::SequenceStart)
            {
                std::mem::swap(&mut self.line_comment, &mut self.key_line_comment);
                std::mem::swap(&mut self.held, &mut self.key_held);
                self.process_line_comment(false);
                std::mem::swap(&mut self.line_comment, &mut self.key_line_comment);
                std::mem::swap(&mut self.held, &mut self.key_held);
            }
        }
        self.states.push(State::BlockMappingKey);
        self.emit_node(ev, false, false, true, false);
        self.process_line_comment(false);
        self.process_foot_comment();
    }

    fn emit_node(
        &mut self,
        ev: &Event,
        root: bool,
        sequence: bool,
        mapping: bool,
        simple_key: bool,
    ) {
        self.root_context = root;
        self.sequence_context = sequence;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match ev.typ {
            EventType::Scalar => self.emit_scalar(ev),
            EventType::SequenceStart => {
                self.process_anchor();
                self.process_tag();
                if self.flow_level > 0
                    || ev.flow
                    || self.check_empty(EventType::SequenceStart, EventType::SequenceEnd)
                {
                    self.state = State::FlowSequenceFirstItem;
                } else {
                    self.state = State::BlockSequenceFirstItem;
                }
            }
            EventType::MappingStart => {
                self.process_anchor();
                self.process_tag();
                if self.flow_level > 0
                    || ev.flow
                    || self.check_empty(EventType::MappingStart, EventType::MappingEnd)
                {
                    self.state = State::FlowMappingFirstKey;
                } else {
                    self.state = State::BlockMappingFirstKey;
                }
            }
            _ => {}
        }
    }

    fn emit_scalar(&mut self, ev: &Event) {
        self.select_scalar_style(ev);
        self.process_anchor();
        self.process_tag();
        self.increase_indent(true, false, false);
        self.process_scalar();
        self.pop_indent();
        self.pop_state();
    }

    fn check_empty(&self, start: EventType, end: EventType) -> bool {
        self.events.get(self.events_head).map(|e| e.typ) == Some(start)
            && self.events.get(self.events_head + 1).map(|e| e.typ) == Some(end)
    }

    fn check_simple_key(&self) -> bool {
        let anchor_len = self.anchor.as_ref().map_or(0, |a| a.0.len());
        let tag_len = self.tag_handle.len() + self.tag_suffix.len();
        let length = match self.events[self.events_head].typ {
            EventType::Scalar => {
                if self.scalar.multiline {
                    return false;
                }
                anchor_len + tag_len + self.scalar.value.len()
            }
            EventType::SequenceStart => {
                if !self.check_empty(EventType::SequenceStart, EventType::SequenceEnd) {
                    return false;
                }
                anchor_len + tag_len
            }
            EventType::MappingStart => {
                if !self.check_empty(EventType::MappingStart, EventType::MappingEnd) {
                    return false;
                }
                anchor_len + tag_len
            }
            _ => return false,
        };
        length <= 128
    }

    fn select_scalar_style(&mut self, ev: &Event) {
        let no_tag = self.tag_handle.is_empty() && self.tag_suffix.is_empty();
        let mut style = ev.scalar_style;
        if style == ScalarStyle::Any {
            style = ScalarStyle::Plain;
        }
        if self.simple_key_context && self.scalar.multiline {
            style = ScalarStyle::Double;
        }
        if style == ScalarStyle::Plain {
            if (self.flow_level > 0 && !self.scalar.flow_plain_allowed)
                || (self.flow_level == 0 && !self.scalar.block_plain_allowed)
            {
                style = ScalarStyle::Single;
            }
            if self.scalar.value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = ScalarStyle::Single;
            }
            if no_tag && !ev.implicit {
                style = ScalarStyle::Single;
            }
        }
        if style == ScalarStyle::Single && !self.scalar.single_quoted_allowed {
            style = ScalarStyle::Double;
        }
        if (style == ScalarStyle::Literal || style == ScalarStyle::Folded)
            && (!self.scalar.block_allowed || self.flow_level > 0 || self.simple_key_context)
        {
            style = ScalarStyle::Double;
        }
        if no_tag && !ev.quoted_implicit && style != ScalarStyle::Plain {
            self.tag_handle = b"!".to_vec();
        }
        self.scalar.style = Some(style);
    }

    fn process_anchor(&mut self) {
        if let Some((anchor, alias)) = self.anchor.clone() {
            self.write_indicator(if alias { b"*" } else { b"&" }, true, false, false);
            self.write_all(&anchor);
            self.whitespace = false;
            self.indention = false;
        }
    }

    fn process_tag(&mut self) {
        if self.tag_handle.is_empty() && self.tag_suffix.is_empty() {
            return;
        }
        if !self.tag_handle.is_empty() {
            let handle = self.tag_handle.clone();
            if !self.whitespace {
                self.put(b' ');
            }
            self.write_all(&handle);
            self.whitespace = false;
            self.indention = false;
            if !self.tag_suffix.is_empty() {
                let suffix = self.tag_suffix.clone();
                self.write_tag_content(&suffix, false);
            }
        } else {
            let suffix = self.tag_suffix.clone();
            self.write_indicator(b"!<", true, false, false);
            self.write_tag_content(&suffix, false);
            self.write_indicator(b">", false, false, false);
        }
    }

    fn write_tag_content(&mut self, value: &[u8], need_whitespace: bool) {
        if need_whitespace && !self.whitespace {
            self.put(b' ');
        }
        let mut i = 0;
        while i < value.len() {
            let c = value[i];
            let must_write = matches!(
                c,
                b';' | b'/'
                    | b'?'
                    | b':'
                    | b'@'
                    | b'&'
                    | b'='
                    | b'+'
                    | b'$'
                    | b','
                    | b'_'
                    | b'.'
                    | b'~'
                    | b'*'
                    | b'\''
                    | b'('
                    | b')'
                    | b'['
                    | b']'
            ) || c.is_ascii_alphanumeric()
                || c == b'-';
            if must_write {
                self.write(value, &mut i);
            } else {
                let w = width(c).max(1);
                for _ in 0..w {
                    let octet = at(value, i);
                    i += 1;
                    self.put(b'%');
                    let hex = b"0123456789ABCDEF";
                    self.put(hex[(octet >> 4) as usize]);
                    self.put(hex[(octet & 0x0f) as usize]);
                }
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn process_scalar(&mut self) {
        let value = std::mem::take(&mut self.scalar.value);
        let allow_breaks = !self.simple_key_context;
        match self.scalar.style.unwrap_or(ScalarStyle::Plain) {
            ScalarStyle::Plain | ScalarStyle::Any => self.write_plain_scalar(&value, allow_breaks),
            ScalarStyle::Single => self.write_single_quoted_scalar(&value, allow_breaks),
            ScalarStyle::Double => self.write_double_quoted_scalar(&value, allow_breaks),
            ScalarStyle::Literal => self.write_literal_scalar(&value),
            ScalarStyle::Folded => self.write_folded_scalar(&value),
        }
        self.scalar.value = value;
    }

    fn process_head_comment(&mut self) {
        if !self.tail_comment.is_empty() {
            self.write_indent();
            let c = std::mem::take(&mut self.tail_comment);
            self.write_comment(&c);
            self.foot_indent = self.indent.max(0);
        }
        if self.head_comment.is_empty() {
            return;
        }
        self.write_indent();
        let c = std::mem::take(&mut self.head_comment);
        self.write_comment(&c);
    }

    fn process_line_comment(&mut self, linebreak: bool) {
        if self.line_comment.is_empty() {
            if linebreak {
                self.put_break();
            }
            return;
        }
        if !self.whitespace {
            self.put(b' ');
        }
        let c = std::mem::take(&mut self.line_comment);
        self.held = None;
        self.write_comment(&c);
    }

    fn process_foot_comment(&mut self) {
        if self.foot_comment.is_empty() {
            return;
        }
        self.write_indent();
        let c = std::mem::take(&mut self.foot_comment);
        self.write_comment(&c);
        self.foot_indent = self.indent.max(0);
    }

    /// go-yaml's `yaml_emitter_analyze_scalar` (emitterc.go), line for line:
    /// kept whole so that it can be compared with it.
    fn analyze_scalar(&mut self, value: &[u8]) {
        self.scalar.value = value.to_vec();
        let s = &mut self.scalar;
        if value.is_empty() {
            s.multiline = false;
            s.flow_plain_allowed = false;
            s.block_plain_allowed = true;
            s.single_quoted_allowed = true;
            s.block_allowed = false;
            return;
        }
        let (mut block_indicators, mut flow_indicators, mut line_breaks, mut special_characters) =
            (false, false, false, false);
        let mut tab_characters = false;
        let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
            (false, false, false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        if value.len() >= 3 && (value.starts_with(b"---") || value.starts_with(b"...")) {
            block_indicators = true;
            flow_indicators = true;
        }
        let mut preceded_by_whitespace = true;
        let mut i = 0;
        while i < value.len() {
            let w = width(value[i]).max(1);
            let followed_by_whitespace = i + w >= value.len() || is_blank(value, i + w);
            if i == 0 {
                match value[i] {
                    b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                    | b'\'' | b'"' | b'%' | b'@' | b'`' => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    b'?' | b':' => {
                        flow_indicators = true;
                        if followed_by_whitespace {
                            block_indicators = true;
                        }
                    }
                    b'-' => {
                        if followed_by_whitespace {
                            flow_indicators = true;
                            block_indicators = true;
                        }
                    }
                    _ => {}
                }
            } else {
                match value[i] {
                    b',' | b'?' | b'[' | b']' | b'{' | b'}' => flow_indicators = true,
                    b':' => {
                        flow_indicators = true;
                        if followed_by_whitespace {
                            block_indicators = true;
                        }
                    }
                    b'#' => {
                        if preceded_by_whitespace {
                            flow_indicators = true;
                            block_indicators = true;
                        }
                    }
                    _ => {}
                }
            }
            if value[i] == b'\t' {
                tab_characters = true;
            } else if !is_printable(value, i) {
                special_characters = true;
            }
            if is_space(value, i) {
                if i == 0 {
                    leading_space = true;
                }
                if i + w == value.len() {
                    trailing_space = true;
                }
                if previous_break {
                    break_space = true;
                }
                previous_space = true;
                previous_break = false;
            } else if is_break(value, i) {
                line_breaks = true;
                if i == 0 {
                    leading_break = true;
                }
                if i + w == value.len() {
                    trailing_break = true;
                }
                if previous_space {
                    space_break = true;
                }
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = is_blankz(value, i);
            i += w;
        }
        s.multiline = line_breaks;
        s.flow_plain_allowed = true;
        s.block_plain_allowed = true;
        s.single_quoted_allowed = true;
        s.block_allowed = true;
        if leading_space || leading_break || trailing_space || trailing_break {
            s.flow_plain_allowed = false;
            s.block_plain_allowed = false;
        }
        if trailing_space {
            s.block_allowed = false;
        }
        if break_space {
            s.flow_plain_allowed = false;
            s.block_plain_allowed = false;
            s.single_quoted_allowed = false;
        }
        if space_break || tab_characters || special_characters {
            s.flow_plain_allowed = false;
            s.block_plain_allowed = false;
            s.single_quoted_allowed = false;
        }
        if space_break || special_characters {
            s.block_allowed = false;
        }
        if line_breaks {
            s.flow_plain_allowed = false;
            s.block_plain_allowed = false;
        }
        if flow_indicators {
            s.flow_plain_allowed = false;
        }
        if block_indicators {
            s.block_plain_allowed = false;
        }
    }

    fn analyze_event(&mut self, ev: &Event) {
        self.anchor = None;
        self.tag_handle.clear();
        self.tag_suffix.clear();
        self.scalar.value.clear();
        if !ev.head_comment.is_empty() {
            self.head_comment = ev.head_comment.clone();
        }
        if !ev.line_comment.is_empty() {
            // A held comment overwritten by the same words is not lost: a
            // function that printed its input back gave the slot the comment
            // it had read there (fuzz seed 1 case 84).
            if !self.line_comment.is_empty() && self.line_comment != ev.line_comment {
                self.dropped.extend(self.held);
            }
            self.line_comment = ev.line_comment.clone();
            self.held = matches!(ev.typ, EventType::MappingEnd | EventType::SequenceEnd)
                .then_some(self.events_head);
        }
        if !ev.foot_comment.is_empty() {
            self.foot_comment = ev.foot_comment.clone();
        }
        if !ev.tail_comment.is_empty() {
            self.tail_comment = ev.tail_comment.clone();
        }
        match ev.typ {
            EventType::Scalar | EventType::SequenceStart | EventType::MappingStart => {
                if !ev.anchor.is_empty() {
                    self.anchor = Some((ev.anchor.clone(), false));
                }
                let explicit = if ev.typ == EventType::Scalar {
                    !ev.implicit && !ev.quoted_implicit
                } else {
                    !ev.implicit
                };
                if !ev.tag.is_empty() && explicit {
                    self.analyze_tag(&ev.tag);
                }
                if ev.typ == EventType::Scalar {
                    self.analyze_scalar(&ev.value);
                }
            }
            _ => {}
        }
    }

    /// Default tag directives: `!` -> `!`, `!!` -> `tag:yaml.org,2002:`.
    fn analyze_tag(&mut self, tag: &[u8]) {
        for (handle, prefix) in [
            (&b"!"[..], &b"!"[..]),
            (&b"!!"[..], &b"tag:yaml.org,2002:"[..]),
        ] {
            if tag.starts_with(prefix) {
                self.tag_handle = handle.to_vec();
                self.tag_suffix = tag[prefix.len()..].to_vec();
                return;
            }
        }
        self.tag_suffix = tag.to_vec();
    }

    fn write_indent(&mut self) {
        self.after_keep_scalar = false;
        let indent = self.indent.max(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        if self.foot_indent == indent {
            self.put_break();
        }
        while self.column < indent {
            self.put(b' ');
        }
        self.whitespace = true;
        self.space_above = false;
        self.foot_indent = -1;
    }

    fn write_indicator(
        &mut self,
        indicator: &[u8],
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(b' ');
        }
        self.write_all(indicator);
        self.after_keep_scalar = false;
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn write_plain_scalar(&mut self, value: &[u8], allow_breaks: bool) {
        if !value.is_empty() && !self.whitespace {
            self.put(b' ');
        }
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < value.len() {
            if is_space(value, i) {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && !is_space(value, i + 1)
                {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else if is_break(value, i) {
                if !breaks && value[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        if !value.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
        if self.root_context {
            self.open_ended = true;
        }
    }

    fn write_single_quoted_scalar(&mut self, value: &[u8], allow_breaks: bool) {
        self.write_indicator(b"'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < value.len() {
            if is_space(value, i) {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && i > 0
                    && i < value.len() - 1
                    && !is_space(value, i + 1)
                {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else if is_break(value, i) {
                if !breaks && value[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if value[i] == b'\'' {
                    self.put(b'\'');
                }
                self.write(value, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator(b"'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted_scalar(&mut self, value: &[u8], allow_breaks: bool) {
        let mut spaces = false;
        self.write_indicator(b"\"", true, false, false);
        let mut i = 0;
        while i < value.len() {
            if !is_printable(value, i)
                || is_bom(value, i)
                || is_break(value, i)
                || value[i] == b'"'
                || value[i] == b'\\'
            {
                let octet = value[i];
                let (w, mut v): (usize, u32) = match octet {
                    o if o & 0x80 == 0 => (1, u32::from(o & 0x7F)),
                    o if o & 0xE0 == 0xC0 => (2, u32::from(o & 0x1F)),
                    o if o & 0xF0 == 0xE0 => (3, u32::from(o & 0x0F)),
                    o => (4, u32::from(o & 0x07)),
                };
                for k in 1..w {
                    v = (v << 6) + (u32::from(at(value, i + k)) & 0x3F);
                }
                i += w;
                self.put(b'\\');
                let simple = match v {
                    0x00 => Some(b'0'),
                    0x07 => Some(b'a'),
                    0x08 => Some(b'b'),
                    0x09 => Some(b't'),
                    0x0A => Some(b'n'),
                    0x0b => Some(b'v'),
                    0x0c => Some(b'f'),
                    0x0d => Some(b'r'),
                    0x1b => Some(b'e'),
                    0x22 => Some(b'"'),
                    0x5c => Some(b'\\'),
                    0x85 => Some(b'N'),
                    0xA0 => Some(b'_'),
                    0x2028 => Some(b'L'),
                    0x2029 => Some(b'P'),
                    _ => None,
                };
                match simple {
                    Some(c) => self.put(c),
                    None => {
                        let (c, digits) = if v <= 0xFF {
                            (b'x', 2)
                        } else if v <= 0xFFFF {
                            (b'u', 4)
                        } else {
                            (b'U', 8)
                        };
                        self.put(c);
                        let hex = b"0123456789ABCDEF";
                        for k in (0..digits).rev() {
                            self.put(hex[((v >> (k * 4)) & 0x0F) as usize]);
                        }
                    }
                }
                spaces = false;
            } else if is_space(value, i) {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && i > 0
                    && i < value.len() - 1
                {
                    self.write_indent();
                    if is_space(value, i + 1) {
                        self.put(b'\\');
                    }
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else {
                self.write(value, &mut i);
                spaces = false;
            }
        }
        self.write_indicator(b"\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_scalar_hints(&mut self, value: &[u8]) {
        if is_space(value, 0) || is_break(value, 0) {
            let hint = [b'0' + self.best_indent as u8];
            self.write_indicator(&hint, false, false, false);
        }
        self.open_ended = false;
        let mut chomp: Option<u8> = None;
        if value.is_empty() {
            chomp = Some(b'-');
        } else {
            let mut i = value.len() - 1;
            while i > 0 && value[i] & 0xC0 == 0x80 {
                i -= 1;
            }
            if !is_break(value, i) {
                chomp = Some(b'-');
            } else if i == 0 {
                chomp = Some(b'+');
                self.open_ended = true;
            } else {
                i -= 1;
                while i > 0 && value[i] & 0xC0 == 0x80 {
                    i -= 1;
                }
                if is_break(value, i) {
                    chomp = Some(b'+');
                    self.open_ended = true;
                }
            }
        }
        self.keep_chomp = chomp == Some(b'+');
        if let Some(c) = chomp {
            self.write_indicator(&[c], false, false, false);
        }
    }

    fn write_literal_scalar(&mut self, value: &[u8]) {
        self.write_indicator(b"|", true, false, false);
        self.write_block_scalar_hints(value);
        self.process_line_comment(true);
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < value.len() {
            if is_break(value, i) {
                self.write_break(value, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
        self.after_keep_scalar = self.keep_chomp;
    }

    fn write_folded_scalar(&mut self, value: &[u8]) {
        self.write_indicator(b">", true, false, false);
        self.write_block_scalar_hints(value);
        self.process_line_comment(true);
        self.whitespace = true;
        let mut breaks = true;
        let mut leading_spaces = true;
        let mut i = 0;
        while i < value.len() {
            if is_break(value, i) {
                if !breaks && !leading_spaces && value[i] == b'\n' {
                    // Upstream starts k at 0, not i (kept: it decides where blank lines go).
                    let mut k = 0;
                    while is_break(value, k) {
                        k += width(value[k]).max(1);
                    }
                    let mut next_line = i;
                    while is_break(value, next_line) {
                        next_line += width(value[next_line]).max(1);
                    }
                    let kept = match self.writing {
                        Writing::AsGoYaml => false,
                        Writing::KeepingValues => is_blank(value, next_line),
                        Writing::KeepingNodes => {
                            is_blank(value, next_line) || next_line >= value.len()
                        }
                    };
                    if !is_blankz(value, k) && !kept {
                        self.put_break();
                    }
                }
                self.write_break(value, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                    leading_spaces = is_blank(value, i);
                }
                if !breaks
                    && is_space(value, i)
                    && !is_space(value, i + 1)
                    && self.column > self.best_width
                {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                self.indention = false;
                breaks = false;
            }
        }
        self.after_keep_scalar = self.keep_chomp;
    }

    fn write_comment(&mut self, comment: &[u8]) {
        let mut breaks = false;
        let mut pound = false;
        let mut i = 0;
        while i < comment.len() {
            if is_break(comment, i) {
                self.write_break(comment, &mut i);
                breaks = true;
                pound = false;
            } else {
                if breaks {
                    self.write_indent();
                }
                if !pound {
                    if comment[i] != b'#' {
                        self.put(b'#');
                        self.put(b' ');
                    }
                    pound = true;
                }
                self.write(comment, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
        if !breaks {
            self.put_break();
        }
        self.whitespace = true;
    }
}
