#!/usr/bin/env bash
# The C library as its users get it: installed (into a scratch root, never the system), found
# with pkg-config, its headers compiled as C99 and C++ by gcc and clang, and every C test
# program built against it and run.
#   run.sh BUILD_DIR DUMP_RECORDS SANITIZE(ON|OFF) unit|upstream|trees|mount
# Exits 77 (ctest: skipped) when what a mode needs is missing, except that root is required
# when CI=true.
set -euo pipefail
build=$1 dump_records=$2 sanitize=$3 mode=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

DESTDIR="$work/root" cmake --install "$build" --prefix /usr >/dev/null
pc_dir=$(dirname "$(find "$work/root" -name composefs.pc)")
export PKG_CONFIG_PATH=$pc_dir
libdir=$(pkg-config --variable=libdir composefs)
export LD_LIBRARY_PATH=$libdir
read -r -a cflags <<<"$(pkg-config --cflags composefs)"
read -r -a libs <<<"$(pkg-config --libs composefs)"
extra=()
[ "$sanitize" = ON ] && extra=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
passed=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
  [ "${CI:-}" = true ] && [ "$2" = root ] && fail "$1 needs root (CI=true)"
  echo "SKIPPED: $1"
  exit 77
}
[ "$mode" = mount ] || [ "$mode" = trees ] && { [ "$(id -u)" = 0 ] || skip "capi $mode" root; }

compile() {  # compile OUT SOURCE [more cc args]
  local out=$1 src=$2; shift 2
  cc -std=c99 -D_GNU_SOURCE -Wall -Wextra -Wno-missing-field-initializers -Werror -g "${extra[@]}" "${cflags[@]}" -I"$here" \
     "$src" -o "$work/$out" "${libs[@]}" "$@" || fail "compiling $src"
}

if [ "$mode" = unit ]; then
  # --- the installed files and what the library exports
  [ "$(pkg-config --modversion composefs)" = 1.0.8 ] || fail "composefs.pc version"
  [ -L "$libdir/libcomposefs.so.1" ] && [ -L "$libdir/libcomposefs.so" ] && [ -f "$libdir/libcomposefs.so.1.4.0" ] ||
    fail "library files: $(ls "$libdir")"
  objdump -p "$libdir/libcomposefs.so.1.4.0" | grep 'SONAME *libcomposefs.so.1$' >/dev/null || fail SONAME  # no -q: SIGPIPE under pipefail
  diff <(nm -D --defined-only "$libdir/libcomposefs.so.1.4.0" | awk '{print $3}' | sort) \
       "$here/exported_symbols.txt" || fail "exported symbols differ from upstream's 62"
  [ "$(nm -D --defined-only "$libdir/libcomposefs.so.1.4.0" | grep -vc ' T ')" = 0 ] || fail "exported data"
  pass

  # --- the headers alone, strict C99 (gcc, clang) and C++ (g++, clang++)
  printf '#include <libcomposefs/lcfs-writer.h>\n#include <libcomposefs/lcfs-mount.h>\n#include <libcomposefs/lcfs-erofs.h>\n#include <errno.h>\nint main(void) { return ENOVERITY == ENOTTY ? 0 : 1; }\n' >"$work/headers.c"
  for c in gcc clang; do
    $c -std=c99 -pedantic -Wall -Wextra -Werror "${cflags[@]}" -c "$work/headers.c" -o "$work/h.o" || fail "$c -std=c99"
  done
  for cxx in g++ clang++; do
    $cxx -x c++ -std=c++11 -Wall -Wextra -Werror "${cflags[@]}" -c "$work/headers.c" -o "$work/h.o" || fail "$cxx"
  done
  pass

  # --- struct layouts and constants; golden images; every function's behaviour; threads
  for t in ${CFS_CAPI_TESTS:-abi golden api threads}; do
    compile "${t}_test" "$here/${t}_test.c" -lcrypto -lpthread
    (cd "$work" && "./${t}_test") || fail "${t}_test"
    pass
  done

  # --- byte identity through the C API: dump -> lcfs_node_* -> image, and load -> write
  compile build_from_records "$here/build_from_records.c"
  compile rewrite_image "$here/rewrite_image.c"
  seeds=0
  while read -r seed want_default want_v1; do
    [[ $seed =~ ^[0-9]+$ ]] || continue
    gzip -dc "$repo/tests/vectors/dumps/$seed.dump.gz" | "$dump_records" >"$work/records"
    for v in "0 1 $want_default" "1 1 $want_v1"; do
      set -- $v
      "$work/build_from_records" "$work/records" "$work/img" "$1" "$2" >"$work/digest"
      [ "$(sha256sum <"$work/img" | cut -d' ' -f1)" = "$3" ] || fail "seed $seed (versions $1 $2): image differs"
      [ "$(cat "$work/digest")" = "$("$build/tools/composefs-info" measure-file "$work/img")" ] ||
        fail "seed $seed: digest_out"
      "$work/rewrite_image" "$work/img" "$work/img2"
      cmp -s "$work/img" "$work/img2" || fail "seed $seed: load -> write differs"
    done
    seeds=$((seeds + 1))
  done <"$repo/tests/vectors/dumps/expected.sha256"
  [ "$seeds" -ge 30 ] || fail "only $seeds generated dumps"
  pass
