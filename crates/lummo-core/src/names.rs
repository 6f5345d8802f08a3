//! Kubernetes name rules, with messages that say what to change, and the value
//! types that carry them: a spec field typed [`DnsLabel`], [`DnsSubdomain`],
//! [`Dns1035Label`], [`AppName`] or [`PortName`] is checked while it is decoded
//! ("parse, don't validate"), so a renderer holding one never checks it again and
//! each rule lives in one function here. The rules are apimachinery's
//! `pkg/util/validation/validation.go` (`IsDNS1123Label`, `IsDNS1123Subdomain`,
//! `IsDNS1035Label`, `IsValidPortName`, `IsValidLabelValue`) and Gateway API's
//! `Hostname`; the unit tests below take their accept and reject tables from
//! apimachinery's `validation_test.go`.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// A string that passed one of the name rules of this module. Deserializing one
/// runs the rule and fails with its message (serde's `de::Error::custom`, so the
/// decoder reports it at the field's path); its JSON Schema carries the rule's
/// `pattern` and `maxLength`, which the generated schemas and CRDs then check too.
macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $rule:path, $pattern:expr, $max_length:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// `text` if it passes the rule, else the rule's message.
            pub fn new(text: impl Into<String>) -> Result<Self, String> {
                let text = text.into();
                $rule(&text)?;
                Ok($name(text))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::new(text).map_err(de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": $pattern, "maxLength": $max_length })
            }
        }
    };
}

/// validation.go `dns1123LabelFmt`, anchored.
const DNS1123_LABEL_PATTERN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// validation.go `dns1123SubdomainFmt`: labels joined by `.`.
const DNS1123_SUBDOMAIN_PATTERN: &str =
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// validation.go `dns1035LabelFmt`.
const DNS1035_LABEL_PATTERN: &str = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
/// Gateway API's `Hostname` (apis/v1 shared_types.go, the `pattern` of HTTPRoute
/// `spec.hostnames[]` in gateway.networking.k8s.io_httproutes.yaml, maxLength 253):
/// a DNS-1123 subdomain with an optional leading `*.` wildcard label.
const HOSTNAME_PATTERN: &str =
    "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// validation.go `labelValueFmt`, `(qualifiedNameFmt)?`, anchored: empty, or
/// `[-A-Za-z0-9_.]` starting and ending alphanumeric.
const LABEL_VALUE_PATTERN: &str = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
/// validation.go `IsValidPortName` as one expression: `-`-separated runs of
/// `[a-z0-9]` (no `-` at either end, no `--`), one of them holding a letter.
const PORT_NAME_PATTERN: &str = "^([a-z0-9]+-)*[0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$";

name_type!(
    /// A DNS-1123 label (`IsDNS1123Label`): container and Namespace names.
    DnsLabel, dns_label, DNS1123_LABEL_PATTERN, 63
);
name_type!(
    /// A DNS-1123 subdomain (`IsDNS1123Subdomain`): what most object names must be,
    /// e.g. the ConfigMaps, Secrets and ServiceAccount a spec refers to.
    DnsSubdomain, dns_subdomain, DNS1123_SUBDOMAIN_PATTERN, 253
);
name_type!(
    /// A DNS-1035 label (`IsDNS1035Label`): Service names.
    Dns1035Label, dns1035_label, DNS1035_LABEL_PATTERN, 63
);
name_type!(
    /// The `app` of a spec: a DNS-1035 label, because it names the app's Service
    /// (see [`app`]).
    AppName, app, DNS1035_LABEL_PATTERN, 63
);
name_type!(
    /// An IANA_SVC_NAME (`IsValidPortName`): a named container or Service port.
    PortName, port_name, PORT_NAME_PATTERN, 15
);

