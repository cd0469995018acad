#!/bin/sh
# moe-slim eval vs transformers' CPU forward with logits on the same Mixtral-shaped random bf16 model
# (calibrate_bench.py's) and the same 4096 tokens, same thread count: tokens/s, CPU seconds, peak RSS and the
# perplexities. Each side runs twice, like against like: bf16 compute (moe-slim's default --compute bf16; torch
# with the model in bf16, oneDNN's bf16 GEMM where the CPU has it) and f32 compute (--compute f32; torch in
# float32). Perplexities within a mode differ by rounding only.
#
# usage: bench/eval_bench.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-eval-bench}
maker=eval_bench.py
. "$here/common.sh"

run_ours() {
    start=$(date +%s.%N)
    /usr/bin/time -v "$moe_slim" eval "$work/model" --data "$work/tokens.jsonl" --memory 8GB --json --compute "$1" --threads "$threads" \
        2>"$work/moe-slim-$1.time" >"$work/moe-slim-$1.json"
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
ours=$(run_ours bf16)
ours32=$(run_ours f32)

/usr/bin/time -v python3 "$here/eval_bench.py" torch "$work" >"$work/torch.json" 2>"$work/torch.time"
/usr/bin/time -v python3 "$here/eval_bench.py" torch "$work" float32 >"$work/torch32.json" 2>"$work/torch32.time"

python3 - "$work" "$ours" "$ours32" "$(cpu "$work/moe-slim-bf16.time")" "$(cpu "$work/moe-slim-f32.time")" \
    "$(peak "$work/moe-slim-bf16.time")" "$(peak "$work/moe-slim-f32.time")" "$(peak "$work/torch.time")" "$(peak "$work/torch32.time")" "$threads" <<'PY'
import json, sys
work, ours, ours32, cpu, cpu32, rss, rss32, rss_torch, rss_torch32, threads = sys.argv[1:]
mine, mine32 = json.load(open(f"{work}/moe-slim-bf16.json")), json.load(open(f"{work}/moe-slim-f32.json"))
theirs, theirs32 = json.load(open(f"{work}/torch.json")), json.load(open(f"{work}/torch32.json"))
tokens = theirs["tokens"]
print(f"threads {threads}, {tokens} tokens")
for mode, wall, cpu_s, rss_kb, ours_json, peer, peer_rss in (("bf16", ours, cpu, rss, mine, theirs, rss_torch), ("f32", ours32, cpu32, rss32, mine32, theirs32, rss_torch32)):
    wall, cpu_s = float(wall), float(cpu_s)
    print(f"--- {mode} compute")
    print(f"moe-slim eval               {tokens / wall:10.1f} tokens/s  ({wall:.2f} s wall end to end, {cpu_s:.2f} CPU s)")
    print(f"transformers forward        {tokens / peer['seconds']:10.1f} tokens/s  ({peer['seconds']:.2f} s wall forward + loss only, {peer['cpu_seconds']:.2f} CPU s)")
    print(f"speed-up wall               {peer['seconds'] / wall:10.2f} x" + ("   (goal >= 2)" if mode == "bf16" else ""))
    print(f"speed-up per CPU s          {peer['cpu_seconds'] / cpu_s:10.2f} x")
    print(f"perplexity moe-slim / torch {ours_json['perplexity']:10.4f} / {peer['perplexity']:.4f} over {ours_json['tokens']} predicted tokens")
    print(f"peak RSS moe-slim / torch   {int(rss_kb) / 1024:10.0f} / {int(peer_rss) / 1024:.0f} MiB")
PY
