# Files per second against control RTT, one panel per pair of servers, one line per tool.
# Called by bench/rtt.sh:
#   gnuplot -e "dir='WORK'; pairs='rsexecd vsftpd gridftp'; out='docs/rtt.png'" bench/plot-rtt.gp
# where WORK/rtt.PAIR.series holds one block per tool (a quoted title line, then "RTT files/s"
# rows), blocks separated by two blank lines.
if (!exists("out")) out = 'docs/rtt.png'
if (!exists("what")) what = '200 files of 4 KiB'
n = words(pairs)
set terminal pngcairo size (n > 1 ? 400 * n + 120 : 860), 480 font ',10' noenhanced
set output out
set multiplot layout 1, n title 'Files per second, ' . what . ', control RTT through bench/rtt-proxy (one run, 2 cores)'
set logscale y
set yrange [1:10000]
set xrange [-5:105]
set xtics (0, 20, 50, 100)
set xlabel 'control round-trip time (ms)'
set ylabel 'files per second (log)'
set grid ytics mytics xtics
set key top right box opaque
do for [p = 1:n] {
  pair = word(pairs, p)
  f = sprintf('%s/rtt.%s.series', dir, pair)
  stats f using 1 nooutput
  set title pair . ' → ' . pair
  plot for [i = 0:STATS_blocks - 1] f index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1)
}
unset multiplot
