// Hostile GGUF files: every truncation of a small real-layout file, and one hand-made header
// per validation rule (bad magic, version, counts, lengths, types, dims, offsets, alignment).
// Each must return an error whose message names the problem; none may crash (run under the
// asan preset too).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "io/gguf.h"
#include "testing/shared_data.h"

namespace quorum::gguf {
namespace {

// Builds GGUF headers byte by byte so each field can be made hostile.
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s, uint64_t len_override = UINT64_MAX) {
    put<uint64_t>(len_override == UINT64_MAX ? s.size() : len_override);
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& pad(size_t align) {
    b.resize((b.size() + align - 1) / align * align, 0);
    return *this;
  }
};

// A valid file: 1 key (u32) and one F32 tensor "t" of ne = {4, 2} at offset 0.
struct Spec {
  uint32_t magic = kMagic, version = 3;
  uint64_t n_tensors = 1, n_kv = 1;
  uint64_t key_len = UINT64_MAX;
  uint32_t value_type = 4;
  uint32_t n_dims = 2;
  std::vector<uint64_t> ne = {4, 2};
  uint32_t type = 0;
  uint64_t offset = 0;
  size_t data_bytes = 32;
};

std::vector<uint8_t> build(const Spec& s) {
  Bytes x;
  x.put(s.magic).put(s.version).put(s.n_tensors).put(s.n_kv);
  x.str("llama.block_count", s.key_len).put(s.value_type).put<uint32_t>(5);
  x.str("t").put(s.n_dims);
  for (uint64_t d : s.ne) x.put(d);
  x.put(s.type).put(s.offset);
  x.pad(kDefaultAlignment);
  x.b.resize(x.b.size() + s.data_bytes, 0x11);
  return x.b;
}

Status parse_status(const std::vector<uint8_t>& b) {
  auto f = File::parse(b.data(), b.size(), "hostile.gguf");
  return f.is_ok() ? Status::ok() : f.status();
}

void expect_error(const Spec& s, const std::string& needle) {
  const Status st = parse_status(build(s));
  ASSERT_FALSE(st.is_ok()) << "expected an error containing '" << needle << "'";
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.to_string();
}

TEST(GgufHostile, BaselineParses) {
  auto b = build(Spec{});
  auto f = File::parse(b.data(), b.size(), "ok.gguf");
  ASSERT_TRUE(f) << f.status().to_string();
  EXPECT_EQ(f->find_tensor("t")->nbytes, 32u);
}

TEST(GgufHostile, EveryTruncationIsAnError) {
  // Every prefix of the file (inside the magic, version, counts, key, value, tensor info, the
  // padding and the data) must fail with a message naming the problem.
  const auto full = build(Spec{});
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
    const Status st = parse_status(cut);
    ASSERT_FALSE(st.is_ok()) << "prefix of " << n << " bytes parsed";
    const std::string& m = st.message();
    EXPECT_TRUE(m.find("file ends inside") != std::string::npos ||
                m.find("outside the file") != std::string::npos ||
                m.find("exceeds") != std::string::npos ||
                m.find("impossible length") != std::string::npos ||
                m.find("larger than the file") != std::string::npos)
        << n << ": " << st.to_string();
  }
}

TEST(GgufHostile, RandomTruncationsAndByteFlipsOfARealFile) {
  const std::string text = quorum::testing::read_file(
      quorum::testing::shared_path("models/stories260K/stories260K.gguf"));
  const std::vector<uint8_t> full(text.begin(), text.end());
  auto ok = File::parse(full.data(), full.size(), "full");
  ASSERT_TRUE(ok);
  const size_t data_end = ok->data_offset() + ok->tensors().back().offset + ok->tensors().back().nbytes;
  std::mt19937_64 rng(1234);
  for (int i = 0; i < 300; ++i) {
    const size_t n = rng() % data_end;
    const Status st = parse_status(std::vector<uint8_t>(full.begin(), full.begin() + static_cast<ptrdiff_t>(n)));
    ASSERT_FALSE(st.is_ok()) << n;
    EXPECT_FALSE(st.message().empty());
  }
  // Random byte flips inside the header: parse or fail, never crash.
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> m(full.begin(), full.begin() + static_cast<ptrdiff_t>(ok->data_offset()));
    m.resize(full.size());
    std::memcpy(m.data() + ok->data_offset(), full.data() + ok->data_offset(), full.size() - ok->data_offset());
    for (int k = 0; k < 4; ++k) m[rng() % ok->data_offset()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    (void)parse_status(m);
  }
}

