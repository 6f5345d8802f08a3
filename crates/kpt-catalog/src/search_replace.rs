//! `search-replace`: finds fields by path, value or value regex and optionally
//! puts a value or a line comment on them (kptdev/krm-functions-catalog
//! `functions/go/search-replace/searchreplace`: search_replace.go, pathparser.go,
//! walk.go). Config: a ConfigMap's `data` with the matchers `by-value`,
//! `by-value-regex`, `by-path` (`.`-separated, `*` one element, `**` any number,
//! `list[*]`/`list[0]` elements), `by-file-path` (a glob on the object's file), and
//! the actions `put-value` (capture groups `${1}`...) and `put-comment`.
//! Every object is searched, local config included.

use crate::util::{self, Config};
use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};
use regex_lite::Regex;

const MATCHERS: &[&str] = &[
    "by-value",
    "by-file-path",
    "by-value-regex",
    "by-path",
    "put-value",
    "put-comment",
];

#[derive(Default)]
struct Settings {
    by_value: String,
    by_value_regex: Option<Regex>,
    by_value_regex_text: String,
    by_path: String,
    by_file_path: String,
    put_value: String,
    put_comment: String,
}

fn settings(list: &ResourceList) -> Result<Settings, ResultItem> {
    let fc = list.function_config.as_ref();
    let data = match util::config(fc, "SearchReplace")? {
        Config::ConfigMap(data) => data,
        Config::None => return Err(ResultItem::error("functionConfig is missing; give the matchers (`by-path`, `by-value`, ...) in a ConfigMap's `data`")),
        Config::Typed(fc) => return Err(ResultItem::error("search-replace takes a ConfigMap").for_object(fc)),
    };
    let fc = fc.expect("a ConfigMap is present");
    for key in data.keys() {
        if !MATCHERS.contains(&key.as_str()) {
            let quoted: Vec<String> = MATCHERS.iter().map(|m| format!("{m:?}")).collect();
            let hint = krm_sdk::decode::suggest(key, MATCHERS.iter().copied())
                .map(|s| format!("; did you mean {s:?}?"))
                .unwrap_or_default();
            return Err(ResultItem::error(format!(
                "invalid matcher {key:?}, must be one of [{}]{hint}",
                quoted.join(" ")
            ))
            .for_object(fc)
            .field(format!("data.{key}")));
        }
    }
    let get = |k: &str| match data.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let mut s = Settings {
        by_value: get("by-value"),
        by_value_regex_text: get("by-value-regex"),
        by_path: get("by-path"),
        by_file_path: get("by-file-path"),
        put_value: get("put-value"),
        put_comment: get("put-comment"),
        ..Default::default()
    };
    if !s.by_value.is_empty() && !s.by_value_regex_text.is_empty() {
        return Err(ResultItem::error(
            "only one of [\"by-value\", \"by-value-regex\"] can be provided",
        )
        .for_object(fc)
        .field("data"));
    }
    if !s.by_value_regex_text.is_empty() {
        // Go's regexp matches anywhere unless anchored, as `find` does.
        s.by_value_regex = Some(Regex::new(&s.by_value_regex_text).map_err(|e| {
            ResultItem::error(format!(
                "failed to compile input pattern {:?}: {e}",
                s.by_value_regex_text
            ))
            .for_object(fc)
            .field("data.by-value-regex")
        })?);
    }
    Ok(s)
}

impl Settings {
    fn path_match(&self, path: &str) -> bool {
        if self.by_path.is_empty() {
            return false;
        }
        let pattern: Vec<&str> = self.by_path.split('.').collect();
        let elems: Vec<&str> = path.trim_start_matches('.').split('.').collect();
        back_track_match(&elems, &pattern)
    }

    fn value_match(&self, value: &str) -> bool {
        (!self.by_value.is_empty() && self.by_value == value)
            || self
                .by_value_regex
                .as_ref()
                .is_some_and(|r| r.is_match(value))
    }

