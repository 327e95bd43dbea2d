// Scalar references for the plain types (F32, F16, BF16): activation conversion and dot products
// accumulated in double, as ggml's portable ggml_vec_dot_f32/_f16/_bf16.
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/ref.h"

namespace quorum::kernels::ref {

float dot_f32(const void* w, const void* x, int64_t k) {
  const float* a = static_cast<const float*>(w);  // (k)
  const float* b = static_cast<const float*>(x);  // (k)
  double sum = 0.0;
  for (int64_t i = 0; i < k; ++i) sum += static_cast<double>(a[i] * b[i]);
  return static_cast<float>(sum);
}

float dot_f16(const void* w, const void* x, int64_t k) {
  const f16_t* a = static_cast<const f16_t*>(w);  // (k)
  const f16_t* b = static_cast<const f16_t*>(x);  // (k)
  double sum = 0.0;
  for (int64_t i = 0; i < k; ++i) sum += static_cast<double>(f16_to_f32(a[i]) * f16_to_f32(b[i]));
  return static_cast<float>(sum);
}

float dot_bf16(const void* w, const void* x, int64_t k) {
  const bf16_t* a = static_cast<const bf16_t*>(w);  // (k)
  const bf16_t* b = static_cast<const bf16_t*>(x);  // (k)
  double sum = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    sum += static_cast<double>(bf16_to_f32(a[i]) * bf16_to_f32(b[i]));
  }
  return static_cast<float>(sum);
}

void quantize_row_f32(const float* x, void* y, int64_t k) { std::memcpy(y, x, k * sizeof(float)); }
void quantize_row_f16(const float* x, void* y, int64_t k) {
  f32_to_f16_row(x, static_cast<f16_t*>(y), k);
}
void quantize_row_bf16(const float* x, void* y, int64_t k) {
  f32_to_bf16_row(x, static_cast<bf16_t*>(y), k);
}

}  // namespace quorum::kernels::ref
