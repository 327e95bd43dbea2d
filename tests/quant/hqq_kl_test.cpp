// Issue 5's acceptance for HQQ: on the task models at 4 and 3 bits, `quantize_gguf --method hqq`
// (no calibration) gives a lower KL divergence from the unquantized model than RTN of the same
// file type, on wikitext-2 test (ctx 512), paired over the same tokens (bootstrap of the
// per-token KL).
//
// hqq_kl_test (label slow, ~2 min): over 20 chunks, qt-qwen at Q4_1, Q4_K_M, Q3_K_M and Q2_K — the
// model where the min-max-only HQQ lost to RTN (docs/QUANT.md) — HQQ's KL is significantly below
// RTN's; qt-base at Q4_K_M and Q3_K_M it is not significantly above.
// hqq_study_test (QUORUM_HQQ_STUDY, label study): the table of docs/QUANT.md; QUORUM_HQQ_CHUNKS
// (default 40), QUORUM_HQQ_MODELS and QUORUM_HQQ_TYPES (comma lists) narrow it, and
// QUORUM_HQQ_VARIANTS="name:param=value,param=value;name2:..." replaces the default HQQ variant
// by others (parameters as `quorum quantize --method hqq --param`).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "engine/perplexity.h"
#include "eval/metrics.h"
#include "quant/quantize.h"
#include "testing/shared_data.h"
#include "tokenizer/tokenizer.h"

namespace quorum::quant {
namespace {

struct Variant {
  std::string name;    // "rtn", "hqq", ...
  std::string method;  // "rtn" or "hqq"
  std::vector<std::string> params;
};

// One task model with its tokenized evaluation text and the base model's logits.
struct Bench {
  std::string path;
  std::shared_ptr<const Model> base;
  std::vector<int32_t> wiki;
  PerplexityOptions po;
  std::unique_ptr<KlBase> kb;

  static std::unique_ptr<Bench> load(const std::string& name, int64_t chunks) {
    auto b = std::make_unique<Bench>();
    b->path = testing::shared_path("taskmodels/" + name + ".gguf");
    auto m = Model::load(b->path);
    EXPECT_TRUE(m) << m.status().to_string();
    if (!m) return nullptr;
    b->base = *m;
    auto tok = tokenizer::Tokenizer::from_gguf(b->base->file());
    EXPECT_TRUE(tok);
    if (!tok) return nullptr;
    // ~4 bytes per token: 6 per token is plenty for the chunks asked for.
    const std::string wiki = testing::read_file(testing::shared_path("data/wikitext2_raw/wiki.test.raw"));
    b->wiki = (*tok)->encode(wiki.substr(0, static_cast<size_t>(chunks * 512 * 6 + 4096)), true, false);
    b->po.n_ctx = 512;
    b->po.n_chunks = chunks;
    b->po.add_bos = (*tok)->add_bos();
    b->po.bos_id = (*tok)->bos();
    return b;
  }

  SessionOptions session() const {
    SessionOptions so;
    so.n_threads = 2;
    return so;
  }

  Result<QuantizeReport> quantize(const Variant& v, FileType ft, const std::string& out) const {
    QuantizeOptions qo;
    qo.method = v.method;
    qo.method_params = v.params;
    qo.ftype = ft;
    qo.threads = 2;
    return quantize_gguf(path, out, qo);
  }

  Result<KlResult> kl(const std::string& file) {
    if (!kb) {
      QUORUM_ASSIGN_OR_RETURN(KlBase k, kl_base(base, wiki, po, session()));
      kb = std::make_unique<KlBase>(std::move(k));
    }
    QUORUM_ASSIGN_OR_RETURN(std::shared_ptr<const Model> q, Model::load(file));
    return kl_divergence(*kb, q, wiki, po, session());
  }

