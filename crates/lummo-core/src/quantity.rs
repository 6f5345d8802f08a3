//! Kubernetes resource quantities (apimachinery `resource.ParseQuantity`), parsed
//! the way the API server parses them, so a value the server would refuse
//! (`lots`, `5 Mi`, `1K`) is reported before it reaches a generated object. A spec
//! field typed [`ResourceQuantity`] is parsed while the spec is decoded.

use crate::scalar::Scalar;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

/// A parsed quantity: its sign and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    text: String,
    value: f64,
}

impl Quantity {
    /// Parses `text` as `ParseQuantity` does: a signed decimal number, then either
    /// a binary suffix (`Ki`..`Ei`), a decimal suffix (`n u m k M G T P E`) or an
    /// exponent (`e3`, `E-2`).
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let invalid = || {
            format!(
                "`{text}` is not a Kubernetes quantity (e.g. `250m`, `1`, `0.5`, `512Mi`, `2G`)"
            )
        };
        let body = text.strip_prefix(['+', '-']).unwrap_or(text);
        let number_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (number, suffix) = body.split_at(number_end);
        if !number.bytes().any(|b| b.is_ascii_digit()) || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        let multiplier = match suffix {
            "" => 1.0,
            "n" => 1e-9,
            "u" => 1e-6,
            "m" => 1e-3,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            "P" => 1e15,
            "E" => 1e18,
            "Ki" => 1024f64,
            "Mi" => 1024f64.powi(2),
            "Gi" => 1024f64.powi(3),
            "Ti" => 1024f64.powi(4),
            "Pi" => 1024f64.powi(5),
            "Ei" => 1024f64.powi(6),
            exponent => {
                let digits = exponent
                    .strip_prefix(['e', 'E'])
                    .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
                    .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(invalid)?;
                let power: i32 = digits.parse().map_err(|_| invalid())?;
                let negative = exponent[1..].starts_with('-');
                10f64.powi(if negative { -power } else { power })
            }
        };
        let magnitude: f64 = number.parse().map_err(|_| invalid())?;
        let sign = if text.starts_with('-') { -1.0 } else { 1.0 };
        Ok(Quantity {
            text: text.to_string(),
            value: sign * magnitude * multiplier,
        })
    }

    /// A quantity a container may request or be limited to
    /// (core/validation `ValidateResourceQuantityValue`: non-negative).
    pub fn parse_resource(text: &str) -> Result<Quantity, String> {
        let quantity = Quantity::parse(text)?;
        if quantity.value < 0.0 {
            return Err(format!("`{text}` must be greater than or equal to 0"));
        }
        Ok(quantity)
    }

    /// A YAML value read as a quantity: a string, or a number written bare
    /// (`cpu: 1`, `cpu: -1`).
    pub fn from_value(value: &serde_json::Value) -> Result<Quantity, String> {
        match value {
            serde_json::Value::String(s) => Quantity::parse_resource(s),
            serde_json::Value::Number(n) => Quantity::parse_resource(&n.to_string()),
            other => Err(format!(
                "`{other}` is not a Kubernetes quantity (e.g. `250m`, `1`, `512Mi`)"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The amount in base units (cores, bytes), for comparisons.
    pub fn value(&self) -> f64 {
        self.value
    }
}

/// apimachinery's OpenAPI `pattern` of a quantity (`resource.Quantity`
/// `OpenAPISchemaFormat`), without the `-` a resource amount may not have.
const RESOURCE_PATTERN: &str = "^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

/// A quantity a container may request or be limited to: a [`Quantity`] that is
/// not negative, written as a string (`250m`, `512Mi`) or a bare number (`1`),
/// whose text is kept as written for the generated object.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceQuantity(Quantity);

impl ResourceQuantity {
    pub fn new(text: &str) -> Result<ResourceQuantity, String> {
        Quantity::parse_resource(text).map(ResourceQuantity)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The amount in base units (cores, bytes), for comparisons.
    pub fn value(&self) -> f64 {
        self.0.value()
    }
}

impl<'de> Deserialize<'de> for ResourceQuantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let scalar =
            Scalar::deserialize(deserializer, "a Kubernetes quantity like `250m` or `512Mi`")?;
        ResourceQuantity::new(scalar.text()).map_err(de::Error::custom)
    }
}

impl Serialize for ResourceQuantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl JsonSchema for ResourceQuantity {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "ResourceQuantity".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string", "pattern": RESOURCE_PATTERN },
                { "type": "number", "minimum": 0 },
            ],
            "description": "A Kubernetes quantity written as a string (`250m`, `512Mi`) or a number (`1`)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Quantity, ResourceQuantity};

    #[test]
    fn parses_as_the_api_server() {
        for (text, value) in [
            ("250m", 0.25),
            ("1", 1.0),
            ("0.5", 0.5),
            (".5", 0.5),
            ("512Mi", 512.0 * 1024.0 * 1024.0),
            ("1e3", 1000.0),
            ("2G", 2e9),
            ("1k", 1000.0),
            ("+1", 1.0),
        ] {
            assert_eq!(Quantity::parse(text).unwrap().value(), value, "{text}");
        }
        for text in ["", "lots", "1.2.3", "5 Mi", "10mb", "1K", "Mi", "1e", "."] {
            assert!(Quantity::parse(text).is_err(), "{text}");
        }
        assert!(Quantity::parse("-1").is_ok());
        assert!(Quantity::parse_resource("-1")
            .unwrap_err()
            .contains("greater than or equal to 0"));
    }

    #[test]
    fn decodes_resource_quantities_keeping_their_text() {
        let read = |v: serde_json::Value| {
            serde_json::from_value::<ResourceQuantity>(v).map_err(|e| e.to_string())
        };
        assert_eq!(read(serde_json::json!("250m")).unwrap().as_str(), "250m");
        assert_eq!(read(serde_json::json!(1)).unwrap().as_str(), "1");
        let exact: serde_json::Value = serde_json::from_str("1.10").unwrap();
        assert_eq!(read(exact).unwrap().as_str(), "1.10");
        assert!(read(serde_json::json!("lots"))
            .unwrap_err()
            .contains("e.g. `250m`"));
        assert!(read(serde_json::json!(-1))
            .unwrap_err()
            .contains("greater than or equal to 0"));
        assert!(read(serde_json::json!([1]))
            .unwrap_err()
            .contains("Kubernetes quantity"));
    }

    /// The schema's pattern takes what the parser takes, so the generated schemas
    /// and CRDs judge a quantity as the function does.
    #[test]
    fn pattern_matches_the_parser() {
        let pattern = regex::Regex::new(super::RESOURCE_PATTERN).unwrap();
        for text in [
            "250m", "1", "0.5", ".5", "512Mi", "1e3", "2G", "1k", "+1", "1.5E-2",
        ] {
            assert!(Quantity::parse_resource(text).is_ok(), "{text}");
            assert!(pattern.is_match(text), "{text}");
        }
        for text in ["lots", "5 Mi", "1K", "-1", "Mi", "1.2.3", "10mb"] {
            assert!(Quantity::parse_resource(text).is_err(), "{text}");
            assert!(!pattern.is_match(text), "{text}");
        }
    }
}
