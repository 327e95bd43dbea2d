// Issue 5's acceptance for GPTQ: on the task models at 4 and 3 bits, `quantize_gguf --method
// gptq` (calibration: groups_merged.txt through the engine) gives a lower KL divergence from the
// unquantized model than RTN of the same file type, on wikitext-2 test (ctx 512). Compared paired
// over the same scored tokens: mean Δ = KL(gptq) - KL(rtn) with a 95% bootstrap interval over
// chunks (tokens of one chunk are correlated). The quick test (gptq_kl_test) checks qt-qwen at
// Q4_K_M and Q3_K_M and qt-base at Q3_K_M on 20 chunks (the 95% interval must lie below 0); the study binary (gptq_study_test, built from this file with
// QUORUM_GPTQ_STUDY) prints the docs/QUANT.md table for every task model on 50 chunks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
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

constexpr int64_t kCtx = 512;

struct Measured {
  double kld = 0, kld_err = 0, same_top = 0;
  std::vector<float> token_kld;
};

std::vector<int32_t> tokenize_file(const Model& model, const std::string& rel) {
  auto tok = tokenizer::Tokenizer::from_gguf(model.file());
  EXPECT_TRUE(tok.is_ok());
  if (!tok) return {};
  return (*tok)->encode(testing::read_file(testing::shared_path(rel)), true, false);
}

// Quantizes `model_rel` to `ftype` with `method`, returns KL vs the original per scored token.
Measured measure(const std::string& model_rel, FileType ftype, const std::string& method,
                 int64_t n_chunks, const std::string& dir, const GptqOptions& gptq = {}) {
  const std::string in = testing::shared_path(model_rel);
  auto base = Model::load(in);
  EXPECT_TRUE(base.is_ok()) << base.status().to_string();
  if (!base) return {};
  QuantizeOptions qo;
  qo.method = method;
  qo.ftype = ftype;
  qo.threads = 2;
  qo.gptq = gptq;
  if (method == "gptq") {
    CalibrationOptions co;
    co.n_ctx = kCtx;
    co.n_chunks = 16;  // 8192 tokens, the CLI's default
    auto calib = tokenize_file(**base, "data/calibration/groups_merged.txt");
    SessionOptions so;
    so.n_threads = 2;
    qo.calibrate = make_calibration_run(*base, calib, co, so);
    qo.calibrate_with = make_calibration_run_with(*base, std::move(calib), co, so);
  }
  const std::string out = dir + "/" + method + ".gguf";
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
  po.n_ctx = kCtx;
  po.n_chunks = n_chunks;
  SessionOptions so;
  so.n_threads = 2;
  auto kl = kl_divergence(*base, *test, wiki, po, so);
  EXPECT_TRUE(kl.is_ok()) << kl.status().to_string();
  if (!kl) return {};
  return {kl->mean_kld, kl->kld_err, kl->same_top, std::move(kl->token_kld)};
}

// Paired difference mean(b - a) over the same tokens with a 95% percentile bootstrap interval
// that resamples whole chunks (2000 resamples, fixed seed).
struct Paired {
  double delta = 0, lo = 0, hi = 0;
};

Paired paired_delta(const std::vector<float>& a, const std::vector<float>& b, int64_t n_chunks) {
  Paired p;
  if (a.size() != b.size() || a.empty() || n_chunks <= 0) return p;
  const size_t per = a.size() / static_cast<size_t>(n_chunks);
  std::vector<double> chunk(static_cast<size_t>(n_chunks), 0.0);  // Σ (b - a) per chunk
  for (size_t i = 0; i < a.size(); ++i) {
    chunk[std::min(i / per, chunk.size() - 1)] += static_cast<double>(b[i]) - a[i];
  }
  double total = 0;
  for (double c : chunk) total += c;
  p.delta = total / static_cast<double>(a.size());
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<size_t> pick(0, chunk.size() - 1);
  std::vector<double> means(2000);
  for (double& m : means) {
    double s = 0;
    for (size_t c = 0; c < chunk.size(); ++c) s += chunk[pick(rng)];
    m = s / static_cast<double>(a.size());  // chunks hold the same number of scored tokens
  }
  std::sort(means.begin(), means.end());
  p.lo = means[50];
  p.hi = means[1949];
  return p;
}

