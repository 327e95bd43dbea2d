// MappedFile: both load modes give the file's bytes; kRead puts them on a 2 MiB boundary.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/mmap_file.h"

namespace quorum {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "." + std::to_string(::getpid()) + ".bin"))
      .string();
}

std::vector<uint8_t> write_random_file(const std::string& path, size_t size) {
  std::vector<uint8_t> bytes(size);
  std::mt19937 rng(7);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  EXPECT_TRUE(write_file_atomic(path, bytes.data(), bytes.size()).is_ok());
  return bytes;
}

TEST(MappedFile, BothModesReadTheSameBytes) {
  // Sizes around the 2 MiB page: below, exact, one byte over, several pages and a tail.
  for (size_t size : {size_t{1}, size_t{4095}, size_t{2} << 20, (size_t{2} << 20) + 1,
                      (size_t{5} << 20) + 123}) {
    const std::string path = temp_path("mmap_file_test");
    const std::vector<uint8_t> bytes = write_random_file(path, size);
    auto mapped = MappedFile::open(path, LoadMode::kMap);
    auto read = MappedFile::open(path, LoadMode::kRead);
    ASSERT_TRUE(mapped.is_ok()) << mapped.status().to_string();
    ASSERT_TRUE(read.is_ok()) << read.status().to_string();
    ASSERT_EQ((*mapped)->size(), size);
    ASSERT_EQ((*read)->size(), size);
    EXPECT_EQ(std::memcmp((*mapped)->data(), bytes.data(), size), 0) << size;
    EXPECT_EQ(std::memcmp((*read)->data(), bytes.data(), size), 0) << size;
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*read)->data()) % (size_t{2} << 20), 0u) << size;
    std::filesystem::remove(path);
  }
}

TEST(MappedFile, EmptyAndMissingFiles) {
  const std::string path = temp_path("mmap_file_empty");
  ASSERT_TRUE(write_file_atomic(path, "", 0).is_ok());
  for (LoadMode mode : {LoadMode::kMap, LoadMode::kRead}) {
    auto f = MappedFile::open(path, mode);
    ASSERT_TRUE(f.is_ok());
    EXPECT_EQ((*f)->size(), 0u);
    EXPECT_EQ((*f)->data(), nullptr);
    auto missing = MappedFile::open(path + ".missing", mode);
    ASSERT_FALSE(missing.is_ok());
    EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace quorum
