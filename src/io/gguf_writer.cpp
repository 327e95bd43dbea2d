// GGUF v3 writer: header, metadata in insertion order, tensor infos with aligned offsets, data
// padded to the alignment (llama.cpp's own layout, so its loader accepts the file).
#include <fmt/format.h>

#include <cstdio>
#include <cstring>

#include "io/gguf.h"

namespace quorum::gguf {
namespace {

class Buf {
 public:
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b_.insert(b_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    b_.insert(b_.end(), s.begin(), s.end());
  }
  void put_value(const Value& v) {
    switch (v.type) {
      case ValueType::kUint8: put<uint8_t>(static_cast<uint8_t>(v.u)); break;
      case ValueType::kInt8: put<int8_t>(static_cast<int8_t>(v.i)); break;
      case ValueType::kUint16: put<uint16_t>(static_cast<uint16_t>(v.u)); break;
      case ValueType::kInt16: put<int16_t>(static_cast<int16_t>(v.i)); break;
      case ValueType::kUint32: put<uint32_t>(static_cast<uint32_t>(v.u)); break;
      case ValueType::kInt32: put<int32_t>(static_cast<int32_t>(v.i)); break;
      case ValueType::kUint64: put<uint64_t>(v.u); break;
      case ValueType::kInt64: put<int64_t>(v.i); break;
      case ValueType::kFloat32: put<float>(static_cast<float>(v.f)); break;
      case ValueType::kFloat64: put<double>(v.f); break;
      case ValueType::kBool: put<uint8_t>(v.u ? 1 : 0); break;
      case ValueType::kString: put_string(v.s); break;
      case ValueType::kArray:
        put<uint32_t>(static_cast<uint32_t>(v.array_type));
        put<uint64_t>(v.arr.size());
        for (const Value& e : v.arr) put_value(e);
        break;
    }
  }
  void pad_to(size_t alignment) {
    while (b_.size() % alignment != 0) b_.push_back(0);
  }
  std::vector<uint8_t>& bytes() { return b_; }

 private:
  std::vector<uint8_t> b_;
};

size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

}  // namespace

void Writer::set(const std::string& key, Value v) {
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  }
  kv_.emplace_back(key, std::move(v));
}

void Writer::remove(const std::string& key) {
  for (auto it = kv_.begin(); it != kv_.end(); ++it) {
    if (it->first == key) {
      kv_.erase(it);
      return;
    }
  }
}

void Writer::copy_metadata(const File& f) {
  for (const auto& [k, v] : f.metadata()) {
    if (k != "general.alignment") set(k, v);
  }
}

Status Writer::check_tensor(const std::string& name, DType type, const std::vector<int64_t>& ne,
                            size_t nbytes) const {
  if (ne.empty() || ne.size() > static_cast<size_t>(kMaxDims)) {
    return Error(ErrorCode::kInvalidArgument, "tensor has an invalid number of dimensions")
        .where("tensor '" + name + "'")
        .expected("1..4")
        .actual(std::to_string(ne.size()));
  }
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  const TypeTraits& tr = traits(type);
  if (ne[0] % tr.block_size != 0) {
    return Error(ErrorCode::kInvalidArgument, "row length is not a multiple of the block size")
        .where("tensor '" + name + "'")
        .expected(fmt::format("ne[0] % {} == 0 for {}", tr.block_size, tr.name))
        .actual(fmt::format("ne[0] = {}", ne[0]));
  }
  const size_t want = static_cast<size_t>(n / tr.block_size) * tr.type_size;
  if (nbytes != want) {
    return Error(ErrorCode::kInvalidArgument, "tensor data size does not match its shape")
        .where("tensor '" + name + "'")
        .expected(fmt::format("{} bytes", want))
        .actual(fmt::format("{} bytes", nbytes));
  }
  for (const Pending& p : tensors_) {
    if (p.name == name) {
      return Error(ErrorCode::kInvalidArgument, "duplicate tensor name").where(name);
    }
  }
  return Status::ok();
}

Status Writer::add_tensor_view(const std::string& name, DType type, std::vector<int64_t> ne,
                               const void* data, size_t nbytes) {
  QUORUM_TRY(check_tensor(name, type, ne, nbytes));
  tensors_.push_back({name, type, std::move(ne), data, nbytes, nullptr, nullptr});
  return Status::ok();
}