// RTN and GPTQ of one model and file type on `n_chunks` chunks; prints one table row and
// checks that GPTQ's mean KL is lower than RTN's over the same tokens.
// Returns the paired difference GPTQ - RTN.
Paired compare(const char* model, FileType ftype, const char* type_name, int64_t n_chunks,
               const char* dir_name, const GptqOptions& gptq = {}) {
  const std::string dir = testing::temp_dir(dir_name);
  const std::string rel = std::string("taskmodels/") + model + ".gguf";
  const Measured rtn = measure(rel, ftype, "rtn", n_chunks, dir);
  const Measured g = measure(rel, ftype, "gptq", n_chunks, dir, gptq);
  EXPECT_EQ(rtn.token_kld.size(), g.token_kld.size());
  EXPECT_FALSE(rtn.token_kld.empty());
  if (rtn.token_kld.size() != g.token_kld.size() || rtn.token_kld.empty()) return {};
  const Paired d = paired_delta(rtn.token_kld, g.token_kld, n_chunks);
  std::printf("| %s | %s | %.5f ± %.5f | %.5f ± %.5f | %+.5f [%+.5f, %+.5f] | %.2f / %.2f |\n",
              model, type_name, rtn.kld, rtn.kld_err, g.kld, g.kld_err, d.delta, d.lo, d.hi,
              100 * rtn.same_top, 100 * g.same_top);
  std::fflush(stdout);
  EXPECT_LT(g.kld, rtn.kld) << model << " " << type_name;
  return d;
}

#ifndef QUORUM_GPTQ_STUDY
// qt-qwen (tied embeddings): the mixes store token_embd as Q6_K, and its error adds up with
// GPTQ's layer-0 q/k errors in the attention scores unless layer 0's attention weights are fitted
// to the quantized table's inputs (GptqOptions::embedding_compensation). Without it GPTQ's
// Q4_K_M KL was 2x RTN's; with it GPTQ is significantly lower (the 95% interval of the paired
// difference lies below 0) at Q4_K_M and Q3_K_M.
TEST(GptqKl, BeatsRtnOnQtQwenWithTheQuantizedEmbedding) {
  for (const auto& [ftype, name] : {std::pair{FileType::kQ4_K_M, "Q4_K_M"},
                                    std::pair{FileType::kQ3_K_M, "Q3_K_M"}}) {
    const Paired d = compare("qt-qwen", ftype, name, 20, "gptq_kl_qwen");
    EXPECT_LT(d.hi, 0.0) << "qt-qwen " << name << ": GPTQ not significantly below RTN";
  }
}

// qt-base (llama, untied) at Q3_K_M stores token_embd as Q3_K, whose RTN error is most of the
// file's KL; no Hessian of a linear layer sees it. GPTQ rounds the table for layer 0's readers
// (GptqOptions::embedding_rounding); without that step this row was GPTQ's worst (+16 %, n.s.),
// with it GPTQ is significantly below RTN.
TEST(GptqKl, BeatsRtnOnQtBaseQ3KMWithTheRoundedEmbedding) {
  const Paired d = compare("qt-base", FileType::kQ3_K_M, "Q3_K_M", 20, "gptq_kl_base");
  EXPECT_LT(d.hi, 0.0) << "qt-base Q3_K_M: GPTQ not significantly below RTN";
}

#else   // the study binary gptq_study_test
struct StudyCase {
  const char* model;
  FileType ftype;
  const char* type_name;
};

class GptqKlStudy : public ::testing::TestWithParam<StudyCase> {};

TEST_P(GptqKlStudy, Table) {
  const StudyCase c = GetParam();
  int64_t n_chunks = 50;
  if (const char* env = std::getenv("QUORUM_GPTQ_STUDY_CHUNKS")) n_chunks = std::atoll(env);
  compare(c.model, c.ftype, c.type_name, n_chunks, "gptq_kl_study");
}

INSTANTIATE_TEST_SUITE_P(
    TaskModels, GptqKlStudy,
    ::testing::Values(StudyCase{"qt-base", FileType::kQ4_0, "Q4_0"},
                      StudyCase{"qt-base", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-base", FileType::kQ3_K_M, "Q3_K_M"},
                      StudyCase{"qt-sst2", FileType::kQ4_0, "Q4_0"},
                      StudyCase{"qt-sst2", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-sst2", FileType::kQ3_K_M, "Q3_K_M"},
                      StudyCase{"qt-emo", FileType::kQ4_0, "Q4_0"},
                      StudyCase{"qt-emo", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-emo", FileType::kQ3_K_M, "Q3_K_M"},
                      StudyCase{"qt-wide", FileType::kQ4_0, "Q4_0"},
                      StudyCase{"qt-wide", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-wide", FileType::kQ3_K_M, "Q3_K_M"},
                      StudyCase{"qt-qwen", FileType::kQ4_0, "Q4_0"},
                      StudyCase{"qt-qwen", FileType::kQ4_K_M, "Q4_K_M"},
                      StudyCase{"qt-qwen", FileType::kQ3_K_M, "Q3_K_M"}),
    [](const auto& info) {
      return std::string(info.param.model).replace(2, 1, "_") + "_" + info.param.type_name;
    });
#endif

}  // namespace
}  // namespace quorum::quant
