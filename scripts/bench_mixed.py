#!/usr/bin/env python3
"""Mixed-pipeline benchmark (issue: mixed pipelines): a package of 1,000 resources
through set-namespace + set-labels + apply-setters + lummo-workload, rendered by
`lummo render` (every step in process) and by `kpt fn render --allow-exec` with the
same functions as exec binaries (kpt-catalog and lummo-workload). Both outputs must
be identical. Prints a Markdown table; not a test. BENCH_QUICK=1 uses 100 resources."""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

BIN = os.path.abspath(os.environ.get("BIN_DIR", "target/x86_64-unknown-linux-gnu/release"))
RESOURCES = 100 if os.environ.get("BENCH_QUICK") == "1" else 1000
VERSION = re.search(r'^version = "(.*)"', open("Cargo.toml").read(), re.M).group(1)

SPEC = """apiVersion: lummo.dev/v1alpha1
kind: LummoDeployment
metadata:
  name: app-{i}
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  part-of: shop
  app: app-{i}
  containers:
    image: shop/app-{i}:1.0.0 # kpt-set: shop/app-{i}:${{tag}}
    ports:
    - name: http
      port: 8080
    resources:
      requests: {{cpu: 100m, memory: 64Mi}}
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: config-{i}
data:
  greeting: hello # kpt-set: ${{greeting}}
"""


# (image, exec binary and its arguments, functionConfig) of each step.
STEPS = [
    ("gcr.io/kpt-fn/set-namespace:v0.4.1", "kpt-catalog gcr.io/kpt-fn/set-namespace:v0.4.1", "configMap:\n        namespace: shop\n"),
    ("gcr.io/kpt-fn/set-labels:v0.2.0", "kpt-catalog gcr.io/kpt-fn/set-labels:v0.2.0", "configMap:\n        team: shop\n"),
    ("gcr.io/kpt-fn/apply-setters:v0.2.0", "kpt-catalog gcr.io/kpt-fn/apply-setters:v0.2.0", "configMap:\n        tag: 1.2.3\n        greeting: hi\n"),
    (f"ghcr.io/lummo/krm-functions/lummo-workload:v{VERSION}", "lummo-workload", ""),
]


def exec_line(exe):
    """A step's `exec:` command: the built binary, then its arguments."""
    return os.path.join(BIN, exe)


def make_package(root, mode):
    os.makedirs(root)
    specs = RESOURCES // 20  # each spec generates a handful of objects
    for i in range(specs):
        open(os.path.join(root, f"app-{i}.yaml"), "w").write(SPEC.format(i=i))
    for i in range(RESOURCES - specs):
        open(os.path.join(root, f"config-{i}.yaml"), "w").write(CONFIGMAP.format(i=i))
    lines = ["apiVersion: kpt.dev/v1", "kind: Kptfile", "metadata:", "  name: mixed", "  annotations:",
             '    config.kubernetes.io/local-config: "true"', "pipeline:", "  mutators:"]
    for image, exe, config in STEPS:
        if mode == "exec":
            lines.append(f"    - exec: \"{exec_line(exe)}\"")
        else:
            lines.append(f"    - image: {image}")
        if config:
            lines.append("      " + config.rstrip("\n"))
    open(os.path.join(root, "Kptfile"), "w").write("\n".join(lines) + "\n")


def timed(args, stdout=None):
    """Wall seconds and peak MiB of a run; `stdout`, a list, gets what it printed."""
    os.sync()
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"bench: {' '.join(args)} failed:\n{result.stderr.decode()[-2000:]}")
        if stdout is not None:
            stdout.append(result.stdout.decode())
        return wall, int(report.read().split()[-1]) / 1024


def as_images(text):
    """kpt's `-o stdout` of the exec package, its Kptfile's steps named as in the
    image package: the one line where the two packages differ."""
    for image, exe, _ in STEPS:
        text = text.replace(f'exec: "{exec_line(exe)}"', f"image: {image}")
    return text


