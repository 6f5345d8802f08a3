//! `lummo-networking`: `LummoNetworking` → Traefik IngressRoutes (HTTPS routes and
//! an HTTP→HTTPS redirect), Middlewares and a cert-manager Certificate; or, in
//! `gateway-api` mode, an HTTPRoute / GRPCRoute attached to a Gateway.
//!
//! Route rules are parsed ([`rule`]) and rebuilt from the AST, never spliced as text.

pub mod network;
pub mod overlap;
mod provenance;
pub mod rule;
pub mod spec;

use krm_sdk::{json, ObjectExt, ResourceList, ResultItem, Value};
use lummo_core::descriptor::{schema_of, KindDoc};
use lummo_core::function::{Collector, Function, FunctionConfig, Output, Report};
use lummo_core::resources::{
    CERTIFICATE, GRPC_ROUTE, HTTP_ROUTE, INGRESS_ROUTE, MIDDLEWARE, TRAEFIK_GROUP,
};
use lummo_core::Spec;
use rule::{Matcher, Rule};
pub use spec::{Config, LummoNetworkingSpec, Mode};
use std::collections::BTreeMap;

pub const KIND: &str = "LummoNetworking";
pub const CONFIG_KIND: &str = "LummoNetworkingConfig";

/// The function: every LummoNetworking, rendered on its own with the config.
pub struct Networking;

impl Function for Networking {
    const NAME: &'static str = "lummo-networking";
    const ABOUT: &'static str =
        "Turns every LummoNetworking (lummo.dev/v1alpha1) into HTTPS-only Traefik IngressRoutes\n\
            (with an HTTP→HTTPS redirect Middleware), VPN restrictions and a cert-manager\n\
            Certificate; or, with mode gateway-api, into a Gateway API HTTPRoute or GRPCRoute.";
    const KINDS: &'static [KindDoc] = &[
        KindDoc { kind: KIND, about: "HTTPS routes for an app: Traefik IngressRoutes, Middlewares, Certificate or Gateway API routes (lummo-networking).", example: Some("Kptfile.examples/networking/networking.yaml"), schema: schema_of::<LummoNetworkingSpec>, function_config: false },
        KindDoc { kind: CONFIG_KIND, about: "functionConfig of lummo-networking (a ConfigMap with the same keys works too).", example: None, schema: schema_of::<Config>, function_config: true },
    ];
    type Config = Config;
    type Specs = Vec<Spec<LummoNetworkingSpec>>;

    fn collect(collector: &mut Collector<'_>) -> Self::Specs {
        collector.specs(KIND)
    }

    /// Every spec's own checks first, then the routes of all specs together: no two
    /// apps may claim one request ambiguously ([`check_overlaps`]), and each route's
    /// priority comes from its own content ([`priority`]), so specs rendered apart
    /// agree with specs rendered together.
    fn render(specs: Self::Specs, config: &Config, package: &ResourceList) -> Output {
        let mut renderers: Vec<Renderer> = specs
            .iter()
            .map(|spec| Renderer {
                spec,
                config,
                report: Report::new(&spec.object),
            })
            .collect();
        let routes: Vec<Vec<ParsedRoute>> = renderers.iter_mut().map(Renderer::prepare).collect();
        check_overlaps(&mut renderers, &routes);
        let redirects = redirect_priorities(&specs);
        let mut output = Output::default();
        for ((mut renderer, routes), redirect) in renderers.into_iter().zip(routes).zip(redirects) {
            let objects = if renderer.report.failed() {
                Vec::new()
            } else {
                renderer.render(&routes, redirect, package)
            };
            // Priorities also read the other specs' routes: a change there is
            // "another spec changed", which no field of this one names.
            let origins = provenance::record(renderer.spec, &routes, config, &objects);
            output.add(
                &renderer.spec.object,
                renderer.report.rendered_with(objects, origins),
            );
        }
        output
    }
}

impl FunctionConfig for Config {
    const KIND: Option<&'static str> = Some(CONFIG_KIND);

