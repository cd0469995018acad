#!/usr/bin/env bash
# Time and peak memory of `moe-slim merge-lora` against PEFT merge_and_unload + save_pretrained, on the same
# ~1.3 GB bf16 Mixtral-shaped checkpoint and rank-16 adapter (attention, routers and all experts).
#   bench/merge_lora_bench.sh [WORK]    (MOE_SLIM=path/to/moe-slim to pick the binary)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:-/tmp/moe-slim-lora-bench}"
bin="${MOE_SLIM:-$here/../.build/release/moe-slim}"
mkdir -p "$work"
[ -d "$work/base" ] || python3 "$here/merge_lora_bench.py" make "$work"
echo "base: $(du -sh "$work/base" | cut -f1), adapter: $(du -sh "$work/adapter" | cut -f1)"

measure() { # label, command...: prints "label seconds peak_kib"
    local label="$1"; shift
    rm -rf "$work/out-$label"
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -v "$@" 2> "$work/time-$label.txt" > "$work/log-$label.txt"
    local secs kib
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$work/time-$label.txt")
    kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time-$label.txt")
    echo "$label $secs $kib"
}

# --rounding peft writes what PEFT writes, bit for bit, so the outputs can be compared exactly below.
ours=$(measure moe-slim "$bin" merge-lora "$work/base" "$work/adapter" "$work/out-moe-slim" --rounding peft)
theirs=$(measure peft python3 "$here/merge_lora_bench.py" peft "$work" "$work/out-peft")
read -r _ t1 m1 <<< "$ours"
read -r _ t2 m2 <<< "$theirs"
printf '%-10s %8s s %8s MiB\n' moe-slim "$t1" "$((m1 / 1024))" peft "$t2" "$((m2 / 1024))"
awk -v t1="$t1" -v t2="$t2" -v m1="$m1" -v m2="$m2" 'BEGIN { printf "speed-up %.1fx, memory %.2f of PEFT'"'"'s\n", t2 / t1, m1 / m2 }'
python3 - "$work" <<'PY'
import sys, glob, os
import torch
from safetensors.torch import load_file
work = sys.argv[1]
def load(d):
    out = {}
    for f in sorted(glob.glob(os.path.join(work, d, "*.safetensors"))): out.update(load_file(f))
    return out
a, b = load("out-moe-slim"), load("out-peft")
assert set(a) == set(b), set(a) ^ set(b)
worst = max(((x.float() - b[k].float()).abs().max().item(), k) for k, x in a.items())
same = sum(int(torch.equal(x, b[k])) for k, x in a.items())
print(f"outputs: {same}/{len(a)} tensors bit-identical, largest difference {worst[0]:.3g} ({worst[1]})")
PY