    fn criteria_match(&self, value: &str, path: &str) -> bool {
        let path_match = self.path_match(path);
        let value_match = self.value_match(value);
        // searchCriteriaMatch: value and path, value alone, or path alone.
        (value_match && (path_match || self.by_path.is_empty()))
            || (path_match && self.by_value.is_empty() && self.by_value_regex.is_none())
    }

    /// resolvePattern: `${n}` from the regex's capture groups.
    fn resolve(&self, value: &str, pattern: &str) -> Result<String, String> {
        let Some(regex) = &self.by_value_regex else {
            return Ok(pattern.to_string());
        };
        let mut out = pattern.to_string();
        if let Some(groups) = regex.captures(value) {
            for i in 1..groups.len() {
                out = out.replace(
                    &format!("${{{i}}}"),
                    groups.get(i).map_or("", |m| m.as_str()),
                );
            }
        }
        let unresolved = Regex::new(r"\$\{[0-9]+\}").expect("valid");
        if unresolved.is_match(&out) {
            return Err("unable to resolve capture groups".into());
        }
        Ok(out)
    }

    /// One of `searchResultsToItems`'s results: no severity, no object, the
    /// file by its path only (kyaml's old `framework.ResultItem` leaves an
    /// empty `file` out); `value` as kyaml writes the field's node.
    fn result(&self, value: &str, field: &str, file: &str) -> ResultItem {
        let action = if self.put_comment.is_empty() && self.put_value.is_empty() {
            format!("Matched field value {}", util::go_quote(value))
        } else {
            format!("Mutated field value to {}", util::go_quote(value))
        };
        ResultItem {
            file: (!file.is_empty()).then(|| krm_sdk::FileRef {
                path: file.to_string(),
                index: 0,
            }),
            ..ResultItem::unset(action).field(field)
        }
    }

    fn put_by_path(&self) -> bool {
        let abs = !self.by_path.is_empty()
            && self
                .by_path
                .split('.')
                .all(|e| !e.is_empty() && !e.contains('*'));
        abs && !self.by_path.contains('[')
            && self.by_value.is_empty()
            && self.by_value_regex.is_none()
            && !self.put_value.is_empty()
    }
}

/// pathparser.go `backTrackMatch`.
fn back_track_match(elems: &[&str], pattern: &[&str]) -> bool {
    let (n, m) = (elems.len(), pattern.len());
    let mut dp = vec![vec![false; m + 1]; n + 1];
    dp[0][0] = true;
    for j in 1..=m {
        if pattern[j - 1] == "**" {
            dp[0][j] = dp[0][j - 1];
        }
    }
    for i in 1..=n {
        for j in 1..=m {
            if pattern[j - 1] == "**" {
                dp[i][j] = dp[i][j - 1] || dp[i - 1][j];
            } else if pattern[j - 1] == "*" || element_match(elems[i - 1], pattern[j - 1]) {
                dp[i][j] = dp[i - 1][j - 1];
            }
        }
    }
    dp[n][m]
}

fn element_match(elem: &str, pattern: &str) -> bool {
    if elem == pattern {
        return true;
    }
    if elem.contains('[') {
        let e: Vec<&str> = elem.split('[').collect();
        let p: Vec<&str> = pattern.split('[').collect();
        if p[0] != "*" && e[0] != p[0] {
            return false;
        }
        return p.len() > 1 && (p[1] == "*]" || e.get(1) == p.get(1));
    }
    false
}

/// A doublestar glob (`**` any folders, `*` and `?` within one).
fn glob(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = if p.get(2) == Some(&b'/') {
                    &p[3..]
                } else {
                    &p[2..]
                };
                (0..=s.len()).any(|i| (i == 0 || s[i - 1] == b'/') && go(rest, &s[i..]))
                    || go(rest, s)
            }
            Some(b'*') => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| go(&p[1..], &s[i..])),
            Some(b'?') => !s.is_empty() && s[0] != b'/' && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// A scalar as kyaml's `yaml.String` writes its node, trimmed: in its quotes
