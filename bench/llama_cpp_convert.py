#!/usr/bin/env python3
"""Converts the benchmark's model (a folder of safetensors and config.json, no tokenizer) to GGUF with the
convert_hf_to_gguf.py of the llama.cpp being compared, once per type, in one process (importing torch is slow).
The benchmark feeds token ids, never text, so the model is written without a vocabulary (tokenizer model
"none", the vocabulary size kept), which llama.cpp loads with dummy tokens.

usage: llama_cpp_convert.py LLAMA_CPP_SOURCE MODEL_FOLDER OUT_FOLDER TYPE...    (writes OUT_FOLDER/model-TYPE.gguf;
       TYPE: f32, bf16, q8_0, ...)
"""
import os
import sys


def main():
    source, model, out, types = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    sys.path.insert(0, source)
    import convert_hf_to_gguf
    from conversion.base import TextModel

    # The model class the converter picks (Mixtral's is LlamaModel) writes no tokenizer.
    pick = convert_hf_to_gguf.get_model_class

    def without_vocab(*args, **kwargs):
        cls = pick(*args, **kwargs)
        cls.set_vocab = TextModel._set_vocab_none
        return cls

    convert_hf_to_gguf.get_model_class = without_vocab
    for kind in types:
        target = os.path.join(out, f"model-{kind}.gguf")
        if os.path.exists(target):
            continue
        sys.argv = ["convert_hf_to_gguf.py", model, "--outfile", target + ".partial", "--outtype", kind]
        convert_hf_to_gguf.main()
        os.replace(target + ".partial", target)


if __name__ == "__main__":
    main()
