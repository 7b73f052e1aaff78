#!/usr/bin/env bash
# Benchmark (not a test): pulling a container image of ~1 GB of real files (default
# /usr/share, as usr/share of the image) from a local registry (Debian's docker-registry on
# 127.0.0.1), side by side in one run:
#   - cfsctl oci pull into an empty repository (fetch + verify + decompress + store + image)
#   - skopeo copy docker://... oci:DIR (fetching alone, what any pull costs)
#   - the pipeline a user would otherwise run: skopeo copy + umoci unpack + mkcomposefs
#     --digest-store (UPSTREAM_BIN's mkcomposefs when given, else ours), cold only; PIPELINE=0
#     skips it
#   - the floor of any tool that stores the files: the layers' blobs (already on disk)
#     inflated by igzip into tar -x, then sync
#   - with podman installed (one layer, cold): the image `podman pull`ed into a
#     containers-storage of its own, then cfsctl oci pull containers-storage: (auto: podman's
#     files hard-linked or reflinked; disabled: every byte copied), with the bytes each pull
#     added to the disk
# for each layer count in LAYERS (default "1 4": the tree split into N gzip layers) and each
# page cache state in CACHES (default "cold warm": dropped before every run, or left as the
# previous run left it, the registry's blobs then in memory). Wall time and peak RSS, median
# of RUNS (default 3). CFS_INFLATE=zlib|isal picks cfsctl's gzip engine.
#   bench/pull.sh [TREE]
cd "$(dirname "$0")/.."
source bench/lib.sh
tree=${1:-/usr/share}
work=$(mktemp -d /var/tmp/cfs-bench-pull.XXXXXX)
registry_pid=
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
  findmnt -rn -o TARGET | grep "^$work" | xargs -r umount -l || true  # podman should leave none
  rm -rf "$work"
}
trap cleanup EXIT
bytes=$(du -sb --apparent-size "$tree" 2>/dev/null | cut -f1)
echo "tree $tree: $(find "$tree" -xdev | wc -l) entries, $((bytes >> 20)) MiB"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
mkdir -p "$work/registry"
printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: "%s"}\n' \
  "$work/registry/data" "$host" > "$work/registry/config.yml"
docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$host" > "$work/registries.conf"
export CONTAINERS_REGISTRIES_CONF=$work/registries.conf
mk=$B/mkcomposefs
has_upstream mkcomposefs && mk=$U/mkcomposefs