name_type!(
    /// A hostname as Gateway API's `Hostname` takes it (see [`hostname`]): precise
    /// (`shop.example.com`) or a wildcard (`*.example.com`). Whether a wildcard is
    /// allowed is the caller's decision (networking's `allowWildcardDomains`).
    Hostname, hostname, HOSTNAME_PATTERN, 253
);
name_type!(
    /// A label value (`IsValidLabelValue`): `part-of` and `environment`, which
    /// become the `app.kubernetes.io/part-of` label and Datadog's `env` tag.
    LabelValue, label_value, LABEL_VALUE_PATTERN, 63
);

impl Hostname {
    /// `example.com` of `*.example.com`; `None` for a precise hostname.
    pub fn wildcard_base(&self) -> Option<&str> {
        self.0.strip_prefix("*.")
    }
}

/// A DNS-1123 label: what Services, ports and most names must be.
pub fn dns_label(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err(format!(
            "`{name}` must be 1 to 63 characters (DNS-1123 label){}",
            for_example(&label_like(name, 63))
        ));
    }
    let valid = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !valid {
        return Err(format!(
            "`{name}` is not a valid DNS-1123 label: use lower-case letters, digits and `-`, starting and ending with a letter or digit{}",
            for_example(&label_like(name, 63))
        ));
    }
    Ok(())
}

/// A DNS-1035 label, what a Service name must be (Kubernetes
/// pkg/apis/core/validation: `ValidateServiceName = NameIsDNS1035Label`): a DNS-1123
/// label that starts with a letter.
pub fn dns1035_label(name: &str) -> Result<(), String> {
    if dns_label(name).is_err() {
        let label = label_like(name, 61);
        let suggestion = match label.starts_with(|c: char| c.is_ascii_digit()) {
            true => format!("x-{label}"),
            false => label,
        };
        return Err(format!(
            "`{name}` is not a valid DNS-1035 label: at most 63 lower-case letters, digits and `-`, starting with a letter and ending with a letter or digit{}",
            for_example(&suggestion)
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "`{name}` is not a valid DNS-1035 label: it must start with a lower-case letter (e.g. `x-{name}`)"
        ));
    }
    Ok(())
}

/// The `app` of a spec: it names the app's Service (DNS-1035), is the value of the
/// `app.kubernetes.io/name` label (at most 63 characters) and prefixes the names of
/// the other objects, all DNS-1123 subdomains.
pub fn app(app: &str) -> Result<(), String> {
    dns1035_label(app).map_err(|message| {
        format!("{message}; the app names its Service and its `app.kubernetes.io/name` label")
    })
}

/// A DNS-1123 subdomain, what most object names must be (apimachinery
/// `NameIsDNSSubdomain`): at most 253 characters, dot-separated DNS-1123 labels.
pub fn dns_subdomain(name: &str) -> Result<(), String> {
    // No 63-character limit per label: `IsDNS1123Subdomain` checks only the whole
    // length and `dns1123SubdomainFmt`.
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if valid {
        Ok(())
    } else {
        let suggestion: Vec<String> = name
            .split('.')
            .map(|label| label_like(label, 63))
            .filter(|label| !label.is_empty())
            .collect();
        Err(format!(
            "`{name}` is not a valid DNS-1123 subdomain: at most 253 lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit{}",
            for_example(&suggestion.join("."))
        ))
    }
}

/// A CronJob's name: the CronJob controller names each Job `<name>-<11 characters>`
/// and a Job name must stay a 63-character label, so the API server refuses more
/// than 52 (Kubernetes pkg/apis/batch/validation ValidateCronJob,
/// `DNS1035LabelMaxLength-11`: "must be no more than 52 characters").
pub fn cron_job_name(name: &str) -> Result<(), String> {
    dns_subdomain(name)?;
    if name.len() > 52 {
        return Err(format!(
            "CronJob name `{name}` has {} characters, more than 52: the CronJob controller appends 11 to name its Jobs; shorten it (e.g. `{}`)",
            name.len(),
            name[..52].trim_end_matches('-')
        ));
    }
    Ok(())
}

