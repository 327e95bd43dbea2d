// Chat templates: turn a list of chat messages into the prompt text a model was trained on.
//
// A template is Jinja source, as shipped in a GGUF (`tokenizer.chat_template`) or a Hugging Face
// tokenizer_config.json (`chat_template`), rendered the way transformers' apply_chat_template
// renders it: variables `messages`, `tools` (None when absent), `add_generation_prompt`,
// `bos_token`, `eos_token`, plus any extra variables; globals raise_exception and strftime_now;
// HF's tojson. For models whose files carry no template, `builtin()` gives one written from the
// documented format of a known family (Llama 2, Llama 3.x, Mistral, Zephyr, Phi-3, ChatML, Gemma).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "io/gguf.h"
#include "tokenizer/jinja/template.h"

namespace quorum {

struct ChatRenderOptions {
  bool add_generation_prompt = true;  // end with the header of an assistant turn
  std::string bos_token;
  std::string eos_token;
  std::optional<jinja::Json> tools;   // OpenAI-style tool list; absent renders `tools` as None
  jinja::Json extra = jinja::Json::object();  // more variables (date_string, enable_thinking, ...)
  std::optional<std::time_t> now;     // fixed clock for strftime_now (UTC); default: current time
  jinja::RenderLimits limits;
};

class ChatTemplate {
 public:
  static Result<ChatTemplate> parse(std::string source);
  // `tokenizer.chat_template` of a GGUF (or `tokenizer.chat_template.<name>` when name is set).
  static Result<ChatTemplate> from_gguf(const gguf::File& file, const std::string& name = "");
  // tokenizer_config.json text: `chat_template` as a string, or as a list of {name, template}
  // (then `name` picks one; empty picks "default").
  static Result<ChatTemplate> from_hf_config(const std::string& config_json, const std::string& name = "");
  static Result<ChatTemplate> from_hf_config_file(const std::string& path, const std::string& name = "");
  // A template for a known family when the model files have none: "llama2", "llama3", "mistral",
  // "zephyr", "phi3", "chatml", "gemma".
  static Result<ChatTemplate> builtin(std::string_view family);
  static std::vector<std::string> builtin_families();
  // The family whose built-in template fits a GGUF without a template (from its architecture and
  // vocabulary); nullopt when unknown.
  static std::optional<std::string> guess_family(const gguf::File& file);

  // Messages: a JSON array of {"role", "content", ...}. Ordered JSON keeps key order (tojson
  // prints keys in the order given, as Python does).
  Result<std::string> render(const jinja::Json& messages, const ChatRenderOptions& options) const;
  // Convenience for plain nlohmann::json (its objects iterate keys sorted).
  Result<std::string> render(const nlohmann::json& messages, const ChatRenderOptions& options) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  jinja::Template template_;
};

}  // namespace quorum
