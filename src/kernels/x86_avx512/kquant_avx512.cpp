// AVX-512 dot products of Q2_K, Q3_K and Q5_K with Q8_K activations. Each super-block is decoded
// to four 64-byte vectors of unsigned quants in element order; maddubs with the activations gives
// int16 pairs and madd with the sub-block scales (one int16 per 16 or 32 weights, spread to the
// lanes by a permute) gives exact int32 sums. Offsets (Q2_K/Q5_K mins, Q3_K's -4) go through the
// activation's 16-element sums (bsums), as in the AVX2 versions; block scales apply in float.
// The four-column versions (dot4, matmul with n > 1) decode each super-block once for four
// activation columns and do for each column exactly what the one-column version does.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/avx512_util.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx512 {
namespace {

// Four vectors of 64 weights each, scales per 16 weights: int16 lane i of vector v takes scale
// 4 v + i / 8 of the 16 (one 128-bit lane = 16 weights = 8 maddubs pairs).
struct Scales16 {
  __m512i lane[4];
};
inline Scales16 spread_scales16(__m256i sc16) {
  const __m512i all = _mm512_castsi256_si512(sc16);
  // int16 lanes 0..7 -> 0, 8..15 -> 1, 16..23 -> 2, 24..31 -> 3 (two lanes per 32-bit word).
  const __m512i base = _mm512_set_epi32(0x30003, 0x30003, 0x30003, 0x30003, 0x20002, 0x20002,
                                        0x20002, 0x20002, 0x10001, 0x10001, 0x10001, 0x10001, 0,
                                        0, 0, 0);
  Scales16 s;
  for (int v = 0; v < 4; ++v) {
    const __m512i idx = _mm512_add_epi16(base, _mm512_set1_epi16(static_cast<int16_t>(4 * v)));
    s.lane[v] = _mm512_permutexvar_epi16(idx, all);
  }
  return s;
}

// sum over the four vectors of (maddubs(q[v], y[64 v ..]) * scales), 16 x int32.
inline __m512i scaled_sum(const __m512i* q, const __m512i* sc, const int8_t* y) {
  __m512i sumi = _mm512_setzero_si512();
  for (int v = 0; v < 4; ++v) {
    const __m512i p = _mm512_maddubs_epi16(q[v], load64(y + 64 * v));
    sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(p, sc[v]));
  }
  return sumi;
}

// 2-bit fields of 32 bytes -> the four 32-weight groups of one 128-weight half, two per vector.
inline void unpack_2bit(__m256i q, __m512i* out) {
  const __m256i m2 = _mm256_set1_epi8(3);
  out[0] = join(_mm256_and_si256(q, m2), _mm256_and_si256(_mm256_srli_epi16(q, 2), m2));
  out[1] = join(_mm256_and_si256(_mm256_srli_epi16(q, 4), m2),
                _mm256_and_si256(_mm256_srli_epi16(q, 6), m2));
}

// Q3_K's 16 signed 6-bit scales (stored +32) as int16: low nibble from byte j (j < 8) or the
// high nibble of byte j - 8, top two bits from byte 8 + j % 4 at bit 2 (j / 4). Four bytes at a
// time in 32-bit words (ggml's unpacking; no byte-wise stores read back as a vector).
inline __m256i q3_K_scales16(const uint8_t* s) {
  uint32_t aux[3];
  std::memcpy(aux, s, 12);
  constexpr uint32_t kLow4 = 0x0F0F0F0F, kLow2 = 0x03030303;
  const __m128i packed = _mm_set_epi32(
      static_cast<int>(((aux[1] >> 4) & kLow4) | (((aux[2] >> 6) & kLow2) << 4)),
      static_cast<int>(((aux[0] >> 4) & kLow4) | (((aux[2] >> 4) & kLow2) << 4)),
      static_cast<int>((aux[1] & kLow4) | (((aux[2] >> 2) & kLow2) << 4)),
      static_cast<int>((aux[0] & kLow4) | ((aux[2] & kLow2) << 4)));
  return _mm256_cvtepi8_epi16(_mm_sub_epi8(packed, _mm_set1_epi8(32)));
}

// One super-block decoded for reuse by several activation columns: the dot with a Q8_K block y
// is  d y.d sum(maddubs(q, y.qs) * sc)  -  off_scale y.d sum(off16 * y.bsums).
struct KBlock {
  __m512i q[4];     // unsigned quants, 64 per vector, element order
  __m512i sc[4];    // int16 scale of each maddubs pair
  __m256i off16;    // int16 per 16-element group, multiplied by the activation's bsums
  float d;          // weight scale of the integer sum
  float off_scale;  // weight scale of the offset sum (Q2_K / Q5_K: dmin; Q3_K: 4 d)
};

inline void decode_q2_K(const BlockQ2_K& a, KBlock& out) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.scales));
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(packed, m4));
  out.off16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), m4));  // mins
  unpack_2bit(load32(a.qs), out.q);
  unpack_2bit(load32(a.qs + 32), out.q + 2);
  const Scales16 sc = spread_scales16(sc16);
  for (int v = 0; v < 4; ++v) out.sc[v] = sc.lane[v];
  out.d = h2f(a.d);
  out.off_scale = h2f(a.dmin);
}

