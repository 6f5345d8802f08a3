#!/usr/bin/env python3
"""The generated NetworkPolicies, judged by a model of the Kubernetes NetworkPolicy
API over a matrix of flows.

Seeded random packages of several apps (routed over http or grpc or not at all,
scraped by Prometheus or not, with a pgbouncer and a migration job or not) are
rendered by the real `lummo eval workload networking pubsub pgbouncer`; the pods
of the output (Rollouts, Deployments, Jobs: their labels and named container
ports), the platform's pods (the ingress controller, Prometheus, kube-dns, a pod
of another namespace) and addresses outside the cluster (the database, another
host) make a world. Every flow (source, destination, port, protocol) between them
is judged twice: by the model of the NetworkPolicies the package generated, and
by the intent stated independently below (`intended`). Every intended flow must
be allowed and every other denied.

The model follows the NetworkPolicy API's semantics as documented in
https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the
API reference (networking.k8s.io/v1 NetworkPolicySpec, NetworkPolicyPeer,
NetworkPolicyPort):
- a pod is isolated for ingress (egress) only if some NetworkPolicy of its
  namespace selects it and has Ingress (Egress) in its policyTypes; a
  non-isolated direction allows everything. policyTypes defaults to [Ingress],
  plus Egress when the policy has egress rules;
- an isolated direction allows a connection when some rule of some selecting
  policy allows it (policies are additive, no order); a connection needs both
  the source's egress and the destination's ingress;
- an empty podSelector selects every pod of the policy's namespace;
- a rule without `from`/`to` matches every peer, without `ports` every port;
- a peer with podSelector alone selects pods of the policy's namespace; with
  namespaceSelector alone every pod of the matching namespaces; both in one peer
  (one list element) pods matching the podSelector in namespaces matching the
  namespaceSelector (AND), while two elements are OR;
- ipBlock selects addresses in `cidr` but not in any `except`;
- a port's protocol defaults to TCP; a named port is resolved against the
  destination pod's container ports (name and protocol); `endPort` makes a range;
- namespaces carry `kubernetes.io/metadata.name: <name>` (set by the API server).
A negative control renders the same packages and drops the policies: the matrix
must then find wrong verdicts.

Usage: netpol_model.py LUMMO [--seed N] [--cases N]
Prints `netpol-model: N passed, M failed` (N, M: flows).
"""

import ipaddress
import random
import subprocess
import sys

import yaml

NAMESPACE_LABEL = "kubernetes.io/metadata.name"


# --- the model of the NetworkPolicy API -------------------------------------

def selects(selector, labels):
    """A LabelSelector (None selects nothing; {} everything)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def policy_types(policy):
    spec = policy["spec"]
    if "policyTypes" in spec:
        return spec["policyTypes"]
    return ["Ingress"] + (["Egress"] if "egress" in spec else [])


def peer_matches(peer, policy_namespace, other, namespaces):
    """Does one NetworkPolicyPeer select `other` (a pod or an address)?"""
    if "ipBlock" in peer:
        if other["kind"] != "address":
            return False  # pod addresses are implementation-defined; not relied on
        address = ipaddress.ip_address(other["ip"])
        block = peer["ipBlock"]
        if address not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(address in ipaddress.ip_network(e) for e in block.get("except") or [])
    if other["kind"] != "pod":
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], namespaces[other["namespace"]]):
            return False
    elif other["namespace"] != policy_namespace:
        return False
    if "podSelector" in peer:
        return selects(peer["podSelector"], other["labels"])
    return True


def port_matches(port, destination, number, protocol):
    if port.get("protocol", "TCP") != protocol:
        return False
    if "port" not in port:
        return True
    value = port["port"]
    if isinstance(value, str) and not value.isdigit():
        if destination["kind"] != "pod":
            return False
        named = [p for p in destination["ports"] if p.get("name") == value and p.get("protocol", "TCP") == protocol]
        return any(p["containerPort"] == number for p in named)
    low = int(value)
    high = port.get("endPort", low)
    return low <= number <= high


def rule_allows(rule, peers_key, policy_namespace, other, destination, number, protocol, namespaces):
    peers = rule.get(peers_key)
    if peers and not any(peer_matches(p, policy_namespace, other, namespaces) for p in peers):
        return False
    ports = rule.get("ports")
    return not ports or any(port_matches(p, destination, number, protocol) for p in ports)


def direction_allows(policies, direction, pod, other, destination, number, protocol, namespaces):
    """`pod`'s side of a connection: its ingress (other = source) or egress (other = destination)."""
    if pod["kind"] != "pod":
        return True  # an address outside the cluster enforces nothing here
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = [
        p for p in policies
        if p["metadata"].get("namespace", "default") == pod["namespace"]
        and selects(p["spec"].get("podSelector", {}), pod["labels"])
        and direction in policy_types(p)
    ]
    if not selecting:
        return True
    return any(
        rule_allows(rule, peers_key, p["metadata"].get("namespace", "default"), other, destination, number, protocol, namespaces)
        for p in selecting for rule in p["spec"].get(key) or []
    )


