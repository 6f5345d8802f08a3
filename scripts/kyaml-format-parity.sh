#!/usr/bin/env bash
# kyaml-format against the real kpt: every YAML file of ../shared/upstream-manifests
# (one package) and of ../shared/kpt-e2e/fn-render/*/ (a second package; Kptfiles
# and hidden folders left out) is rendered with `kpt fn render` and a Kptfile
# without pipeline: kpt still rewrites every file through kyaml. `format(original)`
# must equal each file kpt wrote. Closing line: `kyaml-format: N passed, M failed`.
# Extra arguments go to the comparer (`--show N` prints the first N differences);
# KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
KPT=${KPT:-kpt}
if [ ! -d "$SHARED/upstream-manifests" ]; then
  echo "kyaml-format: $SHARED/upstream-manifests absent, nothing to compare"; exit 0
fi
command -v "$KPT" >/dev/null || { echo "kyaml-format: kpt is required" >&2; exit 1; }
work=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "work folder: $work"; else trap 'rm -rf "$work"' EXIT; fi
kptfile() { printf 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: %s\n' "$1" > "$2/Kptfile"; }

mkdir -p "$work/orig/upstream" "$work/kpt"
cp -r "$SHARED/upstream-manifests/." "$work/orig/upstream"
find "$work/orig/upstream" -name '*.md' -delete
kptfile upstream "$work/orig/upstream"
if [ -d "$SHARED/kpt-e2e/fn-render" ]; then
  mkdir -p "$work/orig/e2e"
  for case in "$SHARED"/kpt-e2e/fn-render/*/; do
    name=$(basename "$case")
    (cd "$case" && find . -path '*/.*' -prune -o \( -name '*.yaml' -o -name '*.yml' \) ! -name Kptfile -print) |
      while read -r f; do mkdir -p "$work/orig/e2e/$name/$(dirname "$f")"; cp "$case/$f" "$work/orig/e2e/$name/$f"; done
  done
  kptfile e2e "$work/orig/e2e"
fi

render() { # package name; kpt refuses a package holding a non-KRM file (some e2e
  # inputs are such on purpose): leave each file it names out of both sides, retry.
  local pkg=$1
  for attempt in $(seq 1 50); do
    rm -rf "${work:?}/kpt/$pkg"; cp -r "$work/orig/$pkg" "$work/kpt/$pkg"
    if "$KPT" fn render "$work/kpt/$pkg" >"$work/render.log" 2>&1; then return 0; fi
    bad=$(sed -n 's/.*must contain only KRM resources: \([^:]*\):.*/\1/p' "$work/render.log" | head -1)
    if [ -z "$bad" ] || [ ! -f "$work/orig/$pkg/$bad" ]; then
      cat "$work/render.log" >&2; echo "kyaml-format: kpt fn render $pkg failed" >&2; exit 1
    fi
    rm -f "$work/orig/$pkg/$bad"
  done
}
render upstream
[ -d "$work/orig/e2e" ] && render e2e
cargo run -q -j2 -p kyaml-format --example parity -- "$work/orig" "$work/kpt" --known crates/kyaml-format/parity-known-failures.txt "$@"
