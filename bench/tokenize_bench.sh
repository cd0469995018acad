#!/usr/bin/env bash
# Throughput of `moe-slim tokenize` against Hugging Face `tokenizers` (one thread) on the same corpus, per
# tokenizer fixture; also checks that both print identical ids.
# Usage: bench/tokenize_bench.sh [fixture name ...]   (default: mixtral-metaspace deepseek-v3 olmoe)
# MOE_SLIM=path/to/moe-slim overrides the binary (default: a release build in .build-tok).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ -z "${MOE_SLIM:-}" ]]; then
    swift build -c release --scratch-path .build-tok --product moe-slim >/dev/null
    MOE_SLIM=$(swift build -c release --scratch-path .build-tok --show-bin-path)/moe-slim
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
python3 bench/tokenize_bench_peer.py make-corpus "$work/corpus.jsonl"
echo "corpus: $(wc -l <"$work/corpus.jsonl") records, $(wc -c <"$work/corpus.jsonl") bytes"
printf '%-22s %12s %12s %14s %8s %s\n' tokenizer moe-slim_s tokenizers_s tokenizers_enc_s ratio ids
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
names=("$@")
[[ ${#names[@]} -eq 0 ]] && names=(mixtral-metaspace deepseek-v3 olmoe)
for n in "${names[@]}"; do
    zstd -qdc "fixtures/tokenizers/$n.json.zst" >"$work/$n.json"
    start=$EPOCHREALTIME
    "$MOE_SLIM" tokenize --tokenizer "$work/$n.json" "$work/corpus.jsonl" >"$work/swift.out"
    swift_s=$(elapsed "$start")
    start=$EPOCHREALTIME
    python3 bench/tokenize_bench_peer.py encode "$work/$n.json" "$work/corpus.jsonl" >"$work/py.out" 2>"$work/py.err"
    py_s=$(elapsed "$start")
    same=$(cmp -s "$work/swift.out" "$work/py.out" && echo identical || echo DIFFERENT)
    printf '%-22s %12.2f %12.2f %14.2f %8.2f %s\n' "$n" "$swift_s" "$py_s" "$(cat "$work/py.err")" \
        "$(awk -v a="$swift_s" -v b="$py_s" 'BEGIN { print a / b }')" "$same"
done
echo "ratio = moe-slim wall time / tokenizers wall time (both: load tokenizer, read JSONL, encode, print)"
