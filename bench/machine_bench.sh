#!/bin/sh
# The forward-pass figures of the machine at hand, in one run: the CPU and the flags the kernels dispatch on;
# moe-slim calibrate --compute bf16 vs f32 vs transformers (calibrate_bench.sh); moe-slim calibrate and eval vs
# llama.cpp at BF16, F32 and Q8_0 (llama_cpp_bench.sh, which builds llama.cpp the first time); and a model larger
# than the memory the run may use against the same run in memory (scale_bench.sh: ratio and peak RSS). The first
# two share one model and token set. On a shared machine, compare the CPU seconds the scripts print as well.
#
# usage: bench/machine_bench.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-machine-bench}
if [ -z "${MOE_SLIM:-}" ]; then
    (cd "$here/.." && swift build -c release --product moe-slim >/dev/null)
    MOE_SLIM="$here/../.build/release/moe-slim"
fi
export MOE_SLIM
echo "=== CPU"
sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sort | uniq -c
echo "$(nproc) cores available; kernel-relevant flags:" \
    $(for f in avx2 fma f16c avx512f avx512bw avx512_bf16 amx_bf16 amx_tile; do grep -qw "$f" /proc/cpuinfo && echo "$f"; done)
echo "=== moe-slim calibrate: bf16 vs f32 vs transformers"
"$here/calibrate_bench.sh" "$work/forward"
echo "=== moe-slim vs llama.cpp"
"$here/llama_cpp_bench.sh" "$work/forward"
echo "=== larger than RAM"
"$here/scale_bench.sh" "$work/scale"
