//! Durations as people write them (`10m`, `168h`, `1h30m`, `7d`, `600s`, `0.5s`, or a
//! bare number of seconds) and as Go's `time.ParseDuration` reads them (what Argo
//! Rollouts takes for an analysis `interval`). Both keep the text the user wrote, so
//! a renderer passing a duration through writes it unchanged; [`Duration`]'s
//! `Display` is Pub/Sub's form (seconds with up to 9 decimals and an `s`: `600s`,
//! the JSON form of `google.protobuf.Duration`).

use crate::scalar::Scalar;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// A non-negative duration with nanosecond precision, and its text.
#[derive(Debug, Clone)]
pub struct Duration {
    nanos: u128,
    text: String,
}

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// The schema `pattern` of a [`Duration`] written as a string.
const DURATION_PATTERN: &str =
    "^\\s*([0-9]+|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h|d))+)\\s*$";
/// The schema `pattern` of a [`GoDuration`]: Go's `time.ParseDuration` grammar
/// (`[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or `0`).
const GO_DURATION_PATTERN: &str =
    "^[-+]?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$";

impl Duration {
    pub fn from_secs(seconds: u64) -> Self {
        Duration {
            nanos: seconds as u128 * NANOS_PER_SECOND,
            text: format!("{seconds}s"),
        }
    }

    pub fn as_secs_f64(&self) -> f64 {
        self.nanos as f64 / NANOS_PER_SECOND as f64
    }

    /// The text as written (`10m`, `7d`, `90`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Go-style units (`ns`, `us`, `ms`, `s`, `m`, `h`) plus `d`, in any sequence
    /// (`1h30m`); a bare number is seconds.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let invalid =
            || format!("`{text}` is not a duration (write e.g. `600s`, `10m`, `168h`, `7d`)");
        if trimmed.is_empty() || trimmed.len() > 64 {
            return Err(invalid());
        }
        let nanos = match trimmed.parse::<u64>() {
            Ok(seconds) => seconds as u128 * NANOS_PER_SECOND,
            Err(_) => units(trimmed, Reader::People).ok_or_else(invalid)?,
        };
        Ok(Duration {
            nanos,
            text: text.to_string(),
        })
    }
}

/// Whose rules a duration is read by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// Ours: also days (`7d`), at most nanoseconds' decimals.
    People,
    /// Go's `time.ParseDuration`: no unit `d`, any number of decimals (past
    /// nanoseconds they are dropped), at most `i64::MAX` nanoseconds.
    Go,
}

/// The sum of `<number><unit>` terms (`1h30m`, `1.5s`), in nanoseconds, as
/// `reader` reads them. None when `text` is anything else.
fn units(text: &str, reader: Reader) -> Option<u128> {
    let go = reader == Reader::Go;
    let mut rest = text;
    let mut nanos: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (number, tail) = rest.split_at(number_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale: u128 = match unit {
            "ns" => 1,
            // Go accepts both micro signs: U+00B5 and U+03BC.
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SECOND,
            "m" => 60 * NANOS_PER_SECOND,
            "h" => 3_600 * NANOS_PER_SECOND,
            "d" if !go => 86_400 * NANOS_PER_SECOND,
            _ => return None,
        };
        nanos = nanos.checked_add(scaled(number, scale, reader)?)?;
        rest = tail;
    }
    (!go || nanos <= i64::MAX as u128).then_some(nanos)
}

/// `number × scale` exactly, for a decimal `number` like `1.5`; Go's reader cuts
/// more than 18 decimals (none of them reaches a nanosecond).
fn scaled(number: &str, scale: u128, reader: Reader) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    let fraction = match (reader, fraction.len() > 9) {
        (Reader::Go, _) => &fraction[..fraction.len().min(18)],
        (Reader::People, true) => return None,
        (Reader::People, false) => fraction,
    };
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(scale)?;
    if !fraction.is_empty() {
        let digits: u128 = fraction.parse().ok()?;
        value = value.checked_add(digits * scale / 10u128.pow(fraction.len() as u32))?;
    }
    Some(value)
}

