// The numeric kernels the engine calls, behind one object chosen once from the CPU's features.
//
// Matmul convention (stated once, used everywhere):
//   Y[j, i] = sum_k W[i, k] * X[j, k]
//   W: (rows, k) row-major, in weight type `wtype` (each row row_size(wtype, k) bytes)
//   X: (n, k) F32 row-major activations;  Y: (n, rows) F32 row-major.
// As in ggml, activations are first converted to the weight type's "vec dot" type (Q8_0 for
// Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, Q8_K for K-quants and IQ2, F16 for F16, BF16 for
// BF16, F32 for F32) and the integer/half dot products follow ggml's, so results match
// llama.cpp's up to float summation order.
//
// Every kernel has a scalar reference in ref/ (always built) and may have AVX2 / AVX-512
// versions in x86_avx2/ and x86_avx512/ (one compile unit per instruction set, chosen at run
// time). A fast kernel may decline a shape; the caller then uses the reference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/thread_pool.h"
#include "kernels/kernel_table.h"
#include "tensor/dtype.h"

namespace quorum::kernels {

// The activation type a weight type's dot product takes (ggml's vec_dot_type).
DType vec_dot_type(DType weight_type);

// Bytes of one activation row of k elements converted for `weight_type`.
size_t activation_row_size(DType weight_type, int64_t k);

enum class Isa { kScalar, kAvx2, kAvx512 };
enum class MatmulPath { kAuto, kDots, kGemm };
const char* isa_name(Isa isa);

class Kernels {
 public:
  // Picks the best implementation the CPU supports; `max_isa` caps it (tests, benchmarks).
  explicit Kernels(const CpuFeatures& cpu, Isa max_isa = Isa::kAvx512);
  Isa isa() const { return isa_; }

  // True when dot/matmul/quantize_activation handle this weight type (check at model load;
  // calling them with an unsupported type is a bug).
  bool supports(DType weight_type) const;

  // Converts one F32 activation row x[k] to vec_dot_type(weight_type), writing
  // activation_row_size(weight_type, k) bytes to y.
  void quantize_activation(DType weight_type, const float* x, void* y, int64_t k) const;

  // Dot product of one weight row w (k elements of weight_type) with one converted activation
  // row x (from quantize_activation).
  float dot(DType weight_type, const void* w, const void* x, int64_t k) const;

  // Y = X · Wᵀ as above, split over the pool's threads. kAuto takes the blocked GEMM (gemm.h)
  // for n >= kGemmMinRows when this ISA has one for wtype, else the per-row dot products;
  // kDots and kGemm force a path (tests, benchmarks; kGemm without a GEMM uses the dots).
  void matmul(ThreadPool& pool, DType wtype, const void* w, int64_t rows, int64_t k,
              const float* x, int64_t n, float* y, MatmulPath path = MatmulPath::kAuto) const;
  bool has_gemm(DType wtype) const;

  // y[n] = x[n] / sqrt(mean(x²) + eps) * weight[n]   (llama's RMSNorm; weight may be null)
  void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps) const;
  // In place softmax over x[n] (max-subtracted; -inf entries give 0).
  void softmax(float* x, int64_t n) const;
  // y[n] = silu(gate[n]) * up[n]
  void swiglu(const float* gate, const float* up, float* y, int64_t n) const;

  // Attention over one KV head of an F16 cache (K and V rows of head_dim values, `stride`
  // elements apart, n_kv positions) for its n_q query heads:
  //   scores[g, j] = sum_d q[g, d] * K[j, d]        q [n_q, hd] F32, scores [n_q, n_kv]
  //   out[g, d]    = sum_j p[g, j] * V[j, d]        p [n_q, n_kv] F32, out [n_q, hd]
  void attn_scores_f16(const uint16_t* k, int64_t stride, const float* q, int64_t n_q,
                       int64_t n_kv, int64_t hd, float* scores) const;
  void attn_values_f16(const uint16_t* v, int64_t stride, const float* p, int64_t n_q,
                       int64_t n_kv, int64_t hd, float* out) const;

 private:
  // X (n, k) F32 -> n rows of activation type `at` in the calling thread's buffer, valid until
  // its next matmul (X itself for F32).
  const uint8_t* convert_activations(ThreadPool& pool, DType at, const float* x, int64_t n,
                                     int64_t k) const;

  Isa isa_;
  CpuFeatures cpu_;
  KernelTable table_;  // function per type, reference entries overwritten by SIMD ones
};

// RoPE on one head vector x[head_dim] at position pos, in place.
//   mode kNormal: rotates pairs (x[2i], x[2i+1])      (llama, GGUF-permuted Q/K)
//   mode kNeox:   rotates pairs (x[i], x[i + d/2])    (qwen2, phi3)
// theta_i = pos * freq_scale * base^(-2i/n_dims) * freq_factors[i]⁻¹ (freq_factors may be null;
// Llama-3.1 rope scaling passes them). Only the first n_dims elements rotate.
enum class RopeMode { kNormal, kNeox };
struct RopeParams {
  RopeMode mode = RopeMode::kNormal;
  int n_dims = 0;            // rotated dimensions (head_dim unless partial rotary)
  float base = 10000.0f;
  float freq_scale = 1.0f;
  const float* freq_factors = nullptr;  // n_dims / 2 entries or null
};
void rope(float* x, int64_t head_dim, int64_t pos, const RopeParams& p);

// The same rotation in two steps, so that the angles of one position are computed once for all
// heads and layers (bit-identical to rope()):
//   rope_cache writes cs[2i] = cos(theta_i), cs[2i + 1] = sin(theta_i) for i < n_dims / 2;
//   rope_apply rotates x[head_dim] with them.
void rope_cache(int64_t pos, const RopeParams& p, float* cs);
void rope_apply(float* x, const float* cs, const RopeParams& p);

}  // namespace quorum::kernels
