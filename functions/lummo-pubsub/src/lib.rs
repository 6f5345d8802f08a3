//! `lummo-pubsub`: `LummoTopic` and `LummoSubscription` → Config Connector
//! `PubSubTopic`, `PubSubSubscription` and, for dead letters, the dead-letter topic,
//! its subscription and the `IAMPolicyMember` grants of the Pub/Sub service agent.
//!
//! Limits enforced are Google's, from <https://cloud.google.com/pubsub/docs/subscription-properties>,
//! <https://cloud.google.com/pubsub/docs/handling-failures> and
//! <https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.subscriptions>:
//! ackDeadlineSeconds 10–600; maxDeliveryAttempts 5–100; retry backoffs 0–600 s;
//! messageRetentionDuration 10 minutes–31 days (default 7 days; longer retention and
//! retaining acknowledged messages are billed as storage); expiration ttl ≥ 1 day
//! and ≥ the retention, or never. Resource names: 3–255 characters, starting with a
//! letter, of letters, digits and `-_.~+%`, not starting with `goog`
//! (<https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names>).

pub mod spec;

use krm_sdk::{json, ObjectExt, ResourceList, ResultItem, Value};
use lummo_core::descriptor::{schema_of, KindDoc};
use lummo_core::duration::Duration;
use lummo_core::function::{Collector, Function, FunctionConfig, Output};
use lummo_core::origins::{derived, Origins};
use lummo_core::resources::{IAM_POLICY_MEMBER, PUBSUB, PUBSUB_SUBSCRIPTION, PUBSUB_TOPIC};
use lummo_core::Spec;
use schemars::JsonSchema;
use serde::Deserialize;
use spec::{DeletionPolicy, LummoSubscriptionSpec, LummoTopicSpec, SubscriptionConfig, Ttl};
use std::collections::{BTreeMap, HashSet};

pub const TOPIC_KIND: &str = "LummoTopic";
pub const SUBSCRIPTION_KIND: &str = "LummoSubscription";
/// Kind of a typed functionConfig (a ConfigMap with the same keys works too).
pub const CONFIG_KIND: &str = "LummoPubSubConfig";
/// Config Connector's annotation: `abandon` keeps the Google Cloud resource when
/// its object is deleted. Without it a renamed topic or subscription, a removed
/// spec or an Argo CD prune deletes the subscription and its backlog
/// (<https://cloud.google.com/config-connector/docs/how-to/managing-deleting-resources#keeping_resources_after_deletion>).
pub const DELETION_POLICY: &str = "cnrm.cloud.google.com/deletion-policy";

/// The function: topics first (subscriptions check theirs are declared), then
/// subscriptions, with one set of generated names across all specs.
pub struct PubSub;

