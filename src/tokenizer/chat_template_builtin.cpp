// Built-in chat templates for model families whose files carry no template, written from each
// family's documented prompt format (like llama.cpp's built-in fallbacks):
//  llama2  <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] ...
//  llama3  <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>...
//  mistral <s>[INST] {system}\n\n{user} [/INST] {assistant}</s>[INST] ... (v1, Mistral-7B-Instruct)
//  zephyr  <|{role}|>\n{content}</s>\n ... <|assistant|>\n
//  phi3    <|{role}|>\n{content}<|end|>\n ... <|assistant|>\n
//  chatml  <|im_start|>{role}\n{content}<|im_end|>\n ... <|im_start|>assistant\n (Qwen, Yi, ...)
//  gemma   <bos><start_of_turn>user\n{system}\n\n{user}<end_of_turn>\n<start_of_turn>model\n...
#include <utility>

#include <fmt/format.h>

#include "tokenizer/chat_template.h"

namespace quorum {
namespace {

struct Family {
  const char* name;
  const char* source;
};

constexpr Family kFamilies[] = {
    {"llama2",
     "{%- set ns = namespace(system='') -%}"
     "{%- for m in messages -%}"
     "{%- if m.role == 'system' -%}"
     "{%- if not loop.first -%}{{ raise_exception('llama2: the system message must come first') }}{%- endif -%}"
     "{%- set ns.system = m.content -%}"
     "{%- elif m.role == 'user' -%}"
     "{{- bos_token + '[INST] ' -}}"
     "{%- if ns.system -%}{{- '<<SYS>>\\n' + ns.system + '\\n<</SYS>>\\n\\n' -}}{%- set ns.system = '' -%}{%- endif -%}"
     "{{- m.content | trim + ' [/INST]' -}}"
     "{%- elif m.role == 'assistant' -%}"
     "{{- ' ' + m.content | trim + ' ' + eos_token -}}"
     "{%- else -%}{{ raise_exception('llama2: unsupported role ' + m.role) }}"
     "{%- endif -%}"
     "{%- endfor -%}"},
    {"llama3",
     "{{- bos_token -}}"
     "{%- for m in messages -%}"
     "{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\\n\\n' + m.content | trim + '<|eot_id|>' -}}"
     "{%- endfor -%}"
     "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{%- endif -%}"},
    {"mistral",
     "{{- bos_token -}}"
     "{%- set ns = namespace(system='') -%}"
     "{%- for m in messages -%}"
     "{%- if m.role == 'system' -%}{%- set ns.system = m.content + '\\n\\n' -%}"
     "{%- elif m.role == 'user' -%}{{- '[INST] ' + ns.system + m.content + ' [/INST]' -}}{%- set ns.system = '' -%}"
     "{%- elif m.role == 'assistant' -%}{{- ' ' + m.content + eos_token -}}"
     "{%- else -%}{{ raise_exception('mistral: unsupported role ' + m.role) }}"
     "{%- endif -%}"
     "{%- endfor -%}"},
    {"zephyr",
     "{%- for m in messages -%}"
     "{{- '<|' + m.role + '|>\\n' + m.content + eos_token + '\\n' -}}"
     "{%- endfor -%}"
     "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"},
    {"phi3",
     "{%- for m in messages -%}"
     "{{- '<|' + m.role + '|>\\n' + m.content + '<|end|>\\n' -}}"
     "{%- endfor -%}"
     "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"},
    {"chatml",
     "{%- for m in messages -%}"
     "{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' -}}"
     "{%- endfor -%}"
     "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"},
    {"gemma",
     "{{- bos_token -}}"
     "{%- set ns = namespace(system='') -%}"
     "{%- for m in messages -%}"
     "{%- if m.role == 'system' -%}{%- set ns.system = m.content + '\\n\\n' -%}"
     "{%- else -%}"
     "{%- set role = 'model' if m.role == 'assistant' else m.role -%}"
     "{{- '<start_of_turn>' + role + '\\n' + (ns.system if role == 'user' else '') + m.content | trim + '<end_of_turn>\\n' -}}"
     "{%- if role == 'user' -%}{%- set ns.system = '' -%}{%- endif -%}"
     "{%- endif -%}"
     "{%- endfor -%}"
     "{%- if add_generation_prompt -%}{{- '<start_of_turn>model\\n' -}}{%- endif -%}"},
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<ChatTemplate> ChatTemplate::builtin(std::string_view family) {
  std::string known;
  for (const auto& f : kFamilies) {
    if (family == f.name) return parse(f.source);
    known += (known.empty() ? "" : ", ") + std::string(f.name);
  }
  return Error(ErrorCode::kNotFound, fmt::format("no built-in chat template '{}'", family)).expected(known);
}

std::vector<std::string> ChatTemplate::builtin_families() {
  std::vector<std::string> out;
  for (const auto& f : kFamilies) out.emplace_back(f.name);
  return out;
}

std::optional<std::string> ChatTemplate::guess_family(const gguf::File& file) {
  const std::string arch = lower(file.get_string_or("general.architecture", "").value_or(""));
  const std::string name = lower(file.get_string_or("general.name", "").value_or(""));
  if (arch.rfind("gemma", 0) == 0) return "gemma";
  if (arch == "phi3") return "phi3";
  if (arch.rfind("qwen", 0) == 0) return "chatml";
  if (name.find("zephyr") != std::string::npos) return "zephyr";
  if (name.find("mistral") != std::string::npos || name.find("mixtral") != std::string::npos) return "mistral";
  if (arch == "llama") {
    // Llama 3 ships a 128,256-token BPE vocabulary; Llama 2 a 32,000-token SentencePiece one.
    const gguf::Value* tokens = file.find("tokenizer.ggml.tokens");
    const size_t n_vocab = tokens ? tokens->arr.size() : 0;
    if (n_vocab >= 128000) return "llama3";
    return "llama2";
  }
  return std::nullopt;
}

}  // namespace quorum
