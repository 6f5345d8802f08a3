#!/usr/bin/env bash
# Renders a copy of Kptfile.examples/workload (generated files removed) with kpt,
# running the freshly built function, and prints what it generated.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir="$(pwd)/${BIN_DIR:-target/x86_64-unknown-linux-gnu/release}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r Kptfile.examples/workload "$work/pkg"
rm -rf "$work/pkg/generated"
sed -i -E "s#image: ghcr.io/lummo/krm-functions/(lummo-[a-z]+):v[0-9.]+#exec: $bin_dir/\\1#" "$work/pkg/Kptfile"
echo "### input: $(ls "$work/pkg" | tr '\n' ' ')"
sed -n '/^apiVersion: lummo.dev/,$p' "$work/pkg/foobar-api.yaml"
if command -v kpt >/dev/null; then
  kpt fn render --allow-exec "$work/pkg"
else
  echo "(kpt not found: running the function on a plain YAML stream instead)"
  cat "$work/pkg"/*.yaml | "$bin_dir/lummo-workload" > "$work/out.yaml"
  cat "$work/out.yaml"
  exit 0
fi
for file in "$work/pkg/generated"/*.yaml; do
  echo "### ${file#$work/pkg/}"
  cat "$file"
done
