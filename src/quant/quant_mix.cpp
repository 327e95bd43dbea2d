// The per-tensor type choice of llama-quantize's mixes (see quant_mix.h). The branch order and
// conditions follow llama.cpp's llama_tensor_get_type as of c392e50; a different order changes
// which tensors get more bits.
#include "quant/quant_mix.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "tensor/quant_ref.h"

namespace quorum::quant {
namespace {

using FT = FileType;

const std::vector<FileTypeInfo> kFileTypes = {
    {FT::kQ4_0, "Q4_0", DType::kQ4_0, "4.5 bpw, symmetric 4-bit blocks of 32"},
    {FT::kQ4_1, "Q4_1", DType::kQ4_1, "5.0 bpw, 4-bit blocks of 32 with offset"},
    {FT::kQ5_0, "Q5_0", DType::kQ5_0, "5.5 bpw, symmetric 5-bit blocks of 32"},
    {FT::kQ5_1, "Q5_1", DType::kQ5_1, "6.0 bpw, 5-bit blocks of 32 with offset"},
    {FT::kQ8_0, "Q8_0", DType::kQ8_0, "8.5 bpw, symmetric 8-bit blocks of 32"},
    {FT::kQ2_K, "Q2_K", DType::kQ2_K, "2-bit K-quant mix (attn_v/ffn_down Q3_K)"},
    {FT::kQ2_K_S, "Q2_K_S", DType::kQ2_K, "2-bit K-quant mix, smaller (needs --imatrix)"},
    {FT::kQ3_K_S, "Q3_K_S", DType::kQ3_K, "3-bit K-quants throughout"},
    {FT::kQ3_K_M, "Q3_K_M", DType::kQ3_K, "3-bit K-quant mix (attn_v Q5_K/Q4_K, ffn_down Q4_K)"},
    {FT::kQ3_K_L, "Q3_K_L", DType::kQ3_K, "3-bit K-quant mix (attn_v/ffn_down Q5_K)"},
    {FT::kQ4_K_S, "Q4_K_S", DType::kQ4_K, "4-bit K-quant mix, small"},
    {FT::kQ4_K_M, "Q4_K_M", DType::kQ4_K, "4-bit K-quant mix (some attn_v/ffn_down Q6_K)"},
    {FT::kQ5_K_S, "Q5_K_S", DType::kQ5_K, "5-bit K-quants throughout"},
    {FT::kQ5_K_M, "Q5_K_M", DType::kQ5_K, "5-bit K-quant mix (some attn_v/ffn_down Q6_K)"},
    {FT::kQ6_K, "Q6_K", DType::kQ6_K, "6.56 bpw K-quant"},
    {FT::kIQ4_NL, "IQ4_NL", DType::kIQ4_NL, "4.5 bpw non-linear 4-bit blocks of 32"},
    {FT::kIQ2_XXS, "IQ2_XXS", DType::kIQ2_XXS, "2.06 bpw lattice code book (needs --imatrix)"},
    {FT::kIQ2_XS, "IQ2_XS", DType::kIQ2_XS, "2.31 bpw lattice code book (needs --imatrix)"},
    {FT::kF16, "F16", DType::kF16, "IEEE half precision"},
    {FT::kBF16, "BF16", DType::kBF16, "bfloat16"},
    {FT::kAllF32, "F32", DType::kF32, "32-bit floats"},
};

bool contains(const std::string& s, const char* sub) { return s.find(sub) != std::string::npos; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// llama.cpp's filter of tensors that may be quantized at all.
bool may_quantize(const TensorDesc& t) {
  const std::string& n = t.name;
  int n_dims = static_cast<int>(t.ne.size());
  while (n_dims > 1 && t.ne[n_dims - 1] == 1) --n_dims;
  if (n_dims < 2) return false;
  if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
  static const std::array<const char*, 21> kSkip = {
      "_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d.weight", "time_mix_first.weight",
      "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_decay_w1.weight",
      "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
      "position_embd.weight", "token_types.weight", "time_mix_w0.weight", "time_mix_a0.weight",
      "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
      "time_mix_v2.weight", "time_mix_g1.weight", "time_mix_g2.weight"};
  for (const char* s : kSkip) {
    if (contains(n, s)) return false;
  }
  return true;
}

bool is_attn_v(const std::string& n) {
  return contains(n, "attn_v.weight") || contains(n, "attn_qkv.weight") ||
         contains(n, "attn_kv_b.weight");
}

int block_index(const std::string& name) {
  int i = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &i) != 1) return -1;
  return i;
}

struct MixState {
  FT ftype;
  const ModelShape& shape;
  bool has_imatrix;
  bool has_output = false;
  int n_attention_wv = 0, i_attention_wv = 0;
  int n_ffn_down = 0, i_ffn_down = 0, n_ffn_gate = 0, i_ffn_gate = 0, n_ffn_up = 0, i_ffn_up = 0;
};

bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

Result<std::pair<int, int>> layer_info(const MixState& qs, int i_layer, int n_layer,
                                       const std::string& name) {
  if (qs.shape.n_expert > 1) {
    i_layer = block_index(name);
    if (i_layer < 0 || i_layer >= n_layer) {
      return Error(ErrorCode::kInvalidArgument, "cannot determine the layer of an expert tensor")
          .where(name).expected(fmt::format("blk.<0..{}>.*", n_layer - 1));
    }
  }
  return std::make_pair(i_layer, n_layer);
}

bool is_ftype(FT f, std::initializer_list<FT> set) {
  return std::find(set.begin(), set.end(), f) != set.end();
}

// llama_tensor_get_type: the mix's choice for one quantizable tensor (before the fallback).
Result<DType> mix_type(MixState& qs, const TensorDesc& t, DType new_type) {
  const std::string& name = t.name;
  const FT ftype = qs.ftype;
  const bool falcon = qs.shape.arch == "falcon";
  const bool is_70b = qs.shape.arch == "llama" && qs.shape.n_layer == 80 &&
                      qs.shape.n_head != qs.shape.n_head_kv;
  const int n_expert = qs.shape.n_expert;
  const bool iq_low = is_ftype(ftype, {FT::kIQ2_XXS, FT::kIQ2_XS, FT::kIQ1_S, FT::kIQ2_S,
                                       FT::kIQ2_M, FT::kIQ1_M});
  if (name == "output.weight" || (!qs.has_output && name == "token_embd.weight")) {
    const int64_t qk = traits(new_type).block_size;
    if (falcon || t.ne[0] % qk != 0) {
      new_type = DType::kQ8_0;
    } else if (is_ftype(ftype, {FT::kIQ2_XXS, FT::kIQ2_XS, FT::kIQ3_XXS, FT::kIQ1_S, FT::kIQ2_S,
                                FT::kIQ2_M, FT::kIQ1_M})) {
      new_type = DType::kQ5_K;
    } else if (new_type != DType::kQ8_0) {
      new_type = DType::kQ6_K;
    }
  } else if (name == "token_embd.weight") {
    if (is_ftype(ftype, {FT::kIQ2_XXS, FT::kIQ2_XS, FT::kIQ1_S, FT::kIQ1_M})) {
      new_type = DType::kQ2_K;
    } else if (is_ftype(ftype, {FT::kIQ2_S, FT::kIQ2_M, FT::kIQ3_XXS})) {
      new_type = DType::kIQ3_S;
    }
  } else if (iq_low) {
    if (is_attn_v(name)) {
      if (qs.shape.n_gqa() >= 4 || n_expert >= 4) new_type = DType::kQ4_K;
      else new_type = is_ftype(ftype, {FT::kIQ2_S, FT::kIQ2_M}) ? DType::kIQ3_S : DType::kQ2_K;
      ++qs.i_attention_wv;
    } else if (n_expert == 8 && contains(name, "attn_k.weight")) {
      new_type = DType::kQ4_K;
    } else if (contains(name, "ffn_down")) {
      if (qs.i_ffn_down < qs.n_ffn_down / 8) {
        new_type = is_ftype(ftype, {FT::kIQ2_S, FT::kIQ2_M}) ? DType::kIQ3_S : DType::kQ2_K;
      }
      ++qs.i_ffn_down;
    } else if (contains(name, "attn_output.weight")) {
      if (n_expert == 8) {
        new_type = DType::kQ5_K;
      } else if (is_ftype(ftype, {FT::kIQ1_S, FT::kIQ1_M})) {
        new_type = DType::kIQ2_XXS;
      } else if (is_ftype(ftype, {FT::kIQ2_S, FT::kIQ2_M})) {
        new_type = DType::kIQ3_S;
      }
    }
  } else if (is_attn_v(name)) {
    const int gqa = qs.shape.n_gqa();
    if (ftype == FT::kQ2_K) {
      new_type = gqa >= 4 ? DType::kQ4_K : DType::kQ3_K;
    } else if (ftype == FT::kQ2_K_S && gqa >= 4) {
      new_type = DType::kQ4_K;
    } else if (ftype == FT::kIQ3_XXS) {
      new_type = gqa >= 4 ? DType::kQ4_K : !qs.has_imatrix ? DType::kIQ3_S : DType::kIQ3_XXS;
    } else if (is_ftype(ftype, {FT::kIQ3_XS, FT::kIQ3_S}) && gqa >= 4) {
      new_type = DType::kQ4_K;
    } else if (ftype == FT::kIQ3_M) {
      new_type = DType::kQ4_K;
    } else if (ftype == FT::kQ3_K_M) {
      new_type = qs.i_attention_wv < 2 ? DType::kQ5_K : DType::kQ4_K;
    } else if (ftype == FT::kQ3_K_L) {
      new_type = DType::kQ5_K;
    } else if (is_ftype(ftype, {FT::kIQ4_NL, FT::kIQ4_XS}) && gqa >= 4) {
      new_type = DType::kQ5_K;
    } else if (is_ftype(ftype, {FT::kQ4_K_M, FT::kQ5_K_M}) &&
               use_more_bits(qs.i_attention_wv, qs.n_attention_wv)) {
      new_type = DType::kQ6_K;
    } else if (ftype == FT::kQ4_K_S && qs.i_attention_wv < 4) {
      new_type = DType::kQ5_K;
    }
    if (is_70b && (new_type == DType::kQ3_K || new_type == DType::kQ4_K)) new_type = DType::kQ5_K;
    if (n_expert == 8) new_type = DType::kQ8_0;
    ++qs.i_attention_wv;
  } else if (contains(name, "attn_k.weight")) {
    if (n_expert == 8) new_type = DType::kQ8_0;
    else if (ftype == FT::kIQ3_XS) new_type = DType::kIQ3_XXS;
    else if (ftype == FT::kIQ3_XXS) new_type = DType::kIQ2_S;
  } else if (contains(name, "attn_q.weight")) {
    if (ftype == FT::kIQ3_XS) new_type = DType::kIQ3_XXS;
    else if (ftype == FT::kIQ3_XXS) new_type = DType::kIQ2_S;
  } else if (contains(name, "ffn_down")) {
    QUORUM_ASSIGN_OR_RETURN(auto info, layer_info(qs, qs.i_ffn_down, qs.n_ffn_down, name));
    const int i_layer = info.first, n_layer = info.second;
    if (ftype == FT::kQ2_K) {
      new_type = DType::kQ3_K;
    } else if (ftype == FT::kQ2_K_S) {
      if (i_layer < n_layer / 8) new_type = DType::kQ4_K;
    } else if (ftype == FT::kIQ3_XXS && !qs.has_imatrix) {
      new_type = i_layer < n_layer / 8 ? DType::kQ4_K : DType::kQ3_K;
    } else if (ftype == FT::kQ3_K_M) {
      new_type = i_layer < n_layer / 16 ? DType::kQ5_K
                 : !falcon || use_more_bits(i_layer, n_layer) ? DType::kQ4_K
                                                              : DType::kQ3_K;
    } else if (ftype == FT::kIQ3_M &&
               (i_layer < n_layer / 8 || (n_expert == 8 && use_more_bits(i_layer, n_layer)))) {
      new_type = DType::kQ4_K;
    } else if (ftype == FT::kQ3_K_L) {
      new_type = falcon ? DType::kQ4_K : DType::kQ5_K;
    } else if (ftype == FT::kQ4_K_M) {
      if (falcon) {
        new_type = i_layer < n_layer / 16 ? DType::kQ6_K
                   : use_more_bits(i_layer, n_layer) ? DType::kQ5_K : DType::kQ4_K;
      } else if (use_more_bits(i_layer, n_layer)) {
        new_type = DType::kQ6_K;
      }
    } else if (i_layer < n_layer / 8 && is_ftype(ftype, {FT::kIQ4_NL, FT::kIQ4_XS}) &&
               !qs.has_imatrix) {
      new_type = DType::kQ5_K;
    } else if (ftype == FT::kQ5_K_M && use_more_bits(i_layer, n_layer)) {
      new_type = DType::kQ6_K;
    } else if (ftype == FT::kQ4_K_S && !falcon && i_layer < n_layer / 8) {
      new_type = DType::kQ5_K;
    } else if (is_ftype(ftype, {FT::kQ4_0, FT::kQ5_0}) && qs.has_imatrix && i_layer < n_layer / 8) {
      new_type = ftype == FT::kQ4_0 ? DType::kQ4_1 : DType::kQ5_1;
    }
    ++qs.i_ffn_down;
  } else if (contains(name, "attn_output.weight")) {
    if (!falcon) {
      if (n_expert == 8) {
        if (is_ftype(ftype, {FT::kQ2_K, FT::kIQ3_XS, FT::kIQ3_XXS, FT::kQ3_K_S, FT::kQ3_K_M,
                             FT::kIQ4_NL, FT::kQ4_K_S, FT::kQ4_K_M, FT::kIQ3_S, FT::kIQ3_M,
                             FT::kIQ4_XS})) {
          new_type = DType::kQ5_K;
        }
      } else {
        if (ftype == FT::kQ2_K) new_type = DType::kQ3_K;
        else if (ftype == FT::kIQ3_XXS) new_type = DType::kIQ3_S;
        else if (ftype == FT::kQ3_K_M) new_type = DType::kQ4_K;
        else if (ftype == FT::kQ3_K_L) new_type = DType::kQ5_K;
        else if (ftype == FT::kIQ3_M) new_type = DType::kQ4_K;
      }
    } else if (ftype == FT::kQ3_K_L) {
      new_type = DType::kQ4_K;
    }
  } else if (contains(name, "attn_qkv.weight")) {
    if (is_ftype(ftype, {FT::kQ3_K_M, FT::kQ3_K_L, FT::kIQ3_M})) new_type = DType::kQ4_K;
    else if (ftype == FT::kQ4_K_M) new_type = DType::kQ5_K;
    else if (ftype == FT::kQ5_K_M) new_type = DType::kQ6_K;
  } else if (contains(name, "ffn_gate")) {
    QUORUM_ASSIGN_OR_RETURN(auto info, layer_info(qs, qs.i_ffn_gate, qs.n_ffn_gate, name));
    if (ftype == FT::kIQ3_XS && info.first >= info.second / 8 && info.first < 7 * info.second / 8) {
      new_type = DType::kIQ3_XXS;
    }
    ++qs.i_ffn_gate;
  } else if (contains(name, "ffn_up")) {
    QUORUM_ASSIGN_OR_RETURN(auto info, layer_info(qs, qs.i_ffn_up, qs.n_ffn_up, name));
    if (ftype == FT::kIQ3_XS && info.first >= info.second / 8 && info.first < 7 * info.second / 8) {
      new_type = DType::kIQ3_XXS;
    }
    ++qs.i_ffn_up;
  }
  return new_type;
}

// llama.cpp's fallback when the rows are not a multiple of the block size (e.g. stories260K's
// ffn_down rows of 172): a 32-block type, else F16. Types without a defined fallback (the
// legacy 32-blocks) are an error, as in llama.cpp.
Result<DType> fallback_type(DType t, const TensorDesc& td, bool* used) {
  const int64_t ncols = td.ne[0];
  *used = false;
  if (ncols % traits(t).block_size == 0) return t;
  *used = true;
  DType f;
  switch (t) {
    case DType::kIQ2_XXS: case DType::kIQ2_XS: case DType::kIQ2_S: case DType::kIQ3_XXS:
    case DType::kIQ3_S: case DType::kIQ1_S: case DType::kIQ1_M: case DType::kQ2_K:
    case DType::kQ3_K: case DType::kIQ4_XS: f = DType::kIQ4_NL; break;
    case DType::kQ4_K: f = DType::kQ5_0; break;
    case DType::kQ5_K: f = DType::kQ5_1; break;
    case DType::kQ6_K: f = DType::kQ8_0; break;
    default:
      return Error(ErrorCode::kUnsupported,
                   fmt::format("rows of {} weights cannot be stored as {}", ncols, dtype_name(t)))
          .where(td.name)
          .expected(fmt::format("a multiple of {}", traits(t).block_size))
          .hint("use a K-quant mix (it falls back per tensor) or --tensor-type with f16");
  }
  if (ncols % traits(f).block_size != 0) f = DType::kF16;
  return f;
}

}  // namespace

