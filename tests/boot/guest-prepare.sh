#!/usr/bin/env bash
# The first half of vm-boot.sh, in the VM (on a kernel with fs-verity; the boot disk is /tmp):
# a secure repository at /tmp/composefs holding both systems as bootable images, their boot
# entries in /tmp/boot, one object replaced by other bytes that carry their own fs-verity, and
# a gc that must keep both images while entries name them.
#   guest-prepare.sh CFSCTL SYSTEM1 SYSTEM2 KARGS
set -euo pipefail
cfsctl=$1 system1=$2 system2=$3 kargs=$4
repo=/tmp/composefs
extra=()
for a in $kargs; do extra+=(--cmdline "$a"); done

"$cfsctl" --repo "$repo" init >/dev/null
mkdir -p /tmp/boot
for n in 1 2; do
  system=system$n
  # (The console is a terminal: the progress line goes to a file, with any error.)
  id=$("$cfsctl" --repo "$repo" create-image --bootable "${!system}" "system-$n" 2>/tmp/create.log) ||
    { cat /tmp/create.log >&2; exit 1; }
  echo "CFS-BOOT id$n=${id#*:}"
  "$cfsctl" --repo "$repo" prepare-boot "system-$n" --bootdir /tmp/boot --entry-id "system-$n" "${extra[@]}"
done

# The victim's object gets other bytes with fs-verity of their own: a kernel that requires
# verity must refuse it (EIO), and only it.
object=$repo/objects/$("$cfsctl" --repo "$repo" dump-files --backing-path-only system-1 /usr/share/cfs-proof/victim | cut -d' ' -f2)
[ -f "$object" ] || { echo "no object $object for the victim" >&2; exit 1; }
head -c 8192 /dev/zero >"$repo/tampered"
fsverity enable --hash-alg=sha512 "$repo/tampered"
mv -f "$repo/tampered" "$object"
echo "CFS-BOOT tampered $object"

# No refs: only the boot entries keep the images.
rm -f "$repo/images/refs/system-1" "$repo/images/refs/system-2"
"$cfsctl" --repo "$repo" gc --bootdir /tmp/boot >/dev/null
for id in $(ls "$repo/images"); do [ "$id" = refs ] || echo "CFS-BOOT kept $id"; done
sync
