// AVX2 blocked GEMM for F16 and BF16 weights (prompt processing), outer-product form as the
// AVX-512 one (x86_avx512/gemm_float_avx512.cpp): the 8 lanes of a register are 8 weight rows,
// so no horizontal sums are needed.
//   - activations (already rounded to the weight's vec_dot_type) are widened once per matmul to
//     F32 tiles of kNR rows, laid out [tile][k][kNR] so a column's value is one broadcast;
//   - a panel of 16 weight rows x kKC of k is converted to F32 once and stored transposed
//     [kKC][16] (8 x 8 transposes), then reused by every activation tile; panels are packed in
//     blocks of kBlockPanels (gemm_blocks), so each tile's slice is fetched once per block and
//     reused from L1 by its panels;
//   - the micro-kernel keeps a 16 x kNR block of Y in 12 ymm accumulators: per k step two panel
//     loads, kNR broadcasts and 2 kNR FMAs. Each kKC slice starts from zero and is added to Y,
//     so the float error grows with kKC + k / kKC steps rather than k.
// Products of F16 (or BF16) values are exact in F32, so the result differs from ggml's only by
// summation order.
#include <immintrin.h>

#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx2/gemm_avx2.h"

namespace quorum::kernels::avx2 {
namespace {

constexpr int kMR = kGemmPanelRows;                     // weight rows per panel (two registers)
constexpr int kNR = static_cast<int>(kGemmFloatCols);  // activation rows per tile
constexpr int64_t kKC = 256;                            // k per panel slice: 16 KB of F32
// Panels per weight block: 8 x 16 KB of packed slices stay in L2 while each activation tile's
// slice (kKC x kNR F32, 6 KB) is reused from L1 by the 8 panels.
constexpr int64_t kBlockPanels = 8;
constexpr size_t kPanelBytes = static_cast<size_t>(kKC * kMR) * sizeof(float);

enum class Src { kF16, kBF16 };

template <Src S>
inline __m256 load8(const void* base, int64_t idx) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + idx));
  if constexpr (S == Src::kF16) {
    return _mm256_cvtph_ps(h);
  } else {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
}

template <Src S>
inline float load1(const void* base, int64_t idx) {
  const uint16_t h = static_cast<const uint16_t*>(base)[idx];
  if constexpr (S == Src::kF16) {
    return _cvtsh_ss(h);
  } else {
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    __builtin_memcpy(&f, &u, sizeof f);
    return f;
  }
}

