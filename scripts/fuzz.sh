#!/usr/bin/env bash
# Fuzzes the safetensors header parser, the index/config readers, the GGUF reader and the chat-template
# (Jinja) renderer with libFuzzer and AddressSanitizer.
# The target is compiled straight from the library sources with swiftc, outside the package, so `swift build`
# and `swift test` never see it. Findings (crashes, leaks, timeouts) land in .build-fuzz/findings/.
#
#     scripts/fuzz.sh [seconds]      # default 600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
out=.build-fuzz
mkdir -p "$out/corpus" "$out/findings"

# The whole library goes in (a snapshot, so edits during the build do not spoil it), so the target follows
# whatever the readers call. Its layers (Sources/MoESlim*/) are compiled as one module, so the snapshot drops
# their imports of each other. The C targets (CShims, CKernels) have no module maps of their own (SwiftPM makes
# them), so the script writes one beside each target's objects, its include folder as the umbrella.
objects=()
for target in CShims CKernels; do
    mkdir -p "$out/$target"
    for c in Sources/$target/*.c; do
        clang -O1 -g -fsanitize=fuzzer-no-link,address -I "Sources/$target/include" -c "$c" -o "$out/$target/$(basename "$c" .c).o"
        objects+=("$out/$target/$(basename "$c" .c).o")
    done
    printf 'module %s {\n    umbrella "%s"\n    export *\n}\n' "$target" "$PWD/Sources/$target/include" > "$out/$target/module.modulemap"
done
rm -rf "$out/src" && mkdir -p "$out/src"
for layer in MoESlimSupport MoESlimFormats MoESlimFamilies MoESlimText MoESlimEngine MoESlimSlimming; do
    cp -R "Sources/$layer" "$out/src/$layer"
done
mapfile -t sources < <(find "$out/src" -name '*.swift' | sort)
sed -i -E '/^import MoESlim[A-Za-z]*$/d' "${sources[@]}"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name MoESlim -package-name moe_slim \
    -I Sources/CZstd -I Sources/CZlib -I Sources/COpenBLAS -I Sources/CJSONC -I "$out/CShims" -I "$out/CKernels" \
    $(pkg-config --cflags-only-I libzstd openblas json-c zlib | sed 's/-I/-Xcc -I/g') \
    "${sources[@]}" fuzz/HeaderFuzz.swift "${objects[@]}" \
    $(pkg-config --libs libzstd openblas json-c zlib) -o "$out/header-fuzz"

# Seeds: every committed fixture, prefixed with the byte that selects its reader.
seed() { { printf "\\x$1"; cat "$2"; } > "$out/corpus/seed-$1-$(echo "$2" | tr '/' '_')"; }
find fixtures/valid fixtures/malformed fixtures/scan fixtures/hostile -name '*.safetensors' -type f | while read -r f; do seed 00 "$f"; done
find fixtures/valid fixtures/malformed fixtures/hostile -name "model.safetensors.index.json" | while read -r f; do seed 01 "$f"; done
find fixtures/valid fixtures/malformed fixtures/hostile -name config.json | while read -r f; do seed 02 "$f"; done
find fixtures/hostile/names -name "counts-*.json" | while read -r f; do seed 04 "$f"; done
find fixtures/gguf -name "*.gguf" -type f -size -16k | while read -r f; do seed 05 "$f"; done
find fixtures/chat/templates -name "*.jinja" -type f | while read -r f; do seed 06 "$f"; done
# Mode 3 takes header text alone (the length prefix dropped) for the fast-path agreement check.
find fixtures/valid fixtures/malformed fixtures/scan -name "*.safetensors" -type f -size -16k | while read -r f; do
    { printf "\\x03"; tail -c +9 "$f"; } > "$out/corpus/seed-03-$(echo "$f" | tr / _)"
done

MOESLIM_FUZZ_MODEL=fixtures/valid/tiny-mixtral "$out/header-fuzz" \
    -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/findings/" -print_final_stats=1 "$out/corpus"
