// IQ2_XXS / IQ2_XS x Q8_K dot products: every ISA against the scalar reference over swept k and
// random valid blocks (random grid indices, sign indices and scale nibbles packed explicitly),
// and the scalar reference against a double dot of the library's dequantized rows.
//
// Error analysis: per 256-weight super-block the kernels sum integers exactly and apply one
// float product d_w * d_x * isum (two roundings) and one accumulation; the final x 0.125 is
// exact. So |float - exact| <= (n_blocks + 3) u sum_i |w_i x_i| (u = 2^-24); SIMD vs reference
// differ by at most twice that.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "tensor/blocks.h"
#include "tensor/quant_ref.h"

namespace quorum::kernels {
namespace {

using testing::available_isas;
using testing::OffsetBuffer;
using testing::random_floats;
using testing::WorstError;

constexpr double kU = 5.960464477539063e-08;  // 2^-24
constexpr DType kIq2Types[] = {DType::kIQ2_XXS, DType::kIQ2_XS};

// What the generator draws per 8-weight group and per scale.
enum class Fill { kRandom, kExtreme };

// k weights of IQ2 type `t` from explicitly drawn fields. kExtreme: every scale nibble 15 and
// every sign index 127 (all 8 weights negative), the grid index drawn as usual.
std::vector<uint8_t> make_iq2_row(DType t, int64_t k, uint32_t seed, Fill fill) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dscale(0.0f, 0.02f);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  const bool extreme = fill == Fill::kExtreme;
  std::vector<uint8_t> row(row_size(t, k));
  for (int64_t b = 0; b < k / kQK_K; ++b) {
    if (t == DType::kIQ2_XXS) {
      BlockIQ2_XXS blk;
      blk.d = f32_to_f16(dscale(rng));
      for (int s = 0; s < 8; ++s) {
        uint32_t words[2] = {0, 0};
        for (int l = 0; l < 4; ++l) {
          words[0] |= pick(256) << (8 * l);
          words[1] |= (extreme ? 127u : pick(128)) << (7 * l);
        }
        words[1] |= (extreme ? 15u : pick(16)) << 28;
        std::memcpy(blk.qs + 4 * s, words, sizeof(words));
      }
      std::memcpy(row.data() + b * sizeof(blk), &blk, sizeof(blk));
    } else {
      BlockIQ2_XS blk;
      blk.d = f32_to_f16(dscale(rng));
      for (int g = 0; g < 32; ++g) {
        blk.qs[g] = static_cast<uint16_t>(pick(512) | ((extreme ? 127u : pick(128)) << 9));
      }
      for (int s = 0; s < 8; ++s) {
        blk.scales[s] = static_cast<uint8_t>(extreme ? 0xFF : (pick(16) | (pick(16) << 4)));
      }
      std::memcpy(row.data() + b * sizeof(blk), &blk, sizeof(blk));
    }
  }
  return row;
}

float ref_dot(DType t, const void* w, const void* x, int64_t k) {
  return t == DType::kIQ2_XXS ? ref::dot_iq2_xxs_q8_K(w, x, k) : ref::dot_iq2_xs_q8_K(w, x, k);
}

std::vector<float> dequantize(DType t, const void* w, int64_t k) {
  std::vector<float> out(static_cast<size_t>(k));
  if (t == DType::kIQ2_XXS) dequantize_row_iq2_xxs(w, out.data(), k);
  if (t == DType::kIQ2_XS) dequantize_row_iq2_xs(w, out.data(), k);
  return out;
}

// Exact dot (double) of the dequantized weights with the Q8_K activations, and sum |w_i x_i|.
struct Exact {
  double dot = 0.0, sum_abs = 0.0;
};
Exact exact_dot(DType t, const void* w, const void* act, int64_t k) {
  const std::vector<float> wf = dequantize(t, w, k);
  const auto* q8 = static_cast<const BlockQ8_K*>(act);
  Exact e;
  for (int64_t i = 0; i < k; ++i) {
    const double xi = static_cast<double>(q8[i / kQK_K].d) * q8[i / kQK_K].qs[i % kQK_K];
    e.dot += static_cast<double>(wf[i]) * xi;
    e.sum_abs += std::fabs(static_cast<double>(wf[i]) * xi);
  }
  return e;
}

std::vector<int64_t> swept_k() {
  std::vector<int64_t> ks;
  for (int64_t k = 256; k <= 4096; k += 256) ks.push_back(k);
  ks.push_back(8192);
  ks.push_back(11008);  // an FFN width (43 blocks)
  return ks;
}

TEST(Iq2Kernels, SupportedOnEveryIsa) {
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    for (DType t : kIq2Types) {
      EXPECT_TRUE(kern.supports(t)) << dtype_name(t) << " isa " << isa_name(isa);
      EXPECT_EQ(vec_dot_type(t), DType::kQ8_K);
    }
  }
}

