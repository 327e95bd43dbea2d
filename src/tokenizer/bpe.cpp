// Byte-level BPE tokenization of one text fragment, as llama.cpp's llm_tokenizer_bpe_session
// does it: pre-tokenize with the regexes, map each piece's bytes to the GPT-2 alphabet, then per
// piece merge adjacent symbols by merge rank (lowest rank first, leftmost on ties). With
// ignore_merges (llama-bpe), a piece that is itself a token is emitted whole. A final symbol
// that is not a token is emitted byte by byte where single bytes are tokens.
// Cost: O(n log n) per piece; pieces are bounded by the regexes only, so a long word is still
// n log n, never quadratic.
#include <queue>

#include "tokenizer/tokenizer.h"

namespace quorum::tokenizer {
namespace {

struct Symbol {
  int prev, next;
  const char* text;
  size_t n;
};

struct Bigram {
  int left, right;
  int32_t rank;
  size_t size;
};

struct BigramOrder {  // priority_queue top = lowest rank, then smallest left index
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

}  // namespace

void Tokenizer::encode_bpe(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<Symbol> symbols;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  std::string key;

  auto add_bigram = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    key.assign(l.text, l.n);
    key.push_back(' ');
    key.append(r.text, r.n);
    const auto it = merge_rank_.find(key);
    if (it == merge_rank_.end()) return;
    queue.push({left, right, it->second, l.n + r.n});
  };

  for (const std::string& raw_word : splitter_.split(text)) {
    const std::string word = byte_map_.encode(raw_word);
    symbols.clear();
    queue = {};
    if (vocab_.ignore_merges && find_token(word) != kNoToken) {
      symbols.push_back({-1, -1, word.data(), word.size()});
    } else {
      for (size_t offs = 0; offs < word.size();) {
        const size_t len = std::min(word.size() - offs, utf8_len(word[offs]));
        const int idx = static_cast<int>(symbols.size());
        symbols.push_back({idx - 1, offs + len == word.size() ? -1 : idx + 1, word.data() + offs, len});
        offs += len;
      }
    }
    for (size_t i = 1; i < symbols.size(); ++i) add_bigram(static_cast<int>(i) - 1, static_cast<int>(i));

    while (!queue.empty()) {
      const Bigram b = queue.top();
      queue.pop();
      Symbol& l = symbols[b.left];
      Symbol& r = symbols[b.right];
      // The pair's text starts at l.text, so it is unchanged iff the sizes still add up.
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) symbols[r.next].prev = b.left;
      add_bigram(l.prev, b.left);
      add_bigram(b.left, l.next);
    }

    for (const Symbol& s : symbols) {
      if (s.n == 0) continue;
      const std::string_view piece(s.text, s.n);
      const int32_t id = find_token(piece);
      if (id != kNoToken) {
        out.push_back(id);
        continue;
      }
      for (char c : piece) {
        const int32_t b = find_token(std::string_view(&c, 1));
        if (b != kNoToken) out.push_back(b);
      }
    }
  }
}

}  // namespace quorum::tokenizer
