#!/usr/bin/env bash
# `lummo init` against the real kpt: each scaffold (minimal, every option) is
# rendered by `kpt fn render` with the functions as `exec:` binaries and by
# `lummo render`; both must write the same files, kpt must report no error, and a
# second kpt render must change nothing. Fails when kpt is missing: never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir="$(pwd)/${BIN_DIR:-target/x86_64-unknown-linux-gnu/release}"
command -v kpt >/dev/null || { echo "init-kpt: kpt is not installed (needed, not optional)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() { # label, command...
  local label=$1; shift
  if "$@" >"$work/log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $label"
  else
    failed=$((failed + 1)); echo "FAIL $label"; cat "$work/log"
  fi
}

declare -A cases=(
  [minimal]="--name shop-api --image gcr.io/lummo/shop:1.0.0"
  [everything]="--name shop-api --part-of shop --image gcr.io/lummo/shop:1.0.0 --port http=8080 --port metrics=9100 --domain api.shop.example.com --topic orders --topic payments --database shop-postgres --project-number 123456789012"
)
for case in $(printf '%s\n' "${!cases[@]}" | sort); do
  # shellcheck disable=SC2086 # the flags are words
  "$bin_dir/lummo" init "$work/$case/lummo" ${cases[$case]} </dev/null 2>/dev/null
  cp -r "$work/$case/lummo" "$work/$case/kpt"
  sed -i -E "s#image: ghcr.io/lummo/krm-functions/(lummo-[a-z]+):v[0-9.]+#exec: $bin_dir/\\1#" "$work/$case/kpt/Kptfile"
  check "$case: kpt fn render" kpt fn render --allow-exec "$work/$case/kpt"
  check "$case: lummo render" "$bin_dir/lummo" render "$work/$case/lummo"
  check "$case: lummo validate" "$bin_dir/lummo" validate "$work/$case/lummo"
  check "$case: same files" diff -r -x Kptfile "$work/$case/kpt" "$work/$case/lummo"
  cp -r "$work/$case/kpt" "$work/$case/kpt-1"
  kpt fn render --allow-exec "$work/$case/kpt" >/dev/null 2>&1 || true
  check "$case: kpt render twice changes nothing" diff -r "$work/$case/kpt-1" "$work/$case/kpt"
done
echo "init-kpt: $passed passed, $failed failed"
[ "$failed" = 0 ]
