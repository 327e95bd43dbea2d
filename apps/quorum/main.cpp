// quorum: run, quantize, merge and combine local LLMs. Every verb is a thin layer over the
// library; see `quorum --help`.
#include <fmt/format.h>

#include <vector>

#include "commands.h"
#include "core/status.h"

namespace quorum::cli {

int report_error(const Status& status) {
  fmt::print(stderr, "error: {}\n", status.to_string());
  return 1;
}

namespace {
const Command kCommands[] = {
    {"info", "Show a model file's architecture, hyper-parameters, tensors and tokenizer",
     setup_info},
    {"convert", "Convert a model between GGUF, safetensors (HF) and llama2.c (import)", setup_convert},
    {"eval", "Evaluate models and consensus strategies on tasks from a YAML config", setup_eval},
    {"pull", "Download a model from a Hugging Face-compatible hub (resume, checksum)", setup_pull},
    {"synth", "Write a model of a real shape with seeded random weights (for benchmarks)", setup_synth},
    {"quantize", "Quantize a GGUF model with llama.cpp's mixes (Q4_K_M, Q8_0, ...)", setup_quantize},
    {"tokenize", "Show the token ids and pieces a model's tokenizer makes of a text", setup_tokenize},
    {"bench", "Measure prompt (pp) and generation (tg) speed like llama-bench", setup_bench},
    {"quant-study", "Quantize models with every method and level; measure quality, speed, tasks",
     setup_quant_study},
    {"imatrix", "Compute an importance matrix from calibration text (llama-imatrix format)",
     setup_imatrix},
    {"run", "Generate text from a prompt (streamed, or JSON with log-probabilities)", setup_run},
    {"chat", "Chat with a model interactively using its chat template", setup_chat},
    {"perplexity", "Perplexity of a text, and KL divergence against a base model", setup_perplexity},
};
}  // namespace

}  // namespace quorum::cli

int main(int argc, char** argv) {
  using namespace quorum::cli;
  CLI::App app{"quorum: run, quantize, merge and combine local LLMs on the CPU"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "quorum 0.1.0");
  std::vector<std::pair<CLI::App*, RunFn>> runs;
  for (const Command& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runs.emplace_back(sub, c.setup(*sub));
  }
  CLI11_PARSE(app, argc, argv);
  for (auto& [sub, run] : runs) {
    if (sub->parsed()) return run();
  }
  return 0;
}