// In-register transpose: r[i] lane j  ->  r[j] lane i.
inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 2; ++g) {
    u[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
    u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
    u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

// dst[kk * stride + c] = F32(src row c)[k0 + kk] for c < rows (zero for rows <= c < 8), kk < kc:
// eight rows of 16-bit values, transposed 8 x 8 at a time, the k tail element by element.
template <Src S>
inline void transpose_rows8(const uint8_t* src, size_t src_row, int64_t rows, int64_t k0,
                            int64_t kc, float* dst, int64_t stride) {
  int64_t kk = 0;
  for (; kk + 8 <= kc; kk += 8) {
    __m256 r[8];
    for (int c = 0; c < 8; ++c) r[c] = c < rows ? load8<S>(src + c * src_row, k0 + kk) : _mm256_setzero_ps();
    transpose8(r);
    for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + (kk + i) * stride, r[i]);
  }
  for (; kk < kc; ++kk) {
    for (int c = 0; c < 8; ++c) dst[kk * stride + c] = c < rows ? load1<S>(src + c * src_row, k0 + kk) : 0.0f;
  }
}

// panel[kk][16] (F32) = W[row0 + r, kc0 + kk] for r < rows_valid (zero beyond), kk < kc.
template <Src S>
void pack_panel(const uint8_t* w, size_t w_row, int64_t rows_valid, int64_t kc0, int64_t kc,
                uint8_t* panel_bytes) {
  float* panel = reinterpret_cast<float*>(panel_bytes);
  for (int half = 0; half < 2; ++half) {
    const int64_t rows = rows_valid - 8 * half;
    transpose_rows8<S>(w + 8 * half * w_row, w_row, rows < 0 ? 0 : rows, kc0, kc, panel + 8 * half, kMR);
  }
}

// y[c * ldy + 0..15] (+)= panel(kc x 16)ᵀ · x tile column c, for c < n_valid. The 12
// accumulators are named variables: as an array indexed by the tile column, GCC 12 kept a
// memory copy of it and stored all 12 registers on every k step.
static_assert(kNR == 6, "micro_kernel is written out for 6 activation rows");
void micro_kernel(const uint8_t* panel_bytes, const uint8_t* tile, int64_t kc, float* y,
                  int64_t ldy, int n_valid, __m256i m0, __m256i m1, bool add) {
  const float* panel = reinterpret_cast<const float*>(panel_bytes);  // [kc][kMR]
  const float* xk = reinterpret_cast<const float*>(tile);            // [kc][kNR]
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
  __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
  for (int64_t kk = 0; kk < kc; ++kk, panel += kMR, xk += kNR) {
    const __m256 w0 = _mm256_loadu_ps(panel);
    const __m256 w1 = _mm256_loadu_ps(panel + 8);
    __m256 b = _mm256_broadcast_ss(xk + 0);
    a00 = _mm256_fmadd_ps(w0, b, a00);
    a01 = _mm256_fmadd_ps(w1, b, a01);
    b = _mm256_broadcast_ss(xk + 1);
    a10 = _mm256_fmadd_ps(w0, b, a10);
    a11 = _mm256_fmadd_ps(w1, b, a11);
    b = _mm256_broadcast_ss(xk + 2);
    a20 = _mm256_fmadd_ps(w0, b, a20);
    a21 = _mm256_fmadd_ps(w1, b, a21);
    b = _mm256_broadcast_ss(xk + 3);
    a30 = _mm256_fmadd_ps(w0, b, a30);
    a31 = _mm256_fmadd_ps(w1, b, a31);
    b = _mm256_broadcast_ss(xk + 4);
    a40 = _mm256_fmadd_ps(w0, b, a40);
    a41 = _mm256_fmadd_ps(w1, b, a41);
    b = _mm256_broadcast_ss(xk + 5);
    a50 = _mm256_fmadd_ps(w0, b, a50);
    a51 = _mm256_fmadd_ps(w1, b, a51);
  }
  gemm_store(a00, a01, y, m0, m1, add);
  if (n_valid > 1) gemm_store(a10, a11, y + ldy, m0, m1, add);
  if (n_valid > 2) gemm_store(a20, a21, y + 2 * ldy, m0, m1, add);
  if (n_valid > 3) gemm_store(a30, a31, y + 3 * ldy, m0, m1, add);
  if (n_valid > 4) gemm_store(a40, a41, y + 4 * ldy, m0, m1, add);
  if (n_valid > 5) gemm_store(a50, a51, y + 5 * ldy, m0, m1, add);
}

// Activations (n rows of act_row bytes, type S) -> tiles [n_tiles][k][kNR] of F32, zero-padded.
template <Src S>
void prep(const void* act, size_t act_row, int64_t n, int64_t k, void* out) {
  const uint8_t* a = static_cast<const uint8_t*>(act);
  float* xt = static_cast<float*>(out);
  const int64_t n_tiles = (n + kNR - 1) / kNR;
  float buf[8 * 8];  // 8 k of one transposed 8-row group; the tile keeps kNR of its columns
  for (int64_t t = 0; t < n_tiles; ++t) {
    float* tile = xt + t * k * kNR;
    const int64_t rows = n - t * kNR < kNR ? n - t * kNR : kNR;
    for (int64_t kk = 0; kk < k; kk += 8) {
      const int64_t kc = k - kk < 8 ? k - kk : 8;
      transpose_rows8<S>(a + t * kNR * act_row, act_row, rows, kk, kc, buf, 8);
      for (int64_t i = 0; i < kc; ++i) {
        for (int c = 0; c < kNR; ++c) tile[(kk + i) * kNR + c] = buf[i * 8 + c];
      }
    }
  }
}

size_t prep_bytes(int64_t n, int64_t k) {
  return static_cast<size_t>((n + kNR - 1) / kNR * kNR * k) * sizeof(float);
}

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
size_t gemm_scratch_bytes_float(int64_t, int64_t) { return kBlockPanels * kPanelBytes; }

void gemm_run_f16(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                  const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  run<Src::kF16>(w, w_row, i0, i1, k, prepped, n, y, ldy, scratch);
}
void gemm_run_bf16(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  run<Src::kBF16>(w, w_row, i0, i1, k, prepped, n, y, ldy, scratch);
}

}  // namespace quorum::kernels::avx2
