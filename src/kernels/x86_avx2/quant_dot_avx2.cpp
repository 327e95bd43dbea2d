// AVX2 dot products of the quantized weight types with Q8 activations. Integer parts use
// maddubs (unsigned x signed byte pairs -> int16) and madd (-> int32, optionally times the
// sub-block scale), exactly as the integer sums of the references; block scales are applied in
// float with FMA. K-quant offsets (the -32 of Q6_K, -4 of Q3_K, the mins of Q2/Q4/Q5_K) use the
// activation's 16-element sums (bsums) instead of per-element subtraction.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx2/avx2_util.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx2 {
namespace {


// 8 int32 partial sums of signed x[32] * signed y[32].
inline __m256i dot_s8(__m256i x, __m256i y) {
  const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}
// 8 int32 partial sums of unsigned u[32] (< 128) * signed y[32].
inline __m256i dot_u8(__m256i u, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
}
// Same, times int16 scales per 16-element half: s_lo for elements 0..15, s_hi for 16..31.
inline __m256i dot_u8_scaled(__m256i u, __m256i y, int s_lo, int s_hi) {
  const __m256i sc = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(s_hi)),
                                      _mm_set1_epi16(static_cast<int16_t>(s_lo)));
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), sc);
}

// 16 nibbles -> 32 bytes: low nibbles then high nibbles (elements j and j + 16).
inline __m256i nibbles32(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

}  // namespace

float dot_q8_0_q8_0(const void* w, const void* x, int64_t k) {
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(w);  // (k / 32)
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);  // (k / 32)
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < k / 32; ++i) {
    const __m256i p = dot_s8(load32(a[i].qs), load32(b[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)), _mm256_cvtepi32_ps(p), acc);
  }
  return hsum(acc);
}

float dot_q4_0_q8_0(const void* w, const void* x, int64_t k) {
  const BlockQ4_0* a = static_cast<const BlockQ4_0*>(w);  // (k / 32)
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);  // (k / 32)
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < k / 32; ++i) {
    const __m256i q = _mm256_sub_epi8(nibbles32(a[i].qs), _mm256_set1_epi8(8));
    const __m256i p = dot_s8(q, load32(b[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)), _mm256_cvtepi32_ps(p), acc);
  }
  return hsum(acc);
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

// sum_j bsums[j] * mins[j / 2] of one Q8_K block.
inline int bsums_times_mins(const int16_t* bsums, const uint8_t* mn) {
  const __m256i pairs = _mm256_madd_epi16(load32(bsums), _mm256_set1_epi16(1));  // 8 x int32
  uint64_t m8;
  std::memcpy(&m8, mn, 8);
  const __m256i m = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(m8)));
  return hsum_i32(_mm256_mullo_epi32(pairs, m));
}

float dot_q4_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ4_K* a = static_cast<const BlockQ4_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  __m256 acc = _mm256_setzero_ps();
  float summ = 0.0f;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int64_t i = 0; i < k / 256; ++i) {
    uint8_t sc[8], mn[8];
    k4_scales(a[i].scales, sc, mn);
    summ += h2f(a[i].dmin) * b[i].d * static_cast<float>(bsums_times_mins(b[i].bsums, mn));
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i q = load32(a[i].qs + 32 * j);
      const __m256i lo = _mm256_and_si256(q, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
      sumi = _mm256_add_epi32(sumi, dot_u8_scaled(lo, load32(b[i].qs + 64 * j), sc[2 * j], sc[2 * j]));
      sumi = _mm256_add_epi32(
          sumi, dot_u8_scaled(hi, load32(b[i].qs + 64 * j + 32), sc[2 * j + 1], sc[2 * j + 1]));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - summ;
}

float dot_q5_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ5_K* a = static_cast<const BlockQ5_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  __m256 acc = _mm256_setzero_ps();
  float summ = 0.0f;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < k / 256; ++i) {
    uint8_t sc[8], mn[8];
    k4_scales(a[i].scales, sc, mn);
    summ += h2f(a[i].dmin) * b[i].d * static_cast<float>(bsums_times_mins(b[i].bsums, mn));
    const __m256i qh = load32(a[i].qh);
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i q = load32(a[i].qs + 32 * j);
      const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one);
      const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(h0, 4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                                         _mm256_slli_epi16(h1, 4));
      sumi = _mm256_add_epi32(sumi, dot_u8_scaled(lo, load32(b[i].qs + 64 * j), sc[2 * j], sc[2 * j]));
      sumi = _mm256_add_epi32(
          sumi, dot_u8_scaled(hi, load32(b[i].qs + 64 * j + 32), sc[2 * j + 1], sc[2 * j + 1]));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - summ;
}

