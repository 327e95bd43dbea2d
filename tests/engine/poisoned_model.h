// Copies of real model files with a NaN or Inf written into one tensor, for the bad-input tests
// of the engine and the CLI.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "testing/shared_data.h"

namespace quorum::testing {

// Writes `dir`/`name` = the GGUF `src` with `bytes` overwriting the start of tensor `tensor`.
inline std::string write_poisoned_copy(const std::string& src, const std::string& tensor,
                                       const std::vector<uint8_t>& bytes, const std::string& dir,
                                       const std::string& name) {
  auto file = gguf::File::open(src);
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  if (!file) return {};
  const gguf::TensorInfo* t = file->find_tensor(tensor);
  EXPECT_NE(t, nullptr) << tensor;
  if (t == nullptr) return {};
  std::string data = read_file(src);
  const size_t at = file->data_offset() + t->offset;
  EXPECT_LE(at + bytes.size(), data.size());
  std::memcpy(data.data() + at, bytes.data(), bytes.size());
  const std::string out = dir + "/" + name;
  std::ofstream(out, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  return out;
}

// The bytes of one F32 NaN.
inline std::vector<uint8_t> f32_nan_bytes() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint8_t> b(4);
  std::memcpy(b.data(), &nan, 4);
  return b;
}

}  // namespace quorum::testing