/// A label value (apimachinery `IsValidLabelValue`): empty, or at most 63
/// characters of `[A-Za-z0-9_.-]` starting and ending with a letter or digit.
pub fn label_value(value: &str) -> Result<(), String> {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let valid = value.is_empty()
        || (value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && edge(value.chars().next())
            && edge(value.chars().last()));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{value}` is not a valid label value: at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit{}",
            for_example(&label_value_like(value))
        ))
    }
}

/// `value` made into a label value: other characters turned into `-`, cut to 63
/// and trimmed of non-alphanumerics at the ends.
fn label_value_like(value: &str) -> String {
    let mapped: String = value
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '_' | '.') {
                true => c,
                false => '-',
            },
        )
        .collect();
    let not_edge = |c: char| !c.is_ascii_alphanumeric();
    let trimmed = mapped.trim_matches(not_edge);
    trimmed[..trimmed.len().min(63)]
        .trim_end_matches(not_edge)
        .to_string()
}

/// A hostname as Gateway API's `Hostname` and cert-manager's `dnsNames` take it:
/// a precise hostname (see [`precise_hostname`]), optionally prefixed with a
/// wildcard label `*.` that "must appear by itself as the first label".
pub fn hostname(text: &str) -> Result<(), String> {
    match text.strip_prefix("*.") {
        Some(base) => check_hostname(text, base, "*."),
        None => check_hostname(text, text, ""),
    }
}

/// A hostname without wildcard, what Traefik's `Host` matcher takes: RFC 1123
/// (at most 253 characters, dot-separated labels of at most 63 lower-case letters,
/// digits and inner `-`). Unlike Gateway API's pattern it also keeps RFC 1123's
/// 63-character label limit, which DNS enforces.
pub fn precise_hostname(text: &str) -> Result<(), String> {
    if text.starts_with("*.") {
        return Err(format!(
            "`{text}` is not a valid hostname here: a wildcard `*.` is not allowed"
        ));
    }
    check_hostname(text, text, "")
}

/// Checks `base`, the part of `text` after `wildcard`.
fn check_hostname(text: &str, base: &str, wildcard: &str) -> Result<(), String> {
    let suggestion = || {
        let labels: Vec<String> = base
            .split('.')
            .map(|label| label_like(label, 63))
            .filter(|label| !label.is_empty())
            .collect();
        match labels.is_empty() {
            true => " (e.g. `shop.example.com`)".to_string(),
            false => for_example(&format!("{wildcard}{}", labels.join("."))),
        }
    };
    let invalid = |why: &str| {
        Err(format!(
            "`{text}` is not a valid hostname: {why}{}",
            suggestion()
        ))
    };
    if base.is_empty() || text.len() > 253 {
        return invalid("1 to 253 characters");
    }
    if base.contains('*') {
        // Gateway API: "The wildcard label must appear by itself as the first label."
        return invalid("a wildcard `*.` is only allowed as the whole first label");
    }
    if base.bytes().any(|b| b.is_ascii_uppercase()) {
        return invalid("use lower case");
    }
    for label in base.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return invalid("labels of letters, digits and inner `-`, separated by dots");
        }
    }
    Ok(())
}

/// An IANA_SVC_NAME, what a named container or Service port must be.
pub fn port_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if valid {
        Ok(())
    } else {
        let mut suggestion = label_like(name, 15);
        while suggestion.contains("--") {
            suggestion = suggestion.replace("--", "-");
        }
        let suggestion = if suggestion.bytes().any(|b| b.is_ascii_lowercase()) {
            format!("`{suggestion}`, ")
        } else {
            String::new()
        };
        Err(format!(
            "port name `{name}` is not a valid IANA_SVC_NAME: at most 15 lower-case letters, digits and single `-`, with at least one letter (e.g. {suggestion}`http`, `grpc`, `metrics`)"
        ))
    }
}

/// A qualified name, what label and annotation keys must be (apimachinery
/// `IsQualifiedName`): an optional DNS-1123 subdomain prefix and `/`, then at most
/// 63 characters of `[A-Za-z0-9_.-]` starting and ending with a letter or digit.
pub fn qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if dns_subdomain(prefix).is_err() {
            return Err(format!(
                "key `{key}`: the prefix `{prefix}` must be a DNS-1123 subdomain (e.g. `example.com`)"
            ));
        }
    }
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && edge(name.chars().next())
        && edge(name.chars().last());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "key `{key}` is not a qualified name: an optional `prefix/` and at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
        ))
    }
}

/// A path segment name, what RBAC objects' names must be (apimachinery
/// `ValidatePathSegmentName`): not `.` or `..`, no `/` or `%`.
pub fn path_segment(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '%']) {
        return Err(format!(
            "`{name}` is not a valid name: it must not be `.`, `..` or contain `/` or `%`"
        ));
    }
    Ok(())
}

/// The name rule of an object of a built-in kind, as the API server's
/// `ValidateObjectMeta` calls it per kind (pkg/apis/core/validation: Service
/// `ValidateServiceName` = DNS-1035 label, Namespace `ValidateNamespaceName` =
/// DNS-1123 label; pkg/apis/batch/validation: CronJob at most 52 characters;
/// pkg/apis/rbac/validation: path segment names; everything else
/// `NameIsDNSSubdomain`).
pub fn object_name(kind: &str, name: &str) -> Result<(), String> {
    match kind {
        "Service" => dns1035_label(name),
        "Namespace" => dns_label(name),
        "CronJob" => cron_job_name(name),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => path_segment(name),
        _ => dns_subdomain(name),
    }
}

/// ` (e.g. `suggestion`)`, or nothing when no suggestion is left.
fn for_example(suggestion: &str) -> String {
    if suggestion.is_empty() {
        String::new()
    } else {
        format!(" (e.g. `{suggestion}`)")
    }
}

/// `text` made into a DNS-1123 label as a person would fix it: lower-cased,
/// other characters turned into `-`, cut to `max` and trimmed of `-` at the ends.
fn label_like(text: &str, max: usize) -> String {
    let mapped: String = text
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches('-');
    trimmed[..trimmed.len().min(max)]
        .trim_end_matches('-')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_labels_and_port_names() {
        assert!(dns_label("foobar-api").is_ok());
        assert!(dns_label("Foobar").is_err());
        assert!(dns_label("-a").is_err());
        assert!(port_name("http").is_ok());
        assert!(port_name("http-metrics-long-name").is_err());
        assert!(port_name("80").is_err());
        assert!(port_name("a--b").is_err());
    }

    #[test]
    fn checks_api_server_name_rules() {
        assert!(dns1035_label("lives9").is_ok());
        assert!(dns1035_label("9lives").is_err());
        assert!(app("9lives").unwrap_err().contains("Service"));
        assert!(dns_subdomain("a.b-c").is_ok());
        assert!(dns_subdomain("a..b").is_err());
        assert!(dns_subdomain(&"a".repeat(254)).is_err());
        assert!(cron_job_name(&"a".repeat(52)).is_ok());
        assert!(cron_job_name(&"a".repeat(53)).is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("Foo_bar.1").is_ok());
        assert!(label_value(&"a".repeat(64)).is_err());
        assert!(label_value("-a").is_err());
    }

    #[test]
    fn checks_keys_and_names_per_kind() {
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("team").is_ok());
        assert!(qualified_name("Bad_Prefix/x").is_err());
        assert!(qualified_name("a/").is_err());
        assert!(qualified_name(&"k".repeat(64)).is_err());
        assert!(object_name("Service", "9lives").is_err());
        assert!(object_name("Deployment", "9lives").is_ok());
        assert!(object_name("CronJob", &"a".repeat(53)).is_err());
        assert!(object_name("ClusterRole", "system:controller:x").is_ok());
        assert!(object_name("ConfigMap", "My-Config").is_err());
    }

    /// The accept and reject tables of apimachinery
    /// pkg/util/validation/validation_test.go (`TestIsDNS1123Label`,
    /// `TestIsDNS1123Subdomain`, `TestIsDNS1035Label`, `TestIsValidPortName`), run
    /// through the types' decoding and their schema patterns.
    #[test]
    fn judges_names_as_apimachinery_tests_do() {
        let long = |n: usize| "a".repeat(n);
        let label_good = [
            "a",
            "ab",
            "abc",
            "a1",
            "a-1",
            "a--1--2--b",
            "0",
            "01",
            "012",
            "1a",
            "1-a",
            "1--a--b--2",
        ];
        let shared_bad = [
            "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_",
            "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "1.", ".1", " ", "a ", " a", "a b",
            "1 ", " 1", "1 2",
        ];
        check::<DnsLabel>(
            DNS1123_LABEL_PATTERN,
            &[&label_good[..], &[long(63).as_str()]].concat(),
            &[&shared_bad[..], &["a.b", "1.2", long(64).as_str()]].concat(),
        );
        check::<DnsSubdomain>(
            DNS1123_SUBDOMAIN_PATTERN,
            &[
                &label_good[..],
                &[
                    "a.a",
                    "ab.a",
                    "abc.a",
                    "a1.a",
                    "a-1.a",
                    "a--1--2--b.a",
                    "a.1",
                    "ab.1",
                    "abc.1",
                    "a1.1",
                    "a-1.1",
                    "a--1--2--b.1",
                    "0.a",
                    "01.a",
                    "012.a",
                    "1a.a",
                    "1-a.a",
                    "0.1",
                    "01.1",
                    "012.1",
                    "1a.1",
                    "1-a.1",
                    "1--a--b--2.1",
                    "a.b.c.d.e",
                    "aa.bb.cc.dd.ee",
                    "1.2.3.4.5",
                    "11.22.33.44.55",
                    long(253).as_str(),
                ],
            ]
            .concat(),
            &[
                &shared_bad[..],
                &[
                    "a..b",
                    "1..2",
                    "A.a",
                    "aB.a",
                    "ab.A",
                    "A1.a",
                    "a1.A",
                    "A.1",
                    "aB.1",
                    "A1.1",
                    "1A.1",
                    "0.A",
                    "01.A",
                    "012.A",
                    "1A.a",
                    "1a.A",
                    "A.B.C.D.E",
                    "AA.BB.CC.DD.EE",
                    "a.B.c.d.e",
                    "aa.bB.cc.dd.ee",
                    "a@b",
                    "a,b",
                    "a;b",
                    "a:b",
                    "a%b",
                    "a?b",
                    "a$b",
                    long(254).as_str(),
                ],
            ]
            .concat(),
        );
        check::<Dns1035Label>(
            DNS1035_LABEL_PATTERN,
            &[
                "a",
                "ab",
                "abc",
                "a1",
                "a-1",
                "a--1--2--b",
                long(63).as_str(),
            ],
            &[
                &["0", "01", "012", "1a", "1-a", "1--a--b--2"][..],
                &shared_bad[..],
                &["a.b", "1.2", long(64).as_str()],
            ]
            .concat(),
        );
        check::<PortName>(
            PORT_NAME_PATTERN,
            &[
                "telnet",
                "re-mail-ck",
                "pop3",
                "a",
                "a-1",
                "1-a",
                "a-1-b-2-c",
                "1-a-2-b-3",
            ],
            &[
                "longerthan15characters",
                "",
                long(16).as_str(),
                "12345",
                "1-2-3-4",
                "-begin",
                "end-",
                "two--hyphens",
                "whois++",
            ],
        );
        // `TestIsValidLabelValue`.
        check::<LabelValue>(
            LABEL_VALUE_PATTERN,
            &[
                "simple",
                "now-with-dashes",
                "1-starts-with-num",
                "end-with-num-1",
                "1234",
                long(63).as_str(),
                "",
            ],
            &[
                "nospecialchars%^=@",
                "Tama-nui-te-rā.is.Māori.sun",
                "\\backslashes\\are\\bad",
                "-starts-with-dash",
                "ends-with-dash-",
                ".starts.with.dot",
                "ends.with.dot.",
                long(64).as_str(),
            ],
        );
        // Gateway API's `Hostname` doc comment: precise or one leading `*.` label.
        let long_host = format!("{}.{}.{}.{}", long(63), long(63), long(63), long(61));
        check::<Hostname>(
            HOSTNAME_PATTERN,
            &[
                "example.com",
                "foo.example.com",
                "*.example.com",
                "*.a",
                "a",
                "0.a-b.c",
                long_host.as_str(),
            ],
            &[
                "",
                "*",
                "*.",
                "*example.com",
                "**.example.com",
                "*.*.example.com",
                "foo.*.example.com",
                "Example.com",
                "example.com.",
                ".example.com",
                "a..b",
                "-a.com",
                "a-.com",
                "a_b.com",
                "example.com:443",
                "exa mple.com",
                &format!("{long_host}a"),
            ],
        );
    }

    /// `good` decode and match `pattern` (within the schema's maxLength); `bad`
    /// fail to decode with a message, and the schema refuses them too.
    fn check<T: serde::de::DeserializeOwned + JsonSchema>(
        pattern: &str,
        good: &[&str],
        bad: &[&str],
    ) {
        let regex = regex::Regex::new(pattern).unwrap();
        let schema = schemars::schema_for!(T);
        let max = schema.get("maxLength").and_then(|m| m.as_u64()).unwrap() as usize;
        let in_schema = |text: &str| regex.is_match(text) && text.len() <= max;
        for text in good {
            assert!(
                serde_json::from_value::<T>(serde_json::json!(text)).is_ok(),
                "{text}"
            );
            assert!(in_schema(text), "{text}");
        }
        for text in bad {
            let error = serde_json::from_value::<T>(serde_json::json!(text)).err();
            assert!(
                error.is_some_and(|e| e.to_string().contains(&format!("`{text}`"))),
                "{text}"
            );
            assert!(!in_schema(text), "{text}");
        }
    }

    #[test]
    fn suggests_a_name_that_passes() {
        let message = |result: Result<(), String>| result.unwrap_err();
        assert!(message(dns_label("My_App")).ends_with("(e.g. `my-app`)"));
        assert!(message(dns_subdomain("Shop.Example_Com")).ends_with("(e.g. `shop.example-com`)"));
        assert!(message(dns1035_label("9Lives")).ends_with("(e.g. `x-9lives`)"));
        assert!(message(port_name("HTTP_Metrics")).contains("(e.g. `http-metrics`, `http`"));
        assert!(message(port_name("12345")).contains("(e.g. `http`"));
        assert!(
            message(hostname("*.Shop_EU.example.com")).ends_with("(e.g. `*.shop-eu.example.com`)")
        );
        assert!(message(hostname("*.")).ends_with("(e.g. `shop.example.com`)"));
        assert!(message(hostname("foo.*.example.com")).contains("whole first label"));
        assert!(message(label_value("Bad Value!")).ends_with("(e.g. `Bad-Value`)"));
        assert!(message(label_value("-x:y.")).ends_with("(e.g. `x-y`)"));
        for text in ["Bad Value!", "-_-", &"é".repeat(40), &"z".repeat(80)] {
            let suggestion = label_value_like(text);
            assert!(label_value(&suggestion).is_ok(), "{text} → {suggestion}");
        }
        for text in ["My_App", "-x-", "A.B", &"z".repeat(80)] {
            let suggestion = label_like(text, 63);
            assert!(dns_label(&suggestion).is_ok(), "{text} → {suggestion}");
        }
    }

    #[test]
    fn hostnames_keep_the_dns_label_limit_and_wildcards_only_where_allowed() {
        // RFC 1123 labels are at most 63 characters; Gateway API's pattern does not say.
        assert!(hostname(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(precise_hostname("shop.example.com").is_ok());
        assert!(precise_hostname("*.example.com")
            .unwrap_err()
            .contains("wildcard"));
        let host = Hostname::new("*.example.com").unwrap();
        assert_eq!(host.wildcard_base(), Some("example.com"));
        assert_eq!(Hostname::new("example.com").unwrap().wildcard_base(), None);
    }
}
