#!/usr/bin/env python3
"""Reads what our YAML writer wrote for every yaml-test-suite in.json value (the
JSON-lines file of `cargo run --example yaml_suite`) back with PyYAML (YAML 1.1,
what Kubernetes-era tools and Python read) and ruamel.yaml (YAML 1.2); each must
give the JSON value exactly (ints stay ints, floats floats, strings strings)."""
import json
import sys

import yaml
from ruamel.yaml import YAML


def typed(v):
    # bool is an int subclass in Python: compare with the type so 1 != True.
    if isinstance(v, dict):
        return {k: typed(x) for k, x in v.items()}
    if isinstance(v, list):
        return [typed(x) for x in v]
    return (type(v).__name__, v)


def main(path):
    ruamel = YAML(typ="safe", pure=True)
    passed = failed = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            want = typed(json.loads(case["json"]))
            for name, load in (("PyYAML", yaml.safe_load), ("ruamel.yaml", ruamel.load)):
                try:
                    got = typed(load(case["yaml"]))
                except Exception as e:  # noqa: BLE001 - any failure to read is a failure
                    got = f"error: {e}"
                if got == want:
                    passed += 1
                else:
                    failed += 1
                    print(f"{case['id']}: {name} reads {got!r}, expected {want!r}\n{case['yaml']}")
    print(f"yaml-writer-roundtrip: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
