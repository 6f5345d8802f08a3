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
/// field is an error naming the closest known one.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = clean_path(&e.path().to_string());
        let mut message = improve_message(&e.inner().to_string());
        // Numbers keep their source text (serde_json's arbitrary_precision), and an
        // integer field parses that text: all serde can say then is "invalid number".
        if message == "invalid number" {
            if let Some(Value::Number(n)) = value_at(value, &path) {
                message = format!(
                    "`{n}` is not a number this field takes: a whole number{} within its range",
                    if n.as_f64().is_some_and(|f| f < 0.0) { " (maybe not negative)" } else { "" }
                );
            }
        }
        DecodeError { path, message }
    })
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
                Ok(Value::Number(serde_json::Number::from_string_unchecked(v.to_string())))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
                Ok(Value::Number(serde_json::Number::from_string_unchecked(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                // serde_json only takes this path when `v`'s plain decimal is the text.
                Ok(Value::Number(serde_json::Number::from_string_unchecked(v.to_string())))
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
                        return Ok(Value::Number(serde_json::Number::from_string_unchecked(text)));
                    }
                    out.insert(key, map.next_value()?);
                }
                Ok(Value::Object(out))
            }
        }
        deserializer.deserialize_any(Scalar).map(ExactScalar)
    }
}

/// The value at a path as [`from_value`] reports it (`a.b[0].c`).
fn value_at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut current = value;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = part.split_once('[').map_or((part, ""), |(k, rest)| (k, rest));
        if !key.is_empty() {
            current = current.get(key)?;
        }
        for index in indices.split('[').filter(|i| !i.is_empty()) {
            current = current.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(current)
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
    serde_path_to_error::deserialize(deserializer).map_err(|e| DecodeError {
        path: clean_path(&e.path().to_string()),
        message: improve_message(&e.inner().to_string()),
    })
}

/// Decodes a `functionConfig`: a ConfigMap's `data`, or the `spec` of a typed kind
/// named `kind`. `None` when there is no functionConfig.
pub fn function_config<T: DeserializeOwned>(
    function_config: Option<&Value>,
    kind: &str,
) -> Result<Option<T>, ResultItem> {
    let Some(fc) = function_config else {
        return Ok(None);
    };
    let empty = Value::Object(Map::new());
    let (body, prefix) = match fc.kind() {
        "ConfigMap" => (fc.get("data").unwrap_or(&empty), "data"),
        k if k == kind => (fc.get("spec").unwrap_or(&empty), "spec"),
        other => {
            return Err(ResultItem::error(format!(
                "functionConfig of kind `{other}` is not supported; use a ConfigMap or `{kind}`"
            ))
            .for_object(fc))
        }
    };
    let decoded = match (prefix, body) {
        ("data", Value::Object(data)) => from_string_map(data),
        ("data", _) => Err(DecodeError {
            path: String::new(),
            message: "must be a mapping of strings".into(),
        }),
        _ => from_value(body),
    };
    decoded.map(Some).map_err(|e| {
        let mut result = e.into_result(fc, prefix);
        result.message = format!("invalid functionConfig: {}", result.message);
        result
    })
}

fn clean_path(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.replace(".[", "[").replace("?.", "").replace('?', "")
    }
}

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" into a suggestion,
/// and explains YAML 1.1 booleans (`yes`, `no`, `on`, `off`) that YAML 1.2 reads as strings.
fn improve_message(message: &str) -> String {
    let message = strip_position(message);
    if let Some(word) = message
        .strip_prefix("invalid type: string \"")
        .and_then(|m| m.strip_suffix("\", expected a boolean"))
    {
        let value = match word.to_ascii_lowercase().as_str() {
            "yes" | "y" | "on" => Some("true"),
            "no" | "n" | "off" => Some("false"),
            _ => None,
        };
        if let Some(value) = value {
            return format!(
                "{message}; `{word}` is a string in YAML 1.2 (kpt, kyaml): write `{value}`"
            );
        }
    }
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message;
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message;
    };
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match suggest(field, known.iter().copied()) {
        Some(best) => format!("unknown field `{field}`, did you mean `{best}`?"),
        None if known.is_empty() => format!("unknown field `{field}`; no fields are allowed here"),
        None => format!(
            "unknown field `{field}`; known fields: {}",
            known.join(", ")
        ),
    }
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
                edit_distance(&lower, &c.to_ascii_lowercase()),
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

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
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
            "scaling.minReplicas: invalid type: string \"x\", expected u32"
        );
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
        assert_eq!(
            suggest("minReplica", ["maxReplicas", "minReplicas"]),
            Some("minReplicas")
        );
        assert_eq!(suggest("zzz", ["minReplicas"]), None);
        assert_eq!(
            suggest("ackDeadline", ["topic", "ackDeadlineSeconds"]),
            Some("ackDeadlineSeconds")
        );
    }
}
