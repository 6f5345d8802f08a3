#!/usr/bin/env bash
# Environments: every environments/<env> overlay (kustomize patches over the base
# specs and function configs) is rendered by the functions in-process (each
# function picks its config out of the stream) and must match its expected.yaml.
# UPDATE_GOLDEN=1 rewrites the expectations.
set -euo pipefail
cd "$(dirname "$0")/.."
lummo="$(pwd)/${BIN_DIR:-target/x86_64-unknown-linux-gnu/release}/lummo"
command -v kubectl >/dev/null || { echo "environments: kubectl is required" >&2; exit 1; }
passed=0 failed=0
for env in environments/*/; do
  env=${env%/}
  [ "$(basename "$env")" = base ] && continue
  actual=$(kubectl kustomize "$env" | "$lummo" eval workload networking pubsub pgbouncer validate --manifests)
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    printf '%s\n' "$actual" > "$env/expected.yaml"
  fi
  if diff -u "$env/expected.yaml" <(printf '%s\n' "$actual"); then
    passed=$((passed + 1)); echo "ok   $env"
  else
    failed=$((failed + 1)); echo "FAIL $env"
  fi
done
# The port is faithful: dev is Kptfile.examples/tokko-api's manifests but for the
# namespace kustomize sets and dev's own domain (and so the hashes of what was
# generated, lummo.dev/generated-hash).
if diff -u <("$lummo" render Kptfile.examples/tokko-api --manifests | grep -v '^    lummo.dev/generated-hash: ') \
     <(sed -e '/^  namespace: foobar-dev$/d' -e '/^    lummo.dev\/generated-hash: /d' -e 's#/foobar-dev/#/#' -e 's#\.foobar-dev\.svc\.cluster\.local##' \
           -e 's#api\.dev\.foobar#api.foobar#' environments/dev/expected.yaml); then
  passed=$((passed + 1)); echo "ok   environments/dev is Kptfile.examples/tokko-api"
else
  failed=$((failed + 1)); echo "FAIL environments/dev is Kptfile.examples/tokko-api"
fi
echo "environments: $passed passed, $failed failed"
[ "$failed" = 0 ]