    /// Every source range that is not a CIDR.
    fn check(&self, source: Option<&Value>) -> Vec<ResultItem> {
        let ranges = self
            .vpn_source_ranges
            .iter()
            .chain(&self.ip_strategy_excluded_ips);
        let problems = ranges.filter_map(|range| rule::cidr(range).err());
        problems
            .map(|message| {
                let problem = ResultItem::error(format!("invalid functionConfig: {message}"));
                match source {
                    Some(source) => problem.for_object(source),
                    None => problem,
                }
            })
            .collect()
    }
}

struct Renderer<'a> {
    spec: &'a Spec<LummoNetworkingSpec>,
    config: &'a Config,
    report: Report<'a>,
}

/// A route after parsing, with its place in the spec.
struct ParsedRoute {
    index: usize,
    rule: Rule,
    vpn: bool,
    /// The rule in disjunctive normal form ([`overlap::terms`]).
    terms: Vec<Vec<overlap::Literal>>,
    /// Its most specific path (what its priority is made of).
    specificity: usize,
    /// Its Traefik router priority ([`priority`]).
    priority: u64,
}

/// Generated HTTPS routers outrank every router with Traefik's default priority,
/// the rule's length in bytes (traefik v3 pkg/muxer/http/mux.go, GetRulePriority,
/// applied when a router's priority is 0 in pkg/server/router/router.go): no rule
/// stored in a cluster is 10,000,000 bytes long (etcd refuses requests over 1.5 MiB
/// by default), so a router we did not generate never takes a generated route's
/// requests.
pub const PUBLIC_PRIORITY: u64 = 10_000_000;
/// VPN routes outrank every public route, generated or not.
pub const VPN_PRIORITY: u64 = 10_000_000_000;
/// Routes of one spec with the same specificity are told apart below this.
pub const MAX_ROUTES: usize = 1000;

/// A route's priority: its band (VPN above public), then its most specific path
/// (an exact path over a prefix of the same length, a longer path over a shorter),
/// then, among the spec's routes of equal rank, the spec's order (`tie`). Traefik
/// tries routers by priority only, then by provider (mux.go, `routes.Less`; the sort
/// is not stable and routers come from a map), so two routers that can match one
/// request must never share a priority: within a spec `tie` separates them, across
/// specs [`check_overlaps`] refuses what the specificity does not decide.
fn priority(vpn: bool, specificity: usize, tie: usize) -> u64 {
    let band = if vpn { VPN_PRIORITY } else { PUBLIC_PRIORITY };
    band + specificity as u64 * MAX_ROUTES as u64 + (MAX_ROUTES - 1 - tie) as u64
}

/// Routes of different specs that can match one request must be ordered by what
/// the user wrote, the longer path winning, and agree on `vpn`; anything else is
/// an error on both specs, naming the other.
fn check_overlaps(renderers: &mut [Renderer], routes: &[Vec<ParsedRoute>]) {
    for i in 0..renderers.len() {
        for j in i + 1..renderers.len() {
            let hosts = overlap::shared_hosts(
                &renderers[i].spec.spec.domains,
                &renderers[j].spec.spec.domains,
            );
            if hosts.is_empty() {
                continue;
            }
            for a in &routes[i] {
                for b in &routes[j] {
                    let Some((host, reason)) = conflict(&hosts, a, b) else {
                        continue;
                    };
                    let (first, second) = (renderers[i].spec, renderers[j].spec);
                    let message =
                        |me: &ParsedRoute,
                         other: &ParsedRoute,
                         other_spec: &Spec<LummoNetworkingSpec>| {
                            let narrowed = Rule::And(
                                Box::new(me.rule.clone()),
                                Box::new(Rule::Not(Box::new(other.rule.clone()))),
                            );
                            format!(
                            "`{}` and routes[{}].match `{}` of {} can both match a request to {host}: {reason}. Routes of different apps on one host may overlap only where one has the longer path and both have the same vpn setting. Narrow one of them so they cannot match one request, e.g. here `{narrowed}`, or serve the apps on different domains",
                            me.rule, other.index, other.rule, describe(other_spec)
                        )
                        };
                    let (to_first, to_second) = (message(a, b, second), message(b, a, first));
                    renderers[i].error(&format!("routes[{}].match", a.index), to_first);
                    renderers[j].error(&format!("routes[{}].match", b.index), to_second);
                }
            }
        }
    }
}

