// Acceptance (issue 4): each task model's scores from `quorum eval` (full test splits, the
// PROMPTS.md format, greedy) match the reference table of shared/taskmodels/README.md within ±1
// point — SST-2 accuracy, CARER accuracy and macro-F1, SQuAD EM (qt-base, qt-wide), SAMSum ROUGE-L,
// and the majority vote of qt-base, qt-wide and qt-qwen.
//
// The reference numbers are read from the README at run time (its table and its SQuAD/SAMSum
// sentence), so better-trained replacement models with an updated README need no change here.
// The full run takes tens of minutes: label slow. Set QUORUM_REFERENCE_CACHE to an answer-cache
// file (e.g. the study's results/study/answers.sqlite) to reuse answers computed before; answers
// are keyed by model-file hash and prompt, so a reused answer is the same model's answer.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <sstream>

#include "eval/eval_config.h"
#include "eval/runner.h"
#include "testing/shared_data.h"

namespace quorum::eval {
namespace {

using nlohmann::json;
using quorum::testing::shared_path;

struct Reference {
  std::map<std::string, std::map<std::string, double>> table;  // row -> column -> value
  std::map<std::string, double> squad_em;                       // model -> EM
  double samsum_rouge_l = -1;                                   // for qt-base and qt-wide
};

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string c;
  std::getline(ss, c, '|');  // before the first bar
  while (std::getline(ss, c, '|')) {
    const auto b = c.find_first_not_of(' ');
    const auto e = c.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? "" : c.substr(b, e - b + 1));
  }
  return out;
}

Reference read_reference() {
  Reference ref;
  const std::string text = quorum::testing::read_file(shared_path("taskmodels/README.md"));
  std::stringstream ss(text);
  std::vector<std::string> header;
  bool in_table = false;
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("| model | SST-2 acc", 0) == 0) {
      header = cells(line);
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.empty() || line[0] != '|') {
      in_table = false;
      continue;
    }
    const auto row = cells(line);
    if (row.size() < header.size() || row[0].rfind("---", 0) == 0) continue;
    for (size_t c = 1; c < header.size(); ++c) ref.table[row[0]][header[c]] = std::atof(row[c].c_str());
  }
  std::smatch m;
  if (std::regex_search(text, m, std::regex(R"(SQuAD EM[^:]*:\s*qt-base ([0-9.]+), qt-wide ([0-9.]+))"))) {
    ref.squad_em["qt-base"] = std::atof(m[1].str().c_str());
    ref.squad_em["qt-wide"] = std::atof(m[2].str().c_str());
  }
  if (std::regex_search(text, m, std::regex(R"(SAMSum ROUGE-L[^:]*\):\s*([0-9.]+) for both)"))) {
    ref.samsum_rouge_l = std::atof(m[1].str().c_str());
  }
  return ref;
}

const json* system_of(const json& results, const std::string& task, const std::string& name) {
  for (const json& t : results["tasks"]) {
    if (t["name"] != task) continue;
    for (const json& s : t["systems"]) {
      if (s["name"] == name && s["status"] == "ok") return &s;
    }
  }
  return nullptr;
}

TEST(ReferenceScores, TaskModelsMatchTheReadmeWithinOnePoint) {
  const Reference ref = read_reference();
  ASSERT_EQ(ref.table.size(), 6u) << "README table not found or changed shape";
  ASSERT_EQ(ref.squad_em.size(), 2u) << "README SQuAD sentence not found";
  ASSERT_GE(ref.samsum_rouge_l, 0.0) << "README SAMSum sentence not found";

  const std::string dir = quorum::testing::temp_dir("reference");
  const char* cache_env = std::getenv("QUORUM_REFERENCE_CACHE");
  const std::string cache = cache_env != nullptr ? cache_env : dir + "/answers.sqlite";
  std::string text = "output: out\ncache: '" + cache + "'\njobs: 2\nmodels:\n";
  for (const std::string m : {"qt-base", "qt-wide", "qt-qwen", "qt-sst2", "qt-emo"}) {
    text += "  - {name: " + m + ", path: '" + shared_path("taskmodels/" + m + ".gguf") + "'}\n";
  }
  text += "tasks:\n";
  for (const std::string t : {"sst2", "emotion", "squad", "samsum"}) {
    text += "  - {name: " + t + ", data: '" + shared_path("taskmodels/data/" + t + "_test.jsonl") + "'}\n";
  }
  auto cfg = parse_eval_config(text, dir, "reference.yaml");
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  RunOptions ro;
  ro.progress = false;
  Logger quiet(LogLevel::kSilent);
  auto r = run_evaluation(*cfg, ro, default_backend_factory(2), quiet);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_TRUE((*r)["problems"].empty()) << (*r)["problems"].dump();

  auto check = [&](const std::string& task, const std::string& system, const std::string& metric,
                   double expected) {
    const json* s = system_of(*r, task, system);
    ASSERT_NE(s, nullptr) << task << " / " << system;
    const double got = s->at("metrics").at(metric).get<double>();
    EXPECT_NEAR(got, expected, 1.0) << task << " / " << system << " " << metric;
    std::printf("%-8s %-10s %-12s quorum %6.2f  reference %6.2f\n", task.c_str(), system.c_str(),
                metric.c_str(), got, expected);
  };
  for (const std::string m : {"qt-base", "qt-wide", "qt-qwen", "qt-sst2", "qt-emo"}) {
    const auto& row = ref.table.at(m);
    check("sst2", m, "accuracy", row.at("SST-2 acc"));
    check("emotion", m, "accuracy", row.at("CARER acc"));
    check("emotion", m, "macro_f1", row.at("CARER macro-F1"));
  }
  for (const auto& [m, em] : ref.squad_em) check("squad", m, "exact_match", em);
  for (const std::string m : {"qt-base", "qt-wide"}) check("samsum", m, "rougeL", ref.samsum_rouge_l);

  // The majority vote of base, wide and qwen (their answers come from the cache now).
  std::string vote_text = text;
  vote_text.replace(vote_text.find("  - {name: qt-sst2"), std::string::npos, "");
  vote_text += "tasks:\n";
  for (const std::string t : {"sst2", "emotion"}) {
    vote_text += "  - {name: " + t + ", data: '" + shared_path("taskmodels/data/" + t + "_test.jsonl") + "'}\n";
  }
  vote_text += "strategies:\n  - vote\n";
  auto vcfg = parse_eval_config(vote_text, dir, "reference_vote.yaml");
  ASSERT_TRUE(vcfg.is_ok()) << vcfg.status().to_string();
  auto v = run_evaluation(*vcfg, ro, default_backend_factory(2), quiet);
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  r = std::move(v);
  const auto& row = ref.table.at("majority vote of base, wide, qwen");
  check("sst2", "vote", "accuracy", row.at("SST-2 acc"));
  check("emotion", "vote", "accuracy", row.at("CARER acc"));
  check("emotion", "vote", "macro_f1", row.at("CARER macro-F1"));
}

}  // namespace
}  // namespace quorum::eval
