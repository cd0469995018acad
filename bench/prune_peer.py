#!/usr/bin/env python3
"""The peer for prune_bench.sh: the usual Python way to drop experts, holding the whole model in memory
(safetensors load_file, slice, save_file). usage: prune_peer.py IN_FOLDER OUT_FILE PLAN_JSON"""
import json
import re
import sys

import torch
from safetensors.torch import load_file, save_file

src, out, plan_path = sys.argv[1:4]
plan = {int(k): v for k, v in json.load(open(plan_path))["layers"].items()}
state = load_file(f"{src}/model.safetensors")
pruned = {}
expert = re.compile(r"^model\.layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.(.*)$")
router = re.compile(r"^model\.layers\.(\d+)\.block_sparse_moe\.gate\.weight$")
for name, t in state.items():
    m = expert.match(name)
    if m:
        layer, e = int(m.group(1)), int(m.group(2))
        if e in plan[layer]:
            pruned[f"model.layers.{layer}.block_sparse_moe.experts.{plan[layer].index(e)}.{m.group(3)}"] = t
        continue
    r = router.match(name)
    pruned[name] = t[plan[int(r.group(1))]].contiguous() if r else t
save_file(pruned, out, metadata={"format": "pt"})
