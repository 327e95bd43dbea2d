// Paths into ../shared (models, data, golden files) for tests. The location is fixed at
// configure time (QUORUM_SHARED_DIR) and can be overridden with the environment variable of the
// same name.
#pragma once

#include <string>
#include <vector>

namespace quorum::testing {

// Absolute path of `rel` inside the shared folder; the test fails (not skips) when it is missing.
std::string shared_path(const std::string& rel);
// Reads a whole file (test helper; fails the test on error).
std::string read_file(const std::string& path);
// A fresh temporary directory for one test.
std::string temp_dir(const std::string& tag);

}  // namespace quorum::testing
