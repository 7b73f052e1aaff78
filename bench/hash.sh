#!/usr/bin/env bash
# Benchmark (not a test): fs-verity digests of one file in the page cache (HASH_MB MiB, default
# 1024) with each hash engine this CPU runs, forced by CFS_HASH_ENGINE (openssl, sse = SHA-NI
# lanes, avx2, avx512: libipsec-mb's multi-buffer managers): SHA-256 by composefs-info
# measure-file (beside upstream's and fsverity-utils' `fsverity digest`), SHA-512 by
# `cfsctl --hash sha512 compute-id` of a directory holding the file. Also which engine each
# algorithm gets by default and whether the CPU has AVX-512. Median of RUNS, MiB/s.
#   bench/hash.sh          HASH_MB (1024)
cd "$(dirname "$0")/.."
source bench/lib.sh
work=$(mktemp -d /var/tmp/cfs-bench-hash.XXXXXX)
trap 'rm -rf "$work"' EXIT
mb=${HASH_MB:-1024}
mkdir -p "$work/dir/usr"  # cfsctl takes the root's metadata from usr/
head -c $((mb << 20)) /dev/urandom > "$work/dir/usr/file"
cat "$work/dir/usr/file" >/dev/null
avx512=$(grep -o 'avx512[a-z]*' /proc/cpuinfo | sort -u | tr '\n' ' ')
sha_ni=$(grep -q -w sha_ni /proc/cpuinfo && echo yes || echo no)
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-); AVX-512: ${avx512:-none}; SHA-NI: $sha_ni"

# rate LABEL METRIC CMD...: MiB/s of hashing the file, median of RUNS (a failed run: skipped).
rate() {
  local label=$1 metric=$2; shift 2
  local rates=() s
  "$@" >/dev/null 2>"$work/err" || { echo "$label: $(head -1 "$work/err"): not measured"; return 0; }
  for _ in $(seq "$RUNS"); do
    s=$(seconds "$@")
    rates+=("$(echo "$mb / $s" | bc -l)")
  done
  result hash "$label" "$metric" MiB/s "${rates[@]}"
}
for engine in openssl sse avx2 avx512; do
  export CFS_HASH_ENGINE=$engine
  rate "engine $engine" "sha256" $B/composefs-info measure-file "$work/dir/usr/file"
  rate "engine $engine" "sha512" $B/cfsctl --no-repo --hash sha512 compute-id "$work/dir"
done
unset CFS_HASH_ENGINE
rate "default engine" "sha256" $B/composefs-info measure-file "$work/dir/usr/file"
rate "default engine" "sha512" $B/cfsctl --no-repo --hash sha512 compute-id "$work/dir"
if has_upstream composefs-info; then
  rate "upstream measure-file" "sha256" $U/composefs-info measure-file "$work/dir/usr/file"
fi
if command -v fsverity >/dev/null; then
  rate "fsverity-utils digest" "sha256" fsverity digest "$work/dir/usr/file"
  rate "fsverity-utils digest" "sha512" fsverity digest --hash-alg=sha512 "$work/dir/usr/file"
fi
