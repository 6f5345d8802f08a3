//! `apply-setters`: sets the fields marked with a `# kpt-set: <pattern>` line
//! comment (kptdev/krm-functions-catalog `functions/go/apply-setters`, the
//! kyaml setters it builds on). Config: a ConfigMap's `data` or `ApplySetters`
//! (`setters`), setter name → value. A scalar gets the pattern with every
//! `${name}` replaced, and is left alone when any name has no value; a
//! sequence whose pattern is exactly `${name}` gets the value read as a YAML list.
//! The markers are comments, which only the item's source text holds.

use crate::util::{self, Config};
use krm_sdk::{ResourceList, ResultItem, Value};
use serde_json::Map;

const KIND: &str = "ApplySetters";
const MARKER: &str = "kpt-set:";

pub fn process(list: &mut ResourceList) {
    let setters = match util::config(list.function_config.as_ref(), KIND) {
        Ok(Config::None) => Vec::new(),
        Ok(Config::ConfigMap(data)) => {
            let fc = Value::Object(Map::from_iter([("data".to_string(), Value::Object(data.clone()))]));
            match util::string_map(&fc, "data") {
                Ok(s) => s,
                Err(e) => return list.results.push(e),
            }
        }
        Ok(Config::Typed(fc)) => match util::check_fields(fc, &["setters"]).and_then(|_| util::string_map(fc, "setters")) {
            Ok(s) => s,
            Err(e) => return list.results.push(e),
        },
        Err(e) => return list.results.push(e),
    };
    if setters.is_empty() {
        return list.results.push(ResultItem::info("no setters are given in the functionConfig; nothing to apply"));
    }
    let mut results = Vec::new();
    for item in &mut list.items {
        let Some(text) = item.source_text() else { continue };
        let marked: Vec<(String, String)> = krm_sdk::edit::line_comments(text)
            .into_iter()
            .filter_map(|(pointer, comment)| Some((pointer, comment.strip_prefix(MARKER)?.trim().to_string())))
            .collect();
        if marked.is_empty() {
            continue;
        }
        let object = item.value().clone();
        item.update(|o| {
            for (pointer, pattern) in &marked {
                let Some(node) = o.pointer_mut(pointer) else { continue };
                if let Some(new) = apply(node, pattern, &setters) {
                    results.push(
                        ResultItem::info(format!("set field value to {:?}", display(&new)))
                            .for_object(&object)
                            .field(pointer.trim_start_matches('/').replace('/', ".")),
                    );
                    *node = new;
                }
            }
        });
    }
    list.results.extend(results);
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => krm_sdk::yaml::to_string(other).trim_end().to_string(),
    }
}

/// The new value of a marked node, or `None` when a setter it names is not given.
fn apply(node: &Value, pattern: &str, setters: &[(String, String)]) -> Option<Value> {
    let value_of = |name: &str| setters.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if let Value::Array(_) = node {
        let name = pattern.strip_prefix("${")?.strip_suffix('}')?;
        let text = value_of(name)?;
        let parsed = krm_sdk::yaml::parse_documents(text, &Default::default()).ok()?;
        return match parsed.into_iter().next() {
            Some(Value::Array(items)) => Some(Value::Array(items)),
            _ => None,
        };
    }
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}')? + start;
        out.push_str(value_of(&rest[start + 2..end])?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(match node {
        // A string stays a string (its quotes stay too); a number, boolean or null
        // field takes the type the text reads as in YAML.
        Value::String(_) => Value::String(out),
        _ => krm_sdk::yaml::parse_documents(&out, &Default::default())
            .ok()
            .and_then(|d| d.into_iter().next())
            .filter(|v| !v.is_object() && !v.is_array())
            .unwrap_or(Value::String(out)),
    })
}

