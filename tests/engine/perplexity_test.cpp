// KL divergence against a precomputed base (KlBase, engine/perplexity.h) gives the same numbers
// bit for bit as evaluating both models chunk by chunk, and the base's perplexity is perplexity()'s;
// a base computed on other chunks is refused.
#include <gtest/gtest.h>

#include "engine/perplexity.h"
#include "model/model.h"
#include "testing/shared_data.h"
#include "tokenizer/tokenizer.h"

namespace quorum {
namespace {

TEST(KlBase, ReusedBaseMatchesTheTwoModelKlExactly) {
  // qt-base and its SST-2 fine-tune share tokenizer and vocabulary (taskmodels/README.md).
  auto base = Model::load(testing::shared_path("taskmodels/qt-base.gguf"));
  auto test = Model::load(testing::shared_path("taskmodels/qt-sst2.gguf"));
  ASSERT_TRUE(base && test);
  auto tok = tokenizer::Tokenizer::from_gguf((*base)->file());
  ASSERT_TRUE(tok) << tok.status().to_string();
  const std::string text = testing::read_file(testing::shared_path("data/wikitext2_raw/wiki.test.raw")).substr(0, 40000);
  const std::vector<int32_t> tokens = (*tok)->encode(text, (*tok)->add_bos(), false);
  PerplexityOptions po;
  po.n_ctx = 128;
  po.n_chunks = 3;
  po.add_bos = (*tok)->add_bos();
  po.bos_id = (*tok)->bos();
  SessionOptions so;
  so.n_threads = 1;

  auto kb = kl_base(*base, tokens, po, so);
  ASSERT_TRUE(kb) << kb.status().to_string();
  EXPECT_EQ(kb->n_chunks, 3);
  EXPECT_EQ(kb->logits.size(), KlBase::bytes(3, 128, kb->n_vocab) / sizeof(float));
  EXPECT_EQ(kb->logits.size(), 3u * 63u * 4096u);
  auto ppl = perplexity(*base, tokens, po, so);
  ASSERT_TRUE(ppl);
  EXPECT_EQ(kb->ppl.ppl, ppl->ppl);
  EXPECT_EQ(kb->ppl.ppl_err, ppl->ppl_err);
  EXPECT_EQ(kb->ppl.n_scored, ppl->n_scored);
  EXPECT_EQ(kb->ppl.chunk_ppl, ppl->chunk_ppl);

  auto two = kl_divergence(*base, *test, tokens, po, so);
  auto one = kl_divergence(*kb, *test, tokens, po, so);
  ASSERT_TRUE(two && one) << two.status().to_string() << one.status().to_string();
  EXPECT_GT(two->mean_kld, 0.0);  // different models: a real divergence
  EXPECT_EQ(one->mean_kld, two->mean_kld);
  EXPECT_EQ(one->kld_err, two->kld_err);
  EXPECT_EQ(one->max_kld, two->max_kld);
  EXPECT_EQ(one->same_top, two->same_top);
  EXPECT_EQ(one->rms_dp, two->rms_dp);
  EXPECT_EQ(one->min_dp, two->min_dp);
  EXPECT_EQ(one->ln_ppl_ratio, two->ln_ppl_ratio);
  EXPECT_EQ(one->base.ppl, two->base.ppl);
  EXPECT_EQ(one->test.ppl, two->test.ppl);
  EXPECT_EQ(one->test.chunk_ppl, two->test.chunk_ppl);
  EXPECT_EQ(one->token_kld, two->token_kld);
  EXPECT_EQ(one->token_kld.size(), 3u * 63u);
  // The base reused for a second test model, and against itself: KL 0, same top-1 everywhere.
  auto self = kl_divergence(*kb, *base, tokens, po, so);
  ASSERT_TRUE(self);
  EXPECT_NEAR(self->mean_kld, 0.0, 1e-9);
  EXPECT_EQ(self->same_top, 1.0);

  // Other chunks than the base's are an error naming both.
  PerplexityOptions other = po;
  other.n_chunks = 2;
  auto bad = kl_divergence(*kb, *test, tokens, other, so);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("3 chunks of 128"), std::string::npos) << bad.status().to_string();
  std::vector<int32_t> shifted(tokens.begin() + 1, tokens.end());
  bad = kl_divergence(*kb, *test, shifted, po, so);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("other tokens"), std::string::npos) << bad.status().to_string();
}

}  // namespace
}  // namespace quorum
