# Helpers of bench/report.sh and bench/readme-figures.sh (sourced): medians out of
# results.tsv, ratios, and the gnuplot plots. Expects $results and $out.

# median GROUP LABEL METRIC: the median of one result ("" when it was not measured).
median() { awk -F'\t' -v g="$1" -v l="$2" -v m="$3" '$1 == g && $2 == l && $3 == m { print $5; exit }' "$results"; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && echo "$1 / $2" | bc -l || true; }
# speedup OURS UPSTREAM time|rate: above 1 when ours is faster.
speedup() { if [ "$3" = rate ]; then ratio "$1" "$2"; else ratio "$2" "$1"; fi; }
# fmt DIGITS VALUE: VALUE rounded ("?" when it was not measured).
fmt() { if [ -n "$2" ]; then printf "%.${1}f" "$2"; else printf '?'; fi; }

# The mirror's aim (bench/remote.sh) as one ratio: on demand over 1.5 × (local + the set's
# bytes at nginx's throughput); at most 1 is met.
remote_aim() {
  local od lo set rate
  od=$(median remote 'on demand (empty cache)' last-byte); lo=$(median remote 'local mount' last-byte)
  set=$(median remote 'start-up set' size); rate=$(median remote 'nginx on localhost (largest object)' throughput)
  [ -n "$od" ] && [ -n "$lo" ] && [ -n "$set" ] && [ -n "$rate" ] || return 0
  echo "$od / (1.5 * ($lo + $set / $rate))" | bc -l
}

# Jobs both have: JOB GROUP OURS-LABEL UPSTREAM-LABEL METRIC UNIT time|rate.
versus_rows() {
  cat <<'EOF'
mkcomposefs --from-file (cs9)	core	mkcomposefs --from-file (cs9)	upstream mkcomposefs --from-file (cs9)	time/entry	us	time
mkcomposefs --from-file (tree)	core	mkcomposefs --from-file (tree)	upstream mkcomposefs --from-file (tree)	time/entry	us	time
--print-digest-only (tree)	core	--print-digest-only (tree)	upstream --print-digest-only (tree)	time/entry	us	time
composefs-info dump (tree)	core	composefs-info dump (tree)	upstream composefs-info dump (tree)	time/entry	us	time
mkcomposefs, empty store	build	composefs, empty store, threads=2	upstream mkcomposefs, empty store	wall	s	time
mkcomposefs, full store	build	composefs, full store, threads=2	upstream mkcomposefs, full store	wall	s	time
composefs-fuse ls -lR cold	mount	fuse	upstream-fuse	ls -lR cold	s	time
composefs-fuse ls -lR warm	mount	fuse	upstream-fuse	ls -lR warm	s	time
composefs-fuse read cold	mount	fuse	upstream-fuse	read cold	MiB/s	rate
composefs-fuse read warm	mount	fuse	upstream-fuse	read warm	MiB/s	rate
composefs-fuse small files warm	mount	fuse	upstream-fuse	small files warm	s	time
measure-file (SHA-256)	hash	default engine	upstream measure-file	sha256	MiB/s	rate
EOF
}

# The bar plots: NAME, title, y label, awk condition on results.tsv, "log" for a log scale
# (where one slow bar, squashfuse, would flatten the rest).
plot_specs() {
  cat <<'EOF'
build	Building an image of TREE: wall time	wall time (s)	$1 == "build" && $3 == "wall"	
ls	ls -lR over TREE, cold page cache (log scale)	wall time (s)	$1 == "mount" && $3 == "ls -lR cold"	log
ls-warm	ls -lR over TREE, warm page cache (log scale)	wall time (s)	$1 == "mount" && $3 == "ls -lR warm"	log
read	Reading the largest files of TREE, cold page cache	throughput (MiB/s)	$1 == "mount" && $3 == "read cold"	
small	Every file of SMALL opened and read, warm	wall time (s)	$1 == "small" && $3 == "small files warm"	
pull	Pulling a one-layer image of PULL from a registry on localhost, cold page cache	wall time (s)	$1 == "pull" && $3 == "wall" && $2 ~ /1 layer\(s\), cold/	
EOF
}
plot_rows() {
  if [ "$1" = hash ]; then awk -F'\t' '$1 == "hash"' "$results"; return; fi
  local cond
  cond=$(plot_specs | awk -F'\t' -v n="$1" '$1 == n { print $4 }')
  awk -F'\t' "$cond" "$results"
}

