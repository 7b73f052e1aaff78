#!/usr/bin/env bash
# Makes a scratch root holding Debian's default SELinux policy (selinux-policy-default), with
# its file_contexts built by semodule, for tests/selinux/compare_test.cc:
#   bash scripts/selinux-policy-root.sh DIR && CFS_SELINUX_ROOT=DIR build/tests/selinux_compare_tests
# Nothing is installed under this machine's /etc/selinux: the package is unpacked into DIR and
# semodule works on DIR (-p). Needs selinux-utils, libselinux1-dev, semodule-utils and
# policycoreutils (apt-get install them).
set -euo pipefail
dir=$(realpath -m "${1:?usage: $0 DIR}")
mkdir -p "$dir"
cd "$dir"
[ -f selinux-policy-default.deb ] || { apt-get download selinux-policy-default && mv selinux-policy-default_*.deb selinux-policy-default.deb; }
dpkg-deb -x selinux-policy-default.deb .
printf 'SELINUX=permissive\nSELINUXTYPE=default\n' > etc/selinux/config
mods=$(ls usr/share/selinux/default/*.pp.bz2 | grep -v '/base\.pp')
semodule -p "$dir" -s default -n -X 100 -i usr/share/selinux/default/base.pp.bz2 $mods
ls -l etc/selinux/default/contexts/files/
