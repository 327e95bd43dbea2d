// safetensors reader (JSON header validated entry by entry against the file) and writer.
#include "io/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/mmap_file.h"

namespace quorum::safetensors {
namespace {

using nlohmann::json;

// safetensors dtype names we read, and the ones we know but do not handle.
struct DtypeName {
  const char* name;
  DType type;
};
constexpr DtypeName kSupported[] = {{"F32", DType::kF32}, {"F16", DType::kF16},
                                    {"BF16", DType::kBF16}};
constexpr const char* kKnownUnsupported[] = {"F64",  "I64",     "U64",    "I32",     "U32",
                                             "I16",  "U16",     "I8",     "U8",      "BOOL",
                                             "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3",
                                             "F6_E3M2", "F4",     "C64"};

const char* st_dtype_name(DType t) {
  for (const auto& d : kSupported) {
    if (d.type == t) return d.name;
  }
  return nullptr;
}

Error corrupt(const std::string& what, const std::string& where) {
  return Error(ErrorCode::kCorruptFile, what).where(where);
}

// Reads a non-negative integer that fits in int64 from a JSON value.
bool json_to_u64(const json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return *out <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  }
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

Status parse_entry(const std::string& file, const std::string& name, const json& e,
                   size_t data_size, Tensor* t, uint64_t* begin) {
  const std::string where = fmt::format("{}: tensor '{}'", file, name);
  if (!e.is_object()) {
    return corrupt("header entry is not an object", where).actual(std::string(e.type_name()));
  }
  auto dt = e.find("dtype");
  auto sh = e.find("shape");
  auto off = e.find("data_offsets");
  if (dt == e.end() || sh == e.end() || off == e.end()) {
    return corrupt("header entry lacks dtype, shape or data_offsets", where);
  }
  if (!dt->is_string()) return corrupt("dtype is not a string", where);
  const std::string dname = dt->get<std::string>();
  bool found = false;
  for (const auto& d : kSupported) {
    if (dname == d.name) {
      t->type = d.type;
      found = true;
    }
  }
  if (!found) {
    for (const char* u : kKnownUnsupported) {
      if (dname == u) {
        return Error(ErrorCode::kUnsupported, "unsupported safetensors dtype '" + dname + "'")
            .where(where)
            .expected("F32, F16 or BF16")
            .hint("convert the checkpoint to a floating-point type first");
      }
    }
    return corrupt("unknown safetensors dtype '" + dname + "'", where).expected("F32, F16 or BF16");
  }
  if (!sh->is_array() || sh->size() > 8) {
    return corrupt("shape is not an array of at most 8 dimensions", where).actual(sh->dump());
  }
  uint64_t n_el = 1;
  for (const json& d : *sh) {
    uint64_t v = 0;
    if (!json_to_u64(d, &v)) return corrupt("shape holds a non-integer or negative", where).actual(sh->dump());
    if (v != 0 && n_el > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / v) {
      return corrupt("shape overflows", where).actual(sh->dump());
    }
    n_el *= v;
    t->shape.push_back(static_cast<int64_t>(v));
  }
  if (!off->is_array() || off->size() != 2) {
    return corrupt("data_offsets is not a pair", where).actual(off->dump());
  }
  uint64_t b = 0, en = 0;
  if (!json_to_u64((*off)[0], &b) || !json_to_u64((*off)[1], &en) || en < b) {
    return corrupt("data_offsets are not ordered non-negative integers", where).actual(off->dump());
  }
  if (en > data_size) {
    return corrupt("tensor data lies outside the file", where)
        .expected(fmt::format("end <= {} (data section size)", data_size))
        .actual(fmt::format("data_offsets [{}, {}]", b, en))
        .hint("the file is truncated; download it again");
  }
  const size_t elem = traits(t->type).type_size;
  if (n_el > (en - b) / elem + 1 || n_el * elem != en - b) {
    return corrupt("tensor byte size does not match its shape and dtype", where)
        .expected(fmt::format("{} bytes ({} elements of {})", n_el * elem, n_el, dname))
        .actual(fmt::format("{} bytes", en - b));
  }
  t->name = name;
  t->nbytes = static_cast<size_t>(en - b);
  *begin = b;
  return Status::ok();
}

}  // namespace

int64_t Tensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Result<File> File::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.status();
  std::shared_ptr<MappedFile> m = *mapped;
  return parse(m->data(), m->size(), path, m);
}

