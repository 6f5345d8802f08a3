#!/usr/bin/env bash
# `make bench`: builds the benchmark helpers, then prints the figures of BENCHMARKS.md.
# BENCH_QUICK=1 (CI's smoke run) repeats less and renders 5 packages instead of 200.
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTFLAGS="-C target-feature=+crt-static" cargo build -q -j2 --release --target x86_64-unknown-linux-gnu \
  -p krm-sdk --example identity --example json_roundtrip
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -sr)"
python3 scripts/bench.py
python3 scripts/bench_monorepo.py
python3 scripts/bench_diff.py
python3 scripts/bench_mixed.py
if command -v docker >/dev/null; then
  echo
  echo "image sizes:"
  docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep krm-functions | sort
fi
