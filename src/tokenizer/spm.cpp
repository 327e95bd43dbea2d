// SentencePiece-style tokenization of one text fragment (spaces already escaped to U+2581), as
// llama.cpp's llm_tokenizer_spm_session does it.
//
// The text starts as one symbol per UTF-8 character in a doubly linked list. Every adjacent pair
// whose concatenation is a vocabulary token is queued with that token's score; the best pair
// (highest score, then leftmost) is merged and its new neighbours are queued, until no queued
// pair is still valid. Each final symbol is emitted as its token if it is one, else as <0xXX>
// byte tokens. (llama.cpp also keeps a "rev_merge" map to re-split symbols that are not tokens;
// only tokens are ever merged, so the only non-token symbols are single characters, which no
// merge produced: that path never runs and is left out.)
//
// Speed: merges never cross a point no token spans. When no token has U+2581 after a different
// character (true of Llama-style vocabularies; checked at load), the text is cut before each
// word-initial U+2581 and every word is merged on its own — the same merges, done with small
// queues. Otherwise the whole fragment is one queue. Either way O(n log n).
#include <queue>

#include "tokenizer/tokenizer.h"

namespace quorum::tokenizer {
namespace {

struct Symbol {
  int prev, next;
  const char* text;
  size_t n;  // bytes; 0 once merged into the left neighbour
};

struct Bigram {
  int left, right;
  float score;
  size_t size;
};

struct BigramOrder {  // priority_queue top = highest score, then smallest left index
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

}  // namespace

void Tokenizer::encode_spm(std::string_view text, std::vector<int32_t>& out) const {
  if (!spm_split_words_) {
    encode_spm_word(text, out);
    return;
  }
  // Cut at character starts (as the symbol scan below sees them, so invalid UTF-8 splits the
  // same way) where a U+2581 follows bytes that are not U+2581.
  constexpr std::string_view kSpace = "\xE2\x96\x81";
  size_t start = 0;
  for (size_t pos = 0; pos < text.size(); pos += utf8_len(text[pos])) {
    if (pos > 0 && text.compare(pos, kSpace.size(), kSpace) == 0 &&
        (pos < kSpace.size() || text.compare(pos - kSpace.size(), kSpace.size(), kSpace) != 0)) {
      encode_spm_word(text.substr(start, pos - start), out);
      start = pos;
    }
  }
  encode_spm_word(text.substr(start), out);
}

void Tokenizer::encode_spm_word(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t offs = 0; offs < text.size();) {
    const size_t len = std::min(text.size() - offs, utf8_len(text[offs]));
    const int idx = static_cast<int>(symbols.size());
    symbols.push_back({idx - 1, offs + len == text.size() ? -1 : idx + 1, text.data() + offs, len});
    offs += len;
  }
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_add_bigram = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const std::string_view merged(symbols[left].text, symbols[left].n + symbols[right].n);
    const int32_t id = find_token(merged);
    if (id == kNoToken) return;
    queue.push({left, right, vocab_.tokens[id].score, merged.size()});
  };

  for (size_t i = 1; i < symbols.size(); ++i) try_add_bigram(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = symbols[b.left];
    Symbol& r = symbols[b.right];
    // Skip a pair one of whose symbols has changed since it was queued.
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = b.left;
    try_add_bigram(l.prev, b.left);
    try_add_bigram(b.left, l.next);
  }

  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const std::string_view piece(symbols[i].text, symbols[i].n);
    const int32_t id = find_token(piece);
    if (id != kNoToken) {
      out.push_back(id);
    } else {
      for (char c : piece) out.push_back(byte_to_token(static_cast<uint8_t>(c)));
    }
  }
}

}  // namespace quorum::tokenizer