  // Per-token KL of `v` at `ft` (quantized into dir).
  std::vector<double> token_kl(const Variant& v, FileType ft, const std::string& dir, double* mean,
                               double* err) {
    const std::string out = dir + "/" + v.name + "-" + file_type_info(ft).name + ".gguf";
    auto rep = quantize(v, ft, out);
    EXPECT_TRUE(rep) << rep.status().to_string();
    if (!rep) return {};
    auto r = kl(out);
    EXPECT_TRUE(r) << r.status().to_string();
    if (!r) return {};
    *mean = r->mean_kld;
    *err = r->kld_err;
    return std::vector<double>(r->token_kld.begin(), r->token_kld.end());
  }
};

Variant rtn() { return {"rtn", "rtn", {}}; }
Variant hqq() { return {"hqq", "hqq", {}}; }

const char* type_name(FileType t) { return file_type_info(t).name; }

// ---- acceptance (slow) --------------------------------------------------------------------------

struct KlCase {
  const char* model;
  FileType type;
  bool significant;  // assert HQQ significantly below RTN; else only: not significantly above
};

class HqqKl : public ::testing::TestWithParam<KlCase> {};

TEST_P(HqqKl, BelowRtnPaired) {
  const KlCase c = GetParam();
  auto b = Bench::load(c.model, 20);
  ASSERT_TRUE(b);
  const std::string dir = testing::temp_dir("hqq_kl");
  double m[2], e[2];
  const std::vector<double> r = b->token_kl(rtn(), c.type, dir, &m[0], &e[0]);
  const std::vector<double> h = b->token_kl(hqq(), c.type, dir, &m[1], &e[1]);
  ASSERT_FALSE(r.empty());
  ASSERT_EQ(r.size(), h.size());
  auto bs = eval::paired_bootstrap(h, r, 1000, 1);
  ASSERT_TRUE(bs);
  std::printf("%s %s: KLD rtn %.6f ± %.6f, hqq %.6f ± %.6f, paired delta %+.6f [%+.6f, %+.6f] p=%.3f\n",
              c.model, type_name(c.type), m[0], e[0], m[1], e[1], bs->delta, bs->ci_low, bs->ci_high,
              bs->p_value);
  if (c.significant) {
    EXPECT_LT(bs->ci_high, 0.0) << "HQQ not significantly below RTN";
  } else {
    EXPECT_LE(bs->ci_low, 0.0) << "HQQ significantly above RTN";
  }
}

// qt-qwen: where the min-max-only HQQ lost to RTN (docs/QUANT.md); now significantly below at
// 4, 3 and 2 bits. qt-base (F32 llama): HQQ's 4- and 3-bit gains there are within the noise of
// 20 chunks (and of 40, docs/QUANT.md), so only "never significantly worse" is asserted.
INSTANTIATE_TEST_SUITE_P(TaskModels, HqqKl,
                         ::testing::Values(KlCase{"qt-qwen", FileType::kQ4_1, true},
                                           KlCase{"qt-qwen", FileType::kQ4_K_M, true},
                                           KlCase{"qt-qwen", FileType::kQ3_K_M, true},
                                           KlCase{"qt-qwen", FileType::kQ2_K, true},
                                           KlCase{"qt-base", FileType::kQ4_K_M, false},
                                           KlCase{"qt-base", FileType::kQ3_K_M, false}),
                         [](const auto& info) {
                           std::string m = info.param.model;
                           for (char& ch : m) if (ch == '-') ch = '_';
                           return m + "_" + type_name(info.param.type);
                         });

#ifdef QUORUM_HQQ_STUDY
// ---- the table of docs/QUANT.md (study) ----------------------------------------------------

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string a; std::getline(ss, a, sep);) {
    if (!a.empty()) out.push_back(a);
  }
  return out;
}

TEST(HqqStudy, TaskModelsAtFourAndThreeBits) {
  const char* env_chunks = std::getenv("QUORUM_HQQ_CHUNKS");
  const int64_t chunks = env_chunks ? std::atoll(env_chunks) : 40;
  std::vector<std::string> models = {"qt-base", "qt-qwen", "qt-wide", "qt-sst2", "qt-emo"};
  if (const char* env = std::getenv("QUORUM_HQQ_MODELS")) models = split(env, ',');
  std::vector<FileType> types = {FileType::kQ4_1, FileType::kQ5_1, FileType::kQ4_K_M, FileType::kQ3_K_M};
  if (const char* env = std::getenv("QUORUM_HQQ_TYPES")) {
    types.clear();
    for (const std::string& t : split(env, ',')) {
      auto f = file_type_from_name(t);
      ASSERT_TRUE(f) << t;
      types.push_back(*f);
    }
  }
  std::vector<Variant> variants = {rtn(), hqq()};
  if (const char* env = std::getenv("QUORUM_HQQ_VARIANTS")) {
    variants = {rtn()};
    for (const std::string& v : split(env, ';')) {
      const size_t colon = v.find(':');
      Variant h = hqq();
      h.name = v.substr(0, colon);
      if (colon != std::string::npos) h.params = split(v.substr(colon + 1), ',');
      variants.push_back(h);
    }
  }
  const std::string dir = testing::temp_dir("hqq_study");
  std::string table = "| model | type | variant | mean KLD ± s.e. | Δ vs RTN (paired) | 95% CI | p |\n"
                      "|---|---|---|---:|---:|---|---:|\n";
  for (const std::string& name : models) {
    auto b = Bench::load(name, chunks);
    ASSERT_TRUE(b);
    for (FileType ft : types) {
      std::vector<double> ref;
      for (const Variant& v : variants) {
        double mean = 0, err = 0;
        const std::vector<double> tk = b->token_kl(v, ft, dir, &mean, &err);
        ASSERT_FALSE(tk.empty());
        std::string line = fmt::format("| {} | {} | {} | {:.6f} ± {:.6f} |", name, type_name(ft), v.name, mean, err);
        if (v.method == "rtn") {
          ref = tk;
          line += " | | |";
        } else {
          auto bs = eval::paired_bootstrap(tk, ref, 1000, 1);
          ASSERT_TRUE(bs);
          line += fmt::format(" {:+.6f} ({:+.1f}%) | [{:+.6f}, {:+.6f}] | {:.3f} |", bs->delta,
                              100.0 * bs->delta / std::max(1e-12, mean - bs->delta), bs->ci_low, bs->ci_high,
                              bs->p_value);
        }
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        table += line + "\n";
      }
    }
  }
  std::printf("\n%lld chunks of 512 (second half scored)\n%s\n", static_cast<long long>(chunks), table.c_str());
}
#endif

}  // namespace
}  // namespace quorum::quant
