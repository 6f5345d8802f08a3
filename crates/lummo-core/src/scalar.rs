//! A YAML scalar as the user wrote it, for value types that take a string or a
//! bare number (`cpu: 1`, `ttl: 600`, `port: 8080`).

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// A string, or a number with its source text (serde_json keeps it with
/// `arbitrary_precision`: `1.10` stays `1.10`).
pub enum Scalar {
    Text(String),
    Number(String),
}

impl Scalar {
    /// Reads a string or a number; anything else is an error saying `expected`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        expected: &'static str,
    ) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(ScalarVisitor(expected))
    }

    pub fn text(&self) -> &str {
        match self {
            Scalar::Text(text) | Scalar::Number(text) => text,
        }
    }
}

struct ScalarVisitor(&'static str);

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        // serde_json (`arbitrary_precision`) hands a number over as this one-entry
        // map holding the number's text.
        match map.next_key::<String>()? {
            Some(key) if key == "$serde_json::private::Number" => {
                Ok(Scalar::Number(map.next_value::<String>()?))
            }
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}
