// Quantized dot products and activation quantizers, every ISA against a double-precision
// reference over the decoded blocks: dot(w, quantize(x)) vs sum decode(w) * decode(act).
//
// Error analysis: inside a block the kernels sum integers exactly; each block then costs a few
// float roundings (scale products, the min term) and one accumulation step, so
// |error| <= (n_blocks + 8) u sum_i (|scaled q_i| + |offset_i|) |x_i|. Q4_1/Q5_1 also use
// the activation's block sum s = fp16(d * sum q) taken with the unrounded d, so it differs from
// fp16(d) * sum q by up to 2 * 2^-11 |s| per block.
#include <gtest/gtest.h>

#include <vector>

#include "core/fp16.h"
#include "core/thread_pool.h"
#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "quant_blocks.h"
#include "tensor/blocks.h"

namespace quorum::kernels {
namespace {

using testing::available_isas;
using testing::decode_blocks;
using testing::Decoded;
using testing::kQuantWeightTypes;
using testing::OffsetBuffer;
using testing::random_blocks;
using testing::random_floats;
using testing::WorstError;

using testing::expected_dot;
using Expect = testing::ExpectedDot;

std::vector<int64_t> sizes_for(DType t) {
  if (traits(t).block_size == 32) return {32, 64, 96, 256, 352, 2048, 4096};
  return {256, 512, 768, 2048, 4096};
}

TEST(QuantKernels, DotMatchesDoubleReferenceAllIsas) {
  const std::vector<size_t> offsets = {0, 4, 12, 36};
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    for (DType t : kQuantWeightTypes) {
      WorstError worst;
      for (int64_t k : sizes_for(t)) {
        for (size_t off : offsets) {
          const std::vector<uint8_t> wv = random_blocks(t, k, 1000 + static_cast<uint32_t>(k));
          OffsetBuffer w(wv.size(), off), a(activation_row_size(t, k), (off * 3) % 64);
          std::memcpy(w.data(), wv.data(), wv.size());
          const std::vector<float> x = random_floats(k, 7 + static_cast<uint32_t>(k + off));
          kern.quantize_activation(t, x.data(), a.data(), k);
          const Expect e = expected_dot(t, w.data(), a.data(), k);
          const float got = kern.dot(t, w.data(), a.data(), k);
          worst.add(got, e.exact, e.tol,
                    std::string(dtype_name(t)) + " k " + std::to_string(k) + " offset " +
                        std::to_string(off));
        }
      }
      SCOPED_TRACE(std::string(dtype_name(t)) + " isa " + isa_name(isa));
      worst.expect_ok();
    }
  }
}

// Every ISA's activation quantizer writes exactly the reference bytes.
TEST(QuantKernels, ActivationQuantizersAreBitExactAcrossIsas) {
  const std::pair<DType, void (*)(const float*, void*, int64_t)> cases[] = {
      {DType::kQ4_0, ref::quantize_row_q8_0},
      {DType::kQ4_1, ref::quantize_row_q8_1},
      {DType::kQ4_K, ref::quantize_row_q8_K}};
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    for (const auto& [wt, ref_fn] : cases) {
      for (int64_t k : {256, 512, 4096}) {
        for (float scale : {1.0f, 1e-3f, 300.0f}) {
          std::vector<float> x = random_floats(k, 55 + static_cast<uint32_t>(k), scale);
          for (int i = 0; i < 32; ++i) x[i] = 0.0f;             // an all-zero Q8_0/Q8_1 block
          if (k >= 512) std::fill(x.begin() + 256, x.begin() + 512, 0.0f);  // zero Q8_K block
          x[40] = 0.5f * scale;                                  // halfway-ish values
          OffsetBuffer got(activation_row_size(wt, k), 4);
          std::vector<uint8_t> want(activation_row_size(wt, k));
          kern.quantize_activation(wt, x.data(), got.data(), k);
          ref_fn(x.data(), want.data(), k);
          ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0)
              << dtype_name(vec_dot_type(wt)) << " isa " << isa_name(isa) << " k " << k
              << " scale " << scale;
        }
      }
    }
  }
}

// The reference quantizers' own contract: every element within half a step of the input, the
// scale set by the block's largest magnitude (127 steps), block sums consistent.
TEST(QuantKernels, ReferenceActivationQuantizersRoundToNearest) {
  const int64_t k = 1024;
  const std::vector<float> x = random_floats(k, 77, 2.0f);
  for (DType at : {DType::kQ8_0, DType::kQ8_1, DType::kQ8_K}) {
    std::vector<uint8_t> q(row_size(at, k));
    if (at == DType::kQ8_0) ref::quantize_row_q8_0(x.data(), q.data(), k);
    if (at == DType::kQ8_1) ref::quantize_row_q8_1(x.data(), q.data(), k);
    if (at == DType::kQ8_K) ref::quantize_row_q8_K(x.data(), q.data(), k);
    const Decoded d = decode_blocks(at, q.data(), k);
    const int64_t bs = traits(at).block_size;
    for (int64_t b = 0; b < k / bs; ++b) {
      double amax = 0.0;
      for (int64_t i = b * bs; i < (b + 1) * bs; ++i) amax = std::max(amax, double(std::fabs(x[i])));
      const double step = amax / 127.0;
      for (int64_t i = b * bs; i < (b + 1) * bs; ++i) {
        // F16 scales (Q8_0/Q8_1) move the grid by up to 2^-11 relative.
        EXPECT_NEAR(d.value[i], x[i], 0.5 * step + amax * 1e-3) << dtype_name(at) << " i " << i;
      }
    }
    if (at == DType::kQ8_K) {
      const auto* blocks = reinterpret_cast<const BlockQ8_K*>(q.data());
      for (int64_t b = 0; b < k / 256; ++b) {
        for (int g = 0; g < 16; ++g) {
          int s = 0;
          for (int j = 0; j < 16; ++j) s += blocks[b].qs[16 * g + j];
          EXPECT_EQ(blocks[b].bsums[g], s);
        }
      }
    }
  }
}

TEST(QuantKernels, MatmulMatchesDoubleReference) {
  struct Shape { int64_t rows, k, n; };
  const Shape shapes[] = {{37, 512, 1}, {20, 256, 3}, {33, 512, 70}};
  ThreadPool pool(2);
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    for (DType t : kQuantWeightTypes) {
      WorstError worst;
      for (const Shape& s : shapes) {
        const std::vector<uint8_t> w = random_blocks(t, s.rows * s.k, 3);
        const std::vector<float> x = random_floats(s.n * s.k, 4);
        std::vector<float> y(s.rows * s.n);
        kern.matmul(pool, t, w.data(), s.rows, s.k, x.data(), s.n, y.data());
        const size_t wr = row_size(t, s.k), ar = activation_row_size(t, s.k);
        std::vector<uint8_t> a(ar);
        for (int64_t j = 0; j < s.n; ++j) {
          kern.quantize_activation(t, x.data() + j * s.k, a.data(), s.k);
          for (int64_t i = 0; i < s.rows; ++i) {
            const Expect e = expected_dot(t, w.data() + i * wr, a.data(), s.k);
            worst.add(y[j * s.rows + i], e.exact, e.tol,
                      "n " + std::to_string(s.n) + " (" + std::to_string(j) + ", " +
                          std::to_string(i) + ")");
          }
        }
      }
      SCOPED_TRACE(std::string(dtype_name(t)) + " isa " + isa_name(isa));
      worst.expect_ok();
    }
  }
}

}  // namespace
}  // namespace quorum::kernels
