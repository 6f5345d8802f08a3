//! Durations as people write them (`10m`, `168h`, `1h30m`, `7d`, `600s`, `0.5s`) and
//! as Pub/Sub wants them (seconds with up to 9 decimals and an `s`: `600s`).

use std::fmt;

/// A non-negative duration with nanosecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    nanos: u128,
}

const NANOS_PER_SECOND: u128 = 1_000_000_000;

impl Duration {
    pub const fn from_secs(seconds: u64) -> Self {
        Duration {
            nanos: seconds as u128 * NANOS_PER_SECOND,
        }
    }

    pub fn as_secs_f64(&self) -> f64 {
        self.nanos as f64 / NANOS_PER_SECOND as f64
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
        if let Ok(seconds) = trimmed.parse::<u64>() {
            return Ok(Self::from_secs(seconds));
        }
        let mut rest = trimmed;
        let mut nanos: u128 = 0;
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(invalid)?;
            let (number, tail) = rest.split_at(number_len);
            let unit_len = tail
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(unit_len);
            let scale: u128 = match unit {
                "ns" => 1,
                "us" | "µs" => 1_000,
                "ms" => 1_000_000,
                "s" => NANOS_PER_SECOND,
                "m" => 60 * NANOS_PER_SECOND,
                "h" => 3_600 * NANOS_PER_SECOND,
                "d" => 86_400 * NANOS_PER_SECOND,
                _ => return Err(invalid()),
            };
            nanos = nanos
                .checked_add(scaled(number, scale).ok_or_else(invalid)?)
                .ok_or_else(invalid)?;
            rest = tail;
        }
        Ok(Duration { nanos })
    }
}

/// `number × scale` exactly, for a decimal `number` like `1.5`.
fn scaled(number: &str, scale: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 9 || fraction.contains('.') {
        return None;
    }
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
            assert_eq!(
                Duration::parse(input).unwrap().to_string(),
                output,
                "{input}"
            );
        }
        for bad in ["", "1x", "s", "1.2.3s", "-5s", "10 m", "1.0000000001s"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }
}
