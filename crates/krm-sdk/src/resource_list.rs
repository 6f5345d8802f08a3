//! The `ResourceList` a function reads from stdin and writes to stdout.

use crate::object::ObjectExt;
use crate::result::ResultItem;
use crate::yaml::{self, Limits, YamlError};
use serde_json::{Map, Value};
use std::fmt;
use std::ops::{Deref, DerefMut, Range};
use std::sync::{Arc, OnceLock};

/// The kind and apiVersions of the KRM Functions Specification.
pub const KIND: &str = "ResourceList";
pub const API_VERSION: &str = "config.kubernetes.io/v1";
const LEGACY_API_VERSION: &str = "config.kubernetes.io/v1alpha1";

/// How the input arrived, so the output takes the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A `ResourceList` in YAML, as kpt and kustomize send it.
    Yaml,
    /// A `ResourceList` in JSON.
    Json,
    /// A plain multi-document YAML stream of objects (standalone use).
    Stream,
}

/// One object of the list. While it is not changed it remembers the text it was
/// read from, and is written back as that very text: styles, quoting and comments
/// of objects the function does not touch survive byte for byte. [`Item::set`]
/// keeps the text of what did not change; any mutable access forgets the text.
#[derive(Debug, Clone)]
pub struct Item {
    value: Value,
    source: Option<(Arc<str>, Range<usize>)>,
    /// What `source` says when the value has changed since it was read or last
    /// edited (kpt's annotations left out when `text_without_kpt`). The text is
    /// edited to the value the first time it is asked for, not at every change:
    /// a pipeline whose steps each change an object (namespace, labels, setters)
    /// pays one edit of its text, not one per step.
    said: Option<Box<Value>>,
    /// The edited text, made from `source` and `said` on first use; `None` inside
    /// when the edit could not keep the text (the object is then written afresh).
    edited: OnceLock<Option<Arc<str>>>,
    /// The text leaves out the annotations kpt adds while it renders
    /// ([`crate::object::is_kpt_annotation`]): it is the object without them.
    /// A renderer that reads files sets a handful of them on every object and
    /// changes them as paths are rebased; none of that is worth an edit of the
    /// text, and no file is written with them.
    text_without_kpt: bool,
    /// What kpt's ResourceList output (`kpt fn render -o stdout`) shows of the
    /// steps the object went through; kept by every change and copy.
    passage: Passage,
    /// The document began with an explicit `---`: go-yaml then gives the
    /// comments before the first key to that key, not to the document.
    explicit_start: bool,
    /// Comment lines a ResourceList held at column 0 right above the item's
    /// `- ` (with their line breaks), written there again: go-yaml reads them
    /// as the head of the entry below and writes a sequence entry's head there.
    /// kpt writes the head of a document a mutator held so; a function that
    /// reorders or deletes the items takes it with its object, not with the
    /// one above (fuzz case inproc-catalog-gives-head-before-dash-to-previous-item).
    head_above_dash: Option<Arc<str>>,
    /// Read from a ResourceList where the item's `-` stood alone on its line
    /// with comment lines at column 0 below it (see `ItemSource::below_dash`):
    /// go-yaml reads those comments up to the first blank line as the foot of
    /// the item's first key, which its text, starting with them, cannot say.
    below_lone_dash: bool,
    /// Line comments of block collections that the text shows on a later node
    /// (see [`HeldComment`]); kept by every change and copy, checked against
    /// the text where they are used.
    held_comments: Arc<[HeldComment]>,
}

/// A block collection's line comment that go-yaml's emitter held for the next
/// line comment slot and wrote on a later node (`- {a: 1}  # c` that a function
/// printed back in block style: `mode: 493 # c` two keys on). kpt's node still
/// has it on the collection, so a step that gives that later node a comment of
/// its own does not take it (fuzz seed i142 case 170); the text alone would
/// say it is that node's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldComment {
    /// The collection the comment is on.
    pub owner: Vec<NodeStep>,
    /// The node the text shows it on.
    pub slot: Vec<NodeStep>,
    /// The comment, `#` included.
    pub comment: String,
}

/// One step of a path from an object's root to one of its nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeStep {
    /// The value of a mapping's key.
    Value(String),
    /// A mapping's key node itself.
    Key(String),
    /// A sequence's entry.
    Entry(usize),
}

/// The steps an object went through, as far as kpt's printing of it tells them
/// apart (see `kyaml_format::ListItem`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Passage {
    /// A mutator's output held it (its document's head comment is now the object's).
    pub mutated: bool,
    /// A step round-tripped it through JSON: its styles are go-yaml's defaults.
    pub restyled: bool,
    /// The last mutator held it in process, so its text does not show what
    /// kpt's function runner did to the function's printing of it: kyaml's
    /// comment copier writes a folded scalar (`>`) double-quoted (kpt#766),
    /// which an exec step's restored text shows at once (fuzz seed i110 case
    /// 36: set-image, then an exec step's input).
    pub held: bool,
    /// The comment lines right above its first key are the head of the
    /// object's node, not of that key: a function printed them above the
    /// item's `- `, where go-yaml reads them so and kpt prints them again.
    pub head_on_object: bool,
    /// The function runner set these annotations on the object after the
    /// last step (a path for an object added without one): kyaml's
    /// `SetAnnotation` single-quotes what it sets, whatever the step's styles.
    pub set_by_runner: RunnerAnnotations,
}

/// How a mutator gave an object back ([`Item::record_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GivenBack {
    /// Printed as text (an exec or container step), which the runner restored
    /// the comments and field order of.
    Printed,
    /// Held in process, the object's text kept.
    Held,
    /// Held in process and round-tripped through JSON.
    Restyled,
}

/// Which of kpt's annotations the function runner set on an object after a
/// step ([`Passage::set_by_runner`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunnerAnnotations {
    /// `internal.config.kubernetes.io/package-path` (kpt's
    /// `setPkgPathAnnotationIfNotExist`).
    pub package_path: bool,
    /// Both spellings of the path (kyaml's `DefaultPathAnnotation`).
    pub path: bool,
}

