// Bad input to `quantize_gguf`: a type the tensor shapes cannot hold, IQ2 without an imatrix,
// an imatrix of another model (wrong sizes, or names that match nothing). Each must be a clear
// error naming the problem, with no output file written and the input file unchanged.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "quant/quantize.h"
#include "testing/shared_data.h"

namespace quorum::quant {
namespace {

namespace fs = std::filesystem;

// Copies a shared model into a scratch folder so the test can check it is left untouched.
struct Scratch {
  std::string dir, in, out, original;
  explicit Scratch(const std::string& tag, const std::string& model) {
    dir = testing::temp_dir(tag);
    in = dir + "/in.gguf";
    out = dir + "/out.gguf";
    fs::copy_file(testing::shared_path(model), in);
    original = testing::read_file(in);
  }
  void expect_untouched() const {
    EXPECT_FALSE(fs::exists(out)) << "an output file was written despite the error";
    EXPECT_EQ(testing::read_file(in), original) << "the input file changed";
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      EXPECT_TRUE(name == "in.gguf" || name.rfind("imatrix", 0) == 0) << "left behind: " << name;
    }
  }
};

// Writes a llama.cpp imatrix file: {name, ncall, values} entries, no trailer.
void write_imatrix(const std::string& path,
                   const std::vector<std::pair<std::string, std::vector<float>>>& entries) {
  std::ofstream f(path, std::ios::binary);
  auto put_i32 = [&](int32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  put_i32(static_cast<int32_t>(entries.size()));
  for (const auto& [name, values] : entries) {
    put_i32(static_cast<int32_t>(name.size()));
    f.write(name.data(), static_cast<std::streamsize>(name.size()));
    put_i32(1);
    put_i32(static_cast<int32_t>(values.size()));
    f.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(float)));
  }
}

// stories260K's ffn_down rows hold 172 weights: not a multiple of any block, and legacy types
// have no fallback.
TEST(QuantizeBadInput, TypeTheShapeCannotHold) {
  Scratch s("bad_shape", "models/stories260K/stories260K.gguf");
  QuantizeOptions opt;
  opt.ftype = FileType::kQ4_0;
  auto r = quantize_gguf(s.in, s.out, opt);
  ASSERT_FALSE(r);
  const std::string msg = r.status().to_string();
  EXPECT_NE(msg.find("172"), std::string::npos) << msg;
  EXPECT_NE(msg.find("q4_0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ffn_down"), std::string::npos) << msg;
  s.expect_untouched();
}

TEST(QuantizeBadInput, Iq2WithoutImatrix) {
  Scratch s("no_imatrix", "taskmodels/qt-base.gguf");
  for (FileType ft : {FileType::kIQ2_XXS, FileType::kIQ2_XS}) {
    QuantizeOptions opt;
    opt.ftype = ft;
    auto r = quantize_gguf(s.in, s.out, opt);
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().to_string().find("importance matrix"), std::string::npos)
        << r.status().to_string();
  }
  // An IQ2 override inside another mix needs one too.
  QuantizeOptions opt;
  opt.ftype = FileType::kQ4_K_M;
  opt.tensor_types = {"attn_q=iq2_xs"};
  auto r = quantize_gguf(s.in, s.out, opt);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().to_string().find("importance matrix"), std::string::npos);
  s.expect_untouched();
}

// qt-base's imatrix on qt-wide (dim 512 instead of 256): same tensor names, wrong sizes.
TEST(QuantizeBadInput, ImatrixOfAnotherModelWrongSizes) {
  Scratch s("imatrix_sizes", "taskmodels/qt-wide.gguf");
  QuantizeOptions opt;
  opt.ftype = FileType::kQ4_K_M;
  opt.imatrix_path = testing::shared_path("golden/quant/qt-base.imatrix");
  auto r = quantize_gguf(s.in, s.out, opt);
  ASSERT_FALSE(r);
  const std::string msg = r.status().to_string();
  EXPECT_NE(msg.find("wrong size"), std::string::npos) << msg;
  EXPECT_NE(msg.find("different model"), std::string::npos) << msg;
  s.expect_untouched();
}

// An imatrix whose names match no tensor: an error for every type (silently quantizing without
// it would hide the mistake), and for IQ2 the first tensor that needs an entry is named.
TEST(QuantizeBadInput, ImatrixOfAnotherModelNoMatchingNames) {
  Scratch s("imatrix_names", "taskmodels/qt-base.gguf");
  const std::string imatrix = s.dir + "/imatrix.dat";
  write_imatrix(imatrix, {{"model.layers.0.mlp.down_proj.weight", std::vector<float>(768, 1.f)},
                          {"model.layers.0.self_attn.q_proj.weight", std::vector<float>(256, 1.f)}});
  QuantizeOptions opt;
  opt.ftype = FileType::kQ4_K_M;
  opt.imatrix_path = imatrix;
  auto r = quantize_gguf(s.in, s.out, opt);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().to_string().find("matches no tensor"), std::string::npos)
      << r.status().to_string();
  opt.ftype = FileType::kIQ2_XXS;
  r = quantize_gguf(s.in, s.out, opt);
  ASSERT_FALSE(r);
  const std::string msg = r.status().to_string();
  EXPECT_NE(msg.find("no importance matrix entry"), std::string::npos) << msg;
  EXPECT_NE(msg.find("blk.0."), std::string::npos) << msg;
  s.expect_untouched();
}

}  // namespace
}  // namespace quorum::quant
