#!/usr/bin/env bash
# Sets everything up and runs every test: the normal build, the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer, the Debian package (installed, used, purged),
# the RPMs (built and inspected), and a short libFuzzer run of each parser. Nothing is left installed or mounted.
#   CFS_FUZZ_SECONDS=N   seconds per fuzz target (default 45; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)
fuzz_seconds=${CFS_FUZZ_SECONDS:-45}

echo "== tests (RelWithDebInfo)"
(cd build && ctest -j"$jobs" --output-on-failure)

echo "== the Debian package"
bash scripts/test-deb.sh

echo "== the RPMs (built with Debian's rpmbuild, inspected)"
bash scripts/test-rpm.sh

echo "== tests under ASan + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCFS_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest -j"$jobs" --output-on-failure -LE "integration|vm")

if [ "$fuzz_seconds" -gt 0 ]; then
  echo "== fuzzing (${fuzz_seconds}s per target, clang libFuzzer + ASan + UBSan)"
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCFS_FUZZ=ON -DCFS_SANITIZE=ON -DCFS_TESTS=OFF >/dev/null
  cmake --build build-fuzz -j"$jobs" --target fuzz_image fuzz_dump fuzz_fuse fuzz_splitstream fuzz_tar fuzz_oci_json
  for t in image dump fuse splitstream tar oci_json; do
    corpus=$(mktemp -d)
    cp fuzz/seeds/$t/* "$corpus"/
    if ! ./build-fuzz/fuzz/fuzz_$t -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 \
         -timeout=10 -print_final_stats=1 -artifact_prefix="fuzz/regressions/$t/" \
         "$corpus" >"build-fuzz/fuzz_$t.log" 2>&1; then
      tail -40 "build-fuzz/fuzz_$t.log"
      echo "fuzz_$t found a failing input; it is saved in fuzz/regressions/$t/ (commit it)"
      exit 1
    fi
    grep -E 'stat::number_of_executed_units' "build-fuzz/fuzz_$t.log" || true
    rm -rf "$corpus"
  done
fi
echo "== all tests passed"
