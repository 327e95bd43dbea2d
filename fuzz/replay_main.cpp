// Replay driver: runs a fuzz target over every file of a seed corpus without libFuzzer, so the
// entry points run in every normal build and in CI. Files named valid.* must parse; every other
// file must parse or fail with a message (quorum_fuzz_parse returns -1 on a broken invariant).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int quorum_fuzz_parse(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  int files = 0, failures = 0;
  for (int i = 1; i < argc; ++i) {
    std::vector<std::filesystem::path> paths;
    if (std::filesystem::is_directory(argv[i])) {
      for (const auto& e : std::filesystem::directory_iterator(argv[i])) paths.push_back(e.path());
    } else {
      paths.emplace_back(argv[i]);
    }
    for (const auto& p : paths) {
      std::ifstream in(p, std::ios::binary);
      std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const int r = quorum_fuzz_parse(b.data(), b.size());
      LLVMFuzzerTestOneInput(b.data(), b.size());
      const bool must_parse = p.filename().string().rfind("valid", 0) == 0;
      if (r < 0 || (must_parse && r != 1)) {
        std::fprintf(stderr, "FAIL %s (result %d)\n", p.string().c_str(), r);
        ++failures;
      }
      ++files;
    }
  }
  std::printf("%d files replayed, %d failures\n", files, failures);
  return (files == 0 || failures != 0) ? 1 : 0;
}
