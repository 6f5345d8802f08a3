//! The `LummoNetworking` kind and the function's configuration.

use lummo_core::names::{AppName, DnsLabel, DnsSubdomain, Hostname};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LummoNetworkingSpec {
    /// The workload whose Service (named like the app) receives the traffic.
    pub app: AppName,
    /// Route to the Service's `grpc` port over h2c instead of `http`.
    #[serde(default)]
    pub grpc: bool,
    /// Hostnames served; every route matches only these. A leading `*.` wildcard
    /// needs `allowWildcardDomains` in the functionConfig.
    pub domains: Vec<Hostname>,
    /// The routes, at most 1000. A request goes to the matching route that is vpn,
    /// else to the one with the most specific path. Routes of another app on a
    /// shared domain may overlap these only where one has the more specific path
    /// and both agree on `vpn`; anything else is an error naming both specs.
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// A Traefik v3 rule, e.g. ``Path(`/hello`)``; always served over HTTPS.
    #[serde(rename = "match")]
    pub rule: String,
    /// Only reachable from the VPN.
    #[serde(default)]
    pub vpn: bool,
}

/// Which resources to generate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Traefik IngressRoutes and Middlewares, with a cert-manager Certificate.
    #[default]
    Traefik,
    /// Gateway API HTTPRoute (GRPCRoute for grpc) attached to a Gateway.
    GatewayApi,
}

/// Options of the function (functionConfig: a ConfigMap or `LummoNetworkingConfig`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Traefik IngressRoutes (`traefik`) or Gateway API HTTPRoutes (`gateway-api`).
    #[serde(default)]
    pub mode: Mode,
    /// The platform-wide Traefik Middleware that admits only VPN clients.
    #[serde(default = "vpn_middleware")]
    pub vpn_middleware: DnsSubdomain,
    /// The namespace of `vpnMiddleware`.
    #[serde(default = "traefik_namespace")]
    pub vpn_middleware_namespace: DnsLabel,
    /// The cluster's Traefik runs its kubernetescrd provider with
    /// `allowCrossNamespace: true`. Without it (Traefik's default) a route that
    /// references `vpnMiddleware` from another namespace is dropped, so the function
    /// refuses such a reference and asks for `vpnSourceRanges` instead.
    #[serde(default)]
    pub allow_cross_namespace: bool,
    /// When set, the function generates its own ipAllowList Middleware with these
    /// ranges instead of referencing `vpnMiddleware`.
    #[serde(default)]
    pub vpn_source_ranges: Vec<String>,
    /// Behind a load balancer that appends to X-Forwarded-For: how many addresses
    /// from the right to skip to find the client (Traefik `ipStrategy.depth`).
    #[serde(default)]
    pub ip_strategy_depth: Option<u32>,
    /// Proxies' addresses to skip in X-Forwarded-For (Traefik `ipStrategy.excludedIPs`).
    #[serde(default)]
    pub ip_strategy_excluded_ips: Vec<String>,
    /// The cert-manager ClusterIssuer of the routes' certificates.
    #[serde(default = "cluster_issuer")]
    pub cluster_issuer: DnsSubdomain,
    /// Wildcard domains need a DNS-01 capable issuer; say that `clusterIssuer` is one.
    #[serde(default)]
    pub allow_wildcard_domains: bool,
    /// Traefik's entry point for HTTPS.
    #[serde(default = "websecure")]
    pub tls_entry_point: String,
    /// Traefik's entry point for plain HTTP (redirected to HTTPS).
    #[serde(default = "web")]
    pub http_entry_point: String,
    /// Gateway API mode: the Gateway routes attach to.
    #[serde(default = "gateway")]
    pub gateway: DnsSubdomain,
    /// Gateway API mode: the Gateway's namespace (default: the routes').
    #[serde(default)]
    pub gateway_namespace: Option<DnsLabel>,
    /// Gateway API mode: the Gateway listener the routes attach to.
    #[serde(default)]
    pub gateway_section_name: Option<String>,
    /// The namespace of the ingress controller (Traefik, or the Gateway's
    /// controller): the app's NetworkPolicy `<app>-ingress` lets its pods reach
    /// the routed port. Default `traefik`.
    #[serde(default = "traefik_namespace")]
    pub ingress_namespace: DnsLabel,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::default(),
            vpn_middleware: vpn_middleware(),
            vpn_middleware_namespace: traefik_namespace(),
            allow_cross_namespace: false,
            vpn_source_ranges: Vec::new(),
            ip_strategy_depth: None,
            ip_strategy_excluded_ips: Vec::new(),
            cluster_issuer: cluster_issuer(),
            allow_wildcard_domains: false,
            tls_entry_point: websecure(),
            http_entry_point: web(),
            gateway: gateway(),
            gateway_namespace: None,
            gateway_section_name: None,
            ingress_namespace: traefik_namespace(),
        }
    }
}

fn vpn_middleware() -> DnsSubdomain {
    DnsSubdomain::new("vpn-only").expect("`vpn-only` is a DNS-1123 subdomain")
}

fn traefik_namespace() -> DnsLabel {
    DnsLabel::new("traefik").expect("`traefik` is a DNS-1123 label")
}

fn cluster_issuer() -> DnsSubdomain {
    DnsSubdomain::new("letsencrypt").expect("`letsencrypt` is a DNS-1123 subdomain")
}

fn websecure() -> String {
    "websecure".into()
}

fn web() -> String {
    "web".into()
}

fn gateway() -> DnsSubdomain {
    DnsSubdomain::new("public").expect("`public` is a DNS-1123 subdomain")
}
