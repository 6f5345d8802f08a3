#!/usr/bin/env python3
# step 1: results error info
import sys
import yaml
try:
    from yaml import CSafeLoader as Loader, CSafeDumper as Dumper
except ImportError:
    from yaml import SafeLoader as Loader, SafeDumper as Dumper
A = sys.argv[1:]
raw = sys.stdin.read()
rl = yaml.load(raw, Loader=Loader) or {}
items = rl.get("items") or []
LEGACY = ("config.kubernetes.io/path", "config.kubernetes.io/index")
INTERNAL = ("internal.config.kubernetes.io/path", "internal.config.kubernetes.io/index")
def annotations(o):
    md = o.setdefault("metadata", {}) or {}
    o["metadata"] = md
    a = md.get("annotations") or {}
    md["annotations"] = a
    return a
def users(items):
    return [o for o in items if isinstance(o, dict) and o.get("kind") != "Kptfile"]
def out(sort):
    rl["items"] = items
    sys.stdout.write(yaml.dump(rl, Dumper=Dumper, sort_keys=sort, default_flow_style=False))
SORT = False
res = rl.setdefault("results", []) or []
rl["results"] = res
us = users(items)
for i, sev in enumerate(A):
    r = {"message": "result %d (%s)" % (i, sev), "severity": sev}
    if i == 0 and us:
        md = us[0].get("metadata") or {}
        r["resourceRef"] = {"apiVersion": us[0].get("apiVersion"), "kind": us[0].get("kind"), "name": md.get("name")}
        r["field"] = {"path": "metadata.name"}
    res.append(r)
out(SORT)
