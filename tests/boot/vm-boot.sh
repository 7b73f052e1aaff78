#!/usr/bin/env bash
# Boots Debian from a composefs image in a QEMU VM (TCG, Debian's 6.12 kernel) and checks what
# the booted system sees. The system: the cached Debian root of tests/debian/root.sh (boot)
# with this build's files installed as the Debian package installs them, a proof service
# (tests/boot/system) and its initramfs made by initramfs-tools with our hook, or by dracut
# with our module (--initramfs dracut: the first boot and the wrong digest only). Then:
#   1. in a VM on a disk with fs-verity (tests/vm/vm.sh --disk; guest-prepare.sh): a secure
#      repository at /composefs with two versions of the system as bootable images,
#      `cfsctl prepare-boot` entries in /boot, the object of one file replaced by other bytes
#      with their own fs-verity, and a gc that keeps both images because entries name them;
#   2. boots of that disk with each entry's kernel, initramfs and command line: / is the
#      composefs overlay with verity=require and read-only, /etc an overlay whose change
#      survives a reboot (seen when rolling back), /var the bind, /sysroot the disk, the tampered file EIO and the rest
#      readable; the second image, then back to the first (rollback); a wrong digest stops in
#      the initramfs' emergency shell with composefs-setup-root's line;
#   3. a UKI (systemd's stub + kernel, initramfs and the entry's command line) booted by UEFI
#      firmware (OVMF) from an EFI system partition;
#   4. the same system on a plain ext4 disk, for the boot time beside it.
# Every mount is made in a private mount namespace and every file under the test cache, so
# nothing is left behind. Exit 0 when all checks pass, 1 when one fails, 77 when something it
# needs is missing (1 under CI=true).
#   vm-boot.sh [--initramfs initramfs-tools|dracut] BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../debian/common.sh"
if [ -z "${CFS_BOOT_NAMESPACE:-}" ] && [ "$(id -u)" = 0 ]; then
  exec env CFS_BOOT_NAMESPACE=1 unshare -m --propagation private bash "$0" "$@"
fi
initramfs=initramfs-tools
if [ "${1:-}" = --initramfs ]; then initramfs=$2; shift 2; fi
case $initramfs in
  initramfs-tools) shell_marker="(initramfs)" ;;  # its panic shell's prompt
  dracut) shell_marker="Entering emergency mode" ;;  # dracut-emergency's
  *) echo "vm-boot.sh: --initramfs initramfs-tools or dracut" >&2; exit 2 ;;
esac
build=$(cd "${1:?usage: vm-boot.sh [--initramfs initramfs-tools|dracut] BUILD_DIR}" && pwd)
[ "$(id -u)" = 0 ] || unavailable "booting a composefs root needs root (mounts, chroot)"
command -v qemu-system-x86_64 >/dev/null || unavailable "qemu-system-x86_64 is not installed"
for f in /usr/lib/systemd/boot/efi/linuxx64.efi.stub /usr/share/ovmf/OVMF.fd /usr/bin/mcopy /usr/sbin/mkfs.fat; do
  [ -e "$f" ] || unavailable "$f is missing (systemd-boot-efi, ovmf, mtools, dosfstools: scripts/setup.sh)"
done
[ -x "$build/tools/cfsctl" ] && [ -x "$build/tools/composefs-setup-root" ] || unavailable "build $build first"

root=$(bash "$here/../debian/root.sh" boot) || exit $?
kver=$(ls "$root/usr/lib/modules")
cache=$(test_cache_dir)
work=$(mktemp -d "$cache/boot.XXXXXX")
trap 'set +e; umount -R "$work/mnt.2" "$work/mnt.1" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 143' TERM INT  # (so that the EXIT trap cleans up)
failures=0
check() {  # check NAME LOG EXPECTED-LINE: the console log has the line (a fixed string)
  if grep -qF -- "$3" "$2"; then
    echo "ok:     $1"
  else
    echo "FAILED: $1: no \"$3\" on the console ($2)"
    failures=$((failures + 1))
  fi
}

