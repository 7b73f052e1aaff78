#!/usr/bin/env bash
# Runs the README's test command as CI does (CI=true bash .ci/run on a clean clone, ../shared
# beside it) inside a fresh Debian 12 root made by debootstrap --variant=minbase with git:
# the check that setup.sh installs everything a bare machine lacks. Root only. The root is
# entered with pivot_root in a private mount namespace, not chroot (a chrooted process may
# not make user or mount namespaces, which the tests do), with /proc, /sys, /dev and an
# /etc/mtab link as a booted system has them; /tmp stays on disk, as Debian 12 has it (EROFS
# cannot be backed by a tmpfs file). Takes 15-25 minutes.
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
rm -rf "$root/srv/ci" && mkdir -p "$root/srv/ci"
git clone -q "$PWD" "$root/srv/ci/main"
[ -d ../shared ] && cp -a ../shared "$root/srv/ci/shared"
# Everything mounted here lives in the private namespace and goes with it.
unshare --mount --propagation private --fork -- /bin/bash -euc '
  root=$1
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount -t sysfs sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mkdir -p "$root/.oldroot"
  cd "$root" && pivot_root . .oldroot
  umount -l /.oldroot && rmdir /.oldroot
  exec /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true \
    /bin/bash -c "cd /srv/ci/main && bash .ci/run"' _ "$root"
echo "fresh-debian-check: passed"
