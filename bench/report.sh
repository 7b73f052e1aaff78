#!/usr/bin/env bash
# Turns docs/benchmarks/results.tsv and run.env (written by bench/run-all.sh) into
# docs/benchmarks/README.md, PNG plots (gnuplot) and the figures of README.md's Benchmarks
# section (bench/readme-figures.sh). Run again to re-render without re-measuring.
#   bench/report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-docs/benchmarks}  # another directory: re-render a copy
results="$out/results.tsv"
[ -s "$results" ] || { echo "report: $results is missing or empty (run bench/run-all.sh)" >&2; exit 1; }
[ -f "$out/run.env" ] || { echo "report: $out/run.env is missing (run bench/run-all.sh)" >&2; exit 1; }
source "$out/run.env"
source bench/report-lib.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
tree=$RUN_TREE
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
avx512=$(grep -o 'avx512[a-z]*' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')
sha_ni=$(grep -q -w sha_ni /proc/cpuinfo && echo "has" || echo "lacks")

# aim WHAT VALUE OP TARGET: one row of the aims table ("not measured" when VALUE is missing:
# a job this run did not have, e.g. upstream's tools or the kernel's FUSE over io_uring).
aim() {
  if [ -z "$2" ]; then
    printf '| %s | not measured in this run | %s %s | - |\n' "$1" "$3" "$4"
    return 0
  fi
  local met; met=$(echo "$2 $3 $4" | bc -l)
  printf '| %s | %.2f | %s %s | %s |\n' "$1" "$2" "$3" "$4" "$([ "$met" = 1 ] && echo yes || echo no)"
}

# The aims the issues set, computed from this run's medians.
aims() {
  echo "| aim | measured | target | met |"
  echo "|---|---:|---|---|"
  aim "mkcomposefs --from-file, µs per entry (tree)" "$(median core 'mkcomposefs --from-file (tree)' time/entry)" "<=" 2
  aim "composefs-info dump, µs per entry (tree)" "$(median core 'composefs-info dump (tree)' time/entry)" "<=" 2
  aim "mkcomposefs --from-file, bytes per entry beyond the input" "$(median core 'mkcomposefs --from-file (tree)' RSS/entry)" "<=" 300
  aim "composefs-info dump, bytes per entry beyond the image" "$(median core 'composefs-info dump (tree)' RSS/entry)" "<=" 300
  aim "empty store (2 threads) / cp -a, wall" "$(ratio "$(median build 'composefs, empty store, threads=2' wall)" "$(median build 'cp -a (plain copy)' wall)")" "<=" 1.2
  local sha; sha=$(median limits 'openssl sha256, one core' throughput)
  aim "full store, warm (2 threads) / 2 × SHA-256, throughput" "$(ratio "$(median build 'composefs, full store, warm cache, threads=2' throughput)" "$([ -n "$sha" ] && echo "2 * $sha" | bc -l)")" ">=" 0.8
  aim "FUSE / kernel, ls -lR warm" "$(ratio "$(median mount fuse 'ls -lR warm')" "$(median mount kernel 'ls -lR warm')")" "<=" 1.3
  aim "FUSE / kernel, ls -lR cold" "$(ratio "$(median mount fuse 'ls -lR cold')" "$(median mount kernel 'ls -lR cold')")" "<=" 1.5
  aim "FUSE / kernel, read throughput cold" "$(ratio "$(median mount fuse 'read cold')" "$(median mount kernel 'read cold')")" ">=" 0.9
  aim "FUSE / kernel, read throughput warm" "$(ratio "$(median mount fuse 'read warm')" "$(median mount kernel 'read warm')")" ">=" 0.9
  aim "FUSE (default) / kernel, small files warm, /dev/fuse" "$(ratio "$(median small fuse-devfuse 'small files warm')" "$(median small kernel 'small files warm')")" "<=" 1.2
  aim "FUSE (default) / kernel, small files warm, io_uring" "$(ratio "$(median small fuse-uring 'small files warm')" "$(median small kernel 'small files warm')")" "<=" 1.2
  local layers cache
  for layers in 1 4; do
    for cache in cold warm; do
      aim "cfsctl oci pull / skopeo copy, wall, $layers layer(s), $cache" "$(median pull "cfsctl pull / skopeo copy, $layers layer(s), $cache" ratio)" "<=" 1.0
    done
  done
  aim "cfsctl oci pull, peak RSS (MiB), 4 layers, cold" "$(median pull 'cfsctl oci pull, 4 layer(s), cold' 'peak RSS')" "<" 200
  aim "mirror: on demand / (1.5 × (local + transfer)), last byte" "$(remote_aim)" "<=" 1
  aim "FUSE / upstream's FUSE, small files warm" "$(ratio "$(median mount fuse 'small files warm')" "$(median mount upstream-fuse 'small files warm')")" "<=" 1
  aim "FUSE / upstream's FUSE, ls -lR warm" "$(ratio "$(median mount fuse 'ls -lR warm')" "$(median mount upstream-fuse 'ls -lR warm')")" "<=" 1
  aim "mkcomposefs --from-file / upstream's (tree)" "$(ratio "$(median core 'mkcomposefs --from-file (tree)' time/entry)" "$(median core 'upstream mkcomposefs --from-file (tree)' time/entry)")" "<=" 1
  aim "empty-store build / upstream's" "$(ratio "$(median build 'composefs, empty store, threads=2' wall)" "$(median build 'upstream mkcomposefs, empty store' wall)")" "<=" 1
}

# Every job upstream has, side by side: ours, upstream's, and the speed-up (upstream's time
# over ours; ours over upstream's for throughputs): above 1 we are faster.
versus() {
  echo "| job | metric | ours | upstream 1.0.8 | unit | speed-up |"
  echo "|---|---|---:|---:|---|---:|"
  while IFS=$'\t' read -r job g ours theirs metric unit dir; do
    local a b
    a=$(median "$g" "$ours" "$metric"); b=$(median "$g" "$theirs" "$metric")
    [ -n "$a" ] && [ -n "$b" ] || continue
    printf '| %s | %s | %.3f | %.3f | %s | %.2f× |\n' "$job" "$metric" "$a" "$b" "$unit" "$(speedup "$a" "$b" "$dir")"
    printf '%s\t%s\n' "$job" "$(speedup "$a" "$b" "$dir")" >> "$tmp/versus.dat"
  done < <(versus_rows)
}

# The run's circumstances: how busy the machine was, at the start and at the end.
circumstances() {
  local cores busy=quiet
  cores=$(nproc)
  if run_was_busy; then busy=busy; fi
  echo "Run by \`bench/run-all.sh $tree\` on $RUN_DATE at commit $RUN_COMMIT in $((RUN_ELAPSED / 60)) min: $cores cores ($cpu),"
  echo "$(free -g | awk '/Mem:/ {print $2}') GiB RAM, Linux $(uname -r), $(df -T "$tree" | awk 'NR==2 {print $2}') on $(df "$tree" | awk 'NR==2 {print $1}')."
  echo
  if [ "$busy" = busy ]; then
    echo "**A busy run**: the machine was shared with other work (builds, VM tests). Load average"
    echo "(1, 5, 15 min) at the start $LOAD_START, at the end $LOAD_END, on $cores cores. Ratios taken"
    echo "in one job (ours against a baseline, side by side) hold up better than absolute times; a"
    echo "quiet machine gives lower times and narrower min-max ranges."
  else
    echo "A quiet run: nothing else was running when it started (load average, 1, 5, 15 min: $LOAD_START"
    echo "at the start; $LOAD_END at the end, the run's own last job), on $cores cores."
  fi
  echo
  if [ -n "$avx512" ]; then echo "The CPU has AVX-512 ($avx512) and $sha_ni SHA-NI."
  else echo "The CPU lacks AVX-512 and $sha_ni SHA-NI."; fi
  echo "Median of $RUN_RUNS runs ($RUN_HEAVY_RUNS for the full-tree builds, 1 for squashfuse's ls -lR"
  echo "and $RUN_EAGER_RUNS for the mirror's whole-image fetch), with min and max; cold runs drop the page cache first."
  if [ -n "${RUN_FAILED:-}" ]; then
    echo
    echo "**Jobs that failed in this run** (their rows are missing; see log.txt): $RUN_FAILED"
    echo
  fi
  if [ -n "$RUN_UPSTREAM" ]; then
    echo "Upstream: $RUN_UPSTREAM, measured side by side wherever it has the job (rows named upstream)."
  else
    echo "Upstream composefs's tools were absent from this run (UPSTREAM_BIN was empty): no upstream rows."
  fi
}

groups() {
  local group
  while IFS=$'\t' read -r group what; do
    grep -q "^$group"$'\t' "$results" || continue
    echo
    echo "## $group"
    echo
    echo "$what"
    echo
    echo "| what | metric | median | min | max | unit |"
    echo "|---|---|---:|---:|---:|---|"
    awk -F'\t' -v g="$group" '$1 == g { printf "| %s | %s | %.3f | %.3f | %.3f | %s |\n", $2, $3, $5, $6, $7, $4 }' "$results"
  done <<EOF
core	\`bench/core.sh\`: parse+write and read+dump per entry of the largest upstream dump (cs9, 22k entries) and of a dump of $tree; RSS beyond the input's own size.
limits	The machine's limits measured in the same run (\`bench/store.sh\`).
build	\`bench/store.sh\`: an image of all of $tree: composefs with an object store (empty, full, full and warm), upstream's mkcomposefs, and the full-image baselines.
size	What the builds wrote.
mount	\`bench/mount.sh\`: $tree served by plain = the directory itself, kernel = mount.composefs, fuse = composefs-fuse with passthrough (the default), fuse-userspace = -o nopassthrough, fuse-noopen = -o noopen, upstream-fuse = upstream's composefs-fuse, squashfs / squashfuse = an lz4 squashfs image through the kernel / squashfuse. Reads: the largest files, $RUN_READ_MB MiB in all; small files: every file of $tree/share/doc opened and read, warm.
small	\`bench/small-files.sh\`: every file of $RUN_SMALL_TREE opened and read (\`find -type f -exec cat {} +\`), warm, over an image of it: the kernel mount, composefs-fuse by default (passthrough) and -o noopen, each served by reading /dev/fuse and over io_uring (where the kernel has it).
pull	\`bench/pull.sh\`: a gzip image of $RUN_PULL_TREE (one layer, and the tree split into four) pulled from a registry on localhost with cold and warm page caches: \`cfsctl oci pull\` and \`skopeo copy\` alone side by side; cold only: skopeo + \`umoci unpack\` + mkcomposefs --digest-store (upstream's when given), and \`cfsctl oci pull containers-storage:\` of the same image \`podman pull\`ed (one layer).
remote	\`bench/remote.sh\`: an image of $tree served by nginx on localhost; the objects \`python3 -c pass\` opens, read on demand over an empty cache (composefs-fuse -o remote=) against a local mount, and \`cfsctl fetch\` of the whole image.
hash	\`bench/hash.sh\`: fs-verity digest of one $RUN_HASH_MB MiB file in the page cache, each hash engine forced by CFS_HASH_ENGINE (openssl; sse = libipsec-mb's SHA-NI lanes; avx2; avx512); SHA-256 by composefs-info measure-file, SHA-512 by cfsctl --hash sha512 compute-id; beside upstream's measure-file and fsverity-utils.
EOF
}

{
  echo "# Benchmarks"
  echo
  echo "Written by \`bench/report.sh\` from [results.tsv](results.tsv) (every figure here and in the"
  echo "README's Benchmarks section comes from it); the run's output is in [log.txt](log.txt)."
  echo
  circumstances
  echo
  echo "## aims"
  echo
  aims
  echo
  echo "## against upstream composefs 1.0.8"
  echo
  if [ -n "${RUN_FAILED:-}" ]; then
    echo
    echo "**Jobs that failed in this run** (their rows are missing; see log.txt): $RUN_FAILED"
    echo
  fi
  if [ -n "$RUN_UPSTREAM" ]; then versus; else echo "Not measured in this run."; fi
  echo
  echo "![speed-up over upstream](upstream.png)"
  groups
  echo
  echo "## plots"
  echo
  for p in build ls ls-warm read small pull hash; do
    [ -n "$(plot_rows "$p")" ] && echo "![$p]($p.png)"
  done
  if [ -f "$out/NOTES.md" ]; then echo; cat "$out/NOTES.md"; fi
} > "$out/README.md"

render_plots "$tmp"
bash bench/readme-figures.sh
echo "report: wrote $out/README.md, its plots and README.md's figures"
