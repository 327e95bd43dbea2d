// libFuzzer entry point for the GGUF reader: any bytes must parse or return an error, never
// crash, hang or read outside the buffer; a parsed file's accessors must be safe to call.
#include <cstddef>
#include <cstdint>

#include "io/gguf.h"

extern "C" int quorum_fuzz_parse(const uint8_t* data, size_t size) {
  auto f = quorum::gguf::File::parse(data, size, "fuzz.gguf");
  if (!f) return f.status().message().empty() ? -1 : 0;  // an error must say something
  size_t sink = 0;
  for (const auto& [key, v] : f->metadata()) sink += v.to_display_string().size() + key.size();
  (void)f->get_string_array("tokenizer.ggml.tokens");
  (void)f->get_float_array("tokenizer.ggml.scores");
  (void)f->get_int_or("llama.block_count", 0);
  for (const auto& t : f->tensors()) {
    if (t.nbytes > 0) sink += t.data[0] + t.data[t.nbytes - 1];
  }
  return sink == static_cast<size_t>(-1) ? -1 : 1;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)quorum_fuzz_parse(data, size);
  return 0;
}
