// Read-only memory-mapped files: model weights are mapped, never copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace quorum {

class MappedFile {
 public:
  // Maps the whole file read-only. An empty file maps to size 0 with a null data pointer.
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Whole-file helpers for small files (configs, JSON, text).
Result<std::string> read_text_file(const std::string& path);
// Writes atomically: to `path.tmp`, then renames over `path`, so a failed write never leaves a
// half-written file where the user's file was.
Status write_file_atomic(const std::string& path, const void* data, size_t size);

}  // namespace quorum