impl Function for PubSub {
    const NAME: &'static str = "lummo-pubsub";
    const ABOUT: &'static str = "Turns LummoTopic and LummoSubscription specs (lummo.dev/v1alpha1) into Config Connector\n\
            PubSubTopic and PubSubSubscription resources. A subscription with maxDeliveryAttempts gets\n\
            a dead-letter topic `<prefix><subscription>-dead-letter`, a subscription on it that keeps\n\
            the failed messages, and the IAMPolicyMember grants the Pub/Sub service agent needs.\n\
            Topics and subscriptions are abandoned, not deleted, when their objects go (a rename, a\n\
            prune) unless `deletionPolicy: delete`; subscriptions an app consumes never expire.";
    const KINDS: &'static [KindDoc] = &[
        KindDoc {
            kind: TOPIC_KIND,
            about: "Pub/Sub topics (lummo-pubsub).",
            example: Some("Kptfile.examples/pubsub/pubsub.yaml"),
            schema: schema_of::<spec::LummoTopicSpec>,
            function_config: false,
        },
        KindDoc {
            kind: SUBSCRIPTION_KIND,
            about: "Pub/Sub subscriptions with dead letters (lummo-pubsub).",
            example: Some("Kptfile.examples/pubsub/pubsub.yaml"),
            schema: schema_of::<spec::LummoSubscriptionSpec>,
            function_config: false,
        },
        KindDoc {
            kind: CONFIG_KIND,
            about: "functionConfig of lummo-pubsub (a ConfigMap with the same keys works too).",
            example: None,
            schema: schema_of::<Config>,
            function_config: true,
        },
    ];
    type Config = Config;
    type Specs = (Vec<Spec<LummoTopicSpec>>, Vec<Spec<LummoSubscriptionSpec>>);

    fn collect(collector: &mut Collector<'_>) -> Self::Specs {
        (
            collector.specs(TOPIC_KIND),
            collector.specs(SUBSCRIPTION_KIND),
        )
    }

    fn render((topics, subscriptions): Self::Specs, config: &Config, _: &ResourceList) -> Output {
        let mut renderer = Renderer {
            config,
            problems: Vec::new(),
            names: HashSet::new(),
            declared: HashSet::new(),
        };
        let mut generated = Vec::new();
        let mut origins = Vec::new();
        for spec in &topics {
            let objects = renderer.topics(spec);
            let names: Vec<&str> = spec.spec.topics.iter().map(String::as_str).collect();
            origins.extend(record(&spec.spec.prefix, "spec.topics", &names, &objects).objects);
            generated.push(lummo_core::generated(&spec.object, objects));
        }
        for spec in &subscriptions {
            let objects = renderer.subscriptions(spec);
            let names: Vec<&str> = spec
                .spec
                .subscriptions
                .iter()
                .map(|e| e.subscription.as_str())
                .collect();
            origins
                .extend(record(&spec.spec.prefix, "spec.subscriptions", &names, &objects).objects);
            generated.push(lummo_core::generated(&spec.object, objects));
        }
        Output {
            generated,
            problems: renderer.problems,
            origins,
        }
    }
}

impl FunctionConfig for Config {
    const KIND: Option<&'static str> = Some(CONFIG_KIND);

    /// Without a project number no dead-letter subscription is generated, and
    /// lummo-validate would not check references to it.
    fn stand_in() -> Option<Value> {
        Some(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "lummo-validate-stand-in"},
            "data": {"projectNumber": "000000000000"}}))
    }
}

/// Options of the function, from its functionConfig.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// The project's number, e.g. `123456789012`: the Pub/Sub service agent's
    /// id, needed for dead letters (its grants on the dead-letter topic).
    #[serde(default)]
    pub project_number: Option<String>,
    /// A subscription on a topic no LummoTopic declares is an error, not a warning.
    #[serde(default)]
    pub strict_topics: bool,
}

struct Renderer<'a> {
    config: &'a Config,
    problems: Vec<ResultItem>,
    /// Kubernetes names of generated objects, to report collisions precisely.
    names: HashSet<(String, String)>,
    /// Pub/Sub topic names the package declares.
    declared: HashSet<String>,
}

/// A Pub/Sub resource name and the Kubernetes name of the object managing it.
struct Name {
    pubsub: String,
    kubernetes: String,
}

