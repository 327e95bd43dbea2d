// AVX2 dot products of the 32-weight block types not covered in quant_dot_avx2.cpp: Q4_1 and
// Q5_1 with Q8_1 activations, Q5_0 and IQ4_NL with Q8_0. Each block's integer dot is exact
// (maddubs on unsigned weights, or the sign trick for signed ones, then madd to int32), scaled
// in float by d_w * d_x with FMA; the _1 types add m_w * s_x per block, as the references in
// ref/quant_dot_ref.cpp.
#include <immintrin.h>

#include <cstring>

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

}  // namespace

float dot_q4_1_q8_1(const void* w, const void* x, int64_t k) {
  const BlockQ4_1* a = static_cast<const BlockQ4_1*>(w);  // (k / 32)
  const BlockQ8_1* b = static_cast<const BlockQ8_1*>(x);  // (k / 32)
  __m256 acc = _mm256_setzero_ps();
  float summs = 0.0f;
  for (int64_t i = 0; i < k / 32; ++i) {
    summs += h2f(a[i].m) * h2f(b[i].s);
    const __m256 p = dot_u8(nibbles(a[i].qs), load32(b[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)), p, acc);
  }
  return hsum(acc) + summs;
}

float dot_q5_0_q8_0(const void* w, const void* x, int64_t k) {
  const BlockQ5_0* a = static_cast<const BlockQ5_0*>(w);  // (k / 32)
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);  // (k / 32)
  __m256 acc = _mm256_setzero_ps();
  const __m256i high = _mm256_set1_epi8(static_cast<char>(0xF0));
  for (int64_t i = 0; i < k / 32; ++i) {
    // nibble + 16 * bit - 16: where the bit is clear, setting the top four bits of the byte
    // subtracts 16 in two's complement.
    const __m256i q = _mm256_or_si256(nibbles(a[i].qs), _mm256_andnot_si256(bit_mask(a[i].qh), high));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)), dot_s8(q, load32(b[i].qs)),
                          acc);
  }
  return hsum(acc);
}

float dot_q5_1_q8_1(const void* w, const void* x, int64_t k) {
  const BlockQ5_1* a = static_cast<const BlockQ5_1*>(w);  // (k / 32)
  const BlockQ8_1* b = static_cast<const BlockQ8_1*>(x);  // (k / 32)
  __m256 acc = _mm256_setzero_ps();
  float summs = 0.0f;
  const __m256i bit4 = _mm256_set1_epi8(0x10);
  for (int64_t i = 0; i < k / 32; ++i) {
    summs += h2f(a[i].m) * h2f(b[i].s);
    const __m256i q = _mm256_or_si256(nibbles(a[i].qs), _mm256_and_si256(bit_mask(a[i].qh), bit4));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)), dot_u8(q, load32(b[i].qs)),
                          acc);
  }
  return hsum(acc) + summs;
}

float dot_iq4_nl_q8_0(const void* w, const void* x, int64_t k) {
  const BlockIQ4_NL* a = static_cast<const BlockIQ4_NL*>(w);  // (k / 32)
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);      // (k / 32)
  // The 16-entry code book in both 128-bit lanes, looked up by nibble with pshufb.
  const __m128i book = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kValuesIQ4_NL));
  const __m256i table = _mm256_set_m128i(book, book);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < k / 32; ++i) {
    const __m256i q = _mm256_shuffle_epi8(table, nibbles(a[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)), dot_s8(q, load32(b[i].qs)),
                          acc);
  }
  return hsum(acc);
}

}  // namespace quorum::kernels::avx2