impl Item {
    /// The steps the object went through (see [`Passage`]).
    pub fn passage(&self) -> Passage {
        self.passage
    }

    /// Whether the document it was read from began with an explicit `---`
    /// (which its text leaves out).
    pub fn explicit_start(&self) -> bool {
        self.explicit_start
    }

    /// Records that a mutator's output held the object, and how the step gave
    /// it back; the text and value are unchanged.
    pub fn record_step(&mut self, given: GivenBack) {
        self.passage.mutated = true;
        // A text the step kept holds the restyled node's styles itself
        // (`kpt_catalog`'s `restyle_text`), which later steps edit.
        self.passage.restyled |= given == GivenBack::Restyled && self.source_text().is_none();
        self.passage.held = given != GivenBack::Printed;
    }

    /// Records the annotations the function runner set after a step (see
    /// [`Passage::set_by_runner`]).
    pub fn set_by_runner(&mut self, set: RunnerAnnotations) {
        self.passage.set_by_runner = set;
    }

    /// Records whether the comment lines above the first key are the head of
    /// the object's node (see [`Passage::head_on_object`]).
    pub fn set_head_on_object(&mut self, on_object: bool) {
        self.passage.head_on_object = on_object;
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Takes `text` (a document at column 0) as the object's text, when it reads
    /// back as exactly the object; the value and the steps it went through stay.
    pub fn replace_text(&mut self, text: &str, limits: &Limits) -> bool {
        let Some(read) = Item::from_document(text, &self.value, limits) else {
            return false;
        };
        let passage = self.passage;
        let explicit_start = self.explicit_start || read.explicit_start;
        let head_above_dash = self.head_above_dash.take();
        let held_comments = self.held_comments.clone();
        *self = read;
        self.passage = passage;
        self.explicit_start = explicit_start;
        self.head_above_dash = head_above_dash;
        self.held_comments = held_comments;
        true
    }

    /// Rewrites the object's text with `rewrite`, which gets it as a document at
    /// column 0 and the value it says (without kpt's annotations where the text
    /// leaves them out, which the new text leaves out too). The new text is taken
    /// when it says the same; the value and the steps it went through stay.
    pub fn rewrite_text(
        &mut self,
        rewrite: impl FnOnce(&str, &Value) -> Option<String>,
        limits: &Limits,
    ) -> bool {
        let Some(text) = self.source_text().map(crate::edit::unindent_item) else {
            return false;
        };
        if !self.text_without_kpt {
            return rewrite(&text, &self.value).is_some_and(|new| self.replace_text(&new, limits));
        }
        let said = crate::object::without_kpt_annotations(&self.value);
        let Some(read) =
            rewrite(&text, &said).and_then(|new| Item::from_document(&new, &said, limits))
        else {
            return false;
        };
        self.source = read.source;
        self.said = None;
        self.edited = OnceLock::new();
        self.explicit_start |= read.explicit_start;
        true
    }

    /// Says that the text stands for a document that began with an explicit
    /// `---` (an object printed back by a function in place of the one read).
    pub fn set_explicit_start(&mut self, explicit_start: bool) {
        self.explicit_start = explicit_start;
    }

    /// Line comments the text shows on a later node than the collection they
    /// are on (see [`HeldComment`]).
    pub fn held_comments(&self) -> &[HeldComment] {
        &self.held_comments
    }

    /// Says which line comments of the text are held ones (see [`HeldComment`]).
    pub fn set_held_comments(&mut self, held: Vec<HeldComment>) {
        self.held_comments = Arc::from(held);
    }

    /// The comment lines written above the item's `- ` in a ResourceList (see
    /// the field), each with its line break.
    pub fn head_above_dash(&self) -> Option<&str> {
        self.head_above_dash.as_deref()
    }

    /// Whether the item was read below a `-` alone on its line, comment lines
    /// at column 0 between (see the field).
    pub fn read_below_a_lone_dash(&self) -> bool {
        self.below_lone_dash
    }

    pub fn into_value(self) -> Value {
        self.value
    }

    /// An item read from one YAML document as it sits in a file (keys at column 0),
    /// keeping its text, so that functions which read comments (setters) or keep
    /// styles work in process as they do under kpt. `document` is the value the
    /// caller read for it; `None` when the text, made an item of a ResourceList
    /// (indented by two), does not read back as exactly that one document.
    pub fn from_document(text: &str, document: &Value, limits: &Limits) -> Option<Item> {
        let body = text.trim_end_matches(['\n', '\r']);
        Self::from_document_body(body, document, limits)
            .or_else(|| {
                // A keep block scalar (`|+`) ending the document keeps its empty
                // lines: only the final line break is the file's.
                let body = text.strip_suffix('\n')?;
                (body.len() > text.trim_end_matches(['\n', '\r']).len())
                    .then(|| Self::from_document_body(body, document, limits))?
            })
            .or_else(|| {
                // A block scalar ending a file without a line break has no final
                // `\n`; as an item, followed by a line break, it would gain one.
                // go-yaml writes such a value with the strip indicator (`|-`); so
                // does kpt.
                let stripped = crate::edit::strip_last_block_scalar(body)?;
                Self::from_document_body(&stripped, document, limits)
            })
    }

    fn from_document_body(body: &str, document: &Value, limits: &Limits) -> Option<Item> {
        let explicit_start = body.starts_with("---\n");
        let body = body.strip_prefix("---\n").unwrap_or(body);
        let mut indented = String::with_capacity(body.len() + body.len() / 8 + 3);
        indented.push_str("  ");
        for (i, line) in body.split('\n').enumerate() {
            if i > 0 {
                indented.push('\n');
                if !line.is_empty() {
                    indented.push_str("  ");
                }
            }
            indented.push_str(line);
        }
        // An item's text leaves out its final line break, but wherever it is written
        // (a ResourceList, a file) one follows it: read it with that line break, or
        // a clip block scalar (`|`) ending the document would read without its `\n`
        // (YAML 1.2 8.1.1.2 keeps a final line break only where there is one) and the
        // text would not say what the document says.
        let len = indented.len();
        indented.push('\n');
        // One parse: the indented text must say what the document says.
        let mut read = yaml::parse_documents(&indented, limits).ok()?;
        if read.len() != 1 || &read[0] != document {
            return None;
        }
        Some(Item {
            // A file that already carries kpt's annotations keeps them in its text.
            text_without_kpt: !crate::object::has_kpt_annotations(document),
            value: read.pop()?,
            source: Some((Arc::from(indented), 2..len)),
            said: None,
            edited: OnceLock::new(),
            passage: Passage::default(),
            explicit_start,
            head_above_dash: None,
            below_lone_dash: false,
            held_comments: Arc::from([]),
        })
    }

    /// Replaces the object. Unlike a mutable borrow, this keeps the text of every
    /// part that did not change (styles, quoting, comments), editing only what did
    /// (see [`crate::edit`]) when the text is next read; an equal value changes
    /// nothing at all.
    pub fn set(&mut self, value: Value) {
        if value == self.value {
            return;
        }
        let old = std::mem::replace(&mut self.value, value);
        if self.source.is_some() && self.said.is_none() {
            self.said = Some(Box::new(if self.text_without_kpt {
                crate::object::without_kpt_annotations_owned(old)
            } else {
                old
            }));
        }
        self.edited = OnceLock::new();
    }

    /// Changes the object with `change` and keeps it as [`Item::set`] does.
    pub fn update(&mut self, change: impl FnOnce(&mut Value)) {
        // `set` needs the object as it was only to remember what the text says
        // before its first change. An item without text, or whose text waits
        // for an edit from what it said already, is changed in place: a
        // generated object goes through every later step and the rebasing of
        // paths, which would copy and compare it each time.
        if self.source.is_none() || self.said.is_some() {
            change(&mut self.value);
            self.edited = OnceLock::new();
            return;
        }
        let mut value = self.value.clone();
        change(&mut value);
        self.set(value);
    }

    /// Puts line comments after the nodes named by JSON pointers (see
    /// [`crate::edit::set_line_comments`]); the value does not change. `false`, and
    /// nothing changed, when the item has no source text or a node is not found.
    /// A comment on one of kpt's annotations that the text leaves out is dropped:
    /// kpt clears those annotations (`ClearAnnotation` takes the pair, comments and
    /// all) before it writes a file, so no file would hold it. create-setters gives
    /// one to the package path whenever a setter's value is in the package's
    /// absolute path (fuzz seed i1 case 47, under a temporary folder with a `3`).
    pub fn set_line_comments(&mut self, comments: &[(String, String)]) -> bool {
        let kept: Vec<(String, String)>;
        let comments = if self.text_without_kpt {
            kept = comments
                .iter()
                .filter(|(pointer, _)| !on_kpt_annotation(pointer))
                .cloned()
                .collect();
            if kept.is_empty() && self.source.is_some() {
                return true;
            }
            &kept[..]
        } else {
            comments
        };
        let Some(text) = self
            .source_text()
            .and_then(|text| crate::edit::set_line_comments(text, comments))
        else {
            return false;
        };
        let len = text.len();
        self.source = Some((Arc::from(text), 0..len));
        self.said = None;
        self.edited = OnceLock::new();
        true
    }

    /// Takes away the line comments a text holding kpt's own annotations (path,
    /// index, package path, ids) has on them: kpt's node keeps such a comment
    /// between steps, but kpt clears or sets those annotations afresh
    /// (`ClearAnnotation`, `SetAnnotation` replace the node, comment and all)
    /// before it writes a file or prints the list, so no output holds it; a
    /// renderer that does not keep it is spared kpt's later apply-setters
    /// rewriting its path by it (fuzz seed i133 cases 146 and 391, where a
    /// setter's value was in a file name).
    pub fn drop_kpt_annotation_comments(&mut self) {
        if self.text_without_kpt {
            return;
        }
        // Only create-setters puts such comments: a text without one is spared
        // the reading, and one without a comment on kpt's annotations the edit.
        let Some(text) = self.source_text().filter(|t| t.contains("kpt-set")) else {
            return;
        };
        let pointers: Vec<(String, String)> = crate::edit::comments_and_quoted(text)
            .0
            .into_iter()
            .filter(|(pointer, _)| on_kpt_annotation(pointer))
            .map(|(pointer, _)| (pointer, String::new()))
            .collect();
        if pointers.is_empty() {
            return;
        }
        self.set_line_comments(&pointers);
    }

    /// The text of the object as read, or as edited since (comments, styles), if
    /// it has one. It may leave out kpt's own annotations (see
    /// [`Item::complete_text`]): use it for comments and styles.
    pub fn source_text(&self) -> Option<&str> {
        let (text, range) = self.source.as_ref()?;
        let text = &text[range.clone()];
        let Some(said) = &self.said else {
            return Some(text);
        };
        self.edited
            .get_or_init(|| {
                let now = if self.text_without_kpt {
                    std::borrow::Cow::Owned(crate::object::without_kpt_annotations(&self.value))
                } else {
                    std::borrow::Cow::Borrowed(&self.value)
                };
                if **said == *now {
                    return Some(Arc::from(text));
                }
                crate::edit::update_item_text(text, said, &now).map(Arc::from)
            })
            .as_deref()
    }

    /// The text of the whole object, kpt's annotations included (what a
    /// ResourceList carries), if it has one.
    pub fn complete_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        let text = self.source_text()?;
        if !self.text_without_kpt || !crate::object::has_kpt_annotations(&self.value) {
            return Some(std::borrow::Cow::Borrowed(text));
        }
        let without = crate::object::without_kpt_annotations(&self.value);
        crate::edit::update_item_text(text, &without, &self.value).map(std::borrow::Cow::Owned)
    }
}

