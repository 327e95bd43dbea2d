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

// Sub-block scales as 16 int16 (sc16: 0..7 in the low 128-bit lane, 8..15 in the high one).
// half_scales(sc16, h): scales 8 h .. 8 h + 7 in both lanes; shuffling that with
// scale_shuffle(lo, hi) broadcasts its int16 lo to all 8 slots of the low lane and hi to the
// high lane (weights 0..15 and 16..31 of a 32-weight run).
inline __m256i half_scales(__m256i sc16, int h) {
  return h == 0 ? _mm256_permute2x128_si256(sc16, sc16, 0x00)
                : _mm256_permute2x128_si256(sc16, sc16, 0x11);
}
inline __m256i scale_shuffle(int lo, int hi) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>((2 * hi) | ((2 * hi + 1) << 8))),
                          _mm_set1_epi16(static_cast<int16_t>((2 * lo) | ((2 * lo + 1) << 8))));
}

// The K types with 16 scales of 16 weights (Q2_K, Q3_K, Q6_K): sumi[c] += the 8 runs of 32
// unsigned weights u(half, qd) (run 4 half + qd, weights 128 half + 32 qd ..) times the 32
// activations of row c, each half of a run times its scale, in 8 int32 lanes.
template <int N, class Unpack>
inline void add_scaled_runs16(__m256i sc16, const BlockQ8_K* const (&b)[N], Unpack u_of,
                              __m256i (&sumi)[N]) {
  for (int half = 0; half < 2; ++half) {
    const __m256i hs = half_scales(sc16, half);
    for (int qd = 0; qd < 4; ++qd) {
      const __m256i u = u_of(half, qd);
      const __m256i s = _mm256_shuffle_epi8(hs, scale_shuffle(2 * qd, 2 * qd + 1));
      for (int c = 0; c < N; ++c) {
        const __m256i p = _mm256_maddubs_epi16(u, load32(b[c]->qs + 128 * half + 32 * qd));
        sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(p, s));
      }
    }
  }
}

// Q4_K / Q5_K scales and mins: the 12 packed bytes as 16 int16, 8 six-bit scales in the low
// 128-bit lane and the 8 six-bit mins in the high one (the scalar k4 unpacking on 32-bit words).
inline __m256i k4_scales_mins(const uint8_t* s) {
  uint32_t u[3];
  std::memcpy(u, s, 12);
  const uint32_t sc_lo = u[0] & 0x3F3F3F3Fu, mn_lo = u[1] & 0x3F3F3F3Fu;
  const uint32_t sc_hi = (u[2] & 0x0F0F0F0Fu) | ((u[0] >> 2) & 0x30303030u);
  const uint32_t mn_hi = ((u[2] >> 4) & 0x0F0F0F0Fu) | ((u[1] >> 2) & 0x30303030u);
  return _mm256_cvtepu8_epi16(_mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi),
                                             static_cast<int>(mn_lo), static_cast<int>(mn_hi)));
}

// The -min part of one Q4_K/Q5_K x Q8_K super-block: 4 int32 sums of mins[j] * (bsums[2 j] +
// bsums[2 j + 1]) (sum over them = sum_j min_j * sum of the 32 activations of sub-block j).
inline __m128i k4_min_sums(__m256i scales_mins, const int16_t* bsums) {
  const __m256i bs = load32(bsums);
  const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
  return _mm_madd_epi16(_mm256_extracti128_si256(scales_mins, 1), pairs);
}

