#!/usr/bin/env bash
# Runs the README's test command as CI does (CI=true bash .ci/run on a clean clone, ../shared
# beside it) inside a fresh Debian 12 root made by debootstrap --variant=minbase with git:
# the check that setup.sh installs everything a bare machine lacks. Root only; the chroot gets
# /proc, /sys, /dev and a /etc/mtab link as a booted system has them. Takes 15-25 minutes.
#   scripts/fresh-debian-check.sh [ROOT_DIR]   (default /srv/composefs-fresh; reused if there)
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-/srv/composefs-fresh}
[ "$(id -u)" -eq 0 ] || { echo "fresh-debian-check: needs root"; exit 1; }
if [ ! -x "$root/usr/bin/git" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  debootstrap --variant=minbase --include=git,ca-certificates bookworm "$root" http://deb.debian.org/debian
fi
ln -sf /proc/self/mounts "$root/etc/mtab"
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -rf "$root/root/ci" && mkdir -p "$root/root/ci"
git clone -q "$PWD" "$root/root/ci/main"
[ -d ../shared ] && cp -a ../shared "$root/root/ci/shared"
cleanup() {
  for m in tmp dev/pts dev sys proc; do umount -l "$root/$m" 2>/dev/null || true; done
}
trap cleanup EXIT
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mount -t tmpfs tmp "$root/tmp"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true \
  bash -c 'cd /root/ci/main && bash .ci/run'
echo "fresh-debian-check: passed"