elif [ "$mode" = upstream ]; then
  compile build_from_records "$here/build_from_records.c"
  compile rewrite_image "$here/rewrite_image.c"
  upstream=${CFS_VECTORS:-$repo/../shared/vectors}/upstream
  if [ -d "$upstream" ]; then
    used=0
    for sum in "$upstream"/*.sha256; do
      base=${sum%.sha256} name=$(basename "$base")
      v=0 max=1
      [ -f "$base.version" ] && v=$(cat "$base.version") && max=$v
      # special_v1.dump holds only the name of the dump it shares (a git symlink, as text)
      [ "$(stat -c %s "$base")" -lt 64 ] && [ -f "$upstream/$(cat "$base")" ] && base=$upstream/$(cat "$base")
      lax=()
      case $name in no-newline.dump|longlink.dump|honggfuzz-longlink-unterminated.dump) lax=(--lax) ;; esac
      if [[ $base == *.gz ]]; then gzip -dc "$base"; else cat "$base"; fi | "$dump_records" "${lax[@]}" >"$work/records"
      "$work/build_from_records" "$work/records" "$work/img" "$v" "$max" >/dev/null
      [ "$(sha256sum <"$work/img" | cut -d' ' -f1)" = "$(tr -d ' \n' <"$sum")" ] || fail "upstream $name: image differs"
      "$work/rewrite_image" "$work/img" "$work/img2"
      cmp -s "$work/img" "$work/img2" || fail "upstream $name: load -> write differs"
      used=$((used + 1))
    done
    echo "used $used upstream assets from $upstream"
    pass
  else
    skip "upstream's assets (no $upstream)" data
  fi
elif [ "$mode" = trees ]; then
  # lcfs_build of the generated trees (as root: their owners and devices) equals mkcomposefs DIR.
  compile build_dir "$here/build_dir.c"
  while read -r seed _ want _; do
    [[ $seed =~ ^[0-9]+$ ]] || continue
    rm -rf "$work/tree" && mkdir "$work/tree"
    tar --warning=no-timestamp --xattrs --xattrs-include='*' --numeric-owner -p -xzf "$repo/tests/vectors/trees/$seed.tar.gz" -C "$work/tree"
    "$work/build_dir" "$work/tree" "$work/img"
    [ "$(sha256sum <"$work/img" | cut -d' ' -f1)" = "$want" ] || fail "tree $seed: lcfs_build image differs"
  done <"$repo/tests/vectors/trees/expected.sha256"
  pass
else
  compile ostree_test "$here/ostree_test.c" -lcrypto
  (cd "$work" && ./ostree_test) || fail ostree_test
  pass
fi
echo "capi $mode: $passed passed, 0 failed"
