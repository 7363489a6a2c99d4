# Cost per item and peak RSS against the size of a job, one line per step. Called by bench/scale.sh:
#   gnuplot -e "data='SERIES'; steps='check run ...'; out='docs/scale.png'" bench/plot-scale.gp
# where SERIES holds one block per step, in the order of `steps`, of "items seconds us/item RSS"
# rows, blocks separated by two blank lines.
if (!exists("out")) out = 'docs/scale.png'
set terminal pngcairo size 1000, 420 font ',10' noenhanced
set output out
set multiplot layout 1, 2 title 'rsexec batch against the number of items (zero-byte files, one run, 2 cores)'
set logscale xy
set xlabel 'items in the job'
set grid
set key top left box opaque
set ylabel 'microseconds per item (log)'
plot for [i = 1:words(steps)] data index (i - 1) using 1:3 with linespoints title word(steps, i)
set ylabel 'peak RSS of rsexec, MiB (log)'
plot for [i = 1:words(steps)] data index (i - 1) using 1:4 with linespoints title word(steps, i), \
     100 with lines dashtype 2 lc 'black' title 'goal 100 MiB'
unset multiplot
