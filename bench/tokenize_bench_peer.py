#!/usr/bin/env python3
"""Peer for bench/tokenize_bench.sh.

make-corpus OUT: writes a JSON Lines corpus (fixture corpus plus Python standard library source lines).
encode TOKENIZER CORPUS: prints {"input_ids": [...]} per line exactly as `moe-slim tokenize` does, encoding one
record at a time on one thread, and reports its own encode-only seconds on stderr.
"""
import glob
import json
import os
import sys
import time


def make_corpus(out):
    import zstandard
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "fixtures", "tokenizers", "corpus.jsonl.zst"), "rb") as f:
        fixture = [line for line in zstandard.decompress(f.read()).decode().split("\n") if line]
    code = []
    for path in sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "**", "*.py"), recursive=True))[:1500]:
        with open(path, encoding="utf-8", errors="replace") as f:
            code.extend(line.rstrip("\n") for line in f if line.strip())
    with open(out, "w", encoding="utf-8") as f:
        for line in fixture * 10:
            f.write(line + "\n")
        for i in range(0, len(code), 8):
            f.write(json.dumps({"text": "\n".join(code[i:i + 8])}, ensure_ascii=False) + "\n")


def encode(tokenizer_path, corpus):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tokenizer_path)
    texts = [json.loads(line)["text"] for line in open(corpus, encoding="utf-8", newline="\n") if line.strip()]
    start = time.perf_counter()
    ids = [tok.encode(t).ids for t in texts]
    elapsed = time.perf_counter() - start
    out = sys.stdout
    for row in ids:
        out.write(json.dumps({"input_ids": row}) + "\n")
    print(f"{elapsed:.3f}", file=sys.stderr)


if __name__ == "__main__":
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    if sys.argv[1] == "make-corpus":
        make_corpus(sys.argv[2])
    else:
        encode(sys.argv[2], sys.argv[3])
