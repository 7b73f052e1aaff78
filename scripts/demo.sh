#!/usr/bin/env bash
# Quick start: set up, build a composefs image of a real directory (default /usr/share/doc)
# into a shared object store, mount it with the kernel through mount.composefs (the image
# pinned by its digest) and with composefs-fuse (every object verified), and check that both
# mounts equal the source. Mounting needs root; the build does not.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
tools=$PWD/build/tools
src=${1:-/usr/share/doc}
work=$(mktemp -d /tmp/composefs-demo.XXXXXX)
cleanup() {
  umount "$work/mnt" 2>/dev/null || true
  umount "$work/fuse" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/mnt" "$work/fuse"
echo "== mkcomposefs --digest-store=$work/store $src $work/image.cfs"
digest=$("$tools/mkcomposefs" --print-digest --digest-store="$work/store" "$src" "$work/image.cfs")
echo "image: $(stat -c %s "$work/image.cfs") bytes, digest $digest," \
  "$("$tools/composefs-info" objects "$work/image.cfs" | wc -l) objects, store $(du -sh "$work/store" | cut -f1)"
if [ "$(id -u)" -ne 0 ]; then echo "(not root: skipping the mounts)"; exit 0; fi

echo "== mount.composefs -o basedir=$work/store,digest=$digest $work/image.cfs $work/mnt"
"$tools/mount.composefs" -o "basedir=$work/store,digest=$digest" "$work/image.cfs" "$work/mnt"
ls -la "$work/mnt" | sed -n 1,6p
diff -r --no-dereference "$src" "$work/mnt" && echo "kernel mount identical: every file reads back from the store"
umount "$work/mnt"

echo "== composefs-fuse -o source=$work/image.cfs,basedir=$work/store $work/fuse"
"$tools/composefs-fuse" -o "source=$work/image.cfs,basedir=$work/store" "$work/fuse"
diff -r --no-dereference "$src" "$work/fuse" && echo "FUSE mount identical: every object verified against its digest"
umount "$work/fuse"
