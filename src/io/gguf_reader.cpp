// GGUF reader: a cursor that checks every read against the end of the buffer, then validation
// of the tensor table against the data section.
#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "io/gguf.h"

namespace quorum::gguf {
namespace {

// Arrays nested deeper than this are rejected (llama.cpp forbids nesting entirely; we allow a
// little for tolerance but bound the recursion).
constexpr int kMaxArrayDepth = 2;

size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::kUint8: case ValueType::kInt8: case ValueType::kBool: return 1;
    case ValueType::kUint16: case ValueType::kInt16: return 2;
    case ValueType::kUint32: case ValueType::kInt32: case ValueType::kFloat32: return 4;
    case ValueType::kUint64: case ValueType::kInt64: case ValueType::kFloat64: return 8;
    default: return 0;
  }
}

class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  Status need(size_t n, const char* what) const {
    if (n > remaining()) {
      return Error(ErrorCode::kCorruptFile, fmt::format("file ends inside {}", what))
          .where(fmt::format("{} at byte {}", name_, pos_))
          .expected(fmt::format("{} more bytes", n))
          .actual(fmt::format("{} bytes left (file size {})", remaining(), size_))
          .hint("the file is truncated; download or convert it again");
    }
    return Status::ok();
  }
  template <typename T>
  Status read(T* out, const char* what) {
    QUORUM_TRY(need(sizeof(T), what));
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok();
  }
  Status read_string(std::string* out, const char* what) {
    uint64_t len = 0;
    QUORUM_TRY(read(&len, what));
    if (len > remaining()) {
      return Error(ErrorCode::kCorruptFile, fmt::format("{} has an impossible length", what))
          .where(fmt::format("{} at byte {}", name_, pos_ - 8))
          .expected(fmt::format("length <= {} (bytes left in file)", remaining()))
          .actual(fmt::format("{}", len));
    }
    out->assign(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return Status::ok();
  }
  const std::string& name() const { return name_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& name_;
};

Status read_value(Cursor& c, ValueType type, Value* v, const std::string& key, int depth) {
  v->type = type;
  switch (type) {
    case ValueType::kUint8: { uint8_t x; QUORUM_TRY(c.read(&x, "a u8 value")); v->u = x; break; }
    case ValueType::kInt8: { int8_t x; QUORUM_TRY(c.read(&x, "an i8 value")); v->i = x; break; }
    case ValueType::kUint16: { uint16_t x; QUORUM_TRY(c.read(&x, "a u16 value")); v->u = x; break; }
    case ValueType::kInt16: { int16_t x; QUORUM_TRY(c.read(&x, "an i16 value")); v->i = x; break; }
    case ValueType::kUint32: { uint32_t x; QUORUM_TRY(c.read(&x, "a u32 value")); v->u = x; break; }
    case ValueType::kInt32: { int32_t x; QUORUM_TRY(c.read(&x, "an i32 value")); v->i = x; break; }
    case ValueType::kUint64: { uint64_t x; QUORUM_TRY(c.read(&x, "a u64 value")); v->u = x; break; }
    case ValueType::kInt64: { int64_t x; QUORUM_TRY(c.read(&x, "an i64 value")); v->i = x; break; }
    case ValueType::kFloat32: { float x; QUORUM_TRY(c.read(&x, "an f32 value")); v->f = x; break; }
    case ValueType::kFloat64: { double x; QUORUM_TRY(c.read(&x, "an f64 value")); v->f = x; break; }
    case ValueType::kBool: {
      uint8_t x;
      QUORUM_TRY(c.read(&x, "a bool value"));
      v->u = x != 0;
      break;
    }
    case ValueType::kString: QUORUM_TRY(c.read_string(&v->s, "a string value")); break;
    case ValueType::kArray: {
      if (depth >= kMaxArrayDepth) {
        return Error(ErrorCode::kCorruptFile, "arrays nested too deeply")
            .where(c.name() + ": key '" + key + "'");
      }
      uint32_t et = 0;
      uint64_t n = 0;
      QUORUM_TRY(c.read(&et, "an array element type"));
      QUORUM_TRY(c.read(&n, "an array length"));
      if (et > static_cast<uint32_t>(ValueType::kFloat64)) {
        return Error(ErrorCode::kCorruptFile, "unknown array element type")
            .where(c.name() + ": key '" + key + "'")
            .expected("0..12")
            .actual(std::to_string(et));
      }
      v->array_type = static_cast<ValueType>(et);
      // Every element takes at least one byte (strings take 8), so a count larger than the
      // bytes left is a lie; reject it before allocating.
      const size_t min_elem = v->array_type == ValueType::kString ? 8
                              : v->array_type == ValueType::kArray ? 12
                                                                    : scalar_size(v->array_type);
      if (n > c.remaining() / min_elem) {
        return Error(ErrorCode::kCorruptFile, "array length exceeds the file")
            .where(c.name() + ": key '" + key + "'")
            .expected(fmt::format("at most {} elements", c.remaining() / min_elem))
            .actual(fmt::format("{}", n));
      }
      v->arr.resize(n);
      for (uint64_t k = 0; k < n; ++k) {
        QUORUM_TRY(read_value(c, v->array_type, &v->arr[k], key, depth + 1));
      }
      break;
    }
    default:
      return Error(ErrorCode::kCorruptFile, "unknown metadata value type")
          .where(c.name() + ": key '" + key + "'")
          .expected("0..12")
          .actual(std::to_string(static_cast<uint32_t>(type)));
  }
  return Status::ok();
}

bool is_integer_type(ValueType t) {
  Value v;
  v.type = t;
  return v.is_integer();
}

}  // namespace

