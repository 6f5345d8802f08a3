//! `lummo init`: a new package for one app, ready to render and validate.
//!
//! [`scaffold`] is pure (parameters in, files out) so other front ends (the
//! Backstage template) produce exactly the files the command writes. The command
//! itself ([`run`]) adds the prompts, the refusal to overwrite and the writing.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// Where editors fetch the JSON Schema of a Lummo kind (`schemas/lummo/`, published
/// with the repository; `schemas/catalog.json` maps file names to the same URLs).
pub use lummo_schemas::SCHEMA_BASE;

/// The functions' images, as `make images` tags them.
pub const REGISTRY: &str = "ghcr.io/lummo/krm-functions";

/// What the new package describes. Only `name` and `image` are required; the rest
/// may stay empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitParams {
    /// The app (`app.kubernetes.io/name`), also the Kptfile's name.
    pub name: String,
    /// The system it belongs to (`app.kubernetes.io/part-of`); empty: the name.
    pub part_of: String,
    /// The container image, with its tag.
    pub image: String,
    /// Named container ports; empty: `http` on 8080.
    pub ports: Vec<(String, u16)>,
    /// Public domains routed to the first port (lummo-networking).
    pub domains: Vec<String>,
    /// Pub/Sub topics the app owns (lummo-pubsub).
    pub topics: Vec<String>,
    /// The Secret with the Postgres connection (keys host, port, database,
    /// username, password): the app reaches Postgres through pgbouncer.
    pub database: Option<String>,
    /// The GCP project number (for dead-letter grants of lummo-pubsub).
    pub project_number: Option<String>,
    /// Functions' version in the Kptfile's images; empty: this CLI's version.
    pub version: String,
}

impl InitParams {
    /// Every problem with the parameters at once, each naming its flag.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.name.is_empty() {
            problems.push("--name is required".to_string());
        } else if let Some(why) = dns_label(&self.name) {
            problems.push(format!("--name `{}`: {why}", self.name));
        }
        if !self.part_of.is_empty() {
            if let Some(why) = dns_label(&self.part_of) {
                problems.push(format!("--part-of `{}`: {why}", self.part_of));
            }
        }
        if self.image.is_empty() {
            problems.push("--image is required (e.g. --image gcr.io/lummo/shop:1.0.0)".into());
        } else if self.image.chars().any(char::is_whitespace) {
            problems.push(format!("--image `{}`: must not contain spaces", self.image));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (name, port) in &self.ports {
            if let Some(why) = port_name(name) {
                problems.push(format!("--port `{name}={port}`: {why}"));
            }
            if *port == 0 {
                problems.push(format!("--port `{name}={port}`: the port must be 1-65535"));
            }
            if !seen.insert(name) {
                problems.push(format!("--port `{name}`: given twice"));
            }
        }
        for domain in &self.domains {
            if !domain
                .split('.')
                .all(|label| label == "*" || dns_label(label).is_none())
                || !domain.contains('.')
            {
                problems.push(format!(
                    "--domain `{domain}`: must be a DNS name like api.example.com"
                ));
            }
        }
        for topic in &self.topics {
            // Pub/Sub topic IDs: letters, digits, - _ . ~ + %, starting with a letter;
            // they also become Kubernetes object names, hence the stricter label rule.
            if let Some(why) = dns_label(topic) {
                problems.push(format!("--topic `{topic}`: {why}"));
            }
        }
        if let Some(secret) = &self.database {
            if let Some(why) = dns_label(secret) {
                problems.push(format!("--database `{secret}`: {why}"));
            }
        }
        if let Some(number) = &self.project_number {
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                problems.push(format!(
                    "--project-number `{number}`: the numeric GCP project number (not the project ID)"
                ));
            }
        }
        problems
    }

    fn part_of(&self) -> &str {
        if self.part_of.is_empty() {
            &self.name
        } else {
            &self.part_of
        }
    }

    fn ports(&self) -> Vec<(String, u16)> {
        if self.ports.is_empty() {
            vec![("http".into(), 8080)]
        } else {
            self.ports.clone()
        }
    }

    fn image_of(&self, function: &str) -> String {
        let version = if self.version.is_empty() {
            env!("CARGO_PKG_VERSION")
        } else {
            &self.version
        };
        format!("{REGISTRY}/{function}:v{version}")
    }
}

