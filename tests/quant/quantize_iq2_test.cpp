// IQ2_XXS / IQ2_XS files of qt-base with llama.cpp's imatrix, against llama-quantize's own
// (../shared/golden/quant/qt-base.IQ2_*.gguf, same imatrix): the mix must choose the same type
// for every tensor, the non-IQ2 tensors must be byte-identical (they use the bit-exact RTN
// quantizers), and the IQ2 blocks are byte-identical too (issue 5 only asks for IQ2 files within
// 10% of llama.cpp's KL divergence, see quantize_kl_test.cpp, but our quantizer follows ggml's
// algorithm and float operation order, so it reproduces every block).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>

#include "io/gguf.h"
#include "quant/quantize.h"
#include "testing/shared_data.h"

namespace quorum::quant {
namespace {

class QuantizeIq2Golden : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizeIq2Golden, SameMixAndMostlySameBlocks) {
  const std::string type = GetParam();
  const std::string in = testing::shared_path("taskmodels/qt-base.gguf");
  const std::string golden = testing::shared_path("golden/quant/qt-base." + type + ".gguf");
  const std::string out = testing::temp_dir("quantize_iq2") + "/qt-base." + type + ".gguf";
  QuantizeOptions opt;
  opt.ftype = *file_type_from_name(type);
  opt.imatrix_path = testing::shared_path("golden/quant/qt-base.imatrix");
  opt.threads = 2;
  auto rep = quantize_gguf(in, out, opt);
  ASSERT_TRUE(rep) << rep.status().to_string();
  auto ours = gguf::File::open(out);
  auto gold = gguf::File::open(golden);
  ASSERT_TRUE(ours && gold);
  ASSERT_EQ(ours->tensors().size(), gold->tensors().size());
  size_t blocks = 0, same_blocks = 0, n_iq2 = 0;
  for (size_t i = 0; i < gold->tensors().size(); ++i) {
    const auto& g = gold->tensors()[i];
    const auto& o = ours->tensors()[i];
    ASSERT_EQ(o.name, g.name);
    ASSERT_EQ(dtype_name(o.type), std::string(dtype_name(g.type))) << g.name;
    ASSERT_EQ(o.nbytes, g.nbytes) << g.name;
    if (g.type == DType::kIQ2_XXS || g.type == DType::kIQ2_XS) {
      ++n_iq2;
      const size_t bs = traits(g.type).type_size;
      for (size_t b = 0; b < g.nbytes / bs; ++b) {
        ++blocks;
        same_blocks += std::memcmp(o.data + b * bs, g.data + b * bs, bs) == 0 ? 1 : 0;
      }
    } else {
      EXPECT_EQ(std::memcmp(o.data, g.data, g.nbytes), 0) << g.name << " (" << dtype_name(g.type)
                                                          << ") differs from llama-quantize";
    }
  }
  EXPECT_GT(n_iq2, 0u);
  const double frac = static_cast<double>(same_blocks) / static_cast<double>(blocks);
  fmt::print("{}: {}/{} IQ2 blocks ({:.2f}%) identical to llama-quantize in {} tensors\n", type,
             same_blocks, blocks, 100.0 * frac, n_iq2);
  EXPECT_EQ(same_blocks, blocks) << "IQ2 blocks differing from llama-quantize";
  auto ft = ours->get_int("general.file_type");
  ASSERT_TRUE(ft);
  EXPECT_EQ(*ft, static_cast<int64_t>(opt.ftype));
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeIq2Golden, ::testing::Values("IQ2_XXS", "IQ2_XS"));

}  // namespace
}  // namespace quorum::quant
