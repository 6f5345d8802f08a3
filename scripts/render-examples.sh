#!/usr/bin/env bash
# Re-renders every Kptfile.examples package in place from scratch (generated/
# removed first) with the freshly built binaries; review the diff, then commit.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir="$(pwd)/${BIN_DIR:-target/x86_64-unknown-linux-gnu/release}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for pkg in Kptfile.examples/*/; do
  pkg=${pkg%/}
  [ -f "$pkg/Kptfile" ] || continue
  rm -rf "$work/pkg"
  cp -r "$pkg" "$work/pkg"
  find "$work/pkg" -type d -name generated -prune -exec rm -rf {} +
  find "$work/pkg" -name Kptfile -exec sed -i -E \
    "s#image: ghcr.io/lummo/krm-functions/(lummo-[a-z]+):v[0-9.]+#exec: $bin_dir/\\1#" {} +
  kpt fn render --allow-exec "$work/pkg" >/dev/null
  find "$pkg" -type d -name generated -prune -exec rm -rf {} +
  (cd "$work/pkg" && find . -type f ! -name Kptfile) | while read -r file; do
    mkdir -p "$pkg/$(dirname "$file")"
    cp "$work/pkg/$file" "$pkg/$file"
  done
  echo "rendered $pkg"
done