float dot_q6_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  __m256 acc = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < k / 256; ++i) {
    const int8_t* sc = a[i].scales;
    // The -32 offset: -32 * sum_g sc[g] * bsums[g].
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    const int offset = 32 * hsum_i32(_mm256_madd_epi16(sc16, load32(b[i].bsums)));
    __m256i sumi = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = a[i].ql + 64 * half;
      const __m256i qh = load32(a[i].qh + 32 * half);
      const __m256i l0 = load32(ql), l1 = load32(ql + 32);
      const __m256i u[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)),
          _mm256_or_si256(_mm256_and_si256(l1, m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4))};
      for (int qd = 0; qd < 4; ++qd) {
        const int g = 8 * half + 2 * qd;
        sumi = _mm256_add_epi32(
            sumi, dot_u8_scaled(u[qd], load32(b[i].qs + 128 * half + 32 * qd), sc[g], sc[g + 1]));
      }
    }
    const int isum = hsum_i32(sumi) - offset;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d),
                          _mm256_set1_ps(static_cast<float>(isum)), acc);
  }
  return _mm_cvtss_f32(_mm256_castps256_ps128(acc));
}

// Q3_K's 16 signed scales (stored +32) from 12 packed bytes.
inline void q3_scales(const uint8_t* s, int* out) {
  for (int j = 0; j < 16; ++j) {
    const int lo = j < 8 ? (s[j] & 15) : (s[j - 8] >> 4);
    const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = (lo | (hi << 4)) - 32;
  }
}

float dot_q3_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ3_K* a = static_cast<const BlockQ3_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  float sumf = 0.0f;
  const __m256i m2 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < k / 256; ++i) {
    int sc[16];
    q3_scales(a[i].scales, sc);
    // q = lo + 4 * hbit - 4; the -4 goes through bsums.
    int offset = 0;
    for (int g = 0; g < 16; ++g) offset += sc[g] * b[i].bsums[g];
    const __m256i hm = load32(a[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i q = load32(a[i].qs + 32 * half);
      for (int qd = 0; qd < 4; ++qd) {
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q, 2 * qd), m2);
        const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * half + qd), one);
        const __m256i u = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
        const int g = 8 * half + 2 * qd;
        sumi = _mm256_add_epi32(
            sumi, dot_u8_scaled(u, load32(b[i].qs + 128 * half + 32 * qd), sc[g], sc[g + 1]));
      }
    }
    const int isum = hsum_i32(sumi) - 4 * offset;
    sumf += h2f(a[i].d) * b[i].d * static_cast<float>(isum);
  }
  return sumf;
}

float dot_q2_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ2_K* a = static_cast<const BlockQ2_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  // Float lanes as ggml's AVX2 kernel (lane j: weights 4 j .. 4 j + 3 of every 32, mins term
  // first): the min and scale terms nearly cancel in Q2_K, so the rounding order shows in logits.
  __m256 acc = _mm256_setzero_ps();
  const __m256i m2 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < k / 256; ++i) {
    const uint8_t* sc = a[i].scales;
    const __m256i mins16 = _mm256_cvtepu8_epi16(
        _mm_srli_epi16(_mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)),
                                     _mm_set1_epi8(static_cast<char>(0xF0))), 4));
    const float neg_dmin = -b[i].d * h2f(a[i].dmin);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(neg_dmin),
                          _mm256_cvtepi32_ps(_mm256_madd_epi16(mins16, load32(b[i].bsums))), acc);
    __m256i sumi = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i q = load32(a[i].qs + 32 * half);
      for (int qd = 0; qd < 4; ++qd) {
        const __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * qd), m2);
        const int g = 8 * half + 2 * qd;
        sumi = _mm256_add_epi32(sumi, dot_u8_scaled(u, load32(b[i].qs + 128 * half + 32 * qd),
                                                    sc[g] & 0xF, sc[g + 1] & 0xF));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

}  // namespace quorum::kernels::avx2
