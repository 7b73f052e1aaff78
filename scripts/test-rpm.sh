#!/usr/bin/env bash
# Builds the RPMs from packaging/rpm/composefs-cpp.spec with Debian's rpmbuild (this source
# tree, no network; build dependencies come from Debian, so --nodeps) and inspects them: the
# file lists, what they provide, obsolete and require, the library's soname, the man pages and
# the completion script. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rpmbuild >/dev/null || { echo "test-rpm: rpmbuild missing (apt-get install rpm)"; exit 1; }
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
fail() { echo "test-rpm: FAILED: $*"; exit 1; }
version=$(sed -n 's/^project(composefs-cpp VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
grep -q "^Version: *$version\$" packaging/rpm/composefs-cpp.spec || fail "spec Version is not the project's $version"

echo "== rpmbuild -bb packaging/rpm/composefs-cpp.spec"
# Built in build-rpm, beside build/: ccache (its base directory the source tree, see
# CMakeLists.txt) reuses build/'s compiler runs, so the RPM costs little compiling.
rpmbuild -bb --nodeps packaging/rpm/composefs-cpp.spec --define "_topdir $top" --define "cfs_srcdir $PWD" \
  --define "cfs_builddir $PWD/build-rpm" \
  --define "debug_package %{nil}" --define "_smp_mflags -j$(nproc)" >"$top/build.log" 2>&1 ||
  { tail -40 "$top/build.log"; fail "rpmbuild"; }
rpms=$top/RPMS/$(rpm --eval '%{_arch}')
main=$rpms/composefs-cpp-$version-1.$(rpm --eval '%{_arch}').rpm
libs=${main/composefs-cpp-/composefs-cpp-libs-}
devel=${main/composefs-cpp-/composefs-cpp-devel-}
for p in "$main" "$libs" "$devel"; do [ -f "$p" ] || fail "$(basename "$p") not built"; done
libdir=$(rpm --eval '%{_libdir}')

has() { grep -qx -- "$2" <<<"$1" || fail "$3: no $2"; }
main_files=$(rpm -qpl "$main"); libs_files=$(rpm -qpl "$libs"); devel_files=$(rpm -qpl "$devel")
for f in /usr/bin/mkcomposefs /usr/bin/composefs-info /usr/bin/composefs-dump /usr/bin/composefs-fuse /usr/bin/cfsctl \
         /usr/sbin/mount.composefs /usr/sbin/composefs-setup-root /usr/lib/dracut/modules.d/37composefs/module-setup.sh \
         /usr/share/man/man1/cfsctl.1.gz /usr/share/man/man8/mount.composefs.8.gz /usr/share/man/man5/composefs-dump.5.gz \
         /usr/share/bash-completion/completions/cfsctl /usr/share/zsh/site-functions/_cfsctl \
         /usr/share/fish/vendor_completions.d/cfsctl.fish; do
  has "$main_files" "$f" composefs-cpp
done
has "$libs_files" "$libdir/libcomposefs.so.1" -libs
has "$libs_files" "$libdir/libcomposefs.so.1.4.0" -libs
for f in /usr/include/libcomposefs/lcfs-writer.h "$libdir/libcomposefs.so" "$libdir/pkgconfig/composefs.pc" \
         /usr/share/man/man3/libcomposefs.3.gz; do
  has "$devel_files" "$f" -devel
done
grep -q "^/sbin\|initramfs-tools\|^/usr/include\|\.pc$\|\.so$\|man3" <<<"$main_files" && fail "composefs-cpp has files of another package"
grep -q "^/usr/bin\|^/usr/include\|\.so$" <<<"$libs_files" && fail "-libs has files of another package"

# The roles of Fedora's composefs, composefs-libs and composefs-devel (upstream 1.0.8).
has "$(rpm -qp --provides "$main")" "composefs = 1.0.8" composefs-cpp
has "$(rpm -qp --obsoletes "$main")" "composefs <= 1.0.8" composefs-cpp
has "$(rpm -qp --provides "$libs")" "composefs-libs = 1.0.8" -libs
has "$(rpm -qp --provides "$libs")" "libcomposefs.so.1()(64bit)" -libs
has "$(rpm -qp --obsoletes "$libs")" "composefs-libs <= 1.0.8" -libs
has "$(rpm -qp --provides "$devel")" "composefs-devel = 1.0.8" -devel
has "$(rpm -qp --provides "$devel")" "pkgconfig(composefs) = 1.0.8" -devel
has "$(rpm -qp --obsoletes "$devel")" "composefs-devel <= 1.0.8" -devel
arch=$(rpm --eval '%{_arch}' | sed 's/_/-/')
has "$(rpm -qp --requires "$main")" "composefs-cpp-libs($arch) = $version-1" composefs-cpp
has "$(rpm -qp --requires "$devel")" "composefs-cpp-libs($arch) = $version-1" -devel

# Unpacked: the soname, man pages that render, the completion that bash registers.
mkdir "$top/root"
for p in "$main" "$libs" "$devel"; do rpm2archive - <"$p" | tar -xz -C "$top/root"; done
soname=$(readelf -d "$top/root$libdir/libcomposefs.so.1.4.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libcomposefs.so.1 ] || fail "soname is '$soname'"
[ "$(readlink "$top/root$libdir/libcomposefs.so.1")" = libcomposefs.so.1.4.0 ] || fail "libcomposefs.so.1 link"
for page in man1/cfsctl.1.gz man1/mkcomposefs.1.gz man8/mount.composefs.8.gz man3/libcomposefs.3.gz; do
  MANWIDTH=80 man -l "$top/root/usr/share/man/$page" 2>/dev/null | grep -q NAME || fail "$page does not render"
done
[ "$(bash -c "source $top/root/usr/share/bash-completion/completions/cfsctl && complete -p cfsctl")" = \
  "complete -o default -F _cfsctl cfsctl" ] || fail "the bash completion does not register"
cmp -s "$top/root/usr/share/bash-completion/completions/cfsctl" <(COMPLETE=bash "$top/root/usr/bin/cfsctl") ||
  fail "the packaged completion is not what the packaged cfsctl prints"
echo "test-rpm: 1 passed, 0 failed"
