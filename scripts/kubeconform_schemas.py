#!/usr/bin/env python3
"""Builds (or, with --check, verifies) the Kubernetes JSON schemas kpt-catalog's
kubeconform function embeds: crates/kpt-catalog/schemas/kubernetes-<version>.json.zlib.

The source is PyPI kubernetes-validate (pinned in the Makefile's `deps`), whose
`kubernetes-json-schema/<version>-local-strict/` folder has kubeconform's file
layout (`<kind><kind suffix>.json`, e.g. deployment-apps-v1.json) with every
definition in `_definitions.json`. One document comes out:
  {"version": "v1.34.0", "$defs": {<definition>: <schema>}, "files": {<file stem>: <schema>}}
with `$ref`s pointing into "#/$defs/...", and only what validation reads
(descriptions, x-kubernetes-* annotations and the formats kubeconform's
validator does not assert dropped). The strict schemas are kept: the
non-strict ones are the same less every `additionalProperties: false`
(checked here), which the validator ignores when `strict` is off.

Usage: kubeconform_schemas.py [--check]
"""
import json
import os
import sys
import zlib

import kubernetes_validate

VERSION = "v1.34.0"
OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "kpt-catalog", "schemas",
                   f"kubernetes-{VERSION}.json.zlib")
REF_PREFIX = "/api/_definitions.json#/$defs/"
# The formats santhosh-tekuri/jsonschema (kubeconform's validator) asserts that
# Kubernetes' schemas use; int32, int64, byte and double are unknown to it.
ASSERTED_FORMATS = {"date-time"}


def source(variant):
    return os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema",
                        f"{VERSION}-local{variant}")


def slim(node):
    if isinstance(node, list):
        return [slim(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("description", "$schema", "$id", "default") or key.startswith("x-kubernetes"):
            continue
        if key == "format" and value not in ASSERTED_FORMATS:
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
            value = "#/$defs/" + value[len(REF_PREFIX):]
        if key in ("properties", "patternProperties", "$defs"):
            out[key] = {k: slim(v) for k, v in value.items()}
        else:
            out[key] = slim(value)
    return out


def drop_closed(node):
    if isinstance(node, list):
        return [drop_closed(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {k: drop_closed(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}


def build():
    strict = json.load(open(os.path.join(source("-strict"), "_definitions.json")))
    loose = json.load(open(os.path.join(source(""), "_definitions.json")))
    if drop_closed(strict) != loose:
        sys.exit(f"{VERSION}: the non-strict schemas are not the strict ones less additionalProperties: false")
    defs = slim(strict)["$defs"]
    files = {}
    for name in sorted(os.listdir(source("-strict"))):
        if name in ("_definitions.json", "all.json") or not name.endswith(".json"):
            continue
        # A file is its definition with the top level made stricter (`type`
        # "object", required fields not nullable): kept as it is, its `$ref`s
        # into the shared definitions.
        files[name[:-len(".json")]] = slim(json.load(open(os.path.join(source("-strict"), name))))
    return {"version": VERSION, "$defs": defs, "files": files}


def main():
    doc = build()
    if "--check" in sys.argv[1:]:
        with open(OUT, "rb") as f:
            embedded = json.loads(zlib.decompress(f.read()))
        if embedded != doc:
            sys.exit(f"{OUT} is stale: run scripts/kubeconform_schemas.py")
        print(f"kubeconform schemas: {OUT} matches kubernetes-validate {VERSION} "
              f"({len(doc['files'])} files, {len(doc['$defs'])} definitions)")
        return
    text = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    with open(OUT, "wb") as f:
        f.write(zlib.compress(text, 9))
    print(f"{OUT}: {len(doc['files'])} files, {len(text)} bytes, {os.path.getsize(OUT)} compressed")


if __name__ == "__main__":
    main()