/// (the node keeps its style when its value changes) and with its line
/// comment.
fn written(text: &str, quote: Option<char>, comment: Option<&str>) -> String {
    let value = match quote {
        Some('\'') => format!("'{}'", text.replace('\'', "''")),
        Some(_) => serde_json::to_string(text).unwrap_or_default(),
        None => text.to_string(),
    };
    match comment {
        Some(comment) => format!("{value} # {comment}"),
        None => value,
    }
}

/// A node in flow style (`[a, b]`), as visitMapping prints a sequence.
fn flow(node: &Value) -> String {
    match node {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}: {}", flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        scalar => scalar_text(scalar).unwrap_or_default(),
    }
}

/// The value a scalar takes from new text: a quoted field stays a string; a plain
/// one takes the type its text reads as (kyaml clears the tag).
fn typed(text: &str, quoted: bool) -> Value {
    if quoted {
        return Value::String(text.to_string());
    }
    krm_sdk::yaml::parse_documents(text, &Default::default())
        .ok()
        .and_then(|d| d.into_iter().next())
        .filter(|v| !v.is_object() && !v.is_array())
        .unwrap_or_else(|| Value::String(text.to_string()))
}

struct Found {
    pointer: String,
    path: String,
    new_value: Option<String>,
    comment: Option<String>,
    /// A sequence whose key gets the comment.
    sequence: bool,
}

fn walk(
    s: &Settings,
    v: &Value,
    pointer: &str,
    path: &str,
    out: &mut Vec<Found>,
    err: &mut Option<String>,
) {
    match v {
        Value::Object(map) => {
            // visitMapping first: put-comment on the key of each sequence the
            // path matches, then every field's value.
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                if !s.put_comment.is_empty()
                    && child.as_array().is_some_and(|a| !a.is_empty())
                    && s.path_match(child_path.trim_start_matches('.'))
                {
                    out.push(Found {
                        pointer: format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1")),
                        path: child_path,
                        new_value: None,
                        comment: Some(s.put_comment.clone()),
                        sequence: true,
                    });
                }
            }
            for (key, child) in map {
                let child_pointer =
                    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                walk(s, child, &child_pointer, &format!("{path}.{key}"), out, err);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(
                    s,
                    child,
                    &format!("{pointer}/{i}"),
                    &format!("{path}[{i}]"),
                    out,
                    err,
                );
            }
        }
        scalar => {
            let text = scalar_text(scalar).unwrap_or_default();
            if !s.criteria_match(&text, path) {
                return;
            }
            let resolve = |pattern: &str| -> Option<String> {
                if pattern.is_empty() {
                    return None;
                }
                s.resolve(&text, pattern).ok()
            };
            if (!s.put_comment.is_empty() && s.resolve(&text, &s.put_comment).is_err())
                || (!s.put_value.is_empty() && s.resolve(&text, &s.put_value).is_err())
            {
                *err = Some("unable to resolve capture groups".into());
                return;
            }
            out.push(Found {
                pointer: pointer.to_string(),
                path: path.to_string(),
                new_value: resolve(&s.put_value),
                comment: resolve(&s.put_comment),
                sequence: false,
            });
        }
    }
}

