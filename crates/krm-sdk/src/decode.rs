//! Strict decoding of objects and function configs into typed structs, with the
//! field path of the first problem and "did you mean" suggestions for unknown fields.

use crate::object::ObjectExt;
use crate::result::ResultItem;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// A decoding problem at a field path (`spec.scaling.minReplica`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub path: String,
    pub message: String,
    /// The part of the value this problem makes unreliable, when wider than `path`:
    /// [`decode_all`] removed the mapping around it. Checks after decoding say
    /// nothing there (lummo-core's `settle`).
    pub covers: Option<String>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl DecodeError {
    /// An error result about `object`, with the path prefixed by `prefix` (e.g. `spec`).
    pub fn into_result(self, object: &Value, prefix: &str) -> ResultItem {
        let path = match (prefix.is_empty(), self.path.is_empty()) {
            (true, _) => self.path,
            (false, true) => prefix.to_string(),
            (false, false) => format!("{prefix}.{}", self.path),
        };
        ResultItem::error(self.message)
            .for_object(object)
            .field(path)
    }
}

/// Decodes `value` into `T`; with `#[serde(deny_unknown_fields)]` on `T` an unknown
/// field is an error naming the closest known one. The first problem only: see
/// [`decode_all`] for every problem.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    match serde_path_to_error::deserialize(value) {
        Ok(decoded) => Ok(decoded),
        Err(e) => {
            let steps = steps_of(e.path());
            Err(problem(value, None, &steps, &e.inner().to_string()))
        }
    }
}

/// At most this many problems are reported per value: past that the rest is noise.
const MAX_PROBLEMS: usize = 50;

