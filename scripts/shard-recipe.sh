#!/bin/sh
# Runs the README's multi-machine recipe for real on this machine and checks that it adds up: calibrate as shard
# jobs under GNU parallel (local workers) and as a Slurm array (a one-node cluster started here from Debian's
# slurm-wlm, when its daemons start), `counts merge` each set, and compare every field but `settings` with one
# unsharded run, byte for byte (`settings` says how each file was made, so it differs by design).
#
# Needs python3 (to make the model and the token ids), GNU parallel (apt-get install parallel) and, for the Slurm
# part, slurm-wlm and munge (apt-get install slurm-wlm); run as root for Slurm. SKIP_SLURM=1 skips it.
#
# usage: scripts/shard-recipe.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/moe-slim-shard-recipe}
shards=3
moe_slim=${MOE_SLIM:-}
if [ -z "$moe_slim" ]; then
    (cd "$here" && swift build -c release --product moe-slim >/dev/null)
    moe_slim="$here/.build/release/moe-slim"
fi
mkdir -p "$work"
cd "$work"
[ -f model/config.json ] || python3 "$here/bench/make_checkpoint.py" mixtral_small model --data weights --layers 2 >/dev/null
# Records of uneven lengths, so the shards hold different numbers of tokens.
python3 - <<'PY'
import json, random
r = random.Random(20)
with open("data.jsonl", "w") as f:
    for _ in range(31):
        f.write(json.dumps({"input_ids": [r.randrange(32000) for _ in range(r.randrange(8, 120))]}) + "\n")
PY

# Every field of a counts file but `settings`, exactly as written (numbers kept as their text).
fields() {
    python3 -c '
import json, sys
counts = json.load(open(sys.argv[1]), parse_float=str, parse_int=str)
del counts["settings"]
print(json.dumps(counts, sort_keys=True, indent=1))' "$1" >"$2"
}

check() {
    fields "$1" "$1.fields"
    if cmp one.json.fields "$1.fields"; then
        echo "$2: merged counts equal the unsharded run's, byte for byte ($(wc -c <"$1.fields") bytes of counts)"
    else
        echo "$2: merged counts DIFFER from the unsharded run's" >&2
        exit 1
    fi
}

rm -f one.json counts-*.json parallel.json slurm.json slurm-counts-*.json
"$moe_slim" calibrate model --data data.jsonl -o one.json >/dev/null
fields one.json one.json.fields

# The README's GNU parallel line, with this machine (":") as the only worker and the moe-slim under test.
parallel -S : --sshdelay 0.2 --return counts-{}.json \
    "$moe_slim calibrate model --data data.jsonl --shard {}/$shards -o counts-{}.json >/dev/null" ::: $(seq 0 $((shards - 1)))
"$moe_slim" counts merge $(seq -f 'counts-%g.json' 0 $((shards - 1))) -o parallel.json >/dev/null
check parallel.json "GNU parallel, $shards shards"

[ "${SKIP_SLURM:-0}" = 1 ] && exit 0
. "$here/scripts/slurm-one-node.sh"
slurm_start "$work/slurm"
sbatch --wait --array=0-$((shards - 1)) --output=/dev/null \
    --wrap "$moe_slim calibrate model --data data.jsonl --shard \$SLURM_ARRAY_TASK_ID/$shards -o slurm-counts-\$SLURM_ARRAY_TASK_ID.json" >/dev/null
"$moe_slim" counts merge slurm-counts-*.json -o slurm.json >/dev/null
check slurm.json "Slurm array, $shards shards"
