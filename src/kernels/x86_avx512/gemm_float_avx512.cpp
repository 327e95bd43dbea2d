// AVX-512 blocked GEMM for F16 and BF16 weights (prompt processing), outer-product form:
// the 16 lanes of a register are 16 weight rows, so no horizontal sums are needed.
//   - activations (already rounded to the weight's vec_dot_type) are widened once per matmul to
//     F32 tiles of kNR rows, laid out [tile][k][kNR] so a column's value is one broadcast;
//   - a panel of 32 weight rows x kKC of k is converted to F32 once and stored transposed
//     [kKC][32] (16 x 16 transposes), then reused by every activation tile; the panels are
//     packed in blocks of kBlockPanels (gemm_blocks), so each tile's slice is fetched once per
//     block and reused from L1 by its panels;
//   - the micro-kernel keeps a 32 x kNR block of Y in 24 zmm accumulators: per k step two panel
//     loads, kNR broadcasts and 2 kNR FMAs. Each kKC slice starts from zero and is added to Y,
//     so the float error grows with kKC + k / kKC steps rather than k.
// Products of F16 (or BF16) values are exact in F32, so the result differs from ggml's only by
// summation order. (F32 weights stay on the per-row dots, see table_avx512.cpp.)
#include <immintrin.h>

#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/gemm_avx512.h"

namespace quorum::kernels::avx512 {
namespace {

constexpr int kMR = kGemmPanelRows;  // weight rows per panel (two registers)
constexpr int kNR = static_cast<int>(kGemmFloatCols);  // activation rows per tile
constexpr int64_t kKC = 256;  // k per panel slice: 32 KB of F32
// Panels per weight block (gemm_blocks): 8 x 32 KB of packed slices stay in L2 while each
// activation tile's slice (kKC x kNR F32, 12 KB) is reused from L1 by the 8 panels. (Measured
// on the 1B shapes: kKC 512 or 16 panels per block change nothing beyond the noise.)
constexpr int64_t kBlockPanels = 8;
constexpr size_t kPanelBytes = static_cast<size_t>(kKC * kMR) * sizeof(float);

enum class Src { kF16, kBF16 };

template <Src S>
inline __m512 load16_mask(const void* base, int64_t idx, __mmask16 m) {
  if constexpr (S == Src::kF16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(base) + idx));
  } else {
    const __m512i v =
        _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(base) + idx));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  }
}