// Shared loop of Q4_K and Q5_K: unpack(i, j, lo, hi) gives the unsigned weights of sub-blocks
// 2 j (lo) and 2 j + 1 (hi) of super-block i.
template <class Block, class Unpack>
inline float dot_k45(const Block* a, const BlockQ8_K* b, int64_t nb, Unpack unpack) {
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_m = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i sm = k4_scales_mins(a[i].scales);
    acc_m = _mm_fmadd_ps(_mm_set1_ps(-b[i].d * h2f(a[i].dmin)),
                         _mm_cvtepi32_ps(k4_min_sums(sm, b[i].bsums)), acc_m);
    const __m256i scales = half_scales(sm, 0);  // the 8 scales in both lanes
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      __m256i lo, hi;
      unpack(i, j, lo, hi);
      const __m256i s_lo = _mm256_shuffle_epi8(scales, scale_shuffle(2 * j, 2 * j));
      const __m256i s_hi = _mm256_shuffle_epi8(scales, scale_shuffle(2 * j + 1, 2 * j + 1));
      const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load32(b[i].qs + 64 * j)), s_lo);
      const __m256i p_hi =
          _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load32(b[i].qs + 64 * j + 32)), s_hi);
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p_lo, p_hi));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), _mm256_cvtepi32_ps(sumi), acc);
  }
  __m128 m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
  m = _mm_add_ss(m, _mm_movehdup_ps(m));
  return hsum(acc) + _mm_cvtss_f32(m);
}

float dot_q4_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ4_K* a = static_cast<const BlockQ4_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  return dot_k45(a, b, k / 256, [&](int64_t i, int j, __m256i& lo, __m256i& hi) {
    const __m256i q = load32(a[i].qs + 32 * j);
    lo = _mm256_and_si256(q, m4);
    hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
  });
}

float dot_q5_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ5_K* a = static_cast<const BlockQ5_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  return dot_k45(a, b, k / 256, [&](int64_t i, int j, __m256i& lo, __m256i& hi) {
    const __m256i q = load32(a[i].qs + 32 * j), qh = load32(a[i].qh);
    const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one);
    const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one);
    lo = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(h0, 4));
    hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), _mm256_slli_epi16(h1, 4));
  });
}

float dot_q6_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  __m256 acc = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < k / 256; ++i) {
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[i].scales)));
    // The -32 offset: 32 * sc[g] * bsums[g], as 8 int32 lanes.
    __m256i sumi[1] = {_mm256_sub_epi32(
        _mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(sc16, load32(b[i].bsums)), 5))};
    const BlockQ8_K* const rows[1] = {b + i};
    // Run qd of a half: nibbles of ql bytes 32 (qd % 2) .., low for qd < 2, high after, with
    // bits 2 qd, 2 qd + 1 of the half's qh bytes on top.
    add_scaled_runs16(sc16, rows, [&](int half, int qd) {
      const __m256i l = load32(a[i].ql + 64 * half + 32 * (qd & 1));
      const __m256i qh = load32(a[i].qh + 32 * half);
      return _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l, 4 * (qd >> 1)), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * qd), m2), 4));
    }, sumi);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), _mm256_cvtepi32_ps(sumi[0]), acc);
  }
  return hsum(acc);
}

// Q3_K's 16 signed scales (stored +32) from 12 packed bytes, as 16 int16 (0..7 in the low
// lane): scale j = (low nibble of byte j % 8, high nibble for j >= 8) | (2 bits of byte
// 8 + j % 4 at 2 (j / 4)) << 4, done on 32-bit words.
inline __m256i q3_scales16(const uint8_t* s) {
  uint32_t u[3];
  std::memcpy(u, s, 12);
  const uint32_t m4 = 0x0F0F0F0Fu, m2 = 0x03030303u;
  const __m128i packed = _mm_setr_epi32(static_cast<int>((u[0] & m4) | ((u[2] & m2) << 4)),
                                        static_cast<int>((u[1] & m4) | (((u[2] >> 2) & m2) << 4)),
                                        static_cast<int>(((u[0] >> 4) & m4) | (((u[2] >> 4) & m2) << 4)),
                                        static_cast<int>(((u[1] >> 4) & m4) | (((u[2] >> 6) & m2) << 4)));
  return _mm256_cvtepi8_epi16(_mm_sub_epi8(packed, _mm_set1_epi8(32)));
}