Result<File> File::parse(const uint8_t* data, size_t size, const std::string& name,
                         std::shared_ptr<const void> keep) {
  if (size < 8) {
    return corrupt("file is too short for a safetensors header length", name)
        .expected("at least 8 bytes")
        .actual(fmt::format("{} bytes", size));
  }
  uint64_t n = 0;
  std::memcpy(&n, data, 8);
  if (n > size - 8) {
    return corrupt("safetensors header length exceeds the file", name)
        .expected(fmt::format("at most {} bytes", size - 8))
        .actual(fmt::format("{} bytes", n))
        .hint("the file is truncated, or not a safetensors file");
  }
  if (n > kMaxHeaderSize) {
    return corrupt("safetensors header is too large", name)
        .expected(fmt::format("at most {} bytes", kMaxHeaderSize))
        .actual(fmt::format("{} bytes", n));
  }
  json header;
  try {
    header = json::parse(data + 8, data + 8 + n);
  } catch (const std::exception& e) {
    return corrupt("safetensors header is not valid JSON", name).actual(e.what());
  }
  if (!header.is_object()) {
    return corrupt("safetensors header is not a JSON object", name)
        .actual(std::string(header.type_name()));
  }
  File f;
  f.path_ = name;
  f.keep_ = std::move(keep);
  const uint8_t* base = data + 8 + n;
  const size_t data_size = size - 8 - static_cast<size_t>(n);
  std::vector<std::pair<uint64_t, Tensor>> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) return corrupt("__metadata__ is not an object", name);
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) {
          return corrupt("__metadata__ value is not a string", name + ": key '" + m.key() + "'");
        }
        f.metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    Tensor t;
    uint64_t begin = 0;
    QUORUM_TRY(parse_entry(name, it.key(), *it, data_size, &t, &begin));
    entries.emplace_back(begin, std::move(t));
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  uint64_t prev_end = 0;
  std::string prev_name;
  for (auto& [begin, t] : entries) {
    if (begin < prev_end) {
      return corrupt("tensor data overlaps another tensor", name + ": tensor '" + t.name + "'")
          .expected(fmt::format("begin >= {} (end of '{}')", prev_end, prev_name))
          .actual(fmt::format("begin = {}", begin));
    }
    prev_end = begin + t.nbytes;
    prev_name = t.name;
    t.data = base + begin;
    f.index_[t.name] = f.tensors_.size();
    f.tensors_.push_back(std::move(t));
  }
  return f;
}

const Tensor* File::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

Result<std::string> header_json(const std::vector<WriteTensor>& tensors,
                                const std::map<std::string, std::string>& metadata) {
  // nlohmann's ordered_json keeps our tensor order, which is also the data order.
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const WriteTensor& t : tensors) {
    const char* dname = st_dtype_name(t.type);
    if (dname == nullptr) {
      return Error(ErrorCode::kUnsupported, "safetensors cannot store this tensor type")
          .where("tensor '" + t.name + "'")
          .expected("f32, f16 or bf16")
          .actual(dtype_name(t.type))
          .hint("pass --type f32, f16 or bf16");
    }
    int64_t n_el = 1;
    for (int64_t d : t.shape) n_el *= d;
    if (static_cast<size_t>(n_el) * traits(t.type).type_size != t.nbytes) {
      return Error(ErrorCode::kInternal, "tensor data does not match its shape")
          .where("tensor '" + t.name + "'");
    }
    if (h.contains(t.name)) {
      return Error(ErrorCode::kInvalidArgument, "duplicate tensor name").where(t.name);
    }
    h[t.name] = {{"dtype", dname}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string s = h.dump();
  s.resize((s.size() + 8 + 7) / 8 * 8 - 8, ' ');
  return s;
}

}  // namespace

Result<std::vector<uint8_t>> to_bytes(const std::vector<WriteTensor>& tensors,
                                      const std::map<std::string, std::string>& metadata) {
  QUORUM_ASSIGN_OR_RETURN(const std::string h, header_json(tensors, metadata));
  std::vector<uint8_t> out(8);
  const uint64_t n = h.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), h.begin(), h.end());
  for (const WriteTensor& t : tensors) {
    const auto* p = static_cast<const uint8_t*>(t.data);
    out.insert(out.end(), p, p + t.nbytes);
  }
  return out;
}

Status write_file(const std::string& path, const std::vector<WriteTensor>& tensors,
                  const std::map<std::string, std::string>& metadata) {
  QUORUM_ASSIGN_OR_RETURN(const std::string h, header_json(tensors, metadata));
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return Error(ErrorCode::kIoError, "cannot create file").where(tmp).actual(std::strerror(errno));
  }
  const uint64_t n = h.size();
  bool ok = std::fwrite(&n, 1, 8, f) == 8;
  ok = ok && std::fwrite(h.data(), 1, h.size(), f) == h.size();
  for (const WriteTensor& t : tensors) {
    ok = ok && std::fwrite(t.data, 1, t.nbytes, f) == t.nbytes;
  }
  const int err = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(ErrorCode::kIoError, "cannot write file").where(path).actual(std::strerror(err));
  }
  return Status::ok();
}

}  // namespace quorum::safetensors
