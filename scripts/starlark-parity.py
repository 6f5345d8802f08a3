#!/usr/bin/env python3
"""lummo's Starlark (starlark-rust, `kpt-catalog starlark`) against go.starlark.net
(the catalog's interpreter, through scripts/starlark-go-fn.py and the PyPI binding
starlark-go) on the same ResourceLists: every Starlark function config of kpt's
e2e data and of the catalog's examples over its package's resources, the golden
inputs of crates/kpt-catalog/testdata/starlark_unstable, and N seeded random
scripts (SEED) over random objects. For each: both succeed with the same items
(compared as values), or both fail; a `fail()` message must be the same.

Usage: starlark-parity.py KPT_CATALOG_BIN [--cases N] [--seed S]
Needs starlark-go (STARLARK_GO_PATH, or installed): a missing peer fails.
Prints `starlark-parity: N agree, M differ` and exits 1 on a difference.
"""
import argparse
import glob
import os
import random
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared")
ORACLE = os.path.join(ROOT, "scripts", "starlark-go-fn.py")


class Loader(yaml.SafeLoader):
    """YAML 1.2 floats as go-yaml reads them (`1e+06` has no dot: a string to
    YAML 1.1's PyYAML)."""


Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


def kpt_annotations_as_text(items):
    """kpt reads its own annotations (path, index, id) as text whatever the
    node's tag: `index: 0` from go.starlark.net is index "0" (lummo writes "0")."""
    for item in items or []:
        annotations = (item.get("metadata") or {}).get("annotations") if isinstance(item, dict) else None
        if isinstance(annotations, dict):
            for key, value in annotations.items():
                kpt = key.startswith(("internal.config.kubernetes.io/", "internal.config.k8s.io/")) or key in (
                    "config.kubernetes.io/path", "config.kubernetes.io/index", "config.k8s.io/id")
                if kpt and isinstance(value, (int, float, bool)):
                    annotations[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return items


def run(command, text):
    proc = subprocess.run(command, input=text, capture_output=True, text=True, timeout=120)
    try:
        out = yaml.load(proc.stdout, Loader=Loader) or {}
    except yaml.YAMLError as e:
        return proc.returncode, None, f"unreadable output: {e}"
    errors = [r.get("message", "") for r in out.get("results") or [] if r.get("severity") == "error"]
    return proc.returncode, kpt_annotations_as_text(out.get("items") or []), errors[0] if errors else ""


def resource_list(items, fc):
    return yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                           "items": items, "functionConfig": fc}, sort_keys=False)


def is_starlark_config(doc):
    if not isinstance(doc, dict):
        return False
    if doc.get("kind") == "StarlarkRun":
        return True
    return doc.get("kind") == "ConfigMap" and isinstance(doc.get("data"), dict) and "source" in doc["data"]


def package_cases():
    """Every Starlark config of the shared packages, with its package's objects."""
    roots = [os.path.join(SHARED, "kpt-e2e", "fn-render"), os.path.join(SHARED, "kpt-e2e-beta67", "fn-render"),
             os.path.join(SHARED, "catalog-examples")]
    for root in roots:
        for path in sorted(glob.glob(os.path.join(root, "**", "*.yaml"), recursive=True)):
            if "/.expected/" in path:
                continue
            try:
                docs = list(yaml.safe_load_all(open(path)))
            except yaml.YAMLError:
                continue
            for fc in [d for d in docs if is_starlark_config(d)]:
                source = fc.get("source") or (fc.get("data") or {}).get("source") or ""
                if "load(" in source:
                    continue  # starlark-go-fn.py offers no `load` (the golden load-json covers it)
                folder = os.path.dirname(path)
                items = []
                for other in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
                    if other == path or os.path.basename(other) == "Kptfile":
                        continue
                    try:
                        items += [d for d in yaml.safe_load_all(open(other)) if isinstance(d, dict) and d.get("kind")]
                    except yaml.YAMLError:
                        pass
                yield os.path.relpath(path, SHARED), resource_list(items, fc)


def golden_cases():
    for path in sorted(glob.glob(os.path.join(ROOT, "crates/kpt-catalog/testdata/starlark_unstable/*/input.yaml"))):
        name = os.path.basename(os.path.dirname(path))
        # starlark-go-fn.py offers no `load`; the bounds are lummo's own.
        if name in ("load-json", "load-forbidden", "endless-loop", "unbounded-list", "deep-recursion"):
            continue
        yield "testdata/" + name, open(path).read()


WORDS = ["web", "api", "db", "cache", "Worker", "x-1", "on", "0644", "1.5", ""]


def random_value(rng, depth):
    roll = rng.random()
    if depth > 2 or roll < 0.5:
        return rng.choice([rng.randint(-5, 300), rng.choice(WORDS), rng.choice([True, False]),
                           rng.choice([0.5, 1.25, 2.0, 100.0]), None])
    if roll < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "b", "port", "name", "value", "z"]) + str(i): random_value(rng, depth + 1)
            for i in range(rng.randint(0, 3))}