def replace_floor(rendered, fresh):
    """Seconds to put the rendered files into a fresh copy of the package the way a
    render must (each file written to a temporary file, then renamed over its
    target): the disk's share of any renderer's time, measured in the same run."""
    os.sync()
    start = time.perf_counter()
    for folder, _, names in os.walk(rendered):
        target = os.path.join(fresh, os.path.relpath(folder, rendered))
        os.makedirs(target, exist_ok=True)
        for name in names:
            text = open(os.path.join(folder, name), "rb").read()
            temporary = os.path.join(target, f".{name}.tmp")
            with open(temporary, "wb") as out:
                out.write(text)
            os.rename(temporary, os.path.join(target, name))
    return time.perf_counter() - start


def main():
    work = tempfile.mkdtemp()
    lummo = os.path.join(BIN, "lummo")
    runs = []
    for run in range(3):
        make_package(os.path.join(work, f"lummo-{run}"), "lummo")
        runs.append(timed([lummo, "render", os.path.join(work, f"lummo-{run}")]))
    make_package(os.path.join(work, "kpt"), "exec")
    kpt_wall, kpt_peak = timed(["kpt", "fn", "render", "--allow-exec", os.path.join(work, "kpt")])
    identical = subprocess.run(["diff", "-r", "-q", "-x", "Kptfile", os.path.join(work, "lummo-0"), os.path.join(work, "kpt")],
                               stdout=subprocess.DEVNULL).returncode == 0
    lummo_wall = statistics.median(w for w, _ in runs)
    make_package(os.path.join(work, "floor"), "lummo")
    floor = replace_floor(os.path.join(work, "lummo-0"), os.path.join(work, "floor"))
    # The same renders printed (`-o stdout`): both tools read the same 1,050 files
    # and write none, so the disk's cost of replacing files is out of the figure.
    make_package(os.path.join(work, "stdout-lummo"), "lummo")
    make_package(os.path.join(work, "stdout-kpt"), "exec")
    printed = []
    stdout_runs = [timed([lummo, "render", os.path.join(work, "stdout-lummo"), "-o", "stdout"], printed)
                   for _ in range(3)]
    kpt_stdout = []
    kpt_stdout_wall, kpt_stdout_peak = timed(
        ["kpt", "fn", "render", "--allow-exec", os.path.join(work, "stdout-kpt"), "-o", "stdout"], kpt_stdout)
    # Nothing but the Kptfile's steps may differ.
    stdout_identical = all(p == as_images(kpt_stdout[0]) for p in printed)
    lummo_stdout_wall = statistics.median(w for w, _ in stdout_runs)
    print(f"\nMixed pipeline: {RESOURCES} resources, set-namespace + set-labels + apply-setters + lummo-workload; "
          f"outputs identical: {'yes' if identical else 'NO'}\n")
    print("| case | wall | peak RSS |")
    print("|---|---:|---:|")
    print(f"| lummo render (in process) | {lummo_wall * 1000:.0f} ms | {max(p for _, p in runs):.1f} MiB |")
    print(f"| kpt fn render, exec | {kpt_wall * 1000:.0f} ms | {kpt_peak:.1f} MiB |")
    print(f"| replacing the same files, temporary file + rename (the disk's floor) | {floor * 1000:.0f} ms | |")
    print(f"| lummo render -o stdout | {lummo_stdout_wall * 1000:.0f} ms | {max(p for _, p in stdout_runs):.1f} MiB |")
    print(f"| kpt fn render -o stdout, exec | {kpt_stdout_wall * 1000:.0f} ms | {kpt_stdout_peak:.1f} MiB |")
    print(f"\nkpt exec ÷ lummo: {kpt_wall / lummo_wall:.1f}× in place; "
          f"{kpt_stdout_wall / lummo_stdout_wall:.1f}× printed (-o stdout, identical: {'yes' if stdout_identical else 'NO'})")
    shutil.rmtree(work, ignore_errors=True)
    if not identical:
        sys.exit("bench: lummo render and kpt fn render disagree")
    if not stdout_identical:
        sys.exit("bench: lummo render -o stdout and kpt fn render -o stdout disagree")


if __name__ == "__main__":
    main()
