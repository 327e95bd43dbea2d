// AVX-512 activation quantizers, byte-identical to the references in ref/act_quant_ref.cpp: the
// same scales (computed in scalar from the same maxima), the same products x * id, and the same
// rounding (roundf's half away from zero for Q8_0/Q8_1, half to even for Q8_K). One 512-bit
// vector holds 16 values: half a Q8_0/Q8_1 block, or exactly one 16-element group of a Q8_K
// block (whose sum is the group's bsum).
#include <immintrin.h>

#include "kernels/x86_avx512/avx512.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx512 {
namespace {

inline uint16_t to_f16(float f) {
  return static_cast<uint16_t>(
      _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}

// roundf: truncate, then step away from zero when the dropped fraction is >= 0.5 (exact).
inline __m512 round_half_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));
  const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_or_ps(_mm512_and_ps(v, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
  return _mm512_mask_add_ps(t, up, t, one);
}

// One 32-element block: returns d = amax / 127 (as the reference) and writes the int8 quants;
// *sum (if not null) gets the sum of the quants.
inline float quantize_block32(const float* x, int8_t* qs, int* sum) {
  const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m512 vid = _mm512_set1_ps(id);
  const __m512i q0 = _mm512_cvtps_epi32(round_half_away(_mm512_mul_ps(v0, vid)));
  const __m512i q1 = _mm512_cvtps_epi32(round_half_away(_mm512_mul_ps(v1, vid)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm512_cvtepi32_epi8(q0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm512_cvtepi32_epi8(q1));
  if (sum) *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
  return d;
}

}  // namespace

void quantize_row_q8_0(const float* x, void* vy, int64_t k) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(vy);  // (k / 32)
  for (int64_t b = 0; b < k / 32; ++b) y[b].d = to_f16(quantize_block32(x + 32 * b, y[b].qs, nullptr));
}

void quantize_row_q8_1(const float* x, void* vy, int64_t k) {
  BlockQ8_1* y = static_cast<BlockQ8_1*>(vy);  // (k / 32)
  for (int64_t b = 0; b < k / 32; ++b) {
    int sum = 0;
    const float d = quantize_block32(x + 32 * b, y[b].qs, &sum);
    y[b].d = to_f16(d);
    y[b].s = to_f16(static_cast<float>(sum) * d);
  }
}

void quantize_row_q8_K(const float* x, void* vy, int64_t k) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(vy);  // (k / 256)
  for (int64_t b = 0; b < k / 256; ++b) {
    const float* xb = x + 256 * b;
    __m512 amax_v = _mm512_setzero_ps();
    for (int j = 0; j < 256; j += 16) amax_v = _mm512_max_ps(amax_v, _mm512_abs_ps(_mm512_loadu_ps(xb + j)));
    const float amax = _mm512_reduce_max_ps(amax_v);
    if (amax == 0.0f) {
      y[b].d = 0.0f;
      for (int j = 0; j < 256; j += 64) _mm512_storeu_si512(y[b].qs + j, _mm512_setzero_si512());
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].bsums), _mm256_setzero_si256());
      continue;
    }
    // The signed value of the first element with the largest magnitude (the reference's choice).
    float max = 0.0f;
    const __m512 vamax = _mm512_set1_ps(amax);
    for (int j = 0; j < 256; j += 16) {
      const __m512 v = _mm512_loadu_ps(xb + j);
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(v), vamax, _CMP_EQ_OQ);
      if (hit) {
        max = xb[j + __builtin_ctz(static_cast<unsigned>(hit))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m512 vs = _mm512_set1_ps(iscale);
    const __m512i lim = _mm512_set1_epi32(127);
    for (int g = 0; g < 16; ++g) {
      const __m512 r = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(xb + 16 * g), vs),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(r), lim);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16 * g), _mm512_cvtepi32_epi8(q));
      y[b].bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace quorum::kernels::avx512
