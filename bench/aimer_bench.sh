#!/bin/sh
# How fast `prune --criterion aimer` ranks experts from the weights alone: a dry run (scores, plan, size report,
# nothing written) on calibrate_bench.py's Mixtral-shaped bf16 model, against the bytes of expert weights it reads.
# The first run may read from disk, the next ROUNDS (default 3) from the page cache; the median is printed.
#
# usage: bench/aimer_bench.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-calibrate-bench}
maker=calibrate_bench.py
. "$here/common.sh"
rounds=${ROUNDS:-3}

"$moe_slim" prune "$work/model" --criterion aimer --keep 6 --dry-run >/dev/null
: >"$work/aimer.txt"
i=0
while [ "$i" -lt "$rounds" ]; do
    start=$(date +%s.%N)
    /usr/bin/time -v "$moe_slim" prune "$work/model" --criterion aimer --keep 6 --dry-run 2>"$work/aimer-$i.time" >/dev/null
    end=$(date +%s.%N)
    echo "$(echo "$end - $start" | bc -l) $(cpu "$work/aimer-$i.time") $(peak "$work/aimer-$i.time")" >>"$work/aimer.txt"
    i=$((i + 1))
done
python3 - "$work/aimer.txt" "$work/model" <<'PY'
import json, os, statistics, struct, sys
rows = [[float(x) for x in line.split()] for line in open(sys.argv[1])]
expert_bytes = 0
for name in os.listdir(sys.argv[2]):
    if name.endswith(".safetensors"):
        with open(os.path.join(sys.argv[2], name), "rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        expert_bytes += sum(v["data_offsets"][1] - v["data_offsets"][0] for k, v in header.items() if ".experts." in k)
wall, cpu, rss = (statistics.median(r[i] for r in rows) for i in range(3))
cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"CPU                    {cpu_model}, {os.cpu_count()} logical")
print(f"prune --criterion aimer --dry-run   {wall:.2f} s wall, {cpu:.2f} CPU s, peak RSS {rss / 1024:.0f} MiB (median of {len(rows)})")
print(f"expert weights read    {expert_bytes / 1e9:.2f} GB, {expert_bytes / 1e9 / wall:.2f} GB/s")
PY
