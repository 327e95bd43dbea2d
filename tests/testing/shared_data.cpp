// Test helpers for locating ../shared.
#include "testing/shared_data.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace quorum::testing {

std::string shared_path(const std::string& rel) {
  const char* env = std::getenv("QUORUM_SHARED_DIR");
  const std::filesystem::path base = env != nullptr ? env : QUORUM_SHARED_DIR;
  const std::filesystem::path p = base / rel;
  EXPECT_TRUE(std::filesystem::exists(p)) << "missing shared file: " << p;
  return p.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_dir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path p = std::filesystem::temp_directory_path() /
                            ("quorum-test-" + tag + "-" + std::to_string(::getpid()) + "-" +
                             (info != nullptr ? info->name() : "x"));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace quorum::testing
