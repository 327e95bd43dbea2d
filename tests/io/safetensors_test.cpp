// safetensors reader/writer: the shared HF file parses with the expected header, written files
// read back identically, and hostile files (every truncation, bad lengths, malformed JSON, bad
// dtypes/shapes/offsets, overlaps) return errors naming the problem.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "io/safetensors.h"
#include "testing/shared_data.h"

namespace quorum::safetensors {
namespace {

TEST(Safetensors, SharedFileParses) {
  auto f = File::open(quorum::testing::shared_path("models/derived/stories260K-hf/model.safetensors"));
  ASSERT_TRUE(f) << f.status().to_string();
  EXPECT_EQ(f->tensors().size(), 47u);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  const Tensor* t = f->find("model.layers.0.mlp.down_proj.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type, DType::kF32);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{64, 172}));
  EXPECT_EQ(t->nbytes, 64u * 172 * 4);
}

std::vector<uint8_t> small_file() {
  static const float a[6] = {1, 2, 3, 4, 5, 6};
  static const uint16_t b[4] = {0x3c00, 0x4000, 0x4200, 0x4400};
  std::vector<WriteTensor> ts = {{"a", DType::kF32, {2, 3}, a, sizeof(a)},
                                 {"b", DType::kBF16, {4}, b, sizeof(b)}};
  return *to_bytes(ts, {{"format", "pt"}});
}

TEST(Safetensors, WriteReadRoundTrip) {
  const auto bytes = small_file();
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u);  // header padded so data starts aligned
  auto f = File::parse(bytes.data(), bytes.size(), "mem");
  ASSERT_TRUE(f) << f.status().to_string();
  ASSERT_EQ(f->tensors().size(), 2u);
  EXPECT_EQ(f->tensors()[0].name, "a");
  EXPECT_EQ(f->tensors()[0].shape, (std::vector<int64_t>{2, 3}));
  float got[6];
  std::memcpy(got, f->tensors()[0].data, sizeof(got));
  EXPECT_EQ(got[5], 6.0f);
  EXPECT_EQ(f->tensors()[1].type, DType::kBF16);
  EXPECT_EQ(f->metadata().at("format"), "pt");

  const std::string path = quorum::testing::temp_dir("st") + "/x.safetensors";
  const float a[2] = {7, 8};
  ASSERT_TRUE(write_file(path, {{"w", DType::kF32, {2}, a, sizeof(a)}}, {}));
  auto g = File::open(path);
  ASSERT_TRUE(g) << g.status().to_string();
  EXPECT_EQ(g->tensors()[0].nbytes, 8u);
  const uint8_t q[2] = {0, 0};
  EXPECT_FALSE(to_bytes({{"q", DType::kQ8_0, {2}, q, 2}}, {}).is_ok());
}

Status parse_status(const std::vector<uint8_t>& b) {
  auto f = File::parse(b.data(), b.size(), "hostile.safetensors");
  return f.is_ok() ? Status::ok() : f.status();
}

std::vector<uint8_t> with_header(const std::string& json, size_t data_bytes, uint64_t len_override = 0) {
  std::vector<uint8_t> b(8 + json.size() + data_bytes, 0);
  const uint64_t n = len_override != 0 ? len_override : json.size();
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, json.data(), json.size());
  return b;
}

void expect_error(const std::vector<uint8_t>& b, const std::string& needle,
                  ErrorCode code = ErrorCode::kCorruptFile) {
  const Status st = parse_status(b);
  ASSERT_FALSE(st.is_ok()) << "expected '" << needle << "'";
  EXPECT_EQ(st.code(), code) << st.to_string();
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.to_string();
}

TEST(SafetensorsHostile, EveryTruncationIsAnError) {
  const auto full = small_file();
  for (size_t n = 0; n < full.size(); ++n) {
    const Status st = parse_status(std::vector<uint8_t>(full.begin(), full.begin() + static_cast<ptrdiff_t>(n)));
    ASSERT_FALSE(st.is_ok()) << n;
    const std::string& m = st.message();
    EXPECT_TRUE(m.find("too short") != std::string::npos || m.find("exceeds the file") != std::string::npos ||
                m.find("outside the file") != std::string::npos)
        << n << ": " << st.to_string();
  }
}

TEST(SafetensorsHostile, RandomFlipsNeverCrash) {
  const std::string text = quorum::testing::read_file(
      quorum::testing::shared_path("models/derived/stories260K-hf/model.safetensors"));
  std::mt19937_64 rng(99);
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> m(text.begin(), text.begin() + 8 + 4856);
    for (int k = 0; k < 3; ++k) m[rng() % m.size()] = static_cast<uint8_t>(rng());
    m.resize(text.size());
    (void)parse_status(m);
  }
}

TEST(SafetensorsHostile, EachRuleNamesItsProblem) {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_TRUE(parse_status(with_header(ok, 8)).is_ok());
  expect_error(std::vector<uint8_t>(5, 0), "too short");
  expect_error(with_header(ok, 8, 1ull << 40), "header length exceeds the file");
  expect_error(with_header(ok, 8, ~0ull), "header length exceeds the file");
  expect_error(with_header(R"({"a":{"dtype":"F32",)", 8), "not valid JSON");
  expect_error(with_header("[1,2]", 0), "not a JSON object");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "lacks dtype, shape or data_offsets");
  expect_error(with_header(R"({"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", 8), "unknown safetensors dtype 'Q9'");
  expect_error(with_header(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8),
               "unsupported safetensors dtype 'I64'", ErrorCode::kUnsupported);
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "negative");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
               "shape overflows");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "not ordered");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8), "not a pair");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", 8), "outside the file");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551615,18446744073709551615]}})", 8),
               "not ordered");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 16), "does not match its shape");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 16),
               "overlaps");
  expect_error(with_header(R"({"__metadata__":{"k":1}})", 0), "__metadata__ value is not a string");
  expect_error(with_header(R"({"__metadata__":[1]})", 0), "__metadata__ is not an object");
  expect_error(with_header(R"({"a":5})", 0), "not an object");
}

}  // namespace
}  // namespace quorum::safetensors
