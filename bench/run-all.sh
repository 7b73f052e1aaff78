#!/usr/bin/env bash
# Runs every benchmark of the project on TREE (default /usr) beside upstream composefs 1.0.8
# (UPSTREAM_BIN, default: built once by bench/upstream.sh) and the baselines Debian has (plain
# directory, cp -a, mkfs.erofs and mksquashfs images, the squashfs kernel mount and squashfuse,
# skopeo and umoci, fsverity-utils), then writes docs/benchmarks/README.md (tables: median and
# min-max of RUNS), PNG plots and README.md's figures (bench/report.sh). Root (drops caches,
# mounts). Leaves no mounts behind. Jobs: core, store (build), mount, small-files, pull,
# remote (mirror), hash.
#   bench/run-all.sh [TREE]   RUNS (default 3), HEAVY_RUNS (full-tree builds, 2), READ_MB (1000)
#     PULL_TREE (/usr/share: the pulled image's files), SMALL_TREE (/usr/share/doc),
#     EAGER_RUNS (1: remote.sh's whole-image fetch, 75 s each), HASH_MB (1024)
#     UPSTREAM_BIN=DIR upstream's tools; UPSTREAM_BIN= (empty) runs without them
set -euo pipefail
cd "$(dirname "$0")/.."
tree=${1:-/usr}
export RUNS=${RUNS:-3} HEAVY_RUNS=${HEAVY_RUNS:-2} READ_MB=${READ_MB:-1000}
[ "$(id -u)" -eq 0 ] || { echo "run-all: needs root (drop_caches, mounts)"; exit 1; }
need=(squashfs-tools squashfuse gnuplot-nox erofs-utils bc fsverity curl nginx docker-registry skopeo umoci
      meson ninja-build libfuse3-dev libssl-dev pkg-config)
missing=(); for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
((${#missing[@]})) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
[ -x build/tools/mkcomposefs ] || bash scripts/setup.sh
if [ ! -v UPSTREAM_BIN ]; then
  UPSTREAM_BIN=$(bash bench/upstream.sh) ||
    { echo "run-all: upstream composefs 1.0.8 could not be built (above); UPSTREAM_BIN= runs without it"; exit 1; }
fi
export UPSTREAM_BIN
out=docs/benchmarks
mkdir -p "$out"
keep=$(mktemp -d /var/tmp/cfs-bench-keep.XXXXXX)
trap 'rm -rf "$keep"' EXIT
results="$out/results.tsv"
# The run's circumstances, for the page: a busy machine must not pass for a quiet one.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
# job NAME CMD...: one benchmark; a failed one is named on the page and the others still run.
job() {
  local name=$1; shift
  "$@" || { echo "run-all: $name failed (exit $?)"; echo "$name" >> "$keep/failed"; }
}
{
  job core bash bench/core.sh "$tree"
  # threads=1 runs belong to bench/store.sh alone: run-all keeps to 30 minutes.
  KEEP="$keep/built" THREADS=2 job store bash bench/store.sh "$tree"
  IMAGE="$keep/built/image.cfs" STORE="$keep/built/store" SQUASHFS="$keep/built/full.sqfs" job mount bash bench/mount.sh "$tree"
  rm -rf "$keep/built"
  RESULT_GROUP=small job small-files bash bench/small-files.sh "${SMALL_TREE:-/usr/share/doc}"
  job pull bash bench/pull.sh "${PULL_TREE:-/usr/share}"
  EAGER_RUNS=${EAGER_RUNS:-1} job remote bash bench/remote.sh "$tree"
  job hash bash bench/hash.sh
} 3> >(grep '^RESULT' | cut -f2- > "$results") | tee "$out/log.txt"
sleep 1
elapsed=$(( $(date +%s) - start ))
cat > "$out/run.env" <<EOF
RUN_TREE='$tree'
RUN_DATE='$(date -u +%Y-%m-%d)'
RUN_COMMIT='$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- bench lib fuse tools || echo ' (with uncommitted changes)')'
RUN_ELAPSED=$elapsed
RUN_RUNS=$RUNS
RUN_HEAVY_RUNS=$HEAVY_RUNS
RUN_READ_MB=$READ_MB
RUN_SMALL_TREE='${SMALL_TREE:-/usr/share/doc}'
RUN_PULL_TREE='${PULL_TREE:-/usr/share}'
RUN_EAGER_RUNS=${EAGER_RUNS:-1}
RUN_HASH_MB=${HASH_MB:-1024}
RUN_UPSTREAM='$([ -n "$UPSTREAM_BIN" ] && echo "composefs 1.0.8 built from source (bench/upstream.sh)")'
LOAD_START='$load_start'
LOAD_END='$(cut -d' ' -f1-3 /proc/loadavg)'
RUN_FAILED='$(cat "$keep/failed" 2>/dev/null | tr '\n' ' ')'
EOF

bash bench/report.sh
grep -E ' (fuse|overlay|erofs|squashfs)' /proc/mounts | grep cfs-bench && echo "run-all: mounts left behind!" && exit 1
echo "wrote $out/README.md ($((elapsed / 60)) min)"
