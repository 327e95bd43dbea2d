// Chat templates: the 19 real templates (17 from llama.cpp's models/templates, plus those in the
// llama3-hf and qwen3-hf tokenizer_config.json) render every conversation of
// data/chat/manifest.json byte for byte as Jinja2 does (expected files made by
// data/chat/generate.py with python3-jinja2, configured like HF transformers); where Jinja2
// raised, the C++ engine must fail too. Also: loading from GGUF / tokenizer_config.json, and the
// built-in family templates against hand-derived renderings.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/gguf.h"
#include "testing/shared_data.h"
#include "tokenizer/chat_template.h"

namespace quorum {
namespace {

using jinja::Json;
using quorum::testing::shared_path;

std::string data_dir() { return std::string(QUORUM_CHAT_TEST_DATA); }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const Json& manifest() {
  static const Json m = Json::parse(slurp(data_dir() + "/manifest.json"));
  return m;
}

Result<ChatTemplate> load_template(const Json& source) {
  if (source.contains("file")) return ChatTemplate::parse(slurp(shared_path(source["file"].get<std::string>())));
  return ChatTemplate::from_hf_config_file(shared_path(source["hf_config"].get<std::string>()));
}

// First line where two texts differ, for readable failures.
std::string first_difference(const std::string& a, const std::string& b) {
  size_t k = 0;
  while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
  const size_t from = k > 60 ? k - 60 : 0;
  return "at byte " + std::to_string(k) + ":\n  expected: ..." + b.substr(from, 120) + "\n  actual:   ..." +
         a.substr(from, 120);
}

class RealTemplate : public ::testing::TestWithParam<std::string> {};

TEST_P(RealTemplate, RendersLikeJinja2) {
  const Json& m = manifest();
  int n_cases = 0;
  for (const auto& c : m["cases"]) {
    if (c["template"] != GetParam()) continue;
    ++n_cases;
    SCOPED_TRACE("case " + c["case"].get<std::string>());
    auto tmpl = load_template(c["source"]);
    ASSERT_TRUE(tmpl) << tmpl.status().to_string();
    ChatRenderOptions o;
    o.bos_token = m["bos_token"].get<std::string>();
    o.eos_token = m["eos_token"].get<std::string>();
    o.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    if (!c["tools"].is_null()) o.tools = c["tools"];
    o.extra = c["extra"];
    o.now = static_cast<std::time_t>(m["now_unix"].get<int64_t>());
    auto out = tmpl->render(c["messages"], o);
    if (c.contains("expected")) {
      ASSERT_TRUE(out) << out.status().to_string();
      const std::string expected = slurp(data_dir() + "/" + c["expected"].get<std::string>());
      EXPECT_EQ(*out, expected) << first_difference(*out, expected);
    } else {
      ASSERT_FALSE(out) << "Jinja2 raised '" << c["error"].get<std::string>() << "' but we rendered:\n" << *out;
      if (c["raised"].get<bool>()) {  // raise_exception: the template's own message must reach the user
        const std::string py = c["error"].get<std::string>();
        const std::string msg = py.substr(py.find(": ") + 2);
        EXPECT_NE(out.status().message().find(msg), std::string::npos) << out.status().to_string();
      }
    }
  }
  EXPECT_GE(n_cases, 8);
}

INSTANTIATE_TEST_SUITE_P(
    Jinja2Golden, RealTemplate,
    ::testing::Values("CohereForAI-c4ai-command-r-plus-tool_use", "CohereForAI-c4ai-command-r7b-12-2024-tool_use",
                      "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", "NousResearch-Hermes-3-Llama-3.1-8B-tool_use",
                      "Qwen-Qwen2.5-7B-Instruct", "deepseek-ai-DeepSeek-R1-Distill-Llama-8B",
                      "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", "fireworks-ai-llama-3-firefunction-v2",
                      "google-gemma-2-2b-it", "llama-cpp-deepseek-r1", "meetkai-functionary-medium-v3.1",
                      "meetkai-functionary-medium-v3.2", "meta-llama-Llama-3.1-8B-Instruct",
                      "meta-llama-Llama-3.2-3B-Instruct", "meta-llama-Llama-3.3-70B-Instruct",
                      "microsoft-Phi-3.5-mini-instruct", "mistralai-Mistral-Nemo-Instruct-2407", "llama3-hf",
                      "qwen3-hf"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name;
      for (char c : info.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

TEST(ChatTemplate, ManifestCoversEverySharedTemplate) {
  int n_jinja = 0;
  for (const auto& e : std::filesystem::directory_iterator(shared_path("models/chat-templates-llamacpp"))) {
    n_jinja += e.path().extension() == ".jinja";
  }
  EXPECT_EQ(n_jinja, 17);
  std::set<std::string> ids;
  for (const auto& c : manifest()["cases"]) ids.insert(c["template"].get<std::string>());
  EXPECT_EQ(ids.size(), 19u);
}

gguf::File gguf_with(const std::vector<std::pair<std::string, gguf::Value>>& kv) {
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::str("llama"));
  for (const auto& [k, v] : kv) w.set(k, v);
  auto raw = w.to_bytes();
  EXPECT_TRUE(raw) << raw.status().to_string();
  auto bytes = std::make_shared<std::vector<uint8_t>>(std::move(raw).value());
  auto f = gguf::File::parse(bytes->data(), bytes->size(), "test.gguf", bytes);
  EXPECT_TRUE(f) << f.status().to_string();
  return std::move(f).value();
}

TEST(ChatTemplate, FromGgufReadsTheTemplateKey) {
  const std::string src = slurp(shared_path("models/chat-templates-llamacpp/Qwen-Qwen2.5-7B-Instruct.jinja"));
  auto f = gguf_with({{"tokenizer.chat_template", gguf::Value::str(src)},
                      {"tokenizer.chat_template.tool_use", gguf::Value::str("TOOLS{{ messages|length }}")}});
  auto t = ChatTemplate::from_gguf(f);
  ASSERT_TRUE(t) << t.status().to_string();
  EXPECT_EQ(t->source(), src);
  ChatRenderOptions o;
  auto out = t->render(Json::parse(R"([{"role":"user","content":"Hi"}])"), o);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out,
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  auto named = ChatTemplate::from_gguf(f, "tool_use");
  ASSERT_TRUE(named);
  EXPECT_EQ(*named->render(Json::parse(R"([{"role":"user","content":"Hi"}])"), o), "TOOLS1");
}

TEST(ChatTemplate, FromGgufWithoutTemplateIsNotFound) {
  auto f = gguf_with({});
  auto t = ChatTemplate::from_gguf(f);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(t.status().message().find("tokenizer.chat_template"), std::string::npos);
  EXPECT_NE(t.status().message().find("llama2"), std::string::npos) << t.status().message();  // the hint
}

TEST(ChatTemplate, FromGgufBadTemplateNamesKeyAndLine) {
  auto f = gguf_with({{"tokenizer.chat_template", gguf::Value::str("ok\n{% if x %}never closed")}});
  auto t = ChatTemplate::from_gguf(f);
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find("tokenizer.chat_template"), std::string::npos);
  EXPECT_NE(t.status().message().find("endif"), std::string::npos) << t.status().message();
}

TEST(ChatTemplate, FromHfConfigStringAndNamedList) {
  auto one = ChatTemplate::from_hf_config(R"({"chat_template": "A{{ bos_token }}"})");
  ASSERT_TRUE(one);
  ChatRenderOptions o;
  o.bos_token = "<s>";
  EXPECT_EQ(*one->render(Json::array(), o), "A<s>");
  const std::string list = R"({"chat_template": [{"name": "default", "template": "D"},
                                                  {"name": "tool_use", "template": "T{{ tools|length }}"}]})";
  auto def = ChatTemplate::from_hf_config(list);
  ASSERT_TRUE(def);
  EXPECT_EQ(*def->render(Json::array(), o), "D");
  auto tool = ChatTemplate::from_hf_config(list, "tool_use");
  ASSERT_TRUE(tool);
  o.tools = Json::parse(R"([{"type":"function"},{"type":"function"}])");
  EXPECT_EQ(*tool->render(Json::array(), o), "T2");
  auto missing = ChatTemplate::from_hf_config(list, "rag");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("tool_use"), std::string::npos);
  EXPECT_FALSE(ChatTemplate::from_hf_config("{not json"));
  EXPECT_EQ(ChatTemplate::from_hf_config(R"({"bos_token": "<s>"})").status().code(), ErrorCode::kNotFound);
}