/// Pub/Sub's form: `600s`, `0.5s`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.nanos / NANOS_PER_SECOND;
        let fraction = self.nanos % NANOS_PER_SECOND;
        if fraction == 0 {
            write!(f, "{seconds}s")
        } else {
            let digits = format!("{fraction:09}");
            write!(f, "{seconds}.{}s", digits.trim_end_matches('0'))
        }
    }
}

/// Durations compare by length: `10m` equals `600s`.
impl PartialEq for Duration {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Duration {}

impl PartialOrd for Duration {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Duration {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let scalar = Scalar::deserialize(deserializer, "a duration like `600s` or `10m`")?;
        Duration::parse(scalar.text()).map_err(de::Error::custom)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl JsonSchema for Duration {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string", "pattern": DURATION_PATTERN },
                { "type": "integer", "minimum": 0 },
            ],
            "description": "A duration: `600s`, `10m`, `168h`, `1h30m`, `7d`, or a number of seconds."
        })
    }
}

/// A duration as Go's `time.ParseDuration` reads it (go/src/time/format.go: an
/// optional sign, then `<number><unit>` terms with units `ns`, `us`, `µs`, `ms`,
/// `s`, `m`, `h`, or `0`): what Argo Rollouts parses an analysis `interval` with
/// (`DurationString.Duration`). No days, no bare numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoDuration {
    text: String,
}

