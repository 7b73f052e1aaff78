#!/usr/bin/env bash
# Builds the .deb with CPack, installs it with apt on this machine, uses the installed tools
# (help, man pages, a build/dump/rebuild round trip, a kernel mount through mount -t
# composefs, a program linked through pkg-config), then purges it and checks nothing is left.
# Needs root; run by scripts/test.sh after the other tests.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test-deb: needs root (skipped)"; exit 0; }
rm -f build/composefs-cpp*.deb
(cd build && cpack -G DEB >/dev/null)
deb=$(ls build/composefs-cpp_*.deb)
dev=$(ls build/composefs-cpp-dev_*.deb)
echo "== apt install $deb $dev"
export DEBIAN_FRONTEND=noninteractive
# A package left by an interrupted run would make apt skip the install of the same version.
for p in composefs-cpp-dev composefs-cpp; do
  if dpkg -s $p >/dev/null 2>&1; then apt-get purge -y -qq $p >/dev/null; fi
done
apt-get install -y -qq "./$deb" "./$dev" >/dev/null
work=$(mktemp -d)
cleanup() { umount "$work/mnt" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "test-deb: FAILED: $*"; exit 1; }

/usr/bin/mkcomposefs --help 2>&1 | grep -q "usage:" || fail "mkcomposefs --help"
for t in mkcomposefs composefs-info composefs-dump composefs-fuse; do
  /usr/bin/$t --version | grep -q composefs || fail "$t --version"
done
[ "$(/usr/bin/cfsctl --version)" = "cfsctl 0.9.0" ] || fail "cfsctl --version"
/usr/bin/cfsctl oci pull --help | grep -q "^Usage: cfsctl oci pull" || fail "cfsctl oci pull --help"
# Shell completion where bash-completion and zsh look for it.
[ "$(bash -c 'source /usr/share/bash-completion/completions/cfsctl && complete -p cfsctl')" = \
  "complete -o default -F _cfsctl cfsctl" ] || fail "bash completion"
[ -f /usr/share/zsh/vendor-completions/_cfsctl ] || fail "zsh completion"
# fish finds vendor completions by itself (where fish is installed: setup.sh installs it).
if command -v fish >/dev/null; then
  [ "$(fish -c 'complete -C "cfsctl --hash "' | tr '\n' ' ')" = "sha256 sha512 " ] || fail "fish completion"
fi
for page in mkcomposefs composefs-info composefs-dump composefs-fuse mount.composefs "5 composefs-dump" cfsctl; do
  # shellcheck disable=SC2086
  MANWIDTH=80 man $page 2>/dev/null | grep -q "NAME" || fail "man $page does not render"
done

mkdir "$work/src"
tar --xattrs --xattrs-include='*' --numeric-owner -p --warning=no-timestamp \
  -xzf tests/vectors/trees/101.tar.gz -C "$work/src"
/usr/bin/mkcomposefs --digest-store="$work/store" "$work/src" "$work/a.cfs"
/usr/bin/composefs-info dump "$work/a.cfs" | /usr/bin/mkcomposefs --from-file - "$work/b.cfs"
cmp "$work/a.cfs" "$work/b.cfs" || fail "dump round trip differs"
mkdir "$work/mnt"
mount -t composefs "$work/a.cfs" -o basedir="$work/store" "$work/mnt" || fail "mount -t composefs"
diff -r --no-dereference "$work/src" "$work/mnt" >/dev/null 2>"$work/diff.err" || {
  grep -v "special file\|fifo" "$work/diff.err" && fail "mounted tree differs"; true; }
umount "$work/mnt"

# A C program built as ostree builds against the library: the installed headers, pkg-config's
# module "composefs", nothing else.
cat > "$work/use.c" <<'C'
#include <libcomposefs/lcfs-writer.h>
#include <stdio.h>
int main(void) {
  struct lcfs_node_s *root = lcfs_node_new();
  struct lcfs_write_options_s o = { LCFS_FORMAT_EROFS };
  uint8_t digest[LCFS_DIGEST_SIZE];
  lcfs_node_set_mode(root, S_IFDIR | 0755);
  o.max_version = 1;
  o.digest_out = digest;
  if (lcfs_write_to(root, &o) != 0) return 1;
  for (int i = 0; i < LCFS_DIGEST_SIZE; i++) printf("%02x", digest[i]);
  printf("\n");
  lcfs_node_unref(root);
  return 0;
}
C
# shellcheck disable=SC2046
cc -std=gnu11 -Wall -Werror -o "$work/use" "$work/use.c" $(pkg-config --cflags --libs composefs) || fail "link via pkg-config"
[ "$("$work/use")" = "$(echo '/ 0 40755 2 0 0 0 0.0 - - -' | /usr/bin/mkcomposefs --from-file --print-digest-only -)" ] ||
  fail "library and tool disagree"
