// GGUF v2/v3 files: a bounds-checked reader over a memory map, and a writer whose output
// llama.cpp loads.
//
// Layout (little-endian): magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, then n_kv
// key/value pairs (string key, u32 value type, value), then n_tensors tensor infos (string name,
// u32 n_dims, n_dims x u64 ne (ne[0] = contiguous row length), u32 ggml type, u64 offset into the
// data section), padding to `general.alignment` (default 32), then the data section.
// The reader validates every count, length and offset against the file size before using it,
// so truncated or hostile files give an error naming the problem, never a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "core/status.h"
#include "tensor/dtype.h"

namespace quorum::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

enum class ValueType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
const char* value_type_name(ValueType t);

// One metadata value. Scalars keep their GGUF type, so a read-modify-write round trip is exact.
struct Value {
  ValueType type = ValueType::kUint32;
  ValueType array_type = ValueType::kUint8;  // element type when type == kArray
  uint64_t u = 0;   // unsigned ints and bool
  int64_t i = 0;    // signed ints
  double f = 0;     // floats
  std::string s;    // string
  std::vector<Value> arr;

  static Value u32(uint32_t v) { Value x; x.type = ValueType::kUint32; x.u = v; return x; }
  static Value i32(int32_t v) { Value x; x.type = ValueType::kInt32; x.i = v; return x; }
  static Value u64(uint64_t v) { Value x; x.type = ValueType::kUint64; x.u = v; return x; }
  static Value f32(float v) { Value x; x.type = ValueType::kFloat32; x.f = v; return x; }
  static Value boolean(bool v) { Value x; x.type = ValueType::kBool; x.u = v; return x; }
  static Value str(std::string v) { Value x; x.type = ValueType::kString; x.s = std::move(v); return x; }
  static Value array(ValueType elem, std::vector<Value> items);
  static Value string_array(const std::vector<std::string>& items);
  static Value f32_array(const std::vector<float>& items);
  static Value i32_array(const std::vector<int32_t>& items);

  bool is_integer() const;
  bool is_float() const { return type == ValueType::kFloat32 || type == ValueType::kFloat64; }
  // Numeric value of any integer, float or bool type; nullopt otherwise.
  std::optional<int64_t> as_int() const;
  std::optional<double> as_double() const;
  // Short human-readable form ("[4096 strings]" for big arrays).
  std::string to_display_string(size_t max_items = 8) const;
};

struct TensorInfo {
  std::string name;
  DType type = DType::kF32;
  std::vector<int64_t> ne;   // ne[0] is the row length (contiguous), as in ggml
  uint64_t offset = 0;       // relative to the data section
  const uint8_t* data = nullptr;  // into the mapping
  size_t nbytes = 0;

  int64_t n_elements() const;
  int64_t n_rows() const { return ne.empty() ? 0 : n_elements() / ne[0]; }
  std::string shape_string() const;  // "[64, 512]"
};

class File {
 public:
  // Maps (or with LoadMode::kRead, reads into huge-page memory) and parses a file; the memory
  // lives as long as the File (or any copy of it).
  static Result<File> open(const std::string& path, LoadMode mode = LoadMode::kMap);
  // Parses bytes already in memory (fuzzing, tests); `keep` keeps them alive if non-null.
  static Result<File> parse(const uint8_t* data, size_t size, const std::string& name,
                            std::shared_ptr<const void> keep = nullptr);
  // Assembles a File from metadata and tensors another format produced (safetensors, llama2.c
  // imports). Each tensor's `data` must point at `nbytes` bytes that `keep` keeps alive; names
  // must be unique and sizes must match shapes.
  static Result<File> from_parts(std::string path, std::vector<std::pair<std::string, Value>> kv,
                                 std::vector<TensorInfo> tensors, std::shared_ptr<const void> keep);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return size_; }

  // Keys in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }
  // Typed getters: error naming the key if missing or of the wrong type.
  Result<std::string> get_string(const std::string& key) const;
  Result<int64_t> get_int(const std::string& key) const;
  Result<double> get_float(const std::string& key) const;
  Result<std::vector<std::string>> get_string_array(const std::string& key) const;
  Result<std::vector<double>> get_float_array(const std::string& key) const;
  Result<std::vector<int64_t>> get_int_array(const std::string& key) const;
  // Defaults when absent (still an error if present with the wrong type).
  Result<int64_t> get_int_or(const std::string& key, int64_t def) const;
  Result<double> get_float_or(const std::string& key, double def) const;
  Result<std::string> get_string_or(const std::string& key, const std::string& def) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;

 private:
  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  size_t data_offset_ = 0;
  size_t size_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
  std::shared_ptr<const void> keep_;  // the mapping
};

// Builds a GGUF v3 file. Metadata keeps insertion order; setting an existing key replaces it.
class Writer {
 public:
  void set(const std::string& key, Value v);
  void remove(const std::string& key);
  // Copies every key of `f` (except general.alignment, which the writer owns).
  void copy_metadata(const File& f);
  void set_alignment(uint32_t alignment) { alignment_ = alignment; }

  // Borrowed data: must stay valid until write() returns.
  Status add_tensor_view(const std::string& name, DType type, std::vector<int64_t> ne,
                         const void* data, size_t nbytes);
  // Owned data.
  Status add_tensor(const std::string& name, DType type, std::vector<int64_t> ne,
                    std::vector<uint8_t> data);
  // Data produced when the file is written, one tensor at a time, so multi-gigabyte outputs
  // (quantization, synthetic models) never sit in memory whole. `produce` fills exactly
  // row_size(type, ne[0]) * rows bytes into `out` (already sized) or returns an error.
  using Producer = std::function<Status(uint8_t* out, size_t nbytes)>;
  Status add_tensor_lazy(const std::string& name, DType type, std::vector<int64_t> ne,
                         Producer produce);

  // Called after each tensor is written with (bytes written, total bytes).
  void set_progress(std::function<void(size_t done, size_t total)> fn) { progress_ = std::move(fn); }
  // Total size of the file write() produces.
  size_t file_size() const;

  // Writes to `path` atomically (temporary file, then rename).
  Status write(const std::string& path) const;
  // The whole file in memory (tests, small files).
  Result<std::vector<uint8_t>> to_bytes() const;

 private:
  struct Pending {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    const void* data;
    size_t nbytes;
    std::shared_ptr<std::vector<uint8_t>> owned;
    Producer produce;  // set for lazy tensors (data is then null)
  };
  Status check_tensor(const std::string& name, DType type, const std::vector<int64_t>& ne,
                      size_t nbytes) const;
  std::vector<uint8_t> header_bytes() const;

  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<Pending> tensors_;
  uint32_t alignment_ = kDefaultAlignment;
  std::function<void(size_t, size_t)> progress_;
};

}  // namespace quorum::gguf
