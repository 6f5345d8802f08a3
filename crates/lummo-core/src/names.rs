//! Kubernetes name rules, with messages that say what to change.

/// A DNS-1123 label: what Services, ports and most names must be.
pub fn dns_label(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err(format!(
            "`{name}` must be 1 to 63 characters (DNS-1123 label)"
        ));
    }
    let valid = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !valid {
        return Err(format!(
            "`{name}` is not a valid DNS-1123 label: use lower-case letters, digits and `-`, starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// A DNS-1035 label, what a Service name must be (Kubernetes
/// pkg/apis/core/validation: `ValidateServiceName = NameIsDNS1035Label`): a DNS-1123
/// label that starts with a letter.
pub fn dns1035_label(name: &str) -> Result<(), String> {
    dns_label(name)?;
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
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| dns_label(label).is_ok());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid DNS-1123 subdomain: at most 253 lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit"
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
            "`{value}` is not a valid label value: at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
        ))
    }
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
        Err(format!(
            "port name `{name}` is not a valid IANA_SVC_NAME: at most 15 lower-case letters, digits and single `-`, with at least one letter (e.g. `http`, `grpc`, `metrics`)"
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
}
