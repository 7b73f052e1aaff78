#!/usr/bin/env bash
# Benchmark (not a test): parse+write and read+dump speed and memory on the largest upstream
# dump and on a dump of a real tree (default /usr). Median wall time of N runs and peak RSS.
#   bench/core.sh [TREE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
tree=${1:-/usr}; runs=${2:-5}
B=build/tools
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
zcat ../shared/vectors/upstream/cs9-x86_64-minimal.dump.gz > "$work/cs9.dump"
echo "building a dump of $tree ..."
$B/mkcomposefs --threads="$(nproc)" "$tree" "$work/tree.cfs"
$B/composefs-info dump "$work/tree.cfs" > "$work/tree.dump"
measure() {  # label entries command...
  local label=$1 entries=$2; shift 2
  local times=() rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null
    read -r t m < "$work/t"; times+=("$t"); rss=$m
  done
  local med; med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  awk -v l="$label" -v t="$med" -v m="$rss" -v n="$entries" 'BEGIN {
    printf "%-44s median %7.3f s  %6.2f us/entry  peak RSS %7.1f MiB  %5.0f B/entry\n", l, t, t*1e6/n, m/1024, m*1024/n }'
}
for d in cs9 tree; do
  n=$(wc -l < "$work/$d.dump")
  echo "== $d: $n entries, dump $(stat -c %s "$work/$d.dump") bytes"
  $B/mkcomposefs --from-file "$work/$d.dump" "$work/$d.img"
  measure "mkcomposefs --from-file ($d)" "$n" $B/mkcomposefs --from-file "$work/$d.dump" "$work/out.img"
  measure "mkcomposefs --print-digest-only ($d)" "$n" $B/mkcomposefs --from-file --print-digest-only "$work/$d.dump"
  measure "composefs-info dump ($d)" "$n" $B/composefs-info dump "$work/$d.img"
done
