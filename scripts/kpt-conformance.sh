#!/usr/bin/env bash
# kpt conformance: every package under Kptfile.examples/ is rendered from scratch
# (its generated/ folders removed) by the real kpt, with the functions run as
# `exec:` binaries, and must come out exactly as committed; a second render must
# change nothing; `kpt fn eval --exec` of the pipeline's functions must agree.
# Fails when kpt is missing: it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir="$(pwd)/${BIN_DIR:-target/x86_64-unknown-linux-gnu/release}"
command -v kpt >/dev/null || { echo "kpt-conformance: kpt is not installed (needed, not optional)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# Copies a package without its generated output, with image steps run as exec.
fresh_copy() {
  rm -rf "$2"
  cp -r "$1" "$2"
  find "$2" -type d -name generated -prune -exec rm -rf {} +
  find "$2" -name Kptfile -exec sed -i -E \
    "s#image: ghcr.io/lummo/krm-functions/(lummo-[a-z]+):v[0-9.]+#exec: $bin_dir/\\1#" {} +
}

# Compares a rendered copy with the committed package, Kptfiles aside. `kpt fn
# render` (not eval) stamps Config Connector objects with its blueprint attribution.
same_as_committed() {
  diff -r -x Kptfile -I "cnrm.cloud.google.com/blueprint: 'kpt-fn'" "$1" "$2"
}

check() {
  local label=$1 dir=$2
  if same_as_committed "$pkg" "$dir"; then
    passed=$((passed + 1)); echo "ok   $pkg ($label)"
  else
    failed=$((failed + 1)); echo "FAIL $pkg ($label)"
  fi
}

for pkg in Kptfile.examples/*/; do
  pkg=${pkg%/}
  [ -f "$pkg/Kptfile" ] || continue
  fresh_copy "$pkg" "$work/render"
  kpt fn render --allow-exec "$work/render" >"$work/log" 2>&1 || { cat "$work/log"; }
  check render "$work/render"
  kpt fn render --allow-exec "$work/render" >"$work/log" 2>&1 || { cat "$work/log"; }
  check render-twice "$work/render"

  fresh_copy "$pkg" "$work/eval"
  # The root pipeline's steps, in order, one `kpt fn eval` each (with its configPath).
  while read -r fn config; do
    args=(--exec "$bin_dir/$fn")
    [ -n "$config" ] && args+=(--fn-config "$work/eval/$config")
    kpt fn eval "${args[@]}" "$work/eval" >"$work/log" 2>&1 || { cat "$work/log"; }
  done < <(awk '
    /image: ghcr.io\/lummo\/krm-functions\// { if (fn) print fn, cfg; split($0, a, "krm-functions/"); split(a[2], b, ":"); fn = b[1]; cfg = ""; next }
    /configPath:/ { cfg = $2; next }
    /^ *- / { if (fn) print fn, cfg; fn = "" }
    END { if (fn) print fn, cfg }' "$pkg/Kptfile")
  check eval "$work/eval"
done
echo "kpt conformance: $passed passed, $failed failed"
[ "$failed" = 0 ]
