// llama.cpp's side of llama_cpp_bench.sh: runs a GGUF model on the same token ids moe-slim reads, one
// sequence at a time (each sequence one batch, the KV cache cleared between), CPU only, and prints the wall and
// CPU seconds (all threads) the sequences took, model loading excluded, as JSON. llama-perplexity and llama-bench tokenize text or make
// up tokens; this feeds the exact ids.
//
// usage: llama_cpp_peer MODEL.gguf IDS THREADS MODE
//   IDS: one sequence a line, token ids separated by spaces
//   MODE: prompt  (prompt processing: logits of the last token only, as llama-bench's pp test)
//         perplexity  (logits of every token; the perplexity over every predicted token, as moe-slim eval)
#include "llama.h"

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static void quiet(ggml_log_level, const char *, void *) {}

int main(int argc, char ** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s MODEL.gguf IDS THREADS prompt|perplexity\n", argv[0]);
        return 2;
    }
    const int threads = std::atoi(argv[3]);
    const bool perplexity = std::strcmp(argv[4], "perplexity") == 0;
    std::vector<std::vector<llama_token>> sequences;
    std::ifstream ids(argv[2]);
    for (std::string line; std::getline(ids, line);) {
        std::istringstream in(line);
        std::vector<llama_token> s;
        for (llama_token t; in >> t;) s.push_back(t);
        if (!s.empty()) sequences.push_back(s);
    }
    size_t longest = 0;
    for (auto & s : sequences) longest = std::max(longest, s.size());
    if (longest == 0) {
        std::fprintf(stderr, "%s: no token ids\n", argv[2]);
        return 1;
    }

    llama_log_set(quiet, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        std::fprintf(stderr, "%s: cannot load\n", argv[1]);
        return 1;
    }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(longest);
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = threads;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        std::fprintf(stderr, "%s: cannot make a context\n", argv[1]);
        return 1;
    }
    const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_batch batch = llama_batch_init(static_cast<int32_t>(longest), 0, 1);

    double nll = 0;
    long predicted = 0, tokens = 0;
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    for (auto & s : sequences) {
        llama_memory_clear(llama_get_memory(ctx), true);
        batch.n_tokens = static_cast<int32_t>(s.size());
        for (size_t i = 0; i < s.size(); i++) {
            batch.token[i] = s[i];
            batch.pos[i] = static_cast<llama_pos>(i);
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = 0;
            batch.logits[i] = perplexity || i + 1 == s.size();
        }
        if (llama_decode(ctx, batch) != 0) {
            std::fprintf(stderr, "llama_decode failed\n");
            return 1;
        }
        tokens += static_cast<long>(s.size());
        if (!perplexity) continue;
        for (size_t i = 0; i + 1 < s.size(); i++) {
            const float * logits = llama_get_logits_ith(ctx, static_cast<int32_t>(i));
            float top = logits[0];
            for (int v = 1; v < vocab; v++) top = std::max(top, logits[v]);
            double sum = 0;
            for (int v = 0; v < vocab; v++) sum += std::exp(static_cast<double>(logits[v] - top));
            nll += std::log(sum) + top - logits[s[i + 1]];
            predicted++;
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    std::printf("{\"seconds\": %.6f, \"cpu_seconds\": %.6f, \"tokens\": %ld, \"threads\": %d", seconds, cpu_seconds, tokens, threads);
    if (perplexity) std::printf(", \"perplexity\": %.6f, \"predicted\": %ld", std::exp(nll / predicted), predicted);
    std::printf("}\n");
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
