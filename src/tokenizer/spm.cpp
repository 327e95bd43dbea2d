// SentencePiece-style tokenization of one text fragment (spaces already escaped to U+2581), as
// llama.cpp's llm_tokenizer_spm_session does it.
//
// The text starts as one symbol per UTF-8 character in a doubly linked list. Every adjacent pair
// whose concatenation is a vocabulary token is queued with that token's score; the best pair
// (highest score, then leftmost) is merged and its new neighbours are queued, until no queued
// pair is still valid. Each final symbol is emitted as its token if it is one; otherwise it is
// re-split along the merge that produced it (rev_merge) and, at the bottom, as <0xXX> byte
// tokens. Cost: O(n log n) in the text length; each merge looks up one short string.
#include <queue>
#include <unordered_map>

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
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t offs = 0; offs < text.size();) {
    const size_t len = std::min(text.size() - offs, utf8_len(text[offs]));
    const int idx = static_cast<int>(symbols.size());
    symbols.push_back({idx - 1, offs + len == text.size() ? -1 : idx + 1, text.data() + offs, len});
    offs += len;
  }
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  // Merged text -> the pair of symbols it was last built from (for re-splitting).
  std::unordered_map<std::string_view, std::pair<int, int>> rev_merge;

  auto try_add_bigram = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const std::string_view merged(symbols[left].text, symbols[left].n + symbols[right].n);
    const int32_t id = find_token(merged);
    if (id == kNoToken) return;
    queue.push({left, right, vocab_.tokens[id].score, merged.size()});
    rev_merge[merged] = {left, right};
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

  // Emits a symbol's token, or re-splits it along its merge, or falls back to bytes.
  auto resegment = [&](auto&& self, const Symbol& s) -> void {
    const std::string_view piece(s.text, s.n);
    const int32_t id = find_token(piece);
    if (id != kNoToken) {
      out.push_back(id);
      return;
    }
    const auto it = rev_merge.find(piece);
    if (it == rev_merge.end()) {
      for (char c : piece) out.push_back(byte_to_token(static_cast<uint8_t>(c)));
      return;
    }
    self(self, symbols[it->second.first]);
    self(self, symbols[it->second.second]);
  };
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) resegment(resegment, symbols[i]);
}

}  // namespace quorum::tokenizer
