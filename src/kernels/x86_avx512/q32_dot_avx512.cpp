// AVX-512 dot products of the 32-weight block types besides Q8_0: Q4_0, Q5_0 and IQ4_NL with
// Q8_0 activations, Q4_1 and Q5_1 with Q8_1, one activation column or four at once (matmul with
// n > 1 decodes each pair of weight blocks once for four columns). The scalar references are in
// ref/quant_dot_ref.cpp, the AVX2 versions in x86_avx2/q32_dot_avx2.cpp.
//
// Two blocks per 512-bit vector (bytes 0..31: block i in element order, 32..63: block i + 1).
// Each weight decodes to an unsigned byte u = w + offset (Q4_0: nibble = w + 8; Q5_0: nibble +
// 16 * high bit = w + 16; IQ4_NL: code book value + 128; the _1 types: u = w), VNNI vpdpbusd sums
// u * y exactly in int32 lanes, and the offset comes off as offset * sum(y), one more vpdpbusd
// of the constant with the activations. Int32 lanes 0..7 then hold block i, lanes 8..15 block
// i + 1; each is scaled in float by its block's d_w * d_x with FMA, and the _1 types add
// m_w * s_x per block. An odd last block runs alone with the upper half of the activations zero.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/avx512_util.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx512 {
namespace {

inline __m128i load16(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// The nibble bytes of two blocks -> 64 unsigned 4-bit codes: bytes 0..15 the low nibbles of
// qs0 (elements 0..15), 16..31 its high nibbles (elements 16..31), 32..63 the same for qs1.
inline __m512i nibbles2(const uint8_t* qs0, const uint8_t* qs1) {
  // 128-bit lanes (qs0, qs0, qs1, qs1), then the odd lanes shifted down by a nibble.
  const __m512i v =
      _mm512_mask_broadcast_i32x4(_mm512_broadcast_i32x4(load16(qs0)), 0xFF00, load16(qs1));
  const __m512i s = _mm512_mask_srli_epi16(v, 0xFF00FF00u, v, 4);
  return _mm512_and_si512(s, _mm512_set1_epi8(0x0F));
}

// The 32 high bits of two Q5 blocks (bit j: element j) as a mask over the bytes of nibbles2.
inline __mmask64 high_bits2(const uint8_t* qh0, const uint8_t* qh1) {
  uint32_t h0, h1;
  std::memcpy(&h0, qh0, 4);
  std::memcpy(&h1, qh1, 4);
  return _cvtu64_mask64(static_cast<uint64_t>(h0) | (static_cast<uint64_t>(h1) << 32));
}

// nibble + 16 * high bit, unsigned.
inline __m512i five_bits2(const uint8_t* qs0, const uint8_t* qh0, const uint8_t* qs1,
                          const uint8_t* qh1) {
  const __m512i q = nibbles2(qs0, qs1);
  return _mm512_mask_add_epi8(q, high_bits2(qh0, qh1), q, _mm512_set1_epi8(16));
}

// The F16 fields a block starts with: d alone (kMin false) or d and its neighbour (m of Q4_1 /
// Q5_1, s of Q8_1; kMin true), as raw bits.
template <bool kMin, typename Block>
inline uint32_t head_bits(const Block& b) {
  uint32_t v = 0;
  std::memcpy(&v, &b, kMin ? 4 : 2);
  return v;
}
// Two blocks' head fields as floats: (d0, d1, 0, 0), or (d0, m0, d1, m1) with kMin.
template <bool kMin>
inline __m128 heads2(uint32_t h0, uint32_t h1) {
  const uint64_t both = static_cast<uint64_t>(h0) | (static_cast<uint64_t>(h1) << (kMin ? 32 : 16));
  return _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(both)));
}

// Sums of NC columns, blocks of weight type W (decoded by `decode`, see the file comment) with
// activation blocks X; column c starts at x + c * x_stride bytes.
template <int NC, bool kMin, int kOffset, typename W, typename X>
struct PairDot {
  __m512 acc[NC];
  __m128 mins[NC];  // lanes 1 and 3: m_w * s_x of even / odd blocks (kMin)
  __m512i offset = _mm512_set1_epi8(static_cast<char>(kOffset));  // u - w in every byte
  __m512i spread;  // float lane -> scale lane: 0..7 take block i's d_w d_x, 8..15 block i + 1's

  PairDot() {
    for (int c = 0; c < NC; ++c) {
      acc[c] = _mm512_setzero_ps();
      mins[c] = _mm_setzero_ps();
    }
    spread = _mm512_set_epi32(kMin ? 2 : 1, kMin ? 2 : 1, kMin ? 2 : 1, kMin ? 2 : 1, kMin ? 2 : 1,
                              kMin ? 2 : 1, kMin ? 2 : 1, kMin ? 2 : 1,  //
                              0, 0, 0, 0, 0, 0, 0, 0);
  }