impl GoDuration {
    pub fn parse(text: &str) -> Result<GoDuration, String> {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned == "0" || (!unsigned.is_empty() && units(unsigned, Reader::Go).is_some()) {
            return Ok(GoDuration {
                text: text.to_string(),
            });
        }
        // The same length in a form Go reads, when the text is one of ours (`1d`, `90`).
        let hint = match Duration::parse(text) {
            Ok(duration) => format!(": write `{duration}`"),
            Err(_) => " (e.g. `30s`, `1m`, `1h30m`)".to_string(),
        };
        Err(format!(
            "`{text}` is not a Go duration (units `ns`, `us`, `ms`, `s`, `m`, `h`; no days or bare numbers){hint}"
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whole seconds, as Go's `Duration.Seconds()` truncated (a sign kept).
    pub fn as_secs(&self) -> i64 {
        let negative = self.text.starts_with('-');
        let unsigned = self.text.strip_prefix(['-', '+']).unwrap_or(&self.text);
        let nanos = if unsigned == "0" {
            0
        } else {
            units(unsigned, Reader::Go).unwrap_or(0)
        };
        let seconds = (nanos / NANOS_PER_SECOND) as i64;
        if negative {
            -seconds
        } else {
            seconds
        }
    }

    /// A whole number of seconds in Go's shortest form (`90` → `1m30s`).
    pub fn from_secs(seconds: u64) -> GoDuration {
        let (hours, minutes, secs) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        let mut text = String::new();
        if hours > 0 {
            text.push_str(&format!("{hours}h"));
        }
        if minutes > 0 {
            text.push_str(&format!("{minutes}m"));
        }
        if secs > 0 || text.is_empty() {
            text.push_str(&format!("{secs}s"));
        }
        GoDuration { text }
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let scalar = Scalar::deserialize(deserializer, "a duration like `30s` or `1m`")?;
        GoDuration::parse(scalar.text()).map_err(de::Error::custom)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl JsonSchema for GoDuration {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "GoDuration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": GO_DURATION_PATTERN })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_seconds() {
        for (input, output) in [
            ("600s", "600s"),
            ("10m", "600s"),
            ("168h", "604800s"),
            ("1h30m", "5400s"),
            ("7d", "604800s"),
            ("2678400s", "2678400s"),
            ("0.5s", "0.5s"),
            ("1500ms", "1.5s"),
            ("90", "90s"),
        ] {
            let duration = Duration::parse(input).unwrap();
            assert_eq!(duration.to_string(), output, "{input}");
            assert_eq!(duration.as_str(), input);
        }
        for bad in ["", "1x", "s", "1.2.3s", "-5s", "10 m", "1.0000000001s"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn decodes_strings_and_numbers_of_seconds() {
        let read =
            |v: serde_json::Value| serde_json::from_value::<Duration>(v).map_err(|e| e.to_string());
        assert_eq!(read(serde_json::json!("10m")).unwrap().to_string(), "600s");
        assert_eq!(read(serde_json::json!(90)).unwrap().to_string(), "90s");
        assert!(read(serde_json::json!(0.5))
            .unwrap_err()
            .contains("e.g. `600s`"));
        assert!(read(serde_json::json!("soon"))
            .unwrap_err()
            .contains("is not a duration"));
        assert!(read(serde_json::json!(true))
            .unwrap_err()
            .contains("a duration like"));
    }

    /// Cases of Go's src/time/time_test.go `parseDurationTests` and
    /// `parseDurationErrorTests` (overflow cases included: Go counts in int64
    /// nanoseconds).
    #[test]
    fn reads_go_durations_as_go_does() {
        for good in [
            "0",
            "5s",
            "30s",
            "1478s",
            "-5s",
            "+5s",
            "-0",
            "+0",
            "5.0s",
            "5.6s",
            "5.s",
            ".5s",
            "1.0s",
            "1.00s",
            "1.004s",
            "1.0040s",
            "100.00100s",
            "10ns",
            "11us",
            "12µs",
            "12μs",
            "13ms",
            "14s",
            "15m",
            "16h",
            "3h30m",
            "10.5s4m",
            "-2m3.4s",
            "1h2m3s4ms5us6ns",
            "39h9m14.425s",
            "52763797000ns",
            "0.3333333333333333333h",
            "9007199254740993ns",
            "9223372036854775807ns",
            "0.100000000000000000000h",
        ] {
            assert!(GoDuration::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "3",
            "-",
            "s",
            ".",
            "-.",
            ".s",
            "+.s",
            "1d",
            "hello \u{FFFD} world",
            "9223372036854775810ns",
            "9223372036854776us",
            "3000000h",
            "1x",
        ] {
            assert!(GoDuration::parse(bad).is_err(), "{bad}");
        }
        assert!(GoDuration::parse("1d")
            .unwrap_err()
            .contains("write `86400s`"));
    }

    /// The schema patterns take exactly what the parsers take, on these cases.
    #[test]
    fn patterns_match_the_parsers() {
        let people = regex::Regex::new(DURATION_PATTERN).unwrap();
        for text in ["600s", "10m", "1h30m", "7d", "0.5s", "90", "1500ms", " 5s "] {
            assert!(
                Duration::parse(text).is_ok() && people.is_match(text),
                "{text}"
            );
        }
        for text in ["", "1x", "s", "-5s", "10 m"] {
            assert!(
                Duration::parse(text).is_err() && !people.is_match(text),
                "{text}"
            );
        }
        let go = regex::Regex::new(GO_DURATION_PATTERN).unwrap();
        for text in ["0", "-5s", "1h2m3s4ms5us6ns", ".5s", "12μs"] {
            assert!(
                GoDuration::parse(text).is_ok() && go.is_match(text),
                "{text}"
            );
        }
        for text in ["", "3", "1d", ".s", "-"] {
            assert!(
                GoDuration::parse(text).is_err() && !go.is_match(text),
                "{text}"
            );
        }
    }

    /// Seconds as Go's `Duration.Seconds()` truncates them, and back in Go's form.
    #[test]
    fn go_durations_in_seconds() {
        for (text, seconds) in [
            ("1m", 60),
            ("1h30m", 5400),
            ("90s", 90),
            ("1.5s", 1),
            ("-2m", -120),
            ("0", 0),
            ("500ms", 0),
        ] {
            assert_eq!(
                GoDuration::parse(text).unwrap().as_secs(),
                seconds,
                "{text}"
            );
        }
        for (seconds, text) in [
            (0, "0s"),
            (45, "45s"),
            (60, "1m"),
            (150, "2m30s"),
            (3600, "1h"),
            (3661, "1h1m1s"),
        ] {
            let duration = GoDuration::from_secs(seconds);
            assert_eq!(duration.as_str(), text);
            assert_eq!(GoDuration::parse(text).unwrap().as_secs(), seconds as i64);
        }
    }
}
