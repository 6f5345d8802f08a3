#!/usr/bin/env bash
# kyaml-format against the real kpt: a package of every YAML file of
# ../shared/upstream-manifests and ../shared/kpt-e2e/fn-render/*/ (Kptfiles left
# out, a Kptfile without pipeline added) is rendered with `kpt fn render`, which
# rewrites every file through kyaml; `format(original)` must equal each output.
# Closing line: `kyaml-format: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
KPT=${KPT:-kpt}
if [ ! -d "$SHARED/upstream-manifests" ]; then
  echo "kyaml-format: $SHARED/upstream-manifests absent, nothing to compare"; exit 0
fi
command -v "$KPT" >/dev/null || { echo "kyaml-format: kpt is required" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/orig"
cp -r "$SHARED/upstream-manifests/." "$work/orig/upstream"
find "$work/orig" -name '*.md' -delete
if [ -d "$SHARED/kpt-e2e/fn-render" ]; then
  for case in "$SHARED"/kpt-e2e/fn-render/*/; do
    name=$(basename "$case")
    # Only YAML kpt accepts as resources of one package: no Kptfiles, no hidden
    # folders (.expected), no function configs that fail without their pipeline.
    (cd "$case" && find . -path '*/.*' -prune -o \( -name '*.yaml' -o -name '*.yml' \) ! -name Kptfile -print) |
      while read -r f; do mkdir -p "$work/orig/e2e/$name/$(dirname "$f")"; cp "$case/$f" "$work/orig/e2e/$name/$f"; done
  done
fi
kptfile='apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: parity\n'
printf "$kptfile" > "$work/orig/Kptfile"
cp -r "$work/orig" "$work/kpt"
# kpt refuses a package holding a file that is not KRM (some e2e cases are such
# inputs on purpose): leave each file it names out, from both sides, and retry.
for attempt in $(seq 1 50); do
  if "$KPT" fn render "$work/kpt" >"$work/render.log" 2>&1; then break; fi
  bad=$(sed -n 's/.*must contain only KRM resources: \([^:]*\):.*/\1/p' "$work/render.log" | head -1)
  if [ -z "$bad" ] || [ "$attempt" = 50 ]; then cat "$work/render.log" >&2; echo "kyaml-format: kpt fn render failed" >&2; exit 1; fi
  rm -f "$work/orig/$bad"; rm -rf "$work/kpt"; cp -r "$work/orig" "$work/kpt"
done
cargo run -q -j2 -p kyaml-format --example parity -- "$work/orig" "$work/kpt" "$@"