/// The first host and reason for which routes `a` and `b` of two apps conflict.
fn conflict(hosts: &[String], a: &ParsedRoute, b: &ParsedRoute) -> Option<(String, &'static str)> {
    for ta in &a.terms {
        for tb in &b.terms {
            let Some(host) = hosts.iter().find(|h| overlap::can_meet(h, ta, tb)) else {
                continue;
            };
            let reason = if a.vpn != b.vpn {
                "one is vpn: true and the other is not, so whether those requests are VPN-only would depend on which route wins"
            } else if a.specificity == b.specificity {
                "their paths are equally specific, so which app answers would be left to Traefik's ordering of equal priorities, which can change on a reload"
            } else if overlap::path_specificity(ta).cmp(&overlap::path_specificity(tb))
                != a.specificity.cmp(&b.specificity)
            {
                "the route that wins them is not the one with the more specific path for those requests (a route ranks by its most specific path; split a rule joined by `||` into separate routes)"
            } else {
                continue;
            };
            return Some((host.clone(), reason));
        }
    }
    None
}

/// `LummoNetworking <name> (app <app>, <file>)`.
fn describe(spec: &Spec<LummoNetworkingSpec>) -> String {
    let app = &spec.spec.app;
    match spec.object.file_ref() {
        Some(file) => format!(
            "LummoNetworking `{}` (app {app}, {})",
            spec.name(),
            file.path
        ),
        None => format!("LummoNetworking `{}` (app {app})", spec.name()),
    }
}

/// The HTTP→HTTPS routers of specs sharing a host get distinct priorities, the
/// smallest free ones: below any router with a default priority (an ACME HTTP-01
/// solver's `Host(...) && PathPrefix(`/.well-known/acme-challenge/...`)` is longer
/// than 50 bytes), so such a router keeps winning its requests on `web`.
fn redirect_priorities(specs: &[Spec<LummoNetworkingSpec>]) -> Vec<u64> {
    let mut priorities: Vec<u64> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let used: Vec<u64> = (0..i)
            .filter(|&j| {
                !overlap::shared_hosts(&specs[j].spec.domains, &spec.spec.domains).is_empty()
            })
            .map(|j| priorities[j])
            .collect();
        let free = (1..)
            .find(|p| !used.contains(p))
            .expect("some priority is free");
        priorities.push(free);
    }
    priorities
}

