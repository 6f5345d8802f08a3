//! `create-setters`: puts `# kpt-set: ...` line comments on the fields whose
//! values contain a setter's value, so that apply-setters can change them
//! later (kptdev/krm-functions-catalog `functions/go/create-setters`, its only
//! release `create-setters/v0.1.0`: `main.go`, `createsetters/create_setters.go`,
//! `createsetters/walk.go`).
//!
//! Config: the functionConfig's `data` (a ConfigMap, usually `configMap:` in the
//! Kptfile or `-- name=value` on `kpt fn eval`); each value is read as YAML: a
//! sequence is an array setter, a scalar a scalar setter.
//! - every scalar field value (not keys) that contains one or more scalar
//!   setters' values gets `# kpt-set: <value with each ${name} in place>`;
//! - a sequence field whose (sorted) items equal an array setter's (sorted)
//!   values gets `# kpt-set: ${name}` on its key; a flow sequence (`[a, b]`)
//!   that matches is written as a block sequence first, as the release does;
//! - one info result per comment, an error when nothing matched.
//!
//! The release sorts its scalar setters with a comparison that is not an order
//! (`CompareSetters.Less`: "the other's name is not in my value"), starting from
//! Go's random map order: which of two overlapping setters wins can differ from
//! run to run under kpt. lummo starts from the names in sorted order and sorts
//! as Go's `sort.Sort` does for short lists (insertion sort), so a run is
//! reproducible.

use krm_sdk::yaml::Limits;
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};

/// A scalar setter: its name and the text it stands for.
struct Scalar {
    name: String,
    value: String,
}

/// An array setter: its name and its values, sorted.
struct Array {
    name: String,
    values: Vec<String>,
}

struct Setters {
    scalars: Vec<Scalar>,
    arrays: Vec<Array>,
}

/// One comment the walk decided on.
struct Found {
    /// JSON pointer of the node the comment goes after (a scalar, or the key
    /// of a sequence).
    pointer: String,
    /// The sequence the comment is on or in, written as a block sequence when
    /// it is a flow one.
    sequence: Option<String>,
    field_path: String,
    value: String,
    comment: String,
}

pub fn process(list: &mut ResourceList) {
    let setters = match decode(list.function_config.as_ref()) {
        Ok(setters) => setters,
        Err(message) => {
            return list.results.push(ResultItem::error(format!(
                "failed to create setters: {message}"
            )))
        }
    };
    let mut results = Vec::new();
    for item in list.items.iter_mut() {
        let mut found = Vec::new();
        visit(&setters, item.value(), "", "", None, &mut found);
        if found.is_empty() {
            continue;
        }
        let object = item.value().clone();
        let file = object.file_ref().map(|f| f.path).unwrap_or_default();
        let comments: Vec<(String, String)> = found
            .iter()
            .map(|f| (f.pointer.clone(), f.comment.clone()))
            .collect();
        if !item.set_line_comments(&comments) {
            // A comment that cannot go on its line sits in or after a flow
            // sequence (`[a, b]`), which the release writes as a block
            // sequence (`visitMapping` sets its style): do so, then put them.
            block_sequences(item, &found);
            if !item.set_line_comments(&comments) {
                results.push(
                    ResultItem::error(
                        "failed to create setters: cannot put the comments in this object's YAML \
                         (a matched value sits inside a flow mapping); write it in block style",
                    )
                    .for_object(&object),
                );
                continue;
            }
        }
        for f in &found {
            let mut result = ResultItem::info(format!(
                "Added line comment {:?} for field with value {:?}",
                f.comment, f.value
            ))
            .field(f.field_path.clone());
            if !file.is_empty() {
                result.file = Some(krm_sdk::FileRef {
                    path: file.clone(),
                    index: 0,
                });
            }
            results.push(result);
        }
    }
    if results.is_empty() {
        return list.results.push(ResultItem::error(
            "failed to create setters: no matches for the input list of setters",
        ));
    }
    list.results.extend(results);
}

/// Rewrites the sequences the comments are in or on as block sequences: the
/// text is edited to a value with one more item (a changed flow sequence is
/// written as a block), taken as the item's text, then to the value itself (a
/// block sequence stays one).
fn block_sequences(item: &mut krm_sdk::Item, found: &[Found]) {
    let sequences: Vec<&str> = found.iter().filter_map(|f| f.sequence.as_deref()).collect();
    if sequences.is_empty() {
        return;
    }
    item.update(|v| {
        for pointer in &sequences {
            if let Some(Value::Array(items)) = v.pointer_mut(pointer) {
                items.push(Value::Null);
            }
        }
    });
    // Take the edited text as the item's own (no comment put), so that the
    // next edit starts from the block sequence.
    item.set_line_comments(&[]);
    item.update(|v| {
        for pointer in &sequences {
            if let Some(Value::Array(items)) = v.pointer_mut(pointer) {
                items.pop();
            }
        }
    });
}

