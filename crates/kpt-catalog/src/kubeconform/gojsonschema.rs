//! The checks of the catalog's `kubeval` releases, with their words: each
//! release's image ran instrumenta/kubeval v0.16.1 over each object
//! (functions/ts/kubeval `kubeval.ts` at kubeval/v0.1.1, `kubeval.Dockerfile`),
//! which validates with xeipuuv/gojsonschema at da425ebb (kubeval's `go.mod`)
//! and prints each error as `<field>: <description>` (`ResultErrorFields.String`,
//! the locale's `ErrorFormat`). This module walks a schema the way
//! gojsonschema's `validateRecursive` does (validation.go at that commit):
//! - a value of the wrong type is one error and nothing more is checked there;
//! - a node's own errors come before its properties' (`validateSchema`,
//!   `validateObject`, `validateCommon`, then each property), every missing
//!   required property and every property `additionalProperties: false`
//!   refuses is an error of its own, named by the property alone
//!   (`ResultErrorFields.Field` prefers the `property` detail);
//! - `anyOf`/`oneOf` add the errors of the alternative that scored best (the
//!   `score` each check adds to, two taken off per error).
//!
//! Go walks a schema's properties and an object's keys in map order (random);
//! lummo walks the object's keys in the manifest's order. Of gojsonschema's
//! formats the schemas use `date-time` (Go's `time.Parse` with the layouts
//! `DateTimeFormatChecker` tries); `hostname`, `uuid`, `ipv4`, `ipv6` and
//! `regex` are checked as gojsonschema checks them, `email`, `uri` and
//! `uri-reference` only for what Go's parsers refuse most plainly (an `@`, a
//! scheme); kubeval's own `int32`, `int64`, `byte` and `int-or-string` pass
//! everything; any other format is not checked (gojsonschema drops it when it
//! reads the schema).

use super::jsonschema::Resolve;
use serde_json::{Map, Value};

/// One error: kubeval's `<field>: <description>`, split as the catalog's
/// function splits it (at the first `:`).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// gojsonschema's `Field()`: the property a `required` or
    /// `additionalProperties` error names, else the path below `(root)`
    /// (`spec.replicas`; `(root)` for the object itself).
    pub field: String,
    pub description: String,
}

impl Failure {
    /// What the catalog's function makes of kubeval's line: the text before
    /// the first `:` is the field path, the rest (trimmed) the message.
    pub fn split(&self) -> (String, String) {
        let line = format!("{}: {}", self.field, self.description);
        let (path, rest) = line.split_once(':').unwrap_or((&line, ""));
        (path.to_string(), rest.trim().to_string())
    }
}

pub struct Walker<'a, R: Resolve> {
    pub resolver: &'a R,
    /// Whether `additionalProperties: false` holds (as `Validator::closed`).
    pub closed: bool,
}

#[derive(Default)]
struct Outcome {
    errors: Vec<Failure>,
    score: i64,
}

impl Outcome {
    /// `Result.addInternalError`.
    fn add(&mut self, ctx: &[String], property: Option<&str>, description: String) {
        let field = match property {
            Some(p) => p.to_string(),
            None if ctx.is_empty() => "(root)".to_string(),
            None => ctx.join("."),
        };
        self.errors.push(Failure { field, description });
        self.score -= 2;
    }

    fn merge(&mut self, other: Outcome) {
        self.errors.extend(other.errors);
        self.score += other.score;
    }

    fn valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// References followed without descending into the instance before giving up.
const MAX_REF_CHAIN: u32 = 64;

impl<R: Resolve> Walker<'_, R> {
    /// kubeval's errors for `value` against `schema` (in document `doc`).
    pub fn failures(&self, doc: usize, schema: &Value, value: &Value) -> Vec<Failure> {
        let mut out = Outcome::default();
        self.recursive(doc, schema, value, &mut Vec::new(), &mut out, 0);
        out.errors
    }

