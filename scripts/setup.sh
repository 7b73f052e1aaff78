#!/usr/bin/env bash
# Installs what building and testing composefs-cpp needs (Debian 12), then configures and
# builds into build/. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(build-essential cmake pkg-config clang libclang-rt-14-dev libgtest-dev libssl-dev
          zlib1g-dev erofs-utils fsverity python3 kmod util-linux fuse3 bc go-md2man man-db dpkg-dev
          file time nlohmann-json3-dev libzstd-dev libcurl4-openssl-dev
          docker-registry skopeo umoci apache2-utils libcap2-bin)
# libipsec-mb (multi-buffer SHA) exists for x86-64 only; elsewhere OpenSSL hashes alone.
[ "$(dpkg --print-architecture)" = amd64 ] && packages+=(libipsec-mb-dev)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
