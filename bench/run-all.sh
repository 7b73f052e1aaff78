#!/usr/bin/env bash
# Runs every benchmark of the project on TREE (default /usr) with the baselines Debian has
# (plain directory, cp -a, mkfs.erofs and mksquashfs images, the squashfs kernel mount and
# squashfuse), then writes docs/benchmarks/README.md (tables: median and min-max of RUNS) and
# PNG plots. Root (drops caches, mounts). Leaves no mounts behind.
#   bench/run-all.sh [TREE]      RUNS (default 3), HEAVY_RUNS (full-tree builds, 2), READ_MB (1000)
set -euo pipefail
cd "$(dirname "$0")/.."
tree=${1:-/usr}
export RUNS=${RUNS:-3} HEAVY_RUNS=${HEAVY_RUNS:-2} READ_MB=${READ_MB:-1000}
[ "$(id -u)" -eq 0 ] || { echo "run-all: needs root (drop_caches, mounts)"; exit 1; }
need=(squashfs-tools squashfuse gnuplot-nox erofs-utils bc)
missing=(); for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
((${#missing[@]})) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
[ -x build/tools/mkcomposefs ] || bash scripts/setup.sh
out=docs/benchmarks
mkdir -p "$out"
keep=$(mktemp -d /var/tmp/cfs-bench-keep.XXXXXX)
trap 'rm -rf "$keep"' EXIT
results="$out/results.tsv"
start=$(date +%s)
{
  bash bench/core.sh "$tree"
  # threads=1 runs belong to bench/store.sh alone: run-all keeps to 30 minutes.
  KEEP="$keep" THREADS=2 bash bench/store.sh "$tree"
  IMAGE="$keep/image.cfs" STORE="$keep/store" SQUASHFS="$keep/full.sqfs" bash bench/mount.sh "$tree"
} 3> >(grep '^RESULT' | cut -f2- > "$results") | tee "$out/log.txt"
sleep 1
elapsed=$(( $(date +%s) - start ))

HEAVY_RUNS=$HEAVY_RUNS RUNS=$RUNS READ_MB=$READ_MB bash bench/report.sh "$tree" "$elapsed"
grep -E ' (fuse|overlay|erofs|squashfs)' /proc/mounts | grep cfs-bench && echo "run-all: mounts left behind!" && exit 1
echo "wrote $out/README.md ($((elapsed / 60)) min)"
