// Maps a type to its whole-tensor quantizer (the one switch over quantizable types).
#include "tensor/quant_ref.h"

namespace quorum {

QuantizeFn quantize_fn(DType t) {
  switch (t) {
    case DType::kQ4_0: return quantize_q4_0;
    case DType::kQ4_1: return quantize_q4_1;
    case DType::kQ5_0: return quantize_q5_0;
    case DType::kQ5_1: return quantize_q5_1;
    case DType::kQ8_0: return quantize_q8_0;
    case DType::kQ2_K: return quantize_q2_k;
    case DType::kQ3_K: return quantize_q3_k;
    case DType::kQ4_K: return quantize_q4_k;
    case DType::kQ5_K: return quantize_q5_k;
    case DType::kQ6_K: return quantize_q6_k;
    case DType::kIQ4_NL: return quantize_iq4_nl;
    case DType::kIQ2_XXS: return quantize_iq2_xxs;
    case DType::kIQ2_XS: return quantize_iq2_xs;
    default: return nullptr;
  }
}

bool quantize_needs_imatrix(DType t) { return t == DType::kIQ2_XXS || t == DType::kIQ2_XS; }

}  // namespace quorum
