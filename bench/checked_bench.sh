#!/bin/sh
# The cost of shipping checked code: moe-slim calibrate built as it ships (-O, bounds and overflow checks on)
# against the same sources built with -Ounchecked, on calibrate_bench.sh's Mixtral-shaped bf16 model and 4096
# tokens, under both --compute modes. Prints the medians of RUNS runs, wall and CPU seconds (user + sys, which
# move less with a shared machine's load), their ratios and peak RSS. Needs python3 with torch and transformers
# once, to make the model.
#
# usage: bench/checked_bench.sh [WORK_FOLDER]      (RUNS=5 by default)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-calibrate-bench}
maker=calibrate_bench.py
runs=${RUNS:-5}
. "$here/common.sh"
(cd "$here/.." && swift build -c release --product moe-slim --scratch-path .build-unchecked -Xswiftc -Ounchecked >/dev/null)
unchecked="$here/../.build-unchecked/release/moe-slim"

# One timed run: wall seconds, CPU seconds and peak RSS in KiB.
run() {
    start=$(date +%s.%N)
    /usr/bin/time -v "$1" calibrate "$work/model" --data "$work/tokens.jsonl" -o "$work/counts-checked.json" --force \
        --memory 8GB --compute "$2" --threads "$threads" 2>"$work/checked.time" >/dev/null
    end=$(date +%s.%N)
    echo "$(echo "$end - $start" | bc -l) $(cpu "$work/checked.time") $(peak "$work/checked.time")"
}

for mode in bf16 f32; do
    : >"$work/checked-$mode.txt"
    i=0
    while [ "$i" -lt "$runs" ]; do
        # Alternate the two builds so a change in the machine's load falls on both.
        echo "shipped $(run "$moe_slim" "$mode")" >>"$work/checked-$mode.txt"
        echo "unchecked $(run "$unchecked" "$mode")" >>"$work/checked-$mode.txt"
        i=$((i + 1))
    done
done

python3 - "$work" "$threads" <<'PY'
import statistics, sys
work, threads = sys.argv[1:]
print(f"threads {threads}")
for mode in ("bf16", "f32"):
    rows = [line.split() for line in open(f"{work}/checked-{mode}.txt")]
    wall = {b: statistics.median(float(r[1]) for r in rows if r[0] == b) for b in ("shipped", "unchecked")}
    cpu = {b: statistics.median(float(r[2]) for r in rows if r[0] == b) for b in ("shipped", "unchecked")}
    rss = {b: max(int(r[3]) for r in rows if r[0] == b) for b in ("shipped", "unchecked")}
    print(f"--compute {mode}: shipped (-O) {wall['shipped']:.2f} s wall, {cpu['shipped']:.2f} CPU s; "
          f"-Ounchecked {wall['unchecked']:.2f} s wall, {cpu['unchecked']:.2f} CPU s; "
          f"shipped/unchecked {wall['shipped'] / wall['unchecked']:.3f} wall, {cpu['shipped'] / cpu['unchecked']:.3f} CPU; "
          f"peak RSS {rss['shipped'] / 1024:.0f} / {rss['unchecked'] / 1024:.0f} MiB")
PY
