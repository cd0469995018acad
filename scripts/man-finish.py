"""Finishes the pages swift-argument-parser's generate-manual writes (called by scripts/update-man.sh; a
maintainer's tool, never needed to build or test): each option's default from the parser's own
--experimental-dump-help, an EXAMPLES section per command, and SEE ALSO naming only pages that exist.
Usage: python3 scripts/man-finish.py MOE_SLIM_EXECUTABLE PAGES_FOLDER
"""
import json
import os
import re
import subprocess
import sys

EXAMPLES = {
    "": ["moe-slim calibrate ~/models/Mixtral-8x7B --data calib.jsonl -o counts.json",
         "moe-slim prune ~/models/Mixtral-8x7B ~/models/Mixtral-6x7B --counts counts.json --keep 6"],
    "inspect": ["moe-slim inspect ~/models/Mixtral-8x7B"],
    "report": ["moe-slim report ~/models/Mixtral-8x7B --compare ~/models/Mixtral-6x7B"],
    "calibrate": ["moe-slim calibrate ~/models/M --data calib.jsonl.zst --text-field text -o counts.json --heatmap usage.svg",
                  "moe-slim calibrate ~/models/M --data chat.jsonl -o counts.json   # {\"messages\": [...]} records, the model's chat template",
                  "moe-slim calibrate ~/models/M --data data.jsonl --shard 0/4 -o counts-0.json"],
    "counts": ["moe-slim counts merge counts-*.json -o counts.json", "moe-slim counts show counts.json"],
    "counts.merge": ["moe-slim counts merge counts-0.json counts-1.json counts-2.json -o counts.json"],
    "counts.show": ["moe-slim counts show counts.json --heatmap usage.svg",
                    "moe-slim counts show counts-0.json --stability counts-1.json"],
    "prune": ["moe-slim prune ~/models/M ~/models/M-pruned --counts counts.json --keep 6 --plan-out plan.json",
              "moe-slim prune ~/models/M ~/models/M-pruned --counts counts.json --sparsity 0.25 --criterion soft --dry-run",
              "moe-slim prune ~/models/M ~/models/M-pruned --plan plan.json",
              "moe-slim prune ~/models/M ~/models/M-pruned --criterion aimer --keep 6   # from the weights alone",
              "moe-slim prune model.gguf model-pruned.gguf --counts imatrix.gguf --keep 6"],
    "eval": ["moe-slim eval ~/models/M --data heldout.jsonl",
             "moe-slim eval ~/models/M --data heldout.jsonl --against ~/models/M-pruned"],
    "sweep": ["moe-slim sweep ~/models/M --counts counts.json --data heldout.jsonl --sparsity 0.125,0.25 --strategy layer,global --criterion hard,soft"],
    "tokenize": ["moe-slim tokenize --tokenizer ~/models/M/tokenizer.json --data data.jsonl | head"],
    "plan": ["moe-slim plan search ~/models/M --counts counts.json --data heldout.jsonl --keep-total 96 -o plan.json"],
    "plan.search": ["moe-slim plan search ~/models/M --counts counts.json --data heldout.jsonl --keep-total 96 -o plan.json --uniform-output uniform.json",
                    "moe-slim plan search ~/models/Qwen3-30B-A3B --counts counts.json --data heldout.jsonl --keep-total 3072 --method evolutionary --generations 30 -o plan.json"],
    "merge-lora": ["moe-slim merge-lora ~/models/M ~/models/M-tuned --adapter ./adapter"],
    "verify": ["moe-slim verify ~/models/M-pruned"],
}


def defaults(exe, command):
    dump = json.loads(subprocess.run([exe, *command, "--experimental-dump-help"], check=True,
                                     capture_output=True, text=True).stdout)
    found = {}
    for argument in dump["command"].get("arguments", []):
        longs = [n["name"] for n in argument.get("names") or [] if n["kind"] == "long"]
        value = argument.get("defaultValue")
        if longs and value not in (None, "", "false") and argument.get("kind") == "option":
            found[longs[0]] = value
    return found


def finish(exe, folder):
    pages = {name[:-2] for name in os.listdir(folder) if name.endswith(".1")}
    for page in sorted(pages):
        path = os.path.join(folder, page + ".1")
        key = page[len("moe-slim."):] if page != "moe-slim" else ""
        lines = open(path, encoding="utf-8").read().split("\n")
        wanted = defaults(exe, key.split(".") if key else [])
        out = []
        pending = None
        for line in lines:
            option = re.match(r"\.It Fl -([A-Za-z0-9-]+)", line)
            if pending and (line.startswith(".It") or line == ".Pp" or line.startswith(".El")):
                out[-1] += f" (default: {pending})"
                pending = None
            if option:
                value = wanted.get(option.group(1))
                pending = value
            xr = re.match(r"\.Xr (\S+) 1", line)
            if xr and xr.group(1) not in pages:
                continue
            if line.startswith('.Sh "EXIT STATUS"') or (line == ".Sh AUTHORS" and '.Sh "EXIT STATUS"' not in lines):
                if EXAMPLES.get(key):
                    out.append(".Sh EXAMPLES")
                    for example in EXAMPLES[key]:
                        out += [".Bd -literal -offset indent", example.replace("\\", "\\e"), ".Ed"]
            out.append(line)
        # the last remaining cross-reference of SEE ALSO ends without a comma
        for i in range(len(out) - 1, -1, -1):
            if out[i].startswith(".Xr "):
                out[i] = out[i].rstrip(" ,")
                break
        open(path, "w", encoding="utf-8").write("\n".join(out))


if __name__ == "__main__":
    finish(sys.argv[1], sys.argv[2])
