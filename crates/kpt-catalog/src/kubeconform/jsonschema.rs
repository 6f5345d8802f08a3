//! The part of JSON Schema that Kubernetes' schemas and CRDs use, checked the
//! way kubeconform checks it: kubeconform v0.7 compiles each schema with
//! santhosh-tekuri/jsonschema v6 under draft 4 (`pkg/validator/validator.go`,
//! `downloadSchema`: `c.DefaultDraft(jsonschema.Draft4)`), and reports the
//! direct causes of the error tree that validator builds. This module builds
//! the same tree (santhosh-tekuri/jsonschema `validator.go`: one error per
//! failing keyword, a group when a schema has several, a property's error as
//! it came from the property's schema) with the same words (`kind/kind.go`).
//!
//! A `$ref` is followed as if its target were written in its place: the
//! schemas kubeconform reads by default are the "standalone" ones where every
//! reference is inlined, so no reference shows in an error. Go walks an
//! object's properties in map order (random); lummo walks them in the
//! manifest's order, so two errors under different properties come in the
//! order of the file.

use serde_json::Value;

/// One failure: where in the instance, and what (kubeconform's `msg`).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// A JSON pointer into the instance, `""` for the object itself.
    pub path: String,
    pub message: String,
}

/// A node of santhosh-tekuri's error tree.
struct Error {
    location: Vec<String>,
    message: String,
    causes: Vec<Error>,
}

const GROUP: &str = "validation failed";

/// Finds the schema a `$ref` names: `(document, schema)`; `None` when it
/// cannot be resolved.
pub trait Resolve {
    fn resolve<'a>(&'a self, doc: usize, reference: &str) -> Option<(usize, &'a Value)>;
}

pub struct Validator<'a, R: Resolve> {
    pub resolver: &'a R,
    /// Whether `additionalProperties: false` holds. kubeconform's `-strict`
    /// picks the `-strict` schemas, which are the others plus that keyword
    /// (scripts/kubeconform_schemas.py checks it for the embedded ones): lummo
    /// embeds only the strict ones and reads them without it when `strict`
    /// is off.
    pub closed: bool,
}

/// References followed without descending into the instance before giving up
/// (a reference cycle: santhosh-tekuri reports `RefCycle` at compile time).
const MAX_REF_CHAIN: u32 = 64;