TEST(ChatTemplate, RenderRejectsNonArrayMessages) {
  auto t = ChatTemplate::parse("{{ messages }}");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->render(Json::object(), ChatRenderOptions{}));
}

TEST(ChatTemplate, PlainJsonOverloadRenders) {
  auto t = ChatTemplate::parse("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}");
  ASSERT_TRUE(t);
  nlohmann::json msgs = nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}});
  EXPECT_EQ(*t->render(msgs, ChatRenderOptions{}), "user:hi;");
}

// ---- built-in family templates, against renderings derived by hand from each documented format.

const char* kConversation = R"([
  {"role": "system", "content": "Be brief."},
  {"role": "user", "content": "Hi"},
  {"role": "assistant", "content": "Hello!"},
  {"role": "user", "content": "Bye"}])";

std::string render_builtin(const std::string& family, const char* messages, bool add_generation_prompt,
                           const std::string& bos, const std::string& eos) {
  auto t = ChatTemplate::builtin(family);
  EXPECT_TRUE(t) << t.status().to_string();
  if (!t) return "";
  ChatRenderOptions o;
  o.add_generation_prompt = add_generation_prompt;
  o.bos_token = bos;
  o.eos_token = eos;
  auto out = t->render(Json::parse(messages), o);
  EXPECT_TRUE(out) << out.status().to_string();
  return out ? *out : "";
}

