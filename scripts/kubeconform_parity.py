#!/usr/bin/env python3
"""lummo's kubeconform (kpt-catalog, in process) against an independent
validator on the same schemas: python-jsonschema over PyPI kubernetes-validate's
Kubernetes 1.34.0 schemas (`-local-strict` with `strict`, `-local` without),
the version lummo embeds.

Corpus: every object of the project's goldens and examples, of
../shared/upstream-manifests, and of the kubeconform golden cases, plus
SEED/N mutations of them (a field given a value of another type, an unknown
field, a required field removed). For each object and each `strict`:
- the verdicts agree (no result from lummo exactly when python-jsonschema
  finds no error);
- every error python-jsonschema finds lies under a field lummo reports, and
  every field lummo reports has an error under it (kubeconform reports the
  direct causes of santhosh-tekuri's error tree, which can be a group above
  several leaves).
An object whose kind has no schema gets no result from either side (what the
catalog's kubeconform does). Formats are not compared (python-jsonschema does
not assert date-time without extra packages).

Also checks that the embedded schemas are kubernetes-validate's
(scripts/kubeconform_schemas.py --check). Missing tools fail, never skip.

Usage: kubeconform_parity.py KPT_CATALOG_BINARY [--cases N] [--seed S]
"""
import copy
import glob
import json
import os
import random
import subprocess
import sys

import jsonschema
import referencing
import referencing.jsonschema
import yaml

import kubernetes_validate

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kubeconform_schemas  # noqa: E402

VERSION = kubeconform_schemas.VERSION


def folder(strict):
    return kubeconform_schemas.source("-strict" if strict else "")


def stem(kind, api_version):
    group, _, version = api_version.rpartition("/")
    if not group:
        return f"{kind.lower()}-{api_version.split('.')[0].lower()}"
    return f"{kind.lower()}-{group.split('.')[0].lower()}-{version.lower()}"


class Python:
    """python-jsonschema with kubernetes-validate's files as a registry."""

    def __init__(self, strict):
        self.dir = folder(strict)
        definitions = json.load(open(os.path.join(self.dir, "_definitions.json")))
        resource = referencing.Resource.from_contents(definitions, default_specification=referencing.jsonschema.DRAFT202012)
        self.registry = referencing.Registry().with_resource("https://kubernetes.io/api/_definitions.json", resource)
        self.validators = {}

    def errors(self, obj):
        """Error paths ("a.b"), or None when no schema exists."""
        name = stem(obj["kind"], obj["apiVersion"])
        if name not in self.validators:
            path = os.path.join(self.dir, name + ".json")
            if not os.path.isfile(path):
                self.validators[name] = None
            else:
                schema = json.load(open(path))
                cls = jsonschema.validators.validator_for(schema)
                self.validators[name] = cls(schema, registry=self.registry)
        validator = self.validators[name]
        if validator is None:
            return None
        # An anyOf/oneOf error sits where the keyword is, as kubeconform's.
        # Compared as the results' field paths: the tokens joined by "."
        # (kubeconform's path with "/" read as ".", keys' own dots and
        # slashes included).
        return sorted({".".join(str(p) for p in e.absolute_path).replace("/", ".") for e in validator.iter_errors(obj)})


def annotated(objects):
    """The objects with the file each result must name (both sides see these)."""
    items = []
    for i, obj in enumerate(objects):
        obj = copy.deepcopy(obj)
        if obj.get("metadata") is None:
            obj["metadata"] = {}
        annotations = obj["metadata"].get("annotations") or {}
        obj["metadata"]["annotations"] = annotations
        for key in [k for k in annotations if k.endswith("config.kubernetes.io/path") or k.endswith("config.kubernetes.io/index")]:
            del annotations[key]
        annotations["config.kubernetes.io/path"] = f"obj-{i}.yaml"
        items.append(obj)
    return items


def lummo(binary, items, strict):
    """Per object index, the field paths of lummo's results ("a.b")."""
    rl = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": items,
        "functionConfig": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kc"},
                           "data": {"strict": "true" if strict else "false"}},
    }
    proc = subprocess.run([binary, "kubeconform"], input=json.dumps(rl), capture_output=True, text=True)
    out = yaml.safe_load(proc.stdout) or {}
    found = {}
    for r in out.get("results") or []:
        path = (r.get("file") or {}).get("path", "")
        if not path.startswith("obj-"):
            sys.exit(f"a result without the object's file: {r}")
        index = int(path[len("obj-"):-len(".yaml")])
        field = (r.get("field") or {}).get("path", "")
        found.setdefault(index, set()).add(field)
    if proc.returncode not in (0, 1) or (proc.returncode == 1) != bool(found):
        sys.exit(f"kpt-catalog kubeconform: exit {proc.returncode} with {len(found)} objects reported\n{proc.stderr}")
    return found


