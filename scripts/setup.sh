#!/usr/bin/env bash
# Installs what building and testing composefs-cpp needs (Debian 12), then configures and
# builds into build/. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(build-essential ccache cmake pkg-config clang libclang-rt-14-dev libgtest-dev libssl-dev libpcre2-dev
          zlib1g-dev erofs-utils fsverity python3 kmod util-linux fuse3 bc go-md2man man-db dpkg-dev
          file time nlohmann-json3-dev libzstd-dev libcurl4-openssl-dev
          docker-registry skopeo umoci podman xfsprogs apache2-utils libcap2-bin nginx openssl
          qemu-system-x86 busybox-static debootstrap libselinux1-dev selinux-utils
          libtomlplusplus-dev systemd-boot-efi ovmf mtools dosfstools liburing-dev rpm zsh fish)
# libipsec-mb (multi-buffer SHA) exists for x86-64 only; elsewhere OpenSSL hashes alone.
[ "$(dpkg --print-architecture)" = amd64 ] && packages+=(libipsec-mb-dev)
# ISA-L (fast gzip inflation for pulls) where Debian builds it; elsewhere zlib inflates alone.
case "$(dpkg --print-architecture)" in amd64 | arm64) packages+=(libisal-dev isal) ;; esac
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  # nginx (and docker-registry) serve the tests only: their packages must not leave a service
  # running, or starting at boot. policy-rc.d stops the start; systemd units are disabled.
  no_start=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    no_start=1
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$no_start" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    for unit in nginx docker-registry; do
      [[ " ${missing[*]} " == *" $unit "* ]] && $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true
    done
  fi
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
