#!/usr/bin/env python3
"""Benchmarks of BENCHMARKS.md: wall time (median of N runs) and peak RSS of whole
processes, side by side in one run. Not a test: it prints figures. BENCH_QUICK=1
runs each case 3 times instead of 15 (CI's smoke mode)."""
import json, os, statistics, subprocess, sys, tempfile, time

BIN = os.environ.get("BIN_DIR", "target/x86_64-unknown-linux-gnu/release")
EXAMPLES = os.path.join(BIN, "examples")
RUNS = 3 if os.environ.get("BENCH_QUICK") == "1" else 15


def configmap(i):
    path = f"dir{i % 50}/app-{i}.yaml"
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"app-{i}", "labels": {"app": f"app-{i}"},
                         "annotations": {"config.kubernetes.io/index": "0",
                                         "config.kubernetes.io/path": path,
                                         "internal.config.kubernetes.io/path": path}},
            "data": {"LOG_LEVEL": "info", "PORT": "8080", "ENABLED": "true", "COUNTRY": "no"}}


def deployment(i):
    return {"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoDeployment",
            "metadata": {"name": f"app-{i}", "namespace": "bench",
                         "annotations": {"config.kubernetes.io/path": f"apps/app-{i}.yaml"}},
            "spec": {"app": f"app-{i}", "part-of": "bench",
                     "containers": {"image": f"app-{i}:1.0.{i}", "command": ["./server"],
                                    "ports": [{"name": "http", "port": 8080}], "configs": [f"app-{i}"],
                                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
                     "monitoring": {"datadog": True},
                     "scaling": {"minreplica": 1, "maxreplica": 5, "cpu": {"target": 60},
                                 "pubsubTopic": [{"name": f"sub-{i}", "size": 100}]}}}


def http_route(i):
    """A Gateway API HTTPRoute: its CRD schema carries CEL rules (x-kubernetes-validations),
    patterns and defaults, so lummo-validate's schema check is measured with them."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": f"app-{i}", "annotations": {"config.kubernetes.io/path": f"routes/app-{i}.yaml"}},
            "spec": {"parentRefs": [{"name": "gateway", "namespace": "infra"}],
                     "hostnames": [f"app-{i}.example.com"],
                     "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                                "filters": [{"type": "RequestHeaderModifier",
                                             "requestHeaderModifier": {"set": [{"name": "X-App", "value": f"app-{i}"}]}}],
                                "backendRefs": [{"name": f"app-{i}", "port": 8080}]}]}}


def yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(v)  # JSON strings are valid YAML double-quoted scalars


def to_yaml(value, indent=0, lines=None):
    """kyaml's block layout, enough for these inputs."""
    lines = [] if lines is None else lines
    pad = " " * indent
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict) and v:
                lines.append(f"{pad}{k}:")
                to_yaml(v, indent + 2, lines)
            elif isinstance(v, list) and v:
                lines.append(f"{pad}{k}:")
                to_yaml(v, indent, lines)
            else:
                lines.append(f"{pad}{k}: {yaml_scalar(v) if not isinstance(v, (dict, list)) else json.dumps(v)}")
    else:
        for item in value:
            sub = to_yaml(item, indent + 2, []) if isinstance(item, (dict, list)) else [" " * (indent + 2) + yaml_scalar(item)]
            sub[0] = pad + "- " + sub[0][indent + 2:]
            lines.extend(sub)
    return lines


# lummo-workload's config: KEDA's subscription names and Workload Identity.
WORKLOAD_CONFIG = {"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoWorkloadConfig", "metadata": {"name": "bench"},
                   "spec": {"project": "bench-project",
                            "googleServiceAccount": "lummo-{app}@bench-project.iam.gserviceaccount.com"}}


def resource_list(items, config=None):
    listed = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if config:
        listed["functionConfig"] = config
    return listed


def measure(command, stdin_path):
    """Median wall time of plain runs; peak RSS from GNU time in one extra run
    (rusage of a child forked from Python would count Python's own pages)."""
    walls = []
    for _ in range(RUNS):
        with open(stdin_path, "rb") as stdin:
            start = time.perf_counter()
            result = subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            walls.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"bench: {' '.join(command)} failed")
    with open(stdin_path, "rb") as stdin, tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *command], stdin=stdin,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        peak = int(report.read().split()[-1]) / 1024
    return statistics.median(walls), min(walls), peak


