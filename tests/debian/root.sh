#!/usr/bin/env bash
# Prints the path of a Debian 12 root made by debootstrap for the tests, building it the first
# time (about a minute; kept in the test cache, see common.sh). Recipes:
#   selinux   --variant=minbase with selinux-policy-default (its file_contexts built by
#             semodule in the root), plus an empty /sysroot: a tree `--bootable` accepts.
#   boot      --variant=minbase with systemd, initramfs-tools, dracut-core, what our package depends on,
#             and Debian's 6.12 kernel (bookworm-backports, installed in the root by the root's
#             own apt), plus /sysroot: a system to boot from a composefs image
#             (tests/boot/vm-boot.sh). No initramfs is made here: the tests make it with ours.
# Every mtime is set to one whole second, because OCI layers (tar) keep no nanoseconds: the
# root and a tar of it are then the same tree. A change to this script makes the roots anew.
#   root.sh RECIPE      exit 77 when it cannot be built (1 under CI=true)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
recipe=${1:?usage: root.sh RECIPE}
case $recipe in
  selinux) include=selinux-policy-default kernel= ;;
  boot) include=systemd,systemd-sysv,udev,kmod,initramfs-tools,e2fsprogs,fuse3,libcurl4,libipsec-mb1,libisal2,libpcre2-8-0,libssl3,libzstd1,zlib1g,libtomlplusplus3,dracut-core
        kernel=linux-image-amd64/bookworm-backports ;;
  *) echo "root.sh: unknown recipe $recipe (selinux, boot)" >&2; exit 2 ;;
esac
command -v debootstrap >/dev/null || unavailable "debootstrap is not installed (scripts/setup.sh installs it)"
[ "$(id -u)" = 0 ] || unavailable "debootstrap needs root"

cache=$(test_cache_dir)
out=$cache/debian-$recipe
stamp=$(sha256sum "$0" | cut -c1-16)
mkdir -p "$cache"
exec 9>"$cache/debian-$recipe.lock"
flock 9  # one build at a time; the others wait and find it made
if [ "$(cat "$out/recipe" 2>/dev/null)" != "$stamp" ]; then
  mirror=$(debian_mirror) || unavailable "no Debian mirror to debootstrap from"
  work=$(mktemp -d "$cache/debian-$recipe.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "root.sh: debootstrap $recipe from $mirror (once per machine)" >&2
  debootstrap --variant=minbase --include="$include" bookworm "$work/root" "$mirror" >"$work/log" 2>&1 ||
    { tail -20 "$work/log" >&2; unavailable "debootstrap failed (log above)"; }
  if [ -n "$kernel" ]; then
    # The root's own apt, in a private mount namespace (its /proc leaves nothing behind); no
    # initramfs now (update_initramfs=no while installing: the tests build one with ours).
    conf=$work/root/etc/initramfs-tools/update-initramfs.conf
    sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$conf"
    echo "deb $mirror bookworm-backports main" >"$work/root/etc/apt/sources.list.d/backports.list"
    unshare -m --propagation private sh -c '
      mount -t proc proc "$1/proc" &&
      chroot "$1" apt-get -qq update &&
      DEBIAN_FRONTEND=noninteractive chroot "$1" apt-get -qq install -y --no-install-recommends "$2"' \
      sh "$work/root" "$kernel" >>"$work/log" 2>&1 || { tail -20 "$work/log" >&2; unavailable "installing $kernel in the root failed"; }
    sed -i 's/^update_initramfs=.*/update_initramfs=yes/' "$conf"
    rm -f "$work/root/boot/initrd.img-"*  # made by the kernel's hook all the same
  fi
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*_*
  mkdir -p "$work/root/sysroot"
  find "$work/root" -depth -exec touch -h -d @1700000000 {} +
  echo "$stamp" >"$work/recipe"
  rm -rf "$out"
  mv "$work" "$out"
  rm -f "$out/log"
  trap - EXIT
fi
echo "$out/root"