pub fn process(list: &mut ResourceList) {
    let s = match settings(list) {
        Ok(s) => s,
        Err(e) => return list.results.push(e),
    };
    let mut results = Vec::new();
    for item in &mut list.items {
        let file = item.file_ref().map(|f| f.path).unwrap_or_default();
        if !s.by_file_path.is_empty() && !glob(&s.by_file_path, &file) {
            continue;
        }
        if s.put_by_path() {
            let segments: Vec<&str> = s.by_path.split('.').collect();
            let quoted = item
                .source_text()
                .map(krm_sdk::edit::quoted_scalars)
                .unwrap_or_default();
            let pointer = format!("/{}", segments.join("/"));
            let value = typed(&s.put_value, quoted.contains(&pointer));
            item.update(|o| {
                let mut node = o;
                for segment in &segments[..segments.len() - 1] {
                    if !node.get(*segment).is_some_and(Value::is_object) {
                        if !node.is_object() {
                            return;
                        }
                        node[*segment] = Value::Object(Default::default());
                    }
                    node = node.get_mut(*segment).expect("made above");
                }
                if node.is_object() {
                    node[*segments.last().expect("non-empty")] = value.clone();
                }
            });
            results.push(s.result(&s.put_value, &s.by_path, &file));
            continue;
        }
        let mut found = Vec::new();
        let mut error = None;
        walk(&s, item, "", "", &mut found, &mut error);
        if let Some(e) = error {
            list.results.push(ResultItem::error(e).for_object(item));
            return;
        }
        if found.is_empty() {
            continue;
        }
        let (line_comments, quoted) = item
            .source_text()
            .map(krm_sdk::edit::comments_and_quoted)
            .unwrap_or_default();
        let marks = item
            .source_text()
            .map(krm_sdk::edit::quote_marks)
            .unwrap_or_default();
        let object = item.value().clone();
        item.update(|o| {
            for f in found.iter().filter(|f| !f.sequence) {
                if let (Some(new), Some(node)) = (&f.new_value, o.pointer_mut(&f.pointer)) {
                    *node = typed(new, quoted.contains(&f.pointer));
                }
            }
        });
        let comments: Vec<(String, String)> = found
            .iter()
            .filter_map(|f| Some((f.pointer.clone(), f.comment.clone()?)))
            .collect();
        if !comments.is_empty() && !item.set_line_comments(&comments) {
            results.push(
                ResultItem::warning(
                    "cannot put the comments: the object has no YAML text to put them in",
                )
                .for_object(&object),
            );
        }
        for f in &found {
            let Some(node) = item.value().pointer(&f.pointer) else {
                continue;
            };
            let path = f.path.trim_start_matches('.');
            if f.sequence {
                // visitMapping: the sequence in flow style; the field, the
                // path matcher and the comment as configured.
                let field = format!("{} # {}", s.by_path, s.put_comment);
                results.push(s.result(&flow(node), &field, &file));
            } else if !file.is_empty() {
                let quote = marks.iter().find(|(p, _)| *p == f.pointer).map(|m| m.1);
                let comment = f.comment.as_deref().or_else(|| {
                    line_comments
                        .iter()
                        .find(|(p, _)| *p == f.pointer)
                        .map(|c| c.1.as_str())
                });
                let text = scalar_text(node).unwrap_or_default();
                results.push(s.result(&written(&text, quote, comment), path, &file));
            }
        }
    }
    // searchResultsToItems: no search result (they alone have no severity).
    if results
        .iter()
        .all(|r| r.severity != krm_sdk::Severity::Unset)
    {
        results.push(ResultItem::unset("no matches"));
    }
    list.results.extend(results);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_paths_as_the_catalog_does() {
        let m = |path: &str, pattern: &str| {
            back_track_match(
                &path.split('.').collect::<Vec<_>>(),
                &pattern.split('.').collect::<Vec<_>>(),
            )
        };
        assert!(m("a.a.b.c.e.b", "a.*.b.**.b"));
        assert!(m("data.FQDN", "data.**"));
        assert!(m("spec.containers[0].image", "spec.containers[*].image"));
        assert!(m("spec.containers[0].image", "**.image"));
        assert!(!m("metadata.name", "data.**"));
    }

    #[test]
    fn globs_file_paths() {
        assert!(glob("**/*.yaml", "a/b/c.yaml"));
        assert!(glob("**/*.yaml", "c.yaml"));
        assert!(glob("*.yaml", "c.yaml"));
        assert!(!glob("*.yaml", "a/c.yaml"));
    }
}
