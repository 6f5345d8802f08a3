//! The apiVersion and kind of every custom resource the functions generate, in one
//! place (k8s-openapi types carry theirs: see [`crate::typed_object`]). Each is
//! checked against its upstream CRD by the golden tests' strict validation.

/// A custom resource's apiVersion and kind, as kube-rs' `TypeMeta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeMeta {
    pub api_version: &'static str,
    pub kind: &'static str,
}

const fn type_meta(api_version: &'static str, kind: &'static str) -> TypeMeta {
    TypeMeta { api_version, kind }
}

const ARGO_ROLLOUTS: &str = "argoproj.io/v1alpha1";
pub const ROLLOUT: TypeMeta = type_meta(ARGO_ROLLOUTS, "Rollout");
pub const ANALYSIS_TEMPLATE: TypeMeta = type_meta(ARGO_ROLLOUTS, "AnalysisTemplate");

const KEDA: &str = "keda.sh/v1alpha1";
pub const SCALED_OBJECT: TypeMeta = type_meta(KEDA, "ScaledObject");
pub const TRIGGER_AUTHENTICATION: TypeMeta = type_meta(KEDA, "TriggerAuthentication");

pub const POD_MONITOR: TypeMeta = type_meta("monitoring.coreos.com/v1", "PodMonitor");

/// Traefik's API group, which a Gateway API `ExtensionRef` names.
pub const TRAEFIK_GROUP: &str = "traefik.io";
const TRAEFIK: &str = "traefik.io/v1alpha1";
pub const INGRESS_ROUTE: TypeMeta = type_meta(TRAEFIK, "IngressRoute");
pub const MIDDLEWARE: TypeMeta = type_meta(TRAEFIK, "Middleware");

pub const CERTIFICATE: TypeMeta = type_meta("cert-manager.io/v1", "Certificate");

const GATEWAY_API: &str = "gateway.networking.k8s.io/v1";
pub const HTTP_ROUTE: TypeMeta = type_meta(GATEWAY_API, "HTTPRoute");
pub const GRPC_ROUTE: TypeMeta = type_meta(GATEWAY_API, "GRPCRoute");

/// Config Connector's Pub/Sub group.
pub const PUBSUB: &str = "pubsub.cnrm.cloud.google.com/v1beta1";
pub const PUBSUB_TOPIC: TypeMeta = type_meta(PUBSUB, "PubSubTopic");
pub const PUBSUB_SUBSCRIPTION: TypeMeta = type_meta(PUBSUB, "PubSubSubscription");
pub const IAM_POLICY_MEMBER: TypeMeta =
    type_meta("iam.cnrm.cloud.google.com/v1beta1", "IAMPolicyMember");

/// Vault Secrets Operator.
pub const VSO: &str = "secrets.hashicorp.com/v1beta1";
pub const VAULT_AUTH: TypeMeta = type_meta(VSO, "VaultAuth");

/// Backstage's catalog API version of Component and Resource (local-config).
pub const BACKSTAGE: &str = "backstage.io/v1alpha1";
pub const COMPONENT: TypeMeta = type_meta(BACKSTAGE, "Component");
pub const RESOURCE: TypeMeta = type_meta(BACKSTAGE, "Resource");
