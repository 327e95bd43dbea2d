// Internal: steps shared by the GGUF and Hugging Face vocab loaders.
#pragma once

#include "tokenizer/vocab.h"

namespace quorum::tokenizer::detail {

// Applies the per-type defaults llama.cpp uses before reading the file's own keys.
Status apply_type_defaults(Vocab& v);
// llama.cpp's post-load fix-ups: end-of-turn tokens found by their text (and forced to CONTROL),
// Phi-3's right-stripping special tokens. Checks the special ids against the vocabulary.
Status finalize_vocab(Vocab& v, const std::string& where);

}  // namespace quorum::tokenizer::detail
