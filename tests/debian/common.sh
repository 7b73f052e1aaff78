# Shared by the scripts that fetch from Debian's archive for the tests (sourced, not run).

# Where downloaded kernels and debootstrapped roots are kept between runs: outside the
# repository, so a fresh clone (CI) on the same machine does not fetch them again.
test_cache_dir() {
  echo "${CFS_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/composefs-cpp-tests}"
}

# The Debian mirror this machine's apt already uses (the only network the tests may reach).
debian_mirror() {
  local sources mirror
  sources=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  mirror=$(sed -n -e 's/^URIs: *\([^ ]*\).*/\1/p' -e 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) .*/\2/p' <<<"$sources" |
    grep -v security | grep -i debian | head -1 || true)
  [ -n "$mirror" ] || { echo "no Debian mirror in the apt sources" >&2; return 1; }
  echo "$mirror"
}

# A missing environment: a visible skip (77), or a failure under CI=true.
unavailable() {
  echo "$(basename "$0"): $*" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 77
}
