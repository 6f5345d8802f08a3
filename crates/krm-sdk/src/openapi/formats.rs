//! The string `format`s a CRD schema can rely on: the set the API server validates
//! (k8s.io/apiextensions-apiserver `pkg/apiserver/validation/formats.go`,
//! `supportedVersionedFormats`; any other format is stripped from the schema and
//! never checked), each with the rule of go-openapi/strfmt's default registry that
//! kube-openapi validates it with.

use regex::Regex;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// Checks `value` against `format`; `None` when it passes or the API server
/// ignores the format, else what the value should look like.
pub fn check(format: &str, value: &str) -> Option<&'static str> {
    // go-openapi normalises names by dropping `-` (formats.go:85), so `date-time`
    // and `datetime` are one format.
    let normalized = format.replace('-', "");
    let valid = match normalized.as_str() {
        "bsonobjectid" => value.len() == 24 && value.bytes().all(|b| b.is_ascii_hexdigit()),
        "uri" => is_request_uri(value),
        "email" => is_email(value),
        "hostname" => value.len() <= 255 && matches("hostname", value),
        "ipv4" => value.parse::<Ipv4Addr>().is_ok(),
        "ipv6" => value.parse::<Ipv6Addr>().is_ok(),
        "cidr" => is_cidr(value),
        "mac" => matches("mac", value),
        "uuid" => matches("uuid", value),
        "uuid3" => matches("uuid3", value),
        "uuid4" => matches("uuid4", value),
        "uuid5" => matches("uuid5", value),
        "hexcolor" => matches("hexcolor", value),
        "rgbcolor" => matches("rgbcolor", value),
        "ssn" => matches("ssn", value),
        "byte" => is_base64(value),
        "date" => is_date(value),
        "datetime" => is_date_time(value),
        "duration" => is_duration(value),
        // password is any string; isbn and creditcard are never used by
        // Kubernetes-style APIs and are left to the API server.
        _ => true,
    };
    if valid {
        None
    } else {
        Some(match normalized.as_str() {
            "uri" => "an absolute URI (`https://host/path`) or an absolute path",
            "email" => "an e-mail address",
            "hostname" => "a host name (RFC 1034)",
            "ipv4" => "an IPv4 address",
            "ipv6" => "an IPv6 address",
            "cidr" => "a CIDR such as `10.0.0.0/8`",
            "byte" => "base64-encoded data",
            "date" => "a date such as `2006-01-02`",
            "datetime" => "an RFC 3339 date-time such as `2006-01-02T15:04:05Z`",
            "duration" => "a duration such as `30s`, `1h30m` or `3 days`",
            "mac" => "a MAC address",
            _ => "the schema's format",
        })
    }
}

