// Every SIMD kernel against the scalar reference it replaces (fill_ref's table), over swept
// sizes: each quantized dot product for every block count 1..16 plus large rows, and each
// activation quantizer byte for byte.
//
// Dot tolerance: reference and SIMD both sum each block's integers exactly and differ only in how
// the per-block float terms are rounded and accumulated, so each is within
// (n_blocks + 8) u sum_i bound_i |x_i| of the exact value (see quant_kernels_test.cpp) and they
// are within twice that of each other (plus the Q8_1 block-sum term for Q4_1/Q5_1).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/fp16.h"
#include "kernel_test_util.h"
#include "kernels/kernel_table.h"
#include "kernels/kernels.h"
#include "quant_blocks.h"
#include "tensor/blocks.h"

namespace quorum::kernels {
namespace {

using namespace testing;  // quorum::kernels::testing: buffers, random data, block decoding

constexpr double kU = 5.960464477539063e-08;  // 2^-24

KernelTable reference_table() {
  KernelTable t;
  fill_ref(t);
  return t;
}

std::vector<int64_t> swept_sizes(DType t) {
  const int64_t bs = traits(t).block_size;
  std::vector<int64_t> ks;
  for (int64_t n = 1; n <= 16; ++n) ks.push_back(n * bs);
  for (int64_t k : {2048, 4096, 5632, 11008}) {
    if (k % bs == 0) ks.push_back(k);
  }
  return ks;
}

// Twice the per-version error bound: 2 (n_blocks + 8) u sum_i bound_i |x_i| (+ the Q8_1 sum).
double tolerance(DType wt, const void* w, const void* act, int64_t k) {
  const Decoded dw = decode_blocks(wt, w, k);
  const Decoded dx = decode_blocks(vec_dot_type(wt), act, k);
  double sum_abs = 0.0;
  for (int64_t i = 0; i < k; ++i) sum_abs += dw.bound[i] * std::fabs(dx.value[i]);
  const int64_t nb = k / traits(wt).block_size;
  double tol = 2.0 * (static_cast<double>(nb) + 8.0) * kU * sum_abs + 1e-30;
  if (vec_dot_type(wt) == DType::kQ8_1) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* xb = static_cast<const BlockQ8_1*>(act);
    for (int64_t b = 0; b < nb; ++b) {
      f16_t m;  // Q4_1 and Q5_1 keep m right after d
      std::memcpy(&m, wb + b * traits(wt).type_size + 2, 2);
      tol += 2.0 * std::fabs(f16_to_f32(m)) * std::fabs(f16_to_f32(xb[b].s)) * kU;
    }
  }
  return tol;
}

TEST(SimdVsRef, EveryDotMatchesTheReferenceOverSweptSizes) {
  const KernelTable ref = reference_table();
  for (Isa isa : available_isas()) {
    if (isa == Isa::kScalar) continue;
    const Kernels kern(CpuFeatures::detect(), isa);
    for (DType t : kQuantWeightTypes) {
      const DotFn ref_dot = ref.dot[type_index(t)];
      const QuantizeFn ref_quant = ref.quantize[type_index(vec_dot_type(t))];
      ASSERT_TRUE(ref_dot && ref_quant) << dtype_name(t);
      WorstError worst;
      for (int64_t k : swept_sizes(t)) {
        const size_t off = static_cast<size_t>(k / traits(t).block_size) % 5 * 4;  // 0..16
        const std::vector<uint8_t> wv = random_blocks(t, k, 500 + static_cast<uint32_t>(k));
        OffsetBuffer w(wv.size(), off), a(activation_row_size(t, k), off + 2);
        std::memcpy(w.data(), wv.data(), wv.size());
        const std::vector<float> x = random_floats(k, 9 + static_cast<uint32_t>(k), 2.0f);
        ref_quant(x.data(), a.data(), k);
        const float want = ref_dot(w.data(), a.data(), k);
        const float got = kern.dot(t, w.data(), a.data(), k);
        worst.add(got, want, tolerance(t, w.data(), a.data(), k), "k " + std::to_string(k));
      }
      SCOPED_TRACE(std::string(dtype_name(t)) + " isa " + isa_name(isa));
      worst.expect_ok();
    }
  }
}

// The kernel table of one ISA as Kernels builds it (reference, then AVX2, then AVX-512 entries).
// Only filled for ISAs the CPU runs (available_isas), so its entries may be called.
KernelTable table_for(Isa isa) {
  KernelTable t;
  fill_ref(t);
  if (isa == Isa::kAvx2 || isa == Isa::kAvx512) fill_avx2(t);
  if (isa == Isa::kAvx512) fill_avx512(t);
  return t;
}

// Issue 3's coverage: every weight type has its own scalar, AVX2 and AVX-512 dot product (no
// ISA falls back to the previous one's). Filling a table only stores pointers, so this holds on
// any CPU.
TEST(SimdVsRef, EveryWeightTypeHasAScalarAvx2AndAvx512Dot) {
  KernelTable ref, avx2, avx512;
  fill_ref(ref);
  fill_ref(avx2);
  fill_avx2(avx2);
  avx512 = avx2;
  fill_avx512(avx512);
  std::vector<DType> types = {DType::kF32, DType::kF16, DType::kBF16};
  types.insert(types.end(), std::begin(kQuantWeightTypes), std::end(kQuantWeightTypes));
  for (DType t : types) {
    const size_t i = type_index(t);
    EXPECT_NE(ref.dot[i], nullptr) << dtype_name(t);
    EXPECT_NE(avx2.dot[i], ref.dot[i]) << dtype_name(t) << ": no AVX2 dot";
    EXPECT_NE(avx512.dot[i], avx2.dot[i]) << dtype_name(t) << ": no AVX-512 dot";
  }
}

// The four-column kernels (matmul with n > 1) against the reference dot of each column, over the
// same sizes, with misaligned weights and an activation stride that is not a multiple of 4.
TEST(SimdVsRef, EveryDot4MatchesTheReferenceOverSweptSizes) {
  const KernelTable ref = reference_table();
  int tested = 0;
  for (Isa isa : available_isas()) {
    const KernelTable table = table_for(isa);
    for (DType t : kQuantWeightTypes) {
      const Dot4Fn dot4 = table.dot4[type_index(t)];
      if (!dot4) continue;
      ++tested;
      const DotFn ref_dot = ref.dot[type_index(t)];
      const QuantizeFn ref_quant = ref.quantize[type_index(vec_dot_type(t))];
      WorstError worst;
      for (int64_t k : swept_sizes(t)) {
        const size_t a_row = activation_row_size(t, k), stride = a_row + 6;
        const std::vector<uint8_t> wv = random_blocks(t, k, 800 + static_cast<uint32_t>(k));
        OffsetBuffer w(wv.size(), 4), a(4 * stride, 2);
        std::memcpy(w.data(), wv.data(), wv.size());
        for (int c = 0; c < 4; ++c) {
          const std::vector<float> x = random_floats(k, 40 + static_cast<uint32_t>(k + c), 2.0f);
          ref_quant(x.data(), a.data() + c * stride, k);
        }
        float got[4];
        dot4(w.data(), a.data(), stride, k, got);
        for (int c = 0; c < 4; ++c) {
          const uint8_t* ac = a.data() + c * stride;
          worst.add(got[c], ref_dot(w.data(), ac, k), tolerance(t, w.data(), ac, k),
                    "k " + std::to_string(k) + " column " + std::to_string(c));
        }
      }
      SCOPED_TRACE(std::string(dtype_name(t)) + " isa " + isa_name(isa));
      worst.expect_ok();
    }
  }
  if (available_isas().back() == Isa::kAvx512) {
    EXPECT_GE(tested, 13);  // Q8_0, Q2_K..Q6_K, IQ2_XXS/XS and the five 32-block types
  }
}

// On AVX2 the four-row dots are the one-row dot's loop run for four activation rows (one
// template), so matmul's columns agree bit for bit whether they fall in a group of four or in the
// remainder.
TEST(SimdVsRef, Avx2Dot4GivesTheOneRowDotsBits) {
  const std::vector<Isa> isas = available_isas();
  if (std::find(isas.begin(), isas.end(), Isa::kAvx2) == isas.end()) {
    GTEST_SKIP() << "this CPU has no AVX2";
  }
  const KernelTable table = table_for(Isa::kAvx2);
  const KernelTable ref = reference_table();
  int tested = 0;
  for (DType t : kQuantWeightTypes) {
    const Dot4Fn dot4 = table.dot4[type_index(t)];
    if (!dot4) continue;
    ++tested;
    const QuantizeFn quant = ref.quantize[type_index(vec_dot_type(t))];
    for (int64_t k : swept_sizes(t)) {
      const size_t stride = activation_row_size(t, k) + 6;
      const std::vector<uint8_t> w = random_blocks(t, k, 900 + static_cast<uint32_t>(k));
      std::vector<uint8_t> a(4 * stride);
      for (int c = 0; c < 4; ++c) {
        const std::vector<float> x = random_floats(k, 70 + static_cast<uint32_t>(k + c), 2.0f);
        quant(x.data(), a.data() + c * stride, k);
      }
      float got[4];
      dot4(w.data(), a.data(), stride, k, got);
      for (int c = 0; c < 4; ++c) {
        EXPECT_EQ(got[c], table.dot[type_index(t)](w.data(), a.data() + c * stride, k))
            << dtype_name(t) << " k " << k << " column " << c;
      }
    }
  }
  EXPECT_GE(tested, 7);  // Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K, Q3_K
}

// The 32-weight block types at the ends of their integer ranges: every code at its largest or
// smallest value (all quant bits set / clear) against activations of +-127 in every position, for
// every block count up to 9 (odd counts end in a lone block). The integer sums are exact in every
// version, so only the float scaling may differ.
TEST(SimdVsRef, Block32DotsAtExtremeCodes) {
  const KernelTable ref = reference_table();
  const DType types[] = {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                         DType::kQ5_1, DType::kQ8_0, DType::kIQ4_NL};
  for (Isa isa : available_isas()) {
    if (isa == Isa::kScalar) continue;
    const KernelTable table = table_for(isa);
    for (DType t : types) {
      const size_t ts = traits(t).type_size;
      // Bytes after the F16 head: d (and m for the _1 types).
      const size_t head = (t == DType::kQ4_1 || t == DType::kQ5_1) ? 4 : 2;
      WorstError worst;
      for (int64_t nb = 1; nb <= 9; ++nb) {
        const int64_t k = 32 * nb;
        for (uint8_t fill : {uint8_t{0x00}, uint8_t{0xFF}, uint8_t{0x88}}) {
          std::vector<uint8_t> wv = random_blocks(t, k, 77 + static_cast<uint32_t>(k));
          for (int64_t b = 0; b < nb; ++b) {
            // Q8_0 keeps its weights in [-127, 127]: 0xFF is -1, 0x88 is -120.
            std::memset(wv.data() + b * ts + head, fill, ts - head);
          }
          std::vector<float> x(static_cast<size_t>(k));
          for (int64_t i = 0; i < k; ++i) x[i] = (i % 3 == 1) ? -1.0f : 1.0f;  // q8 = +-127
          OffsetBuffer w(wv.size(), 1), a(activation_row_size(t, k), 3);
          std::memcpy(w.data(), wv.data(), wv.size());
          ref.quantize[type_index(vec_dot_type(t))](x.data(), a.data(), k);
          const float want = ref.dot[type_index(t)](w.data(), a.data(), k);
          const float got = table.dot[type_index(t)](w.data(), a.data(), k);
          worst.add(got, want, tolerance(t, w.data(), a.data(), k),
                    "blocks " + std::to_string(nb) + " fill " + std::to_string(fill));
          if (table.dot4[type_index(t)]) {
            float got4[4];
            table.dot4[type_index(t)](w.data(), a.data(), 0, k, got4);  // four times one row
            for (float g : got4) {
              worst.add(g, want, tolerance(t, w.data(), a.data(), k),
                        "dot4 blocks " + std::to_string(nb) + " fill " + std::to_string(fill));
            }
          }
        }
      }
      SCOPED_TRACE(std::string(dtype_name(t)) + " isa " + isa_name(isa));
      worst.expect_ok();
    }
  }
}

TEST(SimdVsRef, ActivationQuantizersAreBitExactOverSweptSizes) {
  const KernelTable ref = reference_table();
  for (Isa isa : available_isas()) {
    if (isa == Isa::kScalar) continue;
    const Kernels kern(CpuFeatures::detect(), isa);
    // One weight type per activation type.
    for (DType wt : {DType::kQ8_0, DType::kQ4_1, DType::kQ4_K}) {
      const DType at = vec_dot_type(wt);
      const QuantizeFn ref_quant = ref.quantize[type_index(at)];
      const int64_t bs = traits(at).block_size;
      for (int64_t n = 1; n <= 24; ++n) {
        const int64_t k = n * bs;
        for (float scale : {1.0f, 1e-4f, 500.0f}) {
          std::vector<float> x = random_floats(k, 300 + static_cast<uint32_t>(k), scale);
          // Exact halves of the quantization step, ties at the largest magnitude (the first
          // one decides Q8_K's sign), and an all-zero block.
          x[k / 2] = 0.5f * scale;
          x[k - 2] = std::fabs(x[0]) + 8.0f * scale;
          x[k - 1] = -x[k - 2];
          if (n % 3 == 0) std::fill(x.begin(), x.begin() + bs, 0.0f);
          OffsetBuffer got(row_size(at, k), static_cast<size_t>(n % 4) * 4);
          std::vector<uint8_t> want(row_size(at, k));
          kern.quantize_activation(wt, x.data(), got.data(), k);
          ref_quant(x.data(), want.data(), k);
          ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0)
              << dtype_name(at) << " isa " << isa_name(isa) << " k " << k << " scale " << scale;
        }
      }
    }
  }
}

}  // namespace
}  // namespace quorum::kernels
