#!/usr/bin/env bash
# Prune time and peak memory on a Mixtral-layout Q4_K GGUF of random blocks (about 2.5 GB with 3 layers; pass a
# layer count to grow it), keeping 6 of 8 experts per layer. Compared with `cp` of the input (the disk's own copy
# speed), `cp` + fsync (durable, as moe-slim is), and the Python route (gguf-py reader + numpy slicing + gguf-py
# writer, bench/gguf_prune_peer.py). One warm-up, then the median of N runs.
#     bench/gguf_prune_bench.sh [layers] [runs]        (needs pip install gguf)
set -euo pipefail
cd "$(dirname "$0")/.."
layers=${1:-3}
runs=${2:-3}
work=$(mktemp -d -p "${BENCH_TMP:-$PWD}")
trap 'rm -rf "$work"' EXIT
# MOE_SLIM=path/to/moe-slim skips the build.
[ -n "${MOE_SLIM:-}" ] || swift build -c release >/dev/null
bin=${MOE_SLIM:-$PWD/.build/release/moe-slim}
python3 bench/make_gguf.py "$work/in.gguf" "$layers"
python3 - "$layers" >"$work/plan.json" <<'PY'
import json, sys
print(json.dumps({"layers": {str(l): [e for e in range(8) if e not in (l % 8, (l + 3) % 8)] for l in range(int(sys.argv[1]))}}))
PY
in_bytes=$(stat -c %s "$work/in.gguf")

measure() { # label, then the command; appends "seconds peak_kb" to $work/label
    local label=$1; shift
    rm -f "$work/out.gguf"
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1
    cat "$work/t" >>"$work/$label"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run_all() {
    measure cp cp "$work/in.gguf" "$work/out.gguf"
    measure cpsync sh -c 'cp "$1" "$2" && sync "$2"' sh "$work/in.gguf" "$work/out.gguf"
    measure moe "$bin" prune "$work/in.gguf" "$work/out.gguf" --plan "$work/plan.json"
    out_bytes=$(stat -c %s "$work/out.gguf")
    cp "$work/out.gguf" "$work/moe.gguf"
    measure py python3 bench/gguf_prune_peer.py "$work/in.gguf" "$work/out.gguf" "$work/plan.json"
    # Same tensors and metadata, so the two routes did the same work (the files differ only in moe_slim.plan).
    python3 - "$work/moe.gguf" "$work/out.gguf" <<'PY'
import sys, gguf
a, b = gguf.GGUFReader(sys.argv[1]), gguf.GGUFReader(sys.argv[2])
assert [t.name for t in a.tensors] == [t.name for t in b.tensors]
for x, y in zip(a.tensors, b.tensors):
    assert x.tensor_type == y.tensor_type and list(x.shape) == list(y.shape) and (x.data == y.data).all(), x.name
PY
    rm -f "$work/moe.gguf"
}
run_all
rm -f "$work/cp" "$work/cpsync" "$work/moe" "$work/py"
for _ in $(seq "$runs"); do run_all; done

report() { # label name bytes
    local s kb
    s=$(cut -d' ' -f1 "$work/$1" | median); kb=$(cut -d' ' -f2 "$work/$1" | median)
    awk -v n="$2" -v s="$s" -v b="$3" -v kb="$kb" 'BEGIN {printf "  %-34s %7.2f s  %8.0f MB/s  peak RSS %8.0f MB\n", n, s, b / s / 1e6, kb / 1024}'
}
echo "prune of a $(awk -v b="$in_bytes" 'BEGIN {printf "%.2f", b / 1e9}') GB Q4_K GGUF to $(awk -v b="$out_bytes" 'BEGIN {printf "%.2f", b / 1e9}') GB, median of $runs runs:"
report cp "cp of the input" "$in_bytes"
report cpsync "cp + fsync (durable, as we are)" "$in_bytes"
report moe "moe-slim prune (bytes written)" "$out_bytes"
report py "gguf-py reader+writer" "$out_bytes"
moe_s=$(cut -d' ' -f1 "$work/moe" | median); py_s=$(cut -d' ' -f1 "$work/py" | median)
moe_kb=$(cut -d' ' -f2 "$work/moe" | median); py_kb=$(cut -d' ' -f2 "$work/py" | median)
awk -v m="$moe_s" -v p="$py_s" -v mk="$moe_kb" -v pk="$py_kb" 'BEGIN {
    printf "  speed moe-slim vs gguf-py       %.2fx\n", p / m
    printf "  peak memory moe-slim / gguf-py  %.3f\n", mk / pk
}'