Status Writer::add_tensor_lazy(const std::string& name, DType type, std::vector<int64_t> ne,
                               Producer produce) {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  const size_t nbytes = ne.empty() ? 0 : row_size(type, ne[0]) * static_cast<size_t>(n / ne[0]);
  QUORUM_TRY(check_tensor(name, type, ne, nbytes));
  tensors_.push_back({name, type, std::move(ne), nullptr, nbytes, nullptr, std::move(produce)});
  return Status::ok();
}

Status Writer::add_tensor(const std::string& name, DType type, std::vector<int64_t> ne,
                          std::vector<uint8_t> data) {
  QUORUM_TRY(check_tensor(name, type, ne, data.size()));
  auto owned = std::make_shared<std::vector<uint8_t>>(std::move(data));
  tensors_.push_back({name, type, std::move(ne), owned->data(), owned->size(), owned, nullptr});
  return Status::ok();
}

std::vector<uint8_t> Writer::header_bytes() const {
  Buf b;
  b.put<uint32_t>(kMagic);
  b.put<uint32_t>(3);
  b.put<uint64_t>(tensors_.size());
  const bool custom_alignment = alignment_ != kDefaultAlignment;
  b.put<uint64_t>(kv_.size() + (custom_alignment ? 1 : 0));
  for (const auto& [k, v] : kv_) {
    b.put_string(k);
    b.put<uint32_t>(static_cast<uint32_t>(v.type));
    b.put_value(v);
  }
  if (custom_alignment) {
    b.put_string("general.alignment");
    b.put<uint32_t>(static_cast<uint32_t>(ValueType::kUint32));
    b.put<uint32_t>(alignment_);
  }
  size_t offset = 0;
  for (const Pending& t : tensors_) {
    b.put_string(t.name);
    b.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) b.put<uint64_t>(static_cast<uint64_t>(d));
    b.put<uint32_t>(static_cast<uint32_t>(t.type));
    b.put<uint64_t>(offset);
    offset = align_up(offset + t.nbytes, alignment_);
  }
  b.pad_to(alignment_);
  return std::move(b.bytes());
}

Result<std::vector<uint8_t>> Writer::to_bytes() const {
  std::vector<uint8_t> out = header_bytes();
  for (const Pending& t : tensors_) {
    const size_t at = out.size();
    out.resize(at + t.nbytes);
    if (t.produce) {
      Status s = t.produce(out.data() + at, t.nbytes);
      if (!s.is_ok()) return s.with_context("tensor '" + t.name + "'");
    } else {
      std::memcpy(out.data() + at, t.data, t.nbytes);
    }
    out.resize(align_up(out.size(), alignment_), 0);
  }
  return out;
}

size_t Writer::file_size() const {
  size_t n = header_bytes().size();
  for (const Pending& t : tensors_) n += align_up(t.nbytes, alignment_);
  return n;
}

Status Writer::write(const std::string& path) const {
  // Streamed (tensors can be gigabytes), to a temporary file renamed at the end.
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return Error(ErrorCode::kIoError, "cannot create file").where(tmp).actual(std::strerror(errno));
  }
  bool ok = true;
  const std::vector<uint8_t> header = header_bytes();
  ok = ok && std::fwrite(header.data(), 1, header.size(), f) == header.size();
  static const uint8_t kZeros[64] = {0};
  std::vector<uint8_t> buf;
  Status produced;
  const size_t total = progress_ ? file_size() : 0;
  size_t written = header.size();
  for (const Pending& t : tensors_) {
    const void* data = t.data;
    if (ok && t.produce) {
      buf.resize(t.nbytes);
      produced = t.produce(buf.data(), t.nbytes);
      if (!produced.is_ok()) {
        produced.with_context("tensor '" + t.name + "'");
        ok = false;
        break;
      }
      data = buf.data();
    }
    ok = ok && std::fwrite(data, 1, t.nbytes, f) == t.nbytes;
    const size_t pad = align_up(t.nbytes, alignment_) - t.nbytes;
    for (size_t done = 0; ok && done < pad;) {
      const size_t n = std::min(pad - done, sizeof(kZeros));
      ok = std::fwrite(kZeros, 1, n, f) == n;
      done += n;
    }
    written += t.nbytes + pad;
    if (progress_) progress_(written, total);
  }
  const int err = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!produced.is_ok()) {
    std::remove(tmp.c_str());
    return produced;
  }
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(ErrorCode::kIoError, "cannot write file").where(path).actual(std::strerror(err));
  }
  return Status::ok();
}

}  // namespace quorum::gguf
