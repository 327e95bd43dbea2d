// safetensors files (Hugging Face): a bounds-checked reader over a memory map and a writer.
//
// Layout: u64 little-endian header length N, then N bytes of JSON
//   {"__metadata__": {"k": "v", ...}, "name": {"dtype": "F32", "shape": [rows, cols],
//    "data_offsets": [begin, end]}, ...}
// then the data section; offsets are relative to its start (byte 8 + N). Shapes are in PyTorch
// order (shape[0] outermost, the last dimension contiguous): the reverse of ggml's ne.
// The reader checks every offset against the file and rejects overlapping tensors, so hostile
// files give an error naming the problem. Supported dtypes: F32, F16, BF16.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "tensor/dtype.h"

namespace quorum::safetensors {

// Headers larger than this are refused (the official library uses the same bound).
inline constexpr uint64_t kMaxHeaderSize = 100ull << 20;

struct Tensor {
  std::string name;
  DType type = DType::kF32;
  std::vector<int64_t> shape;  // PyTorch order: shape.back() is the contiguous row length
  const uint8_t* data = nullptr;  // into the mapping
  size_t nbytes = 0;

  int64_t n_elements() const;
};

class File {
 public:
  static Result<File> open(const std::string& path);
  // Parses bytes already in memory (fuzzing, tests); `keep` keeps them alive if non-null.
  static Result<File> parse(const uint8_t* data, size_t size, const std::string& name,
                            std::shared_ptr<const void> keep = nullptr);

  const std::string& path() const { return path_; }
  // Tensors in data-offset order.
  const std::vector<Tensor>& tensors() const { return tensors_; }
  const Tensor* find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Whatever keeps the tensor bytes alive (the mapping).
  const std::shared_ptr<const void>& keep() const { return keep_; }

 private:
  std::string path_;
  std::vector<Tensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::shared_ptr<const void> keep_;
};

// One tensor to write; `data` must stay valid until write_file returns.
struct WriteTensor {
  std::string name;
  DType type = DType::kF32;    // F32, F16 or BF16
  std::vector<int64_t> shape;  // PyTorch order
  const void* data = nullptr;
  size_t nbytes = 0;
};

// Writes a safetensors file atomically (temporary file, then rename). The header is padded with
// spaces to a multiple of 8 bytes so every tensor starts aligned.
Status write_file(const std::string& path, const std::vector<WriteTensor>& tensors,
                  const std::map<std::string, std::string>& metadata);
// The whole file in memory (tests, fuzz seeds).
Result<std::vector<uint8_t>> to_bytes(const std::vector<WriteTensor>& tensors,
                                      const std::map<std::string, std::string>& metadata);

}  // namespace quorum::safetensors
