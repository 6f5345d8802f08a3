#!/usr/bin/env bash
# checkov (PyPI) on every rendered example package and environment; fails on any
# failed check not skipped, with its reason, in security/checkov.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
lummo="$(pwd)/${BIN_DIR:-target/x86_64-unknown-linux-gnu/release}/lummo"
command -v checkov >/dev/null || { echo "checkov: not installed (pip install checkov)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for pkg in Kptfile.examples/*/; do
  name=$(basename "$pkg")
  "$lummo" render "$pkg" --manifests > "$work/$name.yaml"
done
for env in environments/*/expected.yaml; do
  cp "$env" "$work/environment-$(basename "$(dirname "$env")").yaml"
done
# checkov also asks a vendor API for guideline links; offline that is a warning only.
checkov --config-file security/checkov.yaml -d "$work" 2> "$work.log" | tee "$work.out" | grep -E "Check:|FAILED|Passed checks" || true
grep -q "Failed checks: 0" "$work.out" || { echo "checkov: failed checks (see above)"; exit 1; }
echo "checkov: $(grep -o 'Passed checks: [0-9]*' "$work.out"), 0 failed"