/// Decodes `value` into `T`, reporting every independent problem at once (as kyaml
/// loads a config: schema check, strict decode, then validation, all problems
/// together). On the fast path this is one serde decode; only when it fails is
/// `schema` (the JSON Schema of `T`, which names expected types in the user's words
/// and tells where a single mapping stands for a list) built, and the value decoded
/// again with each offending field removed, until it decodes or a problem cannot be
/// removed (a missing required field). Returns the value decoded without its
/// offending fields, when it decodes, so that the checks that follow decoding still
/// run and report; it must not generate anything, the problems being errors.
pub fn decode_all<T: DeserializeOwned>(
    value: &Value,
    schema: &dyn Fn() -> Option<Value>,
) -> (Option<T>, Vec<DecodeError>) {
    let mut error = match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(decoded) => return (Some(decoded), Vec::new()),
        Err(e) => e,
    };
    let schema = schema();
    let mut working = value.clone();
    let mut removed = Removed::default();
    let mut problems = Vec::new();
    while problems.len() < MAX_PROBLEMS {
        let steps = removed.original(&steps_of(error.path()));
        let message = error.inner().to_string();
        if message.starts_with("missing field `") {
            // A required field removed for its own problem is not missing too, nor
            // one beside a removed unknown field (most likely its misspelling).
            let beside_removed = removed
                .keys
                .iter()
                .any(|key| key.len() == steps.len() + 1 && key.starts_with(&steps));
            if !beside_removed {
                problems.push(problem(value, schema.as_ref(), &steps, &message));
            }
            // The mapping lacking it goes, so that the problems after it are found;
            // what is around it is then unreliable too.
            if !removed.remove(&mut working, &steps_of(error.path())) {
                break;
            }
            let (mapping, _) = display_path(schema.as_ref(), value, &steps);
            let around = parent_path(&mapping);
            for problem in &mut problems {
                if within(&problem.path, &mapping) {
                    problem.covers = Some(around.clone());
                }
            }
        } else {
            let mut found = problem(value, schema.as_ref(), &steps, &message);
            if problems.contains(&found) {
                break;
            }
            // A list item goes: the list then holds fewer items, at other indices,
            // so what is checked on the list after decoding (`needs at least one`,
            // `listed twice` at `[i]`) would be about a list the user did not write.
            if let Some((Step::Index(_), list)) = steps.split_last() {
                found.covers = Some(display_path(schema.as_ref(), value, list).0);
            }
            problems.push(found);
            if !removed.remove(&mut working, &steps_of(error.path())) {
                break;
            }
        }
        match serde_path_to_error::deserialize::<_, T>(&working) {
            Ok(decoded) => return (Some(decoded), problems),
            Err(e) => error = e,
        }
    }
    (None, problems)
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn steps_of(path: &serde_path_to_error::Path) -> Vec<Step> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Map { key } => Some(Step::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// What [`decode_all`] removed from its working copy, as paths of the original value.
#[derive(Default)]
struct Removed {
    keys: Vec<Vec<Step>>,
    /// (the list's path, the removed item's index), both in the original value.
    items: Vec<(Vec<Step>, usize)>,
}

impl Removed {
    /// The path in the original value of `steps`, a path in the working copy
    /// (indices after a removed item have shifted down).
    fn original(&self, steps: &[Step]) -> Vec<Step> {
        let mut out = Vec::with_capacity(steps.len());
        for step in steps {
            match step {
                Step::Index(working) => {
                    let mut gone: Vec<usize> = self
                        .items
                        .iter()
                        .filter(|(list, _)| *list == out)
                        .map(|(_, index)| *index)
                        .collect();
                    gone.sort_unstable();
                    let mut index = *working;
                    for g in gone {
                        if g <= index {
                            index += 1;
                        }
                    }
                    out.push(Step::Index(index));
                }
                key => out.push(key.clone()),
            }
        }
        out
    }

    /// Removes the node at `steps` (a working-copy path) from `working`.
    fn remove(&mut self, working: &mut Value, steps: &[Step]) -> bool {
        let Some((last, parent)) = steps.split_last() else {
            return false;
        };
        let mut node = &mut *working;
        for step in parent {
            node = match (step, node) {
                (Step::Key(k), Value::Object(map)) => match map.get_mut(k) {
                    Some(next) => next,
                    None => return false,
                },
                (Step::Index(i), Value::Array(list)) => match list.get_mut(*i) {
                    Some(next) => next,
                    None => return false,
                },
                _ => return false,
            };
        }
        let original = self.original(steps);
        match (last, node) {
            (Step::Key(k), Value::Object(map)) => {
                let found = map.shift_remove(k).is_some();
                if found {
                    self.keys.push(original);
                }
                found
            }
            (Step::Index(i), Value::Array(list)) if *i < list.len() => {
                list.remove(*i);
                let (Some(Step::Index(at)), list_path) =
                    (original.last(), &original[..original.len() - 1])
                else {
                    return false;
                };
                self.items.push((list_path.to_vec(), *at));
                true
            }
            _ => false,
        }
    }
}

/// `a.b[0]` → `a.b`, `a.b` → `a`, `a` → ``.
fn parent_path(path: &str) -> String {
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    path[..cut].to_string()
}

/// Whether `path` is `prefix` or under it (`prefix.x`, `prefix[0]`).
pub fn within(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// The problem serde reported as `message` at `steps` (a path of `value`), with the
/// path in the one style users see (`containers[0].ports[0]`, also when a single
/// container is written as a mapping) and the message in the user's words.
fn problem(value: &Value, schema: Option<&Value>, steps: &[Step], message: &str) -> DecodeError {
    let (path, node) = display_path(schema, value, steps);
    let found = value_at_steps(value, steps);
    let message = user_message(&strip_position(message), found, schema.zip(node));
    DecodeError {
        path,
        message,
        covers: None,
    }
}

fn value_at_steps<'v>(value: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    let mut current = value;
    for step in steps {
        current = match step {
            Step::Key(k) => current.get(k)?,
            Step::Index(i) => current.get(*i)?,
        };
    }
    Some(current)
}

/// `steps` as `a.b[0].c`, and the schema of the node they lead to. Where the schema
/// takes a list or a single item and `value` holds the single item (a mapping), the
/// path names it as the list's first item.
fn display_path<'s>(
    schema: Option<&'s Value>,
    value: &Value,
    steps: &[Step],
) -> (String, Option<&'s Value>) {
    let mut path = String::new();
    let mut node = schema;
    let mut current = Some(value);
    for step in steps {
        match step {
            Step::Key(key) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                node = schema
                    .zip(node)
                    .and_then(|(root, n)| schema::property(root, n, key));
                current = current.and_then(|c| c.get(key));
                if let (Some(root), Some(n), Some(Value::Object(_))) = (schema, node, current) {
                    if let Some(item) = schema::single_for_list(root, n) {
                        path.push_str("[0]");
                        node = Some(item);
                    }
                }
            }
            Step::Index(index) => {
                path.push_str(&format!("[{index}]"));
                node = schema
                    .zip(node)
                    .and_then(|(root, n)| schema::items(root, n));
                current = current.and_then(|c| c.get(*index));
            }
        }
    }
    (path, node)
}

