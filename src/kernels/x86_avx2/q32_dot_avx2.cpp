// AVX2 dot products (one and four activation rows) of the 32-weight block types other than
// Q8_0: Q4_1 and Q5_1 with Q8_1 activations, Q4_0, Q5_0 and IQ4_NL with Q8_0. Each block's integer dot is exact
// (maddubs on unsigned weights, or the sign trick for signed ones, then madd to int32), scaled
// in float by d_w * d_x with FMA; the _1 types add m_w * s_x per block, as the references in
// ref/quant_dot_ref.cpp.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx2/avx2_util.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx2 {
namespace {

// 16 bytes of nibbles -> 32 bytes in element order (low nibbles: elements 0..15, high: 16..31).
inline __m256i nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
}

// The 32 high bits of a Q5 block (little-endian bytes at p) -> 0xFF bytes where set.
inline __m256i bit_mask(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  return bits_to_bytes(bits);
}

// 8 int32 partial sums, as float, of signed x[32] * signed y[32] (|x|, |y| <= 127).
inline __m256 dot_s8(__m256i x, __m256i y) {
  const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}
// Same for unsigned u[32] (< 128) * signed y[32].
inline __m256 dot_u8(__m256i u, __m256i y) {
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1)));
}

// The block loop of every 32-weight type against N activation rows (x + c * xs bytes): each
// weight block is decoded once for all N rows; N = 1 is the one-row dot, so dot and dot4 give
// identical bits. decode(block) -> the 32 weights as signed bytes, or for the types with a min
// (Q8_1 activations) as unsigned ones, whose m_w * s_x per block is summed apart in float.
template <int N, class XBlock, class WBlock, class Decode>
inline void dot_rows32(const WBlock* a, const uint8_t* x, size_t xs, int64_t nb, Decode decode,
                       float* out) {
  constexpr bool kMin = std::is_same_v<XBlock, BlockQ8_1>;
  __m256 acc[N];
  float summs[N];
  for (int c = 0; c < N; ++c) {
    acc[c] = _mm256_setzero_ps();
    summs[c] = 0.0f;
  }
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i q = decode(a[i]);
    const float dw = h2f(a[i].d);
    for (int c = 0; c < N; ++c) {
      const XBlock& b = reinterpret_cast<const XBlock*>(x + c * xs)[i];
      __m256 p;
      if constexpr (kMin) {
        summs[c] += h2f(a[i].m) * h2f(b.s);
        p = dot_u8(q, load32(b.qs));
      } else {
        p = dot_s8(q, load32(b.qs));
      }
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(dw * h2f(b.d)), p, acc[c]);
    }
  }
  for (int c = 0; c < N; ++c) out[c] = kMin ? hsum(acc[c]) + summs[c] : hsum(acc[c]);
}

inline __m256i decode(const BlockQ4_0& a) {
  return _mm256_sub_epi8(nibbles(a.qs), _mm256_set1_epi8(8));
}
inline __m256i decode(const BlockQ4_1& a) { return nibbles(a.qs); }
inline __m256i decode(const BlockQ5_0& a) {
  // nibble + 16 * bit - 16: where the bit is clear, setting the top four bits of the byte
  // subtracts 16 in two's complement.
  return _mm256_or_si256(nibbles(a.qs),
                         _mm256_andnot_si256(bit_mask(a.qh), _mm256_set1_epi8(static_cast<char>(0xF0))));
}
inline __m256i decode(const BlockQ5_1& a) {
  return _mm256_or_si256(nibbles(a.qs), _mm256_and_si256(bit_mask(a.qh), _mm256_set1_epi8(0x10)));
}

// The one-row dot and the four-row dot of weight block type W with activation block type X.
template <class X, class W, class Decode>
inline float dot1(const void* w, const void* x, int64_t k, Decode dec) {
  float out;
  dot_rows32<1, X>(static_cast<const W*>(w), static_cast<const uint8_t*>(x), 0, k / 32, dec, &out);
  return out;
}
template <class X, class W, class Decode>
inline void dot4(const void* w, const void* x, size_t xs, int64_t k, Decode dec, float* out) {
  dot_rows32<4, X>(static_cast<const W*>(w), static_cast<const uint8_t*>(x), xs, k / 32, dec, out);
}

// decode() of the block types above as a callable (inlined, unlike a function pointer).
struct Decode {
  template <class W>
  __m256i operator()(const W& a) const {
    return decode(a);
  }
};

// IQ4_NL: the 16-entry code book in both 128-bit lanes, looked up by nibble with pshufb.
struct DecodeIq4Nl {
  __m256i table;
  DecodeIq4Nl() {
    const __m128i book = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kValuesIQ4_NL));
    table = _mm256_set_m128i(book, book);
  }
  __m256i operator()(const BlockIQ4_NL& a) const { return _mm256_shuffle_epi8(table, nibbles(a.qs)); }
};

}  // namespace

float dot_q4_0_q8_0(const void* w, const void* x, int64_t k) {
  return dot1<BlockQ8_0, BlockQ4_0>(w, x, k, Decode());
}
float dot_q4_1_q8_1(const void* w, const void* x, int64_t k) {
  return dot1<BlockQ8_1, BlockQ4_1>(w, x, k, Decode());
}
float dot_q5_0_q8_0(const void* w, const void* x, int64_t k) {
  return dot1<BlockQ8_0, BlockQ5_0>(w, x, k, Decode());
}
float dot_q5_1_q8_1(const void* w, const void* x, int64_t k) {
  return dot1<BlockQ8_1, BlockQ5_1>(w, x, k, Decode());
}
float dot_iq4_nl_q8_0(const void* w, const void* x, int64_t k) {
  return dot1<BlockQ8_0, BlockIQ4_NL>(w, x, k, DecodeIq4Nl());
}

void dot4_q4_0_q8_0(const void* w, const void* x, size_t xs, int64_t k, float* out) {
  dot4<BlockQ8_0, BlockQ4_0>(w, x, xs, k, Decode(), out);
}
void dot4_q4_1_q8_1(const void* w, const void* x, size_t xs, int64_t k, float* out) {
  dot4<BlockQ8_1, BlockQ4_1>(w, x, xs, k, Decode(), out);
}
void dot4_q5_0_q8_0(const void* w, const void* x, size_t xs, int64_t k, float* out) {
  dot4<BlockQ8_0, BlockQ5_0>(w, x, xs, k, Decode(), out);
}
void dot4_q5_1_q8_1(const void* w, const void* x, size_t xs, int64_t k, float* out) {
  dot4<BlockQ8_1, BlockQ5_1>(w, x, xs, k, Decode(), out);
}
void dot4_iq4_nl_q8_0(const void* w, const void* x, size_t xs, int64_t k, float* out) {
  dot4<BlockQ8_0, BlockIQ4_NL>(w, x, xs, k, DecodeIq4Nl(), out);
}

}  // namespace quorum::kernels::avx2
