// The quantize driver: plans the mix, converts each tensor to F32 rows, quantizes them in
// parallel (rows are independent, so the result does not depend on the thread count) and
// streams the output GGUF with llama-quantize's tensor order and metadata.
#include "quant/quantize.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/thread_pool.h"
#include "io/gguf.h"
#include "quant/hqq.h"
#include "quant/imatrix.h"
#include "tensor/quant_ref.h"

namespace quorum::quant {
namespace {

const std::vector<QuantMethod> kMethods = {
    {"rtn",
     "round-to-nearest per block with ggml's scale/min searches; importance-weighted when an "
     "imatrix is given (bit-exact with llama-quantize)",
     "ggml-quants.c (llama.cpp); imatrix: llama.cpp PR #4861",
     {{"imatrix", "", "llama-imatrix file (legacy .imatrix/.dat) with per-column importances"}}},
    {"hqq",
     "half-quadratic quantization, calibration-free: per-group scale and offset optimized for an "
     "lp-norm error on the format's real scale grid (Q4_1, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K; other "
     "types of a mix are round-to-nearest)",
     "Badri & Shaji, Half-Quadratic Quantization of Large Machine Learning Models (2023)",
     {{"iterations", "20", "maximum solver iterations per group (early stop when no better)"},
      {"lp_norm", "0.7", "p of the lp-norm error, p < 1 for robustness to outliers"},
      {"beta", "10", "initial half-quadratic penalty"},
      {"kappa", "1.01", "growth of beta per iteration"},
      {"start", "both", "K-quants: solver start minmax, rtn (ggml's searched fit) or both"},
      {"error", "weighted", "K-quants: error the solver keeps, squared or weighted (ggml's weights)"}}},
    {"gptq",
     "GPTQ: column-by-column rounding to the GGUF block grid with Hessian-based error "
     "compensation from calibration activations (lazy batches, damping, optional act-order); "
     "token_embd rounded for the output error of layer 0's weights that read it",
     "Frantar et al. 2022, GPTQ, arXiv:2210.17323",
     {{"calib", "", "calibration text file (required)"},
      {"calib-tokens", "8192", "calibration tokens (chunks of 512)"},
      {"gptq-damp", "0.01", "damping: lambda = damp * mean(diag H)"},
      {"gptq-block", "128", "lazy-batch width in columns"},
      {"act-order", "false", "quantize columns by decreasing Hessian diagonal"},
      {"gptq-embedding-rounding", "true", "token_embd by GPTQ for layer 0's readers (false: RTN)"}}},
    {"awq",
     "AWQ: per-input-channel scales s = mean|x|^alpha searched on calibration activations for "
     "each group of layers sharing an input (real GGUF quantizer in the loop), folded into the "
     "preceding norm / rows; optional clip search; the scaled weights are quantized with "
     "activation importance E[x^2]/s^2 (like an imatrix); the attn_q/k/v group keeps s = 1; "
     "token_embd, which no scale protects, is rounded as GPTQ rounds it",
     "Lin et al. 2024, AWQ, arXiv:2306.00978",
     {{"calib", "", "calibration text file (required)"},
      {"calib-tokens", "8192", "calibration tokens (chunks of 512)"},
      {"awq-grid", "20", "alpha grid points over [0, 1)"},
      {"awq-clip", "true", "search a per-group range shrink (max |w| x r, r in [0.5, 1])"},
      {"awq-importance", "true", "quantizer weights E[x^2]/s^2 (--awq-no-importance)"},
      {"awq-scale-qk", "false", "also scale the attn_q/k/v group"},
      {"awq-embedding-rounding", "true", "token_embd as GPTQ rounds it (false: RTN)"}}},
};

constexpr uint32_t kQuantizationVersion = 2;  // ggml's GGML_QNT_VERSION

Result<ModelShape> model_shape(const gguf::File& f) {
  ModelShape s;
  QUORUM_ASSIGN_OR_RETURN(s.arch, f.get_string_or("general.architecture", ""));
  if (s.arch.empty()) return s;
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_layer, f.get_int_or(s.arch + ".block_count", 0));
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_head,
                          f.get_int_or(s.arch + ".attention.head_count", 0));
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_head_kv,
                          f.get_int_or(s.arch + ".attention.head_count_kv", n_head));
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_expert, f.get_int_or(s.arch + ".expert_count", 0));
  s.n_layer = static_cast<int>(n_layer);
  s.n_head = static_cast<int>(n_head);
  s.n_head_kv = static_cast<int>(n_head_kv);
  s.n_expert = static_cast<int>(n_expert);
  return s;
}

