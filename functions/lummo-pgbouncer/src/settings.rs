//! pgbouncer's documented settings (`settings.tsv`, taken from pgbouncer's
//! configuration reference of the pinned version), and the check of one `config`
//! entry against them.

use krm_sdk::decode::suggest;
use krm_sdk::Value;
use std::sync::OnceLock;

/// What a setting takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An integer of 0 or more.
    Count,
    /// An integer of 1 or more.
    Positive,
    /// A number of seconds (fractions allowed), 0 or more.
    Seconds,
    /// `0` or `1`.
    Flag,
    OneOf(Vec<&'static str>),
    /// One line of text.
    Text,
    /// A setting the generated pod decides; the reason it cannot be set.
    Lummo(&'static str),
}

const DATA: &str = include_str!("settings.tsv");

/// Every documented setting of the `[pgbouncer]` section, in the reference's order.
pub fn all() -> &'static [(&'static str, Kind)] {
    static SETTINGS: OnceLock<Vec<(&'static str, Kind)>> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        DATA.lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                let (name, value) = line.split_once('\t').expect("settings.tsv: name<TAB>value");
                let kind = match value {
                    "count" => Kind::Count,
                    "positive" => Kind::Positive,
                    "seconds" => Kind::Seconds,
                    "flag" => Kind::Flag,
                    "text" => Kind::Text,
                    other => match (other.strip_prefix("one of "), other.strip_prefix("lummo: ")) {
                        (Some(values), _) => Kind::OneOf(values.split('|').collect()),
                        (_, Some(reason)) => Kind::Lummo(reason),
                        _ => panic!("settings.tsv: unknown value kind `{other}` of `{name}`"),
                    },
                };
                (name, kind)
            })
            .collect()
    })
}

/// The ini name of a `config` key: pgbouncer.ini's own, its upper-case form, or
/// `POOL_SIZE` (`default_pool_size`, the spelling of the edoburu image's variables).
pub fn ini_name(key: &str) -> String {
    match key {
        "POOL_SIZE" => "default_pool_size".to_string(),
        other => other.to_ascii_lowercase(),
    }
}

/// A `config` entry checked: its ini name and value, or the message of the error.
pub fn check(key: &str, value: &Value) -> Result<(&'static str, String), String> {
    let ini = ini_name(key);
    let Some((name, kind)) = all().iter().find(|(name, _)| *name == ini) else {
        // Suggest in the user's own case: upper-case keys are answered in upper case.
        let upper = key.chars().any(|c| c.is_ascii_uppercase());
        let mut known: Vec<String> = all()
            .iter()
            .filter(|(_, kind)| !matches!(kind, Kind::Lummo(_)))
            .map(|(n, _)| {
                if upper {
                    n.to_ascii_uppercase()
                } else {
                    n.to_string()
                }
            })
            .collect();
        if upper {
            known.push("POOL_SIZE".into());
        }
        let hint = suggest(key, known.iter().map(String::as_str))
            .map(|s| format!(", did you mean `{s}`?"))
            .unwrap_or_else(|| {
                ": see https://www.pgbouncer.org/config.html for the settings of pgbouncer 1.24"
                    .into()
            });
        return Err(format!("unknown pgbouncer setting `{key}`{hint}"));
    };
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => u8::from(*b).to_string(),
        other => other.to_string(),
    };
    let valid = match kind {
        Kind::Lummo(reason) => {
            return Err(format!(
                "`{key}` is set by lummo-pgbouncer: {reason}; remove it"
            ))
        }
        Kind::Count => text.parse::<u64>().is_ok(),
        Kind::Positive => text.parse::<u64>().is_ok_and(|n| n > 0),
        Kind::Seconds => text.parse::<f64>().is_ok_and(|n| n.is_finite() && n >= 0.0),
        Kind::Flag => matches!(text.as_str(), "0" | "1"),
        Kind::OneOf(values) => values.contains(&text.as_str()),
        // A line break would start another ini line: a setting the spec did not name.
        Kind::Text => !text.contains(['\n', '\r']),
    };
    if valid {
        return Ok((name, text));
    }
    let expected = match kind {
        Kind::Count => "an integer of 0 or more".to_string(),
        Kind::Positive => "a positive integer".to_string(),
        Kind::Seconds => "a number of seconds, 0 or more".to_string(),
        Kind::Flag => "0 or 1".to_string(),
        Kind::OneOf(values) => format!("one of {}", values.join(", ")),
        Kind::Text => "a single line".to_string(),
        Kind::Lummo(_) => unreachable!("answered above"),
    };
    Err(format!(
        "`{key}` must be {expected}, found `{}`",
        text.escape_debug()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_list_reads_and_has_no_duplicates() {
        let names: std::collections::BTreeSet<_> = all().iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), all().len());
        assert!(
            all().len() > 90,
            "the 1.24 reference documents over 90 settings"
        );
    }

    #[test]
    fn documented_settings_are_accepted_in_both_spellings() {
        assert_eq!(
            check("MAX_PREPARED_STATEMENTS", &json!(100)),
            Ok(("max_prepared_statements", "100".into()))
        );
        assert_eq!(
            check("server_tls_sslmode", &json!("verify-full")),
            Ok(("server_tls_sslmode", "verify-full".into()))
        );
        assert_eq!(
            check("POOL_SIZE", &json!("30")),
            Ok(("default_pool_size", "30".into()))
        );
        assert_eq!(
            check("query_wait_timeout", &json!(2.5)),
            Ok(("query_wait_timeout", "2.5".into()))
        );
    }

    #[test]
    fn others_are_refused_with_a_suggestion() {
        let error = check("MAX_PREPARED_STATEMENT", &json!(1)).unwrap_err();
        assert!(
            error.contains("did you mean `MAX_PREPARED_STATEMENTS`"),
            "{error}"
        );
        let error = check("server_tls_mode", &json!("require")).unwrap_err();
        assert!(
            error.contains("did you mean `server_tls_sslmode`"),
            "{error}"
        );
        let error = check("listen_port", &json!(5432)).unwrap_err();
        assert!(error.contains("set by lummo-pgbouncer"), "{error}");
        let error = check("admin_users", &json!("a\nauth_type = trust")).unwrap_err();
        assert!(error.contains("a single line"), "{error}");
        let error = check("server_fast_close", &json!(2)).unwrap_err();
        assert!(error.contains("0 or 1"), "{error}");
    }
}
