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

# median GROUP LABEL METRIC: the median of one result ("" when it was not measured).
median() { awk -F'\t' -v g="$1" -v l="$2" -v m="$3" '$1 == g && $2 == l && $3 == m { print $5 }' "$results"; }

# aim WHAT VALUE OP TARGET: one row of the aims table ("not measured" when VALUE is missing:
# a job this run did not have, e.g. upstream's tools or the tree's SMALL_DIR).
aim() {
  if [ -z "$2" ]; then
    printf '| %s | not measured in this run | %s %s | - |\n' "$1" "$3" "$4"
    return 0
  fi
  local met; met=$(echo "$2 $3 $4" | bc -l)
  printf '| %s | %.2f | %s %s | %s |\n' "$1" "$2" "$3" "$4" "$([ "$met" = 1 ] && echo yes || echo no)"
}
ratio() { [ -n "$1" ] && [ -n "$2" ] && echo "$1 / $2" | bc -l || true; }

# The aims the issues set, computed from this run's medians.
aims() {
  echo
  echo "## aims"
  echo
  echo "| aim | measured | target | met |"
  echo "|---|---:|---|---|"
  aim "mkcomposefs --from-file, µs per entry (tree)" "$(median core 'mkcomposefs --from-file (tree)' time/entry)" "<=" 2
  aim "composefs-info dump, µs per entry (tree)" "$(median core 'composefs-info dump (tree)' time/entry)" "<=" 2
  aim "mkcomposefs --from-file, bytes per entry beyond the input" "$(median core 'mkcomposefs --from-file (tree)' RSS/entry)" "<=" 300
  aim "composefs-info dump, bytes per entry beyond the image" "$(median core 'composefs-info dump (tree)' RSS/entry)" "<=" 300
  aim "empty store (2 threads) / cp -a, wall" "$(ratio "$(median build 'composefs, empty store, threads=2' wall)" "$(median build 'cp -a (plain copy)' wall)")" "<=" 1.2
  local sha; sha=$(median limits 'openssl sha256, one core' throughput)
  aim "full store, warm (2 threads) / 2 × SHA-256, throughput" "$(ratio "$(median build 'composefs, full store, warm cache, threads=2' throughput)" "$([ -n "$sha" ] && echo "2 * $sha" | bc -l)")" ">=" 0.8
  aim "FUSE / kernel, ls -lR warm" "$(ratio "$(median mount fuse 'ls -lR warm')" "$(median mount kernel 'ls -lR warm')")" "<=" 1.3
  aim "FUSE / kernel, ls -lR cold" "$(ratio "$(median mount fuse 'ls -lR cold')" "$(median mount kernel 'ls -lR cold')")" "<=" 1.5
  aim "FUSE / kernel, read throughput cold" "$(ratio "$(median mount fuse 'read cold')" "$(median mount kernel 'read cold')")" ">=" 0.9
  aim "FUSE / kernel, read throughput warm" "$(ratio "$(median mount fuse 'read warm')" "$(median mount kernel 'read warm')")" ">=" 0.9
  aim "FUSE / kernel, small files warm (per-open cost)" "$(ratio "$(median mount fuse 'small files warm')" "$(median mount kernel 'small files warm')")" "<=" 1.2
  aim "FUSE -o noopen / kernel, small files warm (per-open cost)" "$(ratio "$(median mount fuse-noopen 'small files warm')" "$(median mount kernel 'small files warm')")" "<=" 1.2
  aim "FUSE / upstream's FUSE, small files warm" "$(ratio "$(median mount fuse 'small files warm')" "$(median mount upstream-fuse 'small files warm')")" "<=" 1
  aim "FUSE / upstream's FUSE, ls -lR warm" "$(ratio "$(median mount fuse 'ls -lR warm')" "$(median mount upstream-fuse 'ls -lR warm')")" "<=" 1
  aim "mkcomposefs --from-file / upstream's (tree)" "$(ratio "$(median core 'mkcomposefs --from-file (tree)' time/entry)" "$(median core 'upstream mkcomposefs --from-file (tree)' time/entry)")" "<=" 1
  aim "empty-store build / upstream's" "$(ratio "$(median build 'composefs, empty store, threads=2' wall)" "$(median build 'upstream mkcomposefs, empty store' wall)")" "<=" 1
}
# Whether upstream's tools were measured: the page says so either way.
upstream_line() {
  if grep -q $'\tupstream' "$results" || grep -q $'^mount\tupstream-fuse' "$results"; then
    echo "Upstream composefs's tools (UPSTREAM_BIN) were measured side by side: rows named upstream."
  else
    echo "Upstream composefs's tools were absent from this run (give them with UPSTREAM_BIN=DIR): no upstream rows, and aims against them not measured."
  fi
}
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
  echo "upstream-fuse = upstream's composefs-fuse, squashfs / squashfuse = an lz4 squashfs image"
  echo "through the kernel / squashfuse. small files = every file of SMALL_DIR opened and read, warm."
  echo
  upstream_line
  aims
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
  echo "![small files warm](small.png)"
  echo "![reads cold](read.png)"
  if [ -f "$out/NOTES.md" ]; then echo; cat "$out/NOTES.md"; fi
} > "$out/README.md"

# plot FILE TITLE YLABEL AWK-CONDITION [log]: bars with min-max whiskers, each labelled with
# its median. "log": a log scale, where one slow bar (squashfuse) would flatten the rest.
plot() {
  awk -F'\t' "$4"' { gsub(/ /, "_", $2); print $2, $5, $6, $7 }' "$results" > "$tmp/plot.dat"
  [ -s "$tmp/plot.dat" ] || return 0
  local bars scale="set yrange [0:*]"
  bars=$(wc -l < "$tmp/plot.dat")
  [ "${5:-}" != log ] || scale="set logscale y; set yrange [*:*]"
  gnuplot <<GP
set terminal pngcairo size 1000,520 noenhanced
set output "$out/$1"
set title "$2"
set ylabel "$3"
set style fill solid 0.6
set xtics rotate by -30
set bmargin 6
set offsets 0, 0, graph 0.12, 0
$scale
set xrange [-0.6:$bars - 0.4]
plot "$tmp/plot.dat" using 0:2:3:4:(0.6):xticlabels(1) with boxerrorbars notitle, \
     "" using 0:4:(sprintf(\$2 >= 100 ? "%.0f" : "%.3g", \$2)) with labels offset 0,0.8 notitle
GP
}
plot build.png "Building from $tree: wall time (s), median and min-max" seconds '$1 == "build" && $3 == "wall"'
plot ls.png "ls -lR over $tree, cold cache (s, log scale)" seconds '$1 == "mount" && $3 == "ls -lR cold"' log
plot ls-warm.png "ls -lR over $tree, warm cache (s, log scale)" seconds '$1 == "mount" && $3 == "ls -lR warm"' log
plot small.png "Every file of $tree/${SMALL_DIR:-share/doc} opened and read, warm (s)" seconds '$1 == "mount" && $3 == "small files warm"'
plot read.png "Reading ${READ_MB:-1000} MiB of files, cold cache (MiB/s)" MiB/s '$1 == "mount" && $3 == "read cold"'
