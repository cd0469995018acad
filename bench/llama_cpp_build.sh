#!/bin/sh
# Builds llama.cpp, CPU only, from the llama.cpp that the llama-cpp-python source package on PyPI vendors, once,
# into bench/out/ (git-ignored): the llama library and llama_cpp_peer, the runner of llama_cpp_bench.sh (the
# tools and their common library are left out: they take longer to build than the library, and the peer feeds
# token ids, which llama-perplexity cannot). Prints the peer's path. Needs pip, cmake and a C++ compiler; the
# build takes a while on a few cores and runs nice'd.
#
# usage: bench/llama_cpp_build.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/out
mkdir -p "$out"
if ! ls "$out"/llama_cpp_python-*.tar.gz >/dev/null 2>&1; then
    # --no-build-isolation: pip only reads the package's metadata with the installed scikit-build-core instead
    # of building every build dependency (cmake among them) from source.
    python3 -m pip install -q scikit-build-core >&2
    python3 -m pip download llama-cpp-python --no-binary :all: --no-deps --no-build-isolation -d "$out" >&2
fi
archive=$(ls "$out"/llama_cpp_python-*.tar.gz | tail -n 1)
source=$out/$(basename "$archive" .tar.gz)
[ -d "$source" ] || tar -xzf "$archive" -C "$out"
llama=$source/vendor/llama.cpp
build=$out/llama.cpp-build
peer=$build/llama_cpp_peer
if [ ! -x "$peer" ]; then
    cmake -S "$llama" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >&2
    nice -n 5 cmake --build "$build" -j "$(nproc)" --target llama >&2
fi
if [ ! -x "$peer" ] || [ "$here/llama_cpp_peer.cpp" -nt "$peer" ]; then
    libs=$(find "$build" -name 'libllama.a' -o -name 'libggml.a' -o -name 'libggml-cpu.a' -o -name 'libggml-base.a' | sort -r)
    nice -n 5 c++ -O2 -std=c++17 -I "$llama/include" -I "$llama/ggml/include" "$here/llama_cpp_peer.cpp" \
        $(for l in llama ggml ggml-cpu ggml-base; do echo "$libs" | grep "/lib$l.a\$"; done) -fopenmp -lpthread -ldl -o "$peer" >&2
fi
echo "$peer"
