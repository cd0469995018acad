#!/usr/bin/env python3
"""Writes a checkpoint of a real model's shapes for benchmarks: the header, then either a hole (sparse, for
header-only commands), random bytes (for commands that move data) or random finite bf16 weights (for commands
that run the model). Standard library only.

usage: make_checkpoint.py SHAPE OUT_FOLDER [--data random|sparse|weights] [--layers N]
SHAPE: deepseek_v3 (DeepSeek-V3 with FP8 scale tensors, ~100k tensors), mixtral_small (Mixtral layout, bf16,
about 2.2 GB with the default 12 layers).
"""
import argparse
import json
import os
import struct

DTYPE_BYTES = {"BF16": 2, "F32": 4, "F8_E4M3": 1}


def deepseek_v3(layers):
    h, inter, moe, vocab, experts, dense = 7168, 18432, 2048, 129280, 256, 3
    t = [("model.embed_tokens.weight", "BF16", [vocab, h]), ("lm_head.weight", "BF16", [vocab, h]), ("model.norm.weight", "BF16", [h])]

    def fp8(name, rows, cols):
        return [(name + ".weight", "F8_E4M3", [rows, cols]), (name + ".weight_scale_inv", "F32", [(rows + 127) // 128, (cols + 127) // 128])]

    for l in range(layers):
        p = f"model.layers.{l}."
        t += [(p + "input_layernorm.weight", "BF16", [h]), (p + "post_attention_layernorm.weight", "BF16", [h]),
              (p + "self_attn.q_a_layernorm.weight", "BF16", [1536]), (p + "self_attn.kv_a_layernorm.weight", "BF16", [512])]
        t += fp8(p + "self_attn.q_a_proj", 1536, h) + fp8(p + "self_attn.q_b_proj", 128 * 192, 1536)
        t += fp8(p + "self_attn.kv_a_proj_with_mqa", 576, h) + fp8(p + "self_attn.kv_b_proj", 128 * 256, 512)
        t += fp8(p + "self_attn.o_proj", h, 128 * 128)
        if l < dense:
            for n, (r, c) in {"gate_proj": (inter, h), "up_proj": (inter, h), "down_proj": (h, inter)}.items():
                t += fp8(p + "mlp." + n, r, c)
            continue
        t += [(p + "mlp.gate.weight", "BF16", [experts, h]), (p + "mlp.gate.e_score_correction_bias", "F32", [experts])]
        for e in range(experts):
            for n, (r, c) in {"gate_proj": (moe, h), "up_proj": (moe, h), "down_proj": (h, moe)}.items():
                t += fp8(p + f"mlp.experts.{e}." + n, r, c)
        for n, (r, c) in {"gate_proj": (moe, h), "up_proj": (moe, h), "down_proj": (h, moe)}.items():
            t += fp8(p + "mlp.shared_experts." + n, r, c)
    config = {"model_type": "deepseek_v3", "num_hidden_layers": layers, "hidden_size": h, "intermediate_size": inter,
              "moe_intermediate_size": moe, "vocab_size": vocab, "num_attention_heads": 128, "num_key_value_heads": 128,
              "n_routed_experts": experts, "num_experts_per_tok": 8, "n_group": 8, "topk_group": 4, "first_k_dense_replace": dense,
              "n_shared_experts": 1, "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
              "v_head_dim": 128, "routed_scaling_factor": 2.5, "norm_topk_prob": True, "tie_word_embeddings": False}
    return t, config


def mixtral_small(layers):
    h, inter, vocab, experts, kv = 1024, 3584, 32000, 8, 256
    t = [("model.embed_tokens.weight", "BF16", [vocab, h]), ("lm_head.weight", "BF16", [vocab, h]), ("model.norm.weight", "BF16", [h])]
    for l in range(layers):
        p = f"model.layers.{l}."
        t += [(p + "input_layernorm.weight", "BF16", [h]), (p + "post_attention_layernorm.weight", "BF16", [h]),
              (p + "self_attn.q_proj.weight", "BF16", [h, h]), (p + "self_attn.k_proj.weight", "BF16", [kv, h]),
              (p + "self_attn.v_proj.weight", "BF16", [kv, h]), (p + "self_attn.o_proj.weight", "BF16", [h, h]),
              (p + "block_sparse_moe.gate.weight", "BF16", [experts, h])]
        for e in range(experts):
            q = p + f"block_sparse_moe.experts.{e}."
            t += [(q + "w1.weight", "BF16", [inter, h]), (q + "w2.weight", "BF16", [h, inter]), (q + "w3.weight", "BF16", [inter, h])]
    config = {"model_type": "mixtral", "num_hidden_layers": layers, "hidden_size": h, "intermediate_size": inter,
              "vocab_size": vocab, "num_attention_heads": 8, "num_key_value_heads": 2, "num_local_experts": experts,
              "num_experts_per_tok": 2, "tie_word_embeddings": False, "torch_dtype": "bfloat16", "rms_norm_eps": 1e-5}
    return t, config


# bf16 is the high half of an f32: little-endian, its second byte holds the sign and the exponent's top 7 bits.
# Keeping the sign and putting the exponent at 120 or 121 (the top bit of the first byte) gives magnitudes in
# [2^-7, 2^-5): finite weights whose products keep the activations finite through any number of layers.
WEIGHT_HIGH_BYTE = bytes((b & 0x80) | 0x3C for b in range(256))


def random_bytes(n, data):
    raw = os.urandom(n)
    if data != "weights":
        return raw
    out = bytearray(raw)
    out[1::2] = raw[1::2].translate(WEIGHT_HIGH_BYTE)
    return bytes(out)


def write_shard(path, header, length, data):
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - (8 + len(raw)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        if data == "sparse":
            f.truncate(8 + len(raw) + length)
            return
        left = length
        while left:
            chunk = min(left, 64 << 20)
            f.write(random_bytes(chunk, data))
            left -= chunk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shape", choices=["deepseek_v3", "mixtral_small"])
    ap.add_argument("out")
    ap.add_argument("--data", choices=["random", "sparse", "weights"], default="sparse")
    ap.add_argument("--layers", type=int)
    ap.add_argument("--shard-gb", type=float, default=0, help="split into shards of about this size, with an index")
    a = ap.parse_args()
    if a.data == "weights" and a.shape != "mixtral_small":
        ap.error("--data weights writes bf16 values; only mixtral_small is all bf16")
    tensors, config = {"deepseek_v3": deepseek_v3, "mixtral_small": mixtral_small}[a.shape](a.layers or (61 if a.shape == "deepseek_v3" else 12))
    limit = a.shard_gb * 1e9 if a.shard_gb else float("inf")
    shards, current, size = [], [], 0
    for t in tensors:
        n = DTYPE_BYTES[t[1]]
        for d in t[2]:
            n *= d
        if current and size + n > limit:
            shards.append(current)
            current, size = [], 0
        current.append((t, n))
        size += n
    shards.append(current)
    os.makedirs(a.out, exist_ok=True)
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        name = "model.safetensors" if len(shards) == 1 else f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        header, offset = {"__metadata__": {"format": "pt"}}, 0
        for (tname, dtype, shape), n in shard:
            header[tname] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
            weight_map[tname] = name
            offset += n
        total += offset
        write_shard(os.path.join(a.out, name), header, offset, a.data)
    if len(shards) > 1:
        with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    print(f"{a.out}: {len(tensors)} tensors in {len(shards)} shard(s), {total / 1e9:.2f} GB of data ({a.data})")
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    main()
