#!/bin/sh
# What collecting every counts statistic costs over hard counts alone (issue 17: at most 10%): moe-slim calibrate
# on calibrate_bench.py's Mixtral-shaped bf16 model and 4096 tokens, once as users run it (hard, soft,
# soft_softmax, saliency, entropy, ean, max_abs_output, each token's softmax and entropy, every selected expert's
# output norm and largest component) and once with the hidden --hard-counts-only (routing and top-k hits only, no
# expert output measured, nothing written). Same binary, same model, same threads; the two modes alternate ROUNDS
# times (default 3) and the median of each is compared, so a neighbour's burst on a shared machine hits both.
# Prints wall and CPU seconds (user + sys, all threads), their ratios, peak RSS and the CPU.
#
# usage: bench/statistics_bench.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-calibrate-bench}
maker=calibrate_bench.py
. "$here/common.sh"
rounds=${ROUNDS:-3}

run() {  # run MODE ROUND: appends "mode wall cpu rss" to $work/statistics.txt
    extra=""
    [ "$1" = hard ] && extra="--hard-counts-only"
    start=$(date +%s.%N)
    /usr/bin/time -v "$moe_slim" calibrate "$work/model" --data "$work/tokens.jsonl" -o "$work/counts-stat.json" --force \
        --memory 8GB --threads "$threads" $extra 2>"$work/stat-$1-$2.time" >/dev/null
    end=$(date +%s.%N)
    echo "$1 $(echo "$end - $start" | bc -l) $(cpu "$work/stat-$1-$2.time") $(peak "$work/stat-$1-$2.time")" >>"$work/statistics.txt"
}
: >"$work/statistics.txt"
i=0
while [ "$i" -lt "$rounds" ]; do
    run hard "$i"
    run all "$i"
    i=$((i + 1))
done

python3 - "$work/statistics.txt" "$threads" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def median(mode, column):
    return statistics.median(float(r[column]) for r in rows if r[0] == mode)
cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
simd = ", ".join(f for f in ("avx2", "fma", "avx512f") if f in flags)
print(f"CPU                          {cpu_model} ({simd}), {sys.argv[2]} threads")
print(f"rounds                       {len(rows) // 2} of each mode, medians")
for mode, label in (("hard", "hard counts only"), ("all", "every statistic")):
    print(f"{label:28s} {median(mode, 1):8.2f} s wall  {median(mode, 2):8.2f} CPU s  peak RSS {median(mode, 3) / 1024:6.0f} MiB")
wall, cpu = median("all", 1) / median("hard", 1), median("all", 2) / median("hard", 2)
print(f"ratio all / hard             {wall:8.3f} wall  {cpu:8.3f} CPU    (goal <= 1.10)")
PY
