// The quant study end to end on qt-base: RTN at Q8_0 and Q4_0 against llama.cpp's KL-divergence
// figures for the same files (golden/perplexity.md, 20 chunks of 512; here the first 2 chunks),
// bits per weight of the mixes, the file cache on a re-run, a method this build lacks reported
// as a problem, and the reports.
#include <gtest/gtest.h>

#include <filesystem>

#include "quantstudy/study.h"
#include "run_study.h"
#include "quantstudy/study_report.h"
#include "testing/shared_data.h"

namespace quorum::quantstudy {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const json* find_run(const json& r, const std::string& method, const std::string& level) {
  for (const json& run : r["runs"]) {
    if (run["method"] == method && run["level"] == level) return &run;
  }
  return nullptr;
}

TEST(QuantStudy, RtnOnQtBaseMatchesLlamaCppAndCachesFiles) {
  const std::string out = testing::temp_dir("quantstudy");
  const std::string text = "models: [{name: qt-base, path: " + testing::shared_path("taskmodels/qt-base.gguf") +
                           "}]\nmethods: [rtn, no-such-method]\nlevels: [Q8_0, Q4_0]\n"
                           "perplexity: {data: " + testing::shared_path("data/wikitext2_raw/wiki.test.raw") +
                           ", ctx: 512, chunks: 2}\nspeed: off\nthreads: 2\n";
  auto cfg = parse_study_config(text, out, "t.yaml");
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  auto r = run_study(*cfg, out);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();

  const json* q8 = find_run(*r, "rtn", "Q8_0");
  const json* q4 = find_run(*r, "rtn", "Q4_0");
  ASSERT_TRUE(q8 && q4);
  ASSERT_EQ((*q8)["status"], "ok") << q8->dump();
  ASSERT_EQ((*q4)["status"], "ok") << q4->dump();
  // Q8_0 blocks hold 32 weights in 34 bytes (8.5 bits); norms stay F32 (a few hundred weights).
  EXPECT_GT((*q8)["bpw"].get<double>(), 8.5);
  EXPECT_LT((*q8)["bpw"].get<double>(), 8.6);
  // Q4_0 is 4.5 bits, with output.weight bumped to Q6_K (6.5625 bits) by the mix.
  EXPECT_GT((*q4)["bpw"].get<double>(), 4.5);
  EXPECT_LT((*q4)["bpw"].get<double>(), 6.0);
  // llama.cpp over 20 chunks: Q8_0 KLD 0.000120 ± 0.000026, same top 99.57 %; Q4_0 KLD
  // 0.010431 ± 0.001856, same top 97.88 %. Two chunks are a noisier sample of the same texts.
  EXPECT_GT((*q8)["kld"].get<double>(), 0.00003);
  EXPECT_LT((*q8)["kld"].get<double>(), 0.0005);
  EXPECT_GT((*q4)["kld"].get<double>(), 0.003);
  EXPECT_LT((*q4)["kld"].get<double>(), 0.03);
  EXPECT_GT((*q8)["same_top"].get<double>(), 98.0);
  EXPECT_GT((*q4)["same_top"].get<double>(), 94.0);
  EXPECT_EQ((*q8)["n_scored"].get<int64_t>(), 2 * 255);
  EXPECT_FALSE((*q8)["cached"].get<bool>());
  // The original's perplexity over the same 2 chunks is that of the file itself.
  ASSERT_EQ((*r)["models"].size(), 1u);
  EXPECT_GT((*r)["models"][0]["ppl"].get<double>(), 1000.0);  // llama.cpp: 3649 over 20 chunks

  const json* missing = find_run(*r, "no-such-method", "Q8_0");
  ASSERT_TRUE(missing);
  EXPECT_EQ((*missing)["status"], "error");
  EXPECT_NE((*missing)["error"].get<std::string>().find("not in this build"), std::string::npos);
  EXPECT_EQ((*r)["problems"].size(), 2u);  // no-such-method at both levels
  // compared: (no-such-method, rtn) has no measured runs, so no comparison rows.
  EXPECT_TRUE((*r)["kl_comparisons"].empty());

  const std::string file = (*q4)["file"];
  ASSERT_TRUE(fs::exists(file));
  const auto mtime = fs::last_write_time(file);
  auto again = run_study(*cfg, out);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  const json* q4b = find_run(*again, "rtn", "Q4_0");
  ASSERT_TRUE(q4b);
  EXPECT_TRUE((*q4b)["cached"].get<bool>());
  EXPECT_EQ(fs::last_write_time(file), mtime);
  EXPECT_DOUBLE_EQ((*q4b)["kld"].get<double>(), (*q4)["kld"].get<double>());

  ASSERT_TRUE(write_study_reports(*again, out).is_ok());
  EXPECT_TRUE(fs::exists(fs::path(out) / "report.md"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "report.html"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "results.json"));
}

TEST(QuantStudy, MissingPerplexityTextIsAClearError) {
  const std::string out = testing::temp_dir("quantstudy-bad");
  auto cfg = parse_study_config("models: [{name: m, path: m.gguf}]\nmethods: [rtn]\nlevels: [Q8_0]\n"
                                "perplexity: {data: missing.raw}\n", out, "t.yaml");
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  auto r = run_study(*cfg, out);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("missing.raw"), std::string::npos) << r.status().to_string();
}

}  // namespace
}  // namespace quorum::quantstudy
