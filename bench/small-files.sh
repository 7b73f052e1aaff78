#!/usr/bin/env bash
# Benchmark (not a test): the per-open cost, warm — `find DIR -type f -exec cat {} +` over an
# image of DIR (default /usr/share/doc) — on the kernel composefs mount and on composefs-fuse
# with passthrough (the default) and with noopen, each reading /dev/fuse (uring=off) and over
# io_uring (uring=on, where the kernel has it: fuse.enable_uring is set for the run and given
# back after). Median of RUNS (3). Root.
#   bench/small-files.sh [DIR]
cd "$(dirname "$0")/.."
source bench/lib.sh
dir=${1:-/usr/share/doc}
work=$(mktemp -d /var/tmp/cfs-small.XXXXXX)
param=/sys/module/fuse/parameters/enable_uring
old_param=$(cat "$param" 2>/dev/null || true)
targets=(kernel fuse-devfuse fuse-uring noopen-devfuse noopen-uring)
cleanup() {
  for t in "${targets[@]}"; do umount "$work/$t" 2>/dev/null || true; done
  if [ -n "$old_param" ]; then [ "$old_param" = Y ] && echo 1 > "$param" || echo 0 > "$param"; fi
  rm -rf "$work"
}
trap cleanup EXIT
$B/mkcomposefs --digest-store="$work/store" "$dir" "$work/image.cfs"
for t in "${targets[@]}"; do mkdir -p "$work/$t"; done
fuse() { $B/composefs-fuse -o source="$work/image.cfs",basedir="$work/store","$1" "$work/$2"; }
$B/mount.composefs -o ro,basedir="$work/store" "$work/image.cfs" "$work/kernel"
fuse uring=off fuse-devfuse
fuse noopen,uring=off noopen-devfuse
if [ -n "$old_param" ] && echo 1 > "$param"; then
  fuse uring=on fuse-uring
  fuse noopen,uring=on noopen-uring
else
  echo "FUSE over io_uring: not in this kernel (Linux 6.14+): not measured"
  targets=(kernel fuse-devfuse noopen-devfuse)
fi
echo "small files: $(find "$dir" -xdev -type f | wc -l) files of $dir; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in "${targets[@]}"; do
  small="find '$work/$t' -type f -exec cat {} +"
  sh -c "$small" >/dev/null 2>&1  # warm: the page cache and the server's caches filled
  opens=()
  for _ in $(seq "$RUNS"); do opens+=("$(seconds sh -c "$small")"); done
  result mount "$t" "small files warm" s "${opens[@]}"
done