TEST(GgufHostile, EachRuleNamesItsProblem) {
  Spec s;
  s.magic = 0x46554748;
  expect_error(s, "bad magic");
  s = {};
  s.version = 1;
  expect_error(s, "unsupported GGUF version");
  s.version = 77;
  expect_error(s, "unsupported GGUF version");
  s = {};
  s.n_kv = 1ull << 60;
  expect_error(s, "metadata count exceeds");
  s = {};
  s.n_tensors = 1ull << 60;
  expect_error(s, "tensor count exceeds");
  s = {};
  s.key_len = 1ull << 40;
  expect_error(s, "impossible length");
  s = {};
  s.value_type = 99;
  expect_error(s, "unknown metadata value type");
  s = {};
  s.n_dims = 0, s.ne = {};
  expect_error(s, "invalid number of dimensions");
  s = {};
  s.n_dims = 5, s.ne = {1, 1, 1, 1, 1};
  expect_error(s, "invalid number of dimensions");
  s = {};
  s.ne = {4, 0};
  expect_error(s, "zero or overflows");
  s = {};
  s.ne = {1ull << 40, 1ull << 40};
  expect_error(s, "zero or overflows");
  s = {};
  s.ne = {1ull << 62, 1};  // 2^62 F32 = 2^64 bytes: wrapped to 0 before the size check existed
  expect_error(s, "larger than the file");
  s = {};
  s.type = 4;  // a removed ggml type id
  expect_error(s, "unknown tensor type");
  s = {};
  s.type = 12;  // q4_K, row of 4 elements
  expect_error(s, "not a multiple of its block size");
  s = {};
  s.offset = 7;
  expect_error(s, "not aligned");
  s = {};
  s.offset = 64;
  expect_error(s, "outside the file");
  s = {};
  s.offset = 1ull << 62;
  expect_error(s, "outside the file");
  s = {};
  s.data_bytes = 31;
  expect_error(s, "outside the file");
}

TEST(GgufHostile, ArraysAndAlignment) {
  auto with_kv = [](const std::function<void(Bytes&)>& kv) {
    Bytes x;
    x.put(kMagic).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1);
    kv(x);
    return parse_status(x.b);
  };
  Status st = with_kv([](Bytes& x) { x.str("a").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(1ull << 50); });
  EXPECT_NE(st.message().find("array length exceeds"), std::string::npos) << st.to_string();
  st = with_kv([](Bytes& x) { x.str("a").put<uint32_t>(9).put<uint32_t>(42).put<uint64_t>(1); });
  EXPECT_NE(st.message().find("unknown array element type"), std::string::npos) << st.to_string();
  st = with_kv([](Bytes& x) {
    x.str("a").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(1);
    x.put<uint32_t>(9).put<uint64_t>(1).put<uint32_t>(9).put<uint64_t>(1).put<uint32_t>(4).put<uint64_t>(0);
  });
  EXPECT_NE(st.message().find("nested too deeply"), std::string::npos) << st.to_string();
  st = with_kv([](Bytes& x) { x.str("general.alignment").put<uint32_t>(4).put<uint32_t>(3); });
  EXPECT_NE(st.message().find("alignment is invalid"), std::string::npos) << st.to_string();
  st = with_kv([](Bytes& x) { x.str("general.alignment").put<uint32_t>(4).put<uint32_t>(0); });
  EXPECT_NE(st.message().find("alignment is invalid"), std::string::npos) << st.to_string();
  st = with_kv([](Bytes& x) { x.str("s").put<uint32_t>(8).put<uint64_t>(~0ull); });
  EXPECT_NE(st.message().find("impossible length"), std::string::npos) << st.to_string();
  // Duplicate keys.
  Bytes x;
  x.put(kMagic).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(2);
  x.str("k").put<uint32_t>(4).put<uint32_t>(1).str("k").put<uint32_t>(4).put<uint32_t>(2);
  st = parse_status(x.b);
  EXPECT_NE(st.message().find("duplicate metadata key"), std::string::npos) << st.to_string();
}

}  // namespace
}  // namespace quorum::gguf
