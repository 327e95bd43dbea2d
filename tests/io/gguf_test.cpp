// GGUF reader/writer: every shared model file parses; written files read back identically;
// damaged files give clear errors.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "io/gguf.h"
#include "testing/shared_data.h"

namespace quorum::gguf {
namespace {

using quorum::testing::shared_path;

std::vector<std::string> all_shared_ggufs() {
  std::vector<std::string> out;
  for (const char* dir : {"models", "taskmodels", "golden/quant"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(shared_path(dir))) {
      if (e.path().extension() == ".gguf") out.push_back(e.path().string());
    }
  }
  return out;
}

TEST(Gguf, EverySharedFileParses) {
  const auto files = all_shared_ggufs();
  ASSERT_GE(files.size(), 30u);
  for (const auto& p : files) {
    auto f = File::open(p);
    ASSERT_TRUE(f.is_ok()) << p << ": " << f.status().to_string();
    EXPECT_TRUE(f->has("general.architecture")) << p;
  }
}

TEST(Gguf, Stories260KHasExpectedShape) {
  auto f = File::open(shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(f) << f.status().to_string();
  EXPECT_EQ(*f->get_string("general.architecture"), "llama");
  EXPECT_EQ(*f->get_int("llama.embedding_length"), 64);
  EXPECT_EQ(*f->get_int("llama.block_count"), 5);
  const TensorInfo* emb = f->find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->type, DType::kF32);
  EXPECT_EQ(emb->ne, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(f->get_string_array("tokenizer.ggml.tokens")->size(), 512u);
}

TEST(Gguf, WriterRoundTripsMetadataAndTensors) {
  auto src = File::open(shared_path("taskmodels/qt-qwen.gguf"));
  ASSERT_TRUE(src) << src.status().to_string();
  Writer w;
  w.copy_metadata(*src);
  for (const auto& t : src->tensors()) {
    ASSERT_TRUE(w.add_tensor_view(t.name, t.type, t.ne, t.data, t.nbytes));
  }
  auto written = w.to_bytes();
  ASSERT_TRUE(written) << written.status().to_string();
  const std::vector<uint8_t>& bytes = *written;
  auto back = File::parse(bytes.data(), bytes.size(), "mem");
  ASSERT_TRUE(back) << back.status().to_string();
  ASSERT_EQ(back->metadata().size(), src->metadata().size());
  for (size_t i = 0; i < src->metadata().size(); ++i) {
    const auto& [k, v] = src->metadata()[i];
    EXPECT_EQ(back->metadata()[i].first, k);
    EXPECT_EQ(back->metadata()[i].second.to_display_string(1 << 20), v.to_display_string(1 << 20));
  }
  ASSERT_EQ(back->tensors().size(), src->tensors().size());
  for (const auto& t : src->tensors()) {
    const TensorInfo* b = back->find_tensor(t.name);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->type, t.type);
    EXPECT_EQ(b->ne, t.ne);
    ASSERT_EQ(b->nbytes, t.nbytes);
    EXPECT_EQ(std::memcmp(b->data, t.data, t.nbytes), 0) << t.name;
  }
  // The source was written by llama.cpp's gguf-py: identical bytes means the same layout.
  const auto orig = quorum::testing::read_file(shared_path("taskmodels/qt-qwen.gguf"));
  EXPECT_EQ(orig.size(), bytes.size());
  EXPECT_TRUE(std::memcmp(orig.data(), bytes.data(), std::min(orig.size(), bytes.size())) == 0);
}

TEST(Gguf, LazyTensorsStreamToDiskAndErrorsLeaveNoFile) {
  const std::string dir = quorum::testing::temp_dir("gguf");
  Writer w;
  w.set("general.architecture", Value::str("llama"));
  ASSERT_TRUE(w.add_tensor_lazy("a", DType::kF32, {4, 3}, [](uint8_t* out, size_t n) {
    for (size_t i = 0; i < n / 4; ++i) reinterpret_cast<float*>(out)[i] = static_cast<float>(i);
    return Status::ok();
  }));
  ASSERT_TRUE(w.write(dir + "/m.gguf"));
  auto f = File::open(dir + "/m.gguf");
  ASSERT_TRUE(f) << f.status().to_string();
  const TensorInfo* a = f->find_tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<const float*>(a->data)[11], 11.0f);

  Writer bad;
  ASSERT_TRUE(bad.add_tensor_lazy("b", DType::kF32, {4}, [](uint8_t*, size_t) -> Status {
    return Error(ErrorCode::kInvalidArgument, "no data for you");
  }));
  Status s = bad.write(dir + "/bad.gguf");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("tensor 'b': no data for you"), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.gguf"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.gguf.tmp"));
}

TEST(Gguf, WriterRejectsShapeAndSizeMismatches) {
  Writer w;
  std::vector<uint8_t> bytes(18 * 2);
  EXPECT_EQ(w.add_tensor("q", DType::kQ4_0, {48}, bytes).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.add_tensor("q", DType::kQ4_0, {32}, bytes).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(w.add_tensor("q", DType::kQ4_0, {64}, bytes).is_ok());
  EXPECT_EQ(w.add_tensor("q", DType::kQ4_0, {64}, bytes).code(), ErrorCode::kInvalidArgument);
}

TEST(Gguf, VocabOnlyFilesWithoutPaddingParse) {
  auto f = File::open(shared_path("models/vocab-llamacpp/ggml-vocab-gpt-2.gguf"));
  ASSERT_TRUE(f) << f.status().to_string();
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_GT(f->get_string_array("tokenizer.ggml.tokens")->size(), 50000u);
}

}  // namespace
}  // namespace quorum::gguf
