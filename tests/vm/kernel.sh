#!/usr/bin/env bash
# Prepares CACHE/linux-KERNEL/{vmlinuz,initrd.img} for vm.sh: Debian's kernel package,
# downloaded through a private apt state (CACHE/apt: its own sources list, lists and package
# cache; the system's are untouched) and unpacked, and a busybox initramfs with the modules the
# guest needs. Does nothing when both files are there.
#   kernel.sh CACHE 6.1|6.12
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1 kernel=$2
out=$cache/linux-$kernel
# What the files are made from: a change to this script or the init makes them anew.
recipe=$(cat "$0" "$here/init.sh" | sha256sum | cut -c1-16)
[ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] && [ "$(cat "$out/recipe" 2>/dev/null)" = "$recipe" ] && exit 0

case $kernel in
  6.1) suite=bookworm ;;
  6.12) suite=bookworm-backports ;;
  *) echo "kernel.sh: unknown kernel $kernel (6.1 or 6.12)" >&2; exit 2 ;;
esac

. "$here/../debian/common.sh"
mirror=$(debian_mirror)
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
for s in bookworm bookworm-backports; do
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main"
done >"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=- -o "Dir::State::Lists=$apt_dir/lists"
          -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root -qq)
apt-get "${apt_opts[@]}" update
# linux-image-amd64 of the suite names the current kernel package.
package=$(apt-cache "${apt_opts[@]}" show "linux-image-amd64/$suite" | sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -1)
[ -n "$package" ] || { echo "kernel.sh: no linux-image-amd64 in $suite" >&2; exit 1; }

work=$(mktemp -d "$cache/prepare.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${apt_opts[@]}" download "$package/$suite")
dpkg-deb -x "$work"/*.deb "$work/pkg"
kver=$(ls "$work/pkg/lib/modules")

# The initramfs: static busybox, our init, and the modules in dependency order (decompressed:
# busybox insmod reads plain .ko files). Nothing loads modules on demand in the guest, so
# SHA-512 (a module on 6.1) is loaded for SHA-512 fs-verity.
root=$work/initramfs
mkdir -p "$root/bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" "$root/host"
cp /bin/busybox "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
depmod -b "$work/pkg" "$kver"
modprobe -d "$work/pkg" -S "$kver" -a --show-depends \
  virtio_pci 9pnet_virtio 9p virtio_blk ext4 erofs overlay loop fuse sha512_generic |
  awk '$1 == "insmod" && !seen[$2]++ { print $2 }' >"$work/modules"
while read -r ko; do
  name=$(basename "$ko")
  case $name in
    *.xz) xz -dc "$ko" >"$root/lib/modules/${name%.xz}"; name=${name%.xz} ;;
    *.zst) zstd -qdc "$ko" >"$root/lib/modules/${name%.zst}"; name=${name%.zst} ;;
    *) cp "$ko" "$root/lib/modules/$name" ;;
  esac
  echo "$name" >>"$root/lib/modules/order"
done <"$work/modules"
mkdir -p "$out.new"
(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$out.new/initrd.img"
cp "$work/pkg/boot/vmlinuz-$kver" "$out.new/vmlinuz"
echo "$package $kver" >"$out.new/package"
echo "$recipe" >"$out.new/recipe"
rm -rf "$out"
mv "$out.new" "$out"
echo "kernel.sh: $package ready in $out" >&2
