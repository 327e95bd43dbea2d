// Bounds-checked reader of llama-imatrix's legacy binary files (see imatrix.h).
#include "quant/imatrix.h"

#include <fmt/format.h>

#include <cstring>

#include "core/mmap_file.h"

namespace quorum::quant {

const ImatrixEntry* Imatrix::find(const std::string& tensor_name) const {
  auto it = entries.find(tensor_name);
  return it == entries.end() ? nullptr : &it->second;
}

namespace {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}
  size_t pos() const { return pos_; }
  size_t left() const { return size_ - pos_; }

  Status read(void* out, size_t n, const char* what) {
    if (n > left()) {
      return Error(ErrorCode::kCorruptFile, fmt::format("imatrix file ends inside {}", what))
          .where(fmt::format("{} at byte {}", name_, pos_))
          .expected(fmt::format("{} more bytes", n))
          .actual(fmt::format("{} bytes left", left()))
          .hint("the file is truncated or not a llama-imatrix .imatrix/.dat file");
    }
    std::memcpy(out, data_ + pos_, n);
    pos_ += n;
    return Status::ok();
  }
  Result<int32_t> i32(const char* what) {
    int32_t v = 0;
    QUORUM_TRY(read(&v, sizeof(v), what));
    return v;
  }
  Status bad_count(const char* what, int64_t v, int64_t limit) const {
    return Error(ErrorCode::kCorruptFile, fmt::format("implausible {} in imatrix file", what))
        .where(fmt::format("{} at byte {}", name_, pos_))
        .expected(fmt::format("0 <= {} <= {}", what, limit))
        .actual(fmt::format("{}", v))
        .hint("the file is corrupt, or is a GGUF imatrix (convert it to the legacy format)");
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& name_;
};

}  // namespace

Result<Imatrix> parse_imatrix(const uint8_t* data, size_t size, const std::string& name) {
  if (size >= 4 && std::memcmp(data, "GGUF", 4) == 0) {
    return Error(ErrorCode::kUnsupported, "GGUF-format imatrix files are not supported yet")
        .where(name)
        .hint("write the legacy format with llama-imatrix --output-format dat");
  }
  Reader r(data, size, name);
  Imatrix m;
  QUORUM_ASSIGN_OR_RETURN(const int32_t n_entries, r.i32("the entry count"));
  if (n_entries < 0 || static_cast<size_t>(n_entries) > r.left() / 12) {
    return r.bad_count("entry count", n_entries, static_cast<int64_t>(r.left() / 12));
  }
  for (int32_t e = 0; e < n_entries; ++e) {
    QUORUM_ASSIGN_OR_RETURN(const int32_t len, r.i32("a name length"));
    if (len <= 0 || static_cast<size_t>(len) > r.left()) {
      return r.bad_count("name length", len, static_cast<int64_t>(r.left()));
    }
    std::string tname(static_cast<size_t>(len), '\0');
    QUORUM_TRY(r.read(tname.data(), tname.size(), "a tensor name"));
    tname.resize(std::strlen(tname.c_str()));  // llama.cpp reads the name as a C string
    ImatrixEntry entry;
    QUORUM_ASSIGN_OR_RETURN(entry.ncall, r.i32("a call count"));
    QUORUM_ASSIGN_OR_RETURN(const int32_t nval, r.i32("a value count"));
    if (nval < 0 || static_cast<size_t>(nval) > r.left() / sizeof(float)) {
      return r.bad_count("value count", nval, static_cast<int64_t>(r.left() / sizeof(float)));
    }
    entry.values.resize(static_cast<size_t>(nval));
    QUORUM_TRY(r.read(entry.values.data(), entry.values.size() * sizeof(float), "the values"));
    m.entries[tname] = std::move(entry);
  }
  if (r.left() >= 8) {  // optional trailer: last call, dataset name
    QUORUM_ASSIGN_OR_RETURN(m.last_call, r.i32("the last-call count"));
    QUORUM_ASSIGN_OR_RETURN(const int32_t len, r.i32("the dataset name length"));
    if (len < 0 || static_cast<size_t>(len) > r.left()) {
      return r.bad_count("dataset name length", len, static_cast<int64_t>(r.left()));
    }
    m.dataset.resize(static_cast<size_t>(len));
    QUORUM_TRY(r.read(m.dataset.data(), m.dataset.size(), "the dataset name"));
  }
  return m;
}

Result<Imatrix> load_imatrix(const std::string& path) {
  QUORUM_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  return parse_imatrix(file->data(), file->size(), path);
}

}  // namespace quorum::quant
