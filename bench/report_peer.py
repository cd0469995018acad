#!/usr/bin/env python3
"""The peer for report_bench.sh: what a Python user would run to get parameter and byte totals from headers
alone, with the reference safetensors library (safe_open reads only the header)."""
import json
import os
import sys

from safetensors import safe_open

SIZES = {"BF16": 2, "F16": 2, "F32": 4, "F8_E4M3": 1, "F8_E5M2": 1, "I64": 8, "I32": 4, "U8": 1}

folder = sys.argv[1]
index = os.path.join(folder, "model.safetensors.index.json")
shards = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
params = nbytes = 0
for shard in shards:
    with safe_open(os.path.join(folder, shard), "pt") as f:
        for name in f.keys():
            s = f.get_slice(name)
            n = 1
            for d in s.get_shape():
                n *= d
            params += n
            nbytes += n * SIZES[s.get_dtype()]
print(params, nbytes)