/// serde's message in the user's words: expected types as "a whole number (0 to
/// 65535)", "a list", "a mapping with the fields a, b" (from the schema when there is
/// one), the value found as written, never a Rust type name.
fn user_message(message: &str, found: Option<&Value>, schema: Option<(&Value, &Value)>) -> String {
    let want = || schema.and_then(|(root, node)| schema::describe(root, node));
    if let Some(rest) = message.strip_prefix("unknown field `") {
        return unknown_field(rest).unwrap_or_else(|| message.to_string());
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        if let Some((variant, expected)) = rest.split_once('`') {
            let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let hint = suggest(variant, known.iter().copied())
                .map(|best| format!("; did you mean `{best}`?"))
                .unwrap_or_default();
            return format!(
                "expected one of: {}, found `{variant}`{hint}",
                known.join(", ")
            );
        }
    }
    let expected = ["invalid type: ", "invalid value: ", "invalid length "]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.rsplit_once(", expected "))
        .map(|(_, expected)| expected);
    let mismatch = expected.is_some()
        || message == "invalid number"
        || message.starts_with("data did not match any variant");
    if !mismatch {
        return rust_words(message);
    }
    let want = want().unwrap_or_else(|| match expected {
        Some(expected) => rust_expected(expected),
        None if message == "invalid number" => "a whole number within its range".into(),
        None => "another kind of value".into(),
    });
    let found_text = match found {
        Some(value) => describe_value(value),
        None => "something else".into(),
    };
    let mut text = format!("expected {want}, found {found_text}");
    // YAML 1.1 booleans (`yes`, `no`, `on`, `off`) are strings in YAML 1.2.
    if let (Some(Value::String(word)), true) = (found, want == "true or false") {
        let value = match word.to_ascii_lowercase().as_str() {
            "yes" | "y" | "on" => Some("true"),
            "no" | "n" | "off" => Some("false"),
            _ => None,
        };
        if let Some(value) = value {
            text.push_str(&format!(
                "; `{word}` is a string in YAML 1.2 (kpt, kyaml): write `{value}`"
            ));
        }
    }
    text
}

