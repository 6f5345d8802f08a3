//! The `LummoTopic` and `LummoSubscription` kinds, as users write them.

use lummo_core::duration::Duration;
use lummo_core::names::AppName;
use lummo_core::scalar::Scalar;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LummoTopicSpec {
    /// Prepended to every topic name (e.g. `dev-`).
    #[serde(default)]
    pub prefix: String,
    /// Topic names; the Pub/Sub name is `<prefix><topic>`.
    pub topics: Vec<String>,
    /// The app (a LummoDeployment's `app`) that publishes to these topics:
    /// lummo-workload grants its Google service account `roles/pubsub.publisher`
    /// on each (Workload Identity).
    #[serde(default)]
    pub app: Option<AppName>,
    /// What Config Connector does to the Pub/Sub topic when its object is
    /// deleted (a rename, a removed spec, an Argo CD prune). Default `abandon`:
    /// the topic stays in Google Cloud; `delete` deletes it.
    #[serde(default, rename = "deletionPolicy")]
    pub deletion_policy: DeletionPolicy,
}

/// Config Connector's `cnrm.cloud.google.com/deletion-policy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeletionPolicy {
    /// Keep the Google Cloud resource (and a subscription's backlog).
    #[default]
    Abandon,
    /// Delete the Google Cloud resource with its object.
    Delete,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LummoSubscriptionSpec {
    /// Prepended to subscription and topic names.
    #[serde(default)]
    pub prefix: String,
    /// Defaults for every entry.
    #[serde(default)]
    pub config: SubscriptionConfig,
    pub subscriptions: Vec<SubscriptionEntry>,
    /// The app (a LummoDeployment's `app`) that consumes these subscriptions:
    /// they never expire (an idle consumer must not lose its subscription and
    /// backlog to Pub/Sub's 31-day default; a `ttl` duration is refused), and
    /// lummo-workload grants its Google service account `roles/pubsub.subscriber`
    /// on each (Workload Identity).
    #[serde(default)]
    pub app: Option<AppName>,
    /// What Config Connector does to the Pub/Sub subscriptions (dead-letter ones
    /// included) when their objects are deleted. Default `abandon`: they stay,
    /// with their backlog; `delete` deletes them.
    #[serde(default, rename = "deletionPolicy")]
    pub deletion_policy: DeletionPolicy,
}

/// One subscription; any `config` field set here overrides the default.
/// (The fields are repeated rather than flattened: serde cannot reject unknown
/// fields of a flattened struct.)
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubscriptionEntry {
    /// The topic, without prefix.
    pub topic: String,
    /// The subscription, without prefix.
    pub subscription: String,
    pub ack_deadline_seconds: Option<i64>,
    pub max_delivery_attempts: Option<i64>,
    pub ttl: Option<Ttl>,
    pub message_retention_duration: Option<Duration>,
    pub retain_acked_messages: Option<bool>,
    pub maximum_backoff: Option<Duration>,
    pub minimum_backoff: Option<Duration>,
}

impl SubscriptionEntry {
    pub fn overrides(&self) -> SubscriptionConfig {
        SubscriptionConfig {
            ack_deadline_seconds: self.ack_deadline_seconds,
            max_delivery_attempts: self.max_delivery_attempts,
            ttl: self.ttl.clone(),
            message_retention_duration: self.message_retention_duration.clone(),
            retain_acked_messages: self.retain_acked_messages,
            maximum_backoff: self.maximum_backoff.clone(),
            minimum_backoff: self.minimum_backoff.clone(),
        }
    }
}

/// Subscription settings; durations accept `600s`, `10m`, `168h`, `7d`, or seconds.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubscriptionConfig {
    #[schemars(range(min = 10, max = 600))]
    pub ack_deadline_seconds: Option<i64>,
    /// Turns on a dead letter after this many delivery attempts.
    #[schemars(range(min = 5, max = 100))]
    pub max_delivery_attempts: Option<i64>,
    /// Expiration of an inactive subscription, or `never`.
    pub ttl: Option<Ttl>,
    pub message_retention_duration: Option<Duration>,
    pub retain_acked_messages: Option<bool>,
    pub maximum_backoff: Option<Duration>,
    pub minimum_backoff: Option<Duration>,
}

/// A subscription's expiration: after a duration of inactivity, or never
/// (`never`, or `""` as Pub/Sub writes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ttl {
    Never,
    After(Duration),
}

impl<'de> Deserialize<'de> for Ttl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let scalar = Scalar::deserialize(deserializer, "a duration like `30d`, or `never`")?;
        match scalar {
            Scalar::Text(text) if text == "never" || text.is_empty() => Ok(Ttl::Never),
            other => Duration::parse(other.text())
                .map(Ttl::After)
                .map_err(serde::de::Error::custom),
        }
    }
}

impl JsonSchema for Ttl {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Ttl".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                Duration::json_schema(generator),
                { "type": "string", "enum": ["never", ""] },
            ]
        })
    }
}

impl SubscriptionConfig {
    /// These settings, with unset ones taken from `defaults`.
    pub fn or(&self, defaults: &SubscriptionConfig) -> SubscriptionConfig {
        SubscriptionConfig {
            ack_deadline_seconds: self.ack_deadline_seconds.or(defaults.ack_deadline_seconds),
            max_delivery_attempts: self
                .max_delivery_attempts
                .or(defaults.max_delivery_attempts),
            ttl: self.ttl.clone().or_else(|| defaults.ttl.clone()),
            message_retention_duration: self
                .message_retention_duration
                .clone()
                .or_else(|| defaults.message_retention_duration.clone()),
            retain_acked_messages: self
                .retain_acked_messages
                .or(defaults.retain_acked_messages),
            maximum_backoff: self
                .maximum_backoff
                .clone()
                .or_else(|| defaults.maximum_backoff.clone()),
            minimum_backoff: self
                .minimum_backoff
                .clone()
                .or_else(|| defaults.minimum_backoff.clone()),
        }
    }
}
