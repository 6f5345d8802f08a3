#!/usr/bin/env bash
# Environments: every environments/<env> overlay (kustomize patches over the base
# specs) is rendered by the functions in-process and must match its expected.yaml.
# UPDATE_GOLDEN=1 rewrites the expectations.
set -euo pipefail
cd "$(dirname "$0")/.."
lummo="$(pwd)/${BIN_DIR:-target/x86_64-unknown-linux-gnu/release}/lummo"
command -v kubectl >/dev/null || { echo "environments: kubectl is required" >&2; exit 1; }
passed=0 failed=0
for env in environments/*/; do
  env=${env%/}
  [ "$(basename "$env")" = base ] && continue
  actual=$(kubectl kustomize "$env" | "$lummo" eval workload networking pubsub --manifests)
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    printf '%s\n' "$actual" > "$env/expected.yaml"
  fi
  if diff -u "$env/expected.yaml" <(printf '%s\n' "$actual"); then
    passed=$((passed + 1)); echo "ok   $env"
  else
    failed=$((failed + 1)); echo "FAIL $env"
  fi
done
echo "environments: $passed passed, $failed failed"
[ "$failed" = 0 ]
