//! GKE Workload Identity for an app: its Kubernetes ServiceAccount acts as a
//! Google service account, which gets the Pub/Sub roles the app needs.
//!
//! - The ServiceAccount is annotated `iam.gke.io/gcp-service-account: <gsa>`, and
//!   the Google service account lets it act as itself: `roles/iam.workloadIdentityUser`
//!   for `serviceAccount:<cluster project>.svc.id.goog[<namespace>/<ksa>]`
//!   (<https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity#kubernetes-sa-to-iam>).
//! - `roles/pubsub.subscriber` on every subscription the app consumes (a
//!   LummoSubscription with `app: <app>`) or scales on (`scaling.pubsubTopic`),
//!   `roles/pubsub.publisher` on every topic it declares (a LummoTopic with
//!   `app: <app>`) (<https://cloud.google.com/pubsub/docs/access-control#roles>).
//!
//! Grants are Config Connector IAMPolicyMembers: one binding each, so they never
//! overwrite grants made elsewhere (an IAMPolicy would). A resource in the package
//! is referenced by its object's name; one outside it by `external`, its full
//! resource name (`projects/<p>/subscriptions/<s>`,
//! `projects/<p>/serviceAccounts/<email>`).

use krm_sdk::{json, ResourceList, Value};
use lummo_core::resources::{IAM_POLICY_MEMBER, PUBSUB, PUBSUB_SUBSCRIPTION, PUBSUB_TOPIC};
use lummo_pubsub::spec::{LummoSubscriptionSpec, LummoTopicSpec};
use std::collections::BTreeMap;

/// The annotation GKE's metadata server reads on a pod's ServiceAccount.
pub const GSA_ANNOTATION: &str = "iam.gke.io/gcp-service-account";

/// A Pub/Sub resource a LummoTopic or LummoSubscription of the package declares.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The Pub/Sub name (`<prefix><name>`).
    pub pubsub: String,
    /// The Config Connector object's name.
    pub kubernetes: String,
    /// The spec that declares it, for messages.
    pub spec: String,
}

/// What the package's Pub/Sub specs say about the apps.
#[derive(Debug, Default)]
pub struct PubSubUse {
    /// Topics per publishing app.
    pub published: BTreeMap<String, Vec<Declared>>,
    /// Subscriptions per consuming app.
    pub consumed: BTreeMap<String, Vec<Declared>>,
    /// Every declared subscription, by Pub/Sub name.
    pub subscriptions: BTreeMap<String, Declared>,
}

impl PubSubUse {
    /// Reads the LummoTopic and LummoSubscription specs of the package through
    /// lummo-pubsub's types; one that does not decode is lummo-pubsub's error to
    /// report, and is skipped here.
    pub fn of(package: &ResourceList) -> PubSubUse {
        let mut found = PubSubUse::default();
        for item in &package.items {
            let object = item.value();
            let api_version = object.get("apiVersion").and_then(Value::as_str);
            if api_version != Some(lummo_core::API_VERSION) {
                continue;
            }
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let spec = object.get("spec").cloned().unwrap_or(Value::Null);
            match object.get("kind").and_then(Value::as_str) {
                Some(lummo_pubsub::TOPIC_KIND) => {
                    let Ok(topics) = serde_json::from_value::<LummoTopicSpec>(spec) else {
                        continue;
                    };
                    for topic in &topics.topics {
                        let declared =
                            declared(&topics.prefix, topic, lummo_pubsub::TOPIC_KIND, name);
                        if let Some(app) = &topics.app {
                            found
                                .published
                                .entry(app.to_string())
                                .or_default()
                                .push(declared);
                        }
                    }
                }
                Some(lummo_pubsub::SUBSCRIPTION_KIND) => {
                    let Ok(subscriptions) = serde_json::from_value::<LummoSubscriptionSpec>(spec)
                    else {
                        continue;
                    };
                    for entry in &subscriptions.subscriptions {
                        let declared = declared(
                            &subscriptions.prefix,
                            &entry.subscription,
                            lummo_pubsub::SUBSCRIPTION_KIND,
                            name,
                        );
                        if let Some(app) = &subscriptions.app {
                            found
                                .consumed
                                .entry(app.to_string())
                                .or_default()
                                .push(declared.clone());
                        }
                        found
                            .subscriptions
                            .insert(declared.pubsub.clone(), declared);
                    }
                }
                _ => {}
            }
        }
        found
    }
}

fn declared(prefix: &str, name: &str, kind: &str, spec: &str) -> Declared {
    let pubsub = format!("{prefix}{name}");
    Declared {
        kubernetes: lummo_pubsub::kubernetes_name(&pubsub),
        pubsub,
        spec: format!("{kind}/{spec}"),
    }
}

