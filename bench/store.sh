#!/usr/bin/env bash
# Benchmark (not a test): mkcomposefs of TREE (default /usr) into an empty store and into a
# store that already holds every object, with --threads=1 and 2, beside the machine's limits
# measured in the same run: single-core SHA-256 (openssl speed) and a plain copy (cp -a) of
# the same tree; also the full-image baselines mkfs.erofs and mksquashfs. Cold caches, but
# for one more full-store build with the tree in the page cache: hashing alone is measured.
#   bench/store.sh [TREE]        HEAVY_RUNS (default 2) runs of each full-tree build;
#                                KEEP=DIR keeps the image, store and squashfs image there
#                                THREADS (default "1 2"): --threads values to measure
cd "$(dirname "$0")/.."
source bench/lib.sh
tree=${1:-/usr}
work=$(mktemp -d /var/tmp/cfs-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
bytes=$(du -sb --apparent-size "$tree" 2>/dev/null | cut -f1)
mib=$(echo "$bytes / 1048576" | bc -l)
echo "tree $tree: $(find "$tree" -xdev | wc -l) entries, $((bytes >> 20)) MiB"
sha=$(openssl speed -evp sha256 -seconds 2 2>/dev/null | awk '/^sha256/ {print $NF}' | tr -d k)
result limits "openssl sha256, one core" throughput MiB/s "$(echo "$sha / 1024" | bc -l)"

# build LABEL PREPARE CMD...: wall (s), CPU (s), MiB/s of the tree, peak RSS (MiB).
build() {
  local label=$1 prep=$2; shift 2
  local walls=() cpus=() rates=() rss=() w u s m
  for _ in $(seq "${HEAVY_RUNS:-2}"); do
    eval "$prep"
    [ -n "${WARM:-}" ] || drop_caches
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null 2>&1
    read -r w u s m < "$work/t"
    walls+=("$w"); cpus+=("$(echo "$u + $s" | bc -l)"); rates+=("$(echo "$mib / $w" | bc -l)")
    rss+=("$(echo "$m / 1024" | bc -l)")
  done
  result build "$label" wall s "${walls[@]}"
  result build "$label" cpu s "${cpus[@]}"
  result build "$label" throughput MiB/s "${rates[@]}"
  result build "$label" "peak RSS" MiB "${rss[@]}"
}
build "cp -a (plain copy)" "rm -rf $work/copy" cp -a "$tree" "$work/copy"
rm -rf "$work/copy"
for t in ${THREADS:-1 2}; do
  build "composefs, empty store, threads=$t" "rm -rf $work/store" \
    $B/mkcomposefs --threads=$t --digest-store="$work/store" "$tree" "$work/image.cfs"
  build "composefs, full store, threads=$t" "true" \
    $B/mkcomposefs --threads=$t --digest-store="$work/store" "$tree" "$work/image.cfs"
  # The tree fits in the page cache here (one untimed run puts it there): bound by SHA-256.
  $B/mkcomposefs --threads=$t --digest-store="$work/store" "$tree" "$work/image.cfs" >/dev/null 2>&1
  WARM=1 build "composefs, full store, warm cache, threads=$t" "true" \
    $B/mkcomposefs --threads=$t --digest-store="$work/store" "$tree" "$work/image.cfs"
done
# The same warm build with OpenSSL alone (no multi-buffer hashing), for the gain.
CFS_HASH_ENGINE=openssl WARM=1 build "composefs, full store, warm, openssl only" "true" \
  $B/mkcomposefs --threads=2 --digest-store="$work/store" "$tree" "$work/image.cfs"
# The machine's limit for a warm full-store build (issue 17): the bytes hashed at the speed of
# every core's multi-buffer hashing (measure-file of a 1 GiB file in the page cache uses them
# all), plus what opening and reading every file on 2 threads costs without hashing.
head -c $((1 << 30)) /dev/urandom > "$work/1g"
cat "$work/1g" >/dev/null
hash_s=(); read_s=()
for _ in $(seq "$RUNS"); do
  hash_s+=("$(seconds $B/composefs-info measure-file "$work/1g")")
  read_s+=("$(seconds bash -c "find '$tree' -xdev -type f -print0 | xargs -0 -P2 -n 256 cat >/dev/null")")
done
rm -f "$work/1g"
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
hash_mibs=$(echo "1024 / $(med "${hash_s[@]}")" | bc -l)
rates=(); for h in "${hash_s[@]}"; do rates+=("$(echo "1024 / $h" | bc -l)"); done
result limits "multi-buffer hashing, every core" throughput MiB/s "${rates[@]}"
result limits "open + read every file, 2 threads (warm)" wall s "${read_s[@]}"
result limits "warm full-store build limit" wall s "$(echo "$mib / $hash_mibs + $(med "${read_s[@]}")" | bc -l)"
if has_upstream mkcomposefs; then
  build "upstream mkcomposefs, empty store" "rm -rf $work/ustore" \
    $U/mkcomposefs --digest-store="$work/ustore" "$tree" "$work/uimage.cfs"
  build "upstream mkcomposefs, full store" "true" \
    $U/mkcomposefs --digest-store="$work/ustore" "$tree" "$work/uimage.cfs"
  rm -rf "$work/ustore" "$work/uimage.cfs"
fi
result size "composefs image" size MiB "$(echo "$(stat -c %s "$work/image.cfs") / 1048576" | bc -l)"
result size "composefs store" size MiB "$(echo "$(du -sb "$work/store" | cut -f1) / 1048576" | bc -l)"
build "mkfs.erofs (full image)" "rm -f $work/full.erofs" mkfs.erofs --quiet "$work/full.erofs" "$tree"
result size "mkfs.erofs image" size MiB "$(echo "$(stat -c %s "$work/full.erofs") / 1048576" | bc -l)"
rm -f "$work/full.erofs"
build "mksquashfs (lz4)" "rm -f $work/full.sqfs" \
  mksquashfs "$tree" "$work/full.sqfs" -comp lz4 -no-progress -quiet -processors "$(nproc)"
result size "mksquashfs image" size MiB "$(echo "$(stat -c %s "$work/full.sqfs") / 1048576" | bc -l)"
if [ -n "${KEEP:-}" ]; then
  mkdir -p "$KEEP"
  mv "$work/image.cfs" "$work/store" "$work/full.sqfs" "$KEEP"/
fi