// Q3_K and Q2_K against N activation rows (x + c * xs bytes, c < N): each weight block is
// unpacked once for all N. The one-row dot is N = 1, so dot and dot4 give identical bits.
template <int N>
inline void dot_q3_K_rows(const BlockQ3_K* a, const uint8_t* x, size_t xs, int64_t nb, float* out) {
  __m256 acc[N];
  for (int c = 0; c < N; ++c) acc[c] = _mm256_setzero_ps();
  const __m256i m2 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K* b[N];
    for (int c = 0; c < N; ++c) b[c] = reinterpret_cast<const BlockQ8_K*>(x + c * xs) + i;
    const __m256i sc16 = q3_scales16(a[i].scales);
    // q = lo + 4 * hbit - 4; the -4 goes through bsums: 4 * sc[g] * bsums[g] in 8 int32 lanes.
    __m256i sumi[N];
    for (int c = 0; c < N; ++c) {
      sumi[c] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                 _mm256_slli_epi32(_mm256_madd_epi16(sc16, load32(b[c]->bsums)), 2));
    }
    const __m256i hm = load32(a[i].hmask);
    add_scaled_runs16(sc16, b, [&](int half, int qd) {
      const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(load32(a[i].qs + 32 * half), 2 * qd), m2);
      const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * half + qd), one);
      return _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
    }, sumi);
    const float d = h2f(a[i].d);
    for (int c = 0; c < N; ++c) {
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d * b[c]->d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
    }
  }
  for (int c = 0; c < N; ++c) out[c] = hsum(acc[c]);
}

template <int N>
inline void dot_q2_K_rows(const BlockQ2_K* a, const uint8_t* x, size_t xs, int64_t nb, float* out) {
  // Float lanes as ggml's AVX2 kernel (lane j: weights 4 j .. 4 j + 3 of every 32, mins term
  // first): the min and scale terms nearly cancel in Q2_K, so the rounding order shows in logits.
  __m256 acc[N];
  for (int c = 0; c < N; ++c) acc[c] = _mm256_setzero_ps();
  const __m256i m2 = _mm256_set1_epi8(3);
  const __m128i m4 = _mm_set1_epi8(0x0F);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K* b[N];
    for (int c = 0; c < N; ++c) b[c] = reinterpret_cast<const BlockQ8_K*>(x + c * xs) + i;
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a[i].scales));
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), m4));
    const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sc, m4));
    const float dmin = h2f(a[i].dmin), d = h2f(a[i].d);
    __m256i sumi[N];
    for (int c = 0; c < N; ++c) {
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(-b[c]->d * dmin),
                               _mm256_cvtepi32_ps(_mm256_madd_epi16(mins16, load32(b[c]->bsums))), acc[c]);
      sumi[c] = _mm256_setzero_si256();
    }
    add_scaled_runs16(sc16, b, [&](int half, int qd) {
      return _mm256_and_si256(_mm256_srli_epi16(load32(a[i].qs + 32 * half), 2 * qd), m2);
    }, sumi);
    for (int c = 0; c < N; ++c) {
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(b[c]->d * d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
    }
  }
  for (int c = 0; c < N; ++c) out[c] = hsum(acc[c]);
}

float dot_q3_K_q8_K(const void* w, const void* x, int64_t k) {
  float out;
  dot_q3_K_rows<1>(static_cast<const BlockQ3_K*>(w), static_cast<const uint8_t*>(x), 0, k / 256, &out);
  return out;
}
void dot4_q3_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  dot_q3_K_rows<4>(static_cast<const BlockQ3_K*>(w), static_cast<const uint8_t*>(x), x_stride,
                   k / 256, out);
}
float dot_q2_K_q8_K(const void* w, const void* x, int64_t k) {
  float out;
  dot_q2_K_rows<1>(static_cast<const BlockQ2_K*>(w), static_cast<const uint8_t*>(x), 0, k / 256, &out);
  return out;
}
void dot4_q2_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  dot_q2_K_rows<4>(static_cast<const BlockQ2_K*>(w), static_cast<const uint8_t*>(x), x_stride,
                   k / 256, out);
}

}  // namespace quorum::kernels::avx2
