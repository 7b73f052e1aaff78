#!/usr/bin/env bash
# Benchmark (not a test): ls -lR and read throughput over the kernel composefs mount and the
# composefs-fuse mount (passthrough, and user-space reads) of an image of TREE (default /usr),
# side by side with TREE itself. Cold runs drop caches first. Medians of RUNS.
#   bench/mount.sh [TREE] [RUNS] [READ_MB]      (root)
set -euo pipefail
cd "$(dirname "$0")/.."
tree=${1:-/usr}; runs=${2:-5}; read_mb=${3:-1500}
B=$PWD/build/tools
work=$(mktemp -d /var/tmp/cfs-bench.XXXXXX)
cleanup() {
  for m in mnt fuse fuse-nopt; do umount "$work/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/mnt" "$work/fuse" "$work/fuse-nopt"
echo "building image + store of $tree ..."
$B/mkcomposefs --digest-store="$work/store" "$tree" "$work/image.cfs"
$B/mount.composefs -o ro,basedir="$work/store" "$work/image.cfs" "$work/mnt"
$B/composefs-fuse -o source="$work/image.cfs",basedir="$work/store" "$work/fuse"
$B/composefs-fuse -o source="$work/image.cfs",basedir="$work/store",nopassthrough "$work/fuse-nopt"
# The read set: the largest files up to READ_MB MiB, as paths relative to the tree.
(cd "$tree" && find . -xdev -type f -size +64k -printf '%s %p\n' | sort -rn |
  awk -v lim=$((read_mb << 20)) '{ if (s + $1 <= lim) { s += $1; print $2 } }') > "$work/files"
total=$(cd "$tree" && xargs -d '\n' stat -c %s < "$work/files" | awk '{s+=$1} END {print s}')
echo "read set: $(wc -l < "$work/files") files, $((total >> 20)) MiB"
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
median() { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }
timeit() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
# The FUSE mounts verify each object on first open: open everything once so that the timed
# runs measure serving, not the one-time verification (reported separately).
s=$(date +%s.%N); (cd "$work/fuse" && xargs -d '\n' cat < "$work/files" >/dev/null); e=$(date +%s.%N)
echo "first open + verification of the read set over FUSE: $(echo "$e - $s" | bc) s"
(cd "$work/fuse-nopt" && xargs -d '\n' cat < "$work/files" >/dev/null)
for target in "$tree" "$work/mnt" "$work/fuse" "$work/fuse-nopt"; do
  case $target in
    "$tree") name="plain $tree" ;;
    "$work/mnt") name="kernel mount" ;;
    "$work/fuse") name="fuse passthrough" ;;
    *) name="fuse user-space" ;;
  esac
  cold=$(for _ in $(seq "$runs"); do drop; timeit ls -lR "$target"; done | median)
  warm=$(for _ in $(seq "$runs"); do timeit ls -lR "$target"; done | median)
  rcold=$(for _ in $(seq "$runs"); do drop; timeit sh -c "cd '$target' && xargs -d '\n' cat < '$work/files'"; done | median)
  rwarm=$(for _ in $(seq "$runs"); do timeit sh -c "cd '$target' && xargs -d '\n' cat < '$work/files'"; done | median)
  printf '%-18s ls -lR cold %6.2f s  warm %6.2f s   read cold %7.0f MiB/s  warm %7.0f MiB/s\n' \
    "$name" "$cold" "$warm" "$(echo "$total / 1048576 / $rcold" | bc -l)" "$(echo "$total / 1048576 / $rwarm" | bc -l)"
done
