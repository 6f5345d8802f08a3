#!/usr/bin/env python3
"""`lummo render` in place, `-o stdout` and `-o unwrap` against the real kpt, byte for byte.

For every package of Kptfile.examples/ and of crates/lummo-cli/tests/output/, a
small package of mixed catalog steps
(scripts/bench_mixed.py's `make_package`, 40 resources) and a small package of the
catalog's v0.1 releases (which restyle what they touch), `kpt fn render
--allow-exec PKG -o stdout` (and `-o unwrap`) with every step an exec binary is
compared with `lummo render PKG -o stdout` (`-o unwrap`) with the steps as images,
once each `exec:` line of kpt's output is mapped back to its `image:` line; in
place, the files both write (Kptfiles aside) must be the same.
Steps: Lummo functions run as our binaries; catalog functions as our kpt-catalog
binary, v0.1 releases of set-namespace/set-labels/set-annotations wrapped in
scripts/json-roundtrip-fn.py (the JSON round trip those releases make).
Fails when kpt is missing: it never skips. Prints `kpt output parity: N passed, M failed`.

Usage: kpt-output-parity.py [BIN_DIR]
"""
import difflib, os, re, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BIN_DIR", "target/x86_64-unknown-linux-gnu/release"))
os.environ["BIN_DIR"] = BIN
import bench_mixed  # noqa: E402  (its make_package, at BIN)

ROUNDTRIP = os.path.join(ROOT, "scripts", "json-roundtrip-fn.py")
IMAGE = re.compile(r"^(\s*-?\s*)image: (\S+)\s*$")
from catalog_restyles import RESTYLING  # noqa: E402  (kpt_catalog::restyles)

# A package whose objects carry what the writers must get right: head comments of
# documents and keys, quoted and flow-style values, a Config Connector object
# (kpt's attribution), an annotation kpt's reader also sets, a wide sequence.
V0_1_RESOURCES = """# The document's head comment.

# The first key's head comment.
apiVersion: v1
kind: ConfigMap
metadata:
  name: styled
  annotations:
    quoted: 'yes'
data:
  flow: {a: 1, b: [x, y]}
  number: "0123" # a line comment
---
apiVersion: pubsub.cnrm.cloud.google.com/v1beta1
kind: PubSubTopic
metadata:
  name: topic
spec:
  resourceID: topic
  # JSON keeps data, not spelling: these come back `true` and `null`.
  enabled: True
  nothing: ~
"""
# A wide-sequence document in a file of its own.
V0_1_DEPLOYMENT = """# Only a key comment.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
        - name: app
          image: "nginx:1.2.3"
"""
V0_1_KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: restyled
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/set-labels:v0.2.0
      configMap:
        tier: backend
    - image: gcr.io/kpt-fn/set-namespace:v0.1.3
      configMap:
        namespace: staging
    - image: gcr.io/kpt-fn/set-annotations:v0.1.4
      configMap:
        team: shop
"""


def exec_of(image):
    """The exec step that runs `image` here, and the text kpt prints for it."""
    m = re.match(r"^ghcr\.io/lummo/krm-functions/(lummo-[a-z]+):v[0-9.]+$", image)
    if m:
        return os.path.join(BIN, m.group(1))
    catalog = os.path.join(BIN, "kpt-catalog")
    if RESTYLING.match(image):
        return f"{ROUNDTRIP} {catalog} {image}"
    return f"{catalog} {image}"


def packages(work):
    for name in sorted(os.listdir("Kptfile.examples")):
        path = os.path.join("Kptfile.examples", name)
        if os.path.exists(os.path.join(path, "Kptfile")):
            yield name, path
    # The golden cases of crates/lummo-cli/tests/output (their stdout and unwrap
    # are kpt's; here their files written in place are checked too).
    goldens = os.path.join("crates", "lummo-cli", "tests", "output")
    for name in sorted(os.listdir(goldens)):
        path = os.path.join(goldens, name, "package")
        if os.path.exists(os.path.join(path, "Kptfile")):
            yield f"golden-{name}", path
    mixed = os.path.join(work, "src-mixed")
    bench_mixed.RESOURCES = 40
    bench_mixed.make_package(mixed, "lummo")
    yield "mixed-catalog", mixed
    restyled = os.path.join(work, "src-restyled")
    os.makedirs(restyled)
    open(os.path.join(restyled, "Kptfile"), "w").write(V0_1_KPTFILE)
    open(os.path.join(restyled, "resources.yaml"), "w").write(V0_1_RESOURCES)
    open(os.path.join(restyled, "deployment.yaml"), "w").write(V0_1_DEPLOYMENT)
    yield "catalog-v0.1", restyled


def exec_copy(src, dst):
    """`src` with every image step an exec step; {exec text: image}."""
    shutil.copytree(src, dst)
    mapping = {}
    for folder, _, names in os.walk(dst):
        if "Kptfile" not in names:
            continue
        path = os.path.join(folder, "Kptfile")
        lines = []
        for line in open(path).read().split("\n"):
            m = IMAGE.match(line)
            if m:
                command = exec_of(m.group(2))
                mapping[command] = m.group(2)
                line = f'{m.group(1)}exec: "{command}"' if " " in command else f"{m.group(1)}exec: {command}"
            lines.append(line)
        open(path, "w").write("\n".join(lines))
    return mapping


def mapped(text, mapping):
    """kpt's output with each exec step written back as its image."""
    for command, image in mapping.items():
        for form in (f'"{command}"', command):
            text = text.replace(f"exec: {form}\n", f"image: {image}\n")
    return text


def main():
    if shutil.which("kpt") is None:
        sys.exit("kpt-output-parity: kpt is not installed (needed, not optional)")
    lummo = os.path.join(BIN, "lummo")
    passed = failed = 0
    with tempfile.TemporaryDirectory() as work:
        for name, src in packages(work):
            for mode in ("stdout", "unwrap", "in place"):
                k, l = os.path.join(work, f"{name}-{mode}-kpt"), os.path.join(work, f"{name}-{mode}-lummo")
                mapping = exec_copy(src, k)
                shutil.copytree(src, l)
                output = [] if mode == "in place" else ["-o", mode]
                kpt = subprocess.run(["kpt", "fn", "render", "--allow-exec", k, *output], capture_output=True, text=True)
                ours = subprocess.run([lummo, "render", l, *output], capture_output=True, text=True)
                problem = None
                if kpt.returncode != 0:
                    problem = f"kpt failed:\n{kpt.stderr[-2000:]}"
                elif ours.returncode != 0:
                    problem = f"lummo render failed:\n{ours.stderr[-2000:]}"
                elif mode == "in place":
                    # The files written, Kptfiles aside (their steps differ); Config
                    # Connector objects carry kpt's attribution under both.
                    diff = subprocess.run(["diff", "-r", "-x", "Kptfile", k, l], capture_output=True, text=True)
                    problem = diff.stdout[-4000:] if diff.returncode else None
                else:
                    expected = mapped(kpt.stdout, mapping)
                    if ours.stdout != expected:
                        diff = difflib.unified_diff(expected.splitlines(True), ours.stdout.splitlines(True), "kpt", "lummo", n=2)
                        problem = "".join(list(diff)[:80])
                shown = "in place" if mode == "in place" else f"-o {mode}"
                if problem:
                    failed += 1
                    print(f"FAIL {name} {shown}\n{problem}")
                else:
                    passed += 1
                    print(f"ok   {name} {shown}")
    print(f"kpt output parity: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