def random_items(rng):
    items = []
    for i in range(rng.randint(1, 4)):
        items.append({"apiVersion": rng.choice(["v1", "apps/v1"]), "kind": rng.choice(["ConfigMap", "Deployment", "Service"]),
                      "metadata": {"name": f"{rng.choice(WORDS[:5]).lower()}-{i}", "labels": {"app": rng.choice(WORDS[:4])}},
                      "spec": {"replicas": rng.randint(0, 9), "extra": random_value(rng, 0)}})
    return items


OPS = [
    'r["metadata"]["labels"]["tier"] = "backend"',
    'r["spec"]["replicas"] = r["spec"]["replicas"] * 2 + 1',
    'r["spec"]["replicas"] = r["spec"]["replicas"] // 2',
    'r["spec"]["ratio"] = r["spec"]["replicas"] / 4',
    'r["metadata"]["name"] = r["metadata"]["name"].upper().replace("-", "_")',
    'r["spec"].pop("extra", None)',
    'r["spec"]["keys"] = sorted(r["spec"].keys())',
    'r["spec"]["text"] = "%s/%d" % (r["kind"], r["spec"]["replicas"])',
    'r["spec"]["joined"] = ",".join([str(v) for v in [r["spec"]["replicas"], r["kind"], True, None]])',
    'r["spec"]["parts"] = r["apiVersion"].split("/")',
    'r["spec"]["nested"] = {"list": [1, 2, 3][1:], "tuple": (r["kind"], 2), "neg": -r["spec"]["replicas"]}',
    'r["spec"]["count"] = len([k for k in r["metadata"]["labels"] if k != "app"])',
    'r["spec"]["has"] = "app" in r["metadata"]["labels"] and r["kind"] != "Service"',
    'r["spec"]["repr"] = repr(r["metadata"]["labels"])',
    'r["spec"]["enum"] = [i * 2 for i, _ in enumerate(r["metadata"]["name"].split("-"))]',
    'r["spec"]["float"] = str(r["spec"]["replicas"] * 0.5)',
    'r["spec"]["extra"] = str(r["spec"].get("extra"))',
]


def random_script(rng):
    lines = ["# generated", "def mutate(resources):", "  for r in resources:"]
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(OPS)
        if rng.random() < 0.3:
            lines.append(f'    if r["kind"] == "{rng.choice(["ConfigMap", "Deployment", "Service"])}":')
            lines.append("      " + op)
        else:
            lines.append("    " + op)
    lines.append('mutate(ctx.resource_list["items"])')
    roll = rng.random()
    if roll < 0.15:
        lines.append('ctx.resource_list["items"] = [r for r in ctx.resource_list["items"] if r["kind"] != "Service"]')
    elif roll < 0.3:
        lines.append('ctx.resource_list["items"].append({"apiVersion": "v1", "kind": "ConfigMap", '
                     '"metadata": {"name": "added"}, "data": {"n": str(len(ctx.resource_list["items"]))}})')
    elif roll < 0.4:
        lines.append('if len(ctx.resource_list["items"]) > 2:\n  fail("too many: %d" % len(ctx.resource_list["items"]))')
    return "\n".join(lines) + "\n"


def random_cases(n, seed):
    rng = random.Random(seed)
    for i in range(n):
        fc = {"apiVersion": "fn.kpt.dev/v1alpha1", "kind": "StarlarkRun", "metadata": {"name": f"gen-{i}"},
              "source": random_script(rng)}
        yield f"seed {seed} case {i}", resource_list(random_items(rng), fc)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin")
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    lummo = [os.path.abspath(args.bin), "starlark:v0.4.3"]
    oracle = [sys.executable, ORACLE]
    check = subprocess.run(oracle, input="", capture_output=True, text=True,
                           env=os.environ)
    if "No module named" in check.stderr:
        sys.exit("starlark-parity: the peer is missing: pip install 'starlark-go==1.0.1' (or set STARLARK_GO_PATH)")
    agree, differ = 0, []
    cases = list(package_cases()) + list(golden_cases()) + list(random_cases(args.cases, args.seed))
    for name, text in cases:
        l_rc, l_items, l_err = run(lummo, text)
        g_rc, g_items, g_err = run(oracle, text)
        problem = None
        if (l_rc == 0) != (g_rc == 0):
            problem = f"lummo exit {l_rc} ({l_err}), go.starlark.net exit {g_rc} ({g_err})"
        elif l_rc == 0 and l_items != g_items:
            problem = "items differ:\n--- go.starlark.net\n" + yaml.safe_dump(g_items) + "--- lummo\n" + yaml.safe_dump(l_items)
        elif l_rc != 0 and g_err.startswith("fail:") and l_err != g_err:
            problem = f"fail() message differs: lummo {l_err!r}, go.starlark.net {g_err!r}"
        if problem:
            differ.append((name, problem))
        else:
            agree += 1
    for name, problem in differ:
        print(f"DIFF {name}: {problem}\n")
    print(f"starlark-parity: {agree} agree, {len(differ)} differ ({len(cases)} cases)")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