# push_image N: the tree as N gzip layers (made with umoci), pushed as bench/files:N.
push_image() {
  local layers=$1
  echo "== making the image: $layers layer(s) (umoci, gzip)"
  rm -rf "$work/layout"
  umoci init --layout "$work/layout"
  umoci new --image "$work/layout:bench"
  mapfile -t parts < <(find "$tree" -mindepth 1 -maxdepth 1 | sort)
  for ((l = 0; l < layers; l++)); do
    rm -rf "$work/bundle"
    umoci unpack --image "$work/layout:bench" "$work/bundle" >/dev/null
    mkdir -p "$work/bundle/rootfs/usr/$(basename "$tree")"
    for ((i = l; i < ${#parts[@]}; i += layers)); do cp -a "${parts[$i]}" "$work/bundle/rootfs/usr/$(basename "$tree")/"; done
    umoci repack --image "$work/layout:bench" "$work/bundle"
  done
  rm -rf "$work/bundle"
  skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout:bench" "docker://$host/bench/files:$layers"
  rm -rf "$work/layout"
}

# measure LABEL CMD: wall (s) and peak RSS (MiB) per run. CMD (eval'ed) writes below $d, a
# fresh directory per run; nothing is deleted until the end, because ext4 skips inodes freed in
# the last minutes when allocating (a run right after rm -rf of the last one pays for it).
# Cold runs drop the page cache first; a warm run follows an unmeasured one of the same CMD.
run_number=0
measure() {
  local label=$1 cmd=$2
  local walls=() rss=() w m
  if [ "$cache" = warm ]; then
    d=$work/runs/$((++run_number))
    mkdir -p "$d"
    bash -c "set -e; d=$d; $cmd" >/dev/null 2>&1
  fi
  for i in $(seq "$RUNS"); do
    d=$work/runs/$((++run_number))
    mkdir -p "$d"
    if [ "$cache" = cold ]; then drop_caches; else sync; fi  # the last run's writes are not this one's
    /usr/bin/time -f "%e %M" -o "$work/t" bash -c "set -e; d=$d; $cmd" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
    read -r w m < "$work/t"
    walls+=("$w"); rss+=("$(echo "$m / 1024" | bc -l)")
  done
  result pull "$label" wall s "${walls[@]}"
  result pull "$label" "peak RSS" MiB "${rss[@]}"
  median_wall=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')
}

# disk_bytes DIR [SHARED]: blocks DIR adds to the disk beyond SHARED's (du counts an inode once).
disk_bytes() { du -s -B1 ${2:+"$2"} "$1" | tail -1 | cut -f1; }

# pull_containers_storage IMAGE: podman pulls IMAGE (from the registry) into a storage of its
# own; cfsctl pulls it from there in both --local-fetch modes, beside docker:// ($ours).
pull_containers_storage() {
  local storage=$work/storage
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$storage" "$work/run" > "$work/storage.conf"
  export CONTAINERS_STORAGE_CONF=$work/storage.conf
  podman --root "$storage" --runroot "$work/run" --tmpdir "$work/run/libpod" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file pull --quiet --tls-verify=false "$1" >/dev/null
  local cs="containers-storage:[overlay@$storage+$work/run]$1" mode
  for mode in auto disabled; do
    measure "cfsctl pull containers-storage ($mode), $at" "$B/cfsctl --repo \$d/repo init --insecure >/dev/null;
      $B/cfsctl --repo \$d/repo oci pull --local-fetch $mode $cs bench"
    result pull "cfsctl pull containers-storage ($mode), $at" "disk added" MiB "$(echo "$(disk_bytes "$d/repo" "$storage") / 1048576" | bc -l)"
    result pull "containers-storage ($mode) / docker://, $at" ratio x "$(echo "$median_wall / $ours" | bc -l)"
  done
}

for layers in ${LAYERS:-1 4}; do
  push_image "$layers"
  # The blobs for the tar -x floor, in layer order.
  rm -rf "$work/blobs"
  skopeo copy --quiet --src-tls-verify=false "docker://$host/bench/files:$layers" "oci:$work/blobs:bench"
  layer_blobs=$(python3 -c 'import json, sys
d = sys.argv[1]
index = json.load(open(d + "/index.json"))
manifest = json.load(open(d + "/blobs/sha256/" + index["manifests"][0]["digest"][7:]))
print(" ".join(d + "/blobs/sha256/" + l["digest"][7:] for l in manifest["layers"]))' "$work/blobs")
  image=docker://$host/bench/files:$layers
  for cache in ${CACHES:-cold warm}; do
    at="$layers layer(s), $cache"
    measure "cfsctl oci pull, $at" "$B/cfsctl --repo \$d/repo init --insecure >/dev/null; $B/cfsctl --repo \$d/repo oci pull $image bench"
    ours=$median_wall
    result pull "cfsctl oci pull, $at" "disk added" MiB "$(echo "$(disk_bytes "$d/repo") / 1048576" | bc -l)"
    if [ "$layers" = 1 ] && [ "$cache" = cold ] && command -v podman >/dev/null; then
      pull_containers_storage "$host/bench/files:1"
    fi
    measure "skopeo copy (fetch only), $at" "skopeo copy --quiet --src-tls-verify=false $image oci:\$d/oci:bench"
    result pull "cfsctl pull / skopeo copy, $at" ratio x "$(echo "$ours / $median_wall" | bc -l)"
    if command -v igzip >/dev/null; then
      measure "igzip into tar -x + sync (the floor), $at" "mkdir \$d/x; for b in $layer_blobs; do igzip -dc \$b | tar -x -C \$d/x; done; sync"
      result pull "cfsctl pull / tar -x, $at" ratio x "$(echo "$ours / $median_wall" | bc -l)"
    fi
    if [ "${PIPELINE:-1}" = 1 ] && [ "$cache" = cold ]; then
      measure "skopeo + umoci unpack + mkcomposefs, $at" "skopeo copy --quiet --src-tls-verify=false $image oci:\$d/oci:bench;
        umoci unpack --image \$d/oci:bench \$d/unpacked >/dev/null;
        $mk --digest-store=\$d/store \$d/unpacked/rootfs \$d/image.cfs"
      result pull "cfsctl pull / pipeline, $at" ratio x "$(echo "$ours / $median_wall" | bc -l)"
    fi
  done
  # Room for the next layer count (~13 GB a round); ext4 then avoids the freed inodes for a
  # minute, which the next round must not pay for.
  rm -rf "$work/runs"
  sync
  [ "$layers" = "$(echo ${LAYERS:-1 4} | awk '{print $NF}')" ] || sleep 60
done