/// Whether a JSON pointer names one of kpt's annotations (or a node inside one).
fn on_kpt_annotation(pointer: &str) -> bool {
    pointer
        .strip_prefix("/metadata/annotations/")
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .is_some_and(|key| {
            crate::object::is_kpt_annotation(&key.replace("~1", "/").replace("~0", "~"))
        })
}

impl From<Value> for Item {
    fn from(value: Value) -> Self {
        Item {
            value,
            source: None,
            said: None,
            edited: OnceLock::new(),
            text_without_kpt: false,
            passage: Passage::default(),
            explicit_start: false,
            head_above_dash: None,
            below_lone_dash: false,
            held_comments: Arc::from([]),
        }
    }
}

impl Deref for Item {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.value
    }
}

impl DerefMut for Item {
    fn deref_mut(&mut self) -> &mut Value {
        self.source = None;
        self.said = None;
        self.edited = OnceLock::new();
        &mut self.value
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl PartialEq<Value> for Item {
    fn eq(&self, other: &Value) -> bool {
        &self.value == other
    }
}

/// The function's input and output.
#[derive(Debug, Clone)]
pub struct ResourceList {
    pub api_version: String,
    /// The package's objects in input order; generated ones are appended.
    pub items: Vec<Item>,
    pub function_config: Option<Value>,
    pub results: Vec<ResultItem>,
    pub format: Format,
    /// The function failed without giving an error result, as one built on
    /// kpt-functions-sdk's `fn` package does when its `Run` returns false
    /// (catalog set-labels v0.2 and later without a functionConfig: only
    /// infos, exit code 1). [`ResourceList::failed`] is this or an error result.
    pub unsuccessful: bool,
}

/// Why the input could not be read as a `ResourceList`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub message: String,
    pub yaml: Option<YamlError>,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.yaml {
            Some(e) => write!(f, "{}: {e}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for InputError {}

fn input_error(message: impl Into<String>) -> InputError {
    InputError {
        message: message.into(),
        yaml: None,
    }
}

impl ResourceList {
    /// A list with these items and nothing else, as a function would receive it.
    pub fn new(items: Vec<Value>) -> Self {
        ResourceList {
            api_version: API_VERSION.to_string(),
            items: items.into_iter().map(Item::from).collect(),
            function_config: None,
            results: Vec::new(),
            format: Format::Yaml,
            unsuccessful: false,
        }
    }

    /// Reads a `ResourceList` (YAML or JSON) or a plain stream of YAML objects.
    pub fn parse(input: &str, limits: &Limits) -> Result<Self, InputError> {
        let trimmed = input.trim_start();
        // JSON first when it looks like JSON; a flow mapping that is not JSON
        // (`{kind: A}`) is YAML, and a JSON object other than a ResourceList is a
        // one-object stream (`kubectl get -o json`).
        let mut json_error = None;
        if trimmed.starts_with('{') {
            match yaml::parse_json(input, limits) {
                Ok(value) if value.kind() == KIND => return Self::from_value(value, Format::Json),
                Ok(_) => {}
                Err(e) => json_error = Some(e),
            }
        }
        let (mut documents, sources, text) =
            yaml::parse_with_item_sources(input, limits).map_err(|e| match json_error {
                // Neither JSON nor YAML: what looked like JSON gets JSON's error.
                Some(json) => InputError {
                    message: "input is not valid JSON".into(),
                    yaml: Some(json),
                },
                None => InputError {
                    message: "input is not valid YAML".into(),
                    yaml: Some(e),
                },
            })?;
        let is_list = documents.len() == 1
            && (documents[0].kind() == KIND
                || (documents[0].get("items").is_some() && documents[0].kind() != "List"));
        if is_list {
            let document = documents.pop().expect("one document checked above");
            let mut list = Self::from_value(document, Format::Yaml)?;
            if sources.len() == list.items.len() {
                let text: Arc<str> = Arc::from(text.as_ref());
                for (item, source) in list.items.iter_mut().zip(sources) {
                    item.head_above_dash = source.head.map(|r| Arc::from(&text[r]));
                    item.below_lone_dash = source.below_dash.is_some();
                    item.source = source.text.map(|r| match &source.below_dash {
                        // The lines below the `-` head the first key: the
                        // item's text as go-yaml writes such a head, after
                        // `- ` and then at column 2.
                        Some(below) => {
                            let mut own = String::with_capacity(below.len() + r.len() + 8);
                            for (i, line) in text[below.clone()].lines().enumerate() {
                                if i > 0 {
                                    own.push_str("  ");
                                }
                                own.push_str(line);
                                own.push('\n');
                            }
                            own.push_str("  ");
                            own.push_str(&text[r]);
                            let len = own.len();
                            (Arc::from(own), 0..len)
                        }
                        None => (Arc::clone(&text), r),
                    });
                }
            }
            return Ok(list);
        }
        // A `List` (`kubectl get -o yaml/json`) stands for its items.
        let documents: Vec<Value> = documents
            .into_iter()
            .flat_map(|document| match document {
                Value::Object(mut map)
                    if map.get("kind").and_then(Value::as_str) == Some("List")
                        && map.get("items").is_some_and(Value::is_array) =>
                {
                    match map.shift_remove("items") {
                        Some(Value::Array(items)) => items,
                        _ => Vec::new(),
                    }
                }
                other => vec![other],
            })
            .collect();
        for (i, document) in documents.iter().enumerate() {
            if !document.is_object() {
                return Err(input_error(format!(
                    "document {} of the input is not a mapping; expected a ResourceList or KRM objects",
                    i + 1
                )));
            }
        }
        Ok(ResourceList {
            format: Format::Stream,
            ..Self::new(documents)
        })
    }

    fn from_value(value: Value, format: Format) -> Result<Self, InputError> {
        let Value::Object(mut map) = value else {
            return Err(input_error(
                "input is not a mapping; expected a ResourceList",
            ));
        };
        let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != KIND {
            return Err(input_error(format!(
                "expected kind `{KIND}`, found `{kind}`"
            )));
        }
        let api_version = map
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if api_version != API_VERSION && api_version != LEGACY_API_VERSION {
            return Err(input_error(format!(
                "expected apiVersion `{API_VERSION}` for a ResourceList, found `{api_version}`"
            )));
        }
        let items = match map.remove("items") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(input_error(format!(
                    "`items` must be a list of objects, found {}",
                    type_name(&other)
                )))
            }
        };
        if let Some(i) = items.iter().position(|item| !item.is_object()) {
            return Err(input_error(format!(
                "`items[{i}]` must be an object, found {}",
                type_name(&items[i])
            )));
        }
        let function_config = map.remove("functionConfig").filter(|fc| !fc.is_null());
        let results = match map.remove("results") {
            Some(v @ Value::Array(_)) => serde_json::from_value(v)
                .map_err(|e| input_error(format!("`results` is malformed: {e}")))?,
            _ => Vec::new(),
        };
        let items = items.into_iter().map(Item::from).collect();
        Ok(ResourceList {
            api_version,
            items,
            function_config,
            results,
            format,
            unsuccessful: false,
        })
    }

    /// Whether any result has severity `error`.
    pub fn has_errors(&self) -> bool {
        self.results.iter().any(ResultItem::is_error)
    }

    /// Whether the function failed (exit code 1): an error result, or
    /// [`ResourceList::unsuccessful`].
    pub fn failed(&self) -> bool {
        self.unsuccessful || self.has_errors()
    }

    /// Serialises the list in the format it was read in.
    pub fn write(&self) -> String {
        match self.format {
            Format::Json => {
                let out = JsonOut {
                    api_version: &self.api_version,
                    kind: KIND,
                    items: self.items.iter().map(Item::value).collect(),
                    function_config: self.function_config.as_ref(),
                    results: &self.results,
                };
                let mut text = serde_json::to_string(&out).expect("values always serialize");
                text.push('\n');
                text
            }
            Format::Yaml => self.write_yaml(),
            Format::Stream => {
                let mut out = String::new();
                for (i, item) in self.items.iter().enumerate() {
                    if i > 0 {
                        out.push_str("---\n");
                    }
                    yaml::write_document(&mut out, &item.value);
                }
                out
            }
        }
    }

    /// The list as YAML, each item as `print` gives it when it gives one:
    /// where a function runner prints an object otherwise than its text holds it.
    pub fn write_yaml_with(&self, print: impl Fn(&Item) -> Option<ItemText>) -> String {
        self.write_yaml_items(print)
    }

    /// Writes YAML without cloning the items into one value first.
    fn write_yaml(&self) -> String {
        self.write_yaml_items(|_| None)
    }

    fn write_yaml_items(&self, print: impl Fn(&Item) -> Option<ItemText>) -> String {
        let mut out = String::with_capacity(self.items.len() * 512 + 128);
        let mut head = Map::new();
        head.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        head.insert("kind".into(), Value::String(KIND.into()));
        yaml::write_document(&mut out, &Value::Object(head));
        // The foot of the previous item's mapping, not written yet.
        let mut held = String::new();
        if self.items.is_empty() {
            out.push_str("items: []\n");
        } else {
            out.push_str("items:\n");
            for item in &self.items {
                if let Some(printed) = print(item) {
                    write_item(&mut out, &mut held, printed);
                    continue;
                }
                write_held_foot(&mut out, &mut held);
                if let Some(head) = &item.head_above_dash {
                    out.push_str(head);
                }
                match item.complete_text() {
                    Some(text) => {
                        out.push_str("- ");
                        out.push_str(&text);
                        out.push('\n');
                    }
                    None => yaml::write_seq_items(&mut out, std::slice::from_ref(&item.value)),
                }
            }
        }
        let mut tail = Map::new();
        if let Some(fc) = &self.function_config {
            tail.insert("functionConfig".into(), fc.clone());
        }
        if !self.results.is_empty() {
            tail.insert(
                "results".into(),
                serde_json::to_value(&self.results).expect("results always serialize"),
            );
        }
        if tail.is_empty() {
            write_held_foot(&mut out, &mut held);
            return out;
        }
        let mut text = String::new();
        yaml::write_document(&mut text, &Value::Object(tail));
        // go-yaml's emitter writes the last item's held foot after the next
        // event, the list's next key (`functionConfig:`), where go-yaml reads
        // it back as that key's comment, not as empty lines of a keep block
        // scalar (`|+`) ending the item (fuzz seed i141 case 1491: kpt's
        // input of a step with a `configMap`).
        match text.split_once('\n') {
            Some((key, rest)) if !held.is_empty() && key.ends_with(':') => {
                out.push_str(key);
                out.push('\n');
                out.push_str(&std::mem::take(&mut held));
                out.push('\n');
                out.push_str(rest);
            }
            _ => {
                write_held_foot(&mut out, &mut held);
                out.push_str(&text);
            }
        }
        out
    }
}

/// One item of a sequence of objects, its head above its `- `, below which
/// the foot `held` from the item above goes ([`ItemText::foot`]); its own
/// foot is held in turn.
pub fn write_item(out: &mut String, held: &mut String, item: ItemText) {
    out.push_str(&item.head_above_dash);
    if held.is_empty() {
        out.push_str("- ");
    } else {
        out.push_str("-\n");
        out.push_str(&std::mem::take(held));
        out.push_str("\n  ");
    }
    out.push_str(&item.text);
    out.push('\n');
    *held = item.foot;
}

/// A mapping's foot held past the end of its item ([`ItemText::foot`]) where
/// no item follows: after a blank line.
pub fn write_held_foot(out: &mut String, held: &mut String) {
    if !held.is_empty() {
        out.push('\n');
        out.push_str(&std::mem::take(held));
        out.push('\n');
    }
}

/// One item of a ResourceList as a function runner prints it
/// ([`ResourceList::write_yaml_with`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemText {
    /// Comment lines written above the `- `, each with its line break.
    pub head_above_dash: String,
    /// The text after the `- ` (the rest indented by two), without a final
    /// line break.
    pub text: String,
    /// Comment lines (at column 0, without a final line break) that close the
    /// object's mapping, its foot: go-yaml's emitter holds a mapping's foot
    /// until the next event, so it writes them below the next item's `-`, on a
    /// line of its own (`-`, the foot, then the item's first line indented by
    /// two), or after a blank line when no item follows. Empty when none.
    pub foot: String,
}

/// The JSON form of a list, borrowing everything.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonOut<'a> {
    api_version: &'a str,
    kind: &'a str,
    items: Vec<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_config: Option<&'a Value>,
    #[serde(skip_serializing_if = "<[ResultItem]>::is_empty")]
    results: &'a [ResultItem],
}

