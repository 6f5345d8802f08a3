//! Where each field of a LummoNetworking's objects comes from (issue 32,
//! `lummo_core::origins`): one block per generated kind, computed from the spec,
//! its parsed routes and the emitted objects. Constant fields (the redirect's
//! scheme, a rule's `kind: Rule`, the Certificate's issuer kind) have no record:
//! they answer "rule of lummo-networking".

use crate::spec::{Config, LummoNetworkingSpec};
use crate::ParsedRoute;
use krm_sdk::{ObjectExt, Value};
use lummo_core::origins::{derived, Origins};
use lummo_core::Spec;

/// The records of `objects`, all generated from `networking` with `routes` (in
/// priority order, the order of the generated route entries).
pub fn record(
    networking: &Spec<LummoNetworkingSpec>,
    routes: &[ParsedRoute],
    config: &Config,
    objects: &[Value],
) -> Origins {
    let mut origins = Origins::new();
    let app = networking.spec.app.as_str();
    // A route entry's place, and so the entry at each index, follows every
    // route's match and vpn (priority order); its rule also excludes the vpn
    // routes' requests. These fields decide which route an entry is.
    let order: Vec<String> = (0..networking.spec.routes.len())
        .flat_map(|i| {
            [
                format!("spec.routes[{i}].match"),
                format!("spec.routes[{i}].vpn"),
            ]
        })
        .collect();
    let reads = |extra: &[&str]| -> Vec<String> {
        order
            .iter()
            .cloned()
            .chain(extra.iter().map(|f| f.to_string()))
            .collect()
    };
    for object in objects {
        let o = &mut origins;
        o.metadata(
            object,
            derived("the app's name, with the object's suffix", &["spec.app"]),
            derived("the app's labels", &["spec.app"]),
        );
        let name = object.name();
        match (object.kind(), name.strip_prefix(app)) {
            ("IngressRoute", Some("")) => {
                o.config(object, "spec.entryPoints", "tlsEntryPoint");
                o.derived(object, "spec.tls.secretName", "<app>-tls", &["spec.app"]);
                https_routes(o, object, "spec.routes", routes, &reads);
            }
            ("IngressRoute", Some("-http")) => {
                o.config(object, "spec.entryPoints", "httpEntryPoint");
                o.derived(
                    object,
                    "spec.routes[0].match",
                    "a Host matcher per domain",
                    &["spec.domains"],
                );
                o.derived(
                    object,
                    "spec.routes[0].priority",
                    "the smallest priority no other spec sharing a domain has",
                    &["spec.domains"],
                );
                o.derived(
                    object,
                    "spec.routes[0].middlewares",
                    "the <app>-redirect-https Middleware",
                    &["spec.app"],
                );
                service(o, object, "spec.routes[0].services");
            }
            ("Middleware", Some("-vpn")) => {
                o.exists(
                    object,
                    derived(
                        "an ipAllowList for the vpn routes, when vpnSourceRanges is set",
                        &strs(&order),
                    ),
                );
                o.config(object, "spec.ipAllowList.sourceRange", "vpnSourceRanges");
                let strategy = match config.ip_strategy_depth {
                    Some(_) => "ipStrategyDepth",
                    None => "ipStrategyExcludedIps",
                };
                o.config(object, "spec.ipAllowList.ipStrategy", strategy);
            }
            ("Certificate", _) => {
                o.derived(object, "spec.secretName", "<app>-tls", &["spec.app"]);
                o.spec(object, "spec.dnsNames", "spec.domains");
                o.config(object, "spec.issuerRef.name", "clusterIssuer");
            }
            ("NetworkPolicy", _) => {
                o.derived(object, "spec.podSelector", "the app's pods", &["spec.app"]);
                o.config(object, "spec.ingress[0].from", "ingressNamespace");
                o.derived(
                    object,
                    "spec.ingress[0].ports[0].port",
                    "the routed port: grpc, else http",
                    &["spec.grpc"],
                );
            }
            ("HTTPRoute" | "GRPCRoute", Some(suffix)) => {
                o.config(object, "spec.parentRefs", "gateway");
                o.spec(object, "spec.hostnames", "spec.domains");
                if suffix.is_empty() {
                    // grpc turns the HTTPRoute into a GRPCRoute of the same name.
                    o.exists(
                        object,
                        derived(
                            "the app's routes: a GRPCRoute with grpc, else an HTTPRoute",
                            &["spec.grpc"],
                        ),
                    );
                    o.config(
                        object,
                        "spec.parentRefs[0].sectionName",
                        "gatewaySectionName",
                    );
                    for (at, entry) in entries(o, object, "spec.rules", routes, &order) {
                        o.derived(
                            object,
                            &format!("{at}.matches"),
                            "the route's match as Gateway API matches (gRPC's for grpc)",
                            &strs(&reads(&["spec.grpc"])),
                        );
                        o.derived(
                            object,
                            &format!("{at}.backendRefs"),
                            "the app's Service and the number of its routed port",
                            &strs(&reads(&["spec.app", "spec.grpc"])),
                        );
                        o.derived(
                            object,
                            &format!("{at}.filters"),
                            "the <app>-vpn Middleware for a vpn route",
                            &strs(&reads(&["spec.app", &format!("{entry}.vpn")])),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    origins
}

/// The HTTPS route entries at `at`, one per route in priority order.
fn https_routes(
    o: &mut Origins,
    object: &Value,
    at: &str,
    routes: &[ParsedRoute],
    reads: &dyn Fn(&[&str]) -> Vec<String>,
) {
    for (entry, own) in entries(o, object, at, routes, &reads(&[])) {
        o.derived(
            object,
            &format!("{entry}.match"),
            "the domains' hosts and the route's match, minus the vpn routes' requests for a public route",
            &strs(&reads(&["spec.domains"])),
        );
        o.derived(
            object,
            &format!("{entry}.priority"),
            "vpn above public, then the more specific path, then the spec's order",
            &strs(&reads(&[])),
        );
        o.derived(
            object,
            &format!("{entry}.middlewares"),
            "the VPN Middleware (the config's, or <app>-vpn with vpnSourceRanges) for a vpn route",
            &strs(&reads(&["spec.app", &format!("{own}.vpn")])),
        );
        service(o, object, &format!("{entry}.services"));
    }
}

/// The list at `at` of one entry per route in priority order (its records
/// read `order`, which decides which route an entry is): each entry's path and
/// its route's path in the spec.
fn entries(
    o: &mut Origins,
    object: &Value,
    at: &str,
    routes: &[ParsedRoute],
    order: &[String],
) -> Vec<(String, String)> {
    o.derived(
        object,
        at,
        "one entry per route, in priority order",
        &strs(order),
    );
    routes
        .iter()
        .enumerate()
        .map(|(k, route)| {
            (
                format!("{at}[{k}]"),
                format!("spec.routes[{}]", route.index),
            )
        })
        .collect()
}

/// A route's Service: the app's, on its grpc (h2c) or http port.
fn service(o: &mut Origins, object: &Value, at: &str) {
    o.derived(
        object,
        at,
        "the app's Service on port grpc (scheme h2c), else http",
        &["spec.app", "spec.grpc"],
    );
}

fn strs(fields: &[String]) -> Vec<&str> {
    fields.iter().map(String::as_str).collect()
}
