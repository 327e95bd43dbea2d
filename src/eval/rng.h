// A small deterministic random generator (SplitMix64, Steele et al. 2014) for seeded choices in
// evaluation: bootstrap resampling, tie-breaks, debate shuffles. The same seed gives the same
// sequence on every platform (unlike std::uniform_int_distribution), and a seed can be mixed with
// an item id so each item's choice is independent of the order items are processed in.
#pragma once

#include <cstdint>
#include <string_view>

namespace quorum::eval {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n > 0 (rejection sampling, no modulo bias).
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = next();
    } while (x >= limit);
    return x % n;
  }

 private:
  uint64_t state_;
};

// FNV-1a of a string, mixed with a seed: a per-item seed that does not depend on item order.
inline uint64_t mix_seed(uint64_t seed, std::string_view key) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return SplitMix64(h).next();
}

}  // namespace quorum::eval