/// A value as a message names it: `the string "x"`, `the number 5`, `a list`.
fn describe_value(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > 40 => {
            format!("the string \"{}…\"", s.chars().take(40).collect::<String>())
        }
        Value::String(s) => format!("the string {s:?}"),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("`{b}`"),
        Value::Null => "nothing (null)".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// serde's `expected ...` (a Rust type or a visitor's words) in the user's words.
fn rust_expected(expected: &str) -> String {
    let bounds = |ty: &str| -> Option<(Option<i128>, Option<i128>)> {
        Some(match ty {
            "u8" => (Some(0), Some(u8::MAX.into())),
            "u16" => (Some(0), Some(u16::MAX.into())),
            "u32" => (Some(0), Some(u32::MAX.into())),
            "u64" | "u128" | "usize" => (Some(0), None),
            "i8" => (Some(i8::MIN.into()), Some(i8::MAX.into())),
            "i16" => (Some(i16::MIN.into()), Some(i16::MAX.into())),
            "i32" => (Some(i32::MIN.into()), Some(i32::MAX.into())),
            "i64" | "i128" | "isize" => (None, None),
            _ => return None,
        })
    };
    if let Some((low, high)) = bounds(expected) {
        return schema::whole_number(low, high);
    }
    match expected {
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "a list".into(),
        "a map" => "a mapping".into(),
        "unit" => "nothing (null)".into(),
        "a borrowed string" | "a string" | "a character" | "char" => "a string".into(),
        e if e.starts_with("struct ") || e.starts_with("map") => "a mapping".into(),
        e if e.starts_with("tuple") || e.starts_with("a tuple") => "a list".into(),
        e if e.starts_with("enum ") => "one of the values this field takes".into(),
        e => rust_words(e),
    }
}

/// Any other message, with Rust type names (`u32`, `struct X`) replaced.
fn rust_words(message: &str) -> String {
    let mut out = Vec::new();
    for word in message.split(' ') {
        let bare = word.trim_end_matches([',', ';', '.']);
        let tail = &word[bare.len()..];
        let replaced = match bare {
            "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64"
            | "i128" | "isize" => format!("{}{tail}", rust_expected(bare)),
            "f32" | "f64" => format!("a number{tail}"),
            _ => word.to_string(),
        };
        out.push(replaced);
    }
    out.join(" ")
        .replace("expected struct ", "expected a mapping ")
        .replace("untagged enum ", "")
}

fn unknown_field(rest: &str) -> Option<String> {
    let (field, expected) = rest.split_once('`')?;
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    Some(match suggest(field, known.iter().copied()) {
        Some(best) => format!("unknown field `{field}`, did you mean `{best}`?"),
        None if known.is_empty() => format!("unknown field `{field}`; no fields are allowed here"),
        None => format!(
            "unknown field `{field}`; known fields: {}",
            known.join(", ")
        ),
    })
}

/// A JSON Schema node with its `$ref`s followed (`#/$defs/Name`), for callers
/// that read a type's schema (a function's `--help`).
pub use schema::resolve as resolve_schema_ref;

/// Reading the JSON Schema (schemars, draft 2020-12) of a decoded type.
mod schema {
    use serde_json::Value;

    /// `node` with its `$ref`s followed (`#/$defs/Name`).
    pub fn resolve<'s>(root: &'s Value, mut node: &'s Value) -> &'s Value {
        for _ in 0..32 {
            let Some(target) = node.get("$ref").and_then(Value::as_str) else {
                break;
            };
            match target
                .strip_prefix('#')
                .and_then(|pointer| root.pointer(pointer))
            {
                Some(next) => node = next,
                None => break,
            }
        }
        node
    }

    /// The node and the branches of its `anyOf`/`oneOf`/`allOf`, resolved, nulls left out.
    fn branches<'s>(root: &'s Value, node: &'s Value) -> Vec<&'s Value> {
        let node = resolve(root, node);
        let mut out = vec![node];
        for key in ["anyOf", "oneOf", "allOf"] {
            for branch in node
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let branch = resolve(root, branch);
                if branch.get("type").and_then(Value::as_str) != Some("null") {
                    out.push(branch);
                }
            }
        }
        out
    }

    pub fn property<'s>(root: &'s Value, node: &'s Value, key: &str) -> Option<&'s Value> {
        let all = branches(root, node);
        all.iter()
            .find_map(|b| b.get("properties").and_then(|p| p.get(key)))
            .or_else(|| {
                all.iter()
                    .find_map(|b| b.get("additionalProperties").filter(|a| a.is_object()))
            })
    }

    pub fn items<'s>(root: &'s Value, node: &'s Value) -> Option<&'s Value> {
        branches(root, node).iter().find_map(|b| b.get("items"))
    }

    fn is_type(node: &Value, wanted: &str) -> bool {
        match node.get("type") {
            Some(Value::String(t)) => t == wanted,
            Some(Value::Array(types)) => types.iter().any(|t| t == wanted),
            _ => false,
        }
    }

    /// Where `node` takes a list or a single item (`containers:` as one mapping),
    /// the schema of the item.
    pub fn single_for_list<'s>(root: &'s Value, node: &'s Value) -> Option<&'s Value> {
        let all = branches(root, node);
        let item = all.iter().find(|b| is_type(b, "array"))?.get("items")?;
        let single = all
            .iter()
            .any(|b| is_type(b, "object") && std::ptr::eq(*b, resolve(root, item)));
        single.then_some(item)
    }

    /// What `node` takes, in the user's words.
    pub fn describe(root: &Value, node: &Value) -> Option<String> {
        describe_within(root, node, 8)
    }

    /// [`describe`], going at most `depth` `anyOf`s deep (a schema may refer to itself).
    fn describe_within(root: &Value, node: &Value, depth: usize) -> Option<String> {
        let node = resolve(root, node);
        let constants: Option<Vec<String>> = constants(root, node, depth);
        if let Some(values) = constants.filter(|v| !v.is_empty()) {
            return Some(format!("one of: {}", values.join(", ")));
        }
        let mut parts: Vec<String> = Vec::new();
        let mut push = |part: String| {
            if !parts.contains(&part) {
                parts.push(part);
            }
        };
        for branch in branches(root, node).into_iter().skip(1) {
            if depth == 0 {
                break;
            }
            if let Some(part) = describe_within(root, branch, depth - 1) {
                push(part);
            }
        }
        let types: Vec<&str> = match node.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for t in types {
            let part = match t {
                "integer" => {
                    let (low, high) = format_bounds(node.get("format").and_then(Value::as_str));
                    let number = |key| node.get(key).and_then(Value::as_f64).map(|f| f as i128);
                    whole_number(number("minimum").or(low), number("maximum").or(high))
                }
                "number" => "a number".into(),
                "string" => "a string".into(),
                "boolean" => "true or false".into(),
                "array" => "a list".into(),
                "object" => match node.get("properties").and_then(Value::as_object) {
                    Some(fields) if !fields.is_empty() => format!(
                        "a mapping with the fields {}",
                        fields
                            .keys()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => "a mapping".into(),
                },
                _ => continue,
            };
            push(part);
        }
        (!parts.is_empty()).then(|| parts.join(" or "))
    }

    /// The values of an enumeration (`enum`, or branches that are all `const`).
    fn constants(root: &Value, node: &Value, depth: usize) -> Option<Vec<String>> {
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        if let Some(values) = node.get("enum").and_then(Value::as_array) {
            return Some(values.iter().filter(|v| !v.is_null()).map(text).collect());
        }
        if let Some(value) = node.get("const") {
            return Some(vec![text(value)]);
        }
        let branches = node
            .get("oneOf")
            .or_else(|| node.get("anyOf"))
            .and_then(Value::as_array)?;
        let mut out = Vec::new();
        for branch in branches {
            let branch = resolve(root, branch);
            if branch.get("type").and_then(Value::as_str) == Some("null") {
                continue;
            }
            out.extend(constants(root, branch, depth.checked_sub(1)?)?);
        }
        Some(out)
    }

    fn format_bounds(format: Option<&str>) -> (Option<i128>, Option<i128>) {
        match format {
            Some("uint8") => (Some(0), Some(u8::MAX.into())),
            Some("uint16") => (Some(0), Some(u16::MAX.into())),
            Some("uint32") => (Some(0), Some(u32::MAX.into())),
            Some("uint64" | "uint") => (Some(0), None),
            Some("int8") => (Some(i8::MIN.into()), Some(i8::MAX.into())),
            Some("int16") => (Some(i16::MIN.into()), Some(i16::MAX.into())),
            Some("int32") => (Some(i32::MIN.into()), Some(i32::MAX.into())),
            _ => (None, None),
        }
    }

    pub fn whole_number(low: Option<i128>, high: Option<i128>) -> String {
        match (low, high) {
            (Some(low), Some(high)) => format!("a whole number ({low} to {high})"),
            (Some(low), None) => format!("a whole number ({low} or more)"),
            (None, Some(high)) => format!("a whole number (at most {high})"),
            (None, None) => "a whole number".into(),
        }
    }
}

/// `#[serde(deserialize_with = "krm_sdk::decode::exact_scalars")]` for a mapping of
/// scalars whose numbers must keep the text the user wrote (`1.10`, `1e3`), e.g. env
/// values: `serde_json::Value`'s own `Deserialize` re-parses a number's text and
/// normalises it (`1e3` → `1e+3`).
pub fn exact_scalars<'de, D: de::Deserializer<'de>>(
    deserializer: D,
) -> Result<Map<String, Value>, D::Error> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a mapping")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value::<ExactScalar>()?.0;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Entries)
}

