#!/bin/sh
# moe-slim calibrate vs transformers' CPU forward (router logits on) on the same Mixtral-shaped random bf16 model
# and the same 4096 tokens, same thread count; plus moe-slim's achieved GFLOP/s on the active FLOPs against a
# plain OpenBLAS sgemm, and both peak RSS. Needs python3 with torch and transformers.
#
# On a shared machine wall-clock times move with the neighbours' load, so CPU seconds (user + sys, all threads)
# are printed as well; moe-slim's include opening the checkpoint and widening, torch's only the forward.
#
# usage: bench/calibrate_bench.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-calibrate-bench}
maker=calibrate_bench.py
. "$here/common.sh"

start=$(date +%s.%N)
/usr/bin/time -v "$moe_slim" calibrate "$work/model" --data "$work/tokens.jsonl" -o "$work/counts.json" --force \
    --memory 8GB 2>"$work/moe-slim.time" >/dev/null
end=$(date +%s.%N)
ours=$(echo "$end - $start" | bc -l)

/usr/bin/time -v python3 "$here/calibrate_bench.py" torch "$work" >"$work/torch.json" 2>"$work/torch.time"
theirs=$(python3 -c "import json; print(json.load(open('$work/torch.json'))['seconds'])")
theirs_cpu=$(python3 -c "import json; print(json.load(open('$work/torch.json'))['cpu_seconds'])")
tokens=$(python3 -c "import json; print(json.load(open('$work/torch.json'))['tokens'])")
flops=$(python3 "$here/calibrate_bench.py" flops "$work")
python3 "$here/calibrate_bench.py" sgemm >"$work/sgemm.json"

python3 - "$ours" "$(cpu "$work/moe-slim.time")" "$theirs" "$theirs_cpu" "$tokens" "$flops" "$work/sgemm.json" \
    "$(peak "$work/moe-slim.time")" "$(peak "$work/torch.time")" "$threads" <<'PY'
import json, sys
ours, ours_cpu, theirs, theirs_cpu, tokens, flops, sgemm, rss_ours, rss_torch, threads = sys.argv[1:]
ours, ours_cpu, theirs, theirs_cpu, flops = float(ours), float(ours_cpu), float(theirs), float(theirs_cpu), float(flops)
tokens = int(tokens)
sgemm = json.load(open(sgemm))
print(f"threads                     {threads}")
print(f"moe-slim calibrate          {tokens / ours:10.1f} tokens/s  ({ours:.2f} s wall end to end, {ours_cpu:.2f} CPU s)")
print(f"transformers forward (bf16) {tokens / theirs:10.1f} tokens/s  ({theirs:.2f} s wall forward only, {theirs_cpu:.2f} CPU s)")
print(f"speed-up wall               {theirs / ours:10.2f} x   (goal >= 2)")
print(f"speed-up per CPU second     {theirs_cpu / ours_cpu:10.2f} x")
print(f"moe-slim achieved           {flops / ours / 1e9:10.1f} GFLOP/s wall, {flops / ours_cpu / 1e9:.1f} per CPU s, on {flops / 1e12:.3f} TFLOP active")
print(f"plain OpenBLAS sgemm        {sgemm['gflops']:10.1f} GFLOP/s wall, {sgemm['gflops_per_cpu_second']:.1f} per CPU s")
print(f"efficiency wall             {100 * flops / ours / 1e9 / sgemm['gflops']:10.1f} %   (goal >= 60)")
print(f"efficiency per CPU second   {100 * flops / ours_cpu / 1e9 / sgemm['gflops_per_cpu_second']:10.1f} %")
print(f"peak RSS moe-slim           {int(rss_ours) / 1024:10.0f} MiB")
print(f"peak RSS transformers       {int(rss_torch) / 1024:10.0f} MiB")
PY
