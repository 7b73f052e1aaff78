#!/usr/bin/env bash
# Quick start: set up, build a composefs image of a real directory (default /usr/share/doc)
# into a shared object store, mount it with the kernel (EROFS + overlayfs, as mount.composefs
# does) and check that the mounted tree equals the source. Needs root for the mount.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
src=${1:-/usr/share/doc}
work=$(mktemp -d /tmp/composefs-demo.XXXXXX)
cleanup() {
  umount "$work/mnt" 2>/dev/null || true
  umount "$work/meta" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/mnt" "$work/meta"
echo "== mkcomposefs --digest-store=$work/store $src $work/image.cfs"
time ./build/tools/mkcomposefs --print-digest --digest-store="$work/store" "$src" "$work/image.cfs"
echo "image: $(stat -c %s "$work/image.cfs") bytes, $(./build/tools/composefs-info objects "$work/image.cfs" | wc -l) objects, store $(du -sh "$work/store" | cut -f1)"
if [ "$(id -u)" -ne 0 ]; then echo "(not root: skipping the mount)"; exit 0; fi
mount -t erofs -o ro "$work/image.cfs" "$work/meta"
mount -t overlay composefs -o "ro,metacopy=on,redirect_dir=on,lowerdir=$work/meta::$work/store" "$work/mnt"
echo "== mounted at $work/mnt:"
ls -la "$work/mnt" | sed -n 1,8p
echo "== comparing the mount with $src"
diff -r --no-dereference "$src" "$work/mnt" && echo "identical: every file reads back from the store"