/// Why `value` is not an RFC 1123 label (what Kubernetes names and label values
/// of these objects must be), or `None`.
fn dns_label(value: &str) -> Option<&'static str> {
    if value.is_empty() || value.len() > 63 {
        return Some("must be 1-63 characters");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Some("only lowercase letters, digits and `-`");
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Some("must start and end with a letter or digit");
    }
    None
}

/// A container port name (IANA_SVC_NAME): at most 15 characters, one letter at least.
fn port_name(value: &str) -> Option<&'static str> {
    if value.len() > 15 {
        return Some("a port name is at most 15 characters");
    }
    if !value.bytes().any(|b| b.is_ascii_lowercase()) {
        return Some("a port name needs a letter");
    }
    dns_label(value)
}

/// A spec file's head: the editor's schema modeline.
fn modeline(kind: &str) -> String {
    format!("# yaml-language-server: $schema={SCHEMA_BASE}/{kind}.json\n")
}

const LOCAL: &str = "  annotations:\n    config.kubernetes.io/local-config: \"true\"\n";

fn object(kind: &str, name: &str, spec: &str) -> String {
    format!(
        "{}apiVersion: lummo.dev/v1alpha1\nkind: {kind}\nmetadata:\n  name: {name}\n{LOCAL}spec:\n{spec}",
        modeline(kind)
    )
}

