#!/usr/bin/env bash
# Benchmark (not a test): mkcomposefs of TREE (default /usr) into an empty store and into a
# store that already holds every object, with --threads=1 and 2, beside the machine's limits
# measured in the same run: single-core SHA-256 speed (openssl speed) and a plain copy
# (cp -a) of the same tree. Median of RUNS (default 3); wall, CPU (user+sys), peak RSS.
#   bench/store.sh [TREE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
tree=${1:-/usr}; runs=${2:-3}
B=$PWD/build/tools
work=$(mktemp -d /var/tmp/cfs-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
bytes=$(du -sb --apparent-size "$tree" 2>/dev/null | cut -f1)
entries=$(find "$tree" -xdev | wc -l)
echo "tree $tree: $entries entries, $((bytes >> 20)) MiB"
sha=$(openssl speed -evp sha256 -seconds 2 2>/dev/null | awk '/^sha256/ {print $NF}' | tr -d k)
echo "openssl speed -evp sha256 (16 KiB blocks, one core): $(echo "$sha / 1024" | bc) MiB/s"
median() { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }
run() {  # label prepare-command command...
  local label=$1 prep=$2; shift 2
  local walls=() cpus=() rss=0
  for _ in $(seq "$runs"); do
    eval "$prep"
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null
    read -r w u s m < "$work/t"
    walls+=("$w"); cpus+=("$(echo "$u + $s" | bc)"); rss=$m
  done
  local w c; w=$(printf '%s\n' "${walls[@]}" | median); c=$(printf '%s\n' "${cpus[@]}" | median)
  printf '%-40s wall %7.2f s  cpu %7.2f s  %7.0f MiB/s  peak RSS %6.1f MiB\n' "$label" "$w" "$c" \
    "$(echo "$bytes / 1048576 / $w" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}
run "cp -a (plain copy, cold cache)" "rm -rf $work/copy" cp -a "$tree" "$work/copy"
rm -rf "$work/copy"
for t in 1 2; do
  run "empty store, --threads=$t" "rm -rf $work/store" $B/mkcomposefs --threads=$t --digest-store="$work/store" "$tree" "$work/img"
  run "full store, --threads=$t" "true" $B/mkcomposefs --threads=$t --digest-store="$work/store" "$tree" "$work/img"
  run "no store (hash only, warm), --threads=$t" "cat /dev/null" $B/mkcomposefs --threads=$t "$tree" "$work/img"
done