/// A value whose number keeps its exact text; other values as `Value` reads them.
struct ExactScalar(Value);

impl<'de> Deserialize<'de> for ExactScalar {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Scalar;
        impl<'de> Visitor<'de> for Scalar {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                Ok(Value::from(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
                Ok(Value::from(v))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
                Ok(Value::Number(serde_json::Number::from_string_unchecked(
                    v.to_string(),
                )))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
                Ok(Value::Number(serde_json::Number::from_string_unchecked(
                    v.to_string(),
                )))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                // serde_json only takes this path when `v`'s plain decimal is the text.
                Ok(Value::Number(serde_json::Number::from_string_unchecked(
                    v.to_string(),
                )))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value, E> {
                Ok(Value::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Value, E> {
                Ok(Value::String(v))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Value>()? {
                    items.push(item);
                }
                Ok(Value::Array(items))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut out = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    // serde_json hands a number whose text is not the canonical one
                    // as this one-entry map holding the text itself.
                    if key == "$serde_json::private::Number" {
                        let text: String = map.next_value()?;
                        return Ok(Value::Number(serde_json::Number::from_string_unchecked(
                            text,
                        )));
                    }
                    out.insert(key, map.next_value()?);
                }
                Ok(Value::Object(out))
            }
        }
        deserializer.deserialize_any(Scalar).map(ExactScalar)
    }
}

/// Decodes a ConfigMap's `data` (all strings) into `T`: each string is converted to
/// the type the field asks for (`"3"` → 3, `"true"` → true, `"[a, b]"` → a list).
pub fn from_string_map<T: DeserializeOwned>(data: &Map<String, Value>) -> Result<T, DecodeError> {
    let mut entries = Vec::with_capacity(data.len());
    for (key, value) in data {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        entries.push((key.clone(), ConfigString(text)));
    }
    let deserializer = de::value::MapDeserializer::<_, serde_json::Error>::new(entries.into_iter());
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let steps = steps_of(e.path());
        let found = Value::Object(data.clone());
        problem(&found, None, &steps, &e.inner().to_string())
    })
}

