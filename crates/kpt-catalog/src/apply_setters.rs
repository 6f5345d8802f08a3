//! `apply-setters`: sets the fields marked with a `# kpt-set: <pattern>` line
//! comment, as kptdev/krm-functions-catalog `functions/go/apply-setters`
//! (applysetters/apply_setters.go) does. The setters are the functionConfig's
//! `data` (setter name → value). A scalar whose pattern names at least one given
//! setter gets the pattern with the given values, the other names taken from the
//! field's current value by matching the pattern; a name still unknown is an
//! error. A sequence whose pattern is exactly `${name}` gets the value read as a
//! YAML list. The markers are comments, which only the item's source text holds.

use krm_sdk::{Item, ObjectExt, ResourceList, ResultItem, Value};
use regex_lite::Regex;

const MARKER: &str = "kpt-set:";

fn setter_names(pattern: &str) -> Vec<String> {
    let re = Regex::new(r"\$\{([^}]*)\}").expect("valid");
    re.find_iter(pattern)
        .map(|m| m.as_str().to_string())
        .collect()
}

fn clean(name: &str) -> &str {
    name.trim().trim_start_matches("${").trim_end_matches('}')
}

/// currentSetterValues: the values of the pattern's setters in the current value.
fn current_values(pattern: &str, value: &str) -> Vec<(String, String)> {
    let names = setter_names(pattern);
    let mut regex = regex_lite::escape(pattern);
    for name in &names {
        regex = regex.replace(&regex_lite::escape(name), "(.*)");
    }
    let Ok(re) = Regex::new(&format!("^(?s:{regex})$")).or_else(|_| Regex::new(&regex)) else {
        return Vec::new();
    };
    let Some(groups) = re.captures(value) else {
        return Vec::new();
    };
    if groups.len() - 1 != names.len() {
        return Vec::new();
    }
    let values: Vec<String> = (1..groups.len())
        .map(|i| groups.get(i).map_or("", |m| m.as_str()).to_string())
        .collect();
    if values.iter().any(String::is_empty) {
        return Vec::new();
    }
    names
        .iter()
        .map(|n| clean(n).to_string())
        .zip(values)
        .collect()
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn process(list: &mut ResourceList) {
    // Decode: the setters are the `data` map of the functionConfig, whatever its kind.
    let mut setters: Vec<(String, String)> = list
        .function_config
        .as_ref()
        .and_then(|fc| fc.get("data"))
        .and_then(Value::as_object)
        .map(|data| {
            data.iter()
                .map(|(k, v)| (k.clone(), scalar_text(v)))
                .collect()
        })
        .unwrap_or_default();
    setters.sort();
    // Each object is worked out on its own, on every core (reading its comments,
    // after bringing its text up to date, is most of the work); the outcomes
    // are then taken in order, as the catalog's single walk takes them: the
    // first error stops it, earlier objects keep their new values and no
    // result but the error is reported.
    let outcomes = krm_sdk::parallel::map(&list.items, |item| set_object(item, &setters));
    let mut results = Vec::new();
    for (item, outcome) in list.items.iter_mut().zip(outcomes) {
        match outcome {
            None => {}
            Some(Err(error)) => {
                list.results.push(error);
                return;
            }
            Some(Ok((changed, set))) => {
                results.extend(set);
                item.set(changed);
            }
        }
    }
    if results.is_empty() {
        results.push(ResultItem::warning("no matches for input setter(s)"));
    }
    list.results.extend(results);
}

/// The setters' work on one object: its new value and a result for each field
/// set, or the error that stops the function; `None` when it holds no setter.
fn set_object(
    item: &Item,
    setters: &[(String, String)],
) -> Option<Result<(Value, Vec<ResultItem>), ResultItem>> {
    // Most objects hold no setter: no need to read their comments.
    let text = item.source_text().filter(|t| t.contains(MARKER))?;
    let (comments, quoted) = krm_sdk::edit::comments_and_quoted(text);
    let marked: Vec<(String, String)> = comments
        .into_iter()
        .filter_map(|(pointer, comment)| {
            Some((pointer, comment.strip_prefix(MARKER)?.trim().to_string()))
        })
        .collect();
    if marked.is_empty() {
        return None;
    }
    let object: &Value = item;
    let file = object.file_ref();
    let mut changed = object.clone();
    let mut results = Vec::new();
    for (pointer, pattern) in &marked {
        let Some(node) = changed.pointer_mut(pointer) else {
            continue;
        };
        let names = setter_names(pattern);
        let given = |name: &str| {
            setters
                .iter()
                .find(|(k, _)| k == clean(name))
                .map(|(_, v)| v.clone())
        };
        if !names.iter().any(|n| given(n).is_some()) {
            continue;
        }
        let field = pointer.trim_start_matches('/').replace('/', ".");
        let result = if node.is_array() {
            array_value(pattern, &names, &given).map(|v| {
                let shown = given(&names[0]).unwrap_or_default();
                *node = v;
                shown
            })
        } else if node.is_object() {
            continue;
        } else {
            let mut value = pattern.clone();
            for (name, v) in setters {
                value = value.replace(&format!("${{{name}}}"), v);
            }
            for (name, v) in current_values(pattern, &scalar_text(node)) {
                value = value.replace(&format!("${{{name}}}"), &v);
            }
            let unresolved = setter_names(&value);
            if !unresolved.is_empty() {
                Err(format!(
                    "values for setters [{}] must be provided",
                    unresolved.join(" ")
                ))
            } else {
                *node = typed(&value, quoted.contains(pointer));
                Ok(value)
            }
        };
        match result {
            Ok(value) => {
                let mut r = ResultItem::info(format!("set field value to {value:?}")).field(field);
                r.file = file.clone();
                r.resource_ref = Some(object.resource_ref());
                results.push(r);
            }
            Err(message) => {
                return Some(Err(ResultItem::error(format!(
                    "failed to apply setters: {message}"
                ))
                .for_object(object)
                .field(field)));
            }
        }
    }
    Some(Ok((changed, results)))
}

/// A scalar's new value: a quoted field stays a string; a plain one takes the
/// type its text reads as (kyaml clears the tag); an empty value is `""`.
fn typed(text: &str, quoted: bool) -> Value {
    if quoted || text.is_empty() {
        return Value::String(text.to_string());
    }
    krm_sdk::yaml::parse_documents(text, &Default::default())
        .ok()
        .and_then(|d| d.into_iter().next())
        .filter(|v| !v.is_object() && !v.is_array() && !v.is_null())
        .unwrap_or_else(|| Value::String(text.to_string()))
}

fn array_value(
    pattern: &str,
    names: &[String],
    given: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, String> {
    if names.len() != 1 || !pattern.starts_with("${") || !pattern.ends_with('}') {
        return Err(format!(
            "invalid setter pattern for array node: {pattern:?}"
        ));
    }
    let text = given(&names[0]).unwrap_or_default();
    if text.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    match krm_sdk::yaml::parse_documents(&text, &Default::default())
        .ok()
        .and_then(|d| d.into_iter().next())
    {
        Some(Value::Array(items)) => Ok(Value::Array(items)),
        _ => Err(format!(
            "input to array setter must be an array of values, but found {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn derives_unset_setters_from_the_current_value() {
        assert_eq!(
            super::current_values(
                "my-app-layer.${stage}.${domain}.${tld}",
                "my-app-layer.dev.example.com"
            ),
            vec![
                ("stage".into(), "dev".into()),
                ("domain".into(), "example".into()),
                ("tld".into(), "com".into())
            ]
        );
    }
}
