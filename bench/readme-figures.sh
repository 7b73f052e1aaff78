#!/usr/bin/env bash
# Writes the figures of README.md's Benchmarks section from docs/benchmarks/results.tsv (the
# run the benchmark page shows), between the two marker comments: no figure there is typed by
# hand. Called by bench/report.sh.
#   bench/readme-figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-docs/benchmarks}  # another directory: re-render a copy
results="$out/results.tsv"
readme=${README:-README.md}
source "$out/run.env"
source bench/report-lib.sh
begin='<!-- figures: written by bench/readme-figures.sh from docs/benchmarks/results.tsv; do not edit -->'
end='<!-- end of figures -->'
grep -qxF "$begin" "$readme" && grep -qxF "$end" "$readme" ||
  { echo "readme-figures: $readme lacks the marker lines of the figures" >&2; exit 1; }

m() { median "$@"; }
x() { fmt 2 "$(ratio "$1" "$2")"; }  # a ratio, 2 decimals
load=quiet; run_was_busy && load=busy
cp_a=$(m build 'cp -a (plain copy)' wall); empty=$(m build 'composefs, empty store, threads=2' wall)
up_empty=$(m build 'upstream mkcomposefs, empty store' wall)
ours_pull=$(m pull 'cfsctl oci pull, 1 layer(s), cold' wall); skopeo=$(m pull 'skopeo copy (fetch only), 1 layer(s), cold' wall)
pipeline=$(m pull 'skopeo + umoci unpack + mkcomposefs, 1 layer(s), cold' wall)
ours_pull4=$(m pull 'cfsctl oci pull, 4 layer(s), cold' wall); skopeo4=$(m pull 'skopeo copy (fetch only), 4 layer(s), cold' wall)
kernel_small=$(m small kernel 'small files warm')
{
  echo "Last run: $RUN_DATE at $RUN_COMMIT on \`$RUN_TREE\`, $(nproc) cores, a **$load** machine (load average"
  echo "$LOAD_START at the start, $LOAD_END at the end); medians of $RUN_RUNS runs."
  echo
  echo "- Build: filling an empty store takes $(x "$empty" "$cp_a")× the time of \`cp -a\`"
  echo "  ($(fmt 1 "$empty") s against $(fmt 1 "$cp_a") s) and $(x "$empty" "$up_empty")× the time of upstream's mkcomposefs."
  echo "  \`mkcomposefs --from-file\` takes $(fmt 2 "$(m core 'mkcomposefs --from-file (tree)' time/entry)") µs and"
  echo "  $(fmt 0 "$(m core 'mkcomposefs --from-file (tree)' RSS/entry)") bytes per entry beyond its input (upstream's:"
  echo "  $(fmt 2 "$(m core 'upstream mkcomposefs --from-file (tree)' time/entry)") µs and $(fmt 0 "$(m core 'upstream mkcomposefs --from-file (tree)' RSS/entry)") bytes),"
  echo "  \`composefs-info dump\` $(fmt 2 "$(m core 'composefs-info dump (tree)' time/entry)") µs and $(fmt 0 "$(m core 'composefs-info dump (tree)' RSS/entry)") bytes."
  echo "- Mounts: \`ls -lR\` over composefs-fuse takes $(x "$(m mount fuse 'ls -lR warm')" "$(m mount kernel 'ls -lR warm')")× (warm) and"
  echo "  $(x "$(m mount fuse 'ls -lR cold')" "$(m mount kernel 'ls -lR cold')")× (cold) the time over the kernel mount"
  echo "  ($(x "$(m mount fuse 'ls -lR warm')" "$(m mount upstream-fuse 'ls -lR warm')")× and $(x "$(m mount fuse 'ls -lR cold')" "$(m mount upstream-fuse 'ls -lR cold')")× the time over upstream's composefs-fuse);"
  echo "  reads through it run at $(x "$(m mount fuse 'read cold')" "$(m mount kernel 'read cold')")× (cold) and"
  echo "  $(x "$(m mount fuse 'read warm')" "$(m mount kernel 'read warm')")× (warm) the kernel's throughput."
  echo "- Small files (every file of \`$RUN_SMALL_TREE\` read, warm): composefs-fuse takes"
  echo "  $(x "$(m small fuse-devfuse 'small files warm')" "$kernel_small")× the kernel mount's time reading /dev/fuse and"
  echo "  $(x "$(m small fuse-uring 'small files warm')" "$kernel_small")× over io_uring."
  echo "- Pull (one gzip layer of \`$RUN_PULL_TREE\` from a registry on localhost, cold): \`cfsctl oci pull\` $(fmt 1 "$ours_pull") s"
  echo "  against \`skopeo copy\` $(fmt 1 "$skopeo") s ($(x "$ours_pull" "$skopeo")×) and skopeo + umoci + mkcomposefs"
  echo "  $(fmt 1 "$pipeline") s ($(x "$ours_pull" "$pipeline")×); four layers: $(fmt 1 "$ours_pull4") s against $(fmt 1 "$skopeo4") s"
  echo "  ($(x "$ours_pull4" "$skopeo4")×); peak RSS $(fmt 0 "$(m pull 'cfsctl oci pull, 4 layer(s), cold' 'peak RSS')") MiB."
  echo "- Mirror: of an image of $(fmt 0 "$(m remote image size)") MiB served by nginx on localhost, the"
  echo "  $(fmt 0 "$(m remote 'start-up set' objects)") objects ($(fmt 1 "$(m remote 'start-up set' size)") MiB) that \`python3 -c pass\` opens are read on demand"
  echo "  in $(fmt 3 "$(m remote 'on demand (empty cache)' last-byte)") s against $(fmt 3 "$(m remote 'local mount' last-byte)") s from a local mount, fetching"
  echo "  $(fmt 1 "$(m remote 'on demand (empty cache)' fetched)") MiB; \`python3 -c pass\` itself takes $(fmt 3 "$(m remote 'on demand: python3 -c pass' wall)") s"
  echo "  ($(fmt 3 "$(m remote 'local mount: python3 -c pass' wall)") s local); \`cfsctl fetch\` of the whole image takes $(fmt 0 "$(m remote 'eager: cfsctl fetch of the image' wall)") s."
  echo "- Hashing (fs-verity of a file in the page cache): SHA-256 at $(fmt 0 "$(m hash 'default engine' sha256)") MiB/s"
  echo "  (upstream's measure-file $(fmt 0 "$(m hash 'upstream measure-file' sha256)") MiB/s), SHA-512 at"
  echo "  $(fmt 0 "$(m hash 'default engine' sha512)") MiB/s; per engine (SHA-256 / SHA-512): openssl $(fmt 0 "$(m hash 'engine openssl' sha256)") / $(fmt 0 "$(m hash 'engine openssl' sha512)"),"
  echo "  sse $(fmt 0 "$(m hash 'engine sse' sha256)") / $(fmt 0 "$(m hash 'engine sse' sha512)"), avx2 $(fmt 0 "$(m hash 'engine avx2' sha256)") / $(fmt 0 "$(m hash 'engine avx2' sha512)"),"
  echo "  avx512 $(fmt 0 "$(m hash 'engine avx512' sha256)") / $(fmt 0 "$(m hash 'engine avx512' sha512)") MiB/s (\"?\": not measured here)."
} > "$out/.figures"
awk -v b="$begin" -v e="$end" -v f="$out/.figures" '
  $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
  $0 == e { skip = 0 }
  !skip' "$readme" > "$readme.tmp"
mv "$readme.tmp" "$readme"
rm -f "$out/.figures"