Result<File> File::open(const std::string& path, LoadMode mode) {
  auto mapped = MappedFile::open(path, mode);
  if (!mapped) return mapped.status();
  std::shared_ptr<MappedFile> m = *mapped;
  return parse(m->data(), m->size(), path, m);
}

Result<File> File::parse(const uint8_t* data, size_t size, const std::string& name,
                         std::shared_ptr<const void> keep) {
  File f;
  f.path_ = name;
  f.size_ = size;
  f.keep_ = std::move(keep);
  Cursor c(data, size, f.path_);

  uint32_t magic = 0;
  QUORUM_TRY(c.read(&magic, "the magic number"));
  if (magic != kMagic) {
    char got[5] = {0};
    std::memcpy(got, &magic, 4);
    for (char& ch : got) {
      if (ch != 0 && (ch < 32 || ch > 126)) ch = '?';
    }
    return Error(ErrorCode::kCorruptFile, "not a GGUF file (bad magic)")
        .where(name)
        .expected("\"GGUF\"")
        .actual(fmt::format("\"{}\"", got))
        .hint("pass a .gguf model; safetensors and llama2.c files are read by their own loaders");
  }
  QUORUM_TRY(c.read(&f.version_, "the version"));
  if (f.version_ != 2 && f.version_ != 3) {
    return Error(ErrorCode::kUnsupported, "unsupported GGUF version")
        .where(name)
        .expected("2 or 3")
        .actual(std::to_string(f.version_))
        .hint(f.version_ == 1 ? "GGUF v1 is obsolete; re-convert the model with a current tool"
                              : "the file may be corrupt or big-endian");
  }
  uint64_t n_tensors = 0, n_kv = 0;
  QUORUM_TRY(c.read(&n_tensors, "the tensor count"));
  QUORUM_TRY(c.read(&n_kv, "the metadata count"));
  // A key/value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least
  // 8 + 4 + 8 + 4 + 8.
  if (n_kv > c.remaining() / 13) {
    return Error(ErrorCode::kCorruptFile, "metadata count exceeds what the file can hold")
        .where(name)
        .expected(fmt::format("at most {}", c.remaining() / 13))
        .actual(fmt::format("{}", n_kv));
  }
  if (n_tensors > c.remaining() / 32) {
    return Error(ErrorCode::kCorruptFile, "tensor count exceeds what the file can hold")
        .where(name)
        .expected(fmt::format("at most {}", c.remaining() / 32))
        .actual(fmt::format("{}", n_tensors));
  }

  f.kv_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key;
    QUORUM_TRY(c.read_string(&key, "a metadata key"));
    uint32_t type = 0;
    QUORUM_TRY(c.read(&type, "a metadata value type"));
    Value v;
    QUORUM_TRY(read_value(c, static_cast<ValueType>(type), &v, key, 0));
    if (f.kv_index_.count(key) != 0) {
      return Error(ErrorCode::kCorruptFile, "duplicate metadata key '" + key + "'").where(name);
    }
    f.kv_index_[key] = f.kv_.size();
    f.kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const Value* a = f.find("general.alignment")) {
    const auto al = a->as_int();
    if (a->type != ValueType::kUint32 || !al || *al == 0 || (*al & (*al - 1)) != 0) {
      return Error(ErrorCode::kCorruptFile, "general.alignment is invalid")
          .where(name)
          .expected("a u32 power of two")
          .actual(a->to_display_string());
    }
    f.alignment_ = static_cast<uint32_t>(*al);
  }

  f.tensors_.reserve(n_tensors);
  for (uint64_t t = 0; t < n_tensors; ++t) {
    TensorInfo ti;
    QUORUM_TRY(c.read_string(&ti.name, "a tensor name"));
    uint32_t n_dims = 0;
    QUORUM_TRY(c.read(&n_dims, "a tensor's dimension count"));
    const std::string where = fmt::format("{}: tensor '{}'", name, ti.name);
    if (n_dims == 0 || n_dims > kMaxDims) {
      return Error(ErrorCode::kCorruptFile, "tensor has an invalid number of dimensions")
          .where(where)
          .expected(fmt::format("1..{}", kMaxDims))
          .actual(std::to_string(n_dims));
    }
    ti.ne.resize(n_dims);
    int64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      QUORUM_TRY(c.read(&ne, "a tensor dimension"));
      if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / n_el)) {
        return Error(ErrorCode::kCorruptFile, "tensor dimension is zero or overflows")
            .where(where)
            .actual(fmt::format("ne[{}] = {}", d, ne));
      }
      ti.ne[d] = static_cast<int64_t>(ne);
      n_el *= ti.ne[d];
    }
    uint32_t type = 0;
    QUORUM_TRY(c.read(&type, "a tensor type"));
    const TypeTraits* tr = find_traits(type);
    if (tr == nullptr) {
      return Error(ErrorCode::kUnsupported, "unknown tensor type id")
          .where(where)
          .actual(std::to_string(type))
          .hint("the file may be newer than this Quorum, or corrupt");
    }
    ti.type = tr->type;
    if (ti.ne[0] % tr->block_size != 0) {
      return Error(ErrorCode::kCorruptFile, "tensor row length is not a multiple of its block size")
          .where(where)
          .expected(fmt::format("ne[0] % {} == 0 for {}", tr->block_size, tr->name))
          .actual(fmt::format("ne[0] = {}", ti.ne[0]));
    }
    QUORUM_TRY(c.read(&ti.offset, "a tensor data offset"));
    if (ti.offset % f.alignment_ != 0) {
      return Error(ErrorCode::kCorruptFile, "tensor data offset is not aligned")
          .where(where)
          .expected(fmt::format("a multiple of {}", f.alignment_))
          .actual(std::to_string(ti.offset));
    }
    // n_el fits in int64 but n_el / block_size * type_size may not (a hostile shape would wrap
    // around and slip past the bounds check below).
    const uint64_t n_blocks = static_cast<uint64_t>(n_el / tr->block_size);
    if (n_blocks > std::numeric_limits<uint64_t>::max() / tr->type_size ||
        n_blocks * tr->type_size > size) {
      return Error(ErrorCode::kCorruptFile, "tensor is larger than the file")
          .where(where)
          .expected(fmt::format("at most {} bytes", size))
          .actual(fmt::format("{} elements of {}", n_el, tr->name));
    }
    ti.nbytes = static_cast<size_t>(n_blocks * tr->type_size);
    if (f.tensor_index_.count(ti.name) != 0) {
      return Error(ErrorCode::kCorruptFile, "duplicate tensor name").where(where);
    }
    f.tensor_index_[ti.name] = f.tensors_.size();
    f.tensors_.push_back(std::move(ti));
  }

  const size_t header_end = c.pos();
  f.data_offset_ = (header_end + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  // Files without tensors (vocab-only GGUFs) may end right after the header, without padding.
  const size_t data_size = f.data_offset_ <= size ? size - f.data_offset_ : 0;
  for (TensorInfo& ti : f.tensors_) {
    if (ti.offset > data_size || ti.nbytes > data_size - ti.offset) {
      return Error(ErrorCode::kCorruptFile, "tensor data lies outside the file")
          .where(fmt::format("{}: tensor '{}' {} {}", name, ti.name, dtype_name(ti.type),
                             ti.shape_string()))
          .expected(fmt::format("offset + {} bytes <= {} (data section size)", ti.nbytes,
                                data_size))
          .actual(fmt::format("offset {}", ti.offset))
          .hint("the file is truncated; download or convert it again");
    }
    ti.data = data + f.data_offset_ + ti.offset;
  }
  return f;
}

