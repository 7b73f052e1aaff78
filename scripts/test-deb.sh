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
for page in mkcomposefs composefs-info composefs-dump composefs-fuse mount.composefs "5 composefs-dump"; do
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

cat > "$work/use.cc" <<'CC'
#include <dump/parse.h>
#include <writer/writer.h>
#include <verity/fsverity.h>
#include <cstdio>
int main() {
  auto tree = cfs::dump::parse("/ 4096 40755 2 0 0 0 0.0 - - -\n");
  auto image = cfs::writer::write_to_vector(tree);
  std::printf("%s\n", cfs::to_hex(cfs::verity::digest_of(image)).c_str());
}
CC
# shellcheck disable=SC2046
g++ -o "$work/use" "$work/use.cc" $(pkg-config --cflags --libs composefs-cpp) || fail "link via pkg-config"
[ "$("$work/use")" = "$(echo '/ 4096 40755 2 0 0 0 0.0 - - -' | /usr/bin/mkcomposefs --from-file --print-digest-only -)" ] ||
  fail "library and tool disagree"

# The Debian layout: the library in the multiarch directory, man pages gzipped, the
# development files only in -dev.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
runtime_files=$(dpkg -L composefs-cpp)
dev_files=$(dpkg -L composefs-cpp-dev)
grep -qx "/usr/lib/$multiarch/libcomposefs-cpp.so.0" <<<"$runtime_files" || fail "library not in /usr/lib/$multiarch"
grep -qx /usr/share/man/man1/mkcomposefs.1.gz <<<"$runtime_files" || fail "man pages not gzipped"
if grep -q "^/usr/include\|\.pc$\|libcomposefs-cpp.so$" <<<"$runtime_files"; then
  fail "development files in the runtime package"
fi
grep -qx /usr/include/composefs-cpp/dump/parse.h <<<"$dev_files" || fail "headers not in -dev"
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
         /usr/include/composefs-cpp "/usr/lib/$multiarch/libcomposefs-cpp.so.0" \
         "/usr/lib/$multiarch/pkgconfig/composefs-cpp.pc" /usr/share/doc/composefs-cpp /usr/share/doc/composefs-cpp-dev; do
  [ ! -e "$f" ] || fail "$f left after purge"
done
echo "test-deb: 1 passed, 0 failed"
