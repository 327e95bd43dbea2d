// llama-imatrix's legacy binary files (see imatrix.h): bounds-checked reader, writer, and the
// collector that accumulates the statistics from calibration activations.
#include "quant/imatrix.h"

#include <fmt/format.h>

#include <algorithm>
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

namespace quorum::quant {
namespace {

void put_i32(std::vector<uint8_t>& out, int32_t v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof(v));
}

void put_bytes(std::vector<uint8_t>& out, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  out.insert(out.end(), p, p + n);
}

}  // namespace

std::vector<uint8_t> serialize_imatrix(const Imatrix& m) {
  std::vector<uint8_t> out;
  put_i32(out, static_cast<int32_t>(m.entries.size()));
  for (const auto& [name, e] : m.entries) {
    put_i32(out, static_cast<int32_t>(name.size()));
    put_bytes(out, name.data(), name.size());
    put_i32(out, e.ncall);
    put_i32(out, static_cast<int32_t>(e.values.size()));
    put_bytes(out, e.values.data(), e.values.size() * sizeof(float));
  }
  put_i32(out, m.last_call);
  put_i32(out, static_cast<int32_t>(m.dataset.size()));
  put_bytes(out, m.dataset.data(), m.dataset.size());
  return out;
}

Status save_imatrix(const Imatrix& m, const std::string& path) {
  const std::vector<uint8_t> bytes = serialize_imatrix(m);
  return write_file_atomic(path, bytes.data(), bytes.size());
}

void ImatrixCollector::on_linear_input(const LinearInput& in) {
  if (in.n < options_.min_rows) return;
  if (in.layer < 0 && !options_.process_output) return;
  // Column sums of x² for this call: [k].
  scratch_.assign(static_cast<size_t>(in.k), 0.0);
  for (int64_t r = 0; r < in.n; ++r) {
    const float* row = in.x + r * in.k;
    for (int64_t j = 0; j < in.k; ++j) {
      scratch_[static_cast<size_t>(j)] += static_cast<double>(row[j]) * row[j];
    }
  }
  for (const std::string& name : in.weights) {
    Stats& st = stats_[name];
    if (st.sum_sq.empty()) st.sum_sq.assign(static_cast<size_t>(in.k), 0.0);
    if (st.sum_sq.size() != static_cast<size_t>(in.k)) continue;  // shape change: a bug upstream
    for (size_t j = 0; j < scratch_.size(); ++j) st.sum_sq[j] += scratch_[j];
    st.rows += in.n;
    ++st.ncall;
  }
}

Imatrix ImatrixCollector::result(const std::string& dataset) const {
  Imatrix m;
  m.dataset = dataset;
  for (const auto& [name, st] : stats_) {
    ImatrixEntry e;
    e.ncall = st.ncall;
    e.values.resize(st.sum_sq.size());
    for (size_t j = 0; j < st.sum_sq.size(); ++j) {
      e.values[j] = static_cast<float>(st.sum_sq[j] / static_cast<double>(st.rows) * st.ncall);
    }
    m.last_call = std::max(m.last_call, st.ncall);
    m.entries[name] = std::move(e);
  }
  return m;
}

}  // namespace quorum::quant
