// AVX2 activation quantizers, byte-identical to the references in ref/act_quant_ref.cpp: the same
// scale (computed in scalar), the same products x * id, and the same rounding (roundf's half away
// from zero for Q8_0/Q8_1, half to even for Q8_K).
#include <immintrin.h>

#include "kernels/x86_avx2/avx2.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx2 {
namespace {

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// roundf: truncate, then step away from zero when the dropped fraction is >= 0.5 (exact).
inline __m256 round_half_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = abs_ps(_mm256_sub_ps(v, t));
  const __m256 one = _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(1.0f));
  const __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one);
  return _mm256_add_ps(t, step);
}

// Four vectors of 8 rounded floats -> 32 int8 in element order.
inline __m256i pack32(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256i i0 = _mm256_packs_epi32(_mm256_cvtps_epi32(a), _mm256_cvtps_epi32(b));
  const __m256i i1 = _mm256_packs_epi32(_mm256_cvtps_epi32(c), _mm256_cvtps_epi32(d));
  const __m256i i8 = _mm256_packs_epi16(i0, i1);
  return _mm256_permutevar8x32_epi32(i8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline uint16_t to_f16(float f) {
  return static_cast<uint16_t>(
      _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}

// One 32-element block: scale d (as the reference: amax / 127) and the int8 quants.
inline float quantize_block32(const float* x, int8_t* qs) {
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int j = 0; j < 4; ++j) {
    v[j] = _mm256_loadu_ps(x + 8 * j);
    amax = _mm256_max_ps(amax, abs_ps(v[j]));
  }
  const float d = hmax(amax) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 vid = _mm256_set1_ps(id);
  for (int j = 0; j < 4; ++j) v[j] = round_half_away(_mm256_mul_ps(v[j], vid));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), pack32(v[0], v[1], v[2], v[3]));
  return d;
}

}  // namespace

void quantize_row_q8_0(const float* x, void* vy, int64_t k) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(vy);  // (k / 32)
  for (int64_t b = 0; b < k / 32; ++b) y[b].d = to_f16(quantize_block32(x + 32 * b, y[b].qs));
}

void quantize_row_q8_1(const float* x, void* vy, int64_t k) {
  BlockQ8_1* y = static_cast<BlockQ8_1*>(vy);  // (k / 32)
  for (int64_t b = 0; b < k / 32; ++b) {
    const float d = quantize_block32(x + 32 * b, y[b].qs);
    y[b].d = to_f16(d);
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
    const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    y[b].s = to_f16(static_cast<float>(_mm_cvtsi128_si32(s)) * d);
  }
}

void quantize_row_q8_K(const float* x, void* vy, int64_t k) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(vy);  // (k / 256)
  for (int64_t b = 0; b < k / 256; ++b) {
    const float* xb = x + 256 * b;
    __m256 amax_v = _mm256_setzero_ps();
    for (int j = 0; j < 256; j += 8) amax_v = _mm256_max_ps(amax_v, abs_ps(_mm256_loadu_ps(xb + j)));
    const float amax = hmax(amax_v);
    if (amax == 0.0f) {
      y[b].d = 0.0f;
      const __m256i z = _mm256_setzero_si256();
      for (int j = 0; j < 256; j += 32) _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + j), z);
      for (int g = 0; g < 16; ++g) y[b].bsums[g] = 0;
      continue;
    }
    // The signed value of the first element with the largest magnitude (the reference's choice).
    float max = 0.0f;
    for (int j = 0; j < 256; ++j) {
      if (xb[j] == amax || xb[j] == -amax) {
        max = xb[j];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256 lim = _mm256_set1_ps(127.0f);
    for (int j = 0; j < 256; j += 32) {
      __m256 v[4];
      for (int u = 0; u < 4; ++u) {
        v[u] = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(xb + j + 8 * u), vs),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v[u] = _mm256_min_ps(v[u], lim);
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + j), pack32(v[0], v[1], v[2], v[3]));
    }
    for (int g = 0; g < 16; ++g) {
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y[b].qs + 16 * g));
      const __m128i s32 = _mm_madd_epi16(_mm_maddubs_epi16(_mm_set1_epi8(1), q), _mm_set1_epi16(1));
      __m128i s = _mm_add_epi32(s32, _mm_shuffle_epi32(s32, 0x4E));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
      y[b].bsums[g] = static_cast<int16_t>(_mm_cvtsi128_si32(s));
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace quorum::kernels::avx2
