// summarize_model: reads metadata and tensor tables only (weights stay on disk).
#include "model/summary.h"

#include <fmt/format.h>

#include <filesystem>

#include "model/architecture.h"

namespace quorum {
namespace {

int64_t disk_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    int64_t n = 0;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (e.is_regular_file(ec)) n += static_cast<int64_t>(e.file_size(ec));
    }
    return n;
  }
  return static_cast<int64_t>(fs::file_size(path, ec));
}

std::optional<int64_t> opt_int(const gguf::File& f, const std::string& key) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return std::nullopt;
  return v->as_int();
}

}  // namespace

Result<ModelSummary> summarize_model(const std::string& path, const OpenModelOptions& options) {
  QUORUM_ASSIGN_OR_RETURN(ModelFormat format, detect_model_format(path));
  QUORUM_ASSIGN_OR_RETURN(gguf::File f, open_model_file(path, options));
  ModelSummary s;
  s.path = path;
  s.format = model_format_name(format);
  s.file_bytes = disk_bytes(path);
  s.name = f.get_string_or("general.name", "").value_or("");
  s.architecture = f.get_string_or("general.architecture", "").value_or("");
  s.architecture_supported = find_architecture(s.architecture).is_ok();
  if (auto hp = read_hparams(f)) {
    s.hparams = *hp;
  } else {
    s.hparams_error = hp.status().message();
  }
  int64_t bytes = 0;
  for (const gguf::TensorInfo& t : f.tensors()) {
    TypeUsage& u = s.types[dtype_name(t.type)];
    u.tensors += 1;
    u.params += t.n_elements();
    u.bytes += static_cast<int64_t>(t.nbytes);
    s.n_params += t.n_elements();
    bytes += static_cast<int64_t>(t.nbytes);
  }
  s.n_tensors = static_cast<int64_t>(f.tensors().size());
  s.bits_per_weight = s.n_params > 0 ? 8.0 * static_cast<double>(bytes) / s.n_params : 0;
  s.tokenizer_model = f.get_string_or("tokenizer.ggml.model", "").value_or("");
  s.tokenizer_pre = f.get_string_or("tokenizer.ggml.pre", "").value_or("");
  if (const gguf::Value* v = f.find("tokenizer.ggml.tokens")) s.n_tokens = static_cast<int64_t>(v->arr.size());
  if (const gguf::Value* v = f.find("tokenizer.ggml.merges")) s.n_merges = static_cast<int64_t>(v->arr.size());
  s.bos = opt_int(f, "tokenizer.ggml.bos_token_id");
  s.eos = opt_int(f, "tokenizer.ggml.eos_token_id");
  s.eot = opt_int(f, "tokenizer.ggml.eot_token_id");
  s.has_chat_template = f.has("tokenizer.chat_template");
  return s;
}

nlohmann::json summary_to_json(const ModelSummary& s) {
  nlohmann::json j;
  j["path"] = s.path;
  j["format"] = s.format;
  j["file_bytes"] = s.file_bytes;
  j["name"] = s.name;
  j["architecture"] = s.architecture;
  j["architecture_supported"] = s.architecture_supported;
  if (s.hparams) {
    const HParams& h = *s.hparams;
    j["hparams"] = {{"n_vocab", h.n_vocab},     {"n_ctx_train", h.n_ctx_train},
                    {"n_embd", h.n_embd},       {"n_layer", h.n_layer},
                    {"n_head", h.n_head},       {"n_head_kv", h.n_head_kv},
                    {"n_ff", h.n_ff},           {"head_dim", h.head_dim},
                    {"n_rot", h.n_rot},         {"rope_freq_base", h.rope_freq_base},
                    {"norm_rms_eps", h.norm_rms_eps}};
  } else {
    j["hparams"] = nullptr;
    j["hparams_error"] = s.hparams_error;
  }
  j["n_params"] = s.n_params;
  j["n_tensors"] = s.n_tensors;
  j["bits_per_weight"] = s.bits_per_weight;
  for (const auto& [name, u] : s.types) {
    j["tensor_types"][name] = {{"tensors", u.tensors}, {"params", u.params}, {"bytes", u.bytes}};
  }
  nlohmann::json tok = {{"model", s.tokenizer_model}, {"pre", s.tokenizer_pre},
                        {"n_tokens", s.n_tokens},     {"n_merges", s.n_merges}};
  tok["bos"] = s.bos ? nlohmann::json(*s.bos) : nlohmann::json(nullptr);
  tok["eos"] = s.eos ? nlohmann::json(*s.eos) : nlohmann::json(nullptr);
  tok["eot"] = s.eot ? nlohmann::json(*s.eot) : nlohmann::json(nullptr);
  j["tokenizer"] = tok;
  j["chat_template"] = s.has_chat_template;
  return j;
}

std::string summary_to_text(const ModelSummary& s) {
  std::string o;
  auto line = [&](const char* k, const std::string& v) { o += fmt::format("{:14} {}\n", k, v); };
  line("file:", s.path);
  line("format:", fmt::format("{} ({:.1f} MiB on disk)", s.format, s.file_bytes / 1048576.0));
  if (!s.name.empty()) line("name:", s.name);
  line("architecture:", s.architecture.empty() ? "(none)"
                        : s.architecture + (s.architecture_supported ? "" : " (not supported for inference)"));
  if (s.hparams) {
    const HParams& h = *s.hparams;
    line("layers:", fmt::format("{} x (dim {}, heads {} / {} KV, head dim {}, FFN {})", h.n_layer,
                                h.n_embd, h.n_head, h.n_head_kv, h.head_dim, h.n_ff));
    line("context:", fmt::format("{} (trained)", h.n_ctx_train));
    line("rope:", fmt::format("base {}, {} dims", h.rope_freq_base, h.n_rot));
    line("rms eps:", fmt::format("{:g}", h.norm_rms_eps));
  } else {
    line("hparams:", "unavailable: " + s.hparams_error);
  }
  line("parameters:", fmt::format("{} ({:.2f} M) in {} tensors, {:.2f} bits/weight", s.n_params,
                                  s.n_params / 1e6, s.n_tensors, s.bits_per_weight));
  for (const auto& [name, u] : s.types) {
    o += fmt::format("  {:8} {:5} tensors {:12} params {:10.2f} MiB\n", name, u.tensors, u.params,
                     u.bytes / 1048576.0);
  }
  if (s.tokenizer_model.empty()) {
    line("tokenizer:", "(none)");
  } else {
    std::string t = fmt::format("{} ({}), {} tokens", s.tokenizer_model,
                                s.tokenizer_model == "llama" ? "SentencePiece"
                                : s.tokenizer_model == "gpt2" ? "byte-level BPE"
                                                             : "other",
                                s.n_tokens);
    if (!s.tokenizer_pre.empty()) t += ", pre " + s.tokenizer_pre;
    if (s.n_merges > 0) t += fmt::format(", {} merges", s.n_merges);
    if (s.bos) t += fmt::format(", BOS {}", *s.bos);
    if (s.eos) t += fmt::format(", EOS {}", *s.eos);
    if (s.eot) t += fmt::format(", EOT {}", *s.eot);
    line("tokenizer:", t);
  }
  line("chat template:", s.has_chat_template ? "yes (tokenizer.chat_template)" : "no");
  return o;
}

}  // namespace quorum
