// libFuzzer entry point for the safetensors reader: any bytes must parse or return an error,
// never crash; a parsed file's tensors must lie inside the buffer.
#include <cstddef>
#include <cstdint>

#include "io/safetensors.h"

extern "C" int quorum_fuzz_parse(const uint8_t* data, size_t size) {
  auto f = quorum::safetensors::File::parse(data, size, "fuzz.safetensors");
  if (!f) return f.status().message().empty() ? -1 : 0;
  size_t sink = 0;
  for (const auto& t : f->tensors()) {
    if (t.data < data || t.data + t.nbytes > data + size) return -1;
    if (t.nbytes > 0) sink += t.data[0] + t.data[t.nbytes - 1];
    (void)f->find(t.name);
  }
  return sink == static_cast<size_t>(-1) ? -1 : 1;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)quorum_fuzz_parse(data, size);
  return 0;
}