// GPTQ of one 2-D tensor: its rows as F32, then the column loop (false: no calibration input).
Result<bool> quantize_gptq(GptqQuantizer& gptq, const gguf::TensorInfo& t, DType dst_type,
                           ThreadPool& pool, uint8_t* dst) {
  const int64_t k = t.ne[0], rows = t.ne[1];
  std::vector<float> w(static_cast<size_t>(rows * k));  // [rows, k]
  const size_t in_row = row_size(t.type, k);
  const ToFloatFn to_f = traits(t.type).to_float;
  pool.parallel_for(rows, 16, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) to_f(t.data + r * in_row, w.data() + r * k, k);
  });
  return gptq.quantize(t.name, w.data(), rows, k, dst_type, dst);
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (std::filesystem::exists(b, ec) && std::filesystem::equivalent(a, b, ec)) return true;
  return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
}

}  // namespace

const std::vector<QuantMethod>& quant_methods() { return kMethods; }

const QuantMethod* find_quant_method(const std::string& name) {
  for (const QuantMethod& m : kMethods) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

Result<QuantizeReport> quantize_gguf(const std::string& in, const std::string& out,
                                     const QuantizeOptions& opt) {
  if (!find_quant_method(opt.method)) {
    std::string names;
    for (const QuantMethod& m : kMethods) names += (names.empty() ? "" : ", ") + std::string(m.name);
    return Error(ErrorCode::kInvalidArgument, "unknown quantization method")
        .actual(opt.method).expected(names);
  }
  const bool hqq = opt.method == "hqq";
  HqqParams hqq_params;
  if (hqq) {
    QUORUM_ASSIGN_OR_RETURN(hqq_params, parse_hqq_params(opt.method_params));
  } else if (!opt.method_params.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "--param is only for methods with solver parameters (hqq)")
        .where(opt.method).actual(opt.method_params.front());
  }
  if (same_file(in, out)) {
    return Error(ErrorCode::kInvalidArgument, "output file is the input file")
        .where(out).hint("choose another output path; quantize never overwrites its input");
  }
  if ((opt.method == "gptq" || opt.method == "awq") && !opt.calibrate) {
    return Error(ErrorCode::kInvalidArgument,
                 (opt.method == "gptq" ? std::string("GPTQ") : std::string("AWQ")) +
                     " needs calibration text")
        .hint("pass --calib FILE (e.g. ../shared/data/calibration/groups_merged.txt)");
  }
  gguf::File f;
  if (opt.input != nullptr) {
    f = *opt.input;
  } else {
    QUORUM_ASSIGN_OR_RETURN(f, gguf::File::open(in));
  }
  QUORUM_ASSIGN_OR_RETURN(const ModelShape shape, model_shape(f));

  std::vector<TypeOverride> overrides;
  for (const std::string& spec : opt.tensor_types) {
    QUORUM_ASSIGN_OR_RETURN(TypeOverride o, parse_type_override(spec));
    overrides.push_back(std::move(o));
  }
  std::unique_ptr<Imatrix> imatrix;
  if (!opt.imatrix_path.empty()) {
    QUORUM_ASSIGN_OR_RETURN(Imatrix m, load_imatrix(opt.imatrix_path));
    imatrix = std::make_unique<Imatrix>(std::move(m));
  } else if (opt.ftype == FileType::kQ2_K_S || opt.ftype == FileType::kIQ2_XXS ||
             opt.ftype == FileType::kIQ2_XS) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("{} needs an importance matrix", file_type_info(opt.ftype).name))
        .hint("pass --imatrix FILE (made with `quorum imatrix` or llama-imatrix for this model); "
              "llama-quantize refuses these types without one too");
  }

  // llama-quantize's order: non-block tensors first, then by block, names sorted.
  std::vector<std::string> names;
  for (const auto& t : f.tensors()) names.push_back(t.name);
  const std::vector<size_t> order = quantization_order(names);
  std::vector<TensorDesc> descs;
  for (size_t i : order) {
    const auto& t = f.tensors()[i];
    descs.push_back({t.name, t.ne, t.type});
  }
  QUORUM_ASSIGN_OR_RETURN(const std::vector<TensorPlan> plans,
                          plan_mix(opt.ftype, shape, descs, overrides, imatrix != nullptr));

  // Weight-transforming methods: F32 replacements of some input tensors.
  TensorOverrides replaced;
  if (opt.overrides) replaced = *opt.overrides;
  QuantizeReport rep;
  std::map<std::string, std::shared_ptr<const std::vector<float>>> awq_importance;
  if (opt.method == "awq") {
    auto awq_pool = std::make_shared<ThreadPool>(opt.threads > 0 ? opt.threads : default_thread_count());
    AwqCollector collector(awq_pool.get());
    QUORUM_TRY(opt.calibrate(collector));
    std::map<std::string, DType> types;
    for (size_t k = 0; k < descs.size(); ++k) {
      if (plans[k].quantize) types[descs[k].name] = plans[k].type;
    }
    QUORUM_ASSIGN_OR_RETURN(AwqResult awq, awq_search(f, types, collector.stats(), opt.awq, *awq_pool));
    for (auto& [name, data] : awq.overrides) replaced[name] = data;
    rep.awq_groups = std::move(awq.groups);
    awq_importance = std::move(awq.importance);
  }
  for (const auto& [name, data] : replaced) {
    const gguf::TensorInfo* t = f.find_tensor(name);
    if (!t || static_cast<int64_t>(data->size()) != t->n_elements()) {
      return Error(ErrorCode::kInvalidArgument, "a tensor replacement does not match the model")
          .where(in + ": tensor '" + name + "'")
          .expected(t ? fmt::format("{} values", t->n_elements()) : std::string("a tensor of the model"))
          .actual(fmt::format("{} values", data->size()));
    }
  }

  gguf::Writer w;
  w.set_alignment(f.alignment());
  w.copy_metadata(f);
  w.remove("general.quantization_version");
  w.remove("general.file_type");
  w.set("general.quantization_version", gguf::Value::u32(kQuantizationVersion));
  w.set("general.file_type", gguf::Value::u32(static_cast<uint32_t>(opt.ftype)));
  for (const char* k : {"split.no", "split.count", "split.tensors.count"}) w.remove(k);
  if (imatrix) {
    w.set("quantize.imatrix.file", gguf::Value::str(opt.imatrix_path));
    w.set("quantize.imatrix.dataset", gguf::Value::str(imatrix->dataset));
    w.set("quantize.imatrix.entries_count",
          gguf::Value::i32(static_cast<int32_t>(imatrix->entries.size())));
    w.set("quantize.imatrix.chunks_count", gguf::Value::i32(imatrix->last_call));
  }

  auto pool = std::make_shared<ThreadPool>(opt.threads > 0 ? opt.threads : default_thread_count());
  std::shared_ptr<GptqQuantizer> gptq;
  if (opt.method == "gptq") {
    gptq = std::make_shared<GptqQuantizer>(f, opt.calibrate, opt.gptq, *pool);
    if (opt.calibrate_with) gptq->set_sequential_run(opt.calibrate_with);
    for (size_t k = 0; k < descs.size(); ++k) {
      if (descs[k].name == "token_embd.weight" && plans[k].quantize) {
        gptq->set_embedding_type(plans[k].type);
      }
    }
  }
  rep.n_tensors = descs.size();
  std::vector<std::shared_ptr<std::vector<float>>> imatrix_weights;  // alive until write()
  for (size_t k = 0; k < descs.size(); ++k) {
    const gguf::TensorInfo& t = f.tensors()[order[k]];
    const TensorPlan& p = plans[k];
    rep.bytes_in += t.nbytes;
    rep.n_fallback += p.fallback ? 1 : 0;
    const auto ov_it = replaced.find(t.name);
    const std::shared_ptr<const std::vector<float>> ov =
        ov_it == replaced.end() ? nullptr : ov_it->second;
    if (!p.quantize) {
      rep.bytes_out += t.nbytes;
      if (ov && !traits(t.type).from_float) {
        return Error(ErrorCode::kUnsupported, "cannot write a replaced tensor in its type")
            .where(in + ": tensor '" + t.name + "'").actual(dtype_name(t.type));
      }
      QUORUM_TRY(w.add_tensor_lazy(t.name, t.type, t.ne,
          [&opt, &t, k, n = descs.size(), ov](uint8_t* dst, size_t nbytes) {
            if (opt.on_tensor) opt.on_tensor(k, n, t.name, t.type);
            if (ov) {
              traits(t.type).from_float(ov->data(), dst, t.n_elements());  // 1-D/plain: one row
            } else {
              std::memcpy(dst, t.data, nbytes);
            }
            return Status::ok();
          }));
      continue;
    }
    const TypeTraits& src_tr = traits(t.type);
    if (!src_tr.to_float || src_tr.quantized) {
      return Error(ErrorCode::kUnsupported, "cannot quantize a tensor of this type")
          .where(in + ": tensor '" + t.name + "'")
          .expected("f32, f16 or bf16").actual(src_tr.name)
          .hint("requantizing already-quantized tensors loses quality; start from F16/F32");
    }
    const float* qw = nullptr;
    const int64_t n_per_row = t.ne[0];
    if (imatrix && traits(p.type).quantized) {
      if (const ImatrixEntry* e = imatrix->find(t.name)) {
        const int64_t n_mat = t.ne.size() > 2 ? t.ne[2] : 1;
        if (static_cast<int64_t>(e->values.size()) != n_per_row * n_mat) {
          return Error(ErrorCode::kInvalidArgument, "imatrix entry has the wrong size")
              .where(opt.imatrix_path + ": '" + t.name + "'")
              .expected(fmt::format("{} values", n_per_row * n_mat))
              .actual(fmt::format("{}", e->values.size()))
              .hint("the imatrix was made for a different model");
        }
        // Like llama-quantize, divide the stored means by ncall once more (a scale the
        // quantizers are almost invariant to, but it decides rare ties; bit-exactness needs it).
        auto w_tensor = std::make_shared<std::vector<float>>(e->values);
        if (e->ncall > 0) {
          for (float& v : *w_tensor) v /= static_cast<float>(e->ncall);
        }
        imatrix_weights.push_back(w_tensor);
        qw = w_tensor->data();
        ++rep.n_with_imatrix;
      }
    }
    if (!qw && traits(p.type).quantized) {
      // AWQ's activation importance of the scaled weights (an imatrix file takes precedence).
      auto it = awq_importance.find(t.name);
      if (it != awq_importance.end() && static_cast<int64_t>(it->second->size()) == n_per_row &&
          (t.ne.size() < 3 || t.ne[2] == 1)) {
        qw = it->second->data();
      }
    }
    if (!qw && quantize_needs_imatrix(p.type)) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("no importance matrix entry for a tensor planned as {}",
                               dtype_name(p.type)))
          .where(opt.imatrix_path + ": '" + t.name + "'")
          .hint("the imatrix was made for a different model, or this tensor never saw "
                "activations; override it with --tensor-type");
    }
    ++rep.n_quantized;
    const DType dst_type = p.type;
    rep.bytes_out += row_size(dst_type, n_per_row) * static_cast<size_t>(t.n_rows());
    QUORUM_TRY(w.add_tensor_lazy(t.name, dst_type, t.ne,
        [&opt, &f, &t, &rep, k, n = descs.size(), dst_type, qw, n_per_row, pool, gptq, ov,
         use_hqq = hqq && hqq_supports(dst_type), hqq_params](uint8_t* dst, size_t) {
          if (opt.on_tensor) opt.on_tensor(k, n, t.name, dst_type);
          const int64_t nrows = t.n_rows();
          if (opt.method == "awq" && opt.awq.embedding_rounding && t.name == "token_embd.weight") {
            QUORUM_ASSIGN_OR_RETURN(const auto table,
                                    gptq_embedding_table(f, dst_type, GptqOptions{}, *pool));
            if (table) {
              std::copy(table->begin(), table->end(), dst);
              return Status::ok();
            }
          }
          if (gptq && t.ne.size() == 2 && gptq->handles(t.name, dst_type)) {
            QUORUM_ASSIGN_OR_RETURN(const bool done, quantize_gptq(*gptq, t, dst_type, *pool, dst));
            rep.n_gptq += done ? 1 : 0;
            if (done) return Status::ok();
          }
          const int64_t rows_per_mat = t.ne.size() > 1 ? t.ne[1] : 1;
          const size_t in_row = row_size(t.type, n_per_row), out_row = row_size(dst_type, n_per_row);
          const QuantizeFn qfn = quantize_fn(dst_type);
          const ToFloatFn to_f = traits(t.type).to_float;
          const FromFloatFn from_f = traits(dst_type).from_float;
          pool->parallel_for(nrows, 16, [&](int64_t r0, int64_t r1, int) {
            std::vector<float> buf(static_cast<size_t>(n_per_row));
            for (int64_t r = r0; r < r1; ++r) {
              if (ov) {
                std::memcpy(buf.data(), ov->data() + r * n_per_row, n_per_row * sizeof(float));
              } else {
                to_f(t.data + r * in_row, buf.data(), n_per_row);
              }
              uint8_t* o = dst + r * out_row;
              if (use_hqq) {
                quantize_hqq(dst_type, buf.data(), o, 1, n_per_row, hqq_params);
              } else if (qfn) {
                const float* w_row = qw ? qw + (r / rows_per_mat) * n_per_row : nullptr;
                qfn(buf.data(), o, 1, n_per_row, w_row);
              } else {
                from_f(buf.data(), o, n_per_row);  // plain types (f16, bf16, f32)
              }
            }
          });
          return Status::ok();
        }));
  }
  if (imatrix && rep.n_with_imatrix == 0 && rep.n_quantized > 0) {
    return Error(ErrorCode::kInvalidArgument, "the importance matrix matches no tensor of the model")
        .where(opt.imatrix_path)
        .expected(fmt::format("entries named like the model's tensors, e.g. '{}'",
                              descs.empty() ? std::string() : descs.back().name))
        .actual(imatrix->entries.empty() ? std::string("no entries")
                                         : "'" + imatrix->entries.begin()->first + "', ...")
        .hint("the imatrix was made for a different model");
  }
  QUORUM_TRY(w.write(out));
  if (gptq) rep.calibration_passes = gptq->passes();
  return rep;
}

}  // namespace quorum::quant