def corpus():
    paths = sorted(glob.glob("functions/*/testdata/*/expected.yaml"))
    paths += sorted(glob.glob("crates/kpt-catalog/testdata/kubeconform_latest/*/input.yaml"))
    paths += sorted(glob.glob("Kptfile.examples/**/*.yaml", recursive=True))
    paths += sorted(glob.glob("environments/*/expected.yaml"))
    shared = "../shared/upstream-manifests"
    if not os.path.isdir(shared):
        sys.exit(f"{shared} is absent: the parity corpus needs it")
    paths += sorted(glob.glob(f"{shared}/**/*.yaml", recursive=True))
    for path in paths:
        try:
            docs = list(yaml.safe_load_all(open(path)))
        except yaml.YAMLError:
            continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "ResourceList":
                docs.extend(doc.get("items") or [])
                continue
            if (isinstance(doc, dict) and isinstance(doc.get("kind"), str) and isinstance(doc.get("apiVersion"), str)
                    and isinstance(doc.get("metadata", {}), dict)
                    and isinstance(doc.get("metadata", {}).get("annotations") or {}, dict)):
                # JSON's types only (PyYAML reads a bare date as a date).
                yield json.loads(json.dumps(doc, default=str))


def mutate(obj, rng):
    """One mutation at a random place: a wrong type, an unknown field, a
    required-looking field removed."""
    obj = copy.deepcopy(obj)
    spots = []

    def walk(node, depth):
        if isinstance(node, dict):
            for k, v in node.items():
                spots.append((node, k))
                walk(v, depth + 1)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                spots.append((node, i))
                walk(v, depth + 1)

    walk(obj, 0)
    # The result's file annotation must stay writable: metadata and its
    # annotations keep their type.
    meta = obj.get("metadata")
    spots = [(n, k) for n, k in spots
             if not (n is obj and k in ("apiVersion", "kind", "metadata")) and not (n is meta and k == "annotations")]
    if not spots:
        return obj
    node, key = rng.choice(spots)
    choice = rng.randrange(3)
    if choice == 0:
        value = node[key]
        node[key] = {"x": 1} if isinstance(value, (str, int, float, bool)) or value is None else "text"
    elif choice == 1 and isinstance(node, dict):
        node["unknownField" + str(rng.randrange(100))] = "x"
    elif isinstance(node, dict):
        del node[key]
    else:
        node[key] = 12.5
    return obj


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    binary = args[0]
    cases = int(args[args.index("--cases") + 1]) if "--cases" in args else 300
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
    subprocess.run([sys.executable, os.path.join(HERE, "kubeconform_schemas.py"), "--check"], check=True)
    base = list(corpus())
    rng = random.Random(seed)
    objects = annotated(base + [mutate(rng.choice(base), rng) for _ in range(cases)])
    failures = []
    counts = {}
    for strict in (True, False):
        python = Python(strict)
        ours = lummo(binary, objects, strict)
        for i, obj in enumerate(objects):
            theirs = python.errors(obj)
            mine = sorted(ours.get(i, set()))
            label = f"object {i} ({obj['apiVersion']}/{obj['kind']} {obj.get('metadata', {}).get('name')}) strict={strict}"
            if theirs is None:
                counts["no schema"] = counts.get("no schema", 0) + 1
                if mine:
                    failures.append(f"{label}: no schema, yet lummo reports {mine}")
                continue
            counts["invalid" if theirs else "valid"] = counts.get("invalid" if theirs else "valid", 0) + 1
            if bool(theirs) != bool(mine):
                failures.append(f"{label}: python-jsonschema {theirs or 'valid'}, lummo {mine or 'valid'}")
                continue
            under = lambda leaf, top: leaf == top or leaf.startswith(top + ".") or top == ""
            lost = [t for t in theirs if not any(under(t, m) for m in mine)]
            extra = [m for m in mine if not any(under(t, m) for t in theirs)]
            if lost or extra:
                failures.append(f"{label}: python-jsonschema's errors at {lost} not under lummo's fields; lummo's {extra} have none")
    print(f"kubeconform parity: {len(objects)} objects ({len(base)} real, {cases} mutated) x strict on/off: "
          f"{counts.get('valid', 0)} valid, {counts.get('invalid', 0)} invalid, {counts.get('no schema', 0)} without a schema")
    if failures:
        print(f"{len(failures)} disagreements:")
        for f in failures[:40]:
            print("  " + f)
        sys.exit(1)
    print("lummo's kubeconform and python-jsonschema agree on every object")


if __name__ == "__main__":
    main()
