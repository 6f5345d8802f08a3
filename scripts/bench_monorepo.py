#!/usr/bin/env python3
"""Monorepo benchmark: N copies of Kptfile.examples/tokko-api as subpackages of one
package (each in its own namespace), rendered by `lummo render` (in-process), by
`kpt fn render` with exec steps and with images, and the same rendered manifests
through `kubectl kustomize`. Prints a Markdown table; not a test. BENCH_QUICK=1
uses 5 copies."""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

BIN = os.path.abspath(os.environ.get("BIN_DIR", "target/x86_64-unknown-linux-gnu/release"))
QUICK = os.environ.get("BENCH_QUICK") == "1"
COPIES = 5 if QUICK else int(os.environ.get("BENCH_COPIES", "200"))
IMAGE_COPIES = min(COPIES, 10)
VERSION = re.search(r'^version = "(.*)"', open("Cargo.toml").read(), re.M).group(1)


def make_monorepo(root, copies, mode):
    """mode: "lummo" (images in Kptfiles, as committed), "exec" or "images"."""
    os.makedirs(root)
    with open(os.path.join(root, "Kptfile"), "w") as f:
        f.write("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: monorepo\n  annotations:\n"
                "    config.kubernetes.io/local-config: \"true\"\n")
    for i in range(copies):
        pkg = os.path.join(root, f"app-{i:03d}")
        shutil.copytree("Kptfile.examples/tokko-api", pkg, ignore=shutil.ignore_patterns("generated"))
        for name in os.listdir(pkg):
            path = os.path.join(pkg, name)
            text = open(path).read()
            if name == "Kptfile":
                text = text.replace("name: tokko-api", f"name: app-{i:03d}")
                if mode == "exec":
                    text = re.sub(r"image: ghcr.io/lummo/krm-functions/(lummo-[a-z]+):v[0-9.]+",
                                  lambda m: "exec: " + os.path.join(BIN, m.group(1)), text)
            else:
                text = text.replace("metadata:\n  name:", f"metadata:\n  namespace: app-{i:03d}\n  name:")
            open(path, "w").write(text)


def timed(args, cwd=None):
    """Wall seconds and peak RSS (MiB) of one run, after flushing the files the
    setup just wrote (their write-back would otherwise land in the measurement)."""
    os.sync()
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *args], cwd=cwd,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"bench: {' '.join(args)} failed:\n{result.stderr.decode()[-2000:]}")
        return wall, int(report.read().split()[-1]) / 1024, result.stdout


def main():
    work = tempfile.mkdtemp()
    lummo = os.path.join(BIN, "lummo")
    rows = []

    # Every run renders a fresh copy in a new folder, and nothing is deleted before the
    # end: ext4 slows down creating files right after deleting thousands of them.
    lummo_walls = []
    for run in range(3):
        make_monorepo(os.path.join(work, f"lummo-{run}"), COPIES, "lummo")
        wall, peak, _ = timed([lummo, "render", os.path.join(work, f"lummo-{run}")])
        lummo_walls.append((wall, peak))
    lummo_wall = statistics.median(w for w, _ in lummo_walls)
    rows.append((f"lummo render, {COPIES} packages", lummo_wall, max(p for _, p in lummo_walls)))
    # The floor: copying the rendered tree, the same files lummo writes (the goal
    # is lummo render within 2x of it).
    wall, peak, _ = timed(["cp", "-r", os.path.join(work, "lummo-0"), os.path.join(work, "copy-dst")])
    rows.append((f"cp -r of the rendered tree (floor), {COPIES} packages", wall, peak))

    make_monorepo(os.path.join(work, "exec"), COPIES, "exec")
    wall, peak, _ = timed(["kpt", "fn", "render", "--allow-exec", os.path.join(work, "exec")])
    rows.append((f"kpt fn render, exec, {COPIES} packages", wall, peak))
    identical = subprocess.run(["diff", "-r", "-q", "-x", "Kptfile", os.path.join(work, "lummo-0"), os.path.join(work, "exec")],
                               stdout=subprocess.DEVNULL).returncode == 0

    have_images = shutil.which("docker") and subprocess.run(
        ["docker", "image", "inspect", f"ghcr.io/lummo/krm-functions/lummo-workload:v{VERSION}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    if have_images:
        make_monorepo(os.path.join(work, "images"), IMAGE_COPIES, "images")
        wall, peak, _ = timed(["kpt", "fn", "render", "--image-pull-policy", "never", os.path.join(work, "images")])
        rows.append((f"kpt fn render, images, {IMAGE_COPIES} packages (×{COPIES / IMAGE_COPIES:.0f} = {wall * COPIES / IMAGE_COPIES:.0f} s for {COPIES})",
                     wall * COPIES / IMAGE_COPIES, peak))

    make_monorepo(os.path.join(work, "stdout"), COPIES, "lummo")
    wall, peak, manifests = timed([lummo, "render", os.path.join(work, "stdout"), "--manifests"])
    rows.append((f"lummo render --manifests (ArgoCD), {COPIES} packages", wall, peak))
    plain = os.path.join(work, "plain")
    os.makedirs(plain)
    open(os.path.join(plain, "all.yaml"), "wb").write(manifests)
    open(os.path.join(plain, "kustomization.yaml"), "w").write("resources:\n- all.yaml\n")
    walls = []
    for _ in range(1 if COPIES > 20 else 3):  # a minute a run at 200 copies
        w, p, _ = timed(["kubectl", "kustomize", plain])
        walls.append((w, p))
    count = manifests.count(b"\nkind: ") + 1
    rows.append((f"kubectl kustomize of the same {count} manifests", statistics.median(w for w, _ in walls), max(p for _, p in walls)))

    print(f"\nMonorepo: {COPIES} copies of Kptfile.examples/tokko-api as subpackages "
          f"({COPIES * 5} pipeline steps); lummo output byte-identical to kpt exec: {'yes' if identical else 'NO'}\n")
    print("| case | wall | peak RSS | kpt exec ÷ case |")
    print("|---|---:|---:|---:|")
    exec_wall = next(w for name, w, _ in rows if name.startswith("kpt fn render, exec"))
    for label, wall, peak in rows:
        print(f"| {label} | {wall * 1000:.0f} ms | {peak:.1f} MiB | {exec_wall / wall:.1f}× |")
    shutil.rmtree(work, ignore_errors=True)
    if not identical:
        sys.exit("bench: lummo render and kpt fn render disagree")


if __name__ == "__main__":
    main()
