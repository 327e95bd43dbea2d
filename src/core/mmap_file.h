// Read-only files in memory: model weights are mapped (the default, never copied), or read into
// anonymous memory on 2 MiB pages (LoadMode::kRead, the --no-mmap of the engine verbs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace quorum {

// kMap: mmap the file (pages come from the page cache, 4 KiB each, loaded on first touch).
// kRead: read the whole file into anonymous memory advised as transparent huge pages
//   (MADV_HUGEPAGE; with THP "madvise" or "always" the kernel backs it with 2 MiB pages), then
//   make it read-only. Costs a copy at open and the file's size in private memory, and saves the
//   TLB misses and page-boundary prefetch stops of 4 KiB pages when the weights are streamed
//   every token (see docs/PERFORMANCE.md).
enum class LoadMode { kMap, kRead };

class MappedFile {
 public:
  // The whole file, read-only. An empty file gives size 0 with a null data pointer.
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path,
                                                  LoadMode mode = LoadMode::kMap);
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
  void* region_ = nullptr;  // what munmap releases (kRead: the aligned anonymous region)
  size_t region_size_ = 0;
  std::string path_;
};

// Whole-file helpers for small files (configs, JSON, text).
Result<std::string> read_text_file(const std::string& path);
// Writes atomically: to `path.tmp`, then renames over `path`, so a failed write never leaves a
// half-written file where the user's file was.
Status write_file_atomic(const std::string& path, const void* data, size_t size);

}  // namespace quorum