    fn sub(&self, doc: usize, schema: &Value, value: &Value, ctx: &mut Vec<String>) -> Outcome {
        let mut out = Outcome::default();
        self.recursive(doc, schema, value, ctx, &mut out, 0);
        out
    }

    /// `validateRecursive`.
    fn recursive(
        &self,
        doc: usize,
        schema: &Value,
        value: &Value,
        ctx: &mut Vec<String>,
        out: &mut Outcome,
        chain: u32,
    ) {
        let Value::Object(s) = schema else { return };
        if let Some(Value::String(reference)) = s.get("$ref") {
            match self.resolver.resolve(doc, reference) {
                Some((doc, target)) if chain < MAX_REF_CHAIN => {
                    self.recursive(doc, target, value, ctx, out, chain + 1)
                }
                _ => out.add(
                    ctx,
                    None,
                    format!("Internal Error cannot resolve reference {reference}"),
                ),
            }
            return;
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let has = |t: &str| types.contains(&t);
        let given = match value {
            Value::Null => "null",
            Value::Number(n) if has("number") || has("integer") && is_integer(n) => "",
            Value::Number(n) if is_integer(n) => "integer",
            Value::Number(_) => "number",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
        };
        if !types.is_empty() && !given.is_empty() && !has(given) {
            // `jsonSchemaType.String`: one name, or `[a,b]` in the schema's order.
            let expected = match types.as_slice() {
                [one] => one.to_string(),
                many => format!("[{}]", many.join(",")),
            };
            out.add(
                ctx,
                None,
                format!("Invalid type. Expected: {expected}, given: {given}"),
            );
            return;
        }
        self.schema(doc, s, value, ctx, out);
        match value {
            Value::Number(n) => number(s, n, ctx, out),
            Value::Array(items) => self.array(doc, s, items, ctx, out),
            Value::Object(object) => self.object(doc, s, object, ctx, out),
            _ => {}
        }
        common(s, value, ctx, out);
        if let Value::String(text) = value {
            string(s, text, ctx, out);
        }
        if let (Value::Object(object), Some(Value::Object(properties))) =
            (value, s.get("properties"))
        {
            for (name, child) in object {
                if let Some(schema) = properties.get(name) {
                    ctx.push(name.clone());
                    self.recursive(doc, schema, child, ctx, out, 0);
                    ctx.pop();
                }
            }
        }
        out.score += 1;
    }

    /// `validateSchema`: anyOf, oneOf, allOf, not.
    fn schema(
        &self,
        doc: usize,
        s: &Map<String, Value>,
        value: &Value,
        ctx: &mut Vec<String>,
        out: &mut Outcome,
    ) {
        let list = |key: &str| {
            s.get(key)
                .and_then(Value::as_array)
                .filter(|l| !l.is_empty())
        };
        if let Some(any) = list("anyOf") {
            let mut best: Option<Outcome> = None;
            let mut valid = false;
            for schema in any {
                let result = self.sub(doc, schema, value, ctx);
                if result.valid() {
                    valid = true;
                    break;
                }
                if best.as_ref().is_none_or(|b| result.score > b.score) {
                    best = Some(result);
                }
            }
            if !valid {
                out.add(
                    ctx,
                    None,
                    "Must validate at least one schema (anyOf)".into(),
                );
                out.merge(best.unwrap_or_default());
            }
        }
        if let Some(one) = list("oneOf") {
            let mut validated = 0;
            let mut best: Option<Outcome> = None;
            for schema in one {
                let result = self.sub(doc, schema, value, ctx);
                if result.valid() {
                    validated += 1;
                } else if validated == 0 && best.as_ref().is_none_or(|b| result.score > b.score) {
                    best = Some(result);
                }
            }
            if validated != 1 {
                out.add(
                    ctx,
                    None,
                    "Must validate one and only one schema (oneOf)".into(),
                );
                if validated == 0 {
                    out.merge(best.unwrap_or_default());
                }
            }
        }
        if let Some(all) = list("allOf") {
            let mut validated = 0;
            for schema in all {
                let result = self.sub(doc, schema, value, ctx);
                if result.valid() {
                    validated += 1;
                }
                out.merge(result);
            }
            if validated != all.len() {
                out.add(ctx, None, "Must validate all the schemas (allOf)".into());
            }
        }
        if let Some(not) = s.get("not") {
            if self.sub(doc, not, value, ctx).valid() {
                out.add(ctx, None, "Must not validate the schema (not)".into());
            }
        }
        out.score += 1;
    }

    /// `validateArray`.
    fn array(
        &self,
        doc: usize,
        s: &Map<String, Value>,
        items: &[Value],
        ctx: &mut Vec<String>,
        out: &mut Outcome,
    ) {
        match s.get("items") {
            Some(Value::Array(tuple)) => {
                for (i, (schema, item)) in tuple.iter().zip(items).enumerate() {
                    ctx.push(i.to_string());
                    let result = self.sub(doc, schema, item, ctx);
                    ctx.pop();
                    out.merge(result);
                }
                if tuple.len() < items.len() {
                    match s.get("additionalItems") {
                        Some(Value::Bool(false)) => {
                            out.add(ctx, None, "No additional items allowed on array".into())
                        }
                        Some(schema @ Value::Object(_)) => {
                            for (i, item) in items.iter().enumerate().skip(tuple.len()) {
                                ctx.push(i.to_string());
                                let result = self.sub(doc, schema, item, ctx);
                                ctx.pop();
                                out.merge(result);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some(schema @ Value::Object(_)) => {
                for (i, item) in items.iter().enumerate() {
                    ctx.push(i.to_string());
                    let result = self.sub(doc, schema, item, ctx);
                    ctx.pop();
                    out.merge(result);
                }
            }
            _ => {}
        }
        if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                out.add(ctx, None, format!("Array must have at least {min} items"));
            }
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64) {
            if items.len() as u64 > max {
                out.add(ctx, None, format!("Array must have at most {max} items"));
            }
        }
        if s.get("uniqueItems") == Some(&Value::Bool(true)) {
            // One error for each item equal to an earlier one.
            for (i, item) in items.iter().enumerate() {
                if items[..i].iter().any(|earlier| same(earlier, item)) {
                    out.add(ctx, None, "array items must be unique".into());
                }
            }
        }
        out.score += 1;
    }

    /// `validateObject`.
    fn object(
        &self,
        doc: usize,
        s: &Map<String, Value>,
        object: &Map<String, Value>,
        ctx: &mut Vec<String>,
        out: &mut Outcome,
    ) {
        if let Some(min) = s.get("minProperties").and_then(Value::as_u64) {
            if (object.len() as u64) < min {
                out.add(ctx, None, format!("Must have at least {min} properties"));
            }
        }
        if let Some(max) = s.get("maxProperties").and_then(Value::as_u64) {
            if object.len() as u64 > max {
                out.add(ctx, None, format!("Must have at most {max} properties"));
            }
        }
        for required in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if object.contains_key(required) {
                out.score += 1;
            } else {
                out.add(ctx, Some(required), format!("{required} is required"));
            }
        }
        let properties = s.get("properties").and_then(Value::as_object);
        let additional = match s.get("additionalProperties") {
            Some(Value::Bool(false)) if self.closed => Some(None),
            Some(schema @ Value::Object(_)) => Some(Some(schema)),
            _ => None,
        };
        for (name, child) in object {
            let matched = self.pattern_property(doc, s, name, child, ctx, out);
            let Some(additional) = additional else {
                continue;
            };
            let declared = properties.is_some_and(|p| p.contains_key(name));
            if declared || matched {
                continue;
            }
            match additional {
                None => out.add(
                    ctx,
                    Some(name),
                    format!("Additional property {name} is not allowed"),
                ),
                // Checked in the object's own context (gojsonschema's).
                Some(schema) => {
                    let result = self.sub(doc, schema, child, ctx);
                    out.merge(result);
                }
            }
        }
        out.score += 1;
    }

    /// `validatePatternProperty`: whether a pattern matched the key (each
    /// matching pattern's schema checked against the value).
    fn pattern_property(
        &self,
        doc: usize,
        s: &Map<String, Value>,
        key: &str,
        value: &Value,
        ctx: &mut Vec<String>,
        out: &mut Outcome,
    ) -> bool {
        let mut matched = false;
        for (pattern, schema) in s
            .get("patternProperties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if regex_lite::Regex::new(pattern).is_ok_and(|r| r.is_match(key)) {
                matched = true;
                ctx.push(key.to_string());
                let result = self.sub(doc, schema, value, ctx);
                ctx.pop();
                out.merge(result);
            }
        }
        if matched {
            out.score += 1;
        }
        matched
    }
}

/// `validateCommon`: `enum` (`const` is draft 6, which Kubernetes' schemas
/// do not use).
fn common(s: &Map<String, Value>, value: &Value, ctx: &[String], out: &mut Outcome) {
    if let Some(Value::Array(values)) = s
        .get("enum")
        .filter(|e| e.as_array().is_some_and(|a| !a.is_empty()))
    {
        if !values.iter().any(|v| same(v, value)) {
            let allowed: Vec<String> = values.iter().map(go_json).collect();
            let field = if ctx.is_empty() {
                "(root)".to_string()
            } else {
                ctx.join(".")
            };
            out.add(
                ctx,
                None,
                format!(
                    "{field} must be one of the following: {}",
                    allowed.join(", ")
                ),
            );
        }
    }
    out.score += 1;
}

/// `validateString`.
fn string(s: &Map<String, Value>, text: &str, ctx: &[String], out: &mut Outcome) {
    let runes = text.chars().count() as u64;
    if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
        if runes < min {
            out.add(
                ctx,
                None,
                format!("String length must be greater than or equal to {min}"),
            );
        }
    }
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
        if runes > max {
            out.add(
                ctx,
                None,
                format!("String length must be less than or equal to {max}"),
            );
        }
    }
    if let Some(Value::String(pattern)) = s.get("pattern") {
        if regex_lite::Regex::new(pattern).is_ok_and(|r| !r.is_match(text)) {
            out.add(ctx, None, format!("Does not match pattern '{pattern}'"));
        }
    }
    if let Some(Value::String(format)) = s.get("format") {
        if is_format(format, text) == Some(false) {
            out.add(ctx, None, format!("Does not match format '{format}'"));
        }
    }
    out.score += 1;
}