def allowed(policies, source, destination, number, protocol, namespaces):
    return (direction_allows(policies, "Egress", source, destination, destination, number, protocol, namespaces)
            and direction_allows(policies, "Ingress", destination, source, destination, number, protocol, namespaces))


# --- random packages, rendered by the real lummo ------------------------------

def package(rng, case):
    namespace = f"shop-{case}"
    ingress_ns = rng.choice(["traefik", "ingress", "edge"])
    prometheus_ns = rng.choice(["monitoring", "prometheus", "observability"])
    # A quarter of the packages leave the database's address out: pgbouncer's
    # egress is then not restricted.
    cidr = rng.choice(["10.20.0.0/24", "10.30.4.0/22", "172.16.8.0/28", None])
    db_port = rng.choice([5432, 5433, 6543])
    apps = []
    database_config = {"databaseCidrs": [cidr], "databasePort": db_port} if cidr else {}
    docs = [
        {"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoWorkloadConfig", "metadata": {"name": "w"},
         "spec": {"prometheusNamespace": prometheus_ns}},
        {"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoNetworkingConfig", "metadata": {"name": "n"},
         "spec": {"ingressNamespace": ingress_ns, "vpnSourceRanges": ["10.8.0.0/16"]}},
        {"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoPgBouncerConfig", "metadata": {"name": "p"},
         "spec": database_config},
    ]
    for i in range(rng.randint(1, 4)):
        app = f"app{i}-{rng.choice(['api', 'worker', 'web'])}"
        grpc = rng.random() < 0.3
        routed = rng.random() < 0.6
        metrics = rng.random() < 0.6
        database = rng.random() < 0.5
        ports = [{"name": "grpc" if grpc else "http", "port": rng.choice([8080, 8000, 9000])}]
        spec = {"app": app, "containers": {"image": f"{app}:1.0.0", "ports": ports,
                                           "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}}
        if metrics:
            spec["monitoring"] = {"prometheus": {"endpoint": "/metrics"}}
        docs.append({"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoDeployment",
                     "metadata": {"name": app, "namespace": namespace}, "spec": spec})
        if routed:
            docs.append({"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoNetworking",
                         "metadata": {"name": app, "namespace": namespace},
                         "spec": {"app": app, "grpc": grpc, "domains": [f"{app}.example.com"],
                                  "routes": [{"match": "PathPrefix(`/`)"}]}})
        if database:
            docs.append({"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoPgBouncer",
                         "metadata": {"name": f"{app}-pgbouncer", "namespace": namespace},
                         "spec": {"app": app, "connectionSecret": f"{app}-db-creds"}})
            docs.append({"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoJob",
                         "metadata": {"name": f"{app}-migrate", "namespace": namespace},
                         "spec": {"app": app, "migration": True,
                                  "containers": {"image": f"{app}:1.0.0", "command": ["migrate"],
                                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}}})
        apps.append({"app": app, "grpc": grpc, "routed": routed, "metrics": metrics, "database": database})
    settings = {"namespace": namespace, "ingress_ns": ingress_ns, "prometheus_ns": prometheus_ns,
                "cidr": cidr, "db_port": db_port}
    return docs, apps, settings


def render(lummo, docs):
    stream = yaml.safe_dump_all(docs, sort_keys=False)
    done = subprocess.run([lummo, "eval", "workload", "networking", "pgbouncer", "--manifests"],
                          input=stream, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise SystemExit(f"netpol-model: lummo failed:\n{done.stderr}\n--- input\n{stream}")
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def pod_template(obj):
    kind = obj["kind"]
    if kind in ("Rollout", "Deployment", "Job"):
        return obj["spec"]["template"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    return None


def world(objects, settings):
    """The pods of the output plus the platform's, and addresses outside."""
    namespace = settings["namespace"]
    namespaces = {n: {NAMESPACE_LABEL: n} for n in
                  [namespace, settings["ingress_ns"], settings["prometheus_ns"], "kube-system", "default"]}
    endpoints = []
    for obj in objects:
        template = pod_template(obj)
        if template is None:
            continue
        ports = [p for c in template["spec"]["containers"] for p in c.get("ports") or []]
        endpoints.append({"kind": "pod", "name": f"{obj['kind']}/{obj['metadata']['name']}",
                          "namespace": obj["metadata"].get("namespace", namespace),
                          "labels": template["metadata"]["labels"], "ports": ports, "owner": obj})
    platform = [
        ("ingress-controller", settings["ingress_ns"], {"app.kubernetes.io/name": "traefik"}, [{"name": "websecure", "containerPort": 8443}]),
        ("prometheus", settings["prometheus_ns"], {"app.kubernetes.io/name": "prometheus"}, [{"name": "web", "containerPort": 9090}]),
        ("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, [{"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"name": "dns-tcp", "containerPort": 53}]),
        ("stranger", "default", {"app.kubernetes.io/name": "stranger"}, [{"name": "http", "containerPort": 8080}]),
        # A pod of the app's namespace that is none of its apps.
        ("neighbour", namespace, {"app.kubernetes.io/name": "neighbour"}, [{"name": "http", "containerPort": 8080}]),
    ]
    for name, ns, labels, ports in platform:
        endpoints.append({"kind": "pod", "name": name, "namespace": ns, "labels": labels, "ports": ports, "owner": None})
    inside = ipaddress.ip_network(settings["cidr"] or "10.99.0.0/24")
    endpoints.append({"kind": "address", "name": "database", "ip": str(inside.network_address + 2), "ports": []})
    endpoints.append({"kind": "address", "name": "internet", "ip": "203.0.113.7", "ports": []})
    return endpoints, namespaces


def role(endpoint, apps):
    """(what, app) of an endpoint, by what generated it."""
    owner = endpoint.get("owner")
    if owner is None:
        return endpoint["name"], None
    annotation = owner["metadata"].get("annotations", {}).get("lummo.dev/generated-by", "")
    spec = annotation.split(":", 1)[1] if ":" in annotation else ""
    kind, _, name = spec.partition("/")
    name = name.split("/")[-1]
    if kind == "LummoPgBouncer":
        return "pgbouncer", next(a for a in apps if f"{a['app']}-pgbouncer" == name)
    if kind == "LummoJob":
        return "job", next(a for a in apps if f"{a['app']}-migrate" == name)
    return "app", next(a for a in apps if a["app"] == name)


def intended(source, destination, number, protocol, apps, settings):
    """The flows the platform means to allow, stated from the specs alone."""
    source_role, source_app = role(source, apps)
    destination_role, destination_app = role(destination, apps)
    if destination_role == "app":
        app = destination_app
        port_names = {p.get("name"): p["containerPort"] for p in destination["ports"] if p.get("protocol", "TCP") == protocol}
        if source_role == "ingress-controller" and app["routed"]:
            return number == port_names.get("grpc" if app["grpc"] else "http")
        if source_role == "prometheus" and app["metrics"]:
            return number == port_names.get("metrics")
        return False
    if destination_role == "pgbouncer":
        return (source_role in ("app", "job") and source_app is destination_app
                and protocol == "TCP" and number == 6432)
    # A migration job's pods serve nothing and no policy selects them.
    if source_role == "pgbouncer" and settings["cidr"]:
        if number == 53 and protocol in ("UDP", "TCP"):
            return True  # DNS, wherever the resolver is (kube-dns, NodeLocal DNSCache)
        return (destination["kind"] == "address"
                and ipaddress.ip_address(destination["ip"]) in ipaddress.ip_network(settings["cidr"])
                and protocol == "TCP" and number == settings["db_port"])
    return True  # neither side is one the package restricts


def candidate_ports(destination, settings):
    ports = {(p["containerPort"], p.get("protocol", "TCP")) for p in destination["ports"]}
    ports |= {(53, "UDP"), (53, "TCP"), (settings["db_port"], "TCP"), (6432, "TCP"), (9090, "TCP"), (443, "TCP"), (5432, "TCP")}
    return sorted(ports)


def judge(objects, apps, settings, policies):
    endpoints, namespaces = world(objects, settings)
    passed, failures = 0, []
    for source in endpoints:
        if source["kind"] != "pod":
            continue
        for destination in endpoints:
            if destination is source:
                continue
            for number, protocol in candidate_ports(destination, settings):
                verdict = allowed(policies, source, destination, number, protocol, namespaces)
                want = intended(source, destination, number, protocol, apps, settings)
                if verdict == want:
                    passed += 1
                else:
                    failures.append(f"{source['namespace']}/{source['name']} -> {destination.get('namespace', '')}/{destination['name']}:{number}/{protocol}: model {'allows' if verdict else 'denies'}, intended {'allowed' if want else 'denied'}")
    return passed, failures


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    lummo = args[0]
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
    cases = int(args[args.index("--cases") + 1]) if "--cases" in args else 30
    rng = random.Random(seed)
    passed, failed, control_failures = 0, 0, 0
    for case in range(cases):
        docs, apps, settings = package(rng, case)
        objects = render(lummo, docs)
        policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
        ok, failures = judge(objects, apps, settings, policies)
        passed += ok
        failed += len(failures)
        for failure in failures[:5]:
            print(f"FAIL seed {seed} case {case}: {failure}")
        # Negative control: without the policies the matrix must find wrong verdicts.
        _, without = judge(objects, apps, settings, [])
        control_failures += bool(without)
    if control_failures != cases:
        print(f"FAIL negative control: only {control_failures} of {cases} packages without their policies were caught")
        failed += 1
    print(f"netpol-model: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