/// A short name of the value's YAML type, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ResourceList, InputError> {
        ResourceList::parse(s, &Limits::default())
    }

    /// The item of a file's only document, with its text.
    fn item_of(doc: &str) -> Item {
        let value = yaml::parse_documents(doc, &Limits::default())
            .unwrap()
            .remove(0);
        Item::from_document(doc, &value, &Limits::default()).unwrap()
    }

    /// The last item's held foot goes after the list's next key, as go-yaml's
    /// emitter writes it, so a keep block scalar (`|+`) ending the item reads
    /// back with its own empty lines only (fuzz seed i141 case 1491); with no
    /// key after the items, after a blank line.
    #[test]
    fn the_last_items_held_foot_goes_after_the_next_key() {
        let mut list = parse(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: A\n  data:\n    key0: |+\n      line one\n\nfunctionConfig:\n  kind: B\n",
        )
        .unwrap();
        let print = |item: &Item| {
            Some(ItemText {
                text: item.source_text()?.trim_end_matches('\n').to_string() + "\n",
                foot: "# foot".to_string(),
                ..ItemText::default()
            })
        };
        let text = list.write_yaml_with(print);
        assert!(
            text.ends_with("      line one\n\nfunctionConfig:\n# foot\n  kind: B\n"),
            "{text}"
        );
        let read = parse(&text).unwrap();
        assert_eq!(read.items[0].value(), list.items[0].value());
        list.function_config = None;
        let text = list.write_yaml_with(print);
        assert!(text.ends_with("      line one\n\n\n# foot\n"), "{text}");
    }

    /// A kept (`|+`) block scalar at the end of the last item keeps its blank
    /// lines in the item's text as in its value: what kpt's writer printed
    /// (fuzz seed 21 case 80), read back from a function that passed it on.
    #[test]
    fn the_last_items_kept_block_scalar_keeps_its_blank_lines() {
        for end in ["", "\n", "\n\n", "# foot\n", "\n# foot\n"] {
            let text = format!(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: A\n  data:\n    key0: |+\n      line one\n\n{end}"
            );
            let list = parse(&text).unwrap();
            let value = list.items[0].pointer("/data/key0").and_then(Value::as_str);
            let blank = end.trim_end_matches("# foot\n");
            let expected = format!("line one\n\n{blank}");
            assert_eq!(value, Some(expected.as_str()));
            let source = list.items[0].source_text().unwrap();
            let read = crate::yaml::parse_documents(&format!("- {source}\n"), &Limits::default());
            let read = read.unwrap().pop().unwrap();
            assert_eq!(
                read.pointer("/0/data/key0").and_then(Value::as_str),
                Some(expected.as_str()),
                "{source:?}"
            );
            // and a comment after it, which kpt keeps at the end of the object
            assert_eq!(
                source.ends_with("# foot"),
                end.ends_with("# foot\n"),
                "{source:?}"
            );
        }
    }

    #[test]
    fn reads_and_writes_a_resource_list() {
        let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  data:\n    country: \"no\"\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n";
        let list = parse(input).unwrap();
        assert_eq!(list.items.len(), 1);
        assert_eq!(list.write(), input);
    }

    #[test]
    fn writes_unchanged_items_as_they_were_written() {
        let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1 # why\n  kind: ConfigMap\n  data: {a: 'x', b: [1, 2]}\n- # about it\n  apiVersion: v1\n  kind: Secret\n  stringData:\n    é: 'yes'\n";
        let mut list = parse(input).unwrap();
        assert_eq!(list.write(), input);
        list.items[1]["kind"] = Value::String("ConfigMap".into());
        assert_eq!(
            list.write(),
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1 # why\n  kind: ConfigMap\n  data: {a: 'x', b: [1, 2]}\n- apiVersion: v1\n  kind: ConfigMap\n  stringData:\n    é: \"yes\"\n"
        );
    }

    #[test]
    fn keeps_block_scalars_that_end_the_items_verbatim() {
        for tail in ["  ", "\n\n", "\n  \n"] {
            let input = format!(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: A\n  data: |+\n    x\n{tail}\n- kind: B\n  data: |\n    y\n{tail}"
            );
            let list = parse(&input).unwrap();
            let again = parse(&list.write()).unwrap();
            assert_eq!(again.items, list.items, "{input:?} → {:?}", list.write());
        }
    }

    #[test]
    /// Fuzz seed 1 case 197: a file ending in a block scalar without a line break
    /// gave an item without text, so a function got the object without its comments.
    fn block_scalars_ending_a_file_keep_the_text() {
        for (doc, header) in [
            ("kind: A # c\ndata:\n  a: |\n    x\n    y", "a: |-"),
            ("kind: A # c\ndata:\n  a: >+ # k\n    x", "a: >- # k"),
            ("kind: A # c\ndata:\n  a: |2\n      x", "a: |2-"),
            ("kind: A # c\nlist:\n- |\n  x", "- |-"),
            // Fuzz seed 1 case 1: kept empty lines at the end of the file.
            ("kind: A # c\ndata:\n  a: |+\n    x\n\n", "a: |+"),
        ] {
            let item = item_of(doc);
            let text = item.source_text().unwrap();
            assert!(text.contains(header) && text.contains("# c"), "{text}");
        }
    }

    /// Fuzz seed i1 case 47: create-setters put a comment on the package path kpt
    /// annotates every object with (a setter's value was in the temporary folder's
    /// name); the text leaves that annotation out, so the render failed.
    #[test]
    fn line_comments_on_kpt_annotations_the_text_leaves_out_are_dropped() {
        let doc = "kind: A\nmetadata:\n  name: a3\n";
        let mut item = item_of(doc);
        item.update(|v| {
            v["metadata"]["annotations"] = serde_json::json!({
                "internal.config.kubernetes.io/package-path": "/tmp/x3",
                "config.kubernetes.io/path": "r3.yaml",
            })
        });
        let on_path = |key: &str| (format!("/metadata/annotations/{key}"), "kpt-set: x".into());
        assert!(item.set_line_comments(&[
            on_path("internal.config.kubernetes.io~1package-path"),
            on_path("config.kubernetes.io~1path"),
            ("/metadata/name".into(), "kpt-set: a${n}".into()),
        ]));
        assert_eq!(
            item.source_text(),
            Some("kind: A\n  metadata:\n    name: a3 # kpt-set: a${n}")
        );
        assert!(item.set_line_comments(&[on_path("config.kubernetes.io~1path")]));
        // A node the text holds is still required.
        assert!(!item.set_line_comments(&[("/metadata/labels".into(), "x".into())]));
    }

    /// Fuzz seed i133 case 146: create-setters in process put a comment on the
    /// path annotation of a text that holds it, and `-o stdout` printed it
    /// where kpt, setting the annotation afresh, does not.
    #[test]
    fn comments_on_kpt_annotations_a_text_holds_are_taken_away() {
        let doc = "kind: A\nmetadata:\n  name: a3 # kpt-set: a${n}\n  annotations:\n    config.kubernetes.io/path: 'r3.yaml' # kpt-set: r${n}.yaml\n";
        let mut item = item_of(doc);
        item.drop_kpt_annotation_comments();
        assert_eq!(
            item.source_text(),
            Some("kind: A\n  metadata:\n    name: a3 # kpt-set: a${n}\n    annotations:\n      config.kubernetes.io/path: 'r3.yaml'")
        );
    }

    #[test]
    fn items_from_file_documents_keep_their_text() {
        let doc = "# head\napiVersion: v1\nkind: ConfigMap # c\ndata:\n  a: |\n    x\n\n    y\n  b: 'q'\n";
        let item = item_of(doc);
        assert_eq!(item["data"]["a"], "x\n\ny\n");
        // The text must read back as the document the caller read.
        let other = serde_json::json!({"kind": "ConfigMap"});
        assert!(Item::from_document(doc, &other, &Limits::default()).is_none());
        let mut list = ResourceList::new(Vec::new());
        list.items.push(item);
        assert_eq!(
            list.write(),
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- # head\n  apiVersion: v1\n  kind: ConfigMap # c\n  data:\n    a: |\n      x\n\n      y\n    b: 'q'\n"
        );
    }

    /// A document whose last value is a clip block scalar (`|`): its text, an item
    /// without the final line break, still reads back as the document (the `|`
    /// keeps its `\n`), so the text stays and edits to it (a setter) are made on it.
    #[test]
    fn a_block_scalar_ending_the_document_keeps_the_text() {
        let doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v\n  annotations:\n    tag: v1 # kpt-set: ${tag}\ndata:\n  source: |\n    x: 1\n    y: 2\n";
        let limits = Limits::default();
        let value = yaml::parse_documents(doc, &limits).unwrap().remove(0);
        assert_eq!(value["data"]["source"], "x: 1\ny: 2\n");
        let mut item = Item::from_document(doc, &value, &limits).expect("the text is kept");
        item.update(|v| v["metadata"]["annotations"]["tag"] = "v2".into());
        assert_eq!(
            item.source_text(),
            Some("apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: v\n    annotations:\n      tag: v2 # kpt-set: ${tag}\n  data:\n    source: |\n      x: 1\n      y: 2")
        );
        let mut list = ResourceList::new(Vec::new());
        list.items.push(item.clone());
        let again = parse(&list.write()).unwrap();
        assert_eq!(again.items[0], item);
        assert_eq!(
            again.items[0].source_text(),
            item.source_text(),
            "the exec path reads the same text back"
        );
    }

    /// Steps that each change an object (namespace, labels, a setter) leave its
    /// text to be edited once, from what it said to what it says now; reading it
    /// in between (a setter reads comments) edits it then, and clones keep their
    /// own state.
    #[test]
    fn a_chain_of_changes_edits_the_text_once_when_read() {
        let doc = "apiVersion: v1\nkind: ConfigMap # c\nmetadata:\n  name: a\ndata:\n  b: 'q' # kpt-set: ${b}\n";
        let limits = Limits::default();
        let value = yaml::parse_documents(doc, &limits).unwrap().remove(0);
        let mut item = Item::from_document(doc, &value, &limits).unwrap();
        item.update(|v| v["metadata"]["namespace"] = "shop".into());
        let before = item.clone();
        item.update(|v| v["metadata"]["labels"] = serde_json::json!({"team": "x"}));
        assert!(item.said.is_some() && item.edited.get().is_none());
        assert_eq!(item.source_text(), Some("apiVersion: v1\n  kind: ConfigMap # c\n  metadata:\n    name: a\n    namespace: shop\n    labels:\n      team: x\n  data:\n    b: 'q' # kpt-set: ${b}"));
        assert_eq!(before.source_text(), Some("apiVersion: v1\n  kind: ConfigMap # c\n  metadata:\n    name: a\n    namespace: shop\n  data:\n    b: 'q' # kpt-set: ${b}"));
        // A change after a reading edits from the original text again.
        item.update(|v| v["data"]["b"] = "r".into());
        let text = item.source_text().unwrap();
        assert!(
            text.contains("b: 'r' # kpt-set: ${b}") && text.contains("team: x"),
            "{text}"
        );
        // Changing back to what the text said costs nothing and keeps it.
        let mut back = before.clone();
        back.set(value.clone());
        assert_eq!(
            back.source_text(),
            Some(&doc.replace('\n', "\n  ").trim_end()[..])
        );
    }

    /// kpt's annotations set while rendering cost no text edit, are never in the
    /// text written to a file, and are in the ResourceList a function reads.
    #[test]
    fn kpt_annotations_stay_out_of_a_documents_text() {
        use crate::object::ObjectExt;
        let doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # keep\ndata:\n  b: 'q'\n";
        let limits = Limits::default();
        let value = yaml::parse_documents(doc, &limits).unwrap().remove(0);
        let mut item = Item::from_document(doc, &value, &limits).unwrap();
        item.update(|v| {
            v.set_annotation("config.kubernetes.io/index", "0");
            v.set_annotation("internal.config.kubernetes.io/path", "a.yaml");
        });
        assert_eq!(item.source_text(), Some("apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a # keep\n  data:\n    b: 'q'"));
        // A real change is edited into the text, still without kpt's annotations.
        item.update(|v| v.set_annotation("team", "x"));
        let text = item.source_text().unwrap();
        assert!(
            text.contains("    annotations:\n      team: x") && !text.contains("index"),
            "{text}"
        );
        // The ResourceList carries them, with the rest of the text kept.
        let mut list = ResourceList::new(Vec::new());
        list.items.push(item.clone());
        let written = list.write();
        assert!(
            written.contains("name: a # keep") && written.contains("b: 'q'"),
            "{written}"
        );
        assert_eq!(parse(&written).unwrap().items[0], item);
    }

    #[test]
    fn reads_json_and_answers_in_json() {
        let list =
            parse(r#"{"apiVersion":"config.kubernetes.io/v1","kind":"ResourceList","items":[]}"#)
                .unwrap();
        assert_eq!(list.format, Format::Json);
        assert_eq!(
            list.write(),
            "{\"apiVersion\":\"config.kubernetes.io/v1\",\"kind\":\"ResourceList\",\"items\":[]}\n"
        );
    }

    #[test]
    fn reads_a_plain_stream() {
        let list = parse("kind: A\n---\nkind: B\n").unwrap();
        assert_eq!(list.format, Format::Stream);
        assert_eq!(list.write(), "kind: A\n---\nkind: B\n");
    }

    #[test]
    fn rejects_what_is_not_a_resource_list() {
        for (input, message) in [
            (
                "kind: ResourceLst\nitems: []\n",
                "expected kind `ResourceList`, found `ResourceLst`",
            ),
            (
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: {}\n",
                "`items` must be a list of objects, found a mapping",
            ),
            (
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [1]\n",
                "`items[0]` must be an object, found a number",
            ),
            (
                "hello\n",
                "document 1 of the input is not a mapping; expected a ResourceList or KRM objects",
            ),
        ] {
            assert_eq!(parse(input).unwrap_err().to_string(), message);
        }
        let err = parse("a: [\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("input is not valid YAML: line "),
            "{err}"
        );
    }

    /// Issue 17: a top-level flow mapping is YAML, a plain JSON object and a `List`
    /// (`kubectl get -o json`) are accepted as objects.
    #[test]
    fn reads_flow_mappings_json_objects_and_lists() {
        let limits = Limits::default();
        let list = ResourceList::parse("{kind: A, apiVersion: v1, metadata: {name: a}}\n", &limits)
            .unwrap();
        assert_eq!(list.format, Format::Stream);
        assert_eq!(list.items[0].kind(), "A");
        let list = ResourceList::parse(
            r#"{"kind": "B", "apiVersion": "v1", "metadata": {"name": "b"}}"#,
            &limits,
        )
        .unwrap();
        assert_eq!(list.items[0].kind(), "B");
        let json = r#"{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "d"}}]}"#;
        let list = ResourceList::parse(json, &limits).unwrap();
        let kinds: Vec<&str> = list.items.iter().map(|i| i.kind()).collect();
        assert_eq!(kinds, ["ConfigMap", "Secret"]);
        let err = ResourceList::parse("{\"kind\": ", &limits).unwrap_err();
        assert!(err.message.contains("JSON"), "{err}");
    }

    /// Fuzz case inproc-catalog-gives-head-before-dash-to-previous-item: kpt
    /// writes a document's head above the item's `- `; go-yaml reads it as that
    /// item's head, so a function that sorts or deletes the items takes it with
    /// that object. It was read into the item above.
    /// go-yaml's emitter writes the foot of an item's mapping below the next
    /// item's `-`, alone on its line (as kpt v1.0.0-beta.56 gave it to an
    /// `exec:` step, fuzz seed 116 case 269); read back, those lines head that
    /// item's first key, and the item keeps its text (styles, comments).
    #[test]
    fn comments_below_a_dash_alone_head_the_first_key() {
        let text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: A\n  metadata:\n    name: x\n# h1\n-\n# note me\n# delta\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n    annotations:\n      a: 'kpt'\n";
        let list = ResourceList::parse(text, &Limits::default()).unwrap();
        assert_eq!(list.items[1].head_above_dash(), Some("# h1\n"));
        assert_eq!(
            list.items[1].source_text(),
            Some("# note me\n  # delta\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n    annotations:\n      a: 'kpt'")
        );
        assert_eq!(
            list.items[0].source_text(),
            Some("apiVersion: v1\n  kind: A\n  metadata:\n    name: x")
        );
    }

    #[test]
    fn a_head_above_an_items_dash_goes_with_that_item() {
        let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n# first\n- apiVersion: v1\n  kind: A\n  metadata:\n    name: a\n  # foot of a\n# license\n#  of b\n- apiVersion: v1\n  kind: B\n  metadata:\n    name: b\n";
        let mut list = parse(input).unwrap();
        assert_eq!(list.write(), input, "written back as read");
        assert_eq!(list.items[0].head_above_dash(), Some("# first\n"));
        assert_eq!(
            list.items[1].head_above_dash(),
            Some("# license\n#  of b\n")
        );
        list.items.reverse();
        assert_eq!(
            list.write(),
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n# license\n#  of b\n- apiVersion: v1\n  kind: B\n  metadata:\n    name: b\n# first\n- apiVersion: v1\n  kind: A\n  metadata:\n    name: a\n  # foot of a\n"
        );
        list.items.remove(0);
        assert!(!list.write().contains("# license"));
        // A blank line inside: go-yaml gives the part above it to the entry
        // below too (the foot no block end takes goes to its first key), and
        // blank lines before the comments stay with the entry above, where a
        // keep block scalar (`|+`) may hold them.
        let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: A\n  data:\n    x: |+\n      text\n\n# upper\n\n# lower\n- apiVersion: v1\n  kind: B\n";
        let list = parse(input).unwrap();
        assert_eq!(
            list.items[1].head_above_dash(),
            Some("# upper\n\n# lower\n")
        );
        assert_eq!(list.items[0].value()["data"]["x"], "text\n\n");
        assert_eq!(list.write(), input);
    }
}