# 1. The two systems: overlays on the cached root (version 1), and on that (version 2).
system() {  # system N LOWER: mounts $work/mnt.N, prints its path
  local n=$1 lower=$2
  local dir=$work/mnt.$n
  mkdir -p "$dir" "$work/upper.$n" "$work/ovl-work.$n"
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$work/upper.$n,workdir=$work/ovl-work.$n" "$dir"
  echo "$n" >"$dir/etc/cfs-version"
  echo "$dir"
}
system1=$(system 1 "$root")
DESTDIR=$system1 cmake --install "$build" --component runtime --prefix /usr >/dev/null
install -m 0755 "$here/system/cfs-proof" "$system1/usr/local/sbin/cfs-proof"
install -m 0644 "$here/system/cfs-proof.service" "$system1/etc/systemd/system/cfs-proof.service"
ln -sf /etc/systemd/system/cfs-proof.service "$system1/etc/systemd/system/multi-user.target.wants/cfs-proof.service"
mkdir -p "$system1/usr/share/cfs-proof"
head -c 8192 /dev/urandom >"$system1/usr/share/cfs-proof/victim"
head -c 8192 /dev/urandom >"$system1/usr/share/cfs-proof/intact"
# The initramfs, by initramfs-tools with our hook or dracut with our module, holding only the
# drivers named (a chroot cannot detect this VM's hardware), where composefs-rs's layout has
# kernel and initramfs.
cp "$system1/boot/vmlinuz-$kver" "$system1/usr/lib/modules/$kver/vmlinuz"
initrd=/usr/lib/modules/$kver/initramfs.img
mount -t proc proc "$system1/proc"
if [ "$initramfs" = dracut ]; then
  chroot "$system1" dracut -q --force --no-hostonly --kver "$kver" \
    --modules "systemd systemd-initrd dracut-systemd base rootfs-block fs-lib kernel-modules udev-rules composefs" \
    --drivers "virtio_pci virtio_blk ext4" "$initrd" 2>"$work/initramfs.log"
else
  echo MODULES=list >"$system1/etc/initramfs-tools/conf.d/cfs-test"
  printf '%s\n' virtio_pci virtio_blk ext4 >"$system1/etc/initramfs-tools/modules"
  chroot "$system1" mkinitramfs -o "$initrd" "$kver" 2>"$work/initramfs.log"
fi || { cat "$work/initramfs.log"; exit 1; }
umount "$system1/proc"
chroot "$system1" lsinitramfs "$initrd" | grep -q 'usr/sbin/composefs-setup-root$' ||
  { echo "FAILED: the initramfs has no composefs-setup-root (our $initramfs integration did not run)"; exit 1; }
system2=$(system 2 "$system1")

# 2. The boot disk, prepared in a VM with fs-verity.
kargs="root=/dev/vda rw console=ttyS0 quiet"
truncate -s 4G "$work/disk.img"
mkfs.ext4 -q -F -O verity "$work/disk.img"
bash "$here/../vm/vm.sh" --timeout 1200 --disk "$work/disk.img" 6.12 -- \
  bash "$here/guest-prepare.sh" "$build/tools/cfsctl" "$system1" "$system2" "$kargs" | tee "$work/prepare.log"
id1=$(sed -n 's/.*CFS-BOOT id1=\([0-9a-f]*\).*/\1/p' "$work/prepare.log")
id2=$(sed -n 's/.*CFS-BOOT id2=\([0-9a-f]*\).*/\1/p' "$work/prepare.log")
[ -n "$id1" ] && [ -n "$id2" ] || { echo "FAILED: the disk was not prepared"; exit 1; }
check "gc keeps image 1 while an entry names it" "$work/prepare.log" "CFS-BOOT kept $id1"
check "gc keeps image 2 while an entry names it" "$work/prepare.log" "CFS-BOOT kept $id2"

