// The architecture registry: one explicit table of supported architectures, each with a name, a
// one-line summary and the function that binds its tensors by name (shapes checked).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"
#include "model/hparams.h"
#include "model/model.h"

namespace quorum {

// Looks tensors up in a file and checks their shapes; every error names the tensor.
class TensorBinder {
 public:
  explicit TensorBinder(const gguf::File& file) : file_(file) {}
  // A 2-D matrix with ggml shape [k, rows].
  Result<Weight> matrix(const std::string& name, int64_t k, int64_t rows) const;
  Result<Weight> matrix_optional(const std::string& name, int64_t k, int64_t rows) const;
  // A 1-D vector of n elements (converted to F32 if stored otherwise).
  Result<Vector> vector(const std::string& name, int64_t n) const;
  Result<Vector> vector_optional(const std::string& name, int64_t n) const;
  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }

 private:
  const gguf::File& file_;
};

struct ArchitectureBinding {
  ModelWeights weights;
  RopeKind rope = RopeKind::kNormal;
  bool prescale_q = false;
};

using BindFn = Result<ArchitectureBinding> (*)(const TensorBinder& binder, const HParams& hp);

struct Architecture {
  const char* name;     // general.architecture value
  const char* summary;  // one line for --help and errors
  BindFn bind;
};

// The registry, in display order.
const std::vector<Architecture>& architectures();
// The entry for `name`, or an Unsupported error listing the supported ones.
Result<const Architecture*> find_architecture(const std::string& name);

}  // namespace quorum
