// AVX-512 Q6_K x Q8_K dot products (one column and four at once). Each 128-weight half is
// decoded once to unsigned 6-bit values in element order (two 64-byte vectors); the sub-block
// scales (one per 16 weights, one per 128-bit lane) multiply the maddubs pairs through madd, and
// the -32 offset goes through the activation's 16-element sums.
#include <immintrin.h>

#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/avx512_util.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx512 {
namespace {

struct Q6KBlock {
  __m512i q[4];    // elements 64 v .. 64 v + 63, unsigned 0..63
  __m512i sc[4];   // int16 scales: 128-bit lane l of q[v] -> scales[4 v + l]
  __m256i sc16;    // the 16 scales as int16 (for the offset through bsums)
};

inline void decode_q6_K(const BlockQ6_K& b, Q6KBlock& out) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  for (int half = 0; half < 2; ++half) {
    const __m256i l0 = load32(b.ql + 64 * half), l1 = load32(b.ql + 64 * half + 32);
    const __m256i qh = load32(b.qh + 32 * half);
    const __m256i u0 =
        _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
    const __m256i u1 = _mm256_or_si256(
        _mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
    const __m256i u2 = _mm256_or_si256(
        _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
    const __m256i u3 = _mm256_or_si256(
        _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
    out.q[2 * half] = join(u0, u1);
    out.q[2 * half + 1] = join(u2, u3);
  }
  const int8_t* s = b.scales;
  for (int v = 0; v < 4; ++v) {
    __m512i sc = _mm512_castsi128_si512(_mm_set1_epi16(s[4 * v]));
    sc = _mm512_inserti32x4(sc, _mm_set1_epi16(s[4 * v + 1]), 1);
    sc = _mm512_inserti32x4(sc, _mm_set1_epi16(s[4 * v + 2]), 2);
    out.sc[v] = _mm512_inserti32x4(sc, _mm_set1_epi16(s[4 * v + 3]), 3);
  }
  out.sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
}

inline __m512i q6_K_sumi(const Q6KBlock& w, const int8_t* y) {
  __m512i sumi = _mm512_setzero_si512();
  for (int v = 0; v < 4; ++v) {
    const __m512i p = _mm512_maddubs_epi16(w.q[v], _mm512_loadu_si512(y + 64 * v));
    sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(p, w.sc[v]));
  }
  return sumi;
}

}  // namespace

void dot4_q6_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);  // (k / 256)
  const uint8_t* xb = static_cast<const uint8_t*>(x);     // 4 rows of (k / 256) BlockQ8_K
  __m512 acc[4];
  __m256 off[4];
  for (int c = 0; c < 4; ++c) {
    acc[c] = _mm512_setzero_ps();
    off[c] = _mm256_setzero_ps();
  }
  Q6KBlock blk;
  for (int64_t i = 0; i < k / 256; ++i) {
    decode_q6_K(a[i], blk);
    const float d = h2f(a[i].d);
    for (int c = 0; c < 4; ++c) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(xb + c * x_stride)[i];
      const __m256i o = _mm256_madd_epi16(blk.sc16, load32(y.bsums));
      off[c] = _mm256_fmadd_ps(_mm256_set1_ps(32.0f * d * y.d), _mm256_cvtepi32_ps(o), off[c]);
      acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(d * y.d), _mm512_cvtepi32_ps(q6_K_sumi(blk, y.qs)),
                               acc[c]);
    }
  }
  for (int c = 0; c < 4; ++c) out[c] = _mm512_reduce_add_ps(acc[c]) - hsum256(off[c]);
}

float dot_q6_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  __m512 acc = _mm512_setzero_ps();
  __m256 off = _mm256_setzero_ps();
  Q6KBlock blk;
  for (int64_t i = 0; i < k / 256; ++i) {
    decode_q6_K(a[i], blk);
    const float dd = h2f(a[i].d) * b[i].d;
    const __m256i o = _mm256_madd_epi16(blk.sc16, load32(b[i].bsums));
    off = _mm256_fmadd_ps(_mm256_set1_ps(32.0f * dd), _mm256_cvtepi32_ps(o), off);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(dd), _mm512_cvtepi32_ps(q6_K_sumi(blk, b[i].qs)), acc);
  }
  return _mm512_reduce_add_ps(acc) - hsum256(off);
}

}  // namespace quorum::kernels::avx512
