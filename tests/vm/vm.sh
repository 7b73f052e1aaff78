#!/usr/bin/env bash
# Runs a command on one of Debian's kernels in a QEMU virtual machine (TCG), with this
# machine's root filesystem shared read-only, so the build tree runs unchanged on the guest
# kernel, and /tmp on an ext4 disk with fs-verity. The kernel packages are downloaded (never
# installed) through a private apt state under the cache; the system's sources, lists and
# packages are untouched. See tests/vm/README.md.
#
#   vm.sh [--cache DIR] [--timeout SECONDS] [--disk FILE] KERNEL -- COMMAND [ARG...]
#     --disk   the guest's /tmp is this ext4 image (made with -O verity by the caller) and is
#              kept, rather than a new empty disk
#     KERNEL   6.1 (bookworm) or 6.12 (bookworm-backports)
#   Exit status: the command's; 77 when QEMU or the kernel cannot be had (1 under CI=true);
#   124 when the guest ran out of time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../debian/common.sh"
cache=$(test_cache_dir)/vm
timeout=600
while [ $# -gt 0 ]; do
  case $1 in
    --cache) cache=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --disk) disk=$(realpath "$2"); shift 2 ;;
    --) shift; break ;;
    -*) echo "vm.sh: unknown option $1" >&2; exit 2 ;;
    *) kernel=$1; shift ;;
  esac
done
[ "${1:-}" = -- ] && shift
[ -n "${kernel:-}" ] && [ $# -gt 0 ] || { echo "usage: vm.sh [--cache DIR] [--timeout S] [--disk FILE] KERNEL -- COMMAND..." >&2; exit 2; }

command -v qemu-system-x86_64 >/dev/null || unavailable "qemu-system-x86_64 is not installed (scripts/setup.sh installs it)"
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q "statically linked" ||
  unavailable "a static /bin/busybox is needed for the initramfs (busybox-static)"
[ "$(uname -m)" = x86_64 ] || unavailable "the VM harness runs x86-64 guests on x86-64 only"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
"$here/kernel.sh" "$cache" "$kernel" >&2 || unavailable "Debian's $kernel kernel could not be fetched"
kdir=$cache/linux-$kernel

# The run: the command as a script the guest finds through the shared root (not in /tmp,
# which the guest covers with the verity disk), and that disk, new each time.
run=$(mktemp -d "$cache/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
{
  echo "cd $(printf %q "$PWD")"
  for v in CI CFS_VECTORS GTEST_COLOR; do [ -n "${!v:-}" ] && echo "export $v=$(printf %q "${!v}")"; done
  printf '%q ' "$@"
  echo
} >"$run/command.sh"
if [ -z "${disk:-}" ]; then
  disk=$run/disk.img
  truncate -s 1G "$disk"
  mkfs.ext4 -q -F -O verity "$disk"
fi

set +e
timeout --kill-after=10 "$timeout" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 3072 \
  -nographic -no-reboot -serial stdio -monitor none -display none \
  -kernel "$kdir/vmlinuz" -initrd "$kdir/initrd.img" \
  -append "console=ttyS0 quiet panic=-1 cfs.run=$run/command.sh" \
  -net none -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
  -drive file="$disk",if=virtio,format=raw,cache=unsafe </dev/null | tee "$run/console.log"
status=${PIPESTATUS[0]}
set -e
[ "$status" = 124 ] && { echo "vm.sh: the guest did not finish within ${timeout}s" >&2; exit 124; }
rc=$(sed -n 's/^CFS-VM-EXIT=\([0-9]*\).*/\1/p' "$run/console.log" | tail -1)
[ -n "$rc" ] || { echo "vm.sh: the guest ended without running the command (QEMU status $status)" >&2; exit 1; }
exit "$rc"
