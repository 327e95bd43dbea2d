// AVX-512 dot products for Q8_0 and Q4_K with Q8 activations, one activation column or four at
// once (matmul with n > 1 decodes each weight block once and reuses it for four columns).
// Q8_0 uses VNNI (vpdpbusd on |w| and sign-adjusted activations); Q4_K uses 512-bit maddubs +
// madd with the sub-block scales, as the AVX2 version. Integer sums are exact; scales in float.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/avx512_util.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx512 {
namespace {

inline __m512 join_ps(float lo, float hi) {
  return _mm512_insertf32x8(_mm512_set1_ps(lo), _mm256_set1_ps(hi), 1);
}

// Q4_K / Q5_K scales: 8 six-bit scales and 8 six-bit mins from the 12 packed bytes.
inline void k4_scales(const uint8_t* s, uint8_t* sc, uint8_t* mn) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    mn[j] = s[j + 4] & 63;
    sc[j + 4] = (s[j + 8] & 0xF) | ((s[j] >> 6) << 4);
    mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
  }
}

// One Q4_K super-block decoded for reuse: 4 x 64 unsigned nibbles in element order and the
// matching int16 scale vectors (lanes 0..15: sub-block 2j, lanes 16..31: sub-block 2j + 1).
struct Q4KBlock {
  __m512i q[4];
  __m512i sc[4];
  uint8_t mn[8];
  __m256i mn16;  // mins as int16, each twice (one per 16-element bsum)
};

inline void decode_q4_K(const BlockQ4_K& b, Q4KBlock& out) {
  uint8_t sc[8];
  k4_scales(b.scales, sc, out.mn);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int j = 0; j < 4; ++j) {
    const __m256i q = load32(b.qs + 32 * j);
    out.q[j] = join(_mm256_and_si256(q, m4), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
    out.sc[j] = join(_mm256_set1_epi16(sc[2 * j]), _mm256_set1_epi16(sc[2 * j + 1]));
  }
  uint64_t m8;
  std::memcpy(&m8, out.mn, 8);
  const __m128i m = _mm_cvtsi64_si128(static_cast<long long>(m8));
  out.mn16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m, m));
}

// 8 int32 partial sums of bsums[j] * mins[j / 2].
inline __m256i q4_K_mins(const Q4KBlock& w, const int16_t* bsums) {
  return _mm256_madd_epi16(load32(bsums), w.mn16);
}

inline __m512i q4_K_sumi(const Q4KBlock& w, const int8_t* y) {
  __m512i sumi = _mm512_setzero_si512();
  for (int j = 0; j < 4; ++j) {
    const __m512i p = _mm512_maddubs_epi16(w.q[j], load64(y + 64 * j));
    sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(p, w.sc[j]));
  }
  return sumi;
}

// Signed x[64] * signed y[64] -> 16 int32 via VNNI: |x| * (y with x's sign).
inline __m512i dot_s8(__m512i acc, __m512i ax, __mmask64 neg, __m512i y) {
  const __m512i sy = _mm512_mask_sub_epi8(y, neg, _mm512_setzero_si512(), y);
  return _mm512_dpbusd_epi32(acc, ax, sy);
}

}  // namespace

float dot_q4_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ4_K* a = static_cast<const BlockQ4_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  __m512 acc = _mm512_setzero_ps();
  __m256 summ = _mm256_setzero_ps();
  Q4KBlock blk;
  for (int64_t i = 0; i < k / 256; ++i) {
    decode_q4_K(a[i], blk);
    summ = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].dmin) * b[i].d),
                           _mm256_cvtepi32_ps(q4_K_mins(blk, b[i].bsums)), summ);
    const __m512i sumi = q4_K_sumi(blk, b[i].qs);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(h2f(a[i].d) * b[i].d), _mm512_cvtepi32_ps(sumi), acc);
  }
  return _mm512_reduce_add_ps(acc) - hsum256(summ);
}

void dot4_q4_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  const BlockQ4_K* a = static_cast<const BlockQ4_K*>(w);  // (k / 256)
  const uint8_t* xb = static_cast<const uint8_t*>(x);     // 4 rows of (k / 256) BlockQ8_K
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  __m256 summ[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                    _mm256_setzero_ps()};
  Q4KBlock blk;
  for (int64_t i = 0; i < k / 256; ++i) {
    decode_q4_K(a[i], blk);
    const float d = h2f(a[i].d), dmin = h2f(a[i].dmin);
    for (int c = 0; c < 4; ++c) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(xb + c * x_stride)[i];
      summ[c] = _mm256_fmadd_ps(_mm256_set1_ps(dmin * y.d),
                                _mm256_cvtepi32_ps(q4_K_mins(blk, y.bsums)), summ[c]);
      acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(d * y.d), _mm512_cvtepi32_ps(q4_K_sumi(blk, y.qs)),
                               acc[c]);
    }
  }
  for (int c = 0; c < 4; ++c) out[c] = _mm512_reduce_add_ps(acc[c]) - hsum256(summ[c]);
}

float dot_q8_0_q8_0(const void* w, const void* x, int64_t k) {
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(w);  // (k / 32)
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);  // (k / 32)
  const int64_t nb = k / 32;
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m512i xw = join(load32(a[i].qs), load32(a[i + 1].qs));
    const __m512i y = join(load32(b[i].qs), load32(b[i + 1].qs));
    const __m512i p = dot_s8(_mm512_setzero_si512(), _mm512_abs_epi8(xw), _mm512_movepi8_mask(xw), y);
    const __m512 d = join_ps(h2f(a[i].d) * h2f(b[i].d), h2f(a[i + 1].d) * h2f(b[i + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(p), acc);
  }
  float sum = _mm512_reduce_add_ps(acc);
  for (; i < nb; ++i) {
    int s = 0;
    for (int j = 0; j < 32; ++j) s += a[i].qs[j] * b[i].qs[j];
    sum += static_cast<float>(s) * (h2f(a[i].d) * h2f(b[i].d));
  }
  return sum;
}

void dot4_q8_0_q8_0(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(w);  // (k / 32)
  const uint8_t* xb = static_cast<const uint8_t*>(x);     // 4 rows of (k / 32) BlockQ8_0
  const int64_t nb = k / 32;
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m512i xw = join(load32(a[i].qs), load32(a[i + 1].qs));
    const __m512i ax = _mm512_abs_epi8(xw);
    const __mmask64 neg = _mm512_movepi8_mask(xw);
    const float d0 = h2f(a[i].d), d1 = h2f(a[i + 1].d);
    for (int c = 0; c < 4; ++c) {
      const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(xb + c * x_stride);
      const __m512i y = join(load32(b[i].qs), load32(b[i + 1].qs));
      const __m512i p = dot_s8(_mm512_setzero_si512(), ax, neg, y);
      acc[c] = _mm512_fmadd_ps(join_ps(d0 * h2f(b[i].d), d1 * h2f(b[i + 1].d)),
                               _mm512_cvtepi32_ps(p), acc[c]);
    }
  }
  for (int c = 0; c < 4; ++c) {
    const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(xb + c * x_stride);
    float sum = _mm512_reduce_add_ps(acc[c]);
    for (int64_t r = i; r < nb; ++r) {
      int s = 0;
      for (int j = 0; j < 32; ++j) s += a[r].qs[j] * b[r].qs[j];
      sum += static_cast<float>(s) * (h2f(a[r].d) * h2f(b[r].d));
    }
    out[c] = sum;
  }
}

}  // namespace quorum::kernels::avx512