inline void decode_q3_K(const BlockQ3_K& a, KBlock& out) {
  // q = low 2 bits + 4 * high bit - 4; the -4 is 4 * sum_g scale_g * bsums_g.
  const __m256i sc16 = q3_K_scales16(a.scales);
  out.off16 = sc16;
  const __m256i one = _mm256_set1_epi8(1);
  const __m256i hm = load32(a.hmask);
  for (int half = 0; half < 2; ++half) {
    unpack_2bit(load32(a.qs + 32 * half), out.q + 2 * half);
    // Group g = 4 half + j of 32 weights takes bit g of each hmask byte.
    __m256i hb[4];
    for (int j = 0; j < 4; ++j) {
      hb[j] = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, 4 * half + j), one), 2);
    }
    out.q[2 * half] = _mm512_or_si512(out.q[2 * half], join(hb[0], hb[1]));
    out.q[2 * half + 1] = _mm512_or_si512(out.q[2 * half + 1], join(hb[2], hb[3]));
  }
  const Scales16 sc = spread_scales16(sc16);
  for (int v = 0; v < 4; ++v) out.sc[v] = sc.lane[v];
  out.d = h2f(a.d);
  out.off_scale = 4.0f * out.d;  // exact: (4 d) y.d == 4 (d y.d)
}

inline void decode_q5_K(const BlockQ5_K& a, KBlock& out) {
  // 8 six-bit scales and mins (12 packed bytes, the layout Q4_K shares).
  const uint8_t* s = a.scales;
  uint8_t sc[8], mn[8];
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    mn[j] = s[j + 4] & 63;
    sc[j + 4] = (s[j + 8] & 0xF) | ((s[j] >> 6) << 4);
    mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
  }
  uint64_t m8;
  std::memcpy(&m8, mn, 8);
  const __m128i m = _mm_cvtsi64_si128(static_cast<long long>(m8));
  out.off16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m, m));  // each min twice
  // Sub-blocks 2 j (low nibbles) and 2 j + 1 (high nibbles) share 32 bytes; the fifth bit of
  // sub-block t is bit t of each qh byte.
  const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  const __m256i qh = load32(a.qh);
  for (int j = 0; j < 4; ++j) {
    const __m256i qs = load32(a.qs + 32 * j);
    const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one);
    const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one);
    const __m256i lo = _mm256_or_si256(_mm256_and_si256(qs, m4), _mm256_slli_epi16(h0, 4));
    const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qs, 4), m4),
                                       _mm256_slli_epi16(h1, 4));
    out.q[j] = join(lo, hi);
    out.sc[j] = join(_mm256_set1_epi16(sc[2 * j]), _mm256_set1_epi16(sc[2 * j + 1]));
  }
  out.d = h2f(a.d);
  out.off_scale = h2f(a.dmin);
}

// NC columns (column c: Q8_K blocks at x + c * x_stride bytes) against the decoded blocks of
// one weight row; out[c] = sum of the integer terms minus the offset terms, each accumulated in
// float per lane as in the one-column kernels before dot4 existed.
template <int NC, typename W, typename Decode>
inline void kquant_dot(const W* a, const void* x, size_t x_stride, int64_t k, Decode decode,
                       float* out) {
  const uint8_t* xb = static_cast<const uint8_t*>(x);
  __m512 acc[NC];
  __m256 acc_off[NC];
  for (int c = 0; c < NC; ++c) {
    acc[c] = _mm512_setzero_ps();
    acc_off[c] = _mm256_setzero_ps();
  }
  KBlock blk;
  for (int64_t i = 0; i < k / 256; ++i) {
    decode(a[i], blk);
    for (int c = 0; c < NC; ++c) {
      const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(xb + c * x_stride)[i];
      const __m256i offs = _mm256_madd_epi16(blk.off16, load32(y.bsums));  // 8 x int32
      acc_off[c] = _mm256_fmadd_ps(_mm256_set1_ps(blk.off_scale * y.d), _mm256_cvtepi32_ps(offs),
                                   acc_off[c]);
      acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(blk.d * y.d),
                               _mm512_cvtepi32_ps(scaled_sum(blk.q, blk.sc, y.qs)), acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) out[c] = _mm512_reduce_add_ps(acc[c]) - hsum256(acc_off[c]);
}

}  // namespace

float dot_q2_K_q8_K(const void* w, const void* x, int64_t k) {
  float out;
  kquant_dot<1>(static_cast<const BlockQ2_K*>(w), x, 0, k, decode_q2_K, &out);
  return out;
}
void dot4_q2_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  kquant_dot<4>(static_cast<const BlockQ2_K*>(w), x, x_stride, k, decode_q2_K, out);
}

float dot_q3_K_q8_K(const void* w, const void* x, int64_t k) {
  float out;
  kquant_dot<1>(static_cast<const BlockQ3_K*>(w), x, 0, k, decode_q3_K, &out);
  return out;
}
void dot4_q3_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  kquant_dot<4>(static_cast<const BlockQ3_K*>(w), x, x_stride, k, decode_q3_K, out);
}

float dot_q5_K_q8_K(const void* w, const void* x, int64_t k) {
  float out;
  kquant_dot<1>(static_cast<const BlockQ5_K*>(w), x, 0, k, decode_q5_K, &out);
  return out;
}
void dot4_q5_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  kquant_dot<4>(static_cast<const BlockQ5_K*>(w), x, x_stride, k, decode_q5_K, out);
}

}  // namespace quorum::kernels::avx512