/// `validateNumber`: multipleOf, maximum, minimum (draft 4's boolean
/// exclusive flags).
fn number(s: &Map<String, Value>, n: &serde_json::Number, ctx: &[String], out: &mut Outcome) {
    let Some(got) = n.as_f64() else { return };
    let flag = |key: &str| s.get(key) == Some(&Value::Bool(true));
    if let Some(step) = s
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0)
    {
        let q = got / step;
        if q.fract() != 0.0 {
            out.add(
                ctx,
                None,
                format!("Must be a multiple of {}", big_float(step)),
            );
        }
    }
    if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
        match flag("exclusiveMaximum") {
            true if got >= max => {
                out.add(ctx, None, format!("Must be less than {}", big_float(max)))
            }
            false if got > max => out.add(
                ctx,
                None,
                format!("Must be less than or equal to {}", big_float(max)),
            ),
            _ => {}
        }
    }
    if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
        match flag("exclusiveMinimum") {
            true if got <= min => out.add(
                ctx,
                None,
                format!("Must be greater than {}", big_float(min)),
            ),
            false if got < min => out.add(
                ctx,
                None,
                format!("Must be greater than or equal to {}", big_float(min)),
            ),
            _ => {}
        }
    }
    out.score += 1;
}

/// gojsonschema's `checkJsonInteger`: a number without a fraction.
fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// Equality as `marshalWithoutNumber` decides it (numbers by value).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A value as Go's `json.Marshal` writes it (`<`, `>` and `&` escaped).
fn go_json(value: &Value) -> String {
    serde_json::to_string(value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A `big.Float` as text/template prints it (`%v`: `'g'`, shortest, an
/// exponent from 1e+06 up and below 1e-04).
fn big_float(f: f64) -> String {
    let exponent = if f == 0.0 {
        0
    } else {
        f.abs().log10().floor() as i32
    };
    if (-4..6).contains(&exponent) {
        return format!("{f}");
    }
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            format!("{m}e{sign}{digits:0>2}")
        }
        None => text,
    }
}

/// Whether `text` is of `format`; `None` for a format gojsonschema does not
/// know (not checked).
fn is_format(format: &str, text: &str) -> Option<bool> {
    Some(match format {
        // kubeval's own (`ValidFormat`: everything passes).
        "int32" | "int64" | "byte" | "int-or-string" => true,
        "date-time" => go_date_time(text),
        "hostname" => regex_lite::Regex::new(
            r"^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])(\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]{0,61}[a-zA-Z0-9]))*$",
        )
        .is_ok_and(|r| r.is_match(text)),
        "uuid" => regex_lite::Regex::new(
            "^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$",
        )
        .is_ok_and(|r| r.is_match(text)),
        // `net.ParseIP` and a `.` or a `:`.
        "ipv4" => text.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => text.parse::<std::net::Ipv6Addr>().is_ok(),
        "regex" => regex_lite::Regex::new(text).is_ok(),
        "email" => text.contains('@'),
        "uri" => text.split_once(':').is_some_and(|(scheme, _)| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }),
        "uri-reference" => !text.contains(char::is_whitespace),
        _ => return None,
    })
}

