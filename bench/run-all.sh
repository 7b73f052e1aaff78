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
  KEEP="$keep" bash bench/store.sh "$tree"
  IMAGE="$keep/image.cfs" STORE="$keep/store" SQUASHFS="$keep/full.sqfs" bash bench/mount.sh "$tree"
} 3> >(grep '^RESULT' | cut -f2- > "$results") | tee "$out/log.txt"
sleep 1
elapsed=$(( $(date +%s) - start ))

# --- the report ------------------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
{
  echo "# Benchmarks"
  echo
  echo "Run by \`bench/run-all.sh $tree\` on $(date -u +%Y-%m-%d) in $((elapsed / 60)) min: $(nproc) cores ($cpu),"
  echo "$(free -g | awk '/Mem:/ {print $2}') GiB RAM, Linux $(uname -r), $(df -T "$tree" | awk 'NR==2 {print $2}') on $(df "$tree" | awk 'NR==2 {print $1}')."
  echo "Median of $RUNS runs ($HEAVY_RUNS for the full-tree builds), with min and max; cold runs drop the page cache first."
  for group in core limits build size mount; do
    echo
    echo "## $group"
    echo
    echo "| what | metric | median | min | max | unit |"
    echo "|---|---|---:|---:|---:|---|"
    awk -F'\t' -v g="$group" '$1 == g { printf "| %s | %s | %.3f | %.3f | %.3f | %s |\n", $2, $3, $5, $6, $7, $4 }' "$results"
  done
  echo
  echo "![build times](build.png) ![ls -lR](ls.png) ![reads](read.png)"
} > "$out/README.md"

plot() {  # plot FILE TITLE YLABEL awk-filter
  local file=$1 title=$2 ylabel=$3 filter=$4
  awk -F'\t' "$filter"' { gsub(/ /, "_", $2); print $2, $5, $6, $7 }' "$results" > "$keep/plot.dat"
  [ -s "$keep/plot.dat" ] || return 0
  gnuplot <<GP
set terminal pngcairo size 900,420 noenhanced
set output "$out/$file"
set title "$title"
set ylabel "$ylabel"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -25
set yrange [0:*]
plot "$keep/plot.dat" using 0:2:3:4:xticlabels(1) with boxerrorbars notitle
GP
}
plot build.png "Building from $tree (wall, s)" seconds '$1 == "build" && $3 == "wall"'
plot ls.png "ls -lR over $tree, cold (s)" seconds '$1 == "mount" && $3 == "ls -lR cold"'
plot read.png "Reading ${READ_MB} MiB of files, cold (MiB/s)" MiB/s '$1 == "mount" && $3 == "read cold"'
grep -E ' (fuse|overlay|erofs|squashfs)' /proc/mounts | grep cfs-bench && echo "run-all: mounts left behind!" && exit 1
echo "wrote $out/README.md ($((elapsed / 60)) min)"
