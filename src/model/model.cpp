// Model::load: open the file, read hyper-parameters, bind tensors through the architecture
// registry, optionally scan weights for NaN/Inf.
#include "model/model.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "core/fp16.h"
#include "io/model_file.h"
#include "model/architecture.h"

namespace quorum {

struct ModelBuilder {
  static Result<std::shared_ptr<const Model>> build(gguf::File file, const ModelOptions& options);
};

namespace {

// First non-finite element of a F32/F16/BF16 tensor, or -1; other types are skipped.
int64_t first_non_finite(const gguf::TensorInfo& t) {
  const int64_t n = t.n_elements();
  switch (t.type) {
    case DType::kF32: {
      const auto* p = reinterpret_cast<const float*>(t.data);
      for (int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(p[i])) return i;
      }
      return -1;
    }
    case DType::kF16: {
      const auto* p = reinterpret_cast<const f16_t*>(t.data);
      for (int64_t i = 0; i < n; ++i) {
        if ((p[i] & 0x7c00u) == 0x7c00u) return i;  // exponent all ones: Inf or NaN
      }
      return -1;
    }
    case DType::kBF16: {
      const auto* p = reinterpret_cast<const bf16_t*>(t.data);
      for (int64_t i = 0; i < n; ++i) {
        if ((p[i] & 0x7f80u) == 0x7f80u) return i;
      }
      return -1;
    }
    default:
      return -1;
  }
}

// As first_non_finite, for any type with a dequantizer (rows decoded one at a time).
int64_t first_non_finite_any(const gguf::TensorInfo& t) {
  const TypeTraits& tt = traits(t.type);
  if (!tt.quantized || tt.to_float == nullptr || t.ne.empty()) return first_non_finite(t);
  const int64_t k = t.ne[0];
  const size_t row_bytes = row_size(t.type, k);
  std::vector<float> row(static_cast<size_t>(k));  // [k]
  for (int64_t r = 0; r < t.n_rows(); ++r) {
    tt.to_float(t.data + static_cast<size_t>(r) * row_bytes, row.data(), k);
    for (int64_t i = 0; i < k; ++i) {
      if (!std::isfinite(row[static_cast<size_t>(i)])) return r * k + i;
    }
  }
  return -1;
}

bool is_cheap_tensor(const gguf::TensorInfo& t) {
  return t.ne.size() == 1 || t.name == "token_embd.weight";
}

Status non_finite_error(const gguf::TensorInfo& t, int64_t bad) {
  return Error(ErrorCode::kCorruptFile,
               fmt::format("tensor '{}' holds a NaN or infinite value", t.name))
      .where(fmt::format("element {} of {}", bad, t.n_elements()))
      .hint("the weights are damaged (a failed conversion or training divergence)");
}

Status check_weights(const gguf::File& file, WeightCheck mode) {
  if (mode == WeightCheck::kNone) return Status::ok();
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (mode == WeightCheck::kNormsAndEmbeddings && !is_cheap_tensor(t)) continue;
    const int64_t bad = first_non_finite(t);
    if (bad >= 0) return non_finite_error(t, bad);
  }
  return Status::ok();
}

}  // namespace

Result<std::shared_ptr<const Model>> ModelBuilder::build(gguf::File file,
                                                         const ModelOptions& options) {
  QUORUM_ASSIGN_OR_RETURN(HParams hp, read_hparams(file));
  QUORUM_ASSIGN_OR_RETURN(const Architecture* arch, find_architecture(hp.arch));
  TensorBinder binder(file);
  QUORUM_ASSIGN_OR_RETURN(ArchitectureBinding bound, arch->bind(binder, hp));
  const TypeTraits& emb = traits(bound.weights.token_embd.type);
  if (bound.weights.token_embd.type != DType::kF32 && emb.to_float == nullptr) {
    return Error(ErrorCode::kUnsupported, "cannot read the token embeddings' type")
        .where("token_embd.weight")
        .actual(emb.name)
        .hint("no dequantizer is available for this type");
  }
  QUORUM_TRY(check_weights(file, options.check_weights));
  auto m = std::shared_ptr<Model>(new Model());
  m->file_ = std::move(file);
  m->hp_ = std::move(hp);
  m->w_ = std::move(bound.weights);
  m->rope_kind_ = bound.rope;
  m->prescale_q_ = bound.prescale_q;
  return std::shared_ptr<const Model>(std::move(m));
}

Result<std::shared_ptr<const Model>> Model::from_file(gguf::File file,
                                                      const ModelOptions& options) {
  const std::string path = file.path();
  auto r = ModelBuilder::build(std::move(file), options);
  if (!r) {
    Status s = r.status();
    return s.with_context("loading model " + path);
  }
  return r;
}

Status find_non_finite_weight(const Model& model) {
  for (const gguf::TensorInfo& t : model.file().tensors()) {
    const int64_t bad = first_non_finite_any(t);
    if (bad >= 0) return non_finite_error(t, bad);
  }
  return Status::ok();
}

Result<std::shared_ptr<const Model>> Model::load(const std::string& path,
                                                 const ModelOptions& options) {
  OpenModelOptions open_options;
  open_options.vocab_path = options.vocab_path;
  open_options.load_mode = options.load_mode;
  auto f = open_model_file(path, open_options);
  if (!f) {
    Status s = f.status();
    return s.with_context("loading model " + path);
  }
  return from_file(std::move(f).value(), options);
}

}  // namespace quorum
