#!/usr/bin/env python3
"""Renders interrupted at random moments: nothing half-written, nothing left behind.

A monorepo of PACKAGES copies of Kptfile.examples/workload (each with an edited spec,
so every render rewrites its generated files) is rendered in place by `lummo render`
and killed after a random delay, seeded and reproducible, with SIGINT, SIGTERM or
SIGKILL. After each kill:
- every file holds either its text before the render or its text after an
  uninterrupted render (a reference copy), byte for byte, and no other file exists
  except, after SIGKILL only, `.NAME.lummo-tmp` temporaries;
- after SIGINT/SIGTERM no temporary file is left;
- after SIGKILL, `lummo render --check` fails and names every leftover, and the next
  `lummo render` removes them and leaves exactly the reference tree.
Prints `render-interrupts: N passed, M failed`.

Usage: render_interrupts.py LUMMO [--trials N] [--seed S] [--packages P]
"""
import argparse, os, random, shutil, signal, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "Kptfile.examples", "workload")


def snapshot(root):
    """Every file under root (relative path -> bytes)."""
    files = {}
    for base, _, names in os.walk(root):
        for name in names:
            path = os.path.join(base, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, root)] = f.read()
    return files


def make_monorepo(root, packages):
    os.makedirs(root)
    with open(os.path.join(root, "Kptfile"), "w") as f:
        f.write("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: mono\n")
    for i in range(packages):
        pkg = os.path.join(root, f"app-{i:03d}")
        shutil.copytree(EXAMPLE, pkg)
        spec = os.path.join(pkg, "foobar-api.yaml")
        with open(spec) as f:
            text = f.read()
        # A new image: every generated Rollout changes.
        with open(spec, "w") as f:
            f.write(text.replace("image: foobar:1.4.2", f"image: foobar:1.4.{3 + i}"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("lummo")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--packages", type=int, default=60)
    args = parser.parse_args()
    lummo = os.path.abspath(args.lummo)
    work = tempfile.mkdtemp(prefix="render-interrupts-")
    passed = failed = 0
    try:
        pristine = os.path.join(work, "pristine")
        make_monorepo(pristine, args.packages)
        before = snapshot(pristine)
        reference = os.path.join(work, "reference")
        shutil.copytree(pristine, reference, symlinks=True)
        start = time.monotonic()
        subprocess.run([lummo, "render", reference], check=True, capture_output=True)
        full = time.monotonic() - start
        after = snapshot(reference)
        assert before != after, "the reference render changed nothing"
        rng = random.Random(args.seed)
        for trial in range(args.trials):
            sig = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
            delay = rng.uniform(0, full * 1.2)
            tree = os.path.join(work, f"t{trial}")
            shutil.copytree(pristine, tree, symlinks=True)
            proc = subprocess.Popen([lummo, "render", tree], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            time.sleep(delay)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
            problems = []
            now = snapshot(tree)
            leftovers = sorted(p for p in now if os.path.basename(p).endswith(".lummo-tmp"))
            for path, data in now.items():
                if path in leftovers:
                    continue
                if data != before.get(path) and data != after.get(path):
                    problems.append(f"{path}: neither its old nor its new text")
            for path in set(before) | set(after):
                if path not in now and path in before and path in after:
                    problems.append(f"{path}: missing")
            if leftovers and sig != signal.SIGKILL and proc.returncode != 0:
                problems.append(f"{len(leftovers)} temporary file(s) left after {sig.name}: {leftovers[:3]}")
            if leftovers:
                check = subprocess.run([lummo, "render", tree, "--check"], capture_output=True, text=True)
                if check.returncode == 0:
                    problems.append("--check says current with leftovers present")
                elif not all(l in check.stderr for l in leftovers):
                    problems.append(f"--check does not name every leftover: {check.stderr[-300:]}")
            again = subprocess.run([lummo, "render", tree], capture_output=True, text=True)
            if again.returncode != 0:
                problems.append(f"the next render failed: {again.stderr[-300:]}")
            elif snapshot(tree) != after:
                diff = sorted(set(snapshot(tree).items()) ^ set(after.items()))
                problems.append(f"the next render did not give the reference tree: {[p for p, _ in diff][:3]}")
            name = f"trial {trial} ({sig.name} after {delay * 1000:.0f} ms, exit {proc.returncode}, {len(leftovers)} leftover(s))"
            if problems:
                failed += 1
                print(f"FAIL {name}")
                for p in problems:
                    print(f"  {p}")
            else:
                passed += 1
                print(f"ok   {name}")
            shutil.rmtree(tree)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"render-interrupts: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
