#!/bin/sh
# moe-slim calibrate on a model larger than the memory it may use, against the same run with the model in the
# page cache: tokens/s, their ratio (goal >= 0.70), peak RSS against --memory. The model is Mixtral-shaped,
# bf16, random finite weights (make_checkpoint.py mixtral_small, 12 layers, 2.2 GB); the small-memory machine is
# a cgroup v1 memory group (needs root): the page cache the run reads is charged to the group, so with a limit
# below the model's size every layer comes from disk, as on a machine with that much RAM. The two runs' counts
# must be equal (every field but `settings`). Without a usable memory controller the limited run is skipped.
#
# usage: bench/scale_bench.sh [WORK_FOLDER]      (MOE_SLIM=path/to/moe-slim to use another binary;
#        LAYERS=12, LIMIT=1280 (MiB the group may hold), MEMORY=1GB (--memory), TOKENS=4096)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/moe-slim-scale-bench}
maker=
. "$here/common.sh"
layers=${LAYERS:-12}
limit_mib=${LIMIT:-1280}
memory=${MEMORY:-1GB}
tokens=${TOKENS:-4096}
[ -f "$work/model/config.json" ] || python3 "$here/make_checkpoint.py" mixtral_small "$work/model" --data weights --layers "$layers" >/dev/null
python3 - "$work/tokens.jsonl" "$tokens" <<'PY'
import json, random, sys
r = random.Random(1)
with open(sys.argv[1], "w") as f:
    for _ in range(int(sys.argv[2]) // 512):
        f.write(json.dumps({"input_ids": [r.randrange(32000) for _ in range(512)]}) + "\n")
PY
model_bytes=$(du -cb "$work"/model/*.safetensors | tail -n 1 | cut -f1)

# One calibrate run, timed; the command is run by `$1` (a prefix, such as a group's entry).
run() {
    name=$1
    shift
    start=$(date +%s.%N)
    "$@" /usr/bin/time -v "$moe_slim" calibrate "$work/model" --data "$work/tokens.jsonl" -o "$work/counts-$name.json" --force \
        --memory "$memory" --threads "$threads" 2>"$work/$name.time" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l >"$work/$name.seconds"
}
# Drops the model from the page cache, so the limited run reads it from disk and its pages are charged to it.
uncache() {
    python3 -c '
import os, sys
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)' "$work"/model/*.safetensors
}
in_group() { sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$group" "$@"; }

cat "$work"/model/*.safetensors >/dev/null
run memory

group=/sys/fs/cgroup/memory/moe-slim-scale-$$
limited=no
if mkdir "$group" 2>/dev/null; then
    trap 'rmdir "$group" 2>/dev/null || true' EXIT
    echo $((limit_mib << 20)) >"$group/memory.limit_in_bytes"
    uncache
    run limited in_group
    cat "$group/memory.max_usage_in_bytes" >"$work/limited.group-peak"
    cat "$group/memory.failcnt" >"$work/limited.group-failcnt"
    limited=yes
fi

python3 - "$work" "$limited" "$tokens" "$model_bytes" "$limit_mib" "$memory" "$threads" <<'PY'
import json, sys
work, limited, tokens, model_bytes, limit_mib, memory, threads = sys.argv[1:]
tokens, model_bytes, limit_mib = int(tokens), int(model_bytes), int(limit_mib)
seconds = lambda name: float(open(f"{work}/{name}.seconds").read())
def figure(name, label):
    return sum(float(line.split(": ")[1]) for line in open(f"{work}/{name}.time") if any(l in line for l in label))
peak = lambda name: int(figure(name, ["Maximum resident set size"])) * 1024
cpu = lambda name: figure(name, ["User time", "System time"])
read = lambda name: figure(name, ["File system inputs"]) * 512
def fields(name):
    counts = json.load(open(f"{work}/counts-{name}.json"), parse_float=str, parse_int=str)
    del counts["settings"]
    return counts
in_memory = tokens / seconds("memory")
print(f"threads {threads}, {tokens} tokens, model {model_bytes / 2**30:.2f} GiB bf16, --memory {memory}")
print(f"in memory (page cache warm)        {in_memory:8.1f} tokens/s  peak RSS {peak('memory') / 2**20:6.0f} MiB"
      f"  ({seconds('memory'):.1f} s wall, {cpu('memory'):.1f} CPU s, {read('memory') / 2**20:.0f} MiB read from disk)")
if limited != "yes":
    print("larger than RAM: skipped (no cgroup v1 memory controller to limit the run; run as root)")
    sys.exit(0)
streamed = tokens / seconds("limited")
group_peak = int(open(f"{work}/limited.group-peak").read())
print(f"memory group of {limit_mib} MiB          {streamed:8.1f} tokens/s  peak RSS {peak('limited') / 2**20:6.0f} MiB"
      f"  ({seconds('limited'):.1f} s wall, {cpu('limited'):.1f} CPU s, {read('limited') / 2**20:.0f} MiB read from disk)")
print(f"group peak with page cache         {group_peak / 2**20:8.0f} MiB of {limit_mib} MiB; the model is {model_bytes / 2**20:.0f} MiB")
print(f"larger than RAM / in memory        {streamed / in_memory:8.2f}   (goal >= 0.70)")
units = {"GiB": 2**30, "MiB": 2**20, "GB": 1e9, "MB": 1e6}
unit = next((u for u in units if memory.endswith(u)), None)
budget = float(memory[:-len(unit)]) * units[unit] if unit else float(memory)
print(f"peak RSS within --memory           {'yes' if peak('limited') <= budget else 'NO'}")
print(f"counts equal                       {'yes' if fields('memory') == fields('limited') else 'NO'}")
PY
