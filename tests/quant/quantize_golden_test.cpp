// Acceptance test: `quantize_gguf(qt-base.gguf, TYPE)` reproduces llama-quantize's golden files
// (../shared/golden/quant/qt-base.<TYPE>.gguf, llama.cpp c392e50, no imatrix): for every tensor
// the same name, position, type, shape and bytes, and the same general.file_type and
// general.quantization_version.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>

#include "io/gguf.h"
#include "quant/imatrix.h"
#include "quant/quantize.h"
#include "testing/shared_data.h"

namespace quorum::quant {
namespace {

class QuantizeGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizeGolden, SameTypesShapesAndBytes) {
  const std::string type = GetParam();
  const std::string in = testing::shared_path("taskmodels/qt-base.gguf");
  const std::string golden = testing::shared_path("golden/quant/qt-base." + type + ".gguf");
  const std::string out = testing::temp_dir("quantize_golden") + "/qt-base." + type + ".gguf";
  QuantizeOptions opt;
  const auto ft = file_type_from_name(type);
  ASSERT_TRUE(ft.has_value());
  opt.ftype = *ft;
  opt.threads = 2;
  auto rep = quantize_gguf(in, out, opt);
  ASSERT_TRUE(rep) << rep.status().to_string();
  auto ours = gguf::File::open(out);
  ASSERT_TRUE(ours) << ours.status().to_string();
  auto gold = gguf::File::open(golden);
  ASSERT_TRUE(gold) << gold.status().to_string();
  ASSERT_EQ(ours->tensors().size(), gold->tensors().size());
  int n_same = 0;
  for (size_t i = 0; i < gold->tensors().size(); ++i) {
    const auto& g = gold->tensors()[i];
    const auto& o = ours->tensors()[i];
    EXPECT_EQ(o.name, g.name) << "tensor " << i;
    EXPECT_EQ(dtype_name(o.type), std::string(dtype_name(g.type))) << g.name;
    EXPECT_EQ(o.ne, g.ne) << g.name;
    if (o.type != g.type || o.nbytes != g.nbytes) continue;
    size_t diff = 0;
    while (diff < g.nbytes && o.data[diff] == g.data[diff]) ++diff;
    const size_t bs = traits(g.type).type_size;
    EXPECT_EQ(diff, g.nbytes) << g.name << ": first differing block " << diff / bs;
    if (diff == g.nbytes) ++n_same;
  }
  for (const char* key : {"general.file_type", "general.quantization_version"}) {
    auto a = ours->get_int(key), b = gold->get_int(key);
    ASSERT_TRUE(a && b) << key;
    EXPECT_EQ(*a, *b) << key;
  }
  // Same metadata keys in the same order (values of the copied keys come from the input).
  ASSERT_EQ(ours->metadata().size(), gold->metadata().size());
  for (size_t i = 0; i < gold->metadata().size(); ++i) {
    EXPECT_EQ(ours->metadata()[i].first, gold->metadata()[i].first) << "key " << i;
  }
  fmt::print("{}: {}/{} tensors identical to llama-quantize\n", type, n_same,
             gold->tensors().size());
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeGolden,
                         ::testing::Values("Q2_K", "Q3_K_M", "Q4_0", "Q4_1", "Q4_K_M", "Q5_0",
                                           "Q5_1", "Q5_K_M", "Q6_K", "Q8_0", "IQ4_NL"));

// The imatrix path: importance-weighted tensors differ from the golden (no-imatrix) bytes, the
// tensors without an entry (token_embd, output) do not, and the imatrix metadata is written.
TEST(QuantizeImatrix, WeightsTheTensorsItCovers) {
  const std::string in = testing::shared_path("taskmodels/qt-base.gguf");
  const std::string imatrix = testing::shared_path("golden/quant/qt-base.imatrix");
  const std::string out = testing::temp_dir("quantize_imatrix") + "/q4km.gguf";
  QuantizeOptions opt;
  opt.ftype = FileType::kQ4_K_M;
  opt.imatrix_path = imatrix;
  auto rep = quantize_gguf(in, out, opt);
  ASSERT_TRUE(rep) << rep.status().to_string();
  EXPECT_EQ(rep->n_with_imatrix, 28u);
  auto ours = gguf::File::open(out);
  auto gold = gguf::File::open(testing::shared_path("golden/quant/qt-base.Q4_K_M.gguf"));
  ASSERT_TRUE(ours && gold);
  for (const auto& g : gold->tensors()) {
    const auto* o = ours->find_tensor(g.name);
    ASSERT_NE(o, nullptr);
    ASSERT_EQ(o->type, g.type) << g.name;  // qt-base's mix does not depend on the imatrix
    const bool same = std::memcmp(o->data, g.data, g.nbytes) == 0;
    const bool covered = g.name.rfind("blk.", 0) == 0 && traits(g.type).quantized;
    EXPECT_EQ(same, !covered) << g.name;
  }
  EXPECT_EQ(ours->get_int("quantize.imatrix.entries_count").value_or(-1), 28);
  EXPECT_EQ(ours->get_int("quantize.imatrix.chunks_count").value_or(-1), 40);
}

TEST(Imatrix, TruncatedAndHostileFilesAreErrors) {
  const std::string path = testing::shared_path("golden/quant/qt-base.imatrix");
  const std::string bytes = testing::read_file(path);
  auto ok = parse_imatrix(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
  ASSERT_TRUE(ok) << ok.status().to_string();
  EXPECT_EQ(ok->entries.size(), 28u);
  EXPECT_EQ(ok->last_call, 40);
  ASSERT_NE(ok->find("blk.0.ffn_down.weight"), nullptr);
  EXPECT_EQ(ok->find("blk.0.ffn_down.weight")->values.size(), 768u);
  for (size_t cut : {size_t(2), size_t(9), bytes.size() / 2}) {
    auto r = parse_imatrix(reinterpret_cast<const uint8_t*>(bytes.data()), cut, "cut");
    EXPECT_FALSE(r) << cut;
  }
  std::string hostile = bytes;
  const int32_t huge = 0x7fffffff;
  std::memcpy(hostile.data(), &huge, 4);
  auto r = parse_imatrix(reinterpret_cast<const uint8_t*>(hostile.data()), hostile.size(), "h");
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("entry count"), std::string::npos);
}

TEST(Quantize, RefusesToOverwriteItsInput) {
  const std::string in = testing::shared_path("taskmodels/qt-base.gguf");
  QuantizeOptions opt;
  opt.ftype = FileType::kQ8_0;
  auto r = quantize_gguf(in, in, opt);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("input"), std::string::npos);
}

}  // namespace
}  // namespace quorum::quant