  // Blocks i and i + 1 (kPair) or block i alone, u their decoded weights.
  template <bool kPair>
  inline void step(const W* a, const uint8_t* x, size_t x_stride, int64_t i, __m512i u) {
    const __m128 dw = heads2<kMin>(head_bits<kMin>(a[i]), kPair ? head_bits<kMin>(a[i + 1]) : 0);
    for (int c = 0; c < NC; ++c) {
      const X* b = reinterpret_cast<const X*>(x + c * x_stride);
      const __m512i y = kPair ? join(load32(b[i].qs), load32(b[i + 1].qs))
                              : _mm512_maskz_loadu_epi8(0xFFFFFFFFull, b[i].qs);
      __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, y);
      if constexpr (kOffset != 0) {
        p = _mm512_sub_epi32(p, _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, y));
      }
      const __m128 d = _mm_mul_ps(
          dw, heads2<kMin>(head_bits<kMin>(b[i]), kPair ? head_bits<kMin>(b[i + 1]) : 0));
      acc[c] = _mm512_fmadd_ps(_mm512_permutexvar_ps(spread, _mm512_castps128_ps512(d)),
                               _mm512_cvtepi32_ps(p), acc[c]);
      if (kMin) mins[c] = _mm_add_ps(mins[c], d);
    }
  }

  inline void finish(float* out) const {
    for (int c = 0; c < NC; ++c) {
      float s = _mm512_reduce_add_ps(acc[c]);
      if (kMin) {
        alignas(16) float m[4];
        _mm_store_ps(m, mins[c]);
        s += m[1] + m[3];
      }
      out[c] = s;
    }
  }
};

// decode(qs_block_i, block_j) -> __m512i of u for blocks i and j (j = i for a lone last block;
// its upper half then meets zero activations).
template <int NC, bool kMin, int kOffset, typename X, typename W, typename Decode>
inline void dot_blocks(const W* a, const void* x, size_t x_stride, int64_t k, Decode decode,
                       float* out) {
  const uint8_t* xb = static_cast<const uint8_t*>(x);
  const int64_t nb = k / 32;
  PairDot<NC, kMin, kOffset, W, X> d;
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) d.template step<true>(a, xb, x_stride, i, decode(a[i], a[i + 1]));
  if (i < nb) d.template step<false>(a, xb, x_stride, i, decode(a[i], a[i]));
  d.finish(out);
}

inline __m512i decode_q4_0(const BlockQ4_0& b0, const BlockQ4_0& b1) {
  return nibbles2(b0.qs, b1.qs);
}
inline __m512i decode_q4_1(const BlockQ4_1& b0, const BlockQ4_1& b1) {
  return nibbles2(b0.qs, b1.qs);
}
inline __m512i decode_q5_0(const BlockQ5_0& b0, const BlockQ5_0& b1) {
  return five_bits2(b0.qs, b0.qh, b1.qs, b1.qh);
}
inline __m512i decode_q5_1(const BlockQ5_1& b0, const BlockQ5_1& b1) {
  return five_bits2(b0.qs, b0.qh, b1.qs, b1.qh);
}
// IQ4_NL: the 16-entry code book + 128 (flipped sign bit) in every 128-bit lane, looked up by
// nibble with pshufb.
struct DecodeIq4Nl {
  __m512i book = _mm512_xor_si512(
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kValuesIQ4_NL))),
      _mm512_set1_epi8(static_cast<char>(0x80)));
  inline __m512i operator()(const BlockIQ4_NL& b0, const BlockIQ4_NL& b1) const {
    return _mm512_shuffle_epi8(book, nibbles2(b0.qs, b1.qs));
  }
};

}  // namespace

float dot_q4_0_q8_0(const void* w, const void* x, int64_t k) {
  float out;
  dot_blocks<1, false, 8, BlockQ8_0>(static_cast<const BlockQ4_0*>(w), x, 0, k, decode_q4_0, &out);
  return out;
}
void dot4_q4_0_q8_0(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  dot_blocks<4, false, 8, BlockQ8_0>(static_cast<const BlockQ4_0*>(w), x, x_stride, k, decode_q4_0,
                                     out);
}

float dot_q4_1_q8_1(const void* w, const void* x, int64_t k) {
  float out;
  dot_blocks<1, true, 0, BlockQ8_1>(static_cast<const BlockQ4_1*>(w), x, 0, k, decode_q4_1, &out);
  return out;
}
void dot4_q4_1_q8_1(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  dot_blocks<4, true, 0, BlockQ8_1>(static_cast<const BlockQ4_1*>(w), x, x_stride, k, decode_q4_1,
                                    out);
}

float dot_q5_0_q8_0(const void* w, const void* x, int64_t k) {
  float out;
  dot_blocks<1, false, 16, BlockQ8_0>(static_cast<const BlockQ5_0*>(w), x, 0, k, decode_q5_0, &out);
  return out;
}
void dot4_q5_0_q8_0(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  dot_blocks<4, false, 16, BlockQ8_0>(static_cast<const BlockQ5_0*>(w), x, x_stride, k, decode_q5_0,
                                      out);
}

float dot_q5_1_q8_1(const void* w, const void* x, int64_t k) {
  float out;
  dot_blocks<1, true, 0, BlockQ8_1>(static_cast<const BlockQ5_1*>(w), x, 0, k, decode_q5_1, &out);
  return out;
}
void dot4_q5_1_q8_1(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  dot_blocks<4, true, 0, BlockQ8_1>(static_cast<const BlockQ5_1*>(w), x, x_stride, k, decode_q5_1,
                                    out);
}

float dot_iq4_nl_q8_0(const void* w, const void* x, int64_t k) {
  float out;
  dot_blocks<1, false, 128, BlockQ8_0>(static_cast<const BlockIQ4_NL*>(w), x, 0, k, DecodeIq4Nl{},
                                       &out);
  return out;
}
void dot4_iq4_nl_q8_0(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  dot_blocks<4, false, 128, BlockQ8_0>(static_cast<const BlockIQ4_NL*>(w), x, x_stride, k,
                                       DecodeIq4Nl{}, out);
}

}  // namespace quorum::kernels::avx512
