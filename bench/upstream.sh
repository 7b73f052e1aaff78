#!/usr/bin/env bash
# Builds upstream composefs 1.0.8 (the C implementation we are a drop-in for) once per machine,
# outside the repository, for the benchmarks' side-by-side rows, and prints its bin directory
# (give it to the bench scripts as UPSTREAM_BIN). The source comes from the local mirror's bare
# repository, tag v1.0.8, file by file: a blob missing from the mirror (one test asset) is
# skipped, and upstream's tests are not built or run. Needs meson, ninja-build, libfuse3-dev,
# libssl-dev, pkg-config.
#   bench/upstream.sh     CFS_TEST_CACHE (default ~/.cache/composefs-cpp-tests): where it goes
#                         UPSTREAM_GIT (default /work/.mirror/containers+composefs/repo)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/debian/common.sh
tag=v1.0.8
git_dir=${UPSTREAM_GIT:-/work/.mirror/containers+composefs/repo}
dest=$(test_cache_dir)/upstream-1.0.8
bin=$dest/bin
if [ -e "$dest/complete" ]; then
  echo "$bin"
  exit 0
fi
git() { command git --git-dir="$git_dir" "$@"; }
[ -d "$git_dir" ] ||
  { echo "upstream.sh: $git_dir is missing (a bare clone of github.com/containers/composefs; give it as UPSTREAM_GIT)" >&2; exit 1; }
git rev-parse -q --verify "$tag^{commit}" >/dev/null 2>&1 ||
  { echo "upstream.sh: no tag $tag in $git_dir (a bare clone of github.com/containers/composefs)" >&2; exit 1; }
for p in meson ninja-build libfuse3-dev libssl-dev pkg-config; do
  dpkg -s "$p" >/dev/null 2>&1 || { echo "upstream.sh: Debian package $p is missing (apt-get install $p)" >&2; exit 1; }
done

# Built in a scratch directory and moved into place at the end: no half-built cache.
work=$(mktemp -d "${TMPDIR:-/tmp}/cfs-upstream.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/src
while read -r mode type object path; do
  [ "$type" = blob ] || continue
  mkdir -p "$src/$(dirname "$path")"
  if ! git cat-file blob "$object" > "$src/$path" 2>/dev/null; then
    echo "upstream.sh: $path is missing from the mirror: skipped (a test asset)" >&2
    rm -f "$src/$path"
    continue
  fi
  [ "$mode" != 100755 ] || chmod +x "$src/$path"
  [ "$mode" != 120000 ] || { target=$(cat "$src/$path"); rm "$src/$path"; ln -s "$target" "$src/$path"; }
done < <(git ls-tree -r "$tag")
# Upstream's tests need the missing asset; they are not what we build this for.
sed -i "s/^subdir('tests')$/# tests skipped: one asset is missing from the mirror/" "$src/meson.build"
grep -q "^subdir('tests')" "$src/meson.build" && { echo "upstream.sh: could not leave out tests/" >&2; exit 1; }

echo "upstream.sh: building composefs $tag in $work" >&2
(cd "$src" && meson setup build -Dfuse=enabled -Dman=disabled --buildtype=release \
    "-Dc_link_args=-Wl,-rpath,$dest/lib" >"$work/log" 2>&1 &&
  ninja -C build >>"$work/log" 2>&1) || { tail -20 "$work/log" >&2; echo "upstream.sh: build failed" >&2; exit 1; }
# The tools find their libcomposefs.so.1 by the rpath above, never ours of the same name.
mkdir -p "$work/out/bin" "$work/out/lib"
for t in mkcomposefs composefs-info composefs-fuse mount.composefs; do
  [ -x "$src/build/tools/$t" ] || { echo "upstream.sh: $t was not built" >&2; exit 1; }
  cp "$src/build/tools/$t" "$work/out/bin/"
done
find "$src/build/libcomposefs" -maxdepth 1 -name "libcomposefs.so*" ! -type d -exec cp -P {} "$work/out/lib/" \;
touch "$work/out/complete"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$work/out" "$dest"
echo "$bin"
