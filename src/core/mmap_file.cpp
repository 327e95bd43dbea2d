// MappedFile (POSIX mmap) and small whole-file helpers.
#include "core/mmap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace quorum {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// Reads `size` bytes of fd into dst (read() may return less than asked).
Status read_all(int fd, uint8_t* dst, size_t size, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const size_t want = std::min<size_t>(size - done, size_t{64} << 20);
    const ssize_t got = ::read(fd, dst + done, want);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return Error(ErrorCode::kIoError, got < 0 ? "read failed" : "file ended early")
          .where(path)
          .expected(std::to_string(size) + " bytes")
          .actual(got < 0 ? std::string(std::strerror(errno)) : std::to_string(done) + " bytes");
    }
    done += static_cast<size_t>(got);
  }
  return Status::ok();
}

}  // namespace

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path, LoadMode mode) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIoError,
                 "cannot open file")
        .where(path)
        .actual(std::strerror(err));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::kIoError, "not a regular file").where(path);
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0 && mode == LoadMode::kMap) {
    void* p = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return Error(ErrorCode::kIoError, "mmap failed").where(path).actual(std::strerror(err));
    }
    f->data_ = static_cast<const uint8_t*>(p);
    f->region_ = p;
    f->region_size_ = f->size_;
  } else if (f->size_ > 0) {
    // One huge page more than needed, so the data can start on a 2 MiB boundary; whole huge
    // pages, so the last one can be a huge page too.
    const size_t rounded = (f->size_ + kHugePage - 1) / kHugePage * kHugePage;
    const size_t region_size = rounded + kHugePage;
    void* region = mmap(nullptr, region_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    if (region == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return Error(ErrorCode::kOutOfMemory, "cannot allocate memory for the file")
          .where(path)
          .expected(std::to_string(region_size) + " bytes")
          .actual(std::strerror(err))
          .hint("load with mmap (drop --no-mmap)");
    }
    f->region_ = region;
    f->region_size_ = region_size;
    auto* base = reinterpret_cast<uint8_t*>(
        (reinterpret_cast<uintptr_t>(region) + kHugePage - 1) / kHugePage * kHugePage);
    madvise(base, rounded, MADV_HUGEPAGE);  // advice only: without THP, 4 KiB pages still work
    if (Status s = read_all(fd, base, f->size_, path); !s.is_ok()) {
      ::close(fd);
      return s;
    }
    mprotect(region, region_size, PROT_READ);
    f->data_ = base;
  }
  ::close(fd);
  return f;
}

MappedFile::~MappedFile() {
  if (region_ != nullptr) munmap(region_, region_size_);
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::kNotFound, "cannot open file").where(path).actual(std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status write_file_atomic(const std::string& path, const void* data, size_t size) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return Error(ErrorCode::kIoError, "cannot create file").where(tmp).actual(std::strerror(errno));
  }
  const bool ok = std::fwrite(data, 1, size, f) == size;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(ErrorCode::kIoError, "cannot write file").where(path).actual(std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace quorum
