#!/usr/bin/env python3
"""`bench_starlark.py LUMMO REPO_ROOT [N]` (RUNS=9): a Starlark step: lummo render (in process, child process per step) against
kpt fn render running the same script through an exec function on
go.starlark.net (scripts/starlark-go-fn.py; the catalog image cannot be pulled)."""
import os, shutil, statistics, subprocess, sys, time
LUMMO = sys.argv[1]
ROOT = sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 20
base = "/tmp/slb/pkg"
shutil.rmtree(base, ignore_errors=True)
os.makedirs(base)
for side in ("lummo", "kpt"):
    d = os.path.join(base, side)
    os.makedirs(d)
    step = ("    - image: gcr.io/kpt-fn/starlark:v0.4.3\n" if side == "lummo"
            else "    - exec: python3 %s/scripts/starlark-go-fn.py\n" % ROOT)
    open(d + "/Kptfile", "w").write("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\npipeline:\n  mutators:\n" + step + "      configPath: fn.yaml\n")
    open(d + "/fn.yaml", "w").write("apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: label\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\nsource: |\n  for r in ctx.resource_list[\"items\"]:\n    if r[\"kind\"] == \"ConfigMap\":\n      r[\"metadata\"].setdefault(\"labels\", {})[\"team\"] = \"shop\"\n")
    for i in range(N):
        open(d + "/cm%d.yaml" % i, "w").write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm%d\ndata:\n  a: b\n" % i)
def run(cmd, d):
    w = d + "-run"
    shutil.rmtree(w, ignore_errors=True)
    shutil.copytree(d, w)
    t = time.monotonic()
    r = subprocess.run(cmd + [w], capture_output=True)
    dt = time.monotonic() - t
    if r.returncode:
        sys.exit("failed: %s\n%s" % (cmd, r.stderr.decode()[-800:]))
    out = {f: open(os.path.join(w, f)).read() for f in sorted(os.listdir(w)) if f.startswith("cm")}
    return dt, out
res = {"lummo": [], "kpt": []}
outs = {}
for _ in range(int(os.environ.get("RUNS", "9"))):
    for side, cmd in (("lummo", [LUMMO, "render"]), ("kpt", ["kpt", "fn", "render", "--allow-exec"])):
        dt, out = run(cmd, os.path.join(base, side))
        res[side].append(dt); outs[side] = out
print("same ConfigMaps written:", outs["lummo"] == outs["kpt"])
for side in res:
    v = sorted(res[side])
    print("%-6s median %.0f ms, min %.0f ms" % (side, statistics.median(v) * 1000, v[0] * 1000))