/// Decodes a `functionConfig`: a ConfigMap's `data`, or the `spec` of a typed kind
/// named `kind`, reporting every problem at once (kyaml's order: strict decode of
/// the whole config, each offending field removed and the rest decoded again).
/// `Ok(None)` when there is no functionConfig; the config decoded without its
/// offending fields is not returned, a function must not run on a config it was
/// not given.
pub fn function_config<T: DeserializeOwned>(
    function_config: Option<&Value>,
    kind: &str,
) -> Result<Option<T>, Vec<ResultItem>> {
    let Some(fc) = function_config else {
        return Ok(None);
    };
    let empty = Value::Object(Map::new());
    let (body, prefix) = match fc.kind() {
        "ConfigMap" => (fc.get("data").unwrap_or(&empty), "data"),
        k if k == kind => (fc.get("spec").unwrap_or(&empty), "spec"),
        other => {
            return Err(vec![ResultItem::error(format!(
                "functionConfig of kind `{other}` is not supported; use a ConfigMap or `{kind}`"
            ))
            .for_object(fc)])
        }
    };
    let (decoded, problems) = match (prefix, body) {
        ("data", Value::Object(data)) => string_map_all(data),
        ("data", _) => (
            None,
            vec![DecodeError {
                path: String::new(),
                message: "must be a mapping of strings".into(),
                covers: None,
            }],
        ),
        // No schema: the messages stay serde's own, as for a ConfigMap's strings.
        _ => decode_all(body, &|| None),
    };
    match decoded {
        Some(config) if problems.is_empty() => Ok(Some(config)),
        _ => Err(problems
            .into_iter()
            .map(|e| {
                let mut result = e.into_result(fc, prefix);
                result.message = format!("invalid functionConfig: {}", result.message);
                result
            })
            .collect()),
    }
}

/// [`from_string_map`] with every problem: a ConfigMap's keys are independent
/// settings, so each offending key goes and the rest is decoded again.
fn string_map_all<T: DeserializeOwned>(data: &Map<String, Value>) -> (Option<T>, Vec<DecodeError>) {
    let mut working = data.clone();
    let mut problems = Vec::new();
    while problems.len() < MAX_PROBLEMS {
        let error = match from_string_map(&working) {
            Ok(decoded) => return (Some(decoded), problems),
            Err(error) => error,
        };
        let key = error
            .path
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .to_string();
        problems.push(error);
        // A missing key, or a problem of the whole mapping, cannot be removed.
        if working.shift_remove(&key).is_none() {
            break;
        }
    }
    (None, problems)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let closest = candidates
        .iter()
        .map(|c| {
            (
                typo_distance(&lower, &c.to_ascii_lowercase()),
                edit_distance(word, c),
                *c,
            )
        })
        .filter(|(d, _, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, exact, _)| (*d, *exact))
        .map(|(_, _, c)| c);
    // `ackDeadline` for `ackDeadlineSeconds`: a shortened name is a typo too.
    closest.or_else(|| {
        candidates
            .into_iter()
            .find(|c| lower.len() >= 4 && c.to_ascii_lowercase().starts_with(&lower))
    })
}

/// Edits between `a` and `b` counting two swapped neighbours as one (optimal string
/// alignment distance): `prot` is one typo away from `port`, as people type.
fn typo_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for j in 0..=b.len() {
        d[0][j] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    edit_distance_within(a, b, usize::MAX).unwrap_or(usize::MAX)
}

