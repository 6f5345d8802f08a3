#!/usr/bin/env python3
"""Validates every Kubernetes built-in object in every golden output and example
package against the Kubernetes 1.33 OpenAPI schema (kubernetes-validate, strict:
unknown fields are errors), including the pod templates inside Argo Rollouts.
Custom resources are checked against their upstream CRDs by the Rust tests."""
import glob, sys
import yaml
import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

VERSION = "1.33.0"


def objects():
    for path in sorted(glob.glob("functions/*/testdata/*/expected.yaml")):
        document = yaml.safe_load(open(path))
        for item in (document or {}).get("items") or []:
            yield path, item
    for path in sorted(glob.glob("Kptfile.examples/**/*.yaml", recursive=True)) + sorted(glob.glob("environments/*/expected.yaml")):
        for item in yaml.safe_load_all(open(path)):
            if item:
                yield path, item


def builtin(api_version):
    if "/" not in api_version:
        return api_version == "v1"
    group = api_version.rpartition("/")[0]
    return "." not in group or (group.endswith(".k8s.io") and not group.startswith("gateway."))


def main():
    checked, errors = 0, []
    for path, item in objects():
        api_version = item.get("apiVersion", "")
        if not api_version or not item.get("kind"):
            continue  # a bad-input case's own input
        candidates = []
        if builtin(api_version) and item.get("kind") not in ("Kptfile",):
            candidates.append(item)
        if item.get("kind") == "Rollout" and "template" in item.get("spec", {}):
            candidates.append({"apiVersion": "v1", "kind": "PodTemplate",
                               "metadata": {"name": item["metadata"]["name"]}, "template": item["spec"]["template"]})
        for candidate in candidates:
            try:
                kubernetes_validate.validate(candidate, VERSION, strict=True)
                checked += 1
            except SchemaNotFoundError:
                errors.append(f"{path}: no Kubernetes {VERSION} schema for {candidate['apiVersion']} {candidate['kind']}")
            except ValidationError as error:
                errors.append(f"{path}: {candidate['kind']} {candidate['metadata'].get('name')}: {error}")
    for error in errors:
        print(error)
    print(f"k8s-validate: {checked} passed, {len(errors)} failed")
    sys.exit(1 if errors else 0)


main()
