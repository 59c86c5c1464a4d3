#!/usr/bin/env bash
# Runs the benchmark suite and writes docs/benchmarks.md (and its plot).
#
#   scripts/bench.sh              # full suite: about 15 minutes on 2 cores
#   MEASURE=3s scripts/bench.sh   # shorter windows, for a quick look
#
# Installs what it needs (the build packages, redis-server, gnuplot), builds the relay
# and the load generator in release mode, pins the relay to core 0 and the generator to
# core 1, and loads every system (Studyhall, Janus 1.1 VideoRoom, the null relay) with the
# same scenarios in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[bench]\033[0m %s\n' "$*"; }

bash scripts/install-deps.sh test
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)   # the plot
command -v janus >/dev/null || missing+=(janus)           # the Janus 1.1 baseline
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get install -y --no-install-recommends "${missing[@]}"
fi
# shellcheck source=scripts/env.sh
source scripts/env.sh

log "building the relay and the load generator (release)"
cargo build --release -p studyhall-relay -p studyhall-tests --bin studyhall-relay --bin studyhall-loadgen
target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
gen="$target_dir/release/studyhall-loadgen"
relay="$target_dir/release/studyhall-relay"

measure=${MEASURE:-10s}
pin=()
if [ "$(nproc)" -ge 2 ]; then pin=(--pin); fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log "media scenarios (window $measure each)"
"$gen" --relay-binary "$relay" "${pin[@]}" suite --measure "$measure" --plot-data "$work/plot.tsv" | tee "$work/media.md"
log "chat"
"$gen" --relay-binary "$relay" "${pin[@]}" chat --users 25 --rate 10 --measure "$measure" | tee "$work/chat.md"
log "whiteboard"
"$gen" --relay-binary "$relay" "${pin[@]}" board --viewers 24 --objects 5000 --measure "$measure" | tee "$work/board.md"

log "plot"
plot=docs/benchmarks-cpu-per-packet.png
cp "$work/plot.tsv" docs/benchmarks-plot.tsv
gnuplot <<EOF
set terminal pngcairo size 900,520 font "DejaVu Sans,11"
set output "$plot"
set title "Relay CPU per egress packet (camera + audio, everyone subscribes to everyone)"
set xlabel "participants in the room"
set ylabel "CPU µs per egress packet"
set key top right
set grid
set datafile separator "\t"
set xrange [0:27]
set yrange [0:*]
plot "< grep 'Studyhall' docs/benchmarks-plot.tsv" using 1:3 with linespoints lw 2 title "Studyhall", \
     "< grep 'Janus' docs/benchmarks-plot.tsv" using 1:3 with linespoints lw 2 title "Janus 1.1 VideoRoom", \
     "< grep 'null relay' docs/benchmarks-plot.tsv" using 1:3 with linespoints lw 2 title "null relay (UDP + AES-GCM floor)"
EOF

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1024/1024}' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  cat docs/benchmarks.head.md
  echo
  echo "## This run"
  echo
  echo "- Command: \`scripts/bench.sh\` (measuring window ${measure} per scenario), commit \`$commit\`, $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "- Machine: $cpu, $(nproc) cores, $mem, Linux $(uname -r)."
  echo "- Pinning: ${pin[*]:-none} (relay on core 0, generator on core 1)."
  echo
  echo "### Media"
  echo
  cat "$work/media.md"
  echo
  echo "![Relay CPU per egress packet against room size]($(basename "$plot"))"
  echo
  echo "### Chat"
  echo
  cat "$work/chat.md"
  echo
  echo "### Whiteboard"
  echo
  cat "$work/board.md"
  # The reading of the numbers is written by hand after a run.
  [ -f docs/benchmarks.tail.md ] && cat docs/benchmarks.tail.md
} > docs/benchmarks.md
log "wrote docs/benchmarks.md and $plot"
