//! Port numbers and references to a port by number or name, checked while decoding
//! (apimachinery `IsValidPortNum`: 1 to 65535; names: [`crate::names::PortName`]).

use crate::names::PortName;
use crate::scalar::Scalar;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// A TCP/UDP port number, 1 to 65535 (`IsValidPortNum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortNumber(u16);

impl PortNumber {
    /// `number` if it is a port, else a message saying so.
    pub fn new(number: i64) -> Result<PortNumber, String> {
        match u16::try_from(number) {
            Ok(port) if port >= 1 => Ok(PortNumber(port)),
            _ => Err(format!(
                "`{number}` is not a port number: use 1 to 65535 (e.g. `8080`)"
            )),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl From<PortNumber> for i32 {
    fn from(port: PortNumber) -> i32 {
        i32::from(port.0)
    }
}

impl fmt::Display for PortNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for PortNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // i64, not u16: `-1` and `70000` then get the port message, not serde's.
        let number = i64::deserialize(deserializer)?;
        PortNumber::new(number).map_err(de::Error::custom)
    }
}

impl Serialize for PortNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.0)
    }
}

impl JsonSchema for PortNumber {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "PortNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "format": "int32", "minimum": 1, "maximum": 65535 })
    }
}

/// A port given by number or by the name a container declares (Kubernetes'
/// IntOrString for probe and metrics ports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Number(PortNumber),
    Name(PortName),
}

impl<'de> Deserialize<'de> for PortRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Scalar::deserialize(deserializer, "a port name or number")? {
            Scalar::Number(text) => match text.parse::<i64>() {
                Ok(number) => PortNumber::new(number).map(PortRef::Number),
                Err(_) => Err(format!(
                    "`{text}` is not a port number: use 1 to 65535 (e.g. `8080`) or a port name (e.g. `http`)"
                )),
            },
            Scalar::Text(text) => PortName::new(text).map(PortRef::Name),
        }
        .map_err(de::Error::custom)
    }
}

impl Serialize for PortRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PortRef::Number(number) => number.serialize(serializer),
            PortRef::Name(name) => name.serialize(serializer),
        }
    }
}

impl JsonSchema for PortRef {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "PortRef".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                PortNumber::json_schema(generator),
                PortName::json_schema(generator),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// apimachinery validation_test.go `TestIsValidPortNum`.
    #[test]
    fn accepts_ports_as_kubernetes_does() {
        for good in [1, 2, 1000, 16384, 32768, 65535] {
            assert_eq!(PortNumber::new(good).unwrap().get() as i64, good);
        }
        for bad in [0, -1, 65536, 100000] {
            assert!(
                PortNumber::new(bad).unwrap_err().contains("1 to 65535"),
                "{bad}"
            );
        }
    }

    #[test]
    fn reads_a_port_by_number_or_name() {
        let read =
            |v: serde_json::Value| serde_json::from_value::<PortRef>(v).map_err(|e| e.to_string());
        assert_eq!(
            read(serde_json::json!(8080)),
            Ok(PortRef::Number(PortNumber(8080)))
        );
        assert_eq!(
            read(serde_json::json!("http")),
            Ok(PortRef::Name(PortName::new("http").unwrap()))
        );
        assert!(read(serde_json::json!(0))
            .unwrap_err()
            .contains("1 to 65535"));
        assert!(read(serde_json::json!(80.5))
            .unwrap_err()
            .contains("not a port number"));
        assert!(read(serde_json::json!("http_metrics"))
            .unwrap_err()
            .contains("e.g. `http-metrics`"));
        assert!(read(serde_json::json!(true))
            .unwrap_err()
            .contains("a port name or number"));
    }
}
