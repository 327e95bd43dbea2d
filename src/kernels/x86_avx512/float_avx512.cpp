// AVX-512 dot products of the plain types: four 16-lane F32 FMA accumulators (64 elements per
// step), masked loads for the tail; F16 and BF16 are widened to F32 on load.
#include <immintrin.h>

#include "kernels/x86_avx512/avx512.h"

namespace quorum::kernels::avx512 {
namespace {

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

inline __m512 load_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512 load_f16_mask(const uint16_t* p, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}
inline __m512 load_bf16(const uint16_t* p) {
  const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}
inline __m512 load_bf16_mask(const uint16_t* p, __mmask16 m) {
  const __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

// Generation streams each weight matrix once per token, row after row. The hardware prefetchers
// stop at 4 KiB page boundaries (a row of k = 2048 F16 weights is one page of a file mapping), so
// dot_f16 prefetches the weights this many bytes ahead itself, into the next row. Prefetches past
// the end of a mapping do not fault. One-thread streaming over a mapped 1.8 GB F16 file: 8-9 GB/s
// without, 18-20 GB/s with (as fast as 2 MiB pages without it); see docs/PERFORMANCE.md.
constexpr int64_t kF16PrefetchBytes = 4096;

}  // namespace

float dot_f32(const void* w, const void* x, int64_t k) {
  const float* a = static_cast<const float*>(w);  // (k)
  const float* b = static_cast<const float*>(x);  // (k)
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= k; i += 64) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), acc3);
  }
  for (; i < k; i += 16) {
    const __mmask16 m = tail_mask(k - i);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

float dot_f16(const void* w, const void* x, int64_t k) {
  const uint16_t* a = static_cast<const uint16_t*>(w);  // (k) F16
  const uint16_t* b = static_cast<const uint16_t*>(x);  // (k) F16
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  int64_t i = 0;
  const char* pf = reinterpret_cast<const char*>(a) + kF16PrefetchBytes;
  for (; i + 64 <= k; i += 64) {
    _mm_prefetch(pf + 2 * i, _MM_HINT_T0);
    _mm_prefetch(pf + 2 * i + 64, _MM_HINT_T0);
    acc0 = _mm512_fmadd_ps(load_f16(a + i), load_f16(b + i), acc0);
    acc1 = _mm512_fmadd_ps(load_f16(a + i + 16), load_f16(b + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(load_f16(a + i + 32), load_f16(b + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(load_f16(a + i + 48), load_f16(b + i + 48), acc3);
  }
  for (; i < k; i += 16) {
    const __mmask16 m = tail_mask(k - i);
    acc0 = _mm512_fmadd_ps(load_f16_mask(a + i, m), load_f16_mask(b + i, m), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

float dot_bf16(const void* w, const void* x, int64_t k) {
  const uint16_t* a = static_cast<const uint16_t*>(w);  // (k) BF16
  const uint16_t* b = static_cast<const uint16_t*>(x);  // (k) BF16
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= k; i += 64) {
    acc0 = _mm512_fmadd_ps(load_bf16(a + i), load_bf16(b + i), acc0);
    acc1 = _mm512_fmadd_ps(load_bf16(a + i + 16), load_bf16(b + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(load_bf16(a + i + 32), load_bf16(b + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(load_bf16(a + i + 48), load_bf16(b + i + 48), acc3);
  }
  for (; i < k; i += 16) {
    const __mmask16 m = tail_mask(k - i);
    acc0 = _mm512_fmadd_ps(load_bf16_mask(a + i, m), load_bf16_mask(b + i, m), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

void dot4_f16_f32(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  const uint16_t* a = static_cast<const uint16_t*>(w);  // (k) F16
  const float* xr[4];                                    // 4 x (k) F32
  for (int c = 0; c < 4; ++c) {
    xr[c] = reinterpret_cast<const float*>(static_cast<const uint8_t*>(x) + c * x_stride);
  }
  __m512 acc0[4], acc1[4];
  for (int c = 0; c < 4; ++c) acc0[c] = acc1[c] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    const __m512 w0 = load_f16(a + i), w1 = load_f16(a + i + 16);
    for (int c = 0; c < 4; ++c) {
      acc0[c] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xr[c] + i), acc0[c]);
      acc1[c] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xr[c] + i + 16), acc1[c]);
    }
  }
  for (; i < k; i += 16) {
    const __mmask16 m = tail_mask(k - i);
    const __m512 w0 = load_f16_mask(a + i, m);
    for (int c = 0; c < 4; ++c) {
      acc0[c] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, xr[c] + i), acc0[c]);
    }
  }
  for (int c = 0; c < 4; ++c) out[c] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[c], acc1[c]));
}

void quantize_row_f16(const float* x, void* vy, int64_t k) {
  uint16_t* y = static_cast<uint16_t*>(vy);  // (k)
  for (int64_t i = 0; i < k; i += 16) {
    const __mmask16 m = tail_mask(k - i);
    const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_mask_storeu_epi16(y + i, m, h);
  }
}

}  // namespace quorum::kernels::avx512
