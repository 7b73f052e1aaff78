#!/usr/bin/env bash
# Quick start, the main job: set up; make an OCI image of files of this machine (umoci); push
# it to a local registry (Debian's docker-registry on 127.0.0.1, nothing leaves the machine);
# `cfsctl oci pull` it into a composefs repository; mount it and check it equals its source;
# then pull a second image that shares most files and show that the store grew only by what is
# new. Everything runs in a temporary directory and is stopped and removed at the end.
#   bash scripts/quickstart.sh [DIR]   (DIR: files for the image, default /usr/share/doc)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cfsctl=$PWD/build/tools/cfsctl
src=${1:-/usr/share/doc}
work=$(mktemp -d /tmp/composefs-quickstart.XXXXXX)
registry_pid=
cleanup() {
  umount "$work/mnt" 2>/dev/null || true
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/mnt"

echo "== an OCI image of $src (umoci), and a second one that changes a few files"
umoci init --layout "$work/layout"
umoci new --image "$work/layout:v1"
umoci unpack --image "$work/layout:v1" "$work/b1" >/dev/null
mkdir -p "$work/b1/rootfs/usr/share"
cp -a "$src" "$work/b1/rootfs/usr/share/$(basename "$src")"
umoci repack --image "$work/layout:v1" "$work/b1"
umoci unpack --image "$work/layout:v1" "$work/b2" >/dev/null
echo "new in v2" > "$work/b2/rootfs/usr/share/NEWS.v2"
head -c 3000000 /dev/urandom > "$work/b2/rootfs/usr/share/payload.v2"
umoci repack --image "$work/layout:v2" "$work/b2"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
echo "== docker-registry on $host; skopeo copy both images to it"
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry/data}}
http: {addr: "$host"}
YAML
docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
for tag in v1 v2; do
  skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout:$tag" "docker://$host/demo/files:$tag"
done
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$host" > "$work/registries.conf"
export CONTAINERS_REGISTRIES_CONF=$work/registries.conf

echo "== cfsctl oci pull docker://$host/demo/files:v1"
"$cfsctl" --repo "$work/repo" init --insecure >/dev/null
"$cfsctl" --repo "$work/repo" oci pull "docker://$host/demo/files:v1" v1
store_kib() { du -sk "$work/repo/objects" | cut -f1; }
before=$(store_kib)
echo "repository: $before KiB"

if [ "$(id -u)" -eq 0 ]; then
  echo "== cfsctl oci mount v1 $work/mnt"
  "$cfsctl" --repo "$work/repo" oci mount v1 "$work/mnt"
  ls -la "$work/mnt" | sed -n 1,6p
  diff -r --no-dereference "$src" "$work/mnt/usr/share/$(basename "$src")" \
    && echo "mounted image identical to $src: every file reads back from the shared store"
  umount "$work/mnt"
else
  echo "(not root: skipping the kernel mount; cfsctl oci mount --fuse yes works rootless)"
fi

echo "== cfsctl oci pull docker://$host/demo/files:v2 (shares every file of v1)"
"$cfsctl" --repo "$work/repo" oci pull "docker://$host/demo/files:v2" v2
after=$(store_kib)
echo "store grew by $((after - before)) KiB for v2 (its new files; everything else is shared)"
"$cfsctl" --repo "$work/repo" oci images
"$cfsctl" --repo "$work/repo" oci fsck | tail -2