# plot TMP NAME TITLE YLABEL CONDITION [log]: one bar per row (the median) with a min-max
# whisker, each labelled with its median.
plot() {
  local tmp=$1 name=$2 title=$3 ylabel=$4 cond=$5 scale="set yrange [0:*]"
  # The case a label ends with (", 1 layer(s), cold") is in the title: cut, so the label fits.
  awk -F'\t' -v OFS='\t' "$cond"' { sub(/, [0-9]+ layer\(s\), (cold|warm)$/, "", $2); print $2, $5, $6, $7 }' "$results" > "$tmp/plot.dat"
  [ -s "$tmp/plot.dat" ] || return 0
  [ "${6:-}" != log ] || scale="set logscale y; set yrange [*:*]"
  gnuplot <<GP
set terminal pngcairo size 1000,560 noenhanced
set output "$out/$name.png"
set datafile separator "\t"
set title "$title"
set ylabel "$ylabel"
set xlabel "what was measured"
set key top left
set style fill solid 0.6
set xtics rotate by -30
set bmargin 9
set offsets 0, 0, graph 0.12, 0
$scale
set xrange [-0.6:$(wc -l < "$tmp/plot.dat") - 0.4]
plot "$tmp/plot.dat" using 0:2:3:4:(0.6):xticlabels(1) with boxerrorbars title "median of the runs (whisker: min to max)", \
     "" using 0:4:(sprintf(\$2 >= 100 ? "%.0f" : "%.3g", \$2)) with labels offset 0,0.8 notitle
GP
}

# The hash engines: SHA-256 and SHA-512 side by side for each engine and baseline.
plot_hash() {
  local tmp=$1
  awk -F'\t' -v OFS='\t' '$1 == "hash" {
      if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
      v[$2, $3] = $5 "\t" $6 "\t" $7 }
    END { for (i = 1; i <= n; i++) {
      l = order[i]
      a = ((l, "sha256") in v) ? v[l, "sha256"] : "NaN\tNaN\tNaN"
      b = ((l, "sha512") in v) ? v[l, "sha512"] : "NaN\tNaN\tNaN"
      print l, a, b } }' "$results" > "$tmp/hash.dat"
  [ -s "$tmp/hash.dat" ] || return 0
  gnuplot <<GP
set terminal pngcairo size 1000,560 noenhanced
set output "$out/hash.png"
set datafile separator "\t"
set datafile missing "NaN"
set title "fs-verity digest of a $RUN_HASH_MB MiB file in the page cache, per hash engine"
set ylabel "throughput (MiB/s)"
set xlabel "engine (forced by CFS_HASH_ENGINE) or baseline"
set key top left
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.6
set xtics rotate by -30
set bmargin 9
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
# Clustered bars sit at x = row - 0.2 and row + 0.2 (2 series, gap 1).
plot "$tmp/hash.dat" using 2:3:4:xticlabels(1) title "SHA-256 (median, whisker: min-max)", \
     "" using 5:6:7 title "SHA-512 (median, whisker: min-max)", \
     "" using (\$0 - 0.17):4:(sprintf("%.0f", \$2)) with labels offset 0,0.7 notitle, \
     "" using (\$0 + 0.17):7:(sprintf("%.0f", \$5)) with labels offset 0,0.7 notitle
GP
}

# Speed-up over upstream per job (from versus() in report.sh): a bar per job, a line at 1.
plot_versus() {
  local tmp=$1
  [ -s "$tmp/versus.dat" ] || return 0
  gnuplot <<GP
set terminal pngcairo size 1000,640 noenhanced
set output "$out/upstream.png"
set datafile separator "\t"
set title "composefs-cpp against upstream composefs 1.0.8, same job, same run"
set ylabel "speed-up over upstream (×; above 1: ours is faster)"
set xlabel "job (time jobs: upstream's time / ours; throughputs: ours / upstream's)"
set key top left
set style fill solid 0.6
set xtics rotate by -30
set bmargin 11
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set xrange [-0.6:$(wc -l < "$tmp/versus.dat") - 0.4]
plot "$tmp/versus.dat" using 0:2:(0.6):xticlabels(1) with boxes title "speed-up (median over median)", \
     1 with lines lw 2 dt 2 title "as fast as upstream", \
     "" using 0:2:(sprintf("%.2f", \$2)) with labels offset 0,0.8 notitle
GP
}

render_plots() {
  local tmp=$1 name title ylabel cond scale
  while IFS=$'\t' read -r name title ylabel cond scale; do
    title=${title//TREE/$RUN_TREE}; title=${title//SMALL/$RUN_SMALL_TREE}; title=${title//PULL/$RUN_PULL_TREE}
    plot "$tmp" "$name" "$title" "$ylabel" "$cond" "$scale"
  done < <(plot_specs)
  plot_hash "$tmp"
  plot_versus "$tmp"
}

# Whether other work shared the machine: judged by the load when the run started (above half
# the cores). The load at its end is the run's own last job's, so it does not count; work that
# starts during the run is not seen.
run_was_busy() {
  awk -v a="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(a > n / 2) }'
}
