#!/usr/bin/env bash
# Benchmark (not a test): objects on demand from an HTTP mirror against fetching everything
# first, side by side in one run. The image is this machine's /usr (or TREE), stored in a
# repository that Debian's nginx serves on 127.0.0.1.
#   - the start-up set: the objects `python3 -c pass` opens when run from the mounted image
#     (chrooted), written by composefs-fuse -o record=FILE
#   - on demand: an empty cache, composefs-fuse -o remote=URL; the set's files read in record
#     order: time to the first and to the last byte, bytes fetched against the image's total
#   - eager: cfsctl fetch of the whole image into an empty repository, then the set read from
#     a local mount
#   - local: the set read from a local mount (objects local, page cache dropped)
#   - the aim: on demand <= 1.5 x (local + the set's bytes at nginx's measured throughput)
#   - python3 -c pass itself, chrooted onto the on-demand mount (empty cache) and the local one
# Page caches dropped before every run; median of RUNS (default 3).   bench/remote.sh [TREE]
#   EAGER_RUNS (default RUNS): runs of the whole-image fetch (75 s each for /usr here)
cd "$(dirname "$0")/.."
source bench/lib.sh
tree=${1:-/usr}
work=$(mktemp -d /var/tmp/cfs-bench-remote.XXXXXX)
nginx_pid=
cleanup() {
  mountpoint -q "$work/root/usr" && umount -l "$work/root/usr"
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== storing $tree in a repository (cfsctl create-image)"
$B/cfsctl --repo "$work/origin" init --insecure >/dev/null
id=$($B/cfsctl --repo "$work/origin" create-image --no-propagate-usr-to-root "$tree" usr | sed 's/^sha512://')
image=$work/origin/images/$id
total=$(find "$work/origin/objects" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
echo "image $id: $(find "$work/origin/objects" -type f | wc -l) objects, $((total >> 20)) MiB"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port/
mkdir -p "$work/nginx/tmp"
cat > "$work/nginx/conf" <<EOF
user root root; daemon off; worker_processes 2; pid $work/nginx/pid; error_log $work/nginx/error.log;
events {}
http { access_log off; sendfile on; default_type application/octet-stream;
  client_body_temp_path $work/nginx/tmp; proxy_temp_path $work/nginx/tmp; fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp; scgi_temp_path $work/nginx/tmp;
  server { listen 127.0.0.1:$port; root $work/origin; } }
EOF
nginx -c "$work/nginx/conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# A root whose /usr is the mounted image (Debian's /bin, /lib… are links into /usr).
mkdir -p "$work/root/usr"
for l in bin sbin lib lib64; do ln -s "usr/$l" "$work/root/$l"; done
fuse_mount() {  # fuse_mount OPTIONS: the image at root/usr
  $B/composefs-fuse -o "source=$image,$1" "$work/root/usr"
}
unmount() { umount "$work/root/usr"; for _ in $(seq 100); do pgrep -f "composefs-fuse.*$work" >/dev/null || break; sleep 0.05; done; }

echo "== recording the start-up set of python3 -c pass"
fuse_mount "basedir=$work/cache0,remote=$url,record=$work/record"
chroot "$work/root" /usr/bin/python3 -c pass
unmount
echo "recorded $(wc -l < "$work/record") objects"
# Each recorded object's first file, in record order (from the image's dump), and their bytes.
$B/composefs-info dump "$image" > "$work/dump"
set_bytes=$(python3 - "$work/dump" "$work/record" "$work/root/usr" "$work/set" <<'EOF'
import sys
first = {}
for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    f = line.split(" ")
    if len(f) > 8 and f[8] != "-" and f[8] not in first:
        first[f[8]] = (f[0].encode("latin-1", "surrogateescape").decode("unicode_escape"), int(f[1]))
total = 0
with open(sys.argv[4], "w") as out:
    for o in open(sys.argv[2]).read().split():
        if o in first:
            print(sys.argv[3] + first[o][0], file=out)
            total += first[o][1]
print(total)
EOF
)
result remote "image" size MiB "$(echo "$total / 1048576" | bc -l)"
result remote "start-up set" size MiB "$(echo "$set_bytes / 1048576" | bc -l)"
result remote "start-up set" objects count "$(wc -l < "$work/set")"
echo "set: $(wc -l < "$work/set") files, $((set_bytes >> 10)) KiB ($(awk -v a="$set_bytes" -v b="$total" 'BEGIN { printf "%.3f", 100 * a / b }')% of the image)"

# read_set: seconds to the first and to the last byte of the set, read in record order.
read_set() {
  python3 - "$work/set" <<'EOF'
import sys, time
t0 = time.monotonic(); first = None
for p in open(sys.argv[1]).read().splitlines():
    with open(p, "rb") as f:
        while f.read(1 << 20):
            if first is None: first = time.monotonic() - t0
print(first or 0, time.monotonic() - t0)
EOF
}

biggest=$(find "$work/origin/objects" -type f -printf '%s %P\n' | sort -n | tail -1 | cut -d' ' -f2)
rates=()
for _ in $(seq "$RUNS"); do
  drop_caches
  rates+=("$(curl -s -o /dev/null -w '%{speed_download}' "$url/objects/$biggest")")
done
result remote "nginx on localhost (largest object)" throughput MiB/s $(for r in "${rates[@]}"; do echo "$r / 1048576" | bc -l; done)
rate=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')

first=(); last=(); fetched=(); py_remote=()
for i in $(seq "$RUNS"); do
  drop_caches
  fuse_mount "basedir=$work/cache$i,remote=$url"
  read -r f l < <(read_set)
  first+=("$f"); last+=("$l")
  unmount  # fetched objects are named a moment after they are served, and at the latest here
  fetched+=("$(find "$work/cache$i" -type f -printf '%s\n' | awk '{ s += $1 } END { print s / 1048576 }')")
  rm -rf "$work/cache$i"
  drop_caches
  fuse_mount "basedir=$work/cache$i,remote=$url"
  py_remote+=("$(seconds chroot "$work/root" /usr/bin/python3 -c pass)")
  unmount
  rm -rf "$work/cache$i"
done
result remote "on demand (empty cache)" first-byte s "${first[@]}"
result remote "on demand (empty cache)" last-byte s "${last[@]}"
result remote "on demand (empty cache)" fetched MiB "${fetched[@]}"
result remote "on demand: python3 -c pass" wall s "${py_remote[@]}"

fetch=(); local_first=(); local_last=(); py_local=()
for i in $(seq "$RUNS"); do
  if [ "$i" -le "${EAGER_RUNS:-$RUNS}" ]; then  # later runs read the last copy
    rm -rf "$work/copy"
    $B/cfsctl --repo "$work/copy" init --insecure >/dev/null
    drop_caches
    fetch+=("$(seconds "$B/cfsctl" --repo "$work/copy" fetch "$url" "$id")")
  fi
  drop_caches
  fuse_mount "basedir=$work/copy/objects"
  read -r f l < <(read_set)
  local_first+=("$f"); local_last+=("$l")
  unmount
  drop_caches
  fuse_mount "basedir=$work/copy/objects"
  py_local+=("$(seconds chroot "$work/root" /usr/bin/python3 -c pass)")
  unmount
done
result remote "eager: cfsctl fetch of the image" wall s "${fetch[@]}"
result remote "local mount" first-byte s "${local_first[@]}"
result remote "local mount" last-byte s "${local_last[@]}"
result remote "local mount: python3 -c pass" wall s "${py_local[@]}"

med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
limit=$(echo "1.5 * ($(med "${local_last[@]}") + $set_bytes / $rate)" | bc -l)
printf 'aim: on demand %.3f s <= 1.5 x (local %.3f s + transfer %.3f s) = %.3f s; fetched %s MiB of %s MiB (the set: %s MiB)\n' \
  "$(med "${last[@]}")" "$(med "${local_last[@]}")" "$(echo "$set_bytes / $rate" | bc -l)" "$limit" \
  "$(med "${fetched[@]}")" "$((total >> 20))" "$(echo "$set_bytes / 1048576" | bc -l | cut -c1-6)"
