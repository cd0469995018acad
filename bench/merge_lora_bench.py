"""PEFT's side of bench/merge_lora_bench.sh, and the fixtures it needs.
    python merge_lora_bench.py make WORK     # a ~1.3 GB bf16 Mixtral-shaped checkpoint and a trained-looking adapter
    python merge_lora_bench.py peft WORK OUT # merge_and_unload + save_pretrained, as a user would
"""
import os, sys
import torch

LAYERS, HIDDEN, INTER, EXPERTS = 8, 1024, 2816, 8


def make(work):
    from transformers import MixtralConfig, MixtralForCausalLM
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(0)
    config = MixtralConfig(vocab_size=32000, hidden_size=HIDDEN, intermediate_size=INTER, num_hidden_layers=LAYERS,
                           num_attention_heads=16, num_key_value_heads=4, num_local_experts=EXPERTS,
                           num_experts_per_tok=2, tie_word_embeddings=False)
    with torch.device("cpu"):
        model = MixtralForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(os.path.join(work, "base"), max_shard_size="500MB")
    lora = LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate"],
                      target_parameters=["mlp.experts.gate_up_proj", "mlp.experts.down_proj"], init_lora_weights=False)
    peft_model = get_peft_model(model, lora)
    peft_model.save_pretrained(os.path.join(work, "adapter"))


def peft(work, out):
    from transformers import MixtralForCausalLM
    from peft import PeftModel
    model = MixtralForCausalLM.from_pretrained(os.path.join(work, "base"), dtype=torch.bfloat16)
    merged = PeftModel.from_pretrained(model, os.path.join(work, "adapter")).merge_and_unload()
    merged.save_pretrained(out, max_shard_size="500MB")


if __name__ == "__main__":
    {"make": make, "peft": peft}[sys.argv[1]](*sys.argv[2:])
