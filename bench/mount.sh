#!/usr/bin/env bash
# Benchmark (not a test): ls -lR (cold and warm), read throughput of a READ_MB subset of the
# largest files (cold and warm) and the per-open cost (every file of SMALL_DIR opened and read,
# warm) over: the plain TREE, the kernel composefs mount, composefs-fuse with passthrough,
# with user-space reads and with opens that send no request (noopen), upstream's composefs-fuse (UPSTREAM_BIN), a squashfs image (kernel
# and squashfuse). Root.
#   bench/mount.sh [TREE]   RUNS (3), READ_MB (1000); IMAGE/STORE/SQUASHFS reuse built ones;
#                           SLOW_RUNS (1): ls -lR runs over squashfuse, which is slow;
#                           SMALL_DIR (share/doc): a directory of TREE with many small files
cd "$(dirname "$0")/.."
source bench/lib.sh
tree=${1:-/usr}
read_mb=${READ_MB:-1000}
work=$(mktemp -d /var/tmp/cfs-bench.XXXXXX)
targets=(plain kernel fuse fuse-userspace fuse-noopen upstream-fuse squashfs squashfuse)
small_dir=${SMALL_DIR:-share/doc}
cleanup() {
  for t in "${targets[@]}"; do umount "$work/$t" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
image=${IMAGE:-$work/image.cfs}; store=${STORE:-$work/store}; sqfs=${SQUASHFS:-$work/full.sqfs}
[ -e "$image" ] || $B/mkcomposefs --digest-store="$store" "$tree" "$image"
[ -e "$sqfs" ] || mksquashfs "$tree" "$sqfs" -comp lz4 -no-progress -quiet >/dev/null
for t in "${targets[@]}"; do mkdir -p "$work/$t"; done
mount --bind "$tree" "$work/plain"
$B/mount.composefs -o ro,basedir="$store" "$image" "$work/kernel"
$B/composefs-fuse -o source="$image",basedir="$store" "$work/fuse"
$B/composefs-fuse -o source="$image",basedir="$store",nopassthrough "$work/fuse-userspace"
$B/composefs-fuse -o source="$image",basedir="$store",noopen "$work/fuse-noopen"
mount -t squashfs -o ro,loop "$sqfs" "$work/squashfs"
if has_upstream composefs-fuse; then
  $U/composefs-fuse -o source="$image",basedir="$store" "$work/upstream-fuse"
else
  targets=("${targets[@]/upstream-fuse}")
fi
if command -v squashfuse >/dev/null; then squashfuse "$sqfs" "$work/squashfuse"; else targets=("${targets[@]/squashfuse}"); fi

# The read set: the largest files, up to READ_MB MiB in all.
(cd "$tree" && find . -xdev -type f -size +64k -printf '%s %p\n' | sort -rn |
  awk -v lim=$((read_mb << 20)) '{ if (s + $1 <= lim) { s += $1; print $2 } }') > "$work/files"
total=$(cd "$tree" && xargs -d '\n' stat -c %s < "$work/files" | awk '{s+=$1} END {print s}')
echo "read set: $(wc -l < "$work/files") files, $((total >> 20)) MiB"
if [ -d "$tree/$small_dir" ]; then
  echo "small files: $(find "$tree/$small_dir" -xdev -type f | wc -l) files of $tree/$small_dir"
else
  echo "small files: $tree/$small_dir is missing: not measured"; small_dir=
fi
# FUSE verifies each object on its first open; time that once, apart.
drop_caches
result mount "fuse: first open + verify of read set" wall s \
  "$(seconds sh -c "cd '$work/fuse' && xargs -d '\n' cat < '$work/files'")"

for t in "${targets[@]}"; do
  [ -n "$t" ] || continue
  dir="$work/$t"
  cold=(); warm=(); rcold=(); rwarm=()
  runs=$RUNS
  [ "$t" != squashfuse ] || runs=${SLOW_RUNS:-1}  # two minutes per ls -lR of /usr
  for _ in $(seq "$runs"); do drop_caches; cold+=("$(seconds ls -lR "$dir")"); done
  for _ in $(seq "$runs"); do warm+=("$(seconds ls -lR "$dir")"); done
  read_all="cd '$dir' && xargs -d '\n' cat < '$work/files'"
  for _ in $(seq "$RUNS"); do drop_caches; rcold+=("$(echo "$total / 1048576 / $(seconds sh -c "$read_all")" | bc -l)"); done
  for _ in $(seq "$RUNS"); do rwarm+=("$(echo "$total / 1048576 / $(seconds sh -c "$read_all")" | bc -l)"); done
  result mount "$t" "ls -lR cold" s "${cold[@]}"
  result mount "$t" "ls -lR warm" s "${warm[@]}"
  result mount "$t" "read cold" MiB/s "${rcold[@]}"
  result mount "$t" "read warm" MiB/s "${rwarm[@]}"
  if [ -n "$small_dir" ]; then
    opens=(); small="find '$dir/$small_dir' -type f -exec cat {} +"
    sh -c "$small" >/dev/null 2>&1  # warm: the page cache and the server's caches filled
    for _ in $(seq "$RUNS"); do opens+=("$(seconds sh -c "$small")"); done
    result mount "$t" "small files warm" s "${opens[@]}"
  fi
done
