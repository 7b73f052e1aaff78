#!/usr/bin/env bash
# Benchmark (not a test): parse+write and read+dump time and peak memory on the largest
# upstream dump and on a dump of a real tree (default /usr): per entry, median of RUNS.
#   bench/core.sh [TREE]
cd "$(dirname "$0")/.."
source bench/lib.sh
tree=${1:-/usr}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
zcat ../shared/vectors/upstream/cs9-x86_64-minimal.dump.gz > "$work/cs9.dump"
$B/mkcomposefs --threads="$(nproc)" "$tree" "$work/tree.cfs"
$B/composefs-info dump "$work/tree.cfs" > "$work/tree.dump"
# timed_rss LABEL-PREFIX ENTRIES CMD...: median wall per entry (µs) and peak RSS per entry (B).
timed_rss() {
  local label=$1 n=$2 input=$3; shift 3
  local us=() bytes=() w m
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null
    read -r w m < "$work/t"
    us+=("$(echo "$w * 1000000 / $n" | bc -l)")
    bytes+=("$(echo "($m * 1024 - $input) / $n" | bc -l)")
  done
  result core "$label" "time/entry" us "${us[@]}"
  result core "$label" "RSS/entry" B "${bytes[@]}"
}
for d in cs9 tree; do
  n=$(wc -l < "$work/$d.dump")
  size=$(stat -c %s "$work/$d.dump")
  echo "== $d: $n entries, dump $size bytes (RSS per entry is beyond the input's own size)"
  $B/mkcomposefs --from-file "$work/$d.dump" "$work/$d.img"
  isize=$(stat -c %s "$work/$d.img")
  sync  # the setup's writeback must not land in the timed runs
  timed_rss "mkcomposefs --from-file ($d)" "$n" "$size" $B/mkcomposefs --from-file "$work/$d.dump" "$work/out.img"
  timed_rss "--print-digest-only ($d)" "$n" "$size" $B/mkcomposefs --from-file --print-digest-only "$work/$d.dump"
  timed_rss "composefs-info dump ($d)" "$n" "$isize" $B/composefs-info dump "$work/$d.img"
  if has_upstream mkcomposefs; then
    timed_rss "upstream mkcomposefs --from-file ($d)" "$n" "$size" $U/mkcomposefs --from-file "$work/$d.dump" "$work/out.img"
    timed_rss "upstream --print-digest-only ($d)" "$n" "$size" $U/mkcomposefs --from-file --print-digest-only "$work/$d.dump"
  fi
  if has_upstream composefs-info; then
    timed_rss "upstream composefs-info dump ($d)" "$n" "$isize" $U/composefs-info dump "$work/$d.img"
  fi
done
