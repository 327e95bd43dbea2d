// Scalar references for attention over an F16 KV cache (one KV head, its group of query heads):
// sums in float in position order (scores) and position order per output element (values), the
// arithmetic of the engine's original loops.
#include "core/fp16.h"
#include "kernels/ref/ref.h"

namespace quorum::kernels::ref {

void attn_scores_f16(const uint16_t* k, int64_t stride, const float* q, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* scores) {
  for (int64_t g = 0; g < n_q; ++g) {
    const float* qg = q + g * hd;
    for (int64_t j = 0; j < n_kv; ++j) {
      const uint16_t* kj = k + j * stride;
      float dot = 0.0f;
      for (int64_t d = 0; d < hd; ++d) dot += qg[d] * f16_to_f32(kj[d]);
      scores[g * n_kv + j] = dot;
    }
  }
}

void attn_values_f16(const uint16_t* v, int64_t stride, const float* p, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* out) {
  for (int64_t g = 0; g < n_q; ++g) {
    const float* pg = p + g * n_kv;
    float* o = out + g * hd;
    for (int64_t d = 0; d < hd; ++d) o[d] = 0.0f;
    for (int64_t j = 0; j < n_kv; ++j) {
      const uint16_t* vj = v + j * stride;
      const float pj = pg[j];
      for (int64_t d = 0; d < hd; ++d) o[d] += pj * f16_to_f32(vj[d]);
    }
  }
}

}  // namespace quorum::kernels::ref
