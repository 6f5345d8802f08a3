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
            "metadata": {"name": f"app-{i}", "annotations": {"config.kubernetes.io/path": f"apps/app-{i}.yaml"}},
            "spec": {"app": f"app-{i}", "part-of": "bench",
                     "containers": {"image": f"app-{i}:1.0.{i}", "command": ["./server"],
                                    "ports": [{"name": "http", "port": 8080}], "configs": [f"app-{i}"],
                                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
                     "monitoring": {"datadog": True},
                     "scaling": {"minreplica": 1, "maxreplica": 5, "cpu": {"target": 60},
                                 "pubsubTopic": [{"name": f"sub-{i}", "size": 100}]}}}


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


def resource_list(items):
    return {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}


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
    for name, items in [("10k", [configmap(i) for i in range(10000)]), ("empty", []),
                        ("1k-deployments", [deployment(i) for i in range(1000)])]:
        doc = resource_list(items)
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
    for name in ["lummo-workload"]:
        print(f"binary size of {name} (static, stripped): {os.path.getsize(os.path.join(BIN, name)) / 1e6:.2f} MB")


main()
