#!/usr/bin/env bash
# Builds one FROM-scratch image per function (and one for the lummo CLI) from the static release binaries and
# tags it $REGISTRY/<function>:v<version>. Pulls nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir=${BIN_DIR:-target/x86_64-unknown-linux-gnu/release}
registry=${REGISTRY:-ghcr.io/lummo/krm-functions}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
command -v docker >/dev/null || { echo "images: docker is required" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One image per function, and `lummo` (the CLI, for ArgoCD's plugin sidecar).
for fn in $(ls functions) lummo; do
  rm -rf "$work/ctx" && mkdir -p "$work/ctx"
  cp "$bin_dir/$fn" "$work/ctx/function"
  cp images/passwd images/group "$work/ctx/"
  tag="$registry/$fn:v$version"
  docker build -q -f images/Dockerfile --build-arg FUNCTION="$fn" --build-arg VERSION="$version" -t "$tag" "$work/ctx" >/dev/null
  size=$(docker image inspect "$tag" --format '{{.Size}}')
  echo "$tag $size bytes"
done
