#!/usr/bin/env bash
# Turns docs/benchmarks/results.tsv (written by bench/run-all.sh) into docs/benchmarks/README.md
# and PNG plots (gnuplot). Run again to re-render without re-measuring.
#   bench/report.sh [TREE] [ELAPSED_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
tree=${1:-/usr}; elapsed=${2:-0}
out=docs/benchmarks
results="$out/results.tsv"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
{
  echo "# Benchmarks"
  echo
  echo "Run by \`bench/run-all.sh $tree\` on $(date -u +%Y-%m-%d) in $((elapsed / 60)) min: $(nproc) cores ($cpu),"
  echo "$(free -g | awk '/Mem:/ {print $2}') GiB RAM, Linux $(uname -r), $(df -T "$tree" | awk 'NR==2 {print $2}') on $(df "$tree" | awk 'NR==2 {print $1}')."
  echo "Median of ${RUNS:-3} runs (${HEAVY_RUNS:-2} for the full-tree builds), with min and max; cold runs drop the page cache first."
  echo "Groups: core = parse/write/read per entry (RSS beyond the input's size); build = making an"
  echo "image of the whole tree (composefs with an object store, and the full-image baselines);"
  echo "mount = the tree served by: plain = the directory itself, kernel = mount.composefs,"
  echo "fuse = composefs-fuse with passthrough, fuse-userspace = composefs-fuse -o nopassthrough,"
  echo "squashfs / squashfuse = an lz4 squashfs image through the kernel / squashfuse."
  for group in core limits build size mount; do
    echo
    echo "## $group"
    echo
    echo "| what | metric | median | min | max | unit |"
    echo "|---|---|---:|---:|---:|---|"
    awk -F'\t' -v g="$group" '$1 == g { printf "| %s | %s | %.3f | %.3f | %.3f | %s |\n", $2, $3, $5, $6, $7, $4 }' "$results"
  done
  echo
  echo "![build times](build.png)"
  echo "![ls -lR cold](ls.png)"
  echo "![ls -lR warm](ls-warm.png)"
  echo "![reads cold](read.png)"
  if [ -f "$out/NOTES.md" ]; then echo; cat "$out/NOTES.md"; fi
} > "$out/README.md"

plot() {  # plot FILE TITLE YLABEL AWK-CONDITION
  awk -F'\t' "$4"' { gsub(/ /, "_", $2); print $2, $5, $6, $7 }' "$results" > "$tmp/plot.dat"
  [ -s "$tmp/plot.dat" ] || return 0
  gnuplot <<GP
set terminal pngcairo size 900,420 noenhanced
set output "$out/$1"
set title "$2"
set ylabel "$3"
set style fill solid 0.6
set xtics rotate by -20
set yrange [0:*]
set xrange [-0.6:*]
plot "$tmp/plot.dat" using 0:2:3:4:(0.6):xticlabels(1) with boxerrorbars notitle
GP
}
plot build.png "Building from $tree: wall time (s), median and min-max" seconds '$1 == "build" && $3 == "wall"'
plot ls.png "ls -lR over $tree, cold cache (s)" seconds '$1 == "mount" && $3 == "ls -lR cold"'
plot ls-warm.png "ls -lR over $tree, warm cache (s)" seconds '$1 == "mount" && $3 == "ls -lR warm"'
plot read.png "Reading ${READ_MB:-1000} MiB of files, cold cache (MiB/s)" MiB/s '$1 == "mount" && $3 == "read cold"'