impl Renderer<'_> {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.report.error(field, message);
    }

    /// The spec's own checks; its routes in priority order.
    fn prepare(&mut self) -> Vec<ParsedRoute> {
        self.check_domains();
        let routes = self.parse_routes();
        self.check_vpn_middleware(&routes);
        routes
    }

    fn render(&mut self, routes: &[ParsedRoute], redirect: u64, list: &ResourceList) -> Vec<Value> {
        let labels = lummo_core::labels(&self.spec.spec.app, None);
        let mut objects = match self.config.mode {
            Mode::Traefik => self.traefik(routes, redirect, &labels),
            Mode::GatewayApi => self.gateway_api(routes, &labels, list),
        };
        if !objects.is_empty() {
            let app = &self.spec.spec.app;
            let namespace = &self.config.ingress_namespace;
            objects.push(network::ingress_policy(
                app,
                self.service_port(),
                namespace,
                &labels,
            ));
        }
        objects
    }

    /// The domains decoded as hostnames (lummo-core `Hostname`); what a spec can
    /// still get wrong is a wildcard without a DNS-01 issuer, or a repeat.
    fn check_domains(&mut self) {
        let domains = self.spec.spec.domains.clone();
        if domains.is_empty() {
            self.error("domains", "needs at least one domain");
        }
        for (i, domain) in domains.iter().enumerate() {
            let field = format!("domains[{i}]");
            if domain.wildcard_base().is_some() && !self.config.allow_wildcard_domains {
                self.error(&field, format!(
                    "wildcard domain `{domain}` needs a DNS-01 certificate issuer; if clusterIssuer `{}` solves DNS-01, {}",
                    self.config.cluster_issuer,
                    lummo_core::set_in_config(Networking::NAME, CONFIG_KIND, "allowWildcardDomains", "\"true\"")
                ));
            }
            if domains[..i].contains(domain) {
                self.error(&field, format!("`{domain}` is listed twice"));
            }
        }
    }

    fn parse_routes(&mut self) -> Vec<ParsedRoute> {
        let routes = self.spec.spec.routes.clone();
        if routes.is_empty() {
            self.error("routes", "needs at least one route");
        }
        if routes.len() > MAX_ROUTES {
            self.error("routes", format!("has {} routes; at most {MAX_ROUTES} fit one spec's priorities: split the app's routes over more specs", routes.len()));
        }
        let mut parsed: Vec<ParsedRoute> = Vec::new();
        for (index, route) in routes.iter().enumerate() {
            let field = format!("routes[{index}].match");
            let result = match rule::parse(&route.rule) {
                Ok(result) => result,
                Err(error) => {
                    self.error(&field, error.excerpt(&route.rule));
                    continue;
                }
            };
            for note in result.notes {
                self.report.warning(&field, note);
            }
            for (matcher, args) in result.rule.matchers() {
                if matcher == Matcher::Host
                    && !self.spec.spec.domains.iter().any(|d| d.as_str() == args[0])
                {
                    let domains: Vec<&str> =
                        self.spec.spec.domains.iter().map(|d| d.as_str()).collect();
                    let domains = domains.join(", ");
                    self.error(&field, format!(
                        "Host(`{}`) conflicts with domains [{domains}]: routes already match only the domains; list the host under domains or drop the matcher",
                        args[0]
                    ));
                }
            }
            if let Some(twin) = parsed.iter().find(|p| p.rule == result.rule) {
                let message = format!("same rule as routes[{}]: `{}`", twin.index, result.rule);
                self.error(&field, message);
            }
            let terms = overlap::terms(&result.rule);
            let specificity = terms
                .iter()
                .map(|t| overlap::path_specificity(t))
                .max()
                .unwrap_or(0);
            parsed.push(ParsedRoute {
                index,
                rule: result.rule,
                vpn: route.vpn,
                terms,
                specificity,
                priority: 0,
            });
        }
        // VPN routes first, then more specific paths first; ties keep the spec's order.
        // A request that a vpn route matches is VPN-only, whatever public route also
        // matches it: ordering by path alone let `PathPrefix(/)` outrank a vpn
        // `Method(DELETE)` route and serve every DELETE publicly.
        parsed.sort_by_key(|route| {
            (
                !route.vpn,
                std::cmp::Reverse(route.specificity),
                route.index,
            )
        });
        for rank in 0..parsed.len() {
            let (vpn, specificity) = (parsed[rank].vpn, parsed[rank].specificity);
            let tie = parsed[..rank]
                .iter()
                .filter(|r| r.vpn == vpn && r.specificity == specificity)
                .count();
            parsed[rank].priority = priority(vpn, specificity, tie.min(MAX_ROUTES - 1));
        }
        self.warn_nested_public(&parsed);
        parsed
    }

    /// A public route inside a vpn route's paths (`PathPrefix(/) vpn` with a public
    /// `Path(/healthz)`) used to win by specificity; now the vpn route does. Say so,
    /// and how to keep those requests public.
    fn warn_nested_public(&mut self, routes: &[ParsedRoute]) {
        for public in routes.iter().filter(|r| !r.vpn) {
            for vpn in routes.iter().filter(|r| r.vpn) {
                if specificity(&public.rule) > specificity(&vpn.rule)
                    && within_paths(&public.rule, &vpn.rule)
                {
                    let suggestion = Rule::And(
                        Box::new(vpn.rule.clone()),
                        Box::new(Rule::Not(Box::new(public.rule.clone()))),
                    );
                    let message = format!(
                        "routes[{}] is vpn: true and matches requests of this public route too; those requests are VPN-only. To serve them publicly, exclude them from the vpn route: `{suggestion}`",
                        vpn.index
                    );
                    let warning = self
                        .spec
                        .warning(&format!("routes[{}].match", public.index), message);
                    self.report.push(warning);
                }
            }
        }
    }

    /// Refuses a vpn Middleware that Traefik would not resolve: with
    /// `allowCrossNamespace: false` (the kubernetescrd provider's default) a route
    /// whose Middleware is in another namespace is skipped, "middleware %s/%s is not
    /// in the IngressRoute namespace %s" (traefik pkg/provider/kubernetes/crd/
    /// kubernetes_http.go, makeMiddlewareKeys, then `continue`), and its requests
    /// fall through to any public route.
    fn check_vpn_middleware(&mut self, routes: &[ParsedRoute]) {
        let config = self.config;
        let Some(first) = routes.iter().filter(|r| r.vpn).map(|r| r.index).min() else {
            return;
        };
        if config.mode != Mode::Traefik
            || !config.vpn_source_ranges.is_empty()
            || config.allow_cross_namespace
            || self.spec.object.namespace() == config.vpn_middleware_namespace.as_str()
        {
            return;
        }
        // Tagged: lummo-validate, which runs without this function's config, leaves it.
        let error = self.spec.error(&format!("routes[{first}].vpn"), format!(
            "the VPN Middleware `{}/{}` is in another namespace than the IngressRoute; Traefik's kubernetescrd provider skips such a route unless it runs with allowCrossNamespace: true. To generate the Middleware beside the route, {}; or, if the cluster's Traefik sets providers.kubernetesCRD.allowCrossNamespace, say allowCrossNamespace: \"true\"",
            config.vpn_middleware_namespace, config.vpn_middleware,
            lummo_core::set_in_config(Networking::NAME, CONFIG_KIND, "vpnSourceRanges", "[10.8.0.0/16]")
        ));
        let error = error.tag(lummo_core::NEEDS_CONFIG_TAG, "vpnSourceRanges");
        self.report.push(error);
    }

    /// `Host(d1) || Host(d2)` for literal domains, `HostRegexp` for wildcards.
    fn hosts(&self) -> Rule {
        self.spec
            .spec
            .domains
            .iter()
            .map(|domain| match domain.wildcard_base() {
                Some(base) => Rule::Match(
                    Matcher::HostRegexp,
                    vec![format!("^[a-z0-9-]+\\.{}$", base.replace('.', "\\."))],
                ),
                None => Rule::Match(Matcher::Host, vec![domain.to_string()]),
            })
            .reduce(|l, r| Rule::Or(Box::new(l), Box::new(r)))
            .expect("domains were checked to be non-empty")
    }

    fn service_port(&self) -> &'static str {
        if self.spec.spec.grpc {
            "grpc"
        } else {
            "http"
        }
    }

    fn traefik(
        &mut self,
        routes: &[ParsedRoute],
        redirect: u64,
        labels: &BTreeMap<String, String>,
    ) -> Vec<Value> {
        let app = &self.spec.spec.app;
        let config = self.config;
        let mut service = json!({ "name": app, "port": self.service_port() });
        if self.spec.spec.grpc {
            service["scheme"] = json!("h2c");
        }
        let vpn_middleware = if config.vpn_source_ranges.is_empty() {
            json!({ "name": config.vpn_middleware, "namespace": config.vpn_middleware_namespace })
        } else {
            json!({ "name": format!("{app}-vpn") })
        };
        let hosts = self.hosts();
        // Every public route also excludes the vpn routes' requests: should Traefik
        // drop a vpn route (its Middleware missing or refused), those requests then
        // match no route (404) instead of falling through to a public one.
        let vpn_rules: Vec<&Rule> = routes.iter().filter(|r| r.vpn).map(|r| &r.rule).collect();
        let https_routes: Vec<Value> = routes
            .iter()
            .map(|route| {
                let mut rule = Rule::And(Box::new(hosts.clone()), Box::new(route.rule.clone()));
                if !route.vpn {
                    for vpn_rule in &vpn_rules {
                        let not = Rule::Not(Box::new((*vpn_rule).clone()));
                        rule = Rule::And(Box::new(rule), Box::new(not));
                    }
                }
                let mut entry = json!({
                    "kind": "Rule",
                    "match": rule.to_string(),
                    "priority": route.priority,
                    "services": [service],
                });
                if route.vpn {
                    entry["middlewares"] = json!([vpn_middleware]);
                }
                entry
            })
            .collect();
        let metadata = |name: String| json!({ "name": name, "labels": labels });
        let mut objects = vec![
            json!({
                "apiVersion": INGRESS_ROUTE.api_version,
                "kind": INGRESS_ROUTE.kind,
                "metadata": metadata(app.to_string()),
                "spec": {
                    "entryPoints": [config.tls_entry_point],
                    "routes": https_routes,
                    "tls": { "secretName": format!("{app}-tls") },
                },
            }),
            json!({
                "apiVersion": INGRESS_ROUTE.api_version,
                "kind": INGRESS_ROUTE.kind,
                "metadata": metadata(format!("{app}-http")),
                "spec": {
                    "entryPoints": [config.http_entry_point],
                    "routes": [{
                        "kind": "Rule",
                        "match": hosts.to_string(),
                        "priority": redirect,
                        "middlewares": [{ "name": format!("{app}-redirect-https") }],
                        "services": [service],
                    }],
                },
            }),
            json!({
                "apiVersion": MIDDLEWARE.api_version,
                "kind": MIDDLEWARE.kind,
                "metadata": metadata(format!("{app}-redirect-https")),
                "spec": { "redirectScheme": { "scheme": "https", "permanent": true } },
            }),
        ];
        if routes.iter().any(|r| r.vpn) && !config.vpn_source_ranges.is_empty() {
            objects.push(self.allow_list(labels));
        }
        objects.push(json!({
            "apiVersion": CERTIFICATE.api_version,
            "kind": CERTIFICATE.kind,
            "metadata": metadata(app.to_string()),
            "spec": {
                "secretName": format!("{app}-tls"),
                "dnsNames": self.spec.spec.domains,
                "issuerRef": { "name": config.cluster_issuer, "kind": "ClusterIssuer", "group": "cert-manager.io" },
            },
        }));
        objects
    }

    /// The ipAllowList Middleware for vpn routes, judging the client address as
    /// configured (behind a load balancer the direct peer is the balancer).
    fn allow_list(&self, labels: &BTreeMap<String, String>) -> Value {
        let config = self.config;
        let mut allow = json!({ "sourceRange": config.vpn_source_ranges });
        if let Some(depth) = config.ip_strategy_depth {
            allow["ipStrategy"] = json!({ "depth": depth });
        } else if !config.ip_strategy_excluded_ips.is_empty() {
            allow["ipStrategy"] = json!({ "excludedIPs": config.ip_strategy_excluded_ips });
        }
        json!({
            "apiVersion": MIDDLEWARE.api_version,
            "kind": MIDDLEWARE.kind,
            "metadata": { "name": format!("{}-vpn", self.spec.spec.app), "labels": labels },
            "spec": { "ipAllowList": allow },
        })
    }

    fn gateway_api(
        &mut self,
        routes: &[ParsedRoute],
        labels: &BTreeMap<String, String>,
        list: &ResourceList,
    ) -> Vec<Value> {
        let app = self.spec.spec.app.clone();
        let port_name = self.service_port();
        let Some(port) = service_port_number(list, &app, self.spec.object.namespace(), port_name)
        else {
            self.error("app", format!(
                "gateway-api mode needs the number of port `{port_name}` of Service `{app}`: put the Service in the package (run lummo-workload before lummo-networking)"
            ));
            return Vec::new();
        };
        let grpc = self.spec.spec.grpc;
        let mut rules = Vec::new();
        for route in routes {
            let field = format!("routes[{}].match", route.index);
            let Some(dnf) = route.rule.disjunctive_normal_form() else {
                self.error(
                    &field,
                    format!("`{}`: Gateway API matches cannot express `!`", route.rule),
                );
                continue;
            };
            let mut matches = Vec::new();
            for conjunction in &dnf {
                match if grpc {
                    grpc_match(conjunction)
                } else {
                    http_match(conjunction)
                } {
                    Ok(m) => matches.push(m),
                    Err(message) => self.error(&field, message),
                }
            }
            let mut rule =
                json!({ "matches": matches, "backendRefs": [{ "name": app, "port": port }] });
            if route.vpn {
                if self.config.vpn_source_ranges.is_empty() {
                    self.error(&field.replace(".match", ".vpn"), format!(
                        "gateway-api mode cannot reference the Middleware `{}` in namespace `{}`; set vpnSourceRanges so the function generates one beside the route",
                        self.config.vpn_middleware, self.config.vpn_middleware_namespace
                    ));
                }
                rule["filters"] = json!([{ "type": "ExtensionRef", "extensionRef": { "group": TRAEFIK_GROUP, "kind": MIDDLEWARE.kind, "name": format!("{app}-vpn") } }]);
            }
            rules.push(rule);
        }
        let parent = |section: &str| {
            let mut parent = json!({ "name": self.config.gateway, "sectionName": section });
            if let Some(ns) = &self.config.gateway_namespace {
                parent["namespace"] = json!(ns);
            }
            parent
        };
        let https = self
            .config
            .gateway_section_name
            .clone()
            .unwrap_or_else(|| "https".into());
        let route = if grpc { GRPC_ROUTE } else { HTTP_ROUTE };
        let mut objects = vec![
            json!({
                "apiVersion": route.api_version,
                "kind": route.kind,
                "metadata": { "name": app, "labels": labels },
                "spec": { "parentRefs": [parent(&https)], "hostnames": self.spec.spec.domains, "rules": rules },
            }),
            json!({
                "apiVersion": HTTP_ROUTE.api_version,
                "kind": HTTP_ROUTE.kind,
                "metadata": { "name": format!("{app}-http"), "labels": labels },
                "spec": {
                    "parentRefs": [parent("http")],
                    "hostnames": self.spec.spec.domains,
                    "rules": [{ "filters": [{ "type": "RequestRedirect", "requestRedirect": { "scheme": "https", "statusCode": 301 } }] }],
                },
            }),
        ];
        if routes.iter().any(|r| r.vpn) && !self.config.vpn_source_ranges.is_empty() {
            objects.push(self.allow_list(labels));
        }
        objects
    }
}