impl<R: Resolve> Validator<'_, R> {
    /// kubeconform's `validationErrors` for `value` against `schema` (in
    /// document `doc`): the direct causes of the root error.
    pub fn failures(&self, doc: usize, schema: &Value, value: &Value) -> Vec<Failure> {
        let Some(root) = self.check(doc, schema, value, &mut Vec::new(), 0) else {
            return Vec::new();
        };
        let causes = if root.message == GROUP && !root.causes.is_empty() {
            root.causes
        } else {
            vec![root]
        };
        causes
            .into_iter()
            .map(|e| Failure {
                path: e.location.iter().map(|t| format!("/{t}")).collect(),
                message: e.message,
            })
            .collect()
    }

    fn error(loc: &[String], message: String) -> Error {
        Error {
            location: loc.to_vec(),
            message,
            causes: Vec::new(),
        }
    }

    /// `validator.validate` for one schema and one value.
    fn check(
        &self,
        doc: usize,
        schema: &Value,
        value: &Value,
        loc: &mut Vec<String>,
        chain: u32,
    ) -> Option<Error> {
        let s = match schema {
            Value::Bool(true) => return None,
            Value::Bool(false) => return Some(Self::error(loc, "false schema".into())),
            Value::Object(s) => s,
            _ => return None,
        };
        // Draft 4: a `$ref` stands for the whole schema, its siblings ignored.
        if let Some(Value::String(reference)) = s.get("$ref") {
            if chain >= MAX_REF_CHAIN {
                return Some(Self::error(
                    loc,
                    format!("reference cycle through {}", quote(reference)),
                ));
            }
            return match self.resolver.resolve(doc, reference) {
                Some((doc, target)) => self.check(doc, target, value, loc, chain + 1),
                None => Some(Self::error(
                    loc,
                    format!("cannot resolve reference {}", quote(reference)),
                )),
            };
        }
        if let Some(types) = s.get("type") {
            let want = Types::of(types);
            if want.0 != 0 && !want.admits(value) {
                return Some(Self::error(
                    loc,
                    format!(
                        "got {}, want {}",
                        type_name(value),
                        want.names().join(" or ")
                    ),
                ));
            }
        }
        if let Some(Value::Array(values)) = s.get("enum") {
            if !values.iter().any(|v| equal(v, value)) {
                return Some(Self::error(loc, enum_message(values)));
            }
        }
        if let (Some(Value::String(format)), Value::String(text)) = (s.get("format"), value) {
            if format == "date-time" {
                if let Err(why) = date_time(text) {
                    return Some(Self::error(
                        loc,
                        format!("{} is not valid date-time: {why}", quote(text)),
                    ));
                }
            }
        }
        let mut errors = Vec::new();
        match value {
            Value::Object(object) => self.object(doc, s, object, loc, &mut errors),
            Value::Array(items) => self.array(doc, s, items, loc, &mut errors),
            Value::String(text) => string(s, text, loc, &mut errors),
            Value::Number(n) => number(s, n, loc, &mut errors),
            _ => {}
        }
        self.conditions(doc, s, value, loc, &mut errors);
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error {
                location: loc.clone(),
                message: GROUP.into(),
                causes: errors,
            }),
        }
    }

    fn object(
        &self,
        doc: usize,
        s: &serde_json::Map<String, Value>,
        object: &serde_json::Map<String, Value>,
        loc: &mut Vec<String>,
        errors: &mut Vec<Error>,
    ) {
        bounds(s, "Properties", object.len(), loc, errors);
        if let Some(Value::Array(required)) = s.get("required") {
            let missing: Vec<&str> = required
                .iter()
                .filter_map(Value::as_str)
                .filter(|name| !object.contains_key(*name))
                .collect();
            match missing.as_slice() {
                [] => {}
                [one] => errors.push(Self::error(loc, format!("missing property {}", quote(one)))),
                many => errors.push(Self::error(
                    loc,
                    format!(
                        "missing properties {}",
                        many.iter().map(|m| quote(m)).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
        let properties = s.get("properties").and_then(Value::as_object);
        let patterns: Vec<(regex_lite::Regex, &Value)> = s
            .get("patternProperties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(p, schema)| Some((regex_lite::Regex::new(p).ok()?, schema)))
            .collect();
        let additional = s.get("additionalProperties");
        let mut not_allowed = Vec::new();
        for (name, child) in object {
            let mut evaluated = false;
            loc.push(name.clone());
            if let Some(schema) = properties.and_then(|p| p.get(name)) {
                evaluated = true;
                errors.extend(self.check(doc, schema, child, loc, 0));
            }
            for (regex, schema) in &patterns {
                if regex.is_match(name) {
                    evaluated = true;
                    errors.extend(self.check(doc, schema, child, loc, 0));
                }
            }
            loc.pop();
            match additional {
                _ if evaluated => {}
                Some(Value::Bool(false)) if self.closed => not_allowed.push(name.as_str()),
                Some(schema @ Value::Object(_)) => {
                    loc.push(name.clone());
                    errors.extend(self.check(doc, schema, child, loc, 0));
                    loc.pop();
                }
                _ => {}
            }
        }
        if !not_allowed.is_empty() {
            errors.push(Self::error(
                loc,
                format!(
                    "additional properties {} not allowed",
                    not_allowed
                        .iter()
                        .map(|m| quote(m))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }

    fn array(
        &self,
        doc: usize,
        s: &serde_json::Map<String, Value>,
        items: &[Value],
        loc: &mut Vec<String>,
        errors: &mut Vec<Error>,
    ) {
        bounds(s, "Items", items.len(), loc, errors);
        if s.get("uniqueItems") == Some(&Value::Bool(true)) {
            'outer: for i in 0..items.len() {
                for j in i + 1..items.len() {
                    if equal(&items[i], &items[j]) {
                        errors.push(Self::error(loc, format!("items at {i} and {j} are equal")));
                        break 'outer;
                    }
                }
            }
        }
        match s.get("items") {
            Some(Value::Array(tuple)) => {
                for (i, (schema, item)) in tuple.iter().zip(items).enumerate() {
                    loc.push(i.to_string());
                    errors.extend(self.check(doc, schema, item, loc, 0));
                    loc.pop();
                }
                match s.get("additionalItems") {
                    Some(Value::Bool(false)) if items.len() > tuple.len() => {
                        errors.push(Self::error(
                            loc,
                            format!(
                                "last {} additionalItem(s) not allowed",
                                items.len() - tuple.len()
                            ),
                        ))
                    }
                    Some(schema @ Value::Object(_)) => {
                        for (i, item) in items.iter().enumerate().skip(tuple.len()) {
                            loc.push(i.to_string());
                            errors.extend(self.check(doc, schema, item, loc, 0));
                            loc.pop();
                        }
                    }
                    _ => {}
                }
            }
            Some(schema) => {
                for (i, item) in items.iter().enumerate() {
                    loc.push(i.to_string());
                    errors.extend(self.check(doc, schema, item, loc, 0));
                    loc.pop();
                }
            }
            None => {}
        }
    }

    /// `not`, `allOf`, `anyOf`, `oneOf` (`validator.condValidate`).
    fn conditions(
        &self,
        doc: usize,
        s: &serde_json::Map<String, Value>,
        value: &Value,
        loc: &mut Vec<String>,
        errors: &mut Vec<Error>,
    ) {
        let list = |key: &str| {
            s.get(key)
                .and_then(Value::as_array)
                .filter(|l| !l.is_empty())
        };
        if let Some(not) = s.get("not") {
            if self.check(doc, not, value, loc, 0).is_none() {
                errors.push(Self::error(loc, "not failed".into()));
            }
        }
        if let Some(all) = list("allOf") {
            let causes: Vec<Error> = all
                .iter()
                .filter_map(|schema| self.check(doc, schema, value, loc, 0))
                .collect();
            if !causes.is_empty() {
                errors.push(Error {
                    location: loc.clone(),
                    message: "allOf failed".into(),
                    causes,
                });
            }
        }
        if let Some(any) = list("anyOf") {
            let mut causes = Vec::new();
            let matched = any.iter().any(|schema| {
                let error = self.check(doc, schema, value, loc, 0);
                let ok = error.is_none();
                causes.extend(error);
                ok
            });
            if !matched {
                errors.push(Error {
                    location: loc.clone(),
                    message: "anyOf failed".into(),
                    causes,
                });
            }
        }
        if let Some(one) = list("oneOf") {
            let mut matched: Option<usize> = None;
            let mut causes = Vec::new();
            for (i, schema) in one.iter().enumerate() {
                match (self.check(doc, schema, value, loc, 0), matched) {
                    (Some(e), None) => causes.push(e),
                    (Some(_), Some(_)) => {}
                    (None, None) => matched = Some(i),
                    (None, Some(first)) => {
                        errors.push(Self::error(
                            loc,
                            format!("oneOf failed, subschemas {first}, {i} matched"),
                        ));
                        break;
                    }
                }
            }
            if matched.is_none() {
                errors.push(Error {
                    location: loc.clone(),
                    message: "oneOf failed, none matched".into(),
                    causes,
                });
            }
        }
    }
}

fn string(s: &serde_json::Map<String, Value>, text: &str, loc: &[String], errors: &mut Vec<Error>) {
    // Go counts runes (`utf8.RuneCountInString`).
    bounds(s, "Length", text.chars().count(), loc, errors);
    if let Some(Value::String(pattern)) = s.get("pattern") {
        if let Ok(regex) = regex_lite::Regex::new(pattern) {
            if !regex.is_match(text) {
                errors.push(Error {
                    location: loc.to_vec(),
                    message: format!("{} does not match pattern {}", quote(text), quote(pattern)),
                    causes: Vec::new(),
                });
            }
        }
    }
}

/// `min<What>`/`max<What>` (Properties, Items, Length): a count out of bounds.
fn bounds(
    s: &serde_json::Map<String, Value>,
    what: &str,
    got: usize,
    loc: &[String],
    errors: &mut Vec<Error>,
) {
    let limit = |key: String| s.get(&key).and_then(Value::as_u64).map(|l| (key, l));
    let got64 = got as u64;
    for (key, want) in [
        limit(format!("min{what}")).filter(|(_, l)| got64 < *l),
        limit(format!("max{what}")).filter(|(_, l)| got64 > *l),
    ]
    .into_iter()
    .flatten()
    {
        errors.push(Error {
            location: loc.to_vec(),
            message: format!("{key}: got {got}, want {want}"),
            causes: Vec::new(),
        });
    }
}

/// `minimum`/`maximum` (draft 4's boolean `exclusiveMinimum`/`exclusiveMaximum`
/// turn them into the exclusive keywords) and `multipleOf`.
fn number(
    s: &serde_json::Map<String, Value>,
    n: &serde_json::Number,
    loc: &[String],
    errors: &mut Vec<Error>,
) {
    let Some(got) = n.as_f64() else { return };
    let mut fail = |keyword: &str, want: f64| {
        errors.push(Error {
            location: loc.to_vec(),
            message: format!("{keyword}: got {}, want {}", go_float(got), go_float(want)),
            causes: Vec::new(),
        })
    };
    let flag = |key: &str| s.get(key) == Some(&Value::Bool(true));
    if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
        match flag("exclusiveMinimum") {
            true if got <= min => fail("exclusiveMinimum", min),
            false if got < min => fail("minimum", min),
            _ => {}
        }
    }
    if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
        match flag("exclusiveMaximum") {
            true if got >= max => fail("exclusiveMaximum", max),
            false if got > max => fail("maximum", max),
            _ => {}
        }
    }
    if let Some(step) = s
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0)
    {
        let q = got / step;
        if (q - q.round()).abs() > 1e-9 {
            fail("multipleOf", step);
        }
    }
}

/// A set of JSON types, in the order santhosh-tekuri names them
/// (`schema.go`: null, boolean, number, integer, string, array, object).
#[derive(Clone, Copy)]
struct Types(u8);

const TYPE_NAMES: [&str; 7] = [
    "null", "boolean", "number", "integer", "string", "array", "object",
];

impl Types {
    fn of(types: &Value) -> Types {
        let bit = |name: &str| {
            TYPE_NAMES
                .iter()
                .position(|n| *n == name)
                .map_or(0, |i| 1 << i)
        };
        Types(match types {
            Value::String(name) => bit(name),
            Value::Array(names) => names
                .iter()
                .filter_map(Value::as_str)
                .map(bit)
                .fold(0, |a, b| a | b),
            _ => 0,
        })
    }

    fn has(self, name: &str) -> bool {
        TYPE_NAMES
            .iter()
            .position(|n| *n == name)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    fn admits(self, value: &Value) -> bool {
        let name = type_name(value);
        self.has(name) || name == "number" && self.has("integer") && is_integer(value)
    }

    fn names(self) -> Vec<&'static str> {
        TYPE_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// santhosh-tekuri's `typeOf`: every number is a "number".
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A number without a fraction (`1`, `1.0`, `1e3`), as `big.Rat` decides.
fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            n.is_i64()
                || n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.to_string() == y.to_string() || x.as_f64().is_some() && x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// `kind.Enum`'s words.
fn enum_message(values: &[Value]) -> String {
    if values.iter().any(|v| v.is_array() || v.is_object()) {
        return "enum failed".into();
    }
    match values {
        [one] => format!("value must be {}", display(one)),
        many => format!(
            "value must be one of {}",
            many.iter().map(display).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A primitive as `kind.display` prints it (Go's `%v`, strings quoted).
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => quote(s),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// `kind.quote`: Go's `%q` in single quotes (`"` left alone, `'` escaped).
pub fn quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A float as Go's `%v` prints it: the shortest digits, in exponent form
/// from 1e21 up and below 1e-4 (`strconv.FormatFloat(f, 'g', -1, 64)` with
/// Go's `%v` exponent threshold of 21).
fn go_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{}", f as i128);
    }
    let exponent = if f == 0.0 {
        0
    } else {
        f.abs().log10().floor() as i32
    };
    if !(-4..21).contains(&exponent) {
        let text = format!("{f:e}");
        // Rust writes `1e-5`, Go `1e-05`.
        return match text.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                format!("{m}e{sign}{digits:0>2}")
            }
            None => text,
        };
    }
    format!("{f}")
}

/// santhosh-tekuri's `validateDateTime` (`format.go`): RFC 3339.
/// The days of month `m` (1-12) of the Gregorian year `y`; 0 for no month.
pub(crate) fn days_in_month(y: u32, m: u32) -> u32 {
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

fn date_time(s: &str) -> Result<(), String> {
    if s.len() < 20 {
        return Err("less than 20 characters long".into());
    }
    let bytes = s.as_bytes();
    if bytes[10] != b't' && bytes[10] != b'T' {
        return Err("11th character must be t or T".into());
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        s.get(range)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()
    };
    let date_ok = (|| {
        let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        (bytes[4] == b'-' && bytes[7] == b'-').then_some(())?;
        (1..=days_in_month(y, m)).contains(&d).then_some(())
    })();
    if date_ok.is_none() {
        return Err(format!(
            "invalid date element: parsing time {:?} as \"2006-01-02\"",
            &s[..10]
        ));
    }
    let time = &s[11..];
    if time.len() < 9 {
        return Err("invalid time element: less than 9 characters long".into());
    }
    let t = time.as_bytes();
    if t[2] != b':' || t[5] != b':' {
        return Err("invalid time element: missing colon in correct place".into());
    }
    let part = |r: std::ops::Range<usize>| {
        time.get(r)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
    };
    match (part(0..2), part(3..5), part(6..8)) {
        (Some(h), Some(m), Some(sec)) if h < "24" && m < "60" && sec <= "60" => {}
        _ => return Err("invalid time element: invalid hour/min/sec".into()),
    }
    let mut rest = &time[8..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err("invalid time element: no digits in second fraction".into());
        }
        rest = &fraction[n..];
    }
    match rest {
        "z" | "Z" => Ok(()),
        zone if zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && zone.as_bytes()[3] == b':'
            && zone[1..3]
                .bytes()
                .chain(zone[4..6].bytes())
                .all(|b| b.is_ascii_digit())
            && &zone[1..3] < "24"
            && &zone[4..6] < "60" =>
        {
            Ok(())
        }
        _ => Err("invalid time element: invalid timezone".into()),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    /// A schema whose `$ref`s point inside itself (both validators' tests).
    pub(in crate::kubeconform) struct Local(pub(in crate::kubeconform) Value);

    impl Resolve for Local {
        fn resolve<'a>(&'a self, _: usize, reference: &str) -> Option<(usize, &'a Value)> {
            Some((0, self.0.pointer(reference.strip_prefix('#')?)?))
        }
    }

    fn failures(schema: Value, value: Value, closed: bool) -> Vec<(String, String)> {
        let local = Local(schema);
        Validator {
            resolver: &local,
            closed,
        }
        .failures(0, &local.0, &value)
        .into_iter()
        .map(|f| (f.path, f.message))
        .collect()
    }

    #[test]
    fn words_and_tree_of_santhosh_tekuri() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {"$ref": "#/$defs/spec"},
                "mode": {"enum": ["a", "b"]},
                "when": {"type": "string", "format": "date-time"},
            },
            "additionalProperties": false,
            "$defs": {"spec": {
                "type": ["object", "null"],
                "required": ["selector", "template"],
                "properties": {"replicas": {"type": ["integer", "null"]}},
            }},
        });
        // Two errors under `spec` are a group: the root's only cause, so
        // kubeconform lists the group's causes (kpt's e2e kubeval-failure).
        assert_eq!(
            failures(schema.clone(), json!({"spec": {"replicas": "x"}}), true),
            [
                (
                    "/spec".into(),
                    "missing properties 'selector', 'template'".into()
                ),
                (
                    "/spec/replicas".into(),
                    "got string, want null or integer".into()
                ),
            ]
        );
        // Errors under two properties: each property's error is a cause, a
        // group among them says only "validation failed".
        assert_eq!(
            failures(
                schema.clone(),
                json!({"mode": "c", "spec": {"replicas": 1.5}, "x": 1}),
                true
            ),
            [
                ("/mode".into(), "value must be one of 'a', 'b'".into()),
                ("/spec".into(), "validation failed".into()),
                ("".into(), "additional properties 'x' not allowed".into()),
            ]
        );
        assert_eq!(
            failures(
                schema.clone(),
                json!({"x": 1, "spec": {"selector": 1, "template": 2, "replicas": 2.0}}),
                false
            ),
            []
        );
        assert_eq!(
            failures(schema, json!({"when": "2024-01-01"}), true),
            [(
                "/when".into(),
                "'2024-01-01' is not valid date-time: less than 20 characters long".into()
            )]
        );
    }

    #[test]
    fn int_or_string_and_numbers() {
        let schema = json!({"properties": {"port": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                                            "n": {"minimum": 1, "maximum": 1000000, "exclusiveMaximum": true}}});
        assert_eq!(
            failures(schema.clone(), json!({"port": 80, "n": 5}), true),
            []
        );
        assert_eq!(
            failures(schema, json!({"port": true, "n": 1000000}), true),
            [
                ("/port".into(), "oneOf failed, none matched".into()),
                (
                    "/n".into(),
                    "exclusiveMaximum: got 1000000, want 1000000".into()
                ),
            ]
        );
        let counted = json!({"properties": {"l": {"minItems": 2}, "s": {"maxLength": 3}, "o": {"maxProperties": 1}}});
        assert_eq!(
            failures(
                counted,
                json!({"l": [1], "s": "abcd", "o": {"a": 1, "b": 2}}),
                true
            ),
            [
                ("/l".into(), "minItems: got 1, want 2".into()),
                ("/s".into(), "maxLength: got 4, want 3".into()),
                ("/o".into(), "maxProperties: got 2, want 1".into()),
            ]
        );
        assert_eq!(go_float(1e22), "1e+22");
        assert_eq!(go_float(0.5), "0.5");
    }

    #[test]
    fn date_times() {
        assert_eq!(date_time("2024-02-29T10:00:00Z"), Ok(()));
        assert_eq!(date_time("2024-02-29T10:00:00.5+02:00"), Ok(()));
        assert!(date_time("2023-02-29T10:00:00Z")
            .unwrap_err()
            .starts_with("invalid date element"));
        assert_eq!(
            date_time("2024-02-29 10:00:00Z").unwrap_err(),
            "11th character must be t or T"
        );
    }
}
