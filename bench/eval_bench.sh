#!/bin/sh
# moe-slim eval vs transformers' CPU forward with logits on the same Mixtral-shaped random bf16 model
# (calibrate_bench.py's) and the same 4096 tokens, same thread count: tokens/s, CPU seconds, peak RSS and the
# perplexities. transformers runs twice: in bf16 as stored (oneDNN's bf16 GEMM where the CPU has it) and in
# float32, which is what moe-slim computes in (Debian's OpenBLAS has no bf16 GEMM); the perplexities differ
# by bf16 rounding only.
#
# usage: bench/eval_bench.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-eval-bench}
maker=eval_bench.py
. "$here/common.sh"

start=$(date +%s.%N)
/usr/bin/time -v "$moe_slim" eval "$work/model" --data "$work/tokens.jsonl" --memory 8GB --json \
    2>"$work/moe-slim.time" >"$work/moe-slim.json"
end=$(date +%s.%N)
ours=$(echo "$end - $start" | bc -l)

/usr/bin/time -v python3 "$here/eval_bench.py" torch "$work" >"$work/torch.json" 2>"$work/torch.time"
/usr/bin/time -v python3 "$here/eval_bench.py" torch "$work" float32 >"$work/torch32.json" 2>"$work/torch32.time"

python3 - "$ours" "$(cpu "$work/moe-slim.time")" "$work/moe-slim.json" "$work/torch.json" "$work/torch32.json" \
    "$(peak "$work/moe-slim.time")" "$(peak "$work/torch.time")" "$(peak "$work/torch32.time")" "$threads" <<'PY'
import json, sys
ours, ours_cpu, ours_json, torch_json, torch32_json, rss_ours, rss_torch, rss_torch32, threads = sys.argv[1:]
ours, ours_cpu = float(ours), float(ours_cpu)
mine, theirs, theirs32 = json.load(open(ours_json)), json.load(open(torch_json)), json.load(open(torch32_json))
tokens = theirs["tokens"]
print(f"threads                     {threads}")
print(f"moe-slim eval               {tokens / ours:10.1f} tokens/s  ({ours:.2f} s wall end to end, {ours_cpu:.2f} CPU s)")
print(f"transformers forward (bf16) {tokens / theirs['seconds']:10.1f} tokens/s  ({theirs['seconds']:.2f} s wall forward + loss only, {theirs['cpu_seconds']:.2f} CPU s)")
print(f"transformers forward (f32)  {tokens / theirs32['seconds']:10.1f} tokens/s  ({theirs32['seconds']:.2f} s wall forward + loss only, {theirs32['cpu_seconds']:.2f} CPU s)")
print(f"speed-up wall vs bf16       {theirs['seconds'] / ours:10.2f} x   (goal >= 2)")
print(f"speed-up per CPU s vs bf16  {theirs['cpu_seconds'] / ours_cpu:10.2f} x")
print(f"speed-up wall vs f32        {theirs32['seconds'] / ours:10.2f} x")
print(f"speed-up per CPU s vs f32   {theirs32['cpu_seconds'] / ours_cpu:10.2f} x")
print(f"perplexity moe-slim (f32)   {mine['perplexity']:10.4f} over {mine['tokens']} predicted tokens")
print(f"perplexity torch (bf16)     {theirs['perplexity']:10.4f}")
print(f"perplexity torch (f32)      {theirs32['perplexity']:10.4f}")
print(f"peak RSS moe-slim           {int(rss_ours) / 1024:10.0f} MiB")
print(f"peak RSS transformers bf16  {int(rss_torch) / 1024:10.0f} MiB")
print(f"peak RSS transformers f32   {int(rss_torch32) / 1024:10.0f} MiB")
PY
