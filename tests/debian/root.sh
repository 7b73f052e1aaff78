#!/usr/bin/env bash
# Prints the path of a Debian 12 root made by debootstrap for the tests, building it the first
# time (about a minute; kept in the test cache, see common.sh). Recipes:
#   selinux   --variant=minbase with selinux-policy-default (its file_contexts built by
#             semodule in the root), plus an empty /sysroot: a tree `--bootable` accepts.
# Every mtime is set to one whole second, because OCI layers (tar) keep no nanoseconds: the
# root and a tar of it are then the same tree. A change to this script makes the roots anew.
#   root.sh RECIPE      exit 77 when it cannot be built (1 under CI=true)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
recipe=${1:?usage: root.sh RECIPE}
case $recipe in
  selinux) include=selinux-policy-default ;;
  *) echo "root.sh: unknown recipe $recipe (selinux)" >&2; exit 2 ;;
esac
command -v debootstrap >/dev/null || unavailable "debootstrap is not installed (scripts/setup.sh installs it)"
[ "$(id -u)" = 0 ] || unavailable "debootstrap needs root"

cache=$(test_cache_dir)
out=$cache/debian-$recipe
stamp=$(sha256sum "$0" | cut -c1-16)
mkdir -p "$cache"
exec 9>"$cache/debian-$recipe.lock"
flock 9  # one build at a time; the others wait and find it made
if [ "$(cat "$out/recipe" 2>/dev/null)" != "$stamp" ]; then
  mirror=$(debian_mirror) || unavailable "no Debian mirror to debootstrap from"
  work=$(mktemp -d "$cache/debian-$recipe.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "root.sh: debootstrap $recipe from $mirror (once per machine)" >&2
  debootstrap --variant=minbase --include="$include" bookworm "$work/root" "$mirror" >"$work/log" 2>&1 ||
    { tail -20 "$work/log" >&2; unavailable "debootstrap failed (log above)"; }
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*_*
  mkdir -p "$work/root/sysroot"
  find "$work/root" -depth -exec touch -h -d @1700000000 {} +
  echo "$stamp" >"$work/recipe"
  rm -rf "$out"
  mv "$work" "$out"
  rm -f "$out/log"
  trap - EXIT
fi
echo "$out/root"
