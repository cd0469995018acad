#!/usr/bin/env bash
# How long `moe-slim report` takes on a DeepSeek-V3-shaped header (about 90,000 tensors, data left as a hole),
# next to the reference safetensors library reading the same header from Python. Prints medians of N runs,
# the ratio, and peak memory. Usage: bench/report_bench.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# MOE_SLIM=path/to/moe-slim skips the build.
[ -n "${MOE_SLIM:-}" ] || swift build -c release >/dev/null
bin=${MOE_SLIM:-.build/release/moe-slim}
python3 bench/make_checkpoint.py deepseek_v3 "$work/dsv3" --data sparse --shard-gb 4.3

measure() { # prints "seconds peak_kb" for one run
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1
    cat "$work/t"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

"$bin" report "$work/dsv3" >/dev/null
python3 bench/report_peer.py "$work/dsv3" >/dev/null
for _ in $(seq "$runs"); do
    measure "$bin" report "$work/dsv3" >>"$work/ours"
    measure python3 bench/report_peer.py "$work/dsv3" >>"$work/peer"
done
ours=$(cut -d' ' -f1 "$work/ours" | median); peer=$(cut -d' ' -f1 "$work/peer" | median)
ours_kb=$(cut -d' ' -f2 "$work/ours" | median); peer_kb=$(cut -d' ' -f2 "$work/peer" | median)
echo "report on a DeepSeek-V3-shaped checkpoint (sharded like the real one), median of $runs runs:"
echo "  moe-slim report          ${ours}s  peak ${ours_kb} KB"
echo "  python safetensors peer  ${peer}s  peak ${peer_kb} KB (totals only, no report)"
awk -v a="$ours" -v b="$peer" 'BEGIN {printf "  ratio moe-slim/peer     %.2f (below 1 is faster)\n", a/b}'
