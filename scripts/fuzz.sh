#!/usr/bin/env bash
# `make fuzz`: every cargo-fuzz target for FUZZ_SECONDS (default 60) from the
# committed seed corpus (fuzz/corpus/<target>); new inputs go to fuzz/.work.
# cargo-fuzz needs nightly compiler flags: RUSTC_BOOTSTRAP=1 lets the stable
# toolchain accept them. Install with `cargo install cargo-fuzz`.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo install cargo-fuzz" >&2; exit 1; }
for target in resource_list rule duration functions; do
  mkdir -p ".work/$target"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" ".work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=1024 2>&1 | grep -E "^Done|SUMMARY|panicked" || true
  [ -z "$(ls artifacts/"$target" 2>/dev/null)" ] || { echo "fuzz: $target found a crash in fuzz/artifacts/$target"; exit 1; }
done
