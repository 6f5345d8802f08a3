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
}