/// Whether every path `inner` tests lies under a path prefix of `outer` (which
/// tests paths only by prefix), so that `outer` matches requests of `inner`.
fn within_paths(inner: &Rule, outer: &Rule) -> bool {
    let prefixes: Vec<&str> = outer
        .matchers()
        .into_iter()
        .filter(|(m, _)| *m == Matcher::PathPrefix)
        .map(|(_, args)| args[0].as_str())
        .collect();
    let paths: Vec<&str> = inner
        .matchers()
        .into_iter()
        .filter(|(m, _)| matches!(m, Matcher::Path | Matcher::PathPrefix))
        .map(|(_, args)| args[0].as_str())
        .collect();
    !prefixes.is_empty()
        && !paths.is_empty()
        && paths
            .iter()
            .all(|p| prefixes.iter().any(|v| p.starts_with(v)))
}

/// How specific a rule's paths are: exact and longer paths win.
fn specificity(rule: &Rule) -> usize {
    rule.matchers()
        .iter()
        .map(|(matcher, args)| match matcher {
            Matcher::Path => args[0].len() * 2 + 1,
            Matcher::PathPrefix | Matcher::PathRegexp => args[0].len() * 2,
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

fn service_port_number(list: &ResourceList, app: &str, namespace: &str, port: &str) -> Option<i64> {
    let service = list.items.iter().find(|item| {
        item.kind() == "Service"
            && item.api_version() == "v1"
            && item.name() == app
            && item.namespace() == namespace
    })?;
    service
        .pointer("/spec/ports")?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(port))?
        .get("port")?
        .as_i64()
}

fn unsupported(matcher: Matcher, args: &[String]) -> String {
    let rule = Rule::Match(matcher, args.to_vec());
    format!("`{rule}` cannot be expressed as a Gateway API match; use mode traefik for this route")
}

fn http_match(conjunction: &[(Matcher, Vec<String>)]) -> Result<Value, String> {
    let mut result = json!({});
    let mut headers = Vec::new();
    let mut query = Vec::new();
    for (matcher, args) in conjunction {
        let exact = |kind: &str| json!({ "type": kind, "name": args[0], "value": args[1] });
        match matcher {
            Matcher::Path | Matcher::PathPrefix | Matcher::PathRegexp => {
                if result.get("path").is_some() {
                    return Err(format!(
                        "`{}` tests the path twice; a Gateway API match has one path",
                        Rule::Match(*matcher, args.clone())
                    ));
                }
                let kind = match matcher {
                    Matcher::Path => "Exact",
                    Matcher::PathPrefix => "PathPrefix",
                    _ => "RegularExpression",
                };
                result["path"] = json!({ "type": kind, "value": args[0] });
            }
            Matcher::Method => {
                if result.get("method").is_some() {
                    return Err(
                        "a Gateway API match tests one method; write `||` between methods".into(),
                    );
                }
                result["method"] = json!(args[0]);
            }
            Matcher::Header => headers.push(exact("Exact")),
            Matcher::HeaderRegexp => headers.push(exact("RegularExpression")),
            Matcher::Query => query.push(exact("Exact")),
            Matcher::QueryRegexp => query.push(exact("RegularExpression")),
            Matcher::Host | Matcher::HostRegexp | Matcher::ClientIP => {
                return Err(unsupported(*matcher, args))
            }
        }
    }
    if !headers.is_empty() {
        result["headers"] = json!(headers);
    }
    if !query.is_empty() {
        result["queryParams"] = json!(query);
    }
    Ok(result)
}

/// gRPC calls are `POST /package.Service/Method`: paths become service and method.
fn grpc_match(conjunction: &[(Matcher, Vec<String>)]) -> Result<Value, String> {
    let mut result = json!({});
    let mut headers = Vec::new();
    for (matcher, args) in conjunction {
        match matcher {
            Matcher::Path | Matcher::PathPrefix => {
                let parts: Vec<&str> = args[0].trim_start_matches('/').split('/').collect();
                let method = match (matcher, parts.as_slice()) {
                    (Matcher::Path, [service, method]) if !service.is_empty() && !method.is_empty() => {
                        json!({ "type": "Exact", "service": service, "method": method })
                    }
                    (Matcher::PathPrefix, [service] | [service, ""]) if !service.is_empty() => json!({ "type": "Exact", "service": service }),
                    _ => return Err(format!("`{}` is not a gRPC path: write Path(`/package.Service/Method`) or PathPrefix(`/package.Service/`)", Rule::Match(*matcher, args.clone()))),
                };
                result["method"] = method;
            }
            Matcher::Header => {
                headers.push(json!({ "type": "Exact", "name": args[0], "value": args[1] }))
            }
            Matcher::HeaderRegexp => headers
                .push(json!({ "type": "RegularExpression", "name": args[0], "value": args[1] })),
            _ => return Err(unsupported(*matcher, args)),
        }
    }
    if !headers.is_empty() {
        result["headers"] = json!(headers);
    }
    Ok(result)
}