/// A user-managed Google service account's email,
/// `<id>@<project>.iam.gserviceaccount.com` (id: 6 to 30 lower-case letters,
/// digits and hyphens, starting with a letter): its project.
pub fn gsa_project(email: &str) -> Result<&str, String> {
    let invalid = || {
        format!("`{email}` is not a Google service account: `<name>@<project>.iam.gserviceaccount.com`, the name 6 to 30 lower-case letters, digits and hyphens starting with a letter")
    };
    let (id, domain) = email.split_once('@').ok_or_else(invalid)?;
    let project = domain
        .strip_suffix(".iam.gserviceaccount.com")
        .ok_or_else(invalid)?;
    let bytes = id.as_bytes();
    let id_ok = (6..=30).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes.last().is_some_and(|b| *b != b'-')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if !id_ok || crate::check_project_id(project).is_err() {
        return Err(invalid());
    }
    Ok(project)
}

/// One IAMPolicyMember: `member` gets `role` on the resource `reference`.
fn grant(
    name: String,
    labels: &BTreeMap<String, String>,
    member: &str,
    role: &str,
    reference: Value,
) -> Value {
    json!({
        "apiVersion": IAM_POLICY_MEMBER.api_version,
        "kind": IAM_POLICY_MEMBER.kind,
        "metadata": { "name": name, "labels": labels },
        "spec": { "member": member, "role": role, "resourceRef": reference },
    })
}

/// What the grants of one app are made from.
pub struct Grants<'a> {
    pub app: &'a str,
    pub namespace: &'a str,
    pub gsa: &'a str,
    pub cluster_project: &'a str,
    /// Full names of the subscriptions the app scales on.
    pub scaled: &'a [String],
    /// The project short subscription names resolve in (the config's).
    pub project: Option<&'a str>,
}

impl Grants<'_> {
    /// The workloadIdentityUser binding, then a subscriber grant per subscription
    /// (consumed ones first, each once), then a publisher grant per topic.
    pub fn objects(&self, labels: &BTreeMap<String, String>, used: &PubSubUse) -> Vec<Value> {
        let app = self.app;
        let gsa_project = gsa_project(self.gsa).unwrap_or_default();
        let wi_member = format!(
            "serviceAccount:{}.svc.id.goog[{}/{app}]",
            self.cluster_project, self.namespace
        );
        let mut objects = vec![grant(
            format!("{app}-workload-identity"),
            labels,
            &wi_member,
            "roles/iam.workloadIdentityUser",
            json!({ "kind": "IAMServiceAccount", "external": format!("projects/{gsa_project}/serviceAccounts/{}", self.gsa) }),
        )];
        let member = format!("serviceAccount:{}", self.gsa);
        // (object name suffix, reference), each subscription once.
        let mut subscriptions: Vec<(String, Value)> = Vec::new();
        let mut push = |suffix: String, reference: Value| {
            if !subscriptions.iter().any(|(s, _)| *s == suffix) {
                subscriptions.push((suffix, reference));
            }
        };
        for declared in used.consumed.get(app).into_iter().flatten() {
            push(
                declared.kubernetes.clone(),
                by_name(PUBSUB_SUBSCRIPTION.kind, &declared.kubernetes),
            );
        }
        for full in self.scaled {
            let mut parts = full.split('/');
            let (Some(project), Some(name)) = (parts.nth(1), parts.nth(1)) else {
                continue;
            };
            match used.subscriptions.get(name) {
                // The package's subscription lives in the configured project.
                Some(declared) if Some(project) == self.project => {
                    push(
                        declared.kubernetes.clone(),
                        by_name(PUBSUB_SUBSCRIPTION.kind, &declared.kubernetes),
                    );
                }
                _ => push(
                    lummo_pubsub::kubernetes_name(&format!("{project}-{name}")),
                    json!({ "apiVersion": PUBSUB, "kind": PUBSUB_SUBSCRIPTION.kind, "external": full }),
                ),
            }
        }
        for (suffix, reference) in subscriptions {
            objects.push(grant(
                format!("{app}-subscriber-{suffix}"),
                labels,
                &member,
                "roles/pubsub.subscriber",
                reference,
            ));
        }
        for declared in used.published.get(app).into_iter().flatten() {
            objects.push(grant(
                format!("{app}-publisher-{}", declared.kubernetes),
                labels,
                &member,
                "roles/pubsub.publisher",
                by_name(PUBSUB_TOPIC.kind, &declared.kubernetes),
            ));
        }
        objects
    }
}

fn by_name(kind: &str, name: &str) -> Value {
    json!({ "apiVersion": PUBSUB, "kind": kind, "name": name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_google_service_accounts() {
        assert_eq!(
            gsa_project("foobar-api@foobar-dev.iam.gserviceaccount.com"),
            Ok("foobar-dev")
        );
        for bad in [
            "foobar-api@foobar-dev.gserviceaccount.com",
            "short@foobar-dev.iam.gserviceaccount.com",
            "Foobar-api@foobar-dev.iam.gserviceaccount.com",
            "foobar-api@Foo.iam.gserviceaccount.com",
            "foobar-api",
            "a-name-that-is-longer-than-thirty@foobar-dev.iam.gserviceaccount.com",
        ] {
            assert!(gsa_project(bad).is_err(), "{bad}");
        }
    }
}