impl Renderer<'_> {
    fn topics(&mut self, spec: &Spec<LummoTopicSpec>) -> Vec<Value> {
        let labels = lummo_core::labels(spec.name(), None);
        let mut objects = Vec::new();
        for (i, topic) in spec.spec.topics.iter().enumerate() {
            let field = format!("topics[{i}]");
            let Some(name) = self.name(spec, &field, &spec.spec.prefix, topic, "PubSubTopic")
            else {
                continue;
            };
            self.declared.insert(name.pubsub.clone());
            objects.push(topic_object(&name, &labels, spec.spec.deletion_policy));
        }
        objects
    }

    fn subscriptions(&mut self, spec: &Spec<LummoSubscriptionSpec>) -> Vec<Value> {
        let labels = lummo_core::labels(spec.name(), None);
        let mut objects = Vec::new();
        for (i, entry) in spec.spec.subscriptions.iter().enumerate() {
            let field = |f: &str| format!("subscriptions[{i}].{f}");
            let prefix = &spec.spec.prefix;
            let Some(name) = self.name(
                spec,
                &field("subscription"),
                prefix,
                &entry.subscription,
                "PubSubSubscription",
            ) else {
                continue;
            };
            let Some(topic) = topic_name(prefix, &entry.topic) else {
                let error = spec.error(
                    &field("topic"),
                    format!("topic `{}` is not a valid Pub/Sub name", entry.topic),
                );
                self.problems.push(error);
                continue;
            };
            if !self.declared.contains(&topic.pubsub) {
                let message = format!("topic `{}` is not declared by any LummoTopic in this package; it must exist elsewhere", topic.pubsub);
                let result = if self.config.strict_topics {
                    spec.error(&field("topic"), message)
                } else {
                    spec.warning(&field("topic"), message)
                };
                self.problems.push(result);
            }
            let mut settings = entry.overrides().or(&spec.spec.config);
            if let Some(app) = &spec.spec.app {
                // A consumed subscription never expires: an idle consumer (a
                // quiet season, a paused app) would otherwise lose it and its
                // backlog to Pub/Sub's default 31 days of inactivity.
                if let Some(Ttl::After(ttl)) = &settings.ttl {
                    let field = if entry.ttl.is_some() {
                        field("ttl")
                    } else {
                        "config.ttl".into()
                    };
                    let message = format!("`{app}` consumes this subscription, so it must never expire, but ttl is {ttl}: Pub/Sub would delete it and its backlog after {ttl} without a pull; remove `ttl` (a consumed subscription never expires) or set it to `never`");
                    self.problems.push(spec.error(&field, message));
                    continue;
                }
                settings.ttl = Some(Ttl::Never);
            }
            let limits = check_limits(spec, i, &settings);
            let failed = limits.iter().any(ResultItem::is_error);
            self.problems.extend(limits);
            if failed {
                continue;
            }
            let policy = spec.spec.deletion_policy;
            let mut subscription = subscription_object(&name, &topic, &labels, policy);
            let body = &mut subscription["spec"];
            if let Some(ack) = settings.ack_deadline_seconds {
                body["ackDeadlineSeconds"] = json!(ack);
            }
            if let Some(retention) = &settings.message_retention_duration {
                body["messageRetentionDuration"] = json!(retention.to_string());
            }
            if let Some(retain) = settings.retain_acked_messages {
                body["retainAckedMessages"] = json!(retain);
            }
            match &settings.ttl {
                Some(Ttl::Never) => body["expirationPolicy"] = json!({ "ttl": "" }),
                Some(Ttl::After(ttl)) => {
                    body["expirationPolicy"] = json!({ "ttl": ttl.to_string() })
                }
                None => {}
            }
            if settings.minimum_backoff.is_some() || settings.maximum_backoff.is_some() {
                let mut retry = json!({});
                if let Some(min) = &settings.minimum_backoff {
                    retry["minimumBackoff"] = json!(min.to_string());
                }
                if let Some(max) = &settings.maximum_backoff {
                    retry["maximumBackoff"] = json!(max.to_string());
                }
                body["retryPolicy"] = retry;
            }
            let dead_letter = settings
                .max_delivery_attempts
                .map(|attempts| (attempts, format!("{}-dead-letter", name.pubsub)));
            if let Some((attempts, dead_letter_name)) = &dead_letter {
                let Some(project_number) =
                    self.project_number(spec, &setting_path(spec, i, "maxDeliveryAttempts"))
                else {
                    continue;
                };
                let Some(dead) = self.name(
                    spec,
                    &field("subscription"),
                    "",
                    dead_letter_name,
                    "PubSubTopic",
                ) else {
                    continue;
                };
                body["deadLetterPolicy"] = json!({ "deadLetterTopicRef": { "name": dead.kubernetes }, "maxDeliveryAttempts": attempts });
                objects.push(subscription);
                objects.extend(dead_letter_objects(
                    &name,
                    &dead,
                    &project_number,
                    &labels,
                    policy,
                ));
            } else {
                objects.push(subscription);
            }
        }
        objects
    }

    /// Validates a Pub/Sub name and derives the Kubernetes name; reports collisions.
    fn name<T>(
        &mut self,
        spec: &Spec<T>,
        field: &str,
        prefix: &str,
        name: &str,
        kind: &str,
    ) -> Option<Name> {
        let full = format!("{prefix}{name}");
        if let Err(message) = check_pubsub_name(&full) {
            self.problems.push(spec.error(field, message));
            return None;
        }
        let kubernetes = kubernetes_name(&full);
        if !self.names.insert((kind.to_string(), kubernetes.clone())) {
            let message = format!(
                "`{full}` is declared twice (as {kind} `{kubernetes}`); names must be unique"
            );
            self.problems.push(spec.error(field, message));
            return None;
        }
        Some(Name {
            pubsub: full,
            kubernetes,
        })
    }

    fn project_number<T>(&mut self, spec: &Spec<T>, field: &str) -> Option<String> {
        match &self.config.project_number {
            Some(number) if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
                Some(number.clone())
            }
            Some(number) => {
                self.problems.push(spec.error(field, format!("functionConfig projectNumber `{number}` must be the numeric project number")));
                None
            }
            None => {
                self.problems.push(
                    spec.error(
                        field,
                        format!(
                            "a dead letter needs the project number for the Pub/Sub service agent's grants: {}",
                            lummo_core::set_in_config(PubSub::NAME, CONFIG_KIND, "projectNumber", "\"123456789012\"")
                        ),
                    )
                    .tag(lummo_core::NEEDS_CONFIG_TAG, "projectNumber"),
                );
                None
            }
        }
    }
}

