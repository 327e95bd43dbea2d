// quorum convert's library side: GGUF -> safetensors -> GGUF is lossless (names, types, shapes,
// bytes, metadata), F16 conversion rounds like ggml, llama2.c imports write loadable GGUF, and
// the input is never overwritten.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/fp16.h"
#include "io/convert.h"
#include "io/model_file.h"
#include "io/safetensors.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

namespace fs = std::filesystem;
using quorum::testing::shared_path;

void expect_same_tensors(const gguf::File& a, const gguf::File& b) {
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    const gguf::TensorInfo& t = a.tensors()[i];
    const gguf::TensorInfo& u = b.tensors()[i];
    EXPECT_EQ(t.name, u.name);
    EXPECT_EQ(t.type, u.type) << t.name;
    EXPECT_EQ(t.ne, u.ne) << t.name;
    ASSERT_EQ(t.nbytes, u.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(t.data, u.data, t.nbytes), 0) << t.name;
  }
}

void expect_same_metadata(const gguf::File& a, const gguf::File& b) {
  ASSERT_EQ(a.metadata().size(), b.metadata().size());
  for (size_t i = 0; i < a.metadata().size(); ++i) {
    EXPECT_EQ(a.metadata()[i].first, b.metadata()[i].first);
    EXPECT_EQ(a.metadata()[i].second.type, b.metadata()[i].second.type) << a.metadata()[i].first;
    EXPECT_EQ(a.metadata()[i].second.to_display_string(1 << 20),
              b.metadata()[i].second.to_display_string(1 << 20))
        << a.metadata()[i].first;
  }
}

TEST(Convert, GgufSafetensorsGgufRoundTripIsExact) {
  const std::string dir = quorum::testing::temp_dir("convert_rt");
  const std::string src = shared_path("models/stories260K/stories260K.gguf");
  const std::string hf_dir = dir + "/hf";
  const std::string back = dir + "/back.gguf";
  ASSERT_TRUE(convert_model(src, hf_dir, {}));
  ASSERT_TRUE(fs::exists(hf_dir + "/config.json"));
  ASSERT_TRUE(convert_model(hf_dir, back, {}));
  auto a = gguf::File::open(src);
  auto b = gguf::File::open(back);
  ASSERT_TRUE(a && b) << b.status().to_string();
  expect_same_tensors(*a, *b);
  expect_same_metadata(*a, *b);

  // The safetensors holds the HF layout: Q rows un-permuted, PyTorch shapes, HF names, and it
  // equals the independently derived stories260K-hf file tensor for tensor.
  auto mine = safetensors::File::open(hf_dir + "/model.safetensors");
  auto ref = safetensors::File::open(shared_path("models/derived/stories260K-hf/model.safetensors"));
  ASSERT_TRUE(mine && ref);
  for (const auto& t : ref->tensors()) {
    const safetensors::Tensor* m = mine->find(t.name);
    ASSERT_NE(m, nullptr) << t.name;
    EXPECT_EQ(m->shape, t.shape) << t.name;
    ASSERT_EQ(m->nbytes, t.nbytes);
    EXPECT_EQ(std::memcmp(m->data, t.data, t.nbytes), 0) << t.name;
  }
  EXPECT_NE(mine->find("lm_head.weight"), nullptr);  // the GGUF had an explicit output.weight
}

TEST(Convert, SingleSafetensorsFileAndF16) {
  const std::string dir = quorum::testing::temp_dir("convert_f16");
  const std::string src = shared_path("models/stories260K/stories260K.gguf");
  ConvertOptions o;
  o.type = DType::kF16;
  ASSERT_TRUE(convert_model(src, dir + "/m.safetensors", o));
  ASSERT_TRUE(fs::exists(dir + "/config.json"));
  auto back = open_model_file(dir + "/m.safetensors");
  ASSERT_TRUE(back) << back.status().to_string();
  auto a = gguf::File::open(src);
  ASSERT_TRUE(a);
  for (const auto& t : a->tensors()) {
    const gguf::TensorInfo* u = back->find_tensor(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    ASSERT_EQ(u->type, DType::kF16);
    const float* x = reinterpret_cast<const float*>(t.data);
    const f16_t* y = reinterpret_cast<const f16_t*>(u->data);
    for (int64_t i = 0; i < t.n_elements(); ++i) {
      ASSERT_EQ(y[i], f32_to_f16(x[i])) << t.name << "[" << i << "]";
    }
  }
  // GGUF output with --type f16 keeps 1-D norms in F32 (as llama.cpp does).
  ASSERT_TRUE(convert_model(src, dir + "/m16.gguf", o));
  auto g16 = gguf::File::open(dir + "/m16.gguf");
  ASSERT_TRUE(g16);
  EXPECT_EQ(g16->find_tensor("output_norm.weight")->type, DType::kF32);
  EXPECT_EQ(g16->find_tensor("blk.0.attn_q.weight")->type, DType::kF16);
  EXPECT_EQ(*g16->get_int("general.file_type"), 1);
}

TEST(Convert, Llama2cToGgufAndHf) {
  const std::string dir = quorum::testing::temp_dir("convert_l2c");
  ConvertOptions o;
  o.vocab_path = shared_path("models/babyllama/tok105.model");
  const std::string in = shared_path("models/babyllama/babyllama-v105-iter5000.bin");
  ASSERT_TRUE(convert_model(in, dir + "/b.gguf", o));
  auto direct = open_model_file(in, {o.vocab_path});
  auto g = gguf::File::open(dir + "/b.gguf");
  ASSERT_TRUE(direct && g) << g.status().to_string();
  expect_same_tensors(*direct, *g);
  expect_same_metadata(*direct, *g);
  ASSERT_TRUE(convert_model(in, dir + "/hf", o));
  auto h = open_model_file(dir + "/hf");
  ASSERT_TRUE(h) << h.status().to_string();
  expect_same_tensors(*direct, *h);
}

TEST(Convert, NeverOverwritesTheInput) {
  const std::string dir = quorum::testing::temp_dir("convert_same");
  const std::string src = shared_path("models/stories260K/stories260K.gguf");
  ASSERT_TRUE(convert_model(src, dir + "/a.gguf", {}));
  const auto before = fs::file_size(dir + "/a.gguf");
  Status s = convert_model(dir + "/a.gguf", dir + "/a.gguf", {});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("refusing"), std::string::npos) << s.to_string();
  EXPECT_EQ(fs::file_size(dir + "/a.gguf"), before);
  ASSERT_TRUE(convert_model(src, dir + "/hf", {}));
  s = convert_model(dir + "/hf", dir + "/hf", {});
  ASSERT_FALSE(s.is_ok());
  s = convert_model(dir + "/hf", dir + "/hf/other.safetensors", {});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("config.json"), std::string::npos) << s.to_string();
  ConvertOptions q;
  q.type = DType::kQ8_0;
  s = convert_model(src, dir + "/q.gguf", q);
  ASSERT_FALSE(s.is_ok());
}

}  // namespace
}  // namespace quorum
