#!/bin/busybox sh
# The guest's init (vm.sh): modules, the host's root over 9p (read-only) with /tmp on the ext4
# verity disk, then the command named by cfs.run= in a chroot; its exit status is printed as
# CFS-VM-EXIT=N on the console, and the machine powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/lib/modules/$m" || echo "CFS-VM: insmod $m failed"; done </lib/modules/order
run=$(sed -n 's/.*cfs\.run=\([^ ]*\).*/\1/p' /proc/cmdline)
status=1
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=1048576,cache=loose host /host &&
   mount -t ext4 /dev/vda /host/tmp && chmod 1777 /host/tmp &&
   mount -o bind /proc /host/proc && mount -o bind /sys /host/sys && mount -o bind /dev /host/dev &&
   mount -t tmpfs tmpfs /host/run && mount -t tmpfs tmpfs /host/var/tmp; then
  echo "CFS-VM: kernel $(uname -r)"
  chroot /host /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp /bin/bash "$run"
  status=$?
else
  echo "CFS-VM: the guest could not set up its root"
fi
echo "CFS-VM-EXIT=$status"
sync
poweroff -f