const std::vector<FileTypeInfo>& file_types() { return kFileTypes; }

std::optional<FileType> file_type_from_name(std::string_view name) {
  if (iequals(name, "Q3_K")) return FT::kQ3_K_M;
  if (iequals(name, "Q4_K")) return FT::kQ4_K_M;
  if (iequals(name, "Q5_K")) return FT::kQ5_K_M;
  for (const FileTypeInfo& f : kFileTypes) {
    if (iequals(name, f.name)) return f.ftype;
  }
  return std::nullopt;
}

const FileTypeInfo& file_type_info(FileType t) {
  for (const FileTypeInfo& f : kFileTypes) {
    if (f.ftype == t) return f;
  }
  return kFileTypes.front();  // unreachable for the types file_type_from_name returns
}

Result<TypeOverride> parse_type_override(const std::string& spec) {
  const size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    return Error(ErrorCode::kInvalidArgument, "malformed tensor type override")
        .where(spec).expected("PATTERN=TYPE, e.g. attn_v=q8_0 or 'blk\\.[0-3]\\.ffn_down=q6_k'")
        .actual(spec);
  }
  TypeOverride o;
  o.pattern = spec.substr(0, eq);
  const std::string tname = spec.substr(eq + 1);
  const auto t = dtype_from_name(tname);
  if (!t || (traits(*t).quantized && !quantize_fn(*t)) ||
      !(*t == DType::kF32 || *t == DType::kF16 || *t == DType::kBF16 || traits(*t).quantized)) {
    return Error(ErrorCode::kInvalidArgument, "unknown or unsupported tensor type in override")
        .where(spec).actual(tname)
        .hint("use one of f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, "
              "q6_k, iq4_nl, iq2_xxs, iq2_xs");
  }
  o.type = *t;
  try {
    o.re = std::regex(o.pattern);
  } catch (const std::regex_error& e) {
    return Error(ErrorCode::kInvalidArgument, "invalid regular expression in tensor type override")
        .where(spec).actual(e.what());
  }
  return o;
}

