// Per-type quant-bit layouts for BlockGrid (see gptq_grid.h). Each pack function writes codes in
// [0, 2^bits) where ggml's dequantizer reads them; the unit test checks every layout by packing
// the codes of RTN-quantized blocks back and comparing bytes.
#include "quant/gptq_grid.h"

#include <cmath>
#include <cstring>

#include "tensor/blocks.h"

namespace quorum::quant {
namespace {

// 32-weight blocks with nibbles: low nibble = weight j, high = weight j + 16 (Q4_0, Q4_1, IQ4_NL).
template <size_t kQsOffset>
void pack_nibbles32(const uint8_t* q, uint8_t* block) {
  uint8_t* qs = block + kQsOffset;
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>((q[j] & 15) | (q[j + 16] & 15) << 4);
}

// Q5_0 / Q5_1: nibbles as above, the 5th bit of weight i in bit i of qh (little endian).
template <size_t kQhOffset, size_t kQsOffset>
void pack_q5(const uint8_t* q, uint8_t* block) {
  pack_nibbles32<kQsOffset>(q, block);
  uint32_t qh = 0;
  for (int i = 0; i < 32; ++i) qh |= static_cast<uint32_t>((q[i] >> 4) & 1) << i;
  std::memcpy(block + kQhOffset, &qh, 4);
}

void pack_q8_0(const uint8_t* q, uint8_t* block) {
  for (int i = 0; i < 32; ++i) block[2 + i] = static_cast<uint8_t>(static_cast<int>(q[i]) - 128);
}

// Q2_K: weight 128n + 32j + l has its 2 bits at qs[32n + l], bits 2j.
void pack_q2_k(const uint8_t* q, uint8_t* block) {
  uint8_t* qs = block + offsetof(BlockQ2_K, qs);
  for (int n = 0; n < 2; ++n) {
    for (int l = 0; l < 32; ++l) {
      uint8_t v = 0;
      for (int j = 0; j < 4; ++j) v |= static_cast<uint8_t>((q[128 * n + 32 * j + l] & 3) << (2 * j));
      qs[32 * n + l] = v;
    }
  }
}

// Q3_K: low 2 bits as Q2_K; the third bit of weight 128n + 32j + l at hmask[l], bit 4n + j.
void pack_q3_k(const uint8_t* q, uint8_t* block) {
  uint8_t* hm = block + offsetof(BlockQ3_K, hmask);
  uint8_t* qs = block + offsetof(BlockQ3_K, qs);
  std::memset(hm, 0, 32);
  for (int n = 0; n < 2; ++n) {
    for (int l = 0; l < 32; ++l) {
      uint8_t v = 0;
      for (int j = 0; j < 4; ++j) {
        const uint8_t c = q[128 * n + 32 * j + l];
        v |= static_cast<uint8_t>((c & 3) << (2 * j));
        hm[l] |= static_cast<uint8_t>(((c >> 2) & 1) << (4 * n + j));
      }
      qs[32 * n + l] = v;
    }
  }
}

// Q4_K / Q5_K low nibbles: chunk j of 64 weights at qs[32j + l]: weight 64j + l low, + 32 high.
void pack_k_nibbles(const uint8_t* q, uint8_t* qs) {
  for (int j = 0; j < 4; ++j) {
    for (int l = 0; l < 32; ++l) {
      qs[32 * j + l] =
          static_cast<uint8_t>((q[64 * j + l] & 15) | (q[64 * j + 32 + l] & 15) << 4);
    }
  }
}

void pack_q4_k(const uint8_t* q, uint8_t* block) {
  pack_k_nibbles(q, block + offsetof(BlockQ4_K, qs));
}

// Q5_K: the 5th bit of weight 64j + l at qh[l] bit 2j, of weight 64j + 32 + l at bit 2j + 1.
void pack_q5_k(const uint8_t* q, uint8_t* block) {
  pack_k_nibbles(q, block + offsetof(BlockQ5_K, qs));
  uint8_t* qh = block + offsetof(BlockQ5_K, qh);
  for (int l = 0; l < 32; ++l) {
    uint8_t v = 0;
    for (int j = 0; j < 4; ++j) {
      v |= static_cast<uint8_t>(((q[64 * j + l] >> 4) & 1) << (2 * j));
      v |= static_cast<uint8_t>(((q[64 * j + 32 + l] >> 4) & 1) << (2 * j + 1));
    }
    qh[l] = v;
  }
}

// Q6_K: half n (128 weights), l < 32: weights 128n + {0, 32, 64, 96} + l take the low nibble of
// ql[64n + l], ql[64n + 32 + l], the high nibble of the same two, and bits {0, 2, 4, 6} of
// qh[32n + l] as their upper 2 bits.
void pack_q6_k(const uint8_t* q, uint8_t* block) {
  uint8_t* ql = block + offsetof(BlockQ6_K, ql);
  uint8_t* qh = block + offsetof(BlockQ6_K, qh);
  for (int n = 0; n < 2; ++n) {
    const uint8_t* c = q + 128 * n;
    for (int l = 0; l < 32; ++l) {
      ql[64 * n + l] = static_cast<uint8_t>((c[l] & 15) | (c[64 + l] & 15) << 4);
      ql[64 * n + 32 + l] = static_cast<uint8_t>((c[32 + l] & 15) | (c[96 + l] & 15) << 4);
      qh[32 * n + l] = static_cast<uint8_t>((c[l] >> 4 & 3) | (c[32 + l] >> 4 & 3) << 2 |
                                            (c[64 + l] >> 4 & 3) << 4 | (c[96 + l] >> 4 & 3) << 6);
    }
  }
}

constexpr BlockGrid kGrids[] = {
    {DType::kQ4_0, 16, nullptr, pack_nibbles32<offsetof(BlockQ4_0, qs)>},
    {DType::kQ4_1, 16, nullptr, pack_nibbles32<offsetof(BlockQ4_1, qs)>},
    {DType::kQ5_0, 32, nullptr, pack_q5<offsetof(BlockQ5_0, qh), offsetof(BlockQ5_0, qs)>},
    {DType::kQ5_1, 32, nullptr, pack_q5<offsetof(BlockQ5_1, qh), offsetof(BlockQ5_1, qs)>},
    {DType::kQ8_0, 256, nullptr, pack_q8_0},
    {DType::kQ2_K, 4, nullptr, pack_q2_k},
    {DType::kQ3_K, 8, nullptr, pack_q3_k},
    {DType::kQ4_K, 16, nullptr, pack_q4_k},
    {DType::kQ5_K, 32, nullptr, pack_q5_k},
    {DType::kQ6_K, 64, nullptr, pack_q6_k},
    {DType::kIQ4_NL, 16, kValuesIQ4_NL, pack_nibbles32<offsetof(BlockIQ4_NL, qs)>},
};

}  // namespace

const BlockGrid* BlockGrid::find(DType type) {
  for (const BlockGrid& g : kGrids) {
    if (g.type_ == type) return &g;
  }
  return nullptr;
}

void BlockGrid::grid(const uint8_t* block, float* a, float* b, std::vector<uint8_t>& scratch,
                     std::vector<float>& values) const {
  // Dequantize with every code 0, then with every code n_levels - 1: value = a*level + b.
  const int bs = block_size();
  const auto n = static_cast<size_t>(bs);
  const ToFloatFn to_float = traits(type_).to_float;
  scratch.assign(block, block + block_bytes());
  values.resize(2 * n);
  std::vector<uint8_t> codes(n, 0);
  pack_(codes.data(), scratch.data());
  to_float(scratch.data(), values.data(), bs);
  codes.assign(n, static_cast<uint8_t>(n_levels_ - 1));
  pack_(codes.data(), scratch.data());
  to_float(scratch.data(), values.data() + n, bs);
  const float l0 = levels_ ? levels_[0] : 0.0f;
  const float l1 = levels_ ? levels_[n_levels_ - 1] : static_cast<float>(n_levels_ - 1);
  for (size_t i = 0; i < n; ++i) {
    a[i] = (values[n + i] - values[i]) / (l1 - l0);
    b[i] = values[i] - a[i] * l0;
  }
}

uint8_t BlockGrid::round(float x, float a, float b, float* value) const {
  if (a == 0.0f) {
    *value = b;
    return 0;
  }
  if (levels_ == nullptr) {
    float q = std::nearbyint((x - b) / a);
    q = std::fmin(std::fmax(q, 0.0f), static_cast<float>(n_levels_ - 1));
    *value = a * q + b;
    return static_cast<uint8_t>(q);
  }
  int best = 0;
  float best_err = INFINITY;
  for (int q = 0; q < n_levels_; ++q) {
    const float err = std::fabs(a * levels_[q] + b - x);
    if (err < best_err) {
      best_err = err;
      best = q;
    }
  }
  *value = a * levels_[best] + b;
  return static_cast<uint8_t>(best);
}

}  // namespace quorum::quant
