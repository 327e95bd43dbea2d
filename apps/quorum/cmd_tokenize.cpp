// `quorum tokenize -m MODEL [-p TEXT | stdin] [--ids] [--no-bos] [--parse-special]`: shows how
// a model's tokenizer splits a text. MODEL is a GGUF file, or a Hugging Face tokenizer folder /
// tokenizer.json (byte-level BPE). Default output is one `id 'piece'` line per token.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>

#include "commands.h"
#include "tokenizer/tokenizer.h"

namespace quorum::cli {

RunFn setup_tokenize(CLI::App& sub) {
  struct Opts {
    std::string model;
    std::string prompt;
    bool has_prompt = false;
    bool ids = false;
    bool no_bos = false;
    bool parse_special = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("-m,--model", o->model, "GGUF model, or a Hugging Face tokenizer folder/json")
      ->required();
  sub.add_option("-p,--prompt", o->prompt, "Text to tokenize (default: read stdin)");
  sub.add_flag("--ids", o->ids, "Print only the ids, space-separated");
  sub.add_flag("--no-bos", o->no_bos, "Do not add the BOS/EOS tokens the model asks for");
  sub.add_flag("--parse-special", o->parse_special,
               "Recognise special tokens written in the text (e.g. <|im_start|>)");
  CLI::App* app = &sub;
  return [o, app]() -> int {
    using tokenizer::Tokenizer;
    std::shared_ptr<const Tokenizer> tok;
    std::error_code ec;
    const bool is_hf = std::filesystem::is_directory(o->model, ec) ||
                       (o->model.size() >= 5 && o->model.compare(o->model.size() - 5, 5, ".json") == 0);
    if (is_hf) {
      auto v = tokenizer::Vocab::from_hf(o->model);
      if (!v) return report_error(v.status());
      auto t = Tokenizer::create(std::move(*v));
      if (!t) return report_error(t.status());
      tok = *t;
    } else {
      auto t = Tokenizer::from_gguf_path(o->model);
      if (!t) return report_error(t.status());
      tok = *t;
    }
    std::string text = o->prompt;
    if (app->count("--prompt") == 0) {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    const std::vector<int32_t> ids = tok->encode(text, !o->no_bos, o->parse_special);
    if (o->ids) {
      std::string line;
      for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
      fmt::print("{}\n", line);
    } else {
      for (int32_t id : ids) fmt::print("{} '{}'\n", id, tok->token_to_piece(id, true));
    }
    return 0;
  };
}

}  // namespace quorum::cli
