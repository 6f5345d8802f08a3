#!/usr/bin/env python3
"""`starlark-go-fn.py`: the catalog's starlark function (v0.4 and later,
kptdev/krm-functions-catalog functions/go/starlark: `SimpleFilter`) as a kpt exec
function on go.starlark.net itself, through the PyPI binding `starlark-go`
(its Go interpreter compiled in). It is the peer lummo's port on starlark-rust
is checked against (scripts/starlark-parity.py) and the baseline of the timing
(`kpt fn render` running the script through an exec function), as the catalog's
image cannot be pulled here.

What it does as the catalog does: the items and the functionConfig wrapped in a
ResourceList mapping; go.starlark.net with AllowSet, AllowGlobalReassign and
AllowRecursion; the items the script leaves printed with their keys sorted
(go-yaml prints Go maps so); an error a result `<name>:<line>:<col>: <msg>` and
exit code 1. What it cannot: the binding converts Python values, not Starlark
structs, so the script's `ctx.resource_list` is bound as a global
(`ctx.resource_list` is rewritten to it) and `load` is not offered.

Usage: starlark-go-fn.py < resource-list.yaml   (STARLARK_GO_PATH: where the
binding is installed when it is not on sys.path)
"""
import json
import os
import re
import sys

import yaml

if os.environ.get("STARLARK_GO_PATH"):
    sys.path.insert(0, os.environ["STARLARK_GO_PATH"])
import starlark_go  # noqa: E402


class Loader(yaml.SafeLoader):
    """go-yaml has no timestamps: a date stays a string."""


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def literal(value):
    """A Python value from YAML as a Starlark literal."""
    if value is None:
        return "None"
    if value is True or value is False:
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"no Starlark literal for {value!r}")


def fail(message):
    out = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
           "results": [{"message": message, "severity": "error"}]}
    sys.stdout.write(yaml.safe_dump(out, sort_keys=False))
    sys.stderr.write("failed to evaluate function: error: function failure")
    sys.exit(1)


def main():
    rl = yaml.load(sys.stdin, Loader=Loader) or {}
    fc = rl.get("functionConfig") or {}
    kind, api = fc.get("kind", ""), fc.get("apiVersion", "")
    if not fc:
        fail("FunctionConfig is missing. Expect `ConfigMap` or `StarlarkRun`")
    if kind == "ConfigMap" and "/" not in api:
        source = (fc.get("data") or {}).get("source", "")
    elif kind == "StarlarkRun" and api.startswith("fn.kpt.dev/"):
        source = fc.get("source", "")
    else:
        fail(f"`functionConfig` must be either /v1, Kind=ConfigMap or fn.kpt.dev/v1alpha1, Kind=StarlarkRun, but we got: {api}, Kind={kind}")
    if not source:
        fail("`source` must not be empty")
    name = (fc.get("metadata") or {}).get("name") or "starlark-function-run"
    wrapped = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
               "items": rl.get("items") or [], "functionConfig": fc}
    starlark_go.configure_starlark(allow_set=True, allow_global_reassign=True, allow_recursion=True)
    interpreter = starlark_go.Starlark()
    # Globals the binding sets are frozen; a dict a function returns is not:
    # the list is made by a function and bound by the script's first line.
    interpreter.exec("def make__():\n  return " + literal(wrapped) + "\n")
    program = re.sub(r"\bctx\.resource_list\b", "resource_list__", source)
    lines = program.split("\n")
    shift = 0
    if lines[0].strip() == "" or lines[0].lstrip().startswith("#"):
        lines[0] = "resource_list__ = make__()  " + lines[0]
    else:
        lines.insert(0, "resource_list__ = make__()")
        shift = 1
    printed = []
    try:
        interpreter.exec("\n".join(lines), filename=name, print=lambda text: printed.append(text))
    except starlark_go.StarlarkError as e:
        sys.stderr.write("".join(p + "\n" for p in printed))
        if isinstance(e, starlark_go.SyntaxError):
            fail(f"{name}:{e.line - shift}:{e.column}: {e.msg}")
        # go.starlark.net's EvalError.Error() is the message alone.
        last = e.backtrace.strip().split("\n")[-1]
        fail(re.sub(r"^Error( in [^:]+)?: ", "", last))
    items = interpreter.get("resource_list__").get("items") or []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            fail(f"items[{i}] is not an object")
    sys.stderr.write("".join(p + "\n" for p in printed))
    out = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    sys.stdout.write(yaml.safe_dump(out, sort_keys=True))


if __name__ == "__main__":
    main()