TEST(Iq2Kernels, EveryIsaMatchesReference) {
  const size_t offsets[] = {0, 2, 36};
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    for (DType t : kIq2Types) {
      WorstError worst;
      for (int64_t k : swept_k()) {
        for (Fill fill : {Fill::kRandom, Fill::kExtreme}) {
          for (size_t off : offsets) {
            const uint32_t seed = static_cast<uint32_t>(k * 7 + off) + (fill == Fill::kExtreme);
            const std::vector<uint8_t> wv = make_iq2_row(t, k, seed, fill);
            // Extreme rows meet full-range activations (|q8| = 127 in every position).
            std::vector<float> x = random_floats(k, seed + 1);
            if (fill == Fill::kExtreme) {
              for (int64_t i = 0; i < k; ++i) x[i] = (i % 3 == 0) ? -1.0f : 1.0f;
            }
            OffsetBuffer w(wv.size(), off), a(activation_row_size(t, k), (off * 5) % 64);
            std::memcpy(w.data(), wv.data(), wv.size());
            ref::quantize_row_q8_K(x.data(), a.data(), k);
            const float want = ref_dot(t, w.data(), a.data(), k);
            const float got = kern.dot(t, w.data(), a.data(), k);
            const Exact e = exact_dot(t, w.data(), a.data(), k);
            const double tol = 2.0 * (static_cast<double>(k / kQK_K) + 3.0) * kU * e.sum_abs + 1e-30;
            worst.add(got, want, tol,
                      "k " + std::to_string(k) + " offset " + std::to_string(off) +
                          (fill == Fill::kExtreme ? " extreme" : " random"));
          }
        }
      }
      SCOPED_TRACE(std::string(dtype_name(t)) + " isa " + isa_name(isa));
      worst.expect_ok();
    }
  }
}

TEST(Iq2Kernels, ReferenceMatchesDequantizedDoubleDot) {
  for (DType t : kIq2Types) {
    WorstError worst;
    for (int64_t k : swept_k()) {
      for (Fill fill : {Fill::kRandom, Fill::kExtreme}) {
        const uint32_t seed = static_cast<uint32_t>(k) * 13 + (fill == Fill::kExtreme);
        const std::vector<uint8_t> w = make_iq2_row(t, k, seed, fill);
        const std::vector<float> x = random_floats(k, seed + 5, 3.0f);
        std::vector<uint8_t> a(row_size(DType::kQ8_K, k));
        ref::quantize_row_q8_K(x.data(), a.data(), k);
        const Exact e = exact_dot(t, w.data(), a.data(), k);
        const double tol = (static_cast<double>(k / kQK_K) + 3.0) * kU * e.sum_abs + 1e-30;
        worst.add(ref_dot(t, w.data(), a.data(), k), e.dot, tol, "k " + std::to_string(k));
      }
    }
    SCOPED_TRACE(dtype_name(t));
    worst.expect_ok();
  }
}

// A hand-checked block: IQ2_XS grid index 0 is (8, 8, 8, 8, 8, 8, 8, 8) and sign index 0 is
// all positive, so with scale nibbles 0 (weight d * 0.5 * 0.25 * 8 = d) every weight equals d;
// with activations all 1 (Q8_K: d_x = 1/127, q = 127) the dot is 256 * d * 127 * (1 / 127).
TEST(Iq2Kernels, HandComputedXsBlock) {
  BlockIQ2_XS blk{};
  blk.d = f32_to_f16(0.5f);
  const std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> a(row_size(DType::kQ8_K, 256));
  ref::quantize_row_q8_K(x.data(), a.data(), 256);
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    EXPECT_NEAR(kern.dot(DType::kIQ2_XS, &blk, a.data(), 256), 128.0, 1e-4) << isa_name(isa);
  }
}

}  // namespace
}  // namespace quorum::kernels
