#!/bin/sh
# moe-slim against llama.cpp on the same Mixtral-shaped random bf16 model (calibrate_bench.py's), the same 4096
# token ids and the same threads, CPU only: calibrate against llama.cpp's prompt processing (logits of each
# sequence's last token) and eval against llama.cpp computing the perplexity over every predicted token, with
# the GGUF model at BF16, F32 and Q8_0. llama.cpp is built once from the llama-cpp-python source package
# (llama_cpp_build.sh) and runs the ids through llama_cpp_peer, a small program on the llama library that does
# what llama-bench's prompt test and llama-perplexity do, on given ids (those tools take text or made-up
# tokens). Not part of CI: the first run downloads and builds llama.cpp.
#
# moe-slim's times are end to end (opening the checkpoint included), llama.cpp's exclude loading the model. BF16
# and Q8_0 are compared with moe-slim's default --compute bf16, F32 with --compute f32. Needs python3 with torch
# and transformers (to make the model and convert it), cmake and a C++ compiler.
#
# usage: bench/llama_cpp_bench.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-llama-bench}
maker=calibrate_bench.py
. "$here/common.sh"
peer=$("$here/llama_cpp_build.sh")
source=$(ls -d "$here"/out/llama_cpp_python-*/vendor/llama.cpp | tail -n 1)
mkdir -p "$work/gguf"
python3 "$here/llama_cpp_convert.py" "$source" "$work/model" "$work/gguf" bf16 f32 q8_0 >"$work/convert.log" 2>&1
python3 -c "
import json, sys
for line in open(sys.argv[1]):
    print(' '.join(map(str, json.loads(line)['input_ids'])))" "$work/tokens.jsonl" >"$work/ids.txt"

# Runs moe-slim as `$2...`, its wall seconds and CPU seconds (all threads) written to $work/$1.seconds.
timed() {
    name=$1
    shift
    start=$(date +%s.%N)
    /usr/bin/time -v "$@" 2>"$work/$name.time"
    end=$(date +%s.%N)
    echo "$(echo "$end - $start" | bc -l) $(cpu "$work/$name.time")" >"$work/$name.seconds"
}
for mode in bf16 f32; do
    timed "calibrate-$mode" "$moe_slim" calibrate "$work/model" --data "$work/tokens.jsonl" -o "$work/counts-$mode.json" --force \
        --memory 8GB --compute "$mode" --threads "$threads" >/dev/null
    timed "eval-$mode" "$moe_slim" eval "$work/model" --data "$work/tokens.jsonl" --memory 8GB --json --compute "$mode" \
        --threads "$threads" >"$work/eval-$mode.json"
done
for kind in bf16 f32 q8_0; do
    "$peer" "$work/gguf/model-$kind.gguf" "$work/ids.txt" "$threads" prompt >"$work/llama-prompt-$kind.json"
    "$peer" "$work/gguf/model-$kind.gguf" "$work/ids.txt" "$threads" perplexity >"$work/llama-perplexity-$kind.json"
done

python3 - "$work" "$threads" <<'PY'
import json, sys
work, threads = sys.argv[1], sys.argv[2]
tokens = sum(len(json.loads(line)["input_ids"]) for line in open(f"{work}/tokens.jsonl"))
seconds = lambda name: [float(x) for x in open(f"{work}/{name}.seconds").read().split()]
peer = lambda name: json.load(open(f"{work}/{name}.json"))
print(f"threads {threads}, {tokens} tokens; moe-slim end to end, llama.cpp without loading the model")
print(f"{'':36}{'moe-slim':>9}{'llama.cpp':>10}{'ratio':>7}{'per CPU s':>11}")
for task, peer_mode in (("calibrate", "prompt"), ("eval", "perplexity")):
    for kind, mode in (("bf16", "bf16"), ("f32", "f32"), ("q8_0", "bf16")):
        wall, cpu = seconds(f"{task}-{mode}")
        theirs = peer(f"llama-{peer_mode}-{kind}")
        ratio, cpu_ratio = theirs["seconds"] / wall, theirs["cpu_seconds"] / cpu
        goal = "   (goal >= 2)" if kind == "bf16" else ""
        print(f"{task:9} --compute {mode:4} vs {kind.upper():5} tok/s {tokens / wall:9.1f}{theirs['tokens'] / theirs['seconds']:10.1f}"
              f"{ratio:6.2f}x{cpu_ratio:10.2f}x{goal}")
for kind, mode in (("bf16", "bf16"), ("f32", "f32"), ("q8_0", "bf16")):
    print(f"perplexity moe-slim {mode} / llama.cpp {kind.upper():5} {json.load(open(f'{work}/eval-{mode}.json'))['perplexity']:.4f} / {peer(f'llama-perplexity-{kind}')['perplexity']:.4f}")
PY