std::vector<size_t> quantization_order(const std::vector<std::string>& names) {
  std::vector<size_t> idx(names.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const int la = block_index(names[a]), lb = block_index(names[b]);
    if (la != lb) return la < lb;
    return names[a] < names[b];
  });
  return idx;
}

Result<std::vector<TensorPlan>> plan_mix(FileType ftype, const ModelShape& shape,
                                         const std::vector<TensorDesc>& tensors,
                                         const std::vector<TypeOverride>& overrides,
                                         bool has_imatrix) {
  MixState qs{ftype, shape, has_imatrix};
  for (const TensorDesc& t : tensors) {
    if (is_attn_v(t.name)) ++qs.n_attention_wv;
    else if (t.name == "output.weight") qs.has_output = true;
  }
  qs.n_ffn_down = qs.n_ffn_gate = qs.n_ffn_up = shape.n_layer;
  const DType base = file_type_info(ftype).base;
  std::vector<TensorPlan> plans;
  plans.reserve(tensors.size());
  for (const TensorDesc& t : tensors) {
    TensorPlan p{t.type};
    if (may_quantize(t)) {
      DType nt = base;
      if (traits(base).quantized) {
        bool manual = false;
        for (const TypeOverride& o : overrides) {
          if (std::regex_search(t.name, o.re)) {
            nt = o.type;
            manual = p.overridden = true;
            break;
          }
        }
        if (!manual) {
          QUORUM_ASSIGN_OR_RETURN(nt, mix_type(qs, t, nt));
        }
        if (traits(nt).quantized) {
          QUORUM_ASSIGN_OR_RETURN(nt, fallback_type(nt, t, &p.fallback));
        }
      }
      p.type = nt;
      p.quantize = nt != t.type;
    }
    if (p.quantize && traits(p.type).quantized && !quantize_fn(p.type)) {
      return Error(ErrorCode::kUnsupported,
                   fmt::format("the mix asks for type {}, which quorum cannot quantize yet",
                               dtype_name(p.type)))
          .where(t.name)
          .hint("choose another file type or override this tensor with --tensor-type");
    }
    if (p.quantize && quantize_needs_imatrix(p.type) && !has_imatrix) {
      // llama.cpp refuses too: without importance weights these types give garbage.
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("type {} needs an importance matrix", dtype_name(p.type)))
          .where(t.name)
          .hint("pass --imatrix FILE (made with `quorum imatrix` or llama-imatrix for this "
                "model)");
    }
    plans.push_back(p);
  }
  return plans;
}

}  // namespace quorum::quant