/// Quotes a scalar when YAML would read it as something other than this string.
fn scalar(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-./:_@".contains(&b))
        && !value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~"
        );
    if plain {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The package's files, `(path, text)`, in a fixed order. Assumes
/// [`InitParams::check`] found nothing.
pub fn scaffold(params: &InitParams) -> Vec<(String, String)> {
    let name = &params.name;
    let part_of = params.part_of();
    let ports = params.ports();
    let mut files = Vec::new();

    // The Kptfile: one step per function the package needs, lummo-validate last.
    let mut kptfile = format!(
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: {name}\n{LOCAL}info:\n  description: {name} of {part_of}, scaffolded by `lummo init`.\npipeline:\n  mutators:\n  - image: {}\n",
        params.image_of("lummo-workload")
    );
    if !params.domains.is_empty() {
        kptfile.push_str(&format!(
            "  - image: {}\n    configPath: networking-config.yaml\n",
            params.image_of("lummo-networking")
        ));
    }
    if !params.topics.is_empty() {
        kptfile.push_str(&format!(
            "  - image: {}\n    configPath: pubsub-config.yaml\n",
            params.image_of("lummo-pubsub")
        ));
    }
    if params.database.is_some() {
        kptfile.push_str(&format!(
            "  - image: {}\n",
            params.image_of("lummo-pgbouncer")
        ));
    }
    kptfile.push_str(&format!(
        "  validators:\n  - image: {}\n",
        params.image_of("lummo-validate")
    ));
    files.push(("Kptfile".to_string(), kptfile));

    // The app.
    let mut containers = format!("    image: {}\n    ports:\n", scalar(&params.image));
    for (port_name, port) in &ports {
        containers.push_str(&format!("    - name: {port_name}\n      port: {port}\n"));
    }
    if let Some(secret) = &params.database {
        containers.push_str(&format!(
            "    configs:\n    - {name}-db # generated by lummo-pgbouncer: DB_HOST, DB_PORT of pgbouncer\n    secrets:\n    - {secret} # database, username, password\n"
        ));
    }
    containers
        .push_str("    resources:\n      requests:\n        cpu: 100m\n        memory: 128Mi\n");
    let deployment = format!(
        "  app: {name}\n  part-of: {part_of}\n  containers:\n{containers}  scaling:\n    minreplica: 1\n    maxreplica: 3\n    cpu:\n      target: 70\n"
    );
    files.push((
        "deployment.yaml".into(),
        object("LummoDeployment", name, &deployment),
    ));

    if !params.domains.is_empty() {
        let mut spec = format!("  app: {name}\n  domains:\n");
        for domain in &params.domains {
            spec.push_str(&format!("  - {}\n", scalar(domain)));
        }
        spec.push_str("  routes:\n  - match: PathPrefix(`/`)\n");
        files.push((
            "networking.yaml".into(),
            object("LummoNetworking", name, &spec),
        ));
        files.push((
            "networking-config.yaml".into(),
            object(
                "LummoNetworkingConfig",
                "networking-config",
                "  # The cert-manager ClusterIssuer of the Certificates; VPN-only routes\n  # (`vpn: true`) also need vpnSourceRanges or vpnMiddleware here.\n  clusterIssuer: letsencrypt\n",
            ),
        ));
    }

    if !params.topics.is_empty() {
        let mut spec = String::from("  topics:\n");
        for topic in &params.topics {
            spec.push_str(&format!("  - {topic}\n"));
        }
        files.push((
            "pubsub.yaml".into(),
            object("LummoTopic", &format!("{name}-topics"), &spec),
        ));
        let config = match &params.project_number {
            Some(number) => format!(
                "  # The Pub/Sub service agent (service-<number>@gcp-sa-pubsub) gets the dead-letter grants.\n  projectNumber: \"{number}\"\n"
            ),
            None => "  # Dead-letter subscriptions need the numeric GCP project number:\n  # projectNumber: \"123456789012\"\n  strictTopics: false\n".to_string(),
        };
        files.push((
            "pubsub-config.yaml".into(),
            object("LummoPubSubConfig", "pubsub-config", &config),
        ));
    }

    if let Some(secret) = &params.database {
        let spec = format!(
            "  app: {name}\n  part-of: {part_of}\n  connectionSecret: {secret} # keys: host, port, database, username, password\n"
        );
        files.push((
            "pgbouncer.yaml".into(),
            object("LummoPgBouncer", &format!("{name}-pgbouncer"), &spec),
        ));
    }
    files
}

/// `lummo init`'s flags, as given (prompts fill the gaps on a terminal).
#[derive(Debug, Default)]
pub struct Flags {
    pub name: Option<String>,
    pub part_of: Option<String>,
    pub image: Option<String>,
    pub ports: Vec<String>,
    pub domains: Vec<String>,
    pub topics: Vec<String>,
    pub database: Option<String>,
    pub project_number: Option<String>,
    /// Never prompt, even on a terminal.
    pub yes: bool,
}

/// `8080`, `http=8080` or `http:8080`.
fn parse_port(text: &str) -> Result<(String, u16)> {
    let (name, number) = match text.split_once(['=', ':']) {
        Some((name, number)) => (name.trim().to_string(), number.trim()),
        None => ("http".to_string(), text.trim()),
    };
    let port = number.parse::<u16>().with_context(|| {
        format!("--port `{text}`: expected NAME=PORT (e.g. http=8080) or a port number")
    })?;
    Ok((name, port))
}

/// Comma- or space-separated values of one prompt answer or flag.
fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split([',', ' ']))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// Writes the scaffold of `flags` into `dir`; prompts for what is missing when
/// stdin and stderr are a terminal.
pub fn run(dir: &Path, mut flags: Flags) -> Result<Vec<String>> {
    let interactive =
        !flags.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if interactive {
        prompt_missing(dir, &mut flags)?;
    }
    let mut params = InitParams {
        name: flags.name.clone().unwrap_or_default(),
        part_of: flags.part_of.clone().unwrap_or_default(),
        image: flags.image.clone().unwrap_or_default(),
        domains: split_list(&flags.domains),
        topics: split_list(&flags.topics),
        database: flags.database.clone().filter(|d| !d.is_empty()),
        project_number: flags.project_number.clone().filter(|p| !p.is_empty()),
        ..InitParams::default()
    };
    for port in split_list(&flags.ports) {
        params.ports.push(parse_port(&port)?);
    }
    let problems = params.check();
    if !problems.is_empty() {
        let hint = if interactive {
            ""
        } else {
            "\n(stdin is not a terminal, so `lummo init` does not prompt; give the flags)"
        };
        bail!(
            "cannot scaffold {}:\n  {}{hint}",
            dir.display(),
            problems.join("\n  ")
        );
    }
    let files = scaffold(&params);
    // Refuse before writing anything: never half a package, never a user's file lost.
    let existing: Vec<&str> = files
        .iter()
        .filter(|(path, _)| dir.join(path).exists())
        .map(|(path, _)| path.as_str())
        .collect();
    if !existing.is_empty() {
        bail!(
            "{} already has {}; lummo init never overwrites a file (choose another folder, or move them away)",
            dir.display(),
            existing.join(", ")
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for (path, text) in &files {
        let file = dir.join(path);
        // create_new: a file that appeared since the check is still not overwritten.
        let mut handle = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file)
            .with_context(|| format!("writing {}", file.display()))?;
        handle.write_all(text.as_bytes())?;
        written.push(path.clone());
    }
    Ok(written)
}

fn prompt_missing(dir: &Path, flags: &mut Flags) -> Result<()> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut ask = |question: &str, default: &str| -> Result<String> {
        if default.is_empty() {
            eprint!("{question}: ");
        } else {
            eprint!("{question} [{default}]: ");
        }
        std::io::stderr().flush()?;
        let answer = lines.next().transpose()?.unwrap_or_default();
        let answer = answer.trim();
        Ok(if answer.is_empty() {
            default.to_string()
        } else {
            answer.to_string()
        })
    };
    let folder = std::fs::canonicalize(dir)
        .ok()
        .or_else(|| Some(dir.to_path_buf()))
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if flags.name.is_none() {
        flags.name = Some(ask("App name", &folder)?);
    }
    if flags.part_of.is_none() {
        let name = flags.name.clone().unwrap_or_default();
        flags.part_of = Some(ask("Part of (system)", &name)?);
    }
    if flags.image.is_none() {
        flags.image = Some(ask("Container image (with tag)", "")?);
    }
    if flags.ports.is_empty() {
        flags.ports = vec![ask("Ports (NAME=PORT, comma-separated)", "http=8080")?];
    }
    if flags.domains.is_empty() {
        flags.domains = vec![ask("Public domains (comma-separated, empty: none)", "")?];
    }
    if flags.topics.is_empty() {
        flags.topics = vec![ask("Pub/Sub topics (comma-separated, empty: none)", "")?];
    }
    if flags.database.is_none() {
        flags.database = Some(ask("Postgres connection Secret (empty: no database)", "")?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> InitParams {
        InitParams {
            name: "shop-api".into(),
            image: "gcr.io/lummo/shop:1.0.0".into(),
            ..InitParams::default()
        }
    }

    #[test]
    fn minimal_package_is_a_kptfile_and_a_deployment() {
        let files = scaffold(&params());
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["Kptfile", "deployment.yaml"]);
        assert!(files[0]
            .1
            .contains("image: ghcr.io/lummo/krm-functions/lummo-workload:v"));
        assert!(files[1].1.starts_with("# yaml-language-server: $schema="));
        assert!(files[1].1.contains("part-of: shop-api"));
        assert!(files[1].1.contains("- name: http\n      port: 8080"));
    }

    #[test]
    fn every_option_adds_its_function_and_config() {
        let mut p = params();
        p.domains = vec!["api.shop.example.com".into()];
        p.topics = vec!["orders".into()];
        p.database = Some("shop-postgres".into());
        p.version = "9.9.9".into();
        let files = scaffold(&p);
        let kptfile = &files[0].1;
        for function in ["networking", "pubsub", "pgbouncer", "validate"] {
            assert!(
                kptfile.contains(&format!("krm-functions/lummo-{function}:v9.9.9")),
                "{kptfile}"
            );
        }
        assert!(kptfile.contains("configPath: networking-config.yaml"));
        assert!(kptfile.contains("configPath: pubsub-config.yaml"));
        for (path, text) in &files[1..] {
            assert!(
                text.contains("config.kubernetes.io/local-config: \"true\""),
                "{path}"
            );
        }
    }

    #[test]
    fn check_names_every_bad_flag() {
        let p = InitParams {
            name: "Shop_API".into(),
            ports: vec![("http".into(), 0)],
            domains: vec!["localhost".into()],
            project_number: Some("my-project".into()),
            ..InitParams::default()
        };
        let problems = p.check().join("\n");
        for flag in [
            "--name",
            "--image",
            "--port",
            "--domain",
            "--project-number",
        ] {
            assert!(problems.contains(flag), "{flag} missing in {problems}");
        }
    }

    #[test]
    fn ports_parse_in_three_spellings() {
        assert_eq!(parse_port("8080").unwrap(), ("http".into(), 8080));
        assert_eq!(parse_port("grpc=9090").unwrap(), ("grpc".into(), 9090));
        assert_eq!(
            parse_port("metrics:9100").unwrap(),
            ("metrics".into(), 9100)
        );
        assert!(parse_port("http=eighty").is_err());
    }

    #[test]
    fn scalars_that_yaml_would_retype_are_quoted() {
        assert_eq!(scalar("gcr.io/a:1.0"), "gcr.io/a:1.0");
        assert_eq!(scalar("no"), "\"no\"");
        assert_eq!(scalar("1.0"), "\"1.0\"");
    }
}
