# Shared helpers of the benchmark scripts (sourced). Every measurement is printed twice: a
# line for people, and a tab-separated RESULT line that bench/run-all.sh turns into tables
# and plots:  RESULT <group> <label> <metric> <unit> <median> <min> <max> <runs>
set -euo pipefail
B=${B:-$PWD/build/tools}
# UPSTREAM_BIN=DIR: upstream composefs 1.0.8's tools (mkcomposefs, composefs-info,
# composefs-fuse), measured side by side with ours wherever they have the job.
U=${UPSTREAM_BIN:-}
has_upstream() { [ -n "$U" ] && [ -x "$U/$1" ]; }
RUNS=${RUNS:-3}

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

# Wall-clock seconds of a command (its output discarded).
seconds() {
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}

# result GROUP LABEL METRIC UNIT VALUE...: median, min and max of the values. RESULT_GROUP
# replaces GROUP (run-all keeps two scripts' rows of the same labels apart).
result() {
  local group=${RESULT_GROUP:-$1} label=$2 metric=$3 unit=$4
  shift 4
  local sorted n med
  sorted=$(printf '%s\n' "$@" | sort -g)
  n=$#
  med=$(echo "$sorted" | awk -v n="$n" '{ v[NR] = $1 } END {
    if (n % 2) print v[(n + 1) / 2]; else print (v[n / 2] + v[n / 2 + 1]) / 2 }')
  local lo hi
  lo=$(echo "$sorted" | head -1)
  hi=$(echo "$sorted" | tail -1)
  printf '%-28s %-40s %-16s %10.3f %-6s (min %.3f, max %.3f, %d runs)\n' \
    "$group" "$label" "$metric" "$med" "$unit" "$lo" "$hi" "$n"
  printf 'RESULT\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$group" "$label" "$metric" "$unit" "$med" "$lo" "$hi" "$n" >&3
}

# Results go to fd 3: a file when run by run-all, else nowhere.
if ! { true >&3; } 2>/dev/null; then exec 3>/dev/null; fi
