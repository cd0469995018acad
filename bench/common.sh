# Shared set-up of the forward-pass benchmarks (sourced by calibrate_bench.sh and eval_bench.sh): the binary,
# the thread count both sides use, the work folder with the Mixtral-shaped model, and readers for the
# figures `/usr/bin/time -v` writes. Expects $here, $work and $maker (the script that makes the model; empty
# when the caller makes its own).
threads=${THREADS:-${OPENBLAS_NUM_THREADS:-$(nproc)}}
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
moe_slim=${MOE_SLIM:-}
if [ -z "$moe_slim" ]; then
    (cd "$here/.." && swift build -c release --product moe-slim >/dev/null)
    moe_slim="$here/../.build/release/moe-slim"
fi
mkdir -p "$work"
[ -z "$maker" ] || [ -f "$work/model/config.json" ] || python3 "$here/$maker" make "$work"

peak() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
cpu() { awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$1"; }