/// `DateTimeFormatChecker`: Go's `time.Parse` with `15:04:05`,
/// `15:04:05Z07:00`, `2006-01-02`, RFC 3339 (with or without a fraction).
fn go_date_time(text: &str) -> bool {
    let digits =
        |s: &str, n: usize| s.len() >= n && s.as_bytes()[..n].iter().all(u8::is_ascii_digit);
    let clock = |s: &str| -> Option<usize> {
        // hh:mm:ss, then an optional fraction (Go accepts one after seconds).
        let b = s.as_bytes();
        if !(digits(s, 2)
            && b.get(2) == Some(&b':')
            && digits(&s[3..], 2)
            && b.get(5) == Some(&b':')
            && digits(&s[6..], 2))
        {
            return None;
        }
        let (h, m, sec): (u32, u32, u32) = (
            s[..2].parse().ok()?,
            s[3..5].parse().ok()?,
            s[6..8].parse().ok()?,
        );
        if h > 23 || m > 59 || sec > 59 {
            return None;
        }
        let mut end = 8;
        if b.get(8) == Some(&b'.') {
            let n = s[9..].bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            end = 9 + n;
        }
        Some(end)
    };
    let zone = |s: &str| {
        s == "Z"
            || s.len() == 6
                && matches!(s.as_bytes()[0], b'+' | b'-')
                && digits(&s[1..], 2)
                && s.as_bytes()[3] == b':'
                && digits(&s[4..], 2)
                && s[1..3].parse::<u32>().is_ok_and(|h| h < 24)
                && s[4..6].parse::<u32>().is_ok_and(|m| m < 60)
    };
    let date = |s: &str| {
        let b = s.as_bytes();
        if s.len() < 10
            || !(digits(s, 4)
                && b[4] == b'-'
                && digits(&s[5..], 2)
                && b[7] == b'-'
                && digits(&s[8..], 2))
        {
            return false;
        }
        let (y, m, d): (u32, u32, u32) = (
            s[..4].parse().unwrap_or(0),
            s[5..7].parse().unwrap_or(0),
            s[8..10].parse().unwrap_or(0),
        );
        (1..=super::jsonschema::days_in_month(y, m)).contains(&d)
    };
    if text.is_ascii() {
        if let Some(end) = clock(text) {
            return end == text.len() || zone(&text[end..]);
        }
        if text.len() == 10 {
            return date(text);
        }
        if text.len() > 11 && date(&text[..10]) && text.as_bytes()[10] == b'T' {
            let time = &text[11..];
            if let Some(end) = clock(time) {
                return zone(&time[end..]);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::jsonschema::tests::Local;
    use super::*;
    use serde_json::json;

    fn lines(schema: Value, value: Value) -> Vec<String> {
        let local = Local(schema.clone());
        Walker {
            resolver: &local,
            closed: true,
        }
        .failures(0, &schema, &value)
        .into_iter()
        .map(|f| format!("{}: {}", f.field, f.description))
        .collect()
    }

    /// kpt's e2e case fnresult-fn-failure at v1.0.0-beta.56 (kubeval v0.1.1):
    /// the required properties first, each by name, then the wrong type.
    #[test]
    fn words_and_order_of_kubeval() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": ["object", "null"],
                    "required": ["selector", "template"],
                    "properties": {"replicas": {"type": ["integer", "null"]}},
                    "additionalProperties": false
                }
            }
        });
        assert_eq!(
            lines(schema, json!({"spec": {"replicas": "3", "extra": 1}})),
            [
                "selector: selector is required",
                "template: template is required",
                "extra: Additional property extra is not allowed",
                "spec.replicas: Invalid type. Expected: [integer,null], given: string",
            ]
        );
    }

    #[test]
    fn the_rest_of_the_keywords() {
        let schema = json!({
            "properties": {
                "policy": {"type": "string", "enum": ["Always", "Never"]},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "big": {"type": "number", "maximum": 1000000},
                "when": {"type": "string", "format": "date-time"},
                "list": {"type": "array", "minItems": 2, "items": {"type": "string"}},
                "port2": {"oneOf": [{"type": "string"}, {"type": "integer"}]}
            }
        });
        assert_eq!(
            lines(
                schema,
                json!({"policy": "Sometimes", "name": "ABCD", "port": 0, "big": 2000000,
                       "when": "yesterday", "list": [1], "port2": true, "x": 1.5})
            ),
            [
                r#"policy: policy must be one of the following: "Always", "Never""#,
                "name: String length must be less than or equal to 3",
                "name: Does not match pattern '^[a-z]+$'",
                "port: Must be greater than or equal to 1",
                "big: Must be less than or equal to 1e+06",
                "when: Does not match format 'date-time'",
                "list.0: Invalid type. Expected: string, given: integer",
                "list: Array must have at least 2 items",
                "port2: Must validate one and only one schema (oneOf)",
                "port2: Invalid type. Expected: string, given: boolean",
            ]
        );
        let f = Failure {
            field: "(root)".into(),
            description: "Invalid type. Expected: object, given: string".into(),
        };
        assert_eq!(
            f.split(),
            (
                "(root)".to_string(),
                "Invalid type. Expected: object, given: string".to_string()
            )
        );
    }

    #[test]
    fn date_times_as_go_parses_them() {
        for ok in [
            "2021-03-04T05:06:07Z",
            "2021-03-04T05:06:07.5+01:00",
            "2021-03-04",
            "05:06:07",
            "05:06:07Z",
        ] {
            assert!(go_date_time(ok), "{ok}");
        }
        for bad in [
            "2021-02-30",
            "2021-03-04t05:06:07Z",
            "2021-03-04T05:06:07",
            "25:00:00",
            "now",
        ] {
            assert!(!go_date_time(bad), "{bad}");
        }
    }
}