fn matches(name: &str, value: &str) -> bool {
    static PATTERNS: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            // strfmt HostnamePattern (RFC 1034, international labels allowed).
            ("hostname", r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$"),
            ("mac", r"^([0-9A-Fa-f]{2}[:-]){5,19}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{4}\.){2,9}[0-9A-Fa-f]{4}$"),
            ("uuid", r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"),
            ("uuid3", r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$"),
            ("uuid4", r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"),
            ("uuid5", r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"),
            ("hexcolor", r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"),
            ("rgbcolor", r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$"),
            ("ssn", r"^\d{3}[- ]?\d{2}[- ]?\d{4}$"),
        ]
        .into_iter()
        .map(|(name, pattern)| (name, Regex::new(pattern).expect("patterns compile")))
        .collect()
    });
    patterns
        .iter()
        .find(|(n, _)| *n == name)
        .is_some_and(|(_, re)| re.is_match(value))
}

/// Go `net/url.ParseRequestURI`: an absolute URI (`scheme:...`) or an absolute
/// path; no control characters, `%` only as an escape.
fn is_request_uri(value: &str) -> bool {
    if value.bytes().any(|b| b < 0x20 || b == 0x7f) || !valid_escapes(value) {
        return false;
    }
    if value.starts_with('/') {
        return true;
    }
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    // `scheme:opaque` needs something after the colon; an authority must not hold
    // a space (Go: "invalid character in host name").
    let host_ok = rest
        .strip_prefix("//")
        .map(|r| !r.split(['/', '?', '#']).next().unwrap_or("").contains(' '))
        .unwrap_or(!rest.is_empty());
    scheme_ok && host_ok
}

fn valid_escapes(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// Go `net/mail.ParseAddress`, in the shapes manifests use: `local@domain` or
/// `Name <local@domain>`.
fn is_email(value: &str) -> bool {
    let address = match (value.find('<'), value.strip_suffix('>')) {
        (Some(start), Some(inner)) => &inner[start + 1..],
        _ => value,
    };
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !address.contains(char::is_whitespace)
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// Go `net.ParseCIDR`: an address and a prefix length within its family.
fn is_cidr(value: &str) -> bool {
    let Some((address, prefix)) = value.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => prefix <= 32,
        Ok(IpAddr::V6(_)) => prefix <= 128,
        Err(_) => false,
    }
}

/// strfmt `Base64`: standard encoding with padding.
fn is_base64(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() % 4 != 0 {
        return false;
    }
    let padding = bytes.iter().rev().take_while(|b| **b == b'=').count();
    padding <= 2
        && bytes[..bytes.len() - padding]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

fn is_date(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    let number = |s: &str, len: usize, max: u32| {
        s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) && {
            let n: u32 = s.parse().unwrap_or(0);
            (1..=max).contains(&n) || (max == 9999 && n == 0)
        }
    };
    number(year, 4, 9999) && number(month, 2, 12) && number(day, 2, 31)
}

/// strfmt `ParseDateTime`: RFC 3339 and the ISO 8601 variants it also accepts
/// (no seconds, no zone, a space instead of `T`).
fn is_date_time(value: &str) -> bool {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let re = PATTERN.get_or_init(|| {
        Regex::new(
            r"^(\d{4}-\d{2}-\d{2})[Tt ]([01]\d|2[0-3]):[0-5]\d(:([0-5]\d|60)(\.\d+)?)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)?$",
        )
        .expect("pattern compiles")
    });
    re.captures(value)
        .is_some_and(|c| is_date(c.get(1).map_or("", |m| m.as_str())))
}

/// strfmt `ParseDuration`: Go `time.ParseDuration` (`1h30m`, `-1.5s`) or a number
/// and a unit word (`3 days`, `1 week`).
fn is_duration(value: &str) -> bool {
    go_duration(value)
        || {
            static PATTERN: OnceLock<Regex> = OnceLock::new();
            let re = PATTERN.get_or_init(|| {
            Regex::new(r"^(\d+)\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?|mins?|secs?|hrs?)$")
                .expect("pattern compiles")
        });
            re.is_match(value.trim())
        }
}

/// Go `time.ParseDuration`.
pub fn go_duration(value: &str) -> bool {
    let s = value.strip_prefix(['-', '+']).unwrap_or(value);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len());
        match unit {
            Some(unit) => rest = &rest[unit.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn checks_the_api_server_formats() {
        for (format, good, bad) in [
            ("ipv4", "10.0.0.1", "10.0.0.256"),
            ("ipv6", "fd00::1", "10.0.0.1"),
            ("cidr", "10.0.0.0/8", "10.0.0.0/33"),
            ("uri", "https://example.com/x", "example.com"),
            ("hostname", "example.com", "-bad-.com"),
            ("date-time", "2024-01-02T03:04:05Z", "2024-13-02T03:04:05Z"),
            ("duration", "1h30m", "soon"),
            ("byte", "aGVsbG8=", "hello!"),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123"),
            ("email", "a@example.com", "nobody"),
            ("date", "2024-02-29", "2024-2-29"),
        ] {
            assert_eq!(check(format, good), None, "{format} {good}");
            assert!(check(format, bad).is_some(), "{format} {bad}");
        }
        // Formats outside the API server's list are stripped, never checked.
        assert_eq!(check("int32", "anything"), None);
        assert_eq!(check("password", ""), None);
    }
}
