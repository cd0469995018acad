#!/usr/bin/env python3
"""Peer of calibrate_bench.sh: builds the benchmark model and tokens, times transformers' CPU forward with router
logits on, and times a plain OpenBLAS sgemm (the same libopenblas moe-slim links) for the GFLOP/s reference.

usage: calibrate_bench.py make WORK | torch WORK | sgemm | flops WORK SECONDS
"""
import ctypes
import json
import os
import sys
import time

SHAPE = dict(hidden_size=1024, intermediate_size=3584, num_hidden_layers=5, num_attention_heads=16, num_key_value_heads=4,
             head_dim=64, num_local_experts=8, num_experts_per_tok=2, vocab_size=32000, max_position_embeddings=4096,
             tie_word_embeddings=False)
SEQUENCES, SEQ_LEN = 8, 512


def threads():
    return int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count()))


def make(work):
    import torch
    import transformers
    torch.manual_seed(0)
    config = transformers.MixtralConfig(**SHAPE)
    model = transformers.AutoModelForCausalLM.from_config(config).to(torch.bfloat16)
    model.save_pretrained(os.path.join(work, "model"))
    g = torch.Generator().manual_seed(1)
    with open(os.path.join(work, "tokens.jsonl"), "w") as f:
        for _ in range(SEQUENCES):
            f.write(json.dumps({"input_ids": torch.randint(0, SHAPE["vocab_size"], (SEQ_LEN,), generator=g).tolist()}) + "\n")
    size = sum(os.path.getsize(os.path.join(work, "model", n)) for n in os.listdir(os.path.join(work, "model")))
    print(f"model: {size / 1e9:.2f} GB bf16, {SEQUENCES} x {SEQ_LEN} tokens")


def active_flops():
    """Multiply-adds x 2 of what a token touches up to the last MoE layer: projections, router, top-k experts
    and causal attention scores / values at the mean context length."""
    h, i, heads, kv, d = (SHAPE[k] for k in ("hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "head_dim"))
    e, k, layers = SHAPE["num_local_experts"], SHAPE["num_experts_per_tok"], SHAPE["num_hidden_layers"]
    mean_context = (SEQ_LEN + 1) / 2
    per_layer = 2 * (h * heads * d + 2 * h * kv * d + heads * d * h + h * e + k * 3 * h * i) + 2 * 2 * heads * d * mean_context
    return per_layer * layers * SEQUENCES * SEQ_LEN


def run_torch(work):
    import torch
    import transformers
    torch.set_num_threads(threads())
    model = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(work, "model"), dtype=torch.bfloat16).eval()
    with open(os.path.join(work, "tokens.jsonl")) as f:
        ids = torch.tensor([json.loads(line)["input_ids"] for line in f])
    with torch.no_grad():
        model.model(ids[:1, :16], output_router_logits=True)
        start, cpu = time.perf_counter(), time.process_time()
        out = model.model(ids, output_router_logits=True, use_cache=False)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert out.router_logits is not None and len(out.router_logits) == SHAPE["num_hidden_layers"]
    print(json.dumps(dict(seconds=seconds, cpu_seconds=cpu, tokens=ids.numel(), threads=torch.get_num_threads())))


def sgemm():
    lib = ctypes.CDLL("libopenblas.so.0")
    m, n, k = SEQUENCES * SEQ_LEN // 4, SHAPE["intermediate_size"], SHAPE["hidden_size"]
    a = (ctypes.c_float * (m * k))(*([0.5] * (m * k)))
    b = (ctypes.c_float * (k * n))(*([0.25] * (k * n)))
    c = (ctypes.c_float * (m * n))()
    f = ctypes.c_float

    def call():
        lib.cblas_sgemm(101, 111, 112, m, n, k, f(1.0), a, k, b, k, f(0.0), c, n)

    call()
    runs = 10
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        call()
    seconds, cpu = (time.perf_counter() - start) / runs, (time.process_time() - cpu) / runs
    flops = 2 * m * n * k
    print(json.dumps(dict(gflops=flops / seconds / 1e9, gflops_per_cpu_second=flops / cpu / 1e9, m=m, n=n, k=k)))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "make":
        make(sys.argv[2])
    elif command == "torch":
        run_torch(sys.argv[2])
    elif command == "sgemm":
        sgemm()
    elif command == "flops":
        print(active_flops())
