#!/usr/bin/env bash
# `prune --criterion aimer --dry-run` on a Mixtral-layout GGUF whose stacked experts are Q8_0 (EXPERTS=Q4_K for
# another type; bench/make_gguf.py: 8 experts of 14336 × 4096, 1.5 GB of Q8_0 per layer), against the expert
# bytes it reads; then the same model pruned into parts of at most 1 GB (--split-max-size 1GB) against one file.
# One warm-up (the page cache), then the median of RUNS runs.
#     bench/gguf_aimer_bench.sh [layers] [runs]        (needs pip install gguf; MOE_SLIM=path skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
layers=${1:-2}
runs=${2:-3}
work=$(mktemp -d -p "${BENCH_TMP:-$PWD}")
trap 'rm -rf "$work"' EXIT
[ -n "${MOE_SLIM:-}" ] || swift build -c release --product moe-slim >/dev/null
bin=${MOE_SLIM:-$PWD/.build/release/moe-slim}
experts=${EXPERTS:-Q8_0}
python3 bench/make_gguf.py "$work/in.gguf" "$layers" "$experts"
expert_bytes=$(python3 - "$work/in.gguf" <<'PY'
import sys, gguf
print(sum(int(t.n_bytes) for t in gguf.GGUFReader(sys.argv[1]).tensors if "_exps." in t.name))
PY
)
measure() { # label, then the command; appends "seconds peak_kb" to $work/label.times
    local label=$1; shift
    rm -f "$work"/out*.gguf
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1
    cat "$work/t" >>"$work/$label.times"
}
run_all() {
    measure aimer "$bin" prune "$work/in.gguf" --criterion aimer --keep 6 --dry-run
    measure one "$bin" prune "$work/in.gguf" "$work/out.gguf" --criterion random --keep 6
    measure split "$bin" prune "$work/in.gguf" "$work/out.gguf" --criterion random --keep 6 --split-max-size 1GB
}
run_all
rm -f "$work"/*.times
for _ in $(seq "$runs"); do run_all; done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
report() { # label text bytes
    local s kb
    s=$(cut -d' ' -f1 "$work/$1.times" | median); kb=$(cut -d' ' -f2 "$work/$1.times" | median)
    awk -v n="$2" -v s="$s" -v b="$3" -v kb="$kb" 'BEGIN {printf "  %-44s %7.2f s  %6.2f GB/s  peak RSS %6.0f MB\n", n, s, b / s / 1e9, kb / 1024}'
}
echo "$layers-layer $experts GGUF, $(awk -v b="$expert_bytes" 'BEGIN {printf "%.2f", b / 1e9}') GB of expert weights, median of $runs runs, $(nproc) cores:"
report aimer "prune --criterion aimer --dry-run (read)" "$expert_bytes"
report one "prune --keep 6 to one file (input bytes)" "$(stat -c %s "$work/in.gguf")"
report split "prune --keep 6 --split-max-size 1GB" "$(stat -c %s "$work/in.gguf")"