// In-register transpose: r[i] lane j  ->  r[j] lane i.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4 g + c]: rows 4g..4g+3 of column 4L + c in 128-bit lane L.
  __m512 u[16];
  for (int g = 0; g < 4; ++g) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 2]);
    const __m512d c = _mm512_castps_pd(t[4 * g + 1]), d = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
    const __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
    const __m512 v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    r[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    r[8 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

// panel[kk][32] (F32) = W[row0 + r, kc0 + kk] for r < rows_valid (zero beyond), kk < kc.
template <Src S>
void pack_panel(const uint8_t* w, size_t w_row, int64_t rows_valid, int64_t kc0, int64_t kc,
                uint8_t* panel_bytes) {
  float* panel = reinterpret_cast<float*>(panel_bytes);
  for (int half = 0; half < 2; ++half) {
    for (int64_t kk = 0; kk < kc; kk += 16) {
      const __mmask16 m = gemm_lane_mask(kc - kk);
      __m512 r[16];
      for (int i = 0; i < 16; ++i) {
        const int64_t row = 16 * half + i;
        r[i] = row < rows_valid ? load16_mask<S>(w + row * w_row, kc0 + kk, m) : _mm512_setzero_ps();
      }
      transpose16(r);
      const int64_t steps = kc - kk < 16 ? kc - kk : 16;
      for (int64_t t = 0; t < steps; ++t) _mm512_storeu_ps(panel + (kk + t) * kMR + 16 * half, r[t]);
    }
  }
}

// y[c * ldy + 0..31] (+)= panel(kc x 32)ᵀ · x tile column c, for c < n_valid.
void micro_kernel(const uint8_t* panel_bytes, const uint8_t* tile, int64_t kc, float* y,
                  int64_t ldy, int n_valid, __mmask16 m0, __mmask16 m1, bool add) {
  const float* panel = reinterpret_cast<const float*>(panel_bytes);  // [kc][kMR]
  const float* xt = reinterpret_cast<const float*>(tile);            // [kc][kNR]
  __m512 acc[kNR][2];
  for (int c = 0; c < kNR; ++c) acc[c][0] = acc[c][1] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < kc; ++kk) {
    const __m512 w0 = _mm512_loadu_ps(panel + kk * kMR);
    const __m512 w1 = _mm512_loadu_ps(panel + kk * kMR + 16);
    const float* xk = xt + kk * kNR;
    for (int c = 0; c < kNR; ++c) {
      const __m512 b = _mm512_set1_ps(xk[c]);
      acc[c][0] = _mm512_fmadd_ps(w0, b, acc[c][0]);
      acc[c][1] = _mm512_fmadd_ps(w1, b, acc[c][1]);
    }
  }
  for (int c = 0; c < n_valid; ++c) gemm_store(acc[c][0], acc[c][1], y + c * ldy, m0, m1, add);
}

// Activations (n rows of act_row bytes, type S) -> tiles [n_tiles][k][kNR] of F32, zero-padded:
// 16 k at a time, the tile's rows are widened and transposed in registers.
template <Src S>
void prep(const void* act, size_t act_row, int64_t n, int64_t k, void* out) {
  float* xt = static_cast<float*>(out);
  const uint8_t* a = static_cast<const uint8_t*>(act);
  const int64_t n_tiles = (n + kNR - 1) / kNR;
  const __mmask16 store_mask = gemm_lane_mask(kNR);
  for (int64_t t = 0; t < n_tiles; ++t) {
    float* tile = xt + t * k * kNR;
    const int64_t rows = n - t * kNR < kNR ? n - t * kNR : kNR;
    for (int64_t kk = 0; kk < k; kk += 16) {
      const __mmask16 m = gemm_lane_mask(k - kk);
      __m512 r[16];
      for (int c = 0; c < 16; ++c) {
        r[c] = c < rows ? load16_mask<S>(a + (t * kNR + c) * act_row, kk, m) : _mm512_setzero_ps();
      }
      transpose16(r);
      const int64_t steps = k - kk < 16 ? k - kk : 16;
      for (int64_t i = 0; i < steps; ++i) _mm512_mask_storeu_ps(tile + (kk + i) * kNR, store_mask, r[i]);
    }
  }
}

size_t prep_bytes(int64_t n, int64_t k) {
  return static_cast<size_t>((n + kNR - 1) / kNR * kNR * k) * sizeof(float);
}

size_t scratch_bytes(int64_t, int64_t) { return kBlockPanels * kPanelBytes; }

template <Src S>
void run(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k, const void* prepped,
         int64_t n, float* y, int64_t ldy, void* scratch) {
  const GemmShape shape{kNR, kKC, kNR * sizeof(float)};
  gemm_blocks(shape, kBlockPanels, kPanelBytes, static_cast<const uint8_t*>(w), w_row, i0, i1, k,
              static_cast<const uint8_t*>(prepped), n, y, ldy, static_cast<uint8_t*>(scratch),
              pack_panel<S>, micro_kernel);
}

}  // namespace

void gemm_prep_f16(const void* act, size_t act_row, int64_t n, int64_t k, void* out) {
  prep<Src::kF16>(act, act_row, n, k, out);
}
void gemm_prep_bf16(const void* act, size_t act_row, int64_t n, int64_t k, void* out) {
  prep<Src::kBF16>(act, act_row, n, k, out);
}
size_t gemm_prep_bytes_float(int64_t n, int64_t k) { return prep_bytes(n, k); }
size_t gemm_scratch_bytes_float(int64_t n, int64_t k) { return scratch_bytes(n, k); }

void gemm_run_f16(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                  const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  run<Src::kF16>(w, w_row, i0, i1, k, prepped, n, y, ldy, scratch);
}
void gemm_run_bf16(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  run<Src::kBF16>(w, w_row, i0, i1, k, prepped, n, y, ldy, scratch);
}

}  // namespace quorum::kernels::avx512
