"""The Python route to a pruned GGUF, as scripts that slice GGUF experts do it: gguf-py's GGUFReader (memory-
mapped) for the input, numpy slicing of the stacked expert tensors and routers on their expert axis (the
outermost: the first numpy axis), and gguf-py's GGUFWriter for the output, every metadata entry copied with its
type, expert_count rewritten.

    python3 bench/gguf_prune_peer.py IN.gguf OUT.gguf PLAN.json
"""
import json
import sys

import numpy as np
import gguf
from gguf import GGUFValueType as V


def main():
    src, dst, plan_path = sys.argv[1:4]
    plan = {int(k): v for k, v in json.load(open(plan_path))["layers"].items()}
    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(dst, arch)
    kept = len(next(iter(plan.values())))
    for name, field in r.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        vtype = field.types[0]
        value = kept if name == arch + ".expert_count" else field.contents()
        sub = field.types[-1] if vtype == V.ARRAY else None
        w.add_key_value(name, value, vtype, sub_type=sub)
    for t in r.tensors:
        data = t.data
        parts = t.name.split(".")
        if parts[0] == "blk" and int(parts[1]) in plan and (parts[2].endswith("_exps") or parts[2] in ("ffn_gate_inp", "exp_probs_b")):
            data = data[plan[int(parts[1])]]
        w.add_tensor(t.name, np.ascontiguousarray(data), raw_dtype=t.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