TEST(ChatTemplateBuiltin, Llama2) {
  EXPECT_EQ(render_builtin("llama2", kConversation, true, "<s>", "</s>"),
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]");
}

TEST(ChatTemplateBuiltin, Llama3) {
  EXPECT_EQ(render_builtin("llama3", kConversation, true, "<|begin_of_text|>", "<|eot_id|>"),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplateBuiltin, Mistral) {
  EXPECT_EQ(render_builtin("mistral", kConversation, true, "<s>", "</s>"),
            "<s>[INST] Be brief.\n\nHi [/INST] Hello!</s>[INST] Bye [/INST]");
}

TEST(ChatTemplateBuiltin, Zephyr) {
  EXPECT_EQ(render_builtin("zephyr", kConversation, true, "<s>", "</s>"),
            "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n<|user|>\nBye</s>\n<|assistant|>\n");
}

TEST(ChatTemplateBuiltin, Phi3) {
  EXPECT_EQ(render_builtin("phi3", kConversation, false, "<s>", "<|endoftext|>"),
            "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nBye<|end|>\n");
}

TEST(ChatTemplateBuiltin, ChatML) {
  EXPECT_EQ(render_builtin("chatml", kConversation, true, "", "<|im_end|>"),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateBuiltin, Gemma) {
  EXPECT_EQ(render_builtin("gemma", kConversation, true, "<bos>", "<eos>"),
            "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
            "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplateBuiltin, UnknownFamilyAndBadRoles) {
  auto t = ChatTemplate::builtin("vicuna");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ChatTemplate::builtin_families().size(), 7u);
  auto llama2 = ChatTemplate::builtin("llama2");
  ASSERT_TRUE(llama2);
  auto bad = llama2->render(Json::parse(R"([{"role":"robot","content":"x"}])"), ChatRenderOptions{});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("unsupported role robot"), std::string::npos);
}

TEST(ChatTemplateBuiltin, GuessFamilyFromGguf) {
  EXPECT_EQ(ChatTemplate::guess_family(gguf_with({})), "llama2");
  std::vector<std::string> big(128256, "t");
  EXPECT_EQ(ChatTemplate::guess_family(gguf_with({{"tokenizer.ggml.tokens", gguf::Value::string_array(big)}})), "llama3");
  EXPECT_EQ(ChatTemplate::guess_family(gguf_with({{"general.architecture", gguf::Value::str("gemma2")}})), "gemma");
  EXPECT_EQ(ChatTemplate::guess_family(gguf_with({{"general.architecture", gguf::Value::str("qwen2")}})), "chatml");
  EXPECT_EQ(ChatTemplate::guess_family(gguf_with({{"general.architecture", gguf::Value::str("phi3")}})), "phi3");
  EXPECT_EQ(ChatTemplate::guess_family(gguf_with({{"general.name", gguf::Value::str("Mistral-7B-Instruct")}})), "mistral");
  EXPECT_EQ(ChatTemplate::guess_family(gguf_with({{"general.architecture", gguf::Value::str("bert")}})), std::nullopt);
}

TEST(ChatTemplateBuiltin, SharedLlama2GgufHasNoTemplateAndGuessesLlama2) {
  auto f = gguf::File::open(shared_path("models/llama-2-tiny-random/llama-2-tiny-random.gguf"));
  ASSERT_TRUE(f) << f.status().to_string();
  ASSERT_FALSE(f->has("tokenizer.chat_template"));
  EXPECT_EQ(ChatTemplate::from_gguf(*f).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ChatTemplate::guess_family(*f), "llama2");
}

}  // namespace
}  // namespace quorum
