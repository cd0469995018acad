#!/usr/bin/env bash
# Prune throughput and peak memory on a Mixtral-layout bf16 checkpoint of random data (about 2.2 GB by
# default; pass a layer count to grow it), keeping 6 of 8 experts per layer. Compared with `cp` of the input
# (the disk's own copy speed) and with a Python load + slice + save of the same plan. Each command runs after
# one warm-up; the median of N runs is printed.  Usage: bench/prune_bench.sh [layers] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
layers=${1:-12}
runs=${2:-3}
work=$(mktemp -d -p "${BENCH_TMP:-$PWD}")
trap 'rm -rf "$work"' EXIT
# MOE_SLIM=path/to/moe-slim skips the build.
[ -n "${MOE_SLIM:-}" ] || swift build -c release >/dev/null
bin=${MOE_SLIM:-$PWD/.build/release/moe-slim}
python3 bench/make_checkpoint.py mixtral_small "$work/in" --data random --layers "$layers"
python3 - "$layers" >"$work/plan.json" <<'PY'
import json, sys
print(json.dumps({"layers": {str(l): [e for e in range(8) if e not in (l % 8, (l + 3) % 8)] for l in range(int(sys.argv[1]))}}))
PY
in_bytes=$(stat -c %s "$work/in/model.safetensors")

measure() { # label, then the command; appends "seconds peak_kb" to $work/label
    local label=$1; shift
    rm -rf "$work/out"
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1
    cat "$work/t" >>"$work/$label"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run_all() {
    measure cp cp "$work/in/model.safetensors" "$work/out"
    measure cpsync sh -c 'cp "$1" "$2" && sync "$2"' sh "$work/in/model.safetensors" "$work/out"
    measure moe "$bin" prune "$work/in" "$work/out" --plan "$work/plan.json"
    out_bytes=$(stat -c %s "$work/out/model.safetensors")
    measure py python3 bench/prune_peer.py "$work/in" "$work/out" "$work/plan.json"
}
run_all
rm -f "$work/cp" "$work/cpsync" "$work/moe" "$work/py"
for _ in $(seq "$runs"); do run_all; done

report() { # label name bytes
    local s kb
    s=$(cut -d' ' -f1 "$work/$1" | median); kb=$(cut -d' ' -f2 "$work/$1" | median)
    awk -v n="$2" -v s="$s" -v b="$3" -v kb="$kb" 'BEGIN {printf "  %-32s %7.2f s  %8.0f MB/s  peak RSS %8.0f MB\n", n, s, b / s / 1e6, kb / 1024}'
}
echo "prune of a $(awk -v b="$in_bytes" 'BEGIN {printf "%.2f", b / 1e9}') GB bf16 checkpoint to $(awk -v b="$out_bytes" 'BEGIN {printf "%.2f", b / 1e9}') GB, median of $runs runs:"
report cp "cp of the input" "$in_bytes"
report cpsync "cp + fsync (durable, as we are)" "$in_bytes"
report moe "moe-slim prune (bytes written)" "$out_bytes"
report py "python load+slice+save" "$out_bytes"
moe_s=$(cut -d' ' -f1 "$work/moe" | median); cp_s=$(cut -d' ' -f1 "$work/cp" | median); py_s=$(cut -d' ' -f1 "$work/py" | median)
cs_s=$(cut -d' ' -f1 "$work/cpsync" | median)
moe_kb=$(cut -d' ' -f2 "$work/moe" | median); py_kb=$(cut -d' ' -f2 "$work/py" | median)
awk -v m="$moe_s" -v c="$cp_s" -v cs="$cs_s" -v p="$py_s" -v ob="$out_bytes" -v ib="$in_bytes" -v mk="$moe_kb" -v pk="$py_kb" 'BEGIN {
    printf "  throughput moe-slim / cp       %.2f\n", (ob / m) / (ib / c)
    printf "  throughput moe-slim / cp+fsync %.2f\n", (ob / m) / (ib / cs)
    printf "  speed moe-slim vs python       %.2fx\n", p / m
    printf "  peak memory moe-slim / python  %.3f\n", mk / pk
}'
