// Issue 5's acceptance for GPTQ: on the task models at 4 and 3 bits, `quantize_gguf --method
// gptq` (calibration: groups_merged.txt through the engine) gives a lower KL divergence from the
// unquantized model than RTN of the same file type, on wikitext-2 test (ctx 512). The quick
// test checks qt-base on 4 chunks; the slow binary (gptq_study_test, built from this file with
// QUORUM_GPTQ_STUDY) prints the docs/QUANT.md table (20 chunks).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "engine/calibrate.h"
#include "engine/perplexity.h"
#include "quant/quantize.h"
#include "testing/shared_data.h"
#include "tokenizer/tokenizer.h"

namespace quorum::quant {
namespace {

struct Measured {
  double kld = 0, kld_err = 0, same_top = 0, ppl = 0;
};

std::vector<int32_t> tokenize_file(const Model& model, const std::string& rel) {
  auto tok = tokenizer::Tokenizer::from_gguf(model.file());
  EXPECT_TRUE(tok.is_ok());
  if (!tok) return {};
  return (*tok)->encode(testing::read_file(testing::shared_path(rel)), true, false);
}

// Quantizes `model_rel` to `ftype` with `method` (and options), returns KL vs the original.
Measured measure(const std::string& model_rel, FileType ftype, const std::string& method,
                 bool act_order, int64_t n_chunks, const std::string& dir) {
  const std::string in = testing::shared_path(model_rel);
  auto base = Model::load(in);
  EXPECT_TRUE(base.is_ok()) << base.status().to_string();
  if (!base) return {};
  QuantizeOptions qo;
  qo.method = method;
  qo.ftype = ftype;
  qo.threads = 2;
  qo.gptq.act_order = act_order;
  if (method == "gptq") {
    CalibrationOptions co;
    co.n_ctx = 512;
    co.n_chunks = 16;  // 8192 tokens, the CLI's default
    auto calib = tokenize_file(**base, "data/calibration/groups_merged.txt");
    SessionOptions so;
    so.n_threads = 2;
    qo.calibrate = make_calibration_run(*base, std::move(calib), co, so);
  }
  const std::string out = dir + "/" + method + (act_order ? "_ao" : "") + ".gguf";
  auto rep = quantize_gguf(in, out, qo);
  EXPECT_TRUE(rep.is_ok()) << rep.status().to_string();
  if (!rep) return {};
  if (method == "gptq") {
    EXPECT_GT(rep->n_gptq, 0u);
  }
  auto test = Model::load(out);
  EXPECT_TRUE(test.is_ok()) << test.status().to_string();
  if (!test) return {};
  const std::vector<int32_t> wiki = tokenize_file(**base, "data/wikitext2_raw/wiki.test.raw");
  PerplexityOptions po;
  po.n_ctx = 512;
  po.n_chunks = n_chunks;
  SessionOptions so;
  so.n_threads = 2;
  auto kl = kl_divergence(*base, *test, wiki, po, so);
  EXPECT_TRUE(kl.is_ok()) << kl.status().to_string();
  if (!kl) return {};
  return {kl->mean_kld, kl->kld_err, kl->same_top, kl->test.ppl};
}

#ifndef QUORUM_GPTQ_STUDY
TEST(GptqKl, BeatsRtnOnQtBaseAt4And3Bits) {
  const std::string dir = testing::temp_dir("gptq_kl_quick");
  for (FileType ft : {FileType::kQ4_0, FileType::kQ3_K_M}) {
    const Measured rtn = measure("taskmodels/qt-base.gguf", ft, "rtn", false, 4, dir);
    const Measured gptq = measure("taskmodels/qt-base.gguf", ft, "gptq", false, 4, dir);
    std::printf("[gptq-kl] qt-base %d: KL rtn %.5f gptq %.5f\n", static_cast<int>(ft), rtn.kld,
                gptq.kld);
    EXPECT_LT(gptq.kld, rtn.kld);
  }
}

#else   // the slow binary gptq_study_test
struct StudyCase {
  const char* model;
  FileType ftype;
  const char* type_name;
};

class GptqKlStudy : public ::testing::TestWithParam<StudyCase> {};

TEST_P(GptqKlStudy, Table) {
  const StudyCase c = GetParam();
  const std::string dir = testing::temp_dir("gptq_kl_study");
  const std::string rel = std::string("taskmodels/") + c.model + ".gguf";
  const Measured rtn = measure(rel, c.ftype, "rtn", false, 20, dir);
  const Measured g = measure(rel, c.ftype, "gptq", false, 20, dir);
  const Measured ga = measure(rel, c.ftype, "gptq", true, 20, dir);
  std::printf("| %s | %s | %.5f ± %.5f | %.5f ± %.5f | %.5f ± %.5f | %.2f / %.2f / %.2f |\n",
              c.model, c.type_name, rtn.kld, rtn.kld_err, g.kld, g.kld_err, ga.kld, ga.kld_err,
              100 * rtn.same_top, 100 * g.same_top, 100 * ga.same_top);
  EXPECT_LT(g.kld, rtn.kld);
}

INSTANTIATE_TEST_SUITE_P(
    TaskModels, GptqKlStudy,
    ::testing::Values(StudyCase{"qt-base", FileType::kQ4_0, "Q4_0"},
                      StudyCase{"qt-base", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-base", FileType::kQ3_K_M, "Q3_K_M"},
                      StudyCase{"qt-sst2", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-sst2", FileType::kQ3_K_M, "Q3_K_M"},
                      StudyCase{"qt-emo", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-emo", FileType::kQ3_K_M, "Q3_K_M"},
                      StudyCase{"qt-wide", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-wide", FileType::kQ3_K_M, "Q3_K_M"},
                      StudyCase{"qt-qwen", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-qwen", FileType::kQ3_K_M, "Q3_K_M"}),
    [](const auto& info) {
      return std::string(info.param.model).replace(2, 1, "_") + "_" + info.param.type_name;
    });
#endif

}  // namespace
}  // namespace quorum::quant
