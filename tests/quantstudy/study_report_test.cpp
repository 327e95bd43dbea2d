// The quant-study reports from a hand-written results.json: every run row, significance marks
// that follow the direction of the metric, and a static, self-contained HTML page.
#include <gtest/gtest.h>

#include "quantstudy/study_report.h"

namespace quorum::quantstudy {
namespace {

using nlohmann::json;

json sample_results() {
  json run_rtn = {{"model", "m"}, {"method", "rtn"}, {"level", "Q4_0"}, {"status", "ok"},
                  {"file_bytes", 3000000}, {"bpw", 4.9}, {"quant_seconds", 0.5}, {"cached", true},
                  {"ppl", 101.0}, {"ppl_err", 2.0}, {"kld", 0.0104}, {"kld_err", 0.001},
                  {"same_top", 97.9}, {"same_top_err", 0.2}, {"tg_tps", 900.0}, {"pp_tps", 5000.0},
                  {"tasks", {{"sst2", 51.0}}}};
  json run_awq = run_rtn;
  run_awq["method"] = "awq";
  run_awq["kld"] = 0.0071;
  run_awq["cached"] = false;
  json run_bad = {{"model", "m"}, {"method", "gptq"}, {"level", "Q4_0"}, {"status", "error"},
                  {"error", "quantization method 'gptq' is not in this build\nmore"}};
  return {
      {"config", "s.yaml"}, {"wall_seconds", 12.0},
      {"perplexity", {{"data", "/x/wiki.test.raw"}, {"ctx", 512}, {"chunks", 20}}},
      {"speed", {{"pp", 128}, {"tg", 32}, {"reps", 3}}},
      {"methods", json::array({{{"name", "rtn"}, {"available", true}, {"reference", "ggml"}},
                               {{"name", "awq"}, {"available", true}, {"reference", "Lin et al."}},
                               {{"name", "gptq"}, {"available", false}, {"reference", ""}}})},
      {"levels", {"Q4_0"}},
      {"tasks", {"sst2"}},
      {"models", json::array({{{"name", "m"}, {"status", "ok"}, {"file_bytes", 20000000}, {"bpw", 32.0},
                               {"ppl", 100.0}, {"ppl_err", 2.0}, {"tg_tps", 300.0}}})},
      {"original_tasks", {{"m", {{"sst2", 51.3}}}}},
      {"runs", json::array({run_rtn, run_awq, run_bad})},
      {"kl_comparisons",
       json::array({{{"model", "m"}, {"level", "Q4_0"}, {"a", "awq"}, {"b", "rtn"}, {"kld_a", 0.0071},
                     {"kld_b", 0.0104}, {"delta", -0.0033}, {"ci_low", -0.004}, {"ci_high", -0.002},
                     {"p_value", 0.001}, {"significant", true}}})},
      {"task_comparisons",
       json::array({{{"model", "m"}, {"level", "Q4_0"}, {"task", "sst2"}, {"a", "awq"}, {"b", "rtn"},
                     {"main_a", 51.0}, {"main_b", 51.0}, {"delta", 0.0}, {"test", "McNemar (exact binomial)"},
                     {"p_value", 1.0}, {"significant", false}}})},
      {"ensembles", json::array()},
      {"problems", json::array({{{"part", "model m / gptq Q4_0"}, {"error", "not in this build"}}})},
  };
}

TEST(StudyReport, SignificanceMarkFollowsMetricDirection) {
  json c = {{"significant", true}, {"delta", -0.5}};
  EXPECT_EQ(significance_mark(c, /*lower_is_better=*/true), "✓");
  EXPECT_EQ(significance_mark(c, /*lower_is_better=*/false), "✗");
  c["delta"] = 0.5;
  EXPECT_EQ(significance_mark(c, true), "✗");
  EXPECT_EQ(significance_mark(c, false), "✓");
  c["significant"] = false;
  EXPECT_EQ(significance_mark(c, true), "·");
}

TEST(StudyReport, MarkdownHasEveryRunAndComparison) {
  const std::string md = study_report_markdown(sample_results());
  EXPECT_NE(md.find("| rtn | Q4_0 | 2.9 MiB | 4.90 | 500.0 ms (cached) | 101.00 | 0.01040 ± 0.00100 |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| awq | Q4_0 |"), std::string::npos);
  EXPECT_NE(md.find("| gptq | Q4_0 | error: quantization method 'gptq' is not in this build |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| m | Q4_0 | awq | rtn | 0.00710 | 0.01040 | -0.00330 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.001 | ✓ |"), std::string::npos) << md;
  EXPECT_NE(md.find("| McNemar (exact binomial) | 1 | · |"), std::string::npos) << md;
  EXPECT_NE(md.find("**no** (not in this build)"), std::string::npos);
  EXPECT_NE(md.find("sst2 51.30"), std::string::npos) << md;
}

TEST(StudyReport, HtmlIsSelfContained) {
  const std::string html = study_report_html(sample_results());
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("aria-label='KL divergence against bits per weight'"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("<span class='ok'>✓</span>"), std::string::npos);
  EXPECT_NE(html.find("Quorum quantization study"), std::string::npos);
}

}  // namespace
}  // namespace quorum::quantstudy