# The entries, as a boot loader reads them, with debugfs: the disk has fs-verity, which this
# host's kernel may not mount (the guest powered off without unmounting: journal first).
e2fsck -E journal_only -p "$work/disk.img" >/dev/null
disk_cat() { debugfs -R "cat $1" "$work/disk.img" 2>/dev/null; }
field() { sed -n "s/^$1 *//p" | head -1; }
for entry in $(debugfs -R "ls -p /boot/loader/entries" "$work/disk.img" 2>/dev/null | awk -F/ '$6 ~ /\.conf$/ { print $6 }'); do
  text=$(disk_cat "/boot/loader/entries/$entry")
  for n in 1 2; do
    id=id$n
    grep -q -- "${!id}" <<<"$text" || continue
    disk_cat "/boot$(field linux <<<"$text")" >"$work/vmlinuz.$n"
    disk_cat "/boot$(field initrd <<<"$text")" >"$work/initrd.$n"
    field options <<<"$text" >"$work/options.$n"
  done
done
for n in 1 2; do
  [ -s "$work/options.$n" ] && [ -s "$work/vmlinuz.$n" ] && [ -s "$work/initrd.$n" ] ||
    { echo "FAILED: no boot entry (with kernel and initramfs) names image $n"; exit 1; }
done

# make_uki KERNEL INITRD CMDLINE OS-RELEASE OUT: systemd-boot-efi's stub with the four as PE
# sections, each placed after the stub's own, page-aligned (as ukify does).
make_uki() {
  local stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub align=4096 end=0 name size vma next
  while read -r _ name size vma _; do
    (( 0x$vma + 0x$size > end )) && end=$(( 0x$vma + 0x$size ))
  done < <(objdump -h "$stub" | awk 'NF == 7 && $1 ~ /^[0-9]+$/')
  printf '%s' "$3" >"$work/uki.cmdline"
  next=$(( (end + align - 1) / align * align ))
  local args=() section file
  for section in osrel:"$4" cmdline:"$work/uki.cmdline" linux:"$1" initrd:"$2"; do
    file=${section#*:}
    args+=(--add-section ".${section%%:*}=$file" --change-section-vma ".${section%%:*}=$(printf 0x%x "$next")")
    next=$(( (next + $(stat -L -c %s "$file") + align - 1) / align * align ))
  done
  objcopy "${args[@]}" "$stub" "$5"
}

times=()
boot() {  # boot NAME DISK KERNEL INITRD CMDLINE: until the proof is done or an emergency shell
  qemu_boot "$1" "$2" -kernel "$3" -initrd "$4" -append "$5"
}
qemu_boot() {  # qemu_boot NAME DISK QEMU-ARGS...: the disk is /dev/vda
  local log=$work/$1.log start=$SECONDS proof= disk=$2
  shift 2
  timeout --kill-after=10 600 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 \
    -nographic -no-reboot -serial "file:$log" -monitor none -display none -net none \
    -drive "file=$disk,if=virtio,format=raw,cache=unsafe" "$@" </dev/null >/dev/null 2>&1 &
  local qemu=$!
  while kill -0 "$qemu" 2>/dev/null; do
    [ -z "$proof" ] && grep -q "CFS-PROOF-START" "$log" 2>/dev/null && proof=$((SECONDS - start))
    grep -qF -e CFS-PROOF-DONE -e "$shell_marker" "$log" 2>/dev/null && { sleep 2; break; }
    sleep 1
  done
  kill "$qemu" 2>/dev/null || true
  wait "$qemu" 2>/dev/null || true
  times+=("$(printf '%-18s power-on to the proof service: %s' "$(basename "$log" .log)" "${proof:+$proof s}")")
}

boot composefs-1 "$work/disk.img" "$work/vmlinuz.1" "$work/initrd.1" "$(cat "$work/options.1")"
log=$work/composefs-1.log
check "the entry's argument names image 1" "$work/options.1" "$id1"
check "/ is the composefs overlay with verity=require" "$log" "verity=require"
grep -q "^CFS-PROOF root: overlay ro," "$log" && echo "ok:     / is a read-only overlay" ||
  { echo "FAILED: / is not a read-only overlay: $(grep 'CFS-PROOF root:' "$log" | head -1)"; failures=$((failures + 1)); }
check "/ cannot be written" "$log" "CFS-PROOF root: read-only"
check "image 1 booted" "$log" "CFS-PROOF version: 1"
check "/etc is an overlay" "$log" "CFS-PROOF etc: overlay"
check "/var is the bind from the deployment's state" "$log" "/state/deploy/$id1/var]"
check "/sysroot is the disk" "$log" "CFS-PROOF sysroot: ext4"
check "the replaced object reads EIO" "$log" "CFS-PROOF victim: cat: /usr/share/cfs-proof/victim: Input/output error"
check "the other files read" "$log" "CFS-PROOF intact: readable"
check "/etc written on the first boot" "$log" "CFS-PROOF etc-boots: 1"

wrong=$(printf '%0128d' 0)
boot wrong-digest "$work/disk.img" "$work/vmlinuz.1" "$work/initrd.1" "$(sed "s/$id1/$wrong/" "$work/options.1")"
check "a wrong digest: composefs-setup-root's line" "$work/wrong-digest.log" "composefs-setup-root: no composefs image found (tried: $wrong)"
check "a wrong digest: the emergency shell" "$work/wrong-digest.log" "$shell_marker"
if grep -q "CFS-PROOF-START" "$work/wrong-digest.log"; then
  echo "FAILED: a wrong digest booted a system"
  failures=$((failures + 1))
fi

# Reboot, the next image, rollback, and the same system on plain ext4 (booted by the same kernel
# and initramfs) for the boot time beside it: with initramfs-tools, Debian's default.
if [ "$initramfs" = initramfs-tools ]; then
  boot composefs-2 "$work/disk.img" "$work/vmlinuz.2" "$work/initrd.2" "$(cat "$work/options.2")"
  check "the next image boots" "$work/composefs-2.log" "CFS-PROOF version: 2"
  check "the next image has its own /etc" "$work/composefs-2.log" "CFS-PROOF etc-boots: 1"

  boot rollback "$work/disk.img" "$work/vmlinuz.1" "$work/initrd.1" "$(cat "$work/options.1")"
  check "rolling back boots image 1 again" "$work/rollback.log" "CFS-PROOF version: 1"
  check "image 1's change to /etc survived its reboot" "$work/rollback.log" "CFS-PROOF etc-boots: 2"

  # A UKI: systemd's stub with the entry's kernel, initramfs and command line, booted by UEFI
  # firmware (OVMF) from an EFI system partition.
  make_uki "$work/vmlinuz.1" "$work/initrd.1" "$(cat "$work/options.1")" "$system1/usr/lib/os-release" "$work/uki.efi"
  mkfs.fat -C "$work/esp.img" 65536 >/dev/null
  mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
  mcopy -i "$work/esp.img" "$work/uki.efi" ::/EFI/BOOT/BOOTX64.EFI
  qemu_boot uki "$work/disk.img" -bios /usr/share/ovmf/OVMF.fd \
    -drive "file=$work/esp.img,if=virtio,format=raw,cache=unsafe"
  check "a UKI boots image 1" "$work/uki.log" "CFS-PROOF version: 1"
  check "a UKI boots it with verity=require" "$work/uki.log" "verity=require"
  check "a UKI boots it with its /etc" "$work/uki.log" "CFS-PROOF etc-boots: 3"

  umount "$system2"
  truncate -s 2G "$work/plain.img"
  mkfs.ext4 -q -F -d "$system1" "$work/plain.img"
  boot plain-ext4 "$work/plain.img" "$work/vmlinuz.1" "$work/initrd.1" "$kargs"
  check "the plain ext4 root boots" "$work/plain-ext4.log" "CFS-PROOF root: ext4"
fi

printf 'boot time: %s\n' "${times[@]}"
echo "vm-boot: $failures failed checks"
[ "$failures" = 0 ]
