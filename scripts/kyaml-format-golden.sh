#!/usr/bin/env bash
# Regenerates crates/kyaml-format/testdata/format/<case>/kpt.yaml with the real kpt:
# each input.yaml is rendered alone in a package whose Kptfile has no pipeline.
set -euo pipefail
cd "$(dirname "$0")/../crates/kyaml-format/testdata/format"
KPT=${KPT:-kpt}
"$KPT" version
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for case in */; do
  case=${case%/}
  mkdir -p "$work/$case"
  cp "$case/input.yaml" "$work/$case/input.yaml"
  printf 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: %s\n' "$case" > "$work/$case/Kptfile"
  "$KPT" fn render "$work/$case" >/dev/null
  cp "$work/$case/input.yaml" "$case/kpt.yaml"
done