/// Every setting out of Google's limits (durations were parsed while decoding),
/// else the storage-billing warning when it applies.
/// Where a subscription's setting is written: the entry's own field when it sets
/// it, else the spec's shared `config`, where the value came from.
fn setting_path(spec: &Spec<LummoSubscriptionSpec>, i: usize, field: &str) -> String {
    let own = spec.spec.subscriptions[i].overrides();
    let set = match field {
        "ackDeadlineSeconds" => own.ack_deadline_seconds.is_some(),
        "maxDeliveryAttempts" => own.max_delivery_attempts.is_some(),
        "ttl" => own.ttl.is_some(),
        "messageRetentionDuration" => own.message_retention_duration.is_some(),
        "retainAckedMessages" => own.retain_acked_messages.is_some(),
        "minimumBackoff" => own.minimum_backoff.is_some(),
        "maximumBackoff" => own.maximum_backoff.is_some(),
        _ => true,
    };
    if set {
        format!("subscriptions[{i}].{field}")
    } else {
        format!("config.{field}")
    }
}

fn check_limits(
    spec: &Spec<LummoSubscriptionSpec>,
    i: usize,
    settings: &SubscriptionConfig,
) -> Vec<ResultItem> {
    let mut problems = Vec::new();
    let mut check = |field: &str, ok: bool, message: String| {
        if !ok {
            let error = spec.error(&setting_path(spec, i, field), message);
            problems.push(error);
        }
    };
    if let Some(ack) = settings.ack_deadline_seconds {
        check(
            "ackDeadlineSeconds",
            (10..=600).contains(&ack),
            format!("must be from 10 to 600 seconds, found {ack}"),
        );
    }
    if let Some(attempts) = settings.max_delivery_attempts {
        check(
            "maxDeliveryAttempts",
            (5..=100).contains(&attempts),
            format!("must be from 5 to 100, found {attempts}"),
        );
    }
    let retention = settings.message_retention_duration.as_ref();
    let max_backoff = Duration::from_secs(600);
    let mut check = |field: &str, ok: bool, message: String| {
        if !ok {
            let error = spec.error(&setting_path(spec, i, field), message);
            problems.push(error);
        }
    };
    for (field, value) in [
        ("minimumBackoff", &settings.minimum_backoff),
        ("maximumBackoff", &settings.maximum_backoff),
    ] {
        if let Some(value) = value {
            check(
                field,
                *value <= max_backoff,
                format!("must be from 0s to 600s, found {value}"),
            );
        }
    }
    if let (Some(min), Some(max)) = (&settings.minimum_backoff, &settings.maximum_backoff) {
        check(
            "minimumBackoff",
            min <= max,
            format!("minimumBackoff ({min}) is greater than maximumBackoff ({max})"),
        );
    }
    let default_retention = Duration::from_secs(7 * 86_400);
    let effective_retention = retention.unwrap_or(&default_retention);
    if let Some(retention) = retention {
        let allowed =
            (Duration::from_secs(600)..=Duration::from_secs(31 * 86_400)).contains(retention);
        check(
            "messageRetentionDuration",
            allowed,
            format!("must be from 10 minutes (600s) to 31 days (2678400s), found {retention}"),
        );
    }
    if let Some(Ttl::After(ttl)) = &settings.ttl {
        if *ttl < Duration::from_secs(86_400) {
            check(
                "ttl",
                false,
                format!("must be at least 1 day (86400s) or `never`, found {ttl}"),
            );
        } else {
            check(
                "ttl",
                ttl >= effective_retention,
                format!("must be at least the messageRetentionDuration ({effective_retention}), found {ttl}"),
            );
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    if retention.is_some_and(|r| *r > Duration::from_secs(7 * 86_400))
        || settings.retain_acked_messages == Some(true)
    {
        let warning = spec.warning(
            &format!("subscriptions[{i}].messageRetentionDuration"),
            "retaining messages for more than 7 days or keeping acknowledged messages is billed as subscription storage",
        );
        problems.push(warning);
    }
    problems
}

fn topic_name(prefix: &str, topic: &str) -> Option<Name> {
    let full = format!("{prefix}{topic}");
    check_pubsub_name(&full).ok()?;
    Some(Name {
        kubernetes: kubernetes_name(&full),
        pubsub: full,
    })
}

/// Where the fields of a spec's objects come from (issue 32,
/// `lummo_core::origins`): each object belongs to the entry of `list` (the
/// spec's `topics` or `subscriptions`, whose Pub/Sub names are `names`) whose
/// Kubernetes name starts its own (a dead-letter topic, its keeper and grants
/// are `<name>-dead-letter...`). Its name comes from the prefix and the entry,
/// its body from the entry and the spec's shared settings.
fn record(prefix: &str, list: &str, names: &[&str], objects: &[Value]) -> Origins {
    let mut origins = Origins::new();
    let kubernetes: Vec<String> = names
        .iter()
        .map(|n| kubernetes_name(&format!("{prefix}{n}")))
        .collect();
    for object in objects {
        let name = object.name();
        let Some(i) = (0..names.len())
            .filter(|i| name.starts_with(kubernetes[*i].as_str()))
            .max_by_key(|i| kubernetes[*i].len())
        else {
            continue;
        };
        let entry = format!("{list}[{i}]");
        let naming = ["spec.prefix", entry.as_str()];
        let o = &mut origins;
        o.exists(
            object,
            derived(
                "one object per entry, and a dead letter's with maxDeliveryAttempts",
                &[&entry, "spec.config"],
            ),
        );
        o.metadata(
            object,
            derived(
                "the Pub/Sub name (prefix + entry), as a Kubernetes name",
                &naming,
            ),
            lummo_core::origins::spec("metadata.name"),
        );
        o.derived(
            object,
            "metadata.annotations['cnrm.cloud.google.com/deletion-policy']",
            "deletionPolicy, abandon when unset",
            &["spec.deletionPolicy"],
        );
        o.derived(
            object,
            "spec",
            "the entry's settings, else the spec's config; a consumed subscription never expires",
            &[&entry, "spec.config", "spec.app", "spec.prefix"],
        );
        o.derived(
            object,
            "spec.resourceID",
            "the Pub/Sub name: prefix + entry",
            &naming,
        );
        o.config(object, "spec.member", "projectNumber");
    }
    origins
}

fn topic_object(name: &Name, labels: &BTreeMap<String, String>, policy: DeletionPolicy) -> Value {
    let mut topic = json!({
        "apiVersion": PUBSUB_TOPIC.api_version,
        "kind": PUBSUB_TOPIC.kind,
        "metadata": { "name": name.kubernetes, "labels": labels },
        "spec": { "resourceID": name.pubsub },
    });
    deletion_policy(&mut topic, policy);
    topic
}

fn subscription_object(
    name: &Name,
    topic: &Name,
    labels: &BTreeMap<String, String>,
    policy: DeletionPolicy,
) -> Value {
    let mut subscription = json!({
        "apiVersion": PUBSUB_SUBSCRIPTION.api_version,
        "kind": PUBSUB_SUBSCRIPTION.kind,
        "metadata": { "name": name.kubernetes, "labels": labels },
        "spec": { "resourceID": name.pubsub, "topicRef": { "name": topic.kubernetes } },
    });
    deletion_policy(&mut subscription, policy);
    subscription
}

/// `abandon` is written out; `delete` is Config Connector's default, left implicit.
fn deletion_policy(object: &mut Value, policy: DeletionPolicy) {
    if policy == DeletionPolicy::Abandon {
        lummo_core::annotate(object, DELETION_POLICY, "abandon");
    }
}

/// The dead-letter topic, a subscription that keeps what lands there, and the
/// service agent's right to publish to it and to pull from the source subscription.
fn dead_letter_objects(
    source: &Name,
    dead: &Name,
    project_number: &str,
    labels: &BTreeMap<String, String>,
    policy: DeletionPolicy,
) -> Vec<Value> {
    let agent =
        format!("serviceAccount:service-{project_number}@gcp-sa-pubsub.iam.gserviceaccount.com");
    let grant = |suffix: &str, role: &str, kind: &str, target: &str| {
        json!({
            "apiVersion": IAM_POLICY_MEMBER.api_version,
            "kind": IAM_POLICY_MEMBER.kind,
            "metadata": { "name": format!("{}-{suffix}", source.kubernetes), "labels": labels },
            "spec": {
                "member": agent,
                "role": role,
                "resourceRef": { "apiVersion": PUBSUB, "kind": kind, "name": target },
            },
        })
    };
    vec![
        topic_object(dead, labels, policy),
        {
            let mut keeper = subscription_object(dead, dead, labels, policy);
            keeper["spec"]["messageRetentionDuration"] = json!("604800s");
            keeper["spec"]["expirationPolicy"] = json!({ "ttl": "" });
            keeper
        },
        grant(
            "dead-letter-publisher",
            "roles/pubsub.publisher",
            "PubSubTopic",
            &dead.kubernetes,
        ),
        grant(
            "dead-letter-subscriber",
            "roles/pubsub.subscriber",
            "PubSubSubscription",
            &source.kubernetes,
        ),
    ]
}

fn check_pubsub_name(name: &str) -> Result<(), String> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.~+%".contains(&b));
    if !(3..=255).contains(&name.len()) || !name.as_bytes()[0].is_ascii_alphabetic() || !valid_chars
    {
        return Err(format!(
            "`{name}` is not a valid Pub/Sub name: 3 to 255 letters, digits and `-_.~+%`, starting with a letter"
        ));
    }
    if name.to_ascii_lowercase().starts_with("goog") {
        return Err(format!(
            "`{name}` must not start with `goog` (reserved by Google)"
        ));
    }
    Ok(())
}

/// Pub/Sub allows upper case and `_~+%`; Kubernetes names do not. The exact Pub/Sub
/// name goes to `spec.resourceID`.
pub fn kubernetes_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    mapped
        .trim_end_matches(['-', '.'])
        .chars()
        .take(253)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_kubernetes_names() {
        assert_eq!(kubernetes_name("dev-topicA"), "dev-topica");
        assert_eq!(kubernetes_name("orders_v2+x"), "orders-v2-x");
        assert!(check_pubsub_name("goog-x").is_err());
        assert!(check_pubsub_name("1abc").is_err());
        assert!(check_pubsub_name("ab").is_err());
        assert!(check_pubsub_name("dev-topicA").is_ok());
    }
}
