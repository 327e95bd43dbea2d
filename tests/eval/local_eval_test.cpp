// `quorum eval` with local models (`path:`): the truncation rule of shared/taskmodels/PROMPTS.md
// (hand-computed on a character counter, and on the real SQuAD/SAMSum items that do not fit
// qt-base's 448-token budget, checked against an independent re-tokenization), and a run of
// local models in both modes whose answers equal the LocalBackend's own and come from the cache
// on a second run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "backend/local_backend.h"
#include "eval/eval_config.h"
#include "eval/prompt.h"
#include "eval/runner.h"
#include "eval/runner_items.h"
#include "testing/shared_data.h"

namespace quorum::eval {
namespace {

using nlohmann::json;
using quorum::testing::shared_path;

TEST(FitPrompt, CutsWholeWordsFromTheEndOfTheField) {
  TaskSpec spec = *find_task("squad");
  Item item;
  item.fields = {{"context", "alpha beta\n gamma  delta"}, {"question", "why?"}, {"title", "t"}};
  item.prompt = *zero_shot_prompt(spec, item);
  // "Task: qa\nContext: " (18) + field (24) + "\nQuestion: why?\nAnswer:" (23) = 65 characters.
  ASSERT_EQ(item.prompt.size(), 65u);
  const TokenCounter chars = [](const std::string& p) -> Result<int64_t> {
    return static_cast<int64_t>(p.size());
  };
  auto same = fit_prompt(spec, item, 65, chars);
  ASSERT_TRUE(same.is_ok());
  EXPECT_EQ(same->words_cut, 0);
  EXPECT_EQ(same->prompt, item.prompt);
  // Budget 60: dropping "delta" (and the two spaces before it) leaves 58 characters.
  auto one = fit_prompt(spec, item, 60, chars);
  ASSERT_TRUE(one.is_ok());
  EXPECT_EQ(one->words_cut, 1);
  EXPECT_EQ(one->prompt, "Task: qa\nContext: alpha beta\n gamma\nQuestion: why?\nAnswer:");
  // Budget 51: "alpha beta" (51 characters) — the newline inside the kept text would stay.
  auto two = fit_prompt(spec, item, 51, chars);
  ASSERT_TRUE(two.is_ok());
  EXPECT_EQ(two->words_cut, 2);
  EXPECT_EQ(two->prompt, "Task: qa\nContext: alpha beta\nQuestion: why?\nAnswer:");
  // Tasks without a truncatable field are never cut.
  TaskSpec sst2 = *find_task("sst2");
  Item s;
  s.fields = {{"sentence", "a b c"}};
  s.prompt = *zero_shot_prompt(sst2, s);
  EXPECT_EQ(fit_prompt(sst2, s, 3, chars)->words_cut, 0);
}

// The words of `text` (maximal non-whitespace runs).
std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

TEST(FitPrompt, RealLongItemsFitQtBaseWithTheFewestWordsCut) {
  backend::LocalBackendOptions o;
  o.name = "qt-base";
  o.path = shared_path("taskmodels/qt-base.gguf");
  auto b = backend::LocalBackend::create(o);
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  const auto& tok = (*b)->tokenizer();
  const TokenCounter counter = [&](const std::string& p) { return (*b)->count_tokens(p); };
  const int64_t budget = 512 - 64;
  int long_items = 0;
  for (const std::string task : {"squad", "samsum"}) {
    const TaskSpec spec = *find_task(task);
    LoadOptions lo;
    lo.format = DatasetFormat::kTaskModelJsonl;
    auto ds = load_dataset(spec, shared_path("taskmodels/data/" + task + "_test.jsonl"), lo);
    ASSERT_TRUE(ds.is_ok()) << ds.status().to_string();
    for (const Item& item : ds->items) {
      if (static_cast<int64_t>(tok.encode(item.prompt, true, false).size()) <= budget) continue;
      if (++long_items > 12) break;  // a dozen per task keeps the test quick
      auto f = fit_prompt(spec, item, budget, counter);
      ASSERT_TRUE(f.is_ok());
      ASSERT_GT(f->words_cut, 0);
      // Independently: the field's first n - k words, each followed by its original separator.
      const std::string& field = item.fields.at(spec.truncatable_field);
      const auto words = words_of(field);
      auto cut_field = [&](int k) {
        size_t pos = 0;
        for (size_t w = 0; w + static_cast<size_t>(k) < words.size(); ++w) {
          pos = field.find(words[w], pos) + words[w].size();
        }
        Item copy = item;
        copy.fields[spec.truncatable_field] = field.substr(0, pos);
        return *zero_shot_prompt(spec, copy);
      };
      EXPECT_EQ(f->prompt, cut_field(f->words_cut)) << item.id;
      EXPECT_LE(tok.encode(f->prompt, true, false).size(), static_cast<size_t>(budget)) << item.id;
      EXPECT_GT(tok.encode(cut_field(f->words_cut - 1), true, false).size(), static_cast<size_t>(budget))
          << item.id << ": one word fewer would also fit";
    }
  }
  EXPECT_GT(long_items, 10);
}

// Local models through the runner: generated and label-scored answers are the backend's own,
// long SAMSum dialogues are cut (words_cut in the predictions), and a rerun is all cache hits.
TEST(LocalEval, LocalModelsAnswerThroughTheRunner) {
  const std::string dir = quorum::testing::temp_dir("localeval");
  const std::string text =
      "output: out\nmodels:\n"
      "  - {name: base, path: '" + shared_path("taskmodels/qt-base.gguf") + "'}\n"
      "  - {name: base_score, path: '" + shared_path("taskmodels/qt-base.gguf") + "', mode: score}\n"
      "  - {name: wide, path: '" + shared_path("taskmodels/qt-wide.gguf") + "'}\n"
      "tasks:\n"
      "  - {name: sst2, data: '" + shared_path("taskmodels/data/sst2_test.jsonl") + "', limit: 6}\n"
      "  - {name: samsum, data: '" + shared_path("taskmodels/data/samsum_test.jsonl") + "', limit: 12}\n"
      "strategies:\n  - vote\n";
  auto cfg = parse_eval_config(text, dir, "local.yaml");
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  RunOptions ro;
  ro.progress = false;
  ro.jobs = 2;
  Logger quiet(LogLevel::kSilent);
  auto r = run_evaluation(*cfg, ro, default_backend_factory(2), quiet);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE((*r)["problems"].empty()) << (*r)["problems"].dump();

  backend::LocalBackendOptions o;
  o.name = "check";
  o.path = shared_path("taskmodels/qt-base.gguf");
  auto b = backend::LocalBackend::create(o);
  ASSERT_TRUE(b.is_ok());
  std::ifstream preds(dir + "/out/predictions/sst2.jsonl");
  int checked = 0;
  LoadOptions lo;
  auto ds = load_dataset(*find_task("sst2"), shared_path("taskmodels/data/sst2_test.jsonl"), lo);
  ASSERT_TRUE(ds.is_ok());
  std::map<std::string, std::string> prompt_of;
  for (const Item& item : ds->items) prompt_of[item.id] = item.prompt;
  for (std::string line; std::getline(preds, line);) {
    const json row = json::parse(line);
    const std::string prompt = prompt_of.at(row["id"].get<std::string>());
    if (row["system"] == "base") {
      backend::CompletionRequest req;
      req.prompt = prompt;
      req.stop = {"\n"};
      auto c = (*b)->complete(req);
      ASSERT_TRUE(c.is_ok());
      EXPECT_EQ(row["raw"], c->text());
      ++checked;
    } else if (row["system"] == "base_score") {
      auto s = (*b)->score(prompt, {" negative", " positive"});
      ASSERT_TRUE(s.is_ok());
      EXPECT_EQ(row["prediction"], s->logprobs[0] > s->logprobs[1] ? "negative" : "positive");
      EXPECT_NEAR(row["label_logprobs"]["positive"].get<double>(), s->logprobs[1], 1e-6);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12);
  // SAMSum items 0-11 include dialogues longer than the budget: cut and recorded.
  std::ifstream spreds(dir + "/out/predictions/samsum.jsonl");
  int cut = 0;
  for (std::string line; std::getline(spreds, line);) {
    const json row = json::parse(line);
    if (row["type"] == "model") cut += row["words_cut"].get<int>() > 0 ? 1 : 0;
  }
  const json& samsum = (*r)["tasks"][1];
  int64_t truncated = 0;
  for (const json& s : samsum["systems"]) truncated += s.value("truncated_items", 0);
  EXPECT_GT(cut, 0);
  EXPECT_EQ(cut, truncated);

  auto again = run_evaluation(*cfg, ro, default_backend_factory(2), quiet);
  ASSERT_TRUE(again.is_ok());
  for (const json& t : (*again)["tasks"]) {
    for (const json& s : t["systems"]) {
      if (s["type"] == "model") {
        EXPECT_EQ(s["cache_hits"], t["n_items"]) << s["name"];
      }
    }
  }
}

}  // namespace
}  // namespace quorum::eval
