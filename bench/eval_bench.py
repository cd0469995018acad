#!/usr/bin/env python3
"""Peer of eval_bench.sh: times transformers' CPU forward with logits and the perplexity of the same tokens
moe-slim eval reads, on calibrate_bench.py's Mixtral-shaped bf16 model, computing in bf16 (as stored, the peer
of moe-slim's default --compute bf16) or in float32 (the peer of --compute f32).

usage: eval_bench.py make WORK | torch WORK [bfloat16|float32]
"""
import json
import math
import os
import sys
import time

import calibrate_bench


def run_torch(work, dtype):
    import torch
    import torch.nn.functional as F
    import transformers
    torch.set_num_threads(calibrate_bench.threads())
    model = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(work, "model"), dtype=getattr(torch, dtype)).eval()
    with open(os.path.join(work, "tokens.jsonl")) as f:
        ids = torch.tensor([json.loads(line)["input_ids"] for line in f])
    with torch.no_grad():
        model(ids[:1, :16])
        start, cpu = time.perf_counter(), time.process_time()
        logits = model(ids, use_cache=False).logits
        nll = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten(), reduction="sum").item()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    predicted = ids[:, 1:].numel()
    print(json.dumps(dict(seconds=seconds, cpu_seconds=cpu, tokens=ids.numel(), perplexity=math.exp(nll / predicted),
                          threads=torch.get_num_threads())))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        calibrate_bench.make(sys.argv[2])
    elif sys.argv[1] == "torch":
        run_torch(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "bfloat16")