/// [`edit_distance`] when it is at most `max`, else `None`: the table stops at
/// the first row whose every distance exceeds `max`, as no row below it has a
/// smaller one (each cell is one of the row above plus 0 or 1, or its left
/// neighbour plus 1). Most pairs asked about differ from the first letters.
pub fn edit_distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        let mut least = row[0];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(previous + 1).min(row[j] + 1);
            least = least.min(row[j + 1]);
        }
        if least > max {
            return None;
        }
    }
    Some(row[b.len()]).filter(|d| *d <= max)
}

/// One ConfigMap value, converted on demand to what the target field wants.
struct ConfigString(String);

impl<'de> IntoDeserializer<'de, serde_json::Error> for ConfigString {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl ConfigString {
    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, serde_json::Error> {
        self.0
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("expected {what}, found `{}`", self.0)))
    }

    /// Structured values (lists, maps) are written as YAML inside the string.
    fn structured(&self) -> Result<Value, serde_json::Error> {
        let docs = crate::yaml::parse_documents(&self.0, &crate::yaml::Limits::default())
            .map_err(|e| de::Error::custom(format!("not valid YAML: {e}")))?;
        Ok(docs.into_iter().next().unwrap_or(Value::Null))
    }
}

macro_rules! parse_number {
    ($($method:ident $visit:ident $ty:ty, $what:literal;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            visitor.$visit(self.parse::<$ty>($what)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ConfigString {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_string(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0.trim() {
            "true" | "True" | "TRUE" => visitor.visit_bool(true),
            "false" | "False" | "FALSE" => visitor.visit_bool(false),
            _ => Err(de::Error::custom(format!(
                "expected `true` or `false`, found `{}`",
                self.0
            ))),
        }
    }

    parse_number! {
        deserialize_i8 visit_i8 i8, "an integer";
        deserialize_i16 visit_i16 i16, "an integer";
        deserialize_i32 visit_i32 i32, "an integer";
        deserialize_i64 visit_i64 i64, "an integer";
        deserialize_u8 visit_u8 u8, "a non-negative integer";
        deserialize_u16 visit_u16 u16, "a non-negative integer";
        deserialize_u32 visit_u32 u32, "a non-negative integer";
        deserialize_u64 visit_u64 u64, "a non-negative integer";
        deserialize_f32 visit_f32 f32, "a number";
        deserialize_f64 visit_f64 f64, "a number";
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.0.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.structured()?.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.structured()?.deserialize_map(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.structured()?.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct newtype_struct tuple
        tuple_struct identifier ignored_any i128 u128
    }
}

/// Accepts a single mapping where a list is expected (`containers:` written as one
/// map), keeping field paths of errors inside either form.
pub fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: de::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct OneOrMany<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list or a single mapping")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
            Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq))
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|one| vec![one])
        }
    }
    deserializer.deserialize_any(OneOrMany(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Scaling {
        min_replicas: u32,
        #[serde(default)]
        enabled: bool,
        #[serde(default)]
        names: Vec<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Spec {
        scaling: Scaling,
        #[serde(default, deserialize_with = "one_or_many")]
        list: Vec<Scaling>,
    }

    #[test]
    fn accepts_one_or_many_and_keeps_paths() {
        let spec: Spec =
            from_value(&json!({"scaling": {"minReplicas": 1}, "list": {"minReplicas": 2}}))
                .unwrap();
        assert_eq!(spec.list.len(), 1);
        let err = from_value::<Spec>(&json!({"scaling": {"minReplicas": 1}, "list": [{"minReplicas": 2}, {"minReplica": 2}]})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "list[1].minReplica: unknown field `minReplica`, did you mean `minReplicas`?"
        );
    }

    #[test]
    fn suggests_the_closest_field() {
        let err = from_value::<Spec>(&json!({"scaling": {"minReplica": 1}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "scaling.minReplica: unknown field `minReplica`, did you mean `minReplicas`?"
        );
    }

    #[test]
    fn names_the_path_of_a_wrong_type() {
        let err = from_value::<Spec>(&json!({"scaling": {"minReplicas": "x"}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "scaling.minReplicas: expected a whole number (0 to 4294967295), found the string \"x\""
        );
    }

    fn spec_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "scaling": {"$ref": "#/$defs/Scaling"},
                "list": {"anyOf": [
                    {"type": "array", "items": {"$ref": "#/$defs/Scaling"}},
                    {"$ref": "#/$defs/Scaling"}
                ]}
            },
            "$defs": {"Scaling": {"type": "object", "properties": {
                "minReplicas": {"type": "integer", "format": "uint32", "minimum": 0},
                "enabled": {"type": "boolean"},
                "names": {"type": "array", "items": {"type": "string"}}
            }}}
        })
    }

    #[test]
    fn reports_every_problem_and_decodes_the_rest() {
        let value = json!({
            "scaling": {"minReplicas": 1, "enabld": true, "names": "a"},
            "list": [{"minReplicas": "x"}, {"minReplicas": 2}, {"minReplicas": 3, "extra": 1}]
        });
        let (decoded, problems) = decode_all::<Spec>(&value, &|| Some(spec_schema()));
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "scaling.enabld: unknown field `enabld`, did you mean `enabled`?",
                "scaling.names: expected a list, found the string \"a\"",
                "list[0].minReplicas: expected a whole number (0 to 4294967295), found the string \"x\"",
                // after list[0] was removed, serde saw this one as list[1]
                "list[2].extra: unknown field `extra`; known fields: minReplicas, enabled, names",
            ]
        );
        // decoded without the offending fields, so the checks after decoding still run
        let decoded = decoded.unwrap();
        assert_eq!(decoded.scaling.min_replicas, 1);
        assert_eq!(decoded.list.len(), 2);
    }

    #[test]
    fn a_removed_required_field_is_not_also_missing() {
        let value = json!({"scaling": {"minReplicas": "x", "enabled": "yes"}});
        let (decoded, problems) = decode_all::<Spec>(&value, &|| Some(spec_schema()));
        assert!(decoded.is_none());
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "scaling.minReplicas: expected a whole number (0 to 4294967295), found the string \"x\"",
                "scaling.enabled: expected true or false, found the string \"yes\"; `yes` is a string in YAML 1.2 (kpt, kyaml): write `true`",
            ]
        );
    }

    #[test]
    fn a_single_mapping_for_a_list_is_its_first_item() {
        let value =
            json!({"scaling": {"minReplicas": 1}, "list": {"minReplicas": 2, "names": {"a": 1}}});
        let (_, problems) = decode_all::<Spec>(&value, &|| Some(spec_schema()));
        assert_eq!(
            problems[0].to_string(),
            "list[0].names: expected a list, found a mapping"
        );
        let (_, problems) = decode_all::<Spec>(&json!({"scaling": "x"}), &|| Some(spec_schema()));
        assert_eq!(
            problems[0].to_string(),
            "scaling: expected a mapping with the fields minReplicas, enabled, names, found the string \"x\""
        );
    }

    #[test]
    fn no_rust_type_names_without_a_schema() {
        let cases = [
            json!({"scaling": {"minReplicas": -1}}),
            json!({"scaling": {"minReplicas": 1.5}}),
            json!({"scaling": "x"}),
            json!({"scaling": {"minReplicas": 1}, "list": "x"}),
            json!({"scaling": {"minReplicas": 1, "names": {"a": 1}}}),
        ];
        for case in cases {
            let message = from_value::<Spec>(&case).unwrap_err().to_string();
            for word in [
                "struct",
                "u32",
                "sequence",
                "Scaling",
                "map,",
                "expected map",
            ] {
                assert!(!message.contains(word), "{message}");
            }
        }
    }

    #[test]
    fn converts_config_map_strings() {
        let data = json!({"minReplicas": "3", "enabled": "true", "names": "[a, b]"});
        let scaling: Scaling = from_string_map(data.as_object().unwrap()).unwrap();
        assert_eq!(
            scaling,
            Scaling {
                min_replicas: 3,
                enabled: true,
                names: vec!["a".into(), "b".into()]
            }
        );
        let err = from_string_map::<Scaling>(json!({"minReplicas": "three"}).as_object().unwrap())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "minReplicas: expected a non-negative integer, found `three`"
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("minreplica", "minreplicas"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance_within("kitten", "sitting", 3), Some(3));
        assert_eq!(edit_distance_within("kitten", "sitting", 2), None);
        assert_eq!(edit_distance_within("configmap", "lummotopic", 2), None);
        assert_eq!(edit_distance_within("", "ab", 2), Some(2));
        assert_eq!(
            suggest("minReplica", ["maxReplicas", "minReplicas"]),
            Some("minReplicas")
        );
        assert_eq!(suggest("zzz", ["minReplicas"]), None);
        assert_eq!(suggest("prot", ["name", "port"]), Some("port"));
        assert_eq!(
            suggest("ackDeadline", ["topic", "ackDeadlineSeconds"]),
            Some("ackDeadlineSeconds")
        );
    }
}
