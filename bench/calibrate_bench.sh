#!/bin/sh
# moe-slim calibrate vs transformers' CPU forward (router logits on) on the same Mixtral-shaped random bf16 model
# and the same 4096 tokens, same thread count; plus moe-slim's achieved GFLOP/s on the active FLOPs against a
# plain OpenBLAS sgemm, and both peak RSS. moe-slim runs with its default --compute bf16 (bf16 products, f32
# sums, as torch runs the bf16 model) and with --compute f32 (widened weights, OpenBLAS sgemm), which is the
# mode the sgemm efficiency figure is about. Needs python3 with torch and transformers.
#
# On a shared machine wall-clock times move with the neighbours' load, so CPU seconds (user + sys, all threads)
# are printed as well; moe-slim's include opening the checkpoint, torch's only the forward.
#
# usage: bench/calibrate_bench.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-calibrate-bench}
maker=calibrate_bench.py
. "$here/common.sh"

run_ours() {
    start=$(date +%s.%N)
    /usr/bin/time -v "$moe_slim" calibrate "$work/model" --data "$work/tokens.jsonl" -o "$work/counts-$1.json" --force \
        --memory 8GB --compute "$1" --threads "$threads" 2>"$work/moe-slim-$1.time" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
ours=$(run_ours bf16)
ours32=$(run_ours f32)

/usr/bin/time -v python3 "$here/calibrate_bench.py" torch "$work" >"$work/torch.json" 2>"$work/torch.time"
theirs=$(python3 -c "import json; print(json.load(open('$work/torch.json'))['seconds'])")
theirs_cpu=$(python3 -c "import json; print(json.load(open('$work/torch.json'))['cpu_seconds'])")
tokens=$(python3 -c "import json; print(json.load(open('$work/torch.json'))['tokens'])")
flops=$(python3 "$here/calibrate_bench.py" flops "$work")
python3 "$here/calibrate_bench.py" sgemm >"$work/sgemm.json"

python3 - "$ours" "$(cpu "$work/moe-slim-bf16.time")" "$ours32" "$(cpu "$work/moe-slim-f32.time")" "$theirs" "$theirs_cpu" \
    "$tokens" "$flops" "$work/sgemm.json" "$(peak "$work/moe-slim-bf16.time")" "$(peak "$work/moe-slim-f32.time")" \
    "$(peak "$work/torch.time")" "$threads" <<'PY'
import json, sys
ours, ours_cpu, ours32, ours32_cpu, theirs, theirs_cpu, tokens, flops, sgemm, rss, rss32, rss_torch, threads = sys.argv[1:]
ours, ours_cpu, ours32, ours32_cpu = float(ours), float(ours_cpu), float(ours32), float(ours32_cpu)
theirs, theirs_cpu, flops, tokens = float(theirs), float(theirs_cpu), float(flops), int(tokens)
sgemm = json.load(open(sgemm))
print(f"threads                     {threads}")
print(f"transformers forward (bf16) {tokens / theirs:10.1f} tokens/s  ({theirs:.2f} s wall forward only, {theirs_cpu:.2f} CPU s)")
print(f"plain OpenBLAS sgemm        {sgemm['gflops']:10.1f} GFLOP/s wall, {sgemm['gflops_per_cpu_second']:.1f} per CPU s")
for mode, wall, cpu in (("bf16", ours, ours_cpu), ("f32", ours32, ours32_cpu)):
    print(f"--- moe-slim calibrate --compute {mode}")
    print(f"moe-slim calibrate          {tokens / wall:10.1f} tokens/s  ({wall:.2f} s wall end to end, {cpu:.2f} CPU s)")
    print(f"speed-up wall               {theirs / wall:10.2f} x" + ("   (goal >= 2)" if mode == "bf16" else ""))
    print(f"speed-up per CPU second     {theirs_cpu / cpu:10.2f} x")
    print(f"moe-slim achieved           {flops / wall / 1e9:10.1f} GFLOP/s wall, {flops / cpu / 1e9:.1f} per CPU s, on {flops / 1e12:.3f} TFLOP active")
    print(f"of plain sgemm, wall        {100 * flops / wall / 1e9 / sgemm['gflops']:10.1f} %" + ("   (goal >= 60)" if mode == "f32" else ""))
    print(f"of plain sgemm, per CPU s   {100 * flops / cpu / 1e9 / sgemm['gflops_per_cpu_second']:10.1f} %")
print(f"peak RSS moe-slim bf16/f32  {int(rss) / 1024:10.0f} / {int(rss32) / 1024:.0f} MiB")
print(f"peak RSS transformers       {int(rss_torch) / 1024:10.0f} MiB")
PY
