// Block layouts of the quantized types, byte-for-byte identical to ggml's (ggml-common.h), so a
// GGUF tensor's bytes can be read as an array of these structs. Every size is static_assert'ed
// against the traits table's type_size.
//
// Notation: a block holds `QK` weights; `d` is the scale, `m`/`dmin` the offset; sub-block scales
// of K-quants are packed (6-bit for Q4_K/Q5_K, 4-bit for Q2_K, 6-bit signed for Q3_K, 8-bit
// signed for Q6_K).
#pragma once

#include <cstdint>

#include "core/fp16.h"

namespace quorum {

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK4_NL = 32;
inline constexpr int kQK_K = 256;        // super-block size of K-quants and IQ types
inline constexpr int kKScaleSize = 12;   // packed 6-bit scales/mins of Q4_K and Q5_K

struct BlockQ4_0 {
  f16_t d;                  // scale
  uint8_t qs[kQK4_0 / 2];   // nibbles: low nibble = weight j, high nibble = weight j + 16
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4_1 {
  f16_t d;                  // scale
  f16_t m;                  // min
  uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ5_0 {
  f16_t d;
  uint8_t qh[4];            // 5th bit of each of the 32 weights
  uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

struct BlockQ5_1 {
  f16_t d;
  f16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

struct BlockQ8_0 {
  f16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ8_1 {
  f16_t d;                  // scale
  f16_t s;                  // d * sum(qs)
  int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 36);

struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];  // 4-bit scale (low) and 4-bit min (high) per 16 weights
  uint8_t qs[kQK_K / 4];       // 2-bit quants
  f16_t d;                     // super-block scale of the scales
  f16_t dmin;                  // super-block scale of the mins
};
static_assert(sizeof(BlockQ2_K) == 84);

struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];    // high bit of the 3-bit quants
  uint8_t qs[kQK_K / 4];       // low 2 bits
  uint8_t scales[12];          // 16 6-bit scales, packed
  f16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

struct BlockQ4_K {
  f16_t d;                     // super-block scale of the scales
  f16_t dmin;                  // super-block scale of the mins
  uint8_t scales[kKScaleSize]; // 8 6-bit scales and 8 6-bit mins, packed
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ5_K {
  f16_t d;
  f16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];       // low 4 bits
  uint8_t qh[kQK_K / 4];       // high 2 bits
  int8_t scales[kQK_K / 16];   // 8-bit signed scales
  f16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

struct BlockQ8_K {
  float d;                     // scale (F32, unlike the others)
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];   // sums of groups of 16 quants
};
static_assert(sizeof(BlockQ8_K) == 292);

struct BlockIQ2_XXS {
  f16_t d;
  uint16_t qs[kQK_K / 8];      // grid indices, signs and 4-bit scales, 8 bytes per 32 weights
};
static_assert(sizeof(BlockIQ2_XXS) == 66);

struct BlockIQ2_XS {
  f16_t d;
  uint16_t qs[kQK_K / 8];      // 9-bit grid index + 7-bit sign index per 8 weights
  uint8_t scales[kQK_K / 32];  // two 4-bit scales per 32 weights
};
static_assert(sizeof(BlockIQ2_XS) == 74);

struct BlockIQ4_NL {
  f16_t d;
  uint8_t qs[kQK4_NL / 2];     // 4-bit indices into the non-linear table kValuesIQ4_NL
};
static_assert(sizeof(BlockIQ4_NL) == 18);

// The non-linear 4-bit code book of IQ4_NL (ggml's kvalues_iq4nl).
inline constexpr int8_t kValuesIQ4_NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                             1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace quorum