def main():
    work = tempfile.mkdtemp()
    files = {}
    validate_package = ([configmap(i) for i in range(9000)] + [deployment(i) for i in range(500)]
                        + [http_route(i) for i in range(500)])
    for name, items, config in [("10k", [configmap(i) for i in range(10000)], None), ("empty", [], None),
                                ("1k-deployments", [deployment(i) for i in range(1000)], WORKLOAD_CONFIG),
                                ("validate-10k", validate_package, None)]:
        doc = resource_list(items, config)
        files[name + ".yaml"] = os.path.join(work, name + ".yaml")
        with open(files[name + ".yaml"], "w") as f:
            f.write("\n".join(to_yaml(doc)) + "\n")
        files[name + ".json"] = os.path.join(work, name + ".json")
        with open(files[name + ".json"], "w") as f:
            json.dump(doc, f)
    size = os.path.getsize(files["10k.yaml"]) / 1e6
    identity = [os.path.join(EXAMPLES, "identity")]
    floor = [os.path.join(EXAMPLES, "json_roundtrip")]
    workload = [os.path.join(BIN, "lummo-workload")]
    cases = [
        (f"serde_json round trip, 10,000 objects (JSON, floor)", floor, "10k.json"),
        (f"identity via krm-sdk, 10,000 objects (YAML, {size:.1f} MB)", identity, "10k.yaml"),
        (f"identity via krm-sdk, 10,000 objects (JSON)", identity, "10k.json"),
        ("identity via krm-sdk, empty list (start-up)", identity, "empty.yaml"),
        ("lummo-workload, 1,000 LummoDeployments (YAML)", workload, "1k-deployments.yaml"),
        ("lummo-validate, 10,000 objects with 500 LummoDeployments and 500 HTTPRoutes (CEL) (YAML)", [os.path.join(BIN, "lummo-validate")], "validate-10k.yaml"),
    ]
    print(f"runs per case: {RUNS}\n")
    print("| case | median wall | min wall | peak RSS | median vs floor |")
    print("|---|---:|---:|---:|---:|")
    floor_wall = None
    for label, command, stdin in cases:
        wall, fastest, peak = measure(command, files[stdin])
        floor_wall = floor_wall or wall
        print(f"| {label} | {wall * 1000:.1f} ms | {fastest * 1000:.1f} ms | {peak:.1f} MiB | {wall / floor_wall:.2f}× |")
    print()
    for name in sorted(os.listdir("functions")):
        print(f"- {name}: binary {os.path.getsize(os.path.join(BIN, name)) / 1e6:.2f} MB (static, stripped)")
    kpt_render_figures(work)


def kpt_render_figures(work):
    """Wall time of `kpt fn render` on the whole-app example: exec vs images."""
    import shutil, re
    if shutil.which("kpt") is None:
        print("kpt not installed: no render figures")
        return
    version = re.search(r'^version = "(.*)"', open("Cargo.toml").read(), re.M).group(1)
    images = shutil.which("docker") is not None and subprocess.run(
        ["docker", "image", "inspect", f"ghcr.io/lummo/krm-functions/lummo-workload:v{version}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    modes = ["exec"] + (["images"] if images else [])
    print(f"\n`kpt fn render` of Kptfile.examples/tokko-api (5 steps), {min(RUNS, 5)} runs:\n")
    print("| mode | median wall | min wall |")
    print("|---|---:|---:|")
    for mode in modes:
        walls = []
        for _ in range(min(RUNS, 5)):
            pkg = os.path.join(work, "tokko-api")
            shutil.rmtree(pkg, ignore_errors=True)
            shutil.copytree("Kptfile.examples/tokko-api", pkg, ignore=shutil.ignore_patterns("generated"))
            args = ["kpt", "fn", "render", pkg]
            if mode == "exec":
                kptfile = os.path.join(pkg, "Kptfile")
                text = re.sub(r"image: ghcr.io/lummo/krm-functions/(lummo-[a-z]+):v[0-9.]+",
                              lambda m: "exec: " + os.path.abspath(os.path.join(BIN, m.group(1))), open(kptfile).read())
                open(kptfile, "w").write(text)
                args.append("--allow-exec")
            else:
                args += ["--image-pull-policy", "never"]
            start = time.perf_counter()
            subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            walls.append(time.perf_counter() - start)
        print(f"| {mode} | {statistics.median(walls) * 1000:.0f} ms | {min(walls) * 1000:.0f} ms |")


main()
