// ChatTemplate: loading from GGUF / tokenizer_config.json and rendering (see chat_template.h).
// The built-in family templates live in chat_template_builtin.cpp.
#include "tokenizer/chat_template.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace quorum {

Result<ChatTemplate> ChatTemplate::parse(std::string source) {
  auto t = jinja::Template::parse(source);
  if (!t) return Status(t.status()).with_context("parsing chat template");
  ChatTemplate ct;
  ct.source_ = std::move(source);
  ct.template_ = std::move(t).value();
  return ct;
}

Result<ChatTemplate> ChatTemplate::from_gguf(const gguf::File& file, const std::string& name) {
  const std::string key = name.empty() ? "tokenizer.chat_template" : "tokenizer.chat_template." + name;
  if (!file.has(key)) {
    auto e = Error(ErrorCode::kNotFound, fmt::format("the GGUF has no chat template ('{}')", key))
                 .where(file.path());
    if (auto family = guess_family(file)) {
      e.hint(fmt::format("use the built-in '{}' template (ChatTemplate::builtin)", *family));
    } else {
      e.hint("pass a template explicitly; built-in families: llama2, llama3, mistral, zephyr, phi3, chatml, gemma");
    }
    return e;
  }
  QUORUM_ASSIGN_OR_RETURN(std::string source, file.get_string(key));
  auto t = parse(std::move(source));
  if (!t) return Status(t.status()).with_context(file.path() + ": " + key);
  return t;
}

Result<ChatTemplate> ChatTemplate::from_hf_config(const std::string& config_json, const std::string& name) {
  jinja::Json config;
  try {
    config = jinja::Json::parse(config_json);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "tokenizer_config.json is not valid JSON").actual(e.what());
  }
  if (!config.is_object() || !config.contains("chat_template")) {
    return Error(ErrorCode::kNotFound, "tokenizer_config.json has no 'chat_template'")
        .hint("the model may ship chat_template.jinja separately, or use a built-in family template");
  }
  const auto& ct = config["chat_template"];
  if (ct.is_string()) {
    if (!name.empty() && name != "default") {
      return Error(ErrorCode::kNotFound, fmt::format("tokenizer_config.json has one chat template, not '{}'", name));
    }
    return parse(ct.get<std::string>());
  }
  if (ct.is_array()) {
    const std::string want = name.empty() ? "default" : name;
    std::string names;
    for (const auto& entry : ct) {
      if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") ||
          !entry["name"].is_string() || !entry["template"].is_string()) {
        return Error(ErrorCode::kCorruptFile, "tokenizer_config.json: chat_template list entries need string 'name' and 'template'");
      }
      const std::string n = entry["name"].get<std::string>();
      if (n == want) return parse(entry["template"].get<std::string>());
      names += (names.empty() ? "" : ", ") + n;
    }
    return Error(ErrorCode::kNotFound, fmt::format("tokenizer_config.json has no chat template named '{}'", want))
        .actual("templates: " + names);
  }
  return Error(ErrorCode::kCorruptFile, "tokenizer_config.json: 'chat_template' must be a string or a list")
      .actual(ct.type_name());
}

Result<ChatTemplate> ChatTemplate::from_hf_config_file(const std::string& path, const std::string& name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot open tokenizer config").where(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto t = from_hf_config(ss.str(), name);
  if (!t) return Status(t.status()).with_context(path);
  return t;
}

Result<std::string> ChatTemplate::render(const jinja::Json& messages, const ChatRenderOptions& options) const {
  if (!messages.is_array()) {
    return Error(ErrorCode::kInvalidArgument, "chat messages must be a JSON array").actual(messages.type_name());
  }
  jinja::RenderEnv env;
  env.now = options.now;
  env.limits = options.limits;
  env.variables["messages"] = messages;
  env.variables["tools"] = options.tools ? *options.tools : jinja::Json(nullptr);
  env.variables["add_generation_prompt"] = options.add_generation_prompt;
  env.variables["bos_token"] = options.bos_token;
  env.variables["eos_token"] = options.eos_token;
  if (!options.extra.is_null() && !options.extra.is_object()) {
    return Error(ErrorCode::kInvalidArgument, "extra chat template variables must be a JSON object");
  }
  if (options.extra.is_object()) {
    for (const auto& [k, v] : options.extra.items()) env.variables[k] = v;
  }
  auto out = template_.render(env);
  if (!out) return Status(out.status()).with_context("rendering chat template");
  return out;
}

Result<std::string> ChatTemplate::render(const nlohmann::json& messages, const ChatRenderOptions& options) const {
  jinja::Json ordered;
  try {
    ordered = jinja::Json::parse(messages.dump());
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInvalidArgument, "chat messages are not valid JSON text").actual(e.what());
  }
  return render(ordered, options);
}

}  // namespace quorum