MANWIDTH=80 man 3 libcomposefs 2>/dev/null | grep -q "NAME" || fail "man 3 libcomposefs does not render"

# The Debian layout: the library in the multiarch directory, man pages gzipped, the
# development files only in -dev.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
runtime_files=$(dpkg -L composefs-cpp)
dev_files=$(dpkg -L composefs-cpp-dev)
for f in libcomposefs.so.1 libcomposefs.so.1.4.0; do
  grep -qx "/usr/lib/$multiarch/$f" <<<"$runtime_files" || fail "$f not in /usr/lib/$multiarch"
done
grep -qx /usr/share/man/man1/mkcomposefs.1.gz <<<"$runtime_files" || fail "man pages not gzipped"
if grep -q "^/usr/include\|\.pc$\|libcomposefs.so$\|man3" <<<"$runtime_files"; then
  fail "development files in the runtime package"
fi
for f in /usr/include/libcomposefs/lcfs-writer.h /usr/include/libcomposefs/lcfs-mount.h \
         /usr/include/libcomposefs/lcfs-erofs.h "/usr/lib/$multiarch/libcomposefs.so" \
         "/usr/lib/$multiarch/pkgconfig/composefs.pc" /usr/share/man/man3/libcomposefs.3.gz; do
  grep -qx "$f" <<<"$dev_files" || fail "$f not in -dev"
done
if grep -q "composefs-cpp\.\|include/composefs-cpp" <<<"$runtime_files$dev_files"; then
  fail "the internal C++ library is packaged"
fi
# It takes the place of the distributions' packages of upstream's library and tools.
[ "$(dpkg-query -W -f='${Provides}|${Conflicts}|${Replaces}' composefs-cpp)" = \
  "composefs, libcomposefs1|composefs, libcomposefs1|composefs, libcomposefs1" ] || fail "runtime relations"
[ "$(dpkg-query -W -f='${Provides}|${Conflicts}|${Replaces}' composefs-cpp-dev)" = \
  "libcomposefs-dev|libcomposefs-dev|libcomposefs-dev" ] || fail "-dev relations"
# Booting: composefs-setup-root and what puts it into the initramfs (initramfs-tools, dracut),
# executable, and the trigger that rebuilds the initramfs.
for f in /usr/sbin/composefs-setup-root /usr/share/initramfs-tools/hooks/composefs \
         /usr/share/initramfs-tools/scripts/local-bottom/composefs \
         /usr/lib/dracut/modules.d/37composefs/module-setup.sh; do
  grep -qx "$f" <<<"$runtime_files" && [ -x "$f" ] || fail "$f not in the package, or not executable"
done
grep -qx /usr/lib/dracut/modules.d/37composefs/composefs-setup-root.service <<<"$runtime_files" ||
  fail "the dracut module's unit is not in the package"
grep -qx "activate-noawait update-initramfs" /var/lib/dpkg/info/composefs-cpp.triggers || fail "no update-initramfs trigger"
MANWIDTH=80 man 8 composefs-setup-root 2>/dev/null | grep -q "NAME" || fail "man 8 composefs-setup-root does not render"
said=$(/usr/sbin/composefs-setup-root --cmdline quiet --sysroot /nonexistent 2>&1 || true)
[ "$said" = "composefs-setup-root: no composefs argument on the kernel command line" ] ||
  fail "composefs-setup-root does not run: $said"
grep -qx /usr/share/doc/composefs-cpp/copyright <<<"$runtime_files" || fail "no copyright file"
grep -qx /usr/share/doc/composefs-cpp-dev/copyright <<<"$dev_files" || fail "no copyright file in -dev"
for p in composefs-cpp composefs-cpp-dev; do
  maintainer=$(dpkg-query -W -f='${Maintainer}' $p)
  [[ "$maintainer" =~ ^[^\<]+\ \<[^@\>]+@[^@\>]+\.[a-z]+\>$ && "$maintainer" != *localhost* ]] ||
    fail "$p: maintainer field '$maintainer' is not a name and an address"
done

echo "== apt purge composefs-cpp-dev composefs-cpp"
apt-get purge -y -qq composefs-cpp-dev composefs-cpp >/dev/null
for f in /usr/bin/mkcomposefs /sbin/mount.composefs /usr/bin/composefs-fuse /usr/share/man/man1/mkcomposefs.1.gz \
         /usr/sbin/composefs-setup-root /usr/share/initramfs-tools/hooks/composefs /usr/lib/dracut/modules.d/37composefs \
         /usr/include/libcomposefs "/usr/lib/$multiarch/libcomposefs.so.1" \
         "/usr/lib/$multiarch/pkgconfig/composefs.pc" /usr/share/doc/composefs-cpp /usr/share/doc/composefs-cpp-dev; do
  [ ! -e "$f" ] || fail "$f left after purge"
done
echo "test-deb: 1 passed, 0 failed"