Result<File> File::from_parts(std::string path, std::vector<std::pair<std::string, Value>> kv,
                              std::vector<TensorInfo> tensors, std::shared_ptr<const void> keep) {
  File f;
  f.path_ = std::move(path);
  f.version_ = 3;
  f.keep_ = std::move(keep);
  for (auto& [key, v] : kv) {
    if (f.kv_index_.count(key) != 0) {
      return Error(ErrorCode::kInternal, "duplicate metadata key '" + key + "'").where(f.path_);
    }
    f.kv_index_[key] = f.kv_.size();
    f.kv_.emplace_back(std::move(key), std::move(v));
  }
  for (TensorInfo& ti : tensors) {
    const std::string where = fmt::format("{}: tensor '{}'", f.path_, ti.name);
    if (ti.ne.empty() || ti.ne.size() > static_cast<size_t>(kMaxDims)) {
      return Error(ErrorCode::kUnsupported, "tensor has an invalid number of dimensions")
          .where(where)
          .expected(fmt::format("1..{}", kMaxDims))
          .actual(std::to_string(ti.ne.size()));
    }
    for (int64_t d : ti.ne) {
      if (d <= 0) {
        return Error(ErrorCode::kCorruptFile, "tensor has a zero or negative dimension")
            .where(where)
            .actual(ti.shape_string());
      }
    }
    const TypeTraits& tr = traits(ti.type);
    if (ti.ne[0] % tr.block_size != 0 || ti.data == nullptr ||
        row_size(ti.type, ti.ne[0]) * static_cast<size_t>(ti.n_rows()) != ti.nbytes) {
      return Error(ErrorCode::kInternal, "tensor data does not match its shape")
          .where(where)
          .actual(fmt::format("{} {} with {} bytes", tr.name, ti.shape_string(), ti.nbytes));
    }
    if (f.tensor_index_.count(ti.name) != 0) {
      return Error(ErrorCode::kCorruptFile, "duplicate tensor name").where(where);
    }
    f.size_ += ti.nbytes;
    f.tensor_index_[ti.name] = f.tensors_.size();
    f.tensors_.push_back(std::move(ti));
  }
  return f;
}

