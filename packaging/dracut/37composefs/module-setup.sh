#!/bin/bash
# dracut module (installed as /usr/lib/dracut/modules.d/37composefs): composefs-setup-root and
# the unit that runs it in the initrd once /sysroot is mounted.

check() {
  require_binaries /usr/sbin/composefs-setup-root || return 1
  return 0
}

depends() {
  echo systemd
  return 0
}

installkernel() {
  instmods erofs overlay loop sha256_generic sha512_generic
}

install() {
  inst_binary /usr/sbin/composefs-setup-root
  [ -e /usr/lib/composefs/setup-root-conf.toml ] && inst_simple /usr/lib/composefs/setup-root-conf.toml
  inst_simple "$moddir/composefs-setup-root.service" "$systemdsystemunitdir/composefs-setup-root.service"
  # Required, not wanted: if it fails, initrd-root-fs.target is never reached, so the initrd
  # cannot switch into the bare physical root.
  $SYSTEMCTL -q --root "$initdir" add-requires initrd-root-fs.target composefs-setup-root.service
}
