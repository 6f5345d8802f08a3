#!/usr/bin/env python3
# step 1: setpath 1 legacy path new/dir/x.yaml
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
k, which, field, value = int(A[0]), A[1], A[2], A[3]
us = users(items)
if us:
    a = annotations(us[k % len(us)])
    for prefix in {"legacy": [""], "internal": ["internal."], "both": ["", "internal."]}[which]:
        a[prefix + "config.kubernetes.io/" + field] = value
out(SORT)