const Value* File::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorInfo* File::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
Error missing_key(const std::string& path, const std::string& key) {
  return Error(ErrorCode::kNotFound, "metadata key '" + key + "' is missing").where(path);
}
Error wrong_type(const std::string& path, const std::string& key, const char* expected,
                 const Value& v) {
  return Error(ErrorCode::kCorruptFile, "metadata key '" + key + "' has the wrong type")
      .where(path)
      .expected(expected)
      .actual(value_type_name(v.type));
}
}  // namespace

Result<std::string> File::get_string(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(path_, key);
  if (v->type != ValueType::kString) return wrong_type(path_, key, "string", *v);
  return v->s;
}

Result<int64_t> File::get_int(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(path_, key);
  if (!v->is_integer() && v->type != ValueType::kBool) return wrong_type(path_, key, "integer", *v);
  return *v->as_int();
}

Result<double> File::get_float(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(path_, key);
  auto d = v->as_double();
  if (!d) return wrong_type(path_, key, "number", *v);
  return *d;
}

Result<std::vector<std::string>> File::get_string_array(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(path_, key);
  if (v->type != ValueType::kArray || v->array_type != ValueType::kString) {
    return wrong_type(path_, key, "array of strings", *v);
  }
  std::vector<std::string> out;
  out.reserve(v->arr.size());
  for (const Value& e : v->arr) out.push_back(e.s);
  return out;
}

Result<std::vector<double>> File::get_float_array(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(path_, key);
  if (v->type != ValueType::kArray || v->array_type == ValueType::kString ||
      v->array_type == ValueType::kArray) {
    return wrong_type(path_, key, "array of numbers", *v);
  }
  std::vector<double> out;
  out.reserve(v->arr.size());
  for (const Value& e : v->arr) out.push_back(*e.as_double());
  return out;
}

Result<std::vector<int64_t>> File::get_int_array(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(path_, key);
  if (v->type != ValueType::kArray || !is_integer_type(v->array_type)) {
    return wrong_type(path_, key, "array of integers", *v);
  }
  std::vector<int64_t> out;
  out.reserve(v->arr.size());
  for (const Value& e : v->arr) out.push_back(*e.as_int());
  return out;
}

Result<int64_t> File::get_int_or(const std::string& key, int64_t def) const {
  return has(key) ? get_int(key) : Result<int64_t>(def);
}
Result<double> File::get_float_or(const std::string& key, double def) const {
  return has(key) ? get_float(key) : Result<double>(def);
}
Result<std::string> File::get_string_or(const std::string& key, const std::string& def) const {
  return has(key) ? get_string(key) : Result<std::string>(def);
}

}  // namespace quorum::gguf
