// Kernels: picks the instruction set once, fills the function table (reference first, then the
// SIMD entries the CPU can run), and implements matmul on top of the table: convert the
// activations once, then tile weight rows x activation columns over the thread pool.
#include "kernels/kernels.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "core/fp16.h"
#include "kernels/gemm.h"
#include "kernels/ref/ref.h"

namespace quorum::kernels {

DType vec_dot_type(DType weight_type) {
  switch (weight_type) {
    case DType::kF32: return DType::kF32;
    case DType::kF16: return DType::kF16;
    case DType::kBF16: return DType::kBF16;
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0:
    case DType::kIQ4_NL: return DType::kQ8_0;
    case DType::kQ4_1:
    case DType::kQ5_1: return DType::kQ8_1;
    default: return DType::kQ8_K;  // K-quants and the IQ types with 256-element blocks
  }
}

size_t activation_row_size(DType weight_type, int64_t k) {
  return row_size(vec_dot_type(weight_type), k);
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
}

void fill_ref(KernelTable& t) {
  auto set_dot = [&](DType d, DotFn f) { t.dot[type_index(d)] = f; };
  set_dot(DType::kF32, ref::dot_f32);
  set_dot(DType::kF16, ref::dot_f16);
  set_dot(DType::kBF16, ref::dot_bf16);
  set_dot(DType::kQ4_0, ref::dot_q4_0_q8_0);
  set_dot(DType::kQ4_1, ref::dot_q4_1_q8_1);
  set_dot(DType::kQ5_0, ref::dot_q5_0_q8_0);
  set_dot(DType::kQ5_1, ref::dot_q5_1_q8_1);
  set_dot(DType::kQ8_0, ref::dot_q8_0_q8_0);
  set_dot(DType::kIQ4_NL, ref::dot_iq4_nl_q8_0);
  set_dot(DType::kQ2_K, ref::dot_q2_K_q8_K);
  set_dot(DType::kQ3_K, ref::dot_q3_K_q8_K);
  set_dot(DType::kQ4_K, ref::dot_q4_K_q8_K);
  set_dot(DType::kQ5_K, ref::dot_q5_K_q8_K);
  set_dot(DType::kQ6_K, ref::dot_q6_K_q8_K);
  set_dot(DType::kIQ2_XXS, ref::dot_iq2_xxs_q8_K);
  set_dot(DType::kIQ2_XS, ref::dot_iq2_xs_q8_K);
  auto set_q = [&](DType d, QuantizeFn f) { t.quantize[type_index(d)] = f; };
  set_q(DType::kF32, ref::quantize_row_f32);
  set_q(DType::kF16, ref::quantize_row_f16);
  set_q(DType::kBF16, ref::quantize_row_bf16);
  set_q(DType::kQ8_0, ref::quantize_row_q8_0);
  set_q(DType::kQ8_1, ref::quantize_row_q8_1);
  set_q(DType::kQ8_K, ref::quantize_row_q8_K);
  t.rms_norm = ref::rms_norm;
  t.softmax = ref::softmax;
  t.swiglu = ref::swiglu;
  t.attn_scores_f16 = ref::attn_scores_f16;
  t.attn_values_f16 = ref::attn_values_f16;
}

namespace {

// Converted activations of a matmul, kept by the calling thread from one matmul to the next
// (grow-only, freed when the thread ends) and not zero-filled: the converters write every byte.
// A std::vector resized per matmul zero-filled 2-8 MB each time (1.5 % of F16 pp512 time).
uint8_t* converted_buffer(size_t bytes) {
  thread_local std::unique_ptr<uint8_t[]> buffer;
  thread_local size_t capacity = 0;
  if (bytes > capacity) {
    buffer.reset();
    buffer.reset(new uint8_t[bytes]);  // default-initialised: no fill
    capacity = bytes;
  }
  return buffer.get();
}

Isa choose_isa(const CpuFeatures& cpu, Isa max_isa) {
  const bool avx2 = cpu.avx2 && cpu.fma && cpu.f16c;
  // The AVX-512 files are built with -mavx512{f,bw,vl,dq,vnni}: all five must be there.
  const bool avx512 = avx2 && cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512dq &&
                      cpu.avx512vnni;
  if (max_isa == Isa::kAvx512 && avx512) return Isa::kAvx512;
  if (max_isa != Isa::kScalar && avx2) return Isa::kAvx2;
  return Isa::kScalar;
}

}  // namespace

Kernels::Kernels(const CpuFeatures& cpu, Isa max_isa) : isa_(choose_isa(cpu, max_isa)), cpu_(cpu) {
  fill_ref(table_);
  if (isa_ == Isa::kAvx2 || isa_ == Isa::kAvx512) fill_avx2(table_);
  if (isa_ == Isa::kAvx512) fill_avx512(table_);
}

bool Kernels::supports(DType weight_type) const {
  if (static_cast<uint32_t>(weight_type) >= kDTypeIdLimit) return false;
  return table_.dot[type_index(weight_type)] != nullptr &&
         table_.quantize[type_index(vec_dot_type(weight_type))] != nullptr;
}

void Kernels::quantize_activation(DType weight_type, const float* x, void* y, int64_t k) const {
  const QuantizeFn fn = table_.quantize[type_index(vec_dot_type(weight_type))];
  assert(fn && "quantize_activation: unsupported weight type (check supports())");
  if (fn) fn(x, y, k);
}

float Kernels::dot(DType weight_type, const void* w, const void* x, int64_t k) const {
  const DotFn fn = table_.dot[type_index(weight_type)];
  assert(fn && "dot: unsupported weight type (check supports())");
  return fn ? fn(w, x, k) : std::numeric_limits<float>::quiet_NaN();
}

const uint8_t* Kernels::convert_activations(ThreadPool& pool, DType at, const float* x, int64_t n,
                                            int64_t k) const {
  if (at == DType::kF32) return reinterpret_cast<const uint8_t*>(x);
  const size_t a_row = row_size(at, k);
  const QuantizeFn quant_fn = table_.quantize[type_index(at)];
  uint8_t* buffer = converted_buffer(a_row * static_cast<size_t>(n));
  pool.parallel_for(n, 1, [&](int64_t b, int64_t e, int) {
    for (int64_t j = b; j < e; ++j) quant_fn(x + j * k, buffer + j * a_row, k);
  });
  return buffer;
}

void Kernels::matmul(ThreadPool& pool, DType wtype, const void* w, int64_t rows, int64_t k,
                     const float* x, int64_t n, float* y, MatmulPath path) const {
  const DType at = vec_dot_type(wtype);
  const DotFn dot_fn = table_.dot[type_index(wtype)];
  const QuantizeFn quant_fn = table_.quantize[type_index(at)];
  assert(dot_fn && quant_fn && "matmul: unsupported weight type (check supports())");
  if (!dot_fn || !quant_fn) {
    std::fill(y, y + rows * n, std::numeric_limits<float>::quiet_NaN());
    return;
  }
  const size_t w_row = row_size(wtype, k);
  const size_t a_row = row_size(at, k);
  const uint8_t* wb = static_cast<const uint8_t*>(w);  // (rows, w_row bytes)

  // Activations converted once: (n, a_row bytes). F32 weights take X as it is.
  const uint8_t* act = convert_activations(pool, at, x, n, k);

  const bool gemm = path == MatmulPath::kGemm || (path == MatmulPath::kAuto && n >= kGemmMinRows);
  if (gemm && has_gemm(wtype)) {
    run_gemm(table_.gemm[type_index(wtype)], pool, w, w_row, rows, k, act, a_row, n, y);
    return;
  }
  if (n == 1) {
    // Generation: stream the weights once, rows split evenly over the threads.
    pool.parallel_for(rows, 8, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) y[i] = dot_fn(wb + i * w_row, act, k);
    });
    return;
  }
  // Prompt: tiles of kRowTile weight rows (stay in L1/L2) x kColTile activation rows (stay in
  // L2); inside a tile, groups of four columns share each decoded weight block when the ISA has
  // a four-column kernel.
  constexpr int64_t kRowTile = 16;
  constexpr int64_t kColTile = 64;
  Dot4Fn dot4_fn = table_.dot4[type_index(wtype)];
  // F16 with a widening kernel: four-column groups read (n, k) F32 copies of the F16 activations.
  std::vector<float> widened;
  const uint8_t* act4 = act;
  size_t a4_row = a_row;
  if (wtype == DType::kF16 && table_.dot4_f16_wide) {
    widened.resize(static_cast<size_t>(n * k));
    pool.parallel_for(n, 1, [&](int64_t b, int64_t e, int) {
      for (int64_t j = b; j < e; ++j) {
        f16_to_f32_row(reinterpret_cast<const f16_t*>(act + j * a_row), widened.data() + j * k, k);
      }
    });
    dot4_fn = table_.dot4_f16_wide;
    act4 = reinterpret_cast<const uint8_t*>(widened.data());
    a4_row = static_cast<size_t>(k) * sizeof(float);
  }
  pool.parallel_for(rows, kRowTile, [&](int64_t b, int64_t e, int) {
    for (int64_t j0 = 0; j0 < n; j0 += kColTile) {
      const int64_t j1 = std::min(n, j0 + kColTile);
      for (int64_t i0 = b; i0 < e; i0 += kRowTile) {
        const int64_t i1 = std::min(e, i0 + kRowTile);
        int64_t j = j0;
        if (dot4_fn) {
          float out[4];
          for (; j + 4 <= j1; j += 4) {
            for (int64_t i = i0; i < i1; ++i) {
              dot4_fn(wb + i * w_row, act4 + j * a4_row, a4_row, k, out);
              for (int c = 0; c < 4; ++c) y[(j + c) * rows + i] = out[c];
            }
          }
        }
        for (; j < j1; ++j) {
          const uint8_t* aj = act + j * a_row;
          float* yj = y + j * rows;
          for (int64_t i = i0; i < i1; ++i) yj[i] = dot_fn(wb + i * w_row, aj, k);
        }
      }
    }
  });
}

bool Kernels::has_gemm(DType wtype) const {
  return static_cast<uint32_t>(wtype) < kDTypeIdLimit && table_.gemm[type_index(wtype)].run;
}

void Kernels::rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps) const {
  table_.rms_norm(x, weight, y, n, eps);
}
void Kernels::softmax(float* x, int64_t n) const { table_.softmax(x, n); }
void Kernels::swiglu(const float* gate, const float* up, float* y, int64_t n) const {
  table_.swiglu(gate, up, y, n);
}
void Kernels::attn_scores_f16(const uint16_t* k, int64_t stride, const float* q, int64_t n_q,
                              int64_t n_kv, int64_t hd, float* scores) const {
  table_.attn_scores_f16(k, stride, q, n_q, n_kv, hd, scores);
}
void Kernels::attn_values_f16(const uint16_t* v, int64_t stride, const float* p, int64_t n_q,
                              int64_t n_kv, int64_t hd, float* out) const {
  table_.attn_values_f16(v, stride, p, n_q, n_kv, hd, out);
}

}  // namespace quorum::kernels
