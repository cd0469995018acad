"""Writes a Mixtral-layout GGUF of random quantized blocks for bench/gguf_prune_bench.sh, streamed tensor by
tensor through gguf-py's writer (pip install gguf), so making it needs one tensor's memory.

    python3 bench/make_gguf.py OUT.gguf [layers] [expert type]     # 3 layers: about 2.5 GB of Q4_K experts

Hidden 4096, expert width 14336, 8 experts top-2 as Mixtral-8x7B; stacked expert tensors in Q4_K (or the type
named, e.g. Q8_0 for bench/gguf_aimer_bench.sh), attention in Q8_0, norms and routers F32. The bytes are random:
pruning never decodes a block. Each block's leading 4 bytes are set to two finite fp16 values (the scales of
Q8_0, Q4_0 and Q4_K), so --criterion aimer, which decodes blocks, reads finite weights.
"""
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

HIDDEN, FF, EXPERTS, VOCAB, HEADS, KV_HEADS = 4096, 14336, 8, 32000, 32, 8


def nbytes(shape, qtype):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    n = 1
    for d in shape:
        n *= d
    return n // block * size


def main():
    out, layers = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    experts = Q[sys.argv[3]] if len(sys.argv) > 3 else Q.Q4_K
    tensors = [("token_embd.weight", (VOCAB, HIDDEN), Q.Q4_K)]
    for l in range(layers):
        p = "blk.%d." % l
        tensors += [(p + "attn_norm.weight", (HIDDEN,), Q.F32), (p + "attn_q.weight", (HIDDEN, HIDDEN), Q.Q8_0),
                    (p + "attn_k.weight", (KV_HEADS * 128, HIDDEN), Q.Q8_0), (p + "attn_v.weight", (KV_HEADS * 128, HIDDEN), Q.Q8_0),
                    (p + "attn_output.weight", (HIDDEN, HIDDEN), Q.Q8_0), (p + "ffn_norm.weight", (HIDDEN,), Q.F32),
                    (p + "ffn_gate_inp.weight", (EXPERTS, HIDDEN), Q.F32),
                    (p + "ffn_gate_exps.weight", (EXPERTS, FF, HIDDEN), experts),
                    (p + "ffn_down_exps.weight", (EXPERTS, HIDDEN, FF), experts),
                    (p + "ffn_up_exps.weight", (EXPERTS, FF, HIDDEN), experts)]
    tensors += [("output_norm.weight", (HIDDEN,), Q.F32), ("output.weight", (VOCAB, HIDDEN), Q.Q8_0)]
    w = gguf.GGUFWriter(out, "llama")
    w.add_name("bench-mixtral")
    w.add_block_count(layers)
    w.add_context_length(32768)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(FF)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_expert_count(EXPERTS)
    w.add_expert_used_count(2)
    w.add_file_type(15)
    w.add_tokenizer_model("llama")
    w.add_token_list(["<t%d>" % i for i in range(VOCAB)])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for name, shape, qtype in tensors:
        if qtype == Q.F32:
            w.add_tensor_info(name, shape, np.dtype(np.float32), nbytes(shape, qtype))
        else:
            block, size = gguf.GGML_QUANT_SIZES[qtype]
            byte_shape = shape[:-1] + (shape[-1] // block * size,)
            w.add_tensor_info(name, byte_shape, np.dtype(np.uint8), nbytes(shape, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.write_padding(w.fout[0], w.fout[0].tell())
    rng = np.random.default_rng(0)
    for name, shape, qtype in tensors:
        if qtype == Q.F32:
            w.write_tensor_data(rng.standard_normal(shape).astype(np.float32))
        else:
            block, size = gguf.GGML_QUANT_SIZES[qtype]
            data = rng.integers(0, 256, size=(nbytes(shape, qtype) // size, size), dtype=np.uint8)
            data[:, 0:4] = np.full((data.shape[0], 2), 0.01, dtype=np.float16).view(np.uint8)
            w.write_tensor_data(data.reshape(-1))
    w.close()


if __name__ == "__main__":
    main()