/// `Decode`: the setters of the functionConfig's `data`, scalar setters sorted
/// as the release sorts them.
fn decode(fc: Option<&Value>) -> Result<Setters, String> {
    let data = fc
        .and_then(|fc| fc.get("data"))
        .and_then(Value::as_object)
        .filter(|d| !d.is_empty())
        .ok_or("config map cannot be empty")?;
    let mut scalars = Vec::new();
    let mut arrays = Vec::new();
    for (name, value) in data {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(format!("`data.{name}` must be a string")),
        };
        let parsed = krm_sdk::yaml::parse_documents(&text, &Limits::default())
            .ok()
            .and_then(|mut docs| (docs.len() == 1).then(|| docs.remove(0)))
            .ok_or("parsing error")?;
        match parsed {
            Value::Array(items) => {
                let mut values: Vec<String> = items.iter().map(node_value).collect();
                values.sort();
                arrays.push(Array {
                    name: name.clone(),
                    values,
                });
            }
            Value::Object(_) => {}
            _ => scalars.push(Scalar {
                name: name.clone(),
                value: text,
            }),
        }
    }
    scalars.sort_by(|a, b| a.name.cmp(&b.name));
    arrays.sort_by(|a, b| a.name.cmp(&b.name));
    // Go's `sort.Sort` on short lists: an insertion sort with `CompareSetters.Less`.
    let less = |a: &Scalar, b: &Scalar| !a.value.contains(b.name.as_str());
    for i in 1..scalars.len() {
        let mut j = i;
        while j > 0 && less(&scalars[j], &scalars[j - 1]) {
            scalars.swap(j, j - 1);
            j -= 1;
        }
    }
    Ok(Setters { scalars, arrays })
}

/// A yaml.Node's `Value`: a scalar's text, "" for a collection.
fn node_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// `acceptImpl`: a mapping is visited (its sequence fields) before its fields,
/// a sequence's items in order, a scalar by `visitScalar`.
fn visit(
    setters: &Setters,
    node: &Value,
    pointer: &str,
    path: &str,
    sequence: Option<&str>,
    out: &mut Vec<Found>,
) {
    match node {
        Value::Object(map) => {
            visit_mapping(setters, map, pointer, path, out);
            for (key, child) in map {
                let child_pointer = format!("{pointer}/{}", escape(key));
                visit(
                    setters,
                    child,
                    &child_pointer,
                    &format!("{path}.{key}"),
                    None,
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                visit(
                    setters,
                    child,
                    &format!("{pointer}/{i}"),
                    &format!("{path}[{i}]"),
                    Some(pointer),
                    out,
                );
            }
        }
        scalar => {
            let value = node_value(scalar);
            let mut comment = value.clone();
            let mut matched = false;
            for setter in &setters.scalars {
                if value.contains(setter.value.as_str()) {
                    matched = true;
                    comment =
                        comment.replace(setter.value.as_str(), &format!("${{{}}}", setter.name));
                }
            }
            if matched {
                out.push(Found {
                    pointer: pointer.to_string(),
                    sequence: sequence.map(str::to_string),
                    field_path: path.trim_start_matches('.').to_string(),
                    value,
                    comment: format!("kpt-set: {comment}"),
                });
            }
        }
    }
}

/// `visitMapping`: a sequence field equal to an array setter gets the comment
/// on its key.
fn visit_mapping(
    setters: &Setters,
    map: &serde_json::Map<String, Value>,
    pointer: &str,
    path: &str,
    out: &mut Vec<Found>,
) {
    for (key, child) in map {
        let Value::Array(items) = child else {
            continue;
        };
        let mut values: Vec<String> = items.iter().map(node_value).collect();
        values.sort();
        let Some(setter) = setters.arrays.iter().find(|a| a.values == values) else {
            continue;
        };
        out.push(Found {
            pointer: format!("{pointer}/{}", escape(key)),
            // A flow sequence with items is written as a block one; the
            // comment then goes on the key either way.
            sequence: (!values.is_empty()).then(|| format!("{pointer}/{}", escape(key))),
            field_path: format!("{path}.{key}").trim_start_matches('.').to_string(),
            value: format!("[{}]", values.join(" ")),
            comment: format!("kpt-set: ${{{}}}", setter.name),
        });
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
