"""The catalog releases whose output is restyled (kpt_catalog::restyles in
crates/kpt-catalog/src/lib.rs, which cites the releases' sources): our
kpt-catalog binary keeps the text, so under kpt those run inside
scripts/json-roundtrip-fn.py (the JSON round trip of kyaml's
`filtersutil.ApplyToJSON`). One pattern for fuzz_render.py, real_packages.py
and kpt-output-parity.py, in every spelling lummo reads (kpt_catalog's
`PREFIXES`, or no registry): set-labels before v0.2, set-namespace before v0.3,
set-annotations before v0.1.4 (v0.1.4 filters its own nodes: styles kept). A
floating tag `vX.Y` is the newest release of its line (set-annotations:v0.1 is
v0.1.4), as lummo reads it (kpt_catalog::version). Starlark restyles too, but our
binary's Starlark prints from Go values itself."""
import re

RESTYLING = re.compile(
    r"^(?:gcr\.io/kpt-fn/|ghcr\.io/kptdev/krm-functions-catalog/)?"
    r"(?:set-labels:v0\.1(?:\.\d+)?|set-namespace:v0\.[12](?:\.\d+)?|set-annotations:v0\.1\.[0-3])$")
